// The lake table format (see table.h and docs/lake.md).
#include "lake/table.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "util/time.h"

namespace sl::lake {

using json = nlohmann::json;
using exec::TypeId;
using exec::Value;

namespace {

constexpr const char* kFormatTag = "streamlake-lake";
constexpr const char* kSnapshotTag = "streamlake-lake-snapshot";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

json value_json(const Value& v) {
  switch (v.type.id) {
    case TypeId::kReal:
    case TypeId::kDouble: return v.f;
    case TypeId::kVarchar:
    case TypeId::kBytea: return v.s;
    default: return v.i;
  }
}

Value json_value(const json& j, const exec::LogicalType& t) {
  Value v = Value::null(t);
  v.is_null = false;
  switch (t.id) {
    case TypeId::kReal:
    case TypeId::kDouble: v.f = j.get<double>(); break;
    case TypeId::kVarchar:
    case TypeId::kBytea: v.s = j.get<std::string>(); break;
    default: v.i = j.get<int64_t>(); break;
  }
  return v;
}

json settings_json(const TableSettings& s) {
  json cols = json::array();
  for (auto& f : s.schema)
    cols.push_back({{"name", f.name},
                    {"type", f.type.to_string()},
                    {"type_id", static_cast<int>(f.type.id)},
                    {"precision", f.type.precision},
                    {"scale", f.type.scale},
                    {"nullable", f.nullable}});
  return {{"schema", cols},
          {"file_format", file_format_name(s.format)},
          {"partition", s.partition},
          {"time_column", s.time_column}};
}

TableSettings settings_from(const json& j) {
  TableSettings s;
  for (auto& c : j.at("schema")) {
    parquet::Field f;
    f.name = c.at("name").get<std::string>();
    f.type = exec::LogicalType(static_cast<TypeId>(c.at("type_id").get<int>()), c.at("precision").get<uint8_t>(),
                               c.at("scale").get<uint8_t>());
    if (f.type.id > TypeId::kInterval) throw std::runtime_error("unknown type id");
    f.nullable = c.value("nullable", true);
    s.schema.push_back(std::move(f));
  }
  if (!parse_file_format(j.at("file_format").get<std::string>(), &s.format))
    throw std::runtime_error("unknown file format " + j.at("file_format").get<std::string>());
  s.partition = j.at("partition").get<std::string>();
  s.time_column = j.at("time_column").get<std::string>();
  return s;
}

json file_json(const DataFile& f, const std::vector<parquet::Field>& schema) {
  json cols = json::array();
  for (size_t c = 0; c < f.columns.size() && c < schema.size(); c++) {
    auto& st = f.columns[c];
    json jc = {{"null_count", st.null_count}};
    if (st.has_min_max) {
      jc["min"] = value_json(st.min);
      jc["max"] = value_json(st.max);
    }
    cols.push_back(std::move(jc));
  }
  json j = {{"path", f.path}, {"partition", f.partition}, {"rows", f.rows}, {"bytes", f.bytes}, {"columns", cols}};
  if (f.min_time_us != INT64_MIN) j["min_time_us"] = f.min_time_us;
  if (f.max_time_us != INT64_MAX) j["max_time_us"] = f.max_time_us;
  return j;
}

DataFile file_from(const json& j, const std::vector<parquet::Field>& schema) {
  DataFile f;
  f.path = j.at("path").get<std::string>();
  f.partition = j.value("partition", "");
  f.rows = j.at("rows").get<int64_t>();
  f.bytes = j.at("bytes").get<uint64_t>();
  f.min_time_us = j.value("min_time_us", INT64_MIN);
  f.max_time_us = j.value("max_time_us", INT64_MAX);
  if (j.contains("columns")) {
    auto& cols = j.at("columns");
    for (size_t c = 0; c < cols.size() && c < schema.size(); c++) {
      parquet::ColumnStats st;
      st.null_count = cols[c].value("null_count", int64_t{0});
      st.min = Value::null(schema[c].type);
      st.max = Value::null(schema[c].type);
      if (cols[c].contains("min") && cols[c].contains("max")) {
        st.has_min_max = true;
        st.min = json_value(cols[c]["min"], schema[c].type);
        st.max = json_value(cols[c]["max"], schema[c].type);
      }
      f.columns.push_back(std::move(st));
    }
  }
  return f;
}

bool valid_path(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.find("..") != std::string::npos) return false;
  return p.rfind("_commits/", 0) != 0;
}

}  // namespace

