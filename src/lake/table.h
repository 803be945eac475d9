// The lake's table format: immutable data files under partition directories and a log of
// numbered JSON commit files that says which files make up the table.
//
// Layout of a table at prefix P ("historical/") of an ObjectStore:
//   P<partition>/<name>.<ext>        data files (partition e.g. "2026/12/08/01/05")
//   P_commits/00000000000000000001.json, ...   commits 1, 2, ... (20 digits, zero-padded)
//   P_commits/00000000000000000100.snapshot.json  the state as of commit 100 (every 100)
// Commit 1 creates the table (schema, format, partition pattern, time column). Every commit
// lists the files it adds (path, partition, rows, bytes, per-column min/max/null count) and
// removes, the writer's epoch and source positions (an opaque string), and a timestamp.
// See docs/lake.md for the JSON fields ("format": "streamlake-lake", "version": 1).
//
// Publishing commit N is ObjectStore::put_if_absent of its file: of racing writers exactly
// one wins, the others get kAlreadyExists and retry on top of the winner (commit()).
// Readers load the newest snapshot file (if any) and replay the commits after it; they see
// whole commits only. A data file is written
// under its final name but is not part of the table until a commit references it; files
// no commit references are orphans (a crash before the commit) and remove_orphans() deletes
// them. Files a commit removes (compaction, retention) are moved out of the partition tree
// to P_trash/<path> right after that commit — so a tool that globs the partition
// directories (DuckDB's read_csv('P[0-9]*/**/*.csv.gz')) never counts a row twice — and
// stay there until `grace` has passed since that commit, so queries that started on an
// older snapshot can still read them (open_data() looks in the trash when a file is gone).
//
// Threads: a Table may be used from any thread; snapshot() hands out immutable snapshots;
// commit(), compact() and the cleanups serialize on the table's mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lake/data_file.h"
#include "lake/object_store.h"
#include "lake/parquet.h"
#include "util/status.h"

namespace sl::lake {

inline constexpr int kCommitFormatVersion = 1;
// Every this many commits the committer also writes the table's state as of that commit.
inline constexpr uint64_t kSnapshotEvery = 100;

// A partition pattern: tokens yyyy, MM, dd, HH, mm separated by '/' or '-' (at least one
// token; e.g. "yyyy/MM/dd/HH/mm", "yyyy-MM-dd", "yyyy/MM/dd-HH").
class PartitionPattern {
 public:
  // kInvalidArgument on anything else.
  static Result<PartitionPattern> parse(const std::string& text);
  const std::string& text() const { return text_; }
  // The partition of a time (microseconds since the epoch, UTC): "2026/12/08/01/05".
  std::string format(int64_t micros) const;
  // The time range [start, end) a partition string covers; false if it does not match.
  bool range(const std::string& partition, int64_t* start_us, int64_t* end_us) const;

 private:
  std::string text_;
  std::vector<std::string> tokens_;  // "yyyy", "MM", ... and separators "/" "-"
};

struct TableSettings {
  std::vector<parquet::Field> schema;
  FileFormat format = FileFormat::kCsvGz;
  std::string partition = "yyyy/MM/dd/HH/mm";
  std::string time_column;  // a column of the schema, or "arrival" (processing time)
};

struct DataFile {
  std::string path;       // relative to the table's prefix
  std::string partition;  // "" if unpartitioned
  int64_t rows = 0;
  uint64_t bytes = 0;
  std::vector<parquet::ColumnStats> columns;  // per schema column (may be empty: unknown)
  // Time range of the rows (min/max of the time column, or arrival time), micros;
  // INT64_MIN/INT64_MAX when unknown.
  int64_t min_time_us = INT64_MIN, max_time_us = INT64_MAX;
  uint64_t commit = 0;    // the commit that added it
  int64_t added_ms = 0;
};

// What a writer publishes as one commit.
struct CommitSpec {
  std::string operation = "append";  // append | compact | retention | create
  std::vector<DataFile> added;
  std::vector<std::string> removed;  // paths
  uint64_t epoch = 0;                // the writer's epoch (monotonic; 0 = none)
  std::string source_positions;      // opaque
  int64_t timestamp_ms = 0;          // 0 = now
};

// The table as of one commit.
struct Snapshot {
  uint64_t version = 0;  // the last commit applied (0: the table does not exist yet)
  TableSettings settings;
  std::map<std::string, DataFile> files;            // live files by path
  std::map<std::string, int64_t> removed;           // path -> ms of the commit removing it
  uint64_t epoch = 0;                               // max epoch over the commits
  std::string source_positions;                     // of the last commit carrying any
  int64_t last_commit_ms = 0;
  int64_t rows = 0;
  uint64_t bytes = 0;
};

struct CompactionOptions {
  uint64_t small_file_bytes = 32u << 20;   // files below this are merged
  uint64_t target_file_bytes = 128u << 20; // merged files are cut near this size
  int64_t closed_after_us = 60'000'000;    // only partitions whose end is this far behind now
  DataFileOptions file_options;
};

class Table {
 public:
  // Opens the table at `prefix` (ends with '/', or "" for the store's root). If it does
  // not exist and `create` is given, commit 1 creates it with those settings; without
  // `create` a missing table is kNotFound. An existing table keeps its settings (a
  // different schema in `create` is kInvalidArgument).
  static Result<std::unique_ptr<Table>> open(std::shared_ptr<ObjectStore> store, std::string prefix,
                                             const TableSettings* create);

