// PgServer: the PostgreSQL wire protocol v3 front end of the SQL engine.
//
// Lifecycle: start() binds, listens and returns a running server (acceptor thread plus one
// thread per connection, capped at max_connections); stop() (or the destructor) closes the
// listener and every connection, trips running queries' cancel tokens and joins all threads.
// port(), stop() may be called from any thread. The Engine and the `users` callback must
// outlive the server; `users` is called from connection threads (must be thread-safe).
//
// Security: every connection authenticates with SCRAM-SHA-256 (no other method is offered);
// TLS is offered when tls_cert_file/tls_key_file are set, and required when require_tls.
// Roles: reader (SELECT/SHOW/EXPLAIN/SET), writer (+ INSERT), admin (everything, including
// COPY, which reads server-side files).
// See docs/pgwire.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sl::sql { class Engine; }

namespace sl::pgwire {

struct PgServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4567;  // 0 = ephemeral (see PgServer::port())
  int max_connections = 100;
  int idle_timeout_ms = 0;  // close a connection idle (or stalled mid-message) this long; 0 = never
  std::string tls_cert_file, tls_key_file;  // PEM; both set = SSL offered
  bool require_tls = false;                  // refuse cleartext connections
  // Per-query limits of every session (clients may change them with SET); 0 = engine default.
  int64_t statement_timeout_ms = 0;
  int64_t memory_limit_bytes = 0;
};

struct PgUser {
  std::string name, password;
  std::string role;  // "admin" | "writer" | "reader"
};

// Returns the user's credentials and role, or nullopt for an unknown user.
using PgUserLookup = std::function<std::optional<PgUser>(std::string_view user)>;

class PgServer {
 public:
  class Impl;
  static Result<std::unique_ptr<PgServer>> start(PgServerOptions options, sql::Engine* engine,
                                                 PgUserLookup users);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  uint16_t port() const;
  // Idempotent. Returns after every connection thread has finished.
  void stop();

 private:
  explicit PgServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sl::pgwire
