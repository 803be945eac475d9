// Small helpers shared by the benchmark drivers (header-only; benches only).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "sql/engine.h"

namespace sl::bench {

// A random UUID-shaped string (8-4-4-4-12 hex digits).
inline std::string uuid(std::mt19937_64& rng) {
  static const char* hx = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      s += '-';
      continue;
    }
    s += hx[rng() & 15];
  }
  return s;
}

// Runs a statement to its end, discarding rows.
inline void run_sql(sql::Engine& e, const std::string& q) {
  auto s = e.session();
  auto r = s->execute(q);
  while (r.next()) {}
}

// The first column of the first row as an integer (-1 for no row or NULL).
inline int64_t scalar(sql::Engine& e, const std::string& q) {
  auto s = e.session();
  auto r = s->execute(q);
  const exec::DataChunk* c = r.next();
  if (!c || c->size() == 0 || c->column(0).is_null(0)) return -1;
  return c->column(0).data<int64_t>()[0];
}

}  // namespace sl::bench
