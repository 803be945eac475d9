// Status and Result<T>: the error values of streamlake.
//
// Two tiers (docs/conventions.md): expected failures in log, storage and I/O travel as
// Status / Result<T>; errors that end a query or request are thrown as sl::Error
// (util/error.h) and turned into the protocol's error shape at the API boundary.
// Every Status / Result must be looked at: both are [[nodiscard]].
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sl {

// The one registry of error codes. Protocols map these to their own shapes
// (Kinesis __type, SQLSTATE, HTTP status).
enum class Errc : int {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong
  kNotFound,          // a named thing does not exist
  kAlreadyExists,     // a named thing exists already
  kInUse,             // a thing is in a state that forbids the operation
  kLimitExceeded,     // a quota or size limit
  kExpired,           // a token or iterator is too old
  kUnauthenticated,   // no or unknown credentials
  kPermissionDenied,  // known credentials, not allowed
  kIoError,           // the OS said no
  kCorruption,        // stored bytes fail their checks
  kUnsupported,       // valid, but not implemented by us
  kCancelled,         // stopped on request or by a timeout
  kResourceExhausted, // memory or disk budget
  kInternal,          // a bug
};

const char* errc_name(Errc c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == Errc::kOk; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;
  // Marks a status as deliberately ignored.
  void ignore() const {}

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {Errc::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {Errc::kNotFound, std::move(m)}; }
inline Status io_error(std::string m) { return {Errc::kIoError, std::move(m)}; }
inline Status corruption(std::string m) { return {Errc::kCorruption, std::move(m)}; }
inline Status internal_error(std::string m) { return {Errc::kInternal, std::move(m)}; }
// An I/O error carrying errno's text: io_error_errno("open " + path).
Status io_error_errno(std::string_view what);

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>);

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Status s) : v_(std::in_place_index<1>, std::move(s)) {      // NOLINT
    assert(!std::get<1>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Status status() const { return ok() ? Status::OK() : std::get<1>(v_); }
  const Status& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sl

#define SL_CONCAT_INNER(a, b) a##b
#define SL_CONCAT(a, b) SL_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if it is not OK.
#define SL_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::sl::Status _sl_st = (expr);           \
    if (!_sl_st.ok()) return _sl_st;        \
  } while (0)

// SL_ASSIGN_OR_RETURN(auto x, f()): binds the value or returns the error.
#define SL_ASSIGN_OR_RETURN(lhs, expr) SL_ASSIGN_OR_RETURN_IMPL(SL_CONCAT(_sl_r, __LINE__), lhs, expr)
#define SL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
