// Yahoo Streaming Benchmark pipeline over streamlake: JSON ad events pre-loaded into the
// log of a Kinesis stream, a view that keeps event_type = 'view', joins ad_id -> campaign
// (a 1,000-row table) and counts per campaign in 10-second tumbling windows. Times the
// view catching up with the whole log, and, over the same bytes read back from the log,
// simdjson alone parsing every field (the parse-only ceiling).
//
//   yahoo_bench [--events N] [--per-record K] [--shards S] [--decode-threads T]
//
// Threads: streamlake runs its pipeline thread (views) plus T decode threads (shards
// decoded in parallel; default 2, the machine's core count); the parse-only loop is one
// thread. Both figures are wall-clock rates over the same events.
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sys/resource.h>
#include <time.h>
#include <future>
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
using sl::bench::uuid;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kT0 = 1700000000000;

}  // namespace

int main(int argc, char** argv) {
  size_t events = 10000000, per_record = 1, decode_threads = 2;
  int shards = 2;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      fprintf(stderr, "usage: yahoo_bench [--events N] [--per-record K] [--shards S] [--decode-threads T]\n");
      return 2;
    }
    if (!strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!strcmp(argv[i], "--per-record")) per_record = std::stoull(argv[i + 1]);
    else if (!strcmp(argv[i], "--shards")) shards = std::stoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--decode-threads")) decode_threads = std::stoull(argv[i + 1]);
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (events == 0 || per_record == 0 || shards <= 0 || decode_threads == 0) {
    fprintf(stderr, "--events, --per-record, --shards and --decode-threads must be positive\n");
    return 2;
  }
  fs::path dir = fs::temp_directory_path() / ("yahoo_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ManualClock clock(kT0);
  log::LogOptions lo;
  lo.fsync = false;
  auto log = std::move(log::LogStore::open((dir / "log").string(), lo)).value();
  kinesis::Service::Options ko;
  ko.create_delay_ms = 0;
  auto svc = std::move(kinesis::Service::open(log.get(), (dir / "meta").string(), ko, &clock)).value();
  {
    std::string body = "{\"StreamName\":\"ads\",\"ShardCount\":" + std::to_string(shards) + "}";
    kinesis::Request req;
    req.operation = "CreateStream";
    req.body = body;
    std::promise<int> p;
    svc->handle(req, [&](kinesis::Response r) { p.set_value(r.http_status); });
    if (p.get_future().get() != 200) { fprintf(stderr, "CreateStream failed\n"); return 1; }
    svc->tick();
  }
  auto info = svc->describe("ads").value();

  // Pre-load: events round-robin over shards, per_record events per record.
  std::mt19937_64 rng(42);
  std::vector<std::string> ads, users, pages;
  for (int i = 0; i < 1000; i++) ads.push_back(uuid(rng));
  for (int i = 0; i < 1000; i++) users.push_back(uuid(rng));
  for (int i = 0; i < 1000; i++) pages.push_back(uuid(rng));
  const char* ad_types[] = {"banner", "modal", "sponsored-search", "mail", "mobile"};
  const char* event_types[] = {"view", "click", "purchase"};
  size_t views = 0, bytes = 0;
  int64_t t_load = mono_nanos();
  {
    std::vector<std::vector<std::string>> pending(info.shards.size());
    std::string body;
    auto flush = [&](size_t s) {
      std::vector<log::RecordIn> in;
      for (auto& b : pending[s]) in.push_back({"k", b});
      auto r = log->append(log->find_partition(info.shards[s].partition), in, kT0, nullptr);
      if (!r.ok()) { fprintf(stderr, "append: %s\n", r.status().to_string().c_str()); exit(1); }
      pending[s].clear();
    };
    size_t rec = 0;
    for (size_t e = 0; e < events; e++) {
      int64_t t = kT0 + static_cast<int64_t>(e);  // 1,000 events per second of event time
      const char* et = event_types[rng() % 3];
      views += et[0] == 'v';
      char ip[32];
      snprintf(ip, sizeof ip, "%u.%u.%u.%u", unsigned(rng() % 256), unsigned(rng() % 256), unsigned(rng() % 256),
               unsigned(rng() % 256));
      body += "{\"user_id\":\"" + users[rng() % 1000] + "\",\"page_id\":\"" + pages[rng() % 1000] + "\",\"ad_id\":\"" +
              ads[rng() % 1000] + "\",\"ad_type\":\"" + ad_types[rng() % 5] + "\",\"event_type\":\"" + et +
              "\",\"event_time\":" + std::to_string(t) + ",\"ip_address\":\"" + ip + "\"}\n";
      if ((e + 1) % per_record == 0 || e + 1 == events) {
        bytes += body.size();
        size_t s = rec++ % info.shards.size();
        pending[s].push_back(std::move(body));
        body.clear();
        if (pending[s].size() >= 4096) flush(s);
      }
    }
    for (size_t s = 0; s < pending.size(); s++)
      if (!pending[s].empty()) flush(s);
  }
  double load_s = (mono_nanos() - t_load) / 1e9;

  auto engine = sql::Engine::open((dir / "data").string());
  std::string ins = "INSERT INTO campaigns VALUES ";
  run_sql(*engine, "CREATE TABLE campaigns (ad_id text, campaign_id text)");
  std::vector<std::string> campaigns;
  for (int i = 0; i < 100; i++) campaigns.push_back(uuid(rng));
  for (int i = 0; i < 1000; i++) ins += (i ? ",('" : "('") + ads[i] + "','" + campaigns[i / 10] + "')";
  run_sql(*engine, ins);

  stream::RuntimeOptions ro;
  ro.max_records_per_shard = 65536;
  ro.decode_threads = decode_threads;
  stream::Runtime rt(engine.get(), svc.get(), log.get(), (dir / "data").string(), &clock, ro);
  rt.open();
  run_sql(*engine, "CREATE TABLE events (user_id text, page_id text, ad_id text, ad_type text, event_type text, "
                   "event_time timestamp, ip_address text) WITH (connector = 'kinesis', stream = 'ads', format = 'json', "
                   "event_time = 'event_time', idle_timeout = '1 second')");
  run_sql(*engine, "CREATE MATERIALIZED VIEW campaign_windows AS SELECT window_start, c.campaign_id, count(*) AS n "
                   "FROM tumble(events, event_time, interval '10 seconds') e JOIN campaigns c ON e.ad_id = c.ad_id "
                   "WHERE e.event_type = 'view' GROUP BY window_start, c.campaign_id");

  auto cpu_s = [] {
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  double c0 = cpu_s();
  int64_t t0 = mono_nanos();
  rt.run_until_idle();
  int64_t t1 = mono_nanos();
  double run_cpu = cpu_s() - c0;
  double run_s = (t1 - t0) / 1e9;
  // For `perf record -k CLOCK_MONOTONIC` + `perf report --time A,B`: the catch-up window.
  fprintf(stderr, "catch-up window (CLOCK_MONOTONIC s): %.6f,%.6f\n", t0 / 1e9, t1 / 1e9);
  clock.advance(60000);  // idle: the watermark closes the last windows
  rt.run_once();
  int64_t counted = scalar(*engine, "SELECT sum(n) FROM campaign_windows");

  // simdjson alone over the same bytes, read back from the log (reading not timed).
  simdjson::ondemand::parser parser;
  std::string pad;
  size_t parsed = 0;
  int64_t parse_ns = 0, parse_cpu_ns = 0;
  auto thread_cpu_ns = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
  };
  for (auto& sh : info.shards) {
    log::Partition* p = log->find_partition(sh.partition);
    uint64_t pos = 0;
    while (pos < p->durable_end()) {
      std::vector<std::string> batch;
      auto r = p->scan(pos, 65536, 64 << 20, [&](const log::RecordRef& rec) {
        batch.emplace_back(rec.data);
        return true;
      });
      pos = r.value();
      int64_t a = mono_nanos(), a_cpu = thread_cpu_ns();
      for (auto& d : batch) {
        pad.assign(d);
        pad.append(simdjson::SIMDJSON_PADDING, '\0');
        size_t at = 0;
        while (at < d.size()) {
          size_t nl = d.find('\n', at);
          if (nl == std::string::npos) nl = d.size();
          simdjson::ondemand::document doc;
          if (parser.iterate(pad.data() + at, nl - at, pad.size() - at).get(doc)) break;
          simdjson::ondemand::object obj;
          if (doc.get_object().get(obj)) break;
          for (auto f : obj) {
            simdjson::ondemand::field fl;
            if (std::move(f).get(fl)) break;
            simdjson::ondemand::json_type t;
            if (fl.value().type().get(t)) break;
            if (t == simdjson::ondemand::json_type::string) {
              std::string_view s;
              if (fl.value().get_string().get(s)) break;
            } else {
              int64_t v;
              if (fl.value().get_int64().get(v)) break;
            }
          }
          parsed++;
          at = nl + 1;
        }
      }
      parse_ns += mono_nanos() - a;
      parse_cpu_ns += thread_cpu_ns() - a_cpu;
    }
  }
  double eps = events / run_s, parse_eps = parsed / (parse_ns / 1e9);
  printf("yahoo: %zu events (%zu per record, %d shards, %.1f MB) pre-loaded in %.2f s\n", events, per_record, shards,
         bytes / 1e6, load_s);
  printf("view caught up in %.3f s: %.0f events/s (%.1f MB/s)\n", run_s, eps, bytes / 1e6 / run_s);
  printf("catch-up CPU time (all threads): %.3f s = %.0f ns per event\n", run_cpu, run_cpu * 1e9 / events);
  printf("simdjson parse-only over the same bytes (1 thread, every field): %.0f events/s, CPU %.0f ns per event\n",
         parse_eps, static_cast<double>(parse_cpu_ns) / parsed);
  printf("check: view events counted %lld, expected %zu: %s\n", static_cast<long long>(counted), views,
         counted == static_cast<int64_t>(views) ? "ok" : "MISMATCH");
  std::string threads = decode_threads > 1 ? std::to_string(decode_threads + 1) + " threads: pipeline + " +
                                                 std::to_string(decode_threads) + " decode"
                                           : std::string("1 thread: the pipeline thread decodes");
  printf("RESULT streamlake %.0f events/s (%s) | simdjson parse-only %.0f events/s (1 thread) | ratio %.0f%%\n", eps,
         threads.c_str(), parse_eps, 100.0 * eps / parse_eps);
  rt.stop(false);
  svc.reset();
  log->close();
  fs::remove_all(dir);
  return counted == static_cast<int64_t>(views) ? 0 : 1;
}
