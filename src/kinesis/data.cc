// The data plane: PutRecord(s), GetShardIterator, GetRecords.
#include <simdjson.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "kinesis/service_impl.h"
#include "kinesis/wire.h"
#include "util/base64.h"
#include "util/hash.h"

namespace sl::kinesis {

constexpr size_t kMaxRecordBytes = 10485760;  // the API's Data limit; streams default to 1 MiB (UpdateMaxRecordSize)
constexpr size_t kMaxPutRecordsBytes = 5 * 1048576;  // whole request
constexpr size_t kMaxGetRecordsBytes = 10 * 1048576;

namespace {

// Decimal rendering of consecutive sequence numbers: one 128-bit conversion per run,
// then an in-place increment of the decimal string.
class SeqFormatter {
 public:
  explicit SeqFormatter(u128 prefix) : prefix_(prefix) {}
  const std::string& at(uint64_t offset) {
    if (valid_ && offset == last_ + 1) {
      for (size_t i = s_.size(); i-- > 0;) {
        if (s_[i] != '9') {
          s_[i]++;
          goto done;
        }
        s_[i] = '0';
      }
      s_.insert(s_.begin(), '1');
    } else {
      s_ = u128_to_string(prefix_ | offset);
    }
  done:
    valid_ = true;
    last_ = offset;
    return s_;
  }

