#include "server/live.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "server/sql_http.h"
#include "sql/engine.h"
#include "stream/runtime.h"
#include "util/json.h"
#include "util/time.h"

namespace sl::server {
namespace {

using json = nlohmann::json;

bool may_follow(sql::StatementKind k) {
  return k == sql::StatementKind::kSelect || k == sql::StatementKind::kShow || k == sql::StatementKind::kExplain;
}

std::string sse(std::string_view event, std::string_view data) {
  std::string s = "event: ";
  s += event;
  s += "\ndata: ";
  s += data;  // JSON from our writers: no raw newlines
  s += "\n\n";
  return s;
}

std::string error_frame(const std::string& id, std::string_view code, std::string_view message, int position) {
  std::string d = "{\"id\":";
  append_json_string(d, id);
  d += ",\"error\":" + sql_error_object(code, message, position) + "}";
  return sse("error", d);
}

}  // namespace

LiveHub::LiveHub(sql::Engine* engine, stream::Runtime* runtime, int64_t min_interval_ms)
    : engine_(engine), runtime_(runtime), min_interval_ms_(min_interval_ms) {
  thread_ = std::thread([this] { loop(); });
}

LiveHub::~LiveHub() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(mu_);
  for (auto& [id, c] : conns_) c->sink->finish();
  conns_.clear();
}

size_t LiveHub::connection_count() const {
  std::lock_guard lk(mu_);
  return conns_.size();
}

size_t LiveHub::subscription_count() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (auto& [id, c] : conns_) n += c->subs.size();
  return n;
}

void LiveHub::open(const Caller& caller, std::shared_ptr<net::ResponseSink> sink) {
  auto c = std::make_shared<Connection>();
  c->id = random_hex(16);
  c->caller = caller;
  c->sink = sink;
  c->last_write_ms = now_millis();
  {
    std::lock_guard lk(mu_);
    size_t mine = 0;
    for (auto& [id, other] : conns_) mine += other->caller.user == caller.user && !other->sink->closed();
    if (mine >= kMaxConnectionsPerUser) {
      sink->respond(api_error(429, "53300", "too many live connections for user " + caller.user + " (at most " +
                                                std::to_string(kMaxConnectionsPerUser) + ")"));
      return;
    }
    conns_[c->id] = c;
  }
  sink->start_stream(200, {{"content-type", "text/event-stream"},
                           {"cache-control", "no-store"},
                           {"x-accel-buffering", "no"}});
  sink->write(sse("hello", "{\"connection\":\"" + c->id + "\"}"));
}

void LiveHub::handle(const net::HttpRequest& req, const Caller& caller, net::ResponseSink& sink) {
  // /v1/live/{connection}/subscribe[/{id}]
  std::vector<std::string> seg = path_segments(req.path, "/v1/live");
  if (seg.size() < 2 || seg.size() > 3 || seg[1] != "subscribe") {
    sink.respond(api_error(404, "not_found", "no such endpoint: " + req.method + " " + req.path));
    return;
  }
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lk(mu_);
    auto it = conns_.find(seg[0]);
    if (it != conns_.end()) conn = it->second;
  }
  if (!conn || conn->sink->closed()) {
    sink.respond(api_error(404, "not_found", "no live connection " + seg[0] + " (open GET /v1/live first)"));
    return;
  }
  if (conn->caller.user != caller.user) {
    sink.respond(api_error(403, "42501", "permission denied: live connection " + seg[0] + " belongs to another user"));
    return;
  }
  if (seg.size() == 3) {
    if (req.method != "DELETE") {
      sink.respond(api_error(405, "bad_request", "use DELETE to unsubscribe"));
      return;
    }
    std::lock_guard lk(mu_);
    conn->subs.erase(seg[2]);
    sink.respond(api_no_content());
    return;
  }
  if (req.method != "POST") {
    sink.respond(api_error(405, "bad_request", "use POST to subscribe"));
    return;
  }
  json doc = json::parse(req.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    sink.respond(api_error(400, "bad_request", "body: expected a JSON object {\"id\": ..., \"sql\": ...}"));
    return;
  }
  if (!doc.contains("id") || !doc["id"].is_string() || doc["id"].get<std::string>().empty() ||
      doc["id"].get<std::string>().size() > 128) {
    sink.respond(api_error(400, "bad_request", "id: expected a string of 1 to 128 characters"));
    return;
  }
  if (!doc.contains("sql") || !doc["sql"].is_string() || doc["sql"].get<std::string>().size() > (64u << 10)) {
    sink.respond(api_error(400, "bad_request", "sql: expected a string of at most 65536 bytes"));
    return;
  }
  Subscription sub;
  sub.id = doc["id"].get<std::string>();
  sub.sql = doc["sql"].get<std::string>();
  // Refuse what can never be followed now, with the SQL error's code and position.
  try {
    auto session = engine_->session(sql::SessionOptions{.user = caller.user});
    sql::PreparedStatement stmt = session->prepare(sub.sql);
    if (!role_may_run(caller.role, static_cast<int>(stmt.kind()))) {
      sink.respond(api_error(403, "42501", "permission denied: user " + caller.user + " (role " + caller.role +
                                               ") may not run this statement"));
      return;
    }
    if (!may_follow(stmt.kind())) {
      sink.respond(api_error(400, "0A000", "sql: only a SELECT (or SHOW, EXPLAIN) can be followed live"));
      return;
    }
  } catch (const Error& e) {
    sink.respond(api_sql_error(400, sql::sqlstate_of(e), e.what(), e.position()));
    return;
  }
  {
    std::lock_guard lk(mu_);
    if (conn->subs.size() >= kMaxSubscriptions && !conn->subs.count(sub.id)) {
      sink.respond(api_error(429, "53300", "at most " + std::to_string(kMaxSubscriptions) + " subscriptions per connection"));
      return;
    }
    conn->subs[sub.id] = std::move(sub);
    dirty_ = true;
  }
  cv_.notify_all();
  sink.respond(api_no_content());
}

