// HTTP/2 (prior knowledge and TLS/ALPN), TLS HTTP/1.1, and real peers (curl, node).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "net/http.h"
#include "net/tests/test_util.h"

namespace sl::net {
namespace {

using testing::FdTransport;
using testing::H2Client;
using testing::RawConn;
using testing::TlsConn;

std::unique_ptr<HttpServer> start(Handler h, ServerOptions o = {}) {
  o.port = 0;
  auto s = HttpServer::start(o, std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return s.ok() ? std::move(s).value() : nullptr;
}

void echo(HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "text/plain");
  const std::string* host = req.header("host");
  r.body = req.method + " " + req.path + " ?" + req.query + " v" + std::to_string(req.version) +
           " host=" + (host ? *host : "-") + " body=" + req.body;
  sink->respond(std::move(r));
}

std::string header_of(const testing::H2Response& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

TEST(Http2, PriorKnowledgeConcurrentStreamsAndLargeBodies) {
  auto srv = start(echo);
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  std::map<int32_t, std::string> want;
  for (int i = 0; i < 20; ++i) {
    std::string body = i == 7 ? std::string(300000, 'L') : "b" + std::to_string(i);
    int32_t id = h2.submit("POST", "/p" + std::to_string(i) + "?q=1", body);
    ASSERT_GT(id, 0);
    want[id] = "POST /p" + std::to_string(i) + " ?q=1 v20 host=localhost body=" + body;
  }
  ASSERT_TRUE(h2.run());
  for (auto& [id, w] : want) {
    auto& r = h2.responses[id];
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.error_code, 0u);
    EXPECT_EQ(r.body, w) << id;
    EXPECT_EQ(header_of(r, "content-type"), "text/plain");
    EXPECT_EQ(header_of(r, "content-length"), std::to_string(w.size()));
  }
  // More requests on the same connection.
  int32_t id = h2.submit("GET", "/again");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[id].body, "GET /again ? v20 host=localhost body=");
  EXPECT_EQ(srv->connection_count(), 1);
}

TEST(Http2, DeferredResponsesOutOfOrderAndStreamedData) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::shared_ptr<ResponseSink>>> pending;
  auto srv = start([&](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    std::lock_guard lk(mu);
    pending.emplace_back(req.path, std::move(sink));
    cv.notify_all();
  });
  std::thread worker([&] {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return pending.size() == 4; });
    auto batch = std::move(pending);
    lk.unlock();
    // Answer in reverse order of arrival; /stream gets 600 KB in 60 DATA writes.
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      auto& [path, sink] = *it;
      if (path == "/stream") {
        sink->start_stream(200, {{"content-type", "application/octet-stream"}});
        for (int i = 0; i < 60; ++i)
          EXPECT_TRUE(sink->write(std::string(10000, static_cast<char>('a' + i % 26))));
        EXPECT_GT(sink->queued_bytes(), 0u);
        sink->finish();
      } else {
        sink->respond(HttpResponse{201, {{"x-path", path}}, "late " + path});
      }
    }
  });
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  int32_t a = h2.submit("GET", "/a"), b = h2.submit("GET", "/b"), s = h2.submit("GET", "/stream"),
          d = h2.submit("POST", "/d", "data");
  ASSERT_TRUE(h2.run());
  worker.join();
  EXPECT_EQ(h2.responses[a].status, 201);
  EXPECT_EQ(h2.responses[a].body, "late /a");
  EXPECT_EQ(header_of(h2.responses[b], "x-path"), "/b");
  EXPECT_EQ(h2.responses[d].body, "late /d");
  auto& st = h2.responses[s];
  EXPECT_EQ(st.status, 200);
  ASSERT_EQ(st.body.size(), 600000u);
  for (int i = 0; i < 60; ++i) EXPECT_EQ(st.body[i * 10000], 'a' + i % 26);
  EXPECT_GT(st.data_frames, 10);
}

TEST(Http2, LimitsPerStream) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  auto srv = start(echo, o);
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  int32_t big = h2.submit("POST", "/big", std::string(5000, 'x'));
  int32_t ok = h2.submit("POST", "/ok", std::string(1000, 'y'));
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[big].status, 413);
  EXPECT_EQ(h2.responses[ok].status, 200);
  // The connection keeps working after a rejected stream.
  int32_t again = h2.submit("GET", "/again");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[again].status, 200);
}

