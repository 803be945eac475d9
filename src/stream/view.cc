// Materialized views: the view's SELECT is planned by sql/ into exec/ operators; the
// runtime pushes each batch of source rows through the streaming operators (filter,
// project, lookup joins) and replaces the plan's hash aggregate by IncrementalAggregate,
// which uses the same group expressions and aggregate states. A join of two stream tables
// splits the plan into two branches (each fed by its table) joined by IntervalJoin.
#include <algorithm>

#include "exec/value.h"
#include "sql/planner.h"
#include "stream/agg.h"
#include "util/error.h"

namespace sl::stream {

namespace {

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

View::View(std::string name, std::string select_sql, std::map<std::string, std::string> options)
    : name_(std::move(name)), sql_(std::move(select_sql)), options_(std::move(options)) {}

View::~View() = default;

bool View::reads(const std::string& source) const {
  return std::find(sources_.begin(), sources_.end(), source) != sources_.end();
}

namespace {
bool find_path(exec::PhysicalOperator* at, const exec::PhysicalOperator* target, std::vector<size_t>& path) {
  if (at == target) return true;
  for (size_t i = 0; i < at->children.size(); i++) {
    if (!at->children[i]) continue;
    path.push_back(i);
    if (find_path(at->children[i].get(), target, path)) return true;
    path.pop_back();
  }
  return false;
}

void scanned_relations(const exec::PhysicalOperator& op, std::vector<std::string>& out) {
  if (op.name() == "SCAN") out.push_back(op.details());
  for (auto& c : op.children)
    if (c) scanned_relations(*c, out);
}
}  // namespace

// Lookup join: the regular table is the build side, loaded when the view starts and again
// whenever the table changes (refresh_lookups): each stream row joins the table's contents
// as of when the row is processed, as a processing-time lookup join does.
void View::lookup_join(exec::PhysicalOperator* op) {
  std::string nm = op->name();
  if (nm.find("RIGHT") != std::string::npos || nm.find("FULL") != std::string::npos)
    throw UserError("RIGHT and FULL joins with a stream are not supported in a materialized view");
  Lookup lk;
  lk.op = op;
  find_path(plan_.get(), op, lk.path);
  std::vector<std::string> rels;
  scanned_relations(*op->children[1], rels);
  for (auto& r : rels) {
    auto e = plan_catalog_ ? plan_catalog_->find(r) : nullptr;
    if (e && e->provider) lk.tables.emplace_back(e->provider, e->provider->version());
  }
  exec::Executor ex(std::move(op->children[1]), ctx_);
  while (exec::DataChunk* c = ex.next()) op->sink(*c, ctx_);
  op->finalize(ctx_);
  lookups_.push_back(std::move(lk));
}

// Plans the view's (rewritten) SELECT against the planning catalog, with default settings.
sql::StatementPlan View::plan(const std::string& select_sql) {
  sql::SessionOptions so;
  std::map<std::string, std::string> settings;
  sql::PlanEnv env;
  env.catalog = plan_catalog_;
  env.ctx = &ctx_;
  env.options = &so;
  env.settings = &settings;
  return sql::plan_statement(select_sql, env);
}

void View::refresh_lookups() {
  bool changed = false;
  for (auto& lk : lookups_)
    for (auto& [t, v] : lk.tables) changed = changed || t->version() != v;
  if (!changed) return;
  sql::StatementPlan sp;
  try {
    sp = plan(query_.sql);
  } catch (const std::exception&) {
    // A table gone or changed shape: keep joining with the copy already built.
    for (auto& lk : lookups_)
      for (auto& [t, v] : lk.tables) v = t->version();
    return;
  }
  for (auto& lk : lookups_) {
    bool moved = false;
    for (auto& [t, v] : lk.tables) moved = moved || t->version() != v;
    if (!moved) continue;
    exec::PhysicalOperator* fresh = sp.root.get();
    for (size_t i : lk.path) fresh = fresh && i < fresh->children.size() ? fresh->children[i].get() : nullptr;
    if (!fresh || fresh->name() != lk.op->name() || fresh->children.size() < 2 || !fresh->children[1]) continue;
    for (auto& [t, v] : lk.tables) v = t->version();  // before reading: a change meanwhile shows next time
    auto* hj = static_cast<exec::HashJoinOp*>(lk.op);
    hj->reset_build();
    exec::Executor ex(std::move(fresh->children[1]), ctx_);
    while (exec::DataChunk* c = ex.next()) hj->sink(*c, ctx_);
    hj->finalize(ctx_);
  }
}

View::Branch View::walk_branch(exec::PhysicalOperator* op,
                               const std::function<bool(const exec::PhysicalOperator&)>& reads_stream,
                               const std::function<bool(const std::string&)>& is_stream_rel) {
  Branch b;
  std::vector<exec::PhysicalOperator*> chain;  // top-down
  while (true) {
    std::string nm = op->name();
    if (nm == "SCAN") {
      if (!is_stream_rel(op->details()))
        throw UserError("a stream-stream join in a materialized view joins two stream tables");
      b.windowed = op->details() == query_.relation;
      b.source = b.windowed ? query_.window.table : op->details();
      break;
    }
    if (nm == "FILTER" || nm == "PROJECT") {
      if (nm == "PROJECT") b.keeps_columns = false;
      chain.push_back(op);
      op = op->children[0].get();
    } else if (starts_with(nm, "HASH_JOIN") || starts_with(nm, "NESTED_LOOP_JOIN")) {
      if (reads_stream(*op->children[1]))
        throw exec::SqlError(exec::sqlstate::kFeatureNotSupported, "a materialized view joins at most two stream tables");
      lookup_join(op);
      chain.push_back(op);
      op = op->children[0].get();
    } else {
      throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                           "operator " + nm + " below a stream-stream join is not supported in a materialized view");
    }
  }
  b.stages.assign(chain.rbegin(), chain.rend());
  // Which scan column each output column carries (through filters, the probe side of
  // lookup joins and plain column references of projections).
  for (size_t i = 0; i < op->types().size(); i++) b.col_map.push_back(static_cast<int>(i));
  for (auto* st : b.stages) {
    std::vector<int> next(st->types().size(), -1);
    if (st->name() == "FILTER") {
      next = b.col_map;
    } else if (st->name() == "PROJECT") {
      const auto& ex = static_cast<exec::ProjectOp*>(st)->exprs();
      for (size_t j = 0; j < ex.size() && j < next.size(); j++)
        if (ex[j]->kind() == exec::ExprKind::kColumn) {
          size_t idx = static_cast<exec::ColumnExpr&>(*ex[j]).index;
          if (idx < b.col_map.size()) next[j] = b.col_map[idx];
        }
    } else {  // lookup join: the probe side's columns come first
      for (size_t j = 0; j < b.col_map.size() && j < next.size(); j++) next[j] = b.col_map[j];
    }
    b.col_map = std::move(next);
  }
  return b;
}

void View::compile(catalog::Catalog& plan_catalog, const RewrittenQuery& q,
                   const std::map<std::string, std::unique_ptr<Source>>& sources) {
  query_ = q;
  sources_ = q.sources;
  plan_catalog_ = &plan_catalog;
  std::string emit;
  for (auto& [k, v] : options_) {
    if (k == "emit") {
      emit = v;
      for (auto& ch : emit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (emit != "final" && emit != "changes") throw UserError("emit must be 'final' or 'changes'");
    } else {
      throw UserError("option \"" + k + "\" is not recognized for materialized views (emit)");
    }
  }
  sql::StatementPlan sp;
  try {
    sp = plan(q.sql);
  } catch (const exec::SqlError& e) {
    // Positions refer to the rewritten text: drop them.
    throw exec::SqlError(e.sqlstate(), e.what(), -1, e.code());
  }
  if (sp.kind != sql::StatementKind::kSelect || !sp.root) throw UserError("a materialized view is defined by a SELECT");
  out_cols_.clear();
  for (auto& c : sp.columns) out_cols_.push_back({c.name, c.type});
  plan_ = std::move(sp.root);

  auto is_stream_rel = [&](const std::string& rel) {
    return sources.count(rel) > 0 || (!q.relation.empty() && rel == q.relation);
  };
  std::function<bool(const exec::PhysicalOperator&)> reads_stream = [&](const exec::PhysicalOperator& o) {
    if (o.name() == "SCAN" && is_stream_rel(o.details())) return true;
    for (auto& c : o.children)
      if (c && reads_stream(*c)) return true;
    return false;
  };

  std::vector<exec::PhysicalOperator*> chain;  // top-down
  exec::PhysicalOperator* op = plan_.get();
  size_t join_left_width = 0;
  exec::HashAggregateOp* agg = nullptr;
  bool project_below_agg = false;
  bool top = true;
  branches_.clear();
  while (true) {
    std::string nm = op->name();
    if (nm == "SCAN") {
      if (!is_stream_rel(op->details()))
        throw UserError("the view's query must read the stream table \"" + q.source + "\" in its main FROM clause");
      Branch b;
      b.windowed = op->details() == q.relation && !q.relation.empty();
      b.source = b.windowed ? q.window.table : op->details();
      branches_.push_back(std::move(b));
      break;
    }
    if (nm == "SORT" && top) {
      // ORDER BY of a view does not order its contents (a view is a set): ignore it.
      op = op->children[0].get();
      continue;
    }
    top = false;
    if (nm == "FILTER" || nm == "PROJECT") {
      if (nm == "PROJECT" && agg) project_below_agg = true;
      chain.push_back(op);
      op = op->children[0].get();
    } else if (nm == "HASH_AGGREGATE" || nm == "AGGREGATE") {
      if (agg) throw UserError("aggregates of aggregates are not supported in a materialized view yet");
      agg = static_cast<exec::HashAggregateOp*>(op);
      chain.push_back(op);
      op = op->children[0].get();
    } else if (starts_with(nm, "HASH_JOIN") || starts_with(nm, "NESTED_LOOP_JOIN")) {
      bool left_stream = reads_stream(*op->children[0]), right_stream = reads_stream(*op->children[1]);
      if (left_stream && right_stream) {
        // Stream-stream join: each input is a branch fed by its stream table.
        auto* hj = static_cast<exec::HashJoinOp*>(op);
        branches_.push_back(walk_branch(op->children[0].get(), reads_stream, is_stream_rel));
        branches_.push_back(walk_branch(op->children[1].get(), reads_stream, is_stream_rel));
        join_ = std::make_unique<IntervalJoin>(*hj, ctx_);
        join_left_width = hj->left_width();
        // Eviction needs the other side's bound column to be its stream's event time
        // (that side's watermark then bounds its future rows).
        auto event_col = [&](const Branch& b, int col) {
          if (col < 0 || static_cast<size_t>(col) >= b.col_map.size()) return false;
          int sc = b.col_map[static_cast<size_t>(col)];
          const Source& src = *sources.at(b.source);
          const auto& cols = src.columns();
          if (src.options().event_time.empty() || sc < 0 || static_cast<size_t>(sc) >= cols.size()) return false;
          return cols[static_cast<size_t>(sc)].name == src.options().event_time;
        };
        const IntervalBounds& bd = join_->bounds();
        join_->set_eviction(event_col(branches_[1], bd.right_col), event_col(branches_[0], bd.left_col));
        // An outer side's unmatched row is emitted when it is evicted: it must be.
        for (int side = 0; side < 2; side++)
          if (join_->outer(side) && !join_->evicts(side))
            throw exec::SqlError(
                exec::sqlstate::kFeatureNotSupported,
                std::string("an outer join of two stream tables needs the ") + (side == 0 ? "right" : "left") +
                    " table's event time bounded relative to the " + (side == 0 ? "left" : "right") +
                    " table's time (e.g. b.ts BETWEEN a.ts AND a.ts + INTERVAL '10 seconds'), so that unmatched "
                    "rows can be emitted when the watermark passes the bound");
        chain.push_back(op);
        break;
      }
      if (right_stream || !left_stream)
        throw UserError("in a materialized view the stream table must come first in a join (lookup join: stream JOIN table)");
      lookup_join(op);
      chain.push_back(op);
      op = op->children[0].get();
    } else {
      throw UserError("operator " + nm + " is not supported in a materialized view yet");
    }
  }
  if (join_) chain.pop_back();  // the join itself is not a stage
  sources_.clear();  // in the order of the FROM clause
  for (auto& b : branches_)
    if (!reads(b.source)) sources_.push_back(b.source);
  // A stream table read elsewhere (a subquery, IN (SELECT ...)) would be planned as a
  // constant read once: refuse it.
  if (branches_.size() != q.stream_reads)
    throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                         "in a materialized view a stream table can only be read in the main FROM clause (directly or "
                         "joined), not in a subquery");
  stages_.assign(chain.rbegin(), chain.rend());
  bool windowed = q.window.kind != WindowKind::kNone;
  bool final_default = false;
  if (agg) {
    for (size_t i = 0; i < stages_.size(); i++)
      if (stages_[i] == agg) agg_stage_ = i;
    AggSetup s;
    for (auto& g : agg->groups()) s.groups.push_back(g->clone());
    for (auto& a : agg->aggregates()) {
      exec::AggregateCall c;
      c.sig = a.sig;
      for (auto& e : a.args) c.args.push_back(e->clone());
      c.distinct = a.distinct;
      c.fraction = a.fraction;
      c.display = a.display;
      s.aggs.push_back(std::move(c));
    }
    // Where the windowed scan's columns start in the aggregate's input (a join puts the
    // right input's columns after the left's); unknown below a projection.
    bool window_cols_known = !project_below_agg;
    size_t base = 0;
    if (join_) {
      for (size_t i = 0; i < branches_.size(); i++)
        if (branches_[i].windowed) window_side_ = static_cast<int>(i);
      if (window_side_ < 0 || !branches_[static_cast<size_t>(window_side_)].keeps_columns) window_cols_known = false;
      if (window_side_ == 1) base = join_left_width;
    }
    if (windowed && window_cols_known) {
      size_t ns = base + sources.at(q.window.table)->columns().size();
      for (size_t g = 0; g < s.groups.size(); g++) {
        if (s.groups[g]->kind() != exec::ExprKind::kColumn) continue;
        size_t idx = static_cast<exec::ColumnExpr&>(*s.groups[g]).index;
        if (idx == ns + 1 || (idx == ns && s.window_group < 0)) {
          s.window_group = static_cast<int>(g);
          s.window_group_is_start = idx == ns;
        }
      }
      s.window_size_us = q.window.size_us;
      if (q.window.kind == WindowKind::kSession) {
        if (s.window_group < 0) throw UserError("a session window view must GROUP BY window_start or window_end");
        s.session = true;
        for (auto& g : s.groups) {
          if (g->kind() == exec::ExprKind::kColumn) {
            size_t idx = static_cast<exec::ColumnExpr&>(*g).index;
            if (idx == ns || idx == ns + 1) continue;
          }
          s.session_keys.push_back(g->clone());
        }
        s.time_col = base + q.window.column_index;
        s.window_start_col = ns;
      }
    } else if (q.window.kind == WindowKind::kSession) {
      throw UserError("a session window view must GROUP BY window_start or window_end directly");
    }
    if (join_ && s.window_group >= 0) {
      // Windows close on the join's output watermark for the windowed side's time: it
      // exists when the join bounds that time against the other stream's event time.
      const IntervalBounds& bd = join_->bounds();
      int bound_col = window_side_ == 0 ? bd.left_col : bd.right_col;
      if (join_->outer(1 - window_side_))
        throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                             "a window over an outer join of two stream tables must be on the outer (preserved) side");
      if (!join_->evicts(window_side_) || bound_col != static_cast<int>(q.window.column_index))
        throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                             "a window over a stream-stream join needs the window's time column bounded by the other "
                             "stream's event time (e.g. b.ts BETWEEN a.ts - INTERVAL '5 seconds' AND a.ts + INTERVAL "
                             "'5 seconds'), so that windows can close");
    }
    final_default = s.window_group >= 0;
    if (emit.empty()) emit = final_default ? "final" : "changes";
    if (emit == "final" && !final_default)
      throw UserError("emit = 'final' needs an aggregate grouped by a window (window_start or window_end)");
    if (emit == "changes" && s.session) throw UserError("session windows emit final rows only (emit = 'final')");
    s.emit_final = emit == "final";
    agg_ = std::make_unique<IncrementalAggregate>(std::move(s));
  } else {
    if (q.window.kind == WindowKind::kSession) throw UserError("session windows need a GROUP BY (sessions are per group)");
    if (emit == "final") throw UserError("emit = 'final' needs an aggregate grouped by a window");
    emit = "changes";
  }
  emit_final_ = emit == "final";
  // Projection pushdown for one-table views; a stream-stream join reads whole rows (its
  // sides keep them), signalled by an empty list.
  read_cols_.clear();
  if (!join_ && branches_.size() == 1)
    compute_source_columns(sources.at(branches_[0].source)->columns().size(), branches_[0].windowed,
                           q.window.column_index);
  std::vector<LogicalType> types;
  for (auto& c : out_cols_) types.push_back(c.type);
  contents_ = std::make_shared<RowStore>(types);
}

