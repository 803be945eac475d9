// Data files of lake tables in any of their formats (Parquet, CSV.gz, JSONL.gz) behind
// one writer and one scan function, so tables and sinks never branch on the format.
//
// Threads: a DataFileWriter is used by one thread at a time; scan_data_file is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/vector.h"
#include "lake/object_store.h"
#include "lake/parquet.h"
#include "util/status.h"

namespace sl::lake {

enum class FileFormat { kParquet, kCsvGz, kJsonlGz };
// "parquet", "csv.gz", "jsonl.gz" (case-insensitive); false otherwise.
bool parse_file_format(std::string_view name, FileFormat* out);
const char* file_format_name(FileFormat f);
const char* file_extension(FileFormat f);  // ".parquet", ".csv.gz", ".jsonl.gz"

struct DataFileOptions {
  FileFormat format = FileFormat::kCsvGz;
  parquet::WriteOptions parquet;  // Parquet only
  int gzip_level = 6;             // CSV.gz / JSONL.gz
};

// One data file being written. Nothing is visible under its key before finish(); the
// destructor without finish() leaves nothing behind.
class DataFileWriter {
 public:
  virtual ~DataFileWriter() = default;
  // Appends the rows (columns in schema order; signs ignored).
  virtual Status write(const exec::DataChunk& chunk) = 0;
  // Completes the file (durable on return): row count, size, per-column statistics.
  virtual Result<parquet::FileSummary> finish() = 0;
  virtual int64_t rows() const = 0;
  // About the size the file would have if finished now (bytes written + buffered).
  virtual uint64_t bytes() const = 0;
};

Result<std::unique_ptr<DataFileWriter>> open_data_file_writer(ObjectStore& store, const std::string& key,
                                                              const std::vector<parquet::Field>& schema,
                                                              const DataFileOptions& options);

struct ScanCounters {
  uint64_t row_groups = 0, row_groups_pruned = 0;
};

// Reads columns `columns` (indexes into `schema`) of the file at `key`, chunk by chunk
// (at most kVectorSize rows each, exactly those columns in that order). Parquet row
// groups for which `keep` (may be empty) answers false are skipped. Stops at the first
// error, also one returned by `each`.
Status scan_data_file(ObjectStore& store, const std::string& key, FileFormat format,
                      const std::vector<parquet::Field>& schema, const std::vector<size_t>& columns,
                      const std::function<bool(const parquet::RowGroupInfo&)>& keep,
                      const std::function<Status(exec::DataChunk&)>& each, ScanCounters* counters = nullptr);

}  // namespace sl::lake
