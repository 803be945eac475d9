#include "server/web_api.h"

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "server/credentials.h"
#include "server/live.h"
#include "server/notebooks.h"
#include "server/session.h"
#include "server/sql_http.h"
#include "server/status.h"
#include "sql/engine.h"
#include "util/hash.h"
#include "util/json.h"

namespace sl::server {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr int64_t kSignInDelayMs = 250;
constexpr size_t kMaxDelayed = 1024;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A browser's fetch() must not get a Basic challenge (it would pop up a login dialog);
// command-line clients (no Sec-Fetch-Mode, no cookie) do.
bool wants_basic_challenge(const net::HttpRequest& req) {
  return !req.header("sec-fetch-mode") && !req.header("cookie") && !req.header("x-csrf-token");
}

}  // namespace

WebApi::WebApi(Deps deps) : d_(std::move(deps)) {
  secure_ = !d_.config->tls_cert_file.empty() && !d_.config->tls_key_file.empty();
}

WebApi::~WebApi() {
  live_.reset();  // joins its thread before the engine and runtime go
  std::lock_guard lk(delayed_mu_);
  for (auto& d : delayed_) d.sink->respond(std::move(d.response));
  delayed_.clear();
}

Result<std::unique_ptr<WebApi>> WebApi::open(Deps deps) {
  std::unique_ptr<WebApi> w(new WebApi(std::move(deps)));
  const Config& c = *w->d_.config;
  w->sessions_ = std::make_unique<SessionStore>(c.ui_session_idle_minutes * 60000, w->d_.clock);
  SL_ASSIGN_OR_RETURN(w->notebooks_, NotebookStore::open(c.data_dir + "/notebooks", w->d_.clock));
  w->status_ = std::make_unique<StatusBoard>(w->d_.kinesis, w->d_.runtime, w->d_.clock);
  w->live_ = std::make_unique<LiveHub>(w->d_.engine, w->d_.runtime, c.ui_live_interval_ms);
  return w;
}

