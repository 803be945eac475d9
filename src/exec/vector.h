// Column vectors, data chunks (batches) and selection vectors.
//
// A Vector holds up to `capacity` values of one LogicalType in a flat typed buffer plus a
// validity bitmap (absent = all valid). Strings live in StringHeaps that the vector owns
// or shares (kept alive by shared_ptr), so slicing and projection never copy bytes.
// A DataChunk is a batch of up to kVectorSize rows: one Vector per column and an optional
// per-row sign (+1 insert, -1 retract) that carries changelogs through the operators.
// Not thread-safe: one chunk is touched by one pipeline thread at a time.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/types.h"

#ifndef SL_VECTOR_SIZE
#define SL_VECTOR_SIZE 2048
#endif

namespace sl::exec {

constexpr size_t kVectorSize = SL_VECTOR_SIZE;
static_assert((kVectorSize & (kVectorSize - 1)) == 0, "SL_VECTOR_SIZE must be a power of two");

// Append-only arena for string bytes.
class StringHeap {
 public:
  StringRef add(std::string_view s);
  size_t bytes() const { return total_; }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, cap_ = 0, total_ = 0;
};

// Indices of selected rows, ascending.
struct SelectionVector {
  std::vector<uint32_t> idx;
  size_t size() const { return idx.size(); }
};

class Vector {
 public:
  explicit Vector(LogicalType type, size_t capacity = kVectorSize);
  Vector(Vector&&) = default;
  Vector& operator=(Vector&&) = default;

  const LogicalType& type() const { return type_; }
  size_t capacity() const { return capacity_; }

  // Writable data: copies the buffer first if it is shared with another vector.
  template <class T> T* data() {
    if (buf_rows_ < capacity_ || data_.use_count() > 1) unshare();
    return reinterpret_cast<T*>(data_.get());
  }
  template <class T> const T* data() const { return reinterpret_cast<const T*>(data_.get()); }

  bool all_valid() const { return validity_.empty(); }
  bool is_valid(size_t i) const {
    return validity_.empty() || ((validity_[i >> 6] >> (i & 63)) & 1);
  }
  bool is_null(size_t i) const { return !is_valid(i); }
  void set_null(size_t i) {
    if (validity_.empty()) validity_.assign((capacity_ + 63) / 64, ~uint64_t{0});
    validity_[i >> 6] &= ~(uint64_t{1} << (i & 63));
  }
  void set_valid(size_t i) {
    if (!validity_.empty()) validity_[i >> 6] |= uint64_t{1} << (i & 63);
  }
  void set_all_valid() { validity_.clear(); }
  void set_validity(size_t i, bool v) { v ? set_valid(i) : set_null(i); }

  // Copies `s` into this vector's heap and returns a reference to the copy.
  StringRef add_string(std::string_view s);
  // New strings of this vector go to `heap` (shared with other vectors of a collection).
  void use_heap(std::shared_ptr<StringHeap> heap);
  // Makes strings of `other` safe to reference from this vector.
  void share_heaps(const Vector& other);

  // Copies value i of `src` (same physical type) into row j of this vector.
  // REQUIRES: share_heaps(src) was called (strings are not copied).
  void copy_value(const Vector& src, size_t i, size_t j);
  // this[k] = src[sel[k]] for k < n.
  void gather(const Vector& src, const uint32_t* sel, size_t n);
  // Copies rows [from, from+n) of src to this[at...].
  void copy_range(const Vector& src, size_t from, size_t n, size_t at);
  // Makes this an independent copy of the first n rows of src.
  void copy_from(const Vector& src, size_t n) { reset(); copy_range(src, 0, n, 0); }
  void reset();
  // Makes this vector share src's buffers (zero copy). The shared buffer is read-only
  // by convention: operators always write into vectors they allocated.
  void reference(const Vector& src);
  // A new vector of src's type and capacity sharing its buffers, as reference() does,
  // without first allocating (and zeroing) a buffer of its own.
  static Vector sharing(const Vector& src);
  // Approximate bytes held (buffers plus owned string bytes).
  size_t memory_bytes() const;

 private:
  void unshare();
  LogicalType type_;
  size_t capacity_;
  size_t buf_rows_;  // rows the (possibly shared) buffer holds
  std::shared_ptr<uint8_t[]> data_;
  std::vector<uint64_t> validity_;
  std::shared_ptr<StringHeap> own_heap_;
  std::vector<std::shared_ptr<StringHeap>> heaps_;  // heaps referenced (incl. own)
};

class DataChunk {
 public:
  DataChunk() = default;
  explicit DataChunk(const std::vector<LogicalType>& types, size_t capacity = kVectorSize);
  DataChunk(DataChunk&&) = default;
  DataChunk& operator=(DataChunk&&) = default;

  size_t size() const { return size_; }
  void set_size(size_t n) { assert(n <= capacity_); size_ = n; }
  size_t capacity() const { return capacity_; }
  size_t column_count() const { return cols_.size(); }
  Vector& column(size_t i) { return cols_[i]; }
  const Vector& column(size_t i) const { return cols_[i]; }
  std::vector<LogicalType> types() const;
  void add_column(Vector v) { cols_.push_back(std::move(v)); }

  // Changelog sign per row; absent means every row is an insert (+1).
  bool has_signs() const { return !signs_.empty(); }
  int8_t sign(size_t i) const { return signs_.empty() ? 1 : signs_[i]; }
  const int8_t* signs() const { return signs_.empty() ? nullptr : signs_.data(); }
  void set_sign(size_t i, int8_t s) {
    if (signs_.empty()) signs_.assign(capacity_, 1);
    signs_[i] = s;
  }
  void clear_signs() { signs_.clear(); }

  // Keeps only the selected rows (in place).
  void slice(const SelectionVector& sel);
  // Resets to 0 rows and drops string heaps, ready to be refilled.
  void reset();
  // Copies rows [from, from+n) of src (same types) to the end of this chunk.
  void append(const DataChunk& src, size_t from, size_t n);
  size_t memory_bytes() const;

 private:
  std::vector<Vector> cols_;
  std::vector<int8_t> signs_;
  size_t size_ = 0;
  size_t capacity_ = kVectorSize;
};

}  // namespace sl::exec
