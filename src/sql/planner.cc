// Binder and planner: libpg_query's JSON parse tree -> exec/ operators.
#include "sql/planner.h"

#include <pg_query.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "exec/error.h"
#include "sql/copy.h"
#include "sql/sink_sql.h"

namespace sl::sql {

using json = nlohmann::json;
using exec::ExprPtr;
using exec::OpPtr;
using exec::Value;
using exec::Expr;
namespace ss = exec::sqlstate;

namespace {
// Binding recurses once per nesting level of an expression; a statement nested deeply
// enough (`SELECT ++++…+1`, 100,000 levels) would overflow the thread's stack. As
// PostgreSQL's max_stack_depth does, planning stops with 54001 once it has used this much
// stack below plan_statement().
constexpr uintptr_t kMaxPlanStack = 2u << 20;
thread_local uintptr_t t_plan_stack_top = 0;

// Nesting depth of a JSON text (objects and arrays), without recursion.
size_t json_text_depth(const char* p) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (; *p; p++) {
    char c = *p;
    if (in_string) {
      if (c == '\\' && p[1]) p++;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return max_depth;
}

// The parse tree as JSON. Every pass over it recurses per level: a statement nested deeper
// than this is refused (54001) before any of them runs.
constexpr size_t kMaxParseTreeDepth = 4000;
// Takes the parse tree out of `r` (freed in every case).
json take_parse_tree(PgQueryParseResult& r) {
  if (json_text_depth(r.parse_tree) > kMaxParseTreeDepth) {
    pg_query_free_parse_result(r);
    throw exec::SqlError(exec::sqlstate::kStatementTooComplex, "stack depth limit exceeded: the statement is nested too deeply");
  }
  json j;
  try {
    j = json::parse(r.parse_tree);
  } catch (...) {
    pg_query_free_parse_result(r);
    throw;
  }
  pg_query_free_parse_result(r);
  return j;
}

struct PlanStackTop {
  bool outer = false;
  PlanStackTop() {
    if (t_plan_stack_top == 0) {
      t_plan_stack_top = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
      outer = true;
    }
  }
  ~PlanStackTop() {
    if (outer) t_plan_stack_top = 0;
  }
};
}  // namespace

namespace {

// pg_query returns the parse tree as JSON, which nlohmann::json only accepts as valid UTF-8,
// and pg_query reads a C string, which a NUL would cut short. So the text is checked first
// and bad bytes are the user's error, as in PostgreSQL (22021), not an internal one.
void check_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = at(0);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && c != 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; k++) ok = (at(k) & 0xC0) == 0x80;
    if (ok && n == 2) ok = c >= 0xC2;                                        // overlong
    if (ok && n == 3) ok = !(c == 0xE0 && at(1) < 0xA0) && !(c == 0xED && at(1) >= 0xA0);  // overlong, surrogate
    if (ok && n == 4) ok = c <= 0xF4 && !(c == 0xF0 && at(1) < 0x90) && !(c == 0xF4 && at(1) >= 0x90);
    if (!ok) {
      char msg[64];
      snprintf(msg, sizeof msg, "invalid byte sequence for encoding \"UTF8\": 0x%02x", c);
      throw exec::SqlError("22021", msg, static_cast<int>(i));
    }
    i += n;
  }
}

// ---- JSON helpers ------------------------------------------------------------------------

const std::string& node_type(const json& n) { return n.begin().key(); }
const json& body(const json& n) { return n.begin().value(); }
bool is(const json& n, const char* t) { return n.is_object() && !n.empty() && n.begin().key() == t; }

int location_of(const json& n) {
  if (!n.is_object()) return -1;
  if (n.contains("location") && n["location"].is_number()) return n["location"].get<int>();
  for (auto& [k, v] : n.items()) {
    if (v.is_object()) {
      int l = location_of(v);
      if (l >= 0) return l;
    }
  }
  return -1;
}

[[noreturn]] void fail(const char* state, const std::string& msg, int pos = -1) {
  throw exec::SqlError(state, msg, pos);
}
[[noreturn]] void fail_at(const char* state, const std::string& msg, const json& n) {
  throw exec::SqlError(state, msg, location_of(n));
}
[[noreturn]] void unsupported(const std::string& what, const json& n) {
  fail_at(ss::kFeatureNotSupported, what + " is not supported", n);
}

std::string str_of(const json& n) {  // {"String":{"sval":..}}
  if (is(n, "String")) return body(n).value("sval", "");
  return "";
}

std::vector<std::string> names_of(const json& list) {
  std::vector<std::string> r;
  for (auto& x : list) r.push_back(str_of(x));
  return r;
}

