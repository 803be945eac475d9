// Server: assembles the daemon from a Config — the durable log, the Kinesis service, the
// HTTP server and its routes, authentication — and runs the periodic ticker.
//
// Lifecycle: start() opens everything and starts serving; stop() (any thread, idempotent)
// stops accepting, drains, and closes the log; the destructor calls stop().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/config.h"
#include "util/status.h"

namespace sl::server {

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(Config cfg);
  virtual ~Server() = default;
  virtual uint16_t http_port() const = 0;
  // 0 when the PostgreSQL listener is off.
  virtual uint16_t pg_port() const = 0;
  virtual void stop() = 0;
  // A one-time browser sign-in path for `user` ("/v1/session/link?token=…", 15 minutes,
  // once), or "" if no such user. `streamlake demo` prints it.
  virtual std::string sign_in_link(const std::string& user) = 0;
};

}  // namespace sl::server
