// Decoder throughput: Yahoo-Streaming-Benchmark-shaped JSON events and the AWS solution's
// CSV (zipcode,productN,price,timestamp) decoded into exec chunks, and simdjson's
// parse-only rate over the same JSON bytes (every field visited, nothing materialized).
//
//   build/<dir>/bench/format/format_bench [--benchmark_filter=Json]
//
// Each benchmark reports items_per_second = events/s on one thread; the JSON decoder's
// ratio to parse-only is printed at the end.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "format/decoder.h"
#include "../common/bench_util.h"

namespace sl::format {
namespace {

constexpr size_t kEvents = 200000;

using sl::bench::uuid;

// Events as the Yahoo benchmark generator writes them; `per_record` events per record.
struct Corpus {
  std::vector<std::string> bodies;
  std::vector<RawRecord> records;
  size_t events = 0, bytes = 0;
};

const Corpus& yahoo(size_t per_record, bool numeric_time) {
  static Corpus cache[2][2];
  Corpus& c = cache[per_record > 1][numeric_time];
  if (!c.records.empty()) return c;
  std::mt19937_64 rng(42);
  std::vector<std::string> ads, users, pages;
  for (int i = 0; i < 1000; i++) ads.push_back(uuid(rng));
  for (int i = 0; i < 1000; i++) users.push_back(uuid(rng));
  for (int i = 0; i < 1000; i++) pages.push_back(uuid(rng));
  const char* ad_types[] = {"banner", "modal", "sponsored-search", "mail", "mobile"};
  const char* event_types[] = {"view", "click", "purchase"};
  std::string body;
  for (size_t e = 0; e < kEvents; e++) {
    int64_t t = 1700000000000 + static_cast<int64_t>(e);
    char ip[32];
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", unsigned(rng() % 256), unsigned(rng() % 256), unsigned(rng() % 256),
             unsigned(rng() % 256));
    body += "{\"user_id\":\"" + users[rng() % 1000] + "\",\"page_id\":\"" + pages[rng() % 1000] + "\",\"ad_id\":\"" +
            ads[rng() % 1000] + "\",\"ad_type\":\"" + ad_types[rng() % 5] + "\",\"event_type\":\"" +
            event_types[rng() % 3] + "\",\"event_time\":" +
            (numeric_time ? std::to_string(t) : "\"" + std::to_string(t) + "\"") + ",\"ip_address\":\"" + ip + "\"}\n";
    if ((e + 1) % per_record == 0) {
      c.bodies.push_back(std::move(body));
      body.clear();
    }
  }
  for (size_t i = 0; i < c.bodies.size(); i++) {
    c.records.push_back(RawRecord{c.bodies[i], 0, i, 1700000000000});
    c.bytes += c.bodies[i].size();
  }
  c.events = kEvents;
  return c;
}

std::vector<ColumnSpec> yahoo_schema() {
  using exec::TypeId;
  return {{"user_id", TypeId::kVarchar},   {"page_id", TypeId::kVarchar},    {"ad_id", TypeId::kVarchar},
          {"ad_type", TypeId::kVarchar},   {"event_type", TypeId::kVarchar}, {"event_time", TypeId::kTimestamp},
          {"ip_address", TypeId::kVarchar}};
}

void decode_all(RecordDecoder& dec, const Corpus& c, exec::DataChunk& chunk, ErrorSink& errs, size_t* rows) {
  dec.set_input(c.records);
  while (!dec.done()) {
    chunk.reset();
    *rows += dec.decode(chunk, errs);
  }
}

void BM_JsonDecode(benchmark::State& st) {
  const Corpus& c = yahoo(st.range(0), st.range(1));
  DecoderOptions o;
  o.format = RecordFormat::kJson;
  o.event_time_column = "event_time";
  RecordDecoder dec(yahoo_schema(), o);
  exec::DataChunk chunk = dec.make_chunk();
  ErrorSink errs;
  size_t rows = 0;
  for (auto _ : st) {
    errs.clear();
    decode_all(dec, c, chunk, errs, &rows);
    if (!errs.rows.empty()) st.SkipWithError(errs.rows[0].reason.c_str());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * c.events));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c.bytes));
}

