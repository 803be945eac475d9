#include "server/server.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "kinesis/kinesis.h"
#include "log/log.h"
#include "net/http.h"
#include "net/sigv4.h"
#include "pgwire/pg_server.h"
#include "server/credentials.h"
#include "server/sql_http.h"
#include "server/ui_assets.h"
#include "server/web_api.h"
#include "sql/engine.h"
#include "stream/runtime.h"
#include "util/base64.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/time.h"

namespace sl::server {
namespace {

net::HttpResponse json_error(int status, std::string_view type, std::string_view message,
                             const char* content_type = "application/x-amz-json-1.1") {
  net::HttpResponse r;
  r.status = status;
  std::string body = "{\"__type\":";
  append_json_string(body, type);
  if (!message.empty()) {  // AWS sends some errors without one (UnknownOperationException)
    body += ",\"message\":";
    append_json_string(body, message);
  }
  body += "}";
  r.body = std::move(body);
  r.headers.emplace_back("content-type", content_type);
  return r;
}

// A Kinesis error in the request's encoding: JSON, or the same map in CBOR.
net::HttpResponse kinesis_error(int status, std::string_view type, std::string_view message,
                                const char* content_type) {
  if (std::string_view(content_type) != "application/x-amz-cbor-1.1")
    return json_error(status, type, message, content_type);
  auto text = [](std::string& out, std::string_view t) {
    if (t.size() < 24) {
      out.push_back(static_cast<char>(0x60 + t.size()));
    } else if (t.size() < 256) {
      out.push_back(static_cast<char>(0x78));
      out.push_back(static_cast<char>(t.size()));
    } else {
      size_t n = std::min<size_t>(t.size(), 65535);
      out.push_back(static_cast<char>(0x79));
      out.push_back(static_cast<char>(n >> 8));
      out.push_back(static_cast<char>(n & 0xff));
      t = t.substr(0, n);
    }
    out += t;
  };
  net::HttpResponse r;
  r.status = status;
  r.body.push_back(static_cast<char>(message.empty() ? 0xa1 : 0xa2));
  text(r.body, "__type");
  text(r.body, type);
  if (!message.empty()) {
    text(r.body, "message");
    text(r.body, message);
  }
  r.headers.emplace_back("content-type", content_type);
  return r;
}

// A random UUID (version 4) for x-amzn-RequestId.
std::string new_request_id() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(mono_nanos());
  }();
  auto next = [&] {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  };
  uint64_t a = next(), b = next();
  a = (a & ~0xF000ull) | 0x4000ull;                          // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

// SubscribeToShard's event stream over the HTTP response (DATA frames on HTTP/2).
class KinesisEventSink final : public kinesis::EventSink {
 public:
  KinesisEventSink(std::shared_ptr<net::ResponseSink> sink, std::string request_id)
      : sink_(std::move(sink)), id_(std::move(request_id)) {}
  void start(int status, const char* content_type) override {
    sink_->start_stream(status, {{"content-type", content_type}, {"x-amzn-requestid", id_}});
  }
  bool write(std::string bytes) override { return sink_->write(std::move(bytes)); }
  void finish() override { sink_->finish(); }
  bool closed() const override { return sink_->closed(); }
  size_t queued_bytes() const override { return sink_->queued_bytes(); }

