#include "server/sql_http.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "sql/engine.h"
#include "util/json.h"
#include "util/thread_pool.h"

namespace sl::server {
namespace {

std::string error_object(const char* code, std::string_view message, int position) {
  std::string s = "{\"code\":";
  append_json_string(s, code);
  s += ",\"message\":";
  append_json_string(s, message);
  s += ",\"position\":" + std::to_string(position) + "}";
  return s;
}

net::HttpResponse error_response(int status, const char* code, std::string_view message, int position) {
  net::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.body = "{\"error\":" + error_object(code, message, position) + "}";
  return r;
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

void SqlHttp::handle(net::HttpRequest& req, const User& user, std::shared_ptr<net::ResponseSink> sink) {
  if (req.method != "POST") {
    sink->respond(error_response(405, "42601", "use POST /v1/sql with the statement in the body", -1));
    return;
  }
  std::string sql;
  const std::string* ct = req.header("content-type");
  if (ct && ct->rfind("application/json", 0) == 0) {
    auto doc = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("sql") || !doc["sql"].is_string()) {
      sink->respond(error_response(400, "22P02", "body must be a JSON object {\"sql\": \"...\"}", -1));
      return;
    }
    sql = doc["sql"].get<std::string>();
  } else {
    sql = std::move(req.body);
  }
  pool_->submit([this, sql = std::move(sql), user, sink]() mutable { run(std::move(sql), std::move(user), sink); });
}

void SqlHttp::run(std::string sql_text, User user, std::shared_ptr<net::ResponseSink> sink) {
  sql::SessionOptions so;
  so.user = user.name;
  so.timeout_ms = default_timeout_ms_;
  std::unique_ptr<sql::Session> session;
  bool started = false;
  std::string buf;
  try {
    session = engine_->session(so);
    sql::PreparedStatement stmt = session->prepare(sql_text);
    if (!role_may_run(user.role, static_cast<int>(stmt.kind()))) {
      sink->respond(error_response(403, "42501",
                                   "permission denied: user " + user.name + " (role " + user.role +
                                       ") may not run this statement",
                                   -1));
      return;
    }
    sql::QueryResult result = session->execute(stmt, {});
    buf = "{\"columns\":[";
    const auto& cols = result.columns();
    for (size_t i = 0; i < cols.size(); i++) {
      if (i) buf.push_back(',');
      buf += "{\"name\":";
      append_json_string(buf, cols[i].name);
      buf += ",\"type\":";
      append_json_string(buf, cols[i].type.to_string());
      buf.push_back('}');
    }
    buf += "],\"rows\":[";
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
        buf.push_back('[');
        for (size_t c = 0; c < chunk->column_count(); c++) {
          if (c) buf.push_back(',');
          const auto& v = chunk->column(c);
          if (v.is_null(r)) buf += "null";
          else sql::append_json(v, r, buf);
        }
        buf.push_back(']');
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
