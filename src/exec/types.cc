#include "exec/types.h"

#include "exec/error.h"
#include "exec/vector.h"

namespace sl::exec {

std::string LogicalType::to_string() const {
  switch (id) {
    case TypeId::kNull: return "unknown";
    case TypeId::kBoolean: return "boolean";
    case TypeId::kSmallInt: return "smallint";
    case TypeId::kInteger: return "integer";
    case TypeId::kBigInt: return "bigint";
    case TypeId::kReal: return "real";
    case TypeId::kDouble: return "double precision";
    case TypeId::kNumeric:
      return "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeId::kVarchar: return "text";
    case TypeId::kBytea: return "bytea";
    case TypeId::kDate: return "date";
    case TypeId::kTimestamp: return "timestamp without time zone";
    case TypeId::kTimestampTz: return "timestamp with time zone";
    case TypeId::kInterval: return "interval";
  }
  return "?";
}

PhysType phys_type(TypeId t) {
  switch (t) {
    case TypeId::kNull:
    case TypeId::kBoolean: return PhysType::kU8;
    case TypeId::kSmallInt: return PhysType::kI16;
    case TypeId::kInteger:
    case TypeId::kDate: return PhysType::kI32;
    case TypeId::kBigInt:
    case TypeId::kNumeric:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return PhysType::kI64;
    case TypeId::kReal: return PhysType::kF32;
    case TypeId::kDouble: return PhysType::kF64;
    case TypeId::kVarchar:
    case TypeId::kBytea: return PhysType::kStr;
    case TypeId::kInterval: return PhysType::kInterval;
  }
  return PhysType::kU8;
}

size_t LogicalType::physical_size() const {
  static constexpr size_t kSize[] = {1, 2, 4, 8, 4, 8, sizeof(StringRef), sizeof(Interval)};
  return kSize[static_cast<int>(phys_type(id))];
}

int32_t LogicalType::pg_oid() const {
  switch (id) {
    case TypeId::kNull: return 25;
    case TypeId::kBoolean: return 16;
    case TypeId::kSmallInt: return 21;
    case TypeId::kInteger: return 23;
    case TypeId::kBigInt: return 20;
    case TypeId::kReal: return 700;
    case TypeId::kDouble: return 701;
    case TypeId::kNumeric: return 1700;
    case TypeId::kVarchar: return 25;
    case TypeId::kBytea: return 17;
    case TypeId::kDate: return 1082;
    case TypeId::kTimestamp: return 1114;
    case TypeId::kTimestampTz: return 1184;
    case TypeId::kInterval: return 1186;
  }
  return 25;
}

int32_t LogicalType::pg_typmod() const {
  if (id == TypeId::kNumeric) return ((precision << 16) | scale) + 4;
  return -1;
}

int16_t LogicalType::pg_typlen() const {
  switch (id) {
    case TypeId::kBoolean: return 1;
    case TypeId::kSmallInt: return 2;
    case TypeId::kInteger: case TypeId::kReal: case TypeId::kDate: return 4;
    case TypeId::kBigInt: case TypeId::kDouble: case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return 8;
    case TypeId::kInterval: return 16;
    default: return -1;
  }
}

int64_t pow10_i64(int n) {
  static const int64_t k[19] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL,
                                10000000LL, 100000000LL, 1000000000LL, 10000000000LL,
                                100000000000LL, 1000000000000LL, 10000000000000LL,
                                100000000000000LL, 1000000000000000LL, 10000000000000000LL,
                                100000000000000000LL, 1000000000000000000LL};
  return (n >= 0 && n <= 18) ? k[n] : 1;
}

const char* sqlstate_of(const Error& e) {
  if (auto* s = dynamic_cast<const SqlError*>(&e)) return s->sqlstate();
  switch (e.code()) {
    case Errc::kNotFound: return sqlstate::kUndefinedTable;
    case Errc::kAlreadyExists: return sqlstate::kDuplicateTable;
    case Errc::kUnsupported: return sqlstate::kFeatureNotSupported;
    case Errc::kCancelled: return sqlstate::kQueryCanceled;
    case Errc::kResourceExhausted: return sqlstate::kOutOfMemory;
    case Errc::kIoError: return sqlstate::kIoError;
    case Errc::kInternal: case Errc::kCorruption: return sqlstate::kInternal;
    case Errc::kPermissionDenied: return "42501";
    case Errc::kUnauthenticated: return "28000";
    default: return "22023";
  }
}

// ---- StringHeap / Vector / DataChunk ------------------------------------------------

StringRef StringHeap::add(std::string_view s) {
  if (s.empty()) return StringRef("", 0);
  if (used_ + s.size() > cap_) {
    size_t n = std::max<size_t>(s.size(), cap_ ? std::min<size_t>(cap_ * 2, 1 << 20) : 256);
    blocks_.push_back(std::make_unique<char[]>(n));
    cap_ = n;
    used_ = 0;
  }
  char* p = blocks_.back().get() + used_;
  std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  total_ += s.size();
  return StringRef(p, static_cast<uint32_t>(s.size()));
}

