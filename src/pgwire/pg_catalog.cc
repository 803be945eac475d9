#include "pgwire/pg_catalog.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "exec/error.h"
#include "pgwire/sql_text.h"

namespace sl::pgwire {

using exec::SqlError;
namespace sqlstate = exec::sqlstate;

PgSettings::PgSettings() {
  values = {
      {"server_version", kServerVersion},
      {"server_version_num", "150000"},
      {"server_encoding", "UTF8"},
      {"client_encoding", "UTF8"},
      {"datestyle", "ISO, MDY"},
      {"timezone", "UTC"},
      {"intervalstyle", "postgres"},
      {"integer_datetimes", "on"},
      {"standard_conforming_strings", "on"},
      {"application_name", ""},
      {"search_path", "public"},
      {"transaction_isolation", "read committed"},
      {"default_transaction_isolation", "read committed"},
      {"transaction_read_only", "off"},
      {"default_transaction_read_only", "off"},
      {"max_identifier_length", "63"},
      {"lc_collate", "C"},
      {"lc_ctype", "C"},
      {"lc_messages", "C"},
      {"lc_monetary", "C"},
      {"lc_numeric", "C"},
      {"lc_time", "C"},
      {"bytea_output", "hex"},
      {"extra_float_digits", "1"},
      {"client_min_messages", "notice"},
      {"row_security", "on"},
      {"jit", "off"},
  };
}

std::string PgSettings::reported_name(const std::string& n) {
  static const std::map<std::string, std::string> k = {
      {"application_name", "application_name"}, {"client_encoding", "client_encoding"},
      {"datestyle", "DateStyle"}, {"intervalstyle", "IntervalStyle"},
      {"timezone", "TimeZone"}, {"standard_conforming_strings", "standard_conforming_strings"},
      {"integer_datetimes", "integer_datetimes"}, {"server_encoding", "server_encoding"},
      {"server_version", "server_version"}, {"is_superuser", "is_superuser"},
      {"session_authorization", "session_authorization"}};
  auto it = k.find(n);
  return it == k.end() ? "" : it->second;
}

std::string pg_type_name(const exec::LogicalType& t) { return t.to_string(); }
int32_t pg_type_oid(const exec::LogicalType& t) { return t.pg_oid(); }

namespace {

// Settings the engine owns (SET/SHOW go to it).
bool engine_setting(const std::string& n) {
  return n == "memory_limit" || n == "statement_timeout" || n == "batch_size";
}

LocalResult tag_only(std::string tag, LocalResult::Txn txn = LocalResult::kNoTxn) {
  LocalResult r;
  r.tag = std::move(tag);
  r.txn = txn;
  return r;
}

LocalResult one_value(std::string column, std::optional<std::string> value, int32_t type = oid::kText) {
  LocalResult r;
  r.has_rows = true;
  r.columns.push_back({std::move(column), type});
  r.rows.push_back({std::move(value)});
  return r;
}

// Scanner over normalized text: top-level positions (outside quotes and parentheses).
template <class F>
void scan_top_level(std::string_view s, F&& f) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) ++j;
      i = j;
      continue;
    }
    if (c == '(') ++depth;
    else if (c == ')') --depth;
    else if (depth == 0 && !f(i)) return;
  }
}

// For "select a, b as x, ... from ...": the select items and the position of " from ".
struct SelectList {
  std::vector<std::string> items;
  size_t from = std::string::npos;
};
std::optional<SelectList> select_list(std::string_view s) {
  if (!starts_with_words(s, "select")) return std::nullopt;
  std::string_view body = s.substr(6);
  SelectList out;
  size_t start = 0;
  scan_top_level(body, [&](size_t i) {
    if (body[i] == ',') {
      out.items.emplace_back(body.substr(start, i - start));
      start = i + 1;
    } else if (body.substr(i, 6) == " from ") {
      out.from = 6 + i + 1;
      return false;
    }
    return true;
  });
  size_t end = out.from == std::string::npos ? body.size() : out.from - 7;
  out.items.emplace_back(body.substr(start, end - start));
  for (auto& it : out.items) {
    while (!it.empty() && it.front() == ' ') it.erase(0, 1);
    while (!it.empty() && it.back() == ' ') it.pop_back();
  }
  return out;
}

