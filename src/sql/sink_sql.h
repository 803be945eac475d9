// CREATE SINK / DROP SINK: statements that are not PostgreSQL grammar, recognised before
// libpg_query and handed to the streaming runtime's StreamHook (docs/lake.md):
//
//   CREATE SINK [IF NOT EXISTS] name FROM relation [WITH (key = 'value' [, ...])]
//   DROP SINK [IF EXISTS] name [PURGE]
//
// Identifiers fold to lower case unless double-quoted; option keys fold too, values are
// string literals ('...', '' for a quote), numbers or bare words.
#pragma once

#include <string>
#include <string_view>

#include "sql/planner.h"

namespace sl::sql {

// `lowered` is the statement in lower case without leading white space.
bool is_sink_statement(std::string_view lowered);
// Throws SqlError 42601 (with the position, `offset` added) on a malformed statement.
StatementPlan plan_sink_statement(const std::string& text, int offset, PlanEnv& env);

}  // namespace sl::sql