// JSON without locations, to compare expressions structurally.
json strip_locations(const json& n) {
  if (n.is_object()) {
    json r = json::object();
    for (auto& [k, v] : n.items())
      if (k != "location") r[k] = strip_locations(v);
    return r;
  }
  if (n.is_array()) {
    json r = json::array();
    for (auto& x : n) r.push_back(strip_locations(x));
    return r;
  }
  return n;
}
std::string norm(const json& n) { return strip_locations(n).dump(); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

LogicalType type_from_name(const json& type_name) {
  const json& tn = type_name;
  auto names = names_of(tn.at("names"));
  std::string n = names.back();
  std::vector<int64_t> mods;
  if (tn.contains("typmods"))
    for (auto& m : tn["typmods"])
      if (is(m, "A_Const") && body(m).contains("ival")) mods.push_back(body(m)["ival"].value("ival", 0));
  if (tn.contains("arrayBounds")) unsupported("array types", type_name);
  using T = exec::TypeId;
  if (n == "bool" || n == "boolean") return T::kBoolean;
  if (n == "int2" || n == "smallint") return T::kSmallInt;
  if (n == "int4" || n == "int" || n == "integer" || n == "serial") return T::kInteger;
  if (n == "int8" || n == "bigint" || n == "bigserial") return T::kBigInt;
  if (n == "float4" || n == "real") return T::kReal;
  if (n == "float8" || n == "double" || n == "float") return T::kDouble;
  if (n == "numeric" || n == "decimal") {
    int p = mods.empty() ? 18 : static_cast<int>(mods[0]);
    int s = mods.size() > 1 ? static_cast<int>(mods[1]) : (mods.empty() ? 6 : 0);
    if (p < 1 || p > 18)
      fail_at(ss::kFeatureNotSupported, "numeric precision " + std::to_string(p) + " must be between 1 and 18", type_name);
    if (s < 0 || s > p) fail_at(ss::kInvalidParameter, "numeric scale " + std::to_string(s) + " must be between 0 and precision " + std::to_string(p), type_name);
    return exec::LogicalType::numeric(p, s);
  }
  if (n == "text" || n == "varchar" || n == "bpchar" || n == "char" || n == "string" || n == "name") return T::kVarchar;
  if (n == "bytea") return T::kBytea;
  if (n == "date") return T::kDate;
  if (n == "timestamp") return T::kTimestamp;
  if (n == "timestamptz") return T::kTimestampTz;
  if (n == "interval") return T::kInterval;
  fail_at(ss::kUndefinedFunction == nullptr ? "" : "42704", "type \"" + n + "\" does not exist", type_name);
}

// ---- scopes --------------------------------------------------------------------------------

struct Col {
  std::string table;
  std::string name;
  LogicalType type;
  bool hidden = false;  // not expanded by * and not found unqualified (USING duplicates)
};

struct Plan {
  OpPtr op;
  std::vector<Col> cols;
  std::vector<LogicalType> types() const {
    std::vector<LogicalType> t;
    for (auto& c : cols) t.push_back(c.type);
    return t;
  }
};

struct Scope {
  std::vector<Col> cols;
  const Scope* outer = nullptr;
  // After GROUP BY: expressions that are columns of the aggregate output.
  bool agg_mode = false;
  std::map<std::string, size_t> expr_map;  // normalized JSON -> column
  const std::vector<Col>* pre_agg = nullptr;
  std::map<size_t, size_t> group_col;      // pre-agg column index -> group output column
  size_t range_lo = 0, range_hi = SIZE_MAX;  // visible columns (ON clauses)
  size_t base = 0;            // added to the index of columns found here
  bool correlatable = false;  // inner queries may reference these columns (decorrelation)
};

class Binder;

// A FROM item before it becomes operators (so WHERE can be pushed into it).
struct Rel {
  bool leaf = true;
  Plan plan;  // leaf
  exec::JoinType type = exec::JoinType::kInner;
  std::vector<ExprPtr> on;  // bound ON conjuncts (global indices)
  std::unique_ptr<Rel> left, right;
  size_t lo = 0, hi = 0;
};

// generate_series(start, stop[, step]) as a source.
class SeriesOp final : public exec::PhysicalOperator {
 public:
  SeriesOp(int64_t a, int64_t b, int64_t step) : PhysicalOperator({exec::TypeId::kBigInt}), cur_(a), stop_(b), step_(step) {}
  std::string name() const override { return "GENERATE_SERIES"; }
  bool is_source() const override { return true; }
  bool get_data(exec::DataChunk& out, exec::ExecContext&) override {
    size_t n = 0;
    int64_t* d = out.column(0).data<int64_t>();
    while (!done_ && n < out.capacity() && (step_ > 0 ? cur_ <= stop_ : cur_ >= stop_)) {
      d[n++] = cur_;
      if (__builtin_add_overflow(cur_, step_, &cur_)) done_ = true;  // the next value does not exist
    }
    out.set_size(n);
    return n > 0;
  }

 private:
  int64_t cur_, stop_, step_;
  bool done_ = false;
};

bool is_agg_name(const std::string& n) { return exec::is_aggregate_function(n); }

std::string func_name(const json& fc) {
  auto names = names_of(fc.at("funcname"));
  return lower(names.back());
}

// Finds aggregate calls (not window calls) in an expression tree.
void find_aggs(const json& n, std::vector<const json*>& out) {
  if (n.is_object()) {
    if (is(n, "FuncCall")) {
      const json& b = body(n);
      if (!b.contains("over") && is_agg_name(func_name(b))) { out.push_back(&n); return; }
    }
    if (is(n, "SubLink")) return;
    for (auto& [k, v] : n.items()) find_aggs(v, out);
  } else if (n.is_array()) {
    for (auto& x : n) find_aggs(x, out);
  }
}

void find_windows(const json& n, std::vector<const json*>& out) {
  if (n.is_object()) {
    if (is(n, "FuncCall") && body(n).contains("over")) { out.push_back(&n); return; }
    if (is(n, "SubLink")) return;
    for (auto& [k, v] : n.items()) find_windows(v, out);
  } else if (n.is_array()) {
    for (auto& x : n) find_windows(x, out);
  }
}


// ---- the binder ------------------------------------------------------------------------------

class Binder {
 public:
  Binder(PlanEnv& env, std::map<std::string, const json*>* ctes) : env_(env), ctes_(ctes), sql_(env.sql) {}

  // ---------- expressions ----------

  ExprPtr coerce(ExprPtr e, LogicalType t) {
    int idx;
    if (exec::as_parameter(*e, &idx) && e->type().id == exec::TypeId::kNull) {
      auto& pt = *env_.param_types;
      if (pt[idx].id == exec::TypeId::kNull) pt[idx] = t;
      return std::make_unique<exec::ParameterExpr>(idx, t, env_.param_values);
    }
    if (e->type() == t) return e;
    return fold(exec::make_cast(std::move(e), t));
  }

  ExprPtr fold(ExprPtr e) {
    if (e->kind() == exec::ExprKind::kConstant || !exec::is_constant_expr(*e)) return e;
    Value v = exec::eval_constant(*e, *env_.ctx);
    v.type = e->type();
    return exec::make_constant(std::move(v));
  }

  void check_stack_depth(const json& n) {
    uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    if (t_plan_stack_top != 0 && here < t_plan_stack_top && t_plan_stack_top - here > kMaxPlanStack)
      fail_at(ss::kStatementTooComplex, "stack depth limit exceeded: the statement is nested too deeply", n);
  }

  ExprPtr bind(const json& n, Scope& sc) {
    check_stack_depth(n);
    try {
      return bind_inner(n, sc);
    } catch (const exec::SqlError& e) {
      if (e.position() < 0) {
        int loc = location_of(n);
        if (loc >= 0) throw exec::SqlError(e.sqlstate(), e.what(), loc, e.code());
      }
      throw;
    }
  }

  ExprPtr column_ref(const json& n, Scope& sc) {
    const json& b = body(n);
    std::vector<std::string> parts;
    for (auto& f : b.at("fields")) {
      if (is(f, "A_Star")) fail_at(ss::kSyntaxError, "* is only allowed in the select list", n);
      parts.push_back(str_of(f));
    }
    if (parts.size() > 2) parts.erase(parts.begin(), parts.end() - 2);  // schema.table.col
    std::string table = parts.size() == 2 ? parts[0] : "";
    std::string name = parts.back();
    for (const Scope* s = &sc; s; s = s->outer) {
      const std::vector<Col>& cols = (s->agg_mode && s->pre_agg) ? *s->pre_agg : s->cols;
      int found = -1;
      for (size_t i = 0; i < cols.size(); i++) {
        if (s == &sc && !s->agg_mode && (i < s->range_lo || i >= s->range_hi)) continue;
        const Col& c = cols[i];
        if (c.name != name) continue;
        if (!table.empty() ? c.table != table : c.hidden) continue;
        if (found >= 0)
          fail_at(ss::kAmbiguousColumn, "column reference \"" + name + "\" is ambiguous", n);
        found = static_cast<int>(i);
      }
      if (found < 0) continue;
      if (s != &sc && !s->correlatable) unsupported("correlated subqueries", n);
      if (s->agg_mode) {
        auto it = s->group_col.find(static_cast<size_t>(found));
        if (it == s->group_col.end())
          fail_at(ss::kGrouping, "column \"" + (table.empty() ? name : table + "." + name) +
                  "\" must appear in the GROUP BY clause or be used in an aggregate function", n);
        return exec::make_column(it->second, s->cols[it->second].type, name);
      }
      return exec::make_column(static_cast<size_t>(found) + s->base, cols[found].type, name);
    }
    if (!table.empty()) {
      bool known = false;
      for (auto& c : (sc.agg_mode && sc.pre_agg ? *sc.pre_agg : sc.cols)) known = known || c.table == table;
      if (!known) fail_at(ss::kUndefinedTable, "missing FROM-clause entry for table \"" + table + "\"", n);
      fail_at(ss::kUndefinedColumn, "column " + table + "." + name + " does not exist", n);
    }
    fail_at(ss::kUndefinedColumn, "column \"" + name + "\" does not exist", n);
  }

  ExprPtr constant(const json& n) {
    const json& b = body(n);
    if (b.value("isnull", false)) return exec::make_constant(Value::null());
    if (b.contains("ival")) {
      if (b["ival"].contains("ival")) return exec::make_constant(Value::integer(b["ival"]["ival"].get<int>()));
      // libpg_query's JSON drops negative integers' values ({"ival":{}}); read the text.
      return exec::make_constant(Value::integer(static_cast<int32_t>(int_at(b.value("location", -1)))));
    }
    if (b.contains("boolval")) return exec::make_constant(Value::boolean(b["boolval"].value("boolval", false)));
    if (b.contains("sval")) return exec::make_constant(Value::text(b["sval"].value("sval", "")));
    if (b.contains("bsval")) return exec::make_constant(Value::text(b["bsval"].value("bsval", "")));
    if (b.contains("fval")) {
      std::string s = b["fval"].value("fval", "0");
      int64_t iv;
      if (s.find_first_of(".eE") == std::string::npos) {
        if (exec::parse_int64(s, &iv)) return exec::make_constant(Value::bigint(iv));
        return exec::make_constant(Value::dbl(to_double(s)));
      }
      if (s.find_first_of("eE") == std::string::npos) {
        size_t dot = s.find('.');
        int scale = static_cast<int>(s.size() - dot - 1);
        std::string digits = s.substr(0, dot) + s.substr(dot + 1);
        size_t nz = digits.find_first_not_of('0');
        int prec = nz == std::string::npos ? 1 : static_cast<int>(digits.size() - nz);
        prec = std::max(prec, scale + 1);
        if (prec <= 18) {
          int64_t v;
          if (exec::parse_numeric(s, prec, scale, &v)) return exec::make_constant(Value::numeric(v, prec, scale));
        }
      }
      return exec::make_constant(Value::dbl(to_double(s)));
    }
    return exec::make_constant(Value::null());
  }

  static double to_double(const std::string& s) {
    double d;
    if (!exec::parse_double(s, &d) || std::isinf(d))
      fail(ss::kNumericOutOfRange, "\"" + s + "\" is out of range for type double precision");
    return d;
  }

  int64_t int_at(int loc) const {
    if (loc < 0 || static_cast<size_t>(loc) >= sql_.size()) return 0;
    size_t i = static_cast<size_t>(loc);
    bool neg = false;
    while (i < sql_.size() && (sql_[i] == '-' || sql_[i] == '+' || isspace(static_cast<unsigned char>(sql_[i])) || sql_[i] == '(')) {
      if (sql_[i] == '-') neg = !neg;
      i++;
    }
    int64_t v = 0;
    while (i < sql_.size() && isdigit(static_cast<unsigned char>(sql_[i]))) v = v * 10 + (sql_[i++] - '0');
    return neg ? -v : v;
  }

  static bool is_text_literal(const Expr& e) {
    return e.kind() == exec::ExprKind::kConstant && e.type().id == exec::TypeId::kVarchar;
  }


  // Makes both operands one type for comparison.
  void unify(ExprPtr& a, ExprPtr& b, const json& n) {
    LogicalType t = exec::common_type(a->type(), b->type());
    if (t.id == exec::TypeId::kNull && (a->type().id != exec::TypeId::kNull || b->type().id != exec::TypeId::kNull)) {
      fail_at(ss::kUndefinedFunction, "operator does not exist: " + a->type().to_string() + " and " + b->type().to_string(), n);
    }
    if (t.id == exec::TypeId::kNull) t = exec::TypeId::kVarchar;
    a = coerce(std::move(a), t);
    b = coerce(std::move(b), t);
  }

  ExprPtr compare(const std::string& op, ExprPtr a, ExprPtr b, const json& n) {
    unify(a, b, n);
    using C = exec::CompareOp;
    C c;
    if (op == "=") c = C::kEq;
    else if (op == "<>" || op == "!=") c = C::kNe;
    else if (op == "<") c = C::kLt;
    else if (op == "<=") c = C::kLe;
    else if (op == ">") c = C::kGt;
    else if (op == ">=") c = C::kGe;
    else fail_at(ss::kUndefinedFunction, "operator does not exist: " + op, n);
    return fold(exec::make_compare(c, std::move(a), std::move(b)));
  }

  ExprPtr arith(const std::string& op, ExprPtr a, ExprPtr b, const json& n) {
    using T = exec::TypeId;
    using A = exec::ArithOp;
    A o = op == "+" ? A::kAdd : op == "-" ? A::kSub : op == "*" ? A::kMul : op == "/" ? A::kDiv : A::kMod;
    auto ta = a->type(), tb = b->type();
    auto temporal = [](LogicalType t) { return t.is_temporal() || t.id == T::kInterval; };
    // unknown literals next to temporal values
    if (is_text_literal(*a) && temporal(tb)) {
      a = coerce(std::move(a), (tb.id == T::kInterval || o == A::kAdd) ? LogicalType(T::kInterval) : tb);
      ta = a->type();
    }
    if (is_text_literal(*b) && temporal(ta)) {
      b = coerce(std::move(b), (ta.id == T::kInterval || o == A::kAdd || o == A::kSub) && !(o == A::kSub && tb.id == T::kVarchar && false) ? LogicalType(T::kInterval) : ta);
      tb = b->type();
    }
    if (ta.id == T::kNull) { a = coerce(std::move(a), tb.id == T::kNull ? LogicalType(T::kInteger) : tb); ta = a->type(); }
    if (tb.id == T::kNull) { b = coerce(std::move(b), ta); tb = b->type(); }
    auto bad = [&]() -> ExprPtr {
      fail_at(ss::kUndefinedFunction, "operator does not exist: " + ta.to_string() + " " + op + " " + tb.to_string(), n);
    };
    if (temporal(ta) || temporal(tb)) {
      if (ta.id == T::kDate && tb.is_integer() && (o == A::kAdd || o == A::kSub))
        return fold(exec::make_arith(o, std::move(a), coerce(std::move(b), T::kInteger), T::kDate));
      if (tb.id == T::kDate && ta.is_integer() && o == A::kAdd)
        return fold(exec::make_arith(o, std::move(b), coerce(std::move(a), T::kInteger), T::kDate));
      if (ta.id == T::kDate && tb.id == T::kDate && o == A::kSub)
        return fold(exec::make_arith(o, std::move(a), std::move(b), T::kInteger));
      if (ta.is_temporal() && tb.id == T::kInterval && (o == A::kAdd || o == A::kSub)) {
        LogicalType r = ta.id == T::kTimestampTz ? LogicalType(T::kTimestampTz) : LogicalType(T::kTimestamp);
        return fold(exec::make_arith(o, std::move(a), std::move(b), r));
      }
      if (ta.id == T::kInterval && tb.is_temporal() && o == A::kAdd) {
        LogicalType r = tb.id == T::kTimestampTz ? LogicalType(T::kTimestampTz) : LogicalType(T::kTimestamp);
        if (tb.id == T::kDate) b = coerce(std::move(b), T::kTimestamp);
        return fold(exec::make_arith(o, std::move(a), std::move(b), r));
      }
      if (ta.is_temporal() && tb.is_temporal() && o == A::kSub) {
        LogicalType t = exec::common_type(ta, tb);
        if (t.id == T::kDate) t = T::kTimestamp;
        return fold(exec::make_arith(o, coerce(std::move(a), t), coerce(std::move(b), t), T::kInterval));
      }
      if (ta.id == T::kInterval && tb.id == T::kInterval && (o == A::kAdd || o == A::kSub))
        return fold(exec::make_arith(o, std::move(a), std::move(b), T::kInterval));
      if (ta.id == T::kInterval && tb.is_numeric_family() && (o == A::kMul || o == A::kDiv))
        return fold(exec::make_arith(o, std::move(a), coerce(std::move(b), T::kDouble), T::kInterval));
      if (tb.id == T::kInterval && ta.is_numeric_family() && o == A::kMul)
        return fold(exec::make_arith(o, std::move(b), coerce(std::move(a), T::kDouble), T::kInterval));
      return bad();
    }
    if (is_text_literal(*a) && tb.is_numeric_family()) { a = coerce(std::move(a), tb); ta = tb; }
    if (is_text_literal(*b) && ta.is_numeric_family()) { b = coerce(std::move(b), ta); tb = ta; }
    if (!ta.is_numeric_family() || !tb.is_numeric_family()) return bad();
    LogicalType t = exec::common_type(ta, tb);
    if (t.id == T::kNumeric) {
      auto ns = [](LogicalType x) { return x.id == T::kNumeric ? x : exec::LogicalType::numeric(x.id == T::kSmallInt ? 5 : x.id == T::kInteger ? 10 : 18, 0); };
      LogicalType na = ns(ta), nb = ns(tb);
      int s;
      if (o == A::kMul) s = std::min(na.scale + nb.scale, 12);
      else if (o == A::kDiv) s = std::max({6, static_cast<int>(na.scale), static_cast<int>(nb.scale)});
      else s = std::max(na.scale, nb.scale);
      LogicalType r = exec::LogicalType::numeric(18, s);
      return fold(exec::make_arith(o, coerce(std::move(a), na), coerce(std::move(b), nb), r));
    }
    return fold(exec::make_arith(o, coerce(std::move(a), t), coerce(std::move(b), t), t));
  }

  ExprPtr function(const std::string& name, std::vector<ExprPtr> args, const json& n) {
    std::vector<LogicalType> types;
    for (auto& a : args) types.push_back(a->type());
    exec::ScalarFunctionBinding fb;
    std::string err;
    if (!exec::resolve_scalar_function(name, types, &fb, &err)) {
      if (is_agg_name(name)) fail_at(ss::kGrouping, "aggregate function " + name + " is not allowed here", n);
      fail_at(ss::kUndefinedFunction, err, n);
    }
    for (size_t i = 0; i < args.size(); i++) args[i] = coerce(std::move(args[i]), fb.arg_types[i]);
    return fold(exec::make_function(std::move(fb), std::move(args)));
  }

  ExprPtr bind_inner(const json& n, Scope& sc) {
    if (sc.agg_mode && !sc.expr_map.empty()) {
      auto it = sc.expr_map.find(norm(n));
      if (it != sc.expr_map.end()) return exec::make_column(it->second, sc.cols[it->second].type, sc.cols[it->second].name);
    }
    const std::string& t = node_type(n);
    const json& b = body(n);
    if (t == "ColumnRef") return column_ref(n, sc);
    if (t == "A_Const") return constant(n);
    if (t == "ParamRef") {
      int64_t idx = b.value("number", int64_t{0}) - 1;
      // The protocol numbers parameters with 16 bits (Bind, ParameterDescription): $65536
      // and beyond cannot exist, and must not size the parameter list (found by sql_fuzz:
      // `$900000000` allocated gigabytes).
      if (!env_.param_types || idx < 0 || idx >= 65535)
        fail_at(ss::kUndefinedParameter, "there is no parameter $" + std::to_string(idx + 1), n);
      auto& pt = *env_.param_types;
      if (static_cast<size_t>(idx) >= pt.size()) pt.resize(static_cast<size_t>(idx) + 1, LogicalType());
      return std::make_unique<exec::ParameterExpr>(static_cast<int>(idx), pt[static_cast<size_t>(idx)], env_.param_values);
    }
    if (t == "TypeCast") {
      ExprPtr a = bind(b.at("arg"), sc);
      LogicalType to = type_from_name(b.at("typeName"));
      int idx;
      if (exec::as_parameter(*a, &idx) && a->type().id == exec::TypeId::kNull) return coerce(std::move(a), to);
      if (!exec::can_cast(a->type(), to))
        fail_at(ss::kDatatypeMismatch, "cannot cast type " + a->type().to_string() + " to " + to.to_string(), n);
      return fold(exec::make_cast(std::move(a), to));
    }
    if (t == "BoolExpr") {
      std::string op = b.value("boolop", "");
      std::vector<ExprPtr> args;
      for (auto& x : b.at("args")) args.push_back(coerce_bool(bind(x, sc), x));
      if (op == "NOT_EXPR") return fold(exec::make_not(std::move(args[0])));
      ExprPtr r = std::move(args[0]);
      for (size_t i = 1; i < args.size(); i++)
        r = op == "AND_EXPR" ? exec::make_and(std::move(r), std::move(args[i])) : exec::make_or(std::move(r), std::move(args[i]));
      return fold(std::move(r));
    }
    if (t == "NullTest") {
      return fold(exec::make_is_null(bind(b.at("arg"), sc), b.value("nulltesttype", "") == "IS_NOT_NULL"));
    }
    if (t == "BooleanTest") {
      std::string k = b.value("booltesttype", "");
      ExprPtr a = coerce_bool(bind(b.at("arg"), sc), n);
      if (k == "IS_UNKNOWN") return exec::make_is_null(std::move(a), false);
      if (k == "IS_NOT_UNKNOWN") return exec::make_is_null(std::move(a), true);
      bool v = k == "IS_TRUE" || k == "IS_NOT_TRUE";
      bool neg = k == "IS_NOT_TRUE" || k == "IS_NOT_FALSE";
      return exec::make_is_bool(std::move(a), v, neg);
    }
    if (t == "A_Expr") return a_expr(n, sc);
    if (t == "FuncCall") return func_call(n, sc);
    if (t == "SQLValueFunction") {
      std::string op = b.value("op", "");
      if (op == "SVFOP_CURRENT_DATE") return function("current_date", {}, n);
      if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP" || op == "SVFOP_CURRENT_TIMESTAMP_N")
        return function("now", {}, n);
      if (op == "SVFOP_CURRENT_USER" || op == "SVFOP_USER" || op == "SVFOP_SESSION_USER")
        return exec::make_constant(Value::text(env_.options ? env_.options->user : "streamlake"));
      if (op == "SVFOP_CURRENT_SCHEMA") return exec::make_constant(Value::text("public"));
      unsupported("SQL value function " + op, n);
    }
    if (t == "CaseExpr") {
      std::vector<ExprPtr> whens, thens;
      ExprPtr arg;
      for (auto& w : b.at("args")) {
        const json& cw = body(w);
        ExprPtr cond;
        if (b.contains("arg")) cond = compare("=", bind(b["arg"], sc), bind(cw.at("expr"), sc), w);
        else cond = coerce_bool(bind(cw.at("expr"), sc), cw.at("expr"));
        whens.push_back(std::move(cond));
        thens.push_back(bind(cw.at("result"), sc));
      }
      ExprPtr els = b.contains("defresult") ? bind(b["defresult"], sc) : nullptr;
      LogicalType rt = exec::TypeId::kNull;
      for (auto& x : thens) rt = merge_type(rt, x->type(), n);
      if (els) rt = merge_type(rt, els->type(), n);
      if (rt.id == exec::TypeId::kNull) rt = exec::TypeId::kVarchar;
      for (auto& x : thens) x = coerce(std::move(x), rt);
      if (els) els = coerce(std::move(els), rt);
      return fold(exec::make_case(std::move(whens), std::move(thens), std::move(els), rt));
    }
    if (t == "CoalesceExpr" || t == "MinMaxExpr") {
      std::vector<ExprPtr> args;
      for (auto& x : b.at("args")) args.push_back(bind(x, sc));
      if (t == "MinMaxExpr") return function(b.value("op", "") == "IS_GREATEST" ? "greatest" : "least", std::move(args), n);
      LogicalType rt = exec::TypeId::kNull;
      for (auto& x : args) rt = merge_type(rt, x->type(), n);
      if (rt.id == exec::TypeId::kNull) rt = exec::TypeId::kVarchar;
      for (auto& x : args) x = coerce(std::move(x), rt);
      return fold(exec::make_coalesce(std::move(args), rt));
    }
    if (t == "SubLink") return sublink(n, sc);
    if (t == "ResTarget") return bind(b.at("val"), sc);
    if (t == "A_ArrayExpr" || t == "A_Indirection") unsupported("arrays", n);
    if (t == "CollateClause") return bind(b.at("arg"), sc);
    unsupported("expression " + t, n);
  }

  LogicalType merge_type(LogicalType a, LogicalType b, const json& n) {
    LogicalType t = exec::common_type(a, b);
    if (t.id == exec::TypeId::kNull && a.id != exec::TypeId::kNull && b.id != exec::TypeId::kNull)
      fail_at(ss::kDatatypeMismatch, "types " + a.to_string() + " and " + b.to_string() + " cannot be matched", n);
    return t;
  }

  ExprPtr coerce_bool(ExprPtr e, const json& n) {
    if (e->type().id == exec::TypeId::kBoolean) return e;
    if (e->type().id == exec::TypeId::kNull || is_text_literal(*e)) return coerce(std::move(e), exec::TypeId::kBoolean);
    fail_at(ss::kDatatypeMismatch, "argument must be type boolean, not type " + e->type().to_string(), n);
  }

  ExprPtr a_expr(const json& n, Scope& sc) {
    const json& b = body(n);
    std::string kind = b.value("kind", "");
    std::string op = b.contains("name") ? str_of(b["name"][0]) : "";
    if (b.contains("name") && b["name"].size() > 1) op = str_of(b["name"].back());
    if (kind == "AEXPR_OP") {
      if (!b.contains("lexpr")) {
        ExprPtr r = bind(b.at("rexpr"), sc);
        if (op == "+") return r;
        if (op == "-") {
          if (r->type().id == exec::TypeId::kNull) r = coerce(std::move(r), exec::TypeId::kInteger);
          return fold(exec::make_negate(std::move(r)));
        }
        unsupported("prefix operator " + op, n);
      }
      ExprPtr l = bind(b.at("lexpr"), sc), r = bind(b.at("rexpr"), sc);
      if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") return arith(op, std::move(l), std::move(r), n);
      if (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=")
        return compare(op, std::move(l), std::move(r), n);
      if (op == "||") {
        std::vector<ExprPtr> args;
        args.push_back(std::move(l));
        args.push_back(std::move(r));
        return function("||", std::move(args), n);
      }
      if (op == "~~" || op == "!~~" || op == "~~*" || op == "!~~*")
        return fold(exec::make_like(coerce(std::move(l), exec::TypeId::kVarchar), coerce(std::move(r), exec::TypeId::kVarchar),
                                    op.find('*') != std::string::npos, op[0] == '!'));
      if (op == "~" || op == "~*" || op == "!~" || op == "!~*") {
        std::vector<ExprPtr> args;
        args.push_back(std::move(l));
        args.push_back(std::move(r));
        if (op.find('*') != std::string::npos) args.push_back(exec::make_constant(Value::text("i")));
        ExprPtr m = function("regexp_like", std::move(args), n);
        return op[0] == '!' ? fold(exec::make_not(std::move(m))) : std::move(m);
      }
      unsupported("operator " + op, n);
    }
    if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
      ExprPtr l = bind(b.at("lexpr"), sc), r = bind(b.at("rexpr"), sc);
      return fold(exec::make_like(coerce(std::move(l), exec::TypeId::kVarchar), coerce(std::move(r), exec::TypeId::kVarchar),
                                  kind == "AEXPR_ILIKE", op[0] == '!'));
    }
    if (kind == "AEXPR_IN") {
      ExprPtr l = bind(b.at("lexpr"), sc);
      std::vector<ExprPtr> items;
      for (auto& x : body(b.at("rexpr")).at("items")) items.push_back(bind(x, sc));
      LogicalType t = l->type();
      for (auto& x : items) t = merge_type(t, x->type(), n);
      if (t.id == exec::TypeId::kNull) t = exec::TypeId::kVarchar;
      l = coerce(std::move(l), t);
      for (auto& x : items) x = coerce(std::move(x), t);
      return fold(exec::make_in_list(std::move(l), std::move(items), op == "<>"));
    }
    if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN" || kind == "AEXPR_BETWEEN_SYM" || kind == "AEXPR_NOT_BETWEEN_SYM") {
      const json& items = body(b.at("rexpr")).at("items");
      ExprPtr x = bind(b.at("lexpr"), sc);
      ExprPtr lo = bind(items[0], sc), hi = bind(items[1], sc);
      if (kind.find("SYM") != std::string::npos) unsupported("BETWEEN SYMMETRIC", n);
      ExprPtr x2 = x->clone();
      ExprPtr r = exec::make_and(compare(">=", std::move(x), std::move(lo), n), compare("<=", std::move(x2), std::move(hi), n));
      if (kind.find("NOT") != std::string::npos) r = exec::make_not(std::move(r));
      return fold(std::move(r));
    }
    if (kind == "AEXPR_NULLIF") {
      ExprPtr l = bind(b.at("lexpr"), sc), r = bind(b.at("rexpr"), sc);
      unify(l, r, n);
      return fold(exec::make_nullif(std::move(l), std::move(r)));
    }
    if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
      ExprPtr l = bind(b.at("lexpr"), sc), r = bind(b.at("rexpr"), sc);
      unify(l, r, n);
      return fold(exec::make_compare(kind == "AEXPR_DISTINCT" ? exec::CompareOp::kDistinct : exec::CompareOp::kNotDistinct,
                                     std::move(l), std::move(r)));
    }
    unsupported("expression " + kind, n);
  }

  ExprPtr func_call(const json& n, Scope& sc) {
    const json& b = body(n);
    std::string name = func_name(b);
    if (b.contains("over")) fail_at(ss::kGrouping, "window function " + name + " is not allowed here", n);
    if (is_agg_name(name)) {
      if (sc.agg_mode) {
        // an aggregate not collected (e.g. nested) -- should have been mapped
        fail_at(ss::kGrouping, "aggregate function calls cannot be nested", n);
      }
      fail_at(ss::kGrouping, "aggregate functions are not allowed here", n);
    }
    if (name == "generate_series") unsupported("generate_series outside FROM", n);
    std::vector<ExprPtr> args;
    if (b.contains("args"))
      for (auto& a : b["args"]) args.push_back(bind(a, sc));
    if (name == "nullif" && args.size() == 2) {
      unify(args[0], args[1], n);
      return fold(exec::make_nullif(std::move(args[0]), std::move(args[1])));
    }
    if (name == "coalesce") {
      LogicalType rt = exec::TypeId::kNull;
      for (auto& x : args) rt = merge_type(rt, x->type(), n);
      for (auto& x : args) x = coerce(std::move(x), rt.id == exec::TypeId::kNull ? LogicalType(exec::TypeId::kVarchar) : rt);
      return fold(exec::make_coalesce(std::move(args), rt));
    }
    // date_part('year', ts) & friends: a text literal second argument means timestamp
    if ((name == "date_trunc" || name == "date_part" || name == "extract") && args.size() == 2 && is_text_literal(*args[1]))
      args[1] = coerce(std::move(args[1]), exec::TypeId::kTimestamp);
    if ((name == "round" || name == "trunc") && args.size() == 2 && args[0]->type().id == exec::TypeId::kNumeric &&
        args[1]->kind() == exec::ExprKind::kConstant) {
      Value d = exec::eval_constant(*coerce(args[1]->clone(), exec::TypeId::kInteger), *env_.ctx);
      LogicalType in = args[0]->type();
      ExprPtr r = function(name, std::move(args), n);
      if (!d.is_null && d.i >= 0 && d.i < in.scale) r = coerce(std::move(r), exec::LogicalType::numeric(in.precision, static_cast<int>(d.i)));
      return r;
    }
    if (name == "to_char" && args.size() == 2 && args[0]->type().id == exec::TypeId::kDate)
      args[0] = coerce(std::move(args[0]), exec::TypeId::kTimestamp);
    return function(name, std::move(args), n);
  }

  // Runs a plan now (uncorrelated subqueries); returns its rows.
  std::vector<std::vector<Value>> run(Plan& p, size_t max_rows) {
    std::vector<std::vector<Value>> rows;
    if (env_.describe_only) return rows;
    exec::Executor ex(std::move(p.op), *env_.ctx);
    while (auto* c = ex.next()) {
      for (size_t i = 0; i < c->size(); i++) {
        std::vector<Value> row;
        for (size_t col = 0; col < c->column_count(); col++) row.push_back(Value::read(c->column(col), i));
        rows.push_back(std::move(row));
        if (rows.size() >= max_rows) return rows;
      }
    }
    return rows;
  }

  ExprPtr sublink(const json& n, Scope& sc) {
    const json& b = body(n);
    std::string type = b.value("subLinkType", "");
    Binder sub(env_, ctes_);
    Plan p = sub.select(b.at("subselect"), &sc);
    if (type == "EXISTS_SUBLINK") {
      if (env_.describe_only) return exec::make_constant(Value::boolean(false));
      auto rows = run(p, 1);
      return exec::make_constant(Value::boolean(!rows.empty()));
    }
    if (p.cols.size() != 1) fail_at(ss::kSyntaxError, "subquery must return only one column", n);
    LogicalType st = p.cols[0].type;
    if (type == "EXPR_SUBLINK") {
      if (env_.describe_only) return exec::make_constant(Value::null(st));
      auto rows = run(p, 2);
      if (rows.size() > 1) fail_at(ss::kCardinality, "more than one row returned by a subquery used as an expression", n);
      Value v = rows.empty() ? Value::null(st) : rows[0][0];
      v.type = st;
      return exec::make_constant(std::move(v));
    }
    if (type == "ANY_SUBLINK") {
      std::string op = b.contains("operName") ? str_of(b["operName"][0]) : "=";
      if (op != "=") unsupported("ANY with operator " + op, n);
      ExprPtr l = bind(b.at("testexpr"), sc);
      LogicalType t = merge_type(l->type(), st, n);
      if (t.id == exec::TypeId::kNull) t = exec::TypeId::kVarchar;
      l = coerce(std::move(l), t);
      if (st != t) {
        std::vector<ExprPtr> ex;
        ex.push_back(exec::make_cast(exec::make_column(0, st), t));
        auto proj = std::make_unique<exec::ProjectOp>(std::move(ex));
        proj->children.push_back(std::move(p.op));
        p.op = std::move(proj);
      }
      std::vector<Value> set;
      for (auto& r : run(p, SIZE_MAX)) set.push_back(std::move(r[0]));
      return exec::make_in_set(std::move(l), std::move(set), false);
    }
    unsupported("subquery type " + type, n);
  }

  // ---------- FROM ----------

  std::unique_ptr<Rel> from_item(const json& n, std::vector<Col>& scope_cols, const Scope* outer) {
    const std::string& t = node_type(n);
    const json& b = body(n);
    auto rel = std::make_unique<Rel>();
    rel->lo = scope_cols.size();
    if (t == "RangeVar" || t == "RangeSubselect" || t == "RangeFunction") {
      std::string alias;
      std::vector<std::string> colnames;
      if (b.contains("alias")) {
        alias = b["alias"].value("aliasname", "");
        if (b["alias"].contains("colnames")) colnames = names_of(b["alias"]["colnames"]);
      }
      if (t == "RangeVar") {
        std::string name = b.value("relname", "");
        std::string schema = b.value("schemaname", "");
        rel->plan = relation(name, schema, n);
        if (alias.empty()) alias = name;
      } else if (t == "RangeSubselect") {
        if (b.value("lateral", false)) unsupported("LATERAL", n);
        Binder sub(env_, ctes_);
        rel->plan = sub.select(b.at("subquery"), outer);
      } else {
        rel->plan = table_function(n);
        if (alias.empty()) alias = rel->plan.cols[0].table;
      }
      for (size_t i = 0; i < rel->plan.cols.size(); i++) {
        rel->plan.cols[i].table = alias;
        rel->plan.cols[i].hidden = false;
        if (i < colnames.size()) rel->plan.cols[i].name = colnames[i];
      }
      for (auto& c : rel->plan.cols) scope_cols.push_back(c);
      rel->hi = scope_cols.size();
      return rel;
    }
    if (t == "JoinExpr") {
      rel->leaf = false;
      std::string jt = b.value("jointype", "JOIN_INNER");
      rel->type = jt == "JOIN_LEFT" ? exec::JoinType::kLeft : jt == "JOIN_RIGHT" ? exec::JoinType::kRight
                : jt == "JOIN_FULL" ? exec::JoinType::kFull : exec::JoinType::kInner;
      if (jt != "JOIN_INNER" && jt != "JOIN_LEFT" && jt != "JOIN_RIGHT" && jt != "JOIN_FULL") unsupported("join type " + jt, n);
      rel->left = from_item(b.at("larg"), scope_cols, outer);
      size_t mid = scope_cols.size();
      rel->right = from_item(b.at("rarg"), scope_cols, outer);
      rel->hi = scope_cols.size();
      std::vector<std::string> using_cols;
      if (b.contains("usingClause")) using_cols = names_of(b["usingClause"]);
      if (b.value("isNatural", false)) {
        for (size_t i = rel->lo; i < mid; i++)
          for (size_t j = mid; j < rel->hi; j++)
            if (!scope_cols[i].hidden && !scope_cols[j].hidden && scope_cols[i].name == scope_cols[j].name) using_cols.push_back(scope_cols[i].name);
      }
      for (auto& u : using_cols) {
        int li = -1, ri = -1;
        for (size_t i = rel->lo; i < mid; i++) if (scope_cols[i].name == u && !scope_cols[i].hidden) li = static_cast<int>(i);
        for (size_t j = mid; j < rel->hi; j++) if (scope_cols[j].name == u && !scope_cols[j].hidden) ri = static_cast<int>(j);
        if (li < 0 || ri < 0) fail_at(ss::kUndefinedColumn, "column \"" + u + "\" specified in USING clause does not exist", n);
        ExprPtr l = exec::make_column(li, scope_cols[li].type, u), r = exec::make_column(ri, scope_cols[ri].type, u);
        rel->on.push_back(compare("=", std::move(l), std::move(r), n));
        // The merged column is the left one (right for RIGHT JOIN).
        if (rel->type == exec::JoinType::kRight) scope_cols[li].hidden = true;
        else scope_cols[ri].hidden = true;
      }
      if (b.contains("quals")) {
        Scope s;
        s.cols = scope_cols;
        s.outer = outer;
        s.range_lo = rel->lo;
        s.range_hi = rel->hi;
        ExprPtr q = coerce_bool(bind(b["quals"], s), b["quals"]);
        exec::split_and(std::move(q), rel->on);
      }
      if (b.contains("alias")) unsupported("join aliases", n);
      return rel;
    }
    unsupported("FROM item " + t, n);
  }

  static void split_json_and(const json& n, std::vector<const json*>& out) {
    if (is(n, "BoolExpr") && body(n).value("boolop", "") == "AND_EXPR") {
      for (auto& a : body(n).at("args")) split_json_and(a, out);
      return;
    }
    out.push_back(&n);
  }

  static bool is_subquery_conjunct(const json& n) {
    const json* x = &n;
    if (is(n, "BoolExpr") && body(n).value("boolop", "") == "NOT_EXPR") x = &body(n).at("args")[0];
    if (!is(*x, "SubLink")) return false;
    std::string t = body(*x).value("subLinkType", "");
    return t == "EXISTS_SUBLINK" || t == "ANY_SUBLINK";
  }

  // WHERE [NOT] EXISTS (SELECT ... FROM ... WHERE <correlated>) or x IN (SELECT y ...):
  // the subquery's FROM becomes the build side of a semi (anti) join whose conditions are
  // the correlated predicates.
  OpPtr decorrelate(const json& n, Plan& cur, const Scope* outer) {
    bool negate = false;
    const json* sl = &n;
    if (is(n, "BoolExpr")) { negate = true; sl = &body(n).at("args")[0]; }
    const json& lb = body(*sl);
    bool in = lb.value("subLinkType", "") == "ANY_SUBLINK";
    if (in && negate) unsupported("NOT IN over a correlated subquery", n);
    const json& sub = body(lb.at("subselect"));
    if (sub.value("op", "SETOP_NONE") != "SETOP_NONE" || sub.contains("groupClause") || sub.contains("havingClause") ||
        sub.contains("limitCount") || sub.contains("distinctClause") || sub.contains("withClause") ||
        !sub.contains("fromClause") || sub.contains("sortClause"))
      unsupported("this form of correlated subquery (only [NOT] EXISTS / IN over SELECT ... FROM ... WHERE)", n);
    Binder ib(env_, ctes_);
    std::vector<Col> icols;
    std::vector<std::unique_ptr<Rel>> items;
    for (auto& f : sub["fromClause"]) items.push_back(ib.from_item(f, icols, nullptr));
    std::unique_ptr<Rel> root = std::move(items[0]);
    for (size_t i = 1; i < items.size(); i++) {
      auto j = std::make_unique<Rel>();
      j->leaf = false;
      j->lo = root->lo;
      j->hi = items[i]->hi;
      j->left = std::move(root);
      j->right = std::move(items[i]);
      root = std::move(j);
    }
    for (auto& c : icols) ib.col_types_.push_back(c.type);
    size_t nout = cur.cols.size(), nin = icols.size();
    Scope osc;
    osc.cols = cur.cols;
    osc.outer = outer;
    osc.correlatable = true;
    Scope isc;
    isc.cols = icols;
    isc.outer = &osc;
    isc.base = nout;
    std::vector<ExprPtr> conds, inner_pool;
    if (sub.contains("whereClause")) {
      check_no_aggs(sub["whereClause"], "WHERE");
      ExprPtr w = coerce_bool(bind(sub["whereClause"], isc), sub["whereClause"]);
      std::vector<ExprPtr> parts;
      exec::split_and(std::move(w), parts);
      for (auto& p : parts) {
        if (within(*p, nout, nout + nin)) inner_pool.push_back(shift(std::move(p), nout));
        else conds.push_back(std::move(p));
      }
    }
    if (in) {
      // `a IN (SELECT FROM u ...)`: no target list at all.
      if (!sub.contains("targetList") || sub["targetList"].empty())
        fail_at(ss::kSyntaxError, "subquery has too few columns", n);
      const auto& tl = sub["targetList"];
      if (tl.size() != 1) fail_at(ss::kSyntaxError, "subquery has too many columns", n);
      ExprPtr l = bind(lb.at("testexpr"), osc);
      ExprPtr r = bind(body(tl[0]).at("val"), isc);
      conds.push_back(compare("=", std::move(l), std::move(r), n));
    }
    OpPtr iop = ib.build_rel(*root, inner_pool);
    std::vector<ExprPtr> left_over;
    for (auto& c : inner_pool)
      if (c) left_over.push_back(std::move(c));
    std::vector<LogicalType> it;
    for (auto& c : icols) it.push_back(c.type);
    if (!left_over.empty()) iop = filter(std::move(iop), it, std::move(left_over));
    std::vector<ExprPtr> lkeys, rkeys;
    ExprPtr res;
    for (auto& c : conds) {
      ExprPtr *a, *b;
      if (exec::as_equality(*c, &a, &b)) {
        int sa = sides(**a, 0, nout, nout + nin), sb = sides(**b, 0, nout, nout + nin);
        if ((sa == 1 && sb == 2) || (sa == 2 && sb == 1)) {
          lkeys.push_back(std::move(sa == 1 ? *a : *b));
          rkeys.push_back(shift(std::move(sa == 1 ? *b : *a), nout));
          continue;
        }
      }
      res = res ? exec::make_and(std::move(res), std::move(c)) : std::move(c);
    }
    auto j = std::make_unique<exec::HashJoinOp>(negate ? exec::JoinType::kAnti : exec::JoinType::kSemi, std::move(lkeys),
                                                std::move(rkeys), std::move(res), cur.types(), it);
    j->children.push_back(std::move(cur.op));
    j->children.push_back(std::move(iop));
    return j;
  }

  Plan table_function(const json& n) {
    const json& b = body(n);
    const json& fn = b.at("functions")[0]["List"]["items"][0];
    if (!is(fn, "FuncCall")) unsupported("table function", n);
    std::string name = func_name(body(fn));
    if (name != "generate_series") unsupported("table function " + name, n);
    Scope empty;
    std::vector<int64_t> a;
    static const json kNoArgs = json::array();
    const json& args = body(fn).contains("args") ? body(fn)["args"] : kNoArgs;  // absent for f()
    for (auto& x : args) {
      ExprPtr e = coerce(bind(x, empty), exec::TypeId::kBigInt);
      Value v = exec::eval_constant(*e, *env_.ctx);
      if (v.is_null) fail_at(ss::kInvalidParameter, "generate_series arguments must not be NULL", x);
      a.push_back(v.i);
    }
    if (a.size() < 2 || a.size() > 3) fail_at(ss::kUndefinedFunction, "generate_series takes 2 or 3 arguments", n);
    int64_t step = a.size() == 3 ? a[2] : 1;
    if (step == 0) fail_at(ss::kInvalidParameter, "step size cannot equal zero", n);
    Plan p;
    p.op = std::make_unique<SeriesOp>(a[0], a[1], step);
    p.cols.push_back({"generate_series", "generate_series", exec::TypeId::kBigInt});
    return p;
  }

  Plan relation(const std::string& name, const std::string& schema, const json& n) {
    auto& exp = env_.expanding_ctes;
    if (schema.empty() && ctes_ && std::find(exp.begin(), exp.end(), name) == exp.end()) {
      auto it = ctes_->find(name);
      if (it != ctes_->end()) {
        const json& cte = *it->second;
        Binder sub(env_, ctes_);
        exp.push_back(name);
        Plan p;
        try {
          p = sub.select(cte.at("ctequery"), nullptr);
        } catch (...) {
          exp.pop_back();
          throw;
        }
        exp.pop_back();
        if (cte.contains("aliascolnames")) {
          auto names = names_of(cte["aliascolnames"]);
          for (size_t i = 0; i < names.size() && i < p.cols.size(); i++) p.cols[i].name = names[i];
        }
        return p;
      }
    }
    if (!schema.empty() && schema != "public" && schema != "streamlake")
      fail_at(ss::kUndefinedTable, "relation \"" + schema + "." + name + "\" does not exist", n);
    auto e = env_.catalog->find(name);
    if (!e) fail_at(ss::kUndefinedTable, "relation \"" + name + "\" does not exist", n);
    if (e->kind == catalog::TableKind::kView) {
      if (++view_depth_ > 32) fail_at(ss::kFeatureNotSupported, "views nested too deeply", n);
      json tree = parse_json(e->sql);
      const json& vs = body(tree["stmts"][0]["stmt"]);
      Binder sub(env_, nullptr);
      sub.sql_ = e->sql;
      sub.view_depth_ = view_depth_;
      Plan p = sub.select(vs.at("query"), nullptr);
      for (size_t i = 0; i < e->columns.size() && i < p.cols.size(); i++) p.cols[i].name = e->columns[i].name;
      return p;
    }
    if (!e->provider) fail_at(ss::kFeatureNotSupported, std::string(catalog::table_kind_name(e->kind)) + " \"" + name + "\" is not attached to a running pipeline", n);
    Plan p;
    std::vector<size_t> ids;
    std::vector<LogicalType> types;
    for (size_t i = 0; i < e->columns.size(); i++) {
      ids.push_back(i);
      types.push_back(e->columns[i].type);
      p.cols.push_back({name, e->columns[i].name, e->columns[i].type});
    }
    // A provider that prunes by bounds is read when the query runs, with the WHERE
    // clause's bounds on its columns once build_rel knows them (push_bounds).
    bool prunes = e->provider->prunes();
    auto scan = std::make_unique<exec::ScanOp>(name, prunes ? std::vector<std::shared_ptr<const DataChunk>>{}
                                                            : e->provider->snapshot(), ids, types);
    scan->estimated_rows = e->provider->row_count();
    if (prunes) {
      auto prov = e->provider;
      scan->set_loader([prov] { return prov->snapshot(); }, "");
      prunable_[scan.get()] = prov;
    }
    p.op = std::move(scan);
    return p;
  }

  // Which side of [lo, mid, hi) the columns of e lie in: 1 left, 2 right, 3 both, 0 none, -1 outside.
  static int sides(Expr& e, size_t lo, size_t mid, size_t hi) {
    std::vector<exec::ColumnExpr*> cols;
    exec::collect_columns(e, cols);
    int s = 0;
    for (auto* c : cols) {
      if (c->index < lo || c->index >= hi) return -1;
      s |= c->index < mid ? 1 : 2;
    }
    return s;
  }
  static bool within(Expr& e, size_t lo, size_t hi) {
    std::vector<exec::ColumnExpr*> cols;
    exec::collect_columns(e, cols);
    for (auto* c : cols)
      if (c->index < lo || c->index >= hi) return false;
    return true;
  }
  static ExprPtr shift(ExprPtr e, size_t by) {
    std::vector<exec::ColumnExpr*> cols;
    exec::collect_columns(*e, cols);
    for (auto* c : cols) c->index -= by;
    return e;
  }

  // Builds operators for a FROM tree; takes the conjuncts of `pool` it can apply.
  OpPtr build_rel(Rel& r, std::vector<ExprPtr>& pool) {
    if (r.leaf) {
      OpPtr op = std::move(r.plan.op);
      std::vector<ExprPtr> mine;
      for (auto& c : pool)
        if (c && within(*c, r.lo, r.hi)) mine.push_back(shift(std::move(c), r.lo));
      if (!mine.empty()) push_bounds(op.get(), mine);
      if (!mine.empty()) op = filter(std::move(op), r.plan.types(), std::move(mine));
      return op;
    }
    size_t mid = r.left->hi;
    std::vector<ExprPtr> local;
    OpPtr lop, rop;
    switch (r.type) {
      case exec::JoinType::kInner:
        for (auto& c : r.on) pool.push_back(std::move(c));
        lop = build_rel(*r.left, pool);
        rop = build_rel(*r.right, pool);
        for (auto& c : pool)
          if (c && within(*c, r.lo, r.hi)) local.push_back(std::move(c));
        break;
      case exec::JoinType::kLeft: {
        lop = build_rel(*r.left, pool);
        std::vector<ExprPtr> rp;
        for (auto& c : r.on) { if (sides(*c, r.lo, mid, r.hi) == 2) rp.push_back(std::move(c)); else local.push_back(std::move(c)); }
        rop = build_rel(*r.right, rp);
        break;
      }
      case exec::JoinType::kRight: {
        rop = build_rel(*r.right, pool);
        std::vector<ExprPtr> lp;
        for (auto& c : r.on) { if (sides(*c, r.lo, mid, r.hi) == 1) lp.push_back(std::move(c)); else local.push_back(std::move(c)); }
        lop = build_rel(*r.left, lp);
        break;
      }
      case exec::JoinType::kSemi:
      case exec::JoinType::kAnti:
      case exec::JoinType::kFull: {
        std::vector<ExprPtr> none;
        lop = build_rel(*r.left, none);
        rop = build_rel(*r.right, none);
        for (auto& c : r.on) local.push_back(std::move(c));
        break;
      }
    }
    std::vector<ExprPtr> lkeys, rkeys, residual;
    for (auto& c : local) {
      if (!c) continue;
      ExprPtr *a, *b;
      if (exec::as_equality(*c, &a, &b)) {
        int sa = sides(**a, r.lo, mid, r.hi), sb = sides(**b, r.lo, mid, r.hi);
        if ((sa == 1 && sb == 2) || (sa == 2 && sb == 1)) {
          ExprPtr& le = sa == 1 ? *a : *b;
          ExprPtr& re = sa == 1 ? *b : *a;
          lkeys.push_back(shift(std::move(le), r.lo));
          rkeys.push_back(shift(std::move(re), mid));
          continue;
        }
      }
      residual.push_back(shift(std::move(c), r.lo));
    }
    ExprPtr res;
    for (auto& c : residual) res = res ? exec::make_and(std::move(res), std::move(c)) : std::move(c);
    std::vector<LogicalType> lt, rt;
    for (size_t i = r.lo; i < mid; i++) lt.push_back(col_types_[i]);
    for (size_t i = mid; i < r.hi; i++) rt.push_back(col_types_[i]);
    auto j = std::make_unique<exec::HashJoinOp>(r.type, std::move(lkeys), std::move(rkeys), std::move(res), lt, rt);
    j->children.push_back(std::move(lop));
    j->children.push_back(std::move(rop));
    return j;
  }

  static OpPtr filter(OpPtr child, std::vector<LogicalType> types, std::vector<ExprPtr> conj) {
    ExprPtr p;
    for (auto& c : conj) p = p ? exec::make_and(std::move(p), std::move(c)) : std::move(c);
    auto f = std::make_unique<exec::FilterOp>(std::move(types), std::move(p));
    f->children.push_back(std::move(child));
    return f;
  }

  static OpPtr project(OpPtr child, std::vector<ExprPtr> exprs) {
    auto p = std::make_unique<exec::ProjectOp>(std::move(exprs));
    p->children.push_back(std::move(child));
    return p;
  }

  // ---------- SELECT ----------

  // `sel` is {"SelectStmt": {...}} or a bare SelectStmt body (set-operation arms).
  Plan select(const json& sel, const Scope* outer) {
    const json& b = is(sel, "SelectStmt") ? body(sel) : sel;
    std::map<std::string, const json*> local_ctes;
    std::map<std::string, const json*>* saved = ctes_;
    if (b.contains("withClause")) {
      const json& w = b["withClause"];
      if (w.value("recursive", false)) unsupported("WITH RECURSIVE", w);
      if (ctes_) local_ctes = *ctes_;
      ctes_ = &local_ctes;
      for (auto& c : w.at("ctes")) {
        const json& cb = body(c);
        local_ctes[cb.value("ctename", "")] = &cb;
      }
    }
    Plan p = select_core(b, outer);
    ctes_ = saved;
    return p;
  }

  Plan select_core(const json& b, const Scope* outer) {
    std::string op = b.value("op", "SETOP_NONE");
    if (op != "SETOP_NONE") return set_operation(b, outer);
    if (b.contains("valuesLists")) {
      Plan p = values(b["valuesLists"], {});
      return order_limit(std::move(p), b, nullptr, nullptr);
    }
    if (b.contains("intoClause")) unsupported("SELECT INTO", b);
    if (b.contains("lockingClause")) unsupported("FOR UPDATE", b);
    if (b.contains("windowClause")) unsupported("named windows (WINDOW clause)", b["windowClause"]);

    // FROM + WHERE
    std::vector<Col> cols;
    Plan cur;
    if (b.contains("fromClause")) {
      std::vector<std::unique_ptr<Rel>> items;
      for (auto& f : b["fromClause"]) items.push_back(from_item(f, cols, outer));
      // comma list = cross joins, left-deep
      std::unique_ptr<Rel> root = std::move(items[0]);
      for (size_t i = 1; i < items.size(); i++) {
        auto j = std::make_unique<Rel>();
        j->leaf = false;
        j->type = exec::JoinType::kInner;
        j->lo = root->lo;
        j->hi = items[i]->hi;
        j->left = std::move(root);
        j->right = std::move(items[i]);
        root = std::move(j);
      }
      std::vector<ExprPtr> pool;
      std::vector<const json*> correlated;
      if (b.contains("whereClause")) {
        Scope s;
        s.cols = cols;
        s.outer = outer;
        check_no_aggs(b["whereClause"], "WHERE");
        std::vector<const json*> conj;
        split_json_and(b["whereClause"], conj);
        for (auto* c : conj) {
          try {
            ExprPtr w = coerce_bool(bind(*c, s), *c);
            exec::split_and(std::move(w), pool);
          } catch (const exec::SqlError& e) {
            // [NOT] EXISTS / IN over a correlated subquery: a semi/anti join below.
            if (std::string(e.what()).find("correlated subqueries") == std::string::npos || !is_subquery_conjunct(*c)) throw;
            correlated.push_back(c);
          }
        }
      }
      col_types_.clear();
      for (auto& c : cols) col_types_.push_back(c.type);
      cur.op = build_rel(*root, pool);
      std::vector<ExprPtr> rest;
      for (auto& c : pool)
        if (c) rest.push_back(std::move(c));
      cur.cols = cols;
      if (!rest.empty()) cur.op = filter(std::move(cur.op), cur.types(), std::move(rest));
      for (auto* c : correlated) cur.op = decorrelate(*c, cur, outer);
    } else {
      std::vector<std::vector<ExprPtr>> rows(1);
      cur.op = std::make_unique<exec::ValuesOp>(std::vector<LogicalType>{}, std::move(rows));
      if (b.contains("whereClause")) {
        Scope s;
        s.outer = outer;
        ExprPtr w = coerce_bool(bind(b["whereClause"], s), b["whereClause"]);
        std::vector<ExprPtr> c;
        c.push_back(std::move(w));
        cur.op = filter(std::move(cur.op), {}, std::move(c));
      }
    }

    // Expand the target list.
    struct Target { const json* expr = nullptr; std::string name; int star_col = -1; };
    std::vector<Target> targets;
    static const json kNoTargets = json::array();
    for (auto& rt : b.contains("targetList") ? b["targetList"] : kNoTargets) {
      const json& r = body(rt);
      const json& v = r.at("val");
      if (is(v, "ColumnRef") && is(body(v).at("fields").back(), "A_Star")) {
        const json& f = body(v)["fields"];
        std::string table = f.size() >= 2 ? str_of(f[f.size() - 2]) : "";
        bool any = false;
        for (size_t i = 0; i < cur.cols.size(); i++) {
          if (table.empty() ? cur.cols[i].hidden : cur.cols[i].table != table) continue;
          targets.push_back({nullptr, cur.cols[i].name, static_cast<int>(i)});
          any = true;
        }
        if (!any && !table.empty()) fail_at(ss::kUndefinedTable, "missing FROM-clause entry for table \"" + table + "\"", v);
        if (!any && table.empty() && !b.contains("fromClause")) fail_at(ss::kSyntaxError, "SELECT * with no tables specified is not valid", v);
        continue;
      }
      std::string name = r.value("name", "");
      if (name.empty()) name = derive_name(v);
      targets.push_back({&v, name, -1});
    }

    // Aggregation.
    std::vector<const json*> aggs;
    for (auto& t : targets) if (t.expr) find_aggs(*t.expr, aggs);
    if (b.contains("havingClause")) find_aggs(b["havingClause"], aggs);
    if (b.contains("sortClause")) find_aggs(b["sortClause"], aggs);
    bool grouped = !aggs.empty() || b.contains("groupClause") || b.contains("havingClause");
    Scope sc;
    sc.cols = cur.cols;
    sc.outer = outer;
    std::vector<Col> pre_cols = cur.cols;
    if (grouped) {
      Scope in;
      in.cols = cur.cols;
      in.outer = outer;
      std::vector<ExprPtr> gexprs;
      std::vector<Col> out_cols;
      std::map<std::string, size_t> expr_map;
      std::map<size_t, size_t> group_col;
      if (b.contains("groupClause")) {
        for (auto& g : b["groupClause"]) {
          const json* ge = &g;
          if (is(g, "A_Const") && body(g).contains("ival")) {
            int64_t k = body(g)["ival"].value("ival", 0);
            if (k < 1 || k > static_cast<int64_t>(targets.size()))
              fail_at(ss::kSyntaxError, "GROUP BY position " + std::to_string(k) + " is not in select list", g);
            if (!targets[k - 1].expr) {
              int sc_i = targets[k - 1].star_col;
              gexprs.push_back(exec::make_column(sc_i, cur.cols[sc_i].type, cur.cols[sc_i].name));
              group_col[sc_i] = out_cols.size();
              out_cols.push_back(cur.cols[sc_i]);
              continue;
            }
            ge = targets[k - 1].expr;
          } else if (is(g, "ColumnRef") && body(g)["fields"].size() == 1 && is(body(g)["fields"][0], "String")) {
            // GROUP BY an output alias (when it is not an input column)
            std::string nm = str_of(body(g)["fields"][0]);
            bool input = false;
            for (auto& c : cur.cols) input = input || (c.name == nm && !c.hidden);
            if (!input)
              for (auto& t : targets)
                if (t.expr && t.name == nm) { ge = t.expr; break; }
          } else if (is(g, "GroupingSet") || is(g, "RowExpr")) {
            unsupported("GROUPING SETS / ROLLUP / CUBE", g);
          }
          check_no_aggs(*ge, "GROUP BY");
          ExprPtr e = bind(*ge, in);
          if (e->kind() == exec::ExprKind::kColumn) group_col[static_cast<exec::ColumnExpr&>(*e).index] = out_cols.size();
          expr_map[norm(*ge)] = out_cols.size();
          out_cols.push_back({"", derive_name(*ge), e->type()});
          gexprs.push_back(std::move(e));
        }
      }
      std::vector<exec::AggregateCall> calls;
      for (auto* a : aggs) {
        std::string key = norm(*a);
        if (expr_map.count(key)) continue;
        const json& fb = body(*a);
        std::string name = func_name(fb);
        exec::AggregateCall call;
        std::vector<LogicalType> at;
        std::vector<ExprPtr> args;
        if (fb.contains("args")) {
          for (auto& x : fb["args"]) {
            std::vector<const json*> nested;
            find_aggs(x, nested);
            if (!nested.empty()) fail_at(ss::kGrouping, "aggregate function calls cannot be nested", *nested[0]);
            args.push_back(bind(x, in));
          }
        }
        if (fb.value("agg_within_group", false)) {
          // percentile_cont(f) WITHIN GROUP (ORDER BY x) -> (x, f)
          if (!fb.contains("agg_order") || fb["agg_order"].size() != 1) unsupported("this WITHIN GROUP form", *a);
          std::vector<ExprPtr> re;
          re.push_back(bind(body(fb["agg_order"][0]).at("node"), in));
          for (auto& x : args) re.push_back(std::move(x));
          args = std::move(re);
        } else if (fb.contains("agg_order") && name != "string_agg") {
          unsupported("ORDER BY inside an aggregate", *a);
        }
        if (fb.value("agg_star", false) && name != "count") fail_at(ss::kSyntaxError, name + "(*) is not allowed", *a);
        if (name == "count" && args.empty() && !fb.value("agg_star", false))
          fail_at(ss::kWrongObjectType, "count(*) must be used to call a parameterless aggregate function", *a);
        if (fb.contains("agg_filter")) {
          // agg(x) FILTER (WHERE c) = agg(CASE WHEN c THEN x END); count(*) counts CASE WHEN c THEN 1 END.
          check_no_aggs(fb["agg_filter"], "FILTER");
          if (args.empty()) args.push_back(exec::make_constant(Value::integer(1)));
          for (auto& x : args) {
            ExprPtr c = coerce_bool(bind(fb["agg_filter"], in), fb["agg_filter"]);
            std::vector<ExprPtr> w, t;
            w.push_back(std::move(c));
            LogicalType xt = x->type();
            t.push_back(std::move(x));
            x = exec::make_case(std::move(w), std::move(t), nullptr, xt);
          }
        }
        for (auto& x : args) at.push_back(x->type());
        std::string err;
        if (!exec::resolve_aggregate(name, at, &call.sig, &err)) fail_at(ss::kUndefinedFunction, err, *a);
        for (size_t i = 0; i < args.size() && i < call.sig.arg_types.size(); i++)
          args[i] = coerce(std::move(args[i]), call.sig.arg_types[i]);
        if (call.sig.kind == exec::AggKind::kPercentileCont || call.sig.kind == exec::AggKind::kApproxPercentile) {
          if (!exec::is_constant_expr(*args[1])) fail_at(ss::kFeatureNotSupported, "the percentile must be a constant", *a);
          Value f = exec::eval_constant(*args[1], *env_.ctx);
          call.fraction = f.is_null ? 0.5 : f.f;
          if (!(call.fraction >= 0 && call.fraction <= 1))
            fail_at(ss::kInvalidParameter, "percentile value " + exec::format_double(call.fraction) + " is not between 0 and 1", *a);
        }
        call.args = std::move(args);
        call.distinct = fb.value("agg_distinct", false);
        call.display = derive_name(*a);
        expr_map[key] = out_cols.size();
        out_cols.push_back({"", call.display, call.sig.result});
        calls.push_back(std::move(call));
      }
      auto agg = std::make_unique<exec::HashAggregateOp>(std::move(gexprs), std::move(calls));
      agg->children.push_back(std::move(cur.op));
      cur.op = std::move(agg);
      cur.cols = out_cols;
      sc = Scope();
      sc.cols = out_cols;
      sc.outer = outer;
      sc.agg_mode = true;
      sc.expr_map = expr_map;
      sc.group_col = group_col;
      agg_pre_ = pre_cols;
      sc.pre_agg = &agg_pre_;
      if (b.contains("havingClause")) {
        ExprPtr h = coerce_bool(bind(b["havingClause"], sc), b["havingClause"]);
        std::vector<ExprPtr> c;
        c.push_back(std::move(h));
        cur.op = filter(std::move(cur.op), cur.types(), std::move(c));
      }
    }

    // Window functions.
    std::vector<const json*> wins;
    for (auto& t : targets) if (t.expr) find_windows(*t.expr, wins);
    if (b.contains("sortClause")) find_windows(b["sortClause"], wins);
    if (!wins.empty()) {
      std::vector<exec::WindowCall> calls;
      std::vector<Col> wcols = cur.cols;
      for (auto* w : wins) {
        std::string key = norm(*w);
        if (sc.expr_map.count(key)) continue;
        calls.push_back(window_call(*w, sc));
        sc.expr_map[key] = wcols.size();
        wcols.push_back({"", derive_name(*w), calls.back().type});
      }
      auto wop = std::make_unique<exec::WindowOp>(cur.types(), std::move(calls));
      wop->children.push_back(std::move(cur.op));
      cur.op = std::move(wop);
      cur.cols = wcols;
      sc.cols = wcols;
      sc.agg_mode = true;  // so expr_map lookups apply
      if (!grouped) {
        // plain columns stay addressable by their index
        agg_pre_ = pre_cols;
        sc.pre_agg = &agg_pre_;
        for (size_t i = 0; i < pre_cols.size(); i++) sc.group_col[i] = i;
      }
    }

    // Projection.
    std::vector<ExprPtr> exprs;
    Plan out;
    for (auto& t : targets) {
      if (!t.expr) {
        if (sc.agg_mode) {
          auto it = sc.group_col.find(static_cast<size_t>(t.star_col));
          if (it == sc.group_col.end())
            fail(ss::kGrouping, "column \"" + pre_cols[t.star_col].name + "\" must appear in the GROUP BY clause or be used in an aggregate function");
          exprs.push_back(exec::make_column(it->second, sc.cols[it->second].type, t.name));
        } else {
          exprs.push_back(exec::make_column(t.star_col, cur.cols[t.star_col].type, t.name));
        }
      } else {
        exprs.push_back(bind(*t.expr, sc));
      }
      LogicalType ty = exprs.back()->type();
      if (ty.id == exec::TypeId::kNull) {
        exprs.back() = coerce(std::move(exprs.back()), exec::TypeId::kVarchar);
        ty = exec::TypeId::kVarchar;
      }
      out.cols.push_back({"", t.name, ty});
    }
    size_t visible = exprs.size();
    bool distinct = b.contains("distinctClause");
    if (distinct && !b["distinctClause"].empty() && !b["distinctClause"][0].is_null() && !b["distinctClause"][0].empty())
      unsupported("DISTINCT ON", b["distinctClause"]);

    // ORDER BY keys: output ordinals/aliases/expressions, else hidden extra columns.
    std::vector<exec::SortKey> keys;
    if (b.contains("sortClause")) {
      for (auto& sbn : b["sortClause"]) {
        const json& sb = body(sbn);
        const json& node = sb.at("node");
        int idx = -1;
        if (is(node, "A_Const") && body(node).contains("ival")) {
          int64_t k = body(node)["ival"].value("ival", 0);
          if (k < 1 || k > static_cast<int64_t>(visible))
            fail_at(ss::kSyntaxError, "ORDER BY position " + std::to_string(k) + " is not in select list", node);
          idx = static_cast<int>(k - 1);
        } else if (is(node, "ColumnRef") && body(node)["fields"].size() == 1 && is(body(node)["fields"][0], "String")) {
          std::string nm = str_of(body(node)["fields"][0]);
          for (size_t i = 0; i < visible; i++)
            if (out.cols[i].name == nm && targets[i].expr) {
              if (idx >= 0 && idx != static_cast<int>(i)) fail_at(ss::kAmbiguousColumn, "ORDER BY \"" + nm + "\" is ambiguous", node);
              idx = static_cast<int>(i);
            }
        }
        if (idx < 0) {
          std::string k = norm(node);
          for (size_t i = 0; i < visible; i++)
            if (targets[i].expr && norm(*targets[i].expr) == k) { idx = static_cast<int>(i); break; }
        }
        if (idx < 0) {
          if (distinct) fail_at(ss::kSyntaxError, "for SELECT DISTINCT, ORDER BY expressions must appear in select list", node);
          exprs.push_back(bind(node, sc));
          idx = static_cast<int>(exprs.size() - 1);
        }
        exec::KeySpec spec;
        std::string dir = sb.value("sortby_dir", "SORTBY_DEFAULT");
        std::string nulls = sb.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
        if (dir == "SORTBY_USING") unsupported("ORDER BY USING", node);
        spec.descending = dir == "SORTBY_DESC";
        spec.nulls_first = nulls == "SORTBY_NULLS_DEFAULT" ? spec.descending : nulls == "SORTBY_NULLS_FIRST";
        keys.push_back({exec::make_column(idx, exprs[idx]->type()), spec});
      }
    }
    std::vector<LogicalType> ptypes;
    for (auto& e : exprs) ptypes.push_back(e->type());
    out.op = project(std::move(cur.op), std::move(exprs));
    if (distinct) {
      std::vector<ExprPtr> g;
      for (size_t i = 0; i < visible; i++) g.push_back(exec::make_column(i, out.cols[i].type));
      auto d = std::make_unique<exec::HashAggregateOp>(std::move(g), std::vector<exec::AggregateCall>{});
      d->children.push_back(std::move(out.op));
      out.op = std::move(d);
    }
    out.op = sort_limit(std::move(out.op), ptypes, std::move(keys), b);
    if (ptypes.size() > visible) {
      std::vector<ExprPtr> keep;
      for (size_t i = 0; i < visible; i++) keep.push_back(exec::make_column(i, out.cols[i].type));
      out.op = project(std::move(out.op), std::move(keep));
    }
    return out;
  }

  exec::WindowCall window_call(const json& w, Scope& sc) {
    const json& fb = body(w);
    const json& over = fb.at("over");
    if (over.contains("name") || over.contains("refname")) unsupported("named windows", w);
    int fo = over.value("frameOptions", 0);
    // default frame (RANGE UNBOUNDED PRECEDING .. CURRENT ROW) = 1058; whole partition without ORDER BY
    if (fo != 1058 && fo != 0 && fo != 1034) unsupported("window frame clauses", w);
    exec::WindowCall c;
    std::string name = func_name(fb);
    c.display = derive_name(w);
    if (over.contains("partitionClause"))
      for (auto& p : over["partitionClause"]) c.partition.push_back(bind(p, sc));
    if (over.contains("orderClause"))
      for (auto& o : over["orderClause"]) {
        const json& sb = body(o);
        exec::KeySpec spec;
        spec.descending = sb.value("sortby_dir", "") == "SORTBY_DESC";
        std::string nulls = sb.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
        spec.nulls_first = nulls == "SORTBY_NULLS_DEFAULT" ? spec.descending : nulls == "SORTBY_NULLS_FIRST";
        c.order.push_back({bind(sb.at("node"), sc), spec});
      }
    std::vector<ExprPtr> args;
    if (fb.contains("args"))
      for (auto& a : fb["args"]) {
        std::vector<const json*> nested;
        find_windows(a, nested);
        if (!nested.empty()) fail_at(ss::kGrouping, "window function calls cannot be nested", a);
        args.push_back(bind(a, sc));
      }
    if (fb.value("agg_distinct", false)) unsupported("DISTINCT in window functions", w);
    using K = exec::WindowKind;
    if (name == "row_number" || name == "rank" || name == "dense_rank") {
      c.kind = name == "row_number" ? K::kRowNumber : name == "rank" ? K::kRank : K::kDenseRank;
      c.type = exec::TypeId::kBigInt;
    } else if (name == "lag" || name == "lead" || name == "first_value" || name == "last_value") {
      if (args.empty() || args.size() > 3) fail_at(ss::kUndefinedFunction, "function " + name + " takes 1 to 3 arguments", w);
      c.kind = name == "lag" ? K::kLag : name == "lead" ? K::kLead : name == "first_value" ? K::kFirstValue : K::kLastValue;
      c.type = args[0]->type();
      if (c.type.id == exec::TypeId::kNull) { c.type = exec::TypeId::kVarchar; args[0] = coerce(std::move(args[0]), c.type); }
      if (args.size() > 1) args[1] = coerce(std::move(args[1]), exec::TypeId::kBigInt);
      if (args.size() > 2) args[2] = coerce(std::move(args[2]), c.type);
    } else if (is_agg_name(name)) {
      c.kind = K::kAggregate;
      std::vector<LogicalType> at;
      for (auto& a : args) at.push_back(a->type());
      std::string err;
      if (!exec::resolve_aggregate(name, at, &c.agg, &err)) fail_at(ss::kUndefinedFunction, err, w);
      if (c.agg.kind == exec::AggKind::kPercentileCont || c.agg.kind == exec::AggKind::kApproxPercentile)
        unsupported("percentiles as window functions", w);
      for (size_t i = 0; i < args.size(); i++) args[i] = coerce(std::move(args[i]), c.agg.arg_types[i]);
      c.type = c.agg.result;
      c.whole_partition = c.order.empty();
    } else {
      fail_at(ss::kUndefinedFunction, "window function " + name + " does not exist", w);
    }
    c.args = std::move(args);
    return c;
  }

  OpPtr sort_limit(OpPtr op, const std::vector<LogicalType>& types, std::vector<exec::SortKey> keys, const json& b) {
    int64_t limit = -1, offset = 0;
    Scope empty;
    auto is_param = [](Expr& e) { int i; return exec::as_parameter(e, &i); };
    if (b.contains("limitCount")) {
      ExprPtr e = coerce(bind(b["limitCount"], empty), exec::TypeId::kBigInt);
      if (!exec::is_constant_expr(*e) && !is_param(*e)) fail_at(ss::kSyntaxError, "LIMIT must be a constant", b["limitCount"]);
      Value v = env_.describe_only && is_param(*e) ? Value::null() : exec::eval_constant(*e, *env_.ctx);
      if (!v.is_null) {
        if (v.i < 0) fail_at("2201W", "LIMIT must not be negative", b["limitCount"]);
        limit = v.i;
      }
    }
    if (b.contains("limitOffset")) {
      ExprPtr e = coerce(bind(b["limitOffset"], empty), exec::TypeId::kBigInt);
      if (!exec::is_constant_expr(*e) && !is_param(*e)) fail_at(ss::kSyntaxError, "OFFSET must be a constant", b["limitOffset"]);
      Value v = env_.describe_only && is_param(*e) ? Value::null() : exec::eval_constant(*e, *env_.ctx);
      if (!v.is_null) {
        if (v.i < 0) fail_at("2201X", "OFFSET must not be negative", b["limitOffset"]);
        offset = v.i;
      }
    }
    if (!keys.empty()) {
      int64_t topn = limit >= 0 ? limit + offset : -1;
      auto s = std::make_unique<exec::SortOp>(types, std::move(keys), topn);
      s->children.push_back(std::move(op));
      op = std::move(s);
    }
    if (limit >= 0 || offset > 0) {
      auto l = std::make_unique<exec::LimitOp>(types, limit, offset);
      l->children.push_back(std::move(op));
      op = std::move(l);
    }
    return op;
  }

  // ORDER BY / LIMIT over a finished plan (VALUES, set operations): by ordinal or name.
  Plan order_limit(Plan p, const json& b, const Scope*, void*) {
    std::vector<exec::SortKey> keys;
    if (b.contains("sortClause")) {
      for (auto& sbn : b["sortClause"]) {
        const json& sb = body(sbn);
        const json& node = sb.at("node");
        Scope s;
        s.cols = p.cols;
        ExprPtr e;
        if (is(node, "A_Const") && body(node).contains("ival")) {
          int64_t k = body(node)["ival"].value("ival", 0);
          if (k < 1 || k > static_cast<int64_t>(p.cols.size()))
            fail_at(ss::kSyntaxError, "ORDER BY position " + std::to_string(k) + " is not in select list", node);
          e = exec::make_column(k - 1, p.cols[k - 1].type);
        } else {
          e = bind(node, s);
        }
        exec::KeySpec spec;
        spec.descending = sb.value("sortby_dir", "") == "SORTBY_DESC";
        std::string nulls = sb.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
        spec.nulls_first = nulls == "SORTBY_NULLS_DEFAULT" ? spec.descending : nulls == "SORTBY_NULLS_FIRST";
        keys.push_back({std::move(e), spec});
      }
    }
    p.op = sort_limit(std::move(p.op), p.types(), std::move(keys), b);
    return p;
  }

  Plan set_operation(const json& b, const Scope* outer) {
    std::string op = b.value("op", "");
    bool all = b.value("all", false);
    if (op != "SETOP_UNION" && all) unsupported(op == "SETOP_INTERSECT" ? "INTERSECT ALL" : "EXCEPT ALL", b);
    Binder lb(env_, ctes_), rb(env_, ctes_);
    Plan l = lb.select(b.at("larg"), outer);
    Plan r = rb.select(b.at("rarg"), outer);
    if (l.cols.size() != r.cols.size())
      fail_at(ss::kSyntaxError, "each UNION query must have the same number of columns", b.at("rarg"));
    std::vector<LogicalType> types;
    bool lcast = false, rcast = false;
    for (size_t i = 0; i < l.cols.size(); i++) {
      LogicalType t = merge_type(l.cols[i].type, r.cols[i].type, b.at("rarg"));
      if (t.id == exec::TypeId::kNull) t = exec::TypeId::kVarchar;
      types.push_back(t);
      lcast = lcast || t != l.cols[i].type;
      rcast = rcast || t != r.cols[i].type;
    }
    auto cast_all = [&](Plan& p) {
      std::vector<ExprPtr> ex;
      for (size_t i = 0; i < types.size(); i++) ex.push_back(coerce(exec::make_column(i, p.cols[i].type), types[i]));
      p.op = project(std::move(p.op), std::move(ex));
    };
    if (lcast) cast_all(l);
    if (rcast) cast_all(r);
    Plan out;
    out.cols = l.cols;
    for (size_t i = 0; i < types.size(); i++) { out.cols[i].type = types[i]; out.cols[i].table.clear(); out.cols[i].hidden = false; }
    if (op != "SETOP_UNION") {
      // INTERSECT / EXCEPT: tag each side, group by all columns, keep groups seen on
      // both sides (INTERSECT) or only on the left (EXCEPT).
      auto tag = [&](Plan& p, int t) {
        std::vector<ExprPtr> ex;
        for (size_t i = 0; i < types.size(); i++) ex.push_back(exec::make_column(i, types[i]));
        ex.push_back(exec::make_constant(Value::integer(t)));
        p.op = project(std::move(p.op), std::move(ex));
      };
      tag(l, 1);
      tag(r, 2);
      auto tt = types;
      tt.push_back(exec::TypeId::kInteger);
      auto u = std::make_unique<exec::UnionAllOp>(tt);
      u->children.push_back(std::move(l.op));
      u->children.push_back(std::move(r.op));
      std::vector<ExprPtr> g;
      for (size_t i = 0; i < types.size(); i++) g.push_back(exec::make_column(i, types[i]));
      std::vector<exec::AggregateCall> calls(2);
      std::string err;
      for (int k = 0; k < 2; k++) {
        (void)exec::resolve_aggregate(k == 0 ? "min" : "max", {exec::TypeId::kInteger}, &calls[k].sig, &err);
        calls[k].args.push_back(exec::make_column(types.size(), exec::TypeId::kInteger));
        calls[k].display = k == 0 ? "min(side)" : "max(side)";
      }
      auto agg = std::make_unique<exec::HashAggregateOp>(std::move(g), std::move(calls));
      agg->children.push_back(std::move(u));
      size_t n = types.size();
      ExprPtr keep = op == "SETOP_INTERSECT"
          ? exec::make_and(exec::make_compare(exec::CompareOp::kEq, exec::make_column(n, exec::TypeId::kInteger), exec::make_constant(Value::integer(1))),
                           exec::make_compare(exec::CompareOp::kEq, exec::make_column(n + 1, exec::TypeId::kInteger), exec::make_constant(Value::integer(2))))
          : exec::make_compare(exec::CompareOp::kEq, exec::make_column(n + 1, exec::TypeId::kInteger), exec::make_constant(Value::integer(1)));
      std::vector<ExprPtr> conj;
      conj.push_back(std::move(keep));
      auto at = types;
      at.push_back(exec::TypeId::kInteger);
      at.push_back(exec::TypeId::kInteger);
      OpPtr f = filter(std::move(agg), at, std::move(conj));
      std::vector<ExprPtr> ex;
      for (size_t i = 0; i < n; i++) ex.push_back(exec::make_column(i, types[i]));
      out.op = project(std::move(f), std::move(ex));
      return order_limit(std::move(out), b, nullptr, nullptr);
    }
    auto u = std::make_unique<exec::UnionAllOp>(types);
    u->children.push_back(std::move(l.op));
    u->children.push_back(std::move(r.op));
    out.op = std::move(u);
    if (!all) {
      std::vector<ExprPtr> g;
      for (size_t i = 0; i < types.size(); i++) g.push_back(exec::make_column(i, types[i]));
      auto d = std::make_unique<exec::HashAggregateOp>(std::move(g), std::vector<exec::AggregateCall>{});
      d->children.push_back(std::move(out.op));
      out.op = std::move(d);
    }
    return order_limit(std::move(out), b, nullptr, nullptr);
  }

  // VALUES lists; `hints` are target column types (INSERT) for NULLs and parameters.
  Plan values(const json& lists, const std::vector<LogicalType>& hints) {
    std::vector<std::vector<ExprPtr>> rows;
    Scope empty;
    size_t width = 0;
    for (auto& l : lists) {
      std::vector<ExprPtr> row;
      for (auto& x : body(l).at("items")) {
        if (is(x, "SetToDefault")) {
          row.push_back(exec::make_constant(Value::null()));
          continue;
        }
        row.push_back(bind(x, empty));
        size_t i = row.size() - 1;
        if (i < hints.size() && row.back()->type().id == exec::TypeId::kNull) row.back() = coerce(std::move(row.back()), hints[i]);
      }
      if (!rows.empty() && row.size() != width) fail_at(ss::kSyntaxError, "VALUES lists must all be the same length", l);
      width = row.size();
      rows.push_back(std::move(row));
    }
    std::vector<LogicalType> types(width, LogicalType());
    for (auto& r : rows)
      for (size_t i = 0; i < width; i++) types[i] = merge_type(types[i], r[i]->type(), lists);
    Plan p;
    for (size_t i = 0; i < width; i++) {
      if (types[i].id == exec::TypeId::kNull) types[i] = i < hints.size() ? hints[i] : LogicalType(exec::TypeId::kVarchar);
      p.cols.push_back({"", "column" + std::to_string(i + 1), types[i]});
    }
    for (auto& r : rows)
      for (size_t i = 0; i < width; i++) r[i] = coerce(std::move(r[i]), types[i]);
    p.op = std::make_unique<exec::ValuesOp>(types, std::move(rows));
    return p;
  }

  void check_no_aggs(const json& n, const char* clause) {
    std::vector<const json*> a;
    find_aggs(n, a);
    if (!a.empty()) fail_at(ss::kGrouping, std::string("aggregate functions are not allowed in ") + clause, *a[0]);
    std::vector<const json*> w;
    find_windows(n, w);
    if (!w.empty()) fail_at(ss::kGrouping, std::string("window functions are not allowed in ") + clause, *w[0]);
  }

  static std::string derive_name(const json& v) {
    if (is(v, "ColumnRef")) {
      const json& f = body(v)["fields"];
      return is(f.back(), "String") ? str_of(f.back()) : "?column?";
    }
    if (is(v, "FuncCall")) return func_name(body(v));
    if (is(v, "TypeCast")) {
      std::string inner = derive_name(body(v).at("arg"));
      if (inner != "?column?") return inner;
      auto names = names_of(body(v).at("typeName").at("names"));
      return names.back();
    }
    if (is(v, "CaseExpr")) return "case";
    if (is(v, "CoalesceExpr")) return "coalesce";
    if (is(v, "MinMaxExpr")) return body(v).value("op", "") == "IS_GREATEST" ? "greatest" : "least";
    if (is(v, "SubLink") && body(v).value("subLinkType", "") == "EXISTS_SUBLINK") return "exists";
    if (is(v, "SQLValueFunction")) {
      std::string op = body(v).value("op", "");
      if (op == "SVFOP_CURRENT_DATE") return "current_date";
      if (op == "SVFOP_CURRENT_TIMESTAMP") return "current_timestamp";
      return "?column?";
    }
    return "?column?";
  }

  static json parse_json(const std::string& sql) {
    check_utf8(sql);
    PgQueryParseResult r = pg_query_parse(sql.c_str());
    if (r.error) {
      std::string msg = r.error->message;
      int pos = r.error->cursorpos > 0 ? r.error->cursorpos - 1 : -1;
      pg_query_free_parse_result(r);
      fail(ss::kSyntaxError, msg, pos);
    }
    json j = take_parse_tree(r);
    return j;
  }

  static bool has_parameter(exec::Expr& e) {
    if (e.kind() == exec::ExprKind::kParameter) return true;
    for (auto* c : e.children())
      if (*c && has_parameter(**c)) return true;
    return false;
  }

  // Predicate pushdown into providers that prune (lake tables): the conjuncts over one
  // scan's columns of the form `column op constant` (=, <, <=, >, >=; constants folded,
  // parameters left alone) become bounds; the scan then reads only what may match, and
  // EXPLAIN shows the provider's note. The conjuncts still filter the rows above it.
  void push_bounds(exec::PhysicalOperator* op, std::vector<ExprPtr>& conj) {
    auto* scan = dynamic_cast<exec::ScanOp*>(op);
    if (!scan) return;
    auto it = prunable_.find(scan);
    if (it == prunable_.end()) return;
    std::vector<catalog::TableProvider::ColumnBound> bounds;
    for (auto& c : conj) {
      exec::CompareOp cop;
      ExprPtr *l, *r;
      if (!c || !exec::as_comparison(*c, &cop, &l, &r)) continue;
      exec::Expr* col = l->get();
      exec::Expr* k = r->get();
      bool flipped = false;
      if (col->kind() != exec::ExprKind::kColumn) {
        std::swap(col, k);
        flipped = true;
      }
      if (col->kind() != exec::ExprKind::kColumn) continue;
      std::vector<exec::ColumnExpr*> refs;
      exec::collect_columns(*k, refs);
      if (!refs.empty() || has_parameter(*k)) continue;
      Value v;
      try {
        v = exec::eval_constant(*k, *env_.ctx);
      } catch (const std::exception&) {
        continue;  // the filter above reports it when the query runs
      }
      if (v.is_null || v.type != col->type()) continue;
      if (flipped) {
        if (cop == exec::CompareOp::kLt) cop = exec::CompareOp::kGt;
        else if (cop == exec::CompareOp::kLe) cop = exec::CompareOp::kGe;
        else if (cop == exec::CompareOp::kGt) cop = exec::CompareOp::kLt;
        else if (cop == exec::CompareOp::kGe) cop = exec::CompareOp::kLe;
      }
      catalog::TableProvider::ColumnBound b;
      b.column = static_cast<exec::ColumnExpr*>(col)->index;
      b.lo = Value::null(col->type());
      b.hi = Value::null(col->type());
      switch (cop) {
        case exec::CompareOp::kEq: b.lo = v, b.hi = v; break;
        case exec::CompareOp::kGt:
        case exec::CompareOp::kGe: b.lo = v; break;
        case exec::CompareOp::kLt:
        case exec::CompareOp::kLe: b.hi = v; break;
        default: continue;
      }
      bounds.push_back(std::move(b));
    }
    if (bounds.empty()) return;
    auto prov = it->second;
    scan->set_loader([prov, bounds] { return prov->snapshot_filtered(bounds); }, prov->scan_note(bounds));
  }

  PlanEnv& env_;
  std::map<exec::ScanOp*, std::shared_ptr<catalog::TableProvider>> prunable_;  // scans read lazily
  std::map<std::string, const json*>* ctes_;
  std::string_view sql_;  // text the JSON locations refer to
  std::vector<LogicalType> col_types_;
  std::vector<Col> agg_pre_;
  int view_depth_ = 0;
};

