// Streaming runtime tests: a real LogStore, kinesis Service and SQL Engine in a temporary
// directory; a ManualClock for processing time; run_once()/run_until_idle() drive the
// pipeline explicitly (no threads, no sleeps). Every view is compared with the same query
// run in batch by the SQL engine over all input rows (the stream table's retained records).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "catalog/catalog.h"
#include "kinesis/kinesis.h"
#include "log/log.h"
#include "sql/engine.h"
#include "stream/runtime.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/time.h"

namespace sl::stream {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z
const char* kHashMax = "340282366920938463463374607431768211455";

std::string ts_text(int64_t sec) { return format_iso8601_ms(kT0 + sec * 1000); }

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("stream_test_" + std::to_string(rd()) + "_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir_);
  }
  void open(bool with_runtime = true) {
    log::LogOptions lo;
    lo.fsync = false;
    auto l = log::LogStore::open((dir_ / "log").string(), lo);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    log_ = std::move(l).value();
    kinesis::Service::Options ko;
    ko.create_delay_ms = 0;
    ko.update_delay_ms = 0;
    ko.delete_delay_ms = 0;
    auto s = kinesis::Service::open(log_.get(), (dir_ / "meta").string(), ko, &kclock_);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    svc_ = std::move(s).value();
    engine_ = sql::Engine::open((dir_ / "data").string());
    if (with_runtime) open_runtime();
  }
  void open_runtime() {
    rt_ = std::make_unique<Runtime>(engine_.get(), svc_.get(), log_.get(), (dir_ / "data").string(), &clock_, opts_);
    rt_->open();
  }
  // Destroys everything without a checkpoint (a crash as far as the runtime goes).
  void crash() {
    rt_->stop(false);
    rt_.reset();
    close();
  }
  void close() {
    if (rt_) rt_->stop(false);
    rt_.reset();
    engine_.reset();
    svc_.reset();
    if (log_) log_->close();
    log_.reset();
  }

  json call(const std::string& op, const json& body) {
    std::string wire = body.dump();
    kinesis::Request req;
    req.operation = op;
    req.body = wire;
    std::promise<kinesis::Response> p;
    auto f = p.get_future();
    svc_->handle(req, [&p](kinesis::Response r) { p.set_value(std::move(r)); });
    kinesis::Response r = f.get();
    EXPECT_EQ(r.http_status, 200) << op << ": " << r.body;
    return r.body.empty() ? json::object() : json::parse(r.body);
  }
  void create_stream(const std::string& name, int shards) {
    call("CreateStream", {{"StreamName", name}, {"ShardCount", shards}});
    svc_->tick();
  }
  void put(const std::string& stream, const std::string& key, const std::string& data, const std::string& hash = "") {
    json b = {{"StreamName", stream}, {"PartitionKey", key}, {"Data", base64_encode(data)}};
    if (!hash.empty()) b["ExplicitHashKey"] = hash;
    call("PutRecord", b);
  }

  std::vector<std::string> rows(const std::string& q) {
    auto s = engine_->session();
    auto r = s->execute(q);
    std::vector<std::string> out;
    while (const exec::DataChunk* c = r.next()) {
      for (size_t i = 0; i < c->size(); i++) {
        std::string line;
        for (size_t k = 0; k < c->column_count(); k++) {
          if (k) line += "|";
          line += c->column(k).is_null(i) ? "NULL" : sql::to_pg_text(c->column(k), i);
        }
        out.push_back(line);
      }
    }
    return out;
  }
  std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  void exec(const std::string& q) {
    auto s = engine_->session();
    auto r = s->execute(q);
    while (r.next()) {}
  }
  // The view's contents equal the query run in batch over every input row.
  void expect_view_matches(const std::string& view, const std::string& batch_query) {
    auto got = sorted(rows("SELECT * FROM " + view));
    auto want = sorted(rows(batch_query));
    EXPECT_EQ(got, want) << "view " << view << " vs batch: " << batch_query;
  }

