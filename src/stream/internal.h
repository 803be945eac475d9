// Internal to stream/: sources, views, windows and the checkpoint codec.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "exec/context.h"
#include "exec/operators.h"
#include "format/decoder.h"
#include "stream/runtime.h"
#include "util/time.h"

namespace sl { class ThreadPool; }
namespace sl::sql { struct StatementPlan; }
namespace sl::kinesis { class Service; }
namespace sl::log { class LogStore; class Partition; }

namespace sl::stream {

using exec::DataChunk;
using exec::LogicalType;

// ---- checkpoint codec ------------------------------------------------------------------

class Writer {
 public:
  void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void str(std::string_view s) { u64(s.size()); buf_.append(s); }
  void raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void types(const std::vector<LogicalType>& t);
  void chunk(const DataChunk& c);  // rows, validity, signs
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  explicit Reader(std::string_view in, uint32_t version = 2) : in_(in), version(version) {}
  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  int64_t i64();
  std::string str();
  std::string_view raw(size_t n);
  std::vector<LogicalType> types();
  DataChunk chunk(const std::vector<LogicalType>& types);
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;

 public:
  uint32_t version;  // of the checkpoint being read
};

// Writes `bytes` to `path` atomically: path.tmp, fsync, rename, fsync of the directory.
void write_file_atomic(const std::string& path, const std::string& bytes);

// ---- rows held by a provider -----------------------------------------------------------

// A multiset of rows in arrival order with retraction, read by SQL as a snapshot.
// Thread-safe: the pipeline thread applies changes, SQL threads take snapshots.
//
// Persistence: without a journal, save() writes every row into the checkpoint. With one
// (attach_journal), save() appends only the changes since the previous save() to
// DIR/<base>.<generation>.rows (frames of [length, CRC32C, chunk with signs], fsync'd) and
// writes (generation, length, rows) into the checkpoint, so a checkpoint costs what changed,
// not what the view holds. load() replays the file up to the recorded length and cuts off
// what a crash left beyond it. When retractions make the file more than twice the live
// rows, the next save() starts a new generation with a compacted snapshot; the old file is
// deleted by committed(), once a checkpoint naming the new one is durable.
class RowStore final : public catalog::TableProvider {
 public:
  explicit RowStore(std::vector<LogicalType> types) : types_(std::move(types)) {}
  ~RowStore() override;
  std::vector<std::shared_ptr<const DataChunk>> snapshot() const override;
  int64_t row_count() const override;
  // Applies a changelog chunk: +1 appends, -1 removes one equal live row (ignored if none).
  void apply(const DataChunk& c);
  void clear();
  size_t memory_bytes() const;
  void save(Writer& w) const;
  void load(Reader& r);
  const std::vector<LogicalType>& types() const { return types_; }

  void attach_journal(std::string dir, std::string base);
  // The checkpoint written after the last save() is durable: old generations go.
  void committed();
  // Deletes every file of this store (DROP).
  void remove_files();
  // The file the last save()/load() refers to ("" if none).
  std::string journal_file() const;
  // Prefix of a store's files in the state directory: [a-z0-9_] kept, other bytes %XX.
  static std::string file_base(const std::string& kind, const std::string& name);