// ---- statements --------------------------------------------------------------------------

StatementPlan rows_plan(StatementKind kind, std::vector<ResultColumn> cols, std::vector<std::vector<Value>> rows,
                        std::string tag) {
  StatementPlan sp;
  sp.kind = kind;
  sp.columns = cols;
  std::vector<LogicalType> types;
  for (auto& c : cols) types.push_back(c.type);
  std::vector<std::vector<ExprPtr>> er;
  for (auto& r : rows) {
    std::vector<ExprPtr> e;
    for (size_t i = 0; i < r.size(); i++) {
      Value v = r[i];
      v.type = types[i];
      e.push_back(exec::make_constant(std::move(v)));
    }
    er.push_back(std::move(e));
  }
  sp.root = std::make_unique<exec::ValuesOp>(types, std::move(er));
  sp.tag = std::move(tag);
  return sp;
}

std::vector<ResultColumn> result_columns(const Plan& p) {
  std::vector<ResultColumn> r;
  for (auto& c : p.cols) r.push_back({c.name, c.type});
  return r;
}

std::string option_string(const json& arg) {
  if (is(arg, "String")) return body(arg).value("sval", "");
  if (is(arg, "Integer")) return std::to_string(body(arg).value("ival", 0));
  if (is(arg, "Float")) return body(arg).value("fval", "");
  if (is(arg, "Boolean")) return body(arg).value("boolval", false) ? "true" : "false";
  if (is(arg, "TypeName")) return names_of(body(arg).at("names")).back();
  if (is(arg, "A_Const")) {
    const json& b = body(arg);
    if (b.contains("sval")) return b["sval"].value("sval", "");
    if (b.contains("ival")) return std::to_string(b["ival"].value("ival", 0));
    if (b.contains("fval")) return b["fval"].value("fval", "");
    if (b.contains("boolval")) return b["boolval"].value("boolval", false) ? "true" : "false";
  }
  return arg.dump();
}

