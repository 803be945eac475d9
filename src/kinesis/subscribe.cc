// SubscribeToShard (enhanced fan-out): an event stream of SubscribeToShardEvents pushed
// as records become durable.
//
// Wire format (application/vnd.amazon.eventstream): each message is
//   total length (u32 BE) | headers length (u32 BE) | CRC32 of the previous 8 bytes |
//   headers (name length u8, name, type 7 = string, value length u16 BE, value)... |
//   payload | CRC32 of everything before it
// with zlib's CRC32. The first message is the `initial-response` event, then
// `SubscribeToShardEvent`s whose payload is the event in the request's encoding (JSON or
// CBOR); errors after the start are `exception` messages.
//
// Threads: one fan-out thread per Service, started with the first subscription. It wakes
// when a PutRecord(s) append becomes durable (notify_durable(), from the log's commit
// thread: no polling delay) and at least every 200 ms (expiry, heartbeats, resharding),
// and for each subscription reads what is durable beyond its position under the shared
// metadata lock, writes events to the sink (never blocking: a subscriber with more than
// kMaxQueued bytes unsent is skipped until it drains) and ends it at the shard's end
// (ChildShards), after 5 minutes, when the consumer or stream goes, or when a newer
// subscription of the same consumer and shard takes over.
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "kinesis/service_impl.h"
#include "kinesis/wire.h"
#include "util/base64.h"

namespace sl::kinesis {

namespace {

constexpr int64_t kSubscriptionMs = 5 * 60 * 1000;  // AWS: a subscription lasts 5 minutes
constexpr int64_t kResubscribeMs = 5000;            // AWS: ResourceInUse within 5 s
constexpr int64_t kHeartbeatMs = 5000;              // an (empty) event at least this often
constexpr size_t kEventMaxRecords = 10000;
constexpr size_t kEventMaxBytes = 1 << 20;
constexpr size_t kMaxQueued = 8u << 20;

void put_u32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; i--) s.push_back(static_cast<char>(v >> (i * 8)));
}

uint32_t crc(const std::string& s, size_t n) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(n)));
}

}  // namespace

// One event-stream message with string headers.
std::string event_message(const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view payload) {
  std::string h;
  for (auto& [name, value] : headers) {
    h.push_back(static_cast<char>(name.size()));
    h += name;
    h.push_back(7);  // string
    h.push_back(static_cast<char>(value.size() >> 8));
    h.push_back(static_cast<char>(value.size() & 0xff));
    h += value;
  }
  std::string m;
  uint32_t total = static_cast<uint32_t>(12 + h.size() + payload.size() + 4);
  m.reserve(total);
  put_u32(m, total);
  put_u32(m, static_cast<uint32_t>(h.size()));
  put_u32(m, crc(m, 8));
  m += h;
  m += payload;
  put_u32(m, crc(m, m.size()));
  return m;
}

struct Subscription {
  std::shared_ptr<EventSink> sink;
  Encoding enc = Encoding::kJson;
  std::string stream, consumer;
  uint64_t cid = 0;
  int64_t consumer_created_ms = 0;
  uint32_t ordinal = 0;
  uint64_t next = 0;           // next offset to deliver
  int64_t deadline_ms = 0;
  int64_t last_event_ms = 0;
  bool delivered_any = false;  // ContinuationSequenceNumber is defined once next > 0
  std::atomic<bool> superseded{false};
  bool done = false;
};