 private:
  void append_locked(const DataChunk& c, size_t i);
  void build_index_locked();
  void compact_locked();
  std::vector<LogicalType> types_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<DataChunk>> chunks_;  // last one may be partly filled
  std::vector<std::vector<uint8_t>> dead_;          // per chunk, per row (empty = none)
  int64_t live_ = 0, dead_count_ = 0;
  bool indexed_ = false;
  std::unordered_map<std::string, std::vector<uint64_t>> index_;  // row key -> chunk<<32|row
  mutable std::vector<std::shared_ptr<const DataChunk>> cache_;
  mutable bool cache_valid_ = false;
  // Journal (bookkeeping of persistence, hence mutable: save() is logically const).
  std::string journal_dir_, journal_base_;
  mutable std::vector<DataChunk> pending_;  // changes applied since the last save()
  mutable uint64_t gen_ = 0, journal_bytes_ = 0, journal_rows_ = 0;
  mutable std::vector<std::string> obsolete_;
};

// ---- sources ---------------------------------------------------------------------------

struct SourceOptions {
  std::string stream;
  format::RecordFormat format = format::RecordFormat::kCsv;
  char delimiter = ',';
  std::string event_time;  // column; empty = arrival time
  int64_t max_lateness_us = 0;
  bool start_latest = false;
  int64_t idle_timeout_ms = 10000;
  bool skip_header = false;
  // Field mapping: column -> JSON key or dotted path; column -> 0-based CSV field.
  std::map<std::string, std::string> json_paths;
  std::map<std::string, int> csv_fields;
};
// Parses and validates WITH (...) of a stream table. Throws sl::UserError.
SourceOptions parse_source_options(const std::map<std::string, std::string>& opts,
                                   const std::vector<catalog::ColumnDef>& cols, int64_t default_idle_ms);
// '5 seconds', '1 minute', '250 ms' -> microseconds. Throws sl::UserError.
int64_t parse_duration_us(const std::string& text, const char* what);

struct ShardState {
  std::string shard_id;
  uint32_t ordinal = 0;
  std::vector<std::string> parents;
  std::string partition;
  bool open = true;
  uint64_t end_offset = 0;  // closed shards
  uint64_t next = 0;        // next offset to read
  bool positioned = false;  // `next` is meaningful (else: start of the partition)
  bool has_start = false;   // start = where the table began reading ('latest' at CREATE)
  uint64_t start = 0;
  bool finished = false;
  int64_t max_event_us = INT64_MIN;
  int64_t last_active_ms = 0;  // processing time of the last record (or start)
  int64_t lag_ms = 0;
};

// A table bound to a Kinesis stream: reads every shard (children after their parents),
// decodes, drops late rows into the errors table and tracks the watermark.
// Used by the pipeline thread only (under the runtime's mutex), except the providers.
class Source {
 public:
  // `pool` (may be null) decodes shards in parallel.
  Source(std::string name, std::vector<catalog::ColumnDef> cols, SourceOptions opts,
         kinesis::Service* kinesis, log::LogStore* log, Clock* clock, ThreadPool* pool);
  const std::string& name() const { return name_; }
  const SourceOptions& options() const { return opts_; }
  const std::vector<catalog::ColumnDef>& columns() const { return cols_; }
  std::vector<LogicalType> types() const;
  size_t event_time_col() const { return et_col_; }  // in the schema columns

  // Refreshes the shard list (new shards from splits and merges).
  void refresh();
  // Puts positions of 'latest' at the current end of every shard (at creation).
  void position_at_latest();
  // Reads and decodes up to max_records per ready shard; rows on time go to `out`
  // (schema columns only), late and bad ones to the errors table. Returns records read.
  size_t poll(size_t max_records, std::vector<DataChunk>& out);
  // The same, handing each chunk to `deliver` (in shard, then offset order) as soon as it
  // is decoded: with a pool, later parts of the round decode meanwhile.
  size_t poll(size_t max_records, const std::function<void(DataChunk&)>& deliver);
  // Recomputes the watermark (monotonic); returns it.
  int64_t advance_watermark();
  int64_t watermark() const { return watermark_; }
  bool has_more() const { return has_more_; }
  // Projection: which schema columns the views read (empty = all); see
  // format::DecoderOptions::read_columns. Unread columns reach views as NULL; the errors
  // table is unchanged (unread columns are still decoded and checked).
  void set_read_columns(std::vector<uint8_t> read);

  std::shared_ptr<RowStore> errors() const { return errors_; }
  std::shared_ptr<catalog::TableProvider> retained() const { return retained_; }
  std::string status() const { return status_; }
  void fill_status(StreamStatus& st) const;

  void save(Writer& w) const;
  void load(Reader& r);

  // A reader of the same table for a view created after this source had read records:
  // from where the table began (its start positions) up to this source's current
  // positions, exactly. Its late rows and errors go nowhere (this source has them).
  std::unique_ptr<Source> backfill_reader() const;
  // A backfill reader has read up to its stop positions.
  bool reached_stop() const;
  // Whether this source has read anything a new view would miss.
  bool progressed() const;

