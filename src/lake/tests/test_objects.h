// Test-only object implementations: in memory (unit tests, fuzzing) and plain files (the
// DuckDB checks and the benchmark), for code that writes or reads through object_store.h
// without a store.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "lake/object_store.h"

namespace sl::lake::testing {

// Appends to *target; close() marks it closed, abort() clears it.
class MemoryWriter final : public ObjectWriter {
 public:
  explicit MemoryWriter(std::string* target) : target_(target) { target_->clear(); }
  Status append(std::string_view b) override {
    if (closed_) return invalid_argument("append after close");
    target_->append(b);
    return Status::OK();
  }
  Status close() override {
    closed_ = true;
    return Status::OK();
  }
  void abort() override {
    target_->clear();
    aborted_ = true;
  }
  uint64_t bytes_written() const override { return target_->size(); }
  bool closed() const { return closed_; }

 private:
  std::string* target_;
  bool closed_ = false, aborted_ = false;
};

class MemoryObject final : public RandomAccessObject {
 public:
  explicit MemoryObject(std::string data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  Status read(uint64_t offset, uint64_t length, std::string* out) override {
    if (offset > data_.size() || length > data_.size() - offset) return invalid_argument("read past the end");
    out->assign(data_, offset, length);
    return Status::OK();
  }

 private:
  std::string data_;
};

// A plain file written in place (no temporary name, no fsync: test data only).
class FileWriter final : public ObjectWriter {
 public:
  static Result<std::unique_ptr<ObjectWriter>> create(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return io_error_errno("open " + path);
    return std::unique_ptr<ObjectWriter>(new FileWriter(fd, path));
  }
  ~FileWriter() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status append(std::string_view b) override {
    buf_.append(b);
    n_ += b.size();
    if (buf_.size() >= (1u << 20)) return flush();
    return Status::OK();
  }
  Status close() override {
    SL_RETURN_IF_ERROR(flush());
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return io_error_errno("close " + path_);
    return Status::OK();
  }
  void abort() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
  }
  uint64_t bytes_written() const override { return n_; }

 private:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status flush() {
    size_t off = 0;
    while (off < buf_.size()) {
      ssize_t w = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (w < 0) return io_error_errno("write " + path_);
      off += static_cast<size_t>(w);
    }
    buf_.clear();
    return Status::OK();
  }
  int fd_;
  std::string path_, buf_;
  uint64_t n_ = 0;
};

class FileObject final : public RandomAccessObject {
 public:
  static Result<std::unique_ptr<RandomAccessObject>> open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return io_error_errno("open " + path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return io_error_errno("stat " + path);
    }
    return std::unique_ptr<RandomAccessObject>(new FileObject(fd, static_cast<uint64_t>(st.st_size)));
  }
  ~FileObject() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, uint64_t length, std::string* out) override {
    if (offset > size_ || length > size_ - offset) return invalid_argument("read past the end");
    out->resize(length);
    size_t got = 0;
    while (got < length) {
      ssize_t r = ::pread(fd_, out->data() + got, length - got, static_cast<off_t>(offset + got));
      if (r < 0) return io_error_errno("pread");
      if (r == 0) return corruption("short file");
      got += static_cast<size_t>(r);
    }
    return Status::OK();
  }

 private:
  FileObject(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
};

}  // namespace sl::lake::testing
