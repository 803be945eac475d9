#include "exec/operators.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "exec/error.h"
#include "exec/kernels.h"

namespace sl::exec {

namespace {
size_t cap_of(const DataChunk& c) { return std::max<size_t>(c.capacity(), 1); }

std::vector<LogicalType> concat_types(const std::vector<LogicalType>& a, const std::vector<LogicalType>& b) {
  auto r = a;
  r.insert(r.end(), b.begin(), b.end());
  return r;
}
}  // namespace

// ---- ChunkCollection -------------------------------------------------------------------

ChunkCollection::ChunkCollection(std::vector<LogicalType> types) : types_(std::move(types)) {
  for (size_t i = 0; i < types_.size(); i++) heaps_.push_back(std::make_shared<StringHeap>());
}

size_t ChunkCollection::append(const DataChunk& in) {
  if (in.size() == 0) return 0;
  DataChunk c;
  size_t bytes = 64;
  for (size_t col = 0; col < types_.size(); col++) {
    Vector v(types_[col], in.size());
    const Vector& src = in.column(col);
    if (phys_type(types_[col].id) == PhysType::kStr) {
      v.use_heap(heaps_[col]);
      const StringRef* s = src.data<StringRef>();
      StringRef* d = v.data<StringRef>();
      for (size_t i = 0; i < in.size(); i++) {
        if (src.is_null(i)) { v.set_null(i); continue; }
        d[i] = v.add_string(s[i].view());
        bytes += s[i].len;
      }
    } else {
      v.copy_range(src, 0, in.size(), 0);
    }
    bytes += v.memory_bytes();
    c.add_column(std::move(v));
  }
  // DataChunk built column by column has the default capacity; fix its size.
  DataChunk sized(types_, in.size());
  for (size_t col = 0; col < types_.size(); col++) sized.column(col) = std::move(c.column(col));
  sized.set_size(in.size());
  if (in.has_signs())
    for (size_t i = 0; i < in.size(); i++) sized.set_sign(i, in.sign(i));
  chunks_.push_back(std::move(sized));
  rows_ += in.size();
  return bytes;
}

void ChunkCollection::gather(size_t col, const RowRef* refs, size_t n, Vector& out) const {
  if (col < heaps_.size()) {
    // All strings of this column live in one heap.
    Vector probe(types_[col], 1);
    probe.use_heap(heaps_[col]);
    out.share_heaps(probe);
  }
  dispatch_phys(types_[col].id, [&](auto tag) {
    using T = decltype(tag);
    T* d = out.data<T>();
    for (size_t k = 0; k < n; k++) {
      if (refs[k].chunk == kNullRef) { out.set_null(k); continue; }
      const Vector& src = chunks_[refs[k].chunk].column(col);
      if (src.is_null(refs[k].row)) { out.set_null(k); continue; }
      out.set_valid(k);
      d[k] = src.data<T>()[refs[k].row];
    }
  });
}

// ---- Scan / Values ---------------------------------------------------------------------

ScanOp::ScanOp(std::string table, std::vector<std::shared_ptr<const DataChunk>> chunks,
               std::vector<size_t> column_ids, std::vector<LogicalType> types)
    : PhysicalOperator(std::move(types)), table_(std::move(table)), chunks_(std::move(chunks)),
      ids_(std::move(column_ids)) {}

void ScanOp::set_loader(std::function<std::vector<std::shared_ptr<const DataChunk>>()> loader, std::string note) {
  loader_ = std::move(loader);
  note_ = std::move(note);
}

void ScanOp::ensure_loaded() const {
  if (!loader_) return;
  std::call_once(loaded_, [this] { chunks_ = loader_(); });
}

bool ScanOp::get_data(DataChunk& out, ExecContext&) {
  ensure_loaded();
  while (pos_ < chunks_.size() && chunks_[pos_]->size() == 0) pos_++;
  if (pos_ >= chunks_.size()) return false;
  read_chunk(pos_++, out);
  return true;
}

int64_t ScanOp::row_count() const {
  ensure_loaded();
  int64_t n = 0;
  for (auto& c : chunks_) n += static_cast<int64_t>(c->size());
  return n;
}

void ScanOp::read_chunk(size_t i, DataChunk& out) const {
  const DataChunk& c = *chunks_[i];
  if (c.size() > out.capacity()) throw InternalError("stored chunk larger than the vector size");
  for (size_t k = 0; k < ids_.size(); k++)
    if (needed_.empty() || needed_[k]) out.column(k).reference(c.column(ids_[k]));
  out.set_size(c.size());
  if (c.has_signs())
    for (size_t r = 0; r < c.size(); r++) out.set_sign(r, c.sign(r));
}

ValuesOp::ValuesOp(std::vector<LogicalType> types, std::vector<std::vector<ExprPtr>> rows)
    : PhysicalOperator(std::move(types)), rows_(std::move(rows)) {}

bool ValuesOp::get_data(DataChunk& out, ExecContext& ctx) {
  if (pos_ >= rows_.size()) return false;
  size_t n = 0;
  for (; pos_ < rows_.size() && n < out.capacity(); pos_++, n++) {
    for (size_t c = 0; c < rows_[pos_].size(); c++) {
      Value v = eval_constant(*rows_[pos_][c], ctx);
      v.type = types_[c];
      v.write(out.column(c), n);
    }
  }
  out.set_size(n);
  return true;
}

// ---- Filter / Project / Limit -----------------------------------------------------------

FilterOp::FilterOp(std::vector<LogicalType> types, ExprPtr predicate)
    : PhysicalOperator(std::move(types)), pred_(std::move(predicate)) {}

OpResult FilterOp::execute(DataChunk& in, DataChunk& out, ExecContext& ctx) {
  size_t n = in.size(), cap = cap_of(in);
  if (!mask_ || mask_->capacity() < cap) mask_ = std::make_unique<Vector>(TypeId::kBoolean, cap);
  Vector& b = *mask_;
  pred_->eval(in, b, ctx);
  sel_.resize(n);
  const uint8_t* d = b.data<uint8_t>();
  size_t m = 0;
  if (b.all_valid()) {
    for (size_t i = 0; i < n; i++) { sel_[m] = static_cast<uint32_t>(i); m += d[i] != 0; }
  } else {
    for (size_t i = 0; i < n; i++) { sel_[m] = static_cast<uint32_t>(i); m += (d[i] != 0) & b.is_valid(i); }
  }
  if (m == n) {
    for (size_t c = 0; c < in.column_count(); c++)
      if (needed_.empty() || needed_[c]) out.column(c).reference(in.column(c));
    out.set_size(n);
    if (in.has_signs()) for (size_t i = 0; i < n; i++) out.set_sign(i, in.sign(i));
  } else {
    for (size_t c = 0; c < in.column_count(); c++)
      if (needed_.empty() || needed_[c]) out.column(c).gather(in.column(c), sel_.data(), m);
    out.set_size(m);
    if (in.has_signs()) for (size_t k = 0; k < m; k++) out.set_sign(k, in.sign(sel_[k]));
  }
  return OpResult::kNeedMoreInput;
}

std::unique_ptr<PhysicalOperator> FilterOp::clone_for_thread() const {
  auto f = std::make_unique<FilterOp>(types_, pred_->clone());
  f->estimated_rows = estimated_rows;
  f->needed_ = needed_;
  return f;
}

static void mark_columns(const Expr& e, std::vector<uint8_t>* used) {
  std::vector<ColumnExpr*> cols;
  collect_columns(const_cast<Expr&>(e), cols);  // reads only
  for (auto* c : cols)
    if (c->index < used->size()) (*used)[c->index] = 1;
}

bool FilterOp::input_columns(std::vector<uint8_t>* used) const {
  used->assign(types_.size(), 0);
  for (size_t c = 0; c < types_.size(); c++) (*used)[c] = needed_.empty() || needed_[c];
  mark_columns(*pred_, used);
  return true;
}

bool ProjectOp::input_columns(std::vector<uint8_t>* used) const {
  for (auto& e : exprs_) mark_columns(*e, used);
  return true;
}

bool HashAggregateOp::input_columns(std::vector<uint8_t>* used) const {
  for (auto& e : groups_) mark_columns(*e, used);
  for (auto& a : aggs_)
    for (auto& e : a.args) mark_columns(*e, used);
  return true;
}

ProjectOp::ProjectOp(std::vector<ExprPtr> exprs) : PhysicalOperator({}), exprs_(std::move(exprs)) {
  for (auto& e : exprs_) types_.push_back(e->type());
}

std::string ProjectOp::details() const {
  std::string s;
  for (size_t i = 0; i < exprs_.size(); i++) s += (i ? ", " : "") + exprs_[i]->to_string();
  return s;
}

std::unique_ptr<PhysicalOperator> ProjectOp::clone_for_thread() const {
  std::vector<ExprPtr> e;
  for (auto& x : exprs_) e.push_back(x->clone());
  return std::make_unique<ProjectOp>(std::move(e));
}

OpResult ProjectOp::execute(DataChunk& in, DataChunk& out, ExecContext& ctx) {
  for (size_t i = 0; i < exprs_.size(); i++) exprs_[i]->eval(in, out.column(i), ctx);
  out.set_size(in.size());
  if (in.has_signs()) for (size_t i = 0; i < in.size(); i++) out.set_sign(i, in.sign(i));
  return OpResult::kNeedMoreInput;
}

LimitOp::LimitOp(std::vector<LogicalType> types, int64_t limit, int64_t offset)
    : PhysicalOperator(std::move(types)), limit_(limit), offset_(offset) {}

std::string LimitOp::details() const {
  return (limit_ >= 0 ? "limit " + std::to_string(limit_) : std::string("no limit")) +
         (offset_ ? " offset " + std::to_string(offset_) : "");
}

OpResult LimitOp::execute(DataChunk& in, DataChunk& out, ExecContext&) {
  size_t n = in.size();
  size_t skip = 0;
  if (seen_ < offset_) skip = static_cast<size_t>(std::min<int64_t>(offset_ - seen_, static_cast<int64_t>(n)));
  seen_ += static_cast<int64_t>(n);
  size_t take = n - skip;
  if (limit_ >= 0) take = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(take), limit_ - emitted_));
  emitted_ += static_cast<int64_t>(take);
  SelectionVector sel;
  for (size_t k = 0; k < take; k++) sel.idx.push_back(static_cast<uint32_t>(skip + k));
  for (size_t c = 0; c < in.column_count(); c++) out.column(c).gather(in.column(c), sel.idx.data(), take);
  out.set_size(take);
  if (in.has_signs()) for (size_t k = 0; k < take; k++) out.set_sign(k, in.sign(skip + k));
  return (limit_ >= 0 && emitted_ >= limit_) ? OpResult::kFinished : OpResult::kNeedMoreInput;
}

