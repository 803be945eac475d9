// Tests of the Kinesis service through Service::handle, with JSON and CBOR bodies, a
// ManualClock and a temporary directory.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <mutex>
#include <thread>

#include "kinesis/internal.h"
#include "kinesis/kinesis.h"
#include "kinesis/schema.h"
#include "kinesis/wire.h"
#include "log/log.h"
#include "util/base64.h"
#include "util/time.h"
#include <zlib.h>

namespace sl::kinesis {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z

struct Reply {
  int status;
  json body;
  std::string raw;
  std::string type() const { return body.is_object() ? body.value("__type", "") : ""; }
  std::string message() const { return body.is_object() ? body.value("message", "") : ""; }
};

class KinesisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("kinesis_test_" + std::to_string(rd()) + "_" +
                                        std::to_string(::getpid()));
    fs::create_directories(dir_);
    open();
  }
  void TearDown() override {
    svc_.reset();
    if (log_) log_->close();
    log_.reset();
    fs::remove_all(dir_);
  }
  void open() {
    log::LogOptions lo;
    lo.fsync = fsync_;
    auto l = log::LogStore::open((dir_ / "log").string(), lo);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    log_ = std::move(l).value();
    auto s = Service::open(log_.get(), (dir_ / "meta").string(), opts_, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    svc_ = std::move(s).value();
  }
  void reopen() {
    svc_.reset();
    log_->close();
    log_.reset();
    open();
  }

  Reply call(const std::string& op, const json& body, Encoding enc = Encoding::kJson) {
    std::string wire = enc == Encoding::kJson ? body.dump() : raw_cbor(body);
    return call_raw(op, wire, enc);
  }
  static std::string raw_cbor(const json& j) {
    auto v = json::to_cbor(j);
    return std::string(v.begin(), v.end());
  }
  Reply call_raw(const std::string& op, const std::string& wire, Encoding enc) {
    Request req;
    req.operation = op;
    req.encoding = enc;
    req.body = wire;
    std::promise<Response> p;
    auto f = p.get_future();
    svc_->handle(req, [&p](Response r) { p.set_value(std::move(r)); });
    EXPECT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    Response r = f.get();
    EXPECT_EQ(r.encoding, enc);
    Reply out;
    out.status = r.http_status;
    out.raw = r.body;
    if (!r.body.empty()) {
      out.body = enc == Encoding::kJson
                     ? json::parse(r.body)
                     : cbor_to_json(r.body);
    }
    return out;
  }
  json ok(const std::string& op, const json& body, Encoding enc = Encoding::kJson) {
    Reply r = call(op, body, enc);
    EXPECT_EQ(r.status, 200) << op << ": " << r.raw;
    return r.body;
  }
  void expect_error(const std::string& op, const json& body, const std::string& type,
                    const std::string& msg_part = "", Encoding enc = Encoding::kJson) {
    Reply r = call(op, body, enc);
    EXPECT_EQ(r.status, type == "InternalFailure" ? 500 : 400) << op << ": " << r.raw;
    EXPECT_EQ(r.type(), type) << op << ": " << r.raw;
    if (!msg_part.empty()) {
      EXPECT_NE(r.message().find(msg_part), std::string::npos) << op << ": " << r.message();
    }
  }
  void create(const std::string& name, int shards) {
    ok("CreateStream", {{"StreamName", name}, {"ShardCount", shards}});
    clock_.advance(opts_.create_delay_ms);
    svc_->tick();
  }
  json put(const std::string& stream, const std::string& key, const std::string& data,
           Encoding enc = Encoding::kJson) {
    json b = {{"StreamName", stream}, {"PartitionKey", key}};
    if (enc == Encoding::kJson) b["Data"] = base64_encode(data);
    else b["Data"] = json::binary(std::vector<uint8_t>(data.begin(), data.end()));
    return ok("PutRecord", b, enc);
  }
  std::string iterator(const std::string& stream, const std::string& shard,
                       const std::string& type, const json& extra = json::object()) {
    json b = {{"StreamName", stream}, {"ShardId", shard}, {"ShardIteratorType", type}};
    b.update(extra);
    return ok("GetShardIterator", b)["ShardIterator"].get<std::string>();
  }
  json get(const std::string& it, int limit = 0, Encoding enc = Encoding::kJson) {
    json b = {{"ShardIterator", it}};
    if (limit) b["Limit"] = limit;
    return ok("GetRecords", b, enc);
  }
  static std::vector<std::string> datas(const json& recs) {
    std::vector<std::string> out;
    for (auto& r : recs["Records"]) out.push_back(*base64_decode(r["Data"].get<std::string>()));
    return out;
  }
  std::vector<std::string> partitions() const {
    auto v = log_->partition_names();
    std::sort(v.begin(), v.end());
    return v;
  }

  fs::path dir_;
  bool fsync_ = false;
  ManualClock clock_{kT0};
  Service::Options opts_;
  std::unique_ptr<log::LogStore> log_;
  std::unique_ptr<Service> svc_;
};

// ---------------------------------------------------------------- helpers

TEST(KinesisUnit, U128AndHashKey) {
  EXPECT_EQ(u128_to_string(kMaxHashKey), "340282366920938463463374607431768211455");
  u128 v;
  EXPECT_TRUE(parse_u128("340282366920938463463374607431768211455", &v));
  EXPECT_EQ(v, kMaxHashKey);
  EXPECT_FALSE(parse_u128("340282366920938463463374607431768211456", &v));
  EXPECT_FALSE(parse_u128("-1", &v));
  EXPECT_FALSE(parse_u128("", &v));
  EXPECT_EQ(u128_to_string(hash_key_of("a")), "16955237001963240173058271559858726497");
  EXPECT_EQ(u128_to_string(hash_key_of("hello")), "123957004363873451094272536567338222994");
}

TEST(KinesisUnit, ParseTargetAndContentType) {
  std::string_view op;
  EXPECT_TRUE(Service::parse_target("Kinesis_20131202.PutRecords", &op));
  EXPECT_EQ(op, "PutRecords");
  EXPECT_FALSE(Service::parse_target("DynamoDB_20120810.PutItem", &op));
  EXPECT_FALSE(Service::parse_target("Kinesis_20131202.", &op));
  Encoding e;
  EXPECT_TRUE(parse_content_type("application/x-amz-json-1.1", &e));
  EXPECT_EQ(e, Encoding::kJson);
  EXPECT_TRUE(parse_content_type("application/x-amz-json-1.0; charset=utf-8", &e));
  EXPECT_EQ(e, Encoding::kJson);
  EXPECT_TRUE(parse_content_type("application/x-amz-cbor-1.1", &e));
  EXPECT_EQ(e, Encoding::kCbor);
  EXPECT_FALSE(parse_content_type("text/plain", &e));
  EXPECT_STREQ(content_type(Encoding::kCbor), "application/x-amz-cbor-1.1");
}

// ---------------------------------------------------------------- control plane

TEST_F(KinesisTest, CreateDescribeLifecycle) {
  ok("CreateStream", {{"StreamName", "s1"}, {"ShardCount", 3}});
  json d = ok("DescribeStream", {{"StreamName", "s1"}})["StreamDescription"];
  EXPECT_EQ(d["StreamStatus"], "CREATING");
  EXPECT_EQ(d["StreamARN"], "arn:aws:kinesis:us-east-1:000000000000:stream/s1");
  EXPECT_EQ(d["RetentionPeriodHours"], 24);
  EXPECT_EQ(d["EncryptionType"], "NONE");
  EXPECT_EQ(d["HasMoreShards"], false);
  EXPECT_EQ(d["StreamModeDetails"]["StreamMode"], "PROVISIONED");
  EXPECT_DOUBLE_EQ(d["StreamCreationTimestamp"].get<double>(), 1700000000.0);
  ASSERT_EQ(d["Shards"].size(), 3u);
  EXPECT_EQ(d["Shards"][0]["ShardId"], "shardId-000000000000");
  EXPECT_EQ(d["Shards"][0]["HashKeyRange"]["StartingHashKey"], "0");
  EXPECT_EQ(d["Shards"][0]["HashKeyRange"]["EndingHashKey"],
            "113427455640312821154458202477256070484");
  EXPECT_EQ(d["Shards"][1]["HashKeyRange"]["StartingHashKey"],
            "113427455640312821154458202477256070485");
  EXPECT_EQ(d["Shards"][2]["HashKeyRange"]["EndingHashKey"],
            "340282366920938463463374607431768211455");
  EXPECT_FALSE(d["Shards"][0]["SequenceNumberRange"].contains("EndingSequenceNumber"));
  // Not ACTIVE yet: data plane says not found, resharding says in use.
  expect_error("PutRecord", {{"StreamName", "s1"}, {"PartitionKey", "k"}, {"Data", "AA=="}},
               "ResourceNotFoundException",
               "Stream s1 under account 000000000000 not found.");
  expect_error("UpdateShardCount",
               {{"StreamName", "s1"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}},
               "ResourceInUseException", "not ACTIVE, instead in state CREATING");
  clock_.advance(499);
  svc_->tick();
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "s1"}})["StreamDescriptionSummary"]
                ["StreamStatus"],
            "CREATING");
  clock_.advance(1);
  svc_->tick();
  json sum = ok("DescribeStreamSummary", {{"StreamName", "s1"}})["StreamDescriptionSummary"];
  EXPECT_EQ(sum["StreamStatus"], "ACTIVE");
  EXPECT_EQ(sum["OpenShardCount"], 3);
  EXPECT_EQ(sum["ConsumerCount"], 0);
  expect_error("CreateStream", {{"StreamName", "s1"}, {"ShardCount", 1}},
               "ResourceInUseException", "Stream s1 under account 000000000000 already exists.");
  // StreamARN in place of StreamName.
  json byarn = ok("DescribeStreamSummary",
                  {{"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/s1"}});
  EXPECT_EQ(byarn["StreamDescriptionSummary"]["StreamName"], "s1");
  expect_error("DescribeStream",
               {{"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/nope"}},
               "ResourceNotFoundException", "Stream nope under account 000000000000 not found.");
  expect_error("DescribeStream", json::object(), "InvalidArgumentException");
  expect_error("DescribeStream", {{"StreamARN", "arn:bad"}}, "ValidationException");
}