// simdjson alone over the same bytes: each record copied to a padded buffer (as the
// decoder must, records come unpadded from the log), then every field of every object
// visited: keys compared, strings unescaped, numbers parsed.
void BM_JsonParseOnly(benchmark::State& st) {
  const Corpus& c = yahoo(st.range(0), st.range(1));
  simdjson::ondemand::parser parser;
  std::string pad;
  size_t fields = 0;
  for (auto _ : st) {
    for (const RawRecord& r : c.records) {
      pad.assign(r.data);
      pad.append(simdjson::SIMDJSON_PADDING, '\0');
      size_t pos = 0;
      while (pos < r.data.size()) {
        size_t nl = r.data.find('\n', pos);
        if (nl == std::string_view::npos) nl = r.data.size();
        simdjson::ondemand::document doc;
        if (parser.iterate(pad.data() + pos, nl - pos, pad.size() - pos).get(doc)) { st.SkipWithError("parse"); return; }
        simdjson::ondemand::object obj;
        if (doc.get_object().get(obj)) { st.SkipWithError("object"); return; }
        for (auto f : obj) {
          simdjson::ondemand::field fl;
          if (std::move(f).get(fl)) { st.SkipWithError("field"); return; }
          benchmark::DoNotOptimize(fl.key().raw());
          simdjson::ondemand::json_type t;
          if (fl.value().type().get(t)) { st.SkipWithError("type"); return; }
          if (t == simdjson::ondemand::json_type::string) {
            std::string_view s;
            if (fl.value().get_string().get(s)) { st.SkipWithError("string"); return; }
            benchmark::DoNotOptimize(s.data());
          } else {
            int64_t v;
            if (fl.value().get_int64().get(v)) { st.SkipWithError("number"); return; }
            benchmark::DoNotOptimize(v);
          }
          fields++;
        }
        pos = nl + 1;
      }
    }
  }
  benchmark::DoNotOptimize(fields);
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * c.events));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c.bytes));
}

// The AWS solution's producer rows: zipcode,productN,price,timestamp.
void BM_CsvDecode(benchmark::State& st) {
  size_t per_record = st.range(0);
  std::mt19937_64 rng(7);
  std::vector<std::string> bodies;
  std::string body;
  size_t bytes = 0;
  for (size_t e = 0; e < kEvents; e++) {
    char line[128];
    int64_t s = 1700000000 + static_cast<int64_t>(e / 100);
    snprintf(line, sizeof line, "%u,product%u,%u,2023-11-14 %02lld:%02lld:%02lld.%03u\n",
             unsigned(10000 + rng() % 90000), unsigned(rng() % 10), unsigned(rng() % 100),
             static_cast<long long>(s / 3600 % 24), static_cast<long long>(s / 60 % 60),
             static_cast<long long>(s % 60), unsigned(e % 1000));
    body += line;
    if ((e + 1) % per_record == 0) { bytes += body.size(); bodies.push_back(std::move(body)); body.clear(); }
  }
  std::vector<RawRecord> recs;
  for (size_t i = 0; i < bodies.size(); i++) recs.push_back({bodies[i], 0, i, 0});
  using exec::TypeId;
  DecoderOptions o;
  o.event_time_column = "ts";
  RecordDecoder dec({{"zipcode", TypeId::kInteger}, {"product", TypeId::kVarchar}, {"price", TypeId::kInteger},
                     {"ts", TypeId::kTimestamp}},
                    o);
  exec::DataChunk chunk = dec.make_chunk();
  ErrorSink errs;
  for (auto _ : st) {
    errs.clear();
    dec.set_input(recs);
    while (!dec.done()) {
      chunk.reset();
      dec.decode(chunk, errs);
    }
    if (!errs.rows.empty()) st.SkipWithError(errs.rows[0].reason.c_str());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kEvents));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * bytes));
}

// Args: events per record, event_time as a JSON number (1) or a string (0).
BENCHMARK(BM_JsonParseOnly)->Args({1, 0})->Args({10, 0})->Args({1, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonDecode)->Args({1, 0})->Args({10, 0})->Args({1, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvDecode)->Arg(1)->Arg(10)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sl::format

// Console output plus, at the end, each JSON decode rate as a share of parse-only.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rates_[r.benchmark_name()] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const auto& [name, rate] : rates_) {
      if (name.rfind("BM_JsonDecode", 0) != 0) continue;
      auto ends = [&](const char* suf) {
        size_t n = strlen(suf);
        return name.size() >= n && name.compare(name.size() - n, n, suf) == 0;
      };
      if (ends("_stddev") || ends("_cv")) continue;
      std::string parse = "BM_JsonParseOnly" + name.substr(strlen("BM_JsonDecode"));
      auto p = rates_.find(parse);
      if (p == rates_.end()) continue;
      printf("%-40s %6.2f M events/s = %5.1f%% of parse-only (%.2f M/s)\n", name.c_str(), rate / 1e6,
             100.0 * rate / p->second, p->second / 1e6);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Stage 1 (structural indexing) and string unescaping run the kernel libsimdjson picks
  // at run time; On Demand's value iteration is the header's compile-time one.
  printf("simdjson %s: runtime kernel %s, On Demand iteration %s\n", SIMDJSON_STRINGIFY(SIMDJSON_VERSION),
         simdjson::get_active_implementation()->name().c_str(), SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