// ---- Hash aggregate ----------------------------------------------------------------------

static std::vector<LogicalType> agg_types(const std::vector<ExprPtr>& g, const std::vector<AggregateCall>& a) {
  std::vector<LogicalType> t;
  for (auto& e : g) t.push_back(e->type());
  for (auto& x : a) t.push_back(x.sig.result);
  return t;
}
static std::vector<LogicalType> expr_types(const std::vector<ExprPtr>& g) {
  std::vector<LogicalType> t;
  for (auto& e : g) t.push_back(e->type());
  return t;
}

HashAggregateOp::HashAggregateOp(std::vector<ExprPtr> groups, std::vector<AggregateCall> aggs)
    : PhysicalOperator(agg_types(groups, aggs)), groups_(std::move(groups)), aggs_(std::move(aggs)),
      keys_(expr_types(groups_)), table_(std::make_unique<KeyTable>(expr_types(groups_))) {
  for (auto& a : aggs_) states_.push_back(make_aggregate_state(a.sig, a.distinct, a.fraction));
  if (groups_.empty()) {
    refs_.push_back({ChunkCollection::kNullRef, 0});
    for (auto& s : states_) s->resize(1);
  }
}

HashAggregateOp::~HashAggregateOp() = default;

std::string HashAggregateOp::details() const {
  std::string s;
  for (size_t i = 0; i < groups_.size(); i++) s += (i ? ", " : "group by ") + groups_[i]->to_string();
  for (size_t i = 0; i < aggs_.size(); i++) s += (i || !groups_.empty() ? ", " : "") + aggs_[i].display;
  return s;
}

void HashAggregateOp::assign_groups(const std::vector<const Vector*>& cols, const DataChunk* keys, size_t n,
                                    uint32_t* gids, ExecContext& ctx) {
  fresh_.clear();
  table_->find_or_insert(cols, n, gids, &fresh_);
  if (fresh_.empty()) return;
  uint32_t chunk = static_cast<uint32_t>(keys_.chunks().size());
  for (size_t k = 0; k < fresh_.size(); k++) refs_.push_back({chunk, static_cast<uint32_t>(k)});
  DataChunk nk = gather_chunk(*keys, fresh_);
  int64_t added = static_cast<int64_t>(keys_.append(nk) + fresh_.size() * sizeof(ChunkCollection::RowRef));
  size_t tb = table_->memory_bytes();
  if (tb > table_bytes_) added += static_cast<int64_t>(tb - table_bytes_);
  table_bytes_ = std::max(tb, table_bytes_);
  ctx.memory.grow(added);
  charged_ += added;
  for (auto& s : states_) s->resize(refs_.size());
}

void HashAggregateOp::account_states(ExecContext& ctx) {
  size_t sb = 0;
  for (auto& s : states_) sb += s->memory_bytes();
  if (sb > state_bytes_) {
    ctx.memory.grow(static_cast<int64_t>(sb - state_bytes_));
    charged_ += static_cast<int64_t>(sb - state_bytes_);
    state_bytes_ = sb;
  }
}

void HashAggregateOp::sink(DataChunk& in, ExecContext& ctx) {
  size_t n = in.size(), cap = cap_of(in);
  if (args_.size() != aggs_.size() || (!args_.empty() && !args_[0].empty() && args_[0][0].capacity() < cap) ||
      (gv_ && gv_->capacity() < cap)) {
    args_.clear();
    for (auto& a : aggs_) {
      args_.emplace_back();
      for (auto& e : a.args) args_.back().emplace_back(e->type(), cap);
    }
    gv_.reset();
  }
  if (!groups_.empty()) {
    if (!gv_) gv_ = std::make_unique<DataChunk>(keys_.types(), cap);
    DataChunk& gv = *gv_;
    std::vector<const Vector*> cols;
    for (size_t g = 0; g < groups_.size(); g++) {
      groups_[g]->eval(in, gv.column(g), ctx);
      cols.push_back(&gv.column(g));
    }
    gv.set_size(n);
    gids_.resize(n);
    assign_groups(cols, &gv, n, gids_.data(), ctx);
  }
  for (size_t a = 0; a < aggs_.size(); a++) {
    auto& args = args_[a];
    for (size_t k = 0; k < aggs_[a].args.size(); k++) aggs_[a].args[k]->eval(in, args[k], ctx);
    if (groups_.empty()) states_[a]->update_single(args, n, in.signs());
    else states_[a]->update(args, gids_.data(), n, in.signs());
  }
  account_states(ctx);
}

