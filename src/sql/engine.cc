#include "sql/engine.h"

#include "util/json.h"

#include <cmath>
#include <cstring>

#include "catalog/catalog.h"
#include "exec/operators.h"
#include "exec/value.h"
#include "sql/planner.h"
#include "util/time.h"

namespace sl::sql {

namespace ss = exec::sqlstate;

// ---- QueryResult -------------------------------------------------------------------------

class QueryResult::Impl {
 public:
  StatementKind kind = StatementKind::kEmpty;
  std::vector<ResultColumn> columns;
  std::string tag;
  int64_t rows = 0;
  bool counts_rows = false;  // tag carries the number of rows returned
  std::unique_ptr<exec::ExecContext> ctx;
  std::unique_ptr<exec::Executor> executor;
  size_t batch_size = exec::kVectorSize;
  exec::DataChunk* current = nullptr;
  size_t offset = 0;
  exec::DataChunk part;
  bool done = false;

  const DataChunk* next() {
    if (done || !executor) return nullptr;
    try {
      if (current && offset < current->size()) return slice();
      current = executor->next();
      offset = 0;
      if (!current) {
        done = true;
        executor.reset();
        return nullptr;
      }
      if (current->size() <= batch_size) {
        rows += static_cast<int64_t>(current->size());
        offset = current->size();
        return current;
      }
      return slice();
    } catch (...) {
      done = true;
      executor.reset();
      throw;
    }
  }

