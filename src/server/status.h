// The health figures of the UI's status page (GET /v1/status) and of GET /metrics
// (Prometheus text 0.0.4): Kinesis streams (shards, records and bytes in, rates,
// retention, iterator age), pipelines (stream tables and materialized views: rows in and
// out, watermark, lag, checkpoints, state, errors) and a 10-minute history of 1-second
// points (records/s into Kinesis, rows/s into the pipelines).
//
// Threads: sample() is called once a second by the server's ticker thread; status_json()
// and metrics_text() on HTTP I/O threads. One mutex guards the history and the rates.
// Counters come from kinesis::Service::traffic() (since the process started) and the
// runtime's status (restored from its checkpoint).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "util/time.h"

namespace sl::kinesis { class Service; }
namespace sl::stream { class Runtime; }

namespace sl::server {

// Gauges of the server itself, for /metrics.
struct ServerGauges {
  int http_connections = 0;
  size_t ui_sessions = 0;
  size_t live_connections = 0;
  size_t live_subscriptions = 0;
  size_t named_queries = 0;  // POST /v1/sql with a query_id, running
  size_t notebooks = 0;
};

class StatusBoard {
 public:
  static constexpr size_t kHistoryPoints = 600;  // 10 minutes of 1-second points

  StatusBoard(kinesis::Service* kinesis, stream::Runtime* runtime, Clock* clock)
      : kinesis_(kinesis), runtime_(runtime), clock_(clock) {}

  // Takes one history point (rates since the previous sample).
  void sample();
  // GET /v1/status body.
  std::string status_json() const;
  // GET /metrics body.
  std::string metrics_text(const ServerGauges& gauges) const;

 private:
  struct Point {
    int64_t t_ms;
    double records_per_s, rows_per_s;
  };
  struct StreamRate {
    uint64_t records = 0, bytes = 0;  // at the previous sample
    double records_per_s = 0, bytes_per_s = 0;
  };
  kinesis::Service* kinesis_;
  stream::Runtime* runtime_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::deque<Point> history_;
  std::map<std::string, StreamRate> rates_;  // by Kinesis stream
  uint64_t last_rows_ = 0;
  int64_t last_sample_ms_ = -1;
};

}  // namespace sl::server
