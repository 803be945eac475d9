// PgServer: sockets, TLS, threads and the per-connection protocol state machine.
//
// Threads: one acceptor thread (poll on the listener and a wake-up pipe) and one thread per
// connection that does everything for it (TLS, authentication, running queries). A
// CancelRequest arrives on a fresh connection: its thread looks the target up in the
// registry and trips the target session's CancelToken. stop() shuts every socket down,
// trips every token and joins all threads.
#include "pgwire/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "exec/error.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/protocol.h"
#include "pgwire/scram.h"
#include "pgwire/sql_text.h"
#include "catalog/catalog.h"
#include "sql/engine.h"
#include "util/hash.h"

namespace sl::pgwire {

namespace {

using sql::StatementKind;

constexpr int kAuthTimeoutMs = 60000;   // each read during startup + authentication
constexpr int kStallTimeoutMs = 60000;  // a message's body must arrive within this time
constexpr size_t kFlushBytes = 64 * 1024;
constexpr size_t kMaxStatements = 10000;  // prepared statements per connection
constexpr size_t kMaxPortals = 1000;      // open portals per connection
constexpr int kExtraHandshakeSlots = 16;  // connections past max_connections get a FATAL

// An error that ends the connection (after an optional FATAL ErrorResponse).
struct FatalError {
  ErrorFields fields;
};

ErrorFields fields_of(const char* sqlstate, std::string message, std::string severity = "ERROR") {
  ErrorFields f;
  f.severity = std::move(severity);
  f.sqlstate = sqlstate;
  f.message = std::move(message);
  return f;
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// A connection's byte stream: plain TCP or TLS over it. Blocking I/O with poll for timeouts.
class Transport {
 public:
  explicit Transport(int fd) : fd_(fd) {}
  ~Transport() {
    if (ssl_) SSL_free(ssl_);
  }
  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }

  bool start_tls(SSL_CTX* ctx, std::string* err) {
    ssl_ = SSL_new(ctx);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) {
      *err = openssl_error();
      return false;
    }
    for (;;) {
      int r = SSL_accept(ssl_);
      if (r == 1) return true;
      int e = SSL_get_error(ssl_, r);
      if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
          wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, kAuthTimeoutMs))
        continue;
      *err = "TLS handshake failed: " + openssl_error();
      return false;
    }
  }

  // Reads exactly n bytes. False on EOF, error or timeout (*timed_out set).
  bool read_exact(char* buf, size_t n, int timeout_ms, bool* timed_out) {
    *timed_out = false;
    size_t got = 0;
    while (got < n) {
      if (!(ssl_ && SSL_pending(ssl_) > 0) && !wait(POLLIN, timeout_ms)) {
        *timed_out = !closed_;
        return false;
      }
      if (ssl_) {
        int r = SSL_read(ssl_, buf + got, static_cast<int>(std::min<size_t>(n - got, 1 << 30)));
        if (r > 0) {
          got += r;
          continue;
        }
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
        return false;
      }
      ssize_t r = ::recv(fd_, buf + got, n - got, 0);
      if (r > 0) {
        got += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return false;
    }
    return true;
  }

  bool write_all(std::string_view data) {
    size_t off = 0;
    while (off < data.size()) {
      if (ssl_) {
        int r = SSL_write(ssl_, data.data() + off,
                          static_cast<int>(std::min<size_t>(data.size() - off, 1 << 30)));
        if (r > 0) {
          off += r;
          continue;
        }
        int e = SSL_get_error(ssl_, r);
        if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) &&
            wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, kStallTimeoutMs))
          continue;
        return false;
      }
      ssize_t r = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (r > 0) {
        off += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      return false;  // includes EAGAIN: the client has not read for SO_SNDTIMEO
    }
    return true;
  }

  void shutdown_tls() {
    if (ssl_) SSL_shutdown(ssl_);
  }

 private:
  // Waits until the socket is ready. False on timeout, hang-up or error.
  bool wait(short events, int timeout_ms) {
    pollfd p{fd_, events, 0};
    for (;;) {
      int r = ::poll(&p, 1, timeout_ms <= 0 ? -1 : timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      if (p.revents & (POLLIN | POLLOUT)) return true;
      closed_ = true;
      return false;
    }
  }

  int fd_;
  SSL* ssl_ = nullptr;
  bool closed_ = false;
};

bool role_allows(const std::string& role, StatementKind kind) {
  switch (kind) {
    case StatementKind::kSelect:
    case StatementKind::kShow:
    case StatementKind::kExplain:
    case StatementKind::kSet:
    case StatementKind::kEmpty:
      return true;
    case StatementKind::kInsert:
      return role == "writer" || role == "admin";
    case StatementKind::kCopy:
      // The engine's COPY reads a file on the server (COPY FROM STDIN is not supported), so
      // like PostgreSQL (pg_read_server_files) it is reserved to admins: a writer could
      // otherwise load any file the server can read into a table and read it back.
      return role == "admin";
    case StatementKind::kCreateTable:
    case StatementKind::kCreateView:
    case StatementKind::kDrop:
      return role == "admin";
  }
  return role == "admin";
}

const char* kind_verb(StatementKind k) {
  switch (k) {
    case StatementKind::kInsert: return "INSERT";
    case StatementKind::kCopy: return "COPY FROM a server file";
    case StatementKind::kCreateTable: return "CREATE TABLE";
    case StatementKind::kCreateView: return "CREATE VIEW";
    case StatementKind::kDrop: return "DROP";
    default: return "this statement";
  }
}

bool returns_rows(StatementKind k) {
  return k == StatementKind::kSelect || k == StatementKind::kShow || k == StatementKind::kExplain;
}

// Binary encoding of a locally computed (text) value.
bool local_binary(int32_t type_oid, const std::string& text, std::string& out) {
  try {
    switch (type_oid) {
      case oid::kBool: out.push_back(text == "t" || text == "true" || text == "on" ? 1 : 0); return true;
      case oid::kInt2: append_be16(out, static_cast<int16_t>(std::stoi(text))); return true;
      case oid::kInt4: case oid::kOid: append_be32(out, static_cast<int32_t>(std::stoll(text))); return true;
      case oid::kInt8: append_be64(out, std::stoll(text)); return true;
      default: out.append(text); return true;
    }
  } catch (...) {
    return false;
  }
}

