#include "server/status.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "kinesis/kinesis.h"
#include "server/prometheus.h"
#include "stream/runtime.h"

namespace sl::server {
namespace {

using ojson = nlohmann::ordered_json;

ojson watermark_ms(int64_t us) { return us == INT64_MIN ? ojson(nullptr) : ojson(us / 1000); }

}  // namespace

void StatusBoard::sample() {
  const int64_t now = clock_->now_ms();
  auto traffic = kinesis_->traffic();
  uint64_t rows = 0;
  for (const auto& s : runtime_->streams()) rows += s.rows_in;
  std::lock_guard lk(mu_);
  const double dt = last_sample_ms_ < 0 ? 0 : std::max<int64_t>(1, now - last_sample_ms_) / 1000.0;
  double records_per_s = 0;
  std::map<std::string, StreamRate> next;
  for (const auto& t : traffic) {
    StreamRate r;
    r.records = t.records_in;
    r.bytes = t.bytes_in;
    auto prev = rates_.find(t.name);
    if (dt > 0 && prev != rates_.end() && t.records_in >= prev->second.records) {
      r.records_per_s = (t.records_in - prev->second.records) / dt;
      r.bytes_per_s = (t.bytes_in - prev->second.bytes) / dt;
    }
    records_per_s += r.records_per_s;
    next[t.name] = r;
  }
  rates_ = std::move(next);
  double rows_per_s = dt > 0 && rows >= last_rows_ ? (rows - last_rows_) / dt : 0;
  last_rows_ = rows;
  last_sample_ms_ = now;
  history_.push_back(Point{now, records_per_s, rows_per_s});
  while (history_.size() > kHistoryPoints) history_.pop_front();
}

std::string StatusBoard::status_json() const {
  auto traffic = kinesis_->traffic();
  auto tables = runtime_->streams();
  auto views = runtime_->views();
  auto ckpt = runtime_->last_checkpoint();
  ojson out;
  std::map<std::string, int64_t> behind_by_stream, behind_by_table;
  for (const auto& t : tables) {
    behind_by_stream[t.stream] = std::max(behind_by_stream[t.stream], t.millis_behind_latest);
    behind_by_table[t.name] = t.millis_behind_latest;
  }
  std::lock_guard lk(mu_);
  ojson streams = ojson::array();
  for (const auto& t : traffic) {
    ojson s;
    s["name"] = t.name;
    s["shards"] = t.open_shards;
    s["status"] = t.status;
    s["records_in"] = t.records_in;
    s["bytes_in"] = t.bytes_in;
    auto r = rates_.find(t.name);
    s["records_per_s"] = r == rates_.end() ? 0.0 : r->second.records_per_s;
    s["bytes_per_s"] = r == rates_.end() ? 0.0 : r->second.bytes_per_s;
    s["retention_hours"] = t.retention_hours;
    auto b = behind_by_stream.find(t.name);
    s["millis_behind_latest"] = b == behind_by_stream.end() ? 0 : b->second;
    streams.push_back(std::move(s));
  }
  out["streams"] = std::move(streams);
  ojson pipelines = ojson::array();
  for (const auto& t : tables) {
    ojson p;
    p["name"] = t.name;
    p["kind"] = "stream table";
    p["stream"] = t.stream;
    p["status"] = t.status;
    p["rows_in"] = t.records_in;  // records read from the stream
    p["rows_out"] = t.rows_in;    // rows decoded and passed on
    p["watermark"] = watermark_ms(t.watermark_us);
    p["lag_ms"] = t.millis_behind_latest;
    p["last_checkpoint_ms"] = ckpt.at_ms;
    p["checkpoint_duration_ms"] = ckpt.duration_ms;
    p["state_bytes"] = 0;
    p["errors"] = t.errors + t.late;
    p["errors_table"] = t.name + "_errors";
    pipelines.push_back(std::move(p));
  }
  for (const auto& v : views) {
    ojson p;
    p["name"] = v.name;
    p["kind"] = "view";
    p["source"] = v.source;
    p["status"] = v.status;
    p["rows_in"] = v.rows_in;
    p["rows_out"] = v.rows_out;
    p["watermark"] = watermark_ms(v.watermark_us);
    auto b = behind_by_table.find(v.source);
    p["lag_ms"] = b == behind_by_table.end() ? 0 : b->second;
    p["last_checkpoint_ms"] = ckpt.at_ms;
    p["checkpoint_duration_ms"] = ckpt.duration_ms;
    p["state_bytes"] = v.state_bytes;
    p["errors"] = v.status.rfind("failed", 0) == 0 ? 1 : 0;
    p["errors_table"] = nullptr;
    pipelines.push_back(std::move(p));
  }
  out["pipelines"] = std::move(pipelines);
  ojson sinks = ojson::array();
  for (const auto& k : runtime_->sinks()) {
    ojson o;
    o["name"] = k.name;
    o["source"] = k.source;
    o["format"] = k.format;
    o["path"] = k.path;
    o["status"] = k.status;
    o["rows"] = k.rows;
    o["files"] = k.files;
    o["bytes"] = k.bytes;
    o["last_commit_ms"] = k.last_commit_ms;
    o["pending_rows"] = k.pending_rows;
    o["lag_ms"] = k.lag_ms;
    sinks.push_back(std::move(o));
  }
  out["sinks"] = std::move(sinks);
  ojson t = ojson::array(), rec = ojson::array(), rows = ojson::array();
  for (const Point& p : history_) {
    t.push_back(p.t_ms);
    rec.push_back(p.records_per_s);
    rows.push_back(p.rows_per_s);
  }
  out["history"] = {{"t", std::move(t)}, {"records_per_s", std::move(rec)}, {"rows_per_s", std::move(rows)}};
  return out.dump();
}

std::string StatusBoard::metrics_text(const ServerGauges& g) const {
  auto traffic = kinesis_->traffic();
  auto tables = runtime_->streams();
  auto views = runtime_->views();
  auto ckpt = runtime_->last_checkpoint();
  PromWriter w;
  auto per_stream = [&](const char* name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& t : traffic) w.sample(name, {{"stream", t.name}}, static_cast<double>(value(t)));
  };
  per_stream("streamlake_kinesis_records_in_total", "counter",
             "Records accepted by PutRecord(s) since the server started.",
             [](const kinesis::StreamTraffic& t) { return t.records_in; });
  per_stream("streamlake_kinesis_bytes_in_total", "counter",
             "Bytes (data and partition keys) accepted by PutRecord(s) since the server started.",
             [](const kinesis::StreamTraffic& t) { return t.bytes_in; });
  per_stream("streamlake_kinesis_open_shards", "gauge", "Open shards of the stream.",
             [](const kinesis::StreamTraffic& t) { return t.open_shards; });
  per_stream("streamlake_kinesis_retention_seconds", "gauge", "Retention period of the stream.",
             [](const kinesis::StreamTraffic& t) { return int64_t{t.retention_hours} * 3600; });

