// Test helpers for net_test: raw sockets, a blocking nghttp2 client, TLS client, commands.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "net/http.h"

struct nghttp2_session;

namespace sl::net::testing {

// A blocking TCP connection with a receive timeout.
class RawConn {
 public:
  RawConn(uint16_t port, int timeout_ms = 5000);
  ~RawConn();
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send_all(std::string_view data);
  // Reads whatever arrives next (empty on EOF/timeout/error); *eof set on orderly close.
  std::string read_some(bool* eof = nullptr);
  // Reads until the peer closes or the timeout hits; *closed says which.
  std::string read_until_close(bool* closed);
  // Reads until `data` contains `needle`.
  std::string read_until(std::string_view needle);
  // One complete HTTP/1.1 response with Content-Length from the stream.
  std::string read_response();

 private:
  int fd_ = -1;
  std::string pending_;
};

// Byte transport for the HTTP/2 client: plain fd or TLS.
struct Transport {
  virtual ~Transport() = default;
  virtual long send(const uint8_t* p, size_t n) = 0;
  virtual long recv(uint8_t* p, size_t n) = 0;  // 0 on EOF, <0 on error/timeout
};

struct FdTransport : Transport {
  explicit FdTransport(int fd) : fd(fd) {}
  long send(const uint8_t* p, size_t n) override;
  long recv(uint8_t* p, size_t n) override;
  int fd;
};

class TlsConn : public Transport {
 public:
  // Connects and handshakes offering `alpn` (wire format, e.g. "\x02h2").
  TlsConn(uint16_t port, std::string_view alpn);
  ~TlsConn() override;
  bool ok() const { return ssl_ != nullptr; }
  std::string alpn_selected() const;
  long send(const uint8_t* p, size_t n) override;
  long recv(uint8_t* p, size_t n) override;
  bool send_all(std::string_view s);
  std::string read_response();  // one Content-Length-delimited HTTP/1.1 response

 private:
  RawConn raw_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

struct H2Response {
  int status = 0;
  Headers headers;
  std::string body;
  int data_frames = 0;
  bool closed = false;
  uint32_t error_code = 0;
};

// A minimal blocking HTTP/2 client (nghttp2 client session), prior knowledge.
class H2Client {
 public:
  explicit H2Client(Transport* t);
  ~H2Client();
  // hold: send HEADERS without END_STREAM and then never any DATA (a stalled upload).
  int32_t submit(const std::string& method, const std::string& path, std::string body = {},
                 Headers extra = {}, bool hold = false);
  // Pumps I/O until every submitted stream has closed; false on error/timeout.
  bool run(int timeout_ms = 10000);
  std::map<int32_t, H2Response> responses;
  std::map<int32_t, std::string> bodies;  // request bodies being sent

 private:
  Transport* t_;
  ::nghttp2_session* session_ = nullptr;
  int open_ = 0;
  friend struct H2Callbacks;
};

// Runs a shell command; returns stdout, *rc the exit status.
std::string run_command(const std::string& cmd, int* rc);
bool have_command(const std::string& name);
// Writes a self-signed cert/key (openssl CLI) into a temp dir; false if unavailable.
bool make_self_signed(std::string* cert, std::string* key);

}  // namespace sl::net::testing
