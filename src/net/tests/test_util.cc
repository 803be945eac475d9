#include "net/tests/test_util.h"

#include <arpa/inet.h>
#include <nghttp2/nghttp2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sl::net::testing {

RawConn::RawConn(uint16_t port, int timeout_ms) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

RawConn::~RawConn() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConn::send_all(std::string_view d) {
  while (!d.empty()) {
    ssize_t n = ::send(fd_, d.data(), d.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    d.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string RawConn::read_some(bool* eof) {
  if (eof) *eof = false;
  if (!pending_.empty()) return std::exchange(pending_, {});
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n == 0 && eof) *eof = true;
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

std::string RawConn::read_until_close(bool* closed) {
  std::string out = std::exchange(pending_, {});
  *closed = false;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      *closed = true;
      return out;
    }
    if (n < 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string RawConn::read_until(std::string_view needle) {
  std::string out = std::exchange(pending_, {});
  while (out.find(needle) == std::string::npos) {
    bool eof;
    std::string s = read_some(&eof);
    if (s.empty()) break;
    out += s;
  }
  return out;
}

namespace {
// Splits one Content-Length response off the front of buf; empty if incomplete.
std::string take_response(std::string& buf) {
  size_t e = buf.find("\r\n\r\n");
  if (e == std::string::npos) return {};
  size_t cl = 0;
  std::string head = buf.substr(0, e);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t p = head.find("content-length:");
  if (p != std::string::npos) cl = std::strtoull(head.c_str() + p + 15, nullptr, 10);
  if (buf.size() < e + 4 + cl) return {};
  std::string r = buf.substr(0, e + 4 + cl);
  buf.erase(0, e + 4 + cl);
  return r;
}
}  // namespace

std::string RawConn::read_response() {
  for (;;) {
    std::string r = take_response(pending_);
    if (!r.empty()) return r;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::exchange(pending_, {});
    pending_.append(buf, static_cast<size_t>(n));
  }
}

long FdTransport::send(const uint8_t* p, size_t n) { return ::send(fd, p, n, MSG_NOSIGNAL); }
long FdTransport::recv(uint8_t* p, size_t n) { return ::recv(fd, p, n, 0); }

TlsConn::TlsConn(uint16_t port, std::string_view alpn) : raw_(port) {
  if (!raw_.ok()) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(alpn.data()),
                          static_cast<unsigned>(alpn.size()));
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, raw_.fd());
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (SSL_connect(ssl) != 1) {
    SSL_free(ssl);
    return;
  }
  ssl_ = ssl;
}

TlsConn::~TlsConn() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

std::string TlsConn::alpn_selected() const {
  const unsigned char* p = nullptr;
  unsigned n = 0;
  SSL_get0_alpn_selected(ssl_, &p, &n);
  return std::string(reinterpret_cast<const char*>(p), n);
}

long TlsConn::send(const uint8_t* p, size_t n) {
  int r = SSL_write(ssl_, p, static_cast<int>(n));
  return r <= 0 ? -1 : r;
}
long TlsConn::recv(uint8_t* p, size_t n) {
  int r = SSL_read(ssl_, p, static_cast<int>(n));
  if (r <= 0) return SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  return r;
}
bool TlsConn::send_all(std::string_view s) {
  return send(reinterpret_cast<const uint8_t*>(s.data()), s.size()) == static_cast<long>(s.size());
}
std::string TlsConn::read_response() {
  for (;;) {
    std::string r = take_response(pending_);
    if (!r.empty()) return r;
    uint8_t buf[16384];
    long n = recv(buf, sizeof buf);
    if (n <= 0) return std::exchange(pending_, {});
    pending_.append(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
  }
}

// ---- H2Client ------------------------------------------------------------------------

struct H2Callbacks {
  static H2Client* c(void* u) { return static_cast<H2Client*>(u); }
  static int on_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name,
                       size_t nl, const uint8_t* value, size_t vl, uint8_t, void* u) {
    auto& r = c(u)->responses[f->hd.stream_id];
    std::string n(reinterpret_cast<const char*>(name), nl);
    std::string v(reinterpret_cast<const char*>(value), vl);
    if (n == ":status") r.status = std::atoi(v.c_str());
    else r.headers.emplace_back(n, v);
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) {
    auto& r = c(u)->responses[id];
    r.body.append(reinterpret_cast<const char*>(d), n);
    ++r.data_frames;
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t id, uint32_t err, void* u) {
    auto& r = c(u)->responses[id];
    r.closed = true;
    r.error_code = err;
    --c(u)->open_;
    return 0;
  }
  static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t len,
                           uint32_t* flags, nghttp2_data_source* src, void* u) {
    auto* off = static_cast<size_t*>(src->ptr);
    if (!off) return NGHTTP2_ERR_DEFERRED;  // held forever
    std::string& b = c(u)->bodies[id];
    size_t n = std::min(len, b.size() - *off);
    std::memcpy(buf, b.data() + *off, n);
    *off += n;
    if (*off == b.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      delete off;
    }
    return static_cast<ssize_t>(n);
  }
};

H2Client::H2Client(Transport* t) : t_(t) {
  nghttp2_session_callbacks* cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Callbacks::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Callbacks::on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Callbacks::on_close);
  nghttp2_session_client_new(&session_, cbs, this);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
}

