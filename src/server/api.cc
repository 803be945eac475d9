#include "server/api.h"

#include <openssl/rand.h>

#include <stdexcept>

#include "util/hash.h"
#include "util/json.h"

namespace sl::server {

net::HttpResponse api_error(int status, std::string_view code, std::string_view message) {
  net::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.headers.emplace_back("cache-control", "no-store");
  r.body = "{\"error\":{\"code\":";
  append_json_string(r.body, code);
  r.body += ",\"message\":";
  append_json_string(r.body, message);
  r.body += "}}";
  return r;
}

std::string sql_error_object(std::string_view code, std::string_view message, int position) {
  std::string s = "{\"code\":";
  append_json_string(s, code);
  s += ",\"message\":";
  append_json_string(s, message);
  s += ",\"position\":" + std::to_string(position) + "}";
  return s;
}

net::HttpResponse api_sql_error(int status, std::string_view code, std::string_view message, int position) {
  return api_json(status, "{\"error\":" + sql_error_object(code, message, position) + "}");
}

net::HttpResponse api_json(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.headers.emplace_back("cache-control", "no-store");
  r.body = std::move(body);
  return r;
}

net::HttpResponse api_no_content() {
  net::HttpResponse r;
  r.status = 204;
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

std::vector<std::string> path_segments(std::string_view path, std::string_view prefix) {
  std::vector<std::string> out;
  if (path.substr(0, prefix.size()) != prefix) return out;
  path.remove_prefix(prefix.size());
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (!seg.empty()) out.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

namespace {
void random_bytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}
}  // namespace

std::string random_hex(size_t n) {
  std::string buf(n, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(buf.data()), n);
  return hex_lower(buf.data(), n);
}

std::string random_uuid() {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10
  std::string h = hex_lower(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace sl::server
