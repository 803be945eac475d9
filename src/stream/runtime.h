// stream/: the streaming runtime. Kinesis stream tables (sources over the local log),
// materialized views maintained incrementally with the exec/ operators, event-time
// watermarks, windows, the <table>_errors tables, and atomic checkpoints.
//
// Lifecycle (one Runtime per daemon, after the Engine, the LogStore and the kinesis
// Service exist; destroyed before them):
//
//   stream::Runtime rt(engine, kinesis, log, data_dir, clock);
//   rt.open();    // re-attaches stream tables and views found in the catalog, loads the
//                 // last checkpoint (throws sl::Error on a corrupt or unknown one)
//   rt.start();   // registers the SQL hook and the log's durable listener, starts the
//                 // pipeline thread (wakes on durable records, checkpoints every
//                 // checkpoint_interval_ms)
//   ...
//   rt.stop();    // joins the thread and writes a final checkpoint
//
// Tests drive it without the thread: open(), then run_once() / checkpoint() explicitly,
// with a ManualClock for processing time (idle timeouts, lag).
//
// Threads: every public method may be called from any thread; one mutex serializes the
// pipeline (run_once, checkpoint, DDL). Providers handed to the catalog (stream tables,
// errors tables, views) take their own locks and give SQL readers immutable snapshots.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lake/object_store.h"
#include "util/time.h"

namespace sl::sql { class Engine; }
namespace sl::kinesis { class Service; }
namespace sl::log { class LogStore; }
namespace sl::catalog { struct ColumnDef; }

namespace sl::stream {

struct RuntimeOptions {
  int64_t checkpoint_interval_ms = 1000;  // background thread only; 0 = only at stop()
  size_t max_records_per_shard = 10000;   // per shard and run_once() round
  int64_t idle_timeout_ms = 10000;        // default of the per-table 'idle_timeout' option
  size_t decode_threads = 2;              // shards decoded in parallel (1 = on the pipeline thread)
  // S3 settings of lake sinks with an s3:// path ([lake.s3] of the config); fields left
  // empty are filled from the AWS environment when a sink opens.
  lake::S3Options lake_s3;
};

struct ShardStatus {
  std::string shard_id;
  uint64_t position = 0;           // next log offset to read
  bool finished = false;           // closed and read to its end
  bool started = false;            // parents drained, reading
  int64_t millis_behind_latest = 0;
};

struct StreamStatus {
  std::string name;    // the table
  std::string stream;  // the Kinesis stream
  std::string status;  // running | waiting (stream missing) | failed: ...
  int64_t watermark_us = INT64_MIN;  // event time; INT64_MIN = none yet
  int64_t millis_behind_latest = 0;  // max over shards
  uint64_t rows_in = 0, records_in = 0, errors = 0, late = 0;
  // Arrival time (ms since the Unix epoch) of the newest record read; -1 = none yet.
  int64_t last_arrival_ms = -1;
  std::vector<ShardStatus> shards;
};

// The last checkpoint written (by the thread, stop() or DDL); zeros before the first.
struct CheckpointStats {
  int64_t at_ms = 0;        // wall clock when it finished
  int64_t duration_ms = 0;  // encode + atomic write
  uint64_t count = 0;       // since open()
};

struct ViewStatus {
  std::string name;
  std::string source;  // stream table
  std::string status;
  std::string emit;    // final | changes
  int64_t watermark_us = INT64_MIN;
  uint64_t rows_in = 0, rows_out = 0;
  int64_t rows = 0;           // current contents
  int64_t state_bytes = 0;    // measured operator state
};

struct SinkStatus {
  std::string name;
  std::string source;   // the stream table or view
  std::string format;   // parquet | csv.gz | jsonl.gz
  std::string path;     // the table's URI
  std::string status;   // running | failed: ... | retrying: ...
  int64_t rows = 0;     // in the lake's latest snapshot
  int64_t files = 0;
  uint64_t bytes = 0;
  int64_t last_commit_ms = 0;   // 0 = none yet
  int64_t pending_rows = 0;     // written, not yet committed
  int64_t lag_ms = 0;           // age of the oldest uncommitted row (processing time)
};

class Runtime {
 public:
  Runtime(sql::Engine* engine, kinesis::Service* kinesis, log::LogStore* log, std::string data_dir,
          Clock* clock, RuntimeOptions options = {});
  ~Runtime();  // stop() if started (without throwing)
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  void open();
  void start();
  // Stops the thread; writes a checkpoint if `final_checkpoint`.
  void stop(bool final_checkpoint = true);

  // Reads what is durable (at most max_records_per_shard per shard), runs it through
  // every view, advances watermarks and closes windows. Returns records read.
  size_t run_once();
  // Runs rounds until no source has anything left to read.
  size_t run_until_idle();
  // Writes DATA/stream/checkpoint atomically (tmp, fsync, rename, fsync dir).
  void checkpoint();
  uint64_t epoch() const;
  // Blocks until a round that read records finished with epoch() > after, or timeout_ms
  // passed (false). For tests and tools driving the background thread.
  bool wait_for_epoch(uint64_t after, int64_t timeout_ms);

  // --- DDL (also reached through SQL once the engine's hook is registered) ---
  // CREATE TABLE name (cols) WITH (connector = 'kinesis', ...). Throws sl::UserError.
  void create_stream_table(const std::string& name, const std::vector<catalog::ColumnDef>& columns,
                           const std::map<std::string, std::string>& options, bool if_not_exists);
  // CREATE MATERIALIZED VIEW name WITH (emit = ...) AS <select_sql>.
  void create_view(const std::string& name, const std::string& select_sql,
                   const std::map<std::string, std::string>& options, bool if_not_exists);
  // Drops a stream table (with its errors table; refused while views use it) or a view,
  // with their state. False if absent and if_exists.
  bool drop(const std::string& name, bool if_exists);

  // CREATE SINK name FROM <stream table or materialized view> WITH (connector = 'lake',
  // ...): docs/lake.md. A relation that already holds rows is backfilled. Throws SqlError.
  void create_sink(const std::string& name, const std::string& from, const std::map<std::string, std::string>& options,
                   bool if_not_exists);
  // DROP SINK: stops it; its last rows are committed and its files kept, or with `purge`
  // deleted. False if absent and if_exists.
  bool drop_sink(const std::string& name, bool if_exists, bool purge);
  std::vector<SinkStatus> sinks() const;

  std::vector<StreamStatus> streams() const;
  std::vector<ViewStatus> views() const;
  CheckpointStats last_checkpoint() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sl::stream
