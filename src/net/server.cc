// HttpServer: Boost.Asio accept loop + per-connection state machines for HTTP/1.1
// (Boost.Beast parser) and HTTP/2 (libnghttp2 server session over the same socket).
// The only translation unit of sl_net that includes Asio/Beast/nghttp2.
//
// Threading: one io_context run by N threads; every connection lives on its own strand
// (the socket's executor), so all connection state is touched only from that strand.
// ResponseSinks post their work onto the strand.
#include <utility>  // before Boost: asio/awaitable.hpp needs std::exchange

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "net/http.h"

namespace sl::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Shared {
  ServerOptions opts;
  Handler handler;
  std::atomic<bool> stopped{false};
  std::atomic<int> connections{0};
};

// Implemented by connections; every method runs on the connection's strand.
class ConnBase : public std::enable_shared_from_this<ConnBase> {
 public:
  virtual ~ConnBase() = default;
  virtual asio::any_io_executor executor() = 0;
  virtual void close() = 0;
  virtual void sink_respond(int32_t id, HttpResponse r) = 0;
  virtual void sink_start(int32_t id, int status, Headers h) = 0;
  virtual void sink_write(int32_t id, std::string chunk) = 0;
  virtual void sink_finish(int32_t id) = 0;
  virtual void sink_abort(int32_t id) = 0;
};

class Sink final : public ResponseSink {
 public:
  Sink(std::shared_ptr<ConnBase> c, int32_t id, std::shared_ptr<Shared> sh)
      : conn_(std::move(c)), id_(id), shared_(std::move(sh)) {}
  ~Sink() override {
    int st = state_.load();
    if (st == kFinished || closed_.load()) return;
    auto c = conn_;
    int32_t id = id_;
    if (shared_->stopped.load()) return;
    if (st == kNone) {
      asio::post(c->executor(), [c, id] {
        HttpResponse r;
        r.status = 500;
        r.headers.emplace_back("content-type", "text/plain");
        r.body = "handler dropped the request";
        c->sink_respond(id, std::move(r));
      });
    } else {
      asio::post(c->executor(), [c, id] { c->sink_abort(id); });
    }
  }
  void respond(HttpResponse r) override {
    int expected = kNone;
    if (!state_.compare_exchange_strong(expected, kFinished)) return;
    if (shared_->stopped.load()) return;
    queued_ += r.body.size();
    auto c = conn_;
    asio::post(c->executor(), [c, id = id_, r = std::move(r)]() mutable {
      c->sink_respond(id, std::move(r));
    });
  }
  void start_stream(int status, Headers h) override {
    int expected = kNone;
    if (!state_.compare_exchange_strong(expected, kStreaming)) return;
    if (shared_->stopped.load()) return;
    auto c = conn_;
    asio::post(c->executor(), [c, id = id_, status, h = std::move(h)]() mutable {
      c->sink_start(id, status, std::move(h));
    });
  }
  bool write(std::string chunk) override {
    if (closed_.load() || state_.load() != kStreaming || shared_->stopped.load()) return false;
    if (chunk.empty()) return true;
    queued_ += chunk.size();
    auto c = conn_;
    asio::post(c->executor(), [c, id = id_, s = std::move(chunk)]() mutable {
      c->sink_write(id, std::move(s));
    });
    return true;
  }
  void finish() override {
    int expected = kStreaming;
    if (!state_.compare_exchange_strong(expected, kFinished)) return;
    if (shared_->stopped.load()) return;
    auto c = conn_;
    asio::post(c->executor(), [c, id = id_] { c->sink_finish(id); });
  }
  bool closed() const override { return closed_.load(); }
  size_t queued_bytes() const override { return queued_.load(); }

  // Called by the connection (on its strand).
  void mark_closed() { closed_.store(true); }
  void consumed(size_t n) { queued_.fetch_sub(n); }

