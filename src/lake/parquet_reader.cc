// Parquet reader: checks the footer and maps the flat schema at open; decodes one row
// group's requested columns page by page into vectors. Every length read from the file is
// checked against the bytes that hold it before anything is allocated from it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>

#include "lake/codec.h"
#include "lake/parquet.h"
#include "lake/parquet_encoding.h"
#include "lake/parquet_meta.h"

namespace sl::lake::parquet {

namespace {

using exec::TypeId;

// How a column's Parquet values become our vector's values.
enum class Conv {
  kBool,          // BOOLEAN -> uint8
  kI32,           // INT32 -> int32 (integer, date, uint16)
  kI32ToI16,      // INT32 INT(8|16) and UINT(8) -> int16
  kI32ToI64,      // INT32 DECIMAL -> int64
  kU32ToI64,      // INT32 UINT(32) -> int64
  kI64,           // INT64 -> int64
  kU64,           // INT64 UINT(64) -> int64, refused beyond INT64_MAX
  kMillis,        // INT64 TIMESTAMP(MILLIS) -> micros
  kNanos,         // INT64 TIMESTAMP(NANOS) -> micros (floor)
  kInt96,         // INT96 (nanos of day, Julian day) -> micros
  kF32,
  kF64,
  kBytes,         // BYTE_ARRAY -> StringRef
  kFixedBytes,    // FIXED_LEN_BYTE_ARRAY -> StringRef
  kDecimalBytes,  // BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY big-endian two's complement -> int64
  kUuid,          // FIXED_LEN_BYTE_ARRAY(16) UUID -> text
  kInterval,      // FIXED_LEN_BYTE_ARRAY(12) INTERVAL -> Interval
};

struct ColumnDesc {
  Field field;
  int32_t physical = 0;
  int32_t type_length = 0;
  int max_def = 0;
  Conv conv = Conv::kI32;
};

const char* physical_name(int32_t t) {
  static const char* kNames[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                 "FIXED_LEN_BYTE_ARRAY"};
  return t >= 0 && t <= 7 ? kNames[t] : "?";
}

// Maps a leaf's physical type and annotations to our type and conversion.
// Returns an empty string on success, else why the column cannot be read.
std::string map_column(const meta::SchemaElement& e, ColumnDesc* d) {
  const int32_t pt = *e.type;
  d->physical = pt;
  d->type_length = e.type_length.value_or(0);
  auto set = [&](exec::LogicalType t, Conv c) {
    d->field.type = t;
    d->conv = c;
    return std::string();
  };
  auto decimal = [&](int precision, int scale) -> std::string {
    if (precision < 1 || precision > 18) {
      return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ") beyond 18 digits";
    }
    if (scale < 0 || scale > precision) return "DECIMAL with a bad scale";
    auto t = exec::LogicalType::numeric(precision, scale);
    switch (pt) {
      case meta::kInt32: return set(t, Conv::kI32ToI64);
      case meta::kInt64: return set(t, Conv::kI64);
      case meta::kByteArray: return set(t, Conv::kDecimalBytes);
      case meta::kFixedLenByteArray:
        if (d->type_length < 1 || d->type_length > 32) return "DECIMAL of a bad length";
        return set(t, Conv::kDecimalBytes);
      default: return std::string("DECIMAL on ") + physical_name(pt);
    }
  };
  auto integer = [&](int bits, bool is_signed) -> std::string {
    if (pt == meta::kInt32 && bits <= 32) {
      if (is_signed) return bits <= 16 ? set(TypeId::kSmallInt, Conv::kI32ToI16) : set(TypeId::kInteger, Conv::kI32);
      if (bits <= 8) return set(TypeId::kSmallInt, Conv::kI32ToI16);
      if (bits <= 16) return set(TypeId::kInteger, Conv::kI32);
      return set(TypeId::kBigInt, Conv::kU32ToI64);
    }
    if (pt == meta::kInt64 && bits == 64) {
      return is_signed ? set(TypeId::kBigInt, Conv::kI64) : set(exec::LogicalType::numeric(18, 0), Conv::kU64);
    }
    return "INT(" + std::to_string(bits) + ") on " + physical_name(pt);
  };
  auto timestamp = [&](int unit, bool utc) -> std::string {
    if (pt != meta::kInt64) return std::string("TIMESTAMP on ") + physical_name(pt);
    exec::LogicalType t = utc ? TypeId::kTimestampTz : TypeId::kTimestamp;
    switch (unit) {
      case meta::kMillis: return set(t, Conv::kMillis);
      case meta::kMicros: return set(t, Conv::kI64);
      case meta::kNanos: return set(t, Conv::kNanos);
      default: return "TIMESTAMP of an unknown unit";
    }
  };
  auto text = [&]() -> std::string {
    if (pt != meta::kByteArray) return std::string("STRING on ") + physical_name(pt);
    return set(TypeId::kVarchar, Conv::kBytes);
  };

  const auto& lt = e.logical;
  switch (lt.kind) {
    case meta::LogicalType::kString:
    case meta::LogicalType::kEnum:
    case meta::LogicalType::kJson: return text();
    case meta::LogicalType::kDecimal: return decimal(lt.precision, lt.scale);
    case meta::LogicalType::kDate:
      if (pt != meta::kInt32) return "DATE on " + std::string(physical_name(pt));
      return set(TypeId::kDate, Conv::kI32);
    case meta::LogicalType::kTimestamp: return timestamp(lt.unit, lt.adjusted_to_utc);
    case meta::LogicalType::kInteger: return integer(lt.bit_width, lt.is_signed);
    case meta::LogicalType::kTime: return "TIME is not supported";
    case meta::LogicalType::kFloat16: return "FLOAT16 is not supported";
    case meta::LogicalType::kUuid:
      if (pt != meta::kFixedLenByteArray || d->type_length != 16) return "UUID of a bad type";
      return set(TypeId::kVarchar, Conv::kUuid);
    case meta::LogicalType::kMap:
    case meta::LogicalType::kList: return "nested types are not supported";
    default: break;  // none, BSON, UNKNOWN, unknown annotations: by converted or physical type
  }
  if (lt.kind == meta::LogicalType::kNone && e.converted_type) {
    switch (*e.converted_type) {
      case meta::kUtf8:
      case meta::kEnum:
      case meta::kJson: return text();
      case meta::kDecimal: return decimal(e.precision.value_or(0), e.scale.value_or(0));
      case meta::kDate:
        if (pt != meta::kInt32) return "DATE on " + std::string(physical_name(pt));
        return set(TypeId::kDate, Conv::kI32);
      case meta::kTimestampMillis: return timestamp(meta::kMillis, false);
      case meta::kTimestampMicros: return timestamp(meta::kMicros, false);
      case meta::kTimeMillis:
      case meta::kTimeMicros: return "TIME is not supported";
      case meta::kUint8: return integer(8, false);
      case meta::kUint16: return integer(16, false);
      case meta::kUint32: return integer(32, false);
      case meta::kUint64: return integer(64, false);
      case meta::kInt8: return integer(8, true);
      case meta::kInt16: return integer(16, true);
      case meta::kInt32C: return integer(32, true);
      case meta::kInt64C: return integer(64, true);
      case meta::kInterval:
        if (pt != meta::kFixedLenByteArray || d->type_length != 12) return "INTERVAL of a bad type";
        return set(TypeId::kInterval, Conv::kInterval);
      case meta::kMap:
      case meta::kMapKeyValue:
      case meta::kList: return "nested types are not supported";
      default: break;  // BSON: bytes
    }
  }
  switch (pt) {
    case meta::kBoolean: return set(TypeId::kBoolean, Conv::kBool);
    case meta::kInt32: return set(TypeId::kInteger, Conv::kI32);
    case meta::kInt64: return set(TypeId::kBigInt, Conv::kI64);
    case meta::kInt96: return set(TypeId::kTimestamp, Conv::kInt96);
    case meta::kFloat: return set(TypeId::kReal, Conv::kF32);
    case meta::kDouble: return set(TypeId::kDouble, Conv::kF64);
    case meta::kByteArray: return set(TypeId::kBytea, Conv::kBytes);
    case meta::kFixedLenByteArray:
      if (d->type_length < 0) return "FIXED_LEN_BYTE_ARRAY of a negative length";
      return set(TypeId::kBytea, Conv::kFixedBytes);
    default: return "unknown physical type " + std::to_string(pt);
  }
}

// Bytes per PLAIN value of fixed-width physical types (0: variable or bit-packed).
size_t plain_width(const ColumnDesc& d) {
  switch (d.physical) {
    case meta::kInt32:
    case meta::kFloat: return 4;
    case meta::kInt64:
    case meta::kDouble: return 8;
    case meta::kInt96: return 12;
    case meta::kFixedLenByteArray: return static_cast<size_t>(d.type_length);
    default: return 0;
  }
}

// Big-endian two's complement of n bytes to int64; false if it does not fit.
bool decimal_from_be(const uint8_t* p, size_t n, int64_t* out) {
  if (n == 0) {
    *out = 0;
    return true;
  }
  const bool neg = p[0] & 0x80;
  size_t skip = 0;
  if (n > 8) {
    skip = n - 8;
    for (size_t i = 0; i < skip; i++) {
      if (p[i] != (neg ? 0xff : 0x00)) return false;
    }
    if (((p[skip] & 0x80) != 0) != neg) return false;
  }
  uint64_t v = neg ? ~uint64_t{0} : 0;
  for (size_t i = skip; i < n; i++) v = (v << 8) | p[i];
  *out = static_cast<int64_t>(v);
  return true;
}

constexpr int64_t kJulianEpochDay = 2440588;  // 1970-01-01

bool int96_to_micros(const uint8_t* p, int64_t* out) {
  uint64_t nanos;
  uint32_t jd;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&jd, p + 8, 4);
  int64_t days = static_cast<int64_t>(jd) - kJulianEpochDay;
  int64_t micros;
  if (__builtin_mul_overflow(days, exec::kMicrosPerDay, &micros)) return false;
  if (nanos > static_cast<uint64_t>(INT64_MAX)) return false;
  return !__builtin_add_overflow(micros, static_cast<int64_t>(nanos / 1000), out);
}

void format_uuid(const uint8_t* p, char* out) {
  static const char* kHex = "0123456789abcdef";
  size_t k = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
    out[k++] = kHex[p[i] >> 4];
    out[k++] = kHex[p[i] & 15];
  }
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

// The physical (vector) C++ type of each conversion's output.
template <Conv C> struct OutOf { using type = int64_t; };
template <> struct OutOf<Conv::kBool> { using type = uint8_t; };
template <> struct OutOf<Conv::kI32> { using type = int32_t; };
template <> struct OutOf<Conv::kI32ToI16> { using type = int16_t; };
template <> struct OutOf<Conv::kF32> { using type = float; };
template <> struct OutOf<Conv::kF64> { using type = double; };
template <> struct OutOf<Conv::kBytes> { using type = exec::StringRef; };
template <> struct OutOf<Conv::kFixedBytes> { using type = exec::StringRef; };
template <> struct OutOf<Conv::kUuid> { using type = exec::StringRef; };
template <> struct OutOf<Conv::kInterval> { using type = exec::Interval; };

// Decodes n PLAIN values of `d` from [p, p + size) into out. Strings point into `base`,
// which holds a copy of the same bytes (UUIDs are formatted into `heap`).
// Returns "" or the reason of failure.
template <Conv C>
std::string decode_plain(const ColumnDesc& d, const uint8_t* p, size_t size, size_t n,
                         typename OutOf<C>::type* out, const char* base, exec::StringHeap* heap) {
  using T = typename OutOf<C>::type;
  if constexpr (C == Conv::kBool) {
    if (n > size * 8) return "too few bytes for the values";
    for (size_t i = 0; i < n; i++) out[i] = (p[i >> 3] >> (i & 7)) & 1;
    return {};
  } else if constexpr (C == Conv::kBytes) {
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
      if (size - pos < 4) return "too few bytes for the values";
      uint32_t len = load_u32le(p + pos);
      pos += 4;
      if (len > size - pos) return "a string length beyond its page";
      out[i] = exec::StringRef(base + pos, len);
      pos += len;
    }
    return {};
  } else if constexpr (C == Conv::kDecimalBytes) {
    if (d.physical == meta::kByteArray) {
      size_t pos = 0;
      for (size_t i = 0; i < n; i++) {
        if (size - pos < 4) return "too few bytes for the values";
        uint32_t len = load_u32le(p + pos);
        pos += 4;
        if (len > size - pos) return "a decimal length beyond its page";
        if (!decimal_from_be(p + pos, len, &out[i])) return "a decimal beyond 18 digits";
        pos += len;
      }
      return {};
    }
    const size_t w = static_cast<size_t>(d.type_length);
    if (n > size / w) return "too few bytes for the values";
    for (size_t i = 0; i < n; i++) {
      if (!decimal_from_be(p + i * w, w, &out[i])) return "a decimal beyond 18 digits";
    }
    return {};
  } else {
    const size_t w = plain_width(d);
    if (w == 0) {
      // FIXED_LEN_BYTE_ARRAY(0): empty values
      if constexpr (C == Conv::kFixedBytes) {
        for (size_t i = 0; i < n; i++) out[i] = exec::StringRef("", 0);
        return {};
      }
      return "a zero-width column";
    }
    if (n > size / w) return "too few bytes for the values";
    for (size_t i = 0; i < n; i++) {
      const uint8_t* v = p + i * w;
      if constexpr (C == Conv::kI32) {
        std::memcpy(&out[i], v, 4);
      } else if constexpr (C == Conv::kI32ToI16) {
        int32_t x;
        std::memcpy(&x, v, 4);
        out[i] = static_cast<int16_t>(x);
      } else if constexpr (C == Conv::kI32ToI64) {
        int32_t x;
        std::memcpy(&x, v, 4);
        out[i] = x;
      } else if constexpr (C == Conv::kU32ToI64) {
        uint32_t x;
        std::memcpy(&x, v, 4);
        out[i] = x;
      } else if constexpr (C == Conv::kI64) {
        std::memcpy(&out[i], v, 8);
      } else if constexpr (C == Conv::kU64) {
        uint64_t x;
        std::memcpy(&x, v, 8);
        if (x > static_cast<uint64_t>(INT64_MAX)) return "an unsigned 64-bit value beyond bigint";
        out[i] = static_cast<int64_t>(x);
      } else if constexpr (C == Conv::kMillis) {
        int64_t x;
        std::memcpy(&x, v, 8);
        if (__builtin_mul_overflow(x, int64_t{1000}, &out[i])) return "a timestamp beyond the microsecond range";
      } else if constexpr (C == Conv::kNanos) {
        int64_t x;
        std::memcpy(&x, v, 8);
        out[i] = floor_div(x, 1000);
      } else if constexpr (C == Conv::kInt96) {
        if (!int96_to_micros(v, &out[i])) return "an INT96 timestamp beyond the microsecond range";
      } else if constexpr (C == Conv::kF32 || C == Conv::kF64) {
        std::memcpy(&out[i], v, sizeof(T));
      } else if constexpr (C == Conv::kFixedBytes) {
        out[i] = exec::StringRef(base + i * w, static_cast<uint32_t>(w));
      } else if constexpr (C == Conv::kUuid) {
        char buf[36];
        format_uuid(v, buf);
        out[i] = heap->add(std::string_view(buf, 36));
      } else if constexpr (C == Conv::kInterval) {
        uint32_t parts[3];
        std::memcpy(parts, v, 12);
        out[i].months = static_cast<int32_t>(parts[0]);
        out[i].days = static_cast<int32_t>(parts[1]);
        out[i].micros = static_cast<int64_t>(parts[2]) * 1000;
      }
    }
    return {};
  }
}

