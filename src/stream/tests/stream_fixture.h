// The streaming runtime test fixture: a real LogStore, kinesis Service and SQL Engine in a
// temporary directory; a ManualClock for processing time; run_once()/run_until_idle()
// drive the pipeline explicitly (no threads, no sleeps). Views are compared with the same
// query run in batch by the SQL engine over all input rows (the retained records).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "catalog/catalog.h"
#include "exec/value.h"
#include "format/kpl.h"
#include "kinesis/kinesis.h"
#include "log/log.h"
#include "sql/engine.h"
#include "stream/agg.h"
#include "stream/runtime.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/time.h"

namespace sl::stream {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z
[[maybe_unused]] const char* kHashMax = "340282366920938463463374607431768211455";

[[maybe_unused]] std::string ts_text(int64_t sec) { return format_iso8601_ms(kT0 + sec * 1000); }

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

[[maybe_unused]] std::string ts_sql(int64_t us) { return "'" + exec::format_timestamp(us, false) + "'::timestamp"; }

}  // namespace
}  // namespace sl::stream
