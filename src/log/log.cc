// Implementation of log/log.h. See README.md for the file format, threads and invariants.
#include "log/log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "log/format.h"
#include "util/hash.h"

namespace sl::log {
namespace {

namespace fs = std::filesystem;
using namespace format;

constexpr size_t kReadChunk = 256 << 10;
// Threads that help the commit thread run a round's fdatasyncs concurrently.
constexpr int kSyncHelpers = 3;

// An fd the commit thread may have to sync. Closed when the last holder lets go, so a
// segment trimmed or dropped while queued for sync stays a valid fd until synced.
struct SyncFile {
  int fd = -1;
  bool is_dir = false;
  // Synced after the round's segment files: an .idx (or a directory entry) on disk then
  // implies the segment bytes it describes are on disk too.
  bool after_data = false;
  bool queued = false;  // in LogStoreImpl::touched_; guarded by commit_mu_
  std::shared_ptr<std::atomic<bool>> failed;  // the owning partition's failure flag
  SyncFile(int f, bool dir, std::shared_ptr<std::atomic<bool>> fl)
      : fd(f), is_dir(dir), failed(std::move(fl)) {}
  ~SyncFile() {
    if (fd >= 0) ::close(fd);
  }
  SyncFile(const SyncFile&) = delete;
  SyncFile& operator=(const SyncFile&) = delete;
};

struct IndexEntry {
  uint64_t offset;
  uint64_t pos;
  int64_t arrival;
};

// One segment file. base and file never change; the rest is guarded by the partition's
// mutex and changes only while the segment is active.
struct Segment {
  uint64_t base = 0;
  std::string path;  // .seg
  // The active segment's fd (read-write). Sealed segments hold no fd, so a long
  // retention does not pin thousands of descriptors; readers open them on demand and
  // share the open file while any of them still reads (read_file).
  std::shared_ptr<SyncFile> file;
  std::weak_ptr<SyncFile> read_file;
  uint64_t size = kSegHeaderSize;  // bytes of complete batches (header included)
  uint64_t end = 0;                // offset after the last record
  int64_t max_arrival = -1;        // newest arrival in the segment, -1 if empty
  std::vector<IndexEntry> index;   // sparse, sorted; first batch always indexed
};

Status write_all(int fd, const char* p, size_t n, uint64_t pos) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(pos));
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error_errno("pwrite");
    }
    if (w == 0) return io_error("pwrite wrote nothing");
    p += w;
    n -= static_cast<size_t>(w);
    pos += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

// Reads up to n bytes at pos; returns bytes read (short only at end of file).
Result<size_t> read_at(int fd, char* p, size_t n, uint64_t pos) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, p + got, n - got, static_cast<off_t>(pos + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error_errno("pread");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error_errno("open dir " + dir);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) {
    errno = e;
    return io_error_errno("fsync dir " + dir);
  }
  return Status::OK();
}

void encode_seg_header(char* h, uint64_t base) {
  std::memset(h, 0, kSegHeaderSize);
  std::memcpy(h, kSegMagic, 8);
  put_u32(h + 8, kVersion);
  put_u32(h + 12, kSegHeaderSize);
  put_u64(h + 16, base);
  put_u32(h + 28, crc32c(h, 28));
}

bool seg_header_ok(const char* h, uint64_t base) {
  return std::memcmp(h, kSegMagic, 8) == 0 && get_u32(h + 8) == kVersion &&
         get_u32(h + 12) == kSegHeaderSize && get_u64(h + 16) == base &&
         get_u32(h + 28) == crc32c(h, 28);
}

uint32_t batch_crc(const char* batch, size_t len, uint32_t body_crc) {
  uint32_t c = crc32c_extend(body_crc, batch, 8);
  return crc32c_extend(c, batch + 12, kBatchHeaderSize - 12);
}

// Checks a whole batch in memory: header fields, CRC and that the body holds exactly
// `count` well-formed records.
bool batch_valid(const char* b, const BatchHeader& h) {
  if (h.magic != kBatchMagic || h.length < kBatchHeaderSize || h.count == 0) return false;
  uint32_t body = crc32c(b + kBatchHeaderSize, h.length - kBatchHeaderSize);
  if (batch_crc(b, h.length, body) != h.crc) return false;
  const char* p = b + kBatchHeaderSize;
  const char* e = b + h.length;
  for (uint32_t i = 0; i < h.count; i++) {
    uint64_t n;
    for (int f = 0; f < 2; f++) {
      p = get_varint(p, e, &n);
      if (!p || n > static_cast<uint64_t>(e - p)) return false;
      p += n;
    }
  }
  return p == e;
}

