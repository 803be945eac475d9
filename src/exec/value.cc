#include "exec/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "exec/error.h"
#include "util/time.h"

namespace sl::exec {

void Value::write(Vector& v, size_t row) const {
  if (is_null) { v.set_null(row); return; }
  v.set_valid(row);
  switch (phys_type(v.type().id)) {
    case PhysType::kU8: v.data<uint8_t>()[row] = static_cast<uint8_t>(i != 0); break;
    case PhysType::kI16: v.data<int16_t>()[row] = static_cast<int16_t>(i); break;
    case PhysType::kI32: v.data<int32_t>()[row] = static_cast<int32_t>(i); break;
    case PhysType::kI64: v.data<int64_t>()[row] = i; break;
    case PhysType::kF32: v.data<float>()[row] = static_cast<float>(f); break;
    case PhysType::kF64: v.data<double>()[row] = f; break;
    case PhysType::kStr: v.data<StringRef>()[row] = v.add_string(s); break;
    case PhysType::kInterval: v.data<Interval>()[row] = iv; break;
  }
}

Value Value::read(const Vector& v, size_t row) {
  Value out;
  out.type = v.type();
  if (v.is_null(row)) return out;
  out.is_null = false;
  switch (phys_type(v.type().id)) {
    case PhysType::kU8: out.i = v.data<uint8_t>()[row]; break;
    case PhysType::kI16: out.i = v.data<int16_t>()[row]; break;
    case PhysType::kI32: out.i = v.data<int32_t>()[row]; break;
    case PhysType::kI64: out.i = v.data<int64_t>()[row]; break;
    case PhysType::kF32: out.f = v.data<float>()[row]; break;
    case PhysType::kF64: out.f = v.data<double>()[row]; break;
    case PhysType::kStr: out.s = std::string(v.data<StringRef>()[row].view()); break;
    case PhysType::kInterval: out.iv = v.data<Interval>()[row]; break;
  }
  return out;
}

std::string Value::to_string() const {
  if (is_null) return "NULL";
  Vector v(type, 1);
  write(v, 0);
  std::string s;
  format_value(v, 0, s);
  return s;
}

std::string format_date(int32_t days) {
  int64_t y; unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[32];
  if (y <= 0) snprintf(buf, sizeof buf, "%04lld-%02u-%02u BC", static_cast<long long>(1 - y), m, d);
  else snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string format_timestamp(int64_t micros, bool tz) {
  // Not micros - days * kMicrosPerDay: that product overflows near INT64_MIN.
  int64_t days = micros / kMicrosPerDay, rem = micros % kMicrosPerDay;
  if (rem < 0) { rem += kMicrosPerDay; days--; }
  std::string s = format_date(static_cast<int32_t>(days));
  bool bc = s.size() > 3 && s.compare(s.size() - 3, 3, " BC") == 0;
  if (bc) s.resize(s.size() - 3);
  int64_t secs = rem / kMicrosPerSecond, frac = rem % kMicrosPerSecond;
  char buf[48];
  snprintf(buf, sizeof buf, " %02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
           static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  s += buf;
  if (frac) {
    snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    s += f;
  }
  if (tz) s += "+00";
  if (bc) s += " BC";
  return s;
}

std::string format_interval(const Interval& iv) {
  std::string s;
  auto part = [&](int64_t n, const char* unit) {
    if (!n) return;
    if (!s.empty()) s += ' ';
    s += std::to_string(n) + " " + unit + (n == 1 || n == -1 ? "" : "s");
  };
  int32_t years = iv.months / 12, mons = iv.months % 12;
  part(years, "year");
  if (mons) { if (!s.empty()) s += ' '; s += std::to_string(mons) + (mons == 1 || mons == -1 ? " mon" : " mons"); }
  part(iv.days, "day");
  if (iv.micros || s.empty()) {
    int64_t m = iv.micros;
    bool neg = m < 0;
    uint64_t um = neg ? -static_cast<uint64_t>(m) : m;
    uint64_t secs = um / kMicrosPerSecond, frac = um % kMicrosPerSecond;
    char buf[64];
    snprintf(buf, sizeof buf, "%s%02llu:%02llu:%02llu", neg ? "-" : "",
             static_cast<unsigned long long>(secs / 3600),
             static_cast<unsigned long long>(secs / 60 % 60),
             static_cast<unsigned long long>(secs % 60));
    std::string t = buf;
    if (frac) {
      snprintf(buf, sizeof buf, ".%06llu", static_cast<unsigned long long>(frac));
      std::string f = buf;
      while (f.back() == '0') f.pop_back();
      t += f;
    }
    if (!s.empty()) s += ' ';
    s += t;
  }
  return s;
}

std::string format_numeric(int64_t v, int scale) {
  bool neg = v < 0;
  uint64_t u = neg ? -static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits = std::to_string(u);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, ".");
  }
  return neg ? "-" + digits : digits;
}

std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, r.ptr);
  // PostgreSQL prints exponents as e+NN / e-NN.
  auto e = s.find('e');
  if (e != std::string::npos && s[e + 1] != '-' && s[e + 1] != '+') s.insert(e + 1, "+");
  if (e != std::string::npos) {
    size_t d0 = e + 2;
    if (s.size() - d0 == 1) s.insert(d0, "0");
  }
  return s;
}