// ---- durations and sizes ----------------------------------------------------------------

bool parse_duration(const std::string& text, int64_t* micros) {
  // PostgreSQL interval syntax, as every other duration option ('5 seconds', '30 days').
  exec::Interval iv;
  if (!exec::parse_interval(text, &iv)) return false;
  __int128 us = iv.total_micros();
  if (us < 0 || us > (__int128{1} << 62)) return false;
  *micros = static_cast<int64_t>(us);
  return true;
}

bool parse_byte_size(const std::string& text, uint64_t* bytes) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) i++;
  size_t start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) i++;
  if (i == start || i - start > 12) return false;
  uint64_t n = std::stoull(text.substr(start, i - start));
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) i++;
  std::string unit;
  for (; i < text.size(); i++) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  uint64_t mul;
  if (unit.empty() || unit == "b" || unit == "bytes") mul = 1;
  else if (unit == "kb" || unit == "kib") mul = 1ull << 10;
  else if (unit == "mb" || unit == "mib") mul = 1ull << 20;
  else if (unit == "gb" || unit == "gib") mul = 1ull << 30;
  else return false;
  *bytes = n * mul;
  return true;
}

// ---- partitions ---------------------------------------------------------------------------

Result<PartitionPattern> PartitionPattern::parse(const std::string& text) {
  PartitionPattern p;
  p.text_ = text;
  size_t i = 0;
  bool want_token = true;
  std::set<std::string> seen;
  while (i < text.size()) {
    if (want_token) {
      std::string tok;
      for (const char* t : {"yyyy", "MM", "dd", "HH", "mm"})
        if (text.compare(i, std::strlen(t), t) == 0) tok = t;
      if (tok.empty() || seen.count(tok))
        return invalid_argument("partition pattern \"" + text +
                                "\": expected one of yyyy, MM, dd, HH, mm (each once) at position " + std::to_string(i));
      seen.insert(tok);
      p.tokens_.push_back(tok);
      i += tok.size();
    } else {
      if (text[i] != '/' && text[i] != '-')
        return invalid_argument("partition pattern \"" + text + "\": expected '/' or '-' at position " + std::to_string(i));
      p.tokens_.push_back(std::string(1, text[i]));
      i++;
    }
    want_token = !want_token;
  }
  if (p.tokens_.empty() || want_token)
    return invalid_argument("partition pattern \"" + text + "\" must be tokens yyyy, MM, dd, HH, mm separated by '/' or '-'");
  return p;
}

std::string PartitionPattern::format(int64_t micros) const {
  int64_t secs = floor_div(micros, 1000000);
  int64_t days = floor_div(secs, 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  std::string out;
  char buf[16];
  for (auto& t : tokens_) {
    if (t == "yyyy") std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(y));
    else if (t == "MM") std::snprintf(buf, sizeof buf, "%02u", m);
    else if (t == "dd") std::snprintf(buf, sizeof buf, "%02u", d);
    else if (t == "HH") std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(sod / 3600));
    else if (t == "mm") std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(sod / 60 % 60));
    else std::snprintf(buf, sizeof buf, "%s", t.c_str());
    out += buf;
  }
  return out;
}