TEST_F(KinesisTest, CreateStreamValidation) {
  Reply r = call("CreateStream", {{"StreamName", "bad name!"}, {"ShardCount", 0}});
  EXPECT_EQ(r.type(), "ValidationException");
  EXPECT_EQ(r.message(),
            "2 validation errors detected: Value '0' at 'shardCount' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1; Value 'bad name!' "
            "at 'streamName' failed to satisfy constraint: Member must satisfy regular "
            "expression pattern: [a-zA-Z0-9_.-]+");
  r = call("CreateStream", {{"ShardCount", 1}});
  EXPECT_EQ(r.message(),
            "1 validation error detected: Value null at 'streamName' failed to satisfy "
            "constraint: Member must not be null");
  expect_error("CreateStream", {{"StreamName", std::string(129, 'a')}, {"ShardCount", 1}},
               "ValidationException", "Member must have length less than or equal to 128");
  expect_error("CreateStream", {{"StreamName", "x"}, {"ShardCount", "one"}},
               "SerializationException");
  expect_error("CreateStream", {{"StreamName", 5}, {"ShardCount", 1}}, "SerializationException");
  Reply bad = call_raw("CreateStream", "{not json", Encoding::kJson);
  EXPECT_EQ(bad.type(), "SerializationException");
  expect_error("CreateStream", {{"StreamName", "x"}}, "InvalidArgumentException");
  opts_.shard_limit = 5;
  reopen();
  expect_error("CreateStream", {{"StreamName", "big"}, {"ShardCount", 6}},
               "LimitExceededException", "Limit: 5");
  create("a", 3);
  expect_error("CreateStream", {{"StreamName", "b"}, {"ShardCount", 3}},
               "LimitExceededException", "Current shard count for the account: 3");
}

TEST_F(KinesisTest, UnknownOperation) {
  expect_error("FrobnicateStream", json::object(), "UnknownOperationException");
  expect_error("FrobnicateStream", json::object(), "UnknownOperationException", "",
               Encoding::kCbor);
}

TEST_F(KinesisTest, OnDemandStream) {
  ok("CreateStream", {{"StreamName", "od"}, {"StreamModeDetails", {{"StreamMode", "ON_DEMAND"}}}});
  json d = ok("DescribeStream", {{"StreamName", "od"}})["StreamDescription"];
  EXPECT_EQ(d["StreamModeDetails"]["StreamMode"], "ON_DEMAND");
  EXPECT_EQ(d["Shards"].size(), 4u);
  expect_error("CreateStream",
               {{"StreamName", "od2"}, {"StreamModeDetails", {{"StreamMode", "WHATEVER"}}}},
               "ValidationException", "Member must satisfy enum value set");
}

TEST_F(KinesisTest, DescribeStreamPaging) {
  create("p", 5);
  json d = ok("DescribeStream", {{"StreamName", "p"}, {"Limit", 2}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 2u);
  EXPECT_TRUE(d["HasMoreShards"].get<bool>());
  d = ok("DescribeStream", {{"StreamName", "p"},
                            {"Limit", 2},
                            {"ExclusiveStartShardId", "shardId-000000000001"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 2u);
  EXPECT_EQ(d["Shards"][0]["ShardId"], "shardId-000000000002");
  EXPECT_TRUE(d["HasMoreShards"].get<bool>());
  d = ok("DescribeStream", {{"StreamName", "p"},
                            {"ExclusiveStartShardId", "shardId-000000000003"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 1u);
  EXPECT_FALSE(d["HasMoreShards"].get<bool>());
  expect_error("DescribeStream", {{"StreamName", "p"}, {"Limit", 0}}, "ValidationException",
               "Member must have value greater than or equal to 1");
  expect_error("DescribeStream", {{"StreamName", "p"}, {"Limit", 10001}}, "ValidationException",
               "Member must have value less than or equal to 10000");
}

TEST_F(KinesisTest, ListStreamsPaging) {
  for (auto n : {"c", "a", "b", "d"}) create(n, 1);
  json r = ok("ListStreams", json::object());
  EXPECT_EQ(r["StreamNames"], json({"a", "b", "c", "d"}));
  EXPECT_FALSE(r["HasMoreStreams"].get<bool>());
  EXPECT_FALSE(r.contains("NextToken"));
  ASSERT_EQ(r["StreamSummaries"].size(), 4u);
  EXPECT_EQ(r["StreamSummaries"][0]["StreamARN"],
            "arn:aws:kinesis:us-east-1:000000000000:stream/a");
  EXPECT_EQ(r["StreamSummaries"][0]["StreamStatus"], "ACTIVE");
  r = ok("ListStreams", {{"Limit", 2}});
  EXPECT_EQ(r["StreamNames"], json({"a", "b"}));
  EXPECT_TRUE(r["HasMoreStreams"].get<bool>());
  ASSERT_TRUE(r.contains("NextToken"));
  json r2 = ok("ListStreams", {{"Limit", 2}, {"NextToken", r["NextToken"]}});
  EXPECT_EQ(r2["StreamNames"], json({"c", "d"}));
  EXPECT_FALSE(r2["HasMoreStreams"].get<bool>());
  r = ok("ListStreams", {{"ExclusiveStartStreamName", "b"}});
  EXPECT_EQ(r["StreamNames"], json({"c", "d"}));
  expect_error("ListStreams", {{"NextToken", "garbage!"}}, "InvalidArgumentException");
  expect_error("ListStreams", {{"Limit", 0}}, "ValidationException");
}

TEST_F(KinesisTest, DeleteStreamDropsPartitions) {
  create("gone", 2);
  create("kept", 1);
  put("gone", "k", "hello");
  EXPECT_EQ(partitions().size(), 3u);
  ok("DeleteStream", {{"StreamName", "gone"}, {"EnforceConsumerDeletion", true}});
  EXPECT_EQ(ok("DescribeStream", {{"StreamName", "gone"}})["StreamDescription"]["StreamStatus"],
            "DELETING");
  expect_error("PutRecord", {{"StreamName", "gone"}, {"PartitionKey", "k"}, {"Data", "AA=="}},
               "ResourceNotFoundException");
  expect_error("DeleteStream", {{"StreamName", "gone"}}, "ResourceNotFoundException");
  clock_.advance(opts_.delete_delay_ms);
  svc_->tick();
  expect_error("DescribeStream", {{"StreamName", "gone"}}, "ResourceNotFoundException",
               "Stream gone under account 000000000000 not found.");
  auto parts = partitions();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].rfind("kept.", 0), 0u);
  // Recreated: starts empty, old iterators and sequence numbers are rejected.
  create("gone", 2);
  std::string it = iterator("gone", "shardId-000000000000", "TRIM_HORIZON");
  EXPECT_TRUE(get(it)["Records"].empty());
  expect_error("DeleteStream", {{"StreamName", "nope"}}, "ResourceNotFoundException");
}

TEST_F(KinesisTest, RetentionPeriod) {
  create("r", 1);
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 48}});
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "r"}})["StreamDescriptionSummary"]
                ["RetentionPeriodHours"],
            48);
  expect_error("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 30}},
               "InvalidArgumentException",
               "Requested retention period (30 hours) for stream r can not be shorter than "
               "existing retention period (48 hours). Use DecreaseRetentionPeriod API.");
  expect_error("DecreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 72}},
               "InvalidArgumentException", "can not be longer than existing retention period");
  expect_error("DecreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 23}},
               "InvalidArgumentException",
               "Minimum allowed retention period is 24 hours. Requested retention period (23 "
               "hours) is too short.");
  expect_error("IncreaseStreamRetentionPeriod",
               {{"StreamName", "r"}, {"RetentionPeriodHours", 8761}}, "InvalidArgumentException",
               "Maximum allowed retention period is 8760 hours.");
  expect_error("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}}, "ValidationException",
               "Value null at 'retentionPeriodHours'");
  ok("DecreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 24}});
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "r"}, {"RetentionPeriodHours", 8760}});
  expect_error("IncreaseStreamRetentionPeriod",
               {{"StreamName", "zz"}, {"RetentionPeriodHours", 48}}, "ResourceNotFoundException");
}