  const DataChunk* slice() {
    size_t n = std::min(batch_size, current->size() - offset);
    part = exec::DataChunk(current->types());
    part.append(*current, offset, n);
    offset += n;
    rows += static_cast<int64_t>(n);
    return &part;
  }
};

QueryResult::QueryResult(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueryResult::QueryResult(QueryResult&&) noexcept = default;
QueryResult& QueryResult::operator=(QueryResult&&) noexcept = default;
QueryResult::~QueryResult() = default;
StatementKind QueryResult::kind() const { return impl_->kind; }
const std::vector<ResultColumn>& QueryResult::columns() const { return impl_->columns; }
const DataChunk* QueryResult::next() { return impl_->next(); }
int64_t QueryResult::row_count() const { return impl_->rows; }

std::string QueryResult::command_tag() const {
  switch (impl_->kind) {
    case StatementKind::kSelect: return impl_->tag + " " + std::to_string(impl_->rows);
    case StatementKind::kInsert:
      return impl_->tag == "SELECT" ? "SELECT " + std::to_string(impl_->rows) : "INSERT 0 " + std::to_string(impl_->rows);
    case StatementKind::kCopy: return "COPY " + std::to_string(impl_->rows);
    case StatementKind::kEmpty: return "";
    default: return impl_->tag;
  }
}

// ---- PreparedStatement ----------------------------------------------------------------------

class PreparedStatement::Impl {
 public:
  std::string sql;
  StatementKind kind = StatementKind::kEmpty;
  std::vector<LogicalType> param_types;
  std::vector<ResultColumn> columns;
};

PreparedStatement::PreparedStatement(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreparedStatement::~PreparedStatement() = default;
PreparedStatement::PreparedStatement(const PreparedStatement&) = default;
PreparedStatement& PreparedStatement::operator=(const PreparedStatement&) = default;
StatementKind PreparedStatement::kind() const { return impl_->kind; }
const std::vector<LogicalType>& PreparedStatement::parameter_types() const { return impl_->param_types; }
const std::vector<ResultColumn>& PreparedStatement::columns() const { return impl_->columns; }
const std::string& PreparedStatement::sql() const { return impl_->sql; }

// ---- Engine / Session --------------------------------------------------------------------

std::unique_ptr<Engine> Engine::open(const std::string& data_dir) {
  std::unique_ptr<Engine> e(new Engine());
  e->catalog_ = catalog::Catalog::open(data_dir);
  return e;
}

Engine::~Engine() = default;

std::unique_ptr<Session> Engine::session(SessionOptions options) {
  return std::unique_ptr<Session>(new Session(this, std::move(options)));
}

Session::Session(Engine* engine, SessionOptions options)
    : engine_(engine), options_(std::move(options)), cancel_(std::make_shared<CancelToken>()) {}
Session::~Session() = default;

void Session::cancel() { cancel_->cancel(); }

namespace {

std::unique_ptr<exec::ExecContext> make_context(const SessionOptions& o, const CancelToken& token) {
  auto ctx = std::make_unique<exec::ExecContext>(o.memory_limit_bytes);
  ctx->cancelled = token.flag();
  if (o.timeout_ms > 0) ctx->deadline_ns = mono_nanos() + o.timeout_ms * 1000000;
  ctx->statement_time_us = now_millis() * 1000;
  ctx->threads = std::max(1, o.threads);
  return ctx;
}

QueryResult run_plan(StatementPlan sp, std::unique_ptr<exec::ExecContext> ctx, const SessionOptions& o) {
  auto impl = std::make_unique<QueryResult::Impl>();
  impl->kind = sp.kind;
  impl->columns = sp.columns;
  impl->tag = sp.tag;
  impl->batch_size = std::max<size_t>(1, std::min(o.batch_size, exec::kVectorSize));
  if (sp.action) impl->rows = sp.action(*ctx);
  if (sp.root) impl->executor = std::make_unique<exec::Executor>(std::move(sp.root), *ctx);
  impl->ctx = std::move(ctx);
  return QueryResult(std::move(impl));
}

// Adds `offset` to the error position (statements inside a script).
[[noreturn]] void rethrow_shifted(const exec::SqlError& e, int offset) {
  if (e.position() >= 0 && offset) throw exec::SqlError(e.sqlstate(), e.what(), e.position() + offset, e.code());
  throw;
}

}  // namespace

QueryResult Session::execute(std::string_view sql) {
  cancel_->reset();
  auto ctx = make_context(options_, *cancel_);
  PlanEnv env;
  env.catalog = &engine_->catalog();
  env.stream_hook = engine_->stream_hook();
  env.ctx = ctx.get();
  env.options = &options_;
  env.settings = &settings_;
  StatementPlan sp = plan_statement(sql, env);
  return run_plan(std::move(sp), std::move(ctx), options_);
}

std::vector<QueryResult> Session::execute_script(std::string_view sql) {
  std::vector<QueryResult> out;
  for (auto& st : split_statements(sql)) {
    try {
      out.push_back(execute(st.text));
    } catch (const exec::SqlError& e) {
      rethrow_shifted(e, st.offset);
    }
  }
  return out;
}

PreparedStatement Session::prepare(std::string_view sql) {
  auto impl = std::make_shared<PreparedStatement::Impl>();
  impl->sql = std::string(sql);
  auto ctx = make_context(options_, *cancel_);
  SessionOptions scratch = options_;
  std::map<std::string, std::string> scratch_settings = settings_;
  PlanEnv env;
  env.catalog = &engine_->catalog();
  env.stream_hook = engine_->stream_hook();
  env.ctx = ctx.get();
  env.options = &scratch;
  env.settings = &scratch_settings;
  env.describe_only = true;
  env.param_types = &impl->param_types;
  env.param_values = std::make_shared<std::vector<exec::Value>>();
  StatementPlan first = plan_statement(sql, env);
  for (auto& t : impl->param_types)
    if (t.id == TypeId::kNull) t = TypeId::kVarchar;
  // Second pass with every parameter typed, for the final result columns.
  StatementPlan sp = plan_statement(sql, env);
  impl->kind = sp.kind;
  impl->columns = sp.columns;
  (void)first;
  return PreparedStatement(impl);
}

namespace {

uint64_t be(const std::string& b, size_t off, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = (v << 8) | static_cast<unsigned char>(b[off + i]);
  return v;
}

constexpr int64_t kPgEpochDays = 10957;  // 2000-01-01 - 1970-01-01
constexpr int64_t kPgEpochMicros = kPgEpochDays * exec::kMicrosPerDay;

exec::Value decode_binary(const std::string& b, LogicalType t, int index) {
  auto bad = [&]() -> exec::SqlError {
    return exec::SqlError(ss::kInvalidParameter == nullptr ? "" : "22P03",
                          "incorrect binary data format in bind parameter " + std::to_string(index + 1));
  };
  exec::Value v;
  v.type = t;
  v.is_null = false;
  switch (t.id) {
    case TypeId::kBoolean: if (b.size() != 1) throw bad(); v.i = b[0] != 0; return v;
    case TypeId::kSmallInt: if (b.size() != 2) throw bad(); v.i = static_cast<int16_t>(be(b, 0, 2)); return v;
    case TypeId::kInteger: if (b.size() != 4) throw bad(); v.i = static_cast<int32_t>(be(b, 0, 4)); return v;
    case TypeId::kBigInt: if (b.size() != 8) throw bad(); v.i = static_cast<int64_t>(be(b, 0, 8)); return v;
    case TypeId::kReal: { if (b.size() != 4) throw bad(); uint32_t u = static_cast<uint32_t>(be(b, 0, 4)); float f; std::memcpy(&f, &u, 4); v.f = f; return v; }
    case TypeId::kDouble: { if (b.size() != 8) throw bad(); uint64_t u = be(b, 0, 8); std::memcpy(&v.f, &u, 8); return v; }
    case TypeId::kVarchar: case TypeId::kBytea: v.s = b; return v;
    case TypeId::kDate: if (b.size() != 4) throw bad(); v.i = static_cast<int32_t>(be(b, 0, 4)) + kPgEpochDays; return v;
    case TypeId::kTimestamp: case TypeId::kTimestampTz:
      if (b.size() != 8) throw bad();
      v.i = static_cast<int64_t>(be(b, 0, 8)) + kPgEpochMicros;
      return v;
    case TypeId::kInterval:
      if (b.size() != 16) throw bad();
      v.iv.micros = static_cast<int64_t>(be(b, 0, 8));
      v.iv.days = static_cast<int32_t>(be(b, 8, 4));
      v.iv.months = static_cast<int32_t>(be(b, 12, 4));
      return v;
    case TypeId::kNumeric: {
      if (b.size() < 8) throw bad();
      int ndigits = static_cast<int16_t>(be(b, 0, 2)), weight = static_cast<int16_t>(be(b, 2, 2));
      int sign = static_cast<int>(be(b, 4, 2));
      if (b.size() != 8 + 2 * static_cast<size_t>(ndigits)) throw bad();
      std::string text = sign == 0x4000 ? "-" : "";
      std::string intpart, frac;
      for (int d = 0; d < ndigits; d++) {
        char buf[8];
        snprintf(buf, sizeof buf, "%04d", static_cast<int>(be(b, 8 + 2 * d, 2)));
        if (d <= weight) intpart += buf; else frac += buf;
      }
      for (int d = ndigits; d <= weight; d++) intpart += "0000";
      for (int d = weight + 1; d < 0; d++) frac = "0000" + frac;
      if (intpart.empty()) intpart = "0";
      text += intpart + (frac.empty() ? "" : "." + frac);
      return exec::parse_value(text, t);
    }
    default: throw bad();
  }
}

}  // namespace

QueryResult Session::execute(const PreparedStatement& stmt, const std::vector<ParamValue>& params) {
  const auto& impl = stmt.impl();
  if (params.size() != impl.param_types.size())
    throw exec::SqlError("08P01", "bind message supplies " + std::to_string(params.size()) + " parameters, but prepared statement requires " +
                         std::to_string(impl.param_types.size()));
  cancel_->reset();
  auto ctx = make_context(options_, *cancel_);
  auto slots = std::make_shared<std::vector<exec::Value>>();
  for (size_t i = 0; i < params.size(); i++) {
    LogicalType t = impl.param_types[i];
    if (!params[i].bytes) slots->push_back(exec::Value::null(t));
    else if (params[i].binary) slots->push_back(decode_binary(*params[i].bytes, t, static_cast<int>(i)));
    else slots->push_back(exec::parse_value(*params[i].bytes, t));
    slots->back().type = t;
  }
  std::vector<LogicalType> types = impl.param_types;
  PlanEnv env;
  env.catalog = &engine_->catalog();
  env.stream_hook = engine_->stream_hook();
  env.ctx = ctx.get();
  env.options = &options_;
  env.settings = &settings_;
  env.param_types = &types;
  env.param_values = slots;
  StatementPlan sp = plan_statement(impl.sql, env);
  return run_plan(std::move(sp), std::move(ctx), options_);
}

// ---- rendering ------------------------------------------------------------------------------

std::string to_pg_text(const Vector& v, size_t row) {
  std::string s;
  exec::format_value(v, row, s);
  return s;
}

void append_pg_text(const Vector& v, size_t row, std::string& out) { exec::format_value(v, row, out); }

namespace {
void put_be(std::string& out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
}  // namespace

bool append_pg_binary(const Vector& v, size_t row, std::string& out) {
  switch (v.type().id) {
    case TypeId::kBoolean: out.push_back(v.data<uint8_t>()[row] ? 1 : 0); return true;
    case TypeId::kSmallInt: put_be(out, static_cast<uint16_t>(v.data<int16_t>()[row]), 2); return true;
    case TypeId::kInteger: case TypeId::kDate: {
      int64_t x = v.data<int32_t>()[row];
      if (v.type().id == TypeId::kDate) x -= kPgEpochDays;
      put_be(out, static_cast<uint32_t>(static_cast<int32_t>(x)), 4);
      return true;
    }
    case TypeId::kBigInt: put_be(out, static_cast<uint64_t>(v.data<int64_t>()[row]), 8); return true;
    case TypeId::kTimestamp: case TypeId::kTimestampTz:
      put_be(out, static_cast<uint64_t>(v.data<int64_t>()[row] - kPgEpochMicros), 8);
      return true;
    case TypeId::kReal: { uint32_t u; float f = v.data<float>()[row]; std::memcpy(&u, &f, 4); put_be(out, u, 4); return true; }
    case TypeId::kDouble: { uint64_t u; double d = v.data<double>()[row]; std::memcpy(&u, &d, 8); put_be(out, u, 8); return true; }
    case TypeId::kVarchar: case TypeId::kBytea: out += v.data<exec::StringRef>()[row].view(); return true;
    case TypeId::kInterval: {
      auto iv = v.data<exec::Interval>()[row];
      put_be(out, static_cast<uint64_t>(iv.micros), 8);
      put_be(out, static_cast<uint32_t>(iv.days), 4);
      put_be(out, static_cast<uint32_t>(iv.months), 4);
      return true;
    }
    case TypeId::kNumeric: {
      int64_t x = v.data<int64_t>()[row];
      int scale = v.type().scale;
      bool neg = x < 0;
      uint64_t u = neg ? -static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
      std::string digits = std::to_string(u);
      if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, scale + 1 - digits.size(), '0');
      std::string ip = digits.substr(0, digits.size() - scale), fp = digits.substr(digits.size() - scale);
      while (ip.size() % 4) ip.insert(0, "0");
      while (fp.size() % 4) fp += "0";
      std::vector<int> groups;
      for (size_t i = 0; i < ip.size(); i += 4) groups.push_back(std::stoi(ip.substr(i, 4)));
      int weight = static_cast<int>(groups.size()) - 1;
      for (size_t i = 0; i < fp.size(); i += 4) groups.push_back(std::stoi(fp.substr(i, 4)));
      size_t lead = 0;
      while (lead < groups.size() && groups[lead] == 0) { lead++; weight--; }
      groups.erase(groups.begin(), groups.begin() + static_cast<long>(lead));
      while (!groups.empty() && groups.back() == 0) groups.pop_back();
      if (groups.empty()) weight = 0;
      put_be(out, groups.size(), 2);
      put_be(out, static_cast<uint16_t>(static_cast<int16_t>(weight)), 2);
      put_be(out, neg && !groups.empty() ? 0x4000 : 0, 2);
      put_be(out, static_cast<uint16_t>(scale), 2);
      for (int g : groups) put_be(out, static_cast<uint16_t>(g), 2);
      return true;
    }
    case TypeId::kNull: return false;
  }
  return false;
}

void append_json(const Vector& v, size_t row, std::string& out) {
  if (v.is_null(row)) { out += "null"; return; }
  auto quoted = [&](std::string_view s) { sl::append_json_string(out, s); };
  switch (v.type().id) {
    case TypeId::kBoolean: out += v.data<uint8_t>()[row] ? "true" : "false"; return;
    case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt: case TypeId::kNumeric:
      exec::format_value(v, row, out);
      return;
    case TypeId::kReal: case TypeId::kDouble: {
      double d = v.type().id == TypeId::kReal ? v.data<float>()[row] : v.data<double>()[row];
      std::string s;
      exec::format_value(v, row, s);
      if (std::isnan(d) || std::isinf(d)) quoted(s); else out += s;
      return;
    }
    default: {
      std::string s;
      exec::format_value(v, row, s);
      quoted(s);
    }
  }
}

}  // namespace sl::sql