// Converts a binary parameter of a client-declared type to text for the engine, for the
// types whose binary forms differ from the engine's inferred parameter type.
std::optional<std::string> binary_param_to_text(int32_t type_oid, const std::string& b) {
  auto be = [&](size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    return v;
  };
  switch (type_oid) {
    case oid::kBool: if (b.size() == 1) return std::string(b[0] ? "true" : "false"); break;
    case oid::kInt2: if (b.size() == 2) return std::to_string(static_cast<int16_t>(be(2))); break;
    case oid::kInt4: if (b.size() == 4) return std::to_string(static_cast<int32_t>(be(4))); break;
    case oid::kInt8: if (b.size() == 8) return std::to_string(static_cast<int64_t>(be(8))); break;
    case oid::kFloat4:
      if (b.size() == 4) {
        uint32_t u = static_cast<uint32_t>(be(4));
        float f;
        std::memcpy(&f, &u, 4);
        char buf[64];
        snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
        return std::string(buf);
      }
      break;
    case oid::kFloat8:
      if (b.size() == 8) {
        uint64_t u = be(8);
        double d;
        std::memcpy(&d, &u, 8);
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", d);
        return std::string(buf);
      }
      break;
    case oid::kText: case oid::kVarchar: case oid::kName: return b;
    default: break;
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------

class PgServer::Impl {
 public:
  Impl(PgServerOptions o, sql::Engine* e, PgUserLookup u)
      : opts_(std::move(o)), engine_(e), users_(std::move(u)) {}
  ~Impl() {
    stop();
    if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
  }

  Status start();
  void stop();
  uint16_t port() const { return port_; }

  // Per-connection registry entry.
  struct Conn {
    int fd = -1;
    int32_t pid = 0, key = 0;
    std::shared_ptr<sql::CancelToken> token;  // set once the session exists
    std::thread thread;
    bool done = false;
  };

  // Called by connection threads.
  void cancel(int32_t pid, int32_t key);
  void register_session(uint64_t id, int32_t pid, int32_t key, std::shared_ptr<sql::CancelToken> t);
  void finished(uint64_t id);
  std::optional<ScramSecret> secret_for(const std::string& user, const std::string& password);
  int32_t relation_oid(const std::string& name);

  const PgServerOptions& opts() const { return opts_; }
  sql::Engine* engine() const { return engine_; }
  SSL_CTX* ssl_ctx() const { return ssl_ctx_; }
  const PgUserLookup& users() const { return users_; }
  int active() const { return active_.load(); }

 private:
  void accept_loop();
  void reap();

  PgServerOptions opts_;
  sql::Engine* engine_;
  PgUserLookup users_;
  SSL_CTX* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::mutex stop_mu_;
  bool stopped_ = false;

  std::mutex mu_;  // guards conns_, finished_, next_id_, secrets_, oids_
  std::map<uint64_t, Conn> conns_;
  std::vector<uint64_t> finished_;
  uint64_t next_id_ = 1;
  std::string salt_key_;
  std::map<std::string, std::pair<std::string, ScramSecret>> secrets_;  // user -> (password, secret)
  std::map<std::string, int32_t> oids_;
  int32_t next_oid_ = 16384;
};

namespace {

// One client connection: runs on its own thread from accept to close.
class Connection {
 public:
  Connection(PgServer::Impl* server, uint64_t id, int fd, int32_t pid, int32_t key, bool over_limit)
      : server_(server), id_(id), t_(fd), pid_(pid), key_(key), over_limit_(over_limit) {}

  void run() {
    try {
      if (handshake()) loop();
    } catch (const FatalError& f) {
      send_error(f.fields);
    }
    flush();
    t_.shutdown_tls();
  }

 private:
  // A prepared statement (protocol-level or SQL PREPARE).
  struct Stmt {
    std::string sql;
    std::vector<int32_t> declared_oids;
    std::optional<sql::PreparedStatement> prepared;  // engine statements
    bool local = false;                              // answered by the wire layer
    std::vector<LocalColumn> local_columns;
    bool local_rows = false;
  };
  struct Portal {
    std::shared_ptr<Stmt> stmt;
    std::vector<sql::ParamValue> params;
    std::vector<int16_t> formats;  // per column
    std::optional<sql::QueryResult> result;
    std::optional<LocalResult> local;
    size_t local_row = 0;
    const sql::DataChunk* chunk = nullptr;
    size_t chunk_row = 0;
    bool started = false, done = false;
    std::string tag;
  };

  // --- I/O -----------------------------------------------------------------------------
  void flush() {
    if (!w_.buffer().empty() && !broken_) {
      if (!t_.write_all(w_.buffer())) broken_ = true;
    }
    w_.clear();
  }
  void maybe_flush() {
    if (w_.size() >= kFlushBytes) flush();
  }
  void send_error(const ErrorFields& f) {
    write_error(w_, f);
    flush();
  }

  // Reads one startup-phase packet (length-prefixed, no type byte).
  bool read_startup(StartupPacket* p) {
    char hdr[4];
    bool to;
    if (!t_.read_exact(hdr, 4, kAuthTimeoutMs, &to)) return false;
    int32_t len = load_be32(hdr);
    Status st = check_length(len, kMaxStartupBytes);
    if (!st.ok() || len < 8) throw FatalError{fields_of("08P01", "invalid length of startup packet", "FATAL")};
    std::string body(len - 4, '\0');
    if (!t_.read_exact(body.data(), body.size(), kAuthTimeoutMs, &to)) return false;
    st = parse_startup_packet(body, p);
    if (!st.ok()) {
      const char* code = st.code() == Errc::kUnsupported ? "0A000" : "08P01";
      throw FatalError{fields_of(code, st.message(), "FATAL")};
    }
    return true;
  }

  // Reads one typed message. False on EOF (or stop). Throws FatalError on protocol errors.
  bool read_message(RawMessage* m, int timeout_ms) {
    char hdr[5];
    bool timed_out;
    if (!t_.read_exact(hdr, 5, timeout_ms, &timed_out)) {
      if (timed_out)
        throw FatalError{fields_of("57P05", "terminating connection due to idle-session timeout", "FATAL")};
      return false;
    }
    m->type = hdr[0];
    int32_t len = load_be32(hdr + 1);
    Status st = check_length(len, kMaxMessageBytes);
    if (!st.ok()) throw FatalError{fields_of("08P01", st.message(), "FATAL")};
    if (!is_known_frontend_type(m->type))
      throw FatalError{fields_of("08P01", "invalid frontend message type " +
                                              std::to_string(static_cast<uint8_t>(m->type)), "FATAL")};
    // A client stalled in the middle of a message is cut off even without an idle timeout.
    int body_timeout = timeout_ms > 0 ? timeout_ms : kStallTimeoutMs;
    // Grow the buffer as bytes arrive, so a large announced length costs nothing up front.
    const size_t total = static_cast<size_t>(len) - 4;
    m->body.clear();
    while (m->body.size() < total) {
      size_t at = m->body.size();
      size_t n = std::min<size_t>(total - at, size_t{1} << 20);
      m->body.resize(at + n);
      if (!t_.read_exact(m->body.data() + at, n, body_timeout, &timed_out)) {
        if (timed_out)
          throw FatalError{fields_of("08P01", "timeout while reading a message", "FATAL")};
        return false;
      }
    }
    return true;
  }

  // --- Startup and authentication -------------------------------------------------------
  bool handshake() {
    StartupPacket p;
    for (;;) {
      if (!read_startup(&p)) return false;
      if (p.kind == StartupPacket::kSsl) {
        if (server_->ssl_ctx() && !t_.tls()) {
          if (!t_.write_all("S")) return false;
          std::string err;
          if (!t_.start_tls(server_->ssl_ctx(), &err)) return false;
        } else if (!t_.write_all("N")) {
          return false;
        }
        continue;
      }
      if (p.kind == StartupPacket::kGssEnc) {
        if (!t_.write_all("N")) return false;
        continue;
      }
      if (p.kind == StartupPacket::kCancel) {
        server_->cancel(p.cancel_pid, p.cancel_key);
        return false;
      }
      break;
    }
    if (over_limit_)
      throw FatalError{fields_of("53300", "sorry, too many clients already", "FATAL")};
    if (server_->opts().require_tls && !t_.tls())
      throw FatalError{fields_of("28000", "SSL is required: connect with sslmode=require", "FATAL")};
    settings_.user = *p.param("user");
    const std::string* db = p.param("database");
    settings_.database = db && !db->empty() ? *db : settings_.user;
    if (const std::string* app = p.param("application_name")) settings_.values["application_name"] = *app;
    if (const std::string* opts = p.param("options")) apply_startup_options(*opts);
    for (const auto& [k, v] : p.params) {
      std::string lk;
      for (char c : k) lk.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      if (lk == "user" || lk == "database" || lk == "options" || lk == "replication") continue;
      apply_setting(lk, v);
    }
    authenticate();
    // Session.
    sql::SessionOptions so;
    so.user = settings_.user;
    if (server_->opts().statement_timeout_ms > 0) so.timeout_ms = server_->opts().statement_timeout_ms;
    if (server_->opts().memory_limit_bytes > 0) so.memory_limit_bytes = server_->opts().memory_limit_bytes;
    session_ = server_->engine()->session(so);
    server_->register_session(id_, pid_, key_, session_->cancel_token());
    for (const auto& [name, value] : engine_settings_) {
      try {
        (void)session_->execute("SET " + name + " = " + quote_literal(value));
      } catch (const Error& e) {
        throw FatalError{fields_of(exec::sqlstate_of(e), e.what(), "FATAL")};
      }
    }
    write_auth(w_, 0);
    for (const char* name : {"server_version", "server_encoding", "client_encoding", "datestyle",
                             "timezone", "integer_datetimes", "standard_conforming_strings",
                             "intervalstyle", "application_name"}) {
      write_parameter_status(w_, PgSettings::reported_name(name), settings_.values[name]);
    }
    write_parameter_status(w_, "is_superuser", settings_.role == "admin" ? "on" : "off");
    write_parameter_status(w_, "session_authorization", settings_.user);
    write_backend_key(w_, pid_, key_);
    write_ready(w_, 'I');
    flush();
    return !broken_;
  }

  // "-c name=value" pairs from the startup "options" parameter (PGOPTIONS).
  void apply_startup_options(const std::string& opts) {
    size_t i = 0;
    while (i < opts.size()) {
      while (i < opts.size() && opts[i] == ' ') ++i;
      size_t e = opts.find(' ', i);
      std::string tok = opts.substr(i, e == std::string::npos ? std::string::npos : e - i);
      i = e == std::string::npos ? opts.size() : e;
      if (tok == "-c") continue;
      if (tok.rfind("-c", 0) == 0) tok = tok.substr(2);
      if (tok.rfind("--", 0) == 0) tok = tok.substr(2);
      size_t eq = tok.find('=');
      if (eq == std::string::npos) continue;
      std::string k = tok.substr(0, eq);
      for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      apply_setting(k, tok.substr(eq + 1));
    }
  }

  static std::string quote_literal(const std::string& v) {
    std::string q = "'";
    for (char c : v) {
      if (c == '\'') q.push_back('\'');
      q.push_back(c);
    }
    return q + "'";
  }

  void apply_setting(const std::string& name, const std::string& value) {
    if (name == "statement_timeout" || name == "memory_limit") {  // the engine's, once the session exists
      engine_settings_.emplace_back(name, value);
      return;
    }
    if (!settings_.values.count(name)) return;  // unknown startup settings are ignored
    std::string q = "SET " + name + " = " + quote_literal(value);
    try {
      CatalogAccess none;
      (void)answer_locally(q, settings_, none);
    } catch (const exec::SqlError& e) {
      throw FatalError{fields_of(e.sqlstate(), e.what(), "FATAL")};
    }
  }

  void authenticate() {
    std::optional<PgUser> user;
    try {
      user = server_->users()(settings_.user);
    } catch (const std::exception& e) {
      throw FatalError{fields_of("XX000", std::string("user lookup failed: ") + e.what(), "FATAL")};
    }
    std::optional<ScramSecret> secret;
    if (user) secret = server_->secret_for(user->name, user->password);
    write_auth(w_, 10, std::string_view("SCRAM-SHA-256\0\0", 15));
    flush();
    ScramServer scram(secret, scram_random_nonce());
    RawMessage m;
    auto fail = [&]() -> FatalError {
      return FatalError{fields_of("28P01", "password authentication failed for user \"" +
                                               settings_.user + "\"", "FATAL")};
    };
    if (!read_message(&m, kAuthTimeoutMs)) throw FatalError{};
    if (m.type != 'p') throw FatalError{fields_of("08P01", "expected SASL response", "FATAL")};
    SaslInitialMsg init;
    if (!parse_sasl_initial(m.body, &init).ok())
      throw FatalError{fields_of("08P01", "malformed SASLInitialResponse", "FATAL")};
    if (init.mechanism != "SCRAM-SHA-256")
      throw FatalError{fields_of("28000", "client selected an invalid SASL authentication mechanism", "FATAL")};
    if (!init.data) throw fail();
    auto first = scram.client_first(*init.data);
    if (!first.ok()) throw FatalError{fields_of("08P01", first.error().message(), "FATAL")};
    write_auth(w_, 11, *first);
    flush();
    if (!read_message(&m, kAuthTimeoutMs)) throw FatalError{};
    if (m.type != 'p') throw FatalError{fields_of("08P01", "expected SASL response", "FATAL")};
    auto fin = scram.client_final(m.body);
    if (!fin.ok()) {
      if (fin.error().code() == Errc::kUnauthenticated) throw fail();
      throw FatalError{fields_of("08P01", fin.error().message(), "FATAL")};
    }
    write_auth(w_, 12, *fin);
    settings_.role = user->role;
  }

  // --- Main loop --------------------------------------------------------------------------
  void loop() {
    RawMessage m;
    while (!broken_) {
      if (!read_message(&m, server_->opts().idle_timeout_ms)) return;
      if (skip_until_sync_ && m.type != 'S' && m.type != 'X') continue;
      switch (m.type) {
        case 'Q': simple_query(m.body); break;
        case 'P': extended([&] { on_parse(m.body); }); break;
        case 'B': extended([&] { on_bind(m.body); }); break;
        case 'D': extended([&] { on_describe(m.body); }); break;
        case 'E': extended([&] { on_execute(m.body); }); break;
        case 'C': extended([&] { on_close(m.body); }); break;
        case 'H': flush(); break;
        case 'S':
          skip_until_sync_ = false;
          // Portals live until the end of their transaction: outside a BEGIN block, Sync ends it.
          if (txn_ == 'I') portals_.clear();
          else portals_.erase("");
          write_ready(w_, txn_);
          flush();
          break;
        case 'X': return;
        case 'd': case 'c': case 'f': break;  // COPY messages outside COPY: ignored, as PostgreSQL does
        case 'F':
          extended([&] { throw exec::SqlError(exec::sqlstate::kFeatureNotSupported, "function call protocol is not supported"); });
          break;
        case 'p':
          throw FatalError{fields_of("08P01", "unexpected SASL message after authentication", "FATAL")};
        default:
          throw FatalError{fields_of("08P01", "invalid frontend message type", "FATAL")};
      }
      maybe_flush();
    }
  }

  // Runs one extended-protocol step; on error sends ErrorResponse and skips until Sync.
  template <class F>
  void extended(F&& f) {
    try {
      f();
    } catch (const FatalError&) {
      throw;
    } catch (...) {
      report_current_exception(query_for_positions_, 0);
      skip_until_sync_ = true;
      if (txn_ == 'T') txn_ = 'E';
    }
  }

  // Sends an ErrorResponse for the exception being handled. `text`/`offset` map the engine's
  // 0-based statement position to the 1-based position in the client's query string.
  void report_current_exception(std::string_view text, size_t offset) {
    try {
      throw;
    } catch (const exec::SqlError& e) {
      ErrorFields f = fields_of(e.sqlstate(), e.what());
      if (e.position() >= 0) f.position = char_position(text, offset + e.position());
      write_error(w_, f);
    } catch (const Error& e) {
      ErrorFields f = fields_of(exec::sqlstate_of(e), e.what());
      if (e.position() >= 0) f.position = char_position(text, offset + e.position());
      write_error(w_, f);
    } catch (const std::bad_alloc&) {
      write_error(w_, fields_of("53200", "out of memory"));
    } catch (const std::exception& e) {
      write_error(w_, fields_of("XX000", std::string("internal error: ") + e.what()));
    }
  }

  CatalogAccess catalog_access() {
    CatalogAccess c;
    c.relations = [this] { return list_relations(); };
    return c;
  }

  // "CREATE VIEW v AS SELECT ..." -> "SELECT ..." (pg_get_viewdef shows the query only).
  static std::string view_body(const std::string& sql) {
    std::string n = normalize_sql(sql);
    if (!starts_with_words(n, "create")) return sql;
    for (size_t i = 0; i + 4 <= sql.size(); ++i) {
      if ((sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t') &&
          (sql[i + 1] == 'a' || sql[i + 1] == 'A') && (sql[i + 2] == 's' || sql[i + 2] == 'S') &&
          (sql[i + 3] == ' ' || sql[i + 3] == '\n' || sql[i + 3] == '\t' || sql[i + 3] == '('))
        return sql.substr(i + 4);
    }
    return sql;
  }

  // Relations of the engine's catalog, for psql's \d and \dt.
  std::vector<RelationInfo> list_relations() {
    std::vector<RelationInfo> out;
    for (const auto& e : server_->engine()->catalog().list()) {
      RelationInfo info;
      info.name = e->name;
      switch (e->kind) {
        case catalog::TableKind::kTable: info.kind = 'r'; info.label = "table"; break;
        case catalog::TableKind::kStream: info.kind = 'r'; info.label = "stream"; break;
        case catalog::TableKind::kView: info.kind = 'v'; info.label = "view"; break;
        case catalog::TableKind::kMaterializedView: info.kind = 'm'; info.label = "materialized view"; break;
        case catalog::TableKind::kSink: info.kind = 'r'; info.label = "sink"; break;
      }
      info.definition = view_body(e->sql);
      for (const auto& col : e->columns) info.columns.push_back({col.name, col.type, col.not_null});
      info.oid = server_->relation_oid(info.name);
      out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  void check_txn_state(const LocalResult* local) {
    if (txn_ != 'E') return;
    if (local && (local->txn == LocalResult::kCommit || local->txn == LocalResult::kRollback)) return;
    throw exec::SqlError("25P02", "current transaction is aborted, commands ignored until end of transaction block");
  }

  void apply_txn(LocalResult& r) {
    switch (r.txn) {
      case LocalResult::kBegin:
        if (txn_ != 'I') write_notice(w_, "there is already a transaction in progress", "WARNING", "25001");
        else txn_ = 'T';
        break;
      case LocalResult::kCommit:
        if (txn_ == 'E') r.tag = "ROLLBACK";
        if (txn_ == 'I') write_notice(w_, "there is no transaction in progress", "WARNING", "25P01");
        txn_ = 'I';
        break;
      case LocalResult::kRollback:
        if (txn_ == 'I') write_notice(w_, "there is no transaction in progress", "WARNING", "25P01");
        txn_ = 'I';
        break;
      case LocalResult::kNoTxn:
        break;
    }
    for (const auto& [k, v] : r.report) write_parameter_status(w_, k, v);
  }

  void authorize(StatementKind kind) {
    if (!role_allows(settings_.role, kind))
      throw exec::SqlError("42501", std::string("permission denied: role \"") + settings_.role +
                                        "\" of user \"" + settings_.user + "\" may not run " +
                                        kind_verb(kind),
                           -1, Errc::kPermissionDenied);
  }

  // --- Simple query -------------------------------------------------------------------------
  void simple_query(const std::string& body) {
    QueryMsg q;
    if (!parse_query(body, &q).ok()) throw FatalError{fields_of("08P01", "malformed Query message", "FATAL")};
    portals_.erase("");
    statements_.erase("");
    auto stmts = split_statements(q.query);
    if (stmts.empty()) {
      write_simple(w_, 'I');
    }
    for (const auto& s : stmts) {
      size_t offset = s.offset;
      try {
        run_simple_statement(s.text, offset);
      } catch (const FatalError&) {
        throw;
      } catch (...) {
        report_current_exception(error_text_.empty() ? std::string_view(q.query) : error_text_, offset_for_error_);
        if (txn_ == 'T') txn_ = 'E';
        break;
      }
      maybe_flush();
    }
    write_ready(w_, txn_);
    flush();
  }

  void run_simple_statement(std::string_view text, size_t offset) {
    offset_for_error_ = offset;
    error_text_.clear();
    session_->cancel_token()->reset();
    CatalogAccess cat = catalog_access();
    std::optional<LocalResult> local;
    if (txn_ != 'E') local = answer_locally(text, settings_, cat);
    else {
      PgSettings scratch = settings_;
      local = answer_locally(text, scratch, cat);
    }
    check_txn_state(local ? &*local : nullptr);
    if (local) {
      apply_txn(*local);
      send_local(*local, {}, 0);
      return;
    }
    std::string norm = normalize_sql(text);
    if (starts_with_words(norm, "prepare")) {
      auto p = parse_prepare_sql(text);
      if (!p) throw exec::SqlError(exec::sqlstate::kSyntaxError, "syntax error in PREPARE");
      if (statements_.count(p->name))
        throw exec::SqlError("42P05", "prepared statement \"" + p->name + "\" already exists");
      if (statements_.size() >= kMaxStatements)
        throw exec::SqlError("54000", "too many prepared statements (limit " + std::to_string(kMaxStatements) + ")");
      offset_for_error_ = offset + p->body_offset;
      statements_[p->name] = make_stmt(p->body, {});
      write_command_complete(w_, "PREPARE");
      return;
    }
    if (starts_with_words(norm, "execute")) {
      std::string err;
      auto x = parse_execute_sql(text, &err);
      if (!err.empty()) throw exec::SqlError(exec::sqlstate::kSyntaxError, err);
      auto it = statements_.find(x->name);
      if (it == statements_.end())
        throw exec::SqlError("26000", "prepared statement \"" + x->name + "\" does not exist");
      Portal portal;
      portal.stmt = it->second;
      for (auto& a : x->args) portal.params.push_back(a ? sql::ParamValue::text(*a) : sql::ParamValue::null());
      size_t n = portal.stmt->prepared ? portal.stmt->prepared->parameter_types().size() : 0;
      if (portal.params.size() != n)
        throw exec::SqlError("08P01", "wrong number of parameters for prepared statement \"" + x->name +
                                          "\": expected " + std::to_string(n) + ", got " +
                                          std::to_string(portal.params.size()));
      error_text_ = portal.stmt->sql;
      offset_for_error_ = 0;
      execute_portal(portal, 0, /*describe=*/true);
      return;
    }
    if (auto d = parse_deallocate_sql(text)) {
      if (d->empty()) statements_.clear();
      else if (!statements_.erase(*d))
        throw exec::SqlError("26000", "prepared statement \"" + *d + "\" does not exist");
      write_command_complete(w_, "DEALLOCATE");
      return;
    }
    sql::PreparedStatement prepared = session_->prepare(text);
    if (prepared.kind() == StatementKind::kEmpty) {
      write_simple(w_, 'I');
      return;
    }
    if (!prepared.parameter_types().empty())
      throw exec::SqlError(exec::sqlstate::kUndefinedParameter, "there is no parameter $1");
    authorize(prepared.kind());
    Portal portal;
    portal.stmt = std::make_shared<Stmt>();
    portal.stmt->sql = std::string(text);
    portal.stmt->prepared = std::move(prepared);
    execute_portal(portal, 0, /*describe=*/true);
  }

  std::shared_ptr<Stmt> make_stmt(const std::string& sql, std::vector<int32_t> declared) {
    auto st = std::make_shared<Stmt>();
    st->sql = sql;
    st->declared_oids = std::move(declared);
    std::string norm = normalize_sql(sql);
    if (starts_with_words(norm, "prepare") || starts_with_words(norm, "execute") ||
        starts_with_words(norm, "deallocate"))
      throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                           "PREPARE/EXECUTE/DEALLOCATE are only supported in simple queries");
    if (split_statements(sql).size() > 1)
      throw exec::SqlError(exec::sqlstate::kSyntaxError, "cannot insert multiple commands into a prepared statement");
    PgSettings scratch = settings_;
    CatalogAccess cat = catalog_access();
    if (auto local = answer_locally(sql, scratch, cat)) {
      st->local = true;
      st->local_rows = local->has_rows;
      st->local_columns = local->columns;
      return st;
    }
    st->prepared = session_->prepare(sql);
    return st;
  }

  // Sends a locally computed result (RowDescription if `describe`, rows, CommandComplete).
  void send_local(const LocalResult& r, const std::vector<int16_t>& formats, int32_t /*unused*/, bool describe = true) {
    if (r.has_rows) {
      if (describe) write_row_description(w_, local_fields(r.columns, formats));
      for (const auto& row : r.rows) write_local_row(row, r.columns, formats);
    }
    std::string tag = r.tag.empty() ? "SELECT " + std::to_string(r.rows.size()) : r.tag;
    write_command_complete(w_, tag);
  }

  std::vector<FieldDesc> local_fields(const std::vector<LocalColumn>& cols, const std::vector<int16_t>& formats) {
    std::vector<FieldDesc> f;
    for (size_t i = 0; i < cols.size(); ++i) {
      FieldDesc d;
      d.name = cols[i].name;
      d.type_oid = cols[i].type_oid;
      d.typlen = cols[i].type_oid == oid::kBool ? 1 : cols[i].type_oid == oid::kInt4 || cols[i].type_oid == oid::kOid ? 4
               : cols[i].type_oid == oid::kName ? 64 : -1;
      d.format = i < formats.size() ? formats[i] : 0;
      f.push_back(d);
    }
    return f;
  }

  void write_local_row(const std::vector<std::optional<std::string>>& row,
                       const std::vector<LocalColumn>& cols, const std::vector<int16_t>& formats) {
    w_.begin('D');
    w_.int16(static_cast<int16_t>(row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      if (!row[i]) {
        w_.int32(-1);
        continue;
      }
      size_t at = w_.reserve32();
      size_t start = w_.size();
      if (i < formats.size() && formats[i] == 1) {
        if (!local_binary(cols[i].type_oid, *row[i], w_.buffer()))
          throw exec::SqlError(exec::sqlstate::kInvalidText, "cannot encode value in binary format");
      } else {
        w_.bytes(*row[i]);
      }
      w_.patch32(at, static_cast<int32_t>(w_.size() - start));
    }
    w_.end();
  }

  std::vector<FieldDesc> engine_fields(const std::vector<sql::ResultColumn>& cols,
                                       const std::vector<int16_t>& formats) {
    std::vector<FieldDesc> f;
    for (size_t i = 0; i < cols.size(); ++i) {
      FieldDesc d;
      d.name = cols[i].name;
      d.type_oid = cols[i].type.pg_oid();
      d.typlen = cols[i].type.pg_typlen();
      d.typmod = cols[i].type.pg_typmod();
      d.format = i < formats.size() ? formats[i] : 0;
      f.push_back(d);
    }
    return f;
  }

  // Starts (if needed) and runs a portal up to max_rows rows (0 = all). Sends
  // RowDescription first when `describe` (simple query / SQL EXECUTE).
  void execute_portal(Portal& p, int32_t max_rows, bool describe) {
    const Stmt& st = *p.stmt;
    if (st.local) {
      if (!p.started) {
        CatalogAccess cat = catalog_access();
        p.local = answer_locally(st.sql, settings_, cat);
        p.started = true;
        if (!p.local) throw exec::SqlError("XX000", "statement changed meaning between Parse and Execute");
        check_txn_state(&*p.local);
        apply_txn(*p.local);
      } else {
        check_txn_state(&*p.local);
      }
      LocalResult& r = *p.local;
      if (r.has_rows && describe) write_row_description(w_, local_fields(r.columns, p.formats));
      int32_t sent = 0;
      while (p.local_row < r.rows.size()) {
        if (max_rows > 0 && sent == max_rows) {
          write_simple(w_, 's');
          return;
        }
        write_local_row(r.rows[p.local_row++], r.columns, p.formats);
        ++sent;
        maybe_flush();
      }
      p.done = true;
      write_command_complete(w_, r.tag.empty() ? "SELECT " + std::to_string(r.rows.size()) : r.tag);
      return;
    }
    check_txn_state(nullptr);
    if (!p.started) {
      authorize(st.prepared->kind());
      session_->cancel_token()->reset();
      p.result.emplace(session_->execute(*st.prepared, p.params));
      p.started = true;
    }
    sql::QueryResult& res = *p.result;
    bool rows = returns_rows(res.kind()) || !res.columns().empty();
    if (rows && describe) write_row_description(w_, engine_fields(res.columns(), p.formats));
    int32_t sent = 0;
    for (;;) {
      if (!p.chunk || p.chunk_row >= p.chunk->size()) {
        p.chunk = res.next();
        p.chunk_row = 0;
        if (!p.chunk) break;
        if (!rows) continue;
      }
      if (!rows) continue;
      while (p.chunk_row < p.chunk->size()) {
        if (max_rows > 0 && sent == max_rows) {
          write_simple(w_, 's');
          return;
        }
        write_engine_row(*p.chunk, p.chunk_row++, p.formats);
        ++sent;
        maybe_flush();
      }
    }
    p.done = true;
    write_command_complete(w_, res.command_tag());
  }

  void write_engine_row(const sql::DataChunk& c, size_t row, const std::vector<int16_t>& formats) {
    w_.begin('D');
    w_.int16(static_cast<int16_t>(c.column_count()));
    for (size_t i = 0; i < c.column_count(); ++i) {
      const sql::Vector& v = c.column(i);
      if (v.is_null(row)) {
        w_.int32(-1);
        continue;
      }
      size_t at = w_.reserve32();
      size_t start = w_.size();
      if (i < formats.size() && formats[i] == 1) {
        if (!sql::append_pg_binary(v, row, w_.buffer()))
          throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                               "binary format is not supported for type " + v.type().to_string());
      } else {
        sql::append_pg_text(v, row, w_.buffer());
      }
      w_.patch32(at, static_cast<int32_t>(w_.size() - start));
    }
    w_.end();
  }

  // --- Extended query -------------------------------------------------------------------------
  void on_parse(const std::string& body) {
    ParseMsg m;
    if (!parse_parse(body, &m).ok()) throw FatalError{fields_of("08P01", "malformed Parse message", "FATAL")};
    query_for_positions_ = m.query;
    if (!m.name.empty() && statements_.count(m.name))
      throw exec::SqlError("42P05", "prepared statement \"" + m.name + "\" already exists");
    if (statements_.size() >= kMaxStatements && !statements_.count(m.name))
      throw exec::SqlError("54000", "too many prepared statements (limit " + std::to_string(kMaxStatements) + ")");
    auto st = make_stmt(m.query, m.param_oids);
    statements_[m.name] = std::move(st);
    write_simple(w_, '1');
  }

  void on_bind(const std::string& body) {
    BindMsg m;
    if (!parse_bind(body, &m).ok()) throw FatalError{fields_of("08P01", "malformed Bind message", "FATAL")};
    auto it = statements_.find(m.statement);
    if (it == statements_.end())
      throw exec::SqlError("26000", "prepared statement \"" + m.statement + "\" does not exist");
    const auto& st = it->second;
    query_for_positions_ = st->sql;
    size_t nparams = st->prepared ? st->prepared->parameter_types().size() : 0;
    if (m.params.size() != nparams)
      throw exec::SqlError("08P01", "bind message supplies " + std::to_string(m.params.size()) +
                                        " parameters, but prepared statement \"" + m.statement +
                                        "\" requires " + std::to_string(nparams));
    if (!m.portal.empty() && portals_.count(m.portal))
      throw exec::SqlError("42P03", "portal \"" + m.portal + "\" already exists");
    if (portals_.size() >= kMaxPortals && !portals_.count(m.portal))
      throw exec::SqlError("54000", "too many open portals (limit " + std::to_string(kMaxPortals) + ")");
    Portal p;
    p.stmt = st;
    for (size_t i = 0; i < m.params.size(); ++i) {
      int16_t fmt = m.param_formats.empty() ? 0 : m.param_formats.size() == 1 ? m.param_formats[0] : m.param_formats[i];
      if (!m.params[i]) {
        p.params.push_back(sql::ParamValue::null());
        continue;
      }
      if (fmt == 0) {
        p.params.push_back(sql::ParamValue::text(*m.params[i]));
        continue;
      }
      int32_t declared = i < st->declared_oids.size() ? st->declared_oids[i] : 0;
      int32_t engine_oid = st->prepared->parameter_types()[i].pg_oid();
      if (declared != 0 && declared != engine_oid) {
        auto text = binary_param_to_text(declared, *m.params[i]);
        if (!text)
          throw exec::SqlError(exec::sqlstate::kFeatureNotSupported,
                               "binary parameter of type oid " + std::to_string(declared) + " is not supported for $" +
                                   std::to_string(i + 1));
        p.params.push_back(sql::ParamValue::text(*text));
      } else {
        p.params.push_back(sql::ParamValue{*m.params[i], true});
      }
    }
    size_t ncols = st->local ? st->local_columns.size() : st->prepared->columns().size();
    if (m.result_formats.size() == 1) p.formats.assign(ncols, m.result_formats[0]);
    else if (m.result_formats.size() > 1) {
      if (m.result_formats.size() != ncols)
        throw exec::SqlError("08P01", "bind message has " + std::to_string(m.result_formats.size()) +
                                          " result formats but query has " + std::to_string(ncols) + " columns");
      p.formats = m.result_formats;
    }
    portals_[m.portal] = std::move(p);
    write_simple(w_, '2');
  }

  void on_describe(const std::string& body) {
    DescribeMsg m;
    if (!parse_describe(body, &m).ok()) throw FatalError{fields_of("08P01", "malformed Describe message", "FATAL")};
    if (m.kind == 'S') {
      auto it = statements_.find(m.name);
      if (it == statements_.end())
        throw exec::SqlError("26000", "prepared statement \"" + m.name + "\" does not exist");
      const Stmt& st = *it->second;
      std::vector<int32_t> oids;
      if (st.prepared) {
        const auto& types = st.prepared->parameter_types();
        for (size_t i = 0; i < types.size(); ++i)
          oids.push_back(i < st.declared_oids.size() && st.declared_oids[i] != 0 ? st.declared_oids[i] : types[i].pg_oid());
      }
      write_parameter_description(w_, oids);
      describe_rows(st, {});
      return;
    }
    auto it = portals_.find(m.name);
    if (it == portals_.end()) throw exec::SqlError("34000", "portal \"" + m.name + "\" does not exist");
    describe_rows(*it->second.stmt, it->second.formats);
  }

  void describe_rows(const Stmt& st, const std::vector<int16_t>& formats) {
    if (st.local) {
      if (st.local_rows) write_row_description(w_, local_fields(st.local_columns, formats));
      else write_simple(w_, 'n');
      return;
    }
    if (returns_rows(st.prepared->kind()) || !st.prepared->columns().empty())
      write_row_description(w_, engine_fields(st.prepared->columns(), formats));
    else
      write_simple(w_, 'n');
  }

  void on_execute(const std::string& body) {
    ExecuteMsg m;
    if (!parse_execute(body, &m).ok()) throw FatalError{fields_of("08P01", "malformed Execute message", "FATAL")};
    auto it = portals_.find(m.portal);
    if (it == portals_.end()) throw exec::SqlError("34000", "portal \"" + m.portal + "\" does not exist");
    Portal& p = it->second;
    query_for_positions_ = p.stmt->sql;
    if (p.done) {
      // PostgreSQL answers an exhausted portal with an empty completion.
      write_command_complete(w_, p.stmt->local ? (p.local && !p.local->tag.empty() ? p.local->tag : "SELECT 0")
                                               : p.result->command_tag());
      return;
    }
    if (!p.stmt->local && p.stmt->prepared->kind() == StatementKind::kEmpty) {
      write_simple(w_, 'I');
      p.done = true;
      return;
    }
    execute_portal(p, m.max_rows, /*describe=*/false);
  }

  void on_close(const std::string& body) {
    CloseMsg m;
    if (!parse_close(body, &m).ok()) throw FatalError{fields_of("08P01", "malformed Close message", "FATAL")};
    if (m.kind == 'S') statements_.erase(m.name);
    else portals_.erase(m.name);
    write_simple(w_, '3');
  }

  PgServer::Impl* server_;
  uint64_t id_;
  Transport t_;
  int32_t pid_, key_;
  bool over_limit_;
  MessageWriter w_;
  bool broken_ = false;
  bool skip_until_sync_ = false;
  char txn_ = 'I';
  PgSettings settings_;
  std::unique_ptr<sql::Session> session_;
  std::map<std::string, std::shared_ptr<Stmt>> statements_;
  std::map<std::string, Portal> portals_;
  std::string query_for_positions_;
  std::string error_text_;  // text positions refer to, when not the whole query
  std::vector<std::pair<std::string, std::string>> engine_settings_;  // from the startup packet
  size_t offset_for_error_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------

Status PgServer::Impl::start() {
  unsigned char k[32];
  if (RAND_bytes(k, sizeof k) != 1) return internal_error("RAND_bytes failed");
  salt_key_.assign(reinterpret_cast<char*>(k), sizeof k);
  if (opts_.require_tls && (opts_.tls_cert_file.empty() || opts_.tls_key_file.empty()))
    return invalid_argument("require_tls needs tls_cert_file and tls_key_file");
  if (opts_.tls_cert_file.empty() != opts_.tls_key_file.empty())
    return invalid_argument("tls_cert_file and tls_key_file must be set together");
  if (!opts_.tls_cert_file.empty()) {
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ssl_ctx_) return internal_error("SSL_CTX_new: " + openssl_error());
    SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx_, opts_.tls_cert_file.c_str()) != 1)
      return invalid_argument("cannot load TLS certificate " + opts_.tls_cert_file + ": " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(ssl_ctx_, opts_.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return invalid_argument("cannot load TLS key " + opts_.tls_key_file + ": " + openssl_error());
    if (SSL_CTX_check_private_key(ssl_ctx_) != 1)
      return invalid_argument("TLS key does not match the certificate: " + openssl_error());
  }
  if (opts_.max_connections <= 0) return invalid_argument("max_connections must be positive");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(opts_.port);
  int rc = getaddrinfo(opts_.host.empty() ? nullptr : opts_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return invalid_argument("cannot resolve " + opts_.host + ": " + gai_strerror(rc));
  Status last = io_error("no address for " + opts_.host);
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = io_error_errno("socket");
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      last = io_error_errno("bind/listen " + opts_.host + ":" + port);
      ::close(fd);
      continue;
    }
    listen_fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (listen_fd_ < 0) return last;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &sl);
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) return io_error_errno("pipe");
  acceptor_ = std::thread([this] { accept_loop(); });
  return Status::OK();
}

void PgServer::Impl::accept_loop() {
  // Connection threads inherit this mask: SIGPIPE from a write to a closed TLS socket is
  // blocked (the write reports EPIPE instead).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  uint32_t pid_base;
  RAND_bytes(reinterpret_cast<unsigned char*>(&pid_base), sizeof pid_base);
  int32_t next_pid = static_cast<int32_t>(1000 + pid_base % 1000000);
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || stopping_ || (p[1].revents & POLLIN)) break;
    reap();
    if (!(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Bounds every blocking send/recv (a client that stops reading, a stalled TLS record);
    // reads wait in poll() first, so this does not limit idle time.
    timeval tv{kStallTimeoutMs / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int n = active_.load();
    if (n >= opts_.max_connections + kExtraHandshakeSlots) {
      ::close(fd);
      continue;
    }
    bool over = n >= opts_.max_connections;
    int32_t key;
    RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key);
    int32_t pid = next_pid++;
    std::lock_guard<std::mutex> lk(mu_);
    uint64_t id = next_id_++;
    Conn& c = conns_[id];
    c.fd = fd;
    c.pid = pid;
    c.key = key;
    active_.fetch_add(1);
    c.thread = std::thread([this, id, fd, pid, key, over] {
      {
        Connection conn(this, id, fd, pid, key, over);
        conn.run();
      }
      finished(id);
    });
  }
}

void PgServer::Impl::finished(uint64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = conns_.find(id);
  if (it != conns_.end()) {
    ::close(it->second.fd);
    it->second.fd = -1;
    it->second.done = true;
    it->second.token.reset();
  }
  finished_.push_back(id);
  active_.fetch_sub(1);
  // Joined by the acceptor at its next accept, or by stop().
}

void PgServer::Impl::reap() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (uint64_t id : finished_) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      done.push_back(std::move(it->second.thread));
      conns_.erase(it);
    }
    finished_.clear();
  }
  for (auto& t : done)
    if (t.joinable()) t.join();
}

