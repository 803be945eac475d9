// Kinesis stream tables over the local log: shard readers that follow lineage, decoding,
// lateness, watermarks, the errors table and the retained-records provider.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <set>
#include <cstdio>

#include "exec/value.h"
#include "kinesis/kinesis.h"
#include "log/log.h"
#include "stream/internal.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace sl::stream {

namespace {

std::string shard_name(uint32_t ordinal) {
  char b[32];
  std::snprintf(b, sizeof b, "shardId-%012u", ordinal);
  return b;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<format::ColumnSpec> specs_of(const std::vector<catalog::ColumnDef>& cols, const SourceOptions& o) {
  std::vector<format::ColumnSpec> specs;
  for (auto& c : cols) {
    auto jp = o.json_paths.find(c.name);
    auto cf = o.csv_fields.find(c.name);
    specs.push_back({c.name, c.type, jp == o.json_paths.end() ? std::string() : jp->second,
                     cf == o.csv_fields.end() ? -1 : cf->second});
  }
  return specs;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// 'a = x.y, b = z' -> {a: x.y, b: z}; names must be columns of the table.
std::map<std::string, std::string> parse_mapping(const std::string& text, const char* option,
                                                 const std::vector<catalog::ColumnDef>& cols) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string item = trim(std::string_view(text).substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    at = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos)
      throw UserError(std::string(option) + ": '" + item + "' is not of the form column = field");
    std::string col = trim(std::string_view(item).substr(0, eq)), field = trim(std::string_view(item).substr(eq + 1));
    if (col.empty() || field.empty())
      throw UserError(std::string(option) + ": '" + item + "' is not of the form column = field");
    if (std::none_of(cols.begin(), cols.end(), [&](auto& c) { return c.name == col; }))
      throw UserError(std::string(option) + ": column \"" + col + "\" does not exist");
    if (!out.emplace(col, field).second)
      throw UserError(std::string(option) + ": column \"" + col + "\" is mapped twice");
  }
  return out;
}

format::DecoderOptions decoder_options(const SourceOptions& o, std::vector<uint8_t> read_columns = {}) {
  format::DecoderOptions d;
  d.read_columns = std::move(read_columns);
  d.format = o.format;
  d.delimiter = o.delimiter;
  d.event_time_column = o.event_time;
  d.with_partition = true;
  d.with_offset = true;
  d.skip_header = o.skip_header;
  return d;
}

// Keeps only the first `ncols` columns of `in` (zero copy).
DataChunk schema_columns(const DataChunk& in, size_t ncols) {
  DataChunk out;
  for (size_t k = 0; k < ncols; k++) out.add_column(exec::Vector::sharing(in.column(k)));
  out.set_size(in.size());
  return out;
}

// Reads every retained record of a stream, decoded (for ad-hoc SELECT on the table).
class RetainedProvider final : public catalog::TableProvider {
 public:
  RetainedProvider(std::vector<catalog::ColumnDef> cols, SourceOptions opts, kinesis::Service* k,
                   log::LogStore* l)
      : cols_(std::move(cols)), opts_(std::move(opts)), kinesis_(k), log_(l) {}

  std::vector<std::shared_ptr<const DataChunk>> snapshot() const override {
    std::vector<std::shared_ptr<const DataChunk>> out;
    auto info = kinesis_->describe(opts_.stream);
    if (!info.ok()) return out;
    format::RecordDecoder dec(specs_of(cols_, opts_), decoder_options(opts_));
    format::ErrorSink errors;
    for (auto& sh : info.value().shards) {
      log::Partition* p = log_->find_partition(sh.partition);
      if (!p) continue;
      uint64_t pos = p->start_offset(), end = p->durable_end();
      while (pos < end) {
        std::vector<std::string> data;
        std::vector<uint64_t> offs;
        auto r = p->scan(pos, 4096, 16 << 20, [&](const log::RecordRef& rec) {
          data.emplace_back(rec.data);
          offs.push_back(rec.offset);
          return true;
        });
        if (!r.ok() || data.empty()) break;
        pos = r.value();
        std::vector<format::RawRecord> recs;
        for (size_t i = 0; i < data.size(); i++) recs.push_back({data[i], sh.ordinal, offs[i], 0});
        dec.set_input(recs);
        while (!dec.done()) {
          DataChunk c = dec.make_chunk();
          dec.decode(c, errors);
          errors.clear();
          if (c.size() == 0) continue;
          auto keep = std::make_shared<DataChunk>(schema_columns(c, cols_.size()).types());
          keep->append(schema_columns(c, cols_.size()), 0, c.size());
          out.push_back(std::move(keep));
        }
      }
    }
    return out;
  }
  int64_t row_count() const override {
    int64_t n = 0;
    for (auto& c : snapshot()) n += static_cast<int64_t>(c->size());
    return n;
  }

