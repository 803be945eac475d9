// Physical operators and push-based pipelines.
//
// A physical plan is a tree of PhysicalOperators. The Executor cuts it into pipelines at
// pipeline breakers (aggregate, sort, window, union, the build side of a join): each
// pipeline is a source, a chain of streaming operators and optionally a sink. Chunks are
// pushed from the source through the chain; a sink (e.g. an aggregate) consumes them and,
// once finalized, becomes the source of the next pipeline. The last pipeline has no sink:
// its chunks are pulled one at a time by the caller (Executor::next), so a LIMIT stops the
// scan early and results stream.
//
// Every operator accepts chunks with a per-row sign (changelogs, +1/-1) and passes the
// sign on (joins multiply signs). Operators are driven by one thread; the streaming
// runtime (stream/) drives the same operators directly through sink()/execute().
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exec/aggregate.h"
#include "exec/context.h"
#include "exec/expression.h"
#include "exec/hashtable.h"
#include "exec/keys.h"
#include "exec/vector.h"

namespace sl::exec {

enum class OpResult { kNeedMoreInput, kHaveMoreOutput, kFinished };

class PhysicalOperator {
 public:
  explicit PhysicalOperator(std::vector<LogicalType> types) : types_(std::move(types)) {}
  virtual ~PhysicalOperator() = default;
  const std::vector<LogicalType>& types() const { return types_; }
  virtual std::string name() const = 0;
  virtual std::string details() const { return {}; }

  // Roles. A leaf source has no children. A breaker consumes its children (each through
  // its own pipeline, into sink()) and then produces with get_data(). Anything else is a
  // streaming operator over children[0]; if it has a build child (hash join), that child's
  // pipeline sinks into it first.
  virtual bool is_source() const { return false; }
  virtual bool is_breaker() const { return false; }
  virtual bool has_build_child() const { return false; }

  // Source / breaker output. Returns false when exhausted. `out` has types().
  virtual bool get_data(DataChunk& out, ExecContext& ctx) { return false; }
  // Streaming: transforms `in` into `out`. kHaveMoreOutput: call again with the same
  // input. kFinished: no further input is needed (LIMIT reached).
  virtual OpResult execute(DataChunk& in, DataChunk& out, ExecContext& ctx) {
    return OpResult::kNeedMoreInput;
  }
  // Streaming, after the input is exhausted: may emit rows (e.g. unmatched rows of a
  // right join). Returns false when it has nothing more.
  virtual bool finish(DataChunk& out, ExecContext& ctx) { return false; }
  // Sink side (breakers and the build side of joins).
  virtual void sink(DataChunk& in, ExecContext& ctx) {}
  virtual void finalize(ExecContext& ctx) {}

  // Morsel-driven parallelism (Executor). A streaming operator that can run on several
  // threads returns a copy for another thread: same plan, its own per-chunk state,
  // read-only shared state (a join's built table). nullptr: it runs on one thread only.
  virtual std::unique_ptr<PhysicalOperator> clone_for_thread() const { return nullptr; }
  // A breaker that several threads can feed returns an empty thread-local sink of the
  // same kind; each thread sinks into its own, then the Executor calls merge_local() on
  // the original once per local (one thread at a time) before finalize(). nullptr: the
  // pipeline into this sink runs on one thread.
  virtual std::unique_ptr<PhysicalOperator> make_local_sink() const { return nullptr; }
  virtual void merge_local(PhysicalOperator& local, ExecContext& ctx) {}
  // Which columns of its input this operator reads (used[i] = 1), for dropping unread
  // columns upstream; false if unknown (everything is read).
  virtual bool input_columns(std::vector<uint8_t>* used) const { return false; }

  std::vector<std::unique_ptr<PhysicalOperator>> children;
  // Rows expected (planner estimate, for EXPLAIN); -1 unknown.
  int64_t estimated_rows = -1;

