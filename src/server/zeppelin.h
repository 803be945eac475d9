// Import of Apache Zeppelin notes: note.json of Zeppelin 0.8–0.10 and .zpln (0.9+), which
// share one shape: {"name", "paragraphs":[{"text":"%sql\n...", "config":{"results":{"0":
// {"graph":{"mode","keys","values","groups","setting"}}}}}]}.
//
// Mapping: %sql, %spark.sql (and the other SQL interpreters: %jdbc, %psql, %livy.sql,
// %flink.ssql, ...) → sql; %md → markdown; no interpreter → sql; anything else → a "text"
// paragraph with `unsupported` = the interpreter ("%spark"). The chart Zeppelin saved maps
// onto ChartView: pieChart → pie, multiBarChart → bar (stacked from its setting),
// lineChart → line, stackedAreaChart → area (stacked), scatterChart → scatter, else table;
// keys[0] → x, values → y, groups[0] → series. Paragraphs without text are dropped.
// Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/notebooks.h"

namespace sl::server {

struct ZeppelinNote {
  std::string name;  // the note's name (or the last part of its path), at most 200 chars
  std::vector<Paragraph> paragraphs;  // fresh ids
};

// Converts a Zeppelin note (JSON text). Throws ApiError 400 naming the field at fault.
ZeppelinNote convert_zeppelin_note(std::string_view json_text);

// Splits a Zeppelin paragraph text into its interpreter ("sql", "spark.sql", "md", or ""
// when the text names none) and the body after the directive line.
void split_interpreter(std::string_view text, std::string* interpreter, std::string* body);

}  // namespace sl::server