// Decodes one statistics value (PLAIN bytes without a length prefix for byte arrays).
bool decode_stat(const ColumnDesc& d, std::string_view bytes, exec::Value* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  *out = exec::Value::null(d.field.type);
  out->is_null = false;
  auto fixed = [&](size_t w) { return bytes.size() == w; };
  switch (d.conv) {
    case Conv::kBool:
      if (bytes.size() != 1) return false;
      out->i = p[0] & 1;
      return true;
    case Conv::kI32:
    case Conv::kI32ToI16:
    case Conv::kI32ToI64: {
      if (!fixed(4)) return false;
      int32_t x;
      std::memcpy(&x, p, 4);
      out->i = x;
      return true;
    }
    case Conv::kU32ToI64: {
      if (!fixed(4)) return false;
      uint32_t x;
      std::memcpy(&x, p, 4);
      out->i = x;
      return true;
    }
    case Conv::kI64:
    case Conv::kU64:
    case Conv::kMillis:
    case Conv::kNanos: {
      if (!fixed(8)) return false;
      int64_t x;
      std::memcpy(&x, p, 8);
      if (d.conv == Conv::kU64 && x < 0) return false;
      if (d.conv == Conv::kMillis && __builtin_mul_overflow(x, int64_t{1000}, &x)) return false;
      if (d.conv == Conv::kNanos) x = floor_div(x, 1000);
      out->i = x;
      return true;
    }
    case Conv::kF32: {
      if (!fixed(4)) return false;
      float x;
      std::memcpy(&x, p, 4);
      if (std::isnan(x)) return false;
      out->f = x;
      return true;
    }
    case Conv::kF64: {
      if (!fixed(8)) return false;
      double x;
      std::memcpy(&x, p, 8);
      if (std::isnan(x)) return false;
      out->f = x;
      return true;
    }
    case Conv::kBytes:
    case Conv::kFixedBytes:
      out->s.assign(bytes);
      return true;
    case Conv::kDecimalBytes:
      return decimal_from_be(p, bytes.size(), &out->i);
    default:
      return false;  // INT96, UUID, INTERVAL: no usable order
  }
}

