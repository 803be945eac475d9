// HTTP/1.1 server behaviour: keep-alive, pipelining, deferred and streamed responses,
// limits, timeouts, connection cap, robustness against garbage.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "net/http.h"
#include "net/http_client.h"
#include "net/tests/test_util.h"

namespace sl::net {
namespace {

using testing::RawConn;

std::unique_ptr<HttpServer> start(Handler h, ServerOptions o = {}) {
  o.port = 0;
  auto s = HttpServer::start(o, std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

void echo(HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "text/plain");
  const std::string* x = req.header("x-test");
  r.body = req.method + " " + req.path + " ?" + req.query + " v" + std::to_string(req.version) +
           " x=" + (x ? *x : "-") + " body=" + req.body;
  sink->respond(std::move(r));
}

HttpRequest make(std::string method, std::string target, std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

TEST(HttpServer, KeepAliveRoundTrips) {
  auto srv = start(echo);
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  for (int i = 0; i < 200; ++i) {
    auto req = make("POST", "/a/b?i=" + std::to_string(i), std::string(i * 50, 'x'));
    req.headers.emplace_back("X-Test", "v" + std::to_string(i));
    auto r = c->send(req);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /a/b ?i=" + std::to_string(i) + " v11 x=v" + std::to_string(i) +
                           " body=" + std::string(i * 50, 'x'));
  }
  EXPECT_EQ(srv->connection_count(), 1);  // one keep-alive connection
  // A large (~1 MiB) body.
  auto r = c->send(make("PUT", "/big", std::string(1 << 20, 'b')));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.size(), std::string("PUT /big ? v11 x=- body=").size() + (1 << 20));
}

TEST(HttpServer, PipelinedRequestsAnsweredInOrder) {
  // The first request is answered late from another thread; the later ones at once.
  std::mutex mu;
  std::vector<std::thread> threads;
  auto srv = start([&](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    if (req.path == "/slow") {
      std::lock_guard lk(mu);
      threads.emplace_back([sink] {
        sink->respond(HttpResponse{200, {}, "slow"});
      });
      return;
    }
    sink->respond(HttpResponse{200, {}, req.path});
  });
  RawConn c(srv->port());
  ASSERT_TRUE(c.send_all(
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /three HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string r1 = c.read_response(), r2 = c.read_response(), r3 = c.read_response();
  EXPECT_TRUE(r1.ends_with("\r\n\r\nslow")) << r1;
  EXPECT_TRUE(r2.ends_with("\r\n\r\n/two")) << r2;
  EXPECT_TRUE(r3.ends_with("\r\n\r\n/three")) << r3;
  std::lock_guard lk(mu);
  for (auto& t : threads) t.join();
}

TEST(HttpServer, DeferredResponseFromAnotherThread) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<ResponseSink>> pending;
  auto srv = start([&](HttpRequest&, std::shared_ptr<ResponseSink> sink) {
    std::lock_guard lk(mu);
    pending.push_back(std::move(sink));
    cv.notify_all();
  });
  std::thread responder([&] {
    std::unique_lock lk(mu);
    for (int i = 0; i < 3; ++i) {
      cv.wait(lk, [&] { return !pending.empty(); });
      auto s = std::move(pending.back());
      pending.pop_back();
      lk.unlock();
      s->respond(HttpResponse{202, {{"x-from", "worker"}}, "later " + std::to_string(i)});
      lk.lock();
    }
  });
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 3; ++i) {
    auto r = c->send(make("POST", "/x", "b"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->body, "later " + std::to_string(i));
  }
  responder.join();
}

TEST(HttpServer, StreamingChunkedThenKeepAlive) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::atomic<size_t> max_queued{0};
  auto srv = start([&](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    if (req.path != "/stream") return echo(req, sink);
    sink->start_stream(200, {{"content-type", "application/octet-stream"}});
    std::lock_guard lk(mu);
    threads.emplace_back([sink, &max_queued] {
      for (int i = 0; i < 100; ++i) {
        EXPECT_TRUE(sink->write(std::string(10000, static_cast<char>('a' + i % 26))));
        max_queued = std::max(max_queued.load(), sink->queued_bytes());
      }
      sink->finish();
    });
  });
  RawConn raw(srv->port());
  ASSERT_TRUE(raw.send_all("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = raw.read_until("\r\n0\r\n\r\n");
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos);
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok());
  auto r = c->send(make("GET", "/stream"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->body.size(), 1000000u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r->body[i * 10000], 'a' + i % 26);
  EXPECT_GT(max_queued.load(), 0u);  // back-pressure is visible
  auto r2 = c->send(make("GET", "/after"));  // same connection keeps working
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->body, "GET /after ? v11 x=- body=");
  std::lock_guard lk(mu);
  for (auto& t : threads) t.join();
}

TEST(HttpServer, Expect100Continue) {
  auto srv = start(echo);
  RawConn c(srv->port());
  ASSERT_TRUE(c.send_all(
      "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  std::string cont = c.read_until("\r\n\r\n");
  EXPECT_TRUE(cont.starts_with("HTTP/1.1 100 Continue\r\n\r\n")) << cont;
  ASSERT_TRUE(c.send_all("hello"));
  std::string r = c.read_response();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
  EXPECT_TRUE(r.ends_with("body=hello")) << r;
}

TEST(HttpServer, LimitsAndMalformedRequests) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  o.max_header_bytes = 2048;
  auto srv = start(echo, o);
  struct Case {
    std::string request;
    std::string status;
  };
  std::vector<Case> cases = {
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n", "413"},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
           std::string(2000, 'z') + "\r\n0\r\n\r\n",
       "413"},
      {"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n", "431"},
      {"GARBAGE\r\n\r\n", "400"},
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "400"},
      {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", "400"},
      {"GET / HTTP/2.5\r\nHost: x\r\n\r\n", "400"},
  };
  for (const auto& cs : cases) {
    RawConn c(srv->port());
    ASSERT_TRUE(c.send_all(cs.request));
    bool closed;
    std::string r = c.read_until_close(&closed);
    EXPECT_TRUE(r.starts_with("HTTP/1.1 " + cs.status)) << cs.request.substr(0, 60) << " -> " << r;
    EXPECT_TRUE(closed) << "connection is closed after " << cs.status;
  }
  // Still serving.
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok());
  auto r = c->send(make("POST", "/ok", std::string(1000, 'k')));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServer, SlowClientIsCutOffWhileOthersAreServed) {
  ServerOptions o;
  o.request_timeout_ms = 300;
  o.idle_timeout_ms = 5000;
  auto srv = start(echo, o);
  RawConn slow(srv->port());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.send_all("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Le"));  // and stalls
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 50; ++i) {
    auto r = c->send(make("GET", "/fast"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
  bool closed;
  slow.read_until_close(&closed);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(closed);
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 4000);
  // A client trickling its body also hits the request deadline.
  RawConn trickle(srv->port());
  ASSERT_TRUE(trickle.send_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
  trickle.read_until_close(&closed);
  EXPECT_TRUE(closed);
}

TEST(HttpServer, IdleConnectionIsClosed) {
  ServerOptions o;
  o.idle_timeout_ms = 200;
  auto srv = start(echo, o);
  RawConn c(srv->port());
  ASSERT_TRUE(c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.read_response().starts_with("HTTP/1.1 200"));
  bool closed;
  c.read_until_close(&closed);
  EXPECT_TRUE(closed);
}

TEST(HttpServer, ConnectionCap) {
  ServerOptions o;
  o.max_connections = 2;
  auto srv = start(echo, o);
  auto a = HttpClient::connect("127.0.0.1", srv->port());
  auto b = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->send(make("GET", "/a")).ok());
  ASSERT_TRUE(b->send(make("GET", "/b")).ok());
  RawConn third(srv->port());
  third.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed;
  std::string r = third.read_until_close(&closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(r, "");
  a->close();
  // Wait (bounded) for the server to notice the close; then a new client is admitted.
  for (int i = 0; i < 2000 && srv->connection_count() >= 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto d = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(d.ok());
  auto rd = d->send(make("GET", "/d"));
  ASSERT_TRUE(rd.ok()) << rd.status().to_string();
  EXPECT_EQ(rd->status, 200);
}

TEST(HttpServer, DroppedSinkAndThrowingHandlerGive500) {
  auto srv = start([](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    // /drop: let the sink go without answering.
  });
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok());
  auto r1 = c->send(make("GET", "/drop"));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->status, 500);
  auto r2 = c->send(make("GET", "/throw"));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, 500);
  EXPECT_NE(r2->body.find("boom"), std::string::npos);
}

