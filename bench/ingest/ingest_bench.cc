// ingest_bench: a Kinesis PutRecords load driver.
//
// N threads, each with one keep-alive HTTP/1.1 connection, send PutRecords of R records ×
// S bytes (default 500 × 100) to --endpoint for --duration seconds, and report acknowledged
// records/s and the latency distribution. Two modes:
//   closed loop (default): every thread sends its next request as soon as the last is
//     answered; measures the peak rate. Latency = send → full response.
//   fixed rate (--rate records/s): requests are scheduled at fixed intervals spread over the
//     threads; latency is measured from the scheduled start, so a stalled server is charged
//     for the requests it delayed (no coordinated omission).
// Requests are SigV4-signed (net/sigv4.h); the body is constant, so each thread re-signs
// once per second only. The first --warmup seconds are not counted.
//
// Output: a human line and a machine line "RESULT records_per_s=... p50_ms=... p99_ms=...".
#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/http.h"
#include "net/http_client.h"
#include "net/sigv4.h"
#include "util/base64.h"
#include "util/time.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;
  std::string stream = "bench";
  std::string credentials;
  std::string access_key = "AKIDBENCH";
  std::string secret_key = "benchsecret";
  std::string region = "us-east-1";
  int connections = 4;
  double duration = 10;
  double warmup = 1;
  double rate = 0;  // records/s; 0 = closed loop
  int records = 500;
  int size = 100;
  int create_shards = 0;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: ingest_bench --endpoint http://HOST:PORT [--stream S] [--credentials FILE]\n"
               "         [--connections N=4] [--duration SEC=10] [--warmup SEC=1] [--rate RECORDS_PER_S]\n"
               "         [--records 500] [--size 100] [--create-shards K]\n");
  std::exit(2);
}

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// [default] aws_access_key_id / aws_secret_access_key from an AWS shared-credentials file.
bool read_credentials(const std::string& file, Options* o) {
  std::ifstream in(file);
  if (!in) return false;
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      section = trim(line.substr(1, line.find(']') - 1));
      continue;
    }
    if (section != "default") continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") o->access_key = v;
    if (k == "aws_secret_access_key") o->secret_key = v;
  }
  return true;
}

bool parse_endpoint(const std::string& ep, Options* o) {
  std::string s = ep;
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  else if (s.find("://") != std::string::npos) return false;
  if (!s.empty() && s.back() == '/') s.pop_back();
  auto colon = s.rfind(':');
  if (colon == std::string::npos) {
    o->host = s;
    o->port = 80;
    return true;
  }
  o->host = s.substr(0, colon);
  o->port = static_cast<uint16_t>(std::atoi(s.c_str() + colon + 1));
  return o->port != 0;
}

class Signer {
 public:
  Signer(const Options& o, std::string target, std::string body) : o_(o) {
    req_.method = "POST";
    req_.target = "/";
    req_.path = "/";
    req_.headers = {{"host", o.host + ":" + std::to_string(o.port)},
                    {"content-type", "application/x-amz-json-1.1"},
                    {"x-amz-target", "Kinesis_20131202." + std::move(target)}};
    req_.body = std::move(body);
    base_headers_ = req_.headers;
  }
  // The signed request for now; re-signed when the second changes.
  const sl::net::HttpRequest& request() {
    int64_t now = sl::now_millis();
    if (now / 1000 != signed_second_) {
      req_.headers = base_headers_;
      sl::net::sign_sigv4(req_, o_.access_key, o_.secret_key, o_.region, "kinesis", now);
      signed_second_ = now / 1000;
    }
    return req_;
  }

 private:
  const Options& o_;
  sl::net::HttpRequest req_;
  sl::net::Headers base_headers_;
  int64_t signed_second_ = -1;
};

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string put_records_body(const Options& o, int thread_no) {
  std::mt19937_64 rng(1234567 + thread_no);
  std::string body = "{\"StreamName\":\"" + json_escape(o.stream) + "\",\"Records\":[";
  for (int i = 0; i < o.records; ++i) {
    std::string data(static_cast<size_t>(o.size), 'x');
    for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
    if (i) body += ',';
    body += "{\"Data\":\"" + sl::base64_encode(data) + "\",\"PartitionKey\":\"pk-" +
            std::to_string(rng() % 1000000) + "\"}";
  }
  body += "]}";
  return body;
}

