#include "server/ui_assets.h"

#include <string>
#include <string_view>
#include <unordered_map>

namespace sl::server {

const char* const kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

namespace {

using ui_data::Asset;

const std::unordered_map<std::string_view, const Asset*>& asset_index() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const Asset*>();
    for (size_t i = 0; i < ui_data::kAssetCount; i++) m->emplace(ui_data::kAssets[i].path, &ui_data::kAssets[i]);
    return m;
  }();
  return *index;
}

std::string asset_bytes(const Asset& a) {
  std::string out;
  out.reserve(a.size);
  size_t left = a.size;
  for (size_t i = 0; left > 0; i++) {
    size_t n = left < ui_data::kChunkBytes ? left : ui_data::kChunkBytes;
    out.append(a.chunks[i], n);
    left -= n;
  }
  return out;
}

void add_security_headers(net::Headers& h) {
  h.emplace_back("content-security-policy", kUiContentSecurityPolicy);
  h.emplace_back("x-content-type-options", "nosniff");
  h.emplace_back("referrer-policy", "no-referrer");
}

// True if an If-None-Match list ("a", W/"b", *) names this ETag.
bool etag_matches(std::string_view header, std::string_view etag) {
  return header.find('*') != std::string_view::npos || header.find(etag) != std::string_view::npos;
}

}  // namespace

bool serve_ui_asset(const net::HttpRequest& req, net::ResponseSink& sink) {
  std::string_view path = req.path;
  if (path == "/") path = "/index.html";
  bool ours = path == "/index.html" || path == "/favicon.svg" || path.substr(0, 8) == "/assets/";
  if (!ours) return false;
  net::HttpResponse r;
  add_security_headers(r.headers);
  auto refuse = [&](int status, const char* extra_header, const char* extra_value, const char* body) {
    r.status = status;
    r.headers.emplace_back(extra_header, extra_value);
    r.headers.emplace_back("content-type", "text/plain; charset=utf-8");
    r.body = body;
    sink.respond(std::move(r));
    return true;
  };
  if (req.method != "GET" && req.method != "HEAD") return refuse(405, "allow", "GET, HEAD", "use GET\n");
  auto it = asset_index().find(path);
  if (it == asset_index().end()) return refuse(404, "cache-control", "no-cache", "not found\n");
  const Asset& a = *it->second;
  r.headers.emplace_back("cache-control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("etag", a.etag);
  const std::string* inm = req.header("if-none-match");
  if (inm && etag_matches(*inm, a.etag)) {
    r.status = 304;
    sink.respond(std::move(r));
    return true;
  }
  r.headers.emplace_back("content-type", a.content_type);
  r.body = asset_bytes(a);  // HEAD: the server sends the length, not the body
  sink.respond(std::move(r));
  return true;
}

}  // namespace sl::server