 private:
  std::vector<catalog::ColumnDef> cols_;
  SourceOptions opts_;
  kinesis::Service* kinesis_;
  log::LogStore* log_;
};

}  // namespace

int64_t parse_duration_us(const std::string& text, const char* what) {
  exec::Interval iv;
  std::string t = text;
  if (!exec::parse_interval(t, &iv))
    throw UserError(std::string(what) + ": '" + text + "' is not a duration (e.g. '5 seconds')");
  __int128 us = iv.total_micros();
  if (us < 0 || us > (__int128{1} << 62)) throw UserError(std::string(what) + ": '" + text + "' is out of range");
  return static_cast<int64_t>(us);
}

SourceOptions parse_source_options(const std::map<std::string, std::string>& opts,
                                   const std::vector<catalog::ColumnDef>& cols, int64_t default_idle_ms) {
  SourceOptions o;
  o.idle_timeout_ms = default_idle_ms;
  for (auto& [k, v] : opts) {
    if (k == "connector") {
      if (lower(v) != "kinesis") throw UserError("connector '" + v + "' is not supported (kinesis)");
    } else if (k == "stream") {
      o.stream = v;
    } else if (k == "format") {
      std::string f = lower(v);
      if (f == "csv") o.format = format::RecordFormat::kCsv;
      else if (f == "json" || f == "jsonl") o.format = format::RecordFormat::kJson;
      else throw UserError("format '" + v + "' is not supported (csv, json)");
    } else if (k == "delimiter") {
      if (v == "\\t" || v == "tab") o.delimiter = '\t';
      else if (v.size() == 1) o.delimiter = v[0];
      else throw UserError("delimiter must be one character");
    } else if (k == "event_time") {
      o.event_time = v;
    } else if (k == "max_lateness") {
      o.max_lateness_us = parse_duration_us(v, "max_lateness");
    } else if (k == "idle_timeout") {
      o.idle_timeout_ms = parse_duration_us(v, "idle_timeout") / 1000;
    } else if (k == "start") {
      std::string s = lower(v);
      if (s == "latest") o.start_latest = true;
      else if (s == "earliest") o.start_latest = false;
      else throw UserError("start must be 'earliest' or 'latest'");
    } else if (k == "header") {
      o.skip_header = lower(v) == "true" || v == "1";
    } else if (k == "json_paths") {
      o.json_paths = parse_mapping(v, "json_paths", cols);
    } else if (k == "csv_fields") {
      for (auto& [col, field] : parse_mapping(v, "csv_fields", cols)) {
        char* end = nullptr;
        long n = std::strtol(field.c_str(), &end, 10);
        if (*end != 0 || n < 1 || n > 100000)
          throw UserError("csv_fields: field of column \"" + col + "\" must be a 1-based position, not '" + field + "'");
        o.csv_fields[col] = static_cast<int>(n - 1);
      }
    } else {
      throw UserError("option \"" + k + "\" is not recognized for kinesis tables "
                      "(stream, format, delimiter, event_time, max_lateness, idle_timeout, start, header, "
                      "json_paths, csv_fields)");
    }
  }
  if (o.stream.empty()) throw UserError("kinesis tables need WITH (stream = '...')");
  if (!o.json_paths.empty() && o.format != format::RecordFormat::kJson)
    throw UserError("json_paths applies to format 'json' only");
  if (!o.csv_fields.empty() && o.format != format::RecordFormat::kCsv)
    throw UserError("csv_fields applies to format 'csv' only");
  if (!o.event_time.empty()) {
    auto it = std::find_if(cols.begin(), cols.end(), [&](auto& c) { return c.name == o.event_time; });
    if (it == cols.end()) throw UserError("event_time column \"" + o.event_time + "\" does not exist");
    if (!it->type.is_temporal()) throw UserError("event_time column \"" + o.event_time + "\" must be a timestamp or date");
  }
  return o;
}

