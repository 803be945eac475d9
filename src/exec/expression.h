// Vectorized expressions.
//
// An Expr evaluates over a whole DataChunk into an output Vector: one virtual call per
// batch, typed loops inside (templates per physical type, no per-value variant). Exprs are
// built by the binder (sql/) with all types resolved and casts made explicit, then owned
// by operators. Column references are positions in the operator's input chunk.
// Not thread-safe; an Expr is evaluated by one thread (clone() for another pipeline).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exec/context.h"
#include "exec/types.h"
#include "exec/value.h"
#include "exec/vector.h"

namespace sl::exec {

class Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind { kColumn, kConstant, kParameter, kCast, kArith, kCompare, kAnd, kOr, kNot,
                      kIsNull, kCase, kCoalesce, kInList, kLike, kFunction, kNullIf };

class Expr {
 public:
  Expr(ExprKind kind, LogicalType type) : kind_(kind), type_(type) {}
  virtual ~Expr() = default;
  ExprKind kind() const { return kind_; }
  const LogicalType& type() const { return type_; }
  // Evaluates for every row of `in` into `out` (type(), capacity >= in.size()).
  virtual void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const = 0;
  virtual std::string to_string() const = 0;
  virtual ExprPtr clone() const = 0;
  // Children, for rewrites (column remapping, predicate pushdown).
  virtual std::vector<ExprPtr*> children() { return {}; }

 protected:
  ExprKind kind_;
  LogicalType type_;
};

// --- leaves ---
class ColumnExpr final : public Expr {
 public:
  ColumnExpr(size_t index, LogicalType type, std::string name)
      : Expr(ExprKind::kColumn, type), index(index), name(std::move(name)) {}
  void eval(const DataChunk& in, Vector& out, ExecContext&) const override;
  std::string to_string() const override { return name.empty() ? "#" + std::to_string(index) : name; }
  ExprPtr clone() const override { return std::make_unique<ColumnExpr>(index, type_, name); }
  size_t index;
  std::string name;
};

class ConstantExpr final : public Expr {
 public:
  explicit ConstantExpr(Value v) : Expr(ExprKind::kConstant, v.type), value(std::move(v)) {}
  void eval(const DataChunk& in, Vector& out, ExecContext&) const override;
  std::string to_string() const override;
  ExprPtr clone() const override { return std::make_unique<ConstantExpr>(value); }
  Value value;
};

// $n: reads its value from a slot filled in when a prepared statement is bound.
class ParameterExpr final : public Expr {
 public:
  ParameterExpr(int index, LogicalType type, std::shared_ptr<std::vector<Value>> slots)
      : Expr(ExprKind::kParameter, type), index(index), slots(std::move(slots)) {}
  void eval(const DataChunk& in, Vector& out, ExecContext&) const override;
  std::string to_string() const override { return "$" + std::to_string(index + 1); }
  ExprPtr clone() const override { return std::make_unique<ParameterExpr>(index, type_, slots); }
  int index;
  std::shared_ptr<std::vector<Value>> slots;
};

// --- factories (types must already agree; the binder inserts casts) ---
enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod };
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kDistinct, kNotDistinct };

ExprPtr make_column(size_t index, LogicalType type, std::string name = {});
ExprPtr make_constant(Value v);
// Casts `e` to `to`; errors at run time for values that do not convert.
ExprPtr make_cast(ExprPtr e, LogicalType to);
// Whether a cast from -> to exists.
bool can_cast(LogicalType from, LogicalType to);
// Arithmetic. Operand types: equal numeric types (result that type; numeric rescales to
// the result precision/scale given by `result`), date +/- integer, date - date (integer),
// timestamp +/- interval, timestamp - timestamp (interval), interval +/- interval,
// interval * / double, date + interval (timestamp).
ExprPtr make_arith(ArithOp op, ExprPtr l, ExprPtr r, LogicalType result);
ExprPtr make_negate(ExprPtr e);
ExprPtr make_compare(CompareOp op, ExprPtr l, ExprPtr r);  // same types
ExprPtr make_and(ExprPtr l, ExprPtr r);
ExprPtr make_or(ExprPtr l, ExprPtr r);
ExprPtr make_not(ExprPtr e);
ExprPtr make_is_null(ExprPtr e, bool negate);
// IS TRUE / IS FALSE (never NULL)
ExprPtr make_is_bool(ExprPtr e, bool value, bool negate);
// CASE WHEN c1 THEN r1 ... ELSE e END; results and else share `type`.
ExprPtr make_case(std::vector<ExprPtr> whens, std::vector<ExprPtr> thens, ExprPtr else_expr,
                  LogicalType type);
ExprPtr make_coalesce(std::vector<ExprPtr> args, LogicalType type);
ExprPtr make_nullif(ExprPtr a, ExprPtr b);
// e [NOT] IN (list...) with SQL NULL semantics; list items have e's type.
ExprPtr make_in_list(ExprPtr e, std::vector<ExprPtr> list, bool negate);
// e [NOT] IN (constant set), e.g. a materialized uncorrelated subquery.
ExprPtr make_in_set(ExprPtr e, std::vector<Value> set, bool negate);
// [NOT] LIKE / ILIKE with optional escape (default '\').
ExprPtr make_like(ExprPtr e, ExprPtr pattern, bool case_insensitive, bool negate);

// A scalar function kernel: args evaluated, n rows.
using ScalarKernel = std::function<void(std::vector<Vector>& args, size_t n, Vector& out, ExecContext&)>;

struct ScalarFunctionBinding {
  std::string name;
  LogicalType result;
  std::vector<LogicalType> arg_types;  // the binder casts arguments to these
  ScalarKernel kernel;
};

// Resolves a scalar function by name (lower case) and argument types. Returns false if
// no overload matches; `error` says why (unknown name vs. wrong arguments).
bool resolve_scalar_function(const std::string& name, const std::vector<LogicalType>& args,
                             ScalarFunctionBinding* out, std::string* error);
bool is_scalar_function(const std::string& name);
ExprPtr make_function(ScalarFunctionBinding binding, std::vector<ExprPtr> args);

// If e is `l = r`, returns its operands (still owned by e).
bool as_equality(Expr& e, ExprPtr** l, ExprPtr** r);
// If e is a comparison `l op r` / arithmetic `l op r`, returns op and operands (owned by e).
bool as_comparison(Expr& e, CompareOp* op, ExprPtr** l, ExprPtr** r);
bool as_arithmetic(Expr& e, ArithOp* op, ExprPtr** l, ExprPtr** r);
// Splits a conjunction into its terms (moves them out of e).
void split_and(ExprPtr e, std::vector<ExprPtr>& out);
// Whether e is a ParameterExpr (sets *index).
bool as_parameter(const Expr& e, int* index);

// Evaluates e with no input row (constant folding); throws what e throws.
Value eval_constant(const Expr& e, ExecContext& ctx);
// Every ColumnExpr below e.
void collect_columns(Expr& e, std::vector<ColumnExpr*>& out);
bool is_constant_expr(Expr& e);

// Common numeric "supertype" for comparisons/arithmetic (kNull if none).
LogicalType common_type(LogicalType a, LogicalType b);

}  // namespace sl::exec