H2Client::~H2Client() { nghttp2_session_del(session_); }

int32_t H2Client::submit(const std::string& method, const std::string& path, std::string body,
                         Headers extra, bool hold) {
  std::vector<std::pair<std::string, std::string>> h = {
      {":method", method}, {":path", path}, {":scheme", "http"}, {":authority", "localhost"}};
  for (auto& e : extra) h.push_back(e);
  std::vector<nghttp2_nv> nva;
  for (auto& [k, v] : h)
    nva.push_back({(uint8_t*)k.data(), (uint8_t*)v.data(), k.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  nghttp2_data_provider prd;
  prd.source.ptr = new size_t(0);
  prd.read_callback = &H2Callbacks::read_body;
  bool has_body = !body.empty() || hold;
  if (!has_body || hold) {
    delete static_cast<size_t*>(prd.source.ptr);
    prd.source.ptr = nullptr;
  }
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      has_body ? &prd : nullptr, nullptr);
  if (id > 0) {
    bodies[id] = std::move(body);
    responses[id];
    ++open_;
  }
  return id;
}

bool H2Client::run(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (open_ > 0) {
    for (;;) {
      const uint8_t* d;
      ssize_t n = nghttp2_session_mem_send(session_, &d);
      if (n < 0) return false;
      if (n == 0) break;
      size_t off = 0;
      while (off < static_cast<size_t>(n)) {
        long w = t_->send(d + off, static_cast<size_t>(n) - off);
        if (w <= 0) return false;
        off += static_cast<size_t>(w);
      }
    }
    if (open_ == 0) break;
    if (std::chrono::steady_clock::now() > deadline) return false;
    uint8_t buf[65536];
    long r = t_->recv(buf, sizeof buf);
    if (r <= 0) return false;
    if (nghttp2_session_mem_recv(session_, buf, static_cast<size_t>(r)) < 0) return false;
  }
  return true;
}

std::string run_command(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

bool have_command(const std::string& name) {
  int rc;
  run_command("command -v " + name + " >/dev/null 2>&1", &rc);
  return rc == 0;
}

bool make_self_signed(std::string* cert, std::string* key) {
  if (!have_command("openssl")) return false;
  char tmpl[] = "/tmp/sl_net_tls_XXXXXX";
  if (!::mkdtemp(tmpl)) return false;
  *cert = std::string(tmpl) + "/cert.pem";
  *key = std::string(tmpl) + "/key.pem";
  int rc;
  run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                  *key + " -out " + *cert + " >/dev/null 2>&1",
              &rc);
  return rc == 0;
}

}  // namespace sl::net::testing