std::vector<catalog::ColumnDef> error_table_columns() {
  using T = exec::TypeId;
  return {{"shard", T::kVarchar},     {"sequence_number", T::kVarchar}, {"arrival", T::kTimestampTz},
          {"sub_row", T::kInteger},   {"reason", T::kVarchar},          {"raw", T::kBytea}};
}

Source::Source(std::string name, std::vector<catalog::ColumnDef> cols, SourceOptions opts,
               kinesis::Service* kinesis, log::LogStore* log, Clock* clock, ThreadPool* pool)
    : name_(std::move(name)), cols_(std::move(cols)), opts_(std::move(opts)), kinesis_(kinesis), log_(log),
      clock_(clock), pool_(pool) {
  format::RecordDecoder probe(specs_of(cols_, opts_), decoder_options(opts_));  // validates the definition
  et_col_ = probe.event_time_index();
  std::vector<LogicalType> et;
  for (auto& c : error_table_columns()) et.push_back(c.type);
  errors_ = std::make_shared<RowStore>(et);
  retained_ = std::make_shared<RetainedProvider>(cols_, opts_, kinesis_, log_);
}

void Source::set_read_columns(std::vector<uint8_t> read) {
  if (read == read_cols_) return;
  read_cols_ = std::move(read);
  decoders_.clear();  // decoders keep no state between polls: rebuilt with the new projection
}

std::vector<LogicalType> Source::types() const {
  std::vector<LogicalType> t;
  for (auto& c : cols_) t.push_back(c.type);
  return t;
}

void Source::refresh() {
  auto r = kinesis_->describe(opts_.stream);
  if (!r.ok()) {
    status_ = "waiting: stream '" + opts_.stream + "' not found";
    return;
  }
  status_ = "running";
  for (auto& sh : r.value().shards) {
    auto it = shards_.find(sh.shard_id);
    if (it == shards_.end()) {
      ShardState s;
      s.shard_id = sh.shard_id;
      s.last_active_ms = clock_->now_ms();
      it = shards_.emplace(sh.shard_id, std::move(s)).first;
    }
    ShardState& s = it->second;
    if (!s.partition.empty() && s.partition != sh.partition) {
      // The stream was deleted and created again: a new shard under an old id.
      s = ShardState();
      s.shard_id = sh.shard_id;
      s.last_active_ms = clock_->now_ms();
    }
    s.ordinal = sh.ordinal;
    s.parents.clear();
    if (!sh.parent_shard_id.empty()) s.parents.push_back(sh.parent_shard_id);
    if (!sh.adjacent_parent_shard_id.empty()) s.parents.push_back(sh.adjacent_parent_shard_id);
    s.partition = sh.partition;
    it->second.open = sh.open;
    it->second.end_offset = sh.end_offset;
  }
  // Lineage names at most two parents; after an uneven UpdateShardCount (5 -> 3) a shard
  // can cover part of a third old shard. Every older closed shard whose hash range overlaps
  // this one held earlier records of its keys, so it gates this shard like a parent.
  auto less = [](const std::string& a, const std::string& b) {  // canonical decimals
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  };
  const auto& all = r.value().shards;
  for (auto& sh : all) {
    ShardState& s = shards_[sh.shard_id];
    if (s.finished) continue;
    for (auto& o : all) {
      if (o.ordinal >= sh.ordinal || o.open) continue;
      if (less(o.ending_hash_key, sh.starting_hash_key) || less(sh.ending_hash_key, o.starting_hash_key)) continue;
      if (std::find(s.parents.begin(), s.parents.end(), o.shard_id) == s.parents.end()) s.parents.push_back(o.shard_id);
    }
  }
}

