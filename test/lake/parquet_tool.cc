// parquet_tool: the C++ side of the DuckDB checks (parquet_duckdb_test.mjs) and a debugging aid.
//
//   parquet_tool write DIR    writes our files (every type, NULLs, each codec, dictionary on
//                             and off, NOT NULL, many row groups, empty) and, beside each,
//                             NAME.expected with the rows written, in the dump format
//   parquet_tool dump FILE    prints the rows our reader returns
//   parquet_tool meta FILE    prints the schema, row groups and statistics
//   parquet_tool seeds DIR    writes small files for the fuzz seed corpus
//   parquet_tool scan FILE    reads every row group and column, prints rows and time
//
// Dump format: a first line of name:type cells, then one line per row; cells are
// tab-separated, NULL is \N, booleans true/false, integers and numerics in decimal, real
// and double as the shortest round-trip decimal (NaN, Infinity), text and bytea as
// lowercase hex of the bytes, dates as days since 1970-01-01, timestamps as microseconds
// since the epoch, intervals as months:days:micros.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "exec/value.h"
#include "lake/parquet.h"
#include "lake/tests/parquet_test_data.h"
#include "lake/tests/test_objects.h"

using namespace sl;
using namespace sl::lake;
using namespace sl::lake::parquet;

namespace {

std::string hex(std::string_view s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

std::string cell(const exec::Value& v) {
  if (v.is_null) return "\\N";
  switch (v.type.id) {
    case exec::TypeId::kBoolean: return v.i ? "true" : "false";
    case exec::TypeId::kNumeric: return exec::format_numeric(v.i, v.type.scale);
    case exec::TypeId::kReal: return exec::format_double(static_cast<float>(v.f));
    case exec::TypeId::kDouble: return exec::format_double(v.f);
    case exec::TypeId::kVarchar:
    case exec::TypeId::kBytea: return hex(v.s);
    case exec::TypeId::kInterval:
      return std::to_string(v.iv.months) + ":" + std::to_string(v.iv.days) + ":" + std::to_string(v.iv.micros);
    default: return std::to_string(v.i);
  }
}

std::string header(const std::vector<Field>& schema) {
  std::string h;
  for (size_t c = 0; c < schema.size(); c++) {
    if (c) h += '\t';
    h += schema[c].name + ":" + schema[c].type.to_string() + (schema[c].nullable ? "" : " not null");
  }
  return h + "\n";
}

std::string rows_text(const std::vector<exec::DataChunk>& chunks) {
  std::string out;
  for (auto& c : chunks) {
    for (size_t i = 0; i < c.size(); i++) {
      for (size_t k = 0; k < c.column_count(); k++) {
        if (k) out += '\t';
        out += cell(exec::Value::read(c.column(k), i));
      }
      out += '\n';
    }
  }
  return out;
}

int fail(const Status& st) {
  std::fprintf(stderr, "parquet_tool: %s\n", st.to_string().c_str());
  return 1;
}

Result<std::unique_ptr<Reader>> open_file(const std::string& path) {
  auto in = testing::FileObject::open(path);
  if (!in.ok()) return in.status();
  return Reader::open(std::move(*in), path);
}

int dump(const std::string& path) {
  auto r = open_file(path);
  if (!r.ok()) return fail(r.status());
  std::string out = header((*r)->schema());
  std::vector<size_t> cols((*r)->schema().size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  for (size_t g = 0; g < (*r)->num_row_groups(); g++) {
    std::vector<exec::DataChunk> chunks;
    Status st = (*r)->read_row_group(g, cols, &chunks);
    if (!st.ok()) return fail(st);
    out += rows_text(chunks);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int meta(const std::string& path) {
  auto r = open_file(path);
  if (!r.ok()) return fail(r.status());
  std::printf("%s", header((*r)->schema()).c_str());
  std::printf("rows %lld, row groups %zu\n", static_cast<long long>((*r)->num_rows()), (*r)->num_row_groups());
  for (size_t g = 0; g < (*r)->num_row_groups(); g++) {
    const auto& info = (*r)->row_group(g);
    std::printf("row group %zu: %lld rows, %llu bytes\n", g, static_cast<long long>(info.rows),
                static_cast<unsigned long long>(info.compressed_bytes));
    for (size_t c = 0; c < info.columns.size(); c++) {
      const auto& s = info.columns[c];
      std::printf("  %s: nulls %lld", (*r)->schema()[c].name.c_str(), static_cast<long long>(s.null_count));
      if (s.has_min_max) std::printf(", min %s, max %s", cell(s.min).c_str(), cell(s.max).c_str());
      std::printf("\n");
    }
  }
  return 0;
}

// Writes the test rows to path and, if `expected`, their dump to path.expected.
Status write_one(const std::string& path, const std::vector<Field>& schema, int64_t rows, const WriteOptions& o,
                 bool expected = true) {
  auto chunks = testdata::make_chunks(schema, rows);
  SL_ASSIGN_OR_RETURN(auto out, testing::FileWriter::create(path));
  SL_ASSIGN_OR_RETURN(auto w, Writer::open(std::move(out), schema, o));
  for (auto& c : chunks) SL_RETURN_IF_ERROR(w->write(c));
  SL_ASSIGN_OR_RETURN(auto summary, w->finish());
  (void)summary;
  if (!expected) return Status::OK();
  SL_ASSIGN_OR_RETURN(auto ex, testing::FileWriter::create(path + ".expected"));
  SL_RETURN_IF_ERROR(ex->append(header(schema) + rows_text(chunks)));
  return ex->close();
}

int write_all(const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);
  int files = 0;
  for (Codec codec : {Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool dict : {true, false}) {
      WriteOptions o;
      o.codec = codec;
      o.dictionary = dict;
      o.row_group_rows = 1500;
      o.page_bytes = 4096;
      std::string name = dir + "/ours_" + codec_name(codec) + (dict ? "_dict" : "_plain") + ".parquet";
      Status st = write_one(name, testdata::all_types_schema(), 4000, o);
      if (!st.ok()) return fail(st);
      files++;
    }
  }
  WriteOptions o;
  Status st = write_one(dir + "/ours_not_null.parquet", testdata::all_types_schema(false), 3000, o);
  if (st.ok()) st = write_one(dir + "/ours_empty.parquet", testdata::all_types_schema(), 0, o);
  WriteOptions small = o;
  small.row_group_rows = 777;
  small.page_bytes = 300;
  small.dictionary_max_bytes = 2000;  // falls back to PLAIN inside row groups
  if (st.ok()) st = write_one(dir + "/ours_many_groups.parquet", testdata::all_types_schema(), 20000, small);
  if (!st.ok()) return fail(st);
  std::printf("wrote %d files to %s\n", files + 3, dir.c_str());
  return 0;
}

int scan(const std::string& path) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = open_file(path);
  if (!r.ok()) return fail(r.status());
  std::vector<size_t> cols((*r)->schema().size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  int64_t rows = 0;
  std::vector<exec::DataChunk> chunks;
  for (size_t g = 0; g < (*r)->num_row_groups(); g++) {
    Status st = (*r)->read_row_group(g, cols, &chunks);
    if (!st.ok()) return fail(st);
    for (auto& c : chunks) rows += static_cast<int64_t>(c.size());
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%lld rows in %.1f ms\n", static_cast<long long>(rows), ms);
  return 0;
}

int write_seeds(const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);
  for (Codec codec : {Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool dict : {true, false}) {
      WriteOptions o;
      o.codec = codec;
      o.dictionary = dict;
      o.row_group_rows = 20;
      o.page_bytes = 64;
      std::string name = dir + "/ours_" + codec_name(codec) + (dict ? "_dict" : "_plain") + ".parquet";
      Status st = write_one(name, testdata::all_types_schema(codec != Codec::kGzip), 45, o, false);
      if (!st.ok()) return fail(st);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "write") return write_all(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "dump") return dump(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "meta") return meta(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "seeds") return write_seeds(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "scan") return scan(argv[2]);
  std::fprintf(stderr, "usage: parquet_tool write DIR | dump FILE | meta FILE | seeds DIR | scan FILE\n");
  return 2;
}
