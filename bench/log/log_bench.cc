// Durable append throughput of the log: 2 threads append batches of 500 × 100-byte
// records (a PutRecords each), each keeping up to `window` appends waiting for their
// group-commit fdatasync, as a server with many connections does.
//
//   log_bench [--benchmark_filter=...]      (uses $TMPDIR or /tmp; SL_LOG_BENCH_DIR overrides)
// Reports records/s as the "records" rate counter.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "log/log.h"

namespace {

using sl::Status;
using namespace sl::log;

std::string bench_dir() {
  const char* d = std::getenv("SL_LOG_BENCH_DIR");
  if (!d) d = std::getenv("TMPDIR");
  std::string tmpl = std::string(d ? d : "/tmp") + "/sl_log_bench.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) std::abort();
  return buf.data();
}

// Limits one thread's appends in flight.
class Window {
 public:
  explicit Window(int n) : free_(n), total_(n) {}
  void acquire() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return free_ > 0; });
    free_--;
  }
  void release() {
    std::lock_guard lk(mu_);
    free_++;
    cv_.notify_one();
  }
  void drain() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return free_ == total_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_, total_;
};

// Args: window per thread, partitions (each thread's appends go round-robin over them,
// like PutRecords batches spread over shards), fsync.
void BM_DurableAppend(benchmark::State& state) {
  const int window = static_cast<int>(state.range(0));
  const int nparts = static_cast<int>(state.range(1));
  const bool fsync = state.range(2) != 0;
  constexpr int kThreads = 2, kRecords = 500, kRecordBytes = 100, kAppendsPerIter = 200;
  std::string dir = bench_dir();
  {
    LogOptions o;
    o.fsync = fsync;
    auto store = LogStore::open(dir, o).value();
    std::vector<Partition*> parts;
    for (int i = 0; i < nparts; i++) parts.push_back(*store->create_partition("s" + std::to_string(i)));
    std::string payload(kRecordBytes, 'x');
    std::vector<std::string> keys(kRecords);
    for (int i = 0; i < kRecords; i++) keys[i] = "partition-key-" + std::to_string(i);
    int64_t records = 0;
    for (auto _ : state) {
      std::vector<std::thread> ts;
      for (int t = 0; t < kThreads; t++) {
        ts.emplace_back([&, t] {
          Window w(window);
          std::vector<RecordIn> in(kRecords);
          for (int i = 0; i < kRecords; i++) in[i] = {keys[i], payload};
          for (int a = 0; a < kAppendsPerIter; a++) {
            Partition* p = parts[(t + a) % nparts];
            w.acquire();
            auto r = store->append(p, in, 1, [&w](Status s) { w.release(); });
            if (!r.ok()) std::abort();
          }
          w.drain();
        });
      }
      for (auto& t : ts) t.join();
      records += int64_t{kThreads} * kAppendsPerIter * kRecords;
    }
    state.counters["records"] = benchmark::Counter(static_cast<double>(records),
                                                   benchmark::Counter::kIsRate);
    state.SetBytesProcessed(records * kRecordBytes);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BENCHMARK(BM_DurableAppend)
    ->ArgNames({"window", "parts", "fsync"})
    ->Args({1, 1, 1})
    ->Args({8, 1, 1})
    ->Args({8, 2, 1})
    ->Args({8, 4, 1})
    ->Args({8, 4, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