bool PartitionPattern::range(const std::string& partition, int64_t* start_us, int64_t* end_us) const {
  int64_t y = 1970;
  unsigned m = 1, d = 1;
  int H = 0, M = 0;
  bool has[5] = {false, false, false, false, false};
  size_t i = 0;
  for (auto& t : tokens_) {
    size_t w = t == "yyyy" ? 4 : t.size() == 1 ? 1 : 2;
    if (i + w > partition.size()) return false;
    std::string part = partition.substr(i, w);
    i += w;
    if (t.size() == 1) {
      if (part != t) return false;
      continue;
    }
    for (char c : part)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    int v = std::stoi(part);
    if (t == "yyyy") y = v, has[0] = true;
    else if (t == "MM") m = static_cast<unsigned>(v), has[1] = true;
    else if (t == "dd") d = static_cast<unsigned>(v), has[2] = true;
    else if (t == "HH") H = v, has[3] = true;
    else M = v, has[4] = true;
  }
  if (i != partition.size() || m < 1 || m > 12 || d < 1 || d > 31 || H > 23 || M > 59) return false;
  int64_t start = (days_from_civil(y, m, d) * 86400 + H * 3600 + M * 60) * 1000000;
  int64_t end;
  // The finest token present sets the partition's width (a pattern without a year is
  // taken as covering everything from the start to the end of time).
  if (!has[0]) {
    *start_us = INT64_MIN;
    *end_us = INT64_MAX;
    return true;
  }
  if (has[4]) end = start + 60'000'000LL;
  else if (has[3]) end = start + 3'600'000'000LL;
  else if (has[2]) end = start + 86'400'000'000LL;
  else if (has[1]) end = (days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400) * 1000000;
  else end = days_from_civil(y + 1, 1, 1) * 86400 * 1000000;
  *start_us = start;
  *end_us = end;
  return true;
}

// ---- the table ----------------------------------------------------------------------------

std::string Table::commit_key(uint64_t n) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return prefix_ + "_commits/" + buf + ".json";
}

std::string Table::new_file_path(const std::string& partition, const std::string& tag) const {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[64];
  std::snprintf(buf, sizeof buf, "part-%013lld-%s-%06llu-%08llx", static_cast<long long>(now_ms()), tag.c_str(),
                static_cast<unsigned long long>(counter.fetch_add(1) % 1000000),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  auto s = snapshot();
  std::string name = std::string(buf) + file_extension(s->settings.format);
  return partition.empty() ? name : partition + "/" + name;
}

namespace {

std::string encode_commit(const TableSettings& settings, uint64_t number, const CommitSpec& spec) {
  json added = json::array(), removed = json::array();
  for (auto& f : spec.added) added.push_back(file_json(f, settings.schema));
  for (auto& r : spec.removed) removed.push_back(r);
  json j = {{"format", kFormatTag},
            {"version", kCommitFormatVersion},
            {"commit", number},
            {"operation", spec.operation},
            {"timestamp_ms", spec.timestamp_ms ? spec.timestamp_ms : now_ms()},
            {"epoch", spec.epoch},
            {"source_positions", spec.source_positions},
            {"added", added},
            {"removed", removed}};
  if (spec.operation == "create") j["table"] = settings_json(settings);
  return j.dump(1);
}

}  // namespace

std::string Table::encode(uint64_t number, const CommitSpec& spec) const {
  return encode_commit(snapshot()->settings, number, spec);
}

Result<CommitSpec> Table::decode(const std::string& text) const {
  try {
    json j = json::parse(text);
    if (j.at("format").get<std::string>() != kFormatTag) return corruption("not a streamlake lake commit");
    int v = j.at("version").get<int>();
    if (v != kCommitFormatVersion) return corruption("unsupported lake commit version " + std::to_string(v));
    CommitSpec c;
    c.operation = j.at("operation").get<std::string>();
    c.epoch = j.value("epoch", uint64_t{0});
    c.source_positions = j.value("source_positions", "");
    c.timestamp_ms = j.value("timestamp_ms", int64_t{0});
    auto schema = snapshot()->settings.schema;
    for (auto& f : j.at("added")) c.added.push_back(file_from(f, schema));
    for (auto& r : j.at("removed")) c.removed.push_back(r.get<std::string>());
    return c;
  } catch (const std::exception& e) {
    return corruption(std::string("malformed lake commit: ") + e.what());
  }
}

Status Table::apply(Snapshot& s, uint64_t number, const std::string& text) const {
  std::string where = store_->uri() + "/" + commit_key(number);
  try {
    json j = json::parse(text);
    if (!j.is_object() || j.value("format", "") != kFormatTag) return corruption(where + ": not a streamlake lake commit");
    int v = j.at("version").get<int>();
    if (v != kCommitFormatVersion)
      return corruption(where + ": unsupported commit format version " + std::to_string(v) + " (this build reads " +
                        std::to_string(kCommitFormatVersion) + ")");
    if (j.at("commit").get<uint64_t>() != number) return corruption(where + ": holds commit " + j.at("commit").dump());
    if (number == 1) {
      if (!j.contains("table")) return corruption(where + ": the first commit does not define the table");
      s.settings = settings_from(j.at("table"));
    } else if (s.version != number - 1) {
      return corruption(where + ": commit " + std::to_string(number) + " applied out of order");
    }
    int64_t ts = j.at("timestamp_ms").get<int64_t>();
    for (auto& r : j.at("removed")) {
      std::string p = r.get<std::string>();
      auto it = s.files.find(p);
      if (it == s.files.end()) return corruption(where + ": removes " + p + ", which is not in the table");
      s.rows -= it->second.rows;
      s.bytes -= it->second.bytes;
      s.files.erase(it);
      s.removed[p] = ts;
    }
    for (auto& f : j.at("added")) {
      DataFile df = file_from(f, s.settings.schema);
      if (!valid_path(df.path)) return corruption(where + ": bad data file path " + df.path);
      df.commit = number;
      df.added_ms = ts;
      s.rows += df.rows;
      s.bytes += df.bytes;
      s.removed.erase(df.path);
      s.files[df.path] = std::move(df);
    }
    s.epoch = std::max(s.epoch, j.value("epoch", uint64_t{0}));
    std::string pos = j.value("source_positions", "");
    if (!pos.empty()) s.source_positions = pos;
    s.last_commit_ms = ts;
    s.version = number;
    return Status::OK();
  } catch (const std::exception& e) {
    return corruption(where + ": malformed commit (" + e.what() + ")");
  }
}

std::string Table::snapshot_key(uint64_t n) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return prefix_ + "_commits/" + buf + ".snapshot.json";
}

