#include "cli/produce.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "cli/endpoint.h"
#include "net/http.h"
#include "net/http_client.h"
#include "net/sigv4.h"
#include "server/credentials.h"
#include "util/base64.h"
#include "util/time.h"

namespace sl::cli {
namespace {

uint64_t next_rand(uint64_t& s) {  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 2685821657736338717ull;
}

std::string format_ts(int64_t ms) {
  std::string s = format_iso8601_ms(ms);  // 2026-11-24T12:48:00.123Z
  s[10] = ' ';
  s.pop_back();
  return s;  // 2026-11-24 12:48:00.123
}


struct Target {
  std::string host;
  uint16_t port = 0;
  server::KeyPair kp;
};

bool resolve_target(const ProduceOptions& o, Target* t) {
  if (!parse_http_endpoint(o.endpoint, &t->host, &t->port)) {
    std::fprintf(stderr, "produce: bad endpoint %s (want http://host:port)\n", o.endpoint.c_str());
    return false;
  }
  auto kp = server::read_credentials_file(o.credentials_file);
  if (!kp.ok()) {
    std::fprintf(stderr, "produce: %s\nproduce: hint: the server writes DATA/credentials when it first starts; "
                 "pass --data with the server's data directory, or --credentials FILE.\n",
                 kp.status().message().c_str());
    return false;
  }
  t->kp = *kp;
  return true;
}

Result<net::HttpResponse> kinesis_call(net::HttpClient& client, const Target& t, const ProduceOptions& o,
                                       std::string_view op, std::string body) {
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.path = "/";
  req.headers.emplace_back("host", t.host + ":" + std::to_string(t.port));
  req.headers.emplace_back("content-type", "application/x-amz-json-1.1");
  req.headers.emplace_back("x-amz-target", "Kinesis_20131202." + std::string(op));
  req.body = std::move(body);
  net::sign_sigv4(req, t.kp.access_key, t.kp.secret, o.region, "kinesis", now_millis());
  return client.send(req);
}

}  // namespace

bool ensure_stream(const ProduceOptions& o, int shard_count) {
  Target t;
  if (!resolve_target(o, &t)) return false;
  auto client = net::HttpClient::connect(t.host, t.port);
  if (!client.ok()) {
    std::fprintf(stderr, "produce: cannot connect to %s: %s\n", o.endpoint.c_str(), client.status().message().c_str());
    return false;
  }
  auto r = kinesis_call(*client, t, o, "CreateStream",
                        "{\"StreamName\":\"" + o.stream + "\",\"ShardCount\":" + std::to_string(shard_count) + "}");
  if (!r.ok()) return false;
  if (r->status != 200 && r->body.find("ResourceInUseException") == std::string::npos) {
    std::fprintf(stderr, "produce: CreateStream answered %d: %s\n", r->status, r->body.c_str());
    return false;
  }
  for (int i = 0; i < 600; i++) {
    auto d = kinesis_call(*client, t, o, "DescribeStreamSummary", "{\"StreamName\":\"" + o.stream + "\"}");
    if (!d.ok()) return false;
    if (d->status == 200 && d->body.find("\"ACTIVE\"") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "produce: stream %s did not become ACTIVE\n", o.stream.c_str());
  return false;
}

std::string make_sample_record(uint64_t& rng, int64_t ts_ms, bool json) {
  int zipcode = 91000 + static_cast<int>(next_rand(rng) % 9000);
  int product = 2 + static_cast<int>(next_rand(rng) % 49);
  int price = 1 + static_cast<int>(next_rand(rng) % 100);
  std::string ts = format_ts(ts_ms);
  char buf[160];
  if (json)
    std::snprintf(buf, sizeof buf, "{\"zipcode\":%d,\"product\":\"product%d\",\"price\":%d,\"timestamp\":\"%s\"}",
                  zipcode, product, price, ts.c_str());
  else
    std::snprintf(buf, sizeof buf, "%d,product%d,%d,%s", zipcode, product, price, ts.c_str());
  return buf;
}

// What a newcomer should do about an error answer.
void print_produce_hint(const ProduceOptions& o, const std::string& body) {
  if (body.find("ResourceNotFoundException") != std::string::npos)
    std::fprintf(stderr,
                 "produce: hint: stream '%s' does not exist. Create it first:\n"
                 "  aws --endpoint-url %s kinesis create-stream --stream-name %s --shard-count 2\n"
                 "or run `streamlake demo`, which creates the stream 'sales' and its pipeline.\n",
                 o.stream.c_str(), o.endpoint.c_str(), o.stream.c_str());
  else if (body.find("UnrecognizedClientException") != std::string::npos ||
           body.find("InvalidSignatureException") != std::string::npos)
    std::fprintf(stderr,
                 "produce: hint: the server does not know the key pair in %s. Use the credentials file of the "
                 "server's data directory (--data DIR or --credentials FILE).\n",
                 o.credentials_file.c_str());
}

int run_produce(const ProduceOptions& o, const volatile bool* stop) {
  Target t;
  if (!resolve_target(o, &t)) return 2;
  if (o.format != "csv" && o.format != "json") {
    std::fprintf(stderr, "produce: --format must be csv or json\n");
    return 2;
  }
  if (o.rate <= 0) {
    std::fprintf(stderr, "produce: --rate must be positive\n");
    return 2;
  }
  auto client = net::HttpClient::connect(t.host, t.port);
  if (!client.ok()) {
    std::fprintf(stderr, "produce: cannot connect to %s: %s\nproduce: hint: is the server running? Start it with "
                 "`streamlake serve` (or `streamlake demo`), or pass --endpoint.\n", o.endpoint.c_str(),
                 client.status().message().c_str());
    return 1;
  }
  uint64_t rng = o.seed ? o.seed : static_cast<uint64_t>(mono_nanos()) | 1;
  bool json = o.format == "json";
  const int64_t start = mono_nanos();
  const int64_t tick_ns = 100'000'000;  // send a batch every 100 ms
  uint64_t sent = 0, failed = 0, last_report_sent = 0;
  int64_t next_report = start + 1'000'000'000;
  int64_t tick = 0;
  while (!*stop) {
    int64_t now = mono_nanos();
    double elapsed = (now - start) / 1e9;
    if (o.duration > 0 && elapsed >= o.duration) break;
    uint64_t due = static_cast<uint64_t>(o.rate * std::min(elapsed + 0.1, o.duration > 0 ? o.duration : 1e18));
    while (sent + failed < due && !*stop) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(500, due - sent - failed));
      std::string body = "{\"StreamName\":\"" + o.stream + "\",\"Records\":[";
      int64_t ts = now_millis();
      for (size_t i = 0; i < n; i++) {
        std::string rec = make_sample_record(rng, ts, json);
        rec.push_back('\n');
        if (i) body.push_back(',');
        body += "{\"PartitionKey\":\"";
        body += rec.substr(0, 5);  // the zipcode
        body += "\",\"Data\":\"";
        base64_encode_append(rec, body);
        body += "\"}";
      }
      body += "]}";
      auto resp = kinesis_call(*client, t, o, "PutRecords", std::move(body));
      if (!resp.ok()) {
        std::fprintf(stderr, "produce: request failed: %s\n", resp.status().message().c_str());
        return 1;
      }
      if (resp->status != 200) {
        std::fprintf(stderr, "produce: PutRecords answered %d: %s\n", resp->status, resp->body.c_str());
        print_produce_hint(o, resp->body);
        return 1;
      }
      // FailedRecordCount is reported; failed records are counted, not retried.
      auto p = resp->body.find("\"FailedRecordCount\":");
      uint64_t f = p == std::string::npos ? 0 : std::strtoull(resp->body.c_str() + p + 20, nullptr, 10);
      failed += f;
      sent += n - f;
    }
    now = mono_nanos();
    if (now >= next_report && !o.quiet) {
      std::printf("produce: t=%.0fs sent=%llu (%llu/s) failed=%llu\n", (now - start) / 1e9,
                  static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(sent - last_report_sent), static_cast<unsigned long long>(failed));
      std::fflush(stdout);
      last_report_sent = sent;
      next_report += 1'000'000'000;
    }
    tick++;
    int64_t wake = start + tick * tick_ns;
    if (wake > mono_nanos()) std::this_thread::sleep_for(std::chrono::nanoseconds(wake - mono_nanos()));
  }
  if (!o.quiet) {
    std::printf("produce: done, sent=%llu failed=%llu\n", static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(failed));
    std::fflush(stdout);
  }
  return failed ? 1 : 0;
}

}  // namespace sl::cli