static std::string format_float(float f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, r.ptr);
}

std::string format_bytea(std::string_view b) {
  static const char* hx = "0123456789abcdef";
  std::string s = "\\x";
  for (unsigned char c : b) { s += hx[c >> 4]; s += hx[c & 15]; }
  return s;
}

void format_value(const Vector& v, size_t row, std::string& out) {
  switch (v.type().id) {
    case TypeId::kNull: out += "NULL"; break;
    case TypeId::kBoolean: out += v.data<uint8_t>()[row] ? "t" : "f"; break;
    case TypeId::kSmallInt: out += std::to_string(v.data<int16_t>()[row]); break;
    case TypeId::kInteger: out += std::to_string(v.data<int32_t>()[row]); break;
    case TypeId::kBigInt: out += std::to_string(v.data<int64_t>()[row]); break;
    case TypeId::kReal: out += format_float(v.data<float>()[row]); break;
    case TypeId::kDouble: out += format_double(v.data<double>()[row]); break;
    case TypeId::kNumeric: out += format_numeric(v.data<int64_t>()[row], v.type().scale); break;
    case TypeId::kVarchar: out += v.data<StringRef>()[row].view(); break;
    case TypeId::kBytea: out += format_bytea(v.data<StringRef>()[row].view()); break;
    case TypeId::kDate: out += format_date(v.data<int32_t>()[row]); break;
    case TypeId::kTimestamp: out += format_timestamp(v.data<int64_t>()[row], false); break;
    case TypeId::kTimestampTz: out += format_timestamp(v.data<int64_t>()[row], true); break;
    case TypeId::kInterval: out += format_interval(v.data<Interval>()[row]); break;
  }
}

// ---- parsing ----------------------------------------------------------------------

static std::string_view trim(std::string_view s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

static std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return r;
}

bool parse_bool(std::string_view s, bool* out) {
  std::string l = lower(trim(s));
  if (l == "t" || l == "true" || l == "yes" || l == "y" || l == "on" || l == "1") { *out = true; return true; }
  if (l == "f" || l == "false" || l == "no" || l == "n" || l == "off" || l == "0") { *out = false; return true; }
  return false;
}