 protected:
  std::vector<LogicalType> types_;
};
using OpPtr = std::unique_ptr<PhysicalOperator>;

// An append-only set of chunks with per-column string heaps (rows are copied in).
class ChunkCollection {
 public:
  struct RowRef {
    uint32_t chunk;
    uint32_t row;
  };
  static constexpr uint32_t kNullRef = UINT32_MAX;

  explicit ChunkCollection(std::vector<LogicalType> types);
  // Copies all rows of `in`; returns bytes added (for memory accounting).
  size_t append(const DataChunk& in);
  size_t row_count() const { return rows_; }
  const std::vector<DataChunk>& chunks() const { return chunks_; }
  const std::vector<LogicalType>& types() const { return types_; }
  // out[k] = column `col` at refs[k] (chunk == kNullRef gives NULL).
  void gather(size_t col, const RowRef* refs, size_t n, Vector& out) const;

 private:
  std::vector<LogicalType> types_;
  std::vector<std::shared_ptr<StringHeap>> heaps_;
  std::vector<DataChunk> chunks_;
  size_t rows_ = 0;
};

// A batch source over chunks shared with a table (zero copy), projecting `column_ids`.
class ScanOp final : public PhysicalOperator {
 public:
  ScanOp(std::string table, std::vector<std::shared_ptr<const DataChunk>> chunks,
         std::vector<size_t> column_ids, std::vector<LogicalType> types);
  std::string name() const override { return "SCAN"; }
  std::string details() const override { return note_.empty() ? table_ : table_ + "; " + note_; }
  bool is_source() const override { return true; }
  bool get_data(DataChunk& out, ExecContext& ctx) override;
  // Parallel scans: the stored chunks, and chunk i projected into `out`.
  size_t chunk_count() const {
    ensure_loaded();
    return chunks_.size();
  }
  int64_t row_count() const;
  void read_chunk(size_t i, DataChunk& out) const;
  // As FilterOp::set_needed_columns: unread columns are not referenced.
  void set_needed_columns(std::vector<uint8_t> needed) { needed_ = std::move(needed); }
  // Deferred chunks: `loader` runs once, on first use (execution), replacing the chunks
  // given to the constructor; `note` is shown in EXPLAIN (e.g. what a pushdown pruned).
  void set_loader(std::function<std::vector<std::shared_ptr<const DataChunk>>()> loader, std::string note);

 private:
  void ensure_loaded() const;
  std::vector<uint8_t> needed_;
  std::string table_, note_;
  std::function<std::vector<std::shared_ptr<const DataChunk>>()> loader_;
  mutable std::once_flag loaded_;
  mutable std::vector<std::shared_ptr<const DataChunk>> chunks_;
  std::vector<size_t> ids_;
  size_t pos_ = 0;
};

// Constant rows (VALUES, SELECT without FROM).
class ValuesOp final : public PhysicalOperator {
 public:
  ValuesOp(std::vector<LogicalType> types, std::vector<std::vector<ExprPtr>> rows);
  std::string name() const override { return "VALUES"; }
  std::string details() const override { return std::to_string(rows_.size()) + " rows"; }
  bool is_source() const override { return true; }
  bool get_data(DataChunk& out, ExecContext& ctx) override;

 private:
  std::vector<std::vector<ExprPtr>> rows_;
  size_t pos_ = 0;
};

class FilterOp final : public PhysicalOperator {
 public:
  FilterOp(std::vector<LogicalType> types, ExprPtr predicate);
  std::string name() const override { return "FILTER"; }
  std::string details() const override { return pred_->to_string(); }
  OpResult execute(DataChunk& in, DataChunk& out, ExecContext& ctx) override;
  std::unique_ptr<PhysicalOperator> clone_for_thread() const override;
  bool input_columns(std::vector<uint8_t>* used) const override;
  // Output columns nobody downstream reads (needed[c] = 0) are not gathered: they hold
  // unspecified values. Empty = all needed.
  void set_needed_columns(std::vector<uint8_t> needed) { needed_ = std::move(needed); }

