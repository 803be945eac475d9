// Stream settings (encryption, enhanced monitoring, capacity mode, maximum record size,
// warm throughput), account settings and limits, tags and resource policies by ARN.
//
// These are recorded, persisted with the stream (or the account) and reported exactly as
// AWS reports them. What they change in streamlake: MaxRecordSizeInKiB is enforced by
// PutRecord(s); the others change no behaviour (data on disk is NOT encrypted by
// StartStreamEncryption, no CloudWatch metrics exist, ON_DEMAND does not autoscale, and
// policies are not evaluated: access is by streamlake's roles). docs/kinesis-api.md says so.
#include <algorithm>
#include <mutex>

#include "kinesis/service_impl.h"
#include "kinesis/wire.h"

namespace sl::kinesis {

namespace {

const std::vector<std::string>& all_metrics() {
  static const std::vector<std::string> kAll = {
      "IncomingBytes",    "IncomingRecords",
      "OutgoingBytes",    "OutgoingRecords",
      "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
      "IteratorAgeMilliseconds"};
  return kAll;
}

constexpr int kOnDemandStreamLimit = 50;  // AWS's default per account
constexpr size_t kTagsPerResource = 50;

bool is_consumer_arn(const std::string& arn) { return arn.find("/consumer/") != std::string::npos; }

}  // namespace

json Service::Impl::settings_json(const Stream& s) const {
  json d = json::object();
  d["EnhancedMonitoring"] = json::array({{{"ShardLevelMetrics", s.shard_metrics}}});
  d["EncryptionType"] = s.encryption_key.empty() ? "NONE" : "KMS";
  if (!s.encryption_key.empty()) d["KeyId"] = s.encryption_key;
  return d;
}

std::pair<Stream*, Consumer*> Service::Impl::need_resource(const std::string& rarn) const {
  if (is_consumer_arn(rarn)) return need_consumer(json{{"ConsumerARN", rarn}});
  ArnParts p;
  if (!parse_stream_arn(rarn, &p))
    throw ApiError("InvalidArgumentException", "Invalid ResourceARN " + rarn + ".");
  if (p.account != opt_.account_id || p.region != opt_.region)
    throw ApiError("ResourceNotFoundException",
                   "Stream " + p.name + " under account " + p.account + " not found.");
  Stream& s = need_stream(p.name);
  if (s.status == StreamStatus::kDeleting) not_found(p.name);
  return {&s, nullptr};
}

// ---------------------------------------------------------------- encryption

static void encryption_common(Service::Impl& impl, Call& c, bool start) {
  std::string name = impl.stream_name_of(c.in);
  std::string type = *get_string(c.in, "EncryptionType");  // required: validated
  std::string key = *get_string(c.in, "KeyId");
  if (type != "KMS")
    throw ApiError("InvalidArgumentException",
                   std::string("EncryptionType must be KMS for ") +
                       (start ? "StartStreamEncryption." : "StopStreamEncryption."));
  std::unique_lock lk(impl.mu_);
  Stream& s = impl.need_stream(name);
  impl.need_active(s);
  if (!start && s.encryption_key.empty())
    throw ApiError("InvalidArgumentException",
                   "Stream " + name + " under account " + impl.opt_.account_id +
                       " is not encrypted.");
  if (!start && s.encryption_key != key)
    throw ApiError("InvalidArgumentException",
                   "KeyId " + key + " does not match the key the stream " + name +
                       " is encrypted with.");
  s.encryption_key = start ? key : std::string();
  s.status = StreamStatus::kUpdating;  // as AWS: UPDATING while it applies the change
  s.status_since_ms = impl.clock_->now_ms();
  impl.persist();
  lk.unlock();
  impl.reply(c, json::object());
}

void Service::Impl::start_encryption(Call& c) { encryption_common(*this, c, true); }
void Service::Impl::stop_encryption(Call& c) { encryption_common(*this, c, false); }

// ---------------------------------------------------------------- enhanced monitoring

static void monitoring_common(Service::Impl& impl, Call& c, bool enable) {
  std::string name = impl.stream_name_of(c.in);
  std::vector<std::string> wanted = *get_string_list(c.in, "ShardLevelMetrics");
  const auto& all = all_metrics();
  for (const std::string& m : wanted)
    if (m != "ALL" && std::find(all.begin(), all.end(), m) == all.end())
      throw ApiError("InvalidArgumentException", "Unknown shard level metric " + m + ".");
  std::unique_lock lk(impl.mu_);
  Stream& s = impl.need_stream(name);
  impl.need_active(s);
  std::vector<std::string> current = s.shard_metrics, desired;
  bool any_all = std::find(wanted.begin(), wanted.end(), "ALL") != wanted.end();
  for (const std::string& m : all) {  // kept in AWS's order of the metric names
    bool named = any_all || std::find(wanted.begin(), wanted.end(), m) != wanted.end();
    bool had = std::find(current.begin(), current.end(), m) != current.end();
    if (enable ? (had || named) : (had && !named)) desired.push_back(m);
  }
  s.shard_metrics = desired;
  impl.persist();
  json out = {{"StreamName", s.name},
              {"StreamARN", impl.arn(s.name)},
              {"CurrentShardLevelMetrics", current},
              {"DesiredShardLevelMetrics", desired}};
  lk.unlock();
  impl.reply(c, out);
}

void Service::Impl::enable_monitoring(Call& c) { monitoring_common(*this, c, true); }
void Service::Impl::disable_monitoring(Call& c) { monitoring_common(*this, c, false); }

// ---------------------------------------------------------------- mode, record size, warm throughput

void Service::Impl::update_stream_mode(Call& c) {
  std::string sarn = *get_string(c.in, "StreamARN");
  std::string mode = *get_string(*get_object(c.in, "StreamModeDetails"), "StreamMode");
  auto warm = get_int(c.in, "WarmThroughputMiBps");
  std::string name = stream_of_arn(sarn);
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  need_active(s);
  bool on_demand = mode == "ON_DEMAND";
  if (on_demand && !s.on_demand) {
    int n = 0;
    for (auto& [_, st] : streams_) n += st->on_demand;
    if (n >= kOnDemandStreamLimit)
      throw ApiError("LimitExceededException",
                     "This request would exceed the on-demand stream limit of " +
                         std::to_string(kOnDemandStreamLimit) + " for the account " +
                         opt_.account_id + ".");
  }
  if (warm && !on_demand)
    throw ApiError("InvalidArgumentException",
                   "WarmThroughputMiBps can only be set for streams in ON_DEMAND mode.");
  s.on_demand = on_demand;
  if (warm) s.warm_mibps = static_cast<int>(*warm);
  if (!on_demand) s.warm_mibps = 0;
  s.status = StreamStatus::kUpdating;
  s.status_since_ms = clock_->now_ms();
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::update_max_record_size(Call& c) {
  std::string sarn = *get_string(c.in, "StreamARN");
  int64_t kib = *get_int(c.in, "MaxRecordSizeInKiB");  // 1024..10240: validated
  std::string name = stream_of_arn(sarn);
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  need_active(s);
  s.max_record_kib = static_cast<int>(kib);
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::update_warm_throughput(Call& c) {
  std::string name = stream_name_of(c.in);
  int64_t mibps = *get_int(c.in, "WarmThroughputMiBps");
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  need_active(s);
  if (!s.on_demand)
    throw ApiError("InvalidArgumentException",
                   "Warm throughput can only be set for streams in ON_DEMAND mode.");
  s.warm_mibps = static_cast<int>(mibps);
  persist();
  json out = {{"StreamARN", arn(s.name)},
              {"StreamName", s.name},
              {"WarmThroughput", {{"TargetMiBps", s.warm_mibps}, {"CurrentMiBps", s.warm_mibps}}}};
  lk.unlock();
  reply(c, out);
}

// ---------------------------------------------------------------- account

void Service::Impl::describe_limits(Call& c) {
  std::shared_lock lk(mu_);
  int on_demand = 0;
  for (auto& [_, s] : streams_) on_demand += s->on_demand && s->status != StreamStatus::kDeleting;
  json out = {{"ShardLimit", opt_.shard_limit},
              {"OpenShardCount", total_open_shards()},
              {"OnDemandStreamCount", on_demand},
              {"OnDemandStreamCountLimit", kOnDemandStreamLimit}};
  lk.unlock();
  reply(c, out);
}

static json billing_json(const std::string& status, int64_t started, int64_t ended) {
  json b = {{"Status", status}};
  if (started >= 0) b["StartedAt"] = started;
  if (ended >= 0) b["EndedAt"] = ended;
  return b;
}

void Service::Impl::describe_account_settings(Call& c) {
  std::shared_lock lk(mu_);
  json out = {{"MinimumThroughputBillingCommitment",
               billing_json(billing_status_, billing_started_ms_, billing_ended_ms_)}};
  lk.unlock();
  reply(c, out);
}

void Service::Impl::update_account_settings(Call& c) {
  std::string status = *get_string(*get_object(c.in, "MinimumThroughputBillingCommitment"), "Status");
  std::unique_lock lk(mu_);
  int64_t now = clock_->now_ms();
  if (status == "ENABLED" && billing_status_ != "ENABLED") {
    billing_started_ms_ = now;
    billing_ended_ms_ = -1;
  } else if (status == "DISABLED" && billing_status_ == "ENABLED") {
    billing_ended_ms_ = now;
  }
  billing_status_ = status;
  persist();
  json out = {{"MinimumThroughputBillingCommitment",
               billing_json(billing_status_, billing_started_ms_, billing_ended_ms_)}};
  lk.unlock();
  reply(c, out);
}

// ---------------------------------------------------------------- tags by ARN

void Service::Impl::tag_resource(Call& c) {
  std::string rarn = *get_string(c.in, "ResourceARN");
  auto tags = *get_string_map(c.in, "Tags");
  std::unique_lock lk(mu_);
  auto [s, k] = need_resource(rarn);
  auto& target = k ? k->tags : s->tags;
  std::map<std::string, std::string> merged = target;
  for (auto& [key, val] : tags) merged[key] = val;
  if (merged.size() > kTagsPerResource)
    throw ApiError("LimitExceededException",
                   "Failed to add tags to resource " + rarn + " under account " +
                       opt_.account_id + " because a given resource cannot have more than " +
                       std::to_string(kTagsPerResource) + " tags associated with it.");
  target = std::move(merged);
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::untag_resource(Call& c) {
  std::string rarn = *get_string(c.in, "ResourceARN");
  auto keys = *get_string_list(c.in, "TagKeys");
  std::unique_lock lk(mu_);
  auto [s, k] = need_resource(rarn);
  auto& target = k ? k->tags : s->tags;
  for (auto& key : keys) target.erase(key);
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::list_tags_for_resource(Call& c) {
  std::string rarn = *get_string(c.in, "ResourceARN");
  std::shared_lock lk(mu_);
  auto [s, k] = need_resource(rarn);
  json tags = json::array();
  for (auto& [key, val] : k ? k->tags : s->tags) tags.push_back({{"Key", key}, {"Value", val}});
  lk.unlock();
  reply(c, {{"Tags", std::move(tags)}});
}

// ---------------------------------------------------------------- resource policies

void Service::Impl::put_resource_policy(Call& c) {
  std::string rarn = *get_string(c.in, "ResourceARN");
  std::string policy = *get_string(c.in, "Policy");
  json doc = json::parse(policy, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    throw ApiError("InvalidArgumentException", "Policy is not a valid JSON document.");
  if (!doc.contains("Statement"))
    throw ApiError("InvalidArgumentException", "Policy document is missing required field Statement.");
  std::unique_lock lk(mu_);
  auto [s, k] = need_resource(rarn);
  (k ? k->policy : s->policy) = policy;
  persist();
  lk.unlock();
  reply(c, json::object());
}

void Service::Impl::get_resource_policy(Call& c) {
  std::string rarn = *get_string(c.in, "ResourceARN");
  std::shared_lock lk(mu_);
  auto [s, k] = need_resource(rarn);
  std::string policy = k ? k->policy : s->policy;
  lk.unlock();
  reply(c, {{"Policy", policy.empty() ? std::string("{}") : policy}});
}

void Service::Impl::delete_resource_policy(Call& c) {
  std::string rarn = *get_string(c.in, "ResourceARN");
  std::unique_lock lk(mu_);
  auto [s, k] = need_resource(rarn);
  std::string& policy = k ? k->policy : s->policy;
  if (policy.empty())
    throw ApiError("ResourceNotFoundException", "No resource policy found for resource ARN " + rarn + ".");
  policy.clear();
  persist();
  lk.unlock();
  reply(c, json::object());
}

}  // namespace sl::kinesis