TEST_F(KinesisTest, Tags) {
  create("t", 1);
  ok("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{"b", "2"}, {"a", "1"}, {"c", ""}}}});
  json r = ok("ListTagsForStream", {{"StreamName", "t"}});
  EXPECT_EQ(r["Tags"], json::parse(R"([{"Key":"a","Value":"1"},{"Key":"b","Value":"2"},{"Key":"c","Value":""}])"));
  EXPECT_FALSE(r["HasMoreTags"].get<bool>());
  r = ok("ListTagsForStream", {{"StreamName", "t"}, {"Limit", 1}, {"ExclusiveStartTagKey", "a"}});
  EXPECT_EQ(r["Tags"], json::parse(R"([{"Key":"b","Value":"2"}])"));
  EXPECT_TRUE(r["HasMoreTags"].get<bool>());
  ok("RemoveTagsFromStream", {{"StreamName", "t"}, {"TagKeys", {"a", "zz"}}});
  r = ok("ListTagsForStream", {{"StreamName", "t"}});
  EXPECT_EQ(r["Tags"].size(), 2u);
  json many = json::object();
  for (int i = 0; i < 49; i++) many["k" + std::to_string(i)] = "v";
  expect_error("AddTagsToStream", {{"StreamName", "t"}, {"Tags", many}}, "LimitExceededException",
               "cannot have more than 50 tags");
  expect_error("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{std::string(129, 'k'), "v"}}}},
               "ValidationException", "Member must have length less than or equal to 128");
  expect_error("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{"k", std::string(257, 'v')}}}},
               "ValidationException", "Member must have length less than or equal to 256");
  expect_error("RemoveTagsFromStream", {{"StreamName", "t"}}, "ValidationException");
  expect_error("ListTagsForStream", {{"StreamName", "t"}, {"Limit", 51}}, "ValidationException");
  // Tags given at creation.
  ok("CreateStream", {{"StreamName", "t2"}, {"ShardCount", 1}, {"Tags", {{"env", "dev"}}}});
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamName", "t2"}})["Tags"][0]["Key"], "env");
}

// ---------------------------------------------------------------- data plane

TEST_F(KinesisTest, HashRoutingKnownMd5) {
  create("h", 4);
  // MD5 top two bits pick the shard among 4 even shards (values from Python hashlib).
  std::vector<std::pair<std::string, std::string>> cases = {
      {"a", "shardId-000000000000"},   {"b", "shardId-000000000002"},
      {"hello", "shardId-000000000001"}, {"partition-1", "shardId-000000000002"},
      {"user-42", "shardId-000000000001"}};
  for (auto& [key, shard] : cases) EXPECT_EQ(put("h", key, "x")["ShardId"], shard) << key;
  // ExplicitHashKey overrides the MD5.
  json b = {{"StreamName", "h"}, {"PartitionKey", "a"}, {"Data", "eA=="},
            {"ExplicitHashKey", "340282366920938463463374607431768211455"}};
  EXPECT_EQ(ok("PutRecord", b)["ShardId"], "shardId-000000000003");
  b["ExplicitHashKey"] = "85070591730234615865843651857942052864";  // 2^126: shard 1
  EXPECT_EQ(ok("PutRecord", b)["ShardId"], "shardId-000000000001");
  b["ExplicitHashKey"] = "85070591730234615865843651857942052863";
  EXPECT_EQ(ok("PutRecord", b)["ShardId"], "shardId-000000000000");
  b["ExplicitHashKey"] = "340282366920938463463374607431768211456";
  expect_error("PutRecord", b, "InvalidArgumentException",
               "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1].");
  b["ExplicitHashKey"] = "-5";
  expect_error("PutRecord", b, "ValidationException", "explicitHashKey");
}

TEST_F(KinesisTest, PutGetRoundTripAndSequenceOrder) {
  create("s", 1);
  std::vector<std::string> seqs;
  for (int i = 0; i < 20; i++) {
    json r = put("s", "k" + std::to_string(i), "data-" + std::to_string(i));
    EXPECT_EQ(r["ShardId"], "shardId-000000000000");
    seqs.push_back(r["SequenceNumber"]);
  }
  for (size_t i = 1; i < seqs.size(); i++) {
    u128 a, b;
    ASSERT_TRUE(parse_u128(seqs[i - 1], &a));
    ASSERT_TRUE(parse_u128(seqs[i], &b));
    EXPECT_LT(a, b);
  }
  clock_.advance(1234);
  json g = get(iterator("s", "shardId-000000000000", "TRIM_HORIZON"));
  ASSERT_EQ(g["Records"].size(), 20u);
  for (int i = 0; i < 20; i++) {
    auto& r = g["Records"][i];
    EXPECT_EQ(r["SequenceNumber"], seqs[i]);
    EXPECT_EQ(r["PartitionKey"], "k" + std::to_string(i));
    EXPECT_EQ(*base64_decode(r["Data"].get<std::string>()), "data-" + std::to_string(i));
    EXPECT_DOUBLE_EQ(r["ApproximateArrivalTimestamp"].get<double>(), 1700000000.5);
  }
  EXPECT_EQ(g["MillisBehindLatest"], 0);
  ASSERT_TRUE(g.contains("NextShardIterator"));
  // The next iterator continues at the tip.
  json g2 = get(g["NextShardIterator"]);
  EXPECT_TRUE(g2["Records"].empty());
  put("s", "late", "more");
  json g3 = get(g2["NextShardIterator"]);
  ASSERT_EQ(g3["Records"].size(), 1u);
  EXPECT_EQ(g3["Records"][0]["PartitionKey"], "late");
  // The C++ API agrees on the mapping.
  auto pos = svc_->parse_sequence_number("s", seqs[3]);
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->ordinal, 0u);
  EXPECT_EQ(pos->offset, 3u);
  EXPECT_EQ(*svc_->sequence_number("s", 0, 3), seqs[3]);
}

TEST_F(KinesisTest, PutRecordValidation) {
  create("v", 1);
  json b = {{"StreamName", "v"}, {"PartitionKey", ""}, {"Data", "AA=="}};
  expect_error("PutRecord", b, "ValidationException",
               "Value '' at 'partitionKey' failed to satisfy constraint: Member must have "
               "length greater than or equal to 1");
  b["PartitionKey"] = std::string(257, 'k');
  expect_error("PutRecord", b, "ValidationException",
               "Member must have length less than or equal to 256");
  // 256 characters (multi-byte UTF-8) are fine.
  std::string k256;
  for (int i = 0; i < 256; i++) k256 += "\xc3\xa9";
  b["PartitionKey"] = k256;
  ok("PutRecord", b);
  b["PartitionKey"] = "k";
  b.erase("Data");
  expect_error("PutRecord", b, "ValidationException", "Value null at 'data'");
  // The API allows 10 MiB of data (a ValidationException beyond); the stream's
  // MaxRecordSizeInKiB (1 MiB by default) is checked after it.
  b["Data"] = base64_encode(std::string(10485761, 'x'));
  expect_error("PutRecord", b, "ValidationException",
               "Member must have length less than or equal to 10485760");
  b["Data"] = base64_encode(std::string(1048577, 'x'));
  expect_error("PutRecord", b, "InvalidArgumentException", "exceeds the limit of 1048576 bytes");
  b["Data"] = base64_encode(std::string(1048576, 'x'));
  expect_error("PutRecord", b, "InvalidArgumentException", "exceeds the limit of 1048576 bytes");
  b["Data"] = base64_encode(std::string(1048575, 'x'));
  ok("PutRecord", b);
  b["Data"] = "!!notbase64";
  expect_error("PutRecord", b, "SerializationException");
  b["Data"] = "AA==";
  b["SequenceNumberForOrdering"] = "abc";
  expect_error("PutRecord", b, "ValidationException", "sequenceNumberForOrdering");
  b["SequenceNumberForOrdering"] = "0";
  ok("PutRecord", b);
  b["StreamName"] = "missing";
  expect_error("PutRecord", b, "ResourceNotFoundException");
}

TEST_F(KinesisTest, TrafficCountsAcceptedRecordsAndBytes) {
  create("t", 2);
  create("u", 1);
  ok("PutRecord", {{"StreamName", "t"}, {"Data", base64_encode("hello")}, {"PartitionKey", "k1"}});
  json recs = json::array();
  for (int i = 0; i < 10; i++) recs.push_back({{"Data", base64_encode("abc")}, {"PartitionKey", "pk" + std::to_string(i)}});
  ok("PutRecords", {{"StreamName", "t"}, {"Records", recs}});
  expect_error("PutRecord", {{"StreamName", "t"}, {"Data", base64_encode("x")}}, "ValidationException");
  auto traffic = svc_->traffic();
  ASSERT_EQ(traffic.size(), 2u);
  EXPECT_EQ(traffic[0].name, "t");
  EXPECT_EQ(traffic[0].status, "ACTIVE");
  EXPECT_EQ(traffic[0].open_shards, 2);
  EXPECT_EQ(traffic[0].retention_hours, 24);
  EXPECT_EQ(traffic[0].records_in, 11u);
  EXPECT_EQ(traffic[0].bytes_in, 5u + 2u + 10u * 3u + 10u * 3u);  // data + partition keys
  EXPECT_EQ(traffic[1].name, "u");
  EXPECT_EQ(traffic[1].records_in, 0u);
}

