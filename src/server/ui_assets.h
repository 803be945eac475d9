// The notebook web app's static files (ui/, built by Vite at build time and embedded in
// the binary by ui/embed.cmake: no node and no files at run time).
//
// serve_ui_asset() answers GET/HEAD of `/`, `/index.html`, `/favicon.svg` and `/assets/*`
// with the right content type, caching (`no-cache` + ETag for index.html and other
// unhashed files; `public, max-age=31536000, immutable` for the content-hashed files under
// /assets/), 304 on a matching If-None-Match, and on every answer the strict
// Content-Security-Policy, `X-Content-Type-Options: nosniff` and `Referrer-Policy:
// no-referrer` (docs/notebook.md). These paths need no authentication: the files hold no
// data. Returns false (and answers nothing) for every other request.
//
// Threads: callable from any I/O thread; the asset table is immutable.
#pragma once

#include <cstddef>

#include "net/http.h"

namespace sl::server {

bool serve_ui_asset(const net::HttpRequest& req, net::ResponseSink& sink);

// The CSP every UI response carries (also useful to tests).
extern const char* const kUiContentSecurityPolicy;

namespace ui_data {
// One embedded file; its bytes are `chunks` of kChunkBytes each (the last one shorter).
struct Asset {
  const char* path;          // URL path, "/index.html", "/assets/index-Ab12.js"
  const char* content_type;
  const char* etag;          // quoted strong ETag
  bool immutable;            // content-hashed name: cache forever
  const char* const* chunks;
  size_t size;
};
extern const Asset kAssets[];
extern const size_t kAssetCount;
extern const size_t kChunkBytes;
}  // namespace ui_data

}  // namespace sl::server
