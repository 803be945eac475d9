// ObjectStore on a local directory (see object_store.h for the contract).
//
// Every object is a file at ROOT/<key>. Writes go to a temporary file in the same
// directory ("<name>.<random>.sltmp"), are fsync'd, then renamed (put, ObjectWriter) or
// linked (put_if_absent: link(2) fails with EEXIST if the key exists, so exactly one of
// several racing writers wins), and the directory is fsync'd. Temporary files are never
// listed; a crash may leave some behind, which list() skips and sweep_temporaries()
// (called by open_local_store) removes when older than an hour.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "lake/object_store.h"

namespace sl::lake {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTmpSuffix = ".sltmp";

bool is_temporary(std::string_view name) {
  return name.size() >= kTmpSuffix.size() && name.substr(name.size() - kTmpSuffix.size()) == kTmpSuffix;
}

Status check_key(const std::string& key) {
  if (key.empty()) return invalid_argument("object key is empty");
  if (key.front() == '/') return invalid_argument("object key \"" + key + "\" starts with '/'");
  if (key.back() == '/') return invalid_argument("object key \"" + key + "\" ends with '/'");
  if (key.find('\0') != std::string::npos) return invalid_argument("object key contains a NUL byte");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view part(key.data() + start, end - start);
    if (part.empty() || part == "." || part == "..")
      return invalid_argument("object key \"" + key + "\" has an empty, '.' or '..' component");
    if (is_temporary(part)) return invalid_argument("object key \"" + key + "\" ends with the reserved suffix .sltmp");
    start = end + 1;
  }
  return Status::OK();
}

std::string random_suffix() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof buf, ".%d.%llx.%llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)), static_cast<unsigned long long>(rng()));
  return buf;
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error_errno("open directory " + dir);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) {
    errno = e;
    return io_error_errno("fsync directory " + dir);
  }
  return Status::OK();
}

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error_errno("write " + path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// Creates the directories of `path`'s parent (mode 0700).
Status make_parent(const std::string& path) {
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (fs::is_directory(parent, ec)) return Status::OK();
  fs::create_directories(parent, ec);
  if (ec && !fs::is_directory(parent)) return io_error("create directory " + parent.string() + ": " + ec.message());
  return Status::OK();
}

// Creates a new temporary file beside `path` (the parent is created; a concurrent
// remove() may delete an empty parent in between, hence the retries).
Result<int> open_temp(const std::string& path, std::string* tmp) {
  for (int attempt = 0;; attempt++) {
    SL_RETURN_IF_ERROR(make_parent(path));
    *tmp = path + random_suffix() + std::string(kTmpSuffix);
    int fd = ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != ENOENT || attempt == 3) return io_error_errno("create " + *tmp);
  }
}

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(int fd, std::string tmp, std::string path) : fd_(fd), tmp_(std::move(tmp)), path_(std::move(path)) {}
  ~LocalWriter() override { abort(); }
  Status append(std::string_view bytes) override {
    if (fd_ < 0) return Status(Errc::kInUse, "object writer for " + path_ + " is closed");
    Status s = write_all(fd_, bytes, tmp_);
    if (s.ok()) written_ += bytes.size();
    return s;
  }
  Status close() override {
    if (fd_ < 0) return Status(Errc::kInUse, "object writer for " + path_ + " is closed");
    if (::fsync(fd_) != 0) {
      Status s = io_error_errno("fsync " + tmp_);
      abort();
      return s;
    }
    ::close(fd_);
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      Status s = io_error_errno("rename " + tmp_ + " to " + path_);
      ::unlink(tmp_.c_str());
      return s;
    }
    tmp_.clear();
    return fsync_dir(fs::path(path_).parent_path().string());
  }
  void abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!tmp_.empty()) {
      ::unlink(tmp_.c_str());
      tmp_.clear();
    }
  }
  uint64_t bytes_written() const override { return written_; }

 private:
  int fd_;
  std::string tmp_, path_;
  uint64_t written_ = 0;
};

