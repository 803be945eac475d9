// A minimal blocking PostgreSQL protocol client for tests: raw messages, startup with
// SCRAM-SHA-256, simple and extended query helpers. Plain TCP only (TLS is covered by the
// psql tests).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pgwire/protocol.h"
#include "pgwire/scram.h"

namespace sl::pgwire::pgtest {

struct Msg {
  char type = 0;
  std::string body;
};

struct QueryOutcome {
  std::vector<FieldDesc> fields;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<std::string> tags;
  std::vector<char> types;  // every message type seen, in order
  std::map<char, std::string> error;  // fields of the first ErrorResponse
  char ready = 0;
  bool ok() const { return error.empty(); }
  std::string code() const { auto it = error.find('C'); return it == error.end() ? "" : it->second; }
};

inline std::map<char, std::string> error_fields(const std::string& body) {
  std::map<char, std::string> f;
  size_t i = 0;
  while (i < body.size() && body[i] != 0) {
    char k = body[i++];
    size_t e = body.find('\0', i);
    if (e == std::string::npos) break;
    f[k] = body.substr(i, e - i);
    i = e + 1;
  }
  return f;
}

inline std::vector<FieldDesc> parse_row_description(const std::string& b) {
  Reader r(b);
  int16_t n;
  std::vector<FieldDesc> out;
  if (!r.int16(&n)) return out;
  for (int i = 0; i < n; ++i) {
    FieldDesc f;
    if (!r.cstring(&f.name) || !r.int32(&f.table_oid) || !r.int16(&f.column) || !r.int32(&f.type_oid) ||
        !r.int16(&f.typlen) || !r.int32(&f.typmod) || !r.int16(&f.format))
      break;
    out.push_back(f);
  }
  return out;
}

inline std::vector<std::optional<std::string>> parse_data_row(const std::string& b) {
  Reader r(b);
  int16_t n;
  std::vector<std::optional<std::string>> out;
  if (!r.int16(&n)) return out;
  for (int i = 0; i < n; ++i) {
    int32_t len;
    if (!r.int32(&len)) break;
    if (len < 0) {
      out.emplace_back(std::nullopt);
      continue;
    }
    std::string v;
    if (!r.bytes(len, &v)) break;
    out.emplace_back(std::move(v));
  }
  return out;
}

class PgClient {
 public:
  ~PgClient() { close(); }
  bool connect(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send_raw(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  bool send(char type, const std::string& body) {
    std::string m(1, type);
    append_be32(m, static_cast<int32_t>(body.size() + 4));
    return send_raw(m + body);
  }
  // Reads one message; nullopt on EOF or after timeout_ms.
  std::optional<Msg> read(int timeout_ms = 20000) {
    char hdr[5];
    if (!read_exact(hdr, 5, timeout_ms)) return std::nullopt;
    Msg m;
    m.type = hdr[0];
    int32_t len = load_be32(hdr + 1);
    if (len < 4) return std::nullopt;
    m.body.resize(len - 4);
    if (!read_exact(m.body.data(), m.body.size(), timeout_ms)) return std::nullopt;
    return m;
  }
  // One byte (SSLRequest answer).
  std::optional<char> read_byte() {
    char c;
    if (!read_exact(&c, 1, 20000)) return std::nullopt;
    return c;
  }
  // True when the server closed the connection (EOF within timeout).
  bool closed_by_server(int timeout_ms = 20000) {
    for (;;) {
      auto m = read(timeout_ms);
      if (!m) return eof_;
    }
  }

  static std::string startup_packet(const std::string& user, const std::string& db = "streamlake") {
    std::string body;
    append_be32(body, kProtocolV3);
    for (auto [k, v] : {std::pair<std::string, std::string>{"user", user}, {"database", db},
                        {"application_name", "pgwire_test"}}) {
      body += k;
      body.push_back('\0');
      body += v;
      body.push_back('\0');
    }
    body.push_back('\0');
    std::string out;
    append_be32(out, static_cast<int32_t>(body.size() + 4));
    return out + body;
  }

  // Startup + SCRAM. Returns the ErrorResponse fields on failure (empty on success).
  std::map<char, std::string> login(const std::string& user, const std::string& password) {
    send_raw(startup_packet(user));
    auto m = read();
    if (!m) return {{'M', "no response"}};
    if (m->type == 'E') return error_fields(m->body);
    Reader r(m->body);
    int32_t code;
    if (m->type != 'R' || !r.int32(&code) || code != 10) return {{'M', "expected SASL"}};
    ScramClient sc(user, password, scram_random_nonce());
    std::string first = sc.client_first();
    std::string init("SCRAM-SHA-256\0", 14);
    append_be32(init, static_cast<int32_t>(first.size()));
    send('p', init + first);
    m = read();
    if (!m) return {{'M', "no SASLContinue"}};
    if (m->type == 'E') return error_fields(m->body);
    auto fin = sc.client_final(m->body.substr(4));
    if (!fin.ok()) return {{'M', fin.status().message()}};
    send('p', *fin);
    m = read();
    if (!m) return {{'M', "no SASLFinal"}};
    if (m->type == 'E') return error_fields(m->body);
    if (m->type != 'R' || !sc.verify_server_final(m->body.substr(4))) return {{'M', "bad server signature"}};
    for (;;) {
      m = read();
      if (!m) return {{'M', "no ReadyForQuery"}};
      if (m->type == 'E') return error_fields(m->body);
      if (m->type == 'S') {
        Reader rr(m->body);
        std::string k, v;
        (void)rr.cstring(&k);
        (void)rr.cstring(&v);
        params[k] = v;
      }
      if (m->type == 'K') {
        Reader rr(m->body);
        (void)rr.int32(&pid);
        (void)rr.int32(&key);
      }
      if (m->type == 'Z') return {};
    }
  }

  // Reads messages until ReadyForQuery (or EOF), collecting results.
  QueryOutcome collect() {
    QueryOutcome out;
    for (;;) {
      auto m = read();
      if (!m) break;
      out.types.push_back(m->type);
      switch (m->type) {
        case 'T': out.fields = parse_row_description(m->body); break;
        case 'D': out.rows.push_back(parse_data_row(m->body)); break;
        case 'C': out.tags.push_back(m->body.substr(0, m->body.size() - 1)); break;
        case 'E': if (out.error.empty()) out.error = error_fields(m->body); break;
        case 'Z': out.ready = m->body.empty() ? 0 : m->body[0]; return out;
        default: break;
      }
    }
    return out;
  }

  QueryOutcome query(const std::string& sql) {
    send('Q', sql + std::string(1, '\0'));
    return collect();
  }

  // Extended-protocol builders.
  void parse(const std::string& name, const std::string& sql, const std::vector<int32_t>& oids = {}) {
    std::string b = name + std::string(1, '\0') + sql + std::string(1, '\0');
    append_be16(b, static_cast<int16_t>(oids.size()));
    for (int32_t o : oids) append_be32(b, o);
    send('P', b);
  }
  void bind(const std::string& portal, const std::string& stmt,
            const std::vector<std::optional<std::string>>& params, const std::vector<int16_t>& param_formats = {},
            const std::vector<int16_t>& result_formats = {}) {
    std::string b = portal + std::string(1, '\0') + stmt + std::string(1, '\0');
    append_be16(b, static_cast<int16_t>(param_formats.size()));
    for (int16_t f : param_formats) append_be16(b, f);
    append_be16(b, static_cast<int16_t>(params.size()));
    for (const auto& p : params) {
      if (!p) {
        append_be32(b, -1);
        continue;
      }
      append_be32(b, static_cast<int32_t>(p->size()));
      b += *p;
    }
    append_be16(b, static_cast<int16_t>(result_formats.size()));
    for (int16_t f : result_formats) append_be16(b, f);
    send('B', b);
  }
  void describe(char kind, const std::string& name) { send('D', std::string(1, kind) + name + std::string(1, '\0')); }
  void execute(const std::string& portal, int32_t max_rows = 0) {
    std::string b = portal + std::string(1, '\0');
    append_be32(b, max_rows);
    send('E', b);
  }
  void sync() { send('S', ""); }

  int fd() const { return fd_; }
  std::map<std::string, std::string> params;
  int32_t pid = 0, key = 0;

 private:
  bool read_exact(char* buf, size_t n, int timeout_ms) {
    size_t got = 0;
    while (got < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      ssize_t r = ::recv(fd_, buf + got, n - got, 0);
      if (r <= 0) {
        eof_ = true;
        return false;
      }
      got += static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  bool eof_ = false;
};

}  // namespace sl::pgwire::pgtest
