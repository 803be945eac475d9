// Shared pieces of the notebook's HTTP API (docs/notebook.md, "HTTP API"): who is calling,
// and the JSON answers every /v1 endpoint but the Kinesis API uses.
//
// Error bodies: {"error":{"code":"<code>","message":"..."}} — code is a SQLSTATE where one
// fits (28000 not signed in, 28P01 wrong password, 42501 role), else a short word (csrf,
// not_found, conflict, too_large, bad_request).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"

namespace sl::server {

// An authenticated caller of the HTTP API.
struct Caller {
  std::string user;
  std::string role;         // admin | writer | reader
  bool via_cookie = false;  // authenticated by the sl_session cookie (CSRF rules apply)
  bool is_admin() const { return role == "admin"; }
};

// Thrown by request handlers for a refused request; the router answers api_error(). Only
// for the caller's mistakes (bad input, role, missing, conflict).
struct ApiError : std::runtime_error {
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status(status), code(std::move(code)) {}
  int status;
  std::string code;
};

net::HttpResponse api_error(int status, std::string_view code, std::string_view message);
// The SQL form: {"error":{"code":SQLSTATE,"message":..,"position":<byte offset or -1>}}.
net::HttpResponse api_sql_error(int status, std::string_view code, std::string_view message, int position);
// Its inner object {"code":..,"message":..,"position":..} (also the tail of a streamed result).
std::string sql_error_object(std::string_view code, std::string_view message, int position);
// 200/201/... with content-type application/json.
net::HttpResponse api_json(int status, std::string body);
// 204 No Content.
net::HttpResponse api_no_content();

// Splits "/v1/notebooks/abc/export" after `prefix` ("/v1/notebooks") into segments
// {"abc","export"}; empty segments are dropped.
std::vector<std::string> path_segments(std::string_view path, std::string_view prefix);

// A random UUID (version 4) from the CSPRNG.
std::string random_uuid();
// `n` random bytes from the CSPRNG (OpenSSL RAND_bytes), hex encoded.
std::string random_hex(size_t n);
// Whether `s` is a UUID in canonical lowercase or uppercase hex form.
bool is_uuid(std::string_view s);

}  // namespace sl::server