std::string Table::encode_snapshot(const Snapshot& s) const {
  json files = json::array(), removed = json::array();
  for (auto& [p, f] : s.files) {
    json j = file_json(f, s.settings.schema);
    j["commit"] = f.commit;
    j["added_ms"] = f.added_ms;
    files.push_back(std::move(j));
  }
  for (auto& [p, ms] : s.removed) removed.push_back({{"path", p}, {"removed_ms", ms}});
  json j = {{"format", kSnapshotTag},
            {"version", kCommitFormatVersion},
            {"commit", s.version},
            {"table", settings_json(s.settings)},
            {"epoch", s.epoch},
            {"source_positions", s.source_positions},
            {"last_commit_ms", s.last_commit_ms},
            {"files", files},
            {"removed", removed}};
  return j.dump();
}

Status Table::load_snapshot(Snapshot& s, uint64_t number, const std::string& text) const {
  std::string where = store_->uri() + "/" + snapshot_key(number);
  try {
    json j = json::parse(text);
    if (!j.is_object() || j.value("format", "") != kSnapshotTag) return corruption(where + ": not a lake snapshot");
    if (j.at("version").get<int>() != kCommitFormatVersion || j.at("commit").get<uint64_t>() != number)
      return corruption(where + ": unsupported version or wrong commit number");
    Snapshot n;
    n.settings = settings_from(j.at("table"));
    for (auto& f : j.at("files")) {
      DataFile df = file_from(f, n.settings.schema);
      if (!valid_path(df.path)) return corruption(where + ": bad data file path " + df.path);
      df.commit = f.at("commit").get<uint64_t>();
      df.added_ms = f.at("added_ms").get<int64_t>();
      n.rows += df.rows;
      n.bytes += df.bytes;
      n.files[df.path] = std::move(df);
    }
    for (auto& r : j.at("removed")) n.removed[r.at("path").get<std::string>()] = r.at("removed_ms").get<int64_t>();
    n.epoch = j.at("epoch").get<uint64_t>();
    n.source_positions = j.at("source_positions").get<std::string>();
    n.last_commit_ms = j.at("last_commit_ms").get<int64_t>();
    n.version = number;
    s = std::move(n);
    return Status::OK();
  } catch (const std::exception& e) {
    return corruption(where + ": malformed snapshot (" + e.what() + ")");
  }
}