 private:
  ExprPtr pred_;
  std::vector<uint8_t> needed_;
  std::unique_ptr<Vector> mask_;
  std::vector<uint32_t> sel_;
};

class ProjectOp final : public PhysicalOperator {
 public:
  explicit ProjectOp(std::vector<ExprPtr> exprs);
  std::string name() const override { return "PROJECT"; }
  std::string details() const override;
  OpResult execute(DataChunk& in, DataChunk& out, ExecContext& ctx) override;
  std::unique_ptr<PhysicalOperator> clone_for_thread() const override;
  bool input_columns(std::vector<uint8_t>* used) const override;
  const std::vector<ExprPtr>& exprs() const { return exprs_; }

 private:
  std::vector<ExprPtr> exprs_;
};

class LimitOp final : public PhysicalOperator {
 public:
  LimitOp(std::vector<LogicalType> types, int64_t limit, int64_t offset);  // limit -1 = none
  std::string name() const override { return "LIMIT"; }
  std::string details() const override;
  OpResult execute(DataChunk& in, DataChunk& out, ExecContext& ctx) override;

 private:
  int64_t limit_, offset_, seen_ = 0, emitted_ = 0;
};

struct AggregateCall {
  AggregateSignature sig;
  std::vector<ExprPtr> args;
  bool distinct = false;
  double fraction = 0;  // percentiles
  std::string display;
};

// GROUP BY: output = group expressions then aggregates. Without groups, exactly one row.
class HashAggregateOp final : public PhysicalOperator {
 public:
  HashAggregateOp(std::vector<ExprPtr> groups, std::vector<AggregateCall> aggs);
  ~HashAggregateOp() override;
  std::string name() const override { return groups_.empty() ? "AGGREGATE" : "HASH_AGGREGATE"; }
  std::string details() const override;
  bool is_breaker() const override { return true; }
  void sink(DataChunk& in, ExecContext& ctx) override;
  void finalize(ExecContext& ctx) override;
  bool get_data(DataChunk& out, ExecContext& ctx) override;
  size_t group_count() const { return refs_.size(); }
  const std::vector<ExprPtr>& groups() const { return groups_; }
  const std::vector<AggregateCall>& aggregates() const { return aggs_; }
  std::unique_ptr<PhysicalOperator> make_local_sink() const override;
  void merge_local(PhysicalOperator& local, ExecContext& ctx) override;
  bool input_columns(std::vector<uint8_t>* used) const override;