class LocalObject final : public RandomAccessObject {
 public:
  LocalObject(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~LocalObject() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, uint64_t length, std::string* out) override {
    if (offset > size_ || length > size_ - offset)
      return invalid_argument("read of [" + std::to_string(offset) + ", +" + std::to_string(length) + ") past the end of " +
                              path_ + " (" + std::to_string(size_) + " bytes)");
    out->resize(length);
    uint64_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd_, out->data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error_errno("read " + path_);
      }
      if (n == 0) return corruption(path_ + " is shorter than its size (truncated while open?)");
      done += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}
  std::string uri() const override { return "file://" + root_; }

  Status put(const std::string& key, std::string_view bytes) override {
    SL_RETURN_IF_ERROR(check_key(key));
    std::string path = path_of(key), tmp;
    SL_RETURN_IF_ERROR(write_temp(path, bytes, &tmp));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      Status s = io_error_errno("rename " + tmp + " to " + path);
      ::unlink(tmp.c_str());
      return s;
    }
    return fsync_dir(fs::path(path).parent_path().string());
  }

  Status put_if_absent(const std::string& key, std::string_view bytes) override {
    SL_RETURN_IF_ERROR(check_key(key));
    std::string path = path_of(key), tmp;
    SL_RETURN_IF_ERROR(write_temp(path, bytes, &tmp));
    int rc = ::link(tmp.c_str(), path.c_str());
    int e = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      if (e == EEXIST) return Status(Errc::kAlreadyExists, "object " + key + " exists in " + uri());
      errno = e;
      return io_error_errno("link " + tmp + " to " + path);
    }
    return fsync_dir(fs::path(path).parent_path().string());
  }

  Result<std::string> get(const std::string& key) override {
    SL_RETURN_IF_ERROR(check_key(key));
    SL_ASSIGN_OR_RETURN(auto obj, open(key));
    std::string out;
    SL_RETURN_IF_ERROR(obj->read(0, obj->size(), &out));
    return out;
  }

  Result<std::unique_ptr<RandomAccessObject>> open(const std::string& key) override {
    SL_RETURN_IF_ERROR(check_key(key));
    std::string path = path_of(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return not_found("object " + key + " does not exist in " + uri());
      return io_error_errno("open " + path);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return not_found("object " + key + " is not a file in " + uri());
    }
    return std::unique_ptr<RandomAccessObject>(new LocalObject(fd, static_cast<uint64_t>(st.st_size), path));
  }

  Result<std::unique_ptr<ObjectWriter>> create(const std::string& key) override {
    SL_RETURN_IF_ERROR(check_key(key));
    std::string path = path_of(key);
    std::string tmp;
    SL_ASSIGN_OR_RETURN(int fd, open_temp(path, &tmp));
    return std::unique_ptr<ObjectWriter>(new LocalWriter(fd, tmp, path));
  }

  Result<ObjectInfo> stat(const std::string& key) override {
    SL_RETURN_IF_ERROR(check_key(key));
    std::string path = path_of(key);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      if (errno == ENOENT || errno == ENOTDIR || errno == 0) return not_found("object " + key + " does not exist in " + uri());
      return io_error_errno("stat " + path);
    }
    return ObjectInfo{key, static_cast<uint64_t>(st.st_size), mtime_ms(st)};
  }

  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    if (!prefix.empty() && prefix.front() == '/') return invalid_argument("list prefix \"" + prefix + "\" starts with '/'");
    if (prefix.find("..") != std::string::npos) return invalid_argument("list prefix \"" + prefix + "\" contains \"..\"");
    // Walk the deepest directory the prefix names completely, then filter by the prefix.
    std::string dir_part = prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/') + 1);
    std::vector<ObjectInfo> out;
    SL_RETURN_IF_ERROR(walk(dir_part, prefix, out));
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status remove(const std::string& key) override {
    SL_RETURN_IF_ERROR(check_key(key));
    std::string path = path_of(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) return io_error_errno("unlink " + path);
    // Empty partition directories go too (never the root).
    fs::path dir = fs::path(path).parent_path();
    while (dir.string().size() > root_.size() && ::rmdir(dir.c_str()) == 0) dir = dir.parent_path();
    return Status::OK();
  }

  // Removes temporary files older than `age_ms` (left by a crash mid-write).
  void sweep_temporaries(int64_t age_ms) {
    std::error_code ec;
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec) || !is_temporary(it->path().filename().string())) continue;
      struct stat st;
      if (::stat(it->path().c_str(), &st) == 0 && now - mtime_ms(st) > age_ms) ::unlink(it->path().c_str());
    }
  }

 private:
  static int64_t mtime_ms(const struct stat& st) {
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }
  std::string path_of(const std::string& key) const { return root_ + "/" + key; }

  Status write_temp(const std::string& path, std::string_view bytes, std::string* tmp) {
    SL_ASSIGN_OR_RETURN(int fd, open_temp(path, tmp));
    Status s = write_all(fd, bytes, *tmp);
    if (s.ok() && ::fsync(fd) != 0) s = io_error_errno("fsync " + *tmp);
    ::close(fd);
    if (!s.ok()) ::unlink(tmp->c_str());
    return s;
  }

  // Lists regular files under ROOT/<rel_dir> whose key starts with `prefix`.
  Status walk(const std::string& rel_dir, const std::string& prefix, std::vector<ObjectInfo>& out) {
    std::string dir = rel_dir.empty() ? root_ : root_ + "/" + rel_dir.substr(0, rel_dir.size() - 1);
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
      return io_error_errno("open directory " + dir);
    }
    std::vector<std::string> subdirs;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == ".." || is_temporary(name)) continue;
      std::string key = rel_dir + name;
      struct stat st;
      if (::stat((dir + "/" + name).c_str(), &st) != 0) continue;  // removed meanwhile
      if (S_ISDIR(st.st_mode)) {
        std::string sub = key + "/";
        // Descend only where a key can still match the prefix.
        size_t n = std::min(sub.size(), prefix.size());
        if (sub.compare(0, n, prefix, 0, n) == 0) subdirs.push_back(sub);
      } else if (S_ISREG(st.st_mode) && key.compare(0, prefix.size(), prefix) == 0) {
        out.push_back({key, static_cast<uint64_t>(st.st_size), mtime_ms(st)});
      }
    }
    ::closedir(d);
    for (auto& s : subdirs) SL_RETURN_IF_ERROR(walk(s, prefix, out));
    return Status::OK();
  }

  std::string root_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> open_local_store(const std::string& root_dir) {
  if (root_dir.empty()) return invalid_argument("local object store: empty directory");
  std::error_code ec;
  fs::path root = fs::absolute(root_dir, ec);
  if (ec) return io_error("local object store " + root_dir + ": " + ec.message());
  root = root.lexically_normal();
  std::string r = root.string();
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (!fs::is_directory(r, ec)) {
    fs::create_directories(r, ec);
    if (ec) return io_error("create directory " + r + ": " + ec.message());
    ::chmod(r.c_str(), 0700);
  }
  auto store = std::make_unique<LocalStore>(r);
  store->sweep_temporaries(3600 * 1000);
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace sl::lake