TEST_F(KinesisTest, PutRecordsManyShards) {
  create("m", 4);
  json recs = json::array();
  for (int i = 0; i < 500; i++)
    recs.push_back({{"Data", base64_encode("r" + std::to_string(i))},
                    {"PartitionKey", "pk" + std::to_string(i)}});
  json r = ok("PutRecords", {{"StreamName", "m"}, {"Records", recs}});
  EXPECT_EQ(r["FailedRecordCount"], 0);
  ASSERT_EQ(r["Records"].size(), 500u);
  std::map<std::string, std::vector<std::string>> per_shard;  // data in put order
  std::map<std::string, std::string> last_seq;
  for (int i = 0; i < 500; i++) {
    std::string sh = r["Records"][i]["ShardId"];
    std::string seq = r["Records"][i]["SequenceNumber"];
    per_shard[sh].push_back("r" + std::to_string(i));
    if (last_seq.count(sh)) {
      u128 a, b;
      ASSERT_TRUE(parse_u128(last_seq[sh], &a) && parse_u128(seq, &b));
      EXPECT_LT(a, b);
    }
    last_seq[sh] = seq;
    EXPECT_EQ(sh, "shardId-00000000000" + std::to_string(static_cast<int>(hash_key_of("pk" + std::to_string(i)) >> 126)));
  }
  EXPECT_EQ(per_shard.size(), 4u);
  for (auto& [sh, want] : per_shard) EXPECT_EQ(datas(get(iterator("m", sh, "TRIM_HORIZON"))), want);
  // Validation with per-record paths.
  Reply v = call("PutRecords",
                 {{"StreamName", "m"},
                  {"Records", {{{"Data", "AA=="}, {"PartitionKey", "ok"}}, {{"Data", "AA=="}}}}});
  EXPECT_EQ(v.type(), "ValidationException");
  EXPECT_NE(v.message().find("Value null at 'records.2.member.partitionKey'"), std::string::npos)
      << v.message();
  expect_error("PutRecords", {{"StreamName", "m"}, {"Records", json::array()}},
               "ValidationException", "Member must have length greater than or equal to 1");
  json big = json::array();
  for (int i = 0; i < 501; i++) big.push_back({{"Data", "AA=="}, {"PartitionKey", "k"}});
  expect_error("PutRecords", {{"StreamName", "m"}, {"Records", big}}, "ValidationException",
               "Member must have length less than or equal to 500");
  json huge = json::array();
  for (int i = 0; i < 6; i++)
    huge.push_back({{"Data", base64_encode(std::string(1000000, 'x'))}, {"PartitionKey", "k"}});
  expect_error("PutRecords", {{"StreamName", "m"}, {"Records", huge}}, "InvalidArgumentException",
               "5 MB");
  expect_error("PutRecords", {{"StreamName", "m"}, {"Records", "nope"}}, "SerializationException");
  expect_error("PutRecords", {{"StreamName", "zz"}, {"Records", recs}}, "ResourceNotFoundException");
  // ExplicitHashKey and escaped partition keys on the simdjson path, and in CBOR.
  for (Encoding enc : {Encoding::kJson, Encoding::kCbor}) {
    json data = enc == Encoding::kJson ? json("eA==") : json::binary(std::vector<uint8_t>{'x'});
    json er = ok("PutRecords",
                 {{"StreamName", "m"},
                  {"Records",
                   {{{"Data", data}, {"PartitionKey", "a"}, {"ExplicitHashKey", "340282366920938463463374607431768211455"}},
                    {{"Data", data}, {"PartitionKey", "q\"uote\u00e9"}, {"ExplicitHashKey", nullptr}},
                    {{"Data", data}, {"PartitionKey", "a"}}}}},
                 enc);
    EXPECT_EQ(er["Records"][0]["ShardId"], "shardId-000000000003");
    EXPECT_EQ(er["Records"][1]["ShardId"],
              "shardId-00000000000" + std::to_string(static_cast<int>(hash_key_of("q\"uote\u00e9") >> 126)));
    EXPECT_EQ(er["Records"][2]["ShardId"], "shardId-000000000000");
    expect_error("PutRecords",
                 {{"StreamName", "m"},
                  {"Records", {{{"Data", data}, {"PartitionKey", "a"}, {"ExplicitHashKey", "340282366920938463463374607431768211456"}}}}},
                 "InvalidArgumentException", "Invalid ExplicitHashKey", enc);
  }
  // StreamARN in place of StreamName.
  json r2 = ok("PutRecords", {{"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/m"},
                              {"Records", {{{"Data", "AA=="}, {"PartitionKey", "x"}}}}});
  EXPECT_EQ(r2["FailedRecordCount"], 0);
}

TEST_F(KinesisTest, CborWire) {
  create("c", 2);
  std::string payload("\x00\x01\xff binary", 10);
  json r = put("c", "key-1", payload, Encoding::kCbor);
  ASSERT_TRUE(r.contains("SequenceNumber"));
  json recs = json::array();
  for (int i = 0; i < 10; i++)
    recs.push_back({{"Data", json::binary(std::vector<uint8_t>{1, 2, uint8_t(i)})},
                    {"PartitionKey", "key-1"}});
  json pr = ok("PutRecords", {{"StreamName", "c"}, {"Records", recs}}, Encoding::kCbor);
  EXPECT_EQ(pr["FailedRecordCount"], 0);
  EXPECT_EQ(pr["Records"].size(), 10u);
  std::string shard = r["ShardId"];
  std::string it = ok("GetShardIterator",
                      {{"StreamName", "c"}, {"ShardId", shard}, {"ShardIteratorType", "TRIM_HORIZON"}},
                      Encoding::kCbor)["ShardIterator"];
  Reply g = call("GetRecords", {{"ShardIterator", it}}, Encoding::kCbor);
  ASSERT_EQ(g.status, 200);
  ASSERT_EQ(g.body["Records"].size(), 11u);
  auto& first = g.body["Records"][0];
  ASSERT_TRUE(first["Data"].is_binary());
  EXPECT_EQ(std::string(first["Data"].get_binary().begin(), first["Data"].get_binary().end()),
            payload);
  EXPECT_EQ(first["ApproximateArrivalTimestamp"], kT0 + 500);  // epoch millis
  // ... written as tag 1 (0xc1) + 64-bit unsigned integer.
  std::string tagged = std::string("ApproximateArrivalTimestamp") + "\xc1\x1b";
  EXPECT_NE(g.raw.find(tagged), std::string::npos);
  // Control plane timestamps too.
  Reply d = call("DescribeStreamSummary", {{"StreamName", "c"}}, Encoding::kCbor);
  EXPECT_EQ(d.body["StreamDescriptionSummary"]["StreamCreationTimestamp"], kT0);
  EXPECT_NE(d.raw.find(std::string("StreamCreationTimestamp") + "\xc1\x1b"), std::string::npos);
  // AT_TIMESTAMP with a CBOR millisecond timestamp.
  std::string at = ok("GetShardIterator",
                      {{"StreamName", "c"}, {"ShardId", shard}, {"ShardIteratorType", "AT_TIMESTAMP"},
                       {"Timestamp", kT0 + 500}},
                      Encoding::kCbor)["ShardIterator"];
  EXPECT_EQ(call("GetRecords", {{"ShardIterator", at}}, Encoding::kCbor).body["Records"].size(), 11u);
  // A request the way the Java SDK's Jackson CBOR generator writes it: indefinite-length
  // map, Timestamp as tag 1 + epoch millis.
  {
    std::string req;
    req += '\xbf';
    auto text = [&](const std::string& t) { req += char(0x60 + t.size()); req += t; };
    text("StreamName"); text("c");
    text("ShardId"); text(shard);
    text("ShardIteratorType"); text("AT_TIMESTAMP");
    text("Timestamp");
    req += '\xc1'; req += '\x1b';
    uint64_t ms = kT0 + 500;
    for (int i = 7; i >= 0; i--) req += char(ms >> (i * 8));
    req += '\xff';
    Reply r2 = call_raw("GetShardIterator", req, Encoding::kCbor);
    ASSERT_EQ(r2.status, 200) << r2.raw;
    EXPECT_EQ(call("GetRecords", {{"ShardIterator", r2.body["ShardIterator"]}}, Encoding::kCbor)
                  .body["Records"].size(), 11u);
  }
  // Errors as CBOR maps.
  Reply e = call("DescribeStream", {{"StreamName", "nope"}}, Encoding::kCbor);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type(), "ResourceNotFoundException");
  Reply bad = call_raw("DescribeStream", "\xff\x00garbage", Encoding::kCbor);
  EXPECT_EQ(bad.type(), "SerializationException");
}

TEST_F(KinesisTest, IteratorTypes) {
  create("i", 1);
  std::vector<std::string> seqs;
  for (int i = 0; i < 5; i++) {
    seqs.push_back(put("i", "k", "d" + std::to_string(i))["SequenceNumber"]);
    clock_.advance(1000);
  }
  const std::string sh = "shardId-000000000000";
  EXPECT_EQ(datas(get(iterator("i", sh, "TRIM_HORIZON"))),
            (std::vector<std::string>{"d0", "d1", "d2", "d3", "d4"}));
  EXPECT_EQ(datas(get(iterator("i", sh, "AT_SEQUENCE_NUMBER", {{"StartingSequenceNumber", seqs[2]}}))),
            (std::vector<std::string>{"d2", "d3", "d4"}));
  EXPECT_EQ(datas(get(iterator("i", sh, "AFTER_SEQUENCE_NUMBER", {{"StartingSequenceNumber", seqs[2]}}))),
            (std::vector<std::string>{"d3", "d4"}));
  std::string latest = iterator("i", sh, "LATEST");
  EXPECT_TRUE(get(latest)["Records"].empty());
  put("i", "k", "d5");
  EXPECT_EQ(datas(get(latest)), (std::vector<std::string>{"d5"}));
  // AT_TIMESTAMP: seconds in JSON; d<i> arrived at kT0 + 500 + 1000 i.
  EXPECT_EQ(datas(get(iterator("i", sh, "AT_TIMESTAMP", {{"Timestamp", (kT0 + 2500) / 1000.0}}))),
            (std::vector<std::string>{"d2", "d3", "d4", "d5"}));
  EXPECT_EQ(datas(get(iterator("i", sh, "AT_TIMESTAMP", {{"Timestamp", (kT0 + 2501) / 1000.0}}))),
            (std::vector<std::string>{"d3", "d4", "d5"}));
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", sh}, {"ShardIteratorType", "AT_TIMESTAMP"}},
               "InvalidArgumentException", "Must specify timestampInMillis parameter");
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", sh}, {"ShardIteratorType", "AT_TIMESTAMP"},
                {"Timestamp", (kT0 + 100000000) / 1000.0}},
               "InvalidArgumentException", "cannot be greater than the currentTimestampInMillis");
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", sh}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}},
               "InvalidArgumentException", "You must specify a starting sequence number");
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", sh}, {"ShardIteratorType", "SIDEWAYS"}},
               "ValidationException", "Member must satisfy enum value set");
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", "shardId-000000000009"}, {"ShardIteratorType", "LATEST"}},
               "ResourceNotFoundException",
               "Shard shardId-000000000009 in stream i under account 000000000000 does not exist");
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", sh}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"},
                {"StartingSequenceNumber", "12345"}},
               "InvalidArgumentException", "is invalid");
  // A sequence number of another stream.
  create("other", 1);
  std::string foreign = put("other", "k", "x")["SequenceNumber"];
  expect_error("GetShardIterator",
               {{"StreamName", "i"}, {"ShardId", sh}, {"ShardIteratorType", "AT_SEQUENCE_NUMBER"},
                {"StartingSequenceNumber", foreign}},
               "InvalidArgumentException");
}