// Deprecated min/max (signed order) are trusted only where that order is the type's.
bool legacy_stats_usable(const ColumnDesc& d) {
  switch (d.conv) {
    case Conv::kBool:
    case Conv::kI32:
    case Conv::kI32ToI16:
    case Conv::kI32ToI64:
    case Conv::kI64:
    case Conv::kMillis:
    case Conv::kNanos:
    case Conv::kF32:
    case Conv::kF64: return d.field.type.id != TypeId::kNumeric || d.physical != meta::kByteArray;
    default: return false;
  }
}

ColumnStats chunk_stats(const ColumnDesc& d, const meta::ColumnMetaData& md) {
  ColumnStats s;
  s.null_count = -1;
  if (!md.statistics) return s;
  const auto& st = *md.statistics;
  if (st.null_count) s.null_count = *st.null_count;
  const std::string *lo = nullptr, *hi = nullptr;
  if (st.min_value && st.max_value) {
    lo = &*st.min_value;
    hi = &*st.max_value;
  } else if (st.min && st.max && legacy_stats_usable(d)) {
    lo = &*st.min;
    hi = &*st.max;
  }
  if (lo && hi && decode_stat(d, *lo, &s.min) && decode_stat(d, *hi, &s.max)) s.has_min_max = true;
  else s.min = s.max = exec::Value();
  return s;
}

