// Materialized views: the view's SELECT is planned by sql/ into exec/ operators; the
// runtime pushes each batch of source rows through the streaming operators (filter,
// project, lookup joins) and replaces the plan's hash aggregate by IncrementalAggregate,
// which uses the same group expressions and aggregate states.
#include <algorithm>

#include "exec/value.h"
#include "sql/planner.h"
#include "stream/agg.h"
#include "util/error.h"

namespace sl::stream {

namespace {

bool contains_scan_of(const exec::PhysicalOperator& op, const std::string& rel) {
  if (op.name() == "SCAN" && op.details() == rel) return true;
  for (auto& c : op.children)
    if (c && contains_scan_of(*c, rel)) return true;
  return false;
}

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

View::View(std::string name, std::string select_sql, std::map<std::string, std::string> options)
    : name_(std::move(name)), sql_(std::move(select_sql)), options_(std::move(options)) {}

View::~View() = default;

void View::compile(catalog::Catalog& plan_catalog, const RewrittenQuery& q, const Source& src) {
  query_ = q;
  source_ = q.source;
  std::string rel = q.relation.empty() ? q.source : q.relation;
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
  sql::SessionOptions so;
  std::map<std::string, std::string> settings;
  sql::PlanEnv env;
  env.catalog = &plan_catalog;
  env.ctx = &ctx_;
  env.options = &so;
  env.settings = &settings;
  sql::StatementPlan sp;
  try {
    sp = sql::plan_statement(q.sql, env);
  } catch (const exec::SqlError& e) {
    // Positions refer to the rewritten text: drop them.
    throw exec::SqlError(e.sqlstate(), e.what(), -1, e.code());
  }
  if (sp.kind != sql::StatementKind::kSelect || !sp.root) throw UserError("a materialized view is defined by a SELECT");
  out_cols_.clear();
  for (auto& c : sp.columns) out_cols_.push_back({c.name, c.type});
  plan_ = std::move(sp.root);

  std::vector<exec::PhysicalOperator*> chain;  // top-down
  exec::PhysicalOperator* op = plan_.get();
  exec::HashAggregateOp* agg = nullptr;
  bool project_below_agg = false;
  bool top = true;
  while (true) {
    std::string nm = op->name();
    if (nm == "SCAN") {
      if (op->details() != rel)
        throw UserError("the view's query must read the stream table \"" + q.source + "\" in its main FROM clause");
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
      if (nm.find("RIGHT") != std::string::npos || nm.find("FULL") != std::string::npos)
        throw UserError("RIGHT and FULL joins with a stream are not supported in a materialized view");
      if (contains_scan_of(*op->children[1], rel) || !contains_scan_of(*op->children[0], rel))
        throw UserError("in a materialized view the stream table must come first in a join (lookup join: stream JOIN table)");
      // Lookup join: the regular table is the build side, loaded once when the view starts.
      exec::Executor ex(std::move(op->children[1]), ctx_);
      while (exec::DataChunk* c = ex.next()) op->sink(*c, ctx_);
      op->finalize(ctx_);
      chain.push_back(op);
      op = op->children[0].get();
    } else {
      throw UserError("operator " + nm + " is not supported in a materialized view yet");
    }
  }
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
    if (windowed && !project_below_agg) {
      size_t ns = src.columns().size();
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
        s.time_col = q.window.column_index;
        s.window_start_col = ns;
      }
    } else if (q.window.kind == WindowKind::kSession) {
      throw UserError("a session window view must GROUP BY window_start or window_end directly");
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
  compute_source_columns(src.columns().size(), windowed, q.window.column_index);
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

void View::on_input(const DataChunk& in) {
  if (in.size() == 0) return;
  rows_in_ += in.size();
  std::vector<DataChunk> chunks;
  if (query_.window.kind != WindowKind::kNone) {
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
  run_from(0, std::move(chunks));
}

void View::on_watermark(int64_t wm) {
  if (wm <= watermark_) return;
  watermark_ = wm;
  if (!agg_) return;
  std::vector<DataChunk> out;
  agg_->on_watermark(wm, ctx_, out);
  run_from(agg_stage_ + 1, std::move(out));
}

void View::run_from(size_t stage, std::vector<DataChunk> chunks) {
  for (size_t s = stage; s < stages_.size() && !chunks.empty(); s++) {
    std::vector<DataChunk> next;
    if (s == agg_stage_) {
      for (auto& c : chunks) agg_->consume(c, ctx_, next);
    } else {
      exec::PhysicalOperator* op = stages_[s];
      for (auto& in : chunks) {
        while (true) {
          DataChunk out(op->types());
          exec::OpResult r = op->execute(in, out, ctx_);
          if (out.size()) next.push_back(std::move(out));
          if (r != exec::OpResult::kHaveMoreOutput) break;
        }
      }
    }
    chunks = std::move(next);
  }
  for (auto& c : chunks) {
    rows_out_ += c.size();
    contents_->apply(c);
  }
}

void View::fill_status(ViewStatus& st) const {
  st.name = name_;
  st.source = source_;
  st.status = "running";
  st.emit = emit_final_ ? "final" : "changes";
  st.watermark_us = watermark_;
  st.rows_in = rows_in_;
  st.rows_out = rows_out_;
  st.rows = contents_->row_count();
  st.state_bytes = static_cast<int64_t>(contents_->memory_bytes() + (agg_ ? agg_->memory_bytes() : 0));
}

void View::save(Writer& w) const {
  w.i64(watermark_);
  w.u64(rows_in_);
  w.u64(rows_out_);
  contents_->save(w);
  w.u8(agg_ ? 1 : 0);
  if (agg_) agg_->save(w);
}

void View::load(Reader& r) {
  watermark_ = r.i64();
  rows_in_ = r.u64();
  rows_out_ = r.u64();
  contents_->load(r);
  bool has_agg = r.u8();
  if (has_agg != static_cast<bool>(agg_)) throw Error(Errc::kCorruption, "checkpoint: view \"" + name_ + "\" changed shape");
  if (agg_) agg_->load(r);
}

}  // namespace sl::stream
