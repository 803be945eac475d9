// Test data shared by the Parquet unit tests, test/lake's parquet_tool and the fuzz seed
// corpus: every SQL type, limits in the first rows, NULLs every 7th row.
#pragma once

#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "exec/value.h"
#include "lake/parquet.h"

namespace sl::lake::parquet::testdata {

using exec::LogicalType;
using exec::TypeId;
using exec::Value;

inline std::vector<Field> all_types_schema(bool nullable = true) {
  std::vector<Field> s = {
      {"b", TypeId::kBoolean},          {"i16", TypeId::kSmallInt},       {"i32", TypeId::kInteger},
      {"i64", TypeId::kBigInt},         {"f32", TypeId::kReal},           {"f64", TypeId::kDouble},
      {"n52", LogicalType::numeric(5, 2)}, {"n184", LogicalType::numeric(18, 4)}, {"t", TypeId::kVarchar},
      {"by", TypeId::kBytea},           {"d", TypeId::kDate},             {"ts", TypeId::kTimestamp},
      {"tz", TypeId::kTimestampTz},     {"iv", TypeId::kInterval},
  };
  for (auto& f : s) f.nullable = nullable;
  return s;
}

// Deterministic value of row r for type t: limits in the first rows, NULLs every 7th row.
inline Value gen(const LogicalType& t, int64_t r, bool nulls = true) {
  if (nulls && r % 7 == 3) return Value::null(t);
  Value v = Value::null(t);
  v.is_null = false;
  const int64_t sign = (r % 2) ? 1 : -1;
  switch (t.id) {
    case TypeId::kBoolean: v.i = r % 3 == 0; break;
    case TypeId::kSmallInt: v.i = r == 0 ? INT16_MIN : r == 1 ? INT16_MAX : (r * 37) % 60000 - 30000; break;
    case TypeId::kInteger: v.i = r == 0 ? INT32_MIN : r == 1 ? INT32_MAX : sign * ((r * 7919) % 1000000); break;
    case TypeId::kBigInt: v.i = r == 0 ? INT64_MIN : r == 1 ? INT64_MAX : sign * r * 1000003; break;
    case TypeId::kReal:
      v.f = r == 0 ? FLT_MAX : r == 1 ? -FLT_MAX : r == 2 ? std::numeric_limits<float>::infinity()
          : r == 4 ? std::nanf("") : r == 5 ? -0.0f : static_cast<float>(sign * r * 0.25);
      break;
    case TypeId::kDouble:
      v.f = r == 0 ? DBL_MAX : r == 1 ? -std::numeric_limits<double>::infinity() : r == 2 ? DBL_MIN
          : r == 4 ? std::nan("") : sign * r * 1.0625e10;
      break;
    case TypeId::kNumeric: {
      int64_t lim = exec::pow10_i64(t.precision) - 1;
      v.i = r == 0 ? -lim : r == 1 ? lim : sign * ((r * 104729) % lim);
      break;
    }
    case TypeId::kVarchar:
      v.s = r == 0 ? "" : r == 1 ? std::string(2000, 'x') : r == 2 ? "h\xc3\xa9llo \xe2\x82\xac" : "v" + std::to_string(r % 50);
      break;
    case TypeId::kBytea:
      v.s = r == 0 ? std::string() : std::string("\0\xff", 2) + std::to_string(r % 20);
      break;
    case TypeId::kDate: v.i = r == 0 ? -719528 : r == 1 ? 2932896 : sign * r * 3; break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      v.i = r == 0 ? -210866760000000000LL : r == 1 ? 253402300799999999LL : 1700000000000000LL + sign * r * 1000003;
      break;
    case TypeId::kInterval:
      v.iv = exec::Interval{static_cast<int32_t>(r % 13 - 6), static_cast<int32_t>(r % 40 - 20),
                            (r % 100000) * 1000};
      if (r == 0) v.iv = exec::Interval{INT32_MAX, INT32_MIN, 0};
      break;
    default: break;
  }
  return v;
}

inline std::vector<exec::DataChunk> make_chunks(const std::vector<Field>& schema, int64_t rows, bool nulls = true) {
  std::vector<LogicalType> types;
  for (auto& f : schema) types.push_back(f.type);
  std::vector<exec::DataChunk> out;
  for (int64_t r0 = 0; r0 < rows; r0 += exec::kVectorSize) {
    exec::DataChunk c(types);
    size_t n = static_cast<size_t>(std::min<int64_t>(exec::kVectorSize, rows - r0));
    for (size_t col = 0; col < schema.size(); col++) {
      for (size_t i = 0; i < n; i++) gen(schema[col].type, r0 + static_cast<int64_t>(i), nulls && schema[col].nullable).write(c.column(col), i);
    }
    c.set_size(n);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sl::lake::parquet::testdata
