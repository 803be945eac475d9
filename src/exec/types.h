// Logical types of the SQL engine and their physical (in-vector) representation.
//
// Every value of a column lives in a typed vector (exec/vector.h) in the physical type
// given by PhysicalOf<TypeId>; there is no per-value variant on the hot path.
//   boolean      -> uint8_t (0/1)
//   smallint     -> int16_t          int -> int32_t          bigint -> int64_t
//   real         -> float            double precision -> double
//   numeric(p,s) -> int64_t scaled by 10^s (p <= 18)
//   text/varchar/bytea -> StringRef (pointer + length into a StringHeap)
//   date         -> int32_t days since 1970-01-01
//   timestamp/timestamptz -> int64_t microseconds since 1970-01-01 00:00:00 (UTC for tz)
//   interval     -> Interval {months, days, micros}
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sl::exec {

enum class TypeId : uint8_t {
  kNull = 0,  // the type of an untyped NULL literal; coerced away by the binder
  kBoolean,
  kSmallInt,
  kInteger,
  kBigInt,
  kReal,
  kDouble,
  kNumeric,
  kVarchar,
  kBytea,
  kDate,
  kTimestamp,
  kTimestampTz,
  kInterval,
};

struct LogicalType {
  TypeId id = TypeId::kNull;
  uint8_t precision = 0;  // numeric only: total digits (1..18)
  uint8_t scale = 0;      // numeric only: digits after the point

  constexpr LogicalType() = default;
  constexpr LogicalType(TypeId i) : id(i) {}  // NOLINT: types read naturally as TypeIds
  constexpr LogicalType(TypeId i, uint8_t p, uint8_t s) : id(i), precision(p), scale(s) {}
  static constexpr LogicalType numeric(int p, int s) {
    return LogicalType(TypeId::kNumeric, static_cast<uint8_t>(p), static_cast<uint8_t>(s));
  }
  bool operator==(const LogicalType& o) const {
    return id == o.id && (id != TypeId::kNumeric || (precision == o.precision && scale == o.scale));
  }
  bool operator!=(const LogicalType& o) const { return !(*this == o); }

  // "integer", "numeric(10,2)", "timestamp with time zone", ... (PostgreSQL spelling).
  std::string to_string() const;
  bool is_integer() const { return id == TypeId::kSmallInt || id == TypeId::kInteger || id == TypeId::kBigInt; }
  bool is_float() const { return id == TypeId::kReal || id == TypeId::kDouble; }
  bool is_numeric_family() const { return is_integer() || is_float() || id == TypeId::kNumeric; }
  bool is_string() const { return id == TypeId::kVarchar; }
  bool is_temporal() const {
    return id == TypeId::kDate || id == TypeId::kTimestamp || id == TypeId::kTimestampTz;
  }
  // Bytes per value in a vector's data buffer.
  size_t physical_size() const;

  // PostgreSQL wire-protocol metadata (RowDescription).
  int32_t pg_oid() const;
  int32_t pg_typmod() const;  // -1 unless numeric
  int16_t pg_typlen() const;  // -1 for variable length
};

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  bool operator==(const Interval& o) const {
    return months == o.months && days == o.days && micros == o.micros;
  }
  // Comparable as PostgreSQL does: a month is 30 days, a day 24 hours.
  __int128 total_micros() const {
    return (static_cast<__int128>(months) * 30 + days) * 86400000000LL + micros;
  }
};

// A string (or bytea) value: bytes owned by a StringHeap that the vector keeps alive.
struct StringRef {
  const char* ptr = nullptr;
  uint32_t len = 0;
  StringRef() = default;
  StringRef(const char* p, uint32_t n) : ptr(p), len(n) {}
  std::string_view view() const { return {ptr, len}; }
  bool operator==(const StringRef& o) const {
    return len == o.len && (len == 0 || std::memcmp(ptr, o.ptr, len) == 0);
  }
  bool operator<(const StringRef& o) const { return view() < o.view(); }
};

template <TypeId T> struct PhysicalOf;
template <> struct PhysicalOf<TypeId::kBoolean> { using type = uint8_t; };
template <> struct PhysicalOf<TypeId::kSmallInt> { using type = int16_t; };
template <> struct PhysicalOf<TypeId::kInteger> { using type = int32_t; };
template <> struct PhysicalOf<TypeId::kBigInt> { using type = int64_t; };
template <> struct PhysicalOf<TypeId::kReal> { using type = float; };
template <> struct PhysicalOf<TypeId::kDouble> { using type = double; };
template <> struct PhysicalOf<TypeId::kNumeric> { using type = int64_t; };
template <> struct PhysicalOf<TypeId::kVarchar> { using type = StringRef; };
template <> struct PhysicalOf<TypeId::kBytea> { using type = StringRef; };
template <> struct PhysicalOf<TypeId::kDate> { using type = int32_t; };
template <> struct PhysicalOf<TypeId::kTimestamp> { using type = int64_t; };
template <> struct PhysicalOf<TypeId::kTimestampTz> { using type = int64_t; };
template <> struct PhysicalOf<TypeId::kInterval> { using type = Interval; };

// Physical storage classes: the set of C++ types templates are instantiated for.
enum class PhysType : uint8_t { kU8, kI16, kI32, kI64, kF32, kF64, kStr, kInterval };
PhysType phys_type(TypeId t);

// Calls f(T{}) with T the physical C++ type of `t` (kNull dispatches as uint8_t).
template <class F>
decltype(auto) dispatch_phys(TypeId t, F&& f) {
  switch (phys_type(t)) {
    case PhysType::kU8: return f(uint8_t{});
    case PhysType::kI16: return f(int16_t{});
    case PhysType::kI32: return f(int32_t{});
    case PhysType::kI64: return f(int64_t{});
    case PhysType::kF32: return f(float{});
    case PhysType::kF64: return f(double{});
    case PhysType::kStr: return f(StringRef{});
    case PhysType::kInterval: return f(Interval{});
  }
  return f(uint8_t{});
}

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400LL * kMicrosPerSecond;

int64_t pow10_i64(int n);  // 10^n for 0 <= n <= 18

}  // namespace sl::exec
