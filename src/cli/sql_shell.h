// `streamlake sql`: a client shell over the HTTP SQL API (POST /v1/sql).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/endpoint.h"
#include "util/status.h"

namespace sl::cli {

struct SqlShellOptions {
  std::string endpoint = default_endpoint();
  std::string credentials_file;  // AWS shared-credentials file; Basic auth access_key:secret
  std::string command;           // -c: run this and exit
  std::string file;              // -f: run the statements in this file and exit
  std::string format = "table";  // table | json | csv
};

int run_sql_shell(const SqlShellOptions& opts);

// The rows of one statement, every value as text (NULL as an empty optional-less "").
struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string error;  // "message (SQLSTATE xxxxx)" when the statement failed
  bool ok() const { return error.empty(); }
  // The column's index, or -1.
  int column(const std::string& name) const;
};

struct ApiResponse {
  int status = 0;
  std::string body;
};

// An authenticated connection to the HTTP API for programs (the demo's notebook and status
// line): Basic auth with a credentials file's key pair. One thread.
class SqlClient {
 public:
  static Result<std::unique_ptr<SqlClient>> connect(const std::string& endpoint, const std::string& credentials_file);
  virtual ~SqlClient() = default;
  // Runs one statement. Transport failures come back as error too.
  virtual SqlRows query(const std::string& sql) = 0;
  // Any other endpoint: `body` (JSON, if not empty) to `method` `path`.
  virtual Result<ApiResponse> call(const std::string& method, const std::string& path, std::string body) = 0;
};

}  // namespace sl::cli