std::unique_ptr<PhysicalOperator> HashAggregateOp::make_local_sink() const {
  for (auto& s : states_)
    if (!s->mergeable()) return nullptr;
  std::vector<ExprPtr> g;
  for (auto& e : groups_) g.push_back(e->clone());
  std::vector<AggregateCall> calls;
  for (auto& a : aggs_) {
    AggregateCall c{a.sig, {}, a.distinct, a.fraction, a.display};
    for (auto& e : a.args) c.args.push_back(e->clone());
    calls.push_back(std::move(c));
  }
  return std::make_unique<HashAggregateOp>(std::move(g), std::move(calls));
}

void HashAggregateOp::merge_local(PhysicalOperator& local_op, ExecContext& ctx) {
  auto& local = static_cast<HashAggregateOp&>(local_op);
  std::vector<uint32_t> target;
  if (groups_.empty()) {
    target.push_back(0);
  } else {
    target.resize(local.refs_.size());
    size_t at = 0;
    for (auto& c : local.keys_.chunks()) {
      std::vector<const Vector*> cols;
      for (size_t g = 0; g < c.column_count(); g++) cols.push_back(&c.column(g));
      assign_groups(cols, &c, c.size(), target.data() + at, ctx);
      at += c.size();
    }
  }
  for (size_t a = 0; a < states_.size(); a++) states_[a]->combine(*local.states_[a], target.data(), target.size());
  account_states(ctx);
  ctx.memory.shrink(local.charged_);
  local.charged_ = 0;
}

void HashAggregateOp::finalize(ExecContext&) {}

bool HashAggregateOp::get_data(DataChunk& out, ExecContext&) {
  if (out_pos_ >= refs_.size()) return false;
  size_t n = std::min(out.capacity(), refs_.size() - out_pos_);
  for (size_t g = 0; g < groups_.size(); g++) keys_.gather(g, &refs_[out_pos_], n, out.column(g));
  for (size_t a = 0; a < aggs_.size(); a++) states_[a]->finalize(out.column(groups_.size() + a), out_pos_, n);
  out_pos_ += n;
  out.set_size(n);
  return true;
}

// ---- Hash join -----------------------------------------------------------------------------

struct HashJoinOp::Built {
  explicit Built(std::vector<LogicalType> right_types, std::vector<LogicalType> key_types)
      : data(std::move(right_types)), keys(std::move(key_types)) {}
  ChunkCollection data;
  std::vector<ChunkCollection::RowRef> rows;  // build row -> its place in data
  KeyTable keys;                              // distinct non-NULL keys
  std::vector<uint32_t> head, tail;           // per key id: first / last build row
  std::vector<uint32_t> next;                 // per build row: next row with its key
  bool nested_loop = false;                   // no keys: every build row matches
};

static constexpr uint32_t kNoRow = KeyTable::kNone;

HashJoinOp::HashJoinOp(JoinType type, std::vector<ExprPtr> left_keys, std::vector<ExprPtr> right_keys,
                       ExprPtr residual, std::vector<LogicalType> left_types, std::vector<LogicalType> right_types)
    : PhysicalOperator(type == JoinType::kSemi || type == JoinType::kAnti ? left_types : concat_types(left_types, right_types)),
      type_(type), lkeys_(std::move(left_keys)),
      rkeys_(std::move(right_keys)), residual_(std::move(residual)), nleft_(left_types.size()) {
  right_types_ = right_types;
  built_ = std::make_shared<Built>(right_types, expr_types(rkeys_));
  built_->nested_loop = rkeys_.empty();
}

HashJoinOp::~HashJoinOp() = default;

void HashJoinOp::reset_build() {
  built_ = std::make_shared<Built>(right_types_, expr_types(rkeys_));
  built_->nested_loop = rkeys_.empty();
  build_matched_.clear();
  probing_ = false;
}

std::string HashJoinOp::name() const {
  const char* t[] = {"INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"};
  return std::string(lkeys_.empty() ? "NESTED_LOOP_JOIN " : "HASH_JOIN ") + t[static_cast<int>(type_)];
}

std::string HashJoinOp::details() const {
  std::string s;
  for (size_t i = 0; i < lkeys_.size(); i++)
    s += (i ? " AND " : "") + lkeys_[i]->to_string() + " = " + rkeys_[i]->to_string();
  if (residual_) s += (s.empty() ? "" : " AND ") + residual_->to_string();
  return s;
}

std::unique_ptr<PhysicalOperator> HashJoinOp::clone_for_thread() const {
  if (type_ == JoinType::kRight || type_ == JoinType::kFull) return nullptr;
  std::vector<ExprPtr> lk, rk;
  for (auto& e : lkeys_) lk.push_back(e->clone());
  for (auto& e : rkeys_) rk.push_back(e->clone());
  std::vector<LogicalType> lt(types_.begin(), types_.begin() + nleft_);
  auto j = std::make_unique<HashJoinOp>(type_, std::move(lk), std::move(rk), residual_ ? residual_->clone() : nullptr,
                                        lt, built_->data.types());
  j->built_ = built_;
  j->needed_ = needed_;
  j->build_matched_.assign(built_->rows.size(), 0);
  j->estimated_rows = estimated_rows;
  return j;
}

void HashJoinOp::set_needed_columns(std::vector<uint8_t> needed) {
  if (type_ == JoinType::kSemi || type_ == JoinType::kAnti) return;
  if (residual_) mark_columns(*residual_, &needed);
  needed_ = std::move(needed);
}

void HashJoinOp::probe_columns(const std::vector<uint8_t>& needed_out, std::vector<uint8_t>* used) const {
  used->assign(nleft_, 0);
  for (size_t c = 0; c < nleft_; c++) (*used)[c] = needed_out.empty() || (c < needed_out.size() && needed_out[c]);
  for (auto& k : lkeys_) mark_columns(*k, used);  // marks < nleft_ only
  if (residual_) mark_columns(*residual_, used);
}

void HashJoinOp::sink(DataChunk& in, ExecContext& ctx) {
  Built& b = *built_;
  size_t n = in.size();
  uint32_t chunk = static_cast<uint32_t>(b.data.chunks().size());
  size_t bytes = b.data.append(in);
  uint32_t base = static_cast<uint32_t>(b.rows.size());
  for (size_t i = 0; i < n; i++) b.rows.push_back({chunk, static_cast<uint32_t>(i)});
  b.next.resize(b.rows.size(), kNoRow);
  if (b.nested_loop) {
    if (b.head.empty()) { b.head.push_back(kNoRow); b.tail.push_back(kNoRow); }
    for (size_t i = 0; i < n; i++) {
      uint32_t r = base + static_cast<uint32_t>(i);
      if (b.tail[0] == kNoRow) b.head[0] = r;
      else b.next[b.tail[0]] = r;
      b.tail[0] = r;
    }
    ctx.memory.grow(static_cast<int64_t>(bytes + n * 12));
    return;
  }
  std::vector<Vector> kv;
  std::vector<const Vector*> cols;
  kv.reserve(rkeys_.size());
  for (auto& e : rkeys_) {
    kv.emplace_back(e->type(), cap_of(in));
    e->eval(in, kv.back(), ctx);
  }
  for (auto& v : kv) cols.push_back(&v);
  // Rows with a NULL key never match: they are not put in the table.
  std::vector<uint32_t> keep;
  for (size_t i = 0; i < n; i++)
    if (!any_null(cols, i)) keep.push_back(static_cast<uint32_t>(i));
  std::vector<uint32_t> ids(keep.size());
  size_t before = b.keys.memory_bytes();
  if (keep.size() == n) {
    b.keys.find_or_insert(cols, n, ids.data(), nullptr);
  } else if (!keep.empty()) {
    DataChunk sub(expr_types(rkeys_), std::max<size_t>(keep.size(), 1));
    std::vector<const Vector*> scols;
    for (size_t k = 0; k < kv.size(); k++) {
      sub.column(k).gather(kv[k], keep.data(), keep.size());
      scols.push_back(&sub.column(k));
    }
    b.keys.find_or_insert(scols, keep.size(), ids.data(), nullptr);
  }
  b.head.resize(b.keys.size(), kNoRow);
  b.tail.resize(b.keys.size(), kNoRow);
  for (size_t k = 0; k < keep.size(); k++) {
    uint32_t r = base + keep[k], id = ids[k];
    if (b.tail[id] == kNoRow) b.head[id] = r;
    else b.next[b.tail[id]] = r;
    b.tail[id] = r;
  }
  size_t after = b.keys.memory_bytes();
  ctx.memory.grow(static_cast<int64_t>(bytes + n * 12 + (after > before ? after - before : 0)));
}

