#include "exec/hashtable.h"

#include <cstring>

#include "exec/keys.h"

namespace sl::exec {

namespace {
inline uint64_t load8(const char* p) { uint64_t w; std::memcpy(&w, p, 8); return w; }
inline uint32_t load4(const char* p) { uint32_t w; std::memcpy(&w, p, 4); return w; }

// Equal byte strings; short ones with overlapping word loads instead of a memcmp call.
inline bool bytes_eq(const StringRef& a, const StringRef& b) {
  if (a.len != b.len) return false;
  size_t n = a.len;
  if (n >= 8 && n <= 16) return load8(a.ptr) == load8(b.ptr) && load8(a.ptr + n - 8) == load8(b.ptr + n - 8);
  if (n >= 4 && n < 8) return load4(a.ptr) == load4(b.ptr) && load4(a.ptr + n - 4) == load4(b.ptr + n - 4);
  return n == 0 || std::memcmp(a.ptr, b.ptr, n) == 0;
}
}  // namespace

uint64_t hash_bytes(const char* p, size_t n) {
  const uint64_t k = 0x9E3779B97F4A7C15ULL;
  uint64_t h = n * k;
  if (n <= 16) {
    uint64_t a, b;
    if (n >= 8) { a = load8(p); b = load8(p + n - 8); }
    else if (n >= 4) { a = load4(p); b = load4(p + n - 4); }
    else { a = n ? (static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16 | static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8 | static_cast<uint8_t>(p[n - 1])) : 0; b = 0; }
    h = (h ^ a) * k;
    h = (h ^ (h >> 29) ^ b) * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
  }
  while (n >= 8) {
    h = (h ^ load8(p)) * k;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n) h = (h ^ load8(p + n - 8)) * k;  // the original n > 16: the last 8 bytes are in range
  return hash_int(h);
}

namespace {
bool int_like(TypeId t) {
  switch (phys_type(t)) {
    case PhysType::kU8: case PhysType::kI16: case PhysType::kI32: case PhysType::kI64: return t != TypeId::kNull;
    default: return false;
  }
}
constexpr uint64_t kNullHash = 0x5bd1e9955bd1e995ULL;
}  // namespace

struct KeyTable::Probe {
  std::vector<uint64_t> h;
  std::vector<int64_t> iv;
  std::vector<uint8_t> null;
  std::vector<StringRef> sv;
  std::vector<std::string> enc;
};

KeyTable::KeyTable(std::vector<LogicalType> key_types) : types_(std::move(key_types)) {
  if (types_.size() == 1 && int_like(types_[0].id)) mode_ = Mode::kInt;
  else if (types_.size() == 1 && phys_type(types_[0].id) == PhysType::kStr) mode_ = Mode::kStr;
  else mode_ = Mode::kEncoded;
  slots_.assign(64, 0);
  mask_ = 63;
}

size_t KeyTable::memory_bytes() const {
  return slots_.capacity() * 4 + hashes_.capacity() * 8 + ikeys_.capacity() * 8 + inull_.capacity() +
         skeys_.capacity() * sizeof(StringRef) + heap_.bytes();
}

void KeyTable::prepare(const std::vector<const Vector*>& cols, size_t n, Probe& p) const {
  p.h.resize(n);
  if (mode_ == Mode::kInt) {
    const Vector& v = *cols[0];
    p.iv.resize(n);
    p.null.assign(n, 0);
    dispatch_phys(v.type().id, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T>) {
        const T* d = v.data<T>();
        for (size_t i = 0; i < n; i++) { p.iv[i] = static_cast<int64_t>(d[i]); p.h[i] = hash_int(static_cast<uint64_t>(p.iv[i])); }
      }
    });
    if (!v.all_valid())
      for (size_t i = 0; i < n; i++)
        if (v.is_null(i)) { p.null[i] = 1; p.iv[i] = 0; p.h[i] = kNullHash; }
  } else if (mode_ == Mode::kStr) {
    const Vector& v = *cols[0];
    const StringRef* d = v.data<StringRef>();
    p.sv.assign(d, d + n);
    p.null.assign(n, 0);
    for (size_t i = 0; i < n; i++) p.h[i] = hash_bytes(d[i].ptr, d[i].len);
    if (!v.all_valid())
      for (size_t i = 0; i < n; i++)
        if (v.is_null(i)) { p.null[i] = 1; p.sv[i] = StringRef(); p.h[i] = kNullHash; }
  } else {
    encode_keys(cols, n, {}, p.enc);
    p.sv.resize(n);
    for (size_t i = 0; i < n; i++) {
      p.sv[i] = StringRef(p.enc[i].data(), static_cast<uint32_t>(p.enc[i].size()));
      p.h[i] = hash_bytes(p.enc[i].data(), p.enc[i].size());
    }
  }
}

void KeyTable::grow() {
  size_t cap = slots_.size() * 2;
  slots_.assign(cap, 0);
  mask_ = cap - 1;
  for (uint32_t id = 0; id < hashes_.size(); id++) {
    uint64_t pos = hashes_[id] & mask_;
    while (slots_[pos]) pos = (pos + 1) & mask_;
    slots_[pos] = id + 1;
  }
}