bool valid_partition_name(const std::string& n) {
  if (n.empty() || n.size() > 200 || n == "." || n == "..") return false;
  for (char c : n) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A reusable per-thread read buffer; a nested use (scan from inside a scan callback)
// gets its own.
struct ReadBuffer {
  std::vector<char>* buf;
  std::vector<char> own;
  bool* busy = nullptr;
  ReadBuffer() {
    thread_local std::vector<char> tl;
    thread_local bool tl_busy = false;
    if (!tl_busy) {
      tl_busy = true;
      busy = &tl_busy;
      buf = &tl;
    } else {
      buf = &own;
    }
    if (buf->size() < kReadChunk + Partition::kScanPadding) buf->resize(kReadChunk + Partition::kScanPadding);
  }
  ~ReadBuffer() {
    if (busy) *busy = false;
  }
  char* data() { return buf->data(); }
  // Usable bytes; kScanPadding more are allocated after them (scan_groups' promise).
  size_t size() const { return buf->size() - Partition::kScanPadding; }
  void ensure(size_t n) {
    if (size() < n) buf->resize(n + Partition::kScanPadding);
  }
};

void sync_one(SyncFile& f) {
  int rc;
  do {
    rc = f.is_dir ? ::fsync(f.fd) : ::fdatasync(f.fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    std::fprintf(stderr, "streamlake log: fdatasync failed: %s\n", std::strerror(errno));
    f.failed->store(true);
  }
}

// Runs one round's fdatasyncs concurrently: they wait on the device, not the CPU, and
// the file system can fold concurrent syncs into one journal commit, so a round that
// touched several partitions costs about one sync, not one per file. The commit thread
// takes part; helpers only join in when a round has more than one file.
class SyncPool {
 public:
  explicit SyncPool(int helpers) {
    for (int i = 0; i < helpers; i++) threads_.emplace_back([this] { helper(); });
  }
  ~SyncPool() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  // Syncs files[begin, end) and returns when all are done.
  void run(const std::vector<std::shared_ptr<SyncFile>>& files, size_t begin, size_t end) {
    if (end - begin <= 1 || threads_.empty()) {
      for (size_t i = begin; i < end; i++) sync_one(*files[i]);
      return;
    }
    std::unique_lock lk(mu_);
    files_ = &files;
    next_ = begin;
    end_ = end;
    remaining_ = end - begin;
    gen_++;
    lk.unlock();
    cv_.notify_all();
    work(gen_);
    lk.lock();
    done_cv_.wait(lk, [&] { return remaining_ == 0; });
    files_ = nullptr;
  }

 private:
  // Claims files of round `gen` until none is left. A helper that wakes late finds the
  // round's files all claimed (or a newer round) and claims nothing.
  void work(uint64_t gen) {
    std::unique_lock lk(mu_);
    while (gen_ == gen && next_ < end_) {
      SyncFile& f = *(*files_)[next_++];
      lk.unlock();
      sync_one(f);
      lk.lock();
      if (--remaining_ == 0) done_cv_.notify_all();
    }
  }
  void helper() {
    uint64_t seen = 0;
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || gen_ != seen; });
      if (stop_) return;
      seen = gen_;
      lk.unlock();
      work(seen);
      lk.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::vector<std::shared_ptr<SyncFile>>* files_ = nullptr;  // guarded by mu_
  size_t next_ = 0, end_ = 0, remaining_ = 0;                      // guarded by mu_
  uint64_t gen_ = 0;                                               // guarded by mu_
  bool stop_ = false;                                              // guarded by mu_
  std::vector<std::thread> threads_;
};

class LogStoreImpl;

class PartitionImpl final : public Partition {
 public:
  PartitionImpl(LogStoreImpl* store, std::string name, std::string dir)
      : store_(store), name_(std::move(name)), dir_(std::move(dir)) {}

  const std::string& name() const override { return name_; }
  uint64_t start_offset() const override { return start_.load(std::memory_order_acquire); }
  uint64_t durable_end() const override { return durable_end_.load(std::memory_order_acquire); }
  uint64_t next_offset() const override { return next_.load(std::memory_order_acquire); }
  int64_t last_arrival_ms() const override {
    return durable_arrival_.load(std::memory_order_acquire);
  }

  Result<uint64_t> scan(uint64_t from, size_t max_records, size_t max_bytes,
                        const std::function<bool(const RecordRef&)>& fn) const override;
  Result<uint64_t> scan_groups(uint64_t from, size_t max_records, size_t max_bytes,
                               const std::function<bool(std::span<const RecordRef>)>& fn) const override;
  Result<uint64_t> offset_at_time(int64_t ts_ms) const override;

  // Loads the partition's files (recovery). Called once, before the partition is shared.
  Status recover();
  // Creates a fresh partition directory with one empty segment.
  Status init_fresh();

  // REQUIRES: mu_ held.
  Status roll_locked(uint64_t index_interval);
  // An open fd for reading `s`. REQUIRES: mu_ held (so trim cannot unlink it meanwhile).
  Result<std::shared_ptr<SyncFile>> file_for_read_locked(Segment& s) const;
  Result<std::shared_ptr<Segment>> create_segment_file(uint64_t base, bool sync_now);

  LogStoreImpl* store_;
  const std::string name_;
  std::string dir_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Segment>> segs_;  // guarded by mu_; sorted by base, never empty
  int64_t last_arrival_written_ = -1;           // guarded by mu_
  std::shared_ptr<SyncFile> dir_file_;          // the partition directory, for fsync after a roll

  std::atomic<uint64_t> start_{0};
  std::atomic<uint64_t> durable_end_{0};
  std::atomic<uint64_t> next_{0};
  std::atomic<int64_t> durable_arrival_{-1};
  // Set when an fdatasync or a rollback failed: page-cache state is unknown, so the
  // partition refuses appends until the store is reopened.
  std::shared_ptr<std::atomic<bool>> failed_ = std::make_shared<std::atomic<bool>>(false);
  int inflight_ = 0;  // appends waiting for the commit thread; guarded by store commit_mu_

 private:
  struct Validated {
    uint64_t valid_size;  // bytes up to the last good batch
    uint64_t end;         // offset after the last good batch
    int64_t max_arrival;
    std::vector<IndexEntry> index;
  };
  Result<Validated> validate_segment(int fd, uint64_t base, uint64_t file_size,
                                     uint64_t interval) const;
  bool load_index(Segment* s, uint64_t file_size, uint64_t next_base) const;
};

Status write_index_file(const Segment& s, int* out_fd) {
  std::string buf;
  size_t n = s.index.size() + 1;
  buf.resize(kIdxHeaderSize + n * kIdxEntrySize + kIdxFooterSize);
  char* p = buf.data();
  std::memcpy(p, kIdxMagic, 8);
  put_u32(p + 8, kVersion);
  put_u32(p + 12, kIdxEntrySize);
  put_u64(p + 16, s.base);
  p += kIdxHeaderSize;
  auto put_entry = [&](const IndexEntry& e) {
    put_u64(p, e.offset);
    put_u64(p + 8, e.pos);
    put_u64(p + 16, static_cast<uint64_t>(e.arrival));
    p += kIdxEntrySize;
  };
  for (const auto& e : s.index) put_entry(e);
  put_entry({s.end, s.size, s.max_arrival});
  put_u32(p, static_cast<uint32_t>(n));
  put_u32(p + 4, crc32c(buf.data(), static_cast<size_t>(p + 4 - buf.data())));
  std::string path = s.path.substr(0, s.path.size() - 4) + ".idx";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return io_error_errno("open " + path);
  Status st = write_all(fd, buf.data(), buf.size(), 0);
  if (!st.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return st;
  }
  *out_fd = fd;
  return Status::OK();
}

class LogStoreImpl final : public LogStore {
 public:
  LogStoreImpl(std::string dir, LogOptions o)
      : dir_(std::move(dir)), opt_(o), parts_dir_(dir_ + "/parts"), trash_dir_(dir_ + "/trash") {}
  ~LogStoreImpl() override {
    close();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  Status init();

  Result<Partition*> create_partition(const std::string& name) override;
  Partition* find_partition(const std::string& name) const override {
    std::shared_lock lk(map_mu_);
    auto it = parts_.find(name);
    return it == parts_.end() ? nullptr : it->second.get();
  }
  std::vector<std::string> partition_names() const override {
    std::shared_lock lk(map_mu_);
    std::vector<std::string> r;
    r.reserve(parts_.size());
    for (const auto& [n, p] : parts_) r.push_back(n);
    return r;
  }
  Status drop_partition(const std::string& name) override;
  Result<AppendResult> append(Partition* p, std::span<const RecordIn> records, int64_t arrival_ms,
                              DurableCallback on_durable) override;
  Result<uint64_t> trim_before_time(Partition* p, int64_t ts_ms) override;
  void set_durable_listener(std::function<void()> fn) override { listener_ = std::move(fn); }
  void close() override;

  const LogOptions& options() const { return opt_; }

  // REQUIRES: commit_mu_ held.
  void touch_locked(const std::shared_ptr<SyncFile>& f) {
    if (!f->queued) {
      f->queued = true;
      touched_.push_back(f);
    }
  }
  void touch(const std::shared_ptr<SyncFile>& f) {
    std::lock_guard lk(commit_mu_);
    touch_locked(f);
  }

 private:
  struct Pending {
    PartitionImpl* p;
    uint64_t end;
    int64_t arrival;
    DurableCallback cb;
  };
  void commit_loop();
  void notify_listener() {
    if (listener_) listener_();
  }

  const std::string dir_;
  const LogOptions opt_;
  int lock_fd_ = -1;

  mutable std::shared_mutex map_mu_;
  std::map<std::string, std::unique_ptr<PartitionImpl>> parts_;  // guarded by map_mu_
  std::string parts_dir_, trash_dir_;
  // Serializes create_partition and drop_partition (directory renames). Never taken by
  // the commit thread, so drop may wait for it while holding this.
  std::mutex dir_mu_;
  uint64_t trash_seq_ = 0;  // guarded by dir_mu_

  std::function<void()> listener_;

  std::mutex commit_mu_;
  std::condition_variable commit_cv_;   // work for the commit thread
  std::condition_variable drained_cv_;  // a round finished
  std::vector<Pending> pending_;                  // guarded by commit_mu_
  std::vector<std::shared_ptr<SyncFile>> touched_;  // guarded by commit_mu_
  bool committer_waiting_ = false;                // guarded by commit_mu_
  bool stop_ = false;                             // guarded by commit_mu_
  std::atomic<bool> closed_{false};
  std::thread committer_;
};

// ---------------------------------------------------------------------------------------
// Partition: files and recovery

Result<std::shared_ptr<Segment>> PartitionImpl::create_segment_file(uint64_t base, bool sync_now) {
  auto s = std::make_shared<Segment>();
  s->base = base;
  s->end = base;
  s->path = dir_ + "/" + segment_file_name(base, ".seg");
  int fd = ::open(s->path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) return io_error_errno("open " + s->path);
  s->file = std::make_shared<SyncFile>(fd, false, failed_);
  char h[kSegHeaderSize];
  encode_seg_header(h, base);
  Status st = write_all(fd, h, kSegHeaderSize, 0);
  if (st.ok() && sync_now && ::fdatasync(fd) != 0) st = io_error_errno("fdatasync " + s->path);
  if (!st.ok()) {
    ::unlink(s->path.c_str());
    return st;
  }
  return s;
}

Status PartitionImpl::init_fresh() {
  SL_ASSIGN_OR_RETURN(auto seg, create_segment_file(0, true));
  segs_.push_back(std::move(seg));
  return Status::OK();
}

Result<PartitionImpl::Validated> PartitionImpl::validate_segment(int fd, uint64_t base,
                                                                 uint64_t file_size,
                                                                 uint64_t interval) const {
  Validated v{kSegHeaderSize, base, -1, {}};
  if (file_size < kSegHeaderSize) {
    v.valid_size = 0;
    return v;
  }
  char h[kSegHeaderSize];
  SL_ASSIGN_OR_RETURN(size_t got, read_at(fd, h, kSegHeaderSize, 0));
  if (got < kSegHeaderSize || !seg_header_ok(h, base)) {
    v.valid_size = 0;
    return v;
  }
  std::vector<char> buf(1 << 20);
  uint64_t pos = kSegHeaderSize;
  uint64_t last_indexed = 0;
  bool have_index = false;
  while (pos + kBatchHeaderSize <= file_size) {
    SL_ASSIGN_OR_RETURN(size_t n, read_at(fd, buf.data(), kBatchHeaderSize, pos));
    if (n < kBatchHeaderSize) break;
    BatchHeader bh = decode_batch_header(buf.data());
    if (bh.magic != kBatchMagic || bh.length < kBatchHeaderSize || bh.length > file_size - pos ||
        bh.first_offset != v.end || bh.count == 0 || bh.arrival_ms < v.max_arrival)
      break;
    if (buf.size() < bh.length) buf.resize(bh.length);
    SL_ASSIGN_OR_RETURN(n, read_at(fd, buf.data(), bh.length, pos));
    if (n < bh.length || !batch_valid(buf.data(), bh)) break;
    if (!have_index || pos - last_indexed >= interval) {
      v.index.push_back({bh.first_offset, pos, bh.arrival_ms});
      last_indexed = pos;
      have_index = true;
    }
    pos += bh.length;
    v.end = bh.first_offset + bh.count;
    v.max_arrival = bh.arrival_ms;
    v.valid_size = pos;
  }
  return v;
}

bool PartitionImpl::load_index(Segment* s, uint64_t file_size, uint64_t next_base) const {
  std::string path = s->path.substr(0, s->path.size() - 4) + ".idx";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  std::string buf;
  bool ok = ::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(kIdxHeaderSize + kIdxEntrySize + kIdxFooterSize);
  if (ok) {
    buf.resize(static_cast<size_t>(st.st_size));
    auto r = read_at(fd, buf.data(), buf.size(), 0);
    ok = r.ok() && *r == buf.size();
  }
  ::close(fd);
  if (!ok) return false;
  const char* p = buf.data();
  size_t n = (buf.size() - kIdxHeaderSize - kIdxFooterSize) / kIdxEntrySize;
  if (kIdxHeaderSize + n * kIdxEntrySize + kIdxFooterSize != buf.size()) return false;
  if (std::memcmp(p, kIdxMagic, 8) != 0 || get_u32(p + 8) != kVersion ||
      get_u32(p + 12) != kIdxEntrySize || get_u64(p + 16) != s->base)
    return false;
  const char* f = p + buf.size() - kIdxFooterSize;
  if (get_u32(f) != n || get_u32(f + 4) != crc32c(p, buf.size() - 4)) return false;
  std::vector<IndexEntry> idx;
  idx.reserve(n);
  for (size_t i = 0; i < n; i++) {
    const char* e = p + kIdxHeaderSize + i * kIdxEntrySize;
    idx.push_back({get_u64(e), get_u64(e + 8), static_cast<int64_t>(get_u64(e + 16))});
  }
  IndexEntry trailer = idx.back();
  idx.pop_back();
  if (trailer.pos != file_size || trailer.offset != next_base || idx.empty()) return false;
  if (idx.front().offset != s->base || idx.front().pos != kSegHeaderSize) return false;
  for (size_t i = 1; i < idx.size(); i++)
    if (idx[i].offset <= idx[i - 1].offset || idx[i].pos <= idx[i - 1].pos ||
        idx[i].arrival < idx[i - 1].arrival)
      return false;
  if (idx.back().offset >= trailer.offset || idx.back().pos >= trailer.pos ||
      idx.back().arrival > trailer.arrival)
    return false;
  s->index = std::move(idx);
  s->size = trailer.pos;
  s->end = trailer.offset;
  s->max_arrival = trailer.arrival;
  return true;
}

Status PartitionImpl::recover() {
  std::vector<uint64_t> bases;
  std::error_code ec;
  std::vector<fs::path> junk;
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    std::string fn = de.path().filename().string();
    bool seg = fn.size() == 24 && fn.compare(20, 4, ".seg") == 0;
    bool idx = fn.size() == 24 && fn.compare(20, 4, ".idx") == 0;
    bool digits = fn.size() >= 20 && std::all_of(fn.begin(), fn.begin() + 20, ::isdigit);
    if (seg && digits) {
      bases.push_back(std::stoull(fn.substr(0, 20)));
    } else if (!(idx && digits)) {
      junk.push_back(de.path());
    }
  }
  if (ec) return io_error("list " + dir_ + ": " + ec.message());
  for (const auto& j : junk) fs::remove_all(j, ec);
  std::sort(bases.begin(), bases.end());
  // .idx files whose segment is gone
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    std::string fn = de.path().filename().string();
    if (fn.size() == 24 && fn.compare(20, 4, ".idx") == 0 &&
        !std::binary_search(bases.begin(), bases.end(), std::stoull(fn.substr(0, 20))))
      fs::remove(de.path(), ec);
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error_errno("open dir " + dir_);
  dir_file_ = std::make_shared<SyncFile>(dfd, true, failed_);
  dir_file_->after_data = true;

  if (bases.empty()) {
    SL_ASSIGN_OR_RETURN(auto seg, create_segment_file(0, true));
    segs_.push_back(std::move(seg));
    SL_RETURN_IF_ERROR(fsync_dir(dir_));
  }
  const uint64_t interval = store_->options().index_interval_bytes;
  for (size_t i = 0; i < bases.size(); i++) {
    auto s = std::make_shared<Segment>();
    s->base = bases[i];
    s->end = bases[i];
    s->path = dir_ + "/" + segment_file_name(bases[i], ".seg");
    int fd = ::open(s->path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return io_error_errno("open " + s->path);
    s->file = std::make_shared<SyncFile>(fd, false, failed_);
    struct stat st;
    if (::fstat(fd, &st) != 0) return io_error_errno("fstat " + s->path);
    uint64_t fsize = static_cast<uint64_t>(st.st_size);
    bool last = i + 1 == bases.size();
    if (!last && load_index(s.get(), fsize, bases[i + 1])) {
      s->file.reset();
      segs_.push_back(std::move(s));
      continue;
    }
    SL_ASSIGN_OR_RETURN(Validated v, validate_segment(fd, s->base, fsize, interval));
    s->index = std::move(v.index);
    s->end = v.end;
    s->max_arrival = v.max_arrival;
    if (!last && v.valid_size == fsize && v.end == bases[i + 1] && !s->index.empty()) {
      s->size = fsize;
      int ifd = -1;
      if (write_index_file(*s, &ifd).ok()) {
        ::fdatasync(ifd);
        ::close(ifd);
      }
      s->file.reset();
      segs_.push_back(std::move(s));
      continue;
    }
    if (!last) {
      // A sealed segment ends early or does not meet its successor: everything after the
      // first bad byte is a torn tail (a roll whose older bytes never reached the disk).
      std::fprintf(stderr,
                   "streamlake log: %s: segment %s is damaged at byte %llu; dropping it from "
                   "there and %zu later segment(s)\n",
                   dir_.c_str(), s->path.c_str(), static_cast<unsigned long long>(v.valid_size),
                   bases.size() - i - 1);
      for (size_t j = i + 1; j < bases.size(); j++) {
        std::string sp = dir_ + "/" + segment_file_name(bases[j], ".seg");
        ::unlink(sp.c_str());
        ::unlink((sp.substr(0, sp.size() - 4) + ".idx").c_str());
      }
      bases.resize(i + 1);
    }
    // The last segment: cut the torn tail, repair a torn header.
    std::string ip = s->path.substr(0, s->path.size() - 4) + ".idx";
    ::unlink(ip.c_str());
    if (v.valid_size < kSegHeaderSize) {
      char h[kSegHeaderSize];
      encode_seg_header(h, s->base);
      if (::ftruncate(fd, 0) != 0) return io_error_errno("ftruncate " + s->path);
      SL_RETURN_IF_ERROR(write_all(fd, h, kSegHeaderSize, 0));
      v.valid_size = kSegHeaderSize;
      if (::fdatasync(fd) != 0) return io_error_errno("fdatasync " + s->path);
    } else if (v.valid_size < fsize) {
      if (::ftruncate(fd, static_cast<off_t>(v.valid_size)) != 0)
        return io_error_errno("ftruncate " + s->path);
      if (::fdatasync(fd) != 0) return io_error_errno("fdatasync " + s->path);
    }
    s->size = v.valid_size;
    segs_.push_back(std::move(s));
  }
  start_ = segs_.front()->base;
  next_ = segs_.back()->end;
  durable_end_ = segs_.back()->end;
  for (auto it = segs_.rbegin(); it != segs_.rend(); ++it) {
    if ((*it)->end > (*it)->base) {
      last_arrival_written_ = (*it)->max_arrival;
      break;
    }
  }
  durable_arrival_ = last_arrival_written_;
  return Status::OK();
}

Result<std::shared_ptr<SyncFile>> PartitionImpl::file_for_read_locked(Segment& s) const {
  if (s.file) return s.file;
  if (auto f = s.read_file.lock()) return f;
  int fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error_errno("open " + s.path);
  auto f = std::make_shared<SyncFile>(fd, false, failed_);
  s.read_file = f;
  return f;
}

Status PartitionImpl::roll_locked(uint64_t interval) {
  Segment& old = *segs_.back();
  int ifd = -1;
  SL_RETURN_IF_ERROR(write_index_file(old, &ifd));
  auto idx_file = std::make_shared<SyncFile>(ifd, false, failed_);
  idx_file->after_data = true;
  SL_ASSIGN_OR_RETURN(auto seg, create_segment_file(old.end, false));
  store_->touch(idx_file);
  store_->touch(seg->file);
  store_->touch(dir_file_);
  // The commit thread still holds the old fd if its last bytes await their sync.
  old.file.reset();
  segs_.push_back(std::move(seg));
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Partition: reads

Result<uint64_t> PartitionImpl::scan(uint64_t from, size_t max_records, size_t max_bytes,
                                     const std::function<bool(const RecordRef&)>& fn) const {
  uint64_t stop = 0;
  bool stopped = false;
  auto r = scan_groups(from, max_records, max_bytes, [&](std::span<const RecordRef> group) {
    for (const RecordRef& rec : group) {
      if (!fn(rec)) {
        stopped = true;
        stop = rec.offset + 1;
        return false;
      }
    }
    return true;
  });
  if (stopped) return stop;  // a corrupt batch after the stop was never meant to be read
  return r;
}

Result<uint64_t> PartitionImpl::scan_groups(uint64_t from, size_t max_records, size_t max_bytes,
                                            const std::function<bool(std::span<const RecordRef>)>& fn) const {
  const uint64_t end = durable_end_.load(std::memory_order_acquire);
  uint64_t next = from;
  std::shared_ptr<Segment> seg;
  std::shared_ptr<SyncFile> file;
  uint64_t pos, limit;
  {
    std::lock_guard lk(mu_);
    next = std::max(next, start_.load(std::memory_order_relaxed));
    if (next >= end || max_records == 0) return next;
    auto it = std::upper_bound(segs_.begin(), segs_.end(), next,
                               [](uint64_t o, const auto& s) { return o < s->base; });
    --it;  // segs_ front base == start_ <= next
    seg = *it;
    auto ie = std::upper_bound(seg->index.begin(), seg->index.end(), next,
                               [](uint64_t o, const IndexEntry& e) { return o < e.offset; });
    pos = ie == seg->index.begin() ? kSegHeaderSize : std::prev(ie)->pos;
    limit = seg->size;
    SL_ASSIGN_OR_RETURN(file, file_for_read_locked(*seg));
  }
  ReadBuffer rb;
  size_t n_rec = 0, n_bytes = 0;
  // The records of the current read, not yet delivered (views into rb).
  std::vector<RecordRef> group;
  auto flush = [&] {
    if (group.empty()) return true;
    bool more = fn(std::span<const RecordRef>(group));
    group.clear();
    return more;
  };
  while (next < end) {
    if (!flush()) return next;  // before rb is read into again
    if (pos >= limit) {
      std::lock_guard lk(mu_);
      auto it = std::upper_bound(segs_.begin(), segs_.end(), seg->base,
                                 [](uint64_t o, const auto& s) { return o < s->base; });
      if (it == segs_.end()) break;
      seg = *it;
      pos = kSegHeaderSize;
      limit = seg->size;
      SL_ASSIGN_OR_RETURN(file, file_for_read_locked(*seg));
      continue;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(rb.size(), limit - pos));
    SL_ASSIGN_OR_RETURN(size_t got, read_at(file->fd, rb.data(), want, pos));
    if (got < kBatchHeaderSize)
      return corruption(seg->path + ": short read at " + std::to_string(pos));
    size_t off = 0;
    while (off + kBatchHeaderSize <= got) {
      const char* b = rb.data() + off;
      BatchHeader h = decode_batch_header(b);
      if (h.magic != kBatchMagic || h.length < kBatchHeaderSize || h.length > limit - pos - off) {
        flush();  // what precedes the damage, as a per-record reader would have seen it
        return corruption(seg->path + ": bad batch header at " + std::to_string(pos + off));
      }
      if (h.first_offset >= end) {
        flush();
        return next;
      }
      if (h.first_offset + h.count <= next) {  // before `from`: skip unchecked
        off += h.length;
        continue;
      }
      if (off + h.length > got) {
        if (off == 0) rb.ensure(h.length);  // a batch bigger than the buffer
        break;
      }
      if (!batch_valid(b, h)) {
        flush();
        return corruption(seg->path + ": batch at " + std::to_string(pos + off) +
                          " fails its CRC32C");
      }
      const char* p = b + kBatchHeaderSize;
      const char* e = b + h.length;
      for (uint32_t i = 0; i < h.count; i++) {
        uint64_t kl = 0, dl = 0;
        p = get_varint(p, e, &kl);
        std::string_view key(p, kl);
        p += kl;
        p = get_varint(p, e, &dl);
        std::string_view data(p, dl);
        p += dl;
        uint64_t o = h.first_offset + i;
        if (o < next) continue;
        if (o >= end) {
          flush();
          return next;
        }
        size_t sz = kl + dl;
        if (n_rec > 0 && n_bytes + sz > max_bytes) {
          flush();
          return next;
        }
        group.push_back(RecordRef{o, h.arrival_ms, key, data});
        n_rec++;
        n_bytes += sz;
        next = o + 1;
        if (n_rec >= max_records) {
          flush();
          return next;
        }
      }
      off += h.length;
    }
    pos += off;
  }
  flush();
  return next;
}

Result<uint64_t> PartitionImpl::offset_at_time(int64_t ts) const {
  const uint64_t end = durable_end_.load(std::memory_order_acquire);
  std::shared_ptr<Segment> seg;
  std::shared_ptr<SyncFile> file;
  uint64_t pos, limit, seg_end;
  {
    std::lock_guard lk(mu_);
    uint64_t start = start_.load(std::memory_order_relaxed);
    auto it = std::partition_point(segs_.begin(), segs_.end(),
                                   [&](const auto& s) { return s->max_arrival < ts; });
    if (it == segs_.end()) return end;
    seg = *it;
    if (seg->end == seg->base) return std::max(start, std::min(seg->base, end));
    auto ie = std::partition_point(seg->index.begin(), seg->index.end(),
                                   [&](const IndexEntry& e) { return e.arrival < ts; });
    if (ie == seg->index.begin()) return std::max(start, std::min(seg->base, end));
    pos = std::prev(ie)->pos;
    limit = seg->size;
    seg_end = seg->end;
    SL_ASSIGN_OR_RETURN(file, file_for_read_locked(*seg));
  }
  char h[kBatchHeaderSize];
  while (pos + kBatchHeaderSize <= limit) {
    SL_ASSIGN_OR_RETURN(size_t got, read_at(file->fd, h, kBatchHeaderSize, pos));
    BatchHeader bh = decode_batch_header(h);
    if (got < kBatchHeaderSize || bh.magic != kBatchMagic || bh.length < kBatchHeaderSize)
      return corruption(seg->path + ": bad batch header at " + std::to_string(pos));
    if (bh.arrival_ms >= ts) return std::min(bh.first_offset, end);
    pos += bh.length;
  }
  return std::min(seg_end, end);
}

// ---------------------------------------------------------------------------------------
// Store

Status LogStoreImpl::init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return io_error("create " + dir_ + ": " + ec.message());
  std::string lp = dir_ + "/LOCK";
  lock_fd_ = ::open(lp.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return io_error_errno("open " + lp);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status(Errc::kInUse, "log store " + dir_ + " is open in another process");
  // Partitions being created or dropped when the last process stopped.
  fs::remove_all(trash_dir_, ec);
  if (ec) return io_error("remove " + trash_dir_ + ": " + ec.message());
  for (const auto& d : {parts_dir_, trash_dir_}) {
    fs::create_directories(d, ec);
    if (ec) return io_error("create " + d + ": " + ec.message());
  }
  std::vector<std::string> names;
  for (const auto& de : fs::directory_iterator(parts_dir_, ec)) {
    std::string fn = de.path().filename().string();
    if (de.is_directory() && valid_partition_name(fn)) names.push_back(fn);
  }
  if (ec) return io_error("list " + parts_dir_ + ": " + ec.message());
  for (const auto& n : names) {
    auto p = std::make_unique<PartitionImpl>(this, n, parts_dir_ + "/" + n);
    SL_RETURN_IF_ERROR(p->recover());
    parts_.emplace(n, std::move(p));
  }
  committer_ = std::thread([this] { commit_loop(); });
  return Status::OK();
}

Result<Partition*> LogStoreImpl::create_partition(const std::string& name) {
  if (!valid_partition_name(name)) return invalid_argument("bad partition name: " + name);
  if (closed_) return Status(Errc::kInUse, "log store is closed");
  std::lock_guard dlk(dir_mu_);
  std::unique_lock lk(map_mu_);
  if (parts_.count(name)) return Status(Errc::kAlreadyExists, "partition exists: " + name);
  std::string tmp = trash_dir_ + "/create-" + std::to_string(++trash_seq_) + "-" + name;
  std::string final_dir = parts_dir_ + "/" + name;
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) return io_error("mkdir " + tmp + ": " + ec.message());
  auto p = std::make_unique<PartitionImpl>(this, name, tmp);
  Status st = p->init_fresh();
  if (st.ok()) st = fsync_dir(tmp);
  if (st.ok() && ::rename(tmp.c_str(), final_dir.c_str()) != 0)
    st = io_error_errno("rename " + tmp + " to " + final_dir);
  if (st.ok()) st = fsync_dir(parts_dir_);
  if (!st.ok()) {
    fs::remove_all(tmp, ec);
    return st;
  }
  p->dir_ = final_dir;
  p->segs_.front()->path = final_dir + "/" + segment_file_name(0, ".seg");
  int dfd = ::open(final_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error_errno("open dir " + final_dir);
  p->dir_file_ = std::make_shared<SyncFile>(dfd, true, p->failed_);
  p->dir_file_->after_data = true;
  Partition* raw = p.get();
  parts_.emplace(name, std::move(p));
  return raw;
}

Status LogStoreImpl::drop_partition(const std::string& name) {
  std::lock_guard dlk(dir_mu_);
  std::unique_ptr<PartitionImpl> p;
  {
    std::unique_lock lk(map_mu_);
    auto it = parts_.find(name);
    if (it == parts_.end()) return not_found("no partition " + name);
    p = std::move(it->second);
    parts_.erase(it);
  }
  {
    // Let the commit thread finish with the partition's pending appends.
    std::unique_lock lk(commit_mu_);
    drained_cv_.wait(lk, [&] { return p->inflight_ == 0; });
  }
  std::string gone = trash_dir_ + "/drop-" + std::to_string(++trash_seq_) + "-" + name;
  if (::rename(p->dir_.c_str(), gone.c_str()) != 0) return io_error_errno("rename " + p->dir_);
  Status st = fsync_dir(parts_dir_);
  std::error_code ec;
  fs::remove_all(gone, ec);
  if (ec && st.ok()) st = io_error("remove " + gone + ": " + ec.message());
  return st;
}

Result<AppendResult> LogStoreImpl::append(Partition* pp, std::span<const RecordIn> records,
                                          int64_t arrival_ms, DurableCallback on_durable) {
  auto* p = static_cast<PartitionImpl*>(pp);
  if (records.empty()) return invalid_argument("append of no records");
  if (records.size() > 0xffffffffu) return invalid_argument("too many records");
  if (closed_.load(std::memory_order_relaxed)) return Status(Errc::kInUse, "log store is closed");

  // Build the batch outside the lock, in a per-thread buffer that only grows.
  uint64_t max = kBatchHeaderSize;
  for (const auto& r : records) max += r.key.size() + r.data.size() + 20;
  if (max > kMaxBatchBytes) return Status(Errc::kLimitExceeded, "append batch too large");
  thread_local std::vector<char> tl;
  if (tl.size() < max) tl.resize(max);
  char* out = tl.data() + kBatchHeaderSize;
  for (const auto& r : records) {
    out = put_varint(out, r.key.size());
    std::memcpy(out, r.key.data(), r.key.size());
    out += r.key.size();
    out = put_varint(out, r.data.size());
    std::memcpy(out, r.data.data(), r.data.size());
    out += r.data.size();
  }
  char* b = tl.data();
  const size_t len = static_cast<size_t>(out - b);
  const uint32_t body_crc = crc32c(b + kBatchHeaderSize, len - kBatchHeaderSize);
  const uint32_t count = static_cast<uint32_t>(records.size());

  std::unique_lock lk(p->mu_);
  if (p->failed_->load()) return io_error("partition " + p->name_ + " failed an earlier sync");
  Segment* seg = p->segs_.back().get();
  if (seg->end > seg->base && seg->size + len > opt_.segment_bytes) {
    SL_RETURN_IF_ERROR(p->roll_locked(opt_.index_interval_bytes));
    seg = p->segs_.back().get();
  }
  const uint64_t first = p->next_.load(std::memory_order_relaxed);
  const int64_t arrival = std::max({arrival_ms, int64_t{0}, p->last_arrival_written_});
  put_u32(b, kBatchMagic);
  put_u32(b + 4, static_cast<uint32_t>(len));
  put_u32(b + 12, count);
  put_u64(b + 16, first);
  put_u64(b + 24, static_cast<uint64_t>(arrival));
  put_u32(b + 8, batch_crc(b, len, body_crc));
  const uint64_t pos = seg->size;
  Status st = write_all(seg->file->fd, b, len, pos);
  if (!st.ok()) {
    if (::ftruncate(seg->file->fd, static_cast<off_t>(pos)) != 0) p->failed_->store(true);
    return st;
  }
  if (seg->index.empty() || pos - seg->index.back().pos >= opt_.index_interval_bytes)
    seg->index.push_back({first, pos, arrival});
  seg->size = pos + len;
  seg->end = first + count;
  seg->max_arrival = arrival;
  p->last_arrival_written_ = arrival;
  p->next_.store(first + count, std::memory_order_release);
  AppendResult res{first, arrival};

  if (!opt_.fsync) {
    p->durable_end_.store(first + count, std::memory_order_release);
    p->durable_arrival_.store(arrival, std::memory_order_release);
    lk.unlock();
    if (on_durable) on_durable(Status::OK());
    notify_listener();
    return res;
  }
  bool wake = false, inline_sync = false;
  {
    std::lock_guard clk(commit_mu_);
    if (stop_) {
      inline_sync = true;  // closing raced with this append: sync here
    } else {
      pending_.push_back({p, first + count, arrival, std::move(on_durable)});
      p->inflight_++;
      touch_locked(seg->file);
      wake = committer_waiting_;
      committer_waiting_ = false;
    }
  }
  if (inline_sync) {
    Status s = ::fdatasync(seg->file->fd) == 0 ? Status::OK() : io_error_errno("fdatasync");
    if (s.ok()) {
      p->durable_end_.store(first + count, std::memory_order_release);
      p->durable_arrival_.store(arrival, std::memory_order_release);
    } else {
      p->failed_->store(true);
    }
    lk.unlock();
    if (on_durable) on_durable(s);
    return res;
  }
  lk.unlock();
  if (wake) commit_cv_.notify_one();
  return res;
}

Result<uint64_t> LogStoreImpl::trim_before_time(Partition* pp, int64_t ts_ms) {
  auto* p = static_cast<PartitionImpl*>(pp);
  std::vector<std::shared_ptr<Segment>> gone;
  {
    std::lock_guard lk(p->mu_);
    const uint64_t durable = p->durable_end_.load(std::memory_order_acquire);
    size_t n = 0;
    while (n + 1 < p->segs_.size() && p->segs_[n]->max_arrival < ts_ms &&
           p->segs_[n]->end <= durable)
      n++;
    if (n == 0) return uint64_t{0};
    gone.assign(p->segs_.begin(), p->segs_.begin() + static_cast<ptrdiff_t>(n));
    p->segs_.erase(p->segs_.begin(), p->segs_.begin() + static_cast<ptrdiff_t>(n));
    p->start_.store(p->segs_.front()->base, std::memory_order_release);
  }
  // Unlink outside the lock: on a file system mounted with `discard` freeing a large
  // segment takes long, and appends and reads must not wait for it. Oldest first, so a
  // crash part way leaves a contiguous suffix (and a segment that comes back after a
  // crash is just retained a little longer).
  uint64_t removed = 0;
  Status st;
  for (const auto& s : gone) {
    removed += s->end - s->base;
    if (::unlink(s->path.c_str()) != 0 && errno != ENOENT && st.ok())
      st = io_error_errno("unlink " + s->path);
    ::unlink((s->path.substr(0, s->path.size() - 4) + ".idx").c_str());
  }
  if (!st.ok()) return st;
  return removed;
}

void LogStoreImpl::commit_loop() {
  SyncPool pool(kSyncHelpers);
  std::vector<Pending> batch;
  std::vector<std::shared_ptr<SyncFile>> files;
  for (;;) {
    {
      std::unique_lock lk(commit_mu_);
      while (pending_.empty() && touched_.empty() && !stop_) {
        committer_waiting_ = true;
        commit_cv_.wait(lk);
      }
      committer_waiting_ = false;
      if (pending_.empty() && touched_.empty() && stop_) break;
      batch.swap(pending_);
      files.swap(touched_);
      for (auto& f : files) f->queued = false;
    }
    // Every byte of every append in `batch` was written before it was queued, and its
    // file was queued with it: one sync per file covers all of them.
    auto mid = std::stable_partition(files.begin(), files.end(),
                                     [](const auto& f) { return !f->after_data; });
    size_t n_data = static_cast<size_t>(mid - files.begin());
    pool.run(files, 0, n_data);
    pool.run(files, n_data, files.size());
    files.clear();
    bool advanced = false;
    for (auto& e : batch) {
      if (!e.p->failed_->load()) {
        e.p->durable_end_.store(e.end, std::memory_order_release);
        e.p->durable_arrival_.store(e.arrival, std::memory_order_release);
        advanced = true;
      }
    }
    for (auto& e : batch) {
      if (e.cb) {
        e.cb(e.p->failed_->load() ? io_error("fdatasync failed; records may be lost")
                                  : Status::OK());
      }
    }
    if (advanced) notify_listener();
    {
      std::lock_guard lk(commit_mu_);
      for (auto& e : batch) e.p->inflight_--;
    }
    drained_cv_.notify_all();
    batch.clear();
  }
}

void LogStoreImpl::close() {
  if (closed_.exchange(true)) return;
  {
    std::lock_guard lk(commit_mu_);
    stop_ = true;
  }
  commit_cv_.notify_one();
  if (committer_.joinable()) committer_.join();
}

}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::open(const std::string& dir, LogOptions options) {
  if (options.index_interval_bytes == 0) options.index_interval_bytes = 1;
  auto s = std::make_unique<LogStoreImpl>(dir, options);
  SL_RETURN_IF_ERROR(s->init());
  return std::unique_ptr<LogStore>(std::move(s));
}

}  // namespace sl::log
