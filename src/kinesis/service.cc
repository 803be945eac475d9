// Service: dispatch, metadata (persistence, state machines) and the control plane.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "kinesis/schema.h"
#include "kinesis/service_impl.h"
#include "kinesis/wire.h"
#include "util/base64.h"
#include "util/hash.h"

namespace sl::kinesis {

const char* content_type(Encoding e) {
  return e == Encoding::kCbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1";
}

bool parse_content_type(std::string_view ct, Encoding* e) {
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  if (ct == "application/x-amz-json-1.1" || ct == "application/x-amz-json-1.0" ||
      ct == "application/json") {
    *e = Encoding::kJson;
    return true;
  }
  if (ct == "application/x-amz-cbor-1.1" || ct == "application/cbor") {
    *e = Encoding::kCbor;
    return true;
  }
  return false;
}

const char* status_name(StreamStatus s) {
  switch (s) {
    case StreamStatus::kCreating: return "CREATING";
    case StreamStatus::kActive: return "ACTIVE";
    case StreamStatus::kUpdating: return "UPDATING";
    case StreamStatus::kDeleting: return "DELETING";
  }
  return "ACTIVE";
}

static bool status_from_name(std::string_view n, StreamStatus* s) {
  for (auto v : {StreamStatus::kCreating, StreamStatus::kActive, StreamStatus::kUpdating,
                 StreamStatus::kDeleting}) {
    if (n == status_name(v)) {
      *s = v;
      return true;
    }
  }
  return false;
}

void Stream::rebuild_routing() {
  routing.clear();
  for (const Shard& sh : shards)
    if (sh.open()) routing.push_back(sh.ordinal);
  std::sort(routing.begin(), routing.end(),
            [&](uint32_t a, uint32_t b) { return shards[a].start < shards[b].start; });
}

const Shard* Stream::route(u128 hash) const {
  // First open shard whose end >= hash (open shards tile the key space).
  size_t lo = 0, hi = routing.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (shards[routing[mid]].end < hash) lo = mid + 1;
    else hi = mid;
  }
  if (lo == routing.size()) return nullptr;
  const Shard* sh = &shards[routing[lo]];
  return sh->start <= hash ? sh : nullptr;
}

