// Test-only driver for the differential test (diff.mjs): runs SQL statements through
// sl::sql and prints one JSON line per statement.
//
// Input (stdin): one statement per line (empty lines skipped). Output (stdout), per line:
//   {"cols":["name:type",...],"rows":[[v,...],...]}       rows in result order
//   {"error":"message","sqlstate":"42601"}                  user error
//   {"error":"message","sqlstate":"XX000","internal":true}  anything else (a bug)
// Values are rendered with sql::append_json. A fresh data directory under /tmp is used
// and removed at exit. Usage: sql_diff_driver < statements.sql
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

#include "exec/error.h"
#include "sql/engine.h"
#include "util/error.h"

namespace {

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c < 0x20) { char buf[8]; snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out += static_cast<char>(c);
  }
  out += '"';
}

std::string run(sl::sql::Session& session, const std::string& sql) {
  std::string out;
  try {
    auto r = session.execute(sql);
    std::string rows;
    while (const auto* c = r.next()) {
      for (size_t i = 0; i < c->size(); i++) {
        rows += rows.empty() ? "[" : ",[";
        for (size_t col = 0; col < c->column_count(); col++) {
          if (col) rows += ',';
          sl::sql::append_json(c->column(col), i, rows);
        }
        rows += ']';
      }
    }
    out = "{\"cols\":[";
    bool first = true;
    for (const auto& col : r.columns()) {
      if (!first) out += ',';
      first = false;
      append_quoted(out, col.name + ":" + col.type.to_string());
    }
    out += "],\"rows\":[" + rows + "]}";
  } catch (const sl::exec::SqlError& e) {
    out = "{\"error\":";
    append_quoted(out, e.what());
    out += ",\"sqlstate\":";
    append_quoted(out, e.sqlstate());
    out += "}";
  } catch (const sl::UserError& e) {
    out = "{\"error\":";
    append_quoted(out, e.what());
    out += ",\"sqlstate\":";
    append_quoted(out, sl::exec::sqlstate_of(e));
    out += "}";
  } catch (const std::exception& e) {
    out = "{\"error\":";
    append_quoted(out, e.what());
    out += ",\"sqlstate\":\"XX000\",\"internal\":true}";
  }
  return out;
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/sldiff.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  int rc = 0;
  {
    auto engine = sl::sql::Engine::open(dir);
    auto session = engine->session();
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      std::cout << run(*session, line) << '\n';
    }
    std::cout.flush();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