 private:
  u128 prefix_;
  std::string s_;
  uint64_t last_ = 0;
  bool valid_ = false;
};

// Outstanding appends of one PutRecord(s) call.
struct PutState {
  std::atomic<int> pending{1};
  Encoding enc;
  bool single;
  std::function<void(Response)> done;
  struct Group {
    uint32_t ordinal;
    std::string shard_id;
    u128 prefix;
    uint64_t first_offset = 0;
    Status status;
    std::string throttled;  // non-empty: ProvisionedThroughputExceededException, this message
  };
  std::vector<Group> groups;
  std::vector<uint32_t> rec_group;  // per record
  std::vector<uint32_t> rec_index;  // per record: position inside its group
};

void finish_put(PutState& st) {
  Response r;
  r.encoding = st.enc;
  std::string& out = r.body;
  if (st.single) {
    const auto& g = st.groups[0];
    if (!g.status.ok()) {
      out.clear();
      const bool thr = !g.throttled.empty();
      const std::string type = thr ? "ProvisionedThroughputExceededException" : "InternalFailure";
      const std::string msg = thr ? g.throttled : "Internal service failure.";
      r.http_status = thr ? 400 : 500;
      if (st.enc == Encoding::kJson) {
        out = "{\"__type\":\"" + type + "\",\"message\":";
        json_append_string(out, msg);
        out += "}";
      } else {
        CborWriter w(out);
        w.map(2);
        w.text("__type");
        w.text(type);
        w.text("message");
        w.text(msg);
      }
    } else {
      std::string seq = u128_to_string(g.prefix | g.first_offset);
      if (st.enc == Encoding::kJson) {
        out = "{\"ShardId\":\"" + g.shard_id + "\",\"SequenceNumber\":\"" + seq + "\"}";
      } else {
        CborWriter w(out);
        w.map(2);
        w.text("ShardId");
        w.text(g.shard_id);
        w.text("SequenceNumber");
        w.text(seq);
      }
    }
    st.done(std::move(r));
    return;
  }
  size_t n = st.rec_group.size();
  size_t failed = 0;
  for (auto& g : st.groups)
    if (!g.status.ok())
      for (uint32_t gi : st.rec_group) failed += (&st.groups[gi] == &g);
  std::vector<SeqFormatter> fmt;
  fmt.reserve(st.groups.size());
  for (auto& g : st.groups) fmt.emplace_back(g.prefix);
  static constexpr std::string_view kErrCode = "InternalFailure";
  static constexpr std::string_view kErrMsg = "Internal service failure.";
  if (st.enc == Encoding::kJson) {
    out.reserve(64 + n * 96);
    out += "{\"FailedRecordCount\":";
    out += std::to_string(failed);
    out += ",\"Records\":[";
    for (size_t i = 0; i < n; i++) {
      auto& g = st.groups[st.rec_group[i]];
      if (i) out.push_back(',');
      if (g.status.ok()) {
        out.append(R"({"SequenceNumber":")", 19);
        out += fmt[st.rec_group[i]].at(g.first_offset + st.rec_index[i]);
        out.append(R"(","ShardId":")", 13);
        out += g.shard_id;
        out.append(R"("})", 2);
      } else if (!g.throttled.empty()) {
        out += "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":";
        json_append_string(out, g.throttled);
        out += "}";
      } else {
        out += "{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"Internal service failure.\"}";
      }
    }
    out += "]}";
  } else {
    CborWriter w(out);
    w.map(2);
    w.text("FailedRecordCount");
    w.uint(failed);
    w.text("Records");
    w.array(n);
    for (size_t i = 0; i < n; i++) {
      auto& g = st.groups[st.rec_group[i]];
      w.map(2);
      if (g.status.ok()) {
        w.text("SequenceNumber");
        w.text(fmt[st.rec_group[i]].at(g.first_offset + st.rec_index[i]));
        w.text("ShardId");
        w.text(g.shard_id);
      } else {
        bool thr = !g.throttled.empty();
        w.text("ErrorCode");
        w.text(thr ? std::string_view("ProvisionedThroughputExceededException") : kErrCode);
        w.text("ErrorMessage");
        w.text(thr ? std::string_view(g.throttled) : kErrMsg);
      }
    }
  }
  st.done(std::move(r));
}

void release(const std::shared_ptr<PutState>& st) {
  if (st->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish_put(*st);
}

}  // namespace

// ---------------------------------------------------------------- PutRecord(s) parsing

void Service::Impl::parse_put_records_json(std::string_view body, PutBatch* b) const {
  namespace od = simdjson::ondemand;
  thread_local od::parser parser;
  simdjson::padded_string padded(body.data(), body.size());
  b->arena.reserve(body.size());
  b->items.reserve(512);
  auto bad = [] { throw_serialization("The request body could not be parsed."); };
  od::document doc;
  if (parser.iterate(padded).get(doc)) bad();
  od::object obj;
  if (doc.get_object().get(obj)) throw_serialization("Start of structure or map expected.");
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) bad();
    od::value val;
    if (field.value().get(val)) bad();
    bool is_null = false;
    if (val.is_null().get(is_null)) bad();
    if (is_null) continue;
    if (key == "StreamName" || key == "StreamARN") {
      std::string_view s;
      if (val.get_string().get(s)) throw_serialization("Expected a String for " + std::string(key));
      (key == "StreamName" ? b->stream_name : b->stream_arn) = std::string(s);
    } else if (key == "Records") {
      od::array arr;
      if (val.get_array().get(arr)) throw_serialization("Expected a list for Records");
      b->has_records = true;
      for (auto elem : arr) {
        od::object rec;
        if (elem.get_object().get(rec)) throw_serialization("Expected a structure in Records");
        PutItem it;
        for (auto rf : rec) {
          std::string_view rk;
          if (rf.unescaped_key().get(rk)) bad();
          od::value rv;
          if (rf.value().get(rv)) bad();
          bool rnull = false;
          if (rv.is_null().get(rnull)) bad();
          if (rnull) continue;
          std::string_view s;
          if (rk == "Data") {
            if (rv.get_string().get(s)) throw_serialization("Expected a Blob for Data");
            size_t off = b->arena.size();
            if (!base64_decode_append(s, b->arena))
              throw_serialization("Base64 encoded value of 'Data' is invalid");
            it.has_data = true;
            it.data_off = static_cast<uint32_t>(off);
            it.data_len = static_cast<uint32_t>(b->arena.size() - off);
          } else if (rk == "PartitionKey") {
            if (rv.get_string().get(s)) throw_serialization("Expected a String for PartitionKey");
            it.has_key = true;
            it.key = s;  // lives in the parser's string buffer until the next parse
          } else if (rk == "ExplicitHashKey") {
            if (rv.get_string().get(s))
              throw_serialization("Expected a String for ExplicitHashKey");
            it.has_ehk = true;
            it.ehk = s;
          }
        }
        b->items.push_back(it);
      }
    }
  }
}

