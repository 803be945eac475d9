// Server configuration: defaults, then a TOML file, then command-line flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lake/object_store.h"
#include "util/status.h"

namespace sl::server {

// A user of the server. Kinesis clients authenticate with access_key/secret (SigV4);
// the HTTP API, UI and PostgreSQL use name/secret. Roles: admin (everything, DDL),
// writer (put records, insert), reader (queries only).
struct User {
  std::string name;
  std::string access_key;
  std::string secret;
  std::string role = "admin";
};

struct Config {
  std::string data_dir = "data";
  std::string host = "127.0.0.1";
  uint16_t port = 4566;     // Kinesis API, HTTP API, UI, metrics
  uint16_t pg_port = 4567;  // PostgreSQL wire protocol (0 = any free port)
  bool pg_enabled = true;
  int64_t query_timeout_ms = 300000;
  int64_t checkpoint_interval_ms = 1000;  // streaming checkpoints  // default statement timeout for the HTTP API
  int io_threads = 2;
  bool fsync = true;  // acknowledge PutRecord(s) only once on disk
  std::string region = "us-east-1";
  int64_t create_delay_ms = 500;  // CREATING → ACTIVE, as kinesalite and (slower) AWS
  int64_t delete_delay_ms = 500;
  bool kinesis_enforce_limits = false;  // [kinesis] enforce_limits: AWS's per-shard rates
  size_t max_body_bytes = 16u << 20;
  std::string tls_cert_file, tls_key_file;
  std::vector<User> users;  // from the config; empty = the generated DATA/credentials pair
  // [lake.s3]: the S3-compatible store of lake sinks with path = 's3://bucket/prefix'. Unset
  // fields come from the AWS environment (S3Options::fill_from_environment, called by serve).
  lake::S3Options s3;

  int64_t ui_session_idle_minutes = 720;  // [ui] session_idle_minutes: web sign-in expiry
  int64_t ui_live_interval_ms = 100;      // [ui] live_interval_ms: min time between pushes of a live paragraph
  bool metrics_public = false;            // [metrics] public: GET /metrics without credentials
};

// Reads a TOML file over `cfg` (keys absent from the file keep their values).
Status load_config_file(const std::string& path, Config* cfg);

}  // namespace sl::server