 private:
  bool ready(const ShardState& s) const;
  uint64_t stop_of(const ShardState& s) const;
  // Where the table began reading the shard: its 'latest' start, else the log's start.
  uint64_t start_of(const ShardState& s) const;
  std::map<std::string, uint64_t> stop_at_;  // backfill readers: shard -> end offset
  bool backfill_ = false;
  std::string name_;
  std::vector<catalog::ColumnDef> cols_;
  SourceOptions opts_;
  kinesis::Service* kinesis_;
  log::LogStore* log_;
  Clock* clock_;
  ThreadPool* pool_;
  std::vector<std::unique_ptr<format::RecordDecoder>> decoders_;  // per task of a round
  std::vector<uint8_t> read_cols_;  // projection of the decoders (empty = all)
  size_t et_col_ = 0;        // event time column in the decoder output
  std::map<std::string, ShardState> shards_;
  int64_t watermark_ = INT64_MIN;
  bool has_more_ = false;
  std::string status_ = "running";
  uint64_t rows_in_ = 0, records_in_ = 0, errors_count_ = 0, late_ = 0;
  int64_t max_event_all_ = INT64_MIN;
  int64_t last_arrival_ms_ = -1;  // newest record read (StreamStatus::last_arrival_ms)
  std::shared_ptr<RowStore> errors_;
  std::shared_ptr<catalog::TableProvider> retained_;
};

// Columns of an errors table.
std::vector<catalog::ColumnDef> error_table_columns();

// ---- windows ---------------------------------------------------------------------------

enum class WindowKind { kNone, kTumble, kHop, kSession };

struct WindowSpec {
  WindowKind kind = WindowKind::kNone;
  std::string table;    // the stream table
  std::string column;   // event-time column
  size_t column_index = 0;
  int64_t size_us = 0;  // tumble/hop: size; session: gap
  int64_t slide_us = 0; // hop
  LogicalType time_type;
};

// The view's SELECT with window table functions replaced by a relation name.
struct RewrittenQuery {
  std::string sql;
  std::string relation;  // the name the window call was replaced by ("" if none)
  std::string source;    // the first stream table read
  std::vector<std::string> sources;  // every stream table read (at most two), in order
  size_t stream_reads = 0;           // references to stream tables (a self-join: 2)
  WindowSpec window;
};
// Finds the stream tables (one, or two joined) and the window call of a view's SELECT.
// Throws sl::UserError.
RewrittenQuery rewrite_view_query(const std::string& select_sql, const std::string& view_name,
                                  const std::function<bool(const std::string&)>& is_stream);

// Appends window_start/window_end for tumble/hop (hop repeats a row per window); for
// session, both columns are NULL here (the aggregate assigns sessions).
std::vector<DataChunk> assign_windows(const WindowSpec& w, const DataChunk& in);
// Start of the first window (aligned to the epoch) that contains ts.
int64_t window_floor(int64_t ts, int64_t slide);

// ---- views -----------------------------------------------------------------------------

// Keyed state behind one interface, with measured memory (group key -> slot).
class KeyedState {
 public:
  // Slot of `key`, creating it (and *created = true) when absent.
  uint32_t find_or_add(const std::string& key, bool* created);
  int64_t find(const std::string& key) const;  // -1 if absent
  void erase(const std::string& key);
  size_t size() const { return map_.size(); }
  size_t memory_bytes() const { return bytes_; }
  uint32_t slots() const { return next_; }
  void save(Writer& w) const;
  void load(Reader& r);

