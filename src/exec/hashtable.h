// KeyTable: maps the keys of one or more columns to dense ids 0..size()-1 (hash aggregate
// groups, hash join build keys). Open addressing over a power-of-two slot array with the
// 64-bit hash of each id kept beside it; three key layouts chosen from the key types:
//   - one integer-like column (boolean, smallint..bigint, date, timestamp[tz], numeric):
//     the value widened to int64, compared directly;
//   - one text/bytea column: the bytes (copied into the table's own heap), hashed and
//     compared as bytes;
//   - anything else: the normalized key (keys.h), as bytes.
// NULL is a key like any other (GROUP BY puts NULLs in one group); joins skip NULL keys
// before probing. Internal to exec/; one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exec/vector.h"

namespace sl::exec {

class KeyTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  explicit KeyTable(std::vector<LogicalType> key_types);

  // ids[i] = id of row i's key (rows [0, n) of cols), inserting unseen keys; the rows
  // that created new ids are appended to new_rows, in id order.
  void find_or_insert(const std::vector<const Vector*>& cols, size_t n, uint32_t* ids,
                      std::vector<uint32_t>* new_rows);
  // ids[i] = id of row i's key or kNone.
  void find(const std::vector<const Vector*>& cols, size_t n, uint32_t* ids) const;
  size_t size() const { return hashes_.size(); }
  size_t memory_bytes() const;

 private:
  enum class Mode { kInt, kStr, kEncoded };
  struct Probe;  // per-batch keys in the table's layout
  void prepare(const std::vector<const Vector*>& cols, size_t n, Probe& p) const;
  void grow();
  // kStr: id of a non-NULL key, inserting it (row goes to new_rows if new).
  void insert_one(StringRef key, uint32_t* id, std::vector<uint32_t>* new_rows, size_t row);
  Mode mode_;
  std::vector<LogicalType> types_;
  std::vector<uint32_t> slots_;  // id + 1, 0 = empty
  uint64_t mask_ = 0;
  std::vector<uint64_t> hashes_;  // per id
  std::vector<int64_t> ikeys_;    // kInt: per id
  std::vector<uint8_t> inull_;    // kInt / kStr: per id, 1 = the NULL key
  std::vector<StringRef> skeys_;  // kStr / kEncoded: per id
  StringHeap heap_;
};

// 64-bit hash of bytes (fast for short keys) and of an integer.
uint64_t hash_bytes(const char* p, size_t n);
inline uint64_t hash_int(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
  return x;
}

}  // namespace sl::exec
