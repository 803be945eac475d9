#include "pgwire/sql_text.h"

#include <cctype>

namespace sl::pgwire {

namespace {

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// If a quoted token or comment starts at i, returns its end (one past); else i.
size_t skip_quoted(std::string_view s, size_t i) {
  const size_t n = s.size();
  char c = s[i];
  if (c == '-' && i + 1 < n && s[i + 1] == '-') {
    size_t e = s.find('\n', i);
    return e == std::string_view::npos ? n : e + 1;
  }
  if (c == '/' && i + 1 < n && s[i + 1] == '*') {
    int depth = 1;
    size_t j = i + 2;
    while (j < n && depth > 0) {
      if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') { ++depth; j += 2; }
      else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') { --depth; j += 2; }
      else ++j;
    }
    return j;
  }
  if (c == '\'' || c == '"') {
    bool backslash = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
                     (i < 2 || !ident_char(s[i - 2]));
    size_t j = i + 1;
    while (j < n) {
      if (backslash && s[j] == '\\') { j += 2; continue; }
      if (s[j] == c) {
        if (j + 1 < n && s[j + 1] == c) { j += 2; continue; }
        return j + 1;
      }
      ++j;
    }
    return n;
  }
  if (c == '$' && (i == 0 || !ident_char(s[i - 1]))) {
    size_t j = i + 1;
    while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    if (j < n && s[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::string_view tag = s.substr(i, j - i + 1);
      size_t e = s.find(tag, j + 1);
      return e == std::string_view::npos ? n : e + tag.size();
    }
  }
  return i;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s, size_t* lead = nullptr) {
  size_t a = 0, b = s.size();
  while (a < b && is_space(s[a])) ++a;
  while (b > a && is_space(s[b - 1])) --b;
  if (lead) *lead = a;
  return s.substr(a, b - a);
}

bool only_comments(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t e = skip_quoted(s, i);
    if (e != i) {
      if (s[i] != '-' && s[i] != '/') return false;
      i = e;
      continue;
    }
    if (!is_space(s[i])) return false;
    ++i;
  }
  return true;
}

}  // namespace

std::vector<StatementSpan> split_statements(std::string_view sql) {
  std::vector<StatementSpan> out;
  size_t start = 0;
  auto flush = [&](size_t end) {
    std::string_view piece = sql.substr(start, end - start);
    size_t lead = 0;
    std::string_view t = trim(piece, &lead);
    if (!t.empty() && !only_comments(t)) out.push_back({start + lead, t});
  };
  for (size_t i = 0; i < sql.size();) {
    size_t e = skip_quoted(sql, i);
    if (e != i) { i = e; continue; }
    if (sql[i] == ';') {
      flush(i);
      start = i + 1;
    }
    ++i;
  }
  flush(sql.size());
  return out;
}

std::string normalize_sql(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool pending_space = false;
  for (size_t i = 0; i < sql.size();) {
    size_t e = skip_quoted(sql, i);
    if (e != i) {
      if (sql[i] == '-' || sql[i] == '/') {  // comment
        pending_space = true;
      } else {
        if (pending_space && !out.empty()) out.push_back(' ');
        pending_space = false;
        out.append(sql.substr(i, e - i));
      }
      i = e;
      continue;
    }
    char c = sql[i++];
    if (is_space(c)) { pending_space = true; continue; }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  while (!out.empty() && (out.back() == ';' || out.back() == ' ')) out.pop_back();
  return out;
}

bool starts_with_words(std::string_view s, std::string_view kw) {
  if (s.substr(0, kw.size()) != kw) return false;
  return s.size() == kw.size() || !ident_char(s[kw.size()]);
}

namespace {

// Reads an identifier (plain or "quoted") at i; lower-cases plain ones.
bool read_ident(std::string_view s, size_t* i, std::string* out) {
  while (*i < s.size() && is_space(s[*i])) ++*i;
  if (*i >= s.size()) return false;
  out->clear();
  if (s[*i] == '"') {
    size_t j = *i + 1;
    while (j < s.size()) {
      if (s[j] == '"') {
        if (j + 1 < s.size() && s[j + 1] == '"') { out->push_back('"'); j += 2; continue; }
        *i = j + 1;
        return !out->empty();
      }
      out->push_back(s[j++]);
    }
    return false;
  }
  size_t j = *i;
  while (j < s.size() && ident_char(s[j])) {
    out->push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[j]))));
    ++j;
  }
  if (j == *i || std::isdigit(static_cast<unsigned char>((*out)[0]))) return false;
  *i = j;
  return true;
}

bool read_keyword(std::string_view s, size_t* i, std::string_view kw) {
  size_t j = *i;
  std::string w;
  if (!read_ident(s, &j, &w) || w != kw) return false;
  *i = j;
  return true;
}

}  // namespace

