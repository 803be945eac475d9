// Scalar functions: name + argument types -> result type, argument casts and a kernel.
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "exec/error.h"
#include "exec/expression.h"
#include "exec/kernels.h"
#include "util/hash.h"
#include "util/time.h"

namespace sl::exec {
namespace {

using Args = std::vector<LogicalType>;
using T = TypeId;

std::string lower_str(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return r;
}

// Rows where any argument is NULL produce NULL; f(i) computes the rest.
template <class F>
void each_row(std::vector<Vector>& args, size_t n, Vector& out, F&& f) {
  for (size_t i = 0; i < n; i++) {
    bool null = false;
    for (auto& a : args) null = null || a.is_null(i);
    if (null) out.set_null(i);
    else f(i);
  }
}

// Number of UTF-8 code points.
size_t utf8_len(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
// Byte offset of code point `cp` (clamped to the end).
size_t utf8_offset(std::string_view s, int64_t cp) {
  size_t i = 0;
  while (i < s.size() && cp > 0) {
    i++;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) i++;
    cp--;
  }
  return i;
}

std::string_view sv(const Vector& v, size_t i) { return v.data<StringRef>()[i].view(); }
void put_str(Vector& out, size_t i, std::string_view s) { out.data<StringRef>()[i] = out.add_string(s); }

std::string substr_impl(std::string_view s, int64_t from, std::optional<int64_t> len) {
  // PostgreSQL: 1-based; positions before 1 shorten the length.
  int64_t start = from - 1;
  int64_t end = len ? start + *len : INT64_MAX;
  if (len && *len < 0) throw SqlError(sqlstate::kInvalidParameter, "negative substring length not allowed");
  start = std::max<int64_t>(start, 0);
  if (end <= start) return {};
  size_t b = utf8_offset(s, start);
  size_t e = end == INT64_MAX ? s.size() : utf8_offset(s, end);
  return std::string(s.substr(b, e - b));
}

std::string trim_impl(std::string_view s, std::string_view chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left) while (b < e && chars.find(s[b]) != std::string_view::npos) b++;
  if (right) while (e > b && chars.find(s[e - 1]) != std::string_view::npos) e--;
  return std::string(s.substr(b, e - b));
}

// Caches compiled regular expressions by pattern text for one expression instance.
struct RegexCache {
  std::map<std::string, std::unique_ptr<RE2>, std::less<>> cache;
  const RE2& get(std::string_view pat, bool ci) {
    std::string key = (ci ? "i:" : "c:") + std::string(pat);
    auto it = cache.find(key);
    if (it != cache.end()) return *it->second;
    RE2::Options o;
    o.set_log_errors(false);
    o.set_case_sensitive(!ci);
    auto re = std::make_unique<RE2>(pat, o);
    if (!re->ok())
      throw SqlError(sqlstate::kInvalidRegex, "invalid regular expression: " + re->error());
    if (cache.size() > 64) cache.clear();
    return *cache.emplace(key, std::move(re)).first->second;
  }
};

// ---- date/time helpers -------------------------------------------------------------

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Civil { int64_t y; unsigned m, d; int64_t hh, mi, ss, us; int64_t days; };
Civil civil(int64_t micros) {
  Civil c;
  c.days = floor_div(micros, kMicrosPerDay);
  int64_t rem = micros - c.days * kMicrosPerDay;
  civil_from_days(c.days, &c.y, &c.m, &c.d);
  c.us = rem % kMicrosPerSecond;
  int64_t s = rem / kMicrosPerSecond;
  c.hh = s / 3600; c.mi = s / 60 % 60; c.ss = s % 60;
  return c;
}

int64_t date_trunc_us(std::string_view unit_in, int64_t us) {
  std::string unit = lower_str(unit_in);
  Civil c = civil(us);
  auto at = [](int64_t y, unsigned m, unsigned d) { return days_from_civil(y, m, d) * kMicrosPerDay; };
  if (unit == "microseconds" || unit == "microsecond") return us;
  if (unit == "milliseconds" || unit == "millisecond") return floor_div(us, 1000) * 1000;
  if (unit == "second" || unit == "seconds") return floor_div(us, kMicrosPerSecond) * kMicrosPerSecond;
  if (unit == "minute" || unit == "minutes") return floor_div(us, 60 * kMicrosPerSecond) * 60 * kMicrosPerSecond;
  if (unit == "hour" || unit == "hours") return floor_div(us, 3600 * kMicrosPerSecond) * 3600 * kMicrosPerSecond;
  if (unit == "day" || unit == "days") return c.days * kMicrosPerDay;
  if (unit == "week" || unit == "weeks") {
    int64_t dow = ((c.days % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday; Monday = 0
    return (c.days - dow) * kMicrosPerDay;
  }
  if (unit == "month" || unit == "months") return at(c.y, c.m, 1);
  if (unit == "quarter") return at(c.y, (c.m - 1) / 3 * 3 + 1, 1);
  if (unit == "year" || unit == "years") return at(c.y, 1, 1);
  if (unit == "decade") return at(floor_div(c.y, 10) * 10, 1, 1);
  if (unit == "century") return at(floor_div(c.y - 1, 100) * 100 + 1, 1, 1);
  throw SqlError(sqlstate::kInvalidParameter, "unit \"" + std::string(unit_in) + "\" not recognized");
}

// Microseconds of a fixed-length date_trunc unit (microsecond .. day), 0 for the others.
int64_t fixed_trunc_step(std::string_view unit_in) {
  std::string unit = lower_str(unit_in);
  if (unit == "microseconds" || unit == "microsecond") return 1;
  if (unit == "milliseconds" || unit == "millisecond") return 1000;
  if (unit == "second" || unit == "seconds") return kMicrosPerSecond;
  if (unit == "minute" || unit == "minutes") return 60 * kMicrosPerSecond;
  if (unit == "hour" || unit == "hours") return 3600 * kMicrosPerSecond;
  if (unit == "day" || unit == "days") return kMicrosPerDay;
  return 0;
}

// date_trunc over a batch: the unit is parsed once per run of equal unit strings (a
// constant unit: once per batch); fixed-length units are a floor division.
void date_trunc_kernel(const Vector& units, const Vector& ts, Vector& out, size_t n) {
  const StringRef* u = units.data<StringRef>();
  const int64_t* t = ts.data<int64_t>();
  int64_t* o = out.data<int64_t>();
  size_t i = 0;
  while (i < n) {
    if (units.is_null(i) || ts.is_null(i)) { out.set_null(i); i++; continue; }
    StringRef unit = u[i];
    size_t j = i + 1;
    while (j < n && units.is_valid(j) && (u[j].ptr == unit.ptr ? u[j].len == unit.len : u[j] == unit)) j++;
    int64_t step = fixed_trunc_step(unit.view());
    if (step == 1) {
      for (size_t k = i; k < j; k++) o[k] = t[k];
    } else if (step > 0) {
      for (size_t k = i; k < j; k++) {
        int64_t q = t[k] / step;
        q -= (t[k] % step != 0) & (t[k] < 0);
        o[k] = q * step;
      }
    } else {
      for (size_t k = i; k < j; k++)
        if (ts.is_valid(k)) o[k] = date_trunc_us(unit.view(), t[k]);
    }
    if (!ts.all_valid())
      for (size_t k = i; k < j; k++)
        if (ts.is_null(k)) out.set_null(k);
    i = j;
  }
}

double date_part_us(std::string_view unit_in, int64_t us) {
  std::string unit = lower_str(unit_in);
  if (unit.size() > 1 && unit.back() == 's' && unit != "epochs") unit.pop_back();
  Civil c = civil(us);
  if (unit == "year") return static_cast<double>(c.y);
  if (unit == "month" || unit == "mon") return c.m;
  if (unit == "day") return c.d;
  if (unit == "hour") return static_cast<double>(c.hh);
  if (unit == "minute" || unit == "min") return static_cast<double>(c.mi);
  if (unit == "second" || unit == "sec") return static_cast<double>(c.ss) + c.us / 1e6;
  if (unit == "millisecond") return c.ss * 1000.0 + c.us / 1e3;
  if (unit == "microsecond") return static_cast<double>(c.ss * kMicrosPerSecond + c.us);
  if (unit == "epoch") return static_cast<double>(us) / 1e6;
  if (unit == "dow") return static_cast<double>(((c.days % 7) + 7 + 4) % 7);  // Sunday = 0
  if (unit == "isodow") { int64_t d = ((c.days % 7) + 7 + 4) % 7; return d == 0 ? 7 : static_cast<double>(d); }
  if (unit == "doy") return static_cast<double>(c.days - days_from_civil(c.y, 1, 1) + 1);
  if (unit == "quarter") return (c.m - 1) / 3 + 1;
  if (unit == "decade") return static_cast<double>(floor_div(c.y, 10));
  if (unit == "century") return static_cast<double>(c.y > 0 ? (c.y + 99) / 100 : -((-c.y) / 100 + 1));
  if (unit == "week") {
    // ISO week number
    int64_t dow = ((c.days % 7) + 7 + 3) % 7;  // Monday = 0
    int64_t thursday = c.days - dow + 3;
    int64_t ty; unsigned tm, td;
    civil_from_days(thursday, &ty, &tm, &td);
    return static_cast<double>((thursday - days_from_civil(ty, 1, 1)) / 7 + 1);
  }
  throw SqlError(sqlstate::kInvalidParameter, "unit \"" + std::string(unit_in) + "\" not recognized");
}

double interval_part(std::string_view unit_in, const Interval& iv) {
  std::string unit = lower_str(unit_in);
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  if (unit == "epoch") return static_cast<double>(iv.total_micros()) / 1e6 + iv.months * 0.0;
  if (unit == "year") return iv.months / 12;
  if (unit == "month") return iv.months % 12;
  if (unit == "day") return iv.days;
  if (unit == "hour") return static_cast<double>(iv.micros / (3600 * kMicrosPerSecond));
  if (unit == "minute") return static_cast<double>(iv.micros / (60 * kMicrosPerSecond) % 60);
  if (unit == "second") return static_cast<double>(iv.micros % (60 * kMicrosPerSecond)) / 1e6;
  throw SqlError(sqlstate::kInvalidParameter, "unit \"" + std::string(unit_in) + "\" not recognized");
}

const char* kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                         "August", "September", "October", "November", "December"};
const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

std::string to_char_impl(int64_t us, std::string_view fmt) {
  Civil c = civil(us);
  std::string out;
  char buf[32];
  auto starts = [&](size_t i, const char* p) { return fmt.compare(i, strlen(p), p) == 0; };
  for (size_t i = 0; i < fmt.size();) {
    if (starts(i, "YYYY")) { snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(c.y)); out += buf; i += 4; }
    else if (starts(i, "YY")) { snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(c.y % 100)); out += buf; i += 2; }
    else if (starts(i, "MM")) { snprintf(buf, sizeof buf, "%02u", c.m); out += buf; i += 2; }
    else if (starts(i, "Month")) { snprintf(buf, sizeof buf, "%-9s", kMonths[c.m - 1]); out += buf; i += 5; }
    else if (starts(i, "Mon")) { out += std::string(kMonths[c.m - 1]).substr(0, 3); i += 3; }
    else if (starts(i, "DDD")) { snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(c.days - days_from_civil(c.y, 1, 1) + 1)); out += buf; i += 3; }
    else if (starts(i, "DD")) { snprintf(buf, sizeof buf, "%02u", c.d); out += buf; i += 2; }
    else if (starts(i, "Day")) { snprintf(buf, sizeof buf, "%-9s", kDays[((c.days % 7) + 7 + 4) % 7]); out += buf; i += 3; }
    else if (starts(i, "Dy")) { out += std::string(kDays[((c.days % 7) + 7 + 4) % 7]).substr(0, 3); i += 2; }
    else if (starts(i, "HH24")) { snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(c.hh)); out += buf; i += 4; }
    else if (starts(i, "HH12") || starts(i, "HH")) {
      int64_t h = c.hh % 12; if (h == 0) h = 12;
      snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(h)); out += buf; i += starts(i, "HH12") ? 4 : 2;
    }
    else if (starts(i, "MI")) { snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(c.mi)); out += buf; i += 2; }
    else if (starts(i, "SS")) { snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(c.ss)); out += buf; i += 2; }
    else if (starts(i, "MS")) { snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(c.us / 1000)); out += buf; i += 2; }
    else if (starts(i, "US")) { snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(c.us)); out += buf; i += 2; }
    else if (starts(i, "AM") || starts(i, "PM")) { out += c.hh < 12 ? "AM" : "PM"; i += 2; }
    else { out += fmt[i]; i++; }
  }
  return out;
}