TEST(Http2, ManyLargeBodiesOnOneConnection) {
  std::atomic<size_t> bytes{0};
  auto srv = start([&](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    bytes += req.body.size();
    sink->respond(HttpResponse{200, {}, R"({"FailedRecordCount":0})"});
  });
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  const std::string body(90 * 1024, 'r');
  auto t0 = std::chrono::steady_clock::now();
  int ok = 0;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<int32_t> ids;
    for (int i = 0; i < 100; ++i) ids.push_back(h2.submit("POST", "/", body));
    ASSERT_TRUE(h2.run(20000));
    for (int32_t id : ids) ok += h2.responses[id].status == 200;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok, 1000);
  EXPECT_EQ(bytes.load(), 1000 * body.size());
  std::printf("  h2: 1000 x 90 KiB requests (100 concurrent streams) in %.3f s = %.0f req/s\n", s,
              1000 / s);
}

TEST(Http2, HeaderLimitEmptyBodiesAndHead) {
  ServerOptions o;
  o.max_header_bytes = 4096;
  auto srv = start([](HttpRequest& req, std::shared_ptr<ResponseSink> sink) {
    if (req.path == "/empty") return sink->respond(HttpResponse{204, {}, ""});
    sink->respond(HttpResponse{200, {{"Connection", "keep-alive"}}, "twelve bytes"});
  }, o);
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  int32_t big = h2.submit("GET", "/big", {}, {{"x-big", std::string(8000, 'h')}});
  int32_t empty = h2.submit("GET", "/empty");
  int32_t head = h2.submit("HEAD", "/head");
  int32_t get = h2.submit("GET", "/get");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[big].status, 431);
  EXPECT_EQ(h2.responses[empty].status, 204);
  EXPECT_EQ(h2.responses[empty].body, "");
  EXPECT_EQ(h2.responses[head].status, 200);
  EXPECT_EQ(h2.responses[head].body, "");
  EXPECT_EQ(header_of(h2.responses[head], "content-length"), "12");
  EXPECT_EQ(header_of(h2.responses[get], "connection"), "");  // connection-specific: dropped
  EXPECT_EQ(h2.responses[get].body, "twelve bytes");
}

TEST(Http2, StalledRequestIsResetWhileOtherStreamsAreServed) {
  ServerOptions o;
  o.request_timeout_ms = 300;
  auto srv = start(echo, o);
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  auto t0 = std::chrono::steady_clock::now();
  int32_t held = h2.submit("POST", "/held", {}, {}, /*hold=*/true);
  int32_t fine = h2.submit("POST", "/fine", "abc");
  ASSERT_TRUE(h2.run(5000));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(h2.responses[fine].status, 200);
  EXPECT_EQ(h2.responses[held].status, 0);
  EXPECT_EQ(h2.responses[held].error_code, 8u);  // RST_STREAM CANCEL
  EXPECT_GE(ms, 250);
  // The connection survives.
  int32_t again = h2.submit("GET", "/again");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[again].status, 200);
}

TEST(Http2, IdleConnectionIsClosed) {
  ServerOptions o;
  o.idle_timeout_ms = 200;
  auto srv = start(echo, o);
  RawConn c(srv->port());
  FdTransport t(c.fd());
  H2Client h2(&t);
  int32_t id = h2.submit("GET", "/x");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[id].status, 200);
  bool closed;
  c.read_until_close(&closed);
  EXPECT_TRUE(closed);
}

TEST(Http2, BadPrefaceFollowUpIsClosedNotCrashed) {
  auto srv = start(echo);
  RawConn c(srv->port(), 2000);
  c.send_all(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(100, '\xff'));
  bool closed;
  c.read_until_close(&closed);
  EXPECT_TRUE(closed);
  RawConn d(srv->port());
  FdTransport t(d.fd());
  H2Client h2(&t);
  int32_t id = h2.submit("GET", "/x");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[id].status, 200);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::make_self_signed(&cert_, &key_)) FAIL() << "openssl CLI not available (scripts/bootstrap installs it)";
    ServerOptions o;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    srv_ = start(echo, o);
    ASSERT_NE(srv_, nullptr);
  }
  std::string cert_, key_;
  std::unique_ptr<HttpServer> srv_;
};

