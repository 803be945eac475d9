// Window table functions: finding tumble/hop/session calls in a view's SELECT (via
// libpg_query) and assigning window_start/window_end to rows.
#include <pg_query.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "exec/value.h"
#include "stream/internal.h"
#include "util/error.h"

namespace sl::stream {

namespace {

using json = nlohmann::json;

bool is(const json& n, const char* t) { return n.is_object() && !n.empty() && n.begin().key() == t; }
const json& body(const json& n) { return n.begin().value(); }

std::string str_of(const json& n) { return is(n, "String") ? body(n).value("sval", "") : std::string(); }

struct Found {
  std::vector<std::string> relations;  // every RangeVar name
  struct Call {
    std::string name;
    const json* call;
    int location;
  };
  std::vector<Call> windows;
  std::vector<std::string> other_functions;
};

void walk(const json& n, Found& f) {
  if (n.is_array()) {
    for (auto& x : n) walk(x, f);
    return;
  }
  if (!n.is_object()) return;
  if (is(n, "RangeVar")) {
    f.relations.push_back(body(n).value("relname", ""));
    return;
  }
  if (is(n, "RangeFunction")) {
    const json& b = body(n);
    if (b.contains("functions"))
      for (auto& item : b["functions"]) {
        const json& lst = is(item, "List") ? body(item)["items"] : item;
        for (auto& fn : lst) {
          if (!is(fn, "FuncCall")) continue;
          const json& fc = body(fn);
          std::string name = fc.contains("funcname") && !fc["funcname"].empty() ? str_of(fc["funcname"].back()) : "";
          if (name == "tumble" || name == "hop" || name == "session")
            f.windows.push_back({name, &fc, fc.value("location", -1)});
          else
            f.other_functions.push_back(name);
        }
      }
    return;
  }
  for (auto& [k, v] : n.items()) walk(v, f);
}

std::string column_name(const json& arg) {
  if (!is(arg, "ColumnRef")) return {};
  const json& fields = body(arg)["fields"];
  return fields.empty() ? std::string() : str_of(fields.back());
}

// The string inside `interval '1 minute'`, '1 minute' or a bare integer (seconds).
std::string duration_text(const json& n) {
  if (n.is_object()) {
    if (n.contains("sval") && n["sval"].is_object()) return n["sval"].value("sval", "");
    if (n.contains("ival") && n["ival"].is_object()) return std::to_string(n["ival"].value("ival", 0)) + " seconds";
    for (auto& [k, v] : n.items()) {
      if (k == "typeName") continue;
      std::string s = duration_text(v);
      if (!s.empty()) return s;
    }
  } else if (n.is_array()) {
    for (auto& v : n) {
      std::string s = duration_text(v);
      if (!s.empty()) return s;
    }
  }
  return {};
}

// End (exclusive) of the call starting at `loc`: after its matching ')'.
size_t call_end(const std::string& sql, size_t loc) {
  size_t i = sql.find('(', loc);
  if (i == std::string::npos) throw UserError("malformed window call");
  int depth = 0;
  for (; i < sql.size(); i++) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      char q = c;
      for (i++; i < sql.size(); i++) {
        if (sql[i] == q) {
          if (i + 1 < sql.size() && sql[i + 1] == q) { i++; continue; }
          break;
        }
      }
      continue;
    }
    if (c == '(') depth++;
    if (c == ')' && --depth == 0) return i + 1;
  }
  throw UserError("malformed window call");
}

}  // namespace

int64_t window_floor(int64_t ts, int64_t slide) {
  int64_t m = ts % slide;
  if (m < 0) m += slide;
  return ts - m;
}