// Which source columns the stages read, from the top (everything the view stores) down:
// a filter reads what passes it plus its predicate's columns, a join the columns it passes
// plus its keys and residual, a project or the aggregate only their expressions' columns.
void View::compute_source_columns(size_t ns, bool windowed, size_t window_col) {
  size_t in0 = ns + (windowed ? 2 : 0);  // assign_windows appends window_start, window_end
  std::vector<uint8_t> need(stages_.empty() ? in0 : stages_.back()->types().size(), 1);
  for (size_t s = stages_.size(); s-- > 0;) {
    exec::PhysicalOperator* op = stages_[s];
    size_t w = s > 0 ? stages_[s - 1]->types().size() : in0;
    std::vector<uint8_t> in(w, 0);
    std::string nm = op->name();
    bool known = false;
    if (s == agg_stage_) {
      // Sessions keep whole input rows until their session closes: everything is read.
      known = query_.window.kind != WindowKind::kSession && op->input_columns(&in);
    } else if (nm == "FILTER") {
      // As the batch executor does: the filter gathers only what the stages above read
      // (the others are left empty), and so does a join.
      auto* f = static_cast<exec::FilterOp*>(op);
      f->set_needed_columns(need);
      known = f->input_columns(&in);
    } else if (nm == "PROJECT") {
      known = op->input_columns(&in);
    } else if (auto* j = dynamic_cast<exec::HashJoinOp*>(op)) {
      j->probe_columns(need, &in);
      if (need.size() == j->types().size()) j->set_needed_columns(need);
      known = true;
    }
    if (!known || in.size() != w) in.assign(w, 1);
    need = std::move(in);
  }
  read_cols_.assign(need.begin(), need.begin() + static_cast<std::ptrdiff_t>(std::min(ns, need.size())));
  read_cols_.resize(ns, 1);
  if (windowed && window_col < ns) read_cols_[window_col] = 1;
}

