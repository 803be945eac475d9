// Browser sessions of the notebook: POST /v1/session signs in with a server user's name
// (or access key) and secret and sets the sl_session cookie; requests carrying the cookie
// are authenticated as that user, with CSRF rules (docs/notebook.md, "Security").
//
// Tokens: 32 bytes from the CSPRNG (OpenSSL RAND_bytes), hex encoded, sent only in the
// HttpOnly cookie. The store keeps the SHA-256 of each token, never the token, and
// compares digests in constant time. Each session has its own random CSRF token.
// Sessions live in memory: a restart signs everyone out. A session expires after
// `idle_ms` without a request; expired sessions are purged as they are met and by sweep().
// A user holds at most kMaxPerUser sessions: signing in once more ends the one idle longest.
//
// Threads: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/http.h"
#include "util/time.h"

namespace sl::server {

struct WebSession {
  std::string user;
  std::string role;
  std::string csrf_token;
  int64_t expires_at_ms = 0;
};

class SessionStore {
 public:
  static constexpr size_t kMaxPerUser = 64;

  SessionStore(int64_t idle_ms, Clock* clock) : idle_ms_(idle_ms), clock_(clock) {}

  // Creates a session; returns its token (to put in the cookie) and fills *out.
  std::string create(const std::string& user, const std::string& role, WebSession* out);
  // The session of `token` with its idle deadline pushed out, or nullopt (unknown, expired).
  std::optional<WebSession> touch(std::string_view token);
  // Destroys the session of `token` (no-op if unknown).
  void destroy(std::string_view token);
  // A one-time sign-in link token for `user` (what `streamlake demo` prints): valid for
  // `ttl_ms`, redeemable once. Only its digest is kept. At most 16 are outstanding (the
  // oldest is dropped).
  std::string create_link(const std::string& user, const std::string& role, int64_t ttl_ms);
  // Consumes a link token: the user and role it was made for, or nullopt (unknown, used,
  // expired).
  std::optional<std::pair<std::string, std::string>> redeem_link(std::string_view token);
  // Drops expired sessions.
  void sweep();
  size_t size() const;

  // The value of the sl_session cookie in the request's Cookie headers, or "".
  static std::string cookie_token(const net::HttpRequest& req);
  // Set-Cookie values: a session cookie (HttpOnly, SameSite=Strict, Path=/, Secure when
  // `secure`), and one that clears it.
  static std::string set_cookie(std::string_view token, bool secure);
  static std::string clear_cookie(bool secure);

 private:
  static std::string digest(std::string_view token);
  int64_t idle_ms_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, WebSession> by_digest_;  // hex SHA-256 of the token
  struct Link {
    std::string digest, user, role;
    int64_t expires_at_ms;
  };
  std::vector<Link> links_;
};

}  // namespace sl::server
