// HttpClient: a small blocking HTTP/1.1 client over a plain TCP socket, for our tools
// (load generator, `streamlake produce`) and tests. Keep-alive; one request at a time.
// Not thread-safe: one thread per client. Move-only; closes the socket on destruction.
#pragma once

#include <cstdint>
#include <string>

#include "net/http.h"
#include "util/status.h"

namespace sl::net {

class HttpClient {
 public:
  // Connects to host:port (name or address). timeout_ms bounds each send/recv (0: none).
  static Result<HttpClient> connect(const std::string& host, uint16_t port, int timeout_ms = 30000);

  HttpClient(HttpClient&& o) noexcept;
  HttpClient& operator=(HttpClient&& o) noexcept;
  ~HttpClient();

  // Sends req (method, target or path?query, headers, body) and reads the response.
  // Adds Host and Content-Length when missing. Chunked responses are reassembled.
  // On a connection closed by the server before any response byte, reconnects once.
  Result<HttpResponse> send(const HttpRequest& req);

  bool connected() const { return fd_ >= 0; }
  void close();

 private:
  HttpClient() = default;
  Status reconnect();
  Status write_all(const HttpRequest& req);
  Result<HttpResponse> read_response(bool head, bool* got_any);
  Status fill();  // reads more bytes into buf_

  std::string host_;
  uint16_t port_ = 0;
  int timeout_ms_ = 0;
  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace sl::net
