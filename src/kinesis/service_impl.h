// The Service's implementation class (private to kinesis/; the .cc files share it).
#pragma once

#include <atomic>

#include <algorithm>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "kinesis/internal.h"
#include "kinesis/kinesis.h"
#include "log/log.h"

namespace sl::kinesis {

using json = nlohmann::json;

enum class StreamStatus { kCreating, kActive, kUpdating, kDeleting };
const char* status_name(StreamStatus s);

struct Shard {
  uint32_t ordinal = 0;
  int64_t parent = -1;    // ordinal or -1
  int64_t adjacent = -1;  // ordinal or -1
  u128 start = 0, end = 0;
  int64_t created_ms = 0;
  int64_t closed_ms = -1;
  uint64_t end_offset = 0;  // valid once closed
  log::Partition* part = nullptr;
  bool open() const { return closed_ms < 0; }
};

// An enhanced fan-out consumer (RegisterStreamConsumer).
struct Consumer {
  std::string name;
  int64_t created_ms = 0;  // its ARN ends in ":<created_ms / 1000>"
  StreamStatus status = StreamStatus::kCreating;  // CREATING, ACTIVE or DELETING
  int64_t status_since_ms = 0;
  std::map<std::string, std::string> tags;
  std::string policy;  // resource policy JSON ("" = none)
};

struct Stream {
  std::string name;
  uint64_t cid = 0;  // creation id: one per incarnation
  StreamStatus status = StreamStatus::kCreating;
  int64_t status_since_ms = 0;
  int64_t created_ms = 0;
  int retention_hours = 24;
  bool on_demand = false;
  std::vector<Shard> shards;  // index == ordinal
  std::map<std::string, std::string> tags;
  // Accepted by PutRecord(s) since this process opened the stream (Service::traffic()).
  std::atomic<uint64_t> records_in{0}, bytes_in{0};

  std::map<std::string, Consumer> consumers;  // by name
  // Stream settings (stored and reported; see docs/kinesis-api.md for what they change).
  std::string encryption_key;          // KMS key id; "" = EncryptionType NONE
  std::vector<std::string> shard_metrics;  // enhanced monitoring, sorted
  int max_record_kib = 1024;
  int warm_mibps = 0;                  // UpdateStreamWarmThroughput target (0 = none)
  std::string policy;                  // resource policy JSON ("" = none)
  // Open shards sorted by starting hash key (routing table).
  std::vector<uint32_t> routing;
  void rebuild_routing();
  size_t open_count() const { return routing.size(); }
  const Shard* route(u128 hash) const;
};

// Per-shard throughput limits for Options::enforce_limits (throttle.cc): token buckets of
// AWS's per-shard rates — in: 1 MiB/s and 1000 records/s; out: 2 MiB/s and 5 GetRecords
// calls/s. Thread-safe.
class Throttle {
 public:
  // Takes `bytes`/`records` of write capacity; false (nothing taken) if over the rate.
  bool admit_put(uint64_t cid, uint32_t ordinal, size_t bytes, size_t records, int64_t now_ms);
  // A GetRecords call: false if over 5 calls/s or the read bytes are used up.
  bool admit_get(uint64_t cid, uint32_t ordinal, int64_t now_ms);
  void took_out(uint64_t cid, uint32_t ordinal, size_t bytes);  // bytes a GetRecords returned

 private:
  struct Bucket {
    double tokens, rate, cap;
    void refill(double secs) { tokens = std::min(cap, tokens + rate * secs); }
  };
  struct Shard {
    int64_t last_ms = -1;
    Bucket in_bytes{1048576, 1048576, 1048576}, in_records{1000, 1000, 1000};
    Bucket out_bytes{2097152, 2097152, 2097152}, gets{5, 5, 5};
  };
  Shard& at(uint64_t cid, uint32_t ordinal, int64_t now_ms);  // REQUIRES: mu_
  std::mutex mu_;
  std::map<std::pair<uint64_t, uint32_t>, Shard> shards_;
};

class FanOut;  // SubscribeToShard subscriptions and their thread (subscribe.cc)
std::shared_ptr<FanOut> make_fanout(Service::Impl* impl);
// Appends one Record {SequenceNumber, ApproximateArrivalTimestamp, Data, PartitionKey}: a
// JSON object or a CBOR map (data.cc; GetRecords and SubscribeToShard).
void append_record(std::string& out, Encoding enc, std::string_view seq, const log::RecordRef& rec);
// One application/vnd.amazon.eventstream message with string headers (subscribe.cc).
std::string event_message(const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view payload);

// One call in flight.
struct Call {
  const Request* req;
  std::function<void(Response)> done;
  json in;  // the parsed body (control plane)
};

class Service::Impl {
 public:
  Impl(log::LogStore* log, std::string meta_dir, Options options, Clock* clock)
      : log_(log), meta_dir_(std::move(meta_dir)), opt_(std::move(options)), clock_(clock) {}

  Status load();
  void handle(const Request& req, std::function<void(Response)> done);
  void tick();

  Result<StreamInfo> describe(std::string_view stream) const;
  Result<std::string> sequence_number(std::string_view stream, uint32_t ordinal,
                                      uint64_t offset) const;
  Result<Service::Position> parse_sequence_number(std::string_view stream,
                                                  std::string_view seq) const;

