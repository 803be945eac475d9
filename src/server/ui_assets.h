// The web UI's static files (the built app under ui/, embedded in the binary): GET / and
// /index.html, /assets/<hashed name>, /favicon.svg, with content types, caching headers and
// the strict Content-Security-Policy of docs/notebook.md.
//
// serve_ui_asset() answers the request through `sink` and returns true when the path is
// one of the UI's; false otherwise (the router goes on). Called on HTTP I/O threads,
// before authentication: these files are public.
#pragma once

#include "net/http.h"

namespace sl::server {

bool serve_ui_asset(const net::HttpRequest& req, net::ResponseSink& sink);

}  // namespace sl::server
