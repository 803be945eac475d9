// PostgreSQL v3 wire format: parsing frontend messages and building backend messages.
//
// Pure functions over byte strings (no sockets, no engine), so the parser can be fuzzed and
// unit-tested in isolation. Malformed input never crashes: parse_* return an error Status
// (the server answers 08P01 and closes the connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace sl::pgwire {

inline constexpr int32_t kProtocolV3 = 196608;  // 3.0
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;
inline constexpr int32_t kCancelRequestCode = 80877102;
// Largest message (length field included) a client may send.
inline constexpr size_t kMaxMessageBytes = size_t{64} << 20;
// Largest startup packet (PostgreSQL allows 10000 bytes).
inline constexpr size_t kMaxStartupBytes = 10000;

// --- Frontend messages ------------------------------------------------------------

// The first packet of a connection (no type byte).
struct StartupPacket {
  enum Kind { kStartup, kSsl, kGssEnc, kCancel } kind = kStartup;
  int32_t protocol = 0;
  std::vector<std::pair<std::string, std::string>> params;  // kStartup
  int32_t cancel_pid = 0, cancel_key = 0;                    // kCancel
  const std::string* param(std::string_view name) const;
};
// `body` is the packet after its 4-byte length.
Status parse_startup_packet(std::string_view body, StartupPacket* out);

struct ParseMsg {  // 'P'
  std::string name, query;
  std::vector<int32_t> param_oids;
};
struct BindMsg {  // 'B'
  std::string portal, statement;
  std::vector<int16_t> param_formats;  // 0 = text, 1 = binary; size 0, 1 or n
  std::vector<std::optional<std::string>> params;
  std::vector<int16_t> result_formats;  // size 0, 1 or n
};
struct DescribeMsg {  // 'D'
  char kind = 'S';  // 'S' statement, 'P' portal
  std::string name;
};
struct ExecuteMsg {  // 'E'
  std::string portal;
  int32_t max_rows = 0;  // 0 = all
};
struct CloseMsg {  // 'C'
  char kind = 'S';
  std::string name;
};
struct QueryMsg {  // 'Q'
  std::string query;
};
struct SaslInitialMsg {  // 'p' during SASL start
  std::string mechanism;
  std::optional<std::string> data;
};

// A typed frontend message split off the stream: type byte and body (without length).
struct RawMessage {
  char type = 0;
  std::string body;
};

// Field readers over a message body; all bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view body) : s_(body) {}
  bool int8(uint8_t* v);
  bool int16(int16_t* v);
  bool int32(int32_t* v);
  bool cstring(std::string* v);  // NUL-terminated
  bool bytes(size_t n, std::string* v);
  size_t remaining() const { return s_.size() - pos_; }
  bool at_end() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

Status parse_parse(std::string_view body, ParseMsg* out);
Status parse_bind(std::string_view body, BindMsg* out);
Status parse_describe(std::string_view body, DescribeMsg* out);
Status parse_execute(std::string_view body, ExecuteMsg* out);
Status parse_close(std::string_view body, CloseMsg* out);
Status parse_query(std::string_view body, QueryMsg* out);
Status parse_sasl_initial(std::string_view body, SaslInitialMsg* out);

// Whether `type` is a frontend message type we know after startup.
bool is_known_frontend_type(char type);
// Validates a typed message by parsing it with the matching parser (unknown types fail).
Status validate_frontend_message(char type, std::string_view body);

// Splits a byte stream into messages as the server reads it: a startup packet first (which
// may be SSL/GSS requests, followed by another startup packet), then typed messages.
// Used by the fuzzer and the malformed-input tests; the socket path uses the same checks.
class FrameDecoder {
 public:
  // Feeds bytes; returns an error on the first malformed frame (sticky).
  Status feed(std::string_view bytes);
  std::vector<StartupPacket> startups;
  std::vector<RawMessage> messages;

 private:
  std::string buf_;
  bool startup_done_ = false;
  Status error_;
};

// Reads a 4-byte big-endian length and checks it (>= 4, <= limit).
Status check_length(int32_t len, size_t limit);

// --- Backend messages -------------------------------------------------------------

// Appends backend messages to a byte buffer.
class MessageWriter {
 public:
  void begin(char type);
  void int8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void int16(int16_t v);
  void int32(int32_t v);
  void cstring(std::string_view s) { buf_.append(s); buf_.push_back('\0'); }
  void bytes(std::string_view s) { buf_.append(s); }
  void end();
  // Placeholder for a length prefix, patched by patch32.
  size_t reserve32();
  void patch32(size_t at, int32_t v);
  std::string& buffer() { return buf_; }
  size_t size() const { return buf_.size(); }
  void clear() { buf_.clear(); }

 private:
  std::string buf_;
  size_t start_ = 0;
};

struct ErrorFields {
  std::string severity = "ERROR";  // ERROR | FATAL
  std::string sqlstate = "XX000";
  std::string message;
  int position = 0;  // 1-based character position in the query, 0 = none
  std::string detail, hint;
};
void write_error(MessageWriter& w, const ErrorFields& e);
// NoticeResponse ('N'): severity NOTICE or WARNING, with its SQLSTATE.
void write_notice(MessageWriter& w, const std::string& message, const char* severity = "NOTICE",
                  const char* sqlstate = "00000");
void write_auth(MessageWriter& w, int32_t code, std::string_view data = {});
void write_parameter_status(MessageWriter& w, std::string_view name, std::string_view value);
void write_backend_key(MessageWriter& w, int32_t pid, int32_t key);
void write_ready(MessageWriter& w, char status);
void write_command_complete(MessageWriter& w, std::string_view tag);
void write_simple(MessageWriter& w, char type);  // '1' '2' '3' 'n' 'I' 's'

struct FieldDesc {
  std::string name;
  int32_t table_oid = 0;
  int16_t column = 0;
  int32_t type_oid = 25;
  int16_t typlen = -1;
  int32_t typmod = -1;
  int16_t format = 0;
};
void write_row_description(MessageWriter& w, const std::vector<FieldDesc>& fields);
void write_parameter_description(MessageWriter& w, const std::vector<int32_t>& oids);

// Big-endian helpers.
inline int32_t load_be32(const char* p) {
  return static_cast<int32_t>((uint32_t(uint8_t(p[0])) << 24) | (uint32_t(uint8_t(p[1])) << 16) |
                              (uint32_t(uint8_t(p[2])) << 8) | uint32_t(uint8_t(p[3])));
}
void append_be16(std::string& s, int16_t v);
void append_be32(std::string& s, int32_t v);
void append_be64(std::string& s, int64_t v);

// Byte offset -> 1-based character position (UTF-8), as ErrorResponse 'P' wants.
int char_position(std::string_view text, size_t byte_offset);

}  // namespace sl::pgwire