void Service::Impl::parse_put_records_doc(const json& in, PutBatch* b, bool single) const {
  if (auto s = get_string(in, "StreamName")) b->stream_name = *s;
  if (auto s = get_string(in, "StreamARN")) b->stream_arn = *s;
  auto add = [&](const json& rec) {
    PutItem it;
    auto key = get_string(rec, "PartitionKey");
    auto data = get_blob(rec, "Data", "Data");
    auto ehk = get_string(rec, "ExplicitHashKey");
    if (key) {
      b->key_store.push_back(std::move(*key));
      it.has_key = true;
    }
    if (data) {
      it.has_data = true;
      it.data_off = static_cast<uint32_t>(b->arena.size());
      it.data_len = static_cast<uint32_t>(data->size());
      b->arena += *data;
    }
    if (ehk) {
      b->key_store.push_back(std::move(*ehk));
      it.has_ehk = true;
    }
    b->items.push_back(it);
  };
  if (single) {
    b->has_records = true;
    add(in);
  } else if (const json* recs = in.contains("Records") && !in["Records"].is_null()
                                    ? &in["Records"] : nullptr) {
    if (!recs->is_array()) throw_serialization("Expected a list for Records");
    b->has_records = true;
    for (const json& r : *recs) {
      if (!r.is_object()) throw_serialization("Expected a structure in Records");
      add(r);
    }
  }
  // Point the views at the owned strings now that key_store no longer grows.
  size_t k = 0;
  for (auto& it : b->items) {
    if (it.has_key) it.key = b->key_store[k++];
    if (it.has_ehk) it.ehk = b->key_store[k++];
  }
}

// ---------------------------------------------------------------- PutRecord(s)

void Service::Impl::put_record(Call& c) {
  PutBatch b;
  parse_put_records_doc(c.in, &b, true);
  if (auto s = get_string(c.in, "SequenceNumberForOrdering")) {
    Validator v;
    check_seq_pattern(v, *s, "sequenceNumberForOrdering");
    v.done();
  }
  execute_put(c, b, true);
}

void Service::Impl::put_records(Call& c) {
  PutBatch b;
  if (c.req->encoding == Encoding::kJson) {
    parse_put_records_json(c.req->body, &b);
  } else {
    c.in = parse_body(c.req->encoding, c.req->body);
    parse_put_records_doc(c.in, &b, false);
  }
  execute_put(c, b, false);
}