  // Operations.
  void create_stream(Call& c);
  void delete_stream(Call& c);
  void describe_stream(Call& c);
  void describe_stream_summary(Call& c);
  void list_streams(Call& c);
  void list_shards(Call& c);
  void put_record(Call& c);
  void put_records(Call& c);
  void get_shard_iterator(Call& c);
  void get_records(Call& c);
  void increase_retention(Call& c);
  void decrease_retention(Call& c);
  void add_tags(Call& c);
  void list_tags(Call& c);
  void remove_tags(Call& c);
  void split_shard(Call& c);
  void merge_shards(Call& c);
  void update_shard_count(Call& c);
  // Consumers (consumers.cc).
  void register_consumer(Call& c);
  void describe_consumer(Call& c);
  void list_consumers(Call& c);
  void deregister_consumer(Call& c);
  std::string consumer_arn(const Stream& s, const Consumer& k) const;
  // The consumer named by ConsumerARN, or by StreamARN + ConsumerName (REQUIRES: mu_
  // held); ResourceNotFound / InvalidArgument as AWS answers.
  std::pair<Stream*, Consumer*> need_consumer(const json& in) const;
  json consumer_json(const Stream& s, const Consumer& k, bool with_stream) const;
  // Stream ARN member (required by the consumer operations): the stream's name.
  std::string stream_of_arn(const std::string& arn) const;
  // SubscribeToShard (subscribe.cc).
  void subscribe_to_shard(Call& c);
  void notify_durable();  // from PutRecord(s)' durable callbacks: wakes the fan-out
  // Offset a StartingPosition / iterator type points at in shard `o` (REQUIRES: mu_
  // held); InvalidArgument for sequence numbers of another shard or stream.
  uint64_t start_position(const Stream& s, uint32_t o, const std::string& type,
                          const std::optional<std::string>& seq, std::optional<int64_t> ts,
                          const char* op) const;
  json child_shards_json(const Stream& s, uint32_t ordinal) const;
  // Stream settings, account settings, tags and policies by ARN (settings.cc).
  void start_encryption(Call& c);
  void stop_encryption(Call& c);
  void enable_monitoring(Call& c);
  void disable_monitoring(Call& c);
  void update_stream_mode(Call& c);
  void update_max_record_size(Call& c);
  void update_warm_throughput(Call& c);
  void describe_limits(Call& c);
  void describe_account_settings(Call& c);
  void update_account_settings(Call& c);
  void tag_resource(Call& c);
  void untag_resource(Call& c);
  void list_tags_for_resource(Call& c);
  void put_resource_policy(Call& c);
  void get_resource_policy(Call& c);
  void delete_resource_policy(Call& c);
  // The stream or consumer a ResourceARN names (REQUIRES: mu_ held).
  std::pair<Stream*, Consumer*> need_resource(const std::string& arn) const;
  json settings_json(const Stream& s) const;  // members shared by the Describe answers

  using Handler = void (Impl::*)(Call&);
  struct OpEntry {
    Handler fn;
    bool raw_body;  // the handler parses the body itself (hot path)
  };
  static const std::unordered_map<std::string_view, OpEntry>& ops();

  // Helpers.
  std::string arn(std::string_view name) const;
  std::string stream_name_of(const json& in) const;  // StreamName or StreamARN
  Stream* find_stream(const std::string& name) const;  // REQUIRES: mu_ held
  Stream& need_stream(const std::string& name) const;  // throws ResourceNotFound
  [[noreturn]] void not_found(const std::string& name) const;
  void need_active(const Stream& s) const;  // ResourceInUse unless ACTIVE
  // The ordinal of shard `id` of stream `s` (named `name`), which must exist
  // (ResourceNotFound) and be open (ResourceInUse: already merged or split).
  uint32_t open_shard_ordinal(const Stream& s, const std::string& id, const std::string& name) const;
  int total_open_shards() const;
  void check_shard_limit(int additional) const;
  json shard_json(const Stream& s, const Shard& sh) const;
  u128 seq_prefix(const Stream& s, uint32_t ordinal) const;
  std::string seq_string(const Stream& s, uint32_t ordinal, uint64_t offset) const;
  // Decodes a sequence number of `s`; throws InvalidArgument with `what` context.
  bool decode_seq(const Stream& s, std::string_view seq, uint32_t* ordinal, uint64_t* off) const;
  std::string make_iterator(const Stream& s, uint32_t ordinal, uint64_t offset) const;
  Status fresh_partition(Shard& sh, const Stream& s);
  std::string partition_name(const Stream& s, uint32_t ordinal) const;
  void close_shard(Shard& sh, int64_t now);
  Shard& add_shard(Stream& s, u128 start, u128 end, int64_t parent, int64_t adjacent, int64_t now);
  void persist();  // REQUIRES: mu_ exclusive; throws InternalFailure
  Status save_meta();
  void reply(Call& c, const json& out) const;
  void reply_raw(Call& c, std::string body) const;

  // PutRecord(s) shared path.
  struct PutItem {
    bool has_key = false, has_data = false, has_ehk = false;
    std::string_view key;
    uint32_t data_off = 0, data_len = 0;
    std::string_view ehk;
  };
  struct PutBatch {
    std::string stream_name, stream_arn;
    bool has_records = false;
    std::vector<PutItem> items;
    std::string arena;  // decoded data
    std::vector<std::string> key_store;  // owned keys (CBOR path)
  };
  void parse_put_records_json(std::string_view body, PutBatch* b) const;
  void parse_put_records_doc(const json& in, PutBatch* b, bool single) const;
  void execute_put(Call& c, PutBatch& b, bool single);

  log::LogStore* log_;
  std::string meta_dir_;
  Options opt_;
  Clock* clock_;
  std::string secret_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<Stream>, std::less<>> streams_;
  uint64_t next_cid_ = 1;
  // Account settings (UpdateAccountSettings): the minimum throughput billing commitment.
  std::string billing_status_ = "DISABLED";
  int64_t billing_started_ms_ = -1, billing_ended_ms_ = -1;
  Throttle throttle_;  // used when opt_.enforce_limits
  std::shared_ptr<FanOut> fanout_;  // created with the Impl; joined before it goes
};

}  // namespace sl::kinesis