 private:
  enum { kNone = 0, kStreaming = 1, kFinished = 2 };
  std::shared_ptr<ConnBase> conn_;
  int32_t id_;
  std::shared_ptr<Shared> shared_;
  std::atomic<int> state_{kNone};
  std::atomic<bool> closed_{false};
  std::atomic<size_t> queued_{0};
};

bool is_connection_header(const std::string& n) {
  return n == "connection" || n == "transfer-encoding" || n == "keep-alive" ||
         n == "upgrade" || n == "proxy-connection";
}

void split_target(HttpRequest& r) {
  auto q = r.target.find('?');
  if (q == std::string::npos) {
    r.path = r.target;
    r.query.clear();
  } else {
    r.path = r.target.substr(0, q);
    r.query = r.target.substr(q + 1);
  }
}

void call_handler(Shared& sh, HttpRequest& req, const std::shared_ptr<Sink>& sink) {
  try {
    sh.handler(req, sink);
  } catch (const std::exception& e) {
    HttpResponse r;
    r.status = 500;
    r.headers.emplace_back("content-type", "text/plain");
    r.body = std::string("internal error: ") + e.what();
    sink->respond(std::move(r));
  } catch (...) {
    HttpResponse r;
    r.status = 500;
    sink->respond(std::move(r));
  }
}