// ---------------------------------------------------------------- Service shell

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::open(log::LogStore* log, std::string meta_dir,
                                               Options options, Clock* clock) {
  if (clock == nullptr) clock = &SystemClock::instance();
  auto impl = std::make_unique<Impl>(log, std::move(meta_dir), std::move(options), clock);
  SL_RETURN_IF_ERROR(impl->load());
  impl->fanout_ = make_fanout(impl.get());
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

void Service::handle(const Request& req, std::function<void(Response)> done) {
  impl_->handle(req, std::move(done));
}

bool Service::parse_target(std::string_view t, std::string_view* op) {
  constexpr std::string_view kPrefix = "Kinesis_20131202.";
  if (t.size() <= kPrefix.size() || t.substr(0, kPrefix.size()) != kPrefix) return false;
  *op = t.substr(kPrefix.size());
  return true;
}

bool Service::known_operation(std::string_view op) { return kinesis::known_operation(op); }

void Service::tick() { impl_->tick(); }

Result<StreamInfo> Service::describe(std::string_view stream) const {
  return impl_->describe(stream);
}
Result<std::string> Service::sequence_number(std::string_view stream, uint32_t ordinal,
                                             uint64_t offset) const {
  return impl_->sequence_number(stream, ordinal, offset);
}
Result<Service::Position> Service::parse_sequence_number(std::string_view stream,
                                                         std::string_view seq) const {
  return impl_->parse_sequence_number(stream, seq);
}

// ---------------------------------------------------------------- dispatch

const std::unordered_map<std::string_view, Service::Impl::OpEntry>& Service::Impl::ops() {
  // Adding an operation: a member function and one line here.
  static const std::unordered_map<std::string_view, OpEntry> kOps = {
      {"AddTagsToStream", {&Impl::add_tags, false}},
      {"CreateStream", {&Impl::create_stream, false}},
      {"DecreaseStreamRetentionPeriod", {&Impl::decrease_retention, false}},
      {"DeleteStream", {&Impl::delete_stream, false}},
      {"DescribeStream", {&Impl::describe_stream, false}},
      {"DescribeStreamSummary", {&Impl::describe_stream_summary, false}},
      {"GetRecords", {&Impl::get_records, false}},
      {"GetShardIterator", {&Impl::get_shard_iterator, false}},
      {"IncreaseStreamRetentionPeriod", {&Impl::increase_retention, false}},
      {"ListShards", {&Impl::list_shards, false}},
      {"ListStreams", {&Impl::list_streams, false}},
      {"ListTagsForStream", {&Impl::list_tags, false}},
      {"MergeShards", {&Impl::merge_shards, false}},
      {"PutRecord", {&Impl::put_record, false}},
      {"PutRecords", {&Impl::put_records, true}},
      {"RemoveTagsFromStream", {&Impl::remove_tags, false}},
      {"SplitShard", {&Impl::split_shard, false}},
      {"UpdateShardCount", {&Impl::update_shard_count, false}},
      {"RegisterStreamConsumer", {&Impl::register_consumer, false}},
      {"DescribeStreamConsumer", {&Impl::describe_consumer, false}},
      {"ListStreamConsumers", {&Impl::list_consumers, false}},
      {"DeregisterStreamConsumer", {&Impl::deregister_consumer, false}},
      {"SubscribeToShard", {&Impl::subscribe_to_shard, false}},
      {"StartStreamEncryption", {&Impl::start_encryption, false}},
      {"StopStreamEncryption", {&Impl::stop_encryption, false}},
      {"EnableEnhancedMonitoring", {&Impl::enable_monitoring, false}},
      {"DisableEnhancedMonitoring", {&Impl::disable_monitoring, false}},
      {"UpdateStreamMode", {&Impl::update_stream_mode, false}},
      {"UpdateMaxRecordSize", {&Impl::update_max_record_size, false}},
      {"UpdateStreamWarmThroughput", {&Impl::update_warm_throughput, false}},
      {"DescribeLimits", {&Impl::describe_limits, false}},
      {"DescribeAccountSettings", {&Impl::describe_account_settings, false}},
      {"UpdateAccountSettings", {&Impl::update_account_settings, false}},
      {"TagResource", {&Impl::tag_resource, false}},
      {"UntagResource", {&Impl::untag_resource, false}},
      {"ListTagsForResource", {&Impl::list_tags_for_resource, false}},
      {"PutResourcePolicy", {&Impl::put_resource_policy, false}},
      {"GetResourcePolicy", {&Impl::get_resource_policy, false}},
      {"DeleteResourcePolicy", {&Impl::delete_resource_policy, false}},
  };
  return kOps;
}

static Response error_response(Encoding enc, const std::string& type, const std::string& msg) {
  Response r;
  r.encoding = enc;
  r.http_status = type == "InternalFailure" ? 500 : 400;
  // AWS leaves the message out of some errors (UnknownOperationException).
  if (enc == Encoding::kJson) {
    r.body = "{\"__type\":";
    json_append_string(r.body, type);
    if (!msg.empty()) {
      r.body += ",\"message\":";
      json_append_string(r.body, msg);
    }
    r.body += "}";
  } else {
    CborWriter w(r.body);
    w.map(msg.empty() ? 1 : 2);
    w.text("__type");
    w.text(type);
    if (!msg.empty()) {
      w.text("message");
      w.text(msg);
    }
  }
  return r;
}

void Service::Impl::handle(const Request& req, std::function<void(Response)> done) {
  Call c;
  c.req = &req;
  c.done = std::move(done);
  try {
    auto& table = ops();
    auto it = table.find(req.operation);
    if (!known_operation(req.operation)) throw ApiError("UnknownOperationException", "");
    // AWS checks types, then constraints, before anything else (schema.h). PutRecords
    // parses and validates its body itself (hot path).
    if (it == table.end() || !it->second.raw_body) {
      c.in = parse_body(req.encoding, req.body);
      validate_request(req.operation, c.in, req.encoding);
    }
    if (it == table.end()) throw ApiError("UnknownOperationException", "");
    (this->*(it->second.fn))(c);
  } catch (const ApiError& e) {
    if (c.done) c.done(error_response(req.encoding, e.type, e.what()));
  } catch (const std::exception& e) {
    if (c.done) c.done(error_response(req.encoding, "InternalFailure", e.what()));
  }
}

void Service::Impl::reply(Call& c, const json& out) const {
  Response r;
  r.encoding = c.req->encoding;
  write_doc(out, r.encoding, r.body);
  auto done = std::move(c.done);
  c.done = nullptr;
  done(std::move(r));
}

void Service::Impl::reply_raw(Call& c, std::string body) const {
  Response r;
  r.encoding = c.req->encoding;
  r.body = std::move(body);
  auto done = std::move(c.done);
  c.done = nullptr;
  done(std::move(r));
}

// ---------------------------------------------------------------- helpers

std::string Service::Impl::arn(std::string_view name) const {
  return "arn:aws:kinesis:" + opt_.region + ":" + opt_.account_id + ":stream/" +
         std::string(name);
}

std::string Service::Impl::stream_name_of(const json& in) const {
  Validator v;
  auto name = get_string(in, "StreamName");
  auto sarn = get_string(in, "StreamARN");
  if (name) check_stream_name(v, *name, "streamName");
  if (sarn) check_stream_arn(v, *sarn, "streamARN");
  v.done();
  if (!name && !sarn)
    throw ApiError("InvalidArgumentException",
                   "Either StreamName or StreamARN should be provided.");
  if (sarn) {
    ArnParts p;
    parse_stream_arn(*sarn, &p);
    if (name && *name != p.name)
      throw ApiError("InvalidArgumentException",
                     "StreamARN " + *sarn + " and StreamName " + *name +
                         " refer to different streams.");
    if (p.account != opt_.account_id || p.region != opt_.region)
      throw ApiError("ResourceNotFoundException",
                     "Stream " + p.name + " under account " + p.account + " not found.");
    return p.name;
  }
  return *name;
}

Stream* Service::Impl::find_stream(const std::string& name) const {
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Service::Impl::not_found(const std::string& name) const {
  throw ApiError("ResourceNotFoundException",
                 "Stream " + name + " under account " + opt_.account_id + " not found.");
}

Stream& Service::Impl::need_stream(const std::string& name) const {
  Stream* s = find_stream(name);
  if (s == nullptr) not_found(name);
  return *s;
}

void Service::Impl::need_active(const Stream& s) const {
  if (s.status != StreamStatus::kActive)
    throw ApiError("ResourceInUseException",
                   "Stream " + s.name + " under account " + opt_.account_id +
                       " not ACTIVE, instead in state " + status_name(s.status));
}

int Service::Impl::total_open_shards() const {
  int n = 0;
  for (auto& [_, s] : streams_) n += static_cast<int>(s->open_count());
  return n;
}

void Service::Impl::check_shard_limit(int additional) const {
  int cur = total_open_shards();
  if (cur + additional > opt_.shard_limit)
    throw ApiError("LimitExceededException",
                   "This request would exceed the shard limit for the account " +
                       opt_.account_id + " in " + opt_.region +
                       ". Current shard count for the account: " + std::to_string(cur) +
                       ". Limit: " + std::to_string(opt_.shard_limit) +
                       ". Number of additional shards that would have resulted from this "
                       "request: " +
                       std::to_string(additional) +
                       ". Refer to the AWS Service Limits page "
                       "(http://docs.aws.amazon.com/general/latest/gr/"
                       "aws_service_limits.html) for current limits and how to request "
                       "higher limits.");
}

std::string Service::Impl::partition_name(const Stream& s, uint32_t ordinal) const {
  return s.name + "." + std::to_string(s.cid) + "." + std::to_string(ordinal);
}

Status Service::Impl::fresh_partition(Shard& sh, const Stream& s) {
  std::string name = partition_name(s, sh.ordinal);
  // A partition left behind by a crash before the metadata naming it was saved: its
  // name is about to be reused, so it must start empty.
  if (log_->find_partition(name) != nullptr) SL_RETURN_IF_ERROR(log_->drop_partition(name));
  SL_ASSIGN_OR_RETURN(sh.part, log_->create_partition(name));
  return Status::OK();
}

void Service::Impl::close_shard(Shard& sh, int64_t now) {
  sh.closed_ms = now;
  sh.end_offset = sh.part ? sh.part->next_offset() : 0;
}

Shard& Service::Impl::add_shard(Stream& s, u128 start, u128 end, int64_t parent,
                                int64_t adjacent, int64_t now) {
  Shard sh;
  sh.ordinal = static_cast<uint32_t>(s.shards.size());
  sh.start = start;
  sh.end = end;
  sh.parent = parent;
  sh.adjacent = adjacent;
  sh.created_ms = now;
  s.shards.push_back(sh);
  Shard& ref = s.shards.back();
  Status st = fresh_partition(ref, s);
  if (!st.ok()) throw ApiError("InternalFailure", "log: " + st.to_string());
  return ref;
}

// Sequence numbers: (version 1 << 120) | (creation id & 0xffffff) << 96 | ordinal << 64 |
// offset. Strictly increasing per shard, larger for children (higher ordinals) than for
// their parents, and they encode the incarnation so numbers of a deleted stream are
// rejected by its successor.
u128 Service::Impl::seq_prefix(const Stream& s, uint32_t ordinal) const {
  return (static_cast<u128>(1) << 120) | (static_cast<u128>(s.cid & 0xffffff) << 96) |
         (static_cast<u128>(ordinal) << 64);
}

std::string Service::Impl::seq_string(const Stream& s, uint32_t ordinal, uint64_t offset) const {
  return u128_to_string(seq_prefix(s, ordinal) | offset);
}

bool Service::Impl::decode_seq(const Stream& s, std::string_view seq, uint32_t* ordinal,
                               uint64_t* off) const {
  u128 v;
  if (!parse_u128(seq, &v)) return false;
  if (static_cast<uint64_t>(v >> 120) != 1) return false;
  if (static_cast<uint64_t>((v >> 96) & 0xffffff) != (s.cid & 0xffffff)) return false;
  *ordinal = static_cast<uint32_t>(v >> 64);
  *off = static_cast<uint64_t>(v);
  return true;
}

json Service::Impl::shard_json(const Stream& s, const Shard& sh) const {
  json j = json::object();
  j["ShardId"] = shard_id(sh.ordinal);
  if (sh.parent >= 0) j["ParentShardId"] = shard_id(static_cast<uint32_t>(sh.parent));
  if (sh.adjacent >= 0)
    j["AdjacentParentShardId"] = shard_id(static_cast<uint32_t>(sh.adjacent));
  j["HashKeyRange"] = {{"StartingHashKey", u128_to_string(sh.start)},
                       {"EndingHashKey", u128_to_string(sh.end)}};
  json range = {{"StartingSequenceNumber", seq_string(s, sh.ordinal, 0)}};
  if (!sh.open())
    range["EndingSequenceNumber"] = seq_string(s, sh.ordinal, ~static_cast<uint64_t>(0));
  j["SequenceNumberRange"] = std::move(range);
  return j;
}

// ---------------------------------------------------------------- persistence

static Status write_file_atomic(const std::string& dir, const std::string& name,
                                const std::string& data) {
  std::string tmp = dir + "/" + name + ".tmp";
  std::string dst = dir + "/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error_errno("open " + tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = io_error_errno("write " + tmp);
      ::close(fd);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status st = io_error_errno("fsync " + tmp);
    ::close(fd);
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) return io_error_errno("rename " + tmp);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error_errno("open " + dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return io_error_errno("fsync " + dir);
  return Status::OK();
}

static Result<std::string> read_file(const std::string& path, bool* exists) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *exists = false;
    return std::string();
  }
  *exists = true;
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return io_error("read " + path);
  return ss.str();
}

