// log/format.h: the on-disk layout of segment and index files (format version 1).
// Internal to log/ (tests include it to corrupt files on purpose). See README.md.
//
// All integers are little-endian.
//
// Segment file <base offset, 20 digits>.seg:
//   header (32 bytes): magic "SLLOGSEG" | u32 version | u32 header size (32) |
//                      u64 base offset | u32 reserved (0) | u32 CRC32C of bytes [0, 28)
//   then record batches, back to back:
//     batch header (32 bytes): u32 magic kBatchMagic | u32 batch length (header included) |
//                              u32 crc | u32 record count | u64 first offset | i64 arrival_ms
//     body: count × (varint key length, key, varint data length, data)
//   crc = CRC32C over body, then header bytes [0, 8), then header bytes [12, 32); so the
//   body's CRC can be computed before the offset is known (outside the partition lock).
//
// Index file <base offset, 20 digits>.idx, written once when a segment is sealed:
//   header (24 bytes): magic "SLLOGIDX" | u32 version | u32 entry size (24) | u64 base offset
//   entries (24 bytes each): u64 offset | u64 file position | i64 arrival_ms (of that batch)
//   the last entry is a trailer: {segment end offset, segment file size, newest arrival}
//   footer (8 bytes): u32 entry count (trailer included) | u32 CRC32C of all preceding bytes
//   A missing, short or mismatching .idx makes recovery rebuild it from the segment.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace sl::log::format {

inline constexpr uint32_t kVersion = 1;
inline constexpr char kSegMagic[8] = {'S', 'L', 'L', 'O', 'G', 'S', 'E', 'G'};
inline constexpr char kIdxMagic[8] = {'S', 'L', 'L', 'O', 'G', 'I', 'D', 'X'};
inline constexpr size_t kSegHeaderSize = 32;
inline constexpr uint32_t kBatchMagic = 0x31425453;  // "STB1"
inline constexpr size_t kBatchHeaderSize = 32;
inline constexpr size_t kIdxHeaderSize = 24;
inline constexpr size_t kIdxEntrySize = 24;
inline constexpr size_t kIdxFooterSize = 8;
// Largest batch one append() may produce.
inline constexpr uint64_t kMaxBatchBytes = 1ull << 30;

inline void put_u32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void put_u64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint32_t get_u32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t get_u64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

struct BatchHeader {
  uint32_t magic;
  uint32_t length;
  uint32_t crc;
  uint32_t count;
  uint64_t first_offset;
  int64_t arrival_ms;
};

inline BatchHeader decode_batch_header(const char* p) {
  BatchHeader h;
  h.magic = get_u32(p);
  h.length = get_u32(p + 4);
  h.crc = get_u32(p + 8);
  h.count = get_u32(p + 12);
  h.first_offset = get_u64(p + 16);
  h.arrival_ms = static_cast<int64_t>(get_u64(p + 24));
  return h;
}

// Writes a varint (LEB128) at p; returns the end.
inline char* put_varint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Reads a varint from [p, end); returns nullptr if truncated or too long.
inline const char* get_varint(const char* p, const char* end, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t b = static_cast<uint8_t>(*p++);
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return p;
    }
  }
  return nullptr;
}

inline std::string segment_file_name(uint64_t base, const char* ext) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020llu%s", static_cast<unsigned long long>(base), ext);
  return buf;
}

}  // namespace sl::log::format
