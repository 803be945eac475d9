// `streamlake demo`: the AWS solution's whole pipeline in one process.
//
// After the server started, run_demo() (on its own thread) creates the stream `sales`,
// runs the pipeline SQL (examples/aws_solution.sql, compiled in), prints where to look
// (notebook, aws CLI, psql, curl), produces sample records at the chosen rate and prints a
// status line every few seconds, until *stop becomes true. Running it again over the same
// data directory continues: every statement of the pipeline is idempotent.
#pragma once

#include <cstdint>
#include <string>

namespace sl::cli {

struct DemoOptions {
  std::string endpoint;          // http://127.0.0.1:PORT of the running server
  std::string data_dir;          // the server's data directory (credentials)
  std::string sign_in_url;       // one-time notebook sign-in link ("" = say where the password is)
  uint16_t pg_port = 0;
  double rate = 100;             // records per second (the AWS solution's SampleProducer)
  int shards = 2;
  int status_interval_s = 5;     // 0 = no status lines
};

// The pipeline SQL and the notebook compiled into the binary.
const char* demo_pipeline_sql();
const char* demo_notebook_json();

void run_demo(const DemoOptions& opts, const volatile bool* stop);

}  // namespace sl::cli
