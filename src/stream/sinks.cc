// Lake sinks of the runtime: options, feeding, the checkpoint's two phases, recovery.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "exec/error.h"
#include "lake/object_store.h"
#include "lake/provider.h"
#include "lake/sink.h"
#include "stream/internal.h"
#include "util/error.h"

namespace sl::stream {

namespace {

namespace ss = exec::sqlstate;

[[noreturn]] void bad_option(const std::string& msg) { throw exec::SqlError(ss::kInvalidParameter, msg); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool valid_local_path(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.front() == '_') return false;
    for (char c : part)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

struct SinkSet::Entry {
  std::string name, from;
  std::string format, path, uri;
  std::unique_ptr<lake::LakeSink> sink;
  std::shared_ptr<lake::LakeTableProvider> provider;
  std::string record;  // the pending commit in the last checkpoint prepared
  std::string failed;  // writing or preparing failed: checkpoints stop (see docs/lake.md)
};

SinkSet::SinkSet(std::string data_dir, Clock* clock, lake::S3Options s3)
    : data_dir_(std::move(data_dir)), clock_(clock), s3_(std::move(s3)) {}
SinkSet::~SinkSet() = default;

std::pair<std::vector<catalog::ColumnDef>, std::map<std::string, std::string>> SinkSet::add(
    const std::string& name, const Relation& from, const std::map<std::string, std::string>& options_in) {
  std::map<std::string, std::string> o;
  for (auto& [k, v] : options_in) o[lower(k)] = v;
  static const std::set<std::string> known = {"connector", "path",   "format", "partition",
                                              "time_column", "compression", "roll", "retain"};
  for (auto& [k, v] : o)
    if (!known.count(k))
      bad_option("option \"" + k + "\" is not recognized for sinks (connector, path, format, partition, time_column, "
                 "compression, roll, retain)");
  if (o.count("connector") && lower(o["connector"]) != "lake")
    bad_option("sink connector \"" + o["connector"] + "\" is not supported (only 'lake')");
  o["connector"] = "lake";
  if (!o.count("path") || o["path"].empty()) bad_option("a lake sink needs a path (WITH (path = 'historical'))");

  lake::LakeSinkOptions so;
  so.clock = clock_;
  // Columns: the relation's, plus `op` for a changelog.
  std::vector<catalog::ColumnDef> cols = from.columns;
  if (from.changelog) {
    for (auto& c : cols)
      if (c.name == "op")
        bad_option("view \"" + from.name + "\" emits changes, which a sink writes with an \"op\" column; the view "
                   "has a column \"op\" already");
    cols.push_back({"op", exec::TypeId::kVarchar, true});
  }
  for (auto& c : cols) so.settings.schema.push_back({c.name, c.type, !c.not_null});
  so.signed_rows = from.changelog;

  // format / compression
  std::string fmt = o.count("format") ? lower(o["format"]) : "parquet";
  if (!lake::parse_file_format(fmt, &so.settings.format))
    bad_option("sink format \"" + o["format"] + "\" is not supported (parquet, csv.gz, jsonl.gz)");
  o["format"] = lake::file_format_name(so.settings.format);
  std::string comp = o.count("compression") ? lower(o["compression"]) : "";
  if (so.settings.format == lake::FileFormat::kParquet) {
    if (comp.empty() || comp == "zstd") so.file_options.parquet.codec = lake::parquet::Codec::kZstd;
    else if (comp == "snappy") so.file_options.parquet.codec = lake::parquet::Codec::kSnappy;
    else if (comp == "gzip") so.file_options.parquet.codec = lake::parquet::Codec::kGzip;
    else if (comp == "none" || comp == "uncompressed") so.file_options.parquet.codec = lake::parquet::Codec::kNone;
    else bad_option("compression \"" + comp + "\" is not supported for Parquet (zstd, snappy, gzip, none)");
    if (comp.empty()) comp = "zstd";
    // One open file per partition holds a row group in memory: keep them moderate.
    so.file_options.parquet.row_group_bytes = 16u << 20;
  } else {
    if (!comp.empty() && comp != "gzip")
      bad_option("format '" + o["format"] + "' is gzip-compressed; compression must be 'gzip' (or left out)");
    comp = "gzip";
  }
  o["compression"] = comp;

  // partition / time column
  if (!o.count("partition")) o["partition"] = "yyyy/MM/dd/HH/mm";
  auto pat = lake::PartitionPattern::parse(o["partition"]);
  if (!pat.ok()) bad_option(pat.status().message());
  so.settings.partition = o["partition"];
  if (!o.count("time_column")) {
    std::string t = "arrival";
    for (auto& c : from.columns)
      if (c.name == from.default_time && c.type.is_temporal()) t = c.name;
    if (t == "arrival")
      for (auto& c : from.columns)
        if (c.name == "window_start" && c.type.is_temporal()) t = c.name;
    o["time_column"] = t;
  }
  std::string tc = lower(o["time_column"]) == "arrival" ? "arrival" : o["time_column"];
  if (tc != "arrival") {
    auto it = std::find_if(from.columns.begin(), from.columns.end(), [&](auto& c) { return c.name == tc; });
    if (it == from.columns.end())
      bad_option("time_column \"" + tc + "\" is not a column of \"" + from.name + "\" (or 'arrival')");
    if (!it->type.is_temporal()) bad_option("time_column \"" + tc + "\" must be a timestamp or a date");
  }
  o["time_column"] = tc;
  so.settings.time_column = tc;

  // roll / retain
  if (!o.count("roll")) o["roll"] = "1 minute";
  {
    int64_t us;
    uint64_t bytes;
    const std::string roll = o["roll"];
    bool has_unit = std::any_of(roll.begin(), roll.end(), [](unsigned char c) { return std::isalpha(c); });
    if (has_unit && lake::parse_duration(roll, &us) && us > 0)  // '1 minute'
      so.roll_us = us;
    else if (lake::parse_byte_size(roll, &bytes) && bytes > 0)  // '128 MB', '1000000' (bytes)
      so.roll_bytes = bytes;
    else
      bad_option("roll \"" + o["roll"] + "\" is neither a duration ('1 minute') nor a size ('128 MB')");
  }
  if (o.count("retain")) {
    int64_t us;
    if (!lake::parse_duration(o["retain"], &us) || us <= 0)
      bad_option("retain \"" + o["retain"] + "\" is not a duration ('30 days')");
    so.retain_us = us;
  }

  // path
  std::string path = o["path"];
  std::shared_ptr<lake::ObjectStore> store;
  std::string prefix;
  if (path.rfind("s3://", 0) == 0) {
    lake::S3Options s3 = s3_;
    s3.fill_from_environment();
    auto st = lake::open_store(path, s3);
    if (!st.ok()) throw exec::SqlError(ss::kIoError, "lake sink \"" + name + "\": " + st.status().message());
    store = std::move(st.value());
  } else {
    if (!valid_local_path(path))
      bad_option("lake path \"" + path + "\" must be relative to DATA/lake: names of letters, digits, '_', '-', '.' "
                 "separated by '/', none starting with '_' or being '..' (or an s3:// URI)");
    if (!local_) {
      auto st = lake::open_local_store(data_dir_ + "/lake");
      if (!st.ok()) throw exec::SqlError(ss::kIoError, st.status().message());
      local_ = std::move(st.value());
    }
    store = local_;
    prefix = path + "/";
  }
  std::string uri = store->uri() + "/" + prefix;
  for (auto& [n, e] : sinks_) {
    if (n == name) continue;
    std::string other = e->uri;
    if (uri.rfind(other, 0) == 0 || other.rfind(uri, 0) == 0)
      throw exec::SqlError("42710", "lake path \"" + path + "\" overlaps the path of sink \"" + n + "\" (" + other + ")");
  }
  so.store = store;
  so.prefix = prefix;
  so.file_options.format = so.settings.format;
  auto sink = lake::LakeSink::open(std::move(so));
  if (!sink.ok()) {
    if (sink.status().code() == Errc::kInvalidArgument)
      throw exec::SqlError(ss::kInvalidParameter, "lake sink \"" + name + "\": " + sink.status().message());
    throw exec::SqlError(ss::kIoError, "lake sink \"" + name + "\": " + sink.status().message());
  }
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->from = from.name;
  e->format = o["format"];
  e->path = path;
  e->uri = uri;
  e->sink = std::move(sink.value());
  e->provider = std::make_shared<lake::LakeTableProvider>(e->sink->table());
  sinks_[name] = std::move(e);
  return {cols, o};
}

void SinkSet::add_failed(const std::string& name, const std::string& from, const std::string& error) {
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->from = from;
  e->failed = "cannot open: " + error;
  sinks_[name] = std::move(e);
}

void SinkSet::remove(const std::string& name, bool purge) {
  auto it = sinks_.find(name);
  if (it == sinks_.end()) return;
  std::unique_ptr<Entry> e = std::move(it->second);
  sinks_.erase(it);
  if (!e->sink) return;  // never opened: nothing of it to finish or purge here
  if (purge) {
    Status st = e->sink->purge();
    if (!st.ok()) throw exec::SqlError(ss::kIoError, "DROP SINK " + name + " PURGE: " + st.message());
    return;
  }
  if (!e->failed.empty()) return;
  // What it received since the last checkpoint lands too (it will not be recovered).
  auto rec = e->sink->prepare(0, "");
  Status st = rec.ok() ? e->sink->commit(0) : rec.status();
  if (!st.ok()) throw exec::SqlError(ss::kIoError, "DROP SINK " + name + ": final commit failed: " + st.message());
}

std::string SinkSet::reader_of(const std::string& relation) const {
  for (auto& [n, e] : sinks_)
    if (e->from == relation) return n;
  return "";
}

std::shared_ptr<catalog::TableProvider> SinkSet::provider(const std::string& name) const {
  auto it = sinks_.find(name);
  return it == sinks_.end() ? nullptr : it->second->provider;  // null for a sink that could not open
}

void SinkSet::feed(const std::string& relation, const DataChunk& c) {
  if (paused_) return;
  for (auto& [n, e] : sinks_) {
    if (e->from != relation || !e->failed.empty()) continue;
    Status st = e->sink->write(c);
    if (!st.ok()) e->failed = st.to_string();
  }
}

void SinkSet::feed_one(const std::string& name, const DataChunk& c) {
  auto& e = *sinks_.at(name);
  if (!e.failed.empty()) return;
  Status st = e.sink->write(c);
  if (!st.ok()) e.failed = st.to_string();
}

void SinkSet::prepare(uint64_t epoch, const std::function<std::string(const std::string&)>& positions) {
  for (auto& [n, e] : sinks_) {
    if (!e->failed.empty())
      throw Error(Errc::kIoError, "sink \"" + n + "\" failed (" + e->failed + "); checkpoints wait for a restart or DROP SINK");
    auto rec = e->sink->prepare(epoch, positions(e->from));
    if (!rec.ok()) {
      e->failed = rec.status().to_string();
      throw Error(Errc::kIoError, "sink \"" + n + "\": " + e->failed);
    }
    e->record = rec.value();
  }
}

void SinkSet::save(Writer& w) const {
  w.u64(sinks_.size());
  for (auto& [n, e] : sinks_) {
    w.str(n);
    w.str(e->record);
  }
}

std::map<std::string, std::string> SinkSet::load(Reader& r) {
  std::map<std::string, std::string> out;
  uint64_t n = r.u64();
  for (uint64_t i = 0; i < n; i++) {
    std::string name = r.str();
    out[name] = r.str();
  }
  return out;
}

void SinkSet::committed() {
  for (auto& [n, e] : sinks_) {
    if (!e->failed.empty()) continue;
    if (!e->sink->commit(0).ok()) continue;  // stays pending; retried with the next checkpoint
    e->sink->maintain().ignore();            // errors show in SHOW SINKS
  }
}

std::vector<std::string> SinkSet::recover(const std::map<std::string, std::string>& records) {
  std::vector<std::string> fresh;
  for (auto& [n, e] : sinks_) {
    auto it = records.find(n);
    if (!e->sink) continue;  // could not open: stays failed (checkpoints wait) until a restart
    if (it == records.end()) fresh.push_back(n);
    Status st = e->sink->recover(it == records.end() ? std::string() : it->second);
    if (!st.ok()) e->failed = "recovery: " + st.to_string();
  }
  return fresh;
}

void SinkSet::fill_status(std::vector<SinkStatus>& out) const {
  int64_t now = clock_->now_ms();
  for (auto& [n, e] : sinks_) {
    SinkStatus st;
    st.name = n;
    st.source = e->from;
    st.format = e->format;
    st.path = e->uri;
    if (!e->sink) {
      st.status = "failed: " + e->failed;
      out.push_back(std::move(st));
      continue;
    }
    auto snap = e->sink->table()->snapshot();
    st.rows = snap->rows;
    st.files = static_cast<int64_t>(snap->files.size());
    st.bytes = snap->bytes;
    st.last_commit_ms = snap->version > 1 ? snap->last_commit_ms : 0;
    const auto& s = e->sink->stats();
    st.pending_rows = e->sink->uncommitted_rows();
    st.lag_ms = s.oldest_pending_ms ? std::max<int64_t>(0, now - s.oldest_pending_ms) : 0;
    st.status = !e->failed.empty() ? "failed: " + e->failed : !s.last_error.empty() ? "retrying: " + s.last_error : "running";
    out.push_back(std::move(st));
  }
}

}  // namespace sl::stream