void PgServer::Impl::register_session(uint64_t id, int32_t pid, int32_t key,
                                      std::shared_ptr<sql::CancelToken> t) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = conns_.find(id);
  if (it != conns_.end()) it->second.token = std::move(t);
}

void PgServer::Impl::cancel(int32_t pid, int32_t key) {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& [id, c] : conns_) {
    if (c.pid == pid && !c.done) {
      // Wrong keys are ignored silently, as PostgreSQL does.
      if (c.key == key && c.token) c.token->cancel();
      return;
    }
  }
}

std::optional<ScramSecret> PgServer::Impl::secret_for(const std::string& user, const std::string& password) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = secrets_.find(user);
    if (it != secrets_.end() && it->second.first == password) return it->second.second;
  }
  // Salt: stable per user for this server run, unpredictable across runs.
  Sha256Digest d = hmac_sha256(salt_key_, user);
  ScramSecret s = scram_make_secret(password, std::string_view(reinterpret_cast<char*>(d.data()), 16),
                                    kScramIterations);
  std::lock_guard<std::mutex> lk(mu_);
  secrets_[user] = {password, s};
  return s;
}

int32_t PgServer::Impl::relation_oid(const std::string& name) {
  std::lock_guard<std::mutex> lk(mu_);
  auto [it, inserted] = oids_.emplace(name, next_oid_);
  if (inserted) ++next_oid_;
  return it->second;
}