std::optional<PrepareSql> parse_prepare_sql(std::string_view stmt) {
  size_t i = 0;
  PrepareSql p;
  if (!read_keyword(stmt, &i, "prepare")) return std::nullopt;
  if (!read_ident(stmt, &i, &p.name)) return std::nullopt;
  while (i < stmt.size() && is_space(stmt[i])) ++i;
  if (i < stmt.size() && stmt[i] == '(') {  // parameter types: skipped (inferred by the engine)
    int depth = 0;
    for (; i < stmt.size(); ++i) {
      if (stmt[i] == '(') ++depth;
      if (stmt[i] == ')' && --depth == 0) { ++i; break; }
    }
  }
  if (!read_keyword(stmt, &i, "as")) return std::nullopt;
  while (i < stmt.size() && is_space(stmt[i])) ++i;
  p.body_offset = i;
  p.body = std::string(stmt.substr(i));
  if (p.body.empty()) return std::nullopt;
  return p;
}

std::optional<ExecuteSql> parse_execute_sql(std::string_view stmt, std::string* error) {
  size_t i = 0;
  ExecuteSql x;
  if (!read_keyword(stmt, &i, "execute")) return std::nullopt;
  if (!read_ident(stmt, &i, &x.name)) {
    *error = "syntax error in EXECUTE: expected a statement name";
    return x;
  }
  while (i < stmt.size() && is_space(stmt[i])) ++i;
  if (i == stmt.size()) return x;
  if (stmt[i] != '(') {
    *error = "syntax error in EXECUTE: expected (";
    return x;
  }
  ++i;
  // Split arguments at top-level commas.
  std::vector<std::string_view> raw;
  size_t start = i;
  int depth = 0;
  bool closed = false;
  while (i < stmt.size()) {
    size_t e = skip_quoted(stmt, i);
    if (e != i) { i = e; continue; }
    char c = stmt[i];
    if (c == '(') ++depth;
    else if (c == ')') {
      if (depth == 0) { raw.push_back(stmt.substr(start, i - start)); closed = true; ++i; break; }
      --depth;
    } else if (c == ',' && depth == 0) {
      raw.push_back(stmt.substr(start, i - start));
      start = i + 1;
    }
    ++i;
  }
  if (!closed || !trim(stmt.substr(i)).empty()) {
    *error = "syntax error in EXECUTE arguments";
    return x;
  }
  if (raw.size() == 1 && trim(raw[0]).empty()) raw.clear();
  for (std::string_view a : raw) {
    std::string_view t = trim(a);
    if (t.empty()) { *error = "syntax error in EXECUTE: empty argument"; return x; }
    // Strip a trailing cast (::type) and a leading type name before a literal (date '...').
    size_t cast = std::string_view::npos;
    for (size_t k = 0; k < t.size();) {
      size_t e = skip_quoted(t, k);
      if (e != k) { k = e; continue; }
      if (t[k] == ':' && k + 1 < t.size() && t[k + 1] == ':') { cast = k; break; }
      ++k;
    }
    if (cast != std::string_view::npos) t = trim(t.substr(0, cast));
    size_t q = t.find('\'');
    if (q != std::string_view::npos && q > 0 && t.back() == '\'') {
      bool word = true;
      for (size_t k = 0; k < q; ++k)
        if (!ident_char(t[k]) && !is_space(t[k])) word = false;
      if (word && !(q == 1 && (t[0] == 'e' || t[0] == 'E'))) t = t.substr(q);
    }
    std::string lower;
    for (char c : t) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "null") { x.args.emplace_back(std::nullopt); continue; }
    bool escape = false;
    if ((t[0] == 'e' || t[0] == 'E') && t.size() >= 3 && t[1] == '\'') { escape = true; t = t.substr(1); }
    if (t.size() >= 2 && t.front() == '\'' && t.back() == '\'') {
      std::string v;
      for (size_t k = 1; k + 1 < t.size(); ++k) {
        if (t[k] == '\'' && t[k + 1] == '\'') { v.push_back('\''); ++k; continue; }
        if (escape && t[k] == '\\' && k + 2 < t.size()) {
          char n = t[++k];
          v.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n);
          continue;
        }
        v.push_back(t[k]);
      }
      x.args.emplace_back(std::move(v));
      continue;
    }
    x.args.emplace_back(std::string(t));
  }
  return x;
}

std::optional<std::string> parse_deallocate_sql(std::string_view stmt) {
  size_t i = 0;
  if (!read_keyword(stmt, &i, "deallocate")) return std::nullopt;
  size_t j = i;
  if (read_keyword(stmt, &j, "prepare")) i = j;
  std::string name;
  if (!read_ident(stmt, &i, &name)) return std::nullopt;
  if (name == "all") return std::string();
  return name;
}

}  // namespace sl::pgwire
