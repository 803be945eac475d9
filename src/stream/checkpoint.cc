// Checkpoint codec (little-endian, host layout of fixed-size values), atomic file
// writes, and RowStore (the rows of views and errors tables).
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "exec/keys.h"
#include "stream/internal.h"
#include "util/error.h"
#include "util/hash.h"

namespace sl::stream {

namespace {
[[noreturn]] void corrupt(const std::string& what) { throw Error(Errc::kCorruption, "checkpoint: " + what); }
}  // namespace

void Writer::types(const std::vector<LogicalType>& t) {
  u32(static_cast<uint32_t>(t.size()));
  for (auto& x : t) {
    u8(static_cast<uint8_t>(x.id));
    u8(x.precision);
    u8(x.scale);
  }
}

void Writer::chunk(const DataChunk& c) {
  size_t n = c.size();
  u64(n);
  u8(c.has_signs() ? 1 : 0);
  if (c.has_signs()) raw(c.signs(), n);
  for (size_t col = 0; col < c.column_count(); col++) {
    const exec::Vector& v = c.column(col);
    u8(v.all_valid() ? 1 : 0);
    if (!v.all_valid())
      for (size_t i = 0; i < n; i++) u8(v.is_valid(i) ? 1 : 0);
    exec::dispatch_phys(v.type().id, [&](auto t) {
      using T = decltype(t);
      const T* d = v.data<T>();
      if constexpr (std::is_same_v<T, exec::StringRef>) {
        for (size_t i = 0; i < n; i++) {
          if (v.is_null(i)) { u32(0); continue; }
          u32(d[i].len);
          raw(d[i].ptr, d[i].len);
        }
      } else {
        raw(d, n * sizeof(T));
      }
    });
  }
}

uint8_t Reader::u8() { auto s = raw(1); return static_cast<uint8_t>(s[0]); }
uint32_t Reader::u32() { uint32_t v; std::memcpy(&v, raw(4).data(), 4); return v; }
uint64_t Reader::u64() { uint64_t v; std::memcpy(&v, raw(8).data(), 8); return v; }
int64_t Reader::i64() { int64_t v; std::memcpy(&v, raw(8).data(), 8); return v; }
std::string Reader::str() {
  uint64_t n = u64();
  auto s = raw(n);
  return std::string(s);
}
std::string_view Reader::raw(size_t n) {
  if (n > in_.size()) corrupt("truncated");
  auto s = in_.substr(0, n);
  in_.remove_prefix(n);
  return s;
}

std::vector<LogicalType> Reader::types() {
  uint32_t n = u32();
  if (n > 100000) corrupt("bad column count");
  std::vector<LogicalType> t;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t id = u8(), p = u8(), s = u8();
    if (id > static_cast<uint8_t>(exec::TypeId::kInterval)) corrupt("bad type");
    t.emplace_back(static_cast<exec::TypeId>(id), p, s);
  }
  return t;
}

DataChunk Reader::chunk(const std::vector<LogicalType>& types) {
  uint64_t n = u64();
  if (n > (uint64_t{1} << 32)) corrupt("bad row count");
  DataChunk c(types, std::max<size_t>(n, 1));
  c.set_size(n);
  if (u8()) {
    auto s = raw(n);
    for (size_t i = 0; i < n; i++) c.set_sign(i, static_cast<int8_t>(s[i]));
  }
  for (size_t col = 0; col < types.size(); col++) {
    exec::Vector& v = c.column(col);
    if (!u8())
      for (size_t i = 0; i < n; i++)
        if (!u8()) v.set_null(i);
    exec::dispatch_phys(types[col].id, [&](auto t) {
      using T = decltype(t);
      T* d = v.data<T>();
      if constexpr (std::is_same_v<T, exec::StringRef>) {
        for (size_t i = 0; i < n; i++) {
          uint32_t len = u32();
          d[i] = v.add_string(raw(len));
        }
      } else {
        auto b = raw(n * sizeof(T));
        if (n) std::memcpy(static_cast<void*>(d), b.data(), n * sizeof(T));
      }
    });
  }
  return c;
}

namespace {
[[noreturn]] void io_error(const std::string& what, const std::string& path, int e) {
  throw Error(Errc::kIoError, what + " " + path + ": " + std::strerror(e));
}

void write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_error("write", path, errno);
    }
    off += static_cast<size_t>(w);
  }
}

void fsync_dir(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) io_error("open", dir, errno);
  int rc = ::fsync(dfd);
  int e = errno;
  ::close(dfd);
  if (rc != 0) io_error("fsync", dir, e);
}