void Source::position_at_latest() {
  refresh();
  for (auto& [id, s] : shards_) {
    log::Partition* p = log_->find_partition(s.partition);
    if (!p) continue;
    s.next = p->durable_end();
    s.positioned = true;
    s.start = s.next;
    s.has_start = true;
    if (!s.open && s.next >= s.end_offset) s.finished = true;
  }
}

bool Source::ready(const ShardState& s) const {
  for (auto& p : s.parents) {
    auto it = shards_.find(p);
    if (it != shards_.end() && !it->second.finished) return false;
  }
  return true;
}

namespace {
// One shard's share of a round: read, decoded and checked for lateness on a pool thread;
// merged into the source in shard order afterwards (so the result does not depend on
// thread timing).
struct ShardTask {
  ShardState* shard = nullptr;
  log::Partition* part = nullptr;
  format::RecordDecoder* decoder = nullptr;
  uint64_t from = 0, to = 0, durable = 0;  // reads offsets [from, to)
  // results
  uint64_t next = 0;
  std::string failure;
  int64_t last_arrival = -1, max_event = INT64_MIN;
  size_t records = 0, rows = 0;
  std::vector<DataChunk> chunks;
  std::vector<format::ErrorRow> errors, late;
};

void run_shard_task(ShardTask& t, size_t ncols, int64_t wm) {
  static_assert(log::Partition::kScanPadding >= format::kRecordPadding);
  uint32_t ordinal = t.shard->ordinal;
  format::ErrorSink errs;
  format::RecordDecoder& dec = *t.decoder;
  const size_t et_col = dec.event_time_index();
  const bool et_date = dec.output_types()[et_col].id == exec::TypeId::kDate;
  const int ocol = dec.offset_index();
  std::vector<format::RawRecord> recs;
  // Records are decoded in place, group by group, inside the log's read buffer (no copy).
  auto r = t.part->scan_groups(t.from, t.to - t.from, 64 << 20, [&](std::span<const log::RecordRef> group) {
    recs.resize(group.size());
    for (size_t i = 0; i < group.size(); i++)
      recs[i] = {group[i].data, ordinal, group[i].offset, group[i].arrival_ms, /*padded=*/true};
    t.records += group.size();
    t.last_arrival = group.back().arrival_ms;
    const uint64_t first_offset = group.front().offset;
    dec.set_input(recs);
    while (!dec.done()) {
      DataChunk c = dec.make_chunk();
      dec.decode(c, errs);
      if (c.size() == 0) continue;
      const exec::Vector& et = c.column(et_col);
      const int64_t* off = c.column(ocol).data<int64_t>();
      const size_t n = c.size();
      auto ts_of = [&](size_t i) {
        return et_date ? int64_t{et.data<int32_t>()[i]} * exec::kMicrosPerDay : et.data<int64_t>()[i];
      };
      // Usually nothing is late: one pass for the maximum and the earliest.
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      for (size_t i = 0; i < n; i++) {
        int64_t ts = ts_of(i);
        lo = std::min(lo, ts);
        hi = std::max(hi, ts);
      }
      if (wm == INT64_MIN || lo >= wm) {
        t.max_event = std::max(t.max_event, hi);
        t.rows += n;
        t.chunks.push_back(schema_columns(c, ncols));
        continue;
      }
      exec::SelectionVector keep;
      for (size_t i = 0; i < n; i++) {
        int64_t ts = ts_of(i);
        if (ts < wm) {
          // Offsets are dense within a group: the record is group[offset - first].
          size_t ri = static_cast<size_t>(static_cast<uint64_t>(off[i]) - first_offset);
          format::ErrorRow e;
          e.partition = ordinal;
          e.offset = static_cast<uint64_t>(off[i]);
          e.arrival_ms = group[ri].arrival_ms;
          e.reason = "late";
          e.raw = std::string(group[ri].data);
          t.late.push_back(std::move(e));
          continue;
        }
        t.max_event = std::max(t.max_event, ts);
        keep.idx.push_back(static_cast<uint32_t>(i));
      }
      if (keep.size() != c.size()) c.slice(keep);
      if (c.size() == 0) continue;
      t.rows += c.size();
      t.chunks.push_back(schema_columns(c, ncols));
    }
    return true;
  });
  if (!r.ok()) {
    // Nothing of this round counts: the shard is read again from `from` next time.
    t.failure = r.status().to_string();
    t.next = t.from;
    t.records = t.rows = 0;
    t.chunks.clear();
    t.late.clear();
    return;
  }
  t.next = r.value();
  t.errors = std::move(errs.rows);
}
}  // namespace