int64_t parse_memory(const std::string& v) {
  std::string s = lower(v);
  size_t i = 0;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
  if (i == 0) fail(ss::kInvalidParameter, "invalid value for memory_limit: \"" + v + "\"");
  double n = std::stod(s.substr(0, i));
  std::string unit = s.substr(i);
  while (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  double m = 1;
  if (unit == "kb" || unit == "k") m = 1024;
  else if (unit == "mb" || unit == "m") m = 1024.0 * 1024;
  else if (unit == "gb" || unit == "g") m = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "b") fail(ss::kInvalidParameter, "invalid unit for memory_limit: \"" + unit + "\"");
  return static_cast<int64_t>(n * m);
}

int64_t parse_duration_ms(const std::string& v) {
  std::string s = lower(v);
  size_t i = 0;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) i++;
  if (i == 0) fail(ss::kInvalidParameter, "invalid value for statement_timeout: \"" + v + "\"");
  int64_t n = std::stoll(s.substr(0, i));
  std::string unit = s.substr(i);
  while (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  if (unit.empty() || unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "min") return n * 60000;
  fail(ss::kInvalidParameter, "invalid unit for statement_timeout: \"" + unit + "\"");
}

StatementPlan plan_json(const json& stmt, std::string_view sql, PlanEnv& env);