  ObjectStore& store() const { return *store_; }
  const std::string& prefix() const { return prefix_; }
  std::string uri() const { return store_->uri() + "/" + prefix_; }
  // The latest snapshot loaded (refresh() loads newer commits of other writers).
  std::shared_ptr<const Snapshot> snapshot() const;
  Result<std::shared_ptr<const Snapshot>> refresh();

  // A new unique data file path in `partition` (not yet part of the table).
  std::string new_file_path(const std::string& partition, const std::string& tag) const;
  std::string key_of(const std::string& path) const { return prefix_ + path; }
  // Where a file a commit removed waits for its grace period to end.
  std::string trash_key_of(const std::string& path) const { return prefix_ + "_trash/" + path; }

  // Publishes `spec` as the next commit (retrying on top of commits other writers
  // published meanwhile). Returns the commit number. Removing a file that is not live is
  // kInvalidArgument (a conflicting compaction or retention won; nothing is published).
  Result<uint64_t> commit(CommitSpec spec);
  // The JSON of a commit (for a writer that stores its intended commit elsewhere first).
  std::string encode(uint64_t number, const CommitSpec& spec) const;
  // Parses a commit's JSON back (kCorruption if malformed).
  Result<CommitSpec> decode(const std::string& json) const;

  // Deletes data files that no commit references (never files of `keep`, never commit
  // files), and files removed by a commit older than grace_ms; a removed file within its
  // grace period still in the partition tree (a crash cut its move short) goes to the
  // trash. Returns files deleted.
  Result<size_t> remove_orphans(const std::set<std::string>& keep, int64_t grace_ms);
  // Merges small files of closed partitions (one commit: removes + adds).
  // Returns the number of files replaced (0: nothing to do).
  Result<size_t> compact(const CompactionOptions& options, int64_t now_us);
  // Removes, as one commit, every partition whose time range ended before now - retain.
  // Returns files removed.
  Result<size_t> apply_retention(int64_t retain_us, int64_t now_us);
  // Deletes every object under the prefix (DROP SINK ... PURGE).
  Status purge();

 private:
  Table(std::shared_ptr<ObjectStore> store, std::string prefix) : store_(std::move(store)), prefix_(std::move(prefix)) {}
  std::string commit_key(uint64_t n) const;
  // Moves the files a published commit removed to the trash (trash_key_of).
  Status retire(const std::vector<std::string>& removed);
  std::string snapshot_key(uint64_t n) const;
  std::string encode_snapshot(const Snapshot& s) const;
  Status load_snapshot(Snapshot& s, uint64_t number, const std::string& text) const;
  Status apply(Snapshot& s, uint64_t number, const std::string& json) const;
  Status refresh_locked();
  Result<uint64_t> commit_locked(CommitSpec spec);
  std::shared_ptr<ObjectStore> store_;
  std::string prefix_;
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snap_;
  std::optional<PartitionPattern> pattern_;
};

// Parses an interval ('1 minute', '30 days', '250 milliseconds') into microseconds; false if
// malformed or negative.
bool parse_duration(const std::string& text, int64_t* micros);
// Parses '128 MB', '1 GB', '512 kB', '1000' (bytes) into bytes; false if malformed.
bool parse_byte_size(const std::string& text, uint64_t* bytes);

}  // namespace sl::lake