bool to_timestamp_impl(std::string_view s, std::string_view fmt, int64_t* us) {
  int64_t y = 1, mo = 1, d = 1, hh = 0, mi = 0, ss = 0, frac = 0;
  bool pm = false, has_ampm = false;
  size_t si = 0;
  auto num = [&](int maxd, int64_t* out) {
    int n = 0; int64_t v = 0;
    while (si < s.size() && n < maxd && isdigit(static_cast<unsigned char>(s[si]))) { v = v * 10 + (s[si++] - '0'); n++; }
    *out = v;
    return n > 0;
  };
  auto starts = [&](size_t i, const char* p) { return fmt.compare(i, strlen(p), p) == 0; };
  for (size_t i = 0; i < fmt.size();) {
    bool ok = true;
    if (starts(i, "YYYY")) { ok = num(4, &y); i += 4; }
    else if (starts(i, "MM")) { ok = num(2, &mo); i += 2; }
    else if (starts(i, "DD")) { ok = num(2, &d); i += 2; }
    else if (starts(i, "HH24")) { ok = num(2, &hh); i += 4; }
    else if (starts(i, "HH12") || starts(i, "HH")) { ok = num(2, &hh); i += starts(i, "HH12") ? 4 : 2; }
    else if (starts(i, "MI")) { ok = num(2, &mi); i += 2; }
    else if (starts(i, "SS")) { ok = num(2, &ss); i += 2; }
    else if (starts(i, "MS")) { ok = num(3, &frac); frac *= 1000; i += 2; }
    else if (starts(i, "US")) { ok = num(6, &frac); i += 2; }
    else if (starts(i, "AM") || starts(i, "PM")) {
      has_ampm = true;
      pm = si + 1 < s.size() && (s[si] == 'P' || s[si] == 'p');
      si += 2; i += 2;
    } else { if (si < s.size()) si++; i++; }
    if (!ok) return false;
  }
  if (has_ampm) { if (hh == 12) hh = 0; if (pm) hh += 12; }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 24 || mi > 59 || ss > 60) return false;
  *us = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kMicrosPerDay +
        ((hh * 60 + mi) * 60 + ss) * kMicrosPerSecond + frac;
  return true;
}

