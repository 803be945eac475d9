// Internal to stream/: the incremental GROUP BY (see agg.cc).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "stream/internal.h"

namespace sl::stream {

struct AggSetup {
  std::vector<exec::ExprPtr> groups;        // over the aggregate's input (cloned from the plan)
  std::vector<exec::AggregateCall> aggs;
  bool emit_final = false;                  // windows: emit when the watermark passes the end
  int window_group = -1;                    // group holding window_start or window_end
  bool window_group_is_start = false;
  int64_t window_size_us = 0;               // tumble/hop size; session gap
  // Session windows: rows wait per session key until their session closes.
  bool session = false;
  std::vector<exec::ExprPtr> session_keys;  // the groups without the window columns
  size_t time_col = 0;                      // event time in the input
  size_t window_start_col = 0;              // window_start (window_end follows) in the input
};

// Lifecycle: built by View::compile, fed by the pipeline thread; saved and loaded whole
// in checkpoints. Input must be append-only unless every aggregate is count/sum/avg
// (min/max with retractions would need per-group multisets: not needed by any plan yet,
// rejected at run time with a clear error).
class IncrementalAggregate {
 public:
  explicit IncrementalAggregate(AggSetup s);
  ~IncrementalAggregate();
  const std::vector<LogicalType>& types() const { return out_types_; }
  // The row of a global aggregate (no GROUP BY) before any input: count 0, sum NULL.
  void initial(std::vector<DataChunk>& out);
  void consume(const DataChunk& in, exec::ExecContext& ctx, std::vector<DataChunk>& out);
  void on_watermark(int64_t wm, exec::ExecContext& ctx, std::vector<DataChunk>& out);
  size_t memory_bytes() const;
  size_t groups() const { return keys_.size(); }
  void save(Writer& w) const;
  void load(Reader& r);

 private:
  void ensure_slots();
  bool append_only_ok(const DataChunk& in) const;
  void accumulate(const DataChunk& in, exec::ExecContext& ctx);
  void emit_touched(std::vector<DataChunk>& out);
  void write_row(DataChunk& c, size_t row, uint32_t gid, bool from_prev);
  void free_group(uint32_t gid);
  void close_sessions(int64_t wm, exec::ExecContext& ctx);
  void check_retractable();

  AggSetup s_;
  bool all_retractable_ = true;
  std::vector<LogicalType> group_types_, result_types_, out_types_;
  std::vector<std::unique_ptr<exec::AggregateState>> states_;
  KeyedState keys_;
  std::vector<std::string> enc_;
  std::vector<std::string> key_of_;      // per slot: its encoded key
  std::vector<int64_t> rows_;            // per slot: net input rows
  std::vector<uint8_t> has_prev_;        // per slot: a row was emitted
  std::vector<int64_t> window_end_;      // per slot (INT64_MIN: not windowed)
  std::vector<DataChunk> key_chunks_;    // slot-addressed group values
  std::vector<DataChunk> prev_chunks_;   // slot-addressed last emitted results
  std::map<int64_t, std::vector<uint32_t>> by_end_;
  std::vector<uint32_t> touched_;
  std::vector<uint8_t> touched_mark_;   // per slot: in touched_
  std::vector<DataChunk> pending_;       // sessions: rows not yet in a closed session
  size_t pending_rows_ = 0;
};

}  // namespace sl::stream