bool parse_int64(std::string_view s, int64_t* out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_double(std::string_view s, double* out) {
  s = trim(s);
  std::string l = lower(s);
  if (l == "nan") { *out = NAN; return true; }
  if (l == "infinity" || l == "+infinity" || l == "inf") { *out = INFINITY; return true; }
  if (l == "-infinity" || l == "-inf") { *out = -INFINITY; return true; }
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_numeric(std::string_view s, int precision, int scale, int64_t* out) {
  s = trim(s);
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) { neg = s.front() == '-'; s.remove_prefix(1); }
  // exponent form: fall back to double
  if (s.find_first_of("eE") != std::string_view::npos) {
    double d;
    if (!parse_double(s, &d)) return false;
    double scaled = std::round(d * static_cast<double>(pow10_i64(scale)));
    if (!(std::fabs(scaled) < static_cast<double>(pow10_i64(precision)))) return false;
    *out = static_cast<int64_t>(neg ? -scaled : scaled);
    return true;
  }
  __int128 v = 0;
  int frac_digits = 0, int_digits = 0;
  bool dot = false, any = false, round_up = false;
  for (size_t k = 0; k < s.size(); k++) {
    char c = s[k];
    if (c == '.') { if (dot) return false; dot = true; continue; }
    if (c < '0' || c > '9') return false;
    any = true;
    if (dot) {
      if (frac_digits == scale) { if (frac_digits == scale && k > 0 && s[k - 1] == '.' ? false : false) {} 
        // first dropped digit decides rounding
        round_up = c >= '5';
        for (size_t j = k + 1; j < s.size(); j++) if (s[j] < '0' || s[j] > '9') return false;
        break;
      }
      frac_digits++;
    } else if (v != 0 || c != '0') {
      int_digits++;
    }
    v = v * 10 + (c - '0');
    if (v > static_cast<__int128>(1) << 100) return false;
  }
  if (!any) return false;
  while (frac_digits < scale) { v *= 10; frac_digits++; }
  if (round_up) v += 1;
  if (v >= static_cast<__int128>(pow10_i64(precision))) return false;
  *out = static_cast<int64_t>(neg ? -v : v);
  return true;
}

static bool parse_uint(std::string_view& s, int maxdigits, int64_t* out) {
  int n = 0;
  int64_t v = 0;
  while (!s.empty() && n < maxdigits && isdigit(static_cast<unsigned char>(s.front()))) {
    v = v * 10 + (s.front() - '0');
    s.remove_prefix(1);
    n++;
  }
  *out = v;
  return n > 0;
}

static bool days_in_month_ok(int64_t y, int64_t m, int64_t d) {
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int lim = dim[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) lim = 29;
  return d <= lim;
}

static bool parse_date_prefix(std::string_view& s, int32_t* days) {
  int64_t y, m, d;
  if (!parse_uint(s, 6, &y) || s.empty() || s.front() != '-') return false;
  s.remove_prefix(1);
  if (!parse_uint(s, 2, &m) || s.empty() || s.front() != '-') return false;
  s.remove_prefix(1);
  if (!parse_uint(s, 2, &d)) return false;
  if (!days_in_month_ok(y, m, d)) return false;
  *days = static_cast<int32_t>(days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
  return true;
}

bool parse_date(std::string_view s, int32_t* days) {
  s = trim(s);
  if (!parse_date_prefix(s, days)) return false;
  s = trim(s);
  // Accept a trailing midnight time (casts of timestamps written as text).
  return s.empty();
}

bool parse_timestamp(std::string_view s, int64_t* micros) {
  s = trim(s);
  int32_t days;
  if (!parse_date_prefix(s, &days)) return false;
  int64_t t = 0;
  if (!s.empty() && (s.front() == ' ' || s.front() == 'T' || s.front() == 't')) {
    s.remove_prefix(1);
    int64_t hh, mi, ss = 0;
    if (!parse_uint(s, 2, &hh) || s.empty() || s.front() != ':') return false;
    s.remove_prefix(1);
    if (!parse_uint(s, 2, &mi)) return false;
    if (!s.empty() && s.front() == ':') {
      s.remove_prefix(1);
      if (!parse_uint(s, 2, &ss)) return false;
    }
    if (hh > 24 || mi > 59 || ss > 60) return false;
    int64_t frac = 0;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      int n = 0;
      while (!s.empty() && isdigit(static_cast<unsigned char>(s.front()))) {
        if (n < 6) { frac = frac * 10 + (s.front() - '0'); n++; }
        s.remove_prefix(1);
      }
      while (n < 6) { frac *= 10; n++; }
    }
    t = ((hh * 60 + mi) * 60 + ss) * kMicrosPerSecond + frac;
    s = trim(s);
    if (!s.empty()) {
      if (s == "Z" || s == "z" || s == "UTC" || s == "utc") {
        s = {};
      } else if (s.front() == '+' || s.front() == '-') {
        int sign = s.front() == '-' ? -1 : 1;
        s.remove_prefix(1);
        int64_t oh, om = 0;
        if (!parse_uint(s, 2, &oh)) return false;
        if (!s.empty() && s.front() == ':') s.remove_prefix(1);
        if (!s.empty()) parse_uint(s, 2, &om);
        t -= sign * (oh * 3600 + om * 60) * kMicrosPerSecond;
      }
    }
  }
  s = trim(s);
  if (!s.empty()) return false;
  *micros = static_cast<int64_t>(days) * kMicrosPerDay + t;
  return true;
}

bool parse_interval(std::string_view s, Interval* out) {
  s = trim(s);
  Interval iv;
  bool any = false;
  while (true) {
    s = trim(s);
    if (s.empty()) break;
    bool neg = false;
    if (s.front() == '-' || s.front() == '+') { neg = s.front() == '-'; s.remove_prefix(1); }
    // hh:mm[:ss[.frac]]
    size_t num_end = 0;
    while (num_end < s.size() && (isdigit(static_cast<unsigned char>(s[num_end])) || s[num_end] == '.')) num_end++;
    if (num_end == 0) return false;
    if (num_end < s.size() && s[num_end] == ':') {
      int64_t hh, mi, ss = 0, frac = 0;
      if (!parse_uint(s, 9, &hh) || s.empty() || s.front() != ':') return false;
      s.remove_prefix(1);
      if (!parse_uint(s, 2, &mi)) return false;
      if (!s.empty() && s.front() == ':') { s.remove_prefix(1); if (!parse_uint(s, 2, &ss)) return false; }
      if (!s.empty() && s.front() == '.') {
        s.remove_prefix(1);
        int n = 0;
        while (!s.empty() && isdigit(static_cast<unsigned char>(s.front()))) {
          if (n < 6) { frac = frac * 10 + (s.front() - '0'); n++; }
          s.remove_prefix(1);
        }
        while (n < 6) { frac *= 10; n++; }
      }
      int64_t t = ((hh * 60 + mi) * 60 + ss) * kMicrosPerSecond + frac;
      iv.micros += neg ? -t : t;
      any = true;
      continue;
    }
    double num;
    if (!parse_double(s.substr(0, num_end), &num)) return false;
    if (neg) num = -num;
    s.remove_prefix(num_end);
    s = trim(s);
    size_t ue = 0;
    while (ue < s.size() && isalpha(static_cast<unsigned char>(s[ue]))) ue++;
    std::string unit = lower(s.substr(0, ue));
    s.remove_prefix(ue);
    if (unit.empty()) unit = "second";
    if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
    if (unit == "year" || unit == "y" || unit == "yr") iv.months += static_cast<int32_t>(num * 12);
    else if (unit == "mon" || unit == "month") iv.months += static_cast<int32_t>(num);
    else if (unit == "week" || unit == "w") iv.days += static_cast<int32_t>(num * 7);
    else if (unit == "day" || unit == "d") {
      iv.days += static_cast<int32_t>(num);
      double f = num - static_cast<int32_t>(num);
      iv.micros += static_cast<int64_t>(std::llround(f * kMicrosPerDay));
    } else if (unit == "hour" || unit == "h" || unit == "hr") iv.micros += std::llround(num * 3600e6);
    else if (unit == "minute" || unit == "min" || unit == "m") iv.micros += std::llround(num * 60e6);
    else if (unit == "second" || unit == "sec" || unit == "s") iv.micros += std::llround(num * 1e6);
    else if (unit == "millisecond" || unit == "m" || unit == "ms" || unit == "msec") iv.micros += std::llround(num * 1e3);
    else if (unit == "microsecond" || unit == "us" || unit == "usec") iv.micros += std::llround(num);
    else return false;
    any = true;
  }
  if (!any) return false;
  *out = iv;
  return true;
}

bool parse_bytea(std::string_view s, std::string* out) {
  out->clear();
  if (s.size() >= 2 && s[0] == '\\' && (s[1] == 'x' || s[1] == 'X')) {
    auto hv = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if ((s.size() - 2) % 2) return false;
    for (size_t k = 2; k < s.size(); k += 2) {
      int a = hv(s[k]), b = hv(s[k + 1]);
      if (a < 0 || b < 0) return false;
      out->push_back(static_cast<char>(a * 16 + b));
    }
    return true;
  }
  for (size_t k = 0; k < s.size(); k++) {
    if (s[k] == '\\') {
      if (k + 1 < s.size() && s[k + 1] == '\\') { out->push_back('\\'); k++; continue; }
      if (k + 3 < s.size()) {
        int v = (s[k + 1] - '0') * 64 + (s[k + 2] - '0') * 8 + (s[k + 3] - '0');
        out->push_back(static_cast<char>(v));
        k += 3;
        continue;
      }
      return false;
    }
    out->push_back(s[k]);
  }
  return true;
}

Value parse_value(std::string_view text, LogicalType type) {
  auto bad = [&](const char* what) -> SqlError {
    return SqlError(sqlstate::kInvalidText,
                    std::string("invalid input syntax for type ") + what + ": \"" + std::string(text) + "\"");
  };
  auto range = [&]() -> SqlError {
    return SqlError(sqlstate::kNumericOutOfRange,
                    "value \"" + std::string(text) + "\" is out of range for type " + type.to_string());
  };
  Value v;
  v.type = type;
  v.is_null = false;
  switch (type.id) {
    case TypeId::kNull: return Value::null();
    case TypeId::kBoolean: {
      bool b;
      if (!parse_bool(text, &b)) throw bad("boolean");
      v.i = b;
      return v;
    }
    case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt: {
      int64_t x;
      if (!parse_int64(text, &x)) {
        double d;
        std::string_view t = trim(text);
        bool digits = !t.empty() && t.find_first_not_of("+-0123456789") == std::string_view::npos;
        if (digits && parse_double(t, &d)) throw range();
        throw bad(type.to_string().c_str());
      }
      if (type.id == TypeId::kSmallInt && (x < INT16_MIN || x > INT16_MAX)) throw range();
      if (type.id == TypeId::kInteger && (x < INT32_MIN || x > INT32_MAX)) throw range();
      v.i = x;
      return v;
    }
    case TypeId::kReal: case TypeId::kDouble:
      if (!parse_double(text, &v.f)) throw bad(type.to_string().c_str());
      return v;
    case TypeId::kNumeric: {
      int64_t x;
      if (!parse_numeric(text, type.precision, type.scale, &x)) {
        double d;
        if (parse_double(text, &d)) throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
        throw bad("numeric");
      }
      v.i = x;
      return v;
    }
    case TypeId::kVarchar: v.s = std::string(text); return v;
    case TypeId::kBytea:
      if (!parse_bytea(text, &v.s)) throw bad("bytea");
      return v;
    case TypeId::kDate: {
      int32_t d;
      if (!parse_date(text, &d)) {
        int64_t us;
        if (parse_timestamp(text, &us)) { v.i = us / kMicrosPerDay - (us % kMicrosPerDay < 0); return v; }
        throw SqlError(sqlstate::kInvalidDatetime, "invalid input syntax for type date: \"" + std::string(text) + "\"");
      }
      v.i = d;
      return v;
    }
    case TypeId::kTimestamp: case TypeId::kTimestampTz:
      if (!parse_timestamp(text, &v.i))
        throw SqlError(sqlstate::kInvalidDatetime,
                       "invalid input syntax for type timestamp: \"" + std::string(text) + "\"");
      return v;
    case TypeId::kInterval:
      if (!parse_interval(text, &v.iv))
        throw SqlError(sqlstate::kInvalidDatetime,
                       "invalid input syntax for type interval: \"" + std::string(text) + "\"");
      return v;
  }
  throw bad("unknown");
}

}  // namespace sl::exec