  auto per_table = [&](const char* name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& t : tables) w.sample(name, {{"table", t.name}}, static_cast<double>(value(t)));
  };
  per_table("streamlake_stream_records_in_total", "counter", "Records a stream table read from its Kinesis stream.",
            [](const stream::StreamStatus& t) { return t.records_in; });
  per_table("streamlake_stream_rows_in_total", "counter", "Rows a stream table decoded and passed to its views.",
            [](const stream::StreamStatus& t) { return t.rows_in; });
  per_table("streamlake_stream_errors_total", "counter",
            "Records a stream table could not decode (rows of its <table>_errors table).",
            [](const stream::StreamStatus& t) { return t.errors; });
  per_table("streamlake_stream_late_rows_total", "counter", "Rows that arrived behind the watermark.",
            [](const stream::StreamStatus& t) { return t.late; });
  per_table("streamlake_stream_iterator_age_seconds", "gauge",
            "How far the stream table's reader is behind the newest record (max over shards).",
            [](const stream::StreamStatus& t) { return t.millis_behind_latest / 1000.0; });

  auto per_view = [&](const char* name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& v : views) w.sample(name, {{"view", v.name}}, static_cast<double>(value(v)));
  };
  per_view("streamlake_view_rows_in_total", "counter", "Rows a materialized view consumed.",
           [](const stream::ViewStatus& v) { return v.rows_in; });
  per_view("streamlake_view_rows_out_total", "counter", "Rows (and retractions) a materialized view emitted.",
           [](const stream::ViewStatus& v) { return v.rows_out; });
  per_view("streamlake_view_rows", "gauge", "Rows a materialized view holds now.",
           [](const stream::ViewStatus& v) { return v.rows; });
  per_view("streamlake_view_state_bytes", "gauge", "Measured operator state of a materialized view.",
           [](const stream::ViewStatus& v) { return v.state_bytes; });

  w.family("streamlake_watermark_seconds", "gauge", "Event-time watermark of a stream table or view (Unix time).");
  for (const auto& t : tables)
    if (t.watermark_us != INT64_MIN)
      w.sample("streamlake_watermark_seconds", {{"relation", t.name}, {"kind", "stream table"}}, t.watermark_us / 1e6);
  for (const auto& v : views)
    if (v.watermark_us != INT64_MIN)
      w.sample("streamlake_watermark_seconds", {{"relation", v.name}, {"kind", "view"}}, v.watermark_us / 1e6);

  w.family("streamlake_checkpoint_duration_seconds", "gauge", "Duration of the last streaming checkpoint.");
  w.sample("streamlake_checkpoint_duration_seconds", ckpt.duration_ms / 1000.0);
  w.family("streamlake_checkpoint_last_timestamp_seconds", "gauge", "When the last streaming checkpoint finished (Unix time).");
  w.sample("streamlake_checkpoint_last_timestamp_seconds", ckpt.at_ms / 1000.0);
  w.family("streamlake_checkpoints_total", "counter", "Streaming checkpoints written since the server started.");
  w.sample("streamlake_checkpoints_total", static_cast<double>(ckpt.count));
  w.family("streamlake_pipeline_epochs_total", "counter", "Pipeline rounds that read records.");
  w.sample("streamlake_pipeline_epochs_total", static_cast<double>(runtime_->epoch()));
  const auto sinks = runtime_->sinks();
  auto per_sink = [&](const char* name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& k : sinks) w.sample(name, {{"sink", k.name}}, static_cast<double>(value(k)));
  };
  per_sink("streamlake_lake_rows", "gauge", "Rows in the lake table of the sink (its latest commit).",
           [](const stream::SinkStatus& k) { return k.rows; });
  per_sink("streamlake_lake_files", "gauge", "Data files in the lake table of the sink.",
           [](const stream::SinkStatus& k) { return k.files; });
  per_sink("streamlake_lake_bytes", "gauge", "Bytes of those data files.",
           [](const stream::SinkStatus& k) { return k.bytes; });
  per_sink("streamlake_lake_pending_rows", "gauge", "Rows written by the sink and not yet committed.",
           [](const stream::SinkStatus& k) { return k.pending_rows; });
  per_sink("streamlake_lake_lag_seconds", "gauge", "Age of the sink's oldest uncommitted row.",
           [](const stream::SinkStatus& k) { return k.lag_ms / 1000.0; });
  per_sink("streamlake_lake_last_commit_timestamp_seconds", "gauge", "When the sink last committed (Unix time).",
           [](const stream::SinkStatus& k) { return k.last_commit_ms / 1000.0; });

  w.family("streamlake_http_connections", "gauge", "Open HTTP connections.");
  w.sample("streamlake_http_connections", g.http_connections);
  w.family("streamlake_ui_sessions", "gauge", "Signed-in browser sessions.");
  w.sample("streamlake_ui_sessions", static_cast<double>(g.ui_sessions));
  w.family("streamlake_live_connections", "gauge", "Open live-result (SSE) connections.");
  w.sample("streamlake_live_connections", static_cast<double>(g.live_connections));
  w.family("streamlake_live_subscriptions", "gauge", "Live paragraphs followed.");
  w.sample("streamlake_live_subscriptions", static_cast<double>(g.live_subscriptions));
  w.family("streamlake_sql_named_queries_running", "gauge", "HTTP SQL queries with a query_id running now.");
  w.sample("streamlake_sql_named_queries_running", static_cast<double>(g.named_queries));
  w.family("streamlake_notebooks", "gauge", "Stored notebooks.");
  w.sample("streamlake_notebooks", static_cast<double>(g.notebooks));
  return w.text();
}

}  // namespace sl::server
