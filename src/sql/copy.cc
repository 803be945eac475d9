#include "sql/copy.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "exec/error.h"
#include "exec/value.h"

namespace sl::sql {

namespace ss = exec::sqlstate;

namespace {

// Splits one CSV record starting at `pos`; returns false at end of input.
bool next_csv_record(const std::string& s, size_t& pos, char delim, char quote,
                     std::vector<std::pair<std::string, bool>>& fields, int& line) {
  fields.clear();
  if (pos >= s.size()) return false;
  std::string cur;
  bool quoted = false, was_quoted = false;
  while (pos < s.size()) {
    char c = s[pos];
    if (quoted) {
      if (c == quote) {
        if (pos + 1 < s.size() && s[pos + 1] == quote) { cur += quote; pos += 2; continue; }
        quoted = false;
        pos++;
        continue;
      }
      if (c == '\n') line++;
      cur += c;
      pos++;
      continue;
    }
    if (c == quote) { quoted = true; was_quoted = true; pos++; continue; }
    if (c == delim) { fields.emplace_back(std::move(cur), was_quoted); cur.clear(); was_quoted = false; pos++; continue; }
    if (c == '\r' && pos + 1 < s.size() && s[pos + 1] == '\n') { pos++; continue; }
    if (c == '\n') { pos++; line++; break; }
    cur += c;
    pos++;
  }
  if (quoted) throw exec::SqlError(ss::kInvalidText, "unterminated CSV quoted field at line " + std::to_string(line));
  fields.emplace_back(std::move(cur), was_quoted);
  return true;
}

}  // namespace

std::vector<exec::DataChunk> read_copy_file(const CopyOptions& o, const std::vector<catalog::ColumnDef>& cols,
                                            exec::ExecContext& ctx) {
  std::ifstream f(o.path, std::ios::binary);
  if (!f) throw exec::SqlError(ss::kIoError, "could not open file \"" + o.path + "\" for reading", -1, Errc::kIoError);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ctx.memory.grow(static_cast<int64_t>(data.size()));
  std::vector<exec::LogicalType> types;
  for (auto& c : cols) types.push_back(c.type);
  // file column -> table column
  std::vector<int> map;
  if (o.columns.empty()) {
    for (size_t i = 0; i < cols.size(); i++) map.push_back(static_cast<int>(i));
  } else {
    for (auto& n : o.columns) {
      int found = -1;
      for (size_t i = 0; i < cols.size(); i++) if (cols[i].name == n) found = static_cast<int>(i);
      if (found < 0) throw exec::SqlError(ss::kUndefinedColumn, "column \"" + n + "\" does not exist");
      map.push_back(found);
    }
  }
  std::vector<exec::DataChunk> out;
  auto new_chunk = [&]() { out.emplace_back(types); };
  new_chunk();
  auto row_start = [&]() -> size_t {
    if (out.back().size() == out.back().capacity()) new_chunk();
    size_t r = out.back().size();
    for (size_t c = 0; c < cols.size(); c++) out.back().column(c).set_null(r);
    return r;
  };
  auto set = [&](size_t row, int col, std::string_view text, int line) {
    try {
      exec::parse_value(text, types[col]).write(out.back().column(col), row);
    } catch (const exec::SqlError& e) {
      throw exec::SqlError(e.sqlstate(), std::string(e.what()) + " (line " + std::to_string(line) + ", column " + cols[col].name + ")");
    }
  };
  int line = 1;
  if (o.format == "csv") {
    size_t pos = 0;
    std::vector<std::pair<std::string, bool>> fields;
    if (o.header) next_csv_record(data, pos, o.delimiter, o.quote, fields, line);
    while (true) {
      int rec_line = line;
      if (!next_csv_record(data, pos, o.delimiter, o.quote, fields, line)) break;
      if (fields.size() == 1 && fields[0].first.empty() && !fields[0].second) continue;  // blank line
      if (fields.size() != map.size())
        throw exec::SqlError(ss::kInvalidText, "line " + std::to_string(rec_line) + " has " + std::to_string(fields.size()) +
                             " fields, expected " + std::to_string(map.size()));
      size_t r = row_start();
      for (size_t k = 0; k < fields.size(); k++) {
        auto& [text, quoted] = fields[k];
        bool is_null = !quoted && (text.empty() || (!o.null_string.empty() && text == o.null_string));
        if (!is_null) set(r, map[k], text, rec_line);
      }
      out.back().set_size(r + 1);
    }
  } else {
    size_t pos = 0;
    while (pos < data.size()) {
      size_t e = data.find('\n', pos);
      if (e == std::string::npos) e = data.size();
      std::string_view ln(data.data() + pos, e - pos);
      pos = e + 1;
      while (!ln.empty() && (ln.back() == '\r' || ln.back() == ' ')) ln.remove_suffix(1);
      if (ln.empty()) { line++; continue; }
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(ln);
      } catch (const std::exception& ex) {
        throw exec::SqlError(ss::kInvalidText, "invalid JSON at line " + std::to_string(line) + ": " + ex.what());
      }
      if (!j.is_object()) throw exec::SqlError(ss::kInvalidText, "line " + std::to_string(line) + " is not a JSON object");
      size_t r = row_start();
      for (size_t k = 0; k < map.size(); k++) {
        int col = map[k];
        auto it = j.find(cols[col].name);
        if (it == j.end() || it->is_null()) continue;
        if (it->is_string()) set(r, col, it->get<std::string>(), line);
        else if (it->is_boolean()) set(r, col, it->get<bool>() ? "true" : "false", line);
        else set(r, col, it->dump(), line);
      }
      out.back().set_size(r + 1);
      line++;
    }
  }
  if (out.back().size() == 0) out.pop_back();
  return out;
}

}  // namespace sl::sql
