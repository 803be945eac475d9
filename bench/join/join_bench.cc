// Stream-stream interval join over streamlake: two Kinesis streams (impressions and
// clicks, JSON, 1,000 events per second of event time each) pre-loaded into the log, and
// a view counting, per ad, the clicks that follow an impression of the same ad within 10
// seconds:
//
//   SELECT i.ad, count(*) AS n FROM imps i JOIN clicks c
//     ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '10 seconds' GROUP BY i.ad
//
// Times the view catching up with both logs, records the largest state_bytes seen between
// rounds (eviction keeps it to the rows of the last seconds), and checks the number of
// matched pairs against a direct count.
//
//   join_bench [--events N] [--ads A] [--shards S]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kinesis/kinesis.h"
#include "log/log.h"
#include "sql/engine.h"
#include "stream/runtime.h"
#include "util/time.h"
#include "../common/bench_util.h"

using namespace sl;
using sl::bench::run_sql;
using sl::bench::scalar;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kT0 = 1700000000000;

}  // namespace

int main(int argc, char** argv) {
  size_t events = 500000, ads = 1000;
  int shards = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!strcmp(argv[i], "--ads")) ads = std::stoull(argv[i + 1]);
    else if (!strcmp(argv[i], "--shards")) shards = std::stoi(argv[i + 1]);
  }
  fs::path dir = fs::temp_directory_path() / ("join_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ManualClock clock(kT0);
  log::LogOptions lo;
  lo.fsync = false;
  auto log = std::move(log::LogStore::open((dir / "log").string(), lo)).value();
  kinesis::Service::Options ko;
  ko.create_delay_ms = 0;
  auto svc = std::move(kinesis::Service::open(log.get(), (dir / "meta").string(), ko, &clock)).value();
  for (const char* name : {"imps", "clicks"}) {
    std::string body = std::string("{\"StreamName\":\"") + name + "\",\"ShardCount\":" + std::to_string(shards) + "}";
    kinesis::Request req;
    req.operation = "CreateStream";
    req.body = body;
    std::promise<int> p;
    svc->handle(req, [&](kinesis::Response r) { p.set_value(r.http_status); });
    if (p.get_future().get() != 200) { fprintf(stderr, "CreateStream failed\n"); return 1; }
  }
  svc->tick();

  // Pre-load: event e of each stream at kT0 + e ms (jitter below the lateness), one event
  // per record, round-robin over shards. The expected pair count is computed directly.
  std::mt19937_64 rng(42);
  std::vector<std::vector<int64_t>> imp_times(ads);
  std::vector<std::pair<size_t, int64_t>> clicks;
  size_t bytes = 0;
  int64_t t_load = mono_nanos();
  for (const char* name : {"imps", "clicks"}) {
    auto info = svc->describe(name).value();
    std::vector<std::vector<std::string>> pending(info.shards.size());
    auto flush = [&](size_t s) {
      std::vector<log::RecordIn> in;
      for (auto& b : pending[s]) in.push_back({"k", b});
      auto r = log->append(log->find_partition(info.shards[s].partition), in, kT0, nullptr);
      if (!r.ok()) { fprintf(stderr, "append: %s\n", r.status().to_string().c_str()); exit(1); }
      pending[s].clear();
    };
    bool is_imp = name[0] == 'i';
    for (size_t e = 0; e < events; e++) {
      int64_t t = kT0 + static_cast<int64_t>(e) + static_cast<int64_t>(rng() % 1000);
      size_t ad = rng() % ads;
      if (is_imp) imp_times[ad].push_back(t);
      else clicks.push_back({ad, t});
      std::string body = "{\"ad\":" + std::to_string(ad) + ",\"ts\":" + std::to_string(t) + "}";
      bytes += body.size();
      size_t s = e % info.shards.size();
      pending[s].push_back(std::move(body));
      if (pending[s].size() >= 4096) flush(s);
    }
    for (size_t s = 0; s < pending.size(); s++)
      if (!pending[s].empty()) flush(s);
  }
  double load_s = (mono_nanos() - t_load) / 1e9;
  size_t expected = 0;
  for (auto& v : imp_times) std::sort(v.begin(), v.end());
  for (auto& [ad, t] : clicks) {  // impressions in [t - 10 s, t]
    auto& v = imp_times[ad];
    expected += std::upper_bound(v.begin(), v.end(), t) - std::lower_bound(v.begin(), v.end(), t - 10000);
  }

  auto engine = sql::Engine::open((dir / "data").string());
  stream::RuntimeOptions ro;
  ro.max_records_per_shard = 8192;
  stream::Runtime rt(engine.get(), svc.get(), log.get(), (dir / "data").string(), &clock, ro);
  rt.open();
  for (const char* name : {"imps", "clicks"})
    run_sql(*engine, std::string("CREATE TABLE ") + name + " (ad int, ts timestamp) WITH (connector = 'kinesis', stream = '" +
                         name + "', format = 'json', event_time = 'ts', max_lateness = '2 seconds', idle_timeout = '1 second')");
  run_sql(*engine, "CREATE MATERIALIZED VIEW per_ad AS SELECT i.ad, count(*) AS n FROM imps i JOIN clicks c "
                   "ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '10 seconds' GROUP BY i.ad");

  int64_t t0 = mono_nanos();
  int64_t peak_state = 0;
  size_t rounds = 0;
  while (rt.run_once() > 0) {
    rounds++;
    for (auto& v : rt.views()) peak_state = std::max(peak_state, v.state_bytes);
  }
  double run_s = (mono_nanos() - t0) / 1e9;
  int64_t final_state = rt.views()[0].state_bytes;
  int64_t counted = scalar(*engine, "SELECT sum(n) FROM per_ad");

  printf("join: %zu impressions + %zu clicks (%zu ads, %d shards each, %.1f MB) pre-loaded in %.2f s\n", events, events,
         ads, shards, bytes / 1e6, load_s);
  printf("view caught up in %.3f s (%zu rounds): %.0f input rows/s, %lld pairs (%.0f pairs/s)\n", run_s, rounds,
         2.0 * events / run_s, static_cast<long long>(counted), counted / run_s);
  printf("state_bytes: peak %.1f MB between rounds, %.1f MB at the end\n", peak_state / 1e6, final_state / 1e6);
  printf("check: pairs counted %lld, expected %zu: %s\n", static_cast<long long>(counted), expected,
         counted == static_cast<int64_t>(expected) ? "ok" : "MISMATCH");
  rt.stop(false);
  svc.reset();
  log->close();
  fs::remove_all(dir);
  return counted == static_cast<int64_t>(expected) ? 0 : 1;
}
