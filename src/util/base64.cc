#include "util/base64.h"

#include <array>
#include <cstdint>

namespace sl {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int i = 0; i < 64; i++) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return t;
}
constexpr auto kDecode = make_decode_table();

}  // namespace

void base64_encode_append(std::string_view in, std::string& out) {
  size_t n = in.size();
  size_t start = out.size();
  out.resize(start + (n + 2) / 3 * 4);
  char* o = out.data() + start;
  auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (i < n) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = (i + 1 < n) ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

std::string base64_encode(std::string_view in) {
  std::string out;
  base64_encode_append(in, out);
  return out;
}

bool base64_decode_append(std::string_view in, std::string& out) {
  size_t n = in.size();
  if (n % 4 != 0) return false;
  if (n == 0) return true;
  size_t pad = 0;
  if (in[n - 1] == '=') pad++;
  if (in[n - 2] == '=') pad++;
  size_t start = out.size();
  out.resize(start + n / 4 * 3 - pad);
  auto* o = reinterpret_cast<uint8_t*>(out.data() + start);
  auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t full = pad ? n - 4 : n;
  for (size_t i = 0; i < full; i += 4) {
    uint32_t a = kDecode[p[i]], b = kDecode[p[i + 1]], c = kDecode[p[i + 2]], d = kDecode[p[i + 3]];
    if ((a | b | c | d) & 0x80) return false;
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *o++ = static_cast<uint8_t>(v >> 16);
    *o++ = static_cast<uint8_t>(v >> 8);
    *o++ = static_cast<uint8_t>(v);
  }
  if (pad) {
    size_t i = n - 4;
    uint32_t a = kDecode[p[i]], b = kDecode[p[i + 1]];
    uint32_t c = pad == 2 ? 0 : kDecode[p[i + 2]];
    if ((a | b | c) & 0x80) return false;
    uint32_t v = (a << 18) | (b << 12) | (c << 6);
    *o++ = static_cast<uint8_t>(v >> 16);
    if (pad == 1) *o++ = static_cast<uint8_t>(v >> 8);
    // Non-canonical trailing bits are accepted, as most decoders (and AWS) do.
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  if (!base64_decode_append(in, out)) return std::nullopt;
  return out;
}

}  // namespace sl
