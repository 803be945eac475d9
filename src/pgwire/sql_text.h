// Lexical helpers over SQL text for the wire protocol: splitting a simple-query string into
// statements, normalizing a statement for pattern matching, reading PREPARE / EXECUTE.
// Quotes ('..', E'..', "..", $tag$..$tag$) and comments (--, nested /* */) are respected.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sl::pgwire {

struct StatementSpan {
  size_t offset = 0;      // byte offset of `text` in the whole query string
  std::string_view text;  // one statement, without its ';', whitespace-trimmed
};
// Splits at top-level ';'. Empty statements (";;", comments only) are dropped.
std::vector<StatementSpan> split_statements(std::string_view sql);

// Lower-cases outside quotes, removes comments, collapses whitespace to one space, trims,
// drops a trailing ';'. Quoted text is kept verbatim.
std::string normalize_sql(std::string_view sql);

// Whether `s` starts with the keyword sequence `kw` (lower case, words separated by single
// spaces), followed by the end or a non-identifier character. `s` must be normalized.
bool starts_with_words(std::string_view s, std::string_view kw);

// PREPARE name [ ( type, ... ) ] AS statement
struct PrepareSql {
  std::string name;
  std::string body;     // the statement text after AS
  size_t body_offset = 0;  // byte offset of body in the original text
};
std::optional<PrepareSql> parse_prepare_sql(std::string_view stmt);

// EXECUTE name [ ( arg, ... ) ]: arguments as text values (string literals unquoted,
// NULL as nullopt, other expressions verbatim: numbers, true/false, typed literals).
struct ExecuteSql {
  std::string name;
  std::vector<std::optional<std::string>> args;
};
// Returns nullopt if `stmt` is not an EXECUTE; throws nothing; `error` set when malformed.
std::optional<ExecuteSql> parse_execute_sql(std::string_view stmt, std::string* error);

// DEALLOCATE [PREPARE] { name | ALL }: the name ("" for ALL).
std::optional<std::string> parse_deallocate_sql(std::string_view stmt);

}  // namespace sl::pgwire