  StreamStatus stream_status(const std::string& name) {
    for (auto& s : rt_->streams())
      if (s.name == name) return s;
    ADD_FAILURE() << "no stream table " << name;
    return {};
  }
  ViewStatus view_status(const std::string& name) {
    for (auto& s : rt_->views())
      if (s.name == name) return s;
    ADD_FAILURE() << "no view " << name;
    return {};
  }

  void sales_table(const std::string& extra = "") {
    using T = exec::TypeId;
    std::map<std::string, std::string> o = {{"connector", "kinesis"}, {"stream", "sales"}, {"format", "csv"},
                                            {"event_time", "ts"}, {"max_lateness", "5 seconds"}};
    if (!extra.empty()) o["idle_timeout"] = extra;
    rt_->create_stream_table("sales", {{"zipcode", T::kInteger}, {"product", T::kVarchar}, {"price", T::kInteger},
                                       {"ts", T::kTimestamp}}, o, false);
  }
  std::string sale(int zip, const std::string& product, int price, int64_t sec) {
    return std::to_string(zip) + "," + product + "," + std::to_string(price) + "," + ts_text(sec);
  }

  fs::path dir_;
  ManualClock kclock_{kT0};
  ManualClock clock_{kT0};
  RuntimeOptions opts_;
  std::unique_ptr<log::LogStore> log_;
  std::unique_ptr<kinesis::Service> svc_;
  std::unique_ptr<sql::Engine> engine_;
  std::unique_ptr<Runtime> rt_;
};

TEST_F(StreamTest, FilterViewMatchesBatchAcrossShards) {
  create_stream("sales", 2);
  sales_table();
  rt_->create_view("products", "SELECT * FROM sales WHERE price BETWEEN 40 AND 50", {}, false);
  std::mt19937 rng(7);
  for (int i = 0; i < 300; i++) {
    std::string rec = sale(10000 + i % 17, "p" + std::to_string(i % 5), static_cast<int>(rng() % 100), i);
    if (i % 10 == 0) rec += "\n" + sale(20000 + i, "multi", 45, i);  // two rows in one record
    put("sales", "k" + std::to_string(i % 13), rec);
    if (i % 37 == 0) rt_->run_once();
  }
  rt_->run_until_idle();
  expect_view_matches("products", "SELECT * FROM sales WHERE price BETWEEN 40 AND 50");
  EXPECT_GT(rows("SELECT * FROM products").size(), 10u);
  auto st = stream_status("sales");
  EXPECT_EQ(st.records_in, 300u);
  EXPECT_EQ(st.rows_in, 330u);
  EXPECT_EQ(st.errors, 0u);
  EXPECT_EQ(st.shards.size(), 2u);
  auto vs = view_status("products");
  EXPECT_EQ(vs.rows_in, 330u);
  EXPECT_EQ(vs.emit, "changes");
  EXPECT_EQ(static_cast<size_t>(vs.rows), rows("SELECT * FROM products").size());
}

TEST_F(StreamTest, DecodeErrorsGoToErrorsTable) {
  create_stream("sales", 1);
  sales_table();
  rt_->create_view("products", "SELECT product, price FROM sales WHERE price > 10", {}, false);
  put("sales", "a", sale(1, "ok", 20, 1));
  put("sales", "a", "2,bad,abc," + ts_text(2));
  put("sales", "a", sale(3, "ok2", 30, 3) + "\n4,bad2,40,not-a-time");
  rt_->run_until_idle();
  expect_view_matches("products", "SELECT product, price FROM sales WHERE price > 10");
  EXPECT_EQ(sorted(rows("SELECT product FROM products")), (std::vector<std::string>{"ok", "ok2"}));
  auto errs = rows("SELECT shard, sub_row, reason, raw FROM sales_errors ORDER BY sequence_number, sub_row");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_NE(errs[0].find("shardId-000000000000|0|column price: 'abc' is not a valid integer"), std::string::npos) << errs[0];
  EXPECT_NE(errs[1].find("|1|column ts"), std::string::npos) << errs[1];
  // The sequence number is the Kinesis one of the record.
  auto seq = rows("SELECT sequence_number FROM sales_errors WHERE raw = '\\x" + std::string("322c6261642c6162632c") + "'::bytea");
  EXPECT_EQ(stream_status("sales").errors, 2u);
}

