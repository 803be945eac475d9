#include "format/convert.h"

#include <charconv>
#include <climits>
#include <cmath>

#include "exec/value.h"

namespace sl::format {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// All ASCII digits after an optional '-', at most 19 digits.
bool all_digits(std::string_view s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i == s.size() || s.size() - i > 19) return false;
  for (; i < s.size(); i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

int64_t int_min_of(exec::TypeId t) {
  switch (t) {
    case exec::TypeId::kSmallInt: return INT16_MIN;
    case exec::TypeId::kInteger: return INT32_MIN;
    default: return INT64_MIN;
  }
}
int64_t int_max_of(exec::TypeId t) {
  switch (t) {
    case exec::TypeId::kSmallInt: return INT16_MAX;
    case exec::TypeId::kInteger: return INT32_MAX;
    default: return INT64_MAX;
  }
}

ConvertError parse_int_text(std::string_view s, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v;
  const char* b = s.data();
  const char* e = b + s.size();
  auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e || s.empty()) {
    // Slow path: whitespace, '+', or overflow of int64.
    std::string_view t = trim(s);
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    if (t.empty()) return ConvertError::kSyntax;
    r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ptr != t.data() + t.size()) return ConvertError::kSyntax;
    if (r.ec == std::errc::result_out_of_range) return ConvertError::kRange;
    if (r.ec != std::errc()) return ConvertError::kSyntax;
  }
  if (v < lo || v > hi) return ConvertError::kRange;
  *out = v;
  return ConvertError::kOk;
}

ConvertError parse_double_text(std::string_view s, double* out) {
  const char* e = s.data() + s.size();
  auto r = std::from_chars(s.data(), e, *out);
  if (!s.empty() && r.ec == std::errc() && r.ptr == e) return ConvertError::kOk;
  if (!s.empty() && r.ec == std::errc::result_out_of_range && r.ptr == e) return ConvertError::kRange;
  // NaN, Infinity, '+', whitespace: PostgreSQL's spellings via exec/.
  return exec::parse_double(s, out) ? ConvertError::kOk : ConvertError::kSyntax;
}

ConvertError parse_float_text(std::string_view s, float* out) {
  double d;
  ConvertError e = parse_double_text(s, &d);
  if (e != ConvertError::kOk) return e;
  if (std::isfinite(d) && std::fabs(d) > 3.4028234663852886e38) return ConvertError::kRange;
  *out = static_cast<float>(d);
  return ConvertError::kOk;
}

ConvertError parse_bool_text(std::string_view s, bool* out) {
  if (s.size() == 4 && (s == "true" || s == "TRUE")) { *out = true; return ConvertError::kOk; }
  if (s.size() == 5 && (s == "false" || s == "FALSE")) { *out = false; return ConvertError::kOk; }
  if (s.size() == 1) {
    switch (s[0]) {
      case 't': case 'T': case '1': *out = true; return ConvertError::kOk;
      case 'f': case 'F': case '0': *out = false; return ConvertError::kOk;
    }
  }
  return exec::parse_bool(s, out) ? ConvertError::kOk : ConvertError::kSyntax;
}

ConvertError parse_numeric_text(std::string_view s, int precision, int scale, int64_t* out) {
  if (exec::parse_numeric(s, precision, scale, out)) return ConvertError::kOk;
  double d;
  return exec::parse_double(s, &d) ? ConvertError::kRange : ConvertError::kSyntax;
}

int64_t epoch_to_micros(int64_t n) {
  uint64_t a = n < 0 ? -static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  if (a < 100000000000ULL) return n * 1000000;        // seconds
  if (a < 100000000000000ULL) return n * 1000;        // milliseconds
  return n;                                           // microseconds
}

ConvertError epoch_double_to_micros(double d, int64_t* micros) {
  if (!std::isfinite(d)) return ConvertError::kSyntax;
  double a = std::fabs(d);
  double us = a < 1e11 ? d * 1e6 : a < 1e14 ? d * 1e3 : d;
  if (!(std::fabs(us) < 9.2e18)) return ConvertError::kRange;
  *micros = std::llround(us);
  return ConvertError::kOk;
}

ConvertError parse_timestamp_text(std::string_view s, int64_t* micros) {
  // Fast path: 1..18 plain digits (epoch values as producers write them).
  if (!s.empty() && s.size() <= 18) {
    uint64_t n = 0;
    size_t i = 0;
    for (; i < s.size(); i++) {
      unsigned d = static_cast<unsigned char>(s[i]) - '0';
      if (d > 9) break;
      n = n * 10 + d;
    }
    if (i == s.size()) {
      *micros = epoch_to_micros(static_cast<int64_t>(n));
      return ConvertError::kOk;
    }
  }
  std::string_view t = trim(s);
  if (all_digits(t)) {
    int64_t n;
    auto r = std::from_chars(t.data(), t.data() + t.size(), n);
    if (r.ec != std::errc()) return ConvertError::kRange;
    *micros = epoch_to_micros(n);
    return ConvertError::kOk;
  }
  return exec::parse_timestamp(t, micros) ? ConvertError::kOk : ConvertError::kSyntax;
}

ConvertError parse_date_text(std::string_view s, int32_t* days) {
  std::string_view t = trim(s);
  if (exec::parse_date(t, days)) return ConvertError::kOk;
  int64_t us;
  ConvertError e = parse_timestamp_text(t, &us);
  if (e != ConvertError::kOk) return e;
  int64_t d = us / exec::kMicrosPerDay - (us % exec::kMicrosPerDay < 0);
  if (d < INT32_MIN || d > INT32_MAX) return ConvertError::kRange;
  *days = static_cast<int32_t>(d);
  return ConvertError::kOk;
}

std::string type_name(const exec::LogicalType& t) { return t.to_string(); }

std::string conversion_reason(std::string_view column, std::string_view text, const exec::LogicalType& t,
                              ConvertError e) {
  constexpr size_t kMaxShown = 64;
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  std::string r = "column " + std::string(column) + ": '" + shown + "'";
  std::string tn = type_name(t);
  if (e == ConvertError::kRange) return r + " is out of range for " + tn;
  return r + " is not a valid " + tn;
}

}  // namespace sl::format
