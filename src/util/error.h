// sl::Error: the exception for errors that end a query or a request.
//
// Thrown where unwinding is the simplest control flow (parsing, binding, executing a
// query, decoding a request); caught at the API boundary and turned into the protocol's
// error shape. UserError is the caller's fault; InternalError is ours.
#pragma once

#include <stdexcept>
#include <string>

#include "util/status.h"

namespace sl {

class Error : public std::runtime_error {
 public:
  Error(Errc code, std::string message, int position = -1)
      : std::runtime_error(std::move(message)), code_(code), position_(position) {}
  Errc code() const { return code_; }
  // 0-based byte offset in the request or query text, or -1.
  int position() const { return position_; }
  Status to_status() const { return Status(code_, what()); }

 private:
  Errc code_;
  int position_;
};

class UserError : public Error {
 public:
  explicit UserError(std::string message, int position = -1, Errc code = Errc::kInvalidArgument)
      : Error(code, std::move(message), position) {}
};

class InternalError : public Error {
 public:
  explicit InternalError(std::string message) : Error(Errc::kInternal, std::move(message)) {}
};

// Throws the status as an Error if it is not OK.
inline void throw_if_error(const Status& s) {
  if (!s.ok()) throw Error(s.code(), s.message());
}

}  // namespace sl