StatementPlan plan_insert(const json& b, PlanEnv& env) {
  const json& rv = b.at("relation");
  std::string name = rv.value("relname", "");
  auto entry = env.catalog->find(name);
  if (!entry) fail_at(ss::kUndefinedTable, "relation \"" + name + "\" does not exist", rv);
  if (entry->kind != catalog::TableKind::kTable)
    fail_at(ss::kWrongObjectType, "cannot insert into " + std::string(catalog::table_kind_name(entry->kind)) + " \"" + name + "\"", rv);
  if (b.contains("returningList")) unsupported("INSERT ... RETURNING", b["returningList"]);
  if (b.contains("onConflictClause")) unsupported("ON CONFLICT", b["onConflictClause"]);
  const auto& cols = entry->columns;
  std::vector<int> target;  // table column -> source index
  std::vector<size_t> order;
  if (b.contains("cols")) {
    target.assign(cols.size(), -1);
    int k = 0;
    for (auto& c : b["cols"]) {
      std::string cn = body(c).value("name", "");
      int found = -1;
      for (size_t i = 0; i < cols.size(); i++) if (cols[i].name == cn) found = static_cast<int>(i);
      if (found < 0) fail_at(ss::kUndefinedColumn, "column \"" + cn + "\" of relation \"" + name + "\" does not exist", c);
      if (target[found] >= 0) fail_at(ss::kDuplicateColumn, "column \"" + cn + "\" specified more than once", c);
      target[found] = k++;
      order.push_back(found);
    }
  } else {
    for (size_t i = 0; i < cols.size(); i++) { target.push_back(static_cast<int>(i)); order.push_back(i); }
  }
  std::vector<LogicalType> hints;
  for (auto i : order) hints.push_back(cols[i].type);
  Binder binder(env, nullptr);
  Plan src;
  if (!b.contains("selectStmt")) {
    // DEFAULT VALUES
    std::vector<std::vector<ExprPtr>> rows(1);
    src.op = std::make_unique<exec::ValuesOp>(std::vector<LogicalType>{}, std::move(rows));
  } else {
    const json& s = body(b["selectStmt"]);
    if (s.contains("valuesLists") && !s.contains("op")) src = binder.values(s["valuesLists"], hints);
    else if (s.contains("valuesLists") && s.value("op", "SETOP_NONE") == "SETOP_NONE") src = binder.values(s["valuesLists"], hints);
    else src = binder.select(b["selectStmt"], nullptr);
  }
  size_t given = b.contains("cols") ? b["cols"].size() : cols.size();
  if (b.contains("selectStmt") && src.cols.size() > given) fail_at(ss::kSyntaxError, "INSERT has more expressions than target columns", b["selectStmt"]);
  if (b.contains("selectStmt") && src.cols.size() < given && b.contains("cols")) fail_at(ss::kSyntaxError, "INSERT has more target columns than expressions", b["cols"]);
  std::vector<ExprPtr> exprs;
  for (size_t i = 0; i < cols.size(); i++) {
    int si = target[i];
    if (si < 0 || static_cast<size_t>(si) >= src.cols.size()) {
      exprs.push_back(exec::make_constant(Value::null(cols[i].type)));
      continue;
    }
    ExprPtr e = exec::make_column(si, src.cols[si].type);
    if (!exec::can_cast(e->type(), cols[i].type))
      fail(ss::kDatatypeMismatch, "column \"" + cols[i].name + "\" is of type " + cols[i].type.to_string() +
           " but expression is of type " + e->type().to_string());
    exprs.push_back(binder.coerce(std::move(e), cols[i].type));
  }
  auto proj = std::make_unique<exec::ProjectOp>(std::move(exprs));
  proj->children.push_back(std::move(src.op));
  StatementPlan sp;
  sp.kind = StatementKind::kInsert;
  sp.tag = "INSERT 0";
  auto op = std::make_shared<OpPtr>(std::move(proj));
  auto cat = env.catalog;
  std::vector<catalog::ColumnDef> defs = cols;
  sp.action = [op, cat, name, defs](exec::ExecContext& ctx) -> int64_t {
    exec::Executor ex(std::move(*op), ctx);
    std::vector<exec::DataChunk> chunks;
    int64_t n = 0;
    while (auto* c = ex.next()) {
      for (size_t col = 0; col < defs.size(); col++)
        if (defs[col].not_null)
          for (size_t i = 0; i < c->size(); i++)
            if (c->column(col).is_null(i))
              fail(ss::kNotNullViolation, "null value in column \"" + defs[col].name + "\" of relation \"" + name + "\" violates not-null constraint");
      exec::DataChunk copy(c->types());
      copy.append(*c, 0, c->size());
      ctx.memory.grow(static_cast<int64_t>(copy.memory_bytes()));
      chunks.push_back(std::move(copy));
      n += static_cast<int64_t>(c->size());
    }
    auto t = cat->stored_table(name);
    if (!t) fail(ss::kUndefinedTable, "relation \"" + name + "\" does not exist");
    t->append(chunks);
    return n;
  };
  return sp;
}

