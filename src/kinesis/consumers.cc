// Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers, DeregisterStreamConsumer. Consumers live in their stream's metadata
// (persisted with it); tick() moves CREATING → ACTIVE and DELETING → gone.
#include <mutex>

#include "kinesis/service_impl.h"
#include "kinesis/wire.h"
#include "util/base64.h"

namespace sl::kinesis {

namespace {
constexpr size_t kConsumersPerStream = 20;  // AWS's per-stream limit
constexpr int kCreatingAtOnce = 5;           // AWS: at most 5 consumers CREATING per account

// arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<epoch seconds>
struct ConsumerArnParts {
  std::string region, account, stream, name;
  int64_t created_s = 0;
};
bool parse_consumer_arn(std::string_view arn, ConsumerArnParts* out) {
  auto slash = arn.find(":stream/");
  if (slash == std::string_view::npos) return false;
  ArnParts sp;
  std::string_view rest = arn.substr(slash + 8);
  auto cpos = rest.find("/consumer/");
  if (cpos == std::string_view::npos) return false;
  std::string stream_arn = std::string(arn.substr(0, slash + 8)) + std::string(rest.substr(0, cpos));
  if (!parse_stream_arn(stream_arn, &sp)) return false;
  std::string_view tail = rest.substr(cpos + 10);
  auto colon = tail.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == tail.size()) return false;
  int64_t ts = 0;
  for (char c : tail.substr(colon + 1)) {
    if (c < '0' || c > '9' || ts > (INT64_MAX - 9) / 10) return false;
    ts = ts * 10 + (c - '0');
  }
  out->region = sp.region;
  out->account = sp.account;
  out->stream = sp.name;
  out->name = std::string(tail.substr(0, colon));
  out->created_s = ts;
  return true;
}
}  // namespace

std::string Service::Impl::consumer_arn(const Stream& s, const Consumer& k) const {
  return arn(s.name) + "/consumer/" + k.name + ":" + std::to_string(k.created_ms / 1000);
}

json Service::Impl::consumer_json(const Stream& s, const Consumer& k, bool with_stream) const {
  json j = {{"ConsumerName", k.name},
            {"ConsumerARN", consumer_arn(s, k)},
            {"ConsumerStatus", status_name(k.status)},
            {"ConsumerCreationTimestamp", k.created_ms}};
  if (with_stream) j["StreamARN"] = arn(s.name);
  return j;
}

std::string Service::Impl::stream_of_arn(const std::string& sarn) const {
  ArnParts p;
  if (!parse_stream_arn(sarn, &p)) {
    Validator v;
    check_stream_arn(v, sarn, "streamARN");
    v.done();
  }
  if (p.account != opt_.account_id || p.region != opt_.region)
    throw ApiError("ResourceNotFoundException",
                   "Stream " + p.name + " under account " + p.account + " not found.");
  return p.name;
}

