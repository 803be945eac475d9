// libFuzzer target: Kinesis request bodies through kinesis::Service::handle, JSON and CBOR,
// over a log in a temporary directory (fsync off, ManualClock). Input layout:
//   byte 0: operation (index into kOps) and, in bit 7, the encoding (1 = CBOR)
//   rest:   the request body
// Before the first input a stream "s" with 2 shards is created and activated so that
// PutRecord(s), GetShardIterator, GetRecords, SplitShard, ... reach their real work.
// Checks: handle() calls `done` exactly once, and the answer is a 2xx/4xx/5xx status
// (a 500 is a bug: it aborts with the body).
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "kinesis/kinesis.h"
#include "log/log.h"
#include "util/time.h"

namespace {

constexpr const char* kOps[] = {
    "PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "CreateStream",
    "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams", "ListShards",
    "SplitShard", "MergeShards", "UpdateShardCount", "AddTagsToStream",
    "RemoveTagsFromStream", "ListTagsForStream", "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod", "NoSuchOperation"};
constexpr size_t kOpCount = sizeof(kOps) / sizeof(kOps[0]);

struct Fixture {
  sl::ManualClock clock{1700000000000};
  std::unique_ptr<sl::log::LogStore> log;
  std::unique_ptr<sl::kinesis::Service> service;

  Fixture() {
    char tmpl[] = "/tmp/sl_kinesis_fuzz.XXXXXX";
    std::string dir = mkdtemp(tmpl);
    sl::log::LogOptions lo;
    lo.fsync = false;
    auto l = sl::log::LogStore::open(dir + "/log", lo);
    if (!l.ok()) abort();
    log = std::move(l).value();
    sl::kinesis::Service::Options so;
    so.create_delay_ms = so.delete_delay_ms = so.update_delay_ms = 0;
    so.shard_limit = 50;
    auto s = sl::kinesis::Service::open(log.get(), dir + "/meta", so, &clock);
    if (!s.ok()) abort();
    service = std::move(s).value();
    call("CreateStream", sl::kinesis::Encoding::kJson, R"({"StreamName":"s","ShardCount":2})");
    clock.advance(1000);
    service->tick();
  }

  sl::kinesis::Response call(const char* op, sl::kinesis::Encoding enc, std::string_view body) {
    sl::kinesis::Request req;
    req.operation = op;
    req.encoding = enc;
    req.body = body;
    req.access_key = "AKIDFUZZ";
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    sl::kinesis::Response resp;
    service->handle(req, [&](sl::kinesis::Response r) {
      std::lock_guard<std::mutex> g(mu);
      resp = std::move(r);
      calls++;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> g(mu);
    cv.wait(g, [&] { return calls > 0; });
    return resp;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  Fixture* fx = &fixture;
  if (size < 1 || size > 64 * 1024) return -1;
  const char* op = kOps[(data[0] & 0x7f) % kOpCount];
  auto enc = (data[0] & 0x80) ? sl::kinesis::Encoding::kCbor : sl::kinesis::Encoding::kJson;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto r = fx->call(op, enc, body);
  if (r.http_status >= 500) {
    fprintf(stderr, "kinesis_fuzz: %s answered %d: %s\n", op, r.http_status, r.body.c_str());
    abort();
  }
  fx->clock.advance(10);
  fx->service->tick();
  return 0;
}