struct ThreadStats {
  std::vector<uint32_t> lat_us;  // counted requests only
  uint64_t records_ok = 0, records_failed = 0, requests = 0, errors = 0;
  std::string first_error;
};

std::atomic<bool> g_stop{false};

void run_thread(const Options& o, int thread_no, Clock::time_point start, Clock::time_point count_from,
                Clock::time_point end, ThreadStats* st) {
  auto conn = sl::net::HttpClient::connect(o.host, o.port, 30000);
  if (!conn.ok()) {
    st->errors++;
    st->first_error = conn.status().to_string();
    return;
  }
  Signer signer(o, "PutRecords", put_records_body(o, thread_no));
  // Fixed rate: thread t sends request k at start + (k * threads + t) * interval.
  const double req_per_s = o.rate / o.records;
  const double interval_s = req_per_s > 0 ? 1.0 / req_per_s : 0;
  st->lat_us.reserve(1 << 16);
  for (uint64_t k = 0; !g_stop.load(std::memory_order_relaxed); ++k) {
    Clock::time_point scheduled;
    if (interval_s > 0) {
      double at = (static_cast<double>(k) * o.connections + thread_no) * interval_s;
      scheduled = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at));
      if (scheduled >= end) break;
      std::this_thread::sleep_until(scheduled);
    } else {
      scheduled = Clock::now();
      if (scheduled >= end) break;
    }
    const auto& req = signer.request();
    auto resp = conn->send(req);
    auto done = Clock::now();
    st->requests++;
    bool counted = scheduled >= count_from && done <= end + std::chrono::seconds(5);
    if (!resp.ok() || resp->status != 200) {
      st->errors++;
      if (st->first_error.empty())
        st->first_error = resp.ok() ? "HTTP " + std::to_string(resp->status) + ": " + resp->body.substr(0, 300)
                                    : resp.status().to_string();
      if (!resp.ok()) {
        auto again = sl::net::HttpClient::connect(o.host, o.port, 30000);
        if (!again.ok()) return;
        conn = std::move(again);
      }
      continue;
    }
    // "FailedRecordCount":N
    uint64_t failed = 0;
    auto pos = resp->body.find("\"FailedRecordCount\":");
    if (pos != std::string::npos) failed = std::strtoull(resp->body.c_str() + pos + 20, nullptr, 10);
    if (counted) {
      st->records_ok += o.records - failed;
      st->records_failed += failed;
      st->lat_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(done - scheduled).count()));
    }
  }
}

double pct(const std::vector<uint32_t>& v, double p) {
  if (v.empty()) return NAN;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) ;
  i = std::min(v.size() - 1, i == 0 ? 0 : i - 1);
  return v[i] / 1000.0;
}

bool call(const Options& o, const std::string& op, const std::string& body, sl::net::HttpResponse* out) {
  auto conn = sl::net::HttpClient::connect(o.host, o.port, 30000);
  if (!conn.ok()) return false;
  Signer s(o, op, body);
  auto r = conn->send(s.request());
  if (!r.ok()) return false;
  *out = std::move(*r);
  return true;
}