constexpr const char* kMetaFile = "kinesis-streams.json";
constexpr const char* kSecretFile = "kinesis-iterator.key";
constexpr int kMetaVersion = 1;

Status Service::Impl::save_meta() {
  json root;
  root["version"] = kMetaVersion;
  root["next_creation_id"] = next_cid_;
  json arr = json::array();
  for (auto& [name, s] : streams_) {
    json js;
    js["name"] = s->name;
    js["creation_id"] = s->cid;
    js["status"] = status_name(s->status);
    js["status_since_ms"] = s->status_since_ms;
    js["created_ms"] = s->created_ms;
    js["retention_hours"] = s->retention_hours;
    js["mode"] = s->on_demand ? "ON_DEMAND" : "PROVISIONED";
    js["encryption"] = s->encryption_key.empty() ? "NONE" : "KMS";
    js["tags"] = s->tags;
    // Added later (read with defaults, so older files load): consumers and settings.
    json consumers = json::array();
    for (auto& [_, k] : s->consumers)
      consumers.push_back({{"name", k.name},
                           {"created_ms", k.created_ms},
                           {"status", status_name(k.status)},
                           {"status_since_ms", k.status_since_ms},
                           {"tags", k.tags},
                           {"policy", k.policy}});
    js["consumers"] = std::move(consumers);
    js["encryption_key"] = s->encryption_key;
    js["shard_metrics"] = s->shard_metrics;
    js["max_record_kib"] = s->max_record_kib;
    js["warm_mibps"] = s->warm_mibps;
    js["policy"] = s->policy;
    json shards = json::array();
    for (const Shard& sh : s->shards) {
      shards.push_back({{"ordinal", sh.ordinal},
                        {"parent", sh.parent},
                        {"adjacent", sh.adjacent},
                        {"start", u128_to_string(sh.start)},
                        {"end", u128_to_string(sh.end)},
                        {"created_ms", sh.created_ms},
                        {"closed_ms", sh.closed_ms},
                        {"end_offset", sh.end_offset}});
    }
    js["shards"] = std::move(shards);
    arr.push_back(std::move(js));
  }
  root["streams"] = std::move(arr);
  root["account"] = {{"billing_status", billing_status_},
                     {"billing_started_ms", billing_started_ms_},
                     {"billing_ended_ms", billing_ended_ms_}};
  return write_file_atomic(meta_dir_, kMetaFile, root.dump(1));
}

void Service::Impl::persist() {
  Status st = save_meta();
  if (!st.ok()) throw ApiError("InternalFailure", "saving stream metadata: " + st.to_string());
}

