// libFuzzer target: SQL text through parse, bind and plan (Session::prepare) for every
// input, and execution of SELECT / EXPLAIN / SHOW statements over a small fixed catalog
// with a row budget (10,000 rows), a 200 ms statement timeout and a 64 MB memory limit.
// Statements that would change the catalog (CREATE, INSERT, DROP, COPY, ...) are prepared
// but not run, so every input sees the same tables.
//
// A user error (sl::UserError, any SQLSTATE but XX000) is an expected outcome; anything
// else thrown is a bug and aborts, as does a sanitizer report.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz/sql_fuzz_catalog.h"
#include "sql/engine.h"
#include "util/error.h"

namespace {

sl::sql::Engine* engine() {
  static std::unique_ptr<sl::sql::Engine> e = sl::fuzz::open_fixed_engine();
  return e.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return -1;
  std::string sql(reinterpret_cast<const char*>(data), size);
  sl::sql::SessionOptions opts;
  opts.timeout_ms = 200;
  opts.memory_limit_bytes = int64_t{64} << 20;
  auto session = engine()->session(opts);
  try {
    auto stmt = session->prepare(sql);
    using K = sl::sql::StatementKind;
    if (stmt.kind() != K::kSelect && stmt.kind() != K::kExplain && stmt.kind() != K::kShow) return 0;
    std::vector<sl::sql::ParamValue> params;
    for (size_t i = 0; i < stmt.parameter_types().size(); i++) params.push_back(sl::sql::ParamValue::text("1"));
    auto r = session->execute(stmt, params);
    size_t rows = 0;
    while (const auto* c = r.next()) {
      // Render every value: the formatting code is part of what is fuzzed.
      for (size_t i = 0; i < c->size(); i++) {
        std::string out;
        for (size_t col = 0; col < c->column_count(); col++) {
          if (!c->column(col).is_null(i)) sl::sql::append_pg_text(c->column(col), i, out);
        }
      }
      rows += c->size();
      if (rows > 10000) break;
    }
  } catch (const sl::UserError&) {
  } catch (const std::exception& e) {
    fprintf(stderr, "sql_fuzz: internal error: %s\n  query: %s\n", e.what(), sql.c_str());
    abort();
  }
  return 0;
}