Vector::Vector(LogicalType type, size_t capacity)
    : type_(type), capacity_(capacity), buf_rows_(capacity),
      data_(std::make_shared<uint8_t[]>(capacity * type.physical_size())) {}

void Vector::reset() {
  validity_.clear();
  heaps_.clear();
  own_heap_.reset();
  if (data_.use_count() > 1 || buf_rows_ < capacity_) {
    data_ = std::make_shared<uint8_t[]>(capacity_ * type_.physical_size());
    buf_rows_ = capacity_;
  }
}

void Vector::unshare() {
  auto fresh = std::make_shared<uint8_t[]>(capacity_ * type_.physical_size());
  std::memcpy(fresh.get(), data_.get(), std::min(buf_rows_, capacity_) * type_.physical_size());
  data_ = std::move(fresh);
  buf_rows_ = capacity_;
}

Vector Vector::sharing(const Vector& src) {
  Vector v(src.type_, 0);
  v.capacity_ = src.capacity_;
  v.reference(src);
  return v;
}

void Vector::reference(const Vector& src) {
  type_ = src.type_;
  buf_rows_ = src.buf_rows_;
  data_ = src.data_;
  validity_ = src.validity_;
  if (!validity_.empty()) validity_.resize(std::max(validity_.size(), (capacity_ + 63) / 64), ~uint64_t{0});
  own_heap_.reset();
  heaps_ = src.heaps_;
}

StringRef Vector::add_string(std::string_view s) {
  if (!own_heap_) {
    own_heap_ = std::make_shared<StringHeap>();
    heaps_.push_back(own_heap_);
  }
  return own_heap_->add(s);
}

void Vector::use_heap(std::shared_ptr<StringHeap> heap) {
  own_heap_ = heap;
  heaps_.push_back(std::move(heap));
}

void Vector::share_heaps(const Vector& other) {
  if (&other == this) return;
  for (auto& h : other.heaps_) {
    bool have = false;
    for (auto& m : heaps_) have = have || m == h;
    if (!have) heaps_.push_back(h);
  }
}

void Vector::copy_value(const Vector& src, size_t i, size_t j) {
  const size_t w = type_.physical_size();
  std::memcpy(data<uint8_t>() + j * w, src.data_.get() + i * w, w);
  set_validity(j, src.is_valid(i));
}

void Vector::gather(const Vector& src, const uint32_t* sel, size_t n) {
  share_heaps(src);
  dispatch_phys(type_.id, [&](auto tag) {
    using T = decltype(tag);
    const T* s = src.data<T>();
    T* d = data<T>();
    for (size_t k = 0; k < n; k++) d[k] = s[sel[k]];
  });
  if (src.all_valid()) {
    validity_.clear();
  } else {
    validity_.assign((capacity_ + 63) / 64, ~uint64_t{0});
    for (size_t k = 0; k < n; k++)
      if (!src.is_valid(sel[k])) set_null(k);
  }
}

void Vector::copy_range(const Vector& src, size_t from, size_t n, size_t at) {
  share_heaps(src);
  size_t w = type_.physical_size();
  std::memcpy(data<uint8_t>() + at * w, src.data_.get() + from * w, n * w);
  if (src.all_valid() && validity_.empty()) return;
  for (size_t k = 0; k < n; k++) set_validity(at + k, src.is_valid(from + k));
}

size_t Vector::memory_bytes() const {
  size_t b = capacity_ * type_.physical_size() + validity_.size() * 8;
  if (own_heap_) b += own_heap_->bytes();
  return b;
}

DataChunk::DataChunk(const std::vector<LogicalType>& types, size_t capacity) : capacity_(capacity) {
  cols_.reserve(types.size());
  for (auto& t : types) cols_.emplace_back(t, capacity);
}

std::vector<LogicalType> DataChunk::types() const {
  std::vector<LogicalType> t;
  for (auto& c : cols_) t.push_back(c.type());
  return t;
}

void DataChunk::slice(const SelectionVector& sel) {
  for (auto& c : cols_) {
    Vector tmp(c.type(), capacity_);
    tmp.gather(c, sel.idx.data(), sel.size());
    c = std::move(tmp);
  }
  if (!signs_.empty()) {
    for (size_t k = 0; k < sel.size(); k++) signs_[k] = signs_[sel.idx[k]];
  }
  size_ = sel.size();
}

void DataChunk::reset() {
  for (auto& c : cols_) c.reset();
  signs_.clear();
  size_ = 0;
}

void DataChunk::append(const DataChunk& src, size_t from, size_t n) {
  assert(size_ + n <= capacity_);
  for (size_t c = 0; c < cols_.size(); c++) cols_[c].copy_range(src.cols_[c], from, n, size_);
  if (src.has_signs() || has_signs())
    for (size_t k = 0; k < n; k++) set_sign(size_ + k, src.sign(from + k));
  size_ += n;
}

size_t DataChunk::memory_bytes() const {
  size_t b = 0;
  for (auto& c : cols_) b += c.memory_bytes();
  return b;
}

}  // namespace sl::exec