std::shared_ptr<const Snapshot> Table::snapshot() const {
  std::lock_guard lk(mu_);
  return snap_;
}

Status Table::refresh_locked() {
  auto next = std::make_shared<Snapshot>(*snap_);
  bool changed = false;
  for (;;) {
    auto r = store_->get(commit_key(next->version + 1));
    if (!r.ok()) {
      if (r.error().code() == Errc::kNotFound) break;
      return r.error();
    }
    SL_RETURN_IF_ERROR(apply(*next, next->version + 1, r.value()));
    changed = true;
  }
  if (changed) {
    if (!pattern_) {
      auto p = PartitionPattern::parse(next->settings.partition);
      if (p.ok()) pattern_ = p.value();
    }
    snap_ = std::move(next);
  }
  return Status::OK();
}

Result<std::shared_ptr<const Snapshot>> Table::refresh() {
  std::lock_guard lk(mu_);
  SL_RETURN_IF_ERROR(refresh_locked());
  return snap_;
}

Result<std::unique_ptr<Table>> Table::open(std::shared_ptr<ObjectStore> store, std::string prefix,
                                           const TableSettings* create) {
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  std::unique_ptr<Table> t(new Table(std::move(store), std::move(prefix)));
  t->snap_ = std::make_shared<Snapshot>();
  {
    // Start from the newest snapshot file (written every kSnapshotEvery commits), then
    // replay the commits after it.
    std::lock_guard lk(t->mu_);
    SL_ASSIGN_OR_RETURN(auto listed, t->store_->list(t->prefix_ + "_commits/"));
    for (auto it = listed.rbegin(); it != listed.rend(); ++it) {
      std::string name = it->key.substr(t->prefix_.size() + 9);
      if (name.size() != 20 + 14 || name.compare(20, 14, ".snapshot.json") != 0) continue;
      uint64_t n = std::strtoull(name.substr(0, 20).c_str(), nullptr, 10);
      SL_ASSIGN_OR_RETURN(auto text, t->store_->get(it->key));
      auto s = std::make_shared<Snapshot>();
      SL_RETURN_IF_ERROR(t->load_snapshot(*s, n, text));
      t->snap_ = std::move(s);
      break;
    }
    SL_RETURN_IF_ERROR(t->refresh_locked());
  }
  if (t->snap_->version == 0) {
    if (!create) return not_found("no lake table at " + t->uri() + " (no commit 1)");
    SL_ASSIGN_OR_RETURN(auto pat, PartitionPattern::parse(create->partition));
    (void)pat;
    auto s = std::make_shared<Snapshot>();
    s->settings = *create;
    {
      std::lock_guard lk(t->mu_);
      t->snap_ = s;
    }
    CommitSpec c;
    c.operation = "create";
    std::string text = t->encode(1, c);
    Status st = t->store_->put_if_absent(t->commit_key(1), text);
    if (!st.ok() && st.code() != Errc::kAlreadyExists) return st;
    std::lock_guard lk(t->mu_);
    t->snap_ = std::make_shared<Snapshot>();
    SL_RETURN_IF_ERROR(t->refresh_locked());
    if (t->snap_->version == 0) return corruption(t->uri() + ": commit 1 vanished after it was written");
  }
  auto& have = t->snap_->settings;
  if (create) {
    bool same = have.schema.size() == create->schema.size();
    for (size_t i = 0; same && i < have.schema.size(); i++)
      same = have.schema[i].name == create->schema[i].name && have.schema[i].type == create->schema[i].type;
    if (!same) return invalid_argument("the lake table at " + t->uri() + " exists with different columns");
    if (have.format != create->format)
      return invalid_argument("the lake table at " + t->uri() + " exists with format " + file_format_name(have.format));
  }
  auto p = PartitionPattern::parse(have.partition);
  if (!p.ok()) return corruption(t->uri() + ": " + p.error().message());
  t->pattern_ = p.value();
  return t;
}

Result<uint64_t> Table::commit(CommitSpec spec) {
  std::lock_guard lk(mu_);
  return commit_locked(std::move(spec));
}

