// `streamlake sql`: a client shell over the HTTP SQL API (POST /v1/sql).
#pragma once

#include <string>

namespace sl::cli {

struct SqlShellOptions {
  std::string endpoint = "http://127.0.0.1:4566";
  std::string credentials_file;  // AWS shared-credentials file; Basic auth access_key:secret
  std::string command;           // -c: run this and exit
  std::string format = "table";  // table | json | csv
};

int run_sql_shell(const SqlShellOptions& opts);

}  // namespace sl::cli