TEST_F(StreamTest, JsonStreamAndDecodeErrors) {
  create_stream("ev", 1);
  using T = exec::TypeId;
  rt_->create_stream_table("ev", {{"user_id", T::kVarchar}, {"n", T::kBigInt}, {"event_time", T::kTimestampTz}},
                           {{"connector", "kinesis"}, {"stream", "ev"}, {"format", "json"}, {"event_time", "event_time"}},
                           false);
  rt_->create_view("big", "SELECT user_id, n FROM ev WHERE n >= 5", {}, false);
  for (int i = 0; i < 20; i++)
    put("ev", "k", json({{"user_id", "u" + std::to_string(i % 3)}, {"n", i}, {"event_time", kT0 + i * 1000}}).dump());
  put("ev", "k", "{not json");
  put("ev", "k", R"({"user_id":"x","n":"many","event_time":1700000000000})");
  rt_->run_until_idle();
  expect_view_matches("big", "SELECT user_id, n FROM ev WHERE n >= 5");
  EXPECT_EQ(rows("SELECT count(*) FROM big"), (std::vector<std::string>{"15"}));
  EXPECT_EQ(rows("SELECT count(*) FROM ev_errors"), (std::vector<std::string>{"2"}));
}

TEST_F(StreamTest, LateRowsGoToErrorsWithReasonLate) {
  create_stream("sales", 1);
  sales_table();
  rt_->create_view("all_sales", "SELECT zipcode, ts FROM sales", {}, false);
  put("sales", "a", sale(1, "a", 1, 100));
  rt_->run_once();
  EXPECT_EQ(stream_status("sales").watermark_us, (kT0 + 95000) * 1000);
  put("sales", "a", sale(2, "a", 1, 90));  // behind the watermark (95 s): late
  put("sales", "a", sale(3, "a", 1, 96));  // within max_lateness: kept
  rt_->run_once();
  EXPECT_EQ(sorted(rows("SELECT zipcode FROM all_sales")), (std::vector<std::string>{"1", "3"}));
  auto errs = rows("SELECT reason, raw FROM sales_errors");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].substr(0, 5), "late|");
  EXPECT_EQ(stream_status("sales").late, 1u);
  EXPECT_EQ(stream_status("sales").rows_in, 2u);
}

TEST_F(StreamTest, IdleShardStopsHoldingBackTheWatermark) {
  create_stream("sales", 2);
  sales_table("30 seconds");
  put("sales", "a", sale(1, "a", 1, 10), "0");
  put("sales", "b", sale(2, "b", 1, 100), kHashMax);
  rt_->run_once();
  EXPECT_EQ(stream_status("sales").watermark_us, (kT0 + 5000) * 1000);  // min(10, 100) - 5
  clock_.advance(20000);
  put("sales", "b", sale(3, "b", 1, 120), kHashMax);
  rt_->run_once();
  EXPECT_EQ(stream_status("sales").watermark_us, (kT0 + 5000) * 1000);  // shard 0 not idle yet
  clock_.advance(15000);  // shard 0 silent for 35 s > 30 s
  rt_->run_once();
  EXPECT_EQ(stream_status("sales").watermark_us, (kT0 + 115000) * 1000);
  // Every shard idle (shard 1 last read at +20 s, now +75 s): event time follows
  // processing time past the timeout: 120 - 5 + (75 - 20 - 30) = 140 s.
  clock_.advance(40000);
  rt_->run_once();
  EXPECT_EQ(stream_status("sales").watermark_us, (kT0 + 140000) * 1000);
}

