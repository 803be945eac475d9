// Stream-stream interval joins: both inputs of a view's join are stream tables. Each side
// keeps its rows by join key (KeyedState + pages of owned rows); a row arriving on one
// side probes the other side's rows with the same key, the join's residual (time bounds
// and any other predicate) is evaluated with the exec/ expression over the combined row,
// then it is kept for rows still to come on the other side. Time bounds found in the
// residual let the other side's watermark evict rows that can no longer match.
#include <algorithm>

#include "exec/keys.h"
#include "exec/value.h"
#include "stream/internal.h"
#include "exec/error.h"
#include "util/error.h"

namespace sl::stream {

namespace {

int64_t sat_add(int64_t a, int64_t b) {
  __int128 s = static_cast<__int128>(a) + b;
  if (s > INT64_MAX) return INT64_MAX;
  if (s < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(s);
}

bool is_timestamp(const LogicalType& t) { return t.id == exec::TypeId::kTimestamp || t.id == exec::TypeId::kTimestampTz; }

// `col`, `col + c`, `col - c` or `c + col` with col a timestamp column and c a constant
// interval of fixed length (no months): the column and the offset in microseconds.
bool linear_time(exec::Expr& e, exec::ExecContext& ctx, size_t* col, int64_t* off) {
  if (e.kind() == exec::ExprKind::kColumn) {
    auto& c = static_cast<exec::ColumnExpr&>(e);
    if (!is_timestamp(c.type())) return false;
    *col = c.index;
    *off = 0;
    return true;
  }
  exec::ArithOp op;
  exec::ExprPtr *l, *r;
  if (!exec::as_arithmetic(e, &op, &l, &r)) return false;
  if (op != exec::ArithOp::kAdd && op != exec::ArithOp::kSub) return false;
  exec::ExprPtr* cp = r;
  exec::ExprPtr* kp = l;
  if (op == exec::ArithOp::kAdd && exec::is_constant_expr(**l)) std::swap(cp, kp);
  if ((*kp)->kind() != exec::ExprKind::kColumn || !exec::is_constant_expr(**cp)) return false;
  if (!is_timestamp((*kp)->type())) return false;
  exec::Value v;
  try {
    v = exec::eval_constant(**cp, ctx);
  } catch (const std::exception&) {
    return false;
  }
  if (v.is_null || v.type.id != exec::TypeId::kInterval || v.iv.months != 0) return false;
  __int128 us = static_cast<__int128>(v.iv.days) * exec::kMicrosPerDay + v.iv.micros;
  if (op == exec::ArithOp::kSub) us = -us;
  if (us > INT64_MAX / 2 || us < INT64_MIN / 2) return false;
  *col = static_cast<exec::ColumnExpr&>(**kp).index;
  *off = static_cast<int64_t>(us);
  return true;
}

// Copies rows sel[0..n) of src into page rows [at, at + n), strings into the page's heap.
void append_owned(DataChunk& page, size_t at, const DataChunk& src, const uint32_t* sel, size_t n) {
  for (size_t k = 0; k < src.column_count(); k++) {
    const exec::Vector& s = src.column(k);
    exec::Vector& d = page.column(k);
    exec::dispatch_phys(s.type().id, [&](auto tag) {
      using T = decltype(tag);
      const T* sv = s.data<T>();
      T* dv = d.data<T>();
      for (size_t i = 0; i < n; i++) {
        uint32_t row = sel[i];
        if (s.is_null(row)) {
          d.set_null(at + i);
          continue;
        }
        d.set_valid(at + i);
        if constexpr (std::is_same_v<T, exec::StringRef>) dv[at + i] = d.add_string(sv[row].view());
        else dv[at + i] = sv[row];
      }
    });
  }
}

}  // namespace

IntervalBounds find_interval_bounds(const exec::Expr* residual, size_t left_width, exec::ExecContext& ctx) {
  IntervalBounds b;
  if (!residual) return b;
  std::vector<exec::ExprPtr> terms;
  exec::split_and(residual->clone(), terms);
  for (auto& t : terms) {
    exec::CompareOp op;
    exec::ExprPtr *l, *r;
    if (!exec::as_comparison(*t, &op, &l, &r)) continue;
    if (op != exec::CompareOp::kLt && op != exec::CompareOp::kLe && op != exec::CompareOp::kGt &&
        op != exec::CompareOp::kGe)
      continue;
    size_t cl, cr;
    int64_t ol, orr;
    if (!linear_time(**l, ctx, &cl, &ol) || !linear_time(**r, ctx, &cr, &orr)) continue;
    bool less = op == exec::CompareOp::kLt || op == exec::CompareOp::kLe;  // L <= R
    // d = t_right - t_left. Strict comparisons are kept inclusive: eviction stays safe.
    size_t tl, tr;
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if (cl < left_width && cr >= left_width) {
      // t_l + ol (<= | >=) t_r + or  ->  d (>= | <=) ol - or
      tl = cl;
      tr = cr - left_width;
      (less ? lo : hi) = ol - orr;
    } else if (cl >= left_width && cr < left_width) {
      // t_r + ol (<= | >=) t_l + or  ->  d (<= | >=) or - ol
      tl = cr;
      tr = cl - left_width;
      (less ? hi : lo) = orr - ol;
    } else {
      continue;
    }
    if (b.left_col >= 0 && (static_cast<size_t>(b.left_col) != tl || static_cast<size_t>(b.right_col) != tr))
      continue;  // bounds on another pair of columns: only the residual applies them
    b.left_col = static_cast<int>(tl);
    b.right_col = static_cast<int>(tr);
    b.lo = std::max(b.lo, lo);
    b.hi = std::min(b.hi, hi);
  }
  return b;
}

// ---- JoinSideState -----------------------------------------------------------------------

JoinSideState::JoinSideState(std::vector<LogicalType> types) : types_(std::move(types)) {}

void JoinSideState::add(const DataChunk& in, const std::vector<uint32_t>& sel, const std::vector<std::string>& keys,
                        const std::vector<int64_t>& expire, const std::vector<uint8_t>& matched) {
  size_t done = 0;
  while (done < sel.size()) {
    uint64_t pno = next_id_ / exec::kVectorSize;
    size_t at = next_id_ % exec::kVectorSize;
    auto it = pages_.find(pno);
    if (it == pages_.end()) {
      Page p{DataChunk(types_), {}, {}, {}, {}, 0};
      p.slot.assign(exec::kVectorSize, 0);
      p.expire.assign(exec::kVectorSize, INT64_MAX);
      p.matched.assign(exec::kVectorSize, 0);
      p.dead.assign(exec::kVectorSize, 0);
      // The page's earlier rows were all evicted (which freed it): they stay dead.
      std::fill(p.dead.begin(), p.dead.begin() + static_cast<std::ptrdiff_t>(at), 1);
      it = pages_.emplace(pno, std::move(p)).first;
      bytes_ += it->second.chunk.memory_bytes() + exec::kVectorSize * 14;
    }
    Page& p = it->second;
    size_t n = std::min(sel.size() - done, exec::kVectorSize - at);
    size_t before = p.chunk.memory_bytes();
    append_owned(p.chunk, at, in, sel.data() + done, n);
    p.chunk.set_size(at + n);
    bytes_ += p.chunk.memory_bytes() - before;
    for (size_t i = 0; i < n; i++) {
      uint64_t id = next_id_ + i;
      bool created = false;
      uint32_t slot = keys_.find_or_add(keys[done + i], &created);
      if (slot >= rows_of_.size()) {
        rows_of_.resize(slot + 1);
        key_of_.resize(slot + 1);
        dirty_.resize(slot + 1);
      }
      if (created) key_of_[slot] = keys[done + i];
      rows_of_[slot].push_back(id);
      p.slot[at + i] = slot;
      p.expire[at + i] = expire[done + i];
      p.matched[at + i] = matched.empty() ? 0 : matched[done + i];
      if (expire[done + i] != INT64_MAX) by_expire_[expire[done + i]].push_back(id);
    }
    bytes_ += n * 16;  // bucket entry and expiry index entry
    p.live += static_cast<uint32_t>(n);
    live_ += n;
    next_id_ += n;
    done += n;
  }
}

const std::vector<uint64_t>* JoinSideState::find(const std::string& key) const {
  int64_t slot = keys_.find(key);
  if (slot < 0) return nullptr;
  return &rows_of_[static_cast<size_t>(slot)];
}

void JoinSideState::mark_matched(uint64_t id) {
  auto it = pages_.find(id / exec::kVectorSize);
  if (it != pages_.end()) it->second.matched[id % exec::kVectorSize] = 1;
}

const DataChunk& JoinSideState::page_of(uint64_t id, size_t* row) const {
  *row = id % exec::kVectorSize;
  return pages_.at(id / exec::kVectorSize).chunk;
}

size_t JoinSideState::evict(int64_t wm, std::vector<DataChunk>* unmatched) {
  size_t evicted = 0;
  std::vector<uint32_t> touched;  // key slots that lost rows: compacted once at the end
  while (!by_expire_.empty() && by_expire_.begin()->first < wm) {
    for (uint64_t id : by_expire_.begin()->second) {
      auto pit = pages_.find(id / exec::kVectorSize);
      if (pit == pages_.end()) continue;
      Page& p = pit->second;
      uint32_t row = static_cast<uint32_t>(id % exec::kVectorSize);
      if (p.dead[row]) continue;
      p.dead[row] = 1;
      uint32_t slot = p.slot[row];
      if (!dirty_[slot]) {
        dirty_[slot] = 1;
        touched.push_back(slot);
      }
      if (unmatched && !p.matched[row]) {
        if (unmatched->empty() || unmatched->back().size() == exec::kVectorSize) unmatched->emplace_back(types_);
        DataChunk& u = unmatched->back();
        append_owned(u, u.size(), p.chunk, &row, 1);
        u.set_size(u.size() + 1);
      }
      bytes_ -= std::min<size_t>(bytes_, 16);
      live_--;
      evicted++;
      if (--p.live == 0) {
        bytes_ -= std::min(bytes_, p.chunk.memory_bytes() + exec::kVectorSize * 14);
        pages_.erase(pit);
      }
    }
    by_expire_.erase(by_expire_.begin());
  }
  // Drop the evicted ids from their keys' lists (a row's page is gone or marks it dead).
  for (uint32_t slot : touched) {
    dirty_[slot] = 0;
    auto& ids = rows_of_[slot];
    ids.erase(std::remove_if(ids.begin(), ids.end(), [&](uint64_t id) { return !alive(id); }), ids.end());
    if (ids.empty()) {
      keys_.erase(key_of_[slot]);
      std::vector<uint64_t>().swap(ids);
      std::string().swap(key_of_[slot]);
    }
  }
  return evicted;
}

bool JoinSideState::alive(uint64_t id) const {
  auto it = pages_.find(id / exec::kVectorSize);
  return it != pages_.end() && !it->second.dead[id % exec::kVectorSize];
}

size_t JoinSideState::memory_bytes() const { return bytes_ + keys_.memory_bytes(); }

void JoinSideState::save(Writer& w) const {
  w.u64(live_);
  // Live rows in id order, a page at a time: rows, then each row's key and expiry.
  for (auto& [pno, p] : pages_) {
    std::vector<uint32_t> sel;
    for (size_t i = 0; i < p.chunk.size(); i++) {
      if (!p.dead[i]) sel.push_back(static_cast<uint32_t>(i));
    }
    if (sel.empty()) continue;
    DataChunk c(types_);
    for (size_t k = 0; k < types_.size(); k++) c.column(k).gather(p.chunk.column(k), sel.data(), sel.size());
    c.set_size(sel.size());
    w.u8(1);
    w.chunk(c);
    for (uint32_t i : sel) {
      w.str(key_of_[p.slot[i]]);
      w.i64(p.expire[i]);
      w.u8(p.matched[i]);
    }
  }
  w.u8(0);
}

void JoinSideState::load(Reader& r) {
  *this = JoinSideState(types_);
  uint64_t want = r.u64();
  while (r.u8()) {
    DataChunk c = r.chunk(types_);
    std::vector<uint32_t> sel;
    std::vector<std::string> keys;
    std::vector<int64_t> expire;
    std::vector<uint8_t> matched;
    for (size_t i = 0; i < c.size(); i++) {
      sel.push_back(static_cast<uint32_t>(i));
      keys.push_back(r.str());
      expire.push_back(r.i64());
      matched.push_back(r.u8());
    }
    add(c, sel, keys, expire, matched);
  }
  if (live_ != want) throw Error(Errc::kCorruption, "checkpoint: join state row count mismatch");
}

// ---- IntervalJoin ------------------------------------------------------------------------

IntervalJoin::IntervalJoin(const exec::HashJoinOp& op, exec::ExecContext& ctx)
    : left_types_(op.children[0]->types()), right_types_(op.children[1]->types()), out_types_(op.types()),
      state_{JoinSideState(left_types_), JoinSideState(right_types_)} {
  for (auto& k : op.left_keys()) keys_[0].push_back(k->clone());
  for (auto& k : op.right_keys()) keys_[1].push_back(k->clone());
  if (op.residual()) residual_ = op.residual()->clone();
  exec::JoinType t = op.join_type();
  if (t != exec::JoinType::kInner && t != exec::JoinType::kLeft && t != exec::JoinType::kRight &&
      t != exec::JoinType::kFull)
    throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                         "semi and anti joins of two stream tables are not supported in a materialized view");
  outer_[0] = t == exec::JoinType::kLeft || t == exec::JoinType::kFull;
  outer_[1] = t == exec::JoinType::kRight || t == exec::JoinType::kFull;
  bounds_ = find_interval_bounds(residual_.get(), left_types_.size(), ctx);
}

void IntervalJoin::set_eviction(bool left, bool right) {
  evict_[0] = left && bounds_.hi != INT64_MAX;
  evict_[1] = right && bounds_.lo != INT64_MIN;
}

int64_t IntervalJoin::expiry(int side, int64_t t) const {
  // A left row can meet right rows up to t + hi; a right row left rows from t - lo.
  if (!evict_[side]) return INT64_MAX;
  return side == 0 ? sat_add(t, bounds_.hi) : sat_add(t, bounds_.lo == INT64_MIN ? INT64_MAX : -bounds_.lo);
}

void IntervalJoin::consume(int side, const DataChunk& in, exec::ExecContext& ctx, std::vector<DataChunk>& out) {
  size_t n = in.size();
  if (n == 0) return;
  for (size_t i = 0; i < n; i++)
    if (in.sign(i) < 0) throw UserError("a stream-stream join reads append-only inputs (a retraction reached it)");
  // Keys of this side's rows (rows with a NULL key never match an inner join).
  std::vector<exec::Vector> kv;
  std::vector<const exec::Vector*> cols;
  for (auto& k : keys_[side]) {
    kv.emplace_back(k->type(), std::max<size_t>(in.capacity(), 1));
    k->eval(in, kv.back(), ctx);
  }
  for (auto& v : kv) cols.push_back(&v);
  std::vector<std::string> keys;
  if (cols.empty()) keys.assign(n, std::string());
  else exec::encode_keys(cols, n, {}, keys);
  int tcol = side == 0 ? bounds_.left_col : bounds_.right_col;
  const exec::Vector* tv = tcol >= 0 ? &in.column(static_cast<size_t>(tcol)) : nullptr;

  // Probe the other side: candidate pairs, checked by the residual a batch at a time.
  JoinSideState& other = state_[1 - side];
  std::vector<uint8_t> matched(outer_[side] ? n : 0);
  const std::vector<LogicalType>& mine_t = side == 0 ? left_types_ : right_types_;
  size_t off_mine = side == 0 ? 0 : left_types_.size();
  size_t off_other = side == 0 ? left_types_.size() : 0;
  std::vector<uint32_t> psel;
  std::vector<uint64_t> pids;
  auto flush = [&] {
    if (psel.empty()) return;
    size_t m = psel.size();
    DataChunk c(out_types_, std::max<size_t>(m, 1));
    for (size_t k = 0; k < mine_t.size(); k++) c.column(off_mine + k).gather(in.column(k), psel.data(), m);
    // The other side's rows: their pages (few distinct ones), then a typed copy per column.
    std::vector<const DataChunk*> pg(m), distinct;
    std::vector<uint32_t> prow(m);
    uint64_t last_page = UINT64_MAX;
    const DataChunk* last = nullptr;
    for (size_t j = 0; j < m; j++) {
      if (pids[j] / exec::kVectorSize != last_page) {
        size_t row;
        last = &other.page_of(pids[j], &row);
        last_page = pids[j] / exec::kVectorSize;
        if (std::find(distinct.begin(), distinct.end(), last) == distinct.end()) distinct.push_back(last);
      }
      pg[j] = last;
      prow[j] = static_cast<uint32_t>(pids[j] % exec::kVectorSize);
    }
    size_t n_other = side == 0 ? right_types_.size() : left_types_.size();
    for (size_t k = 0; k < n_other; k++) {
      exec::Vector& d = c.column(off_other + k);
      for (const DataChunk* p : distinct) d.share_heaps(p->column(k));
      exec::dispatch_phys(d.type().id, [&](auto tag) {
        using T = decltype(tag);
        T* dv = d.data<T>();
        for (size_t j = 0; j < m; j++) {
          const exec::Vector& sv = pg[j]->column(k);
          if (sv.is_null(prow[j])) d.set_null(j);
          else dv[j] = sv.data<T>()[prow[j]];
        }
      });
    }
    c.set_size(m);
    if (residual_) {
      exec::Vector mask(exec::TypeId::kBoolean, c.capacity());
      residual_->eval(c, mask, ctx);
      exec::SelectionVector keep;
      const uint8_t* mv = mask.data<uint8_t>();
      for (size_t j = 0; j < m; j++)
        if (mask.is_valid(j) && mv[j]) keep.idx.push_back(static_cast<uint32_t>(j));
      if (outer_[side])
        for (uint32_t j : keep.idx) matched[psel[j]] = 1;
      if (outer_[1 - side])
        for (uint32_t j : keep.idx) other.mark_matched(pids[j]);
      if (keep.size() != m) c.slice(keep);
    } else {
      if (outer_[side])
        for (uint32_t p : psel) matched[p] = 1;
      if (outer_[1 - side])
        for (uint64_t id : pids) other.mark_matched(id);
    }
    if (c.size()) out.push_back(std::move(c));
    psel.clear();
    pids.clear();
  };
  std::vector<uint32_t> store;
  std::vector<std::string> store_keys;
  std::vector<int64_t> store_expire;
  std::vector<uint8_t> store_matched;
  std::vector<uint32_t> no_match;  // rows of an outer side never kept: decided now
  for (size_t i = 0; i < n; i++) {
    if (!cols.empty() && exec::any_null(cols, i)) {
      no_match.push_back(static_cast<uint32_t>(i));
      continue;
    }
    if (const auto* ids = other.find(keys[i])) {
      for (uint64_t id : *ids) {
        psel.push_back(static_cast<uint32_t>(i));
        pids.push_back(id);
        if (psel.size() == exec::kVectorSize) flush();
      }
    }
    // Keep the row for rows still to come on the other side, unless none can match it.
    int64_t exp = INT64_MAX;
    if (tv) {
      // A NULL time fails every bound; a row past its last chance meets no later row.
      if (!tv->is_null(i)) exp = expiry(side, tv->data<int64_t>()[i]);
      if (tv->is_null(i) || exp < wm_[1 - side]) {
        no_match.push_back(static_cast<uint32_t>(i));
        continue;
      }
    }
    store.push_back(static_cast<uint32_t>(i));
    store_keys.push_back(std::move(keys[i]));
    store_expire.push_back(exp);
  }
  flush();
  if (outer_[side]) {
    for (uint32_t i : store) store_matched.push_back(matched[i]);
    // Matches are only found while probing, which is over for these rows.
    std::vector<uint32_t> sel;
    for (uint32_t i : no_match)
      if (!matched[i]) sel.push_back(i);
    if (!sel.empty()) {
      DataChunk rows(in.types(), sel.size());
      for (size_t k = 0; k < in.column_count(); k++) rows.column(k).gather(in.column(k), sel.data(), sel.size());
      rows.set_size(sel.size());
      null_extend(side, rows, out);
    }
  }
  state_[side].add(in, store, store_keys, store_expire, store_matched);
}

void IntervalJoin::null_extend(int side, const DataChunk& rows, std::vector<DataChunk>& out) const {
  size_t n = rows.size();
  if (n == 0) return;
  DataChunk c(out_types_, std::max<size_t>(n, 1));
  size_t off_mine = side == 0 ? 0 : left_types_.size();
  size_t off_other = side == 0 ? left_types_.size() : 0;
  size_t n_other = side == 0 ? right_types_.size() : left_types_.size();
  for (size_t k = 0; k < rows.column_count(); k++) c.column(off_mine + k).copy_range(rows.column(k), 0, n, 0);
  for (size_t k = 0; k < n_other; k++)
    for (size_t i = 0; i < n; i++) c.column(off_other + k).set_null(i);
  c.set_size(n);
  out.push_back(std::move(c));
}

void IntervalJoin::on_watermarks(int64_t wm_left, int64_t wm_right, std::vector<DataChunk>& out) {
  wm_[0] = std::max(wm_[0], wm_left);
  wm_[1] = std::max(wm_[1], wm_right);
  // Left rows wait for right rows, whose times are at least the right watermark.
  for (int side = 0; side < 2; side++) {
    std::vector<DataChunk> unmatched;
    state_[side].evict(wm_[1 - side], outer_[side] ? &unmatched : nullptr);
    for (auto& u : unmatched) null_extend(side, u, out);
  }
}

int64_t IntervalJoin::output_watermark(int side) const {
  // Rows of a new output carry a `side` time at least its watermark (a new row of that
  // side) or at least the other side's watermark shifted by the bound (a new row there).
  if (side == 0) {
    if (!evict_[0]) return INT64_MIN;
    return std::min(wm_[0], sat_add(wm_[1], bounds_.hi == INT64_MIN ? INT64_MAX : -bounds_.hi));
  }
  if (!evict_[1]) return INT64_MIN;
  return std::min(wm_[1], sat_add(wm_[0], bounds_.lo));
}

size_t IntervalJoin::memory_bytes() const { return state_[0].memory_bytes() + state_[1].memory_bytes(); }

void IntervalJoin::save(Writer& w) const {
  w.i64(wm_[0]);
  w.i64(wm_[1]);
  state_[0].save(w);
  state_[1].save(w);
}

void IntervalJoin::load(Reader& r) {
  wm_[0] = r.i64();
  wm_[1] = r.i64();
  state_[0].load(r);
  state_[1].load(r);
}

}  // namespace sl::stream
