// The HTTP API of the web notebook and its health pages (the contract is
// docs/notebook.md, "HTTP API"): sign-in sessions, who may call what, and the routes
//   /v1/session, /v1/sql, /v1/sql/cancel, /v1/catalog, /v1/notebooks..., /v1/live...,
//   /v1/status, /metrics.
// The static UI (/, /assets/*) is served by serve_ui_asset() (server/ui_assets.h).
//
// Authentication: an Authorization header (HTTP Basic or SigV4, checked by the server's
// callback) or the sl_session cookie. A cookie-authenticated request that is not GET/HEAD
// must carry X-CSRF-Token = the session's token, and an Origin header, when present, must
// be this server (scheme, host, port); else 403 "csrf". Basic/SigV4 requests need neither.
// Failed sign-ins are answered after a constant delay (~250 ms, by tick(); the I/O thread
// never sleeps).
//
// Lifecycle: created by the server after the engine, the runtime and SqlHttp exist;
// destroyed before them (it owns the live-results thread).
// Threads: handle() on HTTP I/O threads; tick() on the server's ticker thread (every
// ~100 ms: samples the status history once a second, sends delayed refusals, sweeps
// expired sessions).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http.h"
#include "server/api.h"
#include "server/config.h"
#include "util/status.h"
#include "util/time.h"

namespace sl::sql { class Engine; }
namespace sl::stream { class Runtime; }
namespace sl::kinesis { class Service; }

namespace sl::server {

class SqlHttp;
class SessionStore;
class NotebookStore;
class LiveHub;
class StatusBoard;
class UserDirectory;

class WebApi {
 public:
  struct Deps {
    const Config* config = nullptr;
    const UserDirectory* users = nullptr;
    sql::Engine* engine = nullptr;
    stream::Runtime* runtime = nullptr;
    kinesis::Service* kinesis = nullptr;
    SqlHttp* sql_http = nullptr;
    Clock* clock = nullptr;
    // Basic/SigV4 verification of the Authorization header (the server's): the user, or
    // nullptr with *why set.
    std::function<const User*(const net::HttpRequest&, std::string* why)> header_auth;
    // Open HTTP connections, for /metrics (0 before the server listens).
    std::function<int()> http_connections;
  };

  // Opens DATA/notebooks and starts the live-results thread.
  static Result<std::unique_ptr<WebApi>> open(Deps deps);
  ~WebApi();

  // Answers the request if its path is one of ours (see above) and returns true; false
  // for other paths (the caller answers them).
  bool handle(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink);
  void tick();
  // A one-time sign-in path for `user` ("/v1/session/link?token=…", valid 15 minutes,
  // usable once), or "" if there is no such user. GET of it signs the browser in as the
  // user and redirects to the notebook.
  std::string sign_in_link(const std::string& user);

 private:
  explicit WebApi(Deps deps);
  struct AuthFailure {
    int status = 401;
    std::string code, message;
  };
  // The caller, or nullopt with *failure set (401: no or bad credentials; 403: CSRF).
  std::optional<Caller> authenticate(const net::HttpRequest& req, AuthFailure* failure);
  bool origin_ok(const net::HttpRequest& req) const;
  void session_endpoint(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink);
  void sign_in(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink);
  void redeem_link(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink);
  std::string catalog_json() const;
  std::string metrics_text() const;

  Deps d_;
  bool secure_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<NotebookStore> notebooks_;
  std::unique_ptr<StatusBoard> status_;
  std::unique_ptr<LiveHub> live_;
  int64_t last_sample_ms_ = 0;
  struct Delayed {
    int64_t due_ms;
    std::shared_ptr<net::ResponseSink> sink;
    net::HttpResponse response;
  };
  std::mutex delayed_mu_;
  std::vector<Delayed> delayed_;
};

}  // namespace sl::server
