#include "server/ui_assets.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace sl::server {
namespace {

struct CaptureSink : net::ResponseSink {
  bool answered = false;
  net::HttpResponse response;
  void respond(net::HttpResponse r) override {
    answered = true;
    response = std::move(r);
  }
  void start_stream(int, net::Headers) override { ADD_FAILURE() << "static files are not streamed"; }
  bool write(std::string) override { return false; }
  void finish() override {}
  bool closed() const override { return answered; }
  size_t queued_bytes() const override { return 0; }

  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : response.headers)
      if (k == name) return &v;
    return nullptr;
  }
};

net::HttpRequest get(std::string path, std::string method = "GET") {
  net::HttpRequest r;
  r.method = std::move(method);
  r.path = path;
  r.target = std::move(path);
  return r;
}

CaptureSink fetch(const net::HttpRequest& req) {
  CaptureSink s;
  EXPECT_TRUE(serve_ui_asset(req, s)) << req.path;
  EXPECT_TRUE(s.answered);
  return s;
}

void expect_security_headers(const CaptureSink& s) {
  ASSERT_NE(s.header("content-security-policy"), nullptr);
  EXPECT_EQ(*s.header("content-security-policy"), kUiContentSecurityPolicy);
  EXPECT_NE(std::string(kUiContentSecurityPolicy).find("script-src 'self'"), std::string::npos);
  ASSERT_NE(s.header("x-content-type-options"), nullptr);
  EXPECT_EQ(*s.header("x-content-type-options"), "nosniff");
  ASSERT_NE(s.header("referrer-policy"), nullptr);
  EXPECT_EQ(*s.header("referrer-policy"), "no-referrer");
}

TEST(UiAssets, IndexIsServedAtRootWithoutCachingAndWithCsp) {
  for (const char* path : {"/", "/index.html"}) {
    CaptureSink s = fetch(get(path));
    EXPECT_EQ(s.response.status, 200);
    EXPECT_EQ(*s.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(*s.header("cache-control"), "no-cache");
    ASSERT_NE(s.header("etag"), nullptr);
    expect_security_headers(s);
    EXPECT_NE(s.response.body.find("<div id=\"app\">"), std::string::npos);
    // No inline script or style: every <script> has a src, no <style> and no style=.
    EXPECT_EQ(s.response.body.find("<style"), std::string::npos);
    EXPECT_EQ(s.response.body.find("style="), std::string::npos);
    std::regex script("<script([^>]*)>");
    for (auto it = std::sregex_iterator(s.response.body.begin(), s.response.body.end(), script);
         it != std::sregex_iterator(); ++it)
      EXPECT_NE((*it)[1].str().find("src="), std::string::npos) << (*it)[0];
  }
}

TEST(UiAssets, EveryFileIndexReferencesIsEmbeddedAndImmutable) {
  CaptureSink index = fetch(get("/"));
  std::regex ref("(?:src|href)=\"(/assets/[^\"]+)\"");
  int seen = 0;
  for (auto it = std::sregex_iterator(index.response.body.begin(), index.response.body.end(), ref);
       it != std::sregex_iterator(); ++it) {
    std::string path = (*it)[1].str();
    CaptureSink s = fetch(get(path));
    EXPECT_EQ(s.response.status, 200) << path;
    EXPECT_EQ(*s.header("cache-control"), "public, max-age=31536000, immutable");
    expect_security_headers(s);
    EXPECT_FALSE(s.response.body.empty());
    if (path.ends_with(".js")) {
      EXPECT_EQ(*s.header("content-type"), "text/javascript; charset=utf-8");
    }
    if (path.ends_with(".css")) {
      EXPECT_EQ(*s.header("content-type"), "text/css; charset=utf-8");
    }
    seen++;
  }
  EXPECT_GE(seen, 2) << "index.html should load a script and a stylesheet";
  // The table's sizes match the bytes served (chunk reassembly).
  for (size_t i = 0; i < ui_data::kAssetCount; i++) {
    CaptureSink s = fetch(get(ui_data::kAssets[i].path));
    EXPECT_EQ(s.response.body.size(), ui_data::kAssets[i].size) << ui_data::kAssets[i].path;
  }
}

TEST(UiAssets, FaviconHeadAndConditionalGet) {
  CaptureSink s = fetch(get("/favicon.svg"));
  EXPECT_EQ(*s.header("content-type"), "image/svg+xml");
  std::string etag = *s.header("etag");
  net::HttpRequest again = get("/favicon.svg");
  again.headers.emplace_back("if-none-match", etag);
  CaptureSink c = fetch(again);
  EXPECT_EQ(c.response.status, 304);
  EXPECT_TRUE(c.response.body.empty());
  expect_security_headers(c);
  CaptureSink head = fetch(get("/favicon.svg", "HEAD"));
  EXPECT_EQ(head.response.status, 200);
}

TEST(UiAssets, MissingAssetIs404AndOtherPathsAreNotOurs) {
  CaptureSink s = fetch(get("/assets/nope-123.js"));
  EXPECT_EQ(s.response.status, 404);
  expect_security_headers(s);
  CaptureSink post = fetch(get("/index.html", "POST"));
  EXPECT_EQ(post.response.status, 405);
  for (const char* path : {"/v1/sql", "/health", "/assets", "/index.htm", "/x/index.html"}) {
    CaptureSink none;
    EXPECT_FALSE(serve_ui_asset(get(path), none)) << path;
    EXPECT_FALSE(none.answered);
  }
}

}  // namespace
}  // namespace sl::server
