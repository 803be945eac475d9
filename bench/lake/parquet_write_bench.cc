// streamlake side of bench/lake (run.sh): writes ROWS records of the AWS solution's shape
// (zipcode int, product text, price int, ts timestamp) to one Parquet file with our writer.
// The rows are a pure function of the row index, the same formula as duckdb_write.mjs, and
// are generated in memory before the clock starts (DuckDB writes from an in-memory table).
//   parquet_write_bench ROWS FILE [CODEC]
// Output: streamlake <TAB> write ms <TAB> file bytes <TAB> peak buffered bytes
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lake/parquet.h"
#include "lake/tests/test_objects.h"

using namespace sl;

namespace {

uint64_t h(uint64_t i, uint64_t k) { return (i * k) % 4294967296ULL; }
constexpr int64_t kBaseMicros = 1793491200LL * 1000000;  // 2026-11-01 00:00:00 UTC

std::vector<exec::DataChunk> generate(int64_t rows) {
  using exec::TypeId;
  std::vector<exec::LogicalType> types{TypeId::kInteger, TypeId::kVarchar, TypeId::kInteger, TypeId::kTimestamp};
  std::vector<exec::DataChunk> out;
  char buf[32];
  for (int64_t start = 0; start < rows; start += exec::kVectorSize) {
    size_t n = static_cast<size_t>(std::min<int64_t>(exec::kVectorSize, rows - start));
    exec::DataChunk c(types);
    auto* zip = c.column(0).data<int32_t>();
    auto* prod = c.column(1).data<exec::StringRef>();
    auto* price = c.column(2).data<int32_t>();
    auto* ts = c.column(3).data<int64_t>();
    for (size_t k = 0; k < n; k++) {
      uint64_t i = static_cast<uint64_t>(start) + k;
      zip[k] = static_cast<int32_t>(10000 + h(i, 2654435761ULL) / 256 % 90000);
      int len = std::snprintf(buf, sizeof buf, "product%d", static_cast<int>(1 + h(i, 2246822519ULL) / 256 % 100));
      prod[k] = c.column(1).add_string(std::string_view(buf, static_cast<size_t>(len)));
      price[k] = static_cast<int32_t>(1 + h(i, 3266489917ULL) / 256 % 100);
      ts[k] = kBaseMicros + static_cast<int64_t>(i) * 6000;
    }
    c.set_size(n);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: parquet_write_bench ROWS FILE [CODEC]\n");
    return 2;
  }
  int64_t rows = std::stoll(argv[1]);
  std::string path = argv[2];
  lake::parquet::WriteOptions o;
  if (argc > 3 && !lake::parquet::parse_codec(argv[3], &o.codec)) {
    std::fprintf(stderr, "unknown codec %s\n", argv[3]);
    return 2;
  }
  auto chunks = generate(rows);
  std::vector<lake::parquet::Field> schema = {{"zipcode", exec::TypeId::kInteger},
                                              {"product", exec::TypeId::kVarchar},
                                              {"price", exec::TypeId::kInteger},
                                              {"ts", exec::TypeId::kTimestamp}};
  int loops = getenv("SL_BENCH_LOOPS") ? atoi(getenv("SL_BENCH_LOOPS")) : 1;
  for (int loop = 1; loop < loops; loop++) {  // warm-up writes (experiments only)
    auto o2 = lake::testing::FileWriter::create(path);
    auto w2 = lake::parquet::Writer::open(std::move(*o2), schema, o);
    auto t = std::chrono::steady_clock::now();
    for (auto& c : chunks) (*w2)->write(c).ignore();
    (*w2)->finish().status().ignore();
    std::fprintf(stderr, "warm-up write %.1f ms\n", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
  }
  auto t0 = std::chrono::steady_clock::now();
  auto out = lake::testing::FileWriter::create(path);
  if (!out.ok()) {
    std::fprintf(stderr, "%s\n", out.status().to_string().c_str());
    return 1;
  }
  auto w = lake::parquet::Writer::open(std::move(*out), schema, o);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().to_string().c_str());
    return 1;
  }
  uint64_t peak = 0;
  for (auto& c : chunks) {
    Status st = (*w)->write(c);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.to_string().c_str());
      return 1;
    }
    peak = std::max(peak, (*w)->buffered_bytes());
  }
  auto s = (*w)->finish();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().to_string().c_str());
    return 1;
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("streamlake\t%.1f\t%llu\t%llu\n", ms, static_cast<unsigned long long>(s->file_bytes),
              static_cast<unsigned long long>(peak));
  return 0;
}
