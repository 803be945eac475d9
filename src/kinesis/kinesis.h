// kinesis/: the Kinesis Data Streams API (Kinesis_20131202) over log/.
//
// Transport-independent: the HTTP server authenticates a request (SigV4), extracts the
// operation from X-Amz-Target and the body, and calls Service::handle(). The answer comes
// through `done`, either inline (control plane, reads) or later from the log's commit
// thread (PutRecord / PutRecords answer once the log made the records durable).
//
// Lifecycle: open() loads the metadata from meta_dir (creating it), re-attaches the log
// partitions and loads (or creates) the iterator secret. The Service must be destroyed
// before the LogStore it uses, and after every outstanding `done` ran (close the log first
// or wait for the answers).
//
// Threads: handle() and the C++ accessors may be called concurrently from any number of
// threads; tick() from one (the server's timer). Metadata sits under a shared_mutex:
// data-plane calls take it shared (appends to different shards run in parallel and only
// meet in the log), control-plane changes take it exclusively.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/time.h"

namespace sl::log {
class LogStore;
}

namespace sl::kinesis {

enum class Encoding { kJson, kCbor };  // application/x-amz-json-1.1 (1.0 too), application/x-amz-cbor-1.1

// "application/x-amz-json-1.1" or "application/x-amz-cbor-1.1".
const char* content_type(Encoding e);
// Maps a Content-Type header to an encoding; false if it is none of ours.
bool parse_content_type(std::string_view content_type, Encoding* e);

// Where a streamed answer goes (SubscribeToShard's event stream). Implemented by the
// transport over its HTTP/2 (or chunked HTTP/1.1) response; thread-safe, non-blocking.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Sends the response head: `status` with this Content-Type.
  virtual void start(int status, const char* content_type) = 0;
  // Queues bytes; false once the peer is gone or the stream was reset.
  virtual bool write(std::string bytes) = 0;
  virtual void finish() = 0;
  virtual bool closed() const = 0;
  // Bytes queued but not yet sent (back-pressure).
  virtual size_t queued_bytes() const = 0;
};

struct Request {
  std::string_view operation;  // from X-Amz-Target "Kinesis_20131202.<Op>"
  Encoding encoding = Encoding::kJson;
  std::string_view body;       // must stay valid until `done` ran
  std::string access_key;
  // SubscribeToShard only: the event stream. When the subscription starts, `done` gets a
  // Response with http_status 0 (meaning: answered on `stream`) and the events follow on
  // it; errors before that come through `done` as usual. Without a stream,
  // SubscribeToShard answers InvalidArgumentException.
  std::shared_ptr<EventSink> stream;
};

struct Response {
  int http_status = 200;
  Encoding encoding = Encoding::kJson;  // Content-Type follows it (content_type())
  std::string body;
};

// A shard as the streaming runtime sees it.
struct ShardInfo {
  std::string shard_id;                  // shardId-000000000003
  uint32_t ordinal = 0;                  // 3
  std::string parent_shard_id;           // "" if none
  std::string adjacent_parent_shard_id;  // "" if none
  std::string starting_hash_key;         // decimal
  std::string ending_hash_key;           // decimal
  std::string partition;                 // log partition name
  bool open = true;
  uint64_t end_offset = 0;               // closed shards: offset after the last record
  int64_t created_ms = 0;
  int64_t closed_ms = -1;
};

struct StreamInfo {
  std::string name;
  std::string arn;
  std::string status;  // CREATING | ACTIVE | UPDATING | DELETING
  uint64_t creation_id = 0;
  int64_t created_ms = 0;
  int retention_hours = 24;
  std::vector<ShardInfo> shards;  // ordinal order
};

// A stream's traffic for the status page and /metrics (Service::traffic()).
struct StreamTraffic {
  std::string name;
  std::string status;  // CREATING | ACTIVE | UPDATING | DELETING
  int open_shards = 0;
  int retention_hours = 24;
  uint64_t records_in = 0;  // accepted by PutRecord(s) since the process started
  uint64_t bytes_in = 0;    // data + partition key bytes of those records
};

class Service {
 public:
  struct Options {
    int64_t create_delay_ms = 500;  // CREATING → ACTIVE
    int64_t delete_delay_ms = 500;  // DELETING → gone
    int64_t update_delay_ms = 500;  // UPDATING → ACTIVE after a reshard
    int64_t iterator_ttl_ms = 300000;
    int on_demand_shards = 4;
    int shard_limit = 500;          // open shards per account, as AWS's default
    std::string region = "us-east-1";
    std::string account_id = "000000000000";
    // AWS's per-shard throughput limits ([kinesis] enforce_limits): 1 MiB/s or 1000
    // records/s in, 2 MiB/s and 5 GetRecords calls/s out → ProvisionedThroughputExceeded.
    bool enforce_limits = false;
  };

  static Result<std::unique_ptr<Service>> open(log::LogStore* log, std::string meta_dir,
                                               Options options, Clock* clock);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Runs the operation; `done` is called exactly once, inline or later on another thread.
  void handle(const Request& req, std::function<void(Response)> done);

  // "Kinesis_20131202.PutRecord" → "PutRecord". False if the prefix is not Kinesis's.
  static bool parse_target(std::string_view x_amz_target, std::string_view* op);
  // True for the 39 operations of the Kinesis API (supported or not).
  static bool known_operation(std::string_view op);

  // Advances CREATING → ACTIVE, UPDATING → ACTIVE, DELETING → gone (dropping the log
  // partitions) and trims data older than each stream's retention.
  void tick();

  // --- C++ API for the streaming runtime ---
  // A stream's shards with lineage, hash ranges and log partitions; NotFound if absent.
  Result<StreamInfo> describe(std::string_view stream) const;
  // Sequence number of the record at `offset` in shard `ordinal` of the stream.
  Result<std::string> sequence_number(std::string_view stream, uint32_t ordinal,
                                      uint64_t offset) const;
  struct Position {
    uint32_t ordinal;
    uint64_t offset;
  };
  // Inverse of sequence_number(); InvalidArgument for a number of another stream.
  Result<Position> parse_sequence_number(std::string_view stream, std::string_view seq) const;
  // Every stream (name order) with its counters. Any thread; a consistent list, counters
  // read without stopping writers.
  std::vector<StreamTraffic> traffic() const;

  class Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sl::kinesis