// ---- numeric helpers ---------------------------------------------------------------

int64_t numeric_round(int64_t v, int from_scale, int to_scale, int mode /*0 round,1 floor,2 ceil,3 trunc*/) {
  if (to_scale >= from_scale) return v;
  int64_t f = pow10_i64(from_scale - to_scale);
  int64_t q = v / f, r = v % f;
  switch (mode) {
    case 0: if (2 * (r < 0 ? -r : r) >= f) q += v < 0 ? -1 : 1; break;
    case 1: if (r < 0) q -= 1; break;
    case 2: if (r > 0) q += 1; break;
    default: break;
  }
  return q;
}

using Resolver = std::function<bool(const Args&, ScalarFunctionBinding*)>;

bool is_num(LogicalType t) { return t.is_numeric_family(); }
bool is_text(LogicalType t) { return t.id == T::kVarchar || t.id == T::kNull; }

std::map<std::string, Resolver>& registry();

void add(const std::string& name, Resolver r) { registry()[name] = std::move(r); }

// A text -> text function of one argument.
void text_unary(const std::string& name, std::function<std::string(std::string_view)> f) {
  add(name, [name, f](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 1) return false;
    *b = {name, T::kVarchar, {T::kVarchar}, [f](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) { put_str(out, i, f(sv(v[0], i))); });
          }};
    return true;
  });
}

