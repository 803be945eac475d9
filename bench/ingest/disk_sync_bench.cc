// disk_sync_bench: the disk's physical limit for durable appends — sequential writes of
// --block bytes each followed by fdatasync, for --seconds, in a file under --dir (which
// should be on the filesystem of the server's data dir). Prints MB/s and syncs/s.
// --files N: each round writes a block to each of N files and fdatasyncs them concurrently
// (one thread per file), as a log with one segment file per shard does; prints rounds/s.
// Output: a human line and "RESULT block=... mb_per_s=... syncs_per_s=... sync_p50_ms=... sync_p99_ms=...".
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string dir = ".";
  size_t block = 65536;
  double seconds = 3;
  int files = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--block")) block = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--files")) files = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: disk_sync_bench [--dir D] [--block BYTES] [--seconds S] [--files N]\n");
      return 2;
    }
  }
  if (files > 1) {
    std::vector<int> fds;
    for (int f = 0; f < files; ++f) {
      std::string p = dir + "/disk_sync_bench." + std::to_string(f) + ".tmp";
      int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) {
        std::perror(p.c_str());
        return 1;
      }
      fds.push_back(fd);
    }
    std::vector<char> buf(block, 'x');
    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<double> round_ms;
    while (Clock::now() < end) {
      auto t0 = Clock::now();
      std::vector<std::thread> th;
      for (int fd : fds)
        th.emplace_back([fd, &buf] {
          if (::write(fd, buf.data(), buf.size()) < 0 || ::fdatasync(fd) != 0) std::perror("write/fdatasync");
        });
      for (auto& t : th) t.join();
      round_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    for (int f = 0; f < files; ++f) {
      ::close(fds[static_cast<size_t>(f)]);
      ::unlink((dir + "/disk_sync_bench." + std::to_string(f) + ".tmp").c_str());
    }
    std::sort(round_ms.begin(), round_ms.end());
    size_t n = round_ms.size();
    std::printf("disk_sync_bench: %d files x %zu-byte write + concurrent fdatasync per round: %.0f rounds/s, "
                "round p50 %.2f ms, p99 %.2f ms\n", files, block, static_cast<double>(n) / elapsed,
                round_ms[n / 2], round_ms[std::min(n - 1, n * 99 / 100)]);
    std::printf("RESULT files=%d block=%zu rounds_per_s=%.0f round_p50_ms=%.3f round_p99_ms=%.3f\n", files, block,
                static_cast<double>(n) / elapsed, round_ms[n / 2], round_ms[std::min(n - 1, n * 99 / 100)]);
    return 0;
  }
  std::string path = dir + "/disk_sync_bench.tmp";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    return 1;
  }
  std::vector<char> buf(block);
  for (size_t i = 0; i < block; ++i) buf[i] = static_cast<char>(i * 131 + 7);
  using Clock = std::chrono::steady_clock;
  std::vector<double> sync_ms;
  auto start = Clock::now(), end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  size_t bytes = 0;
  while (Clock::now() < end) {
    for (size_t off = 0; off < block;) {
      ssize_t n = ::write(fd, buf.data() + off, block - off);
      if (n < 0) {
        std::perror("write");
        return 1;
      }
      off += static_cast<size_t>(n);
    }
    auto t0 = Clock::now();
    if (::fdatasync(fd) != 0) {
      std::perror("fdatasync");
      return 1;
    }
    sync_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    bytes += block;
    if (bytes >= (size_t{1} << 30)) {  // keep the file small: rewrite from the start
      ::lseek(fd, 0, SEEK_SET);
      bytes = 0;
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  size_t n = sync_ms.size();
  double mb = static_cast<double>(n) * static_cast<double>(block) / 1e6 / elapsed;
  std::sort(sync_ms.begin(), sync_ms.end());
  double p50 = n ? sync_ms[n / 2] : 0, p99 = n ? sync_ms[std::min(n - 1, n * 99 / 100)] : 0;
  std::printf("disk_sync_bench: %zu-byte writes + fdatasync in %s: %.1f MB/s, %.0f syncs/s, sync p50 %.2f ms, p99 %.2f ms\n",
              block, dir.c_str(), mb, static_cast<double>(n) / elapsed, p50, p99);
  std::printf("RESULT block=%zu mb_per_s=%.1f syncs_per_s=%.0f sync_p50_ms=%.3f sync_p99_ms=%.3f\n", block, mb,
              static_cast<double>(n) / elapsed, p50, p99);
  return 0;
}
