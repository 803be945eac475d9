// SqlError: a user error carrying a PostgreSQL SQLSTATE and a 0-based position in the
// query text (-1 when unknown). Thrown by exec/ (overflow, division by zero, bad casts)
// and sql/ (syntax, binding); caught at the API boundary (HTTP, pgwire, shell).
#pragma once

#include <string>

#include "util/error.h"

namespace sl::exec {

namespace sqlstate {
inline constexpr const char* kSyntaxError = "42601";
inline constexpr const char* kUndefinedTable = "42P01";
inline constexpr const char* kUndefinedColumn = "42703";
inline constexpr const char* kUndefinedFunction = "42883";
inline constexpr const char* kDuplicateTable = "42P07";
inline constexpr const char* kDuplicateColumn = "42701";
inline constexpr const char* kAmbiguousColumn = "42702";
inline constexpr const char* kDatatypeMismatch = "42804";
inline constexpr const char* kGrouping = "42803";
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kNumericOutOfRange = "22003";
inline constexpr const char* kDivisionByZero = "22012";
inline constexpr const char* kInvalidText = "22P02";
inline constexpr const char* kInvalidDatetime = "22007";
inline constexpr const char* kDatetimeOverflow = "22008";
inline constexpr const char* kStringTooLong = "22001";
inline constexpr const char* kCardinality = "21000";
inline constexpr const char* kInvalidParameter = "22023";
inline constexpr const char* kInvalidRegex = "2201B";
inline constexpr const char* kNotNullViolation = "23502";
inline constexpr const char* kOutOfMemory = "53200";
inline constexpr const char* kQueryCanceled = "57014";
inline constexpr const char* kIoError = "58030";
inline constexpr const char* kInternal = "XX000";
inline constexpr const char* kWrongObjectType = "42809";
inline constexpr const char* kUndefinedParameter = "42P02";
inline constexpr const char* kStatementTooComplex = "54001";
}  // namespace sqlstate

class SqlError : public UserError {
 public:
  SqlError(const char* sqlstate, std::string message, int position = -1,
           Errc code = Errc::kInvalidArgument)
      : UserError(std::move(message), position, code), sqlstate_(sqlstate) {}
  const char* sqlstate() const { return sqlstate_; }

 private:
  const char* sqlstate_;
};

// The SQLSTATE for any sl::Error (SqlError's own, else one derived from its Errc).
const char* sqlstate_of(const Error& e);

}  // namespace sl::exec