 private:
  // Group ids of rows [0, n) of key vectors `cols`, adding new groups (and their keys).
  void assign_groups(const std::vector<const Vector*>& cols, const DataChunk* keys, size_t n,
                     uint32_t* gids, ExecContext& ctx);
  void account_states(ExecContext& ctx);
  std::vector<ExprPtr> groups_;
  std::vector<AggregateCall> aggs_;
  std::vector<std::unique_ptr<AggregateState>> states_;
  ChunkCollection keys_;
  std::vector<ChunkCollection::RowRef> refs_;
  std::unique_ptr<KeyTable> table_;
  // per-batch scratch
  std::vector<std::vector<Vector>> args_;
  std::unique_ptr<DataChunk> gv_;
  std::vector<uint32_t> gids_, fresh_;
  size_t table_bytes_ = 0;
  size_t state_bytes_ = 0;
  int64_t charged_ = 0;  // bytes this operator added to the query's MemoryTracker
  size_t out_pos_ = 0;
};

// kSemi / kAnti output only the left columns: left rows with at least one match / none
// (EXISTS / NOT EXISTS after decorrelation).
enum class JoinType { kInner, kLeft, kRight, kFull, kSemi, kAnti };

// Hash join (equi keys) or nested loop (no keys), with an optional residual predicate over
// the joined row. children[0] = probe (left), children[1] = build (right). Output: left
// columns then right columns.
class HashJoinOp final : public PhysicalOperator {
 public:
  HashJoinOp(JoinType type, std::vector<ExprPtr> left_keys, std::vector<ExprPtr> right_keys,
             ExprPtr residual, std::vector<LogicalType> left_types, std::vector<LogicalType> right_types);
  ~HashJoinOp() override;
  std::string name() const override;
  std::string details() const override;
  bool has_build_child() const override { return true; }
  void sink(DataChunk& in, ExecContext& ctx) override;
  void finalize(ExecContext& ctx) override;
  OpResult execute(DataChunk& in, DataChunk& out, ExecContext& ctx) override;
  bool finish(DataChunk& out, ExecContext& ctx) override;
  // Probe-side copies share the built table (read-only once finalized); not for RIGHT/FULL
  // joins, whose probe marks build rows.
  std::unique_ptr<PhysicalOperator> clone_for_thread() const override;
  // As FilterOp::set_needed_columns: unread output columns are not gathered (a residual's
  // columns are always gathered).
  void set_needed_columns(std::vector<uint8_t> needed);
  // The join's definition (the streaming runtime rebuilds stream-stream joins from it).
  JoinType join_type() const { return type_; }
  const std::vector<ExprPtr>& left_keys() const { return lkeys_; }
  const std::vector<ExprPtr>& right_keys() const { return rkeys_; }
  const Expr* residual() const { return residual_.get(); }
  size_t left_width() const { return nleft_; }
  // Empties the build side, to sink it again (a streaming lookup join whose table changed).
  void reset_build();
  // Columns of the probe (left) input read when downstream reads the output columns
  // marked in needed_out (empty = all): those that pass through, the keys and the
  // residual's. used is resized to the probe width.
  void probe_columns(const std::vector<uint8_t>& needed_out, std::vector<uint8_t>* used) const;

 private:
  bool needed(size_t col) const { return needed_.empty() || needed_[col]; }
  std::vector<LogicalType> right_types_;
  std::vector<uint8_t> needed_;
  void start_probe(DataChunk& in, ExecContext& ctx);
  OpResult semi(DataChunk& in, DataChunk& out, ExecContext& ctx);
  // Next candidate pair of the current input chunk: probe row p_, build row; false at the end.
  bool next_pair(size_t n, uint32_t* probe, uint32_t* build);
  JoinType type_;
  std::vector<ExprPtr> lkeys_, rkeys_;
  ExprPtr residual_;
  size_t nleft_;
  // The build side: rows, and for every distinct key the chain of its rows (in input
  // order). Shared by the probe-side copies of this operator.
  struct Built;
  std::shared_ptr<Built> built_;
  std::vector<uint8_t> build_matched_;
  // probe state for the current input chunk
  bool probing_ = false;
  std::vector<uint32_t> heads_, ids_, lsel_, bids_;
  std::vector<uint8_t> probe_matched_;
  size_t p_ = 0;
  uint32_t cur_ = 0;  // next build row of probe row p_ (kNone: advance p_)
  bool in_chain_ = false;
  bool unmatched_phase_ = false;
  size_t finish_pos_ = 0;
};

struct SortKey {
  ExprPtr expr;
  KeySpec spec;
};

// ORDER BY; with limit >= 0 keeps only the first limit+offset rows (top-N).
class SortOp final : public PhysicalOperator {
 public:
  SortOp(std::vector<LogicalType> types, std::vector<SortKey> keys, int64_t limit);
  std::string name() const override { return limit_ >= 0 ? "TOP_N" : "SORT"; }
  std::string details() const override;
  bool is_breaker() const override { return true; }
  void sink(DataChunk& in, ExecContext& ctx) override;
  void finalize(ExecContext& ctx) override;
  bool get_data(DataChunk& out, ExecContext& ctx) override;
  // Top-N only: thread-local top-N lists merged at the end.
  std::unique_ptr<PhysicalOperator> make_local_sink() const override;
  void merge_local(PhysicalOperator& local, ExecContext& ctx) override;