Result<uint64_t> Table::commit_locked(CommitSpec spec) {
  if (spec.timestamp_ms == 0) spec.timestamp_ms = now_ms();
  for (auto& f : spec.added)
    if (!valid_path(f.path)) return invalid_argument("bad data file path \"" + f.path + "\"");
  for (int attempt = 0; attempt < 1000; attempt++) {
    SL_RETURN_IF_ERROR(refresh_locked());
    for (auto& r : spec.removed)
      if (!snap_->files.count(r)) return invalid_argument("commit removes " + r + ", which is no longer in " + uri());
    uint64_t n = snap_->version + 1;
    std::string text = encode_commit(snap_->settings, n, spec);
    Status st = store_->put_if_absent(commit_key(n), text);
    if (st.ok()) {
      auto next = std::make_shared<Snapshot>(*snap_);
      SL_RETURN_IF_ERROR(apply(*next, n, text));
      snap_ = std::move(next);
      // A snapshot file now and then, so that opening the table reads it and the commits
      // after it instead of every commit. Best effort: without it, readers replay more.
      if (n % kSnapshotEvery == 0) store_->put(snapshot_key(n), encode_snapshot(*snap_)).ignore();
      return n;
    }
    if (st.code() != Errc::kAlreadyExists) return st;
  }
  return Status(Errc::kInUse, "gave up committing to " + uri() + " after 1000 lost races");
}

namespace {
// Moves one object (get, put, remove): how replaced files leave the partition tree. An
// absent source is fine (moved already, or deleted after its grace period).
Status move_object(ObjectStore& store, const std::string& from, const std::string& to) {
  auto bytes = store.get(from);
  if (!bytes.ok()) return bytes.status().code() == Errc::kNotFound ? Status::OK() : bytes.status();
  SL_RETURN_IF_ERROR(store.put(to, *bytes));
  return store.remove(from);
}
}  // namespace

Status Table::retire(const std::vector<std::string>& removed) {
  for (auto& path : removed) SL_RETURN_IF_ERROR(move_object(*store_, key_of(path), trash_key_of(path)));
  return Status::OK();
}

Result<size_t> Table::remove_orphans(const std::set<std::string>& keep, int64_t grace_ms) {
  std::lock_guard lk(mu_);
  SL_RETURN_IF_ERROR(refresh_locked());
  SL_ASSIGN_OR_RETURN(auto objects, store_->list(prefix_));
  size_t n = 0;
  int64_t now = now_ms();
  for (auto& o : objects) {
    std::string path = o.key.substr(prefix_.size());
    if (path.rfind("_commits/", 0) == 0) continue;
    bool trashed = path.rfind("_trash/", 0) == 0;
    if (trashed) path = path.substr(7);
    if (!trashed && (snap_->files.count(path) || keep.count(path))) continue;
    auto rm = snap_->removed.find(path);
    if (rm != snap_->removed.end() && now - rm->second < grace_ms) {
      // Within its grace period: in the trash (a crash may have cut the move short).
      if (!trashed) SL_RETURN_IF_ERROR(move_object(*store_, o.key, trash_key_of(path)));
      continue;
    }
    SL_RETURN_IF_ERROR(store_->remove(o.key));
    n++;
  }
  return n;
}

