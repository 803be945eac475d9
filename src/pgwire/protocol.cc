#include "pgwire/protocol.h"

#include <cstring>

namespace sl::pgwire {

namespace {
Status bad(std::string m) { return invalid_argument(std::move(m)); }
}  // namespace

const std::string* StartupPacket::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

bool Reader::int8(uint8_t* v) {
  if (remaining() < 1) return false;
  *v = static_cast<uint8_t>(s_[pos_++]);
  return true;
}
bool Reader::int16(int16_t* v) {
  if (remaining() < 2) return false;
  *v = static_cast<int16_t>((uint16_t(uint8_t(s_[pos_])) << 8) | uint8_t(s_[pos_ + 1]));
  pos_ += 2;
  return true;
}
bool Reader::int32(int32_t* v) {
  if (remaining() < 4) return false;
  *v = load_be32(s_.data() + pos_);
  pos_ += 4;
  return true;
}
bool Reader::cstring(std::string* v) {
  size_t nul = s_.find('\0', pos_);
  if (nul == std::string_view::npos) return false;
  v->assign(s_.data() + pos_, nul - pos_);
  pos_ = nul + 1;
  return true;
}
bool Reader::bytes(size_t n, std::string* v) {
  if (remaining() < n) return false;
  v->assign(s_.data() + pos_, n);
  pos_ += n;
  return true;
}

Status check_length(int32_t len, size_t limit) {
  if (len < 4) return bad("invalid message length " + std::to_string(len));
  if (static_cast<size_t>(len) > limit)
    return bad("message of " + std::to_string(len) + " bytes exceeds the limit of " +
               std::to_string(limit));
  return Status::OK();
}

Status parse_startup_packet(std::string_view body, StartupPacket* out) {
  Reader r(body);
  int32_t code;
  if (!r.int32(&code)) return bad("startup packet too short");
  *out = StartupPacket{};
  out->protocol = code;
  if (code == kSslRequestCode || code == kGssEncRequestCode) {
    if (!r.at_end()) return bad("malformed SSL/GSS request");
    out->kind = code == kSslRequestCode ? StartupPacket::kSsl : StartupPacket::kGssEnc;
    return Status::OK();
  }
  if (code == kCancelRequestCode) {
    out->kind = StartupPacket::kCancel;
    if (!r.int32(&out->cancel_pid) || !r.int32(&out->cancel_key) || !r.at_end())
      return bad("malformed cancel request");
    return Status::OK();
  }
  if ((code >> 16) != 3)
    return Status(Errc::kUnsupported, "unsupported frontend protocol " +
                                          std::to_string(code >> 16) + "." +
                                          std::to_string(code & 0xffff) +
                                          ": server supports 3.0");
  out->kind = StartupPacket::kStartup;
  for (;;) {
    std::string k, v;
    if (!r.cstring(&k)) return bad("malformed startup packet");
    if (k.empty()) break;
    if (!r.cstring(&v)) return bad("malformed startup packet");
    out->params.emplace_back(std::move(k), std::move(v));
  }
  if (!r.at_end()) return bad("trailing bytes in startup packet");
  if (!out->param("user")) return bad("no PostgreSQL user name specified in startup packet");
  return Status::OK();
}

Status parse_parse(std::string_view body, ParseMsg* out) {
  Reader r(body);
  int16_t n;
  if (!r.cstring(&out->name) || !r.cstring(&out->query) || !r.int16(&n) || n < 0)
    return bad("malformed Parse message");
  if (r.remaining() != size_t(n) * 4) return bad("malformed Parse message");
  out->param_oids.resize(n);
  for (auto& o : out->param_oids) (void)r.int32(&o);
  return Status::OK();
}

Status parse_bind(std::string_view body, BindMsg* out) {
  Reader r(body);
  int16_t nf, np, nr;
  if (!r.cstring(&out->portal) || !r.cstring(&out->statement) || !r.int16(&nf) || nf < 0)
    return bad("malformed Bind message");
  if (r.remaining() < size_t(nf) * 2) return bad("malformed Bind message");
  out->param_formats.resize(nf);
  for (auto& f : out->param_formats) {
    (void)r.int16(&f);
    if (f != 0 && f != 1) return bad("unsupported format code " + std::to_string(f));
  }
  if (!r.int16(&np) || np < 0) return bad("malformed Bind message");
  if (nf > 1 && nf != np)
    return bad("bind message has " + std::to_string(nf) + " parameter formats but " +
               std::to_string(np) + " parameters");
  out->params.clear();
  out->params.reserve(std::min<size_t>(np, r.remaining() / 4 + 1));
  for (int i = 0; i < np; ++i) {
    int32_t len;
    if (!r.int32(&len)) return bad("malformed Bind message");
    if (len == -1) {
      out->params.emplace_back(std::nullopt);
      continue;
    }
    std::string v;
    if (len < 0 || !r.bytes(size_t(len), &v)) return bad("malformed Bind message");
    out->params.emplace_back(std::move(v));
  }
  if (!r.int16(&nr) || nr < 0 || r.remaining() != size_t(nr) * 2)
    return bad("malformed Bind message");
  out->result_formats.resize(nr);
  for (auto& f : out->result_formats) {
    (void)r.int16(&f);
    if (f != 0 && f != 1) return bad("unsupported format code " + std::to_string(f));
  }
  return Status::OK();
}

Status parse_describe(std::string_view body, DescribeMsg* out) {
  Reader r(body);
  uint8_t k;
  if (!r.int8(&k) || (k != 'S' && k != 'P') || !r.cstring(&out->name) || !r.at_end())
    return bad("malformed Describe message");
  out->kind = static_cast<char>(k);
  return Status::OK();
}

Status parse_execute(std::string_view body, ExecuteMsg* out) {
  Reader r(body);
  if (!r.cstring(&out->portal) || !r.int32(&out->max_rows) || !r.at_end())
    return bad("malformed Execute message");
  if (out->max_rows < 0) out->max_rows = 0;
  return Status::OK();
}

Status parse_close(std::string_view body, CloseMsg* out) {
  Reader r(body);
  uint8_t k;
  if (!r.int8(&k) || (k != 'S' && k != 'P') || !r.cstring(&out->name) || !r.at_end())
    return bad("malformed Close message");
  out->kind = static_cast<char>(k);
  return Status::OK();
}

Status parse_query(std::string_view body, QueryMsg* out) {
  Reader r(body);
  if (!r.cstring(&out->query) || !r.at_end()) return bad("malformed Query message");
  return Status::OK();
}

Status parse_sasl_initial(std::string_view body, SaslInitialMsg* out) {
  Reader r(body);
  int32_t len;
  if (!r.cstring(&out->mechanism) || !r.int32(&len)) return bad("malformed SASLInitialResponse");
  if (len == -1) {
    out->data.reset();
  } else {
    std::string d;
    if (len < 0 || !r.bytes(size_t(len), &d)) return bad("malformed SASLInitialResponse");
    out->data = std::move(d);
  }
  if (!r.at_end()) return bad("malformed SASLInitialResponse");
  return Status::OK();
}

bool is_known_frontend_type(char type) {
  switch (type) {
    case 'Q': case 'P': case 'B': case 'D': case 'E': case 'C': case 'S': case 'H':
    case 'X': case 'p': case 'd': case 'c': case 'f': case 'F':
      return true;
    default:
      return false;
  }
}

Status validate_frontend_message(char type, std::string_view body) {
  switch (type) {
    case 'Q': { QueryMsg m; return parse_query(body, &m); }
    case 'P': { ParseMsg m; return parse_parse(body, &m); }
    case 'B': { BindMsg m; return parse_bind(body, &m); }
    case 'D': { DescribeMsg m; return parse_describe(body, &m); }
    case 'E': { ExecuteMsg m; return parse_execute(body, &m); }
    case 'C': { CloseMsg m; return parse_close(body, &m); }
    case 'p': {
      // Either a SASLInitialResponse or raw SASL data: both are just bytes here.
      SaslInitialMsg m;
      (void)parse_sasl_initial(body, &m);
      return Status::OK();
    }
    case 'S': case 'H': case 'X':
      return body.empty() ? Status::OK() : bad("unexpected payload");
    case 'd': case 'c': case 'f': case 'F':
      return Status::OK();
    default:
      return bad(std::string("invalid frontend message type ") + std::to_string(uint8_t(type)));
  }
}

Status FrameDecoder::feed(std::string_view bytes) {
  if (!error_.ok()) return error_;
  buf_.append(bytes);
  size_t pos = 0;
  auto fail = [&](Status s) {
    error_ = std::move(s);
    buf_.clear();
    return error_;
  };
  for (;;) {
    if (!startup_done_) {
      if (buf_.size() - pos < 4) break;
      int32_t len = load_be32(buf_.data() + pos);
      Status st = check_length(len, kMaxStartupBytes);
      if (!st.ok() || len < 8) return fail(st.ok() ? bad("startup packet too short") : st);
      if (buf_.size() - pos < size_t(len)) break;
      StartupPacket p;
      st = parse_startup_packet(std::string_view(buf_).substr(pos + 4, len - 4), &p);
      if (!st.ok()) return fail(st);
      pos += len;
      if (p.kind == StartupPacket::kStartup || p.kind == StartupPacket::kCancel)
        startup_done_ = true;
      startups.push_back(std::move(p));
    } else {
      if (buf_.size() - pos < 5) break;
      char type = buf_[pos];
      int32_t len = load_be32(buf_.data() + pos + 1);
      Status st = check_length(len, kMaxMessageBytes);
      if (!st.ok()) return fail(st);
      if (!is_known_frontend_type(type))
        return fail(bad("invalid frontend message type " + std::to_string(uint8_t(type))));
      if (buf_.size() - pos - 1 < size_t(len)) break;
      std::string_view body = std::string_view(buf_).substr(pos + 5, len - 4);
      st = validate_frontend_message(type, body);
      if (!st.ok()) return fail(st);
      messages.push_back(RawMessage{type, std::string(body)});
      pos += 1 + len;
    }
  }
  buf_.erase(0, pos);
  return Status::OK();
}

// --- Backend ------------------------------------------------------------------------

void append_be16(std::string& s, int16_t v) {
  uint16_t u = static_cast<uint16_t>(v);
  s.push_back(static_cast<char>(u >> 8));
  s.push_back(static_cast<char>(u));
}
void append_be32(std::string& s, int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>(u >> sh));
}
void append_be64(std::string& s, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  for (int sh = 56; sh >= 0; sh -= 8) s.push_back(static_cast<char>(u >> sh));
}