// ---- encodings of other writers (data page v2): transcoded to PLAIN ---------------

// A bounded cursor over a page's bytes.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  bool varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) return false;
      uint8_t b = *p++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
};

// Bits [off, off + bw) of p (LSB first), bw <= 64; the caller checked the bytes exist.
inline uint64_t read_bits(const uint8_t* p, uint64_t off, int bw) {
  uint64_t v = 0;
  int got = 0;
  while (got < bw) {
    uint64_t bit = off + static_cast<uint64_t>(got);
    int sh = static_cast<int>(bit & 7);
    int take = std::min(8 - sh, bw - got);
    uint64_t part = (p[bit >> 3] >> sh) & ((1u << take) - 1);
    v |= part << got;
    got += take;
  }
  return v;
}

// DELTA_BINARY_PACKED: exactly n values appended to *out as `width`-byte (4 or 8)
// little-endian integers; *used is the bytes consumed. Returns "" or why not.
std::string delta_binary_to_plain(const uint8_t* data, size_t size, size_t n, int width, std::string* out,
                                  size_t* used) {
  Cursor c{data, data + size};
  uint64_t block, mbs, total, first_zz;
  if (!c.varint(&block) || !c.varint(&mbs) || !c.varint(&total) || !c.varint(&first_zz)) {
    return "truncated DELTA_BINARY_PACKED header";
  }
  if (block == 0 || mbs == 0 || block > (1u << 20) || block % mbs != 0 || (block / mbs) % 8 != 0) {
    return "bad DELTA_BINARY_PACKED block layout";
  }
  if (total != n) return "DELTA_BINARY_PACKED holds " + std::to_string(total) + " values, expected " + std::to_string(n);
  const uint64_t per_mini = block / mbs;
  out->reserve(out->size() + n * static_cast<size_t>(width));
  auto emit = [&](uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out->append(b, static_cast<size_t>(width));
  };
  uint64_t last = (first_zz >> 1) ^ (~(first_zz & 1) + 1);
  size_t count = 0;
  if (n > 0) {
    emit(last);
    count = 1;
  }
  std::vector<uint8_t> widths(mbs);
  while (count < n) {
    uint64_t min_zz;
    if (!c.varint(&min_zz)) return "truncated DELTA_BINARY_PACKED block";
    uint64_t min_delta = (min_zz >> 1) ^ (~(min_zz & 1) + 1);
    if (static_cast<uint64_t>(c.end - c.p) < mbs) return "truncated DELTA_BINARY_PACKED bit widths";
    std::memcpy(widths.data(), c.p, mbs);
    c.p += mbs;
    for (uint64_t m = 0; m < mbs && count < n; m++) {
      int bw = widths[m];
      if (bw > 64) return "DELTA_BINARY_PACKED bit width beyond 64";
      uint64_t bytes = per_mini * static_cast<uint64_t>(bw) / 8;
      if (static_cast<uint64_t>(c.end - c.p) < bytes) return "truncated DELTA_BINARY_PACKED miniblock";
      for (uint64_t j = 0; j < per_mini && count < n; j++) {
        uint64_t d = bw == 0 ? 0 : read_bits(c.p, j * static_cast<uint64_t>(bw), bw);
        last = last + min_delta + d;  // wraps as the format intends
        emit(last);
        count++;
      }
      c.p += bytes;
    }
  }
  *used = static_cast<size_t>(c.p - data);
  return {};
}

constexpr size_t kMaxTranscodedBytes = 256u << 20;