void HashJoinOp::finalize(ExecContext&) { build_matched_.assign(built_->rows.size(), 0); }

void HashJoinOp::start_probe(DataChunk& in, ExecContext& ctx) {
  const Built& b = *built_;
  size_t n = in.size();
  heads_.assign(n, kNoRow);
  probe_matched_.assign(n, 0);
  if (b.nested_loop) {
    uint32_t h = b.head.empty() ? kNoRow : b.head[0];
    for (size_t i = 0; i < n; i++) heads_[i] = h;
  } else if (b.keys.size() > 0) {
    std::vector<Vector> kv;
    std::vector<const Vector*> cols;
    kv.reserve(lkeys_.size());
    for (auto& e : lkeys_) {
      kv.emplace_back(e->type(), cap_of(in));
      e->eval(in, kv.back(), ctx);
    }
    for (auto& v : kv) cols.push_back(&v);
    ids_.resize(n);
    b.keys.find(cols, n, ids_.data());
    bool nulls = false;
    for (auto* c : cols) nulls = nulls || !c->all_valid();
    for (size_t i = 0; i < n; i++)
      if (ids_[i] != KeyTable::kNone) heads_[i] = b.head[ids_[i]];
    if (nulls)
      for (size_t i = 0; i < n; i++)
        if (any_null(cols, i)) heads_[i] = kNoRow;
  }
  p_ = 0;
  in_chain_ = false;
  unmatched_phase_ = false;
  probing_ = true;
}

bool HashJoinOp::next_pair(size_t n, uint32_t* probe, uint32_t* build) {
  while (p_ < n) {
    uint32_t r = in_chain_ ? cur_ : heads_[p_];
    if (r == kNoRow) { p_++; in_chain_ = false; continue; }
    *probe = static_cast<uint32_t>(p_);
    *build = r;
    cur_ = built_->next[r];
    in_chain_ = true;
    if (cur_ == kNoRow) { p_++; in_chain_ = false; }
    return true;
  }
  return false;
}

OpResult HashJoinOp::semi(DataChunk& in, DataChunk& out, ExecContext& ctx) {
  start_probe(in, ctx);
  const Built& bt = *built_;
  size_t n = in.size(), cap = std::max<size_t>(in.capacity(), 1);
  if (!residual_) {
    for (size_t i = 0; i < n; i++) probe_matched_[i] = heads_[i] != kNoRow;
  } else {
    // Evaluate the residual over candidate pairs, a chunk at a time.
    DataChunk pairs(concat_types(std::vector<LogicalType>(types_.begin(), types_.begin() + nleft_), bt.data.types()), cap);
    while (p_ < n) {
      std::vector<uint32_t> lsel;
      std::vector<ChunkCollection::RowRef> rrefs;
      uint32_t pr, br;
      while (lsel.size() < cap) {
        // Rows already matched need no further candidates.
        while (p_ < n && !in_chain_ && probe_matched_[p_]) p_++;
        if (!next_pair(n, &pr, &br)) break;
        if (probe_matched_[pr]) continue;
        lsel.push_back(pr);
        rrefs.push_back(bt.rows[br]);
      }
      size_t m = lsel.size();
      if (!m) break;
      pairs.reset();
      for (size_t col = 0; col < nleft_; col++) pairs.column(col).gather(in.column(col), lsel.data(), m);
      for (size_t col = 0; col < bt.data.types().size(); col++) bt.data.gather(col, rrefs.data(), m, pairs.column(nleft_ + col));
      pairs.set_size(m);
      Vector b(TypeId::kBoolean, cap);
      residual_->eval(pairs, b, ctx);
      for (size_t k = 0; k < m; k++)
        if (b.is_valid(k) && b.data<uint8_t>()[k]) probe_matched_[lsel[k]] = 1;
    }
  }
  bool want = type_ == JoinType::kSemi;
  std::vector<uint32_t> sel;
  for (size_t i = 0; i < n; i++)
    if (static_cast<bool>(probe_matched_[i]) == want) sel.push_back(static_cast<uint32_t>(i));
  for (size_t col = 0; col < nleft_; col++) out.column(col).gather(in.column(col), sel.data(), sel.size());
  out.set_size(sel.size());
  if (in.has_signs()) for (size_t k = 0; k < sel.size(); k++) out.set_sign(k, in.sign(sel[k]));
  probing_ = false;
  return OpResult::kNeedMoreInput;
}

OpResult HashJoinOp::execute(DataChunk& in, DataChunk& out, ExecContext& ctx) {
  if (type_ == JoinType::kSemi || type_ == JoinType::kAnti) return semi(in, out, ctx);
  if (!probing_) start_probe(in, ctx);
  const Built& bt = *built_;
  size_t n = in.size(), cap = out.capacity();
  bool signs = in.has_signs() || (!bt.data.chunks().empty() && bt.data.chunks()[0].has_signs());
  if (!unmatched_phase_) {
    std::vector<uint32_t>& lsel = lsel_;
    std::vector<uint32_t>& bids = bids_;
    lsel.resize(cap);
    bids.resize(cap);
    size_t m = 0;
    const uint32_t* next = bt.next.data();
    while (m < cap && p_ < n) {
      uint32_t r = in_chain_ ? cur_ : heads_[p_];
      if (r == kNoRow) { p_++; in_chain_ = false; continue; }
      lsel[m] = static_cast<uint32_t>(p_);
      bids[m] = r;
      m++;
      cur_ = next[r];
      in_chain_ = cur_ != kNoRow;
      p_ += !in_chain_;
    }
    bool one_chunk = bt.data.chunks().size() == 1;
    std::vector<ChunkCollection::RowRef> rrefs(one_chunk && !signs ? 0 : m);
    for (size_t k = 0; k < rrefs.size(); k++) rrefs[k] = bt.rows[bids[k]];
    for (size_t col = 0; col < nleft_; col++)
      if (needed(col)) out.column(col).gather(in.column(col), lsel.data(), m);
    if (one_chunk) {
      // One build chunk (small dimension tables): build row = row of that chunk.
      const DataChunk& bc = bt.data.chunks()[0];
      for (size_t col = 0; col < bt.data.types().size(); col++)
        if (needed(nleft_ + col)) out.column(nleft_ + col).gather(bc.column(col), bids.data(), m);
    } else {
      for (size_t col = 0; col < bt.data.types().size(); col++)
        if (needed(nleft_ + col)) bt.data.gather(col, rrefs.data(), m, out.column(nleft_ + col));
    }
    out.set_size(m);
    if (signs)
      for (size_t k = 0; k < m; k++)
        out.set_sign(k, static_cast<int8_t>(in.sign(lsel[k]) * bt.data.chunks()[rrefs[k].chunk].sign(rrefs[k].row)));
    std::vector<uint8_t> keep(m, 1);
    if (residual_ && m) {
      Vector b(TypeId::kBoolean, cap);
      residual_->eval(out, b, ctx);
      SelectionVector sel;
      for (size_t k = 0; k < m; k++) {
        keep[k] = b.is_valid(k) && b.data<uint8_t>()[k];
        if (keep[k]) sel.idx.push_back(static_cast<uint32_t>(k));
      }
      if (sel.size() != m) out.slice(sel);
    }
    for (size_t k = 0; k < m; k++)
      if (keep[k]) { probe_matched_[lsel[k]] = 1; build_matched_[bids[k]] = 1; }
    bool more_pairs = p_ < n;
    if (more_pairs) return OpResult::kHaveMoreOutput;
    if (type_ == JoinType::kLeft || type_ == JoinType::kFull) {
      unmatched_phase_ = true;
      if (out.size() > 0) return OpResult::kHaveMoreOutput;
    } else {
      probing_ = false;
      return OpResult::kNeedMoreInput;
    }
  }
  // LEFT/FULL: probe rows without a match, right side NULL.
  std::vector<uint32_t> sel;
  for (size_t i = 0; i < n; i++)
    if (!probe_matched_[i]) sel.push_back(static_cast<uint32_t>(i));
  for (size_t col = 0; col < nleft_; col++) out.column(col).gather(in.column(col), sel.data(), sel.size());
  for (size_t col = nleft_; col < types_.size(); col++) {
    out.column(col).reset();
    for (size_t k = 0; k < sel.size(); k++) out.column(col).set_null(k);
  }
  out.set_size(sel.size());
  if (in.has_signs()) for (size_t k = 0; k < sel.size(); k++) out.set_sign(k, in.sign(sel[k]));
  probing_ = false;
  return OpResult::kNeedMoreInput;
}