void MessageWriter::begin(char type) {
  buf_.push_back(type);
  start_ = buf_.size();
  append_be32(buf_, 0);
}
void MessageWriter::int16(int16_t v) { append_be16(buf_, v); }
void MessageWriter::int32(int32_t v) { append_be32(buf_, v); }
void MessageWriter::end() { patch32(start_, static_cast<int32_t>(buf_.size() - start_)); }
size_t MessageWriter::reserve32() {
  size_t at = buf_.size();
  append_be32(buf_, 0);
  return at;
}
void MessageWriter::patch32(size_t at, int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  buf_[at] = static_cast<char>(u >> 24);
  buf_[at + 1] = static_cast<char>(u >> 16);
  buf_[at + 2] = static_cast<char>(u >> 8);
  buf_[at + 3] = static_cast<char>(u);
}

static void error_like(MessageWriter& w, char type, const ErrorFields& e) {
  w.begin(type);
  w.int8('S');
  w.cstring(e.severity);
  w.int8('V');
  w.cstring(e.severity);
  w.int8('C');
  w.cstring(e.sqlstate);
  w.int8('M');
  w.cstring(e.message);
  if (!e.detail.empty()) {
    w.int8('D');
    w.cstring(e.detail);
  }
  if (!e.hint.empty()) {
    w.int8('H');
    w.cstring(e.hint);
  }
  if (e.position > 0) {
    w.int8('P');
    w.cstring(std::to_string(e.position));
  }
  w.int8(0);
  w.end();
}

