#include <cstdio>

#include "kinesis/internal.h"
#include "util/hash.h"

namespace sl::kinesis {

std::string u128_to_string(u128 v) {
  char buf[48];
  int i = 47;
  buf[i] = 0;
  if (v == 0) return "0";
  while (v != 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  return std::string(buf + i, 47 - i);
}

bool parse_u128(std::string_view s, u128* out) {
  if (s.empty() || s.size() > 39) return false;
  u128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    u128 d = static_cast<u128>(c - '0');
    if (v > (kMaxHashKey - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

u128 hash_key_of(std::string_view partition_key) {
  Md5Digest d = md5(partition_key);
  u128 v = 0;
  for (uint8_t b : d) v = (v << 8) | b;
  return v;
}

void json_append_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); i++) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void json_append_epoch_seconds(std::string& out, int64_t ms) {
  char buf[40];
  int64_t sec = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    sec -= 1;
  }
  int n = frac == 0 ? std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(sec))
                    : std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(sec),
                                    static_cast<long long>(frac));
  out.append(buf, n);
}

}  // namespace sl::kinesis