bool HashJoinOp::finish(DataChunk& out, ExecContext&) {
  if (type_ != JoinType::kRight && type_ != JoinType::kFull) return false;
  const Built& bt = *built_;
  std::vector<ChunkCollection::RowRef> refs;
  while (finish_pos_ < bt.rows.size() && refs.size() < out.capacity()) {
    if (!build_matched_[finish_pos_]) refs.push_back(bt.rows[finish_pos_]);
    finish_pos_++;
  }
  if (refs.empty()) return false;
  for (size_t col = 0; col < nleft_; col++) {
    out.column(col).reset();
    for (size_t k = 0; k < refs.size(); k++) out.column(col).set_null(k);
  }
  for (size_t col = 0; col < bt.data.types().size(); col++) bt.data.gather(col, refs.data(), refs.size(), out.column(nleft_ + col));
  out.set_size(refs.size());
  for (size_t k = 0; k < refs.size(); k++) {
    int8_t s = bt.data.chunks()[refs[k].chunk].sign(refs[k].row);
    if (s != 1 || out.has_signs()) out.set_sign(k, s);
  }
  return true;
}

// ---- Sort / top-N --------------------------------------------------------------------------

SortOp::SortOp(std::vector<LogicalType> types, std::vector<SortKey> keys, int64_t limit)
    : PhysicalOperator(types), keys_(std::move(keys)), limit_(limit), data_(std::move(types)) {}

std::string SortOp::details() const {
  std::string s;
  for (size_t i = 0; i < keys_.size(); i++)
    s += (i ? ", " : "") + keys_[i].expr->to_string() + (keys_[i].spec.descending ? " DESC" : "");
  if (limit_ >= 0) s += " limit " + std::to_string(limit_);
  return s;
}

static bool row_less(const std::pair<std::string, ChunkCollection::RowRef>& a,
                     const std::pair<std::string, ChunkCollection::RowRef>& b) {
  int c = a.first.compare(b.first);
  if (c) return c < 0;
  return a.second.chunk != b.second.chunk ? a.second.chunk < b.second.chunk : a.second.row < b.second.row;
}

void SortOp::sink(DataChunk& in, ExecContext& ctx) {
  size_t n = in.size();
  if (limit_ == 0 || n == 0) return;
  std::vector<Vector> kv;
  std::vector<const Vector*> cols;
  std::vector<KeySpec> specs;
  kv.reserve(keys_.size());
  for (auto& k : keys_) {
    kv.emplace_back(k.expr->type(), cap_of(in));
    k.expr->eval(in, kv.back(), ctx);
    specs.push_back(k.spec);
  }
  for (auto& v : kv) cols.push_back(&v);
  if (limit_ > 0) {
    // Top-N: once limit_ rows are held, rows whose first key sorts after the worst held
    // row's are dropped before encoding their full keys.
    sel_.clear();
    size_t w = fixed_key_width(cols[0]->type());
    bool typed = false;
    if (rows_.size() == static_cast<size_t>(limit_) && w > 0 && rows_.front().first.size() >= w &&
        cols[0]->all_valid()) {
      // Integer first key without NULLs: compare the order-preserving unsigned value of
      // each row with the worst held row's (decoded from its normalized key).
      const unsigned char* thr = reinterpret_cast<const unsigned char*>(rows_.front().first.data());
      unsigned char inv = specs[0].descending ? 0xFF : 0;
      if ((thr[0] ^ inv) == 1) {
        dispatch_phys(cols[0]->type().id, [&](auto tag) {
          using T = decltype(tag);
          if constexpr (std::is_integral_v<T> && !std::is_same_v<T, uint8_t>) {
            using U = std::make_unsigned_t<T>;
            U ut = 0;
            for (size_t b = 0; b < sizeof(T); b++) ut = static_cast<U>((ut << 8) | (thr[1 + b] ^ inv));
            const T* d = cols[0]->data<T>();
            const U sign = U(1) << (sizeof(T) * 8 - 1);
            sel_.resize(n);
            size_t m = 0;
            if (specs[0].descending) {
              for (size_t i = 0; i < n; i++) { sel_[m] = static_cast<uint32_t>(i); m += static_cast<U>(static_cast<U>(d[i]) ^ sign) >= ut; }
            } else {
              for (size_t i = 0; i < n; i++) { sel_[m] = static_cast<uint32_t>(i); m += static_cast<U>(static_cast<U>(d[i]) ^ sign) <= ut; }
            }
            sel_.resize(m);
            typed = true;
          }
        });
      }
    }
    if (typed) {
      if (sel_.empty()) return;
    } else if (rows_.size() == static_cast<size_t>(limit_) && w > 0 && rows_.front().first.size() >= w) {
      prefix_.resize(n * w);
      encode_column_fixed(*cols[0], n, specs[0], prefix_.data());
      const unsigned char* thr = reinterpret_cast<const unsigned char*>(rows_.front().first.data());
      const unsigned char* p = reinterpret_cast<const unsigned char*>(prefix_.data());
      for (size_t i = 0; i < n; i++, p += w) {
        if (p[0] != thr[0]) { if (p[0] < thr[0]) sel_.push_back(static_cast<uint32_t>(i)); continue; }
        if (cols[0]->is_null(i) || std::memcmp(p, thr, w) <= 0) sel_.push_back(static_cast<uint32_t>(i));
      }
      if (sel_.empty()) return;
    } else {
      sel_.resize(n);
      std::iota(sel_.begin(), sel_.end(), 0);
    }
    if (sel_.size() == n) {
      encode_keys(cols, n, specs, enc_);
    } else {
      std::vector<Vector> sub;
      std::vector<const Vector*> subcols;
      sub.reserve(cols.size());
      for (auto* c : cols) {
        sub.emplace_back(c->type(), std::max<size_t>(sel_.size(), 1));
        sub.back().gather(*c, sel_.data(), sel_.size());
      }
      for (auto& v : sub) subcols.push_back(&v);
      encode_keys(subcols, sel_.size(), specs, enc_);
    }
    offer(in, sel_, enc_, ctx);
    return;
  }
  std::vector<std::string> enc;
  encode_keys(cols, n, specs, enc);
  uint32_t chunk = static_cast<uint32_t>(data_.chunks().size());
  size_t bytes = data_.append(in);
  for (size_t i = 0; i < n; i++) {
    bytes += enc[i].size() + 48;
    rows_.emplace_back(std::move(enc[i]), ChunkCollection::RowRef{chunk, static_cast<uint32_t>(i)});
  }
  ctx.memory.grow(static_cast<int64_t>(bytes));
  charged_ += static_cast<int64_t>(bytes);
}