void write_error(MessageWriter& w, const ErrorFields& e) { error_like(w, 'E', e); }
void write_notice(MessageWriter& w, const std::string& message, const char* severity,
                  const char* sqlstate) {
  ErrorFields e;
  e.severity = severity;
  e.sqlstate = sqlstate;
  e.message = message;
  error_like(w, 'N', e);
}

void write_auth(MessageWriter& w, int32_t code, std::string_view data) {
  w.begin('R');
  w.int32(code);
  w.bytes(data);
  w.end();
}
void write_parameter_status(MessageWriter& w, std::string_view name, std::string_view value) {
  w.begin('S');
  w.cstring(name);
  w.cstring(value);
  w.end();
}
void write_backend_key(MessageWriter& w, int32_t pid, int32_t key) {
  w.begin('K');
  w.int32(pid);
  w.int32(key);
  w.end();
}
void write_ready(MessageWriter& w, char status) {
  w.begin('Z');
  w.int8(static_cast<uint8_t>(status));
  w.end();
}
void write_command_complete(MessageWriter& w, std::string_view tag) {
  w.begin('C');
  w.cstring(tag);
  w.end();
}
void write_simple(MessageWriter& w, char type) {
  w.begin(type);
  w.end();
}

void write_row_description(MessageWriter& w, const std::vector<FieldDesc>& fields) {
  w.begin('T');
  w.int16(static_cast<int16_t>(fields.size()));
  for (const auto& f : fields) {
    w.cstring(f.name);
    w.int32(f.table_oid);
    w.int16(f.column);
    w.int32(f.type_oid);
    w.int16(f.typlen);
    w.int32(f.typmod);
    w.int16(f.format);
  }
  w.end();
}

void write_parameter_description(MessageWriter& w, const std::vector<int32_t>& oids) {
  w.begin('t');
  w.int16(static_cast<int16_t>(oids.size()));
  for (int32_t o : oids) w.int32(o);
  w.end();
}

int char_position(std::string_view text, size_t byte_offset) {
  if (byte_offset > text.size()) byte_offset = text.size();
  int chars = 0;
  for (size_t i = 0; i < byte_offset; ++i)
    if ((static_cast<uint8_t>(text[i]) & 0xC0) != 0x80) ++chars;
  return chars + 1;
}

}  // namespace sl::pgwire