std::map<std::string, std::string> with_options(const json& b) {
  std::map<std::string, std::string> opts;
  if (b.contains("options"))
    for (auto& o : b["options"]) {
      const json& d = body(o);
      opts[lower(d.value("defname", ""))] = d.contains("arg") ? option_string(d["arg"]) : "true";
    }
  return opts;
}

StatementPlan plan_create(const json& b, PlanEnv& env) {
  const json& rv = b.at("relation");
  std::string name = rv.value("relname", "");
  if (rv.value("relpersistence", "p") == "t") {}  // TEMP tables are ordinary tables here
  std::vector<catalog::ColumnDef> cols;
  std::set<std::string> seen;
  if (b.contains("tableElts"))
    for (auto& e : b["tableElts"]) {
      if (!is(e, "ColumnDef")) unsupported("table constraints", e);
      const json& cd = body(e);
      catalog::ColumnDef c;
      c.name = cd.value("colname", "");
      if (!seen.insert(c.name).second) fail_at(ss::kDuplicateColumn, "column \"" + c.name + "\" specified more than once", e);
      c.type = type_from_name(cd.at("typeName"));
      if (cd.contains("constraints"))
        for (auto& k : cd["constraints"]) {
          std::string ct = body(k).value("contype", "");
          if (ct == "CONSTR_NOTNULL" || ct == "CONSTR_PRIMARY") c.not_null = true;
          else if (ct == "CONSTR_NULL") c.not_null = false;
          else unsupported("column constraint " + ct, k);
        }
      cols.push_back(std::move(c));
    }
  if (cols.empty()) fail_at(ss::kSyntaxError, "a table needs at least one column", rv);
  auto opts = with_options(b);
  bool ine = b.value("if_not_exists", false);
  StatementPlan sp;
  sp.kind = StatementKind::kCreateTable;
  sp.tag = "CREATE TABLE";
  if (opts.count("connector")) {
    if (!env.stream_hook)
      fail_at(ss::kFeatureNotSupported, "tables WITH (connector = ...) need the streaming runtime, which is not running", rv);
    auto hook = env.stream_hook;
    sp.action = [hook, name, cols, opts, ine](exec::ExecContext&) -> int64_t {
      hook->create_stream_table(name, cols, opts, ine);
      return 0;
    };
    return sp;
  }
  auto cat = env.catalog;
  sp.action = [cat, name, cols, opts, ine](exec::ExecContext&) -> int64_t {
    cat->create_table(name, cols, opts, ine);
    return 0;
  };
  return sp;
}