TEST_F(KinesisTest, SequenceNumberOfAnotherShard) {
  create("two", 2);
  json a = ok("PutRecord", {{"StreamName", "two"}, {"PartitionKey", "a"}, {"Data", "AA=="},
                            {"ExplicitHashKey", "0"}});
  ASSERT_EQ(a["ShardId"], "shardId-000000000000");
  expect_error("GetShardIterator",
               {{"StreamName", "two"}, {"ShardId", "shardId-000000000001"},
                {"ShardIteratorType", "AT_SEQUENCE_NUMBER"}, {"StartingSequenceNumber", a["SequenceNumber"]}},
               "InvalidArgumentException",
               "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was "
               "used in a call to a shard with shardId-000000000001");
}

TEST_F(KinesisTest, GetRecordsLimitsAndMillisBehind) {
  create("g", 1);
  for (int i = 0; i < 30; i++) put("g", "k", "d" + std::to_string(i));
  clock_.advance(5000);
  std::string it = iterator("g", "shardId-000000000000", "TRIM_HORIZON");
  json g = get(it, 10);
  EXPECT_EQ(g["Records"].size(), 10u);
  EXPECT_EQ(g["MillisBehindLatest"], 5000);
  g = get(g["NextShardIterator"], 15);
  EXPECT_EQ(g["Records"].size(), 15u);
  EXPECT_EQ(g["Records"][0]["PartitionKey"], "k");
  EXPECT_EQ(datas(g)[0], "d10");
  g = get(g["NextShardIterator"], 100);
  EXPECT_EQ(g["Records"].size(), 5u);
  EXPECT_EQ(g["MillisBehindLatest"], 0);
  expect_error("GetRecords", {{"ShardIterator", it}, {"Limit", 0}}, "ValidationException");
  expect_error("GetRecords", {{"ShardIterator", it}, {"Limit", 10001}}, "ValidationException",
               "Member must have value less than or equal to 10000");
  expect_error("GetRecords", json::object(), "ValidationException", "shardIterator");
  // 10 MiB per call: 12 records of ~1 MiB come back in two calls.
  create("big", 1);
  std::string mb(1000000, 'z');
  for (int i = 0; i < 12; i++) put("big", "k", mb);
  json b1 = get(iterator("big", "shardId-000000000000", "TRIM_HORIZON"));
  EXPECT_LE(b1["Records"].size(), 11u);
  EXPECT_GE(b1["Records"].size(), 10u);
  json b2 = get(b1["NextShardIterator"]);
  EXPECT_EQ(b1["Records"].size() + b2["Records"].size(), 12u);
}

TEST_F(KinesisTest, IteratorExpiryAndForgery) {
  create("e", 1);
  put("e", "k", "x");
  std::string it = iterator("e", "shardId-000000000000", "TRIM_HORIZON");
  clock_.advance(300000);
  EXPECT_EQ(get(it)["Records"].size(), 1u);  // exactly at the TTL: still valid
  clock_.advance(1);
  expect_error("GetRecords", {{"ShardIterator", it}}, "ExpiredIteratorException",
               "Iterator expired. The iterator was created at time 2023-11-14T22:13:20.500Z "
               "while right now it is 2023-11-14T22:18:20.501Z which is further in the future "
               "than the tolerated delay of 300000 milliseconds.");
  std::string fresh = iterator("e", "shardId-000000000000", "TRIM_HORIZON");
  // Tampered: flip one bit in the decoded token.
  std::string raw = *base64_decode(fresh);
  raw[10] ^= 1;
  expect_error("GetRecords", {{"ShardIterator", base64_encode(raw)}}, "InvalidArgumentException");
  expect_error("GetRecords", {{"ShardIterator", "bm90IGFuIGl0ZXJhdG9y"}}, "InvalidArgumentException");
  expect_error("GetRecords", {{"ShardIterator", "%%%"}}, "InvalidArgumentException");
  // The StreamARN must match the iterator's stream.
  create("f", 1);
  expect_error("GetRecords",
               {{"ShardIterator", fresh}, {"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/f"}},
               "InvalidArgumentException");
  EXPECT_EQ(ok("GetRecords", {{"ShardIterator", fresh},
                              {"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/e"}})
                ["Records"].size(),
            1u);
}

TEST_F(KinesisTest, SplitShardLineageAndDrain) {
  create("sp", 1);
  std::vector<std::string> before;
  for (int i = 0; i < 3; i++) before.push_back(put("sp", "k" + std::to_string(i), "p" + std::to_string(i))["SequenceNumber"]);
  std::string parent_it = iterator("sp", "shardId-000000000000", "TRIM_HORIZON");
  expect_error("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", "shardId-000000000000"},
                              {"NewStartingHashKey", "0"}},
               "InvalidArgumentException", "is not both greater than one plus the shard's StartingHashKey");
  ok("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", "shardId-000000000000"},
                    {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
  json d = ok("DescribeStream", {{"StreamName", "sp"}})["StreamDescription"];
  EXPECT_EQ(d["StreamStatus"], "UPDATING");
  ASSERT_EQ(d["Shards"].size(), 3u);
  EXPECT_TRUE(d["Shards"][0]["SequenceNumberRange"].contains("EndingSequenceNumber"));
  EXPECT_EQ(d["Shards"][1]["ParentShardId"], "shardId-000000000000");
  EXPECT_EQ(d["Shards"][1]["HashKeyRange"]["EndingHashKey"], "170141183460469231731687303715884105727");
  EXPECT_EQ(d["Shards"][2]["HashKeyRange"]["StartingHashKey"], "170141183460469231731687303715884105728");
  EXPECT_FALSE(d["Shards"][2].contains("AdjacentParentShardId"));
  // Another reshard while UPDATING is refused.
  expect_error("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", "shardId-000000000001"},
                              {"NewStartingHashKey", "1000"}},
               "ResourceInUseException");
  // Puts go to the children; their sequence numbers exceed the parent's.
  json c = put("sp", "a", "child");  // MD5("a") < 2^127
  EXPECT_EQ(c["ShardId"], "shardId-000000000001");
  u128 pa, ch;
  ASSERT_TRUE(parse_u128(before.back(), &pa) && parse_u128(c["SequenceNumber"].get<std::string>(), &ch));
  EXPECT_GT(ch, pa);
  // The parent drains: its records, then no NextShardIterator and the children.
  json g = get(parent_it);
  EXPECT_EQ(datas(g), (std::vector<std::string>{"p0", "p1", "p2"}));
  EXPECT_FALSE(g.contains("NextShardIterator"));
  ASSERT_EQ(g["ChildShards"].size(), 2u);
  EXPECT_EQ(g["ChildShards"][0]["ShardId"], "shardId-000000000001");
  EXPECT_EQ(g["ChildShards"][0]["ParentShards"], json({"shardId-000000000000"}));
  // Closed shard: LATEST gives a drained iterator at once.
  json gl = get(iterator("sp", "shardId-000000000000", "LATEST"));
  EXPECT_TRUE(gl["Records"].empty());
  EXPECT_FALSE(gl.contains("NextShardIterator"));
  EXPECT_EQ(gl["ChildShards"].size(), 2u);
  clock_.advance(opts_.update_delay_ms);
  svc_->tick();
  expect_error("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", "shardId-000000000000"},
                              {"NewStartingHashKey", "1000"}},
               "ResourceInUseException", "has already been merged or split");
  expect_error("SplitShard", {{"StreamName", "sp"}, {"ShardToSplit", "shardId-000000000042"},
                              {"NewStartingHashKey", "1000"}},
               "ResourceNotFoundException");
}

