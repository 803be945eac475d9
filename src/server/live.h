// Live results for the notebook: one server-sent-events connection per page (GET
// /v1/live), subscriptions on it (a paragraph id + a SELECT), re-run whenever the
// streaming runtime finishes a new epoch and pushed as `event: result` frames
// (docs/notebook.md, "HTTP API").
//
// Thread: one background thread (started by the constructor, joined by the destructor)
// waits for the runtime's next epoch (stream::Runtime::wait_for_epoch, a server-side wait
// with a short timeout), then re-runs every subscription whose last run is older than the
// epoch and at least min_interval_ms (100 ms by default) ago, under the subscriber's user (only SELECT, SHOW and EXPLAIN
// may be followed), and writes the result to the connection. It also sends `: ping`
// every 15 s and drops connections whose sink closed, with their subscriptions.
// A client that does not read: when a connection has more than 4 MiB queued, pushes are
// skipped (the subscription stays due and is retried on the next pass).
// open()/subscribe()/unsubscribe() are called on HTTP I/O threads; one mutex guards the
// connection table; queries run on the hub thread without it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net/http.h"
#include "server/api.h"

namespace sl::sql { class Engine; }
namespace sl::stream { class Runtime; }

namespace sl::server {

class LiveHub {
 public:
  static constexpr size_t kMaxRows = 10000;              // per result; "truncated": true beyond
  static constexpr size_t kMaxQueuedBytes = 4u << 20;     // per connection
  static constexpr int64_t kPingIntervalMs = 15000;
  static constexpr size_t kMaxSubscriptions = 200;        // per connection
  static constexpr size_t kMaxConnectionsPerUser = 32;

  // `min_interval_ms`: a subscription is re-run at most this often ([ui] live_interval_ms).
  LiveHub(sql::Engine* engine, stream::Runtime* runtime, int64_t min_interval_ms = 100);
  ~LiveHub();
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // GET /v1/live: starts the event stream and sends `event: hello`.
  void open(const Caller& caller, std::shared_ptr<net::ResponseSink> sink);
  // POST /v1/live/{connection}/subscribe and DELETE /v1/live/{connection}/subscribe/{id}.
  void handle(const net::HttpRequest& req, const Caller& caller, net::ResponseSink& sink);

  size_t connection_count() const;
  size_t subscription_count() const;

 private:
  struct Subscription {
    std::string id, sql;
    uint64_t ran_epoch = 0;
    int64_t last_run_ms = -1;  // -1: never ran (runs at once)
  };
  struct Connection {
    std::string id;
    Caller caller;
    std::shared_ptr<net::ResponseSink> sink;
    std::map<std::string, Subscription> subs;
    int64_t last_write_ms = 0;
  };
  void loop();
  // Runs one subscription; returns the SSE frame ("event: result|error ...").
  std::string run_one(const Caller& caller, const Subscription& sub, uint64_t epoch, int64_t lag_ms);
  int64_t current_lag_ms() const;

  sql::Engine* engine_;
  stream::Runtime* runtime_;
  const int64_t min_interval_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool dirty_ = false;  // a new subscription waits for its first run
  std::map<std::string, std::shared_ptr<Connection>> conns_;
  std::thread thread_;
};

}  // namespace sl::server