// Writes `bytes` at `offset` of `path` (created empty first if `create`), then fsyncs it.
void write_synced(const std::string& path, bool create, uint64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644);
  if (fd < 0) io_error("open", path, errno);
  try {
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) io_error("seek", path, errno);
    write_all(fd, bytes, path);
    if (::fsync(fd) != 0) io_error("fsync", path, errno);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  write_synced(tmp, true, 0, bytes);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error(Errc::kIoError, "rename " + tmp + ": " + std::strerror(errno));
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) throw Error(Errc::kIoError, "fsync " + dir + ": " + std::strerror(errno));
  }
}

// ---- RowStore ------------------------------------------------------------------------------

namespace {
std::string row_key(const DataChunk& c, size_t i) {
  // One-row key: encode_keys over a gathered single row.
  std::vector<exec::Vector> one;
  std::vector<const exec::Vector*> cols;
  one.reserve(c.column_count());
  for (size_t k = 0; k < c.column_count(); k++) {
    one.emplace_back(c.column(k).type(), 1);
    one.back().share_heaps(c.column(k));
    one.back().copy_value(c.column(k), i, 0);
    if (c.column(k).is_null(i)) one.back().set_null(0);
    cols.push_back(&one.back());
  }
  std::vector<std::string> keys;
  exec::encode_keys(cols, 1, {}, keys);
  return std::move(keys[0]);
}

void keys_of(const DataChunk& c, std::vector<std::string>& keys) {
  std::vector<const exec::Vector*> cols;
  for (size_t k = 0; k < c.column_count(); k++) cols.push_back(&c.column(k));
  exec::encode_keys(cols, c.size(), {}, keys);
}
// Copies rows [from, from + n) of src to the end of dst, string bytes included: a view
// must not keep the heaps of whole input batches alive for the few rows it keeps.
void append_owned(DataChunk& dst, const DataChunk& src, size_t from, size_t n) {
  size_t at = dst.size();
  for (size_t k = 0; k < src.column_count(); k++) {
    const exec::Vector& sv = src.column(k);
    exec::Vector& dv = dst.column(k);
    if (exec::phys_type(sv.type().id) != exec::PhysType::kStr) {
      dv.copy_range(sv, from, n, at);
      continue;
    }
    const exec::StringRef* sd = sv.data<exec::StringRef>();
    exec::StringRef* dd = dv.data<exec::StringRef>();
    for (size_t i = 0; i < n; i++) {
      if (sv.is_null(from + i)) {
        dv.set_null(at + i);
        continue;
      }
      dv.set_valid(at + i);
      dd[at + i] = dv.add_string(sd[from + i].view());
    }
  }
  dst.set_size(at + n);
}
}  // namespace

void RowStore::append_locked(const DataChunk& c, size_t i) {
  if (chunks_.empty() || chunks_.back()->size() == chunks_.back()->capacity()) {
    chunks_.push_back(std::make_shared<DataChunk>(types_));
    dead_.emplace_back();
  }
  auto& last = *chunks_.back();
  uint64_t id = (uint64_t{chunks_.size() - 1} << 32) | last.size();
  append_owned(last, c, i, 1);
  live_++;
  if (indexed_) index_[row_key(c, i)].push_back(id);
}

void RowStore::build_index_locked() {
  index_.clear();
  std::vector<std::string> keys;
  for (size_t ci = 0; ci < chunks_.size(); ci++) {
    keys_of(*chunks_[ci], keys);
    for (size_t r = 0; r < chunks_[ci]->size(); r++)
      if (dead_[ci].empty() || !dead_[ci][r]) index_[keys[r]].push_back((uint64_t{ci} << 32) | r);
  }
  indexed_ = true;
}

void RowStore::apply(const DataChunk& c) {
  std::lock_guard lk(mu_);
  cache_valid_ = false;
  size_t n = c.size();
  if (n && !journal_dir_.empty()) {
    DataChunk copy(types_, n);
    append_owned(copy, c, 0, n);
    if (c.has_signs())
      for (size_t i = 0; i < n; i++) copy.set_sign(i, c.sign(i));
    pending_.push_back(std::move(copy));
  }
  if (!c.has_signs() && !indexed_) {
    size_t from = 0;
    while (from < n) {
      if (chunks_.empty() || chunks_.back()->size() == chunks_.back()->capacity()) {
        chunks_.push_back(std::make_shared<DataChunk>(types_));
        dead_.emplace_back();
      }
      auto& last = *chunks_.back();
      size_t k = std::min(n - from, last.capacity() - last.size());
      append_owned(last, c, from, k);
      from += k;
      live_ += static_cast<int64_t>(k);
    }
    return;
  }
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; i++) {
    if (c.sign(i) > 0) {
      append_locked(c, i);
      continue;
    }
    if (!indexed_) build_index_locked();
    if (keys.empty()) keys_of(c, keys);
    auto it = index_.find(keys[i]);
    if (it == index_.end() || it->second.empty()) continue;
    uint64_t id = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) index_.erase(it);
    size_t ci = id >> 32, r = id & 0xffffffffu;
    if (dead_[ci].empty()) dead_[ci].assign(chunks_[ci]->capacity(), 0);
    dead_[ci][r] = 1;
    live_--;
    dead_count_++;
  }
  if (dead_count_ > 4096 && dead_count_ > live_) compact_locked();
}