// The SELECT of CREATE MATERIALIZED VIEW v [WITH (...)] AS <select>: the text after the
// first top-level AS that is followed by SELECT, WITH, VALUES or '('.
std::string trim_copy(std::string_view s);
std::string matview_select_text(std::string_view sql) {
  auto word_at = [&](size_t i, const char* w) {
    size_t n = strlen(w);
    if (i + n > sql.size()) return false;
    for (size_t k = 0; k < n; k++)
      if (tolower(static_cast<unsigned char>(sql[i + k])) != w[k]) return false;
    return i + n == sql.size() || !(isalnum(static_cast<unsigned char>(sql[i + n])) || sql[i + n] == '_');
  };
  for (size_t i = 0; i < sql.size(); i++) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      for (i++; i < sql.size() && sql[i] != c; i++) {}
      continue;
    }
    if ((i == 0 || isspace(static_cast<unsigned char>(sql[i - 1])) || sql[i - 1] == ')') && word_at(i, "as")) {
      size_t j = i + 2;
      while (j < sql.size() && isspace(static_cast<unsigned char>(sql[j]))) j++;
      if (j < sql.size() && (sql[j] == '(' || word_at(j, "select") || word_at(j, "with") || word_at(j, "values")))
        return trim_copy(sql.substr(j));
    }
  }
  fail(ss::kSyntaxError, "CREATE MATERIALIZED VIEW needs AS SELECT ...");
}

StatementPlan plan_ctas(const json& b, std::string_view sql, PlanEnv& env) {
  if (b.value("objtype", "") == "OBJECT_MATVIEW") {
    const json& into = b.at("into");
    std::string name = into.at("rel").value("relname", "");
    if (!env.stream_hook) unsupported("CREATE MATERIALIZED VIEW (needs the streaming runtime)", b);
    if (into.contains("colNames")) unsupported("column names in CREATE MATERIALIZED VIEW (use aliases in the SELECT)", b);
    auto opts = with_options(into);
    std::string select = matview_select_text(sql);
    bool ine = b.value("if_not_exists", false);
    StatementPlan sp;
    sp.kind = StatementKind::kCreateView;
    sp.tag = "CREATE MATERIALIZED VIEW";
    auto hook = env.stream_hook;
    sp.action = [hook, name, select, opts, ine](exec::ExecContext&) -> int64_t {
      hook->create_materialized_view(name, select, opts, ine);
      return 0;
    };
    return sp;
  }
  if (b.value("objtype", "") != "OBJECT_TABLE") unsupported("CREATE MATERIALIZED VIEW (needs the streaming runtime)", b);
  const json& into = b.at("into");
  std::string name = into.at("rel").value("relname", "");
  Binder binder(env, nullptr);
  Plan p = binder.select(b.at("query"), nullptr);
  std::vector<catalog::ColumnDef> cols;
  std::vector<std::string> names;
  if (into.contains("colNames")) names = names_of(into["colNames"]);
  for (size_t i = 0; i < p.cols.size(); i++) cols.push_back({i < names.size() ? names[i] : p.cols[i].name, p.cols[i].type});
  StatementPlan sp;
  sp.kind = StatementKind::kInsert;
  sp.tag = "SELECT";
  auto cat = env.catalog;
  auto op = std::make_shared<OpPtr>(std::move(p.op));
  bool ine = b.value("if_not_exists", false);
  sp.action = [cat, name, cols, op, ine](exec::ExecContext& ctx) -> int64_t {
    if (!cat->create_table(name, cols, {}, ine)) return 0;
    exec::Executor ex(std::move(*op), ctx);
    std::vector<exec::DataChunk> chunks;
    int64_t n = 0;
    while (auto* c = ex.next()) {
      exec::DataChunk copy(c->types());
      copy.append(*c, 0, c->size());
      ctx.memory.grow(static_cast<int64_t>(copy.memory_bytes()));
      chunks.push_back(std::move(copy));
      n += static_cast<int64_t>(c->size());
    }
    cat->stored_table(name)->append(chunks);
    return n;
  };
  (void)sql;
  return sp;
}

StatementPlan plan_view(const json& b, std::string_view sql, PlanEnv& env) {
  const json& rv = b.at("view");
  std::string name = rv.value("relname", "");
  Binder binder(env, nullptr);
  PlanEnv probe = env;
  probe.describe_only = true;
  Binder check(probe, nullptr);
  Plan p = check.select(b.at("query"), nullptr);
  std::vector<catalog::ColumnDef> cols;
  std::vector<std::string> names;
  if (b.contains("aliases")) names = names_of(b["aliases"]);
  for (size_t i = 0; i < p.cols.size(); i++) cols.push_back({i < names.size() ? names[i] : p.cols[i].name, p.cols[i].type});
  StatementPlan sp;
  sp.kind = StatementKind::kCreateView;
  sp.tag = "CREATE VIEW";
  auto cat = env.catalog;
  std::string text(sql);
  bool replace = b.value("replace", false);
  sp.action = [cat, name, cols, text, replace](exec::ExecContext&) -> int64_t {
    cat->create_view(name, cols, text, replace);
    return 0;
  };
  return sp;
}