 private:
  std::unordered_map<std::string, uint32_t> map_;
  std::vector<uint32_t> free_;
  uint32_t next_ = 0;
  size_t bytes_ = 0;
};

// ---- stream-stream joins -----------------------------------------------------------------

// Time bounds of an interval join found in its residual: right_time - left_time lies in
// [lo, hi] (INT64_MIN / INT64_MAX: unbounded), the times being columns left_col of the
// left rows and right_col of the right rows (-1: no bound found). Strict comparisons are
// taken as inclusive (the residual still decides each pair).
struct IntervalBounds {
  int left_col = -1, right_col = -1;
  int64_t lo = INT64_MIN, hi = INT64_MAX;
};
// Looks for conjuncts `x.t1 [+-] interval (<|<=|>|>=) y.t2 [+-] interval` (BETWEEN is two
// of them) comparing a left timestamp column with a right one.
IntervalBounds find_interval_bounds(const exec::Expr* residual, size_t left_width, exec::ExecContext& ctx);

// The rows one side of a join keeps, by encoded join key (KeyedState), with an expiry
// time each; rows live in pages of owned copies. Memory is measured (memory_bytes).
class JoinSideState {
 public:
  explicit JoinSideState(std::vector<LogicalType> types);
  // Keeps rows sel[i] of `in` under keys[i] until the watermark passes expire[i]
  // (INT64_MAX: forever); matched (may be empty: none) says which already found a match.
  void add(const DataChunk& in, const std::vector<uint32_t>& sel, const std::vector<std::string>& keys,
           const std::vector<int64_t>& expire, const std::vector<uint8_t>& matched);
  // Row `id` found a match (outer joins).
  void mark_matched(uint64_t id);
  // Row ids with `key` (in arrival order), or null.
  const std::vector<uint64_t>* find(const std::string& key) const;
  // The page holding row `id` and its row there.
  const DataChunk& page_of(uint64_t id, size_t* row) const;
  // Drops rows whose expiry is below wm; returns how many. With `unmatched`, the dropped
  // rows that never matched are appended to it (outer joins).
  size_t evict(int64_t wm, std::vector<DataChunk>* unmatched = nullptr);
  bool alive(uint64_t id) const;
  size_t rows() const { return live_; }
  size_t memory_bytes() const;
  void save(Writer& w) const;
  void load(Reader& r);

 private:
  struct Page {
    DataChunk chunk;                // kVectorSize rows
    std::vector<uint32_t> slot;     // per row: key slot
    std::vector<int64_t> expire;    // per row
    std::vector<uint8_t> matched;   // per row
    std::vector<uint8_t> dead;      // per row: evicted (its page stays until all are)
    uint32_t live = 0;
  };
  std::vector<LogicalType> types_;
  KeyedState keys_;
  std::vector<std::vector<uint64_t>> rows_of_;  // per slot: live row ids, ascending
  std::vector<std::string> key_of_;             // per slot
  std::vector<uint8_t> dirty_;                  // per slot: lost rows in the current evict()
  std::map<uint64_t, Page> pages_;              // page number (id / kVectorSize) -> page
  std::map<int64_t, std::vector<uint64_t>> by_expire_;
  uint64_t next_id_ = 0;
  size_t live_ = 0, bytes_ = 0;
};

// A join of two append-only streams, built from the plan's HashJoinOp (its type, keys and
// residual over left columns then right columns). Side 0 is the left input. Inner, LEFT,
// RIGHT and FULL: an outer side's row that never matched is emitted with NULLs for the
// other side once it is evicted (the other side's watermark passed its last chance), so
// an outer side must be evictable.
class IntervalJoin {
 public:
  IntervalJoin(const exec::HashJoinOp& op, exec::ExecContext& ctx);
  const IntervalBounds& bounds() const { return bounds_; }
  // Which sides may evict rows: left rows when the right time column is the right
  // stream's event time (its watermark bounds future right rows), and symmetrically.
  void set_eviction(bool left, bool right);
  bool evicts(int side) const { return evict_[side]; }
  bool outer(int side) const { return outer_[side]; }
  // Rows of one side (after that side's operators): joined rows go to `out`.
  void consume(int side, const DataChunk& in, exec::ExecContext& ctx, std::vector<DataChunk>& out);
  // The sides' watermarks advanced: evicts rows that can no longer match; an outer
  // side's unmatched rows go to `out` with NULLs.
  void on_watermarks(int64_t wm_left, int64_t wm_right, std::vector<DataChunk>& out);
  // A watermark for the time column of `side` in the join's output (INT64_MIN if none:
  // without a bound an old row may still be joined).
  int64_t output_watermark(int side) const;
  size_t memory_bytes() const;
  size_t rows(int side) const { return state_[side].rows(); }
  void save(Writer& w) const;
  void load(Reader& r);

