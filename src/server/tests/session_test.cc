// Browser sessions: tokens, digests, idle expiry on a manual clock, cookie parsing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/session.h"

namespace sl::server {
namespace {

TEST(Sessions, CreateTouchExpireDestroy) {
  ManualClock clock(1000);
  SessionStore store(60000, &clock);
  WebSession s;
  std::string token = store.create("alice", "reader", &s);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(s.user, "alice");
  EXPECT_EQ(s.expires_at_ms, 61000);
  EXPECT_NE(s.csrf_token, token);
  std::string other = store.create("bob", "admin", &s);
  EXPECT_NE(other, token);
  clock.advance(59000);
  auto t = store.touch(token);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->role, "reader");
  EXPECT_EQ(t->expires_at_ms, 120000) << "a request pushes the idle deadline out";
  clock.advance(1000);
  EXPECT_FALSE(store.touch(other).has_value()) << "bob idled 60 s";
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(store.touch(token.substr(1)).has_value());
  EXPECT_FALSE(store.touch(std::string(64, 'a')).has_value());
  store.destroy(token);
  EXPECT_FALSE(store.touch(token).has_value());
  clock.advance(1);
  store.create("carol", "writer", &s);
  clock.advance(60001);
  store.sweep();
  EXPECT_EQ(store.size(), 0u);
}

TEST(Sessions, AUserHoldsAtMost64) {
  ManualClock clock(0);
  SessionStore store(60000, &clock);
  WebSession s;
  std::vector<std::string> tokens;
  for (size_t i = 0; i < SessionStore::kMaxPerUser; i++) {
    tokens.push_back(store.create("mallory", "reader", &s));
    clock.advance(1);
  }
  std::string other = store.create("alice", "admin", &s);
  ASSERT_TRUE(store.touch(tokens[0]).has_value());  // now tokens[1] is the idlest
  clock.advance(1);
  store.create("mallory", "reader", &s);
  EXPECT_EQ(store.size(), SessionStore::kMaxPerUser + 1);
  EXPECT_FALSE(store.touch(tokens[1]).has_value());
  EXPECT_TRUE(store.touch(tokens[0]).has_value());
  EXPECT_TRUE(store.touch(other).has_value()) << "another user's session is never evicted";
}

TEST(Sessions, CookieParsingAndAttributes) {
  net::HttpRequest req;
  req.headers = {{"cookie", "theme=dark; sl_session=abc123 ; other=1"}};
  EXPECT_EQ(SessionStore::cookie_token(req), "abc123");
  req.headers = {{"cookie", "xsl_session=no"}, {"cookie", "sl_session=yes"}};
  EXPECT_EQ(SessionStore::cookie_token(req), "yes");
  req.headers = {{"cookie", "a=b"}};
  EXPECT_EQ(SessionStore::cookie_token(req), "");
  EXPECT_EQ(SessionStore::set_cookie("t", false), "sl_session=t; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionStore::set_cookie("t", true), "sl_session=t; Path=/; HttpOnly; SameSite=Strict; Secure");
  EXPECT_NE(SessionStore::clear_cookie(false).find("Max-Age=0"), std::string::npos);
}

}  // namespace
}  // namespace sl::server