size_t Source::poll(size_t max_records, std::vector<DataChunk>& out) {
  return poll(max_records, [&](DataChunk& c) { out.push_back(std::move(c)); });
}

size_t Source::poll(size_t max_records, const std::function<void(DataChunk&)>& deliver) {
  has_more_ = false;
  int64_t now = clock_->now_ms();
  // Shards in ordinal order (parents before children).
  std::vector<ShardState*> order;
  for (auto& [id, s] : shards_) order.push_back(&s);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->ordinal < b->ordinal; });
  // Each shard's share of the round is cut into slices of consecutive offsets (offsets
  // are dense), decoded on the pool while this thread hands finished slices, in shard and
  // offset order, to the views: views run while later slices decode.
  const size_t slice = pool_ ? std::max<size_t>(1024, (max_records + 7) / 8) : max_records;
  std::deque<ShardTask> tasks;
  for (ShardState* s : order) {
    if (s->finished || !ready(*s)) continue;
    log::Partition* p = log_->find_partition(s->partition);
    if (!p) continue;
    if (!s->positioned || s->next < p->start_offset()) {
      s->next = std::max(s->next, p->start_offset());
      s->positioned = true;
    }
    uint64_t durable = p->durable_end();
    if (backfill_) durable = std::min(durable, std::max(stop_of(*s), s->next));
    if (s->next < durable) {
      uint64_t end = s->next + std::min<uint64_t>(max_records, durable - s->next);
      for (uint64_t from = s->next; from < end; from += slice) {
        ShardTask t;
        t.shard = s;
        t.part = p;
        t.from = from;
        t.to = std::min<uint64_t>(end, from + slice);
        t.durable = durable;
        tasks.push_back(std::move(t));
      }
    } else {
      s->lag_ms = 0;
      if (!s->open && s->next >= s->end_offset) {
        s->finished = true;
        has_more_ = true;  // children may now start
      }
    }
  }
  if (tasks.empty()) return 0;
  // Decoders keep no state between batches: one per task, reused across rounds.
  while (decoders_.size() < tasks.size())
    decoders_.push_back(std::make_unique<format::RecordDecoder>(specs_of(cols_, opts_), decoder_options(opts_, read_cols_)));
  for (size_t i = 0; i < tasks.size(); i++) tasks[i].decoder = decoders_[i].get();
  const int64_t wm = watermark_;
  const size_t ncols = cols_.size();
  auto run = [&](ShardTask& t) {
    try {
      run_shard_task(t, ncols, wm);
    } catch (const std::exception& e) {
      t.failure = e.what();
    }
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint8_t> done(tasks.size(), 0);
  const bool parallel = pool_ && tasks.size() > 1;
  if (parallel) {
    for (size_t i = 0; i < tasks.size(); i++)
      pool_->submit([&, i] {
        run(tasks[i]);
        std::lock_guard lk(mu);
        done[i] = 1;
        cv.notify_all();
      });
  }
  // Waits for every task (they reference this frame) before leaving, also on an exception.
  struct WaitAll {
    std::mutex& mu;
    std::condition_variable& cv;
    std::vector<uint8_t>& done;
    bool on;
    ~WaitAll() {
      if (!on) return;
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return std::all_of(done.begin(), done.end(), [](uint8_t d) { return d != 0; }); });
    }
  } wait_all{mu, cv, done, parallel};
  size_t records = 0;
  std::vector<format::ErrorRow> errors, late;
  std::set<ShardState*> stopped;  // a slice failed or fell short: later slices are dropped
  for (size_t i = 0; i < tasks.size(); i++) {
    ShardTask& t = tasks[i];
    if (parallel) {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return done[i] != 0; });
    } else {
      run(t);
    }
    ShardState* s = t.shard;
    if (stopped.count(s)) continue;
    if (!t.failure.empty()) {
      status_ = "failed: " + t.failure;
      stopped.insert(s);
      continue;
    }
    if (t.next < t.to) stopped.insert(s);  // the byte limit: the next slice would leave a gap
    s->next = t.next;
    if (t.records) s->last_active_ms = now;
    s->max_event_us = std::max(s->max_event_us, t.max_event);
    max_event_all_ = std::max(max_event_all_, t.max_event);
    last_arrival_ms_ = std::max(last_arrival_ms_, t.last_arrival);
    s->lag_ms = s->next < t.durable && t.last_arrival >= 0
                    ? std::max<int64_t>(0, t.part->last_arrival_ms() - t.last_arrival) : 0;
    if (s->next < t.durable) has_more_ = true;
    if (!s->open && s->next >= s->end_offset) {
      s->finished = true;
      has_more_ = true;  // children may now start
    }
    records += t.records;
    rows_in_ += t.rows;
    for (auto& c : t.chunks) deliver(c);
    t.chunks.clear();
    for (auto& e : t.errors) errors.push_back(std::move(e));
    for (auto& e : t.late) late.push_back(std::move(e));
  }
  records_in_ += records;
  errors_count_ += errors.size();
  late_ += late.size();
  auto add_errors = [&](const std::vector<format::ErrorRow>& rows, bool is_late) {
    if (rows.empty()) return;
    std::vector<LogicalType> et;
    for (auto& c : error_table_columns()) et.push_back(c.type);
    for (size_t from = 0; from < rows.size(); from += exec::kVectorSize) {
      size_t n = std::min(exec::kVectorSize, rows.size() - from);
      DataChunk c(et);
      for (size_t i = 0; i < n; i++) {
        const auto& e = rows[from + i];
        auto seq = kinesis_->sequence_number(opts_.stream, e.partition, e.offset);
        c.column(0).data<exec::StringRef>()[i] = c.column(0).add_string(shard_name(e.partition));
        if (seq.ok()) c.column(1).data<exec::StringRef>()[i] = c.column(1).add_string(seq.value());
        else c.column(1).set_null(i);
        c.column(2).data<int64_t>()[i] = e.arrival_ms * 1000;
        if (is_late) c.column(3).set_null(i);
        else c.column(3).data<int32_t>()[i] = static_cast<int32_t>(e.sub_row);
        c.column(4).data<exec::StringRef>()[i] = c.column(4).add_string(e.reason);
        c.column(5).data<exec::StringRef>()[i] = c.column(5).add_string(e.raw);
      }
      c.set_size(n);
      errors_->apply(c);
    }
  };
  add_errors(errors, false);
  add_errors(late, true);
  return records;
}