Status Service::Impl::load() {
  std::error_code ec;
  std::filesystem::create_directories(meta_dir_, ec);
  if (ec) return io_error("create " + meta_dir_ + ": " + ec.message());
  // Iterator secret.
  bool exists = false;
  SL_ASSIGN_OR_RETURN(std::string key, read_file(meta_dir_ + "/" + kSecretFile, &exists));
  if (!exists || key.size() != 32) {
    key.assign(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), 32) != 1)
      return internal_error("RAND_bytes failed");
    SL_RETURN_IF_ERROR(write_file_atomic(meta_dir_, kSecretFile, key));
  }
  secret_ = std::move(key);

  SL_ASSIGN_OR_RETURN(std::string text, read_file(meta_dir_ + "/" + kMetaFile, &exists));
  if (!exists) return save_meta();
  try {
    json root = json::parse(text);
    if (root.at("version").get<int>() != kMetaVersion)
      return corruption("kinesis metadata: unknown version");
    next_cid_ = root.at("next_creation_id").get<uint64_t>();
    if (auto a = root.find("account"); a != root.end()) {
      billing_status_ = a->value("billing_status", std::string("DISABLED"));
      billing_started_ms_ = a->value("billing_started_ms", int64_t{-1});
      billing_ended_ms_ = a->value("billing_ended_ms", int64_t{-1});
    }
    for (const json& js : root.at("streams")) {
      auto s = std::make_unique<Stream>();
      s->name = js.at("name").get<std::string>();
      s->cid = js.at("creation_id").get<uint64_t>();
      if (!status_from_name(js.at("status").get<std::string>(), &s->status))
        return corruption("kinesis metadata: bad status");
      s->status_since_ms = js.at("status_since_ms").get<int64_t>();
      s->created_ms = js.at("created_ms").get<int64_t>();
      s->retention_hours = js.at("retention_hours").get<int>();
      s->on_demand = js.at("mode").get<std::string>() == "ON_DEMAND";
      s->tags = js.at("tags").get<std::map<std::string, std::string>>();
      if (auto it = js.find("consumers"); it != js.end()) {
        for (const json& jk : *it) {
          Consumer k;
          k.name = jk.at("name").get<std::string>();
          k.created_ms = jk.at("created_ms").get<int64_t>();
          if (!status_from_name(jk.at("status").get<std::string>(), &k.status))
            return corruption("kinesis metadata: bad consumer status");
          k.status_since_ms = jk.at("status_since_ms").get<int64_t>();
          k.tags = jk.at("tags").get<std::map<std::string, std::string>>();
          k.policy = jk.value("policy", std::string());
          std::string kname = k.name;
          s->consumers.emplace(std::move(kname), std::move(k));
        }
      }
      s->encryption_key = js.value("encryption_key", std::string());
      s->shard_metrics = js.value("shard_metrics", std::vector<std::string>());
      s->max_record_kib = js.value("max_record_kib", 1024);
      s->warm_mibps = js.value("warm_mibps", 0);
      s->policy = js.value("policy", std::string());
      for (const json& jsh : js.at("shards")) {
        Shard sh;
        sh.ordinal = jsh.at("ordinal").get<uint32_t>();
        sh.parent = jsh.at("parent").get<int64_t>();
        sh.adjacent = jsh.at("adjacent").get<int64_t>();
        if (!parse_u128(jsh.at("start").get<std::string>(), &sh.start) ||
            !parse_u128(jsh.at("end").get<std::string>(), &sh.end))
          return corruption("kinesis metadata: bad hash key");
        sh.created_ms = jsh.at("created_ms").get<int64_t>();
        sh.closed_ms = jsh.at("closed_ms").get<int64_t>();
        sh.end_offset = jsh.at("end_offset").get<uint64_t>();
        if (sh.ordinal != s->shards.size()) return corruption("kinesis metadata: shard order");
        s->shards.push_back(sh);
      }
      if (s->status != StreamStatus::kDeleting) {
        for (Shard& sh : s->shards) {
          sh.part = log_->find_partition(partition_name(*s, sh.ordinal));
          if (sh.part == nullptr) {
            // Saved metadata, then crashed before the partition existed: it had no data.
            SL_ASSIGN_OR_RETURN(sh.part, log_->create_partition(partition_name(*s, sh.ordinal)));
          }
        }
      }
      s->rebuild_routing();
      std::string name = s->name;
      streams_.emplace(std::move(name), std::move(s));
    }
  } catch (const json::exception& e) {
    return corruption(std::string("kinesis metadata: ") + e.what());
  }
  return Status::OK();
}

// ---------------------------------------------------------------- tick

void Service::Impl::tick() {
  int64_t now = clock_->now_ms();
  {
    std::unique_lock lk(mu_);
    bool changed = false;
    for (auto it = streams_.begin(); it != streams_.end();) {
      Stream& s = *it->second;
      for (auto kit = s.consumers.begin(); kit != s.consumers.end();) {
        Consumer& k = kit->second;
        int64_t kage = now - k.status_since_ms;
        if (k.status == StreamStatus::kCreating && kage >= opt_.create_delay_ms) {
          k.status = StreamStatus::kActive;
          k.status_since_ms = now;
          changed = true;
        } else if (k.status == StreamStatus::kDeleting && kage >= opt_.delete_delay_ms) {
          kit = s.consumers.erase(kit);
          changed = true;
          continue;
        }
        ++kit;
      }
      int64_t age = now - s.status_since_ms;
      if (s.status == StreamStatus::kCreating && age >= opt_.create_delay_ms) {
        s.status = StreamStatus::kActive;
        s.status_since_ms = now;
        changed = true;
      } else if (s.status == StreamStatus::kUpdating && age >= opt_.update_delay_ms) {
        s.status = StreamStatus::kActive;
        s.status_since_ms = now;
        changed = true;
      } else if (s.status == StreamStatus::kDeleting && age >= opt_.delete_delay_ms) {
        bool ok = true;
        for (Shard& sh : s.shards) {
          std::string pname = partition_name(s, sh.ordinal);
          if (log_->find_partition(pname) != nullptr && !log_->drop_partition(pname).ok())
            ok = false;
          sh.part = nullptr;
        }
        if (ok) {
          it = streams_.erase(it);
          changed = true;
          continue;
        }
      }
      ++it;
    }
    if (changed) save_meta().ignore();  // retried on the next change; state is in memory
  }
  // Retention: whole segments older than the stream's retention go.
  std::shared_lock lk(mu_);
  for (auto& [_, s] : streams_) {
    if (s->status == StreamStatus::kDeleting) continue;
    int64_t cutoff = now - static_cast<int64_t>(s->retention_hours) * 3600 * 1000;
    for (Shard& sh : s->shards)
      if (sh.part != nullptr) log_->trim_before_time(sh.part, cutoff).status().ignore();
  }
}

// ---------------------------------------------------------------- C++ API

std::vector<StreamTraffic> Service::traffic() const {
  std::shared_lock lk(impl_->mu_);
  std::vector<StreamTraffic> out;
  for (const auto& [name, s] : impl_->streams_) {
    StreamTraffic t;
    t.name = name;
    t.status = status_name(s->status);
    t.open_shards = static_cast<int>(s->open_count());
    t.retention_hours = s->retention_hours;
    t.records_in = s->records_in.load(std::memory_order_relaxed);
    t.bytes_in = s->bytes_in.load(std::memory_order_relaxed);
    out.push_back(std::move(t));
  }
  return out;
}