void RowStore::compact_locked() {
  std::vector<std::shared_ptr<DataChunk>> old;
  old.swap(chunks_);
  auto old_dead = std::move(dead_);
  dead_.clear();
  live_ = 0;
  dead_count_ = 0;
  bool was_indexed = indexed_;
  indexed_ = false;
  index_.clear();
  for (size_t ci = 0; ci < old.size(); ci++)
    for (size_t r = 0; r < old[ci]->size(); r++)
      if (old_dead[ci].empty() || !old_dead[ci][r]) append_locked(*old[ci], r);
  if (was_indexed) build_index_locked();
}

std::vector<std::shared_ptr<const DataChunk>> RowStore::snapshot() const {
  std::lock_guard lk(mu_);
  if (cache_valid_) return cache_;
  cache_.clear();
  for (size_t ci = 0; ci < chunks_.size(); ci++) {
    const auto& ch = chunks_[ci];
    bool full = ch->size() == ch->capacity();
    if (full && dead_[ci].empty()) {
      cache_.push_back(ch);
      continue;
    }
    auto copy = std::make_shared<DataChunk>(types_);
    size_t r = 0, n = ch->size();
    while (r < n) {
      if (!dead_[ci].empty() && dead_[ci][r]) { r++; continue; }
      size_t e = r;
      while (e < n && (dead_[ci].empty() || !dead_[ci][e])) e++;
      copy->append(*ch, r, e - r);
      r = e;
    }
    if (copy->size()) cache_.push_back(std::move(copy));
  }
  cache_valid_ = true;
  return cache_;
}

int64_t RowStore::row_count() const {
  std::lock_guard lk(mu_);
  return live_;
}

void RowStore::clear() {
  std::lock_guard lk(mu_);
  chunks_.clear();
  dead_.clear();
  index_.clear();
  indexed_ = false;
  live_ = dead_count_ = 0;
  cache_valid_ = false;
}

size_t RowStore::memory_bytes() const {
  std::lock_guard lk(mu_);
  size_t b = 0;
  for (auto& c : chunks_) b += c->memory_bytes();
  for (auto& [k, v] : index_) b += k.size() + v.size() * 8 + 48;
  return b;
}

RowStore::~RowStore() = default;

void RowStore::attach_journal(std::string dir, std::string base) {
  std::lock_guard lk(mu_);
  journal_dir_ = std::move(dir);
  journal_base_ = std::move(base);
}

