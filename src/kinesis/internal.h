// Internals of kinesis/ shared by its .cc files and tests (not for other modules).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sl::kinesis {

using u128 = unsigned __int128;
constexpr u128 kMaxHashKey = ~static_cast<u128>(0);

std::string u128_to_string(u128 v);
// Strict decimal (digits only, no sign, no overflow past 2^128-1).
bool parse_u128(std::string_view s, u128* out);
// MD5 of the partition key read as a 128-bit big-endian unsigned integer.
u128 hash_key_of(std::string_view partition_key);

// An API error: __type and message, HTTP 400 (500 for InternalFailure).
struct ApiError : std::runtime_error {
  ApiError(std::string type, std::string message)
      : std::runtime_error(std::move(message)), type(std::move(type)) {}
  std::string type;
  int http_status() const { return type == "InternalFailure" ? 500 : 400; }
};

// Appends `s` as a JSON string literal (with quotes).
void json_append_string(std::string& out, std::string_view s);
// Appends seconds-since-epoch with millisecond precision as a JSON number (1700000000.123).
void json_append_epoch_seconds(std::string& out, int64_t ms);

// Minimal CBOR writer (RFC 8949) for the responses the AWS SDKs read.
class CborWriter {
 public:
  explicit CborWriter(std::string& out) : out_(out) {}
  void map(uint64_t n) { head(5, n); }
  void array(uint64_t n) { head(4, n); }
  void text(std::string_view s) { head(3, s.size()); out_.append(s); }
  void bytes(std::string_view s) { head(2, s.size()); out_.append(s); }
  void uint(uint64_t v) { head(0, v); }
  void sint(int64_t v) {
    if (v >= 0) head(0, static_cast<uint64_t>(v));
    else head(1, static_cast<uint64_t>(-(v + 1)));
  }
  void boolean(bool b) { out_.push_back(b ? '\xf5' : '\xf4'); }
  void null() { out_.push_back('\xf6'); }
  void dbl(double d) {
    out_.push_back('\xfb');
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    for (int i = 7; i >= 0; i--) out_.push_back(static_cast<char>(bits >> (i * 8)));
  }
  // Timestamps as the AWS SDKs' CBOR protocol writes them: tag 1 + epoch milliseconds.
  void timestamp_ms(int64_t ms) { head(6, 1); sint(ms); }

 private:
  void head(uint8_t major, uint64_t v) {
    uint8_t m = static_cast<uint8_t>(major << 5);
    if (v < 24) {
      out_.push_back(static_cast<char>(m | v));
    } else if (v <= 0xff) {
      out_.push_back(static_cast<char>(m | 24));
      out_.push_back(static_cast<char>(v));
    } else if (v <= 0xffff) {
      out_.push_back(static_cast<char>(m | 25));
      for (int i = 1; i >= 0; i--) out_.push_back(static_cast<char>(v >> (i * 8)));
    } else if (v <= 0xffffffffull) {
      out_.push_back(static_cast<char>(m | 26));
      for (int i = 3; i >= 0; i--) out_.push_back(static_cast<char>(v >> (i * 8)));
    } else {
      out_.push_back(static_cast<char>(m | 27));
      for (int i = 7; i >= 0; i--) out_.push_back(static_cast<char>(v >> (i * 8)));
    }
  }
  std::string& out_;
};

}  // namespace sl::kinesis