// Splits "expr as alias" / "expr alias" (top level); returns alias or "".
std::string split_alias(std::string& item) {
  size_t as = std::string::npos;
  scan_top_level(item, [&](size_t i) {
    if (item.compare(i, 4, " as ") == 0) as = i;
    return true;
  });
  if (as == std::string::npos) return "";
  std::string alias = item.substr(as + 4);
  item.resize(as);
  if (alias.size() >= 2 && alias.front() == '"' && alias.back() == '"')
    alias = alias.substr(1, alias.size() - 2);
  return alias;
}

// Default column name of an expression: the last identifier before '(' or the end.
std::string default_name(const std::string& expr) {
  std::string e = expr;
  size_t p = e.find('(');
  if (p != std::string::npos) e.resize(p);
  size_t c = e.find("::");
  if (c != std::string::npos) e.resize(c);
  size_t dot = e.rfind('.');
  if (dot != std::string::npos) e = e.substr(dot + 1);
  while (!e.empty() && e.back() == ' ') e.pop_back();
  size_t sp = e.rfind(' ');
  if (sp != std::string::npos) e = e.substr(sp + 1);
  bool ident = !e.empty();
  for (char ch : e)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ident = false;
  return ident ? e : "?column?";
}

std::string strip_prefix(std::string s, std::string_view p) {
  if (s.compare(0, p.size(), p) == 0) s.erase(0, p.size());
  return s;
}

// A quoted literal right after `marker` in s ("... = '123'" -> 123).
std::optional<std::string> literal_after(std::string_view s, std::string_view marker) {
  size_t p = s.find(marker);
  if (p == std::string_view::npos) return std::nullopt;
  p += marker.size();
  while (p < s.size() && s[p] == ' ') ++p;
  if (p >= s.size() || s[p] != '\'') return std::nullopt;
  size_t e = s.find('\'', p + 1);
  if (e == std::string_view::npos) return std::nullopt;
  return std::string(s.substr(p + 1, e - p - 1));
}

bool regex_matches(const std::optional<std::string>& pattern, const std::string& name) {
  if (!pattern) return true;
  try {
    return std::regex_search(name, std::regex(*pattern, std::regex::extended));
  } catch (const std::regex_error&) {
    throw SqlError(sqlstate::kInvalidRegex, "invalid regular expression: " + *pattern);
  }
}

std::optional<std::string> show(const std::string& name, const PgSettings& st) {
  if (name == "is_superuser") return st.role == "admin" ? "on" : "off";
  if (name == "session_authorization") return st.user;
  auto it = st.values.find(name);
  if (it == st.values.end()) return std::nullopt;
  return it->second;
}

// --- psql's catalog queries ----------------------------------------------------------

std::optional<RelationInfo> by_oid(const CatalogAccess& cat, std::string_view q, std::string_view marker) {
  auto lit = literal_after(q, marker);
  if (!lit) return std::nullopt;
  int32_t o = 0;
  try {
    o = std::stoi(*lit);
  } catch (...) {
    return std::nullopt;
  }
  for (auto& r : cat.relations())
    if (r.oid == o) return r;
  return std::nullopt;
}

// Evaluates a select item of psql's relation-details or attribute queries.
std::optional<std::string> eval_item(const std::string& item, const RelationInfo* rel,
                                     const ColumnInfo* col) {
  auto has = [&](const char* w) { return item.find(w) != std::string::npos; };
  if (col) {
    if (has("attname")) return col->name;
    if (has("format_type")) return pg_type_name(col->type);
    if (has("attnotnull")) return col->not_null ? "t" : "f";
    if (has("attidentity") || has("attgenerated") || has("attcompression")) return "";
    if (has("attstorage")) return col->type.physical_size() == sizeof(exec::StringRef) &&
                                          (col->type.id == exec::TypeId::kVarchar ||
                                           col->type.id == exec::TypeId::kBytea)
                                      ? "x" : "p";
    if (has("attstattarget")) return std::nullopt;  // -1 (default) shows as NULL in psql 15
    return std::nullopt;
  }
  if (has("relchecks")) return "0";
  if (has("relkind")) return std::string(1, rel->kind);
  if (has("relhasindex") || has("relhasrules") || has("relhastriggers") ||
      has("relrowsecurity") || has("relforcerowsecurity") || has("relhasoids") ||
      has("relispartition"))
    return "f";
  if (has("reloptions")) return "";
  if (has("reltablespace")) return "0";
  if (has("reloftype")) return "";
  if (has("relpersistence")) return "p";
  if (has("relreplident")) return "d";
  if (has("amname")) return rel->kind == 'v' ? std::nullopt : std::optional<std::string>("heap");
  return std::nullopt;
}