void PgServer::Impl::stop() {
  std::lock_guard<std::mutex> stop_lk(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (wake_[1] >= 0) {
    char c = 1;
    (void)!::write(wake_[1], &c, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [id, c] : conns_) {
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
      if (c.token) c.token->cancel();
      threads.push_back(std::move(c.thread));
    }
  }
  for (auto& t : threads)
    if (t.joinable()) t.join();
  {
    std::lock_guard<std::mutex> lk(mu_);
    conns_.clear();
    finished_.clear();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  for (int& f : wake_) {
    if (f >= 0) ::close(f);
    f = -1;
  }
}

// ---------------------------------------------------------------------------------------

PgServer::PgServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgServer::~PgServer() { stop(); }

Result<std::unique_ptr<PgServer>> PgServer::start(PgServerOptions options, sql::Engine* engine,
                                                  PgUserLookup users) {
  if (!engine) return invalid_argument("PgServer needs an engine");
  if (!users) return invalid_argument("PgServer needs a user lookup");
  auto impl = std::make_unique<Impl>(std::move(options), engine, std::move(users));
  SL_RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<PgServer>(new PgServer(std::move(impl)));
}

uint16_t PgServer::port() const { return impl_->port(); }
void PgServer::stop() {
  if (impl_) impl_->stop();
}

}  // namespace sl::pgwire