 private:
  int64_t expiry(int side, int64_t t) const;
  // Rows of `side` with NULLs for the other side's columns.
  void null_extend(int side, const DataChunk& rows, std::vector<DataChunk>& out) const;
  bool outer_[2] = {false, false};
  std::vector<LogicalType> left_types_, right_types_, out_types_;
  std::vector<exec::ExprPtr> keys_[2];
  exec::ExprPtr residual_;
  IntervalBounds bounds_;
  bool evict_[2] = {false, false};
  int64_t wm_[2] = {INT64_MIN, INT64_MIN};
  JoinSideState state_[2];
};

// Incremental GROUP BY over a changelog, with exec/ aggregate states. Emits, per input
// batch, a retraction of a group's previous row and an insert of its new one (emit
// changes), or, for windows in emit-final mode, each window's rows once the watermark
// passes its end. Window groups are freed when their window closes.
class IncrementalAggregate;

class View {
 public:
  View(std::string name, std::string select_sql, std::map<std::string, std::string> options);
  ~View();
  // Plans the query against `plan_catalog` (where the source relations are registered);
  // `sources` are the runtime's stream tables.
  void compile(catalog::Catalog& plan_catalog, const RewrittenQuery& q,
               const std::map<std::string, std::unique_ptr<Source>>& sources);
  // A new view (not loaded from a checkpoint): emits a global aggregate's first row.
  void start_fresh();
  std::string failed;  // set when processing threw; the view then stops
  const std::string& name() const { return name_; }
  const std::string& sql() const { return sql_; }
  // The stream tables read (one, or two for a stream-stream join; the same table twice
  // for a self-join is listed once).
  const std::vector<std::string>& sources() const { return sources_; }
  bool reads(const std::string& source) const;
  const std::map<std::string, std::string>& options() const { return options_; }
  const std::vector<catalog::ColumnDef>& columns() const { return out_cols_; }
  std::shared_ptr<RowStore> contents() const { return contents_; }
  bool emit_final() const { return emit_final_; }
  // Whether the output holds retractions (an aggregate emitting changes); otherwise it
  // is append-only (filters, projections, joins, windows emitting final rows).
  bool changelog() const { return agg_ != nullptr && !emit_final_; }
  // Called with every output chunk (rows with signs) as it is applied to contents()
  // (lake sinks of the view). Not called while the view backfills at creation.
  std::function<void(const DataChunk&)> on_output;
  // Per column of the source's schema: 1 when the view's query reads it (projection
  // pushdown into the source's decoder).
  const std::vector<uint8_t>& source_columns_read() const { return read_cols_; }

  // A batch of rows (schema columns) of the stream table `source`.
  void on_input(const std::string& source, const DataChunk& in);
  // The sources' watermarks (every source of the view is in `wms`).
  void on_watermarks(const std::map<std::string, int64_t>& wms);
  void fill_status(ViewStatus& st) const;

  void save(Writer& w) const;
  void load(Reader& r);