void Service::Impl::execute_put(Call& c, PutBatch& b, bool single) {
  // Validation, in AWS's order: constraint violations first (all of them), then the
  // stream, then the semantic checks.
  Validator v;
  if (!b.stream_name.empty() || b.stream_arn.empty()) {
    if (b.stream_name.empty() && b.stream_arn.empty()) {
      // reported below as InvalidArgument (neither given)
    } else {
      check_stream_name(v, b.stream_name, "streamName");
    }
  }
  if (!b.stream_arn.empty()) check_stream_arn(v, b.stream_arn, "streamARN");
  const size_t n = b.items.size();
  if (!single) {
    if (!b.has_records) v.add_null("records");
    else if (n < 1)
      v.add("'[]'", "records", "Member must have length greater than or equal to 1");
    else if (n > 500)
      v.add("'[" + std::to_string(n) + " records]'", "records",
            "Member must have length less than or equal to 500");
  }
  size_t total = 0;
  if (n <= 500) {
    for (size_t i = 0; i < n; i++) {
      const PutItem& it = b.items[i];
      total += it.data_len + it.key.size();
      // Fast path: nothing to report (the field paths are only built for errors).
      bool key_ok = it.has_key && !it.key.empty() && (it.key.size() <= 256 || utf8_length(it.key) <= 256);
      bool ehk_ok = !it.has_ehk || (!it.ehk.empty() && it.ehk.size() <= 39 &&
                                    (it.ehk == "0" || (it.ehk[0] >= '1' && it.ehk[0] <= '9')) &&
                                    it.ehk.find_first_not_of("0123456789") == std::string_view::npos);
      if (key_ok && it.has_data && it.data_len <= kMaxRecordBytes && ehk_ok) continue;
      std::string prefix = single ? "" : "records." + std::to_string(i + 1) + ".member.";
      if (!it.has_key) v.add_null(prefix + "partitionKey");
      else check_partition_key(v, it.key, prefix + "partitionKey");
      if (!it.has_data) v.add_null(prefix + "data");
      else if (it.data_len > kMaxRecordBytes)
        v.add("'java.nio.HeapByteBuffer[pos=0 lim=" + std::to_string(it.data_len) + " cap=" +
                  std::to_string(it.data_len) + "]'",
              prefix + "data", "Member must have length less than or equal to 10485760");
      if (it.has_ehk) check_hash_key_pattern(v, it.ehk, prefix + "explicitHashKey");
    }
  }
  v.done();
  std::string name;
  {
    json sel = json::object();
    if (!b.stream_name.empty()) sel["StreamName"] = b.stream_name;
    if (!b.stream_arn.empty()) sel["StreamARN"] = b.stream_arn;
    name = stream_name_of(sel);
  }
  // Hash keys (MD5 unless explicit).
  std::vector<u128> hashes(n);
  size_t largest = 0;  // data + partition key of the largest record
  for (size_t i = 0; i < n; i++) {
    const PutItem& it = b.items[i];
    if (it.has_ehk) {
      if (!parse_u128(it.ehk, &hashes[i]))
        throw ApiError("InvalidArgumentException",
                       "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, "
                       "2^128-1]. Specified value was " + std::string(it.ehk));
    } else {
      hashes[i] = hash_key_of(it.key);
    }
    largest = std::max(largest, it.data_len + it.key.size());
  }
  if (total > kMaxPutRecordsBytes)
    throw ApiError("InvalidArgumentException",
                   "Records size exceeds 5 MB limit: " + std::to_string(total) + " bytes.");

  auto st = std::make_shared<PutState>();
  st->enc = c.req->encoding;
  st->single = single;
  st->done = std::move(c.done);
  c.done = nullptr;
  st->rec_group.resize(n);
  st->rec_index.resize(n);

  std::shared_lock lk(mu_);
  Stream* s = find_stream(name);
  if (s == nullptr ||
      (s->status != StreamStatus::kActive && s->status != StreamStatus::kUpdating)) {
    lk.unlock();
    c.done = std::move(st->done);
    not_found(name);
  }
  if (size_t limit = static_cast<size_t>(s->max_record_kib) * 1024; largest > limit) {
    lk.unlock();
    c.done = std::move(st->done);
    throw ApiError("InvalidArgumentException",
                   "Record size (data and partition key) of " + std::to_string(largest) +
                       " bytes exceeds the limit of " + std::to_string(limit) + " bytes.");
  }
  // Route: group records by shard, keeping their order within a shard.
  std::vector<int32_t> group_of_ordinal(s->shards.size(), -1);
  std::vector<std::vector<log::RecordIn>> recs;
  for (size_t i = 0; i < n; i++) {
    const Shard* sh = s->route(hashes[i]);
    if (sh == nullptr) {  // cannot happen: open shards tile the key space
      lk.unlock();
      c.done = std::move(st->done);
      throw ApiError("InternalFailure", "no open shard for a hash key");
    }
    int32_t& g = group_of_ordinal[sh->ordinal];
    if (g < 0) {
      g = static_cast<int32_t>(st->groups.size());
      PutState::Group grp;
      grp.ordinal = sh->ordinal;
      grp.shard_id = shard_id(sh->ordinal);
      grp.prefix = seq_prefix(*s, sh->ordinal);
      st->groups.push_back(std::move(grp));
      recs.emplace_back();
      recs.back().reserve(n);
    }
    st->rec_group[i] = static_cast<uint32_t>(g);
    st->rec_index[i] = static_cast<uint32_t>(recs[g].size());
    const PutItem& it = b.items[i];
    recs[g].push_back(log::RecordIn{it.key, std::string_view(b.arena).substr(it.data_off, it.data_len)});
  }
  int64_t now = clock_->now_ms();
  st->pending.store(static_cast<int>(st->groups.size()) + 1, std::memory_order_relaxed);
  for (size_t g = 0; g < st->groups.size(); g++) {
    auto& grp = st->groups[g];
    log::Partition* part = s->shards[grp.ordinal].part;
    if (opt_.enforce_limits) {
      size_t bytes = 0;
      for (const log::RecordIn& r : recs[g]) bytes += r.data.size() + r.key.size();
      if (!throttle_.admit_put(s->cid, grp.ordinal, bytes, recs[g].size(), now)) {
        grp.throttled = "Rate exceeded for shard " + grp.shard_id + " in stream " + s->name +
                        " under account " + opt_.account_id + ".";
        grp.status = Status(Errc::kLimitExceeded, grp.throttled);
        release(st);
        continue;
      }
    }
    auto r = log_->append(part, recs[g], now, [this, st, g](Status status) {
      if (!status.ok()) st->groups[g].status = std::move(status);
      notify_durable();  // wake SubscribeToShard before answering the producer
      release(st);
    });
    if (!r.ok()) {
      grp.status = r.status();
      release(st);
    } else {
      grp.first_offset = r->first_offset;
      uint64_t bytes = 0;
      for (const log::RecordIn& rec : recs[g]) bytes += rec.key.size() + rec.data.size();
      s->records_in.fetch_add(recs[g].size(), std::memory_order_relaxed);
      s->bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    }
  }
  lk.unlock();
  release(st);
}

