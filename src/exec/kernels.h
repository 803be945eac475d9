// Typed loops shared by expression and function kernels (internal to exec/).
#pragma once

#include <cmath>
#include <cstring>

#include "exec/error.h"
#include "exec/vector.h"

namespace sl::exec {

// out[i] = f(a[i]) for valid rows; NULL in -> NULL out.
template <class A, class R, class F>
inline void unary_loop(const Vector& a, Vector& out, size_t n, F&& f) {
  const A* ad = a.data<A>();
  R* od = out.data<R>();
  if (a.all_valid()) {
    for (size_t i = 0; i < n; i++) od[i] = f(ad[i]);
  } else {
    for (size_t i = 0; i < n; i++) {
      if (a.is_valid(i)) od[i] = f(ad[i]);
      else out.set_null(i);
    }
  }
}

template <class A, class B, class R, class F>
inline void binary_loop(const Vector& a, const Vector& b, Vector& out, size_t n, F&& f) {
  const A* ad = a.data<A>();
  const B* bd = b.data<B>();
  R* od = out.data<R>();
  if (a.all_valid() && b.all_valid()) {
    for (size_t i = 0; i < n; i++) od[i] = f(ad[i], bd[i]);
  } else {
    for (size_t i = 0; i < n; i++) {
      if (a.is_valid(i) && b.is_valid(i)) od[i] = f(ad[i], bd[i]);
      else out.set_null(i);
    }
  }
}

// Three-way comparison with PostgreSQL ordering (NaN equal to itself and largest).
template <class T>
inline int cmp3(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    bool an = std::isnan(a), bn = std::isnan(b);
    if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
    return a < b ? -1 : (a > b ? 1 : 0);
  } else if constexpr (std::is_same_v<T, StringRef>) {
    int c = a.view().compare(b.view());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else if constexpr (std::is_same_v<T, Interval>) {
    auto x = a.total_micros(), y = b.total_micros();
    return x < y ? -1 : (x > y ? 1 : 0);
  } else {
    return a < b ? -1 : (a > b ? 1 : 0);
  }
}

[[noreturn]] inline void throw_overflow(const char* type) {
  throw SqlError(sqlstate::kNumericOutOfRange, std::string(type) + " out of range");
}
[[noreturn]] inline void throw_div_zero() {
  throw SqlError(sqlstate::kDivisionByZero, "division by zero");
}

// timestamp + sign * interval (months clamp the day to the month's end).
int64_t timestamp_add_interval(int64_t us, const Interval& iv, int sign);
// LIKE matching with % and _ and an escape character.
bool like_match(std::string_view s, std::string_view p, char esc);

// Gathers the rows `sel` of every column of `in` into a new chunk.
DataChunk gather_chunk(const DataChunk& in, const std::vector<uint32_t>& sel);
// out[sel[k]] = part[k]
void scatter(const Vector& part, const std::vector<uint32_t>& sel, Vector& out);

}  // namespace sl::exec
