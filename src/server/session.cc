#include "server/session.h"

#include "server/api.h"
#include "util/hash.h"

namespace sl::server {

std::string SessionStore::digest(std::string_view token) { return hex_lower(sha256(token)); }

std::string SessionStore::create(const std::string& user, const std::string& role, WebSession* out) {
  std::string token = random_hex(32);
  WebSession s;
  s.user = user;
  s.role = role;
  s.csrf_token = random_hex(32);
  s.expires_at_ms = clock_->now_ms() + idle_ms_;
  std::lock_guard lk(mu_);
  size_t mine = 0;
  auto idlest = by_digest_.end();
  for (auto it = by_digest_.begin(); it != by_digest_.end(); ++it) {
    if (it->second.user != user) continue;
    mine++;
    if (idlest == by_digest_.end() || it->second.expires_at_ms < idlest->second.expires_at_ms) idlest = it;
  }
  if (mine >= kMaxPerUser) by_digest_.erase(idlest);
  by_digest_[digest(token)] = s;
  *out = std::move(s);
  return token;
}

std::optional<WebSession> SessionStore::touch(std::string_view token) {
  if (token.size() != 64) return std::nullopt;
  std::string d = digest(token);
  int64_t now = clock_->now_ms();
  std::lock_guard lk(mu_);
  auto it = by_digest_.find(d);
  // The map lookup is keyed by a digest the caller cannot steer towards a stored one; the
  // final comparison is constant-time all the same.
  if (it == by_digest_.end() || !constant_time_equal(it->first, d)) return std::nullopt;
  if (it->second.expires_at_ms <= now) {
    by_digest_.erase(it);
    return std::nullopt;
  }
  it->second.expires_at_ms = now + idle_ms_;
  return it->second;
}

void SessionStore::destroy(std::string_view token) {
  std::string d = digest(token);
  std::lock_guard lk(mu_);
  by_digest_.erase(d);
}

std::string SessionStore::create_link(const std::string& user, const std::string& role, int64_t ttl_ms) {
  std::string token = random_hex(32);
  std::lock_guard lk(mu_);
  if (links_.size() >= 16) links_.erase(links_.begin());
  links_.push_back(Link{digest(token), user, role, clock_->now_ms() + ttl_ms});
  return token;
}

std::optional<std::pair<std::string, std::string>> SessionStore::redeem_link(std::string_view token) {
  std::string d = digest(token);
  int64_t now = clock_->now_ms();
  std::lock_guard lk(mu_);
  for (auto it = links_.begin(); it != links_.end(); ++it) {
    if (!constant_time_equal(it->digest, d)) continue;
    auto found = std::make_pair(it->user, it->role);
    bool live = it->expires_at_ms > now;
    links_.erase(it);  // used or expired: gone either way
    if (!live) return std::nullopt;
    return found;
  }
  return std::nullopt;
}

void SessionStore::sweep() {
  int64_t now = clock_->now_ms();
  std::lock_guard lk(mu_);
  std::erase_if(by_digest_, [&](const auto& kv) { return kv.second.expires_at_ms <= now; });
}

size_t SessionStore::size() const {
  std::lock_guard lk(mu_);
  return by_digest_.size();
}

std::string SessionStore::cookie_token(const net::HttpRequest& req) {
  for (const auto& [name, value] : req.headers) {
    if (name != "cookie") continue;
    std::string_view v = value;
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view pair = v.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == "sl_session") {
        std::string_view val = pair.substr(eq + 1);
        while (!val.empty() && val.back() == ' ') val.remove_suffix(1);
        return std::string(val);
      }
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return "";
}

std::string SessionStore::set_cookie(std::string_view token, bool secure) {
  std::string c = "sl_session=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

std::string SessionStore::clear_cookie(bool secure) {
  std::string c = "sl_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  if (secure) c += "; Secure";
  return c;
}

}  // namespace sl::server
