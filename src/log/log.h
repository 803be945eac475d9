// log/: the durable, append-only, sharded record log under every stream.
//
// A LogStore is a directory of partitions ("shards"); each partition is an ordered
// sequence of records numbered by a dense 64-bit offset starting at 0. Kinesis sequence
// numbers, Kafka-like positions and checkpoint positions are all derived from offsets.
//
// Writes: append() assigns offsets and writes the records to the partition's active
// segment (page cache) synchronously, under the partition's lock, and returns the
// offsets; durability is asynchronous: `on_durable` runs (on the store's commit thread)
// once an fdatasync covering those bytes has completed. Concurrent appends share one
// fdatasync per touched file (group commit). With LogOptions::fsync == false the
// callback runs right after the write.
//
// Reads: only the durable prefix [start_offset(), durable_end()) is visible, so a reader
// never sees a record that a crash could take back. scan() hands out views into an
// internal buffer valid only during the callback.
//
// Files: DIR/<partition>/<base offset, 20 digits>.seg (header + batches, each batch with
// a CRC32C) and .idx (sparse offset/time → file position). Open recovers every partition:
// it validates the last segment's batches and truncates a torn tail.
//
// Threads: any thread may call append/scan/accessors; one internal commit thread runs
// the fdatasyncs and the callbacks. Callbacks must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sl::log {

struct LogOptions {
  bool fsync = true;                         // acknowledge only after fdatasync
  uint64_t segment_bytes = 128ull << 20;     // roll to a new segment past this size
  uint32_t index_interval_bytes = 64 << 10;  // one index entry per this many bytes
};

// A record handed to append(). The views need to live only for the call.
struct RecordIn {
  std::string_view key;   // partition key (opaque bytes to the log)
  std::string_view data;  // payload
};

// A record seen by a reader: views valid only inside the scan callback.
struct RecordRef {
  uint64_t offset;
  int64_t arrival_ms;  // the time append() was called, ms since epoch
  std::string_view key;
  std::string_view data;
};

struct AppendResult {
  uint64_t first_offset;  // records got first_offset, first_offset+1, ...
  int64_t arrival_ms;
};

class Partition {
 public:
  virtual ~Partition() = default;
  virtual const std::string& name() const = 0;
  // Offsets [start_offset, durable_end) are readable.
  virtual uint64_t start_offset() const = 0;
  virtual uint64_t durable_end() const = 0;
  // Next offset append() will assign (>= durable_end).
  virtual uint64_t next_offset() const = 0;
  // Arrival time of the newest durable record, or -1 if empty.
  virtual int64_t last_arrival_ms() const = 0;

  // Calls fn for records from `from` (clamped up to start_offset) in order, stopping
  // after max_records, before a record that would take the data+key bytes delivered past
  // max_bytes (the first record is delivered regardless, if any is readable), at
  // durable_end, or after fn returned false. Returns the offset after the last record
  // delivered (`from`, clamped, if none). Corruption if a batch fails its CRC32C.
  virtual Result<uint64_t> scan(uint64_t from, size_t max_records, size_t max_bytes,
                                const std::function<bool(const RecordRef&)>& fn) const = 0;

  // As scan(), but without copies or a call per record: fn gets the records in groups
  // (each group: consecutive records of one read of the file, in order), the views valid
  // only during that call, each record's data followed by at least kScanPadding readable
  // bytes (what follows it in the file, or padding: a parser that reads a little past
  // the end, like simdjson, can work in place). Same limits as scan(); fn returning false
  // stops after that group. Returns the offset after the last record delivered.
  static constexpr size_t kScanPadding = 64;
  virtual Result<uint64_t> scan_groups(uint64_t from, size_t max_records, size_t max_bytes,
                                       const std::function<bool(std::span<const RecordRef>)>& fn) const = 0;

  // First offset whose arrival_ms >= ts (durable_end if none; at least start_offset).
  virtual Result<uint64_t> offset_at_time(int64_t ts_ms) const = 0;
};

using DurableCallback = std::function<void(Status)>;

class LogStore {
 public:
  // Opens (creating if needed) the store at `dir` and recovers every partition in it.
  static Result<std::unique_ptr<LogStore>> open(const std::string& dir, LogOptions options);
  virtual ~LogStore() = default;

  // Partition names are [A-Za-z0-9_.-]{1,200} (not "." or ".."); the caller chooses them.
  // kAlreadyExists if the partition exists. A new partition starts at offset 0.
  virtual Result<Partition*> create_partition(const std::string& name) = 0;
  virtual Partition* find_partition(const std::string& name) const = 0;
  virtual std::vector<std::string> partition_names() const = 0;
  // Removes the partition and its files. Pointers to it become invalid: callers must
  // ensure no other thread still uses it.
  virtual Status drop_partition(const std::string& name) = 0;

  // Writes `records` (all to one partition) and returns the offsets assigned. `on_durable`
  // runs once they are on disk (or with an error; then they may be lost). If this returns
  // an error, nothing was written and on_durable is not called. The stored arrival_ms is
  // max(arrival_ms, 0, the previous append's): arrival times never go backwards within a
  // partition (the result says which was used). Errors: kInvalidArgument for no records,
  // kLimitExceeded past 1 GiB, kInUse after close(), kIoError (the partition is then as
  // before the call; after a failed fdatasync it refuses appends until reopened).
  virtual Result<AppendResult> append(Partition* p, std::span<const RecordIn> records,
                                      int64_t arrival_ms, DurableCallback on_durable) = 0;

  // Deletes whole segments of `p` whose newest record arrived before `ts_ms` (never the
  // active segment). Returns the number of records removed.
  virtual Result<uint64_t> trim_before_time(Partition* p, int64_t ts_ms) = 0;

  // Called (on the commit thread; with fsync == false on the appending thread) after
  // durable_end of some partitions advanced.
  // Used by the streaming runtime to wake readers. Set once, before appends start.
  virtual void set_durable_listener(std::function<void()> fn) = 0;

  // Waits for pending syncs and stops the commit thread. Called by the destructor too.
  virtual void close() = 0;
};

}  // namespace sl::log