// ---------------------------------------------------------------- iterators

namespace {

constexpr uint8_t kIterVersion = 1;
constexpr size_t kIterMac = 16;

void put_u64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; i--) s.push_back(static_cast<char>(v >> (i * 8)));
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

struct IterToken {
  std::string stream;
  uint64_t cid;
  uint32_t ordinal;
  uint64_t offset;
  int64_t issued_ms;
};

}  // namespace

void append_record(std::string& out, Encoding enc, std::string_view seq, const log::RecordRef& rec) {
  if (enc == Encoding::kJson) {
    out += "{\"SequenceNumber\":\"";
    out += seq;
    out += "\",\"ApproximateArrivalTimestamp\":";
    json_append_epoch_seconds(out, rec.arrival_ms);
    out += ",\"Data\":\"";
    base64_encode_append(rec.data, out);
    out += "\",\"PartitionKey\":";
    json_append_string(out, rec.key);
    out += "}";
  } else {
    CborWriter w(out);
    w.map(4);
    w.text("SequenceNumber");
    w.text(seq);
    w.text("ApproximateArrivalTimestamp");
    w.timestamp_ms(rec.arrival_ms);
    w.text("Data");
    w.bytes(rec.data);
    w.text("PartitionKey");
    w.text(rec.key);
  }
}

uint64_t Service::Impl::start_position(const Stream& s, uint32_t o, const std::string& type,
                                       const std::optional<std::string>& seq,
                                       std::optional<int64_t> ts, const char* op) const {
  const Shard& sh = s.shards[o];
  if (type == "TRIM_HORIZON") return sh.part->start_offset();
  if (type == "LATEST") return sh.open() ? sh.part->next_offset() : sh.end_offset;
  if (type == "AT_TIMESTAMP") {
    auto r = sh.part->offset_at_time(*ts);
    if (!r.ok()) throw ApiError("InternalFailure", r.status().to_string());
    return *r;
  }
  uint32_t so;
  uint64_t off;
  if (!decode_seq(s, *seq, &so, &off) || so >= s.shards.size())
    throw ApiError("InvalidArgumentException",
                   "StartingSequenceNumber " + *seq + " used in " + op + " on shard " +
                       shard_id(o) + " in stream " + s.name + " under account " +
                       opt_.account_id + " is invalid.");
  if (so != o)
    throw ApiError("InvalidArgumentException",
                   "Invalid StartingSequenceNumber. It encodes " + shard_id(so) +
                       ", while it was used in a call to a shard with " + shard_id(o));
  uint64_t pos = off;
  if (type == "AFTER_SEQUENCE_NUMBER" && pos != ~static_cast<uint64_t>(0)) pos++;
  if (!sh.open() && pos > sh.end_offset) pos = sh.end_offset;
  return pos;
}