// A double -> double math function.
void math_unary(const std::string& name, double (*f)(double), bool domain_positive = false) {
  add(name, [name, f, domain_positive](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 1 || !(is_num(a[0]) || a[0].id == T::kNull)) return false;
    *b = {name, T::kDouble, {T::kDouble}, [f, name, domain_positive](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            unary_loop<double, double>(v[0], out, n, [&](double x) {
              if (domain_positive && x < 0) throw SqlError("2201F", "cannot take " + name + " of a negative number");
              if (domain_positive && x == 0 && name != "sqrt") throw SqlError("2201E", "cannot take logarithm of zero");
              return f(x);
            });
          }};
    return true;
  });
}

// round/floor/ceil/trunc keep integers and numerics exact.
void rounding(const std::string& name, int mode) {
  add(name, [name, mode](const Args& a, ScalarFunctionBinding* b) {
    if (a.empty() || a.size() > 2 || !(is_num(a[0]) || a[0].id == T::kNull)) return false;
    if (a.size() == 2 && !(a[1].is_integer() || a[1].id == T::kNull)) return false;
    LogicalType t = a[0].id == T::kNull ? LogicalType(T::kDouble) : a[0];
    if (t.is_integer() && a.size() == 1) {
      *b = {name, t, {t}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) { out.copy_range(v[0], 0, n, 0); }};
      return true;
    }
    if (t.is_integer() || t.id == T::kNumeric) {
      LogicalType in = t.id == T::kNumeric ? t : LogicalType::numeric(18, 0);
      if (a.size() == 1) {
        LogicalType res = LogicalType::numeric(in.precision, 0);
        *b = {name, res, {in}, [mode, in](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
                unary_loop<int64_t, int64_t>(v[0], out, n, [&](int64_t x) { return numeric_round(x, in.scale, 0, mode); });
              }};
      } else {
        *b = {name, in, {in, T::kInteger}, [mode, in](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
                binary_loop<int64_t, int32_t, int64_t>(v[0], v[1], out, n, [&](int64_t x, int32_t d) {
                  if (d >= in.scale) return x;
                  if (d < 0) d = 0;
                  return numeric_round(x, in.scale, d, mode) * pow10_i64(in.scale - d);
                });
              }};
      }
      return true;
    }
    if (a.size() == 2) {
      // round(double, n): PostgreSQL only has round(numeric, int); go through double.
      *b = {name, T::kDouble, {T::kDouble, T::kInteger}, [mode](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              binary_loop<double, int32_t, double>(v[0], v[1], out, n, [&](double x, int32_t d) {
                double f = std::pow(10.0, d);
                double y = x * f;
                y = mode == 0 ? std::round(y) : mode == 1 ? std::floor(y) : mode == 2 ? std::ceil(y) : std::trunc(y);
                return y / f;
              });
            }};
      return true;
    }
    *b = {name, T::kDouble, {T::kDouble}, [mode](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            unary_loop<double, double>(v[0], out, n, [&](double x) {
              return mode == 0 ? std::nearbyint(x) : mode == 1 ? std::floor(x) : mode == 2 ? std::ceil(x) : std::trunc(x);
            });
          }};
    return true;
  });
}

LogicalType common_of(const Args& a) {
  LogicalType t = T::kNull;
  for (auto& x : a) {
    LogicalType c = common_type(t, x);
    if (c.id == T::kNull && x.id != T::kNull) return LogicalType(static_cast<TypeId>(255));
    t = c;
  }
  return t;
}

