#include "net/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sl::net {

HttpClient::HttpClient(HttpClient&& o) noexcept
    : host_(std::move(o.host_)), port_(o.port_), timeout_ms_(o.timeout_ms_), fd_(o.fd_),
      buf_(std::move(o.buf_)), pos_(o.pos_) {
  o.fd_ = -1;
}

HttpClient& HttpClient::operator=(HttpClient&& o) noexcept {
  if (this != &o) {
    close();
    host_ = std::move(o.host_);
    port_ = o.port_;
    timeout_ms_ = o.timeout_ms_;
    fd_ = o.fd_;
    buf_ = std::move(o.buf_);
    pos_ = o.pos_;
    o.fd_ = -1;
  }
  return *this;
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  pos_ = 0;
}

Result<HttpClient> HttpClient::connect(const std::string& host, uint16_t port, int timeout_ms) {
  HttpClient c;
  c.host_ = host;
  c.port_ = port;
  c.timeout_ms_ = timeout_ms;
  SL_RETURN_IF_ERROR(c.reconnect());
  return c;
}

Status HttpClient::reconnect() {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(port_);
  int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status(Errc::kIoError, "resolve " + host_ + ": " + gai_strerror(rc));
  Status last = io_error("connect " + host_ + ":" + port + ": no address");
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (timeout_ms_ > 0) {
        timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      }
      fd_ = fd;
      ::freeaddrinfo(res);
      return Status::OK();
    }
    last = io_error_errno("connect " + host_ + ":" + port);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return last;
}

Status HttpClient::write_all(const HttpRequest& req) {
  std::string head;
  head.reserve(256 + req.headers.size() * 48);
  head += req.method.empty() ? "GET" : req.method;
  head += ' ';
  if (!req.target.empty()) {
    head += req.target;
  } else {
    head += req.path.empty() ? "/" : req.path;
    if (!req.query.empty()) {
      head += '?';
      head += req.query;
    }
  }
  head += " HTTP/1.1\r\n";
  bool has_host = false, has_len = false;
  for (const auto& [k, v] : req.headers) {
    if (strcasecmp(k.c_str(), "host") == 0) has_host = true;
    if (strcasecmp(k.c_str(), "content-length") == 0) has_len = true;
    if (strcasecmp(k.c_str(), "transfer-encoding") == 0) has_len = true;
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  if (!has_host) head += "Host: " + host_ + ":" + std::to_string(port_) + "\r\n";
  if (!has_len && (!req.body.empty() || (req.method != "GET" && req.method != "HEAD" &&
                                         !req.method.empty())))
    head += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  head += "\r\n";
  iovec iov[2] = {{head.data(), head.size()},
                  {const_cast<char*>(req.body.data()), req.body.size()}};
  int iovcnt = req.body.empty() ? 1 : 2;
  iovec* p = iov;
  while (iovcnt > 0) {
    ssize_t n = ::writev(fd_, p, iovcnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error_errno("send");
    }
    size_t left = static_cast<size_t>(n);
    while (iovcnt > 0 && left >= p->iov_len) {
      left -= p->iov_len;
      ++p;
      --iovcnt;
    }
    if (iovcnt > 0) {
      p->iov_base = static_cast<char*>(p->iov_base) + left;
      p->iov_len -= left;
    }
  }
  return Status::OK();
}

Status HttpClient::fill() {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 20)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + 65536);
  for (;;) {
    ssize_t n = ::recv(fd_, buf_.data() + old, 65536, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      buf_.resize(old);
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status(Errc::kCancelled, "recv timeout");
      return io_error_errno("recv");
    }
    buf_.resize(old + static_cast<size_t>(n));
    if (n == 0) return io_error("connection closed by peer");
    return Status::OK();
  }
}

Result<HttpResponse> HttpClient::read_response(bool head_req, bool* got_any) {
  HttpResponse resp;
  // Status line and headers.
  size_t end;
  for (;;) {
    end = buf_.find("\r\n\r\n", pos_);
    if (end != std::string::npos) break;
    if (buf_.size() - pos_ > (1u << 20)) return io_error("response header too large");
    Status st = fill();
    if (!st.ok()) return st;
    *got_any = true;
  }
  *got_any = true;
  std::string_view head(buf_.data() + pos_, end - pos_);
  pos_ = end + 4;
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12)
    return io_error("bad status line: " + std::string(status_line));
  resp.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  bool chunked = false, close_after = status_line.substr(0, 8) == "HTTP/1.0";
  long long content_length = -1;
  while (eol != std::string_view::npos) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view line = head.substr(start, eol == std::string_view::npos ? eol : eol - start);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    ascii_lower(name);
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    std::string value(v);
    if (name == "content-length") content_length = std::atoll(value.c_str());
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
    if (name == "connection" && strcasecmp(value.c_str(), "close") == 0) close_after = true;
    resp.headers.emplace_back(std::move(name), std::move(value));
  }
  if (resp.status >= 100 && resp.status < 200) return read_response(head_req, got_any);
  if (head_req || resp.status == 204 || resp.status == 304) {
    // no body
  } else if (chunked) {
    for (;;) {
      size_t le;
      while ((le = buf_.find("\r\n", pos_)) == std::string::npos) SL_RETURN_IF_ERROR(fill());
      size_t size = std::strtoull(buf_.c_str() + pos_, nullptr, 16);
      pos_ = le + 2;
      if (size == 0) {
        // trailers until empty line
        for (;;) {
          while ((le = buf_.find("\r\n", pos_)) == std::string::npos) SL_RETURN_IF_ERROR(fill());
          bool empty = le == pos_;
          pos_ = le + 2;
          if (empty) break;
        }
        break;
      }
      while (buf_.size() - pos_ < size + 2) SL_RETURN_IF_ERROR(fill());
      resp.body.append(buf_, pos_, size);
      pos_ += size + 2;
    }
  } else if (content_length >= 0) {
    size_t want = static_cast<size_t>(content_length);
    resp.body.reserve(want);
    for (;;) {
      size_t take = std::min(want - resp.body.size(), buf_.size() - pos_);
      resp.body.append(buf_, pos_, take);
      pos_ += take;
      if (resp.body.size() == want) break;
      SL_RETURN_IF_ERROR(fill());
    }
  } else {
    // Body ends at close.
    for (;;) {
      resp.body.append(buf_, pos_, std::string::npos);
      pos_ = buf_.size();
      Status st = fill();
      if (!st.ok()) break;
    }
    close_after = true;
  }
  if (close_after) close();
  return resp;
}

Result<HttpResponse> HttpClient::send(const HttpRequest& req) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) SL_RETURN_IF_ERROR(reconnect());
    bool got_any = buf_.size() > pos_;
    Status st = write_all(req);
    if (st.ok()) {
      auto r = read_response(req.method == "HEAD", &got_any);
      if (r.ok() || got_any || attempt == 1 || r.status().code() == Errc::kCancelled) {
        if (!r.ok()) close();
        return r;
      }
    } else if (attempt == 1) {
      close();
      return st;
    }
    close();  // stale keep-alive connection: retry once on a fresh one
  }
  return io_error("unreachable");
}

}  // namespace sl::net
