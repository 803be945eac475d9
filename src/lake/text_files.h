// Gzip'd text data files of the lake: CSV with a header row (".csv.gz") and JSON lines
// (".jsonl.gz"), written with format/encoder.h and read back with format/decoder.h, so
// what a sink writes reads back to the same values (see encoder.h for the text rules).
//
// Memory: a writer holds one chunk's text and zlib's window (the compressed bytes stream
// to the ObjectWriter in pieces of kTextPieceBytes); a reader holds one compressed piece
// and the text of the rows not yet decoded (at most one piece plus one row).
// Errors: bad gzip data, a truncated file or a row that does not decode is kCorruption
// naming the file and the row. Threads: one thread per writer / reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exec/types.h"
#include "exec/value.h"
#include "exec/vector.h"
#include "lake/object_store.h"
#include "lake/parquet.h"
#include "util/status.h"

namespace sl::lake {

inline constexpr size_t kTextPieceBytes = 256 << 10;

enum class TextFormat { kCsv, kJsonLines };

// Column statistics gathered from the rows written (min/max of every type but interval;
// text only while values stay <= 64 bytes, since a truncated max would lie).
class StatsBuilder {
 public:
  explicit StatsBuilder(std::vector<exec::LogicalType> types);
  void add(const exec::DataChunk& chunk);
  const std::vector<parquet::ColumnStats>& stats() const { return stats_; }

 private:
  std::vector<exec::LogicalType> types_;
  std::vector<parquet::ColumnStats> stats_;
  std::vector<uint8_t> text_too_long_;
};

// Three-way comparison of two non-NULL values of the same type.
int compare_values(const exec::Value& a, const exec::Value& b);

// Writes one gzip'd text file. Nothing is visible under the key before finish().
class TextFileWriter {
 public:
  TextFileWriter(std::unique_ptr<ObjectWriter> out, TextFormat format, std::vector<parquet::Field> schema,
                 int gzip_level = 6);
  ~TextFileWriter();  // aborts unless finished
  TextFileWriter(const TextFileWriter&) = delete;
  TextFileWriter& operator=(const TextFileWriter&) = delete;
  Status write(const exec::DataChunk& chunk);
  // Flushes the gzip trailer and closes the object (durable on return).
  Result<parquet::FileSummary> finish();
  void abort();
  int64_t rows() const { return rows_; }
  // Compressed bytes produced so far (what the file would be if finished now, about).
  uint64_t bytes() const;

 private:
  Status deflate_some(const char* data, size_t n, int flush);
  struct Z;
  std::unique_ptr<Z> z_;
  std::unique_ptr<ObjectWriter> out_;
  TextFormat format_;
  std::vector<parquet::Field> schema_;
  std::vector<std::string> names_;
  StatsBuilder stats_;
  std::string text_, zout_;
  int64_t rows_ = 0;
  bool header_done_ = false, done_ = false;
};

// Reads a gzip'd text file written by TextFileWriter (or any CSV with a header row / any
// JSON lines file with these columns) as chunks of `schema`'s types.
class TextFileReader {
 public:
  // `name` is used in error messages.
  TextFileReader(std::unique_ptr<RandomAccessObject> in, TextFormat format, std::vector<parquet::Field> schema,
                 std::string name);
  ~TextFileReader();
  TextFileReader(const TextFileReader&) = delete;
  TextFileReader& operator=(const TextFileReader&) = delete;
  // The next chunk of rows (at most kVectorSize); *eof once the file is exhausted (then
  // `out` is empty).
  Status next(exec::DataChunk* out, bool* eof);

 private:
  Status fill();  // inflates the next compressed piece into text_
  Status decode_complete_rows(bool last);
  struct Z;
  struct Dec;
  std::unique_ptr<Z> z_;
  std::unique_ptr<Dec> dec_;
  std::unique_ptr<RandomAccessObject> in_;
  TextFormat format_;
  std::vector<parquet::Field> schema_;
  std::string name_;
  uint64_t offset_ = 0;
  std::string text_;                    // inflated, not yet decoded
  std::vector<exec::DataChunk> ready_;  // decoded, not yet returned
  size_t ready_pos_ = 0;
  bool header_skipped_ = false, stream_end_ = false, input_end_ = false;
  bool in_quotes_ = false;  // CSV: quote state at the end of text_ scanned so far
  size_t scanned_ = 0;      // bytes of text_ whose quote state is known
  uint64_t rows_ = 0;
};

}  // namespace sl::lake
