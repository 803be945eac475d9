// HTTP server and message types used by every endpoint (Kinesis API, HTTP API, UI, metrics).
//
// The server speaks HTTP/1.1 (keep-alive, pipelining-safe, Expect: 100-continue, chunked
// streaming responses) and HTTP/2 (cleartext with prior knowledge, or h2 over TLS via
// ALPN; many concurrent streams per connection). Boost/nghttp2 stay out of this header.
//
// Threads: the server runs `threads` I/O threads. Handler is called on an I/O thread and
// must not block. The ResponseSink it receives may be completed later from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace sl::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string target;  // path?query as received (raw, not decoded)
  std::string path;    // raw path part of target
  std::string query;   // raw query part of target (without '?')
  Headers headers;     // names lowercased; for HTTP/2 ":authority" appears as "host"
  std::string body;
  int version = 11;    // 10, 11 or 20
  std::string remote_addr;

  // First header with this (lowercase) name, or nullptr.
  const std::string* header(std::string_view lowercase_name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
};

// Where a handler sends its answer. Thread-safe; methods may be called from any thread,
// now or later. Exactly one of: respond(), or start_stream() + write()* + finish().
// Calls from one thread are applied in order. Dropping the last reference without
// answering sends 500 (or aborts a started stream: RST_STREAM / connection close).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void respond(HttpResponse response) = 0;
  // Starts a streamed response: HTTP/1.1 chunked transfer encoding, HTTP/2 DATA frames.
  virtual void start_stream(int status, Headers headers) = 0;
  // Queues a chunk (non-blocking). False if the peer is gone or the stream was reset.
  virtual bool write(std::string chunk) = 0;
  virtual void finish() = 0;
  // True once the peer went away / the stream was reset (or the response completed).
  virtual bool closed() const = 0;
  // Bytes accepted by write()/respond() not yet handed to the socket: back-pressure.
  virtual size_t queued_bytes() const = 0;
};

using Handler = std::function<void(HttpRequest&, std::shared_ptr<ResponseSink>)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;  // 0 = ephemeral
  int threads = 2;
  size_t max_body_bytes = 16u << 20;
  size_t max_header_bytes = 64u << 10;
  int max_connections = 1024;
  int idle_timeout_ms = 60000;     // no request bytes on an open connection
  int request_timeout_ms = 30000;  // a whole request must arrive within this
  std::string tls_cert_file, tls_key_file;  // both set: TLS (ALPN h2, http/1.1)
};

// Lifecycle: start() binds and runs the I/O threads; stop() (or the destructor) closes
// the listener and all connections and joins the threads; never call it from a Handler
// or another I/O-thread callback (it joins those threads). Not copyable.
class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> start(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  // Connections currently open (for tests and metrics).
  int connection_count() const;
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "OK", "Not Found", ... for a status code ("Unknown" otherwise).
const char* status_reason(int status);
// Lowercases ASCII in place.
void ascii_lower(std::string& s);

}  // namespace sl::net
