// sqllogictest-style runner: runs .test files against a fresh data directory.
//
//   statement ok | statement error <substring of the message or the SQLSTATE>
//   <sql, until a blank line>
//
//   query <column types, one letter each> [rowsort|nosort]
//   <sql>
//   ----
//   <expected rows: values separated by tabs, NULL for null, (empty) for ''>
//
//   restart          reopen the engine on the same data directory
//   __TEST_DIR__ in SQL is replaced by the directory of the .test file (COPY fixtures).
//   # comment
//
// Exit status 0 when every record passes. Usage: sql_logic_test FILE...
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "exec/error.h"
#include "sql/engine.h"

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(f, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  return lines;
}

std::vector<std::string> result_rows(sl::sql::QueryResult& r) {
  std::vector<std::string> rows;
  while (const auto* c = r.next()) {
    for (size_t i = 0; i < c->size(); i++) {
      std::string row;
      for (size_t col = 0; col < c->column_count(); col++) {
        if (col) row += '\t';
        const auto& v = c->column(col);
        if (v.is_null(i)) { row += "NULL"; continue; }
        std::string s = sl::sql::to_pg_text(v, i);
        row += s.empty() ? "(empty)" : s;
      }
      rows.push_back(row);
    }
  }
  return rows;
}

int run_file(const std::string& path) {
  auto lines = read_lines(path);
  if (lines.empty()) {
    std::cerr << path << ": empty or unreadable\n";
    return 1;
  }
  std::string test_dir = std::filesystem::absolute(path).parent_path().string();
  char tmpl[] = "/tmp/sltest.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto engine = sl::sql::Engine::open(dir);
  auto session = engine->session();
  int failures = 0, records = 0;
  size_t i = 0;
  auto fail = [&](size_t line, const std::string& sql, const std::string& msg) {
    failures++;
    std::cerr << path << ":" << line + 1 << ": " << msg << "\n  " << sql << "\n";
  };
  while (i < lines.size()) {
    std::string head = lines[i];
    if (head.empty() || head[0] == '#') { i++; continue; }
    size_t start = i;
    if (head == "restart") {
      session.reset();
      engine.reset();
      engine = sl::sql::Engine::open(dir);
      session = engine->session();
      i++;
      continue;
    }
    std::istringstream hs(head);
    std::string kind;
    hs >> kind;
    i++;
    std::string sql;
    while (i < lines.size() && !lines[i].empty() && lines[i] != "----") sql += (sql.empty() ? "" : "\n") + lines[i++];
    for (size_t p; (p = sql.find("__TEST_DIR__")) != std::string::npos;) sql.replace(p, 12, test_dir);
    records++;
    if (kind == "statement") {
      std::string mode;
      hs >> mode;
      std::string expect;
      std::getline(hs, expect);
      while (!expect.empty() && expect[0] == ' ') expect.erase(0, 1);
      try {
        auto results = session->execute_script(sql);
        for (auto& r : results) while (r.next()) {}
        if (mode == "error") fail(start, sql, "expected an error containing \"" + expect + "\", got success");
      } catch (const sl::Error& e) {
        std::string msg = e.what();
        std::string state = sl::exec::sqlstate_of(e);
        if (mode == "ok") fail(start, sql, "unexpected error [" + state + "]: " + msg);
        else if (!expect.empty() && msg.find(expect) == std::string::npos && state != expect)
          fail(start, sql, "error [" + state + "] \"" + msg + "\" does not contain \"" + expect + "\"");
      }
      continue;
    }
    if (kind == "query") {
      std::string types, sort;
      hs >> types >> sort;
      std::vector<std::string> expected;
      if (i < lines.size() && lines[i] == "----") {
        i++;
        while (i < lines.size() && !lines[i].empty()) expected.push_back(lines[i++]);
      }
      try {
        auto r = session->execute(sql);
        if (r.columns().size() != types.size())
          fail(start, sql, "expected " + std::to_string(types.size()) + " columns, got " + std::to_string(r.columns().size()));
        auto rows = result_rows(r);
        if (sort == "rowsort") {
          std::sort(rows.begin(), rows.end());
          std::sort(expected.begin(), expected.end());
        }
        if (rows != expected) {
          std::string msg = "wrong result\n  expected:\n";
          for (auto& e : expected) msg += "    " + e + "\n";
          msg += "  actual:\n";
          for (auto& a : rows) msg += "    " + a + "\n";
          fail(start, sql, msg);
        }
      } catch (const sl::Error& e) {
        fail(start, sql, std::string("unexpected error [") + sl::exec::sqlstate_of(e) + "]: " + e.what());
      }
      continue;
    }
    fail(start, head, "unknown record type \"" + kind + "\"");
  }
  session.reset();
  engine.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::cout << path << ": " << records << " records, " << failures << " failures\n";
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  int rc = 0;
  for (int a = 1; a < argc; a++) rc |= run_file(argv[a]);
  return rc;
}