 private:
  std::shared_ptr<net::ResponseSink> sink_;
  std::string id_;
};

// Which role a Kinesis operation needs.
enum class Need { kRead, kWrite, kAdmin };
Need kinesis_need(std::string_view op) {
  auto starts = [&](std::string_view p) { return op.substr(0, p.size()) == p; };
  if (starts("Get") || starts("List") || starts("Describe") || op == "SubscribeToShard")
    return Need::kRead;
  if (op == "PutRecord" || op == "PutRecords") return Need::kWrite;
  return Need::kAdmin;
}

bool role_allows(const std::string& role, Need need) {
  if (role == "admin") return true;
  if (role == "writer") return need != Need::kAdmin;
  return need == Need::kRead;
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(Config cfg) : cfg_(std::move(cfg)) {}
  ~ServerImpl() override { stop(); }

  Status init() {
    namespace fs = std::filesystem;
    std::error_code ec;
    bool existed = fs::exists(cfg_.data_dir, ec);
    fs::create_directories(cfg_.data_dir, ec);
    if (ec) return io_error("create data directory " + cfg_.data_dir + ": " + ec.message());
    // The data directory holds every record, table and the credentials: private to the
    // server's user, as PostgreSQL's is.
    if (!existed) fs::permissions(cfg_.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    auto st = fs::status(cfg_.data_dir, ec);
    if (!ec && (st.permissions() & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
      std::fprintf(stderr,
                   "streamlake: WARNING: data directory %s is accessible to other users (mode %03o); "
                   "chmod 700 %s\n",
                   cfg_.data_dir.c_str(), static_cast<unsigned>(st.permissions()) & 0777u, cfg_.data_dir.c_str());

    std::vector<User> users = cfg_.users;
    if (users.empty()) {
      bool created = false;
      SL_ASSIGN_OR_RETURN(KeyPair kp, load_or_create_credentials(cfg_.data_dir, &created));
      if (created)
        std::fprintf(stderr, "streamlake: wrote new credentials to %s/credentials (mode 0600)\n",
                     cfg_.data_dir.c_str());
      users.push_back(User{"admin", kp.access_key, kp.secret, "admin"});
    }
    users_ = std::make_unique<UserDirectory>(std::move(users));
    SL_RETURN_IF_ERROR(ensure_aws_config_file(cfg_.data_dir, cfg_.region));

    log::LogOptions lo;
    lo.fsync = cfg_.fsync;
    SL_ASSIGN_OR_RETURN(log_, log::LogStore::open(cfg_.data_dir + "/log", lo));

    kinesis::Service::Options ko;
    ko.create_delay_ms = cfg_.create_delay_ms;
    ko.delete_delay_ms = cfg_.delete_delay_ms;
    ko.enforce_limits = cfg_.kinesis_enforce_limits;
    ko.region = cfg_.region;
    std::filesystem::create_directories(cfg_.data_dir + "/kinesis", ec);
    SL_ASSIGN_OR_RETURN(kinesis_, kinesis::Service::open(log_.get(), cfg_.data_dir + "/kinesis", ko,
                                                         &SystemClock::instance()));

    try {
      sql_ = sql::Engine::open(cfg_.data_dir + "/sql");
    } catch (const Error& e) {
      return e.to_status();
    }
    // The streaming runtime: stream tables over the log, materialized views, checkpoints.
    try {
      stream::RuntimeOptions ro;
      ro.checkpoint_interval_ms = cfg_.checkpoint_interval_ms;
      ro.lake_s3 = cfg_.s3;  // sinks on s3:// paths use [lake.s3]
      runtime_ = std::make_unique<stream::Runtime>(sql_.get(), kinesis_.get(), log_.get(), cfg_.data_dir,
                                                   &SystemClock::instance(), ro);
      runtime_->open();
      runtime_->start();
    } catch (const Error& e) {
      return Status(e.code(), std::string("streaming runtime: ") + e.what());
    }
    sql_http_ = std::make_unique<SqlHttp>(sql_.get(), 2, cfg_.query_timeout_ms);
    WebApi::Deps wd;
    wd.config = &cfg_;
    wd.users = users_.get();
    wd.engine = sql_.get();
    wd.runtime = runtime_.get();
    wd.kinesis = kinesis_.get();
    wd.sql_http = sql_http_.get();
    wd.clock = &SystemClock::instance();
    wd.header_auth = [this](const net::HttpRequest& req, std::string* why) { return authenticate_http(req, why); };
    wd.http_connections = [this] { return http_listening_.load() ? http_->connection_count() : 0; };
    SL_ASSIGN_OR_RETURN(web_, WebApi::open(std::move(wd)));

    if (cfg_.pg_enabled) {
      pgwire::PgServerOptions po;
      po.host = cfg_.host;
      po.port = cfg_.pg_port;
      po.tls_cert_file = cfg_.tls_cert_file;
      po.tls_key_file = cfg_.tls_key_file;
      po.idle_timeout_ms = 0;
      SL_ASSIGN_OR_RETURN(pg_, pgwire::PgServer::start(po, sql_.get(), [this](std::string_view name)
                                                           -> std::optional<pgwire::PgUser> {
                            const User* u = users_->by_name(name);
                            if (!u) u = users_->by_access_key(name);
                            if (!u) return std::nullopt;
                            return pgwire::PgUser{std::string(name), u->secret, u->role};
                          }));
    }

    net::ServerOptions so;
    so.host = cfg_.host;
    so.port = cfg_.port;
    so.threads = cfg_.io_threads;
    so.max_body_bytes = cfg_.max_body_bytes;
    so.tls_cert_file = cfg_.tls_cert_file;
    so.tls_key_file = cfg_.tls_key_file;
    SL_ASSIGN_OR_RETURN(http_, net::HttpServer::start(so, [this](net::HttpRequest& req,
                                                                  std::shared_ptr<net::ResponseSink> sink) {
                          route(req, std::move(sink));
                        }));
    http_listening_ = true;
    ticker_ = std::thread([this] { tick_loop(); });
    return Status::OK();
  }

  uint16_t http_port() const override { return http_->port(); }
  uint16_t pg_port() const override { return pg_ ? pg_->port() : 0; }
  std::string sign_in_link(const std::string& user) override { return web_ ? web_->sign_in_link(user) : ""; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    {
      std::lock_guard lk(mu_);
      stop_ticker_ = true;
    }
    cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    if (http_) http_->stop();
    if (pg_) pg_->stop();
    web_.reset();
    sql_http_.reset();
    if (runtime_) runtime_->stop(/*final_checkpoint=*/true);
    if (log_) log_->close();
  }

 private:
  void tick_loop() {
    std::unique_lock lk(mu_);
    while (!stop_ticker_) {
      cv_.wait_for(lk, std::chrono::milliseconds(100));
      if (stop_ticker_) break;
      lk.unlock();
      kinesis_->tick();
      web_->tick();
      lk.lock();
    }
  }

  void route(net::HttpRequest& req, std::shared_ptr<net::ResponseSink> sink) {
    if (const std::string* target = req.header("x-amz-target")) {
      handle_kinesis(req, *target, std::move(sink));
      return;
    }
    if (req.path == "/" && req.method == "POST") {  // AWS: a POST without X-Amz-Target
      handle_kinesis(req, std::string(), std::move(sink));
      return;
    }
    // The web UI's static files (public; implemented by the UI's module).
    if (serve_ui_asset(req, *sink)) return;
    // /v1/* (SQL, sessions, notebooks, live results, status) and /metrics.
    if (web_->handle(req, sink)) return;
    // Orchestrator probes: unauthenticated, and the body says nothing else. Live: the
    // process answers. Ready: started (log, Kinesis, SQL, runtime open) and not stopping.
    if (req.path == "/_health/live" || req.path == "/_health/ready") {
      bool ready = req.path == "/_health/live" || !stopped_.load();
      net::HttpResponse r;
      r.status = ready ? 200 : 503;
      r.body = ready ? "ok\n" : "unavailable\n";
      r.headers.emplace_back("content-type", "text/plain");
      r.headers.emplace_back("cache-control", "no-store");
      sink->respond(std::move(r));
      return;
    }
    if (req.path == "/health" || req.path == "/healthz") {
      net::HttpResponse r;
      r.body = "ok\n";
      r.headers.emplace_back("content-type", "text/plain");
      sink->respond(std::move(r));
      return;
    }
    sink->respond(json_error(404, "NotFound", "no such endpoint: " + req.method + " " + req.path,
                             "application/json"));
  }

  // HTTP API authentication: Basic (user name or access key : secret) or SigV4.
  const User* authenticate_http(const net::HttpRequest& req, std::string* why) {
    const std::string* auth = req.header("authorization");
    bool presigned = req.query.find("X-Amz-Signature=") != std::string::npos;
    if (auth && auth->rfind("Basic ", 0) == 0) {
      auto decoded = base64_decode(std::string_view(*auth).substr(6));
      auto colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        *why = "malformed Basic authorization";
        return nullptr;
      }
      std::string name = decoded->substr(0, colon), secret = decoded->substr(colon + 1);
      const User* u = users_->by_name(name);
      if (!u) u = users_->by_access_key(name);
      if (!u || !constant_time_equal(u->secret, secret)) {
        *why = "authentication failed for user " + name;
        return nullptr;
      }
      return u;
    }
    if ((auth && auth->rfind("AWS4-HMAC-SHA256", 0) == 0) || presigned) {
      auto r = net::verify_sigv4(
          req,
          [this](std::string_view ak) -> std::optional<std::string> {
            if (const User* u = users_->by_access_key(ak)) return u->secret;
            return std::nullopt;
          },
          now_millis());
      if (!r.ok()) {
        *why = std::string(net::sigv4_error_type(r.error)) + ": " + r.message;
        return nullptr;
      }
      return users_->by_access_key(r.access_key);
    }
    *why = "authentication required: use HTTP Basic (user:secret) or AWS SigV4";
    return nullptr;
  }

  void handle_kinesis(net::HttpRequest& req, const std::string& target,
                      std::shared_ptr<net::ResponseSink> sink) {
    // Every answer carries a request id, as AWS's do (SDKs log it; support asks for it).
    std::string request_id = new_request_id();
    auto respond = [sink, id = request_id](net::HttpResponse r) {
      r.headers.emplace_back("x-amzn-requestid", id);
      sink->respond(std::move(r));
    };
    // Before authentication, in AWS's order and shapes (docs/kinesis-api.md, "Requests
    // that are not operations").
    auto xml_error = [&](int status, const std::string& type, const std::string& message) {
      net::HttpResponse r;
      r.status = status;
      r.headers.emplace_back("content-type", "application/xml");
      r.body = message.empty() ? "<" + type + "/>\n"
                               : "<" + type + ">\n  <Message>" + message + "</Message>\n</" + type + ">\n";
      respond(std::move(r));
    };
    std::string_view op;
    bool op_ok = kinesis::Service::parse_target(target, &op) && kinesis::Service::known_operation(op);
    if (req.method != "POST") {
      xml_error(403, "AccessDeniedException", "Unable to determine service/operation name to be authorized");
      return;
    }
    const std::string* ct = req.header("content-type");
    kinesis::Encoding enc;
    std::string_view ctv = ct ? std::string_view(*ct) : std::string_view();
    bool ct_ok = kinesis::parse_content_type(ctv, &enc);
    if (req.body.empty()) {
      respond(kinesis_error(400, op_ok ? "SerializationException" : "UnknownOperationException", "",
                            ct_ok && enc == kinesis::Encoding::kJson ? "application/x-amz-json-1.1"
                                                                     : "application/x-amz-cbor-1.1"));
      return;
    }
    if (!ct_ok) {
      if (target.empty() || op.empty())
        xml_error(403, "AccessDeniedException", "Unable to determine service/operation name to be authorized");
      else
        xml_error(404, "UnknownOperationException", "");
      return;
    }
    const char* resp_ct = kinesis::content_type(enc);
    if (!op_ok) {
      respond(kinesis_error(400, "UnknownOperationException", "", resp_ct));
      return;
    }
    auto auth = net::verify_sigv4(
        req,
        [this](std::string_view ak) -> std::optional<std::string> {
          if (const User* u = users_->by_access_key(ak)) return u->secret;
          return std::nullopt;
        },
        now_millis());
    using E = net::SigV4Result::Error;
    switch (auth.error) {
      case E::kNone: break;
      case E::kMissing:
        respond(kinesis_error(400, "MissingAuthenticationTokenException", "Missing Authentication Token", resp_ct));
        return;
      case E::kUnknownKey:
        respond(kinesis_error(400, "UnrecognizedClientException",
                                 "The security token included in the request is invalid.", resp_ct));
        return;
      case E::kMalformed:
        respond(kinesis_error(400, "IncompleteSignatureException", auth.message, resp_ct));
        return;
      case E::kBadSignature:
      case E::kExpired:
        respond(kinesis_error(400, "InvalidSignatureException", auth.message, resp_ct));
        return;
    }
    if (auth.service != "kinesis") {
      respond(kinesis_error(400, "InvalidSignatureException",
                               "Credential should be scoped to correct service: 'kinesis'.", resp_ct));
      return;
    }
    const User* user = users_->by_access_key(auth.access_key);
    if (!user || !role_allows(user->role, kinesis_need(op))) {
      respond(kinesis_error(400, "AccessDeniedException",
                               "User " + (user ? user->name : auth.access_key) + " is not authorized to perform: kinesis:" +
                                   std::string(op),
                               resp_ct));
      return;
    }
    // The body must stay valid until the response is done: the callback owns it.
    auto body = std::make_shared<std::string>(std::move(req.body));
    kinesis::Request kr;
    kr.operation = op;
    kr.encoding = enc;
    kr.body = *body;
    kr.access_key = auth.access_key;
    if (op == "SubscribeToShard") kr.stream = std::make_shared<KinesisEventSink>(sink, request_id);
    kinesis_->handle(kr, [respond, body](kinesis::Response resp) {
      if (resp.http_status == 0) return;  // answered on kr.stream (SubscribeToShard)
      net::HttpResponse r;
      r.status = resp.http_status;
      r.headers.emplace_back("content-type", kinesis::content_type(resp.encoding));
      r.body = std::move(resp.body);
      respond(std::move(r));
    });
  }

  Config cfg_;
  std::unique_ptr<UserDirectory> users_;
  std::unique_ptr<log::LogStore> log_;
  std::unique_ptr<kinesis::Service> kinesis_;
  std::unique_ptr<sql::Engine> sql_;
  std::unique_ptr<stream::Runtime> runtime_;
  std::unique_ptr<SqlHttp> sql_http_;
  std::unique_ptr<WebApi> web_;
  std::atomic<bool> http_listening_{false};
  std::unique_ptr<pgwire::PgServer> pg_;
  std::unique_ptr<net::HttpServer> http_;
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ticker_ = false;
  std::atomic<bool> stopped_{false};
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(Config cfg) {
  auto s = std::make_unique<ServerImpl>(std::move(cfg));
  SL_RETURN_IF_ERROR(s->init());
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace sl::server
