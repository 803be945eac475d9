// Text -> typed values for the record decoders, as pure functions over string_views.
//
// These wrap exec/'s PostgreSQL-syntax parsers (exec/value.h: parse_int64, parse_double,
// parse_numeric, parse_date, parse_timestamp, parse_bytea, parse_interval, parse_bool)
// with allocation-free fast paths for the common shapes, range checks for the narrow
// integer types, and the ingestion extensions below. No state; callable from any thread.
//
// Extensions over PostgreSQL input syntax (ingestion data is not hand-typed SQL):
//  - timestamp / timestamptz / date: text that is all ASCII digits (optionally a leading
//    '-') is an epoch value: |n| < 1e11 -> seconds, < 1e14 -> milliseconds, otherwise
//    microseconds (1e11 s is the year 5138; 1e11 ms is 1973). A date takes the UTC day of
//    that instant. Offsets ('Z', '+05:30') convert to UTC for both timestamp kinds.
//  - leading/trailing ASCII whitespace is ignored for every type except text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exec/types.h"

namespace sl::format {

enum class ConvertError : uint8_t { kOk = 0, kSyntax, kRange };

ConvertError parse_int_text(std::string_view s, int64_t lo, int64_t hi, int64_t* out);
ConvertError parse_double_text(std::string_view s, double* out);
ConvertError parse_float_text(std::string_view s, float* out);
ConvertError parse_bool_text(std::string_view s, bool* out);
ConvertError parse_numeric_text(std::string_view s, int precision, int scale, int64_t* out);
ConvertError parse_date_text(std::string_view s, int32_t* days);
ConvertError parse_timestamp_text(std::string_view s, int64_t* micros);
// Epoch number (seconds, millis or micros by magnitude, see above) to microseconds.
int64_t epoch_to_micros(int64_t n);
// Epoch number with a fraction (JSON 1700000000.5) to microseconds, same magnitudes.
ConvertError epoch_double_to_micros(double d, int64_t* micros);

// Limits of each integer type, for parse_int_text.
int64_t int_min_of(exec::TypeId t);
int64_t int_max_of(exec::TypeId t);

// "integer", "timestamp", ... as used in error reasons.
std::string type_name(const exec::LogicalType& t);

// The reason text the decoders put in an error row:
//   column price: 'abc' is not a valid integer
//   column qty: '99999' is out of range for smallint
std::string conversion_reason(std::string_view column, std::string_view text,
                              const exec::LogicalType& t, ConvertError e);

}  // namespace sl::format