Result<size_t> Table::compact(const CompactionOptions& options, int64_t now_us) {
  std::shared_ptr<const Snapshot> s;
  {
    std::lock_guard lk(mu_);
    SL_RETURN_IF_ERROR(refresh_locked());
    s = snap_;
  }
  // Small files by partition, closed partitions only.
  std::map<std::string, std::vector<const DataFile*>> small;
  for (auto& [p, f] : s->files) {
    if (f.bytes >= options.small_file_bytes) continue;
    int64_t start, end = INT64_MAX;
    if (!f.partition.empty() && pattern_ && pattern_->range(f.partition, &start, &end)) {
    } else {
      end = f.max_time_us;
    }
    if (end == INT64_MAX || end > now_us - options.closed_after_us) continue;
    small[f.partition].push_back(&f);
  }
  CommitSpec spec;
  spec.operation = "compact";
  spec.epoch = s->epoch;
  std::vector<std::string> written;
  auto cleanup = [&] {
    for (auto& p : written) store_->remove(key_of(p)).ignore();
  };
  DataFileOptions fo = options.file_options;
  fo.format = s->settings.format;
  std::vector<size_t> all(s->settings.schema.size());
  for (size_t i = 0; i < all.size(); i++) all[i] = i;
  for (auto& [part, files] : small) {
    if (files.size() < 2) continue;
    std::unique_ptr<DataFileWriter> w;
    DataFile cur;
    auto finish = [&]() -> Status {
      if (!w) return Status::OK();
      SL_ASSIGN_OR_RETURN(auto sum, w->finish());
      cur.rows = sum.rows;
      cur.bytes = sum.file_bytes;
      cur.columns = sum.columns;
      spec.added.push_back(cur);
      w.reset();
      return Status::OK();
    };
    for (auto* f : files) {
      if (!w) {
        cur = DataFile{};
        cur.partition = part;
        cur.path = new_file_path(part, "c");
        cur.min_time_us = INT64_MAX;
        cur.max_time_us = INT64_MIN;
        auto wr = open_data_file_writer(*store_, key_of(cur.path), s->settings.schema, fo);
        if (!wr.ok()) {
          cleanup();
          return wr.error();
        }
        w = std::move(wr.value());
        written.push_back(cur.path);
      }
      cur.min_time_us = std::min(cur.min_time_us, f->min_time_us);
      cur.max_time_us = std::max(cur.max_time_us, f->max_time_us);
      Status st = scan_data_file(*store_, key_of(f->path), s->settings.format, s->settings.schema, all, {},
                                 [&](exec::DataChunk& c) { return w->write(c); });
      if (!st.ok()) {
        w.reset();
        cleanup();
        return st;
      }
      spec.removed.push_back(f->path);
      if (w->bytes() >= options.target_file_bytes) {
        Status fs = finish();
        if (!fs.ok()) {
          cleanup();
          return fs;
        }
      }
    }
    Status fs = finish();
    if (!fs.ok()) {
      cleanup();
      return fs;
    }
  }
  if (spec.removed.empty()) return size_t{0};
  auto r = commit(spec);
  if (!r.ok()) {
    cleanup();
    return r.error();
  }
  SL_RETURN_IF_ERROR(retire(spec.removed));
  return spec.removed.size();
}

Result<size_t> Table::apply_retention(int64_t retain_us, int64_t now_us) {
  std::shared_ptr<const Snapshot> s;
  {
    std::lock_guard lk(mu_);
    SL_RETURN_IF_ERROR(refresh_locked());
    s = snap_;
  }
  CommitSpec spec;
  spec.operation = "retention";
  spec.epoch = s->epoch;
  int64_t horizon = now_us - retain_us;
  // Whole partitions: every file of a partition whose range ended before the horizon.
  for (auto& [p, f] : s->files) {
    int64_t start, end = INT64_MAX;
    if (f.partition.empty() || !pattern_ || !pattern_->range(f.partition, &start, &end)) end = f.max_time_us;
    if (end != INT64_MAX && end <= horizon) spec.removed.push_back(p);
  }
  if (spec.removed.empty()) return size_t{0};
  SL_RETURN_IF_ERROR(commit(spec).status());
  SL_RETURN_IF_ERROR(retire(spec.removed));
  return spec.removed.size();
}

Status Table::purge() {
  std::lock_guard lk(mu_);
  SL_ASSIGN_OR_RETURN(auto objects, store_->list(prefix_));
  // Commits last, newest first, so a purge cut short and run again still finds commit 1.
  std::vector<std::string> commits;
  for (auto& o : objects) {
    if (o.key.compare(prefix_.size(), 9, "_commits/") == 0) commits.push_back(o.key);
    else SL_RETURN_IF_ERROR(store_->remove(o.key));
  }
  for (auto it = commits.rbegin(); it != commits.rend(); ++it) SL_RETURN_IF_ERROR(store_->remove(*it));
  snap_ = std::make_shared<Snapshot>();
  return Status::OK();
}

}  // namespace sl::lake