 private:
  using Row = std::pair<std::string, ChunkCollection::RowRef>;
  void compact(ExecContext& ctx);
  // Top-N: offers rows sel of `in` with normalized keys enc[k] (for sel[k]); keeps rows_ a
  // max-heap of the best limit_ rows.
  void offer(const DataChunk& in, const std::vector<uint32_t>& sel, std::vector<std::string>& enc,
             ExecContext& ctx);
  std::vector<SortKey> keys_;
  int64_t limit_;
  ChunkCollection data_;
  std::vector<Row> rows_;
  size_t pos_ = 0;
  int64_t charged_ = 0;
  // scratch
  std::vector<std::string> enc_;
  std::string prefix_;
  std::vector<uint32_t> sel_;
};

enum class WindowKind { kRowNumber, kRank, kDenseRank, kLag, kLead, kFirstValue, kLastValue, kAggregate };

struct WindowCall {
  WindowKind kind;
  LogicalType type;
  std::vector<ExprPtr> partition;
  std::vector<SortKey> order;
  std::vector<ExprPtr> args;       // lag/lead: value, [offset], [default]; aggregates: args
  AggregateSignature agg;          // kAggregate
  bool whole_partition = false;    // aggregate frame: whole partition (no ORDER BY)
  std::string display;
};

// Window functions: output = input columns then one column per call.
class WindowOp final : public PhysicalOperator {
 public:
  WindowOp(std::vector<LogicalType> input_types, std::vector<WindowCall> calls);
  std::string name() const override { return "WINDOW"; }
  std::string details() const override;
  bool is_breaker() const override { return true; }
  void sink(DataChunk& in, ExecContext& ctx) override;
  void finalize(ExecContext& ctx) override;
  bool get_data(DataChunk& out, ExecContext& ctx) override;

 private:
  size_t ninput_;
  std::vector<WindowCall> calls_;
  std::vector<size_t> arg_base_;  // first stored column of each call's args
  ChunkCollection data_;          // input columns + evaluated args
  std::vector<std::vector<Vector>> results_;  // [call][chunk]
  size_t pos_ = 0;
};

// UNION ALL: every child feeds it through its own pipeline.
class UnionAllOp final : public PhysicalOperator {
 public:
  explicit UnionAllOp(std::vector<LogicalType> types) : PhysicalOperator(std::move(types)), data_(types_) {}
  std::string name() const override { return "UNION_ALL"; }
  bool is_breaker() const override { return true; }
  void sink(DataChunk& in, ExecContext& ctx) override;
  bool get_data(DataChunk& out, ExecContext& ctx) override;

 private:
  ChunkCollection data_;
  size_t pos_ = 0;
};

// Runs a physical plan: dependency pipelines to completion, then streams the root.
//
// Parallelism (morsel-driven): a dependency pipeline whose source is a table scan of at
// least kParallelMinRows rows runs on ctx.threads threads when every operator of its chain
// has clone_for_thread() and its sink has make_local_sink(). Workers claim the scan's
// stored chunks from a shared atomic cursor and push them through their own operator
// copies into their own sink (worker 0 uses the originals); after all have joined, the
// local sinks are merged into the original on the calling thread, in worker order. An
// error on any worker stops the others and is rethrown. The root pipeline (pulled by the
// caller) and smaller inputs run on the calling thread, so their row order is the serial one.
class Executor {
 public:
  static constexpr int64_t kParallelMinRows = 131072;
  Executor(OpPtr root, ExecContext& ctx);
  ~Executor();
  // Next chunk of the root, or nullptr at the end.
  DataChunk* next();
  // Runs to the end, discarding (for statements that only have effects).
  void drain();
  PhysicalOperator& root() { return *root_; }

 private:
  struct Pipeline;
  void build(PhysicalOperator* op, Pipeline* cur);
  void run_to_sink(Pipeline& p);
  OpPtr root_;
  ExecContext& ctx_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;  // execution order; last = root
  bool started_ = false;
};

// Indented operator tree for EXPLAIN.
std::string explain_plan(const PhysicalOperator& root);

}  // namespace sl::exec