void KeyTable::find_or_insert(const std::vector<const Vector*>& cols, size_t n, uint32_t* ids,
                              std::vector<uint32_t>* new_rows) {
  if (mode_ == Mode::kStr && cols[0]->all_valid()) {
    // Within one batch, equal string pointers (a join's build-side values, repeated
    // constants) are equal keys: a small direct-mapped cache skips hashing them. It lives
    // for this call only, while the batch keeps its strings alive.
    struct Hit { const char* ptr; uint32_t len, id; };
    Hit cache[256];
    std::memset(cache, 0, sizeof cache);
    const StringRef* d = cols[0]->data<StringRef>();
    for (size_t i = 0; i < n; i++) {
      Hit& h = cache[(reinterpret_cast<uintptr_t>(d[i].ptr) * 0x9E3779B97F4A7C15ULL) >> 56];
      if (h.ptr == d[i].ptr && h.len == d[i].len && d[i].ptr) { ids[i] = h.id; continue; }
      insert_one(d[i], ids + i, new_rows, i);
      h = Hit{d[i].ptr, d[i].len, ids[i]};
    }
    return;
  }
  thread_local Probe p;
  prepare(cols, n, p);
  for (size_t i = 0; i < n; i++) {
    uint64_t h = p.h[i];
    uint64_t pos = h & mask_;
    uint32_t found = kNone;
    while (uint32_t s = slots_[pos]) {
      uint32_t id = s - 1;
      if (hashes_[id] == h) {
        bool eq;
        if (mode_ == Mode::kInt) eq = ikeys_[id] == p.iv[i] && inull_[id] == p.null[i];
        else if (mode_ == Mode::kStr) eq = bytes_eq(skeys_[id], p.sv[i]) && inull_[id] == p.null[i];
        else eq = bytes_eq(skeys_[id], p.sv[i]);
        if (eq) { found = id; break; }
      }
      pos = (pos + 1) & mask_;
    }
    if (found == kNone) {
      found = static_cast<uint32_t>(hashes_.size());
      hashes_.push_back(h);
      if (mode_ == Mode::kInt) {
        ikeys_.push_back(p.iv[i]);
        inull_.push_back(p.null[i]);
      } else {
        if (mode_ == Mode::kStr) inull_.push_back(p.null[i]);
        skeys_.push_back(p.sv[i].len ? heap_.add(p.sv[i].view()) : StringRef());
      }
      slots_[pos] = found + 1;
      if (new_rows) new_rows->push_back(static_cast<uint32_t>(i));
      if (hashes_.size() * 2 > slots_.size()) grow();
    }
    ids[i] = found;
  }
}

void KeyTable::insert_one(StringRef key, uint32_t* id_out, std::vector<uint32_t>* new_rows, size_t row) {
  uint64_t h = hash_bytes(key.ptr, key.len);
  uint64_t pos = h & mask_;
  while (uint32_t s = slots_[pos]) {
    uint32_t id = s - 1;
    if (hashes_[id] == h && !inull_[id] && bytes_eq(skeys_[id], key)) { *id_out = id; return; }
    pos = (pos + 1) & mask_;
  }
  uint32_t id = static_cast<uint32_t>(hashes_.size());
  hashes_.push_back(h);
  inull_.push_back(0);
  skeys_.push_back(key.len ? heap_.add(key.view()) : StringRef());
  slots_[pos] = id + 1;
  if (new_rows) new_rows->push_back(static_cast<uint32_t>(row));
  if (hashes_.size() * 2 > slots_.size()) grow();
  *id_out = id;
}

void KeyTable::find(const std::vector<const Vector*>& cols, size_t n, uint32_t* ids) const {
  if (mode_ == Mode::kStr && cols[0]->all_valid()) {
    const StringRef* d = cols[0]->data<StringRef>();
    for (size_t i = 0; i < n; i++) {
      uint64_t h = hash_bytes(d[i].ptr, d[i].len);
      uint64_t pos = h & mask_;
      uint32_t found = kNone;
      while (uint32_t s = slots_[pos]) {
        uint32_t id = s - 1;
        if (hashes_[id] == h && !inull_[id] && bytes_eq(skeys_[id], d[i])) { found = id; break; }
        pos = (pos + 1) & mask_;
      }
      ids[i] = found;
    }
    return;
  }
  thread_local Probe p;
  prepare(cols, n, p);
  for (size_t i = 0; i < n; i++) {
    uint64_t h = p.h[i];
    uint64_t pos = h & mask_;
    uint32_t found = kNone;
    while (uint32_t s = slots_[pos]) {
      uint32_t id = s - 1;
      if (hashes_[id] == h) {
        bool eq;
        if (mode_ == Mode::kInt) eq = ikeys_[id] == p.iv[i] && inull_[id] == p.null[i];
        else if (mode_ == Mode::kStr) eq = bytes_eq(skeys_[id], p.sv[i]) && inull_[id] == p.null[i];
        else eq = bytes_eq(skeys_[id], p.sv[i]);
        if (eq) { found = id; break; }
      }
      pos = (pos + 1) & mask_;
    }
    ids[i] = found;
  }
}

}  // namespace sl::exec