uint64_t Source::stop_of(const ShardState& s) const {
  auto it = stop_at_.find(s.shard_id);
  return it == stop_at_.end() ? 0 : it->second;
}

uint64_t Source::start_of(const ShardState& s) const {
  if (s.has_start) return s.start;
  log::Partition* p = log_->find_partition(s.partition);
  return p ? p->start_offset() : 0;
}

std::unique_ptr<Source> Source::backfill_reader() const {
  auto b = std::make_unique<Source>(name_, cols_, opts_, kinesis_, log_, clock_, pool_);
  b->backfill_ = true;
  for (auto& [id, s] : shards_) {
    uint64_t from = start_of(s);
    b->stop_at_[id] = s.positioned ? s.next : from;
    ShardState c;
    c.shard_id = id;
    c.ordinal = s.ordinal;
    c.parents = s.parents;
    c.partition = s.partition;
    c.open = s.open;
    c.end_offset = s.end_offset;
    c.next = from;
    c.positioned = s.has_start;
    c.has_start = s.has_start;
    c.start = s.start;
    c.last_active_ms = clock_->now_ms();
    b->shards_.emplace(id, std::move(c));
  }
  return b;
}

bool Source::reached_stop() const {
  for (auto& [id, s] : shards_) {
    log::Partition* p = log_->find_partition(s.partition);
    uint64_t next = s.positioned ? s.next : p ? p->start_offset() : 0;
    if (next < stop_of(s)) return false;
  }
  return true;
}