class FanOut {
 public:
  explicit FanOut(Service::Impl* impl) : impl_(impl) {}
  ~FanOut() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& s : subs_) s->sink->finish();
  }

  using Key = std::tuple<std::string, std::string, int64_t, uint32_t>;

  // Claims the consumer and shard for `sub` unless another subscription of them started
  // less than 5 s ago (returns false); an older one is superseded.
  bool claim(const std::shared_ptr<Subscription>& sub, int64_t now) {
    std::lock_guard lk(mu_);
    Key key{sub->stream, sub->consumer, sub->consumer_created_ms, sub->ordinal};
    auto it = index_.find(key);
    if (it != index_.end()) {
      auto prev = it->second.second.lock();
      if (prev && !prev->done && now - it->second.first < kResubscribeMs) return false;
      if (prev) prev->superseded = true;
    }
    index_[key] = {now, sub};
    claimed_.push_back(sub);  // keeps it alive (and its claim) until activate()
    return true;
  }

  // Starts delivering to `sub` (after its head and initial-response were written: writes
  // from this thread happen after those in the sink's order).
  void activate(const std::shared_ptr<Subscription>& sub) {
    std::lock_guard lk(mu_);
    claimed_.erase(std::remove(claimed_.begin(), claimed_.end(), sub), claimed_.end());
    subs_.push_back(sub);
    active_.store(true, std::memory_order_release);
    wake_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    cv_.notify_one();
  }

  void notify() {
    if (!active_.load(std::memory_order_acquire)) return;
    {
      std::lock_guard lk(mu_);
      wake_ = true;
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock lk(mu_);
    while (!stop_) {
      cv_.wait_for(lk, std::chrono::milliseconds(200), [&] { return wake_ || stop_; });
      if (stop_) break;
      wake_ = false;
      std::vector<std::shared_ptr<Subscription>> subs = subs_;
      lk.unlock();
      wake_again_ = false;
      for (auto& s : subs) pump(*s);
      lk.lock();
      if (wake_again_) wake_ = true;
      subs_.erase(std::remove_if(subs_.begin(), subs_.end(), [](auto& s) { return s->done; }),
                  subs_.end());
      for (auto it = index_.begin(); it != index_.end();) {
        if (it->second.second.expired()) it = index_.erase(it);
        else ++it;
      }
      active_.store(!subs_.empty(), std::memory_order_release);
    }
  }

  void end_with(Subscription& s, const std::string& type, const std::string& msg) {
    std::string payload;
    json doc = {{"message", msg}};
    write_doc(doc, s.enc, payload);
    s.sink->write(event_message({{":exception-type", type},
                                 {":message-type", "exception"},
                                 {":content-type", s.enc == Encoding::kCbor ? "application/x-amz-cbor-1.1"
                                                                            : "application/json"}},
                                payload));
    s.sink->finish();
    s.done = true;
  }

  void pump(Subscription& s) {
    if (s.done) return;
    if (s.sink->closed()) {
      s.done = true;
      return;
    }
    int64_t now = impl_->clock_->now_ms();
    if (s.superseded) {
      end_with(s, "ResourceInUseException",
               "Another subscription of consumer " + s.consumer + " to " + shard_id(s.ordinal) +
                   " took over this one.");
      return;
    }
    if (now >= s.deadline_ms) {  // the 5 minutes are over: the stream ends normally
      s.sink->finish();
      s.done = true;
      return;
    }
    std::shared_lock lk(impl_->mu_);
    const Stream* st = impl_->find_stream(s.stream);
    if (st == nullptr || st->cid != s.cid || st->status == StreamStatus::kDeleting) {
      lk.unlock();
      end_with(s, "ResourceNotFoundException",
               "Stream " + s.stream + " under account " + impl_->opt_.account_id + " not found.");
      return;
    }
    auto kit = st->consumers.find(s.consumer);
    if (kit == st->consumers.end() || kit->second.created_ms != s.consumer_created_ms ||
        kit->second.status == StreamStatus::kDeleting) {
      lk.unlock();
      end_with(s, "ResourceNotFoundException",
               "Consumer " + s.consumer + " under stream " + s.stream + " and account " +
                   impl_->opt_.account_id + " not found.");
      return;
    }
    const Shard& sh = st->shards[s.ordinal];
    const uint64_t end_limit = sh.open() ? ~static_cast<uint64_t>(0) : sh.end_offset;
    if (s.next < sh.part->start_offset()) s.next = sh.part->start_offset();
    // Events while there is durable data and room in the sink.
    for (int round = 0; round < 64; round++) {
      if (s.sink->queued_bytes() > kMaxQueued) return;  // back-pressure: next wake
      uint64_t durable = std::min(sh.part->durable_end(), end_limit);
      bool drained = !sh.open() && s.next >= sh.end_offset && sh.part->durable_end() >= sh.end_offset;
      bool have = s.next < durable;
      bool heartbeat = !have && !drained && (s.delivered_any || s.next > 0) &&
                       now - s.last_event_ms >= kHeartbeatMs;
      if (!have && !drained && !heartbeat) return;
      std::string records;  // encoded array elements
      size_t count = 0;
      int64_t last_arrival = -1;
      if (have) {
        auto r = sh.part->scan(s.next, kEventMaxRecords, kEventMaxBytes, [&](const log::RecordRef& rec) {
          if (rec.offset >= end_limit) return false;
          if (s.enc == Encoding::kJson && count) records.push_back(',');
          append_record(records, s.enc, impl_->seq_string(*st, s.ordinal, rec.offset), rec);
          count++;
          last_arrival = rec.arrival_ms;
          s.next = rec.offset + 1;
          return true;
        });
        if (!r.ok()) {
          lk.unlock();
          end_with(s, "InternalFailure", r.status().to_string());
          return;
        }
        if (count == 0) return;
        drained = !sh.open() && s.next >= sh.end_offset && sh.part->durable_end() >= sh.end_offset;
      }
      int64_t behind = 0;
      if (s.next < sh.part->durable_end() && last_arrival >= 0) behind = std::max<int64_t>(0, now - last_arrival);
      // {Records, ContinuationSequenceNumber | ChildShards, MillisBehindLatest}
      std::string payload;
      std::string cont = !drained && s.next > 0 ? impl_->seq_string(*st, s.ordinal, s.next - 1) : "";
      if (s.enc == Encoding::kJson) {
        payload.reserve(records.size() + 256);
        payload += "{\"Records\":[";
        payload += records;
        payload += "]";
        if (drained) {
          payload += ",\"ChildShards\":";
          payload += impl_->child_shards_json(*st, s.ordinal).dump();
        } else if (!cont.empty()) {
          payload += ",\"ContinuationSequenceNumber\":\"" + cont + "\"";
        }
        payload += ",\"MillisBehindLatest\":" + std::to_string(behind) + "}";
      } else {
        CborWriter w(payload);
        w.map(drained || !cont.empty() ? 3 : 2);
        w.text("Records");
        w.array(count);
        payload += records;
        if (drained) {
          w.text("ChildShards");
          write_doc(impl_->child_shards_json(*st, s.ordinal), Encoding::kCbor, payload);
        } else if (!cont.empty()) {
          w.text("ContinuationSequenceNumber");
          w.text(cont);
        }
        w.text("MillisBehindLatest");
        w.sint(behind);
      }
      s.delivered_any = true;
      s.last_event_ms = now;
      bool ok = s.sink->write(event_message(
          {{":event-type", "SubscribeToShardEvent"},
           {":message-type", "event"},
           {":content-type", s.enc == Encoding::kCbor ? "application/x-amz-cbor-1.1" : "application/json"}},
          payload));
      if (!ok) {
        s.done = true;
        return;
      }
      if (drained) {  // the shard's end: the subscription is over
        s.sink->finish();
        s.done = true;
        return;
      }
      if (!have) return;
    }
    wake_again_ = true;  // more to send: don't wait for the next append
  }

  Service::Impl* impl_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, wake_ = false;
  bool wake_again_ = false;  // fan-out thread only
  std::atomic<bool> active_{false};
  std::vector<std::shared_ptr<Subscription>> subs_, claimed_;
  std::map<Key, std::pair<int64_t, std::weak_ptr<Subscription>>> index_;
  std::thread thread_;
};