TEST_F(KinesisTest, MergeShards) {
  create("mg", 3);
  put("mg", "a", "before");
  expect_error("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", "shardId-000000000000"},
                               {"AdjacentShardToMerge", "shardId-000000000002"}},
               "InvalidArgumentException", "are not an adjacent pair of shards eligible for merging");
  ok("MergeShards", {{"StreamName", "mg"}, {"ShardToMerge", "shardId-000000000001"},
                     {"AdjacentShardToMerge", "shardId-000000000000"}});
  json d = ok("DescribeStream", {{"StreamName", "mg"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 4u);
  auto& child = d["Shards"][3];
  EXPECT_EQ(child["ParentShardId"], "shardId-000000000001");
  EXPECT_EQ(child["AdjacentParentShardId"], "shardId-000000000000");
  EXPECT_EQ(child["HashKeyRange"]["StartingHashKey"], "0");
  EXPECT_EQ(child["HashKeyRange"]["EndingHashKey"], d["Shards"][1]["HashKeyRange"]["EndingHashKey"]);
  EXPECT_EQ(put("mg", "a", "after")["ShardId"], "shardId-000000000003");
  json g = get(iterator("mg", "shardId-000000000000", "TRIM_HORIZON"));
  EXPECT_EQ(datas(g), std::vector<std::string>{"before"});
  ASSERT_EQ(g["ChildShards"].size(), 1u);
  EXPECT_EQ(g["ChildShards"][0]["ParentShards"],
            json({"shardId-000000000001", "shardId-000000000000"}));
}

TEST_F(KinesisTest, UpdateShardCountUniform) {
  create("u", 2);
  expect_error("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 5}, {"ScalingType", "UNIFORM_SCALING"}},
               "LimitExceededException", "double");
  expect_error("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 4}, {"ScalingType", "OTHER"}},
               "ValidationException");
  json r = ok("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 4}, {"ScalingType", "UNIFORM_SCALING"}});
  EXPECT_EQ(r["CurrentShardCount"], 2);
  EXPECT_EQ(r["TargetShardCount"], 4);
  EXPECT_EQ(r["StreamARN"], "arn:aws:kinesis:us-east-1:000000000000:stream/u");
  json d = ok("DescribeStream", {{"StreamName", "u"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 6u);
  EXPECT_EQ(d["Shards"][2]["ParentShardId"], "shardId-000000000000");
  EXPECT_EQ(d["Shards"][3]["ParentShardId"], "shardId-000000000000");
  EXPECT_EQ(d["Shards"][4]["ParentShardId"], "shardId-000000000001");
  EXPECT_EQ(d["Shards"][5]["HashKeyRange"]["EndingHashKey"], "340282366920938463463374607431768211455");
  clock_.advance(opts_.update_delay_ms);
  svc_->tick();
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "u"}})["StreamDescriptionSummary"]["OpenShardCount"], 4);
  // Down to 2: each child has two parents.
  ok("UpdateShardCount", {{"StreamName", "u"}, {"TargetShardCount", 2}, {"ScalingType", "UNIFORM_SCALING"}});
  d = ok("DescribeStream", {{"StreamName", "u"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 8u);
  EXPECT_EQ(d["Shards"][6]["ParentShardId"], "shardId-000000000002");
  EXPECT_EQ(d["Shards"][6]["AdjacentParentShardId"], "shardId-000000000003");
  EXPECT_EQ(put("u", "b", "x")["ShardId"], "shardId-000000000007");  // MD5("b") >= 2^127
}

TEST_F(KinesisTest, ListShardsFiltersAndPaging) {
  create("ls", 2);
  clock_.advance(10000);
  ok("SplitShard", {{"StreamName", "ls"}, {"ShardToSplit", "shardId-000000000000"},
                    {"NewStartingHashKey", "1000"}});
  json r = ok("ListShards", {{"StreamName", "ls"}});
  EXPECT_EQ(r["Shards"].size(), 4u);
  EXPECT_FALSE(r.contains("NextToken"));
  r = ok("ListShards", {{"StreamName", "ls"}, {"MaxResults", 3}});
  ASSERT_EQ(r["Shards"].size(), 3u);
  ASSERT_TRUE(r.contains("NextToken"));
  json r2 = ok("ListShards", {{"NextToken", r["NextToken"]}, {"MaxResults", 3}});
  ASSERT_EQ(r2["Shards"].size(), 1u);
  EXPECT_EQ(r2["Shards"][0]["ShardId"], "shardId-000000000003");
  expect_error("ListShards", {{"NextToken", r["NextToken"]}, {"StreamName", "ls"}},
               "InvalidArgumentException");
  r = ok("ListShards", {{"StreamName", "ls"}, {"ExclusiveStartShardId", "shardId-000000000001"}});
  EXPECT_EQ(r["Shards"].size(), 2u);
  r = ok("ListShards", {{"StreamName", "ls"}, {"ShardFilter", {{"Type", "AT_LATEST"}}}});
  ASSERT_EQ(r["Shards"].size(), 3u);
  EXPECT_EQ(r["Shards"][0]["ShardId"], "shardId-000000000001");
  r = ok("ListShards", {{"StreamName", "ls"},
                        {"ShardFilter", {{"Type", "AFTER_SHARD_ID"}, {"ShardId", "shardId-000000000002"}}}});
  ASSERT_EQ(r["Shards"].size(), 1u);
  r = ok("ListShards", {{"StreamName", "ls"}, {"ShardFilter", {{"Type", "AT_TRIM_HORIZON"}}}});
  EXPECT_EQ(r["Shards"].size(), 4u);
  r = ok("ListShards", {{"StreamName", "ls"}, {"ShardFilter", {{"Type", "FROM_TRIM_HORIZON"}}}});
  EXPECT_EQ(r["Shards"].size(), 4u);
  // At creation time only the two original shards were open.
  r = ok("ListShards", {{"StreamName", "ls"},
                        {"ShardFilter", {{"Type", "AT_TIMESTAMP"}, {"Timestamp", kT0 / 1000.0 + 1}}}});
  ASSERT_EQ(r["Shards"].size(), 2u);
  EXPECT_EQ(r["Shards"][0]["ShardId"], "shardId-000000000000");
  r = ok("ListShards", {{"StreamName", "ls"},
                        {"ShardFilter", {{"Type", "FROM_TIMESTAMP"}, {"Timestamp", (clock_.now_ms() + 1) / 1000.0}}}});
  EXPECT_EQ(r["Shards"].size(), 3u);
  expect_error("ListShards", {{"StreamName", "ls"}, {"ShardFilter", {{"Type", "AT_TIMESTAMP"}}}},
               "InvalidArgumentException");
  expect_error("ListShards", {{"StreamName", "ls"}, {"ShardFilter", {{"Type", "NOPE"}}}},
               "ValidationException");
  expect_error("ListShards", {{"StreamName", "ls"}, {"StreamCreationTimestamp", 12.0}},
               "ResourceNotFoundException");
  EXPECT_EQ(ok("ListShards", {{"StreamName", "ls"}, {"StreamCreationTimestamp", kT0 / 1000.0}})["Shards"].size(), 4u);
  // NextToken expires after 5 minutes.
  r = ok("ListShards", {{"StreamName", "ls"}, {"MaxResults", 1}});
  clock_.advance(300001);
  expect_error("ListShards", {{"NextToken", r["NextToken"]}}, "ExpiredNextTokenException");
}

TEST_F(KinesisTest, RestartKeepsEverything) {
  create("keep", 2);
  ok("AddTagsToStream", {{"StreamName", "keep"}, {"Tags", {{"a", "b"}}}});
  ok("IncreaseStreamRetentionPeriod", {{"StreamName", "keep"}, {"RetentionPeriodHours", 100}});
  std::vector<std::string> seqs;
  for (int i = 0; i < 10; i++) seqs.push_back(put("keep", "a", "v" + std::to_string(i))["SequenceNumber"]);
  std::string it = iterator("keep", "shardId-000000000000", "TRIM_HORIZON");
  ok("SplitShard", {{"StreamName", "keep"}, {"ShardToSplit", "shardId-000000000001"},
                    {"NewStartingHashKey", "200000000000000000000000000000000000000"}});
  ok("CreateStream", {{"StreamName", "young"}, {"ShardCount", 1}});
  reopen();
  json d = ok("DescribeStream", {{"StreamName", "keep"}})["StreamDescription"];
  EXPECT_EQ(d["Shards"].size(), 4u);
  EXPECT_EQ(d["RetentionPeriodHours"], 100);
  EXPECT_EQ(d["StreamStatus"], "UPDATING");
  EXPECT_EQ(d["Shards"][3]["ParentShardId"], "shardId-000000000001");
  EXPECT_EQ(ok("ListTagsForStream", {{"StreamName", "keep"}})["Tags"].size(), 1u);
  // The old iterator still works (secret persisted) and sees every record.
  json g = get(it);
  ASSERT_EQ(g["Records"].size(), 10u);
  EXPECT_EQ(g["Records"][9]["SequenceNumber"], seqs[9]);
  // Sequence numbers continue past the old ones.
  std::string next = put("keep", "a", "after")["SequenceNumber"];
  u128 a, b;
  ASSERT_TRUE(parse_u128(seqs.back(), &a) && parse_u128(next, &b));
  EXPECT_GT(b, a);
  EXPECT_EQ(datas(get(iterator("keep", "shardId-000000000000", "AFTER_SEQUENCE_NUMBER",
                               {{"StartingSequenceNumber", seqs[9]}}))),
            std::vector<std::string>{"after"});
  // State machines continue from the persisted times.
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "young"}})["StreamDescriptionSummary"]["StreamStatus"], "CREATING");
  clock_.advance(500);
  svc_->tick();
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "young"}})["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE");
  // A stream deleted before the restart finishes deleting after it.
  ok("DeleteStream", {{"StreamName", "young"}});
  reopen();
  clock_.advance(500);
  svc_->tick();
  expect_error("DescribeStream", {{"StreamName", "young"}}, "ResourceNotFoundException");
  for (auto& p : partitions()) EXPECT_EQ(p.rfind("young.", 0), std::string::npos) << p;
}

