#include "exec/keys.h"

#include <cmath>
#include <cstring>

namespace sl::exec {
namespace {

template <class U>
void put_be(std::string& s, U v) {
  char buf[sizeof(U)];
  for (size_t b = 0; b < sizeof(U); b++) buf[b] = static_cast<char>((v >> (8 * (sizeof(U) - 1 - b))) & 0xFF);
  s.append(buf, sizeof(U));
}

template <class T>
void encode_value(std::string& s, const T& v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    s.push_back(static_cast<char>(v));
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    put_be<U>(s, static_cast<U>(v) ^ (U(1) << (sizeof(T) * 8 - 1)));
  } else if constexpr (std::is_floating_point_v<T>) {
    double d = v;
    if (d == 0) d = 0;  // -0 -> 0
    uint64_t bits;
    if (std::isnan(d)) bits = 0x7FF8000000000000ULL;
    else std::memcpy(&bits, &d, 8);
    bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
    put_be<uint64_t>(s, bits);
  } else if constexpr (std::is_same_v<T, StringRef>) {
    // 0x00 escaped as 0x00 0xFF; terminated by 0x00 0x00 so prefixes sort first.
    if (v.len && !std::memchr(v.ptr, 0, v.len)) {
      s.append(v.ptr, v.len);
    } else {
      for (uint32_t k = 0; k < v.len; k++) {
        s.push_back(v.ptr[k]);
        if (v.ptr[k] == 0) s.push_back(static_cast<char>(0xFF));
      }
    }
    s.append(2, '\0');
  } else if constexpr (std::is_same_v<T, Interval>) {
    __int128 t = v.total_micros();
    put_be<uint64_t>(s, static_cast<uint64_t>(static_cast<int64_t>(t >> 64)) ^ (uint64_t{1} << 63));
    put_be<uint64_t>(s, static_cast<uint64_t>(t));
  }
}

}  // namespace

void encode_keys(const std::vector<const Vector*>& cols, size_t n, const std::vector<KeySpec>& specs,
                 std::vector<std::string>& keys) {
  keys.resize(n);
  for (auto& k : keys) k.clear();
  for (size_t c = 0; c < cols.size(); c++) {
    const Vector& v = *cols[c];
    KeySpec spec = c < specs.size() ? specs[c] : KeySpec{};
    // NULL marker: sorts before values if nulls_first (after DESC inversion).
    char null_byte = spec.nulls_first != spec.descending ? 0 : 2;
    dispatch_phys(v.type().id, [&](auto tag) {
      using T = decltype(tag);
      const T* d = v.data<T>();
      for (size_t i = 0; i < n; i++) {
        std::string& s = keys[i];
        size_t start = s.size();
        if (v.is_null(i)) {
          s.push_back(null_byte);
        } else {
          s.push_back(1);
          encode_value<T>(s, d[i]);
        }
        if (spec.descending)
          for (size_t k = start; k < s.size(); k++) s[k] = static_cast<char>(~s[k]);
      }
    });
  }
}

size_t fixed_key_width(LogicalType t) {
  switch (phys_type(t.id)) {
    case PhysType::kU8: return 2;
    case PhysType::kI16: return 3;
    case PhysType::kI32: return 5;
    case PhysType::kI64: return 9;
    case PhysType::kF32: case PhysType::kF64: return 9;
    case PhysType::kInterval: return 17;
    case PhysType::kStr: return 0;
  }
  return 0;
}

void encode_column_fixed(const Vector& v, size_t n, KeySpec spec, char* out) {
  size_t w = fixed_key_width(v.type());
  char null_byte = spec.nulls_first != spec.descending ? 0 : 2;
  dispatch_phys(v.type().id, [&](auto tag) {
    using T = decltype(tag);
    const T* d = v.data<T>();
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, uint8_t>) {
      using U = std::make_unsigned_t<T>;
      for (size_t i = 0; i < n; i++) {
        char* o = out + i * w;
        U u = static_cast<U>(static_cast<U>(d[i]) ^ (U(1) << (sizeof(T) * 8 - 1)));
        if constexpr (sizeof(T) == 8) u = __builtin_bswap64(u);
        else if constexpr (sizeof(T) == 4) u = __builtin_bswap32(u);
        else u = __builtin_bswap16(u);
        o[0] = 1;
        std::memcpy(o + 1, &u, sizeof(T));
      }
    } else {
      std::string s;
      for (size_t i = 0; i < n; i++) {
        s.clear();
        s.push_back(1);
        encode_value<T>(s, d[i]);
        std::memcpy(out + i * w, s.data(), w);
      }
    }
  });
  if (!v.all_valid())
    for (size_t i = 0; i < n; i++)
      if (v.is_null(i)) {
        std::memset(out + i * w, 0, w);
        out[i * w] = null_byte;
      }
  if (spec.descending)
    for (size_t i = 0; i < n * w; i++) out[i] = static_cast<char>(~out[i]);
}

bool any_null(const std::vector<const Vector*>& cols, size_t i) {
  for (auto* c : cols)
    if (c->is_null(i)) return true;
  return false;
}

}  // namespace sl::exec
