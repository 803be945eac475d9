// IncrementalAggregate: GROUP BY over a changelog with exec/'s expressions and aggregate
// states (the same kernels HashAggregateOp uses), emitting retract/insert pairs or, for
// windows in emit-final mode, each window once the watermark passes its end.
#include <algorithm>

#include "exec/keys.h"
#include "exec/value.h"
#include "stream/agg.h"
#include "util/error.h"

namespace sl::stream {

namespace {
constexpr size_t kSlotShift = 10;  // slot-addressed key/result chunks of 1024 rows
constexpr size_t kSlotRows = size_t{1} << kSlotShift;

bool retractable(exec::AggKind k) {
  return k == exec::AggKind::kCountStar || k == exec::AggKind::kCount || k == exec::AggKind::kSum ||
         k == exec::AggKind::kAvg;
}
}  // namespace

uint32_t KeyedState::find_or_add(const std::string& key, bool* created) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    *created = false;
    return it->second;
  }
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = next_++;
  }
  map_.emplace(key, slot);
  bytes_ += key.size() + 64;
  *created = true;
  return slot;
}

int64_t KeyedState::find(const std::string& key) const {
  auto it = map_.find(key);
  return it == map_.end() ? -1 : static_cast<int64_t>(it->second);
}

void KeyedState::erase(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  free_.push_back(it->second);
  bytes_ -= std::min(bytes_, key.size() + 64);
  map_.erase(it);
}

void KeyedState::save(Writer& w) const {
  w.u32(next_);
  w.u64(free_.size());
  for (auto f : free_) w.u32(f);
  w.u64(map_.size());
  std::vector<std::pair<std::string, uint32_t>> sorted(map_.begin(), map_.end());
  std::sort(sorted.begin(), sorted.end());
  for (auto& [k, v] : sorted) {
    w.str(k);
    w.u32(v);
  }
}

void KeyedState::load(Reader& r) {
  map_.clear();
  free_.clear();
  bytes_ = 0;
  next_ = r.u32();
  uint64_t nf = r.u64();
  for (uint64_t i = 0; i < nf; i++) free_.push_back(r.u32());
  uint64_t n = r.u64();
  for (uint64_t i = 0; i < n; i++) {
    std::string k = r.str();
    uint32_t v = r.u32();
    bytes_ += k.size() + 64;
    map_.emplace(std::move(k), v);
  }
}

IncrementalAggregate::IncrementalAggregate(AggSetup s) : s_(std::move(s)) {
  for (auto& g : s_.groups) group_types_.push_back(g->type());
  for (auto& a : s_.aggs) {
    result_types_.push_back(a.sig.result);
    states_.push_back(exec::make_aggregate_state(a.sig, a.distinct, a.fraction));
  }
  check_retractable();
  for (size_t a = 0; a < states_.size(); a++) {
    std::string probe;
    if (!states_[a]->save(probe))
      throw UserError("aggregate " + s_.aggs[a].display + " is not supported in materialized views yet (no checkpointable state)");
  }
  out_types_ = group_types_;
  out_types_.insert(out_types_.end(), result_types_.begin(), result_types_.end());
  if (s_.groups.empty()) {
    bool created;
    keys_.find_or_add(std::string(), &created);
    ensure_slots();
    rows_[0] = 0;
  }
}

IncrementalAggregate::~IncrementalAggregate() = default;

void IncrementalAggregate::ensure_slots() {
  size_t n = keys_.slots();
  for (auto& st : states_) st->resize(n);
  rows_.resize(n, 0);
  has_prev_.resize(n, 0);
  window_end_.resize(n, INT64_MIN);
  touched_mark_.resize(n, 0);
  key_of_.resize(n);
  while (key_chunks_.size() * kSlotRows < n) {
    key_chunks_.emplace_back(group_types_, kSlotRows);
    key_chunks_.back().set_size(kSlotRows);
    prev_chunks_.emplace_back(result_types_, kSlotRows);
    prev_chunks_.back().set_size(kSlotRows);
  }
}

bool IncrementalAggregate::append_only_ok(const DataChunk& in) const {
  if (!in.has_signs()) return true;
  for (size_t i = 0; i < in.size(); i++)
    if (in.sign(i) < 0) return false;
  return true;
}

void IncrementalAggregate::initial(std::vector<DataChunk>& out) {
  if (!s_.groups.empty() || s_.emit_final) return;
  touched_.push_back(0);
  emit_touched(out);
}

