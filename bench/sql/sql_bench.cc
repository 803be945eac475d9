// SQL engine benchmark driver (bench/sql/run.sh): loads N generated rows of the AWS
// solution's record shape (zipcode int, product text, price int, ts timestamp) into a
// stored table through the catalog (not timed), a 50-row products table, then times each
// query of queries.tsv (best of --reps, the result fully pulled) with `SET threads = N`.
// The data is a pure function of the row index; duckdb_bench.mjs generates the same rows.
//
//   sql_bench --queries bench/sql/queries.tsv [--rows 10000000] [--threads 2] [--reps 5]
//
// Output, one line per query: name <TAB> best ms <TAB> fingerprint (rows and the sum of
// the integer cells, compared with DuckDB's by run.sh).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "sql/engine.h"

using namespace sl;

namespace {

constexpr int64_t kBaseMicros = 1793491200LL * 1000000;  // 2026-11-01 00:00:00 UTC

uint64_t h(uint64_t i, uint64_t k) { return (i * k) % 4294967296ULL; }

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
      int len = std::snprintf(buf, sizeof buf, "product%d", static_cast<int>(2 + h(i, 2246822519ULL) / 256 % 49));
      prod[k] = c.column(1).add_string(std::string_view(buf, static_cast<size_t>(len)));
      price[k] = static_cast<int32_t>(1 + h(i, 3266489917ULL) / 256 % 1000);
      ts[k] = kBaseMicros + static_cast<int64_t>(i) * 6000;
    }
    c.set_size(n);
    out.push_back(std::move(c));
  }
  return out;
}

void drain(sql::QueryResult& r, int64_t* rows, __int128* isum) {
  while (const exec::DataChunk* c = r.next()) {
    *rows += static_cast<int64_t>(c->size());
    for (size_t col = 0; col < c->column_count(); col++) {
      const auto& v = c->column(col);
      for (size_t i = 0; i < c->size(); i++) {
        if (v.is_null(i)) continue;
        if (v.type().id == exec::TypeId::kInteger) *isum += v.data<int32_t>()[i];
        else if (v.type().id == exec::TypeId::kBigInt) *isum += v.data<int64_t>()[i];
      }
    }
  }
}

std::string i128(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v) { s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10))); v /= 10; }
  return neg ? "-" + s : s;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 10000000;
  int threads = 2, reps = 5;
  std::string queries_path = "bench/sql/queries.tsv";
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rows") rows = std::atoll(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--queries") queries_path = argv[i + 1];
    else if (a == "--only") only = argv[i + 1];
    else { std::cerr << "unknown flag " << a << "\n"; return 2; }
  }
  std::vector<std::pair<std::string, std::string>> queries;
  {
    std::ifstream f(queries_path);
    if (!f) { std::cerr << "cannot read " << queries_path << "\n"; return 2; }
    std::string line;
    while (std::getline(f, line)) {
      auto tab = line.find('\t');
      if (tab == std::string::npos) continue;
      queries.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
  }
  auto dir = std::filesystem::temp_directory_path() / ("sl-sql-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int rc = 0;
  try {
    auto engine = sql::Engine::open(dir.string());
    auto session = engine->session();
    session->execute("CREATE TABLE events (zipcode int, product text, price int, ts timestamp)");
    session->execute("CREATE TABLE products (name text, category text, list_price int)");
    session->execute(
        "INSERT INTO products SELECT 'product' || k, 'cat' || (k % 5), k * 10 FROM generate_series(1, 50) AS g(k)");
    auto t0 = std::chrono::steady_clock::now();
    engine->catalog().stored_table("events")->append(generate(rows));
    auto t1 = std::chrono::steady_clock::now();
    std::cerr << "loaded " << rows << " rows in " << std::chrono::duration<double>(t1 - t0).count() << " s\n";
    session->execute("SET threads = " + std::to_string(threads));
    for (auto& [name, sql] : queries) {
      if (!only.empty() && name != only) continue;
      double best = 1e300;
      std::string fp;
      for (int r = 0; r < reps; r++) {
        int64_t n = 0;
        __int128 isum = 0;
        auto s = std::chrono::steady_clock::now();
        auto res = session->execute(sql);
        drain(res, &n, &isum);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count();
        best = std::min(best, ms);
        fp = "rows=" + std::to_string(n) + ",isum=" + i128(isum);
      }
      std::printf("%s\t%.2f\t%s\n", name.c_str(), best, fp.c_str());
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    rc = 1;
  }
  std::filesystem::remove_all(dir);
  return rc;
}