TEST(HttpServer, HeadAndHttp10) {
  auto srv = start(echo);
  RawConn c(srv->port());
  ASSERT_TRUE(c.send_all("GET /ten HTTP/1.0\r\n\r\n"));
  bool closed;
  std::string r = c.read_until_close(&closed);
  EXPECT_TRUE(closed);  // HTTP/1.0 without keep-alive
  EXPECT_TRUE(r.ends_with("GET /ten ? v10 x=- body=")) << r;
  RawConn h(srv->port());
  ASSERT_TRUE(h.send_all("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string both = h.read_until("body=");
  EXPECT_NE(both.find("Content-Length: 23\r\n\r\nHTTP/1.1 200"), std::string::npos) << both;
}

TEST(HttpServer, SurvivesGarbage) {
  ServerOptions o;
  o.request_timeout_ms = 500;
  auto srv = start(echo, o);
  std::mt19937 rng(42);
  for (int i = 0; i < 50; ++i) {
    RawConn c(srv->port(), 2000);
    std::string junk(1 + rng() % 3000, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    if (i % 3 == 0) junk = "POST / HTTP/1.1\r\nContent-Length: 10\r\n" + junk;
    if (i % 5 == 0) junk = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + junk;
    c.send_all(junk);
    bool closed;
    c.read_until_close(&closed);
  }
  auto c = HttpClient::connect("127.0.0.1", srv->port());
  ASSERT_TRUE(c.ok());
  auto r = c->send(make("GET", "/alive"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServer, ManyLargeBodiesFromConcurrentClients) {
  std::atomic<size_t> bytes{0};
  auto srv = start([&](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    bytes += req.body.size();
    sink->respond(HttpResponse{200, {{"content-type", "application/json"}},
                               R"({"FailedRecordCount":0})"});
  });
  const int kThreads = 4, kEach = 250;
  const std::string body(90 * 1024, 'r');
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      auto c = HttpClient::connect("127.0.0.1", srv->port());
      if (!c.ok()) return;
      for (int i = 0; i < kEach; ++i) {
        auto r = c->send(make("POST", "/", body));
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : ts) t.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(bytes.load(), size_t(kThreads) * kEach * body.size());
  std::printf("  %d x 90 KiB requests in %.3f s = %.0f req/s\n", kThreads * kEach, s,
              kThreads * kEach / s);
}

TEST(HttpServer, NoContentHasNoBody) {
  auto srv = start([](HttpRequest&, std::shared_ptr<ResponseSink> sink) {
    sink->respond(HttpResponse{204, {}, "ignored"});
  });
  RawConn c(srv->port());
  ASSERT_TRUE(c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string r = c.read_until("\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(r, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
}

TEST(HttpServer, StopWithOutstandingSink) {
  std::shared_ptr<ResponseSink> kept;
  std::mutex mu;
  std::condition_variable cv;
  auto srv = start([&](HttpRequest&, std::shared_ptr<ResponseSink> s) {
    std::lock_guard lk(mu);
    kept = std::move(s);
    cv.notify_all();
  });
  RawConn c(srv->port());
  c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return kept != nullptr; });
  }
  srv->stop();
  srv.reset();
  kept->respond(HttpResponse{200, {}, "too late"});  // must not crash
  EXPECT_FALSE(kept->write("x"));
  kept.reset();
}

}  // namespace
}  // namespace sl::net
