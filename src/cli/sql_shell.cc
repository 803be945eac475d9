#include "cli/sql_shell.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/endpoint.h"
#include "net/http.h"
#include "net/http_client.h"
#include "server/credentials.h"
#include "util/base64.h"

namespace sl::cli {
namespace {


std::string cell_text(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "t" : "f";
  return v.dump();
}

size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) w++;
  return w;
}

void print_table(const nlohmann::json& doc) {
  const auto& cols = doc["columns"];
  const auto& rows = doc["rows"];
  if (cols.empty()) {
    std::printf("%s\n", doc.value("command", std::string()).c_str());
    return;
  }
  std::vector<std::string> names;
  std::vector<size_t> width;
  for (auto& c : cols) {
    names.push_back(c["name"].get<std::string>());
    width.push_back(display_width(names.back()));
  }
  std::vector<std::vector<std::string>> cells;
  for (auto& r : rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < r.size() && i < names.size(); i++) {
      line.push_back(cell_text(r[i]));
      width[i] = std::max(width[i], display_width(line.back()));
    }
    cells.push_back(std::move(line));
  }
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w - display_width(s), ' '); };
  std::string out;
  for (size_t i = 0; i < names.size(); i++) {
    out += (i ? " | " : " ");
    size_t left = (width[i] - display_width(names[i])) / 2;
    out += std::string(left, ' ') + pad(names[i], width[i] - left);
  }
  out += "\n";
  for (size_t i = 0; i < names.size(); i++) out += (i ? "-+-" : "-") + std::string(width[i], '-');
  out += "-\n";
  for (auto& line : cells) {
    for (size_t i = 0; i < line.size(); i++) out += (i ? " | " : " ") + pad(line[i], width[i]);
    out += "\n";
  }
  size_t n = cells.size();
  out += "(" + std::to_string(n) + (n == 1 ? " row)\n" : " rows)\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_csv(const nlohmann::json& doc) {
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  bool first = true;
  for (auto& c : doc["columns"]) {
    std::printf("%s%s", first ? "" : ",", quote(c["name"].get<std::string>()).c_str());
    first = false;
  }
  if (!first) std::printf("\n");
  for (auto& r : doc["rows"]) {
    for (size_t i = 0; i < r.size(); i++) std::printf("%s%s", i ? "," : "", quote(cell_text(r[i])).c_str());
    std::printf("\n");
  }
}

// POST /v1/sql with one statement as text.
Result<net::HttpResponse> post_sql(net::HttpClient& client, const std::string& host_header, const std::string& auth,
                                   const std::string& sql) {
  net::HttpRequest req;
  req.method = "POST";
  req.target = req.path = "/v1/sql";
  req.headers.emplace_back("host", host_header);
  req.headers.emplace_back("content-type", "text/plain; charset=utf-8");
  req.headers.emplace_back("authorization", auth);
  req.body = sql;
  return client.send(req);
}

// Runs one statement; returns false on error (printed to stderr).
bool run_one(net::HttpClient& client, const std::string& host_header, const std::string& auth,
             const std::string& sql, const std::string& format) {
  auto resp = post_sql(client, host_header, auth, sql);
  if (!resp.ok()) {
    std::fprintf(stderr, "sql: request failed: %s\n", resp.status().message().c_str());
    return false;
  }
  auto doc = nlohmann::json::parse(resp->body, nullptr, false);
  if (doc.is_discarded()) {
    std::fprintf(stderr, "sql: HTTP %d: %s\n", resp->status, resp->body.c_str());
    return false;
  }
  if (resp->status == 401)
    std::fprintf(stderr, "sql: hint: the server refused these credentials; use the credentials file of the "
                 "server's data directory (--data DIR or --credentials FILE).\n");
  if (doc.contains("error")) {
    const auto& e = doc["error"];
    std::fprintf(stderr, "ERROR:  %s (SQLSTATE %s)\n", e.value("message", std::string()).c_str(),
                 e.value("code", std::string()).c_str());
    int pos = e.value("position", -1);
    if (pos >= 0 && static_cast<size_t>(pos) <= sql.size()) {
      size_t line_start = sql.rfind('\n', pos == 0 ? 0 : pos - 1);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      size_t line_end = sql.find('\n', pos);
      std::string line = sql.substr(line_start, line_end == std::string::npos ? std::string::npos : line_end - line_start);
      std::fprintf(stderr, "LINE: %s\n      %s^\n", line.c_str(), std::string(pos - line_start, ' ').c_str());
    }
    // Rows already streamed before the error are still shown.
    if (!doc.contains("rows") || doc["rows"].empty()) return false;
  }
  if (format == "json") std::printf("%s\n", doc.dump().c_str());
  else if (format == "csv") print_csv(doc);
  else print_table(doc);
  std::fflush(stdout);
  return !doc.contains("error");
}

// Splits on ';' outside quotes and comments. The last piece may be incomplete.
std::vector<std::string> split_statements(const std::string& text, std::string* rest) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (quote) {
      cur += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      size_t nl = text.find('\n', i);
      if (nl == std::string::npos) nl = text.size();
      i = nl;
      cur += '\n';
      continue;
    }
    if (c == ';') {
      if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  *rest = cur;
  return out;
}

