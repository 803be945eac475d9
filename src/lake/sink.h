// LakeSink: a connector::Sink writing one relation's rows into a lake table (table.h).
//
// Rows are routed by the partition of their time (a column, or the processing time for
// time_column = 'arrival') to one open data file per partition, written under its final
// name but referenced by no commit. A file is closed when it reaches `roll_bytes`, when
// it has been open `roll_us` of processing time, and at every prepare(). prepare() closes
// every open file (each close is durable: fsync / completed upload) and returns the
// intended commit's JSON as the pending record; commit() publishes it with
// Table::commit. The commit carries the sink's epoch, strictly increasing per commit, so
// recover() can tell whether a pending record was published (the table's epoch >= it)
// before publishing it again. See docs/lake.md.
//
// maintain() runs retention, compaction of closed partitions and deletion of replaced
// files whose grace period ended; the runtime calls it after a commit, at most every
// `maintain_interval_us` of processing time.
//
// Threads: one thread at a time (the runtime's pipeline thread). table() may be read
// concurrently by queries (Table is thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connector/sink.h"
#include "lake/data_file.h"
#include "lake/table.h"
#include "util/time.h"

namespace sl::lake {

struct LakeSinkOptions {
  std::shared_ptr<ObjectStore> store;
  std::string prefix;               // the table's prefix in the store ("historical/")
  TableSettings settings;           // schema, format, partition pattern, time column
  DataFileOptions file_options;     // format + codec
  int64_t roll_us = 60'000'000;     // processing time a file stays open
  uint64_t roll_bytes = 128u << 20; // size at which a file is closed
  int64_t retain_us = 0;            // 0 = keep forever
  int64_t grace_ms = 10 * 60 * 1000;  // replaced files stay this long after their commit
  int64_t maintain_interval_us = 60'000'000;
  CompactionOptions compaction;     // closed_after_us is set from roll_us + 1 minute
  size_t max_open_files = 64;       // beyond this the oldest open file is closed
  bool signed_rows = false;         // the schema ends with `op` ('+' / '-'); else append-only
  Clock* clock = nullptr;           // processing time (arrival, roll, maintenance)
};

struct LakeSinkStats {
  uint64_t rows_written = 0;    // rows handed to write() since open
  int64_t pending_rows = 0;     // written, not yet committed
  int64_t oldest_pending_ms = 0;  // processing time of the oldest uncommitted row (0: none)
  uint64_t commits = 0;         // published by this sink since open
  std::string last_error;       // of the last failed commit or maintenance ("" if none)
};

class LakeSink final : public connector::Sink {
 public:
  // Opens (creating) the table. Does not touch data files: call recover() next.
  static Result<std::unique_ptr<LakeSink>> open(LakeSinkOptions options);
  ~LakeSink() override;

  Status write(const exec::DataChunk& chunk) override;
  Result<std::string> prepare(uint64_t epoch, const std::string& source_positions) override;
  Status commit(uint64_t epoch) override;
  Status recover(const std::string& pending) override;
  void abort() override;

  // Retention, compaction, deletion of expired replaced files (see above). `force` runs
  // it regardless of the interval.
  Status maintain(bool force = false);
  // Deletes the table's files and commits (DROP SINK ... PURGE). The sink is unusable after.
  Status purge();

  std::shared_ptr<Table> table() const { return table_; }
  // Rows written and not yet published.
  int64_t uncommitted_rows() const;
  const LakeSinkStats& stats() const { return stats_; }
  const LakeSinkOptions& options() const { return opts_; }

 private:
  struct OpenFile {
    std::unique_ptr<DataFileWriter> writer;
    DataFile file;
    int64_t opened_us = 0;
  };
  explicit LakeSink(LakeSinkOptions o) : opts_(std::move(o)) {}
  int64_t now_us() const;
  Status close_file(const std::string& partition);
  Status write_part(const std::string& partition, const exec::DataChunk& rows, int64_t min_t, int64_t max_t);
  std::set<std::string> unpublished_paths() const;
  LakeSinkOptions opts_;
  std::shared_ptr<Table> table_;
  PartitionPattern pattern_;
  int time_col_ = -1;  // schema index; -1 = arrival
  std::map<std::string, OpenFile> open_;      // by partition
  std::vector<DataFile> closed_;              // closed since the last prepare
  std::optional<CommitSpec> pending_;         // prepared, not yet published
  uint64_t last_epoch_ = 0;
  int64_t last_maintain_us_ = INT64_MIN;
  int64_t unprepared_rows_ = 0;
  LakeSinkStats stats_;
  // The partition of the last row routed, and its time range (most rows share it).
  std::string cur_part_;
  int64_t cur_lo_ = 1, cur_hi_ = 0;
};

}  // namespace sl::lake
