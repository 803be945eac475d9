// Encoders for lake sinks: CSV and JSON lines from a DataChunk.
//
// Values are rendered in PostgreSQL's text format (exec::format_value): booleans t/f,
// timestamps "2024-01-02 03:04:05.5", timestamptz with "+00", bytea "\x0102", numerics
// exact. What these write, RecordDecoder reads back to the same values:
//  - CSV: NULL is an empty unquoted field; an empty string is "" (quoted); a field is
//    quoted when it is empty text or holds the delimiter, the quote, CR or LF, or starts
//    or ends with a space; quotes inside are doubled. Rows end with "\n".
//  - JSON lines: one object per row with the columns in order; NULL -> null, booleans ->
//    true/false, integers, real, double and numeric -> JSON numbers (NaN and infinities
//    -> strings "NaN", "Infinity", "-Infinity"), everything else -> JSON strings.
// Row signs are ignored: sinks are fed append-only streams. Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

#include "exec/vector.h"

namespace sl::format {

struct CsvWriteOptions {
  char delimiter = ',';
  char quote = '"';
};

void write_csv_header(const std::vector<std::string>& names, const CsvWriteOptions& opts, std::string& out);
// Appends every row of `chunk` to `out`.
void write_csv(const exec::DataChunk& chunk, const CsvWriteOptions& opts, std::string& out);
// REQUIRES: names.size() == chunk.column_count().
void write_json_lines(const exec::DataChunk& chunk, const std::vector<std::string>& names, std::string& out);

// Appends `s` as a JSON string literal (quotes included).
void append_json_string(std::string_view s, std::string& out);

}  // namespace sl::format