void WebApi::tick() {
  const int64_t now = d_.clock->now_ms();
  if (now - last_sample_ms_ >= 1000) {
    last_sample_ms_ = now;
    status_->sample();
    sessions_->sweep();
  }
  std::vector<Delayed> due;
  {
    std::lock_guard lk(delayed_mu_);
    for (auto it = delayed_.begin(); it != delayed_.end();) {
      if (it->due_ms <= now) {
        due.push_back(std::move(*it));
        it = delayed_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& d : due) d.sink->respond(std::move(d.response));
}

bool WebApi::origin_ok(const net::HttpRequest& req) const {
  const std::string* origin = req.header("origin");
  if (!origin) return true;
  const std::string* host = req.header("host");
  if (!host) return false;
  return *origin == std::string(secure_ ? "https://" : "http://") + *host;
}

std::optional<Caller> WebApi::authenticate(const net::HttpRequest& req, AuthFailure* failure) {
  if (req.header("authorization") || req.query.find("X-Amz-Signature=") != std::string::npos) {
    std::string why;
    const User* u = d_.header_auth(req, &why);
    if (!u) {
      *failure = {401, "28000", why};
      return std::nullopt;
    }
    return Caller{u->name, u->role, false};
  }
  std::string token = SessionStore::cookie_token(req);
  if (token.empty()) {
    *failure = {401, "28000", "authentication required: sign in (POST /v1/session) or use HTTP Basic or AWS SigV4"};
    return std::nullopt;
  }
  auto s = sessions_->touch(token);
  if (!s) {
    *failure = {401, "28000", "your session expired or was signed out: sign in again"};
    return std::nullopt;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    const std::string* csrf = req.header("x-csrf-token");
    if (!csrf || !constant_time_equal(*csrf, s->csrf_token)) {
      *failure = {403, "csrf", "missing or wrong X-CSRF-Token header (use the csrf_token of your session)"};
      return std::nullopt;
    }
    if (!origin_ok(req)) {
      *failure = {403, "csrf", "cross-site request refused: Origin does not match this server"};
      return std::nullopt;
    }
  }
  return Caller{s->user, s->role, true};
}

void WebApi::sign_in(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink) {
  if (!origin_ok(req)) {
    sink->respond(api_error(403, "csrf", "cross-site sign-in refused: Origin does not match this server"));
    return;
  }
  json doc = json::parse(req.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("user") || !doc["user"].is_string() ||
      !doc.contains("password") || !doc["password"].is_string()) {
    sink->respond(api_error(400, "bad_request", "body: expected {\"user\": \"...\", \"password\": \"...\"}"));
    return;
  }
  std::string name = doc["user"].get<std::string>(), password = doc["password"].get<std::string>();
  const User* u = d_.users->by_name(name);
  if (!u) u = d_.users->by_access_key(name);
  if (!u || !constant_time_equal(u->secret, password)) {
    if (name.size() > 128) name = name.substr(0, 128) + "...";
    net::HttpResponse r = api_error(401, "28P01", "password authentication failed for user \"" + name + "\"");
    std::lock_guard lk(delayed_mu_);
    if (delayed_.size() < kMaxDelayed) {
      delayed_.push_back(Delayed{d_.clock->now_ms() + kSignInDelayMs, sink, std::move(r)});
    } else {  // a flood of guesses: refuse outright rather than answer faster
      sink->respond(api_error(429, "53300", "too many failed sign-ins right now; try again in a moment"));
    }
    return;
  }
  WebSession s;
  std::string token = sessions_->create(u->name, u->role, &s);
  ojson body;
  body["user"] = s.user;
  body["role"] = s.role;
  body["csrf_token"] = s.csrf_token;
  body["expires_at_ms"] = s.expires_at_ms;
  net::HttpResponse r = api_json(200, body.dump());
  r.headers.emplace_back("set-cookie", SessionStore::set_cookie(token, secure_));
  sink->respond(std::move(r));
}

std::string WebApi::sign_in_link(const std::string& user) {
  const User* u = d_.users->by_name(user);
  if (!u) return "";
  return "/v1/session/link?token=" + sessions_->create_link(u->name, u->role, 15 * 60 * 1000);
}

void WebApi::redeem_link(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink) {
  if (req.method != "GET") {
    sink->respond(api_error(405, "bad_request", "open the sign-in link with GET (in a browser)"));
    return;
  }
  std::string token;
  for (size_t i = 0; i <= req.query.size();) {
    size_t amp = req.query.find('&', i);
    if (amp == std::string::npos) amp = req.query.size();
    std::string_view kv(req.query.data() + i, amp - i);
    if (kv.substr(0, 6) == "token=") token = std::string(kv.substr(6));
    i = amp + 1;
  }
  auto who = token.empty() ? std::nullopt : sessions_->redeem_link(token);
  if (!who) {
    net::HttpResponse r;
    r.status = 401;
    r.headers.emplace_back("content-type", "text/plain; charset=utf-8");
    r.headers.emplace_back("cache-control", "no-store");
    r.body = "This sign-in link was already used or has expired. Open the notebook's address and sign in with "
             "a user name and password (for the generated admin: the aws_secret_access_key of DATA/credentials).\n";
    sink->respond(std::move(r));
    return;
  }
  WebSession s;
  std::string session = sessions_->create(who->first, who->second, &s);
  net::HttpResponse r;
  r.status = 303;
  r.headers.emplace_back("location", "/");
  r.headers.emplace_back("cache-control", "no-store");
  r.headers.emplace_back("referrer-policy", "no-referrer");
  r.headers.emplace_back("set-cookie", SessionStore::set_cookie(session, secure_));
  sink->respond(std::move(r));
}

void WebApi::session_endpoint(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink) {
  if (req.method == "POST") {
    sign_in(req, sink);
    return;
  }
  if (req.method != "GET" && req.method != "DELETE") {
    sink->respond(api_error(405, "bad_request", "use POST, GET or DELETE on /v1/session"));
    return;
  }
  std::string token = SessionStore::cookie_token(req);
  // Only the cookie counts here (an Authorization header is not a session).
  net::HttpRequest cookie_only = req;
  std::erase_if(cookie_only.headers, [](const auto& h) { return h.first == "authorization"; });
  AuthFailure f;
  auto caller = authenticate(cookie_only, &f);
  if (!caller) {
    sink->respond(api_error(f.status, f.code, f.message));
    return;
  }
  if (req.method == "DELETE") {
    sessions_->destroy(token);
    net::HttpResponse r = api_no_content();
    r.headers.emplace_back("set-cookie", SessionStore::clear_cookie(secure_));
    sink->respond(std::move(r));
    return;
  }
  auto s = sessions_->touch(token);
  if (!s) {  // signed out by another request a moment ago
    sink->respond(api_error(401, "28000", "your session expired or was signed out: sign in again"));
    return;
  }
  ojson body;
  body["user"] = s->user;
  body["role"] = s->role;
  body["csrf_token"] = s->csrf_token;
  body["expires_at_ms"] = s->expires_at_ms;
  sink->respond(api_json(200, body.dump()));
}

std::string WebApi::catalog_json() const {
  ojson rels = ojson::array();
  for (const auto& e : d_.engine->catalog().list()) {
    ojson r;
    r["name"] = e->name;
    r["kind"] = catalog::table_kind_name(e->kind);
    ojson cols = ojson::array();
    for (const auto& c : e->columns) cols.push_back({{"name", c.name}, {"type", c.type.to_string()}});
    r["columns"] = std::move(cols);
    rels.push_back(std::move(r));
  }
  ojson out;
  out["relations"] = std::move(rels);
  return out.dump();
}

std::string WebApi::metrics_text() const {
  ServerGauges g;
  g.http_connections = d_.http_connections ? d_.http_connections() : 0;
  g.ui_sessions = sessions_->size();
  g.live_connections = live_->connection_count();
  g.live_subscriptions = live_->subscription_count();
  g.named_queries = d_.sql_http->running();
  g.notebooks = notebooks_->size();
  return status_->metrics_text(g);
}

bool WebApi::handle(net::HttpRequest& req, std::shared_ptr<net::ResponseSink>& sink) {
  const std::string& p = req.path;
  const bool metrics = p == "/metrics";
  if (!metrics && p != "/v1" && !starts_with(p, "/v1/")) return false;
  if (p == "/v1/session") {
    session_endpoint(req, sink);
    return true;
  }
  if (p == "/v1/session/link") {
    redeem_link(req, sink);
    return true;
  }
  if (metrics && d_.config->metrics_public && (req.method == "GET" || req.method == "HEAD")) {
    net::HttpResponse r;
    r.headers.emplace_back("content-type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics_text();
    sink->respond(std::move(r));
    return true;
  }
  AuthFailure f;
  std::optional<Caller> caller = authenticate(req, &f);
  if (!caller) {
    net::HttpResponse r;
    if (p == "/v1/sql") {  // the SQL API's error shape has a position
      r = api_sql_error(f.status, f.code, f.message, -1);
    } else {
      r = api_error(f.status, f.code, f.message);
    }
    if (f.status == 401 && wants_basic_challenge(req))
      r.headers.emplace_back("www-authenticate", "Basic realm=\"streamlake\"");
    sink->respond(std::move(r));
    return true;
  }
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (p == "/v1/sql") {
    d_.sql_http->handle(req, User{caller->user, "", "", caller->role}, sink);
    return true;
  }
  if (p == "/v1/sql/cancel") {
    if (req.method != "POST") {
      sink->respond(api_error(405, "bad_request", "use POST /v1/sql/cancel {\"query_id\": ...}"));
      return true;
    }
    d_.sql_http->cancel(req, User{caller->user, "", "", caller->role}, *sink);
    return true;
  }
  if (p == "/v1/notebooks" || starts_with(p, "/v1/notebooks/")) {
    notebooks_->handle(req, *caller, *sink);
    return true;
  }
  if (p == "/v1/live") {
    if (req.method != "GET") {
      sink->respond(api_error(405, "bad_request", "use GET /v1/live (an event stream)"));
      return true;
    }
    live_->open(*caller, sink);
    return true;
  }
  if (starts_with(p, "/v1/live/")) {
    live_->handle(req, *caller, *sink);
    return true;
  }
  if ((p == "/v1/catalog" || p == "/v1/status" || metrics) && !get) {
    sink->respond(api_error(405, "bad_request", "use GET " + p));
    return true;
  }
  if (p == "/v1/catalog") {
    sink->respond(api_json(200, catalog_json()));
    return true;
  }
  if (p == "/v1/status") {
    sink->respond(api_json(200, status_->status_json()));
    return true;
  }
  if (metrics) {
    net::HttpResponse r;
    r.headers.emplace_back("content-type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics_text();
    sink->respond(std::move(r));
    return true;
  }
  sink->respond(api_error(404, "not_found", "no such endpoint: " + req.method + " " + p));
  return true;
}

}  // namespace sl::server