void IncrementalAggregate::consume(const DataChunk& in, exec::ExecContext& ctx, std::vector<DataChunk>& out) {
  if (s_.session) {
    // Sessions: rows wait until the watermark closes their session (on_watermark).
    DataChunk copy(in.types(), std::max<size_t>(in.size(), 1));
    copy.append(in, 0, in.size());
    pending_rows_ += in.size();
    pending_.push_back(std::move(copy));
    return;
  }
  accumulate(in, ctx);
  if (!s_.emit_final) {
    emit_touched(out);
  } else {
    for (uint32_t gid : touched_) touched_mark_[gid] = 0;
    touched_.clear();
  }
}

void IncrementalAggregate::accumulate(const DataChunk& in, exec::ExecContext& ctx) {
  size_t n = in.size();
  if (n == 0) return;
  if (!all_retractable_ && !append_only_ok(in))
    throw UserError("min/max and similar aggregates over input with retractions are not supported yet");
  std::vector<uint32_t> gids(n, 0);
  if (!s_.groups.empty()) {
    DataChunk gv(group_types_, std::max(in.capacity(), n));
    std::vector<const exec::Vector*> cols;
    for (size_t g = 0; g < s_.groups.size(); g++) {
      s_.groups[g]->eval(in, gv.column(g), ctx);
      cols.push_back(&gv.column(g));
    }
    gv.set_size(n);
    exec::encode_keys(cols, n, {}, enc_);
    for (size_t i = 0; i < n; i++) {
      bool created = false;
      uint32_t gid = keys_.find_or_add(enc_[i], &created);
      if (created) {
        ensure_slots();
        for (auto& st : states_) st->clear(gid);
        rows_[gid] = 0;
        has_prev_[gid] = 0;
        key_of_[gid] = enc_[i];
        DataChunk& kc = key_chunks_[gid >> kSlotShift];
        for (size_t g = 0; g < group_types_.size(); g++)
          exec::Value::read(gv.column(g), i).write(kc.column(g), gid & (kSlotRows - 1));
        window_end_[gid] = INT64_MIN;
        if (s_.window_group >= 0 && !gv.column(s_.window_group).is_null(i)) {
          int64_t v = gv.column(s_.window_group).data<int64_t>()[i];
          window_end_[gid] = s_.window_group_is_start ? v + s_.window_size_us : v;
          by_end_[window_end_[gid]].push_back(gid);
        }
      }
      gids[i] = gid;
      if (!touched_mark_[gid]) {
        touched_mark_[gid] = 1;
        touched_.push_back(gid);
      }
      rows_[gid] += in.sign(i);
    }
  } else {
    if (!touched_mark_[0]) {
      touched_mark_[0] = 1;
      touched_.push_back(0);
    }
    for (size_t i = 0; i < n; i++) rows_[0] += in.sign(i);
  }
  for (size_t a = 0; a < s_.aggs.size(); a++) {
    std::vector<exec::Vector> args;
    for (auto& e : s_.aggs[a].args) {
      args.emplace_back(e->type(), std::max(in.capacity(), n));
      e->eval(in, args.back(), ctx);
    }
    states_[a]->update(args, gids.data(), n, in.signs());
  }
}

void IncrementalAggregate::write_row(DataChunk& c, size_t row, uint32_t gid, bool from_prev) {
  const DataChunk& kc = key_chunks_[gid >> kSlotShift];
  size_t slot = gid & (kSlotRows - 1);
  for (size_t g = 0; g < group_types_.size(); g++) exec::Value::read(kc.column(g), slot).write(c.column(g), row);
  size_t ng = group_types_.size();
  if (from_prev) {
    const DataChunk& pc = prev_chunks_[gid >> kSlotShift];
    for (size_t a = 0; a < result_types_.size(); a++)
      exec::Value::read(pc.column(a), slot).write(c.column(ng + a), row);
    return;
  }
  DataChunk& pc = prev_chunks_[gid >> kSlotShift];
  for (size_t a = 0; a < states_.size(); a++) {
    exec::Vector tmp(result_types_[a], 1);
    states_[a]->finalize(tmp, gid, 1);
    exec::Value v = exec::Value::read(tmp, 0);
    v.write(c.column(ng + a), row);
    v.write(pc.column(a), slot);
  }
}

void IncrementalAggregate::free_group(uint32_t gid) {
  if (s_.groups.empty()) return;
  for (auto& st : states_) st->clear(gid);
  rows_[gid] = 0;
  has_prev_[gid] = 0;
  keys_.erase(key_of_[gid]);
  key_of_[gid].clear();
  window_end_[gid] = INT64_MIN;
}

