#include "server/sql_http.h"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/api.h"
#include "sql/engine.h"
#include "util/json.h"
#include "util/thread_pool.h"

namespace sl::server {
namespace {

std::string error_object(const char* code, std::string_view message, int position) {
  return sql_error_object(code, message, position);
}

net::HttpResponse error_response(int status, const char* code, std::string_view message, int position) {
  return api_sql_error(status, code, message, position);
}

constexpr size_t kFlushBytes = 256 << 10;
constexpr size_t kMaxQueued = 8 << 20;

}  // namespace

bool role_may_run(const std::string& role, int kind) {
  using K = sql::StatementKind;
  auto k = static_cast<K>(kind);
  if (role == "admin") return true;
  bool query = k == K::kSelect || k == K::kShow || k == K::kExplain || k == K::kSet || k == K::kEmpty;
  if (role == "writer") return query || k == K::kInsert;
  return query;
}

SqlHttp::SqlHttp(sql::Engine* engine, size_t workers, int64_t default_timeout_ms)
    : engine_(engine), default_timeout_ms_(default_timeout_ms), pool_(std::make_unique<ThreadPool>(workers)) {}

SqlHttp::~SqlHttp() = default;

void append_columns_json(const std::vector<sql::ResultColumn>& cols, std::string& buf) {
  buf.push_back('[');
  for (size_t i = 0; i < cols.size(); i++) {
    if (i) buf.push_back(',');
    buf += "{\"name\":";
    append_json_string(buf, cols[i].name);
    buf += ",\"type\":";
    append_json_string(buf, cols[i].type.to_string());
    buf.push_back('}');
  }
  buf.push_back(']');
}

void append_row_json(const exec::DataChunk& chunk, size_t r, std::string& buf) {
  buf.push_back('[');
  for (size_t c = 0; c < chunk.column_count(); c++) {
    if (c) buf.push_back(',');
    const auto& v = chunk.column(c);
    if (v.is_null(r)) buf += "null";
    else sql::append_json(v, r, buf);
  }
  buf.push_back(']');
}

void SqlHttp::handle(net::HttpRequest& req, const User& user, std::shared_ptr<net::ResponseSink> sink) {
  if (req.method != "POST") {
    sink->respond(error_response(405, "42601", "use POST /v1/sql with the statement in the body", -1));
    return;
  }
  std::string sql, query_id;
  const std::string* ct = req.header("content-type");
  if (ct && ct->rfind("application/json", 0) == 0) {
    auto doc = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("sql") || !doc["sql"].is_string()) {
      sink->respond(error_response(400, "22P02", "body must be a JSON object {\"sql\": \"...\"}", -1));
      return;
    }
    sql = doc["sql"].get<std::string>();
    if (doc.contains("query_id") && !doc["query_id"].is_null()) {
      if (!doc["query_id"].is_string() || doc["query_id"].get<std::string>().empty() ||
          doc["query_id"].get<std::string>().size() > 128) {
        sink->respond(error_response(400, "22023", "query_id: expected a string of 1 to 128 characters", -1));
        return;
      }
      query_id = doc["query_id"].get<std::string>();
    }
  } else {
    sql = std::move(req.body);
  }
  std::shared_ptr<Running> running;
  if (!query_id.empty()) {
    running = std::make_shared<Running>();
    running->owner = user.name;
    std::lock_guard lk(mu_);
    if (!running_.emplace(query_id, running).second) {
      sink->respond(error_response(409, "42710", "query_id " + query_id + " is already running", -1));
      return;
    }
  }
  pool_->submit([this, sql = std::move(sql), user, sink, running, query_id]() mutable {
    run(std::move(sql), std::move(user), sink, running);
    if (running) {
      std::lock_guard lk(mu_);
      running_.erase(query_id);
    }
  });
}

