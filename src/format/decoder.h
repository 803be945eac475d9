// RecordDecoder: batches of raw stream records (CSV or JSON lines, optionally inside
// KPL aggregates) decoded straight into an exec::DataChunk.
//
// Lifecycle: build one decoder per source (or per pipeline instance) from a schema and
// options; the constructor validates them and throws sl::UserError on a bad definition.
// Then, per batch of records:
//
//   dec.set_input(records);                 // records' bytes must stay alive until done()
//   while (!dec.done()) {
//     exec::DataChunk chunk = dec.make_chunk();   // or reset() a reused one
//     dec.decode(chunk, errors);            // appends rows until chunk is full or input ends
//     ... push chunk; errors.rows -> <table>_errors ...
//   }
//
// decode() appends from chunk.size() up to chunk.capacity() and stops there; the next call
// resumes at the exact row where it stopped, also inside a multi-row record or a KPL
// aggregate. Rows that fail to decode or convert are not appended: an ErrorRow goes to the
// sink instead and decoding continues with the next row.
//
// Threads: a decoder is used by one thread at a time (it keeps a simdjson parser and
// scratch buffers). Different decoders are independent.
//
// Output columns: the schema's columns in order, then `_partition` (bigint), `_offset`
// (bigint), `_arrival` (timestamptz) for each one requested, in that order. Without an
// event-time column `_arrival` is always added and is the event time. See README.md for
// CSV/JSON rules (NULLs, quoting, blank lines, extra and missing fields).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exec/types.h"
#include "exec/vector.h"

namespace sl::format {

// Bytes a reader may need past the end of a record's data to parse it in place.
inline constexpr size_t kRecordPadding = 64;

// One record of a stream as the source hands it over. `data` is borrowed.
struct RawRecord {
  std::string_view data;
  uint32_t partition = 0;   // shard / partition id
  uint64_t offset = 0;      // sequence number or offset in that partition
  int64_t arrival_ms = 0;   // arrival time at the log (epoch milliseconds)
  // At least kRecordPadding readable bytes follow `data` (any content): JSON is then
  // parsed in place instead of from a padded copy.
  bool padded = false;
};

enum class RecordFormat : uint8_t { kCsv, kJson };

struct ColumnSpec {
  std::string name;
  exec::LogicalType type;
  // JSON: key or dotted path ("a.b") of the value; empty = `name`.
  std::string json_path;
  // CSV: 0-based field position; -1 = the column's position in the schema.
  int csv_index = -1;
};

struct DecoderOptions {
  RecordFormat format = RecordFormat::kCsv;
  // CSV
  char delimiter = ',';
  char quote = '"';
  bool skip_header = false;  // drop the first row of every (inner) record
  // Which schema column holds event time (timestamp, timestamptz or date); empty = none,
  // then `_arrival` is added and used as event time. A NULL event time is an error row.
  std::string event_time_column;
  // Hidden metadata columns to append.
  bool with_partition = false;
  bool with_offset = false;
  bool with_arrival = false;
  // De-aggregate KPL records (magic 0xF3 0x89 0x9A 0xC2); others pass through unchanged.
  bool kpl = true;
  // Projection: read_columns[k] == 0 marks schema column k as read by nobody. Its values are
  // still decoded and converted (a bad value makes the row an error row exactly as when
  // the column is read), but not kept: the column is NULL in every output row, and text
  // is not copied. Empty = every column is read. The event-time column is always kept.
  std::vector<uint8_t> read_columns;
};

// A row (or a whole record) that could not be decoded.
struct ErrorRow {
  uint32_t partition = 0;
  uint64_t offset = 0;
  int64_t arrival_ms = 0;
  uint32_t sub_row = 0;   // row index inside the record (counting across KPL inner records)
  std::string reason;     // "column price: 'abc' is not a valid integer"
  std::string raw;        // the row's bytes (the whole record for a corrupt aggregate)
};

struct ErrorSink {
  std::vector<ErrorRow> rows;
  void clear() { rows.clear(); }
};

// Fixed schema of an errors table chunk:
//   _partition bigint, _offset bigint, _arrival timestamptz, sub_row integer,
//   reason text, raw bytea.
std::vector<std::string> error_column_names();
std::vector<exec::LogicalType> error_column_types();
// Appends rows[from, ...) to `out` (error schema) until it is full; returns the count.
size_t append_errors(const std::vector<ErrorRow>& rows, size_t from, exec::DataChunk& out);

class RecordDecoder {
 public:
  // Throws sl::UserError on an unknown event-time column, a bad JSON path or CSV index,
  // or an event-time column that is not temporal.
  RecordDecoder(std::vector<ColumnSpec> schema, DecoderOptions options);
  ~RecordDecoder();
  RecordDecoder(RecordDecoder&&) noexcept;
  RecordDecoder& operator=(RecordDecoder&&) noexcept;

  const std::vector<std::string>& output_names() const;
  const std::vector<exec::LogicalType>& output_types() const;
  // Output column holding event time (timestamp micros; days for a date column).
  size_t event_time_index() const;
  // -1 when the column was not requested.
  int partition_index() const;
  int offset_index() const;
  int arrival_index() const;

  exec::DataChunk make_chunk(size_t capacity = exec::kVectorSize) const;

  // Starts a new batch. REQUIRES: the records' bytes outlive decoding of this batch.
  void set_input(std::span<const RawRecord> records);
  // Appends decoded rows to `out` (whose types are output_types()) from out.size() until
  // out is full or the input is exhausted; errors go to `errors`. Returns rows appended.
  size_t decode(exec::DataChunk& out, ErrorSink& errors);
  // True when every record of the batch has been consumed.
  bool done() const;
  // Records of the batch fully consumed so far (a checkpoint may resume after them).
  size_t records_consumed() const;

  // Counters since construction.
  uint64_t rows_decoded() const;
  uint64_t rows_failed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sl::format