LocalResult rows_from_items(const std::vector<std::string>& raw_items) {
  LocalResult r;
  r.has_rows = true;
  for (std::string it : raw_items) {
    std::string alias = split_alias(it);
    r.columns.push_back({alias.empty() ? default_name(it) : alias, oid::kText});
  }
  return r;
}

std::optional<LocalResult> catalog_query(const std::string& q, const PgSettings& st,
                                         const CatalogAccess& cat) {
  bool reads_catalog = q.find("pg_catalog.pg_") != std::string::npos ||
                       q.find(" from pg_") != std::string::npos ||
                       q.find("information_schema.") != std::string::npos;
  if (!reads_catalog) return std::nullopt;
  auto sl = select_list(q);
  if (!sl) return std::nullopt;
  // \d+ on a view: its definition (psql: SELECT pg_catalog.pg_get_viewdef('OID'::pg_catalog.oid, true)).
  if (sl->items.size() == 1 && sl->items[0].find("pg_get_viewdef(") != std::string::npos) {
    LocalResult r = rows_from_items(sl->items);
    if (auto rel = by_oid(cat, q, "pg_get_viewdef(")) r.rows.push_back({rel->definition});
    return r;
  }
  if (sl->from == std::string::npos) return std::nullopt;
  std::string from = q.substr(sl->from);
  auto name_re = literal_after(q, "c.relname operator(pg_catalog.~)");
  auto nsp_re = literal_after(q, "n.nspname operator(pg_catalog.~)");
  bool public_ok = regex_matches(nsp_re, "public");

  // \dt, \d, \dv, \dm, ...: the relation list.
  if (from.find("from pg_catalog.pg_class c") == 0 && q.find("c.relkind in (") != std::string::npos &&
      q.find("pg_get_userbyid") != std::string::npos) {
    size_t p = q.find("c.relkind in (") + 14;
    size_t e = q.find(')', p);
    std::string kinds = q.substr(p, e - p);
    LocalResult r = rows_from_items(sl->items);
    for (const auto& rel : cat.relations()) {
      if (kinds.find(std::string("'") + rel.kind + "'") == std::string::npos) continue;
      if (!public_ok || !regex_matches(name_re, rel.name)) continue;
      std::vector<std::optional<std::string>> row;
      for (const auto& c : r.columns) {
        if (c.name == "Schema") row.push_back("public");
        else if (c.name == "Name") row.push_back(rel.name);
        else if (c.name == "Type") row.push_back(rel.label);
        else if (c.name == "Owner") row.push_back(st.user);
        else if (c.name == "Persistence") row.push_back("permanent");
        else if (c.name == "Access method") row.push_back(rel.kind == 'v' ? std::nullopt : std::optional<std::string>("heap"));
        else row.push_back(std::nullopt);
      }
      r.rows.push_back(std::move(row));
    }
    return r;
  }
  // \d NAME, step 1: find the relation's oid.
  if (from.find("from pg_catalog.pg_class c") == 0 && sl->items.size() == 3 &&
      sl->items[0] == "c.oid" && sl->items[1] == "n.nspname" && sl->items[2] == "c.relname") {
    LocalResult r;
    r.has_rows = true;
    r.columns = {{"oid", oid::kOid}, {"nspname", oid::kName}, {"relname", oid::kName}};
    for (const auto& rel : cat.relations())
      if (public_ok && regex_matches(name_re, rel.name))
        r.rows.push_back({std::to_string(rel.oid), "public", rel.name});
    return r;
  }
  // \d NAME, step 2: the relation's properties.
  if (from.find("from pg_catalog.pg_class c") == 0 && q.find("c.relchecks") != std::string::npos) {
    LocalResult r = rows_from_items(sl->items);
    if (auto rel = by_oid(cat, q, "where c.oid =")) {
      std::vector<std::optional<std::string>> row;
      for (const auto& it : sl->items) row.push_back(eval_item(it, &*rel, nullptr));
      r.rows.push_back(std::move(row));
    }
    return r;
  }
  // \d NAME, step 3: the columns.
  if (from.find("from pg_catalog.pg_attribute a") == 0 && q.find("a.attrelid =") != std::string::npos) {
    LocalResult r = rows_from_items(sl->items);
    if (auto rel = by_oid(cat, q, "a.attrelid =")) {
      for (const auto& col : rel->columns) {
        std::vector<std::optional<std::string>> row;
        for (const auto& it : sl->items) row.push_back(eval_item(it, nullptr, &col));
        r.rows.push_back(std::move(row));
      }
    }
    return r;
  }
  // \dn: the one schema.
  if (from.find("from pg_catalog.pg_namespace n") == 0) {
    LocalResult r = rows_from_items(sl->items);
    if (public_ok && regex_matches(literal_after(q, "n.nspname operator(pg_catalog.~)"), "public")) {
      std::vector<std::optional<std::string>> row;
      for (const auto& c : r.columns)
        row.push_back(c.name == "Name" || c.name == "nspname" ? std::optional<std::string>("public")
                      : c.name == "Owner" ? std::optional<std::string>(st.user) : std::nullopt);
      r.rows.push_back(std::move(row));
    }
    return r;
  }
  // \l: the one database (the name the client connected with).
  if (from.find("from pg_catalog.pg_database d") == 0) {
    LocalResult r = rows_from_items(sl->items);
    std::vector<std::optional<std::string>> row;
    for (const auto& c : r.columns) {
      if (c.name == "Name" || c.name == "datname") row.push_back(st.database);
      else if (c.name == "Owner") row.push_back(st.user);
      else if (c.name == "Encoding") row.push_back("UTF8");
      else if (c.name == "Collate" || c.name == "Ctype") row.push_back("C");
      else if (c.name == "Locale Provider") row.push_back("libc");
      else row.push_back(std::nullopt);
    }
    r.rows.push_back(std::move(row));
    return r;
  }

  // Everything else (policies, statistics, publications, inheritance, pg_type, ...): no rows.
  return rows_from_items(sl->items);
}