void SqlHttp::cancel(const net::HttpRequest& req, const User& user, net::ResponseSink& sink) {
  auto doc = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("query_id") || !doc["query_id"].is_string()) {
    sink.respond(error_response(400, "22023", "query_id: body must be a JSON object {\"query_id\": \"...\"}", -1));
    return;
  }
  std::string id = doc["query_id"].get<std::string>();
  std::lock_guard lk(mu_);
  auto it = running_.find(id);
  if (it != running_.end()) {
    Running& r = *it->second;
    if (r.owner != user.name && user.role != "admin") {
      sink.respond(error_response(403, "42501",
                                  "permission denied: query " + id + " belongs to another user", -1));
      return;
    }
    r.cancelled = true;
    if (r.session) r.session->cancel();
  }
  net::HttpResponse resp;
  resp.status = 204;
  sink.respond(std::move(resp));
}

size_t SqlHttp::running() const {
  std::lock_guard lk(mu_);
  return running_.size();
}

void SqlHttp::run(std::string sql_text, User user, std::shared_ptr<net::ResponseSink> sink,
                  std::shared_ptr<Running> running) {
  sql::SessionOptions so;
  so.user = user.name;
  so.timeout_ms = default_timeout_ms_;
  std::unique_ptr<sql::Session> session;
  bool started = false;
  std::string buf;
  // Publishes the session to cancel(); a cancel that came earlier trips it now (execute()
  // resets the token when the statement starts, so this runs again after it).
  auto attach = [&](sql::Session* s) {
    if (!running) return;
    std::lock_guard lk(mu_);
    running->session = s;
    if (s && running->cancelled) s->cancel();
  };
  struct Detach {
    std::function<void()> fn;
    ~Detach() { fn(); }
  } detach{[&] { attach(nullptr); }};
  try {
    session = engine_->session(so);
    attach(session.get());
    sql::PreparedStatement stmt = session->prepare(sql_text);
    if (!role_may_run(user.role, static_cast<int>(stmt.kind()))) {
      sink->respond(error_response(403, "42501",
                                   "permission denied: user " + user.name + " (role " + user.role +
                                       ") may not run this statement",
                                   -1));
      return;
    }
    sql::QueryResult result = session->execute(stmt, {});
    attach(session.get());
    buf = "{\"columns\":";
    append_columns_json(result.columns(), buf);
    buf += ",\"rows\":[";
    bool first_row = true;
    auto flush = [&](bool force) {
      if (!force && buf.size() < kFlushBytes) return;
      if (!started) {
        sink->start_stream(200, {{"content-type", "application/json"}});
        started = true;
      }
      if (!buf.empty() && !sink->write(std::move(buf))) session->cancel();
      buf.clear();
      // Back-pressure: let the client drain before producing more.
      while (sink->queued_bytes() > kMaxQueued && !sink->closed())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (sink->closed()) session->cancel();
    };
    while (const sql::DataChunk* chunk = result.next()) {
      size_t n = chunk->size();
      for (size_t r = 0; r < n; r++) {
        if (!first_row) buf.push_back(',');
        first_row = false;
        append_row_json(*chunk, r, buf);
      }
      flush(false);
    }
    buf += "],\"row_count\":" + std::to_string(result.row_count()) + ",\"command\":";
    append_json_string(buf, result.command_tag());
    buf += "}\n";
    if (started) {
      flush(true);
      sink->finish();
    } else {
      net::HttpResponse r;
      r.headers.emplace_back("content-type", "application/json");
      r.body = std::move(buf);
      sink->respond(std::move(r));
    }
  } catch (const Error& e) {
    const char* code = sql::sqlstate_of(e);
    bool internal = dynamic_cast<const UserError*>(&e) == nullptr;
    if (started) {
      std::string tail = "],\"error\":" + error_object(code, e.what(), e.position()) + "}\n";
      sink->write(std::move(tail));
      sink->finish();
    } else {
      sink->respond(error_response(internal ? 500 : 400, code, e.what(), e.position()));
    }
  } catch (const std::exception& e) {
    if (started) {
      sink->write("],\"error\":" + error_object("XX000", e.what(), -1) + "}\n");
      sink->finish();
    } else {
      sink->respond(error_response(500, "XX000", std::string("internal error: ") + e.what(), -1));
    }
  }
}

}  // namespace sl::server