int64_t LiveHub::current_lag_ms() const {
  int64_t newest = -1;
  for (const auto& s : runtime_->streams()) newest = std::max(newest, s.last_arrival_ms);
  if (newest < 0) return 0;
  return std::max<int64_t>(0, now_millis() - newest);
}

std::string LiveHub::run_one(const Caller& caller, const Subscription& sub, uint64_t epoch, int64_t lag_ms) {
  try {
    sql::SessionOptions so;
    so.user = caller.user;
    so.timeout_ms = 10000;  // a live query is re-run often: it has to be quick
    so.threads = 1;  // many subscriptions, small views: keep one core for the pipeline
    auto session = engine_->session(so);
    sql::PreparedStatement stmt = session->prepare(sub.sql);
    if (!role_may_run(caller.role, static_cast<int>(stmt.kind())) || !may_follow(stmt.kind()))
      return error_frame(sub.id, "42501", "permission denied: only queries can be followed live", -1);
    sql::QueryResult result = session->execute(stmt, {});
    std::string d = "{\"id\":";
    append_json_string(d, sub.id);
    d += ",\"columns\":";
    append_columns_json(result.columns(), d);
    d += ",\"rows\":[";
    size_t n = 0;
    bool truncated = false;
    while (const sql::DataChunk* chunk = result.next()) {
      for (size_t r = 0; r < chunk->size(); r++) {
        if (n == kMaxRows) {
          truncated = true;
          break;
        }
        if (n++) d.push_back(',');
        append_row_json(*chunk, r, d);
      }
      if (truncated) break;
    }
    d += "],\"row_count\":" + std::to_string(n);
    if (truncated) d += ",\"truncated\":true";
    d += ",\"epoch\":" + std::to_string(epoch) + ",\"lag_ms\":" + std::to_string(lag_ms) + "}";
    return sse("result", d);
  } catch (const Error& e) {
    return error_frame(sub.id, sql::sqlstate_of(e), e.what(), e.position());
  } catch (const std::exception& e) {
    return error_frame(sub.id, "XX000", std::string("internal error: ") + e.what(), -1);
  }
}

void LiveHub::loop() {
  struct Job {
    std::shared_ptr<Connection> conn;
    Subscription sub;
  };
  for (;;) {
    const uint64_t epoch = runtime_->epoch();
    const int64_t now = now_millis();
    std::vector<Job> jobs;
    int64_t next_due = INT64_MAX;
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      dirty_ = false;
      for (auto it = conns_.begin(); it != conns_.end();) {
        Connection& c = *it->second;
        if (c.sink->closed()) {  // the page went away: its subscriptions go with it
          it = conns_.erase(it);
          continue;
        }
        if (now - c.last_write_ms >= kPingIntervalMs) {
          c.sink->write(": ping\n\n");
          c.last_write_ms = now;
        }
        bool slow = c.sink->queued_bytes() > kMaxQueuedBytes;
        for (auto& [sid, s] : c.subs) {
          bool due = s.last_run_ms < 0 || s.ran_epoch < epoch;
          if (!due) continue;
          int64_t at = s.last_run_ms < 0 ? now : s.last_run_ms + min_interval_ms_;
          if (at > now || slow) {
            next_due = std::min(next_due, slow ? now + min_interval_ms_ : at);
            continue;
          }
          jobs.push_back(Job{it->second, s});
        }
        ++it;
      }
    }
    if (!jobs.empty()) {
      // lag: how old the newest record behind this result is; 0 for a first run of a
      // pipeline that is idle and caught up.
      bool behind = false;
      for (const auto& s : runtime_->streams()) behind |= s.millis_behind_latest > 0;
      const int64_t lag = current_lag_ms();
      for (Job& j : jobs) {
        bool first = j.sub.last_run_ms < 0;
        std::string frame = run_one(j.conn->caller, j.sub, epoch, first && !behind ? 0 : lag);
        std::lock_guard lk(mu_);
        auto it = j.conn->subs.find(j.sub.id);
        if (it == j.conn->subs.end() || it->second.sql != j.sub.sql) continue;  // changed meanwhile
        it->second.ran_epoch = epoch;
        it->second.last_run_ms = now_millis();
        j.conn->sink->write(std::move(frame));
        j.conn->last_write_ms = it->second.last_run_ms;
      }
      continue;  // the epoch may have moved while the queries ran
    }
    if (next_due != INT64_MAX) {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(std::max<int64_t>(1, next_due - now)),
                   [&] { return stop_ || dirty_; });
      continue;
    }
    // Nothing due: wait for the pipeline's next epoch (bounded, to notice new
    // subscriptions, pings and stop()).
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      if (dirty_) continue;
    }
    (void)runtime_->wait_for_epoch(epoch, 100);
  }
}

}  // namespace sl::server