void IncrementalAggregate::emit_touched(std::vector<DataChunk>& out) {
  DataChunk c(out_types_);
  auto flush = [&] {
    if (c.size()) {
      out.push_back(std::move(c));
      c = DataChunk(out_types_);
    }
  };
  for (uint32_t gid : touched_) {
    bool alive = rows_[gid] > 0 || s_.groups.empty();
    if (c.size() + 2 > c.capacity()) flush();
    if (has_prev_[gid]) {
      write_row(c, c.size(), gid, true);
      c.set_sign(c.size(), -1);
      c.set_size(c.size() + 1);
    }
    if (alive) {
      write_row(c, c.size(), gid, false);
      if (c.has_signs()) c.set_sign(c.size(), 1);
      c.set_size(c.size() + 1);
      has_prev_[gid] = 1;
    } else {
      // The group's rows were all retracted: it disappears.
      if (window_end_[gid] != INT64_MIN) {
        auto it = by_end_.find(window_end_[gid]);
        if (it != by_end_.end()) std::erase(it->second, gid);
      }
      free_group(gid);
    }
  }
  flush();
  for (uint32_t gid : touched_) touched_mark_[gid] = 0;
  touched_.clear();
}

void IncrementalAggregate::on_watermark(int64_t wm, exec::ExecContext& ctx, std::vector<DataChunk>& out) {
  if (s_.session) close_sessions(wm, ctx);
  DataChunk c(out_types_);
  while (!by_end_.empty() && by_end_.begin()->first <= wm) {
    for (uint32_t gid : by_end_.begin()->second) {
      if (s_.emit_final && rows_[gid] > 0) {
        if (c.size() == c.capacity()) {
          out.push_back(std::move(c));
          c = DataChunk(out_types_);
        }
        write_row(c, c.size(), gid, false);
        c.set_size(c.size() + 1);
      }
      free_group(gid);
    }
    by_end_.erase(by_end_.begin());
  }
  if (c.size()) out.push_back(std::move(c));
}

// Rows of a session key form sessions of rows less than `gap` apart; a session is closed
// once last_ts + gap <= watermark (a later row would start a new session). Closed
// sessions' rows get window_start = first ts, window_end = last ts + gap and are
// aggregated; the rest keep waiting.
void IncrementalAggregate::close_sessions(int64_t wm, exec::ExecContext& ctx) {
  if (pending_.empty()) return;
  struct Row {
    std::string key;
    int64_t ts;
    uint32_t chunk, row;
  };
  std::vector<Row> rows;
  for (uint32_t ci = 0; ci < pending_.size(); ci++) {
    DataChunk& pc = pending_[ci];
    std::vector<const exec::Vector*> cols;
    std::vector<exec::Vector> vals;
    vals.reserve(s_.session_keys.size());
    for (auto& e : s_.session_keys) {
      vals.emplace_back(e->type(), pc.capacity());
      e->eval(pc, vals.back(), ctx);
      cols.push_back(&vals.back());
    }
    std::vector<std::string> keys;
    if (!cols.empty()) exec::encode_keys(cols, pc.size(), {}, keys);
    const exec::Vector& tv = pc.column(s_.time_col);
    for (uint32_t r = 0; r < pc.size(); r++) {
      if (tv.is_null(r)) continue;
      rows.push_back({cols.empty() ? std::string() : keys[r], tv.data<int64_t>()[r], ci, r});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.key != b.key ? a.key < b.key : a.ts < b.ts;
  });
  std::vector<LogicalType> types = pending_[0].types();
  std::vector<DataChunk> closed, keep;
  DataChunk cc(types), kc(types);
  auto put = [&](DataChunk& dst, std::vector<DataChunk>& list, const Row& r, int64_t ws, int64_t we) {
    if (dst.size() == dst.capacity()) {
      list.push_back(std::move(dst));
      dst = DataChunk(types);
    }
    size_t at = dst.size();
    dst.append(pending_[r.chunk], r.row, 1);
    if (ws != INT64_MIN) {
      dst.column(s_.window_start_col).set_valid(at);
      dst.column(s_.window_start_col).data<int64_t>()[at] = ws;
      dst.column(s_.window_start_col + 1).set_valid(at);
      dst.column(s_.window_start_col + 1).data<int64_t>()[at] = we;
    }
  };
  size_t i = 0;
  while (i < rows.size()) {
    size_t j = i + 1;
    while (j < rows.size() && rows[j].key == rows[i].key && rows[j].ts < rows[j - 1].ts + s_.window_size_us) j++;
    int64_t ws = rows[i].ts, we = rows[j - 1].ts + s_.window_size_us;
    for (size_t k = i; k < j; k++) {
      if (we <= wm) put(cc, closed, rows[k], ws, we);
      else put(kc, keep, rows[k], INT64_MIN, INT64_MIN);
    }
    i = j;
  }
  if (cc.size()) closed.push_back(std::move(cc));
  if (kc.size()) keep.push_back(std::move(kc));
  pending_ = std::move(keep);
  pending_rows_ = 0;
  for (auto& p : pending_) pending_rows_ += p.size();
  for (auto& c : closed) accumulate(c, ctx);
  for (uint32_t gid : touched_) touched_mark_[gid] = 0;
  touched_.clear();
}