void View::start_fresh() {
  if (!agg_) return;
  std::vector<DataChunk> out;
  agg_->initial(out);
  run_from(agg_stage_ + 1, std::move(out));
}

void View::on_input(const std::string& source, const DataChunk& in) {
  if (in.size() == 0) return;
  if (!lookups_.empty()) refresh_lookups();
  rows_in_ += in.size();
  // A self-join feeds the same rows to both branches, the left first: a pair of rows is
  // joined once, when its later row is consumed.
  for (size_t bi = 0; bi < branches_.size(); bi++) {
    const Branch& b = branches_[bi];
    if (b.source != source) continue;
    std::vector<DataChunk> chunks;
    if (b.windowed) {
      chunks = assign_windows(query_.window, in);
    } else {
      DataChunk c;
      for (size_t k = 0; k < in.column_count(); k++) {
        exec::Vector v(in.column(k).type(), in.capacity());
        v.reference(in.column(k));
        c.add_column(std::move(v));
      }
      c.set_size(in.size());
      chunks.push_back(std::move(c));
    }
    chunks = run_stages(b.stages, std::move(chunks));
    if (join_) {
      std::vector<DataChunk> joined;
      for (auto& c : chunks) join_->consume(static_cast<int>(bi), c, ctx_, joined);
      chunks = std::move(joined);
    }
    run_from(0, std::move(chunks));
  }
}

