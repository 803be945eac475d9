// Format dispatch for data files (see data_file.h).
#include "lake/data_file.h"

#include <algorithm>
#include <cctype>

#include "lake/text_files.h"

namespace sl::lake {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class TextDataFile final : public DataFileWriter {
 public:
  TextDataFile(std::unique_ptr<ObjectWriter> out, TextFormat f, std::vector<parquet::Field> schema, int level)
      : w_(std::move(out), f, std::move(schema), level) {}
  Status write(const exec::DataChunk& chunk) override { return w_.write(chunk); }
  Result<parquet::FileSummary> finish() override { return w_.finish(); }
  int64_t rows() const override { return w_.rows(); }
  uint64_t bytes() const override { return w_.bytes(); }

 private:
  TextFileWriter w_;
};

class ParquetDataFile final : public DataFileWriter {
 public:
  // `out` is the object the writer owns (its bytes so far count towards the file's size).
  ParquetDataFile(std::unique_ptr<parquet::Writer> w, const ObjectWriter* out) : w_(std::move(w)), out_(out) {}
  Status write(const exec::DataChunk& chunk) override {
    SL_RETURN_IF_ERROR(w_->write(chunk));
    return Status::OK();
  }
  Result<parquet::FileSummary> finish() override { return w_->finish(); }
  int64_t rows() const override { return w_->rows_written(); }
  uint64_t bytes() const override { return out_->bytes_written() + w_->buffered_bytes(); }

 private:
  std::unique_ptr<parquet::Writer> w_;
  const ObjectWriter* out_;
};

}  // namespace

bool parse_file_format(std::string_view name, FileFormat* out) {
  std::string n = lower(name);
  if (n == "parquet") *out = FileFormat::kParquet;
  else if (n == "csv.gz" || n == "csv") *out = FileFormat::kCsvGz;
  else if (n == "jsonl.gz" || n == "jsonl" || n == "json") *out = FileFormat::kJsonlGz;
  else return false;
  return true;
}

const char* file_format_name(FileFormat f) {
  switch (f) {
    case FileFormat::kParquet: return "parquet";
    case FileFormat::kCsvGz: return "csv.gz";
    case FileFormat::kJsonlGz: return "jsonl.gz";
  }
  return "?";
}

const char* file_extension(FileFormat f) {
  switch (f) {
    case FileFormat::kParquet: return ".parquet";
    case FileFormat::kCsvGz: return ".csv.gz";
    case FileFormat::kJsonlGz: return ".jsonl.gz";
  }
  return "";
}

Result<std::unique_ptr<DataFileWriter>> open_data_file_writer(ObjectStore& store, const std::string& key,
                                                              const std::vector<parquet::Field>& schema,
                                                              const DataFileOptions& options) {
  SL_ASSIGN_OR_RETURN(auto out, store.create(key));
  switch (options.format) {
    case FileFormat::kCsvGz:
    case FileFormat::kJsonlGz:
      return std::unique_ptr<DataFileWriter>(new TextDataFile(
          std::move(out), options.format == FileFormat::kCsvGz ? TextFormat::kCsv : TextFormat::kJsonLines, schema,
          options.gzip_level));
    case FileFormat::kParquet: {
      const ObjectWriter* raw = out.get();
      SL_ASSIGN_OR_RETURN(auto w, parquet::Writer::open(std::move(out), schema, options.parquet));
      return std::unique_ptr<DataFileWriter>(new ParquetDataFile(std::move(w), raw));
    }
  }
  return invalid_argument("unknown data file format");
}

Status scan_data_file(ObjectStore& store, const std::string& key, FileFormat format,
                      const std::vector<parquet::Field>& schema, const std::vector<size_t>& columns,
                      const std::function<bool(const parquet::RowGroupInfo&)>& keep,
                      const std::function<Status(exec::DataChunk&)>& each, ScanCounters* counters) {
  SL_ASSIGN_OR_RETURN(auto in, store.open(key));
  std::string name = store.uri() + "/" + key;
  if (format == FileFormat::kParquet) {
    SL_ASSIGN_OR_RETURN(auto r, parquet::Reader::open(std::move(in), name));
    if (r->schema().size() != schema.size())
      return corruption(name + ": " + std::to_string(r->schema().size()) + " columns, the table has " +
                        std::to_string(schema.size()));
    for (size_t g = 0; g < r->num_row_groups(); g++) {
      if (counters) counters->row_groups++;
      if (keep && !keep(r->row_group(g))) {
        if (counters) counters->row_groups_pruned++;
        continue;
      }
      std::vector<exec::DataChunk> chunks;
      SL_RETURN_IF_ERROR(r->read_row_group(g, columns, &chunks));
      for (auto& c : chunks) SL_RETURN_IF_ERROR(each(c));
    }
    return Status::OK();
  }
  TextFileReader r(std::move(in), format == FileFormat::kCsvGz ? TextFormat::kCsv : TextFormat::kJsonLines, schema,
                   name);
  if (counters) counters->row_groups++;
  for (;;) {
    exec::DataChunk c;
    bool eof = false;
    SL_RETURN_IF_ERROR(r.next(&c, &eof));
    if (eof) break;
    exec::DataChunk out({}, std::max<size_t>(c.capacity(), 1));
    for (size_t k : columns) out.add_column(exec::Vector::sharing(c.column(k)));
    out.set_size(c.size());
    SL_RETURN_IF_ERROR(each(out));
  }
  return Status::OK();
}

}  // namespace sl::lake