TEST_F(KinesisTest, DurableAcknowledgementWithFsync) {
  fsync_ = true;
  reopen();
  create("d", 2);
  json recs = json::array();
  for (int i = 0; i < 100; i++) recs.push_back({{"Data", "AA=="}, {"PartitionKey", std::to_string(i)}});
  json r = ok("PutRecords", {{"StreamName", "d"}, {"Records", recs}});
  EXPECT_EQ(r["FailedRecordCount"], 0);
  // Acknowledged records are durable: readable at once (readers see the durable prefix only).
  size_t n = 0;
  for (auto sh : {"shardId-000000000000", "shardId-000000000001"})
    n += get(iterator("d", sh, "TRIM_HORIZON"))["Records"].size();
  EXPECT_EQ(n, 100u);
}

TEST_F(KinesisTest, ConcurrentPutRecords) {
  create("cc", 4);
  constexpr int kThreads = 4, kCalls = 50, kPer = 20;
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      for (int c = 0; c < kCalls; c++) {
        json recs = json::array();
        for (int i = 0; i < kPer; i++)
          recs.push_back({{"Data", base64_encode("x")}, {"PartitionKey", std::to_string(t * 100000 + c * 100 + i)}});
        std::string body = json({{"StreamName", "cc"}, {"Records", recs}}).dump();
        Request req{"PutRecords", Encoding::kJson, body, ""};
        std::promise<Response> p;
        svc_->handle(req, [&p](Response r) { p.set_value(std::move(r)); });
        Response r = p.get_future().get();
        if (r.http_status != 200 || json::parse(r.body)["FailedRecordCount"] != 0) failures++;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  size_t n = 0;
  for (int s = 0; s < 4; s++) {
    std::string it = iterator("cc", "shardId-00000000000" + std::to_string(s), "TRIM_HORIZON");
    while (true) {
      json g = get(it);
      n += g["Records"].size();
      if (g["Records"].empty()) break;
      it = g["NextShardIterator"];
    }
  }
  EXPECT_EQ(n, size_t(kThreads * kCalls * kPer));
}

TEST_F(KinesisTest, PutRecordsWhileResharding) {
  create("rs", 2);
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0}, failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; t++) {
    ts.emplace_back([&, t] {
      for (int c = 0; !stop.load() || c < 20; c++) {
        json recs = json::array();
        for (int i = 0; i < 25; i++)
          recs.push_back({{"Data", "AA=="}, {"PartitionKey", std::to_string(t * 1000000 + c * 100 + i)}});
        std::string body = json({{"StreamName", "rs"}, {"Records", recs}}).dump();
        Request req{"PutRecords", Encoding::kJson, body, ""};
        std::promise<Response> p;
        svc_->handle(req, [&p](Response r) { p.set_value(std::move(r)); });
        Response r = p.get_future().get();
        if (r.http_status == 200 && json::parse(r.body)["FailedRecordCount"] == 0) acked += 25;
        else failures++;
        if (c > 2000) break;
      }
    });
  }
  // Split every open shard once, then merge two neighbours, while the writers run.
  for (uint32_t o = 0; o < 2; o++) {
    json d = ok("DescribeStream", {{"StreamName", "rs"}})["StreamDescription"];
    auto& sh = d["Shards"][o];
    u128 a, b;
    ASSERT_TRUE(parse_u128(sh["HashKeyRange"]["StartingHashKey"].get<std::string>(), &a));
    ASSERT_TRUE(parse_u128(sh["HashKeyRange"]["EndingHashKey"].get<std::string>(), &b));
    ok("SplitShard", {{"StreamName", "rs"}, {"ShardToSplit", sh["ShardId"]},
                      {"NewStartingHashKey", u128_to_string(a + (b - a) / 2)}});
    clock_.advance(opts_.update_delay_ms);
    svc_->tick();
  }
  ok("MergeShards", {{"StreamName", "rs"}, {"ShardToMerge", "shardId-000000000003"},
                     {"AdjacentShardToMerge", "shardId-000000000004"}});
  stop = true;
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Every acknowledged record is in exactly one shard, in increasing sequence order.
  json d = ok("DescribeStream", {{"StreamName", "rs"}})["StreamDescription"];
  ASSERT_EQ(d["Shards"].size(), 7u);
  size_t n = 0;
  for (auto& sh : d["Shards"]) {
    std::string it = iterator("rs", sh["ShardId"], "TRIM_HORIZON");
    u128 prev = 0;
    while (!it.empty()) {
      json g = get(it);
      for (auto& r : g["Records"]) {
        u128 v;
        ASSERT_TRUE(parse_u128(r["SequenceNumber"].get<std::string>(), &v));
        EXPECT_GT(v, prev);
        prev = v;
        n++;
      }
      if (!g.contains("NextShardIterator") || g["Records"].empty()) break;
      it = g["NextShardIterator"];
    }
  }
  EXPECT_EQ(n, static_cast<size_t>(acked.load()));
}

TEST_F(KinesisTest, RetentionTrimsOldData) {
  // Small segments so that old records sit in closed segments.
  svc_.reset();
  log_->close();
  log_.reset();
  log::LogOptions lo;
  lo.fsync = false;
  lo.segment_bytes = 4096;
  log_ = std::move(log::LogStore::open((dir_ / "log").string(), lo)).value();
  svc_ = std::move(Service::open(log_.get(), (dir_ / "meta").string(), opts_, &clock_)).value();
  create("old", 1);
  for (int i = 0; i < 50; i++) put("old", "k", std::string(500, 'o'));
  clock_.advance(25 * 3600 * 1000LL);
  for (int i = 0; i < 5; i++) put("old", "k", "new");
  svc_->tick();
  json g = get(iterator("old", "shardId-000000000000", "TRIM_HORIZON"), 10000);
  EXPECT_LT(g["Records"].size(), 55u);
  EXPECT_GE(g["Records"].size(), 5u);
  EXPECT_EQ(datas(g).back(), "new");
}

// ---------------------------------------------------------------- validation (schema.h)

TEST_F(KinesisTest, TypeErrorsComeBeforeConstraints) {
  // An invalid StreamName does not hide a wrongly typed member after it.
  expect_error("DescribeStream", {{"StreamName", "bad name"}, {"Limit", "3"}},
               "SerializationException", "class java.lang.String can not be converted to an Integer");
  Reply r = call("PutRecord", {{"StreamName", "x"}, {"PartitionKey", ""}, {"ExplicitHashKey", "x"}});
  EXPECT_EQ(r.message(),
            "3 validation errors detected: Value '' at 'partitionKey' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1; Value 'x' at 'explicitHashKey' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); "
            "Value null at 'data' failed to satisfy constraint: Member must not be null");
  // Unknown members are ignored; known-but-unimplemented operations do not exist any more.
  ok("ListStreams", {{"Bogus", {1, 2}}});
  expect_error("Frobnicate", json::object(), "UnknownOperationException");
}

// ---------------------------------------------------------------- consumers

TEST_F(KinesisTest, ConsumerLifecycleAndRestart) {
  create("cs", 1);
  std::string sarn = "arn:aws:kinesis:us-east-1:000000000000:stream/cs";
  json c = ok("RegisterStreamConsumer", {{"StreamARN", sarn}, {"ConsumerName", "app"}})["Consumer"];
  EXPECT_EQ(c["ConsumerStatus"], "CREATING");
  EXPECT_EQ(c["ConsumerARN"], sarn + "/consumer/app:" + std::to_string(kT0 / 1000));
  expect_error("RegisterStreamConsumer", {{"StreamARN", sarn}, {"ConsumerName", "app"}},
               "ResourceInUseException");
  expect_error("DeregisterStreamConsumer", {{"ConsumerARN", c["ConsumerARN"]}},
               "ResourceInUseException", "is not in ACTIVE status");
  clock_.advance(opts_.create_delay_ms);
  svc_->tick();
  reopen();
  json d = ok("DescribeStreamConsumer", {{"StreamARN", sarn}, {"ConsumerName", "app"}})["ConsumerDescription"];
  EXPECT_EQ(d["ConsumerStatus"], "ACTIVE");
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "cs"}})["StreamDescriptionSummary"]["ConsumerCount"], 1);
  expect_error("DeleteStream", {{"StreamName", "cs"}}, "ResourceInUseException", "has registered consumers");
  ok("DeregisterStreamConsumer", {{"ConsumerARN", c["ConsumerARN"]}});
  clock_.advance(opts_.delete_delay_ms);
  svc_->tick();
  EXPECT_TRUE(ok("ListStreamConsumers", {{"StreamARN", sarn}})["Consumers"].empty());
  expect_error("DescribeStreamConsumer", {{"ConsumerARN", c["ConsumerARN"]}}, "ResourceNotFoundException");
}

// ---------------------------------------------------------------- SubscribeToShard