void View::on_watermarks(const std::map<std::string, int64_t>& wms) {
  int64_t wm = INT64_MAX;
  for (auto& s : sources_) wm = std::min(wm, wms.at(s));
  int64_t agg_wm = wm;
  if (join_) {
    // Unmatched rows of an outer join, emitted as they are evicted (before windows close:
    // their times are never behind the output watermark the windows close on).
    std::vector<DataChunk> unmatched;
    join_->on_watermarks(wms.at(branches_[0].source), wms.at(branches_[1].source), unmatched);
    run_from(0, std::move(unmatched));
    // Windows close on the windowed side's time in the join's output.
    if (window_side_ >= 0) agg_wm = join_->output_watermark(window_side_);
  }
  if (wm <= watermark_ && !join_) return;
  watermark_ = std::max(watermark_, wm);
  if (!agg_ || agg_wm == INT64_MIN) return;
  std::vector<DataChunk> out;
  agg_->on_watermark(agg_wm, ctx_, out);
  run_from(agg_stage_ + 1, std::move(out));
}

// Pushes chunks through one streaming operator (filter, projection, lookup join).
std::vector<DataChunk> View::run_op(exec::PhysicalOperator* op, std::vector<DataChunk> chunks) {
  std::vector<DataChunk> next;
  for (auto& in : chunks) {
    while (true) {
      DataChunk out(op->types());
      exec::OpResult r = op->execute(in, out, ctx_);
      if (out.size()) next.push_back(std::move(out));
      if (r != exec::OpResult::kHaveMoreOutput) break;
    }
  }
  return next;
}

