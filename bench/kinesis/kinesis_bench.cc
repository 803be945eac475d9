// PutRecords cost per record through Service::handle: JSON parse (simdjson), base64
// decode, MD5, routing, one log append per touched shard (fsync off: page cache only),
// response building. Target: well under 1 µs per record.
//   build/h-kin/bench_kinesis/kinesis_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "kinesis/kinesis.h"
#include "log/log.h"
#include "util/base64.h"
#include "util/time.h"

namespace {

namespace fs = std::filesystem;
using namespace sl;

struct Env {
  fs::path dir;
  ManualClock clock{1700000000000};
  std::unique_ptr<log::LogStore> log;
  std::unique_ptr<kinesis::Service> svc;
  Env(bool fsync, int shards) {
    dir = fs::temp_directory_path() / ("kinesis_bench_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    log::LogOptions lo;
    lo.fsync = fsync;
    log = std::move(log::LogStore::open((dir / "log").string(), lo)).value();
    svc = std::move(kinesis::Service::open(log.get(), (dir / "meta").string(), {}, &clock)).value();
    call("CreateStream", "{\"StreamName\":\"b\",\"ShardCount\":" + std::to_string(shards) + "}");
    clock.advance(1000);
    svc->tick();
  }
  ~Env() {
    svc.reset();
    log->close();
    log.reset();
    fs::remove_all(dir);
  }
  int call(const std::string& op, const std::string& body) {
    kinesis::Request req{op, kinesis::Encoding::kJson, body, ""};
    std::atomic<int> status{0};
    svc->handle(req, [&](kinesis::Response r) { status.store(r.http_status); });
    while (status.load() == 0) {
    }
    return status.load();
  }
};

std::string put_records_body(int n, int bytes) {
  std::string body = "{\"StreamName\":\"b\",\"Records\":[";
  for (int i = 0; i < n; i++) {
    if (i) body += ",";
    std::string data(bytes, static_cast<char>('a' + i % 26));
    body += "{\"Data\":\"" + base64_encode(data) + "\",\"PartitionKey\":\"key-" +
            std::to_string(i * 7919) + "\"}";
  }
  return body + "]}";
}

void BM_PutRecords(benchmark::State& state) {
  Env env(false, static_cast<int>(state.range(0)));
  std::string body = put_records_body(500, 100);
  for (auto _ : state) {
    if (env.call("PutRecords", body) != 200) state.SkipWithError("PutRecords failed");
  }
  state.SetItemsProcessed(state.iterations() * 500);
  state.counters["ns_per_record"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 500, benchmark::Counter::kIsRate |
                                                         benchmark::Counter::kInvert);
}
BENCHMARK(BM_PutRecords)->Arg(1)->Arg(4)->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);

void BM_GetRecords(benchmark::State& state) {
  Env env(false, 1);
  std::string body = put_records_body(500, 100);
  for (int i = 0; i < 20; i++) env.call("PutRecords", body);
  std::string it;
  {
    kinesis::Request req{"GetShardIterator", kinesis::Encoding::kJson,
                         "{\"StreamName\":\"b\",\"ShardId\":\"shardId-000000000000\","
                         "\"ShardIteratorType\":\"TRIM_HORIZON\"}",
                         ""};
    env.svc->handle(req, [&](kinesis::Response r) {
      auto p = r.body.find(":\"");
      it = r.body.substr(p + 2, r.body.size() - p - 4);
    });
  }
  std::string get = "{\"ShardIterator\":\"" + it + "\",\"Limit\":10000}";
  size_t bytes = 0;
  for (auto _ : state) {
    kinesis::Request req{"GetRecords", kinesis::Encoding::kJson, get, ""};
    env.svc->handle(req, [&](kinesis::Response r) { bytes += r.body.size(); });
  }
  state.SetItemsProcessed(state.iterations() * 10000);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_GetRecords)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
