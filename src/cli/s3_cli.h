// `streamlake s3`: manual checks of the lake's S3 settings ([lake.s3] and the AWS
// environment) against a real bucket: list, get, put, stat and remove objects.
#pragma once

#include <string>

namespace sl::cli {

struct S3CliOptions {
  std::string action;       // ls | get | put | stat | rm
  std::string uri;          // s3://bucket/prefix (ls) or s3://bucket/key
  std::string config_file;  // streamlake.toml whose [lake.s3] to use
  std::string endpoint;     // overrides
  std::string region;
  bool virtual_hosted = false;
};

// get writes the object to stdout, put reads it from stdin. Returns a process exit code.
int run_s3(const S3CliOptions& o);

}  // namespace sl::cli
