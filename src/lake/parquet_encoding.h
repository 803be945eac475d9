// Parquet's value encodings shared by the writer and the reader: the RLE / bit-packed
// hybrid (definition levels, dictionary indices) and little-endian plain values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace sl::lake::parquet {

inline void put_u32le(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (x86-64, aarch64)
  out->append(b, 4);
}

inline uint32_t load_u32le(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Bits needed for values 0..max_value (0 for max_value 0).
inline int bit_width_of(uint32_t max_value) { return max_value == 0 ? 0 : 32 - __builtin_clz(max_value); }

// Appends the RLE/bit-packed hybrid encoding of n values of `bit_width` bits (no length
// prefix): runs of 8 or more equal values become RLE runs, the rest bit-packed groups of 8.
template <class T>
void rle_hybrid_encode(const T* v, size_t n, int bit_width, std::string* out);

// Decodes the hybrid encoding (no length prefix) of a bounded buffer.
class RleHybridDecoder {
 public:
  RleHybridDecoder(const uint8_t* data, size_t size, int bit_width)
      : p_(data), end_(data + size), bw_(bit_width) {}
  // Writes exactly n values to out; false if the data ends early or is malformed.
  template <class T>
  bool get(T* out, size_t n);

 private:
  bool next_run();
  const uint8_t* p_;
  const uint8_t* end_;
  int bw_;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t packed_left_ = 0;   // values left in the current bit-packed run
  const uint8_t* packed_ = nullptr;
  const uint8_t* packed_end_ = nullptr;
  uint64_t packed_bit_ = 0;    // bit offset of the next value in packed_
};

// ---- implementation ---------------------------------------------------------------

namespace detail {
inline void put_varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Appends `groups` groups of 8 values (v may hold fewer than groups*8: zero padded).
template <class T>
void bit_pack(const T* v, size_t n, size_t groups, int bw, std::string* out) {
  size_t start = out->size();
  out->resize(start + groups * static_cast<size_t>(bw));
  uint8_t* dst = reinterpret_cast<uint8_t*>(out->data() + start);
  uint64_t acc = 0;
  int bits = 0;
  size_t total = groups * 8;
  for (size_t i = 0; i < total; i++) {
    uint64_t x = i < n ? static_cast<uint64_t>(v[i]) : 0;
    acc |= x << bits;
    bits += bw;
    while (bits >= 8) {
      *dst++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) *dst++ = static_cast<uint8_t>(acc);
}
}  // namespace detail

template <class T>
void rle_hybrid_encode(const T* v, size_t n, int bw, std::string* out) {
  const size_t value_bytes = (static_cast<size_t>(bw) + 7) / 8;
  size_t lit_start = 0;  // start of pending literal values (a multiple of 8 from a run end)
  size_t i = 0;
  auto flush_literals = [&](size_t upto) {
    size_t cnt = upto - lit_start;
    if (cnt == 0) return;
    size_t groups = (cnt + 7) / 8;
    detail::put_varint(out, (groups << 1) | 1);
    detail::bit_pack(v + lit_start, cnt, groups, bw, out);
  };
  while (i < n) {
    T x = v[i];
    size_t j = i + 1;
    while (j < n && v[j] == x) j++;
    size_t run = j - i;
    if (run >= 8) {
      flush_literals(i);
      detail::put_varint(out, static_cast<uint64_t>(run) << 1);
      uint64_t xv = static_cast<uint64_t>(x);
      for (size_t b = 0; b < value_bytes; b++) out->push_back(static_cast<char>(xv >> (8 * b)));
      i = j;
      lit_start = i;
    } else {
      // Take a whole group of 8 as literals (a run starting inside it is packed too).
      i = std::min(n, i + 8 - ((i - lit_start) % 8));
    }
  }
  flush_literals(n);
}

inline bool RleHybridDecoder::next_run() {
  // varint header
  uint64_t h = 0;
  for (int shift = 0;; shift += 7) {
    if (p_ >= end_ || shift > 63) return false;
    uint8_t b = *p_++;
    h |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (h & 1) {
    uint64_t groups = h >> 1;
    if (groups == 0) return false;
    uint64_t bytes_avail = static_cast<uint64_t>(end_ - p_);
    uint64_t bytes = groups * static_cast<uint64_t>(bw_);
    if (groups > (uint64_t{1} << 40)) return false;
    // A writer may cut the last run short; take what is there.
    if (bytes > bytes_avail) bytes = bytes_avail;
    packed_ = p_;
    packed_end_ = p_ + bytes;
    packed_bit_ = 0;
    packed_left_ = bw_ == 0 ? groups * 8 : std::min<uint64_t>(groups * 8, bytes * 8 / bw_);
    p_ += bytes;
    return packed_left_ > 0;
  }
  rle_left_ = h >> 1;
  if (rle_left_ == 0) return false;
  size_t vb = (static_cast<size_t>(bw_) + 7) / 8;
  if (static_cast<size_t>(end_ - p_) < vb) return false;
  uint32_t x = 0;
  for (size_t b = 0; b < vb; b++) x |= static_cast<uint32_t>(p_[b]) << (8 * b);
  p_ += vb;
  rle_value_ = x;
  return true;
}

template <class T>
bool RleHybridDecoder::get(T* out, size_t n) {
  size_t k = 0;
  const uint64_t mask = bw_ >= 32 ? 0xffffffffull : ((uint64_t{1} << bw_) - 1);
  while (k < n) {
    if (rle_left_ > 0) {
      size_t m = static_cast<size_t>(std::min<uint64_t>(rle_left_, n - k));
      T x = static_cast<T>(rle_value_);
      for (size_t i = 0; i < m; i++) out[k + i] = x;
      k += m;
      rle_left_ -= m;
      continue;
    }
    if (packed_left_ > 0) {
      size_t m = static_cast<size_t>(std::min<uint64_t>(packed_left_, n - k));
      if (bw_ == 0) {
        for (size_t i = 0; i < m; i++) out[k + i] = 0;
      } else {
        const size_t avail = static_cast<size_t>(packed_end_ - packed_);
        for (size_t i = 0; i < m; i++) {
          size_t byte = packed_bit_ >> 3;
          int shift = static_cast<int>(packed_bit_ & 7);
          uint64_t w = 0;
          if (byte + 8 <= avail) {
            std::memcpy(&w, packed_ + byte, 8);
          } else {
            for (size_t b = 0; byte + b < avail && b < 8; b++) w |= static_cast<uint64_t>(packed_[byte + b]) << (8 * b);
          }
          out[k + i] = static_cast<T>((w >> shift) & mask);
          packed_bit_ += bw_;
        }
      }
      k += m;
      packed_left_ -= m;
      continue;
    }
    if (!next_run()) return false;
  }
  return true;
}

}  // namespace sl::lake::parquet