std::string RowStore::file_base(const std::string& kind, const std::string& name) {
  static const char* hex = "0123456789abcdef";
  std::string out = kind + "-";
  for (unsigned char ch : name) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

namespace {
std::string gen_path(const std::string& dir, const std::string& base, uint64_t gen) {
  return dir + "/" + base + "." + std::to_string(gen) + ".rows";
}

// [u32 length][u32 crc32c][chunk]
void frame(std::string& out, const DataChunk& c) {
  Writer w;
  w.chunk(c);
  uint32_t len = static_cast<uint32_t>(w.buf().size()), crc = crc32c(w.buf());
  out.append(reinterpret_cast<const char*>(&len), 4);
  out.append(reinterpret_cast<const char*>(&crc), 4);
  out += w.buf();
}
}  // namespace

std::string RowStore::journal_file() const {
  std::lock_guard lk(mu_);
  return gen_ ? gen_path(journal_dir_, journal_base_, gen_) : std::string();
}

void RowStore::save(Writer& w) const {
  if (journal_dir_.empty()) {
    w.u8(0);
    auto snap = snapshot();
    w.types(types_);
    w.u64(snap.size());
    for (auto& c : snap) w.chunk(*c);
    return;
  }
  // The pipeline (the only writer) is not running: no apply() races with this.
  std::vector<DataChunk> changes;
  int64_t live;
  {
    std::lock_guard lk(mu_);
    changes.swap(pending_);
    live = live_;
  }
  bool rotate = gen_ == 0 || journal_rows_ > 2 * static_cast<uint64_t>(live) + 10000;
  try {
    if (rotate) {
      std::filesystem::create_directories(journal_dir_);
      std::string bytes;
      uint64_t rows = 0;
      for (auto& c : snapshot()) {
        frame(bytes, *c);
        rows += c->size();
      }
      std::string path = gen_path(journal_dir_, journal_base_, gen_ + 1);
      write_synced(path, true, 0, bytes);
      fsync_dir(journal_dir_);
      if (gen_) obsolete_.push_back(gen_path(journal_dir_, journal_base_, gen_));
      gen_++;
      journal_bytes_ = bytes.size();
      journal_rows_ = rows;
    } else if (!changes.empty()) {
      std::string bytes;
      uint64_t rows = 0;
      for (auto& c : changes) {
        frame(bytes, c);
        rows += c.size();
      }
      // Whatever an earlier failed try left past journal_bytes_ is overwritten.
      write_synced(gen_path(journal_dir_, journal_base_, gen_), false, journal_bytes_, bytes);
      journal_bytes_ += bytes.size();
      journal_rows_ += rows;
    }
  } catch (...) {
    // Nothing of `changes` is recorded yet: keep them for the next try.
    std::lock_guard lk(mu_);
    changes.insert(changes.end(), std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
    pending_.swap(changes);
    throw;
  }
  w.u8(1);
  w.types(types_);
  w.u64(gen_);
  w.u64(journal_bytes_);
  w.u64(static_cast<uint64_t>(live));
}

void RowStore::committed() {
  std::vector<std::string> old;
  {
    std::lock_guard lk(mu_);
    old.swap(obsolete_);
  }
  for (auto& p : old) ::unlink(p.c_str());
}

void RowStore::remove_files() {
  std::lock_guard lk(mu_);
  if (journal_dir_.empty()) return;
  std::error_code ec;
  std::string prefix = journal_base_ + ".";
  for (auto& e : std::filesystem::directory_iterator(journal_dir_, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() > 5 && n.compare(n.size() - 5, 5, ".rows") == 0)
      std::filesystem::remove(e.path(), ec);
  }
  gen_ = journal_bytes_ = journal_rows_ = 0;
  obsolete_.clear();
  pending_.clear();
}

void RowStore::load(Reader& r) {
  uint8_t mode = r.version >= 2 ? r.u8() : 0;
  auto t = r.types();
  if (t != types_) corrupt("row types differ from the definition");
  clear();
  auto apply_all = [&](const DataChunk& c) {
    for (size_t from = 0; from < c.size(); from += exec::kVectorSize) {
      size_t k = std::min(exec::kVectorSize, c.size() - from);
      DataChunk part(types_);
      part.append(c, from, k);
      apply(part);
    }
  };
  if (mode == 0) {
    uint64_t n = r.u64();
    for (uint64_t i = 0; i < n; i++) apply_all(r.chunk(types_));
  } else if (mode == 1) {
    uint64_t gen = r.u64(), len = r.u64(), live = r.u64();
    if (journal_dir_.empty()) corrupt("rows kept in a state file, but none is attached");
    std::string path = gen_path(journal_dir_, journal_base_, gen);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) corrupt("state file " + path + ": " + std::strerror(errno));
    std::string bytes(len, '\0');
    size_t got = 0;
    while (got < len) {
      ssize_t n = ::pread(fd, bytes.data() + got, len - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    if (got < len) corrupt("state file " + path + " is shorter than the checkpoint says");
    uint64_t rows = 0;
    std::string_view in(bytes);
    while (!in.empty()) {
      if (in.size() < 8) corrupt("state file " + path + ": torn frame");
      uint32_t flen, crc;
      std::memcpy(&flen, in.data(), 4);
      std::memcpy(&crc, in.data() + 4, 4);
      in.remove_prefix(8);
      if (flen > in.size() || crc32c(in.data(), flen) != crc) corrupt("state file " + path + ": checksum mismatch");
      Reader fr(in.substr(0, flen));
      DataChunk c = fr.chunk(types_);
      rows += c.size();
      apply_all(c);
      in.remove_prefix(flen);
    }
    if (static_cast<uint64_t>(row_count()) != live) corrupt("state file " + path + ": row count differs");
    // Cut off what a crash left after the checkpoint (appended, never committed).
    if (::truncate(path.c_str(), static_cast<off_t>(len)) != 0) io_error("truncate", path, errno);
    std::lock_guard lk(mu_);
    pending_.clear();
    gen_ = gen;
    journal_bytes_ = len;
    journal_rows_ = rows;
  } else {
    corrupt("unknown row storage mode");
  }
}

}  // namespace sl::stream