TEST_F(TlsTest, AlpnH2) {
  TlsConn c(srv_->port(), std::string_view("\x02h2\x08http/1.1", 12));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.alpn_selected(), "h2");
  H2Client h2(&c);
  int32_t a = h2.submit("POST", "/tls", std::string(100000, 'z'));
  int32_t b = h2.submit("GET", "/tls2");
  ASSERT_TRUE(h2.run());
  EXPECT_EQ(h2.responses[a].body, "POST /tls ? v20 host=localhost body=" + std::string(100000, 'z'));
  EXPECT_EQ(h2.responses[b].status, 200);
}

TEST_F(TlsTest, AlpnHttp11) {
  TlsConn c(srv_->port(), std::string_view("\x08http/1.1", 9));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.alpn_selected(), "http/1.1");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send_all("POST /s HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"));
    std::string r = c.read_response();
    EXPECT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
    EXPECT_TRUE(r.ends_with("POST /s ? v11 host=h body=abc")) << r;
  }
}

TEST_F(TlsTest, NoAlpnFallsBackToHttp11AndPlaintextIsRejected) {
  TlsConn c(srv_->port(), std::string_view());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.alpn_selected(), "");
  ASSERT_TRUE(c.send_all("GET /n HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_TRUE(c.read_response().ends_with("GET /n ? v11 host=h body="));
  RawConn plain(srv_->port(), 3000);
  plain.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed;
  std::string r = plain.read_until_close(&closed);
  EXPECT_EQ(r.find("HTTP/1.1 200"), std::string::npos);
}

TEST(RealPeers, CurlHttp2PriorKnowledge) {
  if (!testing::have_command("curl")) FAIL() << "curl not installed (scripts/bootstrap installs it)";
  auto srv = start(echo);
  int rc;
  std::string out = testing::run_command(
      "curl -s --max-time 10 --http2-prior-knowledge -d hello -w ' %{http_version} %{http_code}' "
      "'http://127.0.0.1:" + std::to_string(srv->port()) + "/curl?x=1'",
      &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "POST /curl ?x=1 v20 host=127.0.0.1:" + std::to_string(srv->port()) +
                     " body=hello 2 200");
  out = testing::run_command("curl -s --max-time 10 -w ' %{http_version}' http://127.0.0.1:" +
                                 std::to_string(srv->port()) + "/one http://127.0.0.1:" +
                                 std::to_string(srv->port()) + "/two",
                             &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("GET /one ? v11"), std::string::npos) << out;
  EXPECT_NE(out.find("GET /two ? v11"), std::string::npos) << out;
}

TEST(RealPeers, NodeHttp2Client) {
  if (!testing::have_command("node")) FAIL() << "node not installed (scripts/bootstrap installs it)";
  auto srv = start(echo);
  std::string js =
      "const h=require('http2');const c=h.connect('http://127.0.0.1:" +
      std::to_string(srv->port()) +
      "');let n=0;const out=[];for(let i=0;i<5;i++){const r=c.request({':path':'/n'+i,':method':"
      "'POST'});r.setEncoding('utf8');let d='';r.on('response',hd=>{d+=hd[':status']+' ';});"
      "r.on('data',x=>d+=x);r.on('end',()=>{out[i]=d;if(++n==5){console.log(out.join('|'));"
      "c.close();}});r.end('x'.repeat(100000*i+1));}";
  int rc;
  std::string out = testing::run_command("timeout 20 node -e \"" + js + "\"", &rc);
  EXPECT_EQ(rc, 0) << out;
  for (int i = 0; i < 5; ++i) {
    std::string want = "200 POST /n" + std::to_string(i) + " ? v20 host=127.0.0.1:" +
                       std::to_string(srv->port()) + " body=" + std::string(100000 * i + 1, 'x');
    EXPECT_NE(out.find(want), std::string::npos) << "stream " << i;
  }
}

}  // namespace
}  // namespace sl::net
