#include "fuzz/sql_fuzz_catalog.h"

#include <unistd.h>

#include <string>

namespace sl::fuzz {

std::unique_ptr<sql::Engine> open_fixed_engine() {
  char tmpl[] = "/tmp/sl_sql_fuzz.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto engine = sql::Engine::open(dir);
  auto s = engine->session();
  const char* setup =
      "CREATE TABLE t (a integer, b bigint, c double precision, d numeric(10,2), s text, "
      "  dt date, ts timestamp, tz timestamptz, f boolean, iv interval, by bytea);"
      "INSERT INTO t VALUES (1, 10, 1.5, 2.25, 'apple', DATE '2024-01-01', "
      "  TIMESTAMP '2024-01-01 10:00:00', TIMESTAMPTZ '2024-01-01 10:00:00+00', true, "
      "  interval '1 day', '\\x0102'),"
      " (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
      " (-3, -9223372036854775807, -0.0, -99999999.99, '', DATE '1970-01-01', "
      "  TIMESTAMP '1999-12-31 23:59:59.999999', TIMESTAMPTZ '2038-01-19 03:14:08+00', false, "
      "  interval '-1 month 2 hours', '\\x');"
      "INSERT INTO t SELECT g, g * 1000, g / 7.0, g, 'x' || g, DATE '2024-01-01' + g, "
      "  TIMESTAMP '2024-01-01' + g * interval '1 hour', NULL, g % 2 = 0, NULL, NULL "
      "  FROM generate_series(1, 50) AS s(g);"
      "CREATE TABLE u (k integer, label text);"
      "INSERT INTO u VALUES (1, 'one'), (2, 'two'), (NULL, 'null'), (2, NULL);"
      "CREATE TABLE e (x integer);"
      "CREATE VIEW v AS SELECT a, s FROM t WHERE a > 0;";
  for (auto& r : s->execute_script(setup)) {
    while (r.next()) {
    }
  }
  return engine;
}

}  // namespace sl::fuzz
