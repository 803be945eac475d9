// libFuzzer target: the Parquet reader (src/lake/parquet.h) over arbitrary file bytes —
// footer Thrift, schema mapping, page headers, codecs, levels, every value encoding. Each
// row group whose declared row count is small enough is decoded in full and every value is
// touched, so the output vectors are read back. Seeds: small files of our writer and of
// DuckDB (v1 and v2 pages) in corpus/parquet_fuzz/.
#include <cstdint>
#include <string>
#include <vector>

#include "exec/value.h"
#include "lake/parquet.h"
#include "lake/tests/test_objects.h"

using namespace sl::lake;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return -1;
  auto r = parquet::Reader::open(
      std::make_unique<testing::MemoryObject>(std::string(reinterpret_cast<const char*>(data), size)), "fuzz.parquet");
  if (!r.ok()) return 0;
  std::vector<size_t> cols((*r)->schema().size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  std::string sink;
  for (size_t g = 0; g < (*r)->num_row_groups(); g++) {
    // The reader's memory is bounded by the row group's declared rows (as every reader's).
    if ((*r)->row_group(g).rows > 100000) continue;
    std::vector<sl::exec::DataChunk> out;
    if (!(*r)->read_row_group(g, cols, &out).ok()) continue;
    for (auto& c : out) {
      for (size_t i = 0; i < c.size(); i++) {
        for (size_t k = 0; k < c.column_count(); k++) sl::exec::format_value(c.column(k), i, sink);
        sink.clear();
      }
    }
  }
  return 0;
}