void SortOp::offer(const DataChunk& in, const std::vector<uint32_t>& sel, std::vector<std::string>& enc,
                   ExecContext& ctx) {
  size_t limit = static_cast<size_t>(limit_);
  uint32_t chunk = static_cast<uint32_t>(data_.chunks().size());
  std::vector<uint32_t> take;  // rows of `in` copied into the new chunk
  for (size_t k = 0; k < sel.size(); k++) {
    ChunkCollection::RowRef ref{chunk, static_cast<uint32_t>(take.size())};
    if (rows_.size() < limit) {
      rows_.emplace_back(std::move(enc[k]), ref);
      std::push_heap(rows_.begin(), rows_.end(), row_less);
    } else {
      // New rows come after every held row, so they win only with a smaller key.
      if (enc[k].compare(rows_.front().first) >= 0) continue;
      std::pop_heap(rows_.begin(), rows_.end(), row_less);
      rows_.back() = Row(std::move(enc[k]), ref);
      std::push_heap(rows_.begin(), rows_.end(), row_less);
    }
    take.push_back(sel[k]);
  }
  if (take.empty()) return;
  DataChunk part = gather_chunk(in, take);
  if (in.has_signs())
    for (size_t k = 0; k < take.size(); k++) part.set_sign(k, in.sign(take[k]));
  size_t bytes = data_.append(part) + take.size() * 64;
  ctx.memory.grow(static_cast<int64_t>(bytes));
  charged_ += static_cast<int64_t>(bytes);
  if (data_.row_count() > 2 * limit + 4096) compact(ctx);
}

// Keeps only the held rows (top-N), copying them into a fresh collection.
void SortOp::compact(ExecContext& ctx) {
  std::sort(rows_.begin(), rows_.end(), row_less);
  ChunkCollection fresh(data_.types());
  std::vector<Row> nrows;
  size_t bytes = 0;
  for (size_t start = 0; start < rows_.size(); start += kVectorSize) {
    size_t n = std::min(kVectorSize, rows_.size() - start);
    std::vector<ChunkCollection::RowRef> refs;
    for (size_t k = 0; k < n; k++) refs.push_back(rows_[start + k].second);
    DataChunk c(data_.types());
    for (size_t col = 0; col < data_.types().size(); col++) data_.gather(col, refs.data(), n, c.column(col));
    c.set_size(n);
    if (!data_.chunks().empty() && data_.chunks()[0].has_signs())
      for (size_t k = 0; k < n; k++) c.set_sign(k, data_.chunks()[refs[k].chunk].sign(refs[k].row));
    uint32_t chunk = static_cast<uint32_t>(fresh.chunks().size());
    bytes += fresh.append(c) + n * 64;
    for (size_t k = 0; k < n; k++)
      nrows.emplace_back(std::move(rows_[start + k].first), ChunkCollection::RowRef{chunk, static_cast<uint32_t>(k)});
  }
  data_ = std::move(fresh);
  rows_ = std::move(nrows);
  std::make_heap(rows_.begin(), rows_.end(), row_less);
  ctx.memory.grow(static_cast<int64_t>(bytes));
  ctx.memory.shrink(charged_);
  charged_ = static_cast<int64_t>(bytes);
}

std::unique_ptr<PhysicalOperator> SortOp::make_local_sink() const {
  if (limit_ < 0) return nullptr;
  std::vector<SortKey> keys;
  for (auto& k : keys_) keys.push_back({k.expr->clone(), k.spec});
  return std::make_unique<SortOp>(types_, std::move(keys), limit_);
}

void SortOp::merge_local(PhysicalOperator& local_op, ExecContext& ctx) {
  auto& local = static_cast<SortOp&>(local_op);
  std::sort(local.rows_.begin(), local.rows_.end(), row_less);
  for (size_t start = 0; start < local.rows_.size(); start += kVectorSize) {
    size_t n = std::min(kVectorSize, local.rows_.size() - start);
    std::vector<ChunkCollection::RowRef> refs;
    std::vector<std::string> enc;
    for (size_t k = 0; k < n; k++) {
      refs.push_back(local.rows_[start + k].second);
      enc.push_back(std::move(local.rows_[start + k].first));
    }
    DataChunk c(local.data_.types());
    for (size_t col = 0; col < local.data_.types().size(); col++) local.data_.gather(col, refs.data(), n, c.column(col));
    c.set_size(n);
    std::vector<uint32_t> sel(n);
    std::iota(sel.begin(), sel.end(), 0);
    offer(c, sel, enc, ctx);
  }
  ctx.memory.shrink(local.charged_);
  local.charged_ = 0;
}

void SortOp::finalize(ExecContext&) {
  std::sort(rows_.begin(), rows_.end(), row_less);
}

bool SortOp::get_data(DataChunk& out, ExecContext&) {
  if (pos_ >= rows_.size()) return false;
  size_t n = std::min(out.capacity(), rows_.size() - pos_);
  std::vector<ChunkCollection::RowRef> refs;
  for (size_t k = 0; k < n; k++) refs.push_back(rows_[pos_ + k].second);
  for (size_t col = 0; col < types_.size(); col++) data_.gather(col, refs.data(), n, out.column(col));
  out.set_size(n);
  pos_ += n;
  return true;
}

// ---- Window --------------------------------------------------------------------------------

static std::vector<LogicalType> window_types(const std::vector<LogicalType>& in, const std::vector<WindowCall>& calls) {
  auto t = in;
  for (auto& c : calls) t.push_back(c.type);
  return t;
}

static std::vector<LogicalType> window_store_types(const std::vector<LogicalType>& in, const std::vector<WindowCall>& calls) {
  auto t = in;
  for (auto& c : calls) {
    for (auto& e : c.partition) t.push_back(e->type());
    for (auto& k : c.order) t.push_back(k.expr->type());
    for (auto& a : c.args) t.push_back(a->type());
  }
  return t;
}

WindowOp::WindowOp(std::vector<LogicalType> input_types, std::vector<WindowCall> calls)
    : PhysicalOperator(window_types(input_types, calls)), ninput_(input_types.size()), calls_(std::move(calls)),
      data_(window_store_types(input_types, calls_)) {
  size_t base = ninput_;
  for (auto& c : calls_) {
    arg_base_.push_back(base);
    base += c.partition.size() + c.order.size() + c.args.size();
  }
}

std::string WindowOp::details() const {
  std::string s;
  for (size_t i = 0; i < calls_.size(); i++) s += (i ? ", " : "") + calls_[i].display;
  return s;
}

void WindowOp::sink(DataChunk& in, ExecContext& ctx) {
  DataChunk st(data_.types(), cap_of(in));
  for (size_t c = 0; c < ninput_; c++) st.column(c).reference(in.column(c));
  size_t col = ninput_;
  for (auto& call : calls_) {
    for (auto& e : call.partition) e->eval(in, st.column(col++), ctx);
    for (auto& k : call.order) k.expr->eval(in, st.column(col++), ctx);
    for (auto& a : call.args) a->eval(in, st.column(col++), ctx);
  }
  st.set_size(in.size());
  ctx.memory.grow(static_cast<int64_t>(data_.append(st)));
}

