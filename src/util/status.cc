#include "util/status.h"

#include <cerrno>
#include <cstring>

namespace sl {

const char* errc_name(Errc c) {
  switch (c) {
    case Errc::kOk: return "OK";
    case Errc::kInvalidArgument: return "InvalidArgument";
    case Errc::kNotFound: return "NotFound";
    case Errc::kAlreadyExists: return "AlreadyExists";
    case Errc::kInUse: return "InUse";
    case Errc::kLimitExceeded: return "LimitExceeded";
    case Errc::kExpired: return "Expired";
    case Errc::kUnauthenticated: return "Unauthenticated";
    case Errc::kPermissionDenied: return "PermissionDenied";
    case Errc::kIoError: return "IoError";
    case Errc::kCorruption: return "Corruption";
    case Errc::kUnsupported: return "Unsupported";
    case Errc::kCancelled: return "Cancelled";
    case Errc::kResourceExhausted: return "ResourceExhausted";
    case Errc::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  return std::string(errc_name(code_)) + ": " + message_;
}

Status io_error_errno(std::string_view what) {
  int e = errno;
  return Status(Errc::kIoError, std::string(what) + ": " + std::strerror(e));
}

}  // namespace sl