StatementPlan plan_drop(const json& b, PlanEnv& env) {
  std::string type = b.value("removeType", "");
  catalog::TableKind kind;
  if (type == "OBJECT_TABLE") kind = catalog::TableKind::kTable;
  else if (type == "OBJECT_VIEW") kind = catalog::TableKind::kView;
  else if (type == "OBJECT_MATVIEW") kind = catalog::TableKind::kMaterializedView;
  else unsupported("DROP " + type.substr(type.find('_') + 1), b);
  std::vector<std::string> names;
  for (auto& o : b.at("objects")) {
    auto parts = is(o, "List") ? names_of(body(o).at("items")) : std::vector<std::string>{str_of(o)};
    names.push_back(parts.back());
  }
  bool missing_ok = b.value("missing_ok", false);
  StatementPlan sp;
  sp.kind = StatementKind::kDrop;
  sp.tag = kind == catalog::TableKind::kView ? "DROP VIEW" : kind == catalog::TableKind::kTable ? "DROP TABLE" : "DROP MATERIALIZED VIEW";
  auto cat = env.catalog;
  auto hook = env.stream_hook;
  sp.action = [cat, hook, names, kind, missing_ok](exec::ExecContext&) -> int64_t {
    for (auto& n : names) {
      // Stream tables (DROP TABLE) and materialized views belong to the streaming runtime.
      auto e = cat->find(n);
      bool streaming = e && ((kind == catalog::TableKind::kTable && e->kind == catalog::TableKind::kStream) ||
                             (kind == catalog::TableKind::kMaterializedView && e->kind == catalog::TableKind::kMaterializedView));
      if (streaming && hook) hook->drop(n, missing_ok);
      else cat->drop(n, kind, missing_ok);
    }
    return 0;
  };
  return sp;
}

StatementPlan plan_show(const std::string& name_in, PlanEnv& env) {
  std::string name = lower(name_in);
  using T = exec::TypeId;
  if ((name == "streams" || name == "views" || name == "sinks") && env.stream_hook) {
    std::vector<ResultColumn> cols;
    std::vector<std::vector<Value>> rows;
    if (env.stream_hook->show(name, &cols, &rows)) return rows_plan(StatementKind::kShow, cols, rows, "SHOW");
  }
  if (name == "tables" || name == "views") {
    std::vector<std::vector<Value>> rows;
    for (auto& e : env.catalog->list()) {
      bool is_view = e->kind == catalog::TableKind::kView || e->kind == catalog::TableKind::kMaterializedView;
      // SHOW TABLES lists every relation (as Spark SQL's does, views included: Zeppelin
      // users type it to see what they can query); SHOW VIEWS only the views.
      if (name == "views" && !is_view) continue;
      Value rc = e->provider ? Value::bigint(e->provider->row_count()) : Value::null(T::kBigInt);
      rows.push_back({Value::text(e->name), Value::text(catalog::table_kind_name(e->kind)), rc});
    }
    return rows_plan(StatementKind::kShow, {{"name", T::kVarchar}, {"kind", T::kVarchar}, {"rows", T::kBigInt}}, rows, "SHOW");
  }
  std::string v;
  if (name == "memory_limit") v = std::to_string(env.options->memory_limit_bytes);
  else if (name == "statement_timeout") v = std::to_string(env.options->timeout_ms);
  else if (name == "batch_size") v = std::to_string(env.options->batch_size);
  else if (name == "threads") v = std::to_string(env.options->threads);
  else if (name == "server_version") v = "15.0";
  else if (name == "server_encoding" || name == "client_encoding") v = "UTF8";
  else if (name == "timezone" || name == "time zone") v = "UTC";
  else if (name == "datestyle") v = "ISO, MDY";
  else if (name == "search_path") v = "public";
  else if (name == "transaction_isolation" || name == "transaction isolation level") v = "read committed";
  else if (name == "standard_conforming_strings") v = "on";
  else if (name == "integer_datetimes") v = "on";
  else if (name == "vector_size") v = std::to_string(exec::kVectorSize);
  else if (env.settings && env.settings->count(name)) v = env.settings->at(name);
  else fail(exec::sqlstate::kInvalidParameter == nullptr ? "" : "42704", "unrecognized configuration parameter \"" + name + "\"");
  return rows_plan(StatementKind::kShow, {{name, T::kVarchar}}, {{Value::text(v)}}, "SHOW");
}

StatementPlan plan_set(const json& b, PlanEnv& env) {
  std::string kind = b.value("kind", "");
  std::string name = lower(b.value("name", ""));
  StatementPlan sp;
  sp.kind = StatementKind::kSet;
  sp.tag = "SET";
  if (kind == "VAR_RESET" || kind == "VAR_SET_DEFAULT") {
    SessionOptions d;
    if (name == "memory_limit") env.options->memory_limit_bytes = d.memory_limit_bytes;
    else if (name == "statement_timeout") env.options->timeout_ms = d.timeout_ms;
    else if (name == "batch_size") env.options->batch_size = d.batch_size;
    else if (name == "threads") env.options->threads = d.threads;
    else if (env.settings) env.settings->erase(name);
    sp.tag = kind == "VAR_RESET" ? "RESET" : "SET";
    return sp;
  }
  if (kind != "VAR_SET_VALUE") {
    if (kind == "VAR_SET_MULTI" || kind == "VAR_RESET_ALL") return sp;  // SET TRANSACTION ..., RESET ALL
    unsupported("SET " + kind, b);
  }
  std::string value;
  for (auto& a : b.at("args")) value += (value.empty() ? "" : ", ") + option_string(a);
  if (name == "memory_limit") {
    int64_t m = parse_memory(value);
    if (m <= 0) fail(ss::kInvalidParameter, "memory_limit must be positive");
    env.options->memory_limit_bytes = m;
  } else if (name == "statement_timeout") {
    env.options->timeout_ms = parse_duration_ms(value);
  } else if (name == "batch_size") {
    int64_t n = 0;
    if (!exec::parse_int64(value, &n) || n < 1) fail(ss::kInvalidParameter, "batch_size must be a positive integer");
    env.options->batch_size = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(exec::kVectorSize)));
  } else if (name == "threads") {
    int64_t n = 0;
    if (!exec::parse_int64(value, &n) || n < 1 || n > 64) fail(ss::kInvalidParameter, "threads must be an integer between 1 and 64");
    env.options->threads = static_cast<int>(n);
  } else if (env.settings) {
    (*env.settings)[name] = value;
  }
  return sp;
}

StatementPlan plan_describe(const std::string& name, PlanEnv& env) {
  auto e = env.catalog->find(name);
  if (!e) fail(ss::kUndefinedTable, "relation \"" + name + "\" does not exist");
  using T = exec::TypeId;
  std::vector<std::vector<Value>> rows;
  for (auto& c : e->columns)
    rows.push_back({Value::text(c.name), Value::text(c.type.to_string()), Value::text(c.not_null ? "NO" : "YES")});
  return rows_plan(StatementKind::kShow, {{"column_name", T::kVarchar}, {"data_type", T::kVarchar}, {"is_nullable", T::kVarchar}},
                   rows, "SHOW");
}

StatementPlan plan_copy(const json& b, PlanEnv& env) {
  if (!b.value("is_from", false)) unsupported("COPY ... TO", b);
  if (b.contains("query")) unsupported("COPY (query)", b);
  if (!b.contains("filename")) unsupported("COPY FROM STDIN", b);
  const json& rv = b.at("relation");
  std::string name = rv.value("relname", "");
  auto entry = env.catalog->find(name);
  if (!entry) fail_at(ss::kUndefinedTable, "relation \"" + name + "\" does not exist", rv);
  if (entry->kind != catalog::TableKind::kTable) fail_at(ss::kWrongObjectType, "cannot copy into \"" + name + "\"", rv);
  CopyOptions o;
  o.path = b.value("filename", "");
  auto opts = with_options(b);
  for (auto& [k, v] : opts) {
    if (k == "format") o.format = lower(v);
    else if (k == "header") o.header = lower(v) == "true" || v == "1" || lower(v) == "on";
    else if (k == "delimiter") { if (v.size() != 1) fail(ss::kInvalidParameter, "COPY delimiter must be a single character"); o.delimiter = v[0]; }
    else if (k == "null") o.null_string = v;
    else if (k == "quote") { if (v.size() != 1) fail(ss::kInvalidParameter, "COPY quote must be a single character"); o.quote = v[0]; }
    else fail(ss::kInvalidParameter, "option \"" + k + "\" not recognized");
  }
  if (o.format == "text") { o.format = "csv"; o.delimiter = opts.count("delimiter") ? o.delimiter : '\t'; }
  if (o.format != "csv" && o.format != "json" && o.format != "jsonl" && o.format != "ndjson")
    fail(ss::kInvalidParameter, "COPY format \"" + o.format + "\" not recognized (csv, json)");
  if (b.contains("attlist")) {
    for (auto& a : b["attlist"]) o.columns.push_back(str_of(a));
  }
  StatementPlan sp;
  sp.kind = StatementKind::kCopy;
  sp.tag = "COPY";
  auto cat = env.catalog;
  auto defs = entry->columns;
  sp.action = [cat, name, defs, o](exec::ExecContext& ctx) -> int64_t {
    std::vector<exec::DataChunk> chunks = read_copy_file(o, defs, ctx);
    int64_t n = 0;
    for (auto& c : chunks) {
      for (size_t col = 0; col < defs.size(); col++)
        if (defs[col].not_null)
          for (size_t i = 0; i < c.size(); i++)
            if (c.column(col).is_null(i))
              fail(ss::kNotNullViolation, "null value in column \"" + defs[col].name + "\" of relation \"" + name + "\" violates not-null constraint");
      n += static_cast<int64_t>(c.size());
    }
    cat->stored_table(name)->append(chunks);
    return n;
  };
  return sp;
}

StatementPlan plan_json(const json& stmt, std::string_view sql, PlanEnv& env) {
  const std::string& t = node_type(stmt);
  const json& b = body(stmt);
  if (t == "SelectStmt") {
    Binder binder(env, nullptr);
    Plan p = binder.select(stmt, nullptr);
    StatementPlan sp;
    sp.kind = StatementKind::kSelect;
    sp.columns = result_columns(p);
    sp.root = std::move(p.op);
    sp.tag = "SELECT";
    return sp;
  }
  if (t == "InsertStmt") return plan_insert(b, env);
  if (t == "CreateStmt") return plan_create(b, env);
  if (t == "CreateTableAsStmt") return plan_ctas(b, sql, env);
  if (t == "ViewStmt") return plan_view(b, sql, env);
  if (t == "DropStmt") return plan_drop(b, env);
  if (t == "CopyStmt") return plan_copy(b, env);
  if (t == "VariableShowStmt") return plan_show(b.value("name", ""), env);
  if (t == "VariableSetStmt") return plan_set(b, env);
  if (t == "TransactionStmt") {
    StatementPlan sp;
    sp.kind = StatementKind::kSet;
    std::string k = b.value("kind", "");
    sp.tag = k == "TRANS_STMT_BEGIN" || k == "TRANS_STMT_START" ? "BEGIN" : k == "TRANS_STMT_COMMIT" ? "COMMIT" : "ROLLBACK";
    return sp;
  }
  if (t == "ExplainStmt") {
    StatementPlan inner = plan_json(b.at("query"), sql, env);
    if (!inner.root) fail(ss::kFeatureNotSupported, "EXPLAIN is supported for queries only");
    std::string text = exec::explain_plan(*inner.root);
    std::vector<std::vector<Value>> rows;
    size_t p = 0;
    while (p < text.size()) {
      size_t q = text.find('\n', p);
      rows.push_back({Value::text(text.substr(p, q - p))});
      p = q + 1;
    }
    return rows_plan(StatementKind::kExplain, {{"QUERY PLAN", exec::TypeId::kVarchar}}, rows, "EXPLAIN");
  }
  if (t == "CreateTableSpaceStmt" || t == "CreateSchemaStmt") unsupported("CREATE SCHEMA", stmt);
  if (t == "UpdateStmt" || t == "DeleteStmt") unsupported(t == "UpdateStmt" ? "UPDATE" : "DELETE", stmt);
  unsupported("statement " + t, stmt);
}

std::string trim_copy(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && isspace(static_cast<unsigned char>(s[b]))) b++;
  while (e > b && (isspace(static_cast<unsigned char>(s[e - 1])) || s[e - 1] == ';')) e--;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::vector<StatementText> split_statements(std::string_view script) {
  std::string s(script);
  check_utf8(s);
  PgQueryParseResult r = pg_query_parse(s.c_str());
  if (r.error) {
    std::string msg = r.error->message;
    int pos = r.error->cursorpos > 0 ? r.error->cursorpos - 1 : -1;
    pg_query_free_parse_result(r);
    // DESCRIBE is not PostgreSQL grammar: let single statements through to plan_statement.
    std::string head = lower(trim_copy(script).substr(0, 9));
    if (head.rfind("describe ", 0) == 0 || head.rfind("desc ", 0) == 0) return {{script, 0}};
    // Nor CREATE/DROP SINK (alone in a script).
    if (is_sink_statement(lower(trim_copy(script)))) return {{script, 0}};
    throw exec::SqlError(ss::kSyntaxError, msg, pos);
  }
  json j = take_parse_tree(r);
  std::vector<StatementText> out;
  for (auto& st : j["stmts"]) {
    int loc = st.value("stmt_location", 0);
    int len = st.contains("stmt_len") ? st["stmt_len"].get<int>() : static_cast<int>(script.size()) - loc;
    if (len == 0) len = static_cast<int>(script.size()) - loc;
    out.push_back({script.substr(loc, len), loc});
  }
  return out;
}

StatementPlan plan_statement(std::string_view sql_in, PlanEnv& env) {
  PlanStackTop stack_top;
  std::string trimmed = trim_copy(sql_in);
  std::string low = lower(trimmed);
  // DESCRIBE t (not PostgreSQL grammar)
  for (const char* kw : {"describe ", "desc "}) {
    if (low.rfind(kw, 0) == 0) {
      std::string name = trimmed.substr(strlen(kw));
      while (!name.empty() && isspace(static_cast<unsigned char>(name.front()))) name.erase(0, 1);
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
      else name = lower(name);
      return plan_describe(name, env);
    }
  }
  // CREATE SINK / DROP SINK (not PostgreSQL grammar)
  if (is_sink_statement(low)) return plan_sink_statement(trimmed, static_cast<int>(sql_in.find_first_not_of(" \t\r\n")), env);
  std::string sql(sql_in);
  env.sql = sql_in;
  check_utf8(sql);
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  if (r.error) {
    std::string msg = r.error->message;
    int pos = r.error->cursorpos > 0 ? r.error->cursorpos - 1 : -1;
    pg_query_free_parse_result(r);
    throw exec::SqlError(ss::kSyntaxError, msg, pos);
  }
  json j = take_parse_tree(r);
  const json& stmts = j["stmts"];
  if (stmts.empty()) {
    StatementPlan sp;
    sp.kind = StatementKind::kEmpty;
    return sp;
  }
  if (stmts.size() > 1) fail(ss::kSyntaxError, "cannot run several statements at once here (use execute_script)");
  try {
    return plan_json(stmts[0].at("stmt"), sql_in, env);
  } catch (const json::exception& e) {
    // A parse-tree shape the binder does not expect: our bug, reported cleanly.
    throw InternalError(std::string("unexpected parse tree: ") + e.what());
  }
}

}  // namespace sl::sql