// DELTA_LENGTH_BYTE_ARRAY: n lengths (delta) then the bytes; appended as PLAIN.
std::string delta_length_to_plain(const uint8_t* data, size_t size, size_t n, std::string* out, size_t* used) {
  std::string lens;
  size_t u = 0;
  std::string why = delta_binary_to_plain(data, size, n, 4, &lens, &u);
  if (!why.empty()) return why;
  size_t pos = u;
  for (size_t i = 0; i < n; i++) {
    int32_t len;
    std::memcpy(&len, lens.data() + 4 * i, 4);
    if (len < 0 || static_cast<size_t>(len) > size - pos) return "DELTA_LENGTH_BYTE_ARRAY length beyond the page";
    put_u32le(out, static_cast<uint32_t>(len));
    out->append(reinterpret_cast<const char*>(data + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
  }
  *used = pos;
  return {};
}

// DELTA_BYTE_ARRAY: n prefix lengths (delta), then the suffixes as DELTA_LENGTH_BYTE_ARRAY.
std::string delta_byte_array_to_plain(const uint8_t* data, size_t size, size_t n, std::string* out) {
  std::string prefixes, suffixes;
  size_t u = 0, u2 = 0;
  std::string why = delta_binary_to_plain(data, size, n, 4, &prefixes, &u);
  if (!why.empty()) return why;
  why = delta_length_to_plain(data + u, size - u, n, &suffixes, &u2);
  if (!why.empty()) return why;
  std::string prev, cur;
  size_t spos = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t pre;
    std::memcpy(&pre, prefixes.data() + 4 * i, 4);
    uint32_t slen = load_u32le(reinterpret_cast<const uint8_t*>(suffixes.data()) + spos);
    if (pre < 0 || static_cast<size_t>(pre) > prev.size()) return "DELTA_BYTE_ARRAY prefix beyond the previous value";
    cur.assign(prev, 0, static_cast<size_t>(pre));
    cur.append(suffixes, spos + 4, slen);
    spos += 4 + slen;
    if (out->size() + cur.size() > kMaxTranscodedBytes) return "DELTA_BYTE_ARRAY values too large";
    put_u32le(out, static_cast<uint32_t>(cur.size()));
    out->append(cur);
    prev.swap(cur);
  }
  return {};
}

// BYTE_STREAM_SPLIT: byte k of value i is at k * n + i.
std::string byte_stream_split_to_plain(const uint8_t* data, size_t size, size_t n, size_t width, std::string* out) {
  if (width == 0 || n > size / width) return "BYTE_STREAM_SPLIT data too short";
  size_t start = out->size();
  out->resize(start + n * width);
  char* dst = out->data() + start;
  for (size_t k = 0; k < width; k++) {
    for (size_t i = 0; i < n; i++) dst[i * width + k] = static_cast<char>(data[k * n + i]);
  }
  return {};
}

// Limits beyond which a file is treated as corrupt rather than allocated for.
constexpr uint64_t kMaxFooterBytes = 256u << 20;
constexpr int64_t kMaxPageBytes = 1ll << 30;
constexpr int64_t kMaxRowGroupRows = int64_t{1} << 31;

// ---- the reader ---------------------------------------------------------------------

// Output of one column of a row group: vectors of kVectorSize rows, filled in order.
// Vectors of the caller's previous chunks are reused (their buffers were allocated and
// touched already); every row is written, NULL rows with a zero value.
struct ColumnOut {
  ColumnOut(exec::LogicalType t, std::vector<exec::Vector>* p) : type(t), pool(p) {}
  exec::LogicalType type;
  std::vector<exec::Vector>* pool;
  std::vector<exec::Vector> vecs;
  std::shared_ptr<exec::StringHeap> heap;
  size_t rows = 0;
  // Space for at least one more row; returns the vector and the row in it.
  exec::Vector& at(size_t row) {
    size_t k = row / exec::kVectorSize;
    while (vecs.size() <= k) {
      if (!pool->empty()) {
        vecs.push_back(std::move(pool->back()));
        pool->pop_back();
        vecs.back().reset();
      } else {
        vecs.emplace_back(type, exec::kVectorSize);
      }
      if (heap) vecs.back().use_heap(heap);
    }
    return vecs[k];
  }
};

// Per column: its chunk's bytes and a page's, kept between row groups (so that they keep
// their size and are not zero-filled again).
struct ColumnBuffers {
  std::string chunk, page;
};

class ReaderImpl final : public Reader {
 public:
  ReaderImpl(std::unique_ptr<RandomAccessObject> in, std::string name) : in_(std::move(in)), name_(std::move(name)) {}

  Status bad(const std::string& what) const { return corruption("Parquet file " + name_ + ": " + what); }
  Status unsupported(const std::string& what) const {
    return Status(Errc::kUnsupported, "Parquet file " + name_ + ": " + what);
  }

  Status init() {
    file_size_ = in_->size();
    if (file_size_ < 12) return bad("too short (" + std::to_string(file_size_) + " bytes) for a Parquet file");
    std::string tail, head;
    SL_RETURN_IF_ERROR(read_at(file_size_ - 8, 8, &tail));
    SL_RETURN_IF_ERROR(read_at(0, 4, &head));
    if (head != "PAR1") return bad("bad magic at the start (not a Parquet file)");
    if (tail.compare(4, 4, "PAR1") != 0) {
      if (tail.compare(4, 4, "PARE") == 0) return unsupported("encrypted footers are not supported");
      return bad("bad magic at the end (truncated or not a Parquet file)");
    }
    uint32_t footer_len = load_u32le(reinterpret_cast<const uint8_t*>(tail.data()));
    if (footer_len == 0 || footer_len > file_size_ - 12 || footer_len > kMaxFooterBytes) {
      return bad("footer length " + std::to_string(footer_len) + " beyond the file of " +
                 std::to_string(file_size_) + " bytes");
    }
    data_end_ = file_size_ - 8 - footer_len;
    std::string footer;
    SL_RETURN_IF_ERROR(read_at(data_end_, footer_len, &footer));
    thrift::CompactReader r(reinterpret_cast<const uint8_t*>(footer.data()), footer.size());
    meta::decode(r, &fm_);
    if (!r.ok()) return bad("bad footer metadata: " + r.error());
    SL_RETURN_IF_ERROR(map_schema());
    return check_row_groups();
  }

  const std::vector<Field>& schema() const override { return schema_; }
  int64_t num_rows() const override { return fm_.num_rows; }
  size_t num_row_groups() const override { return infos_.size(); }
  const RowGroupInfo& row_group(size_t i) const override { return infos_.at(i); }

  Status read_row_group(size_t i, const std::vector<size_t>& columns, std::vector<exec::DataChunk>* out) override {
    if (i >= infos_.size()) {
      out->clear();
      return invalid_argument("row group " + std::to_string(i) + " out of range");
    }
    for (size_t c : columns) {
      if (c >= cols_.size()) {
        out->clear();
        return invalid_argument("column " + std::to_string(c) + " out of range");
      }
    }
    const auto& rg = fm_.row_groups[i];
    const size_t rows = static_cast<size_t>(rg.num_rows);
    // The caller's previous chunks, if of the same columns, give their vectors back.
    std::vector<std::vector<exec::Vector>> pools(columns.size());
    for (auto& chunk : *out) {
      if (chunk.column_count() != columns.size()) break;
      for (size_t k = 0; k < columns.size(); k++) {
        auto& v = chunk.column(k);
        if (v.type() == cols_[columns[k]].field.type && v.capacity() == exec::kVectorSize) {
          pools[k].push_back(std::move(v));
        }
      }
    }
    out->clear();
    std::vector<ColumnOut> outs;
    outs.reserve(columns.size());
    for (size_t k = 0; k < columns.size(); k++) {
      size_t c = columns[k];
      outs.emplace_back(cols_[c].field.type, &pools[k]);
      Status st = read_column(rg, c, rows, &outs.back());
      if (!st.ok()) return st;
    }
    size_t nchunks = (rows + exec::kVectorSize - 1) / exec::kVectorSize;
    out->reserve(nchunks);
    for (size_t k = 0; k < nchunks; k++) {
      exec::DataChunk dc;
      for (auto& o : outs) dc.add_column(std::move(o.vecs[k]));
      dc.set_size(std::min(exec::kVectorSize, rows - k * exec::kVectorSize));
      out->push_back(std::move(dc));
    }
    return Status::OK();
  }

 private:
  Status read_at(uint64_t off, uint64_t len, std::string* out) {
    Status st = in_->read(off, len, out);
    if (!st.ok()) return Status(st.code(), "Parquet file " + name_ + ": " + st.message());
    if (out->size() != len) return bad("short read");
    return Status::OK();
  }

  Status map_schema() {
    const auto& s = fm_.schema;
    if (s.empty()) return bad("empty schema");
    if (!s[0].num_children || *s[0].num_children < 0) return bad("schema root without children");
    size_t n = static_cast<size_t>(*s[0].num_children);
    if (n != s.size() - 1) {
      return unsupported("nested schemas are not supported (" + std::to_string(s.size() - 1) +
                         " schema elements for " + std::to_string(n) + " columns)");
    }
    for (size_t i = 1; i < s.size(); i++) {
      const auto& e = s[i];
      if (e.num_children && *e.num_children > 0) return unsupported("nested column \"" + e.name + "\" is not supported");
      if (!e.type) return bad("column \"" + e.name + "\" has no type");
      if (e.repetition && *e.repetition == meta::kRepeated) {
        return unsupported("repeated column \"" + e.name + "\" is not supported");
      }
      ColumnDesc d;
      d.field.name = e.name;
      d.field.nullable = !e.repetition || *e.repetition != meta::kRequired;
      d.max_def = d.field.nullable ? 1 : 0;
      std::string why = map_column(e, &d);
      if (!why.empty()) return unsupported("column \"" + e.name + "\": " + why);
      schema_.push_back(d.field);
      cols_.push_back(std::move(d));
      bufs_.emplace_back();
    }
    return Status::OK();
  }

  Status check_row_groups() {
    if (fm_.num_rows < 0) return bad("negative row count");
    int64_t total = 0;
    for (size_t g = 0; g < fm_.row_groups.size(); g++) {
      const auto& rg = fm_.row_groups[g];
      const std::string where = "row group " + std::to_string(g);
      if (rg.num_rows < 0 || rg.num_rows > kMaxRowGroupRows) return bad(where + ": bad row count");
      if (rg.columns.size() != cols_.size()) {
        return bad(where + " has " + std::to_string(rg.columns.size()) + " columns, the schema " +
                   std::to_string(cols_.size()));
      }
      total += rg.num_rows;
      RowGroupInfo info;
      info.rows = rg.num_rows;
      for (size_t c = 0; c < cols_.size(); c++) {
        const auto& cc = rg.columns[c];
        const std::string col = where + ", column \"" + cols_[c].field.name + "\"";
        if (cc.file_path) return unsupported(col + " lives in another file");
        if (!cc.meta_data) return bad(col + " has no metadata");
        const auto& md = *cc.meta_data;
        if (md.type != cols_[c].physical) return bad(col + ": physical type differs from the schema's");
        uint64_t start, len;
        if (!chunk_range(md, &start, &len)) {
          return bad(col + ": column chunk offsets beyond the file");
        }
        if (md.num_values != rg.num_rows) {
          return bad(col + ": " + std::to_string(md.num_values) + " values for " + std::to_string(rg.num_rows) + " rows");
        }
        info.compressed_bytes += len;
        info.columns.push_back(chunk_stats(cols_[c], md));
      }
      infos_.push_back(std::move(info));
    }
    if (total != fm_.num_rows) {
      return bad("row groups hold " + std::to_string(total) + " rows, the footer says " + std::to_string(fm_.num_rows));
    }
    return Status::OK();
  }

  bool chunk_range(const meta::ColumnMetaData& md, uint64_t* start, uint64_t* len) const {
    int64_t s = md.data_page_offset;
    if (md.dictionary_page_offset && *md.dictionary_page_offset > 0 && *md.dictionary_page_offset < s) {
      s = *md.dictionary_page_offset;
    }
    if (s < 4 || md.total_compressed_size < 0) return false;
    if (static_cast<uint64_t>(s) > data_end_ || static_cast<uint64_t>(md.total_compressed_size) > data_end_ - s) {
      return false;
    }
    *start = static_cast<uint64_t>(s);
    *len = static_cast<uint64_t>(md.total_compressed_size);
    return true;
  }

  // Decodes column c of the row group (rows values) into o.
  Status read_column(const meta::RowGroup& rg, size_t c, size_t rows, ColumnOut* o) {
    const ColumnDesc& d = cols_[c];
    const auto& md = *rg.columns[c].meta_data;
    const std::string col = "column \"" + d.field.name + "\"";
    Codec codec;
    if (!codec_from_thrift(md.codec, &codec)) return unsupported(col + ": compression codec " + std::to_string(md.codec) + " is not supported");
    uint64_t start, len;
    if (!chunk_range(md, &start, &len)) return bad(col + ": column chunk offsets beyond the file");
    ColumnBuffers& b = bufs_[c];
    SL_RETURN_IF_ERROR(read_at(start, len, &b.chunk));
    if (d.field.type.is_string() || d.field.type.id == TypeId::kBytea) o->heap = std::make_shared<exec::StringHeap>();
    Status st;
    switch (d.conv) {
#define SL_CONV(C) \
  case Conv::C: st = read_pages<Conv::C>(d, codec, rows, &b, o); break;
      SL_CONV(kBool) SL_CONV(kI32) SL_CONV(kI32ToI16) SL_CONV(kI32ToI64) SL_CONV(kU32ToI64) SL_CONV(kI64)
      SL_CONV(kU64) SL_CONV(kMillis) SL_CONV(kNanos) SL_CONV(kInt96) SL_CONV(kF32) SL_CONV(kF64)
      SL_CONV(kBytes) SL_CONV(kFixedBytes) SL_CONV(kDecimalBytes) SL_CONV(kUuid) SL_CONV(kInterval)
#undef SL_CONV
    }
    if (!st.ok()) {
      if (st.code() == Errc::kCorruption) return bad(col + ": " + st.message());
      if (st.code() == Errc::kUnsupported) return unsupported(col + ": " + st.message());
      return st;
    }
    if (o->rows != rows) {
      return bad(col + ": " + std::to_string(o->rows) + " values for " + std::to_string(rows) + " rows");
    }
    return Status::OK();
  }

  template <Conv C>
  Status read_pages(const ColumnDesc& d, Codec codec, size_t rows, ColumnBuffers* bufs, ColumnOut* o) {
    std::string& chunk = bufs->chunk;
    std::string& page = bufs->page;
    using T = typename OutOf<C>::type;
    const uint8_t* base = reinterpret_cast<const uint8_t*>(chunk.data());
    const size_t size = chunk.size();
    size_t pos = 0;
    std::vector<T> dict;
    bool have_dict = false;
    std::vector<T>& vals = *scratch<T>();
    while (o->rows < rows) {
      if (pos >= size) return corruption("the column chunk ends after " + std::to_string(o->rows) + " values");
      thrift::CompactReader r(base + pos, size - pos);
      meta::PageHeader h;
      meta::decode(r, &h);
      if (!r.ok()) return corruption("bad page header: " + r.error());
      pos += r.position();
      if (h.compressed_page_size < 0 || static_cast<uint64_t>(h.compressed_page_size) > size - pos) {
        return corruption("page of " + std::to_string(h.compressed_page_size) + " bytes beyond its column chunk");
      }
      if (h.uncompressed_page_size < 0 || h.uncompressed_page_size > kMaxPageBytes) {
        return corruption("bad uncompressed page size " + std::to_string(h.uncompressed_page_size));
      }
      std::string_view payload(reinterpret_cast<const char*>(base + pos), static_cast<size_t>(h.compressed_page_size));
      pos += static_cast<size_t>(h.compressed_page_size);
      const size_t usize = static_cast<size_t>(h.uncompressed_page_size);

      if (h.type == meta::kDictionaryPage) {
        if (!h.dictionary_page) return corruption("dictionary page without its header");
        if (have_dict) return corruption("a second dictionary page");
        if (C == Conv::kBool) return corruption("a dictionary for a boolean column");
        const auto& dh = *h.dictionary_page;
        if (dh.encoding != meta::kPlain && dh.encoding != meta::kPlainDictionary) {
          return Status(Errc::kUnsupported, "dictionary encoding " + std::to_string(dh.encoding));
        }
        SL_RETURN_IF_ERROR(comp_.decompress(codec, payload, usize, &page));
        if (dh.num_values < 0 || static_cast<size_t>(dh.num_values) > page.size() + 1) {
          return corruption("dictionary of " + std::to_string(dh.num_values) + " values in " +
                            std::to_string(page.size()) + " bytes");
        }
        dict.resize(static_cast<size_t>(dh.num_values));
        const char* sbase = page.data();
        if (o->heap && !page.empty()) sbase = o->heap->add(page).ptr;
        std::string why = decode_plain<C>(d, reinterpret_cast<const uint8_t*>(page.data()), page.size(), dict.size(),
                                          dict.data(), sbase, o->heap.get());
        if (!why.empty()) return corruption("dictionary page: " + why);
        have_dict = true;
        continue;
      }
      if (h.type != meta::kDataPage && h.type != meta::kDataPageV2) continue;  // index pages etc.

      // Levels and values of a v1 or v2 data page.
      size_t n;
      int32_t encoding;
      const uint8_t* levels = nullptr;
      size_t levels_size = 0;
      const uint8_t* values;
      size_t values_size;
      if (h.type == meta::kDataPage) {
        if (!h.data_page) return corruption("data page without its header");
        const auto& dp = *h.data_page;
        if (dp.num_values < 0) return corruption("negative value count");
        n = static_cast<size_t>(dp.num_values);
        encoding = dp.encoding;
        SL_RETURN_IF_ERROR(comp_.decompress(codec, payload, usize, &page));
        const uint8_t* p = reinterpret_cast<const uint8_t*>(page.data());
        size_t left = page.size();
        if (d.max_def > 0) {
          if (dp.definition_level_encoding != meta::kRle) {
            return Status(Errc::kUnsupported, "definition level encoding " + std::to_string(dp.definition_level_encoding));
          }
          if (left < 4) return corruption("page too short for its definition levels");
          uint32_t l = load_u32le(p);
          if (l > left - 4) return corruption("definition levels of " + std::to_string(l) + " bytes beyond the page");
          levels = p + 4;
          levels_size = l;
          p += 4 + l;
          left -= 4 + l;
        }
        values = p;
        values_size = left;
      } else {
        if (!h.data_page_v2) return corruption("data page v2 without its header");
        const auto& dp = *h.data_page_v2;
        if (dp.num_values < 0 || dp.definition_levels_byte_length < 0 || dp.repetition_levels_byte_length < 0) {
          return corruption("negative sizes in a data page v2 header");
        }
        n = static_cast<size_t>(dp.num_values);
        encoding = dp.encoding;
        size_t rl = static_cast<size_t>(dp.repetition_levels_byte_length);
        size_t dl = static_cast<size_t>(dp.definition_levels_byte_length);
        if (rl + dl > payload.size() || rl + dl > usize) return corruption("levels beyond the page");
        levels = reinterpret_cast<const uint8_t*>(payload.data()) + rl;
        levels_size = dl;
        std::string_view rest = payload.substr(rl + dl);
        if (dp.is_compressed && codec != Codec::kNone) {
          SL_RETURN_IF_ERROR(comp_.decompress(codec, rest, usize - rl - dl, &page));
        } else {
          if (rest.size() != usize - rl - dl) return corruption("page size differs from its header");
          page.assign(rest);
        }
        values = reinterpret_cast<const uint8_t*>(page.data());
        values_size = page.size();
        if (d.max_def == 0) levels = nullptr;
      }
      if (n > rows - o->rows) {
        return corruption("pages hold more than the row group's " + std::to_string(rows) + " values");
      }

      // Definition levels: which of the n rows have values.
      size_t nv = n;
      const uint8_t* defs = nullptr;
      if (d.max_def > 0) {
        defs_.resize(n);
        RleHybridDecoder dec(levels, levels_size, 1);
        if (!dec.get(defs_.data(), n)) return corruption("bad definition levels");
        nv = 0;
        for (size_t k = 0; k < n; k++) {
          if (defs_[k] > 1) return corruption("definition level beyond 1");
          nv += defs_[k];
        }
        defs = defs_.data();
      }

      // Other writers' v2 encodings become PLAIN first.
      if (encoding == meta::kDeltaBinaryPacked || encoding == meta::kDeltaLengthByteArray ||
          encoding == meta::kDeltaByteArray || encoding == meta::kByteStreamSplit) {
        transcoded_.clear();
        std::string why;
        size_t used = 0;
        if (encoding == meta::kDeltaBinaryPacked && (d.physical == meta::kInt32 || d.physical == meta::kInt64)) {
          why = delta_binary_to_plain(values, values_size, nv, d.physical == meta::kInt32 ? 4 : 8, &transcoded_, &used);
        } else if (encoding == meta::kDeltaLengthByteArray && d.physical == meta::kByteArray) {
          why = delta_length_to_plain(values, values_size, nv, &transcoded_, &used);
        } else if (encoding == meta::kDeltaByteArray &&
                   (d.physical == meta::kByteArray || d.physical == meta::kFixedLenByteArray)) {
          why = delta_byte_array_to_plain(values, values_size, nv, &transcoded_);
          if (why.empty() && d.physical == meta::kFixedLenByteArray) {
            // PLAIN FIXED_LEN_BYTE_ARRAY has no length prefixes: drop them, check widths.
            std::string fixed;
            size_t pos = 0;
            for (size_t k = 0; k < nv && why.empty(); k++) {
              uint32_t l = load_u32le(reinterpret_cast<const uint8_t*>(transcoded_.data()) + pos);
              if (l != static_cast<uint32_t>(d.type_length)) why = "DELTA_BYTE_ARRAY value of a bad width";
              fixed.append(transcoded_, pos + 4, l);
              pos += 4 + l;
            }
            transcoded_.swap(fixed);
          }
        } else if (encoding == meta::kByteStreamSplit && plain_width(d) > 0 && d.physical != meta::kInt96) {
          why = byte_stream_split_to_plain(values, values_size, nv, plain_width(d), &transcoded_);
        } else {
          return Status(Errc::kUnsupported, "value encoding " + std::to_string(encoding) + " on " +
                                                physical_name(d.physical) + " is not supported");
        }
        if (!why.empty()) return corruption(why);
        values = reinterpret_cast<const uint8_t*>(transcoded_.data());
        values_size = transcoded_.size();
        encoding = meta::kPlain;
      }

      // Values (a PLAIN page must hold at least the bytes its count needs).
      if (encoding == meta::kPlain) {
        size_t w = C == Conv::kBool ? 0 : (C == Conv::kBytes || d.physical == meta::kByteArray) ? 4 : plain_width(d);
        size_t need = C == Conv::kBool ? (nv + 7) / 8 : nv * w;
        if (need > values_size) return corruption("too few bytes for " + std::to_string(nv) + " values");
      }
      vals.resize(nv);
      if (encoding == meta::kPlain) {
        const char* sbase = reinterpret_cast<const char*>(values);
        if (o->heap && values_size > 0 && (C == Conv::kBytes || C == Conv::kFixedBytes)) {
          sbase = o->heap->add(std::string_view(reinterpret_cast<const char*>(values), values_size)).ptr;
        }
        std::string why = decode_plain<C>(d, values, values_size, nv, vals.data(), sbase, o->heap.get());
        if (!why.empty()) return corruption(why);
      } else if (encoding == meta::kRleDictionary || encoding == meta::kPlainDictionary) {
        if (!have_dict) return corruption("dictionary-encoded page without a dictionary");
        if (nv > 0) {
          if (values_size < 1) return corruption("dictionary page without its bit width");
          int bw = values[0];
          if (bw > 32) return corruption("dictionary index bit width " + std::to_string(bw));
          idx_.resize(nv);
          RleHybridDecoder dec(values + 1, values_size - 1, bw);
          if (!dec.get(idx_.data(), nv)) return corruption("bad dictionary indices");
          const size_t dn = dict.size();
          for (size_t k = 0; k < nv; k++) {
            if (idx_[k] >= dn) return corruption("dictionary index beyond the dictionary");
            vals[k] = dict[idx_[k]];
          }
        }
      } else if (encoding == meta::kRle && C == Conv::kBool) {
        // Booleans in RLE (data page v2 writers): 4-byte length, then the hybrid, width 1.
        if constexpr (C == Conv::kBool) {
          if (values_size < 4) return corruption("boolean RLE data too short");
          uint32_t l = load_u32le(values);
          if (l > values_size - 4) return corruption("boolean RLE length beyond the page");
          RleHybridDecoder dec(values + 4, l, 1);
          if (!dec.get(vals.data(), nv)) return corruption("bad boolean RLE data");
        }
      } else {
        return Status(Errc::kUnsupported, "value encoding " + std::to_string(encoding) + " is not supported");
      }
      emit(o, n, defs, vals.data());
    }
    return Status::OK();
  }

  // Appends n rows: row k is NULL if defs && defs[k] == 0, else the next of vals.
  template <class T>
  void emit(ColumnOut* o, size_t n, const uint8_t* defs, const T* vals) {
    size_t v = 0;
    size_t k = 0;
    while (k < n) {
      exec::Vector& vec = o->at(o->rows);
      size_t row = o->rows % exec::kVectorSize;
      size_t m = std::min(n - k, exec::kVectorSize - row);
      T* dst = vec.data<T>();
      if (!defs) {
        std::copy(vals + v, vals + v + m, dst + row);
        v += m;
      } else {
        for (size_t j = 0; j < m; j++) {
          if (defs[k + j]) {
            dst[row + j] = vals[v++];
          } else {
            dst[row + j] = T{};
            vec.set_null(row + j);
          }
        }
      }
      k += m;
      o->rows += m;
    }
  }

  template <class T>
  std::vector<T>* scratch() {
    if constexpr (std::is_same_v<T, uint8_t>) return &s_u8_;
    else if constexpr (std::is_same_v<T, int16_t>) return &s_i16_;
    else if constexpr (std::is_same_v<T, int32_t>) return &s_i32_;
    else if constexpr (std::is_same_v<T, int64_t>) return &s_i64_;
    else if constexpr (std::is_same_v<T, float>) return &s_f32_;
    else if constexpr (std::is_same_v<T, double>) return &s_f64_;
    else if constexpr (std::is_same_v<T, exec::StringRef>) return &s_str_;
    else return &s_iv_;
  }

  std::unique_ptr<RandomAccessObject> in_;
  std::string name_;
  uint64_t file_size_ = 0, data_end_ = 0;
  meta::FileMetaData fm_;
  std::vector<Field> schema_;
  std::vector<ColumnDesc> cols_;
  std::vector<RowGroupInfo> infos_;
  Compressor comp_;
  std::vector<ColumnBuffers> bufs_;
  std::string transcoded_;
  std::vector<uint8_t> defs_;
  std::vector<uint32_t> idx_;
  std::vector<uint8_t> s_u8_;
  std::vector<int16_t> s_i16_;
  std::vector<int32_t> s_i32_;
  std::vector<int64_t> s_i64_;
  std::vector<float> s_f32_;
  std::vector<double> s_f64_;
  std::vector<exec::StringRef> s_str_;
  std::vector<exec::Interval> s_iv_;
};

}  // namespace

Result<std::unique_ptr<Reader>> Reader::open(std::unique_ptr<RandomAccessObject> in, std::string name) {
  auto r = std::make_unique<ReaderImpl>(std::move(in), std::move(name));
  SL_RETURN_IF_ERROR(r->init());
  return std::unique_ptr<Reader>(std::move(r));
}

}  // namespace sl::lake::parquet
