// libFuzzer target: raw bytes from a client through net::HttpServer (HTTP/1.1 parsing,
// keep-alive and pipelining, chunked bodies, Expect: 100-continue, HTTP/2 with prior
// knowledge when the input starts with the h2 preface). The server has no parser entry
// point of its own, so each input is written to a fresh loopback connection, the write
// side is shut down and the answer read until the server closes (timeouts of 1 s bound a
// request the server keeps waiting for). The handler echoes, streams for /stream and
// verifies SigV4 for /signed, so those paths run too. A crash or sanitizer report in an
// I/O thread is a finding; so is the server no longer accepting connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "net/http.h"
#include "net/sigv4.h"

namespace {

void handle(sl::net::HttpRequest& req, std::shared_ptr<sl::net::ResponseSink> sink) {
  if (req.path == "/stream") {
    sink->start_stream(200, {{"content-type", "text/plain"}});
    sink->write(req.body);
    sink->write(req.target);
    sink->finish();
    return;
  }
  if (req.path == "/signed") {
    auto r = sl::net::verify_sigv4(
        req, [](std::string_view) { return std::optional<std::string>("secret"); },
        1700000000000);
    sink->respond({r.ok() ? 200 : 403, {}, sl::net::sigv4_error_type(r.error)});
    return;
  }
  sl::net::HttpResponse resp;
  resp.headers.push_back({"x-method", req.method});
  resp.body = req.body;
  sink->respond(std::move(resp));
}

struct Fixture {
  std::unique_ptr<sl::net::HttpServer> server;
  Fixture() {
    sl::net::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.max_body_bytes = 1 << 16;
    o.max_header_bytes = 8 << 10;
    o.idle_timeout_ms = 1000;
    o.request_timeout_ms = 1000;
    auto s = sl::net::HttpServer::start(o, handle);
    if (!s.ok()) abort();
    server = std::move(s).value();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  if (size > 32 * 1024) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) abort();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(fx.server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    // libFuzzer's SIGALRM (-timeout) can interrupt connect; it then completes on its own.
    int err = errno;
    if (err == EINTR) {
      pollfd p{fd, POLLOUT, 0};
      while (poll(&p, 1, 5000) < 0 && errno == EINTR) {
      }
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err != 0) {
      fprintf(stderr, "http_fuzz: connect: %s\n", strerror(err));  // the server stopped accepting
      abort();
    }
  }
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < size) {
    ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early on a bad request
    off += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
  close(fd);
  return 0;
}