template <class Stream>
class Conn final : public ConnBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Conn(std::shared_ptr<asio::io_context> ioc, Stream stream, std::shared_ptr<Shared> sh)
      : ioc_keep_(std::move(ioc)), stream_(std::move(stream)), timer_(stream_.get_executor()), sh_(std::move(sh)) {
    error_code ec;
    auto ep = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Conn() override {
    if (h2_) nghttp2_session_del(h2_);
    sh_->connections.fetch_sub(1);
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

  void run() {
    auto self = shared();
    asio::dispatch(stream_.get_executor(), [self] { self->begin(); });
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    error_code ec;
    beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close(ec);
    if (auto s = h1_sink_.lock()) s->mark_closed();
    for (auto& [id, st] : streams_)
      if (auto s = st->sink.lock()) s->mark_closed();
  }

 private:
  std::shared_ptr<Conn> shared() { return std::static_pointer_cast<Conn>(shared_from_this()); }

  // ---- timers -------------------------------------------------------------------
  void arm_timer(int ms) {
    ++timer_gen_;
    if (ms <= 0) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait([self = shared(), gen = timer_gen_](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->on_timeout();
    });
  }
  void on_timeout() {
    if (!h2_) return close();
    // HTTP/2: reset streams whose request did not arrive in time; close an idle connection.
    auto now = std::chrono::steady_clock::now();
    auto limit = std::chrono::milliseconds(sh_->opts.request_timeout_ms);
    for (auto& [id, st] : streams_) {
      if (!st->dispatched && !st->rejected && !st->timed_out && now - st->began >= limit) {
        st->timed_out = true;
        nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      }
    }
    if (streams_.empty()) return close();  // idle
    h2_arm_timer();
    h2_flush();
  }
  void disarm_timer() {
    ++timer_gen_;
    timer_.cancel();
  }

  // ---- start: TLS handshake, protocol detection ---------------------------------
  void begin() {
    if constexpr (kTls) {
      arm_timer(sh_->opts.request_timeout_ms);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = shared()](error_code ec) {
        if (ec) return self->close();
        const unsigned char* p = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(self->stream_.native_handle(), &p, &len);
        if (len == 2 && std::memcmp(p, "h2", 2) == 0) return self->h2_start();
        self->detect();
      });
    } else {
      detect();
    }
  }

  // Reads until the first bytes either are the HTTP/2 preface or cannot be.
  void detect() {
    size_t n = std::min(buf_.size(), kH2Preface.size());
    std::string_view have(static_cast<const char*>(buf_.data().data()), n);
    if (have != kH2Preface.substr(0, n)) return h1_next();
    if (n == kH2Preface.size()) return h2_start();
    if (n == 0) arm_timer(sh_->opts.idle_timeout_ms);
    stream_.async_read_some(buf_.prepare(4096), [self = shared()](error_code ec, size_t got) {
      if (ec) return self->close();
      self->buf_.commit(got);
      self->detect();
    });
  }

  // ---- output queue (both protocols) ---------------------------------------------
  struct Out {
    std::string data;
    std::shared_ptr<Sink> sink;  // bytes to credit back to this sink
    size_t credit = 0;
  };
  void enqueue(std::string data, std::shared_ptr<Sink> sink = nullptr, size_t credit = 0) {
    out_.push_back(Out{std::move(data), std::move(sink), credit});
    pump();
  }
  void pump() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      on_drained();
      return;
    }
    writing_ = true;
    size_t n = std::min<size_t>(out_.size(), 64);
    std::vector<asio::const_buffer> bufs;
    bufs.reserve(n);
    for (size_t i = 0; i < n; ++i) bufs.emplace_back(asio::buffer(out_[i].data));
    asio::async_write(stream_, bufs, [self = shared(), n](error_code ec, size_t) {
      self->writing_ = false;
      if (ec) {
        self->out_.clear();
        return self->close();
      }
      for (size_t i = 0; i < n; ++i) {
        if (self->out_.front().sink) self->out_.front().sink->consumed(self->out_.front().credit);
        self->out_.pop_front();
      }
      self->pump();
    });
  }
  void on_drained() {
    if (h2_) {
      h2_flush();
      return;
    }
    if (h1_after_write_ == AfterWrite::kClose) {
      close();
    } else if (h1_after_write_ == AfterWrite::kNext) {
      h1_after_write_ = AfterWrite::kNothing;
      h1_next();
    }
  }

  // ---- HTTP/1.1 -------------------------------------------------------------------
  enum class AfterWrite { kNothing, kNext, kClose };

  void h1_next() {
    if (closed_) return;
    if (buf_.size() == 0) {
      arm_timer(sh_->opts.idle_timeout_ms);
      stream_.async_read_some(buf_.prepare(8192), [self = shared()](error_code ec, size_t got) {
        if (ec) return self->close();
        self->buf_.commit(got);
        self->h1_read_header();
      });
      return;
    }
    h1_read_header();
  }

  void h1_read_header() {
    arm_timer(sh_->opts.request_timeout_ms);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(sh_->opts.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(sh_->opts.max_body_bytes);
    bhttp::async_read_header(stream_, buf_, *parser_, [self = shared()](error_code ec, size_t) {
      self->h1_on_header(ec);
    });
  }

  void h1_fail(error_code ec) {
    if (&ec.category() != &bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
      return close();  // network error, timeout (our close), TLS truncation
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return close();
    int status = 400;
    if (ec == bhttp::error::header_limit) status = 431;
    else if (ec == bhttp::error::body_limit || ec == bhttp::error::buffer_overflow) status = 413;
    h1_error_and_close(status);
  }

  void h1_error_and_close(int status) {
    disarm_timer();
    std::string body = std::string(status_reason(status)) + "\n";
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + status_reason(status) +
                       "\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    h1_after_write_ = AfterWrite::kClose;
    enqueue(head + body);
  }

  void h1_on_header(error_code ec) {
    if (ec) return h1_fail(ec);
    auto& msg = parser_->get();
    if (msg.version() != 10 && msg.version() != 11) return h1_error_and_close(400);
    if (auto cl = parser_->content_length(); cl && *cl > sh_->opts.max_body_bytes)
      return h1_error_and_close(413);
    auto expect = msg[bhttp::field::expect];
    if (!expect.empty() && beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      enqueue("HTTP/1.1 100 Continue\r\n\r\n");
    }
    bhttp::async_read(stream_, buf_, *parser_, [self = shared()](error_code ec, size_t) {
      self->h1_on_body(ec);
    });
  }

  void h1_on_body(error_code ec) {
    if (ec) return h1_fail(ec);
    disarm_timer();
    auto msg = parser_->release();
    parser_.reset();
    h1_keep_alive_ = msg.keep_alive();
    head_request_ = msg.method() == bhttp::verb::head;
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    split_target(req);
    req.version = msg.version();
    req.remote_addr = remote_;
    req.headers.reserve(16);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      ascii_lower(name);
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    ++h1_id_;
    auto sink = std::make_shared<Sink>(shared_from_this(), h1_id_, sh_);
    h1_sink_ = sink;
    h1_streaming_ = false;
    call_handler(*sh_, req, sink);
  }

  std::string h1_head(int status, const Headers& headers, std::optional<size_t> content_length) {
    std::string head;
    head.reserve(128 + headers.size() * 48);
    head += "HTTP/1.1 ";
    head += std::to_string(status);
    head += ' ';
    head += status_reason(status);
    head += "\r\n";
    for (const auto& [k, v] : headers) {
      std::string lk = k;
      ascii_lower(lk);
      if (lk == "content-length" || lk == "transfer-encoding" || lk == "connection") continue;
      head += k;
      head += ": ";
      head += v;
      head += "\r\n";
    }
    if (status < 200 || status == 204 || status == 304) {
      // no body, no framing headers
    } else if (content_length) {
      head += "Content-Length: ";
      head += std::to_string(*content_length);
      head += "\r\n";
    } else {
      head += "Transfer-Encoding: chunked\r\n";
    }
    if (!h1_keep_alive_) head += "Connection: close\r\n";
    head += "\r\n";
    return head;
  }

  void sink_respond(int32_t id, HttpResponse r) override {
    if (h2_) return h2_respond(id, std::move(r));
    auto sink = h1_sink_.lock();
    if (closed_ || id != h1_id_) return;
    size_t credit = r.body.size();
    if (r.status < 200 || r.status == 204 || r.status == 304) r.body.clear();
    std::string head = h1_head(r.status, r.headers, r.body.size());
    h1_after_write_ = h1_keep_alive_ ? AfterWrite::kNext : AfterWrite::kClose;
    if (sink) sink->mark_closed();
    h1_sink_.reset();
    if (head_request_) {
      out_.push_back(Out{std::move(head), sink, credit});
      pump();
    } else if (r.body.size() < 4096) {
      head += r.body;
      enqueue(std::move(head), sink, credit);
    } else {
      out_.push_back(Out{std::move(head), nullptr, 0});
      enqueue(std::move(r.body), sink, credit);
    }
  }
  void sink_start(int32_t id, int status, Headers h) override {
    if (h2_) return h2_start_stream(id, status, std::move(h));
    if (closed_ || id != h1_id_) return;
    h1_streaming_ = true;
    enqueue(h1_head(status, h, std::nullopt));
  }
  void sink_write(int32_t id, std::string chunk) override {
    if (h2_) return h2_write(id, std::move(chunk));
    auto sink = h1_sink_.lock();
    if (closed_ || id != h1_id_ || !h1_streaming_) return;
    char size_line[32];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
    size_t credit = chunk.size();
    out_.push_back(Out{std::string(size_line, n), nullptr, 0});
    chunk += "\r\n";
    enqueue(std::move(chunk), std::move(sink), credit);
  }
  void sink_finish(int32_t id) override {
    if (h2_) return h2_finish(id);
    if (closed_ || id != h1_id_ || !h1_streaming_) return;
    if (auto s = h1_sink_.lock()) s->mark_closed();
    h1_sink_.reset();
    h1_streaming_ = false;
    h1_after_write_ = h1_keep_alive_ ? AfterWrite::kNext : AfterWrite::kClose;
    enqueue("0\r\n\r\n");
  }
  void sink_abort(int32_t id) override {
    if (h2_) {
      if (streams_.count(id)) {
        nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
        h2_flush();
      }
      return;
    }
    if (id == h1_id_) close();
  }

  // ---- HTTP/2 -------------------------------------------------------------------
  struct H2Stream {
    HttpRequest req;
    std::weak_ptr<Sink> sink;
    size_t header_bytes = 0;
    bool rejected = false;     // answered early (413/431); ignore the rest
    bool dispatched = false;
    bool responding = false;   // response submitted
    std::string out;           // pending DATA bytes
    size_t out_off = 0;
    bool eof = false;          // all DATA queued
    bool deferred = false;     // data provider returned DEFERRED
    bool timed_out = false;    // request did not arrive within request_timeout_ms
    std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
  };

  H2Stream* h2_stream(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  void h2_start() {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Conn::cb_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Conn::cb_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Conn::cb_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Conn::cb_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Conn::cb_stream_close);
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    int rv = nghttp2_session_server_new2(&h2_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
      h2_ = nullptr;
      return close();
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 256},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<uint32_t>(std::min<size_t>(sh_->opts.max_header_bytes, UINT32_MAX))},
    };
    nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0, 16 << 20);
    // Bytes already read during detection (the preface and maybe more).
    if (buf_.size() > 0) {
      auto d = buf_.data();
      ssize_t n = nghttp2_session_mem_recv(h2_, static_cast<const uint8_t*>(d.data()), d.size());
      buf_.consume(buf_.size());
      if (n < 0) return close();
    }
    h2_flush();
    h2_read();
  }

  void h2_read() {
    if (closed_) return;
    h2_arm_timer();
    stream_.async_read_some(asio::buffer(rbuf_), [self = shared()](error_code ec, size_t got) {
      if (ec || self->closed_) return self->close();
      ssize_t n = nghttp2_session_mem_recv(self->h2_, self->rbuf_.data(), got);
      if (n < 0) {
        return self->close();
      }
      self->h2_flush();
      self->h2_read();
    });
  }

  // Idle timeout with no streams; else the deadline of the oldest incomplete request.
  void h2_arm_timer() {
    if (streams_.empty()) return arm_timer(sh_->opts.idle_timeout_ms);
    std::optional<std::chrono::steady_clock::time_point> oldest;
    for (auto& [id, st] : streams_) {
      if (st->dispatched || st->rejected || st->timed_out) continue;
      if (!oldest || st->began < *oldest) oldest = st->began;
    }
    if (!oldest) return disarm_timer();
    auto left = std::chrono::ceil<std::chrono::milliseconds>(
        *oldest + std::chrono::milliseconds(sh_->opts.request_timeout_ms) -
        std::chrono::steady_clock::now());
    arm_timer(std::max<int>(1, static_cast<int>(left.count())));
  }

  void h2_flush() {
    if (closed_ || writing_ || !h2_) return;
    std::string chunk;
    while (chunk.size() < (256u << 10)) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(h2_, &data);
      if (n < 0) return close();
      if (n == 0) break;
      chunk.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (chunk.empty()) {
      if (!nghttp2_session_want_read(h2_) && !nghttp2_session_want_write(h2_)) close();
      return;
    }
    out_.push_back(Out{std::move(chunk), nullptr, 0});
    pump();
  }

  static ssize_t cb_read_data(nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                              uint32_t* flags, nghttp2_data_source* src, void* user) {
    auto* self = static_cast<Conn*>(user);
    H2Stream* st = self->h2_stream(id);
    if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t avail = st->out.size() - st->out_off;
    size_t n = std::min(avail, length);
    if (n > 0) {
      std::memcpy(buf, st->out.data() + st->out_off, n);
      st->out_off += n;
      if (st->out_off == st->out.size()) {
        st->out.clear();
        st->out_off = 0;
      } else if (st->out_off > (1u << 20)) {
        st->out.erase(0, st->out_off);
        st->out_off = 0;
      }
      if (auto s = st->sink.lock()) s->consumed(n);
    }
    if (st->out.size() == st->out_off && st->eof) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    }
    if (n == 0) {
      st->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(n);
  }

  void h2_submit(int32_t id, H2Stream* st, int status, const Headers& h,
                 std::optional<size_t> content_length, bool with_data) {
    std::string status_str = std::to_string(status);
    std::string cl = content_length ? std::to_string(*content_length) : std::string();
    std::vector<std::string> names;
    names.reserve(h.size());
    std::vector<nghttp2_nv> nva;
    nva.reserve(h.size() + 2);
    auto add = [&](const std::string& n, const std::string& v) {
      nva.push_back(nghttp2_nv{(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(),
                               NGHTTP2_NV_FLAG_NONE});
    };
    static const std::string kStatus = ":status", kCl = "content-length";
    add(kStatus, status_str);
    for (const auto& [k, v] : h) {
      names.push_back(k);
      ascii_lower(names.back());
      if (is_connection_header(names.back()) || names.back() == "content-length") {
        names.pop_back();
        continue;
      }
      add(names.back(), v);
    }
    if (content_length && status != 204 && status != 304) add(kCl, cl);
    st->responding = true;
    nghttp2_data_provider prd;
    prd.source.ptr = nullptr;
    prd.read_callback = &Conn::cb_read_data;
    int rv = nghttp2_submit_response(h2_, id, nva.data(), nva.size(), with_data ? &prd : nullptr);
    if (rv != 0) nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
  }

  void h2_respond(int32_t id, HttpResponse r) {
    H2Stream* st = h2_stream(id);
    if (closed_ || !st || st->responding) return;
    if (auto s = st->sink.lock()) s->mark_closed();  // nothing more accepted
    bool data = !r.body.empty() && st->req.method != "HEAD";
    size_t len = r.body.size();
    if (data) {
      st->out = std::move(r.body);
      st->out_off = 0;
      st->eof = true;
    } else if (auto s = st->sink.lock()) {
      s->consumed(len);
    }
    h2_submit(id, st, r.status, r.headers, len, data);
    h2_flush();
  }
  void h2_start_stream(int32_t id, int status, Headers h) {
    H2Stream* st = h2_stream(id);
    if (closed_ || !st || st->responding) return;
    h2_submit(id, st, status, h, std::nullopt, true);
    h2_flush();
  }
  void h2_write(int32_t id, std::string chunk) {
    H2Stream* st = h2_stream(id);
    if (closed_ || !st || !st->responding || st->eof) return;
    if (st->out.empty()) {
      st->out = std::move(chunk);
      st->out_off = 0;
    } else {
      st->out += chunk;
    }
    if (st->deferred) {
      st->deferred = false;
      nghttp2_session_resume_data(h2_, id);
    }
    h2_flush();
  }
  void h2_finish(int32_t id) {
    H2Stream* st = h2_stream(id);
    if (closed_ || !st || !st->responding) return;
    st->eof = true;
    if (st->deferred) {
      st->deferred = false;
      nghttp2_session_resume_data(h2_, id);
    }
    h2_flush();
  }

  void h2_reject(int32_t id, H2Stream* st, int status) {
    st->rejected = true;
    std::string body = std::string(status_reason(status)) + "\n";
    st->out = body;
    st->out_off = 0;
    st->eof = true;
    h2_submit(id, st, status, {{"content-type", "text/plain"}}, body.size(), true);
  }

  static int cb_begin_headers(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Conn*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto st = std::make_unique<H2Stream>();
    st->req.version = 20;
    st->req.remote_addr = self->remote_;
    self->streams_[frame->hd.stream_id] = std::move(st);
    return 0;
  }

  static int cb_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                       void* user) {
    auto* self = static_cast<Conn*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    H2Stream* st = self->h2_stream(frame->hd.stream_id);
    if (!st || st->rejected) return 0;
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > self->sh_->opts.max_header_bytes) {
      self->h2_reject(frame->hd.stream_id, st, 431);
      return 0;
    }
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") st->req.method = std::move(v);
    else if (n == ":path") st->req.target = std::move(v);
    else if (n == ":authority") st->req.headers.emplace_back("host", std::move(v));
    else if (n == ":scheme" || n == ":protocol") {
    } else {
      std::string ln(n);
      ascii_lower(ln);
      st->req.headers.emplace_back(std::move(ln), std::move(v));
    }
    return 0;
  }

  static int cb_data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data,
                           size_t len, void* user) {
    auto* self = static_cast<Conn*>(user);
    H2Stream* st = self->h2_stream(id);
    if (!st || st->rejected) return 0;
    if (st->req.body.size() + len > self->sh_->opts.max_body_bytes) {
      self->h2_reject(id, st, 413);
      st->req.body.clear();
      st->req.body.shrink_to_fit();
      return 0;
    }
    if (st->req.body.empty()) {
      if (const std::string* cl = st->req.header("content-length")) {
        size_t want = std::strtoull(cl->c_str(), nullptr, 10);
        if (want <= self->sh_->opts.max_body_bytes) st->req.body.reserve(want);
      }
    }
    st->req.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int cb_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Conn*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      // A request with a declared length larger than allowed: answer now.
      if (frame->hd.type == NGHTTP2_HEADERS) {
        H2Stream* st = self->h2_stream(frame->hd.stream_id);
        if (st && !st->rejected) {
          if (const std::string* cl = st->req.header("content-length")) {
            if (std::strtoull(cl->c_str(), nullptr, 10) > self->sh_->opts.max_body_bytes)
              self->h2_reject(frame->hd.stream_id, st, 413);
          }
        }
      }
      return 0;
    }
    int32_t id = frame->hd.stream_id;
    H2Stream* st = self->h2_stream(id);
    if (!st || st->rejected || st->dispatched) return 0;
    st->dispatched = true;
    if (st->req.method.empty() || st->req.target.empty()) {
      self->h2_reject(id, st, 400);
      return 0;
    }
    split_target(st->req);
    auto sink = std::make_shared<Sink>(self->shared_from_this(), id, self->sh_);
    st->sink = sink;
    call_handler(*self->sh_, st->req, sink);
    return 0;
  }

  static int cb_stream_close(nghttp2_session*, int32_t id, uint32_t, void* user) {
    auto* self = static_cast<Conn*>(user);
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) return 0;
    if (auto s = it->second->sink.lock()) s->mark_closed();
    self->streams_.erase(it);
    if (self->streams_.empty()) self->arm_timer(self->sh_->opts.idle_timeout_ms);
    return 0;
  }

  std::shared_ptr<asio::io_context> ioc_keep_;  // outlives the socket (sinks may outlive the server)
  Stream stream_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> sh_;
  std::string remote_;
  beast::flat_buffer buf_;
  bool closed_ = false;
  uint64_t timer_gen_ = 0;
  std::deque<Out> out_;
  bool writing_ = false;

  // HTTP/1.1
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::weak_ptr<Sink> h1_sink_;
  int32_t h1_id_ = 0;
  bool h1_keep_alive_ = true;
  bool h1_streaming_ = false;
  bool head_request_ = false;
  AfterWrite h1_after_write_ = AfterWrite::kNothing;

  // HTTP/2
  nghttp2_session* h2_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<H2Stream>> streams_;
  std::array<uint8_t, 32768> rbuf_;
};

