// COPY t FROM 'file': CSV (RFC 4180 quoting, optional header) and JSON lines (one object
// per line, fields by column name). Internal to sql/.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "exec/context.h"
#include "exec/vector.h"

namespace sl::sql {

struct CopyOptions {
  std::string path;
  std::string format = "csv";  // csv | json (jsonl, ndjson)
  bool header = false;
  char delimiter = ',';
  char quote = '"';
  std::string null_string;      // CSV: unquoted empty field is NULL too
  std::vector<std::string> columns;  // COPY t (a, b) FROM ...: the file's columns
};

// Reads the whole file into chunks of the table's column types. Throws SqlError with the
// line number on malformed input.
std::vector<exec::DataChunk> read_copy_file(const CopyOptions& o, const std::vector<catalog::ColumnDef>& cols,
                                            exec::ExecContext& ctx);

}  // namespace sl::sql
