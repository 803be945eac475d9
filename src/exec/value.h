// Value: one scalar of any LogicalType, for literals, parameters and tests. Never used
// per row on a hot path (vectors are typed); formatting and parsing of values in the
// PostgreSQL text format live here too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exec/types.h"
#include "exec/vector.h"

namespace sl::exec {

struct Value {
  LogicalType type;
  bool is_null = true;
  int64_t i = 0;       // boolean, integers, numeric (scaled), date, timestamps
  double f = 0;        // real, double
  std::string s;       // varchar, bytea
  Interval iv;         // interval

  static Value null(LogicalType t = TypeId::kNull) { Value v; v.type = t; return v; }
  static Value boolean(bool b) { return make_int(TypeId::kBoolean, b); }
  static Value integer(int32_t x) { return make_int(TypeId::kInteger, x); }
  static Value bigint(int64_t x) { return make_int(TypeId::kBigInt, x); }
  static Value dbl(double x) { Value v; v.type = TypeId::kDouble; v.is_null = false; v.f = x; return v; }
  static Value numeric(int64_t scaled, int p, int s) {
    Value v = make_int(TypeId::kNumeric, scaled); v.type = LogicalType::numeric(p, s); return v;
  }
  static Value text(std::string x) {
    Value v; v.type = TypeId::kVarchar; v.is_null = false; v.s = std::move(x); return v;
  }
  static Value make_int(LogicalType t, int64_t x) { Value v; v.type = t; v.is_null = false; v.i = x; return v; }

  // Stores this value (of the vector's type) in v[row].
  void write(Vector& v, size_t row) const;
  static Value read(const Vector& v, size_t row);
  // PostgreSQL text form ("NULL" for null).
  std::string to_string() const;
};

// PostgreSQL text output of v[row] (appends; row must be valid).
void format_value(const Vector& v, size_t row, std::string& out);

std::string format_date(int32_t days);
std::string format_timestamp(int64_t micros, bool tz);
std::string format_interval(const Interval& iv);
std::string format_numeric(int64_t scaled, int scale);
std::string format_double(double d);
std::string format_bytea(std::string_view b);

// Parsing in PostgreSQL input syntax; false on malformed input.
bool parse_bool(std::string_view s, bool* out);
bool parse_int64(std::string_view s, int64_t* out);  // false also on overflow
bool parse_double(std::string_view s, double* out);
// Numeric text to an int64 scaled by 10^scale (rounded half away from zero); false on
// malformed input or overflow of `precision` digits.
bool parse_numeric(std::string_view s, int precision, int scale, int64_t* out);
bool parse_date(std::string_view s, int32_t* days);
bool parse_timestamp(std::string_view s, int64_t* micros);  // offsets convert to UTC
bool parse_interval(std::string_view s, Interval* out);
bool parse_bytea(std::string_view s, std::string* out);  // \x hex or escape format

// Parses text as `type`, throwing SqlError 22P02/22003/22007 on bad input.
Value parse_value(std::string_view text, LogicalType type);

}  // namespace sl::exec
