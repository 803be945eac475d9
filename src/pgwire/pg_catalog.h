// What the wire protocol answers itself, without the SQL engine: transaction control
// (autocommit no-ops), PostgreSQL client settings (SET/SHOW of DateStyle, client_encoding,
// application_name, ...), server functions (version(), current_schema(), ...) and the
// pg_catalog queries psql's \d, \dt, \d NAME send.
//
// Why interception: the engine (sql/engine.h) has no hook for virtual tables, and psql's
// catalog queries use features (regex OPERATOR(pg_catalog.~), regclass casts, correlated
// subqueries over pg_attrdef/pg_collation) a streaming engine should not grow for this.
// The recognised query shapes are matched on normalized text and answered from a
// CatalogAccess (the engine's catalog: tables, views, streams and their columns). Other queries that read
// pg_catalog/information_schema tables get an empty result with the columns they name.
//
// Stateless functions; called on connection threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/types.h"

namespace sl::pgwire {

namespace oid {
inline constexpr int32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20,
                         kInt2 = 21, kInt4 = 23, kText = 25, kOid = 26, kFloat4 = 700,
                         kFloat8 = 701, kVarchar = 1043, kDate = 1082, kTimestamp = 1114,
                         kTimestampTz = 1184, kInterval = 1186, kNumeric = 1700;
}

struct LocalColumn {
  std::string name;
  int32_t type_oid = oid::kText;
};

// A result computed by the wire layer itself.
struct LocalResult {
  enum Txn { kNoTxn, kBegin, kCommit, kRollback };
  bool has_rows = false;  // RowDescription + DataRows (else only a command tag)
  std::vector<LocalColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // text format values
  std::string tag;  // empty: "SELECT <rows>"
  Txn txn = kNoTxn;
  std::vector<std::pair<std::string, std::string>> report;  // ParameterStatus to send
};

struct ColumnInfo {
  std::string name;
  exec::LogicalType type;
  bool not_null = false;
};
struct RelationInfo {
  std::string name;
  char kind = 'r';            // relkind: 'r' table (and stream), 'v' view, 'm' materialized view
  std::string label = "table";  // \dt's Type column: table, view, materialized view, stream
  int32_t oid = 0;
  std::vector<ColumnInfo> columns;
  std::string definition;  // views: the defining SELECT
};

// The catalog as the wire layer sees it (sorted by name). May throw sl::Error.
struct CatalogAccess {
  std::function<std::vector<RelationInfo>()> relations;
};

// Connection-level settings (GUCs) the wire layer owns. Names are lower case.
struct PgSettings {
  std::map<std::string, std::string> values;
  std::string user, database, role;
  PgSettings();
  // Canonical ParameterStatus name for a reported setting ("datestyle" -> "DateStyle"), or
  // "" if the setting is not reported to clients.
  static std::string reported_name(const std::string& lower);
};

inline constexpr const char* kServerVersion = "15.0 (streamlake)";
inline constexpr const char* kVersionString =
    "PostgreSQL 15.0 (streamlake) on x86_64-pc-linux-gnu, compatible wire protocol";

// Answers `stmt` (one statement, raw text) if the wire layer owns it; nullopt if the engine
// should run it. Throws exec::SqlError for a refused setting value.
std::optional<LocalResult> answer_locally(std::string_view stmt, PgSettings& settings,
                                          const CatalogAccess& catalog);

// PostgreSQL's name for a logical type as format_type() prints it.
std::string pg_type_name(const exec::LogicalType& t);
int32_t pg_type_oid(const exec::LogicalType& t);

}  // namespace sl::pgwire