Result<StreamInfo> Service::Impl::describe(std::string_view name) const {
  std::shared_lock lk(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return sl::not_found("stream " + std::string(name));
  const Stream& s = *it->second;
  StreamInfo info;
  info.name = s.name;
  info.arn = arn(s.name);
  info.status = status_name(s.status);
  info.creation_id = s.cid;
  info.created_ms = s.created_ms;
  info.retention_hours = s.retention_hours;
  for (const Shard& sh : s.shards) {
    ShardInfo si;
    si.shard_id = shard_id(sh.ordinal);
    si.ordinal = sh.ordinal;
    if (sh.parent >= 0) si.parent_shard_id = shard_id(static_cast<uint32_t>(sh.parent));
    if (sh.adjacent >= 0)
      si.adjacent_parent_shard_id = shard_id(static_cast<uint32_t>(sh.adjacent));
    si.starting_hash_key = u128_to_string(sh.start);
    si.ending_hash_key = u128_to_string(sh.end);
    si.partition = partition_name(s, sh.ordinal);
    si.open = sh.open();
    si.end_offset = sh.end_offset;
    si.created_ms = sh.created_ms;
    si.closed_ms = sh.closed_ms;
    info.shards.push_back(std::move(si));
  }
  return info;
}

Result<std::string> Service::Impl::sequence_number(std::string_view name, uint32_t ordinal,
                                                   uint64_t offset) const {
  std::shared_lock lk(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return sl::not_found("stream " + std::string(name));
  if (ordinal >= it->second->shards.size()) return sl::not_found("shard " + shard_id(ordinal));
  return seq_string(*it->second, ordinal, offset);
}

Result<Service::Position> Service::Impl::parse_sequence_number(std::string_view name,
                                                               std::string_view seq) const {
  std::shared_lock lk(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return sl::not_found("stream " + std::string(name));
  Position p;
  if (!decode_seq(*it->second, seq, &p.ordinal, &p.offset) ||
      p.ordinal >= it->second->shards.size())
    return invalid_argument("sequence number " + std::string(seq) + " is not of stream " +
                            std::string(name));
  return p;
}

// ---------------------------------------------------------------- control plane

void Service::Impl::create_stream(Call& c) {
  const json& in = c.in;
  Validator v;
  auto name = get_string(in, "StreamName");
  auto count = get_int(in, "ShardCount");
  bool on_demand = false;
  if (const json* md = get_object(in, "StreamModeDetails")) {
    auto mode = get_string(*md, "StreamMode");
    if (!mode) v.add_null("streamModeDetails.streamMode");
    else if (*mode == "ON_DEMAND") on_demand = true;
    else if (*mode != "PROVISIONED")
      v.add(quote(*mode), "streamModeDetails.streamMode",
            "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]");
  }
  if (!name) v.add_null("streamName");
  else check_stream_name(v, *name, "streamName");
  if (count && *count < 1)
    v.add(quote(std::to_string(*count)), "shardCount",
          "Member must have value greater than or equal to 1");
  auto tags = get_string_map(in, "Tags");
  if (tags) check_tags(v, *tags, "tags");
  v.done();
  int64_t shards;
  if (on_demand) {
    shards = count ? *count : opt_.on_demand_shards;
  } else {
    if (!count)
      throw ApiError("InvalidArgumentException",
                     "ShardCount is required for streams in PROVISIONED mode.");
    shards = *count;
  }
  if (tags && tags->size() > 50)
    throw ApiError("LimitExceededException",
                   "Failed to create stream " + *name +
                       " because a given stream cannot have more than 50 tags associated "
                       "with it.");
  std::unique_lock lk(mu_);
  if (find_stream(*name) != nullptr)
    throw ApiError("ResourceInUseException",
                   "Stream " + *name + " under account " + opt_.account_id + " already exists.");
  if (shards > 100000) check_shard_limit(100001);
  check_shard_limit(static_cast<int>(shards));
  int64_t now = clock_->now_ms();
  auto s = std::make_unique<Stream>();
  s->name = *name;
  s->cid = next_cid_++;
  s->status = StreamStatus::kCreating;
  s->status_since_ms = now;
  s->created_ms = now;
  s->on_demand = on_demand;
  if (tags) s->tags = std::map<std::string, std::string>(tags->begin(), tags->end());
  // Even split of [0, 2^128): each shard gets floor(2^128 / n) keys, the last the rest.
  u128 n = static_cast<u128>(shards);
  u128 size = kMaxHashKey / n + ((kMaxHashKey % n) == n - 1 ? 1 : 0);
  Stream& ref = *s;
  streams_.emplace(*name, std::move(s));
  for (int64_t i = 0; i < shards; i++) {
    u128 start = size * static_cast<u128>(i);
    u128 end = (i == shards - 1) ? kMaxHashKey : start + size - 1;
    add_shard(ref, start, end, -1, -1, now);
  }
  ref.rebuild_routing();
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::delete_stream(Call& c) {
  std::string name = stream_name_of(c.in);
  bool enforce = get_bool(c.in, "EnforceConsumerDeletion").value_or(false);
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  if (s.status == StreamStatus::kDeleting) not_found(name);
  if (s.status == StreamStatus::kCreating) need_active(s);
  if (!s.consumers.empty() && !enforce)
    throw ApiError("ResourceInUseException",
                   "Stream " + name + " under account " + opt_.account_id +
                       " has registered consumers. Deregister them first or set "
                       "EnforceConsumerDeletion.");
  for (auto& [_, k] : s.consumers) k.status = StreamStatus::kDeleting;
  s.status = StreamStatus::kDeleting;
  s.status_since_ms = clock_->now_ms();
  s.routing.clear();
  persist();
  lk.unlock();
  reply(c, json::object());
}

static json stream_mode_json(const Stream& s) {
  return {{"StreamMode", s.on_demand ? "ON_DEMAND" : "PROVISIONED"}};
}

void Service::Impl::describe_stream(Call& c) {
  std::string name = stream_name_of(c.in);
  Validator v;
  auto limit = get_int(c.in, "Limit");
  auto start = get_string(c.in, "ExclusiveStartShardId");
  if (limit) check_range(v, *limit, 1, 10000, "limit");
  if (start) check_shard_id(v, *start, "exclusiveStartShardId");
  v.done();
  std::shared_lock lk(mu_);
  const Stream& s = need_stream(name);
  json shards = json::array();
  int64_t max = limit ? *limit : 100;
  bool more = false;
  for (const Shard& sh : s.shards) {
    if (start && shard_id(sh.ordinal) <= *start) continue;
    if (static_cast<int64_t>(shards.size()) >= max) {
      more = true;
      break;
    }
    shards.push_back(shard_json(s, sh));
  }
  json d;
  d["StreamName"] = s.name;
  d["StreamARN"] = arn(s.name);
  d["StreamStatus"] = status_name(s.status);
  d["StreamModeDetails"] = stream_mode_json(s);
  d["Shards"] = std::move(shards);
  d["HasMoreShards"] = more;
  d["RetentionPeriodHours"] = s.retention_hours;
  d["StreamCreationTimestamp"] = s.created_ms;
  d.update(settings_json(s));
  lk.unlock();
  reply(c, {{"StreamDescription", std::move(d)}});
}

void Service::Impl::describe_stream_summary(Call& c) {
  std::string name = stream_name_of(c.in);
  std::shared_lock lk(mu_);
  const Stream& s = need_stream(name);
  json d;
  d["StreamName"] = s.name;
  d["StreamARN"] = arn(s.name);
  d["StreamStatus"] = status_name(s.status);
  d["StreamModeDetails"] = stream_mode_json(s);
  d["RetentionPeriodHours"] = s.retention_hours;
  d["StreamCreationTimestamp"] = s.created_ms;
  d.update(settings_json(s));
  d["OpenShardCount"] = s.open_count();
  d["ConsumerCount"] = s.consumers.size();
  if (s.on_demand || s.warm_mibps > 0)
    d["WarmThroughput"] = {{"TargetMiBps", s.warm_mibps}, {"CurrentMiBps", s.warm_mibps}};
  d["MaxRecordSizeInKiB"] = s.max_record_kib;
  lk.unlock();
  reply(c, {{"StreamDescriptionSummary", std::move(d)}});
}

void Service::Impl::list_streams(Call& c) {
  Validator v;
  auto limit = get_int(c.in, "Limit");
  auto start = get_string(c.in, "ExclusiveStartStreamName");
  auto token = get_string(c.in, "NextToken");
  if (limit) check_range(v, *limit, 1, 10000, "limit");
  if (start) check_stream_name(v, *start, "exclusiveStartStreamName");
  if (token) check_length(v, *token, 1, 1048576, "nextToken");
  v.done();
  if (token && start)
    throw ApiError("InvalidArgumentException",
                   "NextToken and ExclusiveStartStreamName cannot be provided together.");
  std::string after;
  if (start) after = *start;
  if (token) {
    auto dec = base64_decode(*token);
    if (!dec || dec->rfind("ls1|", 0) != 0)
      throw ApiError("InvalidArgumentException", "Invalid NextToken.");
    after = dec->substr(4);
  }
  int64_t max = limit ? *limit : 100;
  std::shared_lock lk(mu_);
  json names = json::array(), summaries = json::array();
  bool more = false;
  std::string last;
  for (auto it = (start || token) ? streams_.upper_bound(after) : streams_.begin();
       it != streams_.end(); ++it) {
    if (static_cast<int64_t>(names.size()) >= max) {
      more = true;
      break;
    }
    const Stream& s = *it->second;
    names.push_back(s.name);
    summaries.push_back({{"StreamName", s.name},
                         {"StreamARN", arn(s.name)},
                         {"StreamStatus", status_name(s.status)},
                         {"StreamModeDetails", stream_mode_json(s)},
                         {"StreamCreationTimestamp", s.created_ms}});
    last = s.name;
  }
  lk.unlock();
  json out = {{"StreamNames", std::move(names)}, {"HasMoreStreams", more}};
  if (more) out["NextToken"] = base64_encode("ls1|" + last);
  out["StreamSummaries"] = std::move(summaries);
  reply(c, out);
}

void Service::Impl::list_shards(Call& c) {
  const json& in = c.in;
  Validator v;
  auto name = get_string(in, "StreamName");
  auto sarn = get_string(in, "StreamARN");
  auto token = get_string(in, "NextToken");
  auto start = get_string(in, "ExclusiveStartShardId");
  auto max = get_int(in, "MaxResults");
  auto created = get_timestamp(in, "StreamCreationTimestamp", c.req->encoding);
  const json* filter = get_object(in, "ShardFilter");
  if (name) check_stream_name(v, *name, "streamName");
  if (sarn) check_stream_arn(v, *sarn, "streamARN");
  if (token) check_length(v, *token, 1, 1048576, "nextToken");
  if (start) check_shard_id(v, *start, "exclusiveStartShardId");
  if (max) check_range(v, *max, 1, 10000, "maxResults");
  std::optional<std::string> ftype, fshard;
  std::optional<int64_t> fts;
  if (filter) {
    ftype = get_string(*filter, "Type");
    fshard = get_string(*filter, "ShardId");
    fts = get_timestamp(*filter, "Timestamp", c.req->encoding);
    static const char* kTypes[] = {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON",
                                   "AT_LATEST",      "AT_TIMESTAMP",    "FROM_TIMESTAMP"};
    if (!ftype) v.add_null("shardFilter.type");
    else if (std::find_if(std::begin(kTypes), std::end(kTypes),
                          [&](const char* t) { return *ftype == t; }) == std::end(kTypes))
      v.add(quote(*ftype), "shardFilter.type",
            "Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, "
            "FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]");
    if (fshard) check_shard_id(v, *fshard, "shardFilter.shardId");
  }
  v.done();
  std::string stream;
  int64_t after_ordinal = -1;
  int64_t now = clock_->now_ms();
  uint64_t token_cid = 0;
  if (token) {
    if (name || sarn)
      throw ApiError("InvalidArgumentException",
                     "NextToken and StreamName cannot be provided together.");
    if (start || filter || created)
      throw ApiError("InvalidArgumentException",
                     "NextToken cannot be combined with ExclusiveStartShardId, ShardFilter "
                     "or StreamCreationTimestamp.");
    // ls2|issued|cid|after|ftype|fts|stream
    auto dec = base64_decode(*token);
    bool ok = dec && dec->rfind("ls2|", 0) == 0;
    std::vector<std::string> parts;
    if (ok) {
      size_t pos = 4;
      for (int i = 0; i < 5 && ok; i++) {
        size_t bar = dec->find('|', pos);
        if (bar == std::string::npos) ok = false;
        else parts.push_back(dec->substr(pos, bar - pos)), pos = bar + 1;
      }
      if (ok) parts.push_back(dec->substr(pos));
    }
    if (!ok) throw ApiError("InvalidArgumentException", "Invalid NextToken.");
    try {
      int64_t issued = std::stoll(parts[0]);
      token_cid = std::stoull(parts[1]);
      after_ordinal = std::stoll(parts[2]);
      if (!parts[3].empty()) ftype = parts[3];
      if (parts[4] != "-") fts = std::stoll(parts[4]);
      stream = parts[5];
      if (now - issued > 300000)
        throw ApiError("ExpiredNextTokenException", "The NextToken has expired.");
    } catch (const std::logic_error&) {
      throw ApiError("InvalidArgumentException", "Invalid NextToken.");
    }
  } else {
    stream = stream_name_of(in);
  }
  if (ftype == "AFTER_SHARD_ID" && !token) {
    if (!fshard)
      throw ApiError("InvalidArgumentException",
                     "ShardId must be specified for the AFTER_SHARD_ID ShardFilter type.");
  }
  if ((ftype == "AT_TIMESTAMP" || ftype == "FROM_TIMESTAMP") && !fts)
    throw ApiError("InvalidArgumentException",
                   "Timestamp must be specified for the " + *ftype + " ShardFilter type.");
  std::shared_lock lk(mu_);
  const Stream* s = find_stream(stream);
  if (s == nullptr || (token && s->cid != token_cid)) not_found(stream);
  if (created && *created != s->created_ms) not_found(stream);
  // ExclusiveStartShardId / AFTER_SHARD_ID: shards whose id sorts after the given one.
  std::optional<std::string> after_id = start;
  if (ftype == "AFTER_SHARD_ID" && fshard && (!after_id || *fshard > *after_id)) after_id = fshard;
  int64_t limit = max ? *max : 1000;
  int64_t retention_cut = now - static_cast<int64_t>(s->retention_hours) * 3600 * 1000;
  json shards = json::array();
  int64_t last = -1;
  bool more = false;
  for (const Shard& sh : s->shards) {
    if (static_cast<int64_t>(sh.ordinal) <= after_ordinal) continue;
    if (after_id && shard_id(sh.ordinal) <= *after_id) continue;
    bool keep = true;
    if (ftype == "AT_LATEST") keep = sh.open();
    else if (ftype == "AT_TIMESTAMP")
      keep = sh.created_ms <= *fts && (sh.open() || sh.closed_ms > *fts);
    else if (ftype == "FROM_TIMESTAMP") keep = sh.open() || sh.closed_ms >= *fts;
    else if (ftype == "AT_TRIM_HORIZON" || ftype == "FROM_TRIM_HORIZON")
      keep = sh.open() || sh.closed_ms >= retention_cut;
    if (!keep) continue;
    if (static_cast<int64_t>(shards.size()) >= limit) {
      more = true;
      break;
    }
    shards.push_back(shard_json(*s, sh));
    last = sh.ordinal;
  }
  json out = {{"Shards", std::move(shards)}};
  if (more) {
    std::string t = "ls2|" + std::to_string(now) + "|" + std::to_string(s->cid) + "|" +
                    std::to_string(last) + "|" + (ftype ? *ftype : "") + "|" +
                    (fts ? std::to_string(*fts) : "-") + "|" + s->name;
    out["NextToken"] = base64_encode(t);
  }
  lk.unlock();
  reply(c, out);
}

// ---------------------------------------------------------------- retention, tags

static void retention_common(Service::Impl& impl, Call& c, bool increase) {
  std::string name = impl.stream_name_of(c.in);
  auto hours = get_int(c.in, "RetentionPeriodHours");
  Validator v;
  if (!hours) v.add_null("retentionPeriodHours");
  else check_range(v, *hours, 1, 2147483647, "retentionPeriodHours");
  v.done();
  std::unique_lock lk(impl.mu_);
  Stream& s = impl.need_stream(name);
  if (*hours < 24)
    throw ApiError("InvalidArgumentException",
                   "Minimum allowed retention period is 24 hours. Requested retention period (" +
                       std::to_string(*hours) + " hours) is too short.");
  if (*hours > 8760)
    throw ApiError("InvalidArgumentException",
                   "Maximum allowed retention period is 8760 hours. Requested retention "
                   "period (" + std::to_string(*hours) + " hours) is too long.");
  impl.need_active(s);
  if (increase && *hours < s.retention_hours)
    throw ApiError("InvalidArgumentException",
                   "Requested retention period (" + std::to_string(*hours) +
                       " hours) for stream " + name +
                       " can not be shorter than existing retention period (" +
                       std::to_string(s.retention_hours) +
                       " hours). Use DecreaseRetentionPeriod API.");
  if (!increase && *hours > s.retention_hours)
    throw ApiError("InvalidArgumentException",
                   "Requested retention period (" + std::to_string(*hours) +
                       " hours) for stream " + name +
                       " can not be longer than existing retention period (" +
                       std::to_string(s.retention_hours) +
                       " hours). Use IncreaseRetentionPeriod API.");
  s.retention_hours = static_cast<int>(*hours);
  impl.persist();
  lk.unlock();
  impl.reply(c, json::object());
}

void Service::Impl::increase_retention(Call& c) { retention_common(*this, c, true); }
void Service::Impl::decrease_retention(Call& c) { retention_common(*this, c, false); }

void Service::Impl::add_tags(Call& c) {
  std::string name = stream_name_of(c.in);
  auto tags = get_string_map(c.in, "Tags");
  Validator v;
  if (!tags) v.add_null("tags");
  else {
    if (tags->empty())
      v.add("{}", "tags", "Member must have length greater than or equal to 1");
    check_tags(v, *tags, "tags");
  }
  v.done();
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  if (s.status != StreamStatus::kActive && s.status != StreamStatus::kUpdating) need_active(s);
  std::map<std::string, std::string> merged = s.tags;
  for (auto& [k, val] : *tags) merged[k] = val;
  if (merged.size() > 50)
    throw ApiError("LimitExceededException",
                   "Failed to add tags to stream " + name + " under account " +
                       opt_.account_id +
                       " because a given stream cannot have more than 50 tags associated "
                       "with it.");
  s.tags = std::move(merged);
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::list_tags(Call& c) {
  std::string name = stream_name_of(c.in);
  auto start = get_string(c.in, "ExclusiveStartTagKey");
  auto limit = get_int(c.in, "Limit");
  Validator v;
  if (start) check_length(v, *start, 1, 128, "exclusiveStartTagKey");
  if (limit) check_range(v, *limit, 1, 50, "limit");
  v.done();
  std::shared_lock lk(mu_);
  const Stream& s = need_stream(name);
  json tags = json::array();
  bool more = false;
  int64_t max = limit ? *limit : 50;
  for (auto it = start ? s.tags.upper_bound(*start) : s.tags.begin(); it != s.tags.end(); ++it) {
    if (static_cast<int64_t>(tags.size()) >= max) {
      more = true;
      break;
    }
    tags.push_back({{"Key", it->first}, {"Value", it->second}});
  }
  lk.unlock();
  reply(c, {{"Tags", std::move(tags)}, {"HasMoreTags", more}});
}

void Service::Impl::remove_tags(Call& c) {
  std::string name = stream_name_of(c.in);
  auto keys = get_string_list(c.in, "TagKeys");
  Validator v;
  if (!keys) v.add_null("tagKeys");
  else {
    if (keys->empty() || keys->size() > 50)
      v.add(list_repr(*keys), "tagKeys",
            keys->empty() ? "Member must have length greater than or equal to 1"
                          : "Member must have length less than or equal to 50");
    for (auto& k : *keys)
      if (k.empty() || utf8_length(k) > 128) {
        v.add(list_repr(*keys), "tagKeys",
              "Member must satisfy constraint: [Member must have length less than or equal "
              "to 128, Member must have length greater than or equal to 1]");
        break;
      }
  }
  v.done();
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  if (s.status != StreamStatus::kActive && s.status != StreamStatus::kUpdating) need_active(s);
  for (auto& k : *keys) s.tags.erase(k);
  persist();
  lk.unlock();
  reply(c, json::object());
}

// ---------------------------------------------------------------- resharding

uint32_t Service::Impl::open_shard_ordinal(const Stream& s, const std::string& id,
                                           const std::string& name) const {
  uint32_t o;
  if (!parse_shard_ordinal(id, &o) || o >= s.shards.size())
    throw ApiError("ResourceNotFoundException",
                   "Could not find shard " + id + " in stream " + name + " under account " +
                       opt_.account_id + ".");
  if (!s.shards[o].open())
    throw ApiError("ResourceInUseException",
                   "Shard " + id + " in stream " + name + " under account " + opt_.account_id +
                       " has already been merged or split, and thus is not eligible for "
                       "merging or splitting.");
  return o;
}

void Service::Impl::split_shard(Call& c) {
  std::string name = stream_name_of(c.in);
  auto shard = get_string(c.in, "ShardToSplit");
  auto key = get_string(c.in, "NewStartingHashKey");
  Validator v;
  if (!shard) v.add_null("shardToSplit");
  else check_shard_id(v, *shard, "shardToSplit");
  if (!key) v.add_null("newStartingHashKey");
  else check_hash_key_pattern(v, *key, "newStartingHashKey");
  v.done();
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  need_active(s);
  uint32_t o = open_shard_ordinal(s, *shard, name);
  u128 k = 0;
  bool parsed = parse_u128(*key, &k);
  const Shard& p = s.shards[o];
  if (!parsed || k <= p.start + 1 || k >= p.end)
    throw ApiError("InvalidArgumentException",
                   "NewStartingHashKey " + *key + " used in SplitShard() on shard " + *shard +
                       " in stream " + name + " under account " + opt_.account_id +
                       " is not both greater than one plus the shard's StartingHashKey " +
                       u128_to_string(p.start) + " and less than the shard's EndingHashKey " +
                       u128_to_string(p.end) + ".");
  check_shard_limit(1);
  int64_t now = clock_->now_ms();
  u128 pstart = p.start, pend = p.end;
  close_shard(s.shards[o], now);
  add_shard(s, pstart, k - 1, o, -1, now);
  add_shard(s, k, pend, o, -1, now);
  s.rebuild_routing();
  s.status = StreamStatus::kUpdating;
  s.status_since_ms = now;
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::merge_shards(Call& c) {
  std::string name = stream_name_of(c.in);
  auto a = get_string(c.in, "ShardToMerge");
  auto b = get_string(c.in, "AdjacentShardToMerge");
  Validator v;
  if (!a) v.add_null("shardToMerge");
  else check_shard_id(v, *a, "shardToMerge");
  if (!b) v.add_null("adjacentShardToMerge");
  else check_shard_id(v, *b, "adjacentShardToMerge");
  v.done();
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  need_active(s);
  uint32_t oa = open_shard_ordinal(s, *a, name);
  uint32_t ob = open_shard_ordinal(s, *b, name);
  const Shard& sa = s.shards[oa];
  const Shard& sb = s.shards[ob];
  bool adjacent = oa != ob && ((sa.end != kMaxHashKey && sa.end + 1 == sb.start) ||
                               (sb.end != kMaxHashKey && sb.end + 1 == sa.start));
  if (!adjacent)
    throw ApiError("InvalidArgumentException",
                   "Shards " + *a + " and " + *b + " in stream " + name + " under account " +
                       opt_.account_id +
                       " are not an adjacent pair of shards eligible for merging");
  int64_t now = clock_->now_ms();
  u128 start = std::min(sa.start, sb.start), end = std::max(sa.end, sb.end);
  close_shard(s.shards[oa], now);
  close_shard(s.shards[ob], now);
  add_shard(s, start, end, oa, ob, now);
  s.rebuild_routing();
  s.status = StreamStatus::kUpdating;
  s.status_since_ms = now;
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::update_shard_count(Call& c) {
  std::string name = stream_name_of(c.in);
  auto target = get_int(c.in, "TargetShardCount");
  auto scaling = get_string(c.in, "ScalingType");
  Validator v;
  if (!target) v.add_null("targetShardCount");
  else check_range(v, *target, 1, 2147483647, "targetShardCount");
  if (!scaling) v.add_null("scalingType");
  else if (*scaling != "UNIFORM_SCALING")
    v.add(quote(*scaling), "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]");
  v.done();
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  need_active(s);
  int64_t cur = static_cast<int64_t>(s.open_count());
  int64_t t = *target;
  if (t > cur * 2)
    throw ApiError("LimitExceededException",
                   "UpdateShardCount cannot scale up over double your current open shard "
                   "count. Current open shard count: " + std::to_string(cur) +
                       " Target shard count: " + std::to_string(t));
  if (t * 2 < cur)
    throw ApiError("LimitExceededException",
                   "UpdateShardCount cannot scale down below half your current open shard "
                   "count. Current open shard count: " + std::to_string(cur) +
                       " Target shard count: " + std::to_string(t));
  if (t > 10000)
    throw ApiError("LimitExceededException",
                   "UpdateShardCount cannot scale up to more than 10000 shards in a stream.");
  if (t > cur) check_shard_limit(static_cast<int>(t - cur));
  json out = {{"StreamName", s.name},
              {"CurrentShardCount", cur},
              {"TargetShardCount", t},
              {"StreamARN", arn(s.name)}};
  if (t != cur) {
    int64_t now = clock_->now_ms();
    std::vector<uint32_t> old = s.routing;  // sorted by start hash key
    for (uint32_t o : old) close_shard(s.shards[o], now);
    u128 n = static_cast<u128>(t);
    u128 size = kMaxHashKey / n + ((kMaxHashKey % n) == n - 1 ? 1 : 0);
    for (int64_t i = 0; i < t; i++) {
      u128 start = size * static_cast<u128>(i);
      u128 end = (i == t - 1) ? kMaxHashKey : start + size - 1;
      // Lineage: the old shards this range overlaps (at most two can be recorded).
      int64_t parent = -1, adjacent = -1;
      for (uint32_t o : old) {
        const Shard& p = s.shards[o];
        if (p.end < start || p.start > end) continue;
        if (parent < 0) parent = o;
        else if (adjacent < 0) adjacent = o;
      }
      add_shard(s, start, end, parent, adjacent, now);
    }
    s.rebuild_routing();
    s.status = StreamStatus::kUpdating;
    s.status_since_ms = now;
    persist();
  }
  lk.unlock();
  reply(c, out);
}

}  // namespace sl::kinesis
