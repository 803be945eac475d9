// Internal to sql/: turns one SQL statement into something executable.
//
// parse (libpg_query, JSON) -> bind (names, types, casts, aggregates, windows, subqueries)
// -> plan (predicate pushdown into scans and joins, hash-join key extraction, top-N) ->
// exec/ operators. There is no separate logical-plan tree yet: the binder emits physical
// operators directly, and pushdown happens while the FROM clause is assembled.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/context.h"
#include "exec/operators.h"
#include "exec/value.h"
#include "sql/engine.h"

namespace sl::sql {

// One SQL statement's text inside a script.
struct StatementText {
  std::string_view text;
  int offset = 0;  // of text in the script (for error positions)
};

// Splits a script into statements (throws SqlError 42601 on a syntax error).
std::vector<StatementText> split_statements(std::string_view script);

struct PlanEnv {
  std::shared_ptr<StreamHook> stream_hook;  // streaming DDL and SHOW STREAMS (may be null)
  catalog::Catalog* catalog = nullptr;
  exec::ExecContext* ctx = nullptr;
  SessionOptions* options = nullptr;
  std::map<std::string, std::string>* settings = nullptr;  // SET name = value
  // Parameters: types (inferred when unknown) and the slot values bound at execution.
  std::vector<LogicalType>* param_types = nullptr;
  std::shared_ptr<std::vector<exec::Value>> param_values;
  bool describe_only = false;  // prepare: infer types, run nothing
  std::string_view sql;        // the statement's text (set by plan_statement)
  std::vector<std::string> expanding_ctes;  // CTEs being bound (a CTE cannot see itself)
};

struct StatementPlan {
  StatementKind kind = StatementKind::kSelect;
  std::vector<ResultColumn> columns;
  exec::OpPtr root;                                   // rows to return (may be null)
  std::function<int64_t(exec::ExecContext&)> action;  // effects; returns rows affected
  std::string tag;                                    // command tag without the count
};

// Plans one statement. Throws SqlError (positions relative to `sql`).
StatementPlan plan_statement(std::string_view sql, PlanEnv& env);

}  // namespace sl::sql