 private:
  // A scan of a stream table (or its window relation) and the streaming operators above
  // it, up to the stream-stream join (or, without one, none: stages_ hold them all).
  struct Branch {
    std::string source;
    bool windowed = false;
    std::vector<exec::PhysicalOperator*> stages;  // bottom-up
    bool keeps_columns = true;  // no projection: the scan's columns keep their positions
    std::vector<int> col_map;   // per output column: the scan column it carries unchanged, or -1
  };
  Branch walk_branch(exec::PhysicalOperator* op, const std::function<bool(const exec::PhysicalOperator&)>& reads_stream,
                     const std::function<bool(const std::string&)>& is_stream_rel);
  void lookup_join(exec::PhysicalOperator* op);
  // Rebuilds the lookup joins whose tables changed since they were built.
  void refresh_lookups();
  sql::StatementPlan plan(const std::string& select_sql);
  struct Lookup {
    exec::PhysicalOperator* op;
    std::vector<size_t> path;  // child indices from plan_ to op (found again in a new plan)
    std::vector<std::pair<std::shared_ptr<catalog::TableProvider>, uint64_t>> tables;  // version when built
  };
  std::vector<Lookup> lookups_;
  catalog::Catalog* plan_catalog_ = nullptr;
  std::vector<DataChunk> run_op(exec::PhysicalOperator* op, std::vector<DataChunk> chunks);
  std::vector<DataChunk> run_stages(const std::vector<exec::PhysicalOperator*>& stages, std::vector<DataChunk> chunks);
  void run_from(size_t stage, std::vector<DataChunk> chunks);
  void compute_source_columns(size_t ns, bool windowed, size_t window_col);
  std::string name_, sql_;
  std::vector<std::string> sources_;
  std::map<std::string, std::string> options_;
  RewrittenQuery query_;
  bool emit_final_ = false;
  std::vector<catalog::ColumnDef> out_cols_;
  exec::ExecContext ctx_;
  exec::OpPtr plan_;                               // owns the operators
  std::vector<Branch> branches_;                   // 1, or 2 below a stream-stream join
  std::unique_ptr<IntervalJoin> join_;
  int window_side_ = -1;                           // join: the branch with the window
  std::vector<exec::PhysicalOperator*> stages_;    // bottom-up streaming operators (above the join)
  size_t agg_stage_ = SIZE_MAX;                    // index in stages_ of the aggregate
  std::unique_ptr<IncrementalAggregate> agg_;
  std::shared_ptr<RowStore> contents_;
  int64_t watermark_ = INT64_MIN;
  uint64_t rows_in_ = 0, rows_out_ = 0;
  std::vector<uint8_t> read_cols_;
};

// ---- lake sinks ------------------------------------------------------------------------

// The runtime's lake sinks (CREATE SINK): one LakeSink each, fed the rows of a stream
// table or the output of a materialized view, prepared and committed with the runtime's
// checkpoint (docs/lake.md, "Commit protocol"). Used under the runtime's mutex only;
// the providers (SELECT FROM <sink>) are read by SQL threads.
class SinkSet {
 public:
  struct Relation {
    std::string name;
    std::vector<catalog::ColumnDef> columns;
    bool changelog = false;        // a view whose output retracts: sink it with `op`
    std::string default_time;      // the table's event time column ("" = none)
  };
  SinkSet(std::string data_dir, Clock* clock, lake::S3Options s3);
  ~SinkSet();
  // Validates `options` and opens the sink (creating its lake table). Returns the sink's
  // columns and the options with their defaults resolved (what the catalog persists).
  // Throws SqlError / UserError.
  std::pair<std::vector<catalog::ColumnDef>, std::map<std::string, std::string>> add(
      const std::string& name, const Relation& from, const std::map<std::string, std::string>& options);
  // A sink whose definition could not be opened at start (its store unreachable, ...):
  // listed as failed, so checkpoints wait (they would move positions past rows it has not
  // written) until a restart opens it or DROP SINK removes it.
  void add_failed(const std::string& name, const std::string& from, const std::string& error);
  // Forgets a sink: a final prepare + commit unless `purge`, which deletes its table.
  void remove(const std::string& name, bool purge);
  bool has(const std::string& name) const { return sinks_.count(name) > 0; }
  // A sink reading `relation` ("" if none).
  std::string reader_of(const std::string& relation) const;
  std::shared_ptr<catalog::TableProvider> provider(const std::string& name) const;
  // Rows of `relation` (a stream table's rows, a view's output) to every sink reading it.
  void feed(const std::string& relation, const DataChunk& c);
  // While paused, feed() drops rows (views backfilling at open).
  void pause(bool p) { paused_ = p; }
  // Rows written straight to one sink (backfill at creation).
  void feed_one(const std::string& name, const DataChunk& c);

  // Checkpoint, phase 1: every sink's output durable; the records go in the checkpoint.
  // `positions(relation)` gives the opaque source positions. Throws on failure (the
  // checkpoint must then not be written).
  void prepare(uint64_t epoch, const std::function<std::string(const std::string&)>& positions);
  void save(Writer& w) const;
  // Phase 2, after the checkpoint is durable: publish; then maintenance. Errors stay in
  // the sink's status (the pending commit rides along with the next checkpoint).
  void committed();
  // Recovery: the records of the last checkpoint (name -> record); sinks missing from it
  // were created after it and are returned (to be backfilled).
  std::vector<std::string> recover(const std::map<std::string, std::string>& records);
  static std::map<std::string, std::string> load(Reader& r);
  void fill_status(std::vector<SinkStatus>& out) const;

 private:
  struct Entry;
  std::string data_dir_;
  Clock* clock_;
  lake::S3Options s3_;
  std::shared_ptr<lake::ObjectStore> local_;  // DATA/lake
  std::map<std::string, std::unique_ptr<Entry>> sinks_;
  bool paused_ = false;
};

}  // namespace sl::stream
