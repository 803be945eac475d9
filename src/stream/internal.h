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
  explicit Reader(std::string_view in) : in_(in) {}
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
};

// Writes `bytes` to `path` atomically: path.tmp, fsync, rename, fsync of the directory.
void write_file_atomic(const std::string& path, const std::string& bytes);

// ---- rows held by a provider -----------------------------------------------------------

// A multiset of rows in arrival order with retraction, read by SQL as a snapshot.
// Thread-safe: the pipeline thread applies changes, SQL threads take snapshots.
class RowStore final : public catalog::TableProvider {
 public:
  explicit RowStore(std::vector<LogicalType> types) : types_(std::move(types)) {}
  std::vector<std::shared_ptr<const DataChunk>> snapshot() const override;
  int64_t row_count() const override;
  // Applies a changelog chunk: +1 appends, -1 removes one equal live row (ignored if none).
  void apply(const DataChunk& c);
  void clear();
  size_t memory_bytes() const;
  void save(Writer& w) const;
  void load(Reader& r);
  const std::vector<LogicalType>& types() const { return types_; }

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

 private:
  bool ready(const ShardState& s) const;
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
  std::string source;    // the stream table read
  WindowSpec window;
};
// Finds the one stream table (and window call) of a view's SELECT. Throws sl::UserError.
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

// Incremental GROUP BY over a changelog, with exec/ aggregate states. Emits, per input
// batch, a retraction of a group's previous row and an insert of its new one (emit
// changes), or, for windows in emit-final mode, each window's rows once the watermark
// passes its end. Window groups are freed when their window closes.
class IncrementalAggregate;

class View {
 public:
  View(std::string name, std::string select_sql, std::map<std::string, std::string> options);
  ~View();
  // Plans the query against `plan_catalog` (where the source relation is registered).
  void compile(catalog::Catalog& plan_catalog, const RewrittenQuery& q, const Source& src);
  // A new view (not loaded from a checkpoint): emits a global aggregate's first row.
  void start_fresh();
  std::string failed;  // set when processing threw; the view then stops
  const std::string& name() const { return name_; }
  const std::string& sql() const { return sql_; }
  const std::string& source() const { return source_; }
  const std::map<std::string, std::string>& options() const { return options_; }
  const std::vector<catalog::ColumnDef>& columns() const { return out_cols_; }
  std::shared_ptr<RowStore> contents() const { return contents_; }
  bool emit_final() const { return emit_final_; }
  // Per column of the source's schema: 1 when the view's query reads it (projection
  // pushdown into the source's decoder).
  const std::vector<uint8_t>& source_columns_read() const { return read_cols_; }

  // A batch of source rows (schema columns).
  void on_input(const DataChunk& in);
  // The source's watermark advanced.
  void on_watermark(int64_t wm);
  void fill_status(ViewStatus& st) const;

  void save(Writer& w) const;
  void load(Reader& r);

 private:
  void run_from(size_t stage, std::vector<DataChunk> chunks);
  void compute_source_columns(size_t ns, bool windowed, size_t window_col);
  std::string name_, sql_, source_;
  std::map<std::string, std::string> options_;
  RewrittenQuery query_;
  bool emit_final_ = false;
  std::vector<catalog::ColumnDef> out_cols_;
  exec::ExecContext ctx_;
  exec::OpPtr plan_;                               // owns the operators
  std::vector<exec::PhysicalOperator*> stages_;    // bottom-up streaming operators
  size_t agg_stage_ = SIZE_MAX;                    // index in stages_ of the aggregate
  std::unique_ptr<IncrementalAggregate> agg_;
  std::shared_ptr<RowStore> contents_;
  int64_t watermark_ = INT64_MIN;
  uint64_t rows_in_ = 0, rows_out_ = 0;
  std::vector<uint8_t> read_cols_;
};

}  // namespace sl::stream