void WindowOp::finalize(ExecContext& ctx) {
  const auto& chunks = data_.chunks();
  std::vector<ChunkCollection::RowRef> all;
  for (uint32_t c = 0; c < chunks.size(); c++)
    for (uint32_t r = 0; r < chunks[c].size(); r++) all.push_back({c, r});
  size_t total = all.size();
  ctx.memory.grow(static_cast<int64_t>(total * (calls_.size() * 24 + 16)));
  results_.resize(calls_.size());
  for (size_t ci = 0; ci < calls_.size(); ci++) {
    auto& call = calls_[ci];
    auto& res = results_[ci];
    for (auto& ch : chunks) res.emplace_back(call.type, std::max<size_t>(ch.size(), 1));
    size_t pbase = arg_base_[ci], obase = pbase + call.partition.size(), abase = obase + call.order.size();
    // keys per row
    std::vector<std::string> pk(total), ok(total);
    {
      std::vector<KeySpec> ospecs;
      for (auto& k : call.order) ospecs.push_back(k.spec);
      size_t idx = 0;
      for (auto& ch : chunks) {
        std::vector<const Vector*> pc, oc;
        for (size_t k = 0; k < call.partition.size(); k++) pc.push_back(&ch.column(pbase + k));
        for (size_t k = 0; k < call.order.size(); k++) oc.push_back(&ch.column(obase + k));
        std::vector<std::string> pe, oe;
        encode_keys(pc, ch.size(), {}, pe);
        encode_keys(oc, ch.size(), ospecs, oe);
        for (size_t r = 0; r < ch.size(); r++, idx++) { pk[idx] = std::move(pe[r]); ok[idx] = std::move(oe[r]); }
      }
    }
    std::vector<uint32_t> order(total);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      int c = pk[a].compare(pk[b]);
      if (c) return c < 0;
      return ok[a] < ok[b];
    });
    auto put = [&](uint32_t row, const Vector& src, size_t si) {
      auto ref = all[row];
      res[ref.chunk].share_heaps(src);
      res[ref.chunk].copy_value(src, si, ref.row);
    };
    std::unique_ptr<AggregateState> agg;
    if (call.kind == WindowKind::kAggregate) {
      agg = make_aggregate_state(call.agg, false, 0);
      agg->resize(1);
    }
    Vector one(call.type, 1);
    size_t i = 0;
    while (i < total) {
      size_t pend = i;
      while (pend < total && pk[order[pend]] == pk[order[i]]) pend++;
      // partition [i, pend)
      if (agg) agg->clear(0);
      int64_t rank = 0, dense = 0;
      size_t j = i;
      while (j < pend) {
        size_t peer_end = j;
        while (peer_end < pend && ok[order[peer_end]] == ok[order[j]]) peer_end++;
        dense++;
        rank = static_cast<int64_t>(j - i) + 1;
        if (call.kind == WindowKind::kAggregate) {
          size_t ub = call.whole_partition ? pend : peer_end;
          size_t from = call.whole_partition ? (j == i ? i : ub) : j;
          if (from < ub) {
            std::vector<ChunkCollection::RowRef> refs;
            for (size_t k = from; k < ub; k++) refs.push_back(all[order[k]]);
            std::vector<Vector> args;
            for (size_t a = 0; a < call.args.size(); a++) {
              args.emplace_back(call.args[a]->type(), refs.size());
              data_.gather(abase + a, refs.data(), refs.size(), args.back());
            }
            std::vector<uint32_t> g(refs.size(), 0);
            agg->update(args, g.data(), refs.size(), nullptr);
          }
          one.reset();
          agg->finalize(one, 0, 1);
        }
        for (size_t k = j; k < peer_end; k++) {
          uint32_t row = order[k];
          switch (call.kind) {
            case WindowKind::kRowNumber: one.reset(); one.data<int64_t>()[0] = static_cast<int64_t>(k - i) + 1; break;
            case WindowKind::kRank: one.reset(); one.data<int64_t>()[0] = rank; break;
            case WindowKind::kDenseRank: one.reset(); one.data<int64_t>()[0] = dense; break;
            case WindowKind::kLag: case WindowKind::kLead: case WindowKind::kFirstValue: case WindowKind::kLastValue: {
              int64_t off = 1;
              auto ref = all[row];
              if (call.args.size() > 1) {
                const Vector& ov = chunks[ref.chunk].column(abase + 1);
                if (ov.is_null(ref.row)) { one.reset(); one.set_null(0); break; }
                off = ov.data<int64_t>()[ref.row];
              }
              int64_t target;
              if (call.kind == WindowKind::kFirstValue) target = static_cast<int64_t>(i);
              else if (call.kind == WindowKind::kLastValue) target = static_cast<int64_t>(peer_end) - 1;
              else target = static_cast<int64_t>(k) + (call.kind == WindowKind::kLag ? -off : off);
              one.reset();
              if (target >= static_cast<int64_t>(i) && target < static_cast<int64_t>(pend)) {
                auto tr = all[order[target]];
                data_.gather(abase, &tr, 1, one);
              } else if (call.args.size() > 2) {
                data_.gather(abase + 2, &ref, 1, one);
              } else {
                one.set_null(0);
              }
              break;
            }
            case WindowKind::kAggregate: break;
          }
          put(row, one, 0);
        }
        j = peer_end;
      }
      i = pend;
    }
  }
}

bool WindowOp::get_data(DataChunk& out, ExecContext&) {
  const auto& chunks = data_.chunks();
  if (pos_ >= chunks.size()) return false;
  const DataChunk& c = chunks[pos_];
  for (size_t col = 0; col < ninput_; col++) out.column(col).reference(c.column(col));
  for (size_t k = 0; k < calls_.size(); k++) out.column(ninput_ + k).reference(results_[k][pos_]);
  out.set_size(c.size());
  pos_++;
  return true;
}

// ---- Union ---------------------------------------------------------------------------------

void UnionAllOp::sink(DataChunk& in, ExecContext& ctx) { ctx.memory.grow(static_cast<int64_t>(data_.append(in))); }

bool UnionAllOp::get_data(DataChunk& out, ExecContext&) {
  if (pos_ >= data_.chunks().size()) return false;
  const DataChunk& c = data_.chunks()[pos_++];
  for (size_t col = 0; col < types_.size(); col++) out.column(col).reference(c.column(col));
  out.set_size(c.size());
  if (c.has_signs()) for (size_t i = 0; i < c.size(); i++) out.set_sign(i, c.sign(i));
  return true;
}

// ---- Executor ------------------------------------------------------------------------------

struct Executor::Pipeline {
  PhysicalOperator* source = nullptr;
  std::vector<PhysicalOperator*> ops;  // in data-flow order
  PhysicalOperator* sink = nullptr;
  std::vector<DataChunk> bufs;
  DataChunk src_chunk;
  std::vector<size_t> more;
  bool source_done = false;
  size_t finish_idx = 0;
  bool ready = false;

  void prepare() {
    src_chunk = DataChunk(source->types());
    for (auto* op : ops) bufs.emplace_back(op->types());
    ready = true;
  }

  DataChunk* next(ExecContext& ctx) {
    if (!ready) prepare();
    while (true) {
      ctx.check_interrupt();
      size_t start;
      DataChunk* in;
      if (!more.empty()) {
        start = more.back();
        more.pop_back();
        in = start == 0 ? &src_chunk : &bufs[start - 1];
      } else if (!source_done) {
        src_chunk.reset();
        if (!source->get_data(src_chunk, ctx)) { source_done = true; continue; }
        if (src_chunk.size() == 0) continue;
        start = 0;
        in = &src_chunk;
      } else if (finish_idx < ops.size()) {
        DataChunk& out = bufs[finish_idx];
        out.reset();
        if (!ops[finish_idx]->finish(out, ctx)) { finish_idx++; continue; }
        if (out.size() == 0) continue;
        in = &out;
        start = finish_idx + 1;
      } else {
        return nullptr;
      }
      DataChunk* cur = in;
      bool produced = true;
      for (size_t i = start; i < ops.size(); i++) {
        DataChunk& out = bufs[i];
        out.reset();
        OpResult r = ops[i]->execute(*cur, out, ctx);
        if (r == OpResult::kHaveMoreOutput) more.push_back(i);
        if (r == OpResult::kFinished) {
          // Nothing upstream of i is needed any more.
          source_done = true;
          more.erase(std::remove_if(more.begin(), more.end(), [i](size_t m) { return m < i; }), more.end());
          finish_idx = std::max(finish_idx, i + 1);
        }
        if (out.size() == 0) { produced = false; break; }
        cur = &out;
      }
      if (produced && cur->size() > 0) return cur;
    }
  }
};

