#include "server/zeppelin.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace sl::server {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw ApiError(400, "bad_request", "Zeppelin note: " + field + ": " + what);
}

bool is_sql_interpreter(const std::string& i) {
  static const char* kSql[] = {"sql",       "spark.sql", "livy.sql",   "jdbc",       "psql", "postgresql",
                               "flink.ssql", "flink.bsql", "hive",      "presto",     "trino", "mysql"};
  for (const char* s : kSql)
    if (i == s) return true;
  return false;
}

bool is_markdown_interpreter(const std::string& i) { return i == "md" || i == "markdown" || i == "spark.md"; }

// Zeppelin's chart modes onto ours; "" when there is no chart to keep.
std::string map_mode(const std::string& mode, bool* stacked) {
  if (mode == "pieChart") return "pie";
  if (mode == "multiBarChart") return "bar";
  if (mode == "lineChart" || mode == "lineWithFocusChart") return "line";
  if (mode == "stackedAreaChart") {
    *stacked = true;
    return "area";
  }
  if (mode == "scatterChart") return "scatter";
  return "table";
}

// A column name out of keys/values/groups entries: {"name": "col", ...}.
std::string column_name(const json& entry, const std::string& field) {
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string())
    bad(field, "expected an object with a string \"name\"");
  std::string n = entry["name"].get<std::string>();
  if (n.size() > 1024) bad(field, "column name longer than 1024 bytes");
  return n;
}

// The graph of a paragraph: config.results["0"].graph (0.8–0.10; results may also be an
// array), or config.graph (older notes).
const json* find_graph(const json& p) {
  auto it = p.find("config");
  if (it == p.end() || !it->is_object()) return nullptr;
  const json& config = *it;
  auto res = config.find("results");
  if (res != config.end()) {
    const json* first = nullptr;
    if (res->is_object() && res->contains("0")) first = &(*res)["0"];
    else if (res->is_array() && !res->empty()) first = &(*res)[0];
    if (first && first->is_object() && first->contains("graph") && (*first)["graph"].is_object())
      return &(*first)["graph"];
  }
  auto g = config.find("graph");
  if (g != config.end() && g->is_object()) return &*g;
  return nullptr;
}

ChartView map_graph(const json& graph, const std::string& field) {
  ChartView v;
  std::string mode = graph.contains("mode") && graph["mode"].is_string() ? graph["mode"].get<std::string>() : "table";
  v.mode = map_mode(mode, &v.stacked);
  // multiBarChart keeps "stacked" in setting.multiBarChart (0.8+) or graph.stacked (older).
  if (mode == "multiBarChart") {
    const json* st = nullptr;
    if (graph.contains("setting") && graph["setting"].is_object() && graph["setting"].contains("multiBarChart") &&
        graph["setting"]["multiBarChart"].is_object() && graph["setting"]["multiBarChart"].contains("stacked"))
      st = &graph["setting"]["multiBarChart"]["stacked"];
    else if (graph.contains("stacked"))
      st = &graph["stacked"];
    if (st && st->is_boolean()) v.stacked = st->get<bool>();
  }
  auto list = [&](const char* key) -> const json* {
    auto it = graph.find(key);
    if (it == graph.end() || it->is_null()) return nullptr;
    if (!it->is_array()) bad(field + "." + key, "expected an array");
    return &*it;
  };
  if (const json* keys = list("keys"); keys && !keys->empty()) v.x = column_name((*keys)[0], field + ".keys[0]");
  if (const json* values = list("values")) {
    for (size_t i = 0; i < values->size() && v.y.size() < 50; i++)
      v.y.push_back(column_name((*values)[i], field + ".values[" + std::to_string(i) + "]"));
  }
  if (const json* groups = list("groups"); groups && !groups->empty())
    v.series = column_name((*groups)[0], field + ".groups[0]");
  return v;
}

std::string note_name(const json& doc) {
  std::string name;
  if (doc.contains("name") && doc["name"].is_string()) name = doc["name"].get<std::string>();
  if (name.empty() && doc.contains("path") && doc["path"].is_string()) {
    std::string path = doc["path"].get<std::string>();
    size_t slash = path.find_last_of('/');
    name = slash == std::string::npos ? path : path.substr(slash + 1);
  }
  if (name.empty()) name = "Imported note";
  // At most 200 characters, cut on a UTF-8 boundary.
  size_t chars = 0, i = 0;
  for (; i < name.size(); i++) {
    if ((static_cast<unsigned char>(name[i]) & 0xC0) != 0x80) {
      if (chars == kMaxNameChars) break;
      chars++;
    }
  }
  name.resize(i);
  return name;
}

}  // namespace

void split_interpreter(std::string_view text, std::string* interpreter, std::string* body) {
  interpreter->clear();
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) i++;
  if (i >= text.size() || text[i] != '%') {
    *body = std::string(text);
    return;
  }
  size_t start = ++i;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                             text[i] == '_' || text[i] == '-'))
    i++;
  *interpreter = std::string(text.substr(start, i - start));
  if (i < text.size() && text[i] == '(') {  // local properties: %sql(type=update)
    size_t close = text.find(')', i);
    i = close == std::string_view::npos ? text.size() : close + 1;
  }
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) i++;
  if (i < text.size() && text[i] == '\r') i++;
  if (i < text.size() && text[i] == '\n') i++;
  *body = std::string(text.substr(i));
}

ZeppelinNote convert_zeppelin_note(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) bad("body", "not valid JSON");
  if (!doc.is_object()) bad("body", "expected a JSON object");
  ZeppelinNote note;
  note.name = note_name(doc);
  if (!doc.contains("paragraphs") || !doc["paragraphs"].is_array()) bad("paragraphs", "expected an array");
  const json& ps = doc["paragraphs"];
  if (ps.size() > kMaxParagraphs)
    bad("paragraphs", "has " + std::to_string(ps.size()) + " entries; at most " + std::to_string(kMaxParagraphs));
  for (size_t i = 0; i < ps.size(); i++) {
    std::string field = "paragraphs[" + std::to_string(i) + "]";
    const json& p = ps[i];
    if (!p.is_object()) bad(field, "expected an object");
    auto t = p.find("text");
    if (t == p.end() || t->is_null()) continue;  // Zeppelin's trailing empty paragraph
    if (!t->is_string()) bad(field + ".text", "expected a string");
    std::string text = t->get<std::string>();
    Paragraph out;
    out.id = random_uuid();
    std::string interp;
    split_interpreter(text, &interp, &out.text);
    if (interp.empty() || is_sql_interpreter(interp)) {
      out.type = "sql";
    } else if (is_markdown_interpreter(interp)) {
      out.type = "markdown";
    } else {
      out.type = "text";
      out.unsupported = "%" + interp;
    }
    if (out.text.size() > kMaxParagraphTextBytes)
      bad(field + ".text", "longer than " + std::to_string(kMaxParagraphTextBytes) + " bytes");
    if (out.type == "sql") {
      if (const json* g = find_graph(p)) out.view = map_graph(*g, field + ".config.results.0.graph");
    }
    note.paragraphs.push_back(std::move(out));
  }
  return note;
}

}  // namespace sl::server