class CollectSink final : public EventSink {
 public:
  void start(int status, const char* ct) override {
    std::lock_guard lk(mu_);
    status_ = status;
    ct_ = ct;
  }
  bool write(std::string b) override {
    std::lock_guard lk(mu_);
    bytes_ += b;
    return true;
  }
  void finish() override {
    std::lock_guard lk(mu_);
    finished_ = true;
  }
  bool closed() const override { return false; }
  size_t queued_bytes() const override { return 0; }
  // The messages so far: (":event-type" or ":exception-type", payload); CRCs checked.
  std::vector<std::pair<std::string, std::string>> messages() {
    std::lock_guard lk(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    std::string_view b = bytes_;
    auto u32 = [](std::string_view v) {
      return (uint32_t(uint8_t(v[0])) << 24) | (uint32_t(uint8_t(v[1])) << 16) |
             (uint32_t(uint8_t(v[2])) << 8) | uint32_t(uint8_t(v[3]));
    };
    auto crc = [](std::string_view v) {
      return static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(v.data()), v.size()));
    };
    while (b.size() >= 12) {
      uint32_t total = u32(b), hlen = u32(b.substr(4));
      EXPECT_EQ(u32(b.substr(8)), crc(b.substr(0, 8)));
      EXPECT_EQ(u32(b.substr(total - 4)), crc(b.substr(0, total - 4)));
      std::string_view h = b.substr(12, hlen);
      std::string type;
      while (!h.empty()) {
        size_t n = uint8_t(h[0]);
        std::string name(h.substr(1, n));
        size_t vl = (size_t(uint8_t(h[n + 2])) << 8) | uint8_t(h[n + 3]);
        std::string value(h.substr(n + 4, vl));
        if (name == ":event-type" || name == ":exception-type") type = value;
        h.remove_prefix(n + 4 + vl);
      }
      out.emplace_back(type, std::string(b.substr(12 + hlen, total - 16 - hlen)));
      b.remove_prefix(total);
    }
    return out;
  }
  int status_ = 0;
  std::string ct_;
  bool finished_ = false;

 private:
  std::mutex mu_;
  std::string bytes_;
};

TEST_F(KinesisTest, SubscribeToShardEventsAndShardEnd) {
  create("sub", 1);
  std::string sarn = "arn:aws:kinesis:us-east-1:000000000000:stream/sub";
  std::string carn = ok("RegisterStreamConsumer", {{"StreamARN", sarn}, {"ConsumerName", "c"}})["Consumer"]["ConsumerARN"];
  clock_.advance(opts_.create_delay_ms);
  svc_->tick();
  put("sub", "k", "one");
  put("sub", "k", "two");
  auto sink = std::make_shared<CollectSink>();
  Request req;
  req.operation = "SubscribeToShard";
  std::string body = json{{"ConsumerARN", carn}, {"ShardId", "shardId-000000000000"},
                          {"StartingPosition", {{"Type", "TRIM_HORIZON"}}}}.dump();
  req.body = body;
  req.stream = sink;
  std::promise<Response> p;
  svc_->handle(req, [&p](Response r) { p.set_value(std::move(r)); });
  EXPECT_EQ(p.get_future().get().http_status, 0);  // answered on the stream
  EXPECT_EQ(sink->status_, 200);
  EXPECT_EQ(sink->ct_, "application/vnd.amazon.eventstream");
  // Without an event-stream transport: InvalidArgumentException. A second subscription of
  // the same consumer and shard within 5 s: ResourceInUseException, as a plain answer.
  EXPECT_EQ(call_raw("SubscribeToShard", body, Encoding::kJson).type(), "InvalidArgumentException");
  auto sink2 = std::make_shared<CollectSink>();
  req.stream = sink2;
  std::promise<Response> p2;
  svc_->handle(req, [&p2](Response r) { p2.set_value(std::move(r)); });
  Response busy = p2.get_future().get();
  EXPECT_EQ(busy.http_status, 400);
  EXPECT_NE(busy.body.find("ResourceInUseException"), std::string::npos) << busy.body;
  EXPECT_EQ(sink2->status_, 0);  // nothing started on it
  put("sub", "k", "three");
  // Split: the parent's stream ends with ChildShards.
  ok("SplitShard", {{"StreamName", "sub"}, {"ShardToSplit", "shardId-000000000000"},
                    {"NewStartingHashKey", "1000"}});
  std::vector<std::string> got;
  json last;
  for (int i = 0; i < 200 && !sink->finished_; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto msgs = sink->messages();
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs[0].first, "initial-response");
  for (size_t i = 1; i < msgs.size(); i++) {
    EXPECT_EQ(msgs[i].first, "SubscribeToShardEvent");
    last = json::parse(msgs[i].second);
    for (auto& r : last["Records"]) got.push_back(*base64_decode(r["Data"].get<std::string>()));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_TRUE(sink->finished_);
  EXPECT_EQ(last["ChildShards"].size(), 2u);
  EXPECT_FALSE(last.contains("ContinuationSequenceNumber"));
}

// ---------------------------------------------------------------- throughput limits, settings

TEST_F(KinesisTest, EnforcedLimitsRefillWithTheClock) {
  opts_.enforce_limits = true;
  reopen();
  create("lim", 1);
  std::string big(600000, 'x');
  put("lim", "k", big);
  json b = {{"StreamName", "lim"}, {"PartitionKey", "k"}, {"Data", base64_encode(big)}};
  expect_error("PutRecord", b, "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000000");
  clock_.advance(1000);
  ok("PutRecord", b);
  std::string it = iterator("lim", "shardId-000000000000", "LATEST");
  for (int i = 0; i < 5; i++) it = get(it)["NextShardIterator"].get<std::string>();
  expect_error("GetRecords", {{"ShardIterator", it}}, "ProvisionedThroughputExceededException");
  clock_.advance(200);
  get(it);
}

TEST_F(KinesisTest, SettingsSurviveRestart) {
  create("st", 1);
  std::string sarn = "arn:aws:kinesis:us-east-1:000000000000:stream/st";
  ok("StartStreamEncryption", {{"StreamName", "st"}, {"EncryptionType", "KMS"}, {"KeyId", "k1"}});
  clock_.advance(opts_.update_delay_ms);
  svc_->tick();
  ok("EnableEnhancedMonitoring", {{"StreamName", "st"}, {"ShardLevelMetrics", {"IncomingBytes"}}});
  ok("UpdateMaxRecordSize", {{"StreamARN", sarn}, {"MaxRecordSizeInKiB", 2048}});
  ok("TagResource", {{"ResourceARN", sarn}, {"Tags", {{"a", "1"}}}});
  ok("PutResourcePolicy", {{"ResourceARN", sarn}, {"Policy", "{\"Statement\":[]}"}});
  ok("UpdateAccountSettings", {{"MinimumThroughputBillingCommitment", {{"Status", "ENABLED"}}}});
  reopen();
  json d = ok("DescribeStreamSummary", {{"StreamName", "st"}})["StreamDescriptionSummary"];
  EXPECT_EQ(d["EncryptionType"], "KMS");
  EXPECT_EQ(d["KeyId"], "k1");
  EXPECT_EQ(d["EnhancedMonitoring"][0]["ShardLevelMetrics"], json::array({"IncomingBytes"}));
  EXPECT_EQ(d["MaxRecordSizeInKiB"], 2048);
  EXPECT_EQ(ok("ListTagsForResource", {{"ResourceARN", sarn}})["Tags"][0]["Key"], "a");
  EXPECT_EQ(ok("GetResourcePolicy", {{"ResourceARN", sarn}})["Policy"], "{\"Statement\":[]}");
  EXPECT_EQ(ok("DescribeAccountSettings", json::object())["MinimumThroughputBillingCommitment"]["Status"], "ENABLED");
}

TEST(KinesisSchema, PatternMatchersAgreeWithRegexAndSurviveLongInput) {
  const std::vector<std::string> patterns = {
      "[a-zA-Z0-9_.-]+", "0|([1-9]\\d{0,38})", "0|([1-9]\\d{0,128})", "[a-z0-9]{20}-[a-z0-9]{3}",
      "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+", "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
      "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"};
  std::vector<std::string> inputs = {
      "", "0", "01", "1234", std::string(39, '9'), std::string(40, '9'), "abc", "a b", "shardId-0",
      "abcdefghij0123456789-abc", "abcdefghij0123456789-ab", "ABCDEFGHIJ0123456789-abc",
      "arn:aws:kinesis:us-east-1:123456789012:stream/s", "arn:aws-cn:kinesis:x:123456789012:stream/a/b",
      "arn:aws:kinesis:us-east-1:12345678901:stream/s", "arn:aws:kinesis:us-east-1:123456789012:stream/",
      "arn:aws:kinesis:us-east-1:123456789012:stream/a b", "arn:aws:kinesis:r:123456789012:xstream/s",
      "arn:aws:kinesis:r:123456789012:stream/s/consumer/c:17", "arn:aws:kinesis:r:123456789012:stream/s/consumer/c:",
      "arn:aws:kinesis:r:123456789012:stream/s/consumer/c:1a", "arn:aws:kinesis:r:123456789012:stream/s/consumer/:1",
      "arn:aws:kinesis:r:123456789012:foo/stream/s/consumer/c:1", "arn:aws:s3:::b",
      "arn:aws:kinesis:r:1:kinesis:123456789012:stream/s", "arn:aws\n:kinesis:r:123456789012:stream/s",
      "arn:aws:kinesis:r:123456789012:stream/s\t", "arn:aws:kinesis::123456789012:stream/x:kinesis:",
      "arn:aws:kinesis:r:123456789012:stream/s/consumer/c:1/consumer/d:2"};
  for (const auto& p : patterns) {
    std::regex re(p, std::regex::ECMAScript);
    for (const auto& in : inputs)
      EXPECT_EQ(match_pattern(p, in), std::regex_match(in, re)) << p << " on " << in;
  }
  std::string huge = "arn:aws:kinesis:us-east-1:123456789012:stream/" + std::string(1 << 20, 'a');
  EXPECT_TRUE(match_pattern(patterns[4], huge));
  EXPECT_FALSE(match_pattern(patterns[6], huge));
  EXPECT_THROW(match_pattern("x+", "x"), std::logic_error);
}

}  // namespace
}  // namespace sl::kinesis