Executor::Executor(OpPtr root, ExecContext& ctx) : root_(std::move(root)), ctx_(ctx) {
  auto p = std::make_unique<Pipeline>();
  Pipeline* raw = p.get();
  build(root_.get(), raw);
  pipelines_.push_back(std::move(p));
  // A filter whose consumer (the next operator, or the sink) says which columns it reads
  // gathers only those.
  for (auto& pl : pipelines_) {
    for (size_t i = pl->ops.size(); i-- > 0;) {  // last first: chained filters narrow in turn
      auto* f = dynamic_cast<FilterOp*>(pl->ops[i]);
      auto* j = dynamic_cast<HashJoinOp*>(pl->ops[i]);
      if (!f && !j) continue;
      PhysicalOperator* consumer = i + 1 < pl->ops.size() ? pl->ops[i + 1] : pl->sink;
      if (!consumer) continue;
      size_t ncols = pl->ops[i]->types().size();
      std::vector<uint8_t> used(ncols, 0);
      if (!consumer->input_columns(&used) || used.size() != ncols) continue;
      if (f) f->set_needed_columns(std::move(used));
      else j->set_needed_columns(std::move(used));
    }
    // A scan feeding an operator that says what it reads references only that.
    if (auto* scan = dynamic_cast<ScanOp*>(pl->source)) {
      PhysicalOperator* consumer = !pl->ops.empty() ? pl->ops[0] : pl->sink;
      std::vector<uint8_t> used(scan->types().size(), 0);
      if (consumer && consumer->input_columns(&used) && used.size() == scan->types().size())
        scan->set_needed_columns(std::move(used));
    }
  }
}

Executor::~Executor() = default;

void Executor::build(PhysicalOperator* op, Pipeline* cur) {
  if (op->is_source()) {
    cur->source = op;
    return;
  }
  if (op->is_breaker()) {
    cur->source = op;
    for (auto& child : op->children) {
      auto p = std::make_unique<Pipeline>();
      p->sink = op;
      build(child.get(), p.get());
      pipelines_.push_back(std::move(p));
    }
    return;
  }
  cur->ops.insert(cur->ops.begin(), op);
  if (op->has_build_child()) {
    auto p = std::make_unique<Pipeline>();
    p->sink = op;
    build(op->children[1].get(), p.get());
    pipelines_.push_back(std::move(p));
  }
  build(op->children[0].get(), cur);
}

namespace {

// The source of one worker of a parallel scan pipeline: claims the scan's stored chunks
// (the morsels) one at a time from a cursor shared by the workers.
class MorselSource final : public PhysicalOperator {
 public:
  MorselSource(const ScanOp& scan, std::atomic<size_t>& cursor, const std::atomic<bool>& abort)
      : PhysicalOperator(scan.types()), scan_(scan), cursor_(cursor), abort_(abort) {}
  std::string name() const override { return "MORSEL_SCAN"; }
  bool is_source() const override { return true; }
  bool get_data(DataChunk& out, ExecContext&) override {
    while (!abort_.load(std::memory_order_relaxed)) {
      size_t i = cursor_.fetch_add(1, std::memory_order_relaxed);
      if (i >= scan_.chunk_count()) return false;
      scan_.read_chunk(i, out);
      if (out.size()) return true;
    }
    return false;
  }

 private:
  const ScanOp& scan_;
  std::atomic<size_t>& cursor_;
  const std::atomic<bool>& abort_;
};

}  // namespace

// Runs pipeline p (which has a sink) to completion: on ctx_.threads threads when its source
// is a table scan of at least kParallelMinRows rows, every operator of the chain can be
// cloned and the sink can be split into thread-local sinks; else on this thread.
void Executor::run_to_sink(Pipeline& p) {
  auto* scan = dynamic_cast<ScanOp*>(p.source);
  size_t nthreads = static_cast<size_t>(std::max(1, ctx_.threads));
  if (scan) nthreads = std::min(nthreads, scan->chunk_count());
  if (nthreads > 1 && scan && scan->row_count() >= kParallelMinRows) {
    std::vector<std::unique_ptr<Pipeline>> workers;
    std::vector<OpPtr> owned;  // clones, morsel sources and local sinks
    std::atomic<size_t> cursor{0};
    std::atomic<bool> abort{false};
    bool ok = true;
    for (size_t t = 0; t < nthreads && ok; t++) {
      auto w = std::make_unique<Pipeline>();
      owned.push_back(std::make_unique<MorselSource>(*scan, cursor, abort));
      w->source = owned.back().get();
      for (auto* op : p.ops) {
        if (t == 0) { w->ops.push_back(op); continue; }
        auto c = op->clone_for_thread();
        if (!c) { ok = false; break; }
        w->ops.push_back(c.get());
        owned.push_back(std::move(c));
      }
      if (t == 0) {
        w->sink = p.sink;
      } else if (ok) {
        auto local = p.sink->make_local_sink();
        if (!local) { ok = false; break; }
        w->sink = local.get();
        owned.push_back(std::move(local));
      }
      workers.push_back(std::move(w));
    }
    if (ok) {
      std::vector<std::exception_ptr> errors(nthreads);
      auto work = [&](size_t t) {
        try {
          Pipeline& w = *workers[t];
          while (DataChunk* c = w.next(ctx_)) w.sink->sink(*c, ctx_);
        } catch (...) {
          errors[t] = std::current_exception();
          abort.store(true, std::memory_order_relaxed);
        }
      };
      std::vector<std::thread> threads;
      for (size_t t = 1; t < nthreads; t++) threads.emplace_back(work, t);
      work(0);
      for (auto& th : threads) th.join();
      for (auto& e : errors)
        if (e) std::rethrow_exception(e);
      for (size_t t = 1; t < nthreads; t++) p.sink->merge_local(*workers[t]->sink, ctx_);
      p.source_done = true;
      return;
    }
  }
  while (DataChunk* c = p.next(ctx_)) p.sink->sink(*c, ctx_);
}

DataChunk* Executor::next() {
  if (!started_) {
    started_ = true;
    // Every pipeline but the last sinks into a breaker or a join build; they were pushed
    // in dependency order (children before the pipeline that reads their sink).
    for (size_t i = 0; i + 1 < pipelines_.size(); i++) {
      auto& p = *pipelines_[i];
      run_to_sink(p);
      // A sink fed by several pipelines (union) is finalized once, by the last of them.
      bool last_feeder = true;
      for (size_t j = i + 1; j + 1 < pipelines_.size(); j++) last_feeder = last_feeder && pipelines_[j]->sink != p.sink;
      if (last_feeder) p.sink->finalize(ctx_);
    }
  }
  return pipelines_.back()->next(ctx_);
}

void Executor::drain() {
  while (next()) {}
}

static void explain_rec(const PhysicalOperator& op, int depth, std::string& out) {
  out += std::string(depth * 2, ' ') + op.name();
  std::string d = op.details();
  if (!d.empty()) out += " (" + d + ")";
  out += "\n";
  for (auto& c : op.children) explain_rec(*c, depth + 1, out);
}

std::string explain_plan(const PhysicalOperator& root) {
  std::string s;
  explain_rec(root, 0, s);
  return s;
}

}  // namespace sl::exec