size_t IncrementalAggregate::memory_bytes() const {
  size_t b = keys_.memory_bytes();
  for (auto& s : states_) b += s->memory_bytes();
  for (auto& c : key_chunks_) b += c.memory_bytes();
  for (auto& c : prev_chunks_) b += c.memory_bytes();
  for (auto& c : pending_) b += c.memory_bytes();
  b += rows_.capacity() * 8 + window_end_.capacity() * 8 + has_prev_.capacity();
  for (auto& k : key_of_) b += k.capacity();
  return b;
}

void IncrementalAggregate::save(Writer& w) const {
  keys_.save(w);
  uint32_t n = keys_.slots();
  w.u32(n);
  for (uint32_t g = 0; g < n; g++) {
    w.i64(rows_[g]);
    w.u8(has_prev_[g]);
    w.i64(window_end_[g]);
    w.str(key_of_[g]);
  }
  w.u64(key_chunks_.size());
  for (size_t i = 0; i < key_chunks_.size(); i++) {
    w.chunk(key_chunks_[i]);
    w.chunk(prev_chunks_[i]);
  }
  for (auto& st : states_) {
    std::string blob;
    if (!st->save(blob)) throw InternalError("aggregate state cannot be checkpointed");
    w.str(blob);
  }
  w.u64(by_end_.size());
  for (auto& [end, gids] : by_end_) {
    w.i64(end);
    w.u64(gids.size());
    for (auto g : gids) w.u32(g);
  }
  w.u64(pending_.size());
  if (!pending_.empty()) w.types(pending_[0].types());
  for (auto& p : pending_) w.chunk(p);
}

void IncrementalAggregate::load(Reader& r) {
  keys_.load(r);
  uint32_t n = r.u32();
  if (n != keys_.slots()) throw Error(Errc::kCorruption, "checkpoint: aggregate slots disagree");
  key_chunks_.clear();
  prev_chunks_.clear();
  rows_.clear();
  has_prev_.clear();
  window_end_.clear();
  touched_mark_.clear();
  key_of_.clear();
  ensure_slots();
  for (uint32_t g = 0; g < n; g++) {
    rows_[g] = r.i64();
    has_prev_[g] = r.u8();
    window_end_[g] = r.i64();
    key_of_[g] = r.str();
  }
  uint64_t nc = r.u64();
  if (nc != key_chunks_.size()) throw Error(Errc::kCorruption, "checkpoint: aggregate chunks disagree");
  for (size_t i = 0; i < nc; i++) {
    DataChunk k = r.chunk(group_types_);
    DataChunk p = r.chunk(result_types_);
    if (k.size() != kSlotRows || p.size() != kSlotRows) throw Error(Errc::kCorruption, "checkpoint: bad slot chunk");
    key_chunks_[i] = std::move(k);
    prev_chunks_[i] = std::move(p);
  }
  for (auto& st : states_) {
    std::string blob = r.str();
    std::string_view in = blob;
    if (!st->load(in) || !in.empty()) throw Error(Errc::kCorruption, "checkpoint: bad aggregate state");
  }
  by_end_.clear();
  uint64_t ne = r.u64();
  for (uint64_t i = 0; i < ne; i++) {
    int64_t end = r.i64();
    uint64_t k = r.u64();
    auto& v = by_end_[end];
    for (uint64_t j = 0; j < k; j++) v.push_back(r.u32());
  }
  pending_.clear();
  pending_rows_ = 0;
  uint64_t np = r.u64();
  if (np) {
    auto t = r.types();
    for (uint64_t i = 0; i < np; i++) {
      DataChunk c = r.chunk(t);
      DataChunk cc(t, std::max<size_t>(c.size(), 1));
      cc.append(c, 0, c.size());
      pending_rows_ += cc.size();
      pending_.push_back(std::move(cc));
    }
  }
}

void IncrementalAggregate::check_retractable() {
  all_retractable_ = true;
  for (auto& a : s_.aggs) all_retractable_ = all_retractable_ && retractable(a.sig.kind) && !a.distinct;
}

}  // namespace sl::stream