std::shared_ptr<FanOut> make_fanout(Service::Impl* impl) { return std::make_shared<FanOut>(impl); }

void Service::Impl::notify_durable() {
  if (fanout_) fanout_->notify();
}

json Service::Impl::child_shards_json(const Stream& s, uint32_t ordinal) const {
  json out = json::array();
  for (const Shard& ch : s.shards) {
    if (ch.parent != static_cast<int64_t>(ordinal) && ch.adjacent != static_cast<int64_t>(ordinal))
      continue;
    json parents = json::array();
    if (ch.parent >= 0) parents.push_back(shard_id(static_cast<uint32_t>(ch.parent)));
    if (ch.adjacent >= 0) parents.push_back(shard_id(static_cast<uint32_t>(ch.adjacent)));
    out.push_back({{"ShardId", shard_id(ch.ordinal)},
                   {"ParentShards", std::move(parents)},
                   {"HashKeyRange",
                    {{"StartingHashKey", u128_to_string(ch.start)},
                     {"EndingHashKey", u128_to_string(ch.end)}}}});
  }
  return out;
}

void Service::Impl::subscribe_to_shard(Call& c) {
  const json& in = c.in;
  std::string carn = *get_string(in, "ConsumerARN");  // required: validated
  std::string shard = *get_string(in, "ShardId");
  const json* pos = get_object(in, "StartingPosition");
  std::string type = *get_string(*pos, "Type");
  auto seq = get_string(*pos, "SequenceNumber");
  auto ts = get_timestamp(*pos, "Timestamp", c.req->encoding);
  if (!c.req->stream)
    throw ApiError("InvalidArgumentException",
                   "SubscribeToShard needs an event-stream capable connection.");
  bool by_seq = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (by_seq && !seq)
    throw ApiError("InvalidArgumentException",
                   "You must specify a starting sequence number if you set StartingPosition "
                   "type to AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER.");
  if (type == "AT_TIMESTAMP" && !ts)
    throw ApiError("InvalidArgumentException",
                   "You must specify a timestamp if you set StartingPosition type to "
                   "AT_TIMESTAMP.");
  if (type == "AT_TIMESTAMP" && *ts > clock_->now_ms())
    throw ApiError("InvalidArgumentException",
                   "The timestampInMillis parameter cannot be greater than the "
                   "currentTimestampInMillis. timestampInMillis: " + std::to_string(*ts) +
                       ", currentTimestampInMillis: " + std::to_string(clock_->now_ms()));
  auto sub = std::make_shared<Subscription>();
  {
    std::shared_lock lk(mu_);
    auto [s, k] = need_consumer(json{{"ConsumerARN", carn}});
    if (s->status != StreamStatus::kActive && s->status != StreamStatus::kUpdating)
      not_found(s->name);
    if (k->status != StreamStatus::kActive)
      throw ApiError("ResourceInUseException",
                     "Consumer " + k->name + " with creation timestamp " +
                         std::to_string(k->created_ms / 1000) + " under stream " + s->name +
                         " and account " + opt_.account_id + " is not in ACTIVE status.");
    uint32_t o;
    if (!parse_shard_ordinal(shard, &o) || o >= s->shards.size())
      throw ApiError("ResourceNotFoundException",
                     "Shard " + shard + " in stream " + s->name + " under account " +
                         opt_.account_id + " does not exist");
    sub->next = start_position(*s, o, type, seq, ts, "SubscribeToShard");
    sub->stream = s->name;
    sub->cid = s->cid;
    sub->consumer = k->name;
    sub->consumer_created_ms = k->created_ms;
    sub->ordinal = o;
  }
  int64_t now = clock_->now_ms();
  sub->enc = c.req->encoding;
  sub->sink = c.req->stream;
  sub->deadline_ms = now + kSubscriptionMs;
  sub->last_event_ms = now - kHeartbeatMs;  // a first (maybe empty) event right away
  if (!fanout_->claim(sub, now))
    throw ApiError("ResourceInUseException",
                   "Another active subscription exists for consumer " + carn + " on shard " +
                       shard_id(sub->ordinal) + ". Retry after 5 seconds.");
  sub->sink->start(200, "application/vnd.amazon.eventstream");
  std::string initial;
  write_doc(json::object(), sub->enc, initial);
  sub->sink->write(event_message(
      {{":event-type", "initial-response"},
       {":message-type", "event"},
       {":content-type", sub->enc == Encoding::kCbor ? "application/x-amz-cbor-1.1" : "application/json"}},
      initial));
  fanout_->activate(sub);
  Response r;
  r.http_status = 0;
  r.encoding = c.req->encoding;
  auto done = std::move(c.done);
  c.done = nullptr;
  done(std::move(r));
}

}  // namespace sl::kinesis