std::vector<DataChunk> View::run_stages(const std::vector<exec::PhysicalOperator*>& stages, std::vector<DataChunk> chunks) {
  for (size_t s = 0; s < stages.size() && !chunks.empty(); s++) chunks = run_op(stages[s], std::move(chunks));
  return chunks;
}

void View::run_from(size_t stage, std::vector<DataChunk> chunks) {
  for (size_t s = stage; s < stages_.size() && !chunks.empty(); s++) {
    if (s == agg_stage_) {
      std::vector<DataChunk> next;
      for (auto& c : chunks) agg_->consume(c, ctx_, next);
      chunks = std::move(next);
    } else {
      chunks = run_op(stages_[s], std::move(chunks));
    }
  }
  for (auto& c : chunks) {
    rows_out_ += c.size();
    contents_->apply(c);
    if (on_output) on_output(c);
  }
}

void View::fill_status(ViewStatus& st) const {
  st.name = name_;
  for (auto& src : sources_) st.source += (st.source.empty() ? "" : ", ") + src;
  st.status = "running";
  st.emit = emit_final_ ? "final" : "changes";
  st.watermark_us = watermark_;
  st.rows_in = rows_in_;
  st.rows_out = rows_out_;
  st.rows = contents_->row_count();
  st.state_bytes = static_cast<int64_t>(contents_->memory_bytes() + (agg_ ? agg_->memory_bytes() : 0) +
                                        (join_ ? join_->memory_bytes() : 0));
}

void View::save(Writer& w) const {
  w.i64(watermark_);
  w.u64(rows_in_);
  w.u64(rows_out_);
  contents_->save(w);
  w.u8(agg_ ? 1 : 0);
  if (agg_) agg_->save(w);
  if (join_) join_->save(w);  // views without a join keep the earlier layout
}

void View::load(Reader& r) {
  watermark_ = r.i64();
  rows_in_ = r.u64();
  rows_out_ = r.u64();
  contents_->load(r);
  bool has_agg = r.u8();
  if (has_agg != static_cast<bool>(agg_)) throw Error(Errc::kCorruption, "checkpoint: view \"" + name_ + "\" changed shape");
  if (agg_) agg_->load(r);
  if (join_) {
    if (r.done()) throw Error(Errc::kCorruption, "checkpoint: view \"" + name_ + "\" changed shape");
    join_->load(r);
  }
}

}  // namespace sl::stream