std::pair<Stream*, Consumer*> Service::Impl::need_consumer(const json& in) const {
  auto carn = get_string(in, "ConsumerARN");
  auto sarn = get_string(in, "StreamARN");
  auto cname = get_string(in, "ConsumerName");
  if (carn) {
    ConsumerArnParts p;
    if (!parse_consumer_arn(*carn, &p))
      throw ApiError("InvalidArgumentException", "Invalid ConsumerARN " + *carn + ".");
    if (sarn && stream_of_arn(*sarn) != p.stream)
      throw ApiError("InvalidArgumentException",
                     "ConsumerARN " + *carn + " does not belong to stream " + *sarn + ".");
    if (cname && *cname != p.name)
      throw ApiError("InvalidArgumentException",
                     "ConsumerARN " + *carn + " and ConsumerName " + *cname +
                         " refer to different consumers.");
    Stream* s = p.account == opt_.account_id && p.region == opt_.region ? find_stream(p.stream)
                                                                          : nullptr;
    Consumer* k = nullptr;
    if (s != nullptr && s->status != StreamStatus::kDeleting) {
      auto it = s->consumers.find(p.name);
      if (it != s->consumers.end() && it->second.created_ms / 1000 == p.created_s) k = &it->second;
    }
    if (k == nullptr)
      throw ApiError("ResourceNotFoundException",
                     "Consumer " + p.name + " with creation timestamp " +
                         std::to_string(p.created_s) + " under stream " + p.stream +
                         " and account " + p.account + " not found.");
    return {s, k};
  }
  if (!sarn || !cname)
    throw ApiError("InvalidArgumentException",
                   "Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
  std::string name = stream_of_arn(*sarn);
  Stream& s = need_stream(name);
  auto it = s.consumers.find(*cname);
  if (it == s.consumers.end() || s.status == StreamStatus::kDeleting)
    throw ApiError("ResourceNotFoundException",
                   "Consumer " + *cname + " under stream " + name + " and account " +
                       opt_.account_id + " not found.");
  return {&s, &it->second};
}

void Service::Impl::register_consumer(Call& c) {
  std::string sarn = *get_string(c.in, "StreamARN");  // required: validated
  std::string cname = *get_string(c.in, "ConsumerName");
  auto tags = get_string_map(c.in, "Tags");
  std::string name = stream_of_arn(sarn);
  std::unique_lock lk(mu_);
  Stream& s = need_stream(name);
  if (s.status == StreamStatus::kDeleting) not_found(name);
  if (s.status == StreamStatus::kCreating) need_active(s);
  if (auto it = s.consumers.find(cname); it != s.consumers.end())
    throw ApiError("ResourceInUseException",
                   "Consumer " + consumer_arn(s, it->second) + " under account " +
                       opt_.account_id + " already exists.");
  if (s.consumers.size() >= kConsumersPerStream)
    throw ApiError("LimitExceededException",
                   "Consumer limit of " + std::to_string(kConsumersPerStream) +
                       " has been reached for stream " + arn(name) + ".");
  int creating = 0;
  for (auto& [_, st] : streams_)
    for (auto& [__, k] : st->consumers) creating += k.status == StreamStatus::kCreating;
  if (creating >= kCreatingAtOnce)
    throw ApiError("LimitExceededException",
                   "Account " + opt_.account_id + " already has " +
                       std::to_string(kCreatingAtOnce) +
                       " consumers in CREATING status. Wait until they are ACTIVE.");
  if (tags && tags->size() > 50)
    throw ApiError("InvalidArgumentException",
                   "Failed to register consumer " + cname +
                       " because a given consumer cannot have more than 50 tags associated "
                       "with it.");
  int64_t now = clock_->now_ms();
  Consumer k;
  k.name = cname;
  k.created_ms = now;
  k.status = StreamStatus::kCreating;
  k.status_since_ms = now;
  if (tags) k.tags = std::map<std::string, std::string>(tags->begin(), tags->end());
  Consumer& ref = s.consumers.emplace(cname, std::move(k)).first->second;
  persist();
  json out = {{"Consumer", consumer_json(s, ref, false)}};
  lk.unlock();
  reply(c, out);
}

void Service::Impl::describe_consumer(Call& c) {
  std::shared_lock lk(mu_);
  auto [s, k] = need_consumer(c.in);
  json out = {{"ConsumerDescription", consumer_json(*s, *k, true)}};
  lk.unlock();
  reply(c, out);
}

void Service::Impl::list_consumers(Call& c) {
  std::string sarn = *get_string(c.in, "StreamARN");
  auto token = get_string(c.in, "NextToken");
  auto max = get_int(c.in, "MaxResults");
  auto created = get_timestamp(c.in, "StreamCreationTimestamp", c.req->encoding);
  std::string name = stream_of_arn(sarn);
  std::string after;
  int64_t now = clock_->now_ms();
  uint64_t token_cid = 0;
  if (token) {
    // lc1|issued ms|creation id|last consumer name
    auto dec = base64_decode(*token);
    size_t a = dec ? dec->find('|', 4) : std::string::npos;
    size_t b = a == std::string::npos ? a : dec->find('|', a + 1);
    if (!dec || dec->rfind("lc1|", 0) != 0 || b == std::string::npos)
      throw ApiError("InvalidArgumentException", "Invalid NextToken.");
    try {
      int64_t issued = std::stoll(dec->substr(4, a - 4));
      token_cid = std::stoull(dec->substr(a + 1, b - a - 1));
      after = dec->substr(b + 1);
      if (now - issued > 300000)
        throw ApiError("ExpiredNextTokenException", "The NextToken has expired.");
    } catch (const std::logic_error&) {
      throw ApiError("InvalidArgumentException", "Invalid NextToken.");
    }
  }
  std::shared_lock lk(mu_);
  const Stream& s = need_stream(name);
  if (token && s.cid != token_cid) not_found(name);
  if (created && *created != s.created_ms) not_found(name);
  int64_t limit = std::min<int64_t>(max ? *max : 100, 100);  // AWS: at most 100 per call
  json list = json::array();
  std::string last;
  bool more = false;
  for (auto it = token ? s.consumers.upper_bound(after) : s.consumers.begin();
       it != s.consumers.end(); ++it) {
    if (static_cast<int64_t>(list.size()) >= limit) {
      more = true;
      break;
    }
    list.push_back(consumer_json(s, it->second, false));
    last = it->first;
  }
  json out = {{"Consumers", std::move(list)}};
  if (more)
    out["NextToken"] =
        base64_encode("lc1|" + std::to_string(now) + "|" + std::to_string(s.cid) + "|" + last);
  lk.unlock();
  reply(c, out);
}

void Service::Impl::deregister_consumer(Call& c) {
  std::unique_lock lk(mu_);
  auto [s, k] = need_consumer(c.in);
  if (k->status != StreamStatus::kActive)
    throw ApiError("ResourceInUseException",
                   "Consumer " + k->name + " with creation timestamp " +
                       std::to_string(k->created_ms / 1000) + " under stream " + s->name +
                       " and account " + opt_.account_id + " is not in ACTIVE status.");
  k->status = StreamStatus::kDeleting;
  k->status_since_ms = clock_->now_ms();
  persist();
  lk.unlock();
  reply(c, json::object());
}

}  // namespace sl::kinesis