std::string Service::Impl::make_iterator(const Stream& s, uint32_t ordinal,
                                         uint64_t offset) const {
  std::string raw;
  raw.push_back(static_cast<char>(kIterVersion));
  put_u64(raw, s.cid);
  put_u64(raw, ordinal);
  put_u64(raw, offset);
  put_u64(raw, static_cast<uint64_t>(clock_->now_ms()));
  raw.append(s.name);
  Sha256Digest mac = hmac_sha256(secret_, raw);
  raw.append(reinterpret_cast<const char*>(mac.data()), kIterMac);
  return base64_encode(raw);
}

static bool decode_iterator(const std::string& secret, std::string_view token, IterToken* t) {
  auto raw = base64_decode(token);
  if (!raw || raw->size() < 1 + 32 + 1 + kIterMac) return false;
  std::string_view body(raw->data(), raw->size() - kIterMac);
  std::string_view mac(raw->data() + body.size(), kIterMac);
  Sha256Digest want = hmac_sha256(secret, body);
  if (!constant_time_equal(mac, std::string_view(reinterpret_cast<const char*>(want.data()),
                                                 kIterMac)))
    return false;
  if (static_cast<uint8_t>(body[0]) != kIterVersion) return false;
  t->cid = get_u64(body.data() + 1);
  t->ordinal = static_cast<uint32_t>(get_u64(body.data() + 9));
  t->offset = get_u64(body.data() + 17);
  t->issued_ms = static_cast<int64_t>(get_u64(body.data() + 25));
  t->stream = std::string(body.substr(33));
  return true;
}

void Service::Impl::get_shard_iterator(Call& c) {
  const json& in = c.in;
  std::string name = stream_name_of(in);
  auto shard = get_string(in, "ShardId");
  auto type = get_string(in, "ShardIteratorType");
  auto seq = get_string(in, "StartingSequenceNumber");
  auto ts = get_timestamp(in, "Timestamp", c.req->encoding);
  Validator v;
  if (!shard) v.add_null("shardId");
  else check_shard_id(v, *shard, "shardId");
  static const char* kTypes[] = {"AFTER_SEQUENCE_NUMBER", "AT_SEQUENCE_NUMBER", "AT_TIMESTAMP",
                                 "TRIM_HORIZON", "LATEST"};
  if (!type) v.add_null("shardIteratorType");
  else if (std::find_if(std::begin(kTypes), std::end(kTypes),
                        [&](const char* t) { return *type == t; }) == std::end(kTypes))
    v.add(quote(*type), "shardIteratorType",
          "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, "
          "AT_TIMESTAMP, TRIM_HORIZON, LATEST]");
  if (seq) check_seq_pattern(v, *seq, "startingSequenceNumber");
  v.done();
  bool by_seq = *type == "AT_SEQUENCE_NUMBER" || *type == "AFTER_SEQUENCE_NUMBER";
  if (by_seq && !seq)
    throw ApiError("InvalidArgumentException",
                   "You must specify a starting sequence number if you set ShardIteratorType "
                   "to AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER.");
  if (!by_seq && seq)
    throw ApiError("InvalidArgumentException",
                   "You can only specify a starting sequence number if you set "
                   "ShardIteratorType to AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER.");
  int64_t now = clock_->now_ms();
  if (*type == "AT_TIMESTAMP") {
    if (!ts)
      throw ApiError("InvalidArgumentException",
                     "Must specify timestampInMillis parameter for iterator of type "
                     "AT_TIMESTAMP. Current request has no timestamp parameter.");
    if (*ts > now)
      throw ApiError("InvalidArgumentException",
                     "The timestampInMillis parameter cannot be greater than the "
                     "currentTimestampInMillis. timestampInMillis: " + std::to_string(*ts) +
                         ", currentTimestampInMillis: " + std::to_string(now));
  }
  std::shared_lock lk(mu_);
  const Stream* s = find_stream(name);
  if (s == nullptr ||
      (s->status != StreamStatus::kActive && s->status != StreamStatus::kUpdating))
    not_found(name);
  uint32_t o;
  if (!parse_shard_ordinal(*shard, &o) || o >= s->shards.size())
    throw ApiError("ResourceNotFoundException",
                   "Shard " + *shard + " in stream " + name + " under account " +
                       opt_.account_id + " does not exist");
  uint64_t pos = start_position(*s, o, *type, seq, ts, "GetShardIterator");
  std::string it = make_iterator(*s, o, pos);
  lk.unlock();
  reply(c, {{"ShardIterator", it}});
}