int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void*) {
  static const unsigned char kProtos[] = "\x02h2\x08http/1.1";
  unsigned char* o = nullptr;
  if (SSL_select_next_proto(&o, outlen, kProtos, sizeof kProtos - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared;
  std::shared_ptr<asio::io_context> ioc = std::make_shared<asio::io_context>();
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{*ioc};
  asio::steady_timer accept_retry{*ioc};
  std::optional<asio::ssl::context> ssl;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::weak_ptr<ConnBase>> conns;  // GUARDED_BY(mu)
  uint16_t port = 0;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(asio::make_strand(*ioc), [this](error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || shared->stopped.load()) return;
      if (ec) {
        // E.g. EMFILE: back off briefly instead of spinning on the failing accept.
        accept_retry.expires_after(std::chrono::milliseconds(20));
        accept_retry.async_wait([this](error_code e) {
          if (!e && !shared->stopped.load()) accept();
        });
        return;
      }
      on_accept(std::move(sock));
      accept();
    });
  }

  void on_accept(tcp::socket sock) {
    if (shared->stopped.load() || shared->connections.load() >= shared->opts.max_connections) {
      error_code ec;
      sock.close(ec);
      return;
    }
    error_code ec;
    sock.set_option(tcp::no_delay(true), ec);
    shared->connections.fetch_add(1);
    std::shared_ptr<ConnBase> c;
    if (ssl) {
      auto conn = std::make_shared<Conn<asio::ssl::stream<tcp::socket>>>(
          ioc, asio::ssl::stream<tcp::socket>(std::move(sock), *ssl), shared);
      conn->run();
      c = conn;
    } else {
      auto conn = std::make_shared<Conn<tcp::socket>>(ioc, std::move(sock), shared);
      conn->run();
      c = conn;
    }
    std::lock_guard lk(mu);
    if (conns.size() > 64 && conns.size() % 64 == 0) {
      std::erase_if(conns, [](const auto& w) { return w.expired(); });
    }
    conns.push_back(c);
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    shared->stopped.store(true);
    asio::post(*ioc, [this] {
      error_code ec;
      acceptor.close(ec);
      accept_retry.cancel();
    });
    {
      std::lock_guard lk(mu);
      for (auto& w : conns)
        if (auto c = w.lock()) asio::post(c->executor(), [c] { c->close(); });
      conns.clear();
    }
    work.reset();
    for (auto& t : threads) t.join();
    threads.clear();
    ioc->stop();
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }
uint16_t HttpServer::port() const { return impl_->port; }
int HttpServer::connection_count() const { return impl_->shared->connections.load(); }
void HttpServer::stop() {
  if (impl_) impl_->stop();
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerOptions opts, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->shared = std::make_shared<Shared>();
  impl->shared->opts = opts;
  impl->shared->handler = std::move(handler);
  error_code ec;
  if (!opts.tls_cert_file.empty() || !opts.tls_key_file.empty()) {
    impl->ssl.emplace(asio::ssl::context::tls_server);
    auto& ctx = *impl->ssl;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    ctx.use_certificate_chain_file(opts.tls_cert_file, ec);
    if (ec) return invalid_argument("tls cert " + opts.tls_cert_file + ": " + ec.message());
    ctx.use_private_key_file(opts.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return invalid_argument("tls key " + opts.tls_key_file + ": " + ec.message());
    SSL_CTX_set_alpn_select_cb(ctx.native_handle(), &alpn_select, nullptr);
  }
  auto addr = asio::ip::make_address(opts.host, ec);
  if (ec) return invalid_argument("bad listen address '" + opts.host + "': " + ec.message());
  tcp::endpoint ep(addr, opts.port);
  auto& acc = impl->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Errc::kIoError, "listen " + opts.host + ":" + std::to_string(opts.port) +
                                      ": " + ec.message());
  }
  impl->port = acc.local_endpoint().port();
  impl->work.emplace(impl->ioc->get_executor());
  impl->accept();
  int n = std::max(1, opts.threads);
  for (int i = 0; i < n; ++i) {
    impl->threads.emplace_back([p = impl.get()] {
      for (;;) {
        try {
          p->ioc->run();
          return;
        } catch (const std::exception&) {
          // A handler threw through Asio: keep serving.
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace sl::net
