// The HTTP SQL API: POST /v1/sql runs one statement and streams a JSON result.
//
// Request: body {"sql": "..."} (application/json) or the statement as text/plain.
// Response 200: {"columns":[{"name":..,"type":..}],"rows":[[..],..],"row_count":N,
//   "command":"SELECT N"} — streamed batch by batch; an error after rows started ends the
//   document with "error":{...} instead of "command".
// Errors before any row: HTTP 400 (the caller's), 403 (role), 500 (ours), body
//   {"error":{"code":"<SQLSTATE>","message":..,"position":<0-based byte offset or -1>}}.
// A JSON body may name the query: {"sql": "...", "query_id": "<client id>"}; while it
// runs, POST /v1/sql/cancel {"query_id": ...} (cancel()) stops it and its response ends
// with error 57014. Only the user who started it or an admin may cancel it.
// Threads: handle() is called on an I/O thread and queues the query on a worker pool;
// the worker runs it and writes to the sink (which is thread-safe). cancel() from any
// thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.h"
#include "server/config.h"

namespace sl::sql { class Engine; class Session; struct ResultColumn; }
namespace sl::exec { class DataChunk; }
namespace sl { class ThreadPool; }

namespace sl::server {

class SqlHttp {
 public:
  SqlHttp(sql::Engine* engine, size_t workers, int64_t default_timeout_ms);
  ~SqlHttp();
  void handle(net::HttpRequest& req, const User& user, std::shared_ptr<net::ResponseSink> sink);
  // POST /v1/sql/cancel: 204 whether or not the query still runs; 403 if it is another
  // user's and `user` is not an admin; 400 for a malformed body.
  void cancel(const net::HttpRequest& req, const User& user, net::ResponseSink& sink);
  // Queries running (or queued) with a query_id.
  size_t running() const;

 private:
  // A named query from handle() until its response is complete.
  struct Running {
    std::string owner;
    bool cancelled = false;          // guarded by mu_
    sql::Session* session = nullptr; // set while the worker holds one; guarded by mu_
  };
  void run(std::string sql, User user, std::shared_ptr<net::ResponseSink> sink,
           std::shared_ptr<Running> running);
  sql::Engine* engine_;
  int64_t default_timeout_ms_;
  std::unique_ptr<ThreadPool> pool_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Running>> running_;  // by query_id
};

// [{"name":..,"type":..},...] of a result's columns, appended to `out`.
void append_columns_json(const std::vector<sql::ResultColumn>& columns, std::string& out);
// The JSON of one result row ([v1, v2, ...], NULL as null), appended to `out`.
void append_row_json(const exec::DataChunk& chunk, size_t row, std::string& out);

// Whether `role` may run a statement of this kind (admin: all; writer: also INSERT;
// reader: queries, SHOW, EXPLAIN, SET).
bool role_may_run(const std::string& role, int statement_kind);

}  // namespace sl::server
