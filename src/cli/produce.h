// `streamlake produce`: the AWS solution's sample producer over the real Kinesis API.
#pragma once

#include <cstdint>
#include <string>

#include "cli/endpoint.h"

namespace sl::cli {

struct ProduceOptions {
  std::string endpoint = default_endpoint();
  std::string stream = "sales";
  std::string format = "csv";  // csv | json
  std::string credentials_file;  // AWS shared-credentials file
  std::string region = "us-east-1";
  double rate = 100;      // records per second
  double duration = 0;    // seconds; 0 = until interrupted
  uint64_t seed = 0;      // 0 = from the clock
  bool quiet = false;
};

// Makes one sample record: zipcode 91000–99999, product2..product50, price 1–100, event time.
std::string make_sample_record(uint64_t& rng, int64_t ts_ms, bool json);

// Creates the stream if it does not exist and waits until it is ACTIVE. Returns false
// (after printing why) on failure.
bool ensure_stream(const ProduceOptions& opts, int shard_count);

// Runs until the duration ends or *stop becomes true. Returns a process exit code.
int run_produce(const ProduceOptions& opts, const volatile bool* stop);

}  // namespace sl::cli