RewrittenQuery rewrite_view_query(const std::string& select_sql, const std::string& view_name,
                                  const std::function<bool(const std::string&)>& is_stream) {
  PgQueryParseResult r = pg_query_parse(select_sql.c_str());
  if (r.error) {
    std::string msg = r.error->message;
    pg_query_free_parse_result(r);
    throw UserError("syntax error in the view's query: " + msg);
  }
  json j = json::parse(r.parse_tree);
  pg_query_free_parse_result(r);
  if (!j.contains("stmts") || j["stmts"].size() != 1 || !is(j["stmts"][0]["stmt"], "SelectStmt"))
    throw UserError("a materialized view is defined by one SELECT");
  Found f;
  walk(j["stmts"][0]["stmt"], f);
  RewrittenQuery q;
  q.sql = select_sql;
  std::vector<std::string> streams;
  for (auto& rel : f.relations)
    if (is_stream(rel)) streams.push_back(rel);
  if (f.windows.size() > 1) throw UserError("a materialized view may use one window function");
  if (!f.windows.empty()) {
    const auto& w = f.windows[0];
    const json& args = w.call->contains("args") ? (*w.call)["args"] : json::array();
    size_t want = w.name == "hop" ? 4 : 3;
    if (args.size() != want)
      throw UserError(w.name + "() takes " + std::to_string(want) + " arguments: " +
                      (w.name == "hop" ? "hop(table, time_column, slide, size)" : w.name + "(table, time_column, " +
                       (w.name == "session" ? "gap)" : "size)")));
    std::string table = column_name(args[0]), col = column_name(args[1]);
    if (table.empty() || !is_stream(table)) throw UserError(w.name + "(): the first argument must be a stream table");
    if (col.empty()) throw UserError(w.name + "(): the second argument must be the event-time column");
    streams.push_back(table);
    q.window.table = table;
    q.window.column = col;
    q.window.kind = w.name == "tumble" ? WindowKind::kTumble : w.name == "hop" ? WindowKind::kHop : WindowKind::kSession;
    if (w.name == "hop") {
      q.window.slide_us = parse_duration_us(duration_text(args[2]), "hop slide");
      q.window.size_us = parse_duration_us(duration_text(args[3]), "hop size");
      if (q.window.slide_us <= 0 || q.window.size_us <= 0 || q.window.size_us % q.window.slide_us != 0)
        throw UserError("hop(): size must be a positive multiple of slide");
    } else {
      q.window.size_us = parse_duration_us(duration_text(args[2]), w.name == "session" ? "session gap" : "tumble size");
      q.window.slide_us = q.window.size_us;
      if (q.window.size_us <= 0) throw UserError(w.name + "(): the interval must be positive");
    }
    if (w.location < 0) throw UserError("cannot locate the window call");
    size_t loc = static_cast<size_t>(w.location), end = call_end(select_sql, loc);
    q.relation = "__window_" + view_name;
    q.sql = select_sql.substr(0, loc) + q.relation + select_sql.substr(end);
  }
  for (auto& fn : f.other_functions)
    if (fn != "generate_series") throw UserError("table function " + fn + "() is not supported in a materialized view");
  if (streams.empty()) throw UserError("a materialized view must read a stream table (CREATE TABLE ... WITH (connector = 'kinesis'))");
  // A stream-stream join reads two (possibly the same table twice, a self-join); which
  // shapes are supported is decided on the plan (View::compile).
  if (streams.size() > 2)
    throw UserError("a materialized view joins at most two stream tables (it reads " + std::to_string(streams.size()) + ")");
  q.source = streams[0];
  q.stream_reads = streams.size();
  for (auto& s : streams)
    if (std::find(q.sources.begin(), q.sources.end(), s) == q.sources.end()) q.sources.push_back(s);
  return q;
}

std::vector<DataChunk> assign_windows(const WindowSpec& w, const DataChunk& in) {
  std::vector<LogicalType> types = in.types();
  types.push_back(w.time_type);
  types.push_back(w.time_type);
  size_t nin = in.column_count();
  if (w.kind != WindowKind::kHop) {
    // One window per row: share the input's columns, add window_start/window_end.
    DataChunk c;
    for (size_t k = 0; k < nin; k++) c.add_column(exec::Vector::sharing(in.column(k)));
    exec::Vector ws(w.time_type, in.capacity()), we(w.time_type, in.capacity());
    const exec::Vector& tv = in.column(w.column_index);
    const int64_t* ts = tv.data<int64_t>();
    int64_t* s = ws.data<int64_t>();
    int64_t* e = we.data<int64_t>();
    for (size_t i = 0; i < in.size(); i++) {
      if (tv.is_null(i) || w.kind == WindowKind::kSession) {  // session: assigned by the aggregate
        ws.set_null(i);
        we.set_null(i);
        continue;
      }
      s[i] = window_floor(ts[i], w.size_us);
      e[i] = s[i] + w.size_us;
    }
    c.add_column(std::move(ws));
    c.add_column(std::move(we));
    c.set_size(in.size());
    if (in.has_signs())
      for (size_t i = 0; i < in.size(); i++) c.set_sign(i, in.sign(i));
    std::vector<DataChunk> out;
    out.push_back(std::move(c));
    return out;
  }
  std::vector<uint32_t> sel;
  std::vector<int64_t> starts;
  const int64_t* ts = in.column(w.column_index).data<int64_t>();
  for (size_t i = 0; i < in.size(); i++) {
    if (in.column(w.column_index).is_null(i)) continue;
    if (w.kind == WindowKind::kTumble) {
      sel.push_back(static_cast<uint32_t>(i));
      starts.push_back(window_floor(ts[i], w.size_us));
    } else if (w.kind == WindowKind::kHop) {
      // Windows [s, s + size) with s = k * slide containing ts, oldest first.
      int64_t last = window_floor(ts[i], w.slide_us);
      int64_t first = last - (w.size_us / w.slide_us - 1) * w.slide_us;
      for (int64_t s = first; s <= last; s += w.slide_us) {
        sel.push_back(static_cast<uint32_t>(i));
        starts.push_back(s);
      }
    } else {
      sel.push_back(static_cast<uint32_t>(i));
      starts.push_back(INT64_MIN);  // session: assigned by the aggregate
    }
  }
  std::vector<DataChunk> out;
  for (size_t off = 0; off < sel.size(); off += exec::kVectorSize) {
    size_t n = std::min(exec::kVectorSize, sel.size() - off);
    DataChunk c(types);
    for (size_t k = 0; k < nin; k++) {
      c.column(k).share_heaps(in.column(k));
      c.column(k).gather(in.column(k), sel.data() + off, n);
    }
    int64_t* s = c.column(nin).data<int64_t>();
    int64_t* e = c.column(nin + 1).data<int64_t>();
    for (size_t i = 0; i < n; i++) {
      if (starts[off + i] == INT64_MIN) {
        c.column(nin).set_null(i);
        c.column(nin + 1).set_null(i);
        continue;
      }
      s[i] = starts[off + i];
      e[i] = starts[off + i] + w.size_us;
    }
    if (in.has_signs())
      for (size_t i = 0; i < n; i++) c.set_sign(i, in.sign(sel[off + i]));
    c.set_size(n);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sl::stream
