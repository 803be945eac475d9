// The HTTP SQL API: POST /v1/sql runs one statement and streams a JSON result.
//
// Request: body {"sql": "..."} (application/json) or the statement as text/plain.
// Response 200: {"columns":[{"name":..,"type":..}],"rows":[[..],..],"row_count":N,
//   "command":"SELECT N"} — streamed batch by batch; an error after rows started ends the
//   document with "error":{...} instead of "command".
// Errors before any row: HTTP 400 (the caller's), 403 (role), 500 (ours), body
//   {"error":{"code":"<SQLSTATE>","message":..,"position":<0-based byte offset or -1>}}.
// Threads: handle() is called on an I/O thread and queues the query on a worker pool;
// the worker runs it and writes to the sink (which is thread-safe).
#pragma once

#include <memory>

#include "net/http.h"
#include "server/config.h"

namespace sl::sql { class Engine; }
namespace sl { class ThreadPool; }

namespace sl::server {

class SqlHttp {
 public:
  SqlHttp(sql::Engine* engine, size_t workers, int64_t default_timeout_ms);
  ~SqlHttp();
  void handle(net::HttpRequest& req, const User& user, std::shared_ptr<net::ResponseSink> sink);

 private:
  void run(std::string sql, User user, std::shared_ptr<net::ResponseSink> sink);
  sql::Engine* engine_;
  int64_t default_timeout_ms_;
  std::unique_ptr<ThreadPool> pool_;
};

// Whether `role` may run a statement of this kind (admin: all; writer: also INSERT;
// reader: queries, SHOW, EXPLAIN, SET).
bool role_may_run(const std::string& role, int statement_kind);

}  // namespace sl::server