bool create_stream(const Options& o) {
  sl::net::HttpResponse r;
  std::string name = json_escape(o.stream);
  if (!call(o, "CreateStream", "{\"StreamName\":\"" + name + "\",\"ShardCount\":" +
                                   std::to_string(o.create_shards) + "}", &r))
    return false;
  if (r.status != 200 && r.body.find("ResourceInUseException") == std::string::npos) {
    std::fprintf(stderr, "ingest_bench: CreateStream: HTTP %d %s\n", r.status, r.body.c_str());
    return false;
  }
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    if (call(o, "DescribeStreamSummary", "{\"StreamName\":\"" + name + "\"}", &r) && r.status == 200 &&
        r.body.find("\"ACTIVE\"") != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr, "ingest_bench: stream not ACTIVE after 30 s\n");
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string endpoint;
  static option longopts[] = {
      {"endpoint", required_argument, nullptr, 'e'}, {"stream", required_argument, nullptr, 's'},
      {"credentials", required_argument, nullptr, 'c'}, {"connections", required_argument, nullptr, 'n'},
      {"duration", required_argument, nullptr, 'd'}, {"warmup", required_argument, nullptr, 'w'},
      {"rate", required_argument, nullptr, 'r'}, {"records", required_argument, nullptr, 'R'},
      {"size", required_argument, nullptr, 'S'}, {"create-shards", required_argument, nullptr, 'k'},
      {"access-key", required_argument, nullptr, 'a'}, {"secret-key", required_argument, nullptr, 'x'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
    switch (c) {
      case 'e': endpoint = optarg; break;
      case 's': o.stream = optarg; break;
      case 'c': o.credentials = optarg; break;
      case 'n': o.connections = std::atoi(optarg); break;
      case 'd': o.duration = std::atof(optarg); break;
      case 'w': o.warmup = std::atof(optarg); break;
      case 'r': o.rate = std::atof(optarg); break;
      case 'R': o.records = std::atoi(optarg); break;
      case 'S': o.size = std::atoi(optarg); break;
      case 'k': o.create_shards = std::atoi(optarg); break;
      case 'a': o.access_key = optarg; break;
      case 'x': o.secret_key = optarg; break;
      default: usage();
    }
  }
  if (endpoint.empty() || !parse_endpoint(endpoint, &o) || o.connections < 1 || o.records < 1 ||
      o.records > 500 || o.duration <= 0)
    usage();
  if (!o.credentials.empty() && !read_credentials(o.credentials, &o)) {
    std::fprintf(stderr, "ingest_bench: cannot read %s\n", o.credentials.c_str());
    return 2;
  }
  if (o.create_shards > 0 && !create_stream(o)) return 1;

  std::vector<ThreadStats> stats(static_cast<size_t>(o.connections));
  std::vector<std::thread> threads;
  auto start = Clock::now() + std::chrono::milliseconds(50);
  auto count_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
  auto end = count_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  for (int t = 0; t < o.connections; ++t)
    threads.emplace_back(run_thread, std::cref(o), t, start, count_from, end, &stats[static_cast<size_t>(t)]);
  for (auto& t : threads) t.join();

  std::vector<uint32_t> lat;
  uint64_t ok = 0, failed = 0, requests = 0, errors = 0;
  std::string first_error;
  for (auto& s : stats) {
    lat.insert(lat.end(), s.lat_us.begin(), s.lat_us.end());
    ok += s.records_ok;
    failed += s.records_failed;
    requests += s.requests;
    errors += s.errors;
    if (first_error.empty()) first_error = s.first_error;
  }
  std::sort(lat.begin(), lat.end());
  double rps = static_cast<double>(ok) / o.duration;
  std::printf("ingest_bench: %s:%u stream=%s connections=%d mode=%s records/request=%d size=%d duration=%.0fs\n",
              o.host.c_str(), o.port, o.stream.c_str(), o.connections,
              o.rate > 0 ? ("fixed " + std::to_string(static_cast<long long>(o.rate)) + " records/s").c_str()
                         : "closed-loop",
              o.records, o.size, o.duration);
  std::printf("  %.0f records/s acknowledged (%.1f requests/s), latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, "
              "max %.2f ms; failed records %llu, request errors %llu\n",
              rps, static_cast<double>(lat.size()) / o.duration, pct(lat, 50), pct(lat, 99), pct(lat, 99.9),
              lat.empty() ? NAN : lat.back() / 1000.0, static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(errors));
  if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
  std::printf("RESULT records_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f failed=%llu errors=%llu requests=%llu\n",
              rps, pct(lat, 50), pct(lat, 99), pct(lat, 99.9), static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(errors), static_cast<unsigned long long>(requests));
  std::fflush(stdout);
  return ok > 0 ? 0 : 1;
}