bool Source::progressed() const {
  for (auto& [id, s] : shards_) {
    if (s.positioned && s.next > start_of(s)) return true;
  }
  return false;
}

int64_t Source::advance_watermark() {
  int64_t now = clock_->now_ms();
  bool any_active = false;
  int64_t wm_min = INT64_MAX, last_active = INT64_MIN;
  for (auto& [id, s] : shards_) {
    if (s.finished || !ready(s)) continue;
    last_active = std::max(last_active, s.last_active_ms);
    log::Partition* p = log_->find_partition(s.partition);
    bool unread = p && s.next < p->durable_end();
    bool idle = !unread && now - s.last_active_ms >= opts_.idle_timeout_ms;
    if (idle) continue;
    any_active = true;
    wm_min = std::min(wm_min, s.max_event_us);
  }
  int64_t cand = INT64_MIN;
  if (any_active) {
    if (wm_min != INT64_MIN) cand = wm_min - opts_.max_lateness_us;
  } else if (max_event_all_ != INT64_MIN) {
    // Every shard is idle: event time follows processing time past the idle timeout.
    int64_t beyond = last_active == INT64_MIN ? 0 : std::max<int64_t>(0, now - last_active - opts_.idle_timeout_ms);
    cand = max_event_all_ - opts_.max_lateness_us + beyond * 1000;
  }
  watermark_ = std::max(watermark_, cand);
  return watermark_;
}

void Source::fill_status(StreamStatus& st) const {
  st.name = name_;
  st.stream = opts_.stream;
  st.status = status_;
  st.watermark_us = watermark_;
  st.rows_in = rows_in_;
  st.records_in = records_in_;
  st.errors = errors_count_;
  st.late = late_;
  st.last_arrival_ms = last_arrival_ms_;
  st.millis_behind_latest = 0;
  for (auto& [id, s] : shards_) {
    ShardStatus ss;
    ss.shard_id = id;
    ss.position = s.next;
    ss.finished = s.finished;
    ss.started = ready(s);
    ss.millis_behind_latest = s.lag_ms;
    st.millis_behind_latest = std::max(st.millis_behind_latest, s.lag_ms);
    st.shards.push_back(ss);
  }
}

void Source::save(Writer& w) const {
  w.u64(shards_.size());
  for (auto& [id, s] : shards_) {
    w.str(id);
    w.str(s.partition);
    w.u64(s.next);
    w.u8(s.positioned);
    w.u8(s.finished);
    w.i64(s.max_event_us);
    w.i64(s.last_active_ms);
    w.u8(s.has_start);
    w.u64(s.start);
  }
  w.i64(watermark_);
  w.i64(max_event_all_);
  w.u64(rows_in_);
  w.u64(records_in_);
  w.u64(errors_count_);
  w.u64(late_);
  errors_->save(w);
}

void Source::load(Reader& r) {
  refresh();
  uint64_t n = r.u64();
  for (uint64_t i = 0; i < n; i++) {
    std::string id = r.str();
    ShardState s;
    s.shard_id = id;
    s.partition = r.str();
    s.next = r.u64();
    s.positioned = r.u8();
    s.finished = r.u8();
    s.max_event_us = r.i64();
    s.last_active_ms = r.i64();
    if (r.version >= 2) {
      s.has_start = r.u8();
      s.start = r.u64();
    }
    auto it = shards_.find(id);
    if (it == shards_.end()) it = shards_.emplace(id, s).first;  // stream not there (yet)
    if (it->second.partition != s.partition) continue;  // another incarnation of the stream
    it->second.next = s.next;
    it->second.positioned = s.positioned;
    it->second.finished = s.finished;
    it->second.max_event_us = s.max_event_us;
    it->second.last_active_ms = s.last_active_ms;
    it->second.has_start = s.has_start;
    it->second.start = s.start;
  }
  watermark_ = r.i64();
  max_event_all_ = r.i64();
  rows_in_ = r.u64();
  records_in_ = r.u64();
  errors_count_ = r.u64();
  late_ = r.u64();
  errors_->load(r);
}

}  // namespace sl::stream