// --- SET / SHOW / functions --------------------------------------------------------------

std::string unquote_value(std::string v) {
  while (!v.empty() && v.back() == ' ') v.pop_back();
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<LocalResult> set_statement(const std::string& q, PgSettings& st) {
  std::string rest = q.substr(4);
  rest = strip_prefix(rest, "session ");
  rest = strip_prefix(rest, "local ");
  if (starts_with_words(rest, "transaction") || starts_with_words(rest, "session characteristics"))
    return tag_only("SET");
  std::string name, value;
  if (starts_with_words(rest, "time zone")) {
    name = "timezone";
    value = rest.substr(9);
  } else if (starts_with_words(rest, "names")) {
    name = "client_encoding";
    value = rest.substr(5);
  } else {
    size_t eq = rest.find_first_of("= ");
    if (eq == std::string::npos) return std::nullopt;
    name = rest.substr(0, eq);
    value = rest.substr(eq);
    value = strip_prefix(value, " ");
    if (value.compare(0, 3, "to ") == 0) value.erase(0, 3);
    else if (!value.empty() && value[0] == '=') value.erase(0, 1);
  }
  if (engine_setting(name)) return std::nullopt;
  if (!st.values.count(name)) return std::nullopt;
  value = unquote_value(value);
  std::string lv = lower(value);
  if (lv == "default" || lv == "local") value = PgSettings().values[name], lv = lower(value);
  if (name == "client_encoding") {
    if (lv != "utf8" && lv != "utf-8" && lv != "unicode")
      throw SqlError(sqlstate::kFeatureNotSupported, "client_encoding \"" + value +
                                                         "\" is not supported: streamlake speaks UTF8 only");
    value = "UTF8";
  } else if (name == "timezone") {
    if (lv != "utc" && lv != "etc/utc" && lv != "gmt" && lv != "z" && lv != "zulu" && lv != "0" &&
        lv != "+00" && lv != "00:00")
      throw SqlError(sqlstate::kInvalidParameter, "time zone \"" + value +
                                                      "\" is not supported: streamlake sessions run in UTC");
    value = "UTC";
  } else if (name == "datestyle") {
    if (lv.find("iso") == std::string::npos)
      throw SqlError(sqlstate::kInvalidParameter,
                     "DateStyle \"" + value + "\" is not supported: only ISO output");
    value = "ISO, MDY";
  } else if (name == "standard_conforming_strings") {
    if (lv != "on" && lv != "true")
      throw SqlError(sqlstate::kInvalidParameter, "standard_conforming_strings is always on");
    value = "on";
  } else if (name == "server_version" || name == "server_version_num" || name == "server_encoding" ||
             name == "integer_datetimes" || name == "max_identifier_length" || name.rfind("lc_", 0) == 0) {
    throw SqlError("55P02", "parameter \"" + name + "\" cannot be changed");
  }
  st.values[name] = value;
  LocalResult r = tag_only("SET");
  std::string rep = PgSettings::reported_name(name);
  if (!rep.empty()) r.report.emplace_back(rep, value);
  return r;
}

std::optional<std::string> function_value(std::string expr, const PgSettings& st) {
  expr = strip_prefix(expr, "pg_catalog.");
  if (expr == "version()") return kVersionString;
  if (expr == "current_schema()" || expr == "current_schema") return "public";
  if (expr == "current_database()" || expr == "current_catalog") return st.database;
  if (expr == "current_user" || expr == "session_user" || expr == "user" || expr == "current_role")
    return st.user;
  if (expr == "pg_is_in_recovery()") return "f";
  if (expr.rfind("current_setting('", 0) == 0 && expr.size() > 19 && expr.substr(expr.size() - 2) == "')") {
    auto v = show(lower(expr.substr(17, expr.size() - 19)), st);
    if (v) return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<LocalResult> answer_locally(std::string_view stmt, PgSettings& st,
                                          const CatalogAccess& cat) {
  std::string q = normalize_sql(stmt);
  // Transaction control: tables are autocommit, so these only move the status indicator.
  if (q == "begin" || starts_with_words(q, "begin transaction") || starts_with_words(q, "begin work") ||
      starts_with_words(q, "begin isolation") || starts_with_words(q, "begin read") ||
      starts_with_words(q, "start transaction"))
    return tag_only("BEGIN", LocalResult::kBegin);
  if (q == "commit" || q == "end" || starts_with_words(q, "commit transaction") ||
      starts_with_words(q, "commit work") || starts_with_words(q, "end transaction") ||
      starts_with_words(q, "end work"))
    return tag_only("COMMIT", LocalResult::kCommit);
  if (starts_with_words(q, "rollback to") || starts_with_words(q, "rollback transaction to") ||
      starts_with_words(q, "rollback work to"))
    return tag_only("ROLLBACK");
  if (q == "rollback" || q == "abort" || starts_with_words(q, "rollback transaction") ||
      starts_with_words(q, "rollback work") || starts_with_words(q, "abort transaction") ||
      starts_with_words(q, "abort work"))
    return tag_only("ROLLBACK", LocalResult::kRollback);
  if (starts_with_words(q, "savepoint")) return tag_only("SAVEPOINT");
  if (starts_with_words(q, "release")) return tag_only("RELEASE");
  if (q == "discard all") return tag_only("DISCARD ALL");
  if (starts_with_words(q, "set")) return set_statement(q, st);
  if (starts_with_words(q, "reset")) {
    std::string name = q.substr(std::min<size_t>(q.size(), 6));
    if (name == "all") {
      PgSettings fresh;
      for (auto& [k, v] : st.values) v = fresh.values[k];
      return tag_only("RESET");
    }
    if (!st.values.count(name)) return std::nullopt;
    st.values[name] = PgSettings().values[name];
    return tag_only("RESET");
  }
  if (starts_with_words(q, "show")) {
    std::string name = q.substr(std::min<size_t>(q.size(), 5));
    if (name == "transaction isolation level") name = "transaction_isolation";
    if (name == "time zone") name = "timezone";
    if (name == "all") {
      LocalResult r;
      r.has_rows = true;
      r.columns = {{"name", oid::kText}, {"setting", oid::kText}, {"description", oid::kText}};
      for (const auto& [k, v] : st.values) r.rows.push_back({k, v, std::string()});
      r.tag = "SHOW";
      return r;
    }
    if (engine_setting(name)) return std::nullopt;
    auto v = show(name, st);
    if (!v) return std::nullopt;
    LocalResult r = one_value(name, *v);
    r.tag = "SHOW";
    return r;
  }
  if (auto sl = select_list(q); sl && sl->from == std::string::npos) {
    // SELECT version(), current_schema(), ... (only when every item is such a function).
    LocalResult r;
    r.has_rows = true;
    std::vector<std::optional<std::string>> row;
    bool all_known = true;
    for (std::string it : sl->items) {
      std::string alias = split_alias(it);
      auto v = function_value(it, st);
      if (!v) {
        all_known = false;
        break;
      }
      std::string name = alias.empty() ? default_name(strip_prefix(it, "pg_catalog.")) : alias;
      if (name.rfind("current_setting", 0) == 0) name = "current_setting";
      r.columns.push_back({name, it == "pg_is_in_recovery()" ? oid::kBool : oid::kText});
      row.push_back(std::move(v));
    }
    if (all_known) {
      r.rows.push_back(std::move(row));
      return r;
    }
  }
  return catalog_query(q, st, cat);
}

}  // namespace sl::pgwire