class HttpSqlClient final : public SqlClient {
 public:
  HttpSqlClient(net::HttpClient client, std::string host_header, std::string auth)
      : client_(std::move(client)), host_header_(std::move(host_header)), auth_(std::move(auth)) {}

  Result<ApiResponse> call(const std::string& method, const std::string& path, std::string body) override {
    net::HttpRequest req;
    req.method = method;
    req.target = req.path = path;
    req.headers.emplace_back("host", host_header_);
    req.headers.emplace_back("authorization", auth_);
    if (!body.empty()) req.headers.emplace_back("content-type", "application/json");
    req.body = std::move(body);
    SL_ASSIGN_OR_RETURN(auto resp, client_.send(req));
    return ApiResponse{resp.status, std::move(resp.body)};
  }

  SqlRows query(const std::string& sql) override {
    SqlRows out;
    auto resp = post_sql(client_, host_header_, auth_, sql);
    if (!resp.ok()) {
      out.error = "request failed: " + resp.status().message();
      return out;
    }
    auto doc = nlohmann::json::parse(resp->body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      out.error = "HTTP " + std::to_string(resp->status) + ": " + resp->body.substr(0, 200);
      return out;
    }
    if (doc.contains("error")) {
      const auto& e = doc["error"];
      out.error = e.value("message", std::string()) + " (SQLSTATE " + e.value("code", std::string()) + ")";
    }
    if (doc.contains("columns"))
      for (auto& c : doc["columns"]) out.columns.push_back(c.value("name", std::string()));
    if (doc.contains("rows"))
      for (auto& r : doc["rows"]) {
        std::vector<std::string> line;
        for (auto& v : r) line.push_back(cell_text(v));
        out.rows.push_back(std::move(line));
      }
    return out;
  }

 private:
  net::HttpClient client_;
  std::string host_header_, auth_;
};

}  // namespace

int SqlRows::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); i++)
    if (columns[i] == name) return static_cast<int>(i);
  return -1;
}

Result<std::unique_ptr<SqlClient>> SqlClient::connect(const std::string& endpoint, const std::string& credentials_file) {
  std::string host;
  uint16_t port;
  if (!parse_http_endpoint(endpoint, &host, &port)) return invalid_argument("bad endpoint " + endpoint);
  SL_ASSIGN_OR_RETURN(auto kp, server::read_credentials_file(credentials_file));
  SL_ASSIGN_OR_RETURN(auto client, net::HttpClient::connect(host, port));
  return std::unique_ptr<SqlClient>(std::make_unique<HttpSqlClient>(
      std::move(client), host + ":" + std::to_string(port), "Basic " + base64_encode(kp.access_key + ":" + kp.secret)));
}

int run_sql_shell(const SqlShellOptions& o) {
  std::string host;
  uint16_t port;
  if (!parse_http_endpoint(o.endpoint, &host, &port)) {
    std::fprintf(stderr, "sql: bad endpoint %s (want http://host:port)\n", o.endpoint.c_str());
    return 2;
  }
  auto kp = server::read_credentials_file(o.credentials_file);
  if (!kp.ok()) {
    std::fprintf(stderr, "sql: %s\nsql: hint: the server writes DATA/credentials when it first starts; pass "
                 "--data with the server's data directory, or --credentials FILE.\n",
                 kp.status().message().c_str());
    return 2;
  }
  std::string auth = "Basic " + base64_encode(kp->access_key + ":" + kp->secret);
  auto client = net::HttpClient::connect(host, port);
  if (!client.ok()) {
    std::fprintf(stderr, "sql: cannot connect to %s: %s\nsql: hint: is the server running? Start it with "
                 "`streamlake serve` (or `streamlake demo`), or pass --endpoint.\n",
                 o.endpoint.c_str(), client.status().message().c_str());
    return 1;
  }
  std::string host_header = host + ":" + std::to_string(port);
  std::string script = o.command;
  if (!o.file.empty()) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "sql: cannot read %s\n", o.file.c_str());
      return 2;
    }
    std::ostringstream text;
    text << in.rdbuf();
    script = text.str();
  }
  if (!script.empty() || !o.file.empty()) {
    std::string rest;
    auto stmts = split_statements(script, &rest);
    if (rest.find_first_not_of(" \t\r\n") != std::string::npos) stmts.push_back(rest);
    bool ok = true;
    for (auto& s : stmts) ok = run_one(*client, host_header, auth, s, o.format) && ok;
    return ok ? 0 : 1;
  }
  bool tty = ::isatty(0);
  std::string buffer, line;
  bool ok = true;
  if (tty) std::printf("streamlake sql — statements end with ';', \\q quits\n");
  for (;;) {
    if (tty) {
      std::printf(buffer.find_first_not_of(" \t\r\n") == std::string::npos ? "streamlake=> " : "streamlake-> ");
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (buffer.empty() && (line == "\\q" || line == "quit" || line == "exit")) break;
    buffer += line + "\n";
    std::string rest;
    auto stmts = split_statements(buffer, &rest);
    for (auto& s : stmts) ok = run_one(*client, host_header, auth, s, o.format) && ok;
    buffer = rest;
  }
  if (buffer.find_first_not_of(" \t\r\n") != std::string::npos)
    ok = run_one(*client, host_header, auth, buffer, o.format) && ok;
  return ok ? 0 : 1;
}

}  // namespace sl::cli