void register_all() {
  // ---- strings ----
  text_unary("lower", [](std::string_view s) { return lower_str(s); });
  text_unary("upper", [](std::string_view s) {
    std::string r(s);
    for (auto& c : r) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    return r;
  });
  text_unary("reverse", [](std::string_view s) { return std::string(s.rbegin(), s.rend()); });
  text_unary("md5", [](std::string_view s) { return hex_lower(md5(s)); });
  text_unary("initcap", [](std::string_view s) {
    std::string r(s);
    bool start = true;
    for (auto& c : r) {
      c = static_cast<char>(start ? toupper(static_cast<unsigned char>(c)) : tolower(static_cast<unsigned char>(c)));
      start = !isalnum(static_cast<unsigned char>(c));
    }
    return r;
  });
  for (const char* nm : {"length", "char_length", "character_length", "octet_length"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() != 1 || !(is_text(a[0]) || a[0].id == T::kBytea)) return false;
      bool bytes = name == "octet_length" || a[0].id == T::kBytea;
      LogicalType in = a[0].id == T::kNull ? LogicalType(T::kVarchar) : a[0];
      *b = {name, T::kInteger, {in}, [bytes](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              unary_loop<StringRef, int32_t>(v[0], out, n, [&](StringRef s) {
                return static_cast<int32_t>(bytes ? s.len : utf8_len(s.view()));
              });
            }};
      return true;
    });
  }
  for (const char* nm : {"substr", "substring"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() < 2 || a.size() > 3 || !is_text(a[0])) return false;
      Args at{T::kVarchar, T::kBigInt};
      if (a.size() == 3) at.push_back(T::kBigInt);
      *b = {name, T::kVarchar, at, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              each_row(v, n, out, [&](size_t i) {
                std::optional<int64_t> len;
                if (v.size() == 3) len = v[2].data<int64_t>()[i];
                put_str(out, i, substr_impl(sv(v[0], i), v[1].data<int64_t>()[i], len));
              });
            }};
      return true;
    });
  }
  for (const char* nm : {"left", "right"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() != 2 || !is_text(a[0])) return false;
      bool left = name == "left";
      *b = {name, T::kVarchar, {T::kVarchar, T::kBigInt}, [left](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              each_row(v, n, out, [&](size_t i) {
                std::string_view s = sv(v[0], i);
                int64_t k = v[1].data<int64_t>()[i];
                int64_t len = static_cast<int64_t>(utf8_len(s));
                int64_t take = k >= 0 ? std::min(k, len) : std::max<int64_t>(0, len + k);
                if (left) put_str(out, i, s.substr(0, utf8_offset(s, take)));
                else put_str(out, i, s.substr(utf8_offset(s, len - take)));
              });
            }};
      return true;
    });
  }
  for (const char* nm : {"strpos", "position"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() != 2 || !is_text(a[0]) || !is_text(a[1])) return false;
      *b = {name, T::kInteger, {T::kVarchar, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              binary_loop<StringRef, StringRef, int32_t>(v[0], v[1], out, n, [](StringRef s, StringRef sub) {
                size_t p = s.view().find(sub.view());
                return p == std::string_view::npos ? 0 : static_cast<int32_t>(utf8_len(s.view().substr(0, p)) + 1);
              });
            }};
      return true;
    });
  }
  add("concat", [](const Args& a, ScalarFunctionBinding* b) {
    Args at(a.size(), T::kVarchar);
    *b = {"concat", T::kVarchar, at, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            std::string s;
            for (size_t i = 0; i < n; i++) {
              s.clear();
              for (auto& x : v) if (x.is_valid(i)) s += sv(x, i);
              put_str(out, i, s);
            }
          }};
    return true;
  });
  add("concat_ws", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.empty()) return false;
    Args at(a.size(), T::kVarchar);
    *b = {"concat_ws", T::kVarchar, at, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            std::string s;
            for (size_t i = 0; i < n; i++) {
              if (v[0].is_null(i)) { out.set_null(i); continue; }
              s.clear();
              bool first = true;
              for (size_t k = 1; k < v.size(); k++) {
                if (v[k].is_null(i)) continue;
                if (!first) s += sv(v[0], i);
                s += sv(v[k], i);
                first = false;
              }
              put_str(out, i, s);
            }
          }};
    return true;
  });
  // || : NULL if either side is NULL
  add("||", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2) return false;
    *b = {"||", T::kVarchar, {T::kVarchar, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            std::string s;
            each_row(v, n, out, [&](size_t i) { s.assign(sv(v[0], i)); s += sv(v[1], i); put_str(out, i, s); });
          }};
    return true;
  });
  for (const char* nm : {"trim", "btrim", "ltrim", "rtrim"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.empty() || a.size() > 2 || !is_text(a[0])) return false;
      bool l = name != "rtrim", r = name != "ltrim";
      Args at(a.size(), T::kVarchar);
      *b = {name, T::kVarchar, at, [l, r](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              each_row(v, n, out, [&](size_t i) {
                put_str(out, i, trim_impl(sv(v[0], i), v.size() == 2 ? sv(v[1], i) : std::string_view(" "), l, r));
              });
            }};
      return true;
    });
  }
  add("split_part", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 3) return false;
    *b = {"split_part", T::kVarchar, {T::kVarchar, T::kVarchar, T::kBigInt}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) {
              std::string_view s = sv(v[0], i), d = sv(v[1], i);
              int64_t k = v[2].data<int64_t>()[i];
              if (k == 0) throw SqlError(sqlstate::kInvalidParameter, "field position must not be zero");
              std::vector<std::string_view> parts;
              if (d.empty()) parts.push_back(s);
              else {
                size_t p = 0;
                while (true) {
                  size_t q = s.find(d, p);
                  if (q == std::string_view::npos) { parts.push_back(s.substr(p)); break; }
                  parts.push_back(s.substr(p, q - p));
                  p = q + d.size();
                }
              }
              int64_t idx = k > 0 ? k - 1 : static_cast<int64_t>(parts.size()) + k;
              put_str(out, i, idx >= 0 && idx < static_cast<int64_t>(parts.size()) ? parts[idx] : std::string_view());
            });
          }};
    return true;
  });
  add("replace", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 3) return false;
    *b = {"replace", T::kVarchar, {T::kVarchar, T::kVarchar, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) {
              std::string_view s = sv(v[0], i), from = sv(v[1], i), to = sv(v[2], i);
              if (from.empty()) { put_str(out, i, s); return; }
              std::string r;
              size_t p = 0;
              while (true) {
                size_t q = s.find(from, p);
                if (q == std::string_view::npos) { r += s.substr(p); break; }
                r += s.substr(p, q - p);
                r += to;
                p = q + from.size();
              }
              put_str(out, i, r);
            });
          }};
    return true;
  });
  add("repeat", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2) return false;
    *b = {"repeat", T::kVarchar, {T::kVarchar, T::kBigInt}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext& ctx) {
            each_row(v, n, out, [&](size_t i) {
              int64_t k = std::max<int64_t>(0, v[1].data<int64_t>()[i]);
              std::string_view s = sv(v[0], i);
              if (static_cast<double>(k) * static_cast<double>(s.size()) > 1e8)
                throw SqlError(sqlstate::kInvalidParameter, "requested length too large");
              std::string r;
              for (int64_t j = 0; j < k; j++) r += s;
              put_str(out, i, r);
            });
          }};
    return true;
  });
  for (const char* nm : {"lpad", "rpad"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() < 2 || a.size() > 3) return false;
      bool left = name == "lpad";
      Args at{T::kVarchar, T::kBigInt};
      if (a.size() == 3) at.push_back(T::kVarchar);
      *b = {name, T::kVarchar, at, [left](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              each_row(v, n, out, [&](size_t i) {
                std::string s(sv(v[0], i));
                int64_t len = std::min<int64_t>(v[1].data<int64_t>()[i], 10000000);
                std::string fill = v.size() == 3 ? std::string(sv(v[2], i)) : " ";
                int64_t cur = static_cast<int64_t>(utf8_len(s));
                if (len <= cur) { put_str(out, i, s.substr(0, utf8_offset(s, std::max<int64_t>(len, 0)))); return; }
                if (fill.empty()) { put_str(out, i, s); return; }
                std::string pad;
                for (int64_t k = 0; k < len - cur; k++) pad += fill[k % fill.size()];
                put_str(out, i, left ? pad + s : s + pad);
              });
            }};
      return true;
    });
  }
  add("starts_with", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2) return false;
    *b = {"starts_with", T::kBoolean, {T::kVarchar, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            binary_loop<StringRef, StringRef, uint8_t>(v[0], v[1], out, n, [](StringRef s, StringRef p) -> uint8_t {
              return s.view().substr(0, p.len) == p.view();
            });
          }};
    return true;
  });
  // regexp_match(s, pattern[, flags]) -> text: the first capture group (or the whole match);
  // NULL when nothing matches. (PostgreSQL returns text[]; we have no arrays yet.)
  add("regexp_match", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() < 2 || a.size() > 3) return false;
    auto cache = std::make_shared<RegexCache>();
    *b = {"regexp_match", T::kVarchar, Args(a.size(), T::kVarchar), [cache](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) {
              bool ci = v.size() == 3 && sv(v[2], i).find('i') != std::string_view::npos;
              const RE2& re = cache->get(sv(v[1], i), ci);
              std::string_view s = sv(v[0], i);
              int groups = re.NumberOfCapturingGroups();
              std::vector<re2::StringPiece> m(groups + 1);
              if (!re.Match(s, 0, s.size(), RE2::UNANCHORED, m.data(), groups + 1)) { out.set_null(i); return; }
              re2::StringPiece g = groups > 0 ? m[1] : m[0];
              if (g.data() == nullptr) { out.set_null(i); return; }
              put_str(out, i, std::string_view(g.data(), g.size()));
            });
          }};
    return true;
  });
  add("regexp_like", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() < 2 || a.size() > 3) return false;
    auto cache = std::make_shared<RegexCache>();
    *b = {"regexp_like", T::kBoolean, Args(a.size(), T::kVarchar), [cache](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) {
              bool ci = v.size() == 3 && sv(v[2], i).find('i') != std::string_view::npos;
              out.data<uint8_t>()[i] = RE2::PartialMatch(sv(v[0], i), cache->get(sv(v[1], i), ci));
            });
          }};
    return true;
  });
  add("regexp_replace", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() < 3 || a.size() > 4) return false;
    auto cache = std::make_shared<RegexCache>();
    *b = {"regexp_replace", T::kVarchar, Args(a.size(), T::kVarchar), [cache](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) {
              std::string_view flags = v.size() == 4 ? sv(v[3], i) : std::string_view();
              bool global = flags.find('g') != std::string_view::npos;
              bool ci = flags.find('i') != std::string_view::npos;
              const RE2& re = cache->get(sv(v[1], i), ci);
              // PostgreSQL writes back-references as \1; RE2 as \1 too.
              std::string s(sv(v[0], i));
              std::string rep(sv(v[2], i));
              if (global) RE2::GlobalReplace(&s, re, rep);
              else RE2::Replace(&s, re, rep);
              put_str(out, i, s);
            });
          }};
    return true;
  });
  // ---- math ----
  add("abs", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 1 || !(is_num(a[0]) || a[0].id == T::kNull)) return false;
    LogicalType t = a[0].id == T::kNull ? LogicalType(T::kDouble) : a[0];
    *b = {"abs", t, {t}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            dispatch_phys(v[0].type().id, [&](auto tag) {
              using X = decltype(tag);
              if constexpr (std::is_arithmetic_v<X>) {
                unary_loop<X, X>(v[0], out, n, [](X x) -> X {
                  if constexpr (std::is_integral_v<X>) {
                    if (x == std::numeric_limits<X>::min()) throw_overflow("integer");
                    return x < 0 ? static_cast<X>(-x) : x;
                  } else {
                    return std::fabs(x);
                  }
                });
              }
            });
          }};
    return true;
  });
  rounding("round", 0);
  rounding("floor", 1);
  rounding("ceil", 2);
  rounding("ceiling", 2);
  rounding("trunc", 3);
  math_unary("sqrt", [](double x) { return std::sqrt(x); }, true);
  math_unary("ln", [](double x) { return std::log(x); }, true);
  math_unary("exp", [](double x) { return std::exp(x); });
  math_unary("sin", [](double x) { return std::sin(x); });
  math_unary("cos", [](double x) { return std::cos(x); });
  math_unary("cbrt", [](double x) { return std::cbrt(x); });
  math_unary("sign", [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; });
  add("log", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() == 1 && is_num(a[0])) {
      *b = {"log", T::kDouble, {T::kDouble}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              unary_loop<double, double>(v[0], out, n, [](double x) {
                if (x < 0) throw SqlError("2201E", "cannot take logarithm of a negative number");
                if (x == 0) throw SqlError("2201E", "cannot take logarithm of zero");
                return std::log10(x);
              });
            }};
      return true;
    }
    if (a.size() == 2) {
      *b = {"log", T::kDouble, {T::kDouble, T::kDouble}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              binary_loop<double, double, double>(v[0], v[1], out, n, [](double base, double x) {
                if (x <= 0 || base <= 0) throw SqlError("2201E", "cannot take logarithm of a non-positive number");
                return std::log(x) / std::log(base);
              });
            }};
      return true;
    }
    return false;
  });
  for (const char* nm : {"power", "pow"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() != 2) return false;
      *b = {name, T::kDouble, {T::kDouble, T::kDouble}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              binary_loop<double, double, double>(v[0], v[1], out, n, [](double x, double y) {
                if (x == 0 && y < 0) throw SqlError("2201F", "zero raised to a negative power is undefined");
                double r = std::pow(x, y);
                if (std::isinf(r) && !std::isinf(x)) throw_overflow("double precision");
                return r;
              });
            }};
      return true;
    });
  }
  add("mod", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2 || !is_num(a[0]) || !is_num(a[1])) return false;
    LogicalType t = common_type(a[0], a[1]);
    if (!t.is_integer()) t = T::kDouble;
    *b = {"mod", t, {t, t}, [t](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            if (t.is_integer()) {
              dispatch_phys(t.id, [&](auto tag) {
                using X = decltype(tag);
                if constexpr (std::is_integral_v<X>)
                  binary_loop<X, X, X>(v[0], v[1], out, n, [](X x, X y) -> X { if (y == 0) throw_div_zero(); return y == -1 ? 0 : x % y; });
              });
            } else {
              binary_loop<double, double, double>(v[0], v[1], out, n, [](double x, double y) { if (y == 0) throw_div_zero(); return std::fmod(x, y); });
            }
          }};
    return true;
  });
  add("pi", [](const Args& a, ScalarFunctionBinding* b) {
    if (!a.empty()) return false;
    *b = {"pi", T::kDouble, {}, [](std::vector<Vector>&, size_t n, Vector& out, ExecContext&) {
            for (size_t i = 0; i < n; i++) out.data<double>()[i] = M_PI;
          }};
    return true;
  });
  add("random", [](const Args& a, ScalarFunctionBinding* b) {
    if (!a.empty()) return false;
    *b = {"random", T::kDouble, {}, [](std::vector<Vector>&, size_t n, Vector& out, ExecContext&) {
            static thread_local std::mt19937_64 rng{std::random_device{}()};
            std::uniform_real_distribution<double> d(0, 1);
            for (size_t i = 0; i < n; i++) out.data<double>()[i] = d(rng);
          }};
    return true;
  });
  for (const char* nm : {"greatest", "least"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.empty()) return false;
      LogicalType t = common_of(a);
      if (static_cast<int>(t.id) == 255) return false;
      if (t.id == T::kNull) t = T::kVarchar;
      bool greatest = name == "greatest";
      *b = {name, t, Args(a.size(), t), [greatest, t](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              dispatch_phys(t.id, [&](auto tag) {
                using X = decltype(tag);
                X* od = out.data<X>();
                for (auto& x : v) out.share_heaps(x);
                for (size_t i = 0; i < n; i++) {
                  bool any = false;
                  for (auto& x : v) {
                    if (x.is_null(i)) continue;
                    const X& val = x.data<X>()[i];
                    if (!any || (greatest ? cmp3(val, od[i]) > 0 : cmp3(val, od[i]) < 0)) od[i] = val;
                    any = true;
                  }
                  if (!any) out.set_null(i);
                }
              });
            }};
      return true;
    });
  }
  // ---- date/time ----
  for (const char* nm : {"now", "current_timestamp", "transaction_timestamp", "statement_timestamp"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (!a.empty()) return false;
      *b = {name, T::kTimestampTz, {}, [](std::vector<Vector>&, size_t n, Vector& out, ExecContext& ctx) {
              for (size_t i = 0; i < n; i++) out.data<int64_t>()[i] = ctx.statement_time_us;
            }};
      return true;
    });
  }
  add("current_date", [](const Args& a, ScalarFunctionBinding* b) {
    if (!a.empty()) return false;
    *b = {"current_date", T::kDate, {}, [](std::vector<Vector>&, size_t n, Vector& out, ExecContext& ctx) {
            for (size_t i = 0; i < n; i++) out.data<int32_t>()[i] = static_cast<int32_t>(floor_div(ctx.statement_time_us, kMicrosPerDay));
          }};
    return true;
  });
  add("date_trunc", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2 || !is_text(a[0])) return false;
    LogicalType t = a[1].id == T::kTimestampTz ? LogicalType(T::kTimestampTz) : LogicalType(T::kTimestamp);
    if (!(a[1].is_temporal() || a[1].id == T::kNull || a[1].id == T::kVarchar)) return false;
    *b = {"date_trunc", t, {T::kVarchar, t}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            date_trunc_kernel(v[0], v[1], out, n);
          }};
    return true;
  });
  for (const char* nm : {"date_part", "extract"}) {
    std::string name = nm;
    add(name, [name](const Args& a, ScalarFunctionBinding* b) {
      if (a.size() != 2 || !is_text(a[0])) return false;
      if (a[1].id == T::kInterval) {
        *b = {name, T::kDouble, {T::kVarchar, T::kInterval}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
                binary_loop<StringRef, Interval, double>(v[0], v[1], out, n, [](StringRef u, Interval iv) { return interval_part(u.view(), iv); });
              }};
        return true;
      }
      if (!(a[1].is_temporal() || a[1].id == T::kNull || a[1].id == T::kVarchar)) return false;
      LogicalType t = a[1].id == T::kTimestampTz ? LogicalType(T::kTimestampTz) : LogicalType(T::kTimestamp);
      *b = {name, T::kDouble, {T::kVarchar, t}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              binary_loop<StringRef, int64_t, double>(v[0], v[1], out, n, [](StringRef u, int64_t us) { return date_part_us(u.view(), us); });
            }};
      return true;
    });
  }
  add("to_timestamp", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() == 1 && (is_num(a[0]) || a[0].id == T::kNull)) {
      *b = {"to_timestamp", T::kTimestampTz, {T::kDouble}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              unary_loop<double, int64_t>(v[0], out, n, [](double s) {
                if (!(std::fabs(s) < 9.2e12)) throw SqlError(sqlstate::kDatetimeOverflow, "timestamp out of range");
                return static_cast<int64_t>(std::llround(s * 1e6));
              });
            }};
      return true;
    }
    if (a.size() == 2) {
      *b = {"to_timestamp", T::kTimestampTz, {T::kVarchar, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
              binary_loop<StringRef, StringRef, int64_t>(v[0], v[1], out, n, [](StringRef s, StringRef f) {
                int64_t us;
                if (!to_timestamp_impl(s.view(), f.view(), &us))
                  throw SqlError(sqlstate::kInvalidDatetime, "invalid value \"" + std::string(s.view()) + "\" for format \"" + std::string(f.view()) + "\"");
                return us;
              });
            }};
      return true;
    }
    return false;
  });
  add("to_char", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2 || !(a[0].is_temporal() || a[0].id == T::kNull)) return false;
    LogicalType t = a[0].id == T::kTimestampTz ? LogicalType(T::kTimestampTz) : LogicalType(T::kTimestamp);
    *b = {"to_char", T::kVarchar, {t, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) { put_str(out, i, to_char_impl(v[0].data<int64_t>()[i], sv(v[1], i))); });
          }};
    return true;
  });
  add("to_date", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 2) return false;
    *b = {"to_date", T::kDate, {T::kVarchar, T::kVarchar}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            binary_loop<StringRef, StringRef, int32_t>(v[0], v[1], out, n, [](StringRef s, StringRef f) {
              int64_t us;
              if (!to_timestamp_impl(s.view(), f.view(), &us))
                throw SqlError(sqlstate::kInvalidDatetime, "invalid value \"" + std::string(s.view()) + "\" for format \"" + std::string(f.view()) + "\"");
              return static_cast<int32_t>(floor_div(us, kMicrosPerDay));
            });
          }};
    return true;
  });
  add("make_date", [](const Args& a, ScalarFunctionBinding* b) {
    if (a.size() != 3) return false;
    *b = {"make_date", T::kDate, {T::kInteger, T::kInteger, T::kInteger}, [](std::vector<Vector>& v, size_t n, Vector& out, ExecContext&) {
            each_row(v, n, out, [&](size_t i) {
              int32_t y = v[0].data<int32_t>()[i], m = v[1].data<int32_t>()[i], d = v[2].data<int32_t>()[i];
              if (m < 1 || m > 12 || d < 1 || d > 31) throw SqlError(sqlstate::kDatetimeOverflow, "date field value out of range");
              out.data<int32_t>()[i] = static_cast<int32_t>(days_from_civil(y, m, d));
            });
          }};
    return true;
  });
  // version(), current_schema() etc. for clients
  add("version", [](const Args& a, ScalarFunctionBinding* b) {
    if (!a.empty()) return false;
    *b = {"version", T::kVarchar, {}, [](std::vector<Vector>&, size_t n, Vector& out, ExecContext&) {
            for (size_t i = 0; i < n; i++) put_str(out, i, "PostgreSQL 15.0 (streamlake)");
          }};
    return true;
  });
  add("current_schema", [](const Args& a, ScalarFunctionBinding* b) {
    if (!a.empty()) return false;
    *b = {"current_schema", T::kVarchar, {}, [](std::vector<Vector>&, size_t n, Vector& out, ExecContext&) {
            for (size_t i = 0; i < n; i++) put_str(out, i, "public");
          }};
    return true;
  });
}

std::map<std::string, Resolver>& registry() {
  static std::map<std::string, Resolver> r;
  return r;
}

void ensure_registered() {
  static bool once = (register_all(), true);
  (void)once;
}

}  // namespace

bool is_scalar_function(const std::string& name) {
  ensure_registered();
  return registry().count(name) > 0;
}

bool resolve_scalar_function(const std::string& name, const std::vector<LogicalType>& args,
                             ScalarFunctionBinding* out, std::string* error) {
  ensure_registered();
  auto it = registry().find(name);
  if (it == registry().end()) {
    *error = "function " + name + " does not exist";
    return false;
  }
  if (!it->second(args, out)) {
    std::string sig;
    for (size_t i = 0; i < args.size(); i++) sig += (i ? ", " : "") + args[i].to_string();
    *error = "function " + name + "(" + sig + ") does not exist";
    return false;
  }
  return true;
}

}  // namespace sl::exec