TEST_F(StreamTest, StartLatestSkipsOlderRecords) {
  create_stream("sales", 1);
  put("sales", "a", sale(1, "old", 1, 1));
  using T = exec::TypeId;
  rt_->create_stream_table("sales", {{"zipcode", T::kInteger}, {"product", T::kVarchar}, {"price", T::kInteger},
                                     {"ts", T::kTimestamp}},
                           {{"connector", "kinesis"}, {"stream", "sales"}, {"start", "latest"}}, false);
  rt_->create_view("v", "SELECT product FROM sales", {}, false);
  put("sales", "a", sale(2, "new", 1, 2));
  rt_->run_until_idle();
  EXPECT_EQ(rows("SELECT product FROM v"), (std::vector<std::string>{"new"}));
}

TEST_F(StreamTest, ReshardKeepsEveryRecordOnceAndPerKeyOrder) {
  create_stream("sales", 1);
  sales_table();
  rt_->create_view("seq", "SELECT zipcode, price FROM sales", {}, false);  // zipcode = key, price = seq
  std::mt19937 rng(42);
  std::map<int, int> next_seq;
  int produced = 0;
  auto produce = [&](int n) {
    for (int i = 0; i < n; i++) {
      int key = static_cast<int>(rng() % 20);
      int s = next_seq[key]++;
      put("sales", "key" + std::to_string(key), sale(key, "p", s, produced));
      produced++;
      if (rng() % 25 == 0) rt_->run_once();
    }
  };
  produce(150);
  // Split shard 0 at the middle of the hash space.
  call("SplitShard", {{"StreamName", "sales"}, {"ShardToSplit", "shardId-000000000000"},
                      {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
  svc_->tick();
  produce(150);
  call("MergeShards", {{"StreamName", "sales"}, {"ShardToMerge", "shardId-000000000001"},
                       {"AdjacentShardToMerge", "shardId-000000000002"}});
  svc_->tick();
  produce(150);
  rt_->run_until_idle();
  auto st = stream_status("sales");
  EXPECT_EQ(st.shards.size(), 4u);
  EXPECT_EQ(st.records_in, static_cast<uint64_t>(produced));
  auto got = rows("SELECT zipcode, price FROM seq");  // arrival order
  ASSERT_EQ(got.size(), static_cast<size_t>(produced));
  std::map<std::string, int> last;
  for (auto& r : got) {
    std::string key = r.substr(0, r.find('|'));
    int s = std::stoi(r.substr(r.find('|') + 1));
    auto it = last.find(key);
    EXPECT_EQ(s, it == last.end() ? 0 : it->second + 1) << "key " << key << " out of order or duplicated";
    last[key] = s;
  }
  expect_view_matches("seq", "SELECT zipcode, price FROM sales");
}

TEST_F(StreamTest, LookupJoinWithRegularTable) {
  create_stream("ads", 1);
  using T = exec::TypeId;
  exec("CREATE TABLE campaigns (ad_id text, campaign_id int)");
  exec("INSERT INTO campaigns VALUES ('a1', 1), ('a2', 1), ('a3', 2)");
  rt_->create_stream_table("ads", {{"ad_id", T::kVarchar}, {"event_type", T::kVarchar}, {"event_time", T::kTimestamp}},
                           {{"connector", "kinesis"}, {"stream", "ads"}, {"format", "json"}, {"event_time", "event_time"}},
                           false);
  std::string q = "SELECT a.ad_id, c.campaign_id, a.event_time FROM ads a JOIN campaigns c ON a.ad_id = c.ad_id "
                  "WHERE a.event_type = 'view'";
  rt_->create_view("joined", q, {}, false);
  const char* types[] = {"view", "click", "purchase"};
  for (int i = 0; i < 60; i++)
    put("ads", "k", json({{"ad_id", "a" + std::to_string(i % 4)}, {"event_type", types[i % 3]},
                          {"event_time", ts_text(i)}}).dump());
  rt_->run_until_idle();
  expect_view_matches("joined", q);
  EXPECT_EQ(rows("SELECT count(*) FROM joined"), (std::vector<std::string>{"15"}));
}

TEST_F(StreamTest, CheckpointRestartEqualsUninterruptedRun) {
  create_stream("sales", 2);
  sales_table();
  rt_->create_view("products", "SELECT * FROM sales WHERE price BETWEEN 40 AND 50", {}, false);
  auto produce = [&](int from, int to) {
    for (int i = from; i < to; i++) put("sales", "k" + std::to_string(i % 7), sale(i, "p", 35 + i % 20, i));
  };
  produce(0, 100);
  rt_->run_until_idle();
  rt_->checkpoint();
  produce(100, 200);
  rt_->run_until_idle();  // processed but not checkpointed: lost in the crash
  crash();
  open();
  produce(200, 250);
  rt_->run_until_idle();
  expect_view_matches("products", "SELECT * FROM sales WHERE price BETWEEN 40 AND 50");
  EXPECT_EQ(stream_status("sales").records_in, 250u);
  // A clean stop checkpoints; nothing is re-read after reopening.
  rt_->stop(true);
  close();
  open();
  EXPECT_EQ(rt_->run_until_idle(), 0u);
  expect_view_matches("products", "SELECT * FROM sales WHERE price BETWEEN 40 AND 50");
}

TEST_F(StreamTest, DropRemovesDefinitionsAndState) {
  create_stream("sales", 1);
  sales_table();
  rt_->create_view("products", "SELECT * FROM sales WHERE price > 1", {}, false);
  put("sales", "a", sale(1, "a", 5, 1));
  rt_->run_until_idle();
  EXPECT_THROW(rt_->drop("sales", false), UserError);  // a view depends on it
  EXPECT_TRUE(rt_->drop("products", false));
  EXPECT_FALSE(engine_->catalog().find("products"));
  EXPECT_TRUE(rt_->drop("sales", false));
  EXPECT_FALSE(engine_->catalog().find("sales"));
  EXPECT_FALSE(engine_->catalog().find("sales_errors"));
  EXPECT_FALSE(rt_->drop("sales", true));
  EXPECT_TRUE(rt_->streams().empty());
  EXPECT_TRUE(rt_->views().empty());
  // Nothing comes back after a restart, and the name can be reused.
  crash();
  open();
  EXPECT_TRUE(rt_->streams().empty());
  EXPECT_FALSE(engine_->catalog().find("products"));
  sales_table();
  EXPECT_EQ(stream_status("sales").records_in, 0u);
}

TEST_F(StreamTest, BadDefinitionsAreUserErrors) {
  create_stream("sales", 1);
  sales_table();
  using T = exec::TypeId;
  EXPECT_THROW(rt_->create_stream_table("x", {{"a", T::kInteger}}, {{"connector", "kinesis"}}, false), UserError);
  EXPECT_THROW(rt_->create_stream_table("x", {{"a", T::kInteger}},
                                        {{"connector", "kinesis"}, {"stream", "s"}, {"event_time", "nope"}}, false),
               UserError);
  EXPECT_THROW(rt_->create_stream_table("x", {{"a", T::kInteger}}, {{"connector", "kinesis"}, {"stream", "s"}, {"bogus", "1"}}, false),
               UserError);
  EXPECT_THROW(rt_->create_view("v", "SELECT * FROM nothing", {}, false), UserError);
  EXPECT_THROW(rt_->create_view("v", "SELECT * FROM sales", {{"emit", "final"}}, false), UserError);
  EXPECT_THROW(rt_->create_view("v", "SELECT * FROM sales", {{"emit", "sometimes"}}, false), UserError);
  EXPECT_THROW(rt_->create_view("v", "SELECT zipcode FROM sales LIMIT 3", {}, false), UserError);
  EXPECT_THROW(rt_->create_view("v", "SELECT * FROM tumble(sales, product, interval '1 minute')", {}, false), UserError);
  EXPECT_THROW(rt_->create_view("sales", "SELECT * FROM sales", {}, false), UserError);
  rt_->create_view("sales", "SELECT * FROM sales", {}, true);  // IF NOT EXISTS: no-op
  EXPECT_TRUE(rt_->views().empty());
}

}  // namespace
}  // namespace sl::stream