void Service::Impl::get_records(Call& c) {
  const json& in = c.in;
  auto token = get_string(in, "ShardIterator");
  auto limit = get_int(in, "Limit");
  auto sarn = get_string(in, "StreamARN");
  Validator v;
  if (!token) v.add_null("shardIterator");
  else check_length(v, *token, 1, 512, "shardIterator");
  if (limit) check_range(v, *limit, 1, 10000, "limit");
  if (sarn) check_stream_arn(v, *sarn, "streamARN");
  v.done();
  IterToken t;
  if (!decode_iterator(secret_, *token, &t))
    throw ApiError("InvalidArgumentException", "Invalid ShardIterator.");
  if (sarn) {
    ArnParts p;
    parse_stream_arn(*sarn, &p);
    if (p.name != t.stream || p.account != opt_.account_id || p.region != opt_.region)
      throw ApiError("InvalidArgumentException",
                     "Invalid ShardIterator: it does not belong to stream " + *sarn + ".");
  }
  int64_t now = clock_->now_ms();
  if (now - t.issued_ms > opt_.iterator_ttl_ms)
    throw ApiError("ExpiredIteratorException",
                   "Iterator expired. The iterator was created at time " +
                       format_iso8601_ms(t.issued_ms) + " while right now it is " +
                       format_iso8601_ms(now) +
                       " which is further in the future than the tolerated delay of " +
                       std::to_string(opt_.iterator_ttl_ms) + " milliseconds.");
  std::shared_lock lk(mu_);
  const Stream* s = find_stream(t.stream);
  if (s == nullptr || s->cid != t.cid || t.ordinal >= s->shards.size() ||
      (s->status != StreamStatus::kActive && s->status != StreamStatus::kUpdating))
    throw ApiError("ResourceNotFoundException",
                   "Shard " + shard_id(t.ordinal) + " in stream " + t.stream +
                       " under account " + opt_.account_id + " does not exist");
  const Shard& sh = s->shards[t.ordinal];
  if (opt_.enforce_limits && !throttle_.admit_get(s->cid, t.ordinal, now))
    throw ApiError("ProvisionedThroughputExceededException",
                   "Rate exceeded for Shard - " + shard_id(t.ordinal) + " in stream " + s->name +
                       " under account " + opt_.account_id + ".");
  const Encoding enc = c.req->encoding;
  size_t max = limit ? static_cast<size_t>(*limit) : 10000;
  std::string records;  // the encoded array elements
  size_t count = 0;
  int64_t last_arrival = -1;
  size_t out_bytes = 0;  // data + keys returned (throughput accounting)
  SeqFormatter fmt(seq_prefix(*s, t.ordinal));
  uint64_t from = t.offset;
  if (!sh.open() && from > sh.end_offset) from = sh.end_offset;
  uint64_t end_limit = sh.open() ? ~static_cast<uint64_t>(0) : sh.end_offset;
  uint64_t next = std::max(from, sh.part->start_offset());
  if (from < end_limit) {
    auto r = sh.part->scan(from, max, kMaxGetRecordsBytes, [&](const log::RecordRef& rec) {
      if (rec.offset >= end_limit) return false;
      if (enc == Encoding::kJson && count) records.push_back(',');
      append_record(records, enc, fmt.at(rec.offset), rec);
      count++;
      out_bytes += rec.data.size() + rec.key.size();
      last_arrival = rec.arrival_ms;
      next = rec.offset + 1;
      return true;
    });
    if (!r.ok()) throw ApiError("InternalFailure", r.status().to_string());
    if (count == 0) next = std::max(next, std::min(*r, end_limit));
  }
  if (opt_.enforce_limits) throttle_.took_out(s->cid, t.ordinal, out_bytes);
  bool drained = !sh.open() && next >= sh.end_offset && sh.part->durable_end() >= sh.end_offset;
  int64_t behind = 0;
  if (!drained && next < sh.part->durable_end() && last_arrival >= 0)
    behind = std::max<int64_t>(0, now - last_arrival);
  // Children of a drained shard.
  std::vector<const Shard*> children;
  if (drained)
    for (const Shard& ch : s->shards)
      if (ch.parent == static_cast<int64_t>(t.ordinal) ||
          ch.adjacent == static_cast<int64_t>(t.ordinal))
        children.push_back(&ch);
  std::string next_it = drained ? std::string() : make_iterator(*s, t.ordinal, next);
  auto parents_of = [&](const Shard& ch) {
    std::vector<std::string> p;
    if (ch.parent >= 0) p.push_back(shard_id(static_cast<uint32_t>(ch.parent)));
    if (ch.adjacent >= 0) p.push_back(shard_id(static_cast<uint32_t>(ch.adjacent)));
    return p;
  };
  Response resp;
  resp.encoding = enc;
  std::string& out = resp.body;
  if (enc == Encoding::kJson) {
    out.reserve(records.size() + 512);
    out += "{\"Records\":[";
    out += records;
    out += "]";
    if (!drained) {
      out += ",\"NextShardIterator\":\"";
      out += next_it;
      out += "\"";
    }
    out += ",\"MillisBehindLatest\":";
    out += std::to_string(behind);
    if (drained) {
      out += ",\"ChildShards\":[";
      for (size_t i = 0; i < children.size(); i++) {
        const Shard& ch = *children[i];
        if (i) out.push_back(',');
        out += "{\"ShardId\":\"" + shard_id(ch.ordinal) + "\",\"ParentShards\":[";
        auto ps = parents_of(ch);
        for (size_t j = 0; j < ps.size(); j++) out += (j ? ",\"" : "\"") + ps[j] + "\"";
        out += "],\"HashKeyRange\":{\"StartingHashKey\":\"" + u128_to_string(ch.start) +
               "\",\"EndingHashKey\":\"" + u128_to_string(ch.end) + "\"}}";
      }
      out += "]";
    }
    out += "}";
  } else {
    CborWriter w(out);
    w.map(3);
    w.text("Records");
    w.array(count);
    out += records;
    if (!drained) {
      w.text("NextShardIterator");
      w.text(next_it);
    } else {
      w.text("ChildShards");
      w.array(children.size());
      for (const Shard* ch : children) {
        w.map(3);
        w.text("ShardId");
        w.text(shard_id(ch->ordinal));
        w.text("ParentShards");
        auto ps = parents_of(*ch);
        w.array(ps.size());
        for (auto& p : ps) w.text(p);
        w.text("HashKeyRange");
        w.map(2);
        w.text("StartingHashKey");
        w.text(u128_to_string(ch->start));
        w.text("EndingHashKey");
        w.text(u128_to_string(ch->end));
      }
    }
    w.text("MillisBehindLatest");
    w.sint(behind);
  }
  lk.unlock();
  auto done = std::move(c.done);
  c.done = nullptr;
  done(std::move(resp));
}

}  // namespace sl::kinesis
