// Helpers shared by the log tests.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "log/log.h"

namespace sl::log::testing {

// A fresh directory under $TMPDIR, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t ? t : "/tmp") + "/sl_log_test.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* p = ::mkdtemp(buf.data());
    if (p) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Counts durable callbacks; wait_for(n) blocks until n arrived (no timed sleeping).
class Acks {
 public:
  DurableCallback cb() {
    return [this](Status s) {
      std::lock_guard lk(mu_);
      if (s.ok()) ok_++; else failed_++;
      cv_.notify_all();
    };
  }
  void wait_for(int n) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return ok_ + failed_ >= n; });
  }
  int ok() { std::lock_guard lk(mu_); return ok_; }
  int failed() { std::lock_guard lk(mu_); return failed_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int ok_ = 0, failed_ = 0;
};

struct Rec {
  uint64_t offset;
  int64_t arrival_ms;
  std::string key, data;
};

inline std::vector<Rec> read_all(const Partition* p, uint64_t from = 0) {
  std::vector<Rec> out;
  for (;;) {
    auto r = p->scan(from, 1000, 1 << 20, [&](const RecordRef& rr) {
      out.push_back({rr.offset, rr.arrival_ms, std::string(rr.key), std::string(rr.data)});
      return true;
    });
    if (!r.ok() || *r == from) break;
    from = *r;
  }
  return out;
}

inline uint64_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

inline std::vector<std::string> files_with_ext(const std::string& dir, const std::string& ext) {
  std::vector<std::string> r;
  for (const auto& de : std::filesystem::directory_iterator(dir))
    if (de.path().extension() == ext) r.push_back(de.path().string());
  std::sort(r.begin(), r.end());
  return r;
}

}  // namespace sl::log::testing
