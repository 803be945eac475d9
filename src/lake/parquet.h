// Parquet files, our own writer and reader (no Parquet library is packaged in Debian 12).
//
// Format: Apache Parquet with Thrift compact metadata, data page v1 written (v1 and v2
// read), PLAIN and RLE_DICTIONARY (PLAIN_DICTIONARY read) encodings, RLE/bit-packed
// definition levels for NULLs (flat schemas: every column OPTIONAL unless NOT NULL),
// codecs UNCOMPRESSED / SNAPPY / GZIP / ZSTD, min/max/null-count statistics per column
// chunk (and per page header). The reader also decodes the encodings of v2 writers
// (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT,
// RLE booleans); nested or repeated columns, encrypted files, LZO/BROTLI/LZ4 and TIME
// columns are kUnsupported, naming the file and the column.
//
// Type mapping (ours → Parquet physical + logical; the reader maps back):
//   boolean → BOOLEAN; smallint → INT32 INT(16,true); integer → INT32; bigint → INT64;
//   real → FLOAT; double → DOUBLE; numeric(p,s) → INT64 (p > 9) or INT32 (p <= 9)
//   DECIMAL(p,s); text → BYTE_ARRAY STRING; bytea → BYTE_ARRAY; date → INT32 DATE;
//   timestamp → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false); timestamptz → INT64
//   TIMESTAMP(MICROS, true); interval → FIXED_LEN_BYTE_ARRAY(12) INTERVAL (months, days,
//   millis, little-endian u32 each; sub-millisecond micros are truncated, and a time part
//   that is negative or beyond 2^32 ms borrows whole days: the same total — documented).
// Reading files of other writers additionally maps: INT96 timestamps, TIMESTAMP(MILLIS|
// NANOS), INT(8|16|32|64, signed or not) (uint64 → numeric(18,0) refused beyond
// int64), DECIMAL as INT32/INT64/FIXED_LEN_BYTE_ARRAY/BYTE_ARRAY (precision <= 18), UUID
// and JSON/ENUM as text, FLOAT16 refused with kUnsupported naming the column.
//
// Memory: a Writer buffers at most one row group (WriteOptions::row_group_bytes of
// encoded pages, checked after each appended chunk; the page buffers are kept for the
// next row group); a Reader holds its footer and one row group's requested columns (its
// memory grows with the row group's declared row count, at most 2^31 rows).
// Errors: every corrupt or truncated input (bad magic, bad Thrift, lengths beyond the file,
// bad codec data, too many values) is kCorruption with a message naming the file; never a
// crash, never an unbounded allocation (sizes are checked against the file's size first).
// Threads: a Writer or Reader is used by one thread at a time; different instances are
// independent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exec/types.h"
#include "exec/value.h"
#include "exec/vector.h"
#include "lake/object_store.h"
#include "util/status.h"

namespace sl::lake::parquet {

enum class Codec { kNone, kSnappy, kGzip, kZstd };
// "none"/"uncompressed", "snappy", "gzip", "zstd" (case-insensitive); false otherwise.
bool parse_codec(std::string_view name, Codec* out);
const char* codec_name(Codec c);

struct Field {
  std::string name;
  exec::LogicalType type;
  bool nullable = true;
};

struct WriteOptions {
  Codec codec = Codec::kZstd;
  int compression_level = 3;            // zstd level / gzip level
  bool dictionary = true;               // RLE_DICTIONARY while the dictionary stays small
  // Beyond this a column falls back to PLAIN for the rest of the row group and starts
  // later row groups of this file PLAIN (its values are too diverse). Booleans are PLAIN.
  uint64_t dictionary_max_bytes = 1u << 20;
  uint64_t row_group_bytes = 64u << 20; // encoded bytes buffered before a row group is cut
  int64_t row_group_rows = 1 << 20;
  uint64_t page_bytes = 1u << 20;       // target uncompressed data page size
  std::string created_by = "streamlake";
};

struct ColumnStats {
  int64_t null_count = 0;               // -1: unknown (a file of another writer without it)
  // false for all-NULL chunks, intervals, NaN bounds, text/bytea values beyond 1 KiB (we
  // write no min/max then), and where another writer's statistics are absent or only
  // in the deprecated signed-order fields of a type whose order differs
  bool has_min_max = false;
  exec::Value min, max;                 // in the column's LogicalType
};

struct RowGroupInfo {
  int64_t rows = 0;
  uint64_t compressed_bytes = 0;
  std::vector<ColumnStats> columns;     // one per schema field
};

struct FileSummary {
  int64_t rows = 0;
  uint64_t file_bytes = 0;
  std::vector<ColumnStats> columns;     // merged over the row groups
  size_t row_groups = 0;
};

class Writer {
 public:
  // Takes ownership of `out`; finish() closes it, destruction without finish() aborts it.
  static Result<std::unique_ptr<Writer>> open(std::unique_ptr<ObjectWriter> out, std::vector<Field> schema,
                                              WriteOptions options = {});
  virtual ~Writer() = default;
  // Appends the chunk's rows (columns in schema order, types equal; signs ignored).
  // A NULL in a non-nullable field is kInvalidArgument.
  virtual Status write(const exec::DataChunk& chunk) = 0;
  // Flushes the last row group, writes the footer, closes the object (durable on return).
  virtual Result<FileSummary> finish() = 0;
  virtual int64_t rows_written() const = 0;
  // Bytes this writer holds in memory now (the open row group).
  virtual uint64_t buffered_bytes() const = 0;
};

class Reader {
 public:
  // Reads and checks the footer. `name` is used in error messages (the file's path or URI).
  static Result<std::unique_ptr<Reader>> open(std::unique_ptr<RandomAccessObject> in, std::string name);
  virtual ~Reader() = default;
  virtual const std::vector<Field>& schema() const = 0;
  virtual int64_t num_rows() const = 0;
  virtual size_t num_row_groups() const = 0;
  virtual const RowGroupInfo& row_group(size_t i) const = 0;
  // Decodes the given columns (indexes into schema()) of row group i into chunks of at
  // most exec::kVectorSize rows, each with exactly those columns in that order. *out is
  // replaced; the vectors of chunks already in it (the previous row group's, same
  // columns) are reused, which saves allocating and zeroing them again. NULL rows hold a
  // zero value. Errors: kCorruption / kUnsupported naming the file and the column,
  // kInvalidArgument for a bad index; the store's errors as they are.
  virtual Status read_row_group(size_t i, const std::vector<size_t>& columns,
                                std::vector<exec::DataChunk>* out) = 0;
};

}  // namespace sl::lake::parquet
