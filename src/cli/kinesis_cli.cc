// `streamlake kinesis tail|put|ls`.
//
// tail follows every shard of a stream by polling GetRecords (at most 5 calls/s per shard,
// AWS's rate): it starts at the shards without parents (trim-horizon, TIMESTAMP) or at the
// open shards (latest), and when a shard ends (no NextShardIterator, ChildShards) starts
// each child once all its parents are read, so a key's records print in order across
// splits and merges.
#include "cli/kinesis_cli.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/endpoint.h"
#include "net/http_client.h"
#include "net/sigv4.h"
#include "server/credentials.h"
#include "util/base64.h"
#include "util/time.h"

namespace sl::cli {
namespace {

using json = nlohmann::json;

struct Common {
  std::string endpoint = default_endpoint();
  std::string data_dir = "data";
  std::string credentials_file;  // default DATA/credentials
  std::string region = "us-east-1";
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// A Kinesis API client for the commands: one keep-alive connection.
class Api {
 public:
  bool open(const Common& c) {
    if (!parse_http_endpoint(c.endpoint, &host_, &port_)) {
      std::fprintf(stderr, "kinesis: bad endpoint %s (want http://host:port)\n", c.endpoint.c_str());
      return false;
    }
    std::string file = c.credentials_file.empty() ? c.data_dir + "/credentials" : c.credentials_file;
    auto kp = server::read_credentials_file(file);
    if (!kp.ok()) {
      std::fprintf(stderr,
                   "kinesis: %s\nkinesis: hint: the server writes DATA/credentials when it first starts; "
                   "pass --data with the server's data directory, or --credentials FILE.\n",
                   kp.status().message().c_str());
      return false;
    }
    kp_ = *kp;
    region_ = c.region;
    auto client = net::HttpClient::connect(host_, port_);
    if (!client.ok()) {
      std::fprintf(stderr, "kinesis: cannot connect to %s: %s\n", c.endpoint.c_str(),
                   client.status().message().c_str());
      return false;
    }
    client_.emplace(std::move(*client));
    return true;
  }

  // The answer, or nullopt after printing the error (AWS's type and message).
  std::optional<json> call(std::string_view op, const json& body, std::string* error_type = nullptr) {
    net::HttpRequest req;
    req.method = "POST";
    req.target = "/";
    req.path = "/";
    req.headers.emplace_back("host", host_ + ":" + std::to_string(port_));
    req.headers.emplace_back("content-type", "application/x-amz-json-1.1");
    req.headers.emplace_back("x-amz-target", "Kinesis_20131202." + std::string(op));
    req.body = body.dump();
    net::sign_sigv4(req, kp_.access_key, kp_.secret, region_, "kinesis", now_millis());
    auto r = client_->send(req);
    if (!r.ok()) {
      std::fprintf(stderr, "kinesis: %.*s: %s\n", static_cast<int>(op.size()), op.data(),
                   r.status().message().c_str());
      if (error_type) *error_type = "connection";
      return std::nullopt;
    }
    json doc = json::parse(r->body, nullptr, false);
    if (r->status != 200) {
      std::string type = doc.is_object() ? doc.value("__type", std::string("error")) : "error";
      std::string msg = doc.is_object() ? doc.value("message", doc.value("Message", r->body)) : r->body;
      if (error_type) *error_type = type;
      else
        std::fprintf(stderr, "kinesis: %.*s: %s: %s\n", static_cast<int>(op.size()), op.data(),
                     type.c_str(), msg.c_str());
      return std::nullopt;
    }
    if (doc.is_discarded()) doc = json::object();
    return doc;
  }

 private:
  std::string host_, region_;
  uint16_t port_ = 0;
  server::KeyPair kp_;
  std::optional<net::HttpClient> client_;
};

void add_common(CLI::App* c, Common* o) {
  c->add_option("--endpoint", o->endpoint, "Kinesis endpoint (default $STREAMLAKE_ENDPOINT or http://127.0.0.1:4566)");
  c->add_option("--data", o->data_dir, "data directory whose credentials to use (default ./data)");
  c->add_option("--credentials", o->credentials_file, "AWS credentials file (default DATA/credentials)");
  c->add_option("--region", o->region, "region to sign for (default us-east-1)");
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + static_cast<size_t>(n) >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (int k = 1; k <= n; k++)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

// ---------------------------------------------------------------- tail

struct TailOptions {
  std::string stream, from = "trim-horizon", format = "raw";
  long long max_records = 0;  // 0 = until interrupted
};

struct ShardState {
  std::vector<std::string> parents;
  std::string iterator;  // "" = not started
  bool started = false, done = false;
  int64_t next_call_ms = 0;
};

int run_tail(const Common& c, const TailOptions& t) {
  int64_t from_ts = -1;
  if (t.from != "trim-horizon" && t.from != "latest") {
    if (!parse_iso8601_ms(t.from, &from_ts)) {
      char* end = nullptr;
      double secs = std::strtod(t.from.c_str(), &end);
      if (end == t.from.c_str() || *end != '\0') {
        std::fprintf(stderr, "kinesis tail: --from must be trim-horizon, latest, an ISO-8601 time or epoch seconds\n");
        return 2;
      }
      from_ts = static_cast<int64_t>(secs * 1000);
    }
  }
  if (t.format != "raw" && t.format != "json") {
    std::fprintf(stderr, "kinesis tail: --format must be raw or json\n");
    return 2;
  }
  Api api;
  if (!api.open(c)) return 2;
  // All shards with their parents.
  std::map<std::string, ShardState> shards;
  std::set<std::string> open_shards;
  json req = {{"StreamName", t.stream}};
  for (;;) {
    auto r = api.call("ListShards", req);
    if (!r) return 1;
    for (const json& s : (*r)["Shards"]) {
      ShardState st;
      for (const char* k : {"ParentShardId", "AdjacentParentShardId"})
        if (s.contains(k)) st.parents.push_back(s[k].get<std::string>());
      std::string id = s["ShardId"].get<std::string>();
      if (!s["SequenceNumberRange"].contains("EndingSequenceNumber")) open_shards.insert(id);
      shards.emplace(id, std::move(st));
    }
    if (!r->contains("NextToken")) break;
    req = {{"NextToken", (*r)["NextToken"]}};
  }
  auto start = [&](const std::string& id, const char* type) -> bool {
    json b = {{"StreamName", t.stream}, {"ShardId", id}, {"ShardIteratorType", type}};
    if (std::string(type) == "AT_TIMESTAMP") b["Timestamp"] = static_cast<double>(from_ts) / 1000.0;
    auto r = api.call("GetShardIterator", b);
    if (!r) return false;
    shards[id].iterator = (*r)["ShardIterator"].get<std::string>();
    shards[id].started = true;
    return true;
  };
  const char* child_type = from_ts >= 0 ? "AT_TIMESTAMP" : "TRIM_HORIZON";
  for (auto& [id, st] : shards) {
    bool root = true;
    for (auto& p : st.parents) root = root && !shards.count(p);
    if (t.from == "latest") {
      if (open_shards.count(id) && !start(id, "LATEST")) return 1;
    } else if (root && !start(id, from_ts >= 0 ? "AT_TIMESTAMP" : "TRIM_HORIZON")) {
      return 1;
    }
  }
  long long printed = 0;
  while (!g_stop) {
    bool any = false;
    int64_t now = now_millis();
    for (auto it = shards.begin(); it != shards.end() && !g_stop; ++it) {
      ShardState& st = it->second;
      if (!st.started || st.done || now < st.next_call_ms) continue;
      st.next_call_ms = now + 200;  // ≤ 5 GetRecords calls per second per shard
      std::string err;
      auto r = api.call("GetRecords", {{"ShardIterator", st.iterator}, {"Limit", 1000}}, &err);
      if (!r) {
        if (err == "ProvisionedThroughputExceededException") continue;
        if (err == "ExpiredIteratorException") {  // resume after the last record seen
          st.started = false;
          if (!start(it->first, "LATEST")) return 1;
          continue;
        }
        std::fprintf(stderr, "kinesis tail: GetRecords on %s: %s\n", it->first.c_str(), err.c_str());
        return 1;
      }
      for (const json& rec : (*r)["Records"]) {
        auto data = base64_decode(rec["Data"].get<std::string>()).value_or("");
        if (t.format == "raw") {
          std::fwrite(data.data(), 1, data.size(), stdout);
          std::fputc('\n', stdout);
        } else {
          json line = {{"shard", it->first},
                       {"sequence", rec["SequenceNumber"]},
                       {"partition_key", rec["PartitionKey"]},
                       {"arrival", format_iso8601_ms(static_cast<int64_t>(rec["ApproximateArrivalTimestamp"].get<double>() * 1000.0 + 0.5))}};
          if (valid_utf8(data)) line["data"] = data;
          else line["data_base64"] = rec["Data"];
          std::fputs(line.dump().c_str(), stdout);
          std::fputc('\n', stdout);
        }
        any = true;
        if (t.max_records > 0 && ++printed >= t.max_records) {
          std::fflush(stdout);
          return 0;
        }
      }
      std::fflush(stdout);
      if (r->contains("NextShardIterator") && !(*r)["NextShardIterator"].is_null()) {
        st.iterator = (*r)["NextShardIterator"].get<std::string>();
        if (!(*r)["Records"].empty()) st.next_call_ms = now;  // more may be waiting
        continue;
      }
      // The shard ended: its children start once all their parents are read.
      st.done = true;
      for (const json& ch : r->value("ChildShards", json::array())) {
        std::string cid = ch["ShardId"].get<std::string>();
        ShardState& cs = shards[cid];
        cs.parents = ch["ParentShards"].get<std::vector<std::string>>();
      }
      for (auto& [cid, cs] : shards) {
        if (cs.started || cs.done) continue;
        bool is_child = std::find(cs.parents.begin(), cs.parents.end(), it->first) != cs.parents.end();
        if (!is_child) continue;
        bool ready = true;
        for (auto& p : cs.parents) ready = ready && (!shards.count(p) || shards[p].done);
        if (ready && !start(cid, child_type)) return 1;
      }
    }
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// ---------------------------------------------------------------- put

struct PutOptions {
  std::string stream, partition_key;
  std::vector<std::string> records;  // empty: one record per stdin line
};

int run_put(const Common& c, const PutOptions& p) {
  Api api;
  if (!api.open(c)) return 2;
  std::vector<std::string> recs = p.records;
  if (recs.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) recs.push_back(line);
  }
  uint64_t counter = static_cast<uint64_t>(now_millis()) * 1000;
  size_t failed = 0;
  for (size_t i = 0; i < recs.size(); i += 500) {
    json batch = json::array();
    for (size_t j = i; j < std::min(recs.size(), i + 500); j++)
      batch.push_back({{"Data", base64_encode(recs[j])},
                       {"PartitionKey", p.partition_key.empty() ? std::to_string(counter++) : p.partition_key}});
    auto r = api.call("PutRecords", {{"StreamName", p.stream}, {"Records", batch}});
    if (!r) return 1;
    for (const json& e : (*r)["Records"]) {
      if (e.contains("ErrorCode")) {
        failed++;
        std::printf("error %s %s\n", e["ErrorCode"].get<std::string>().c_str(),
                    e.value("ErrorMessage", std::string()).c_str());
      } else {
        std::printf("%s %s\n", e["ShardId"].get<std::string>().c_str(),
                    e["SequenceNumber"].get<std::string>().c_str());
      }
    }
  }
  std::fflush(stdout);
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------- ls

int run_ls(const Common& c, const std::string& stream) {
  Api api;
  if (!api.open(c)) return 2;
  if (!stream.empty()) {  // the stream's shards
    std::printf("%-22s %-22s %-22s %-6s %s\n", "SHARD", "PARENT", "ADJACENT_PARENT", "STATE", "HASH_KEYS");
    json req = {{"StreamName", stream}};
    for (;;) {
      auto r = api.call("ListShards", req);
      if (!r) return 1;
      for (const json& s : (*r)["Shards"]) {
        std::printf("%-22s %-22s %-22s %-6s %s-%s\n", s["ShardId"].get<std::string>().c_str(),
                    s.value("ParentShardId", std::string("-")).c_str(),
                    s.value("AdjacentParentShardId", std::string("-")).c_str(),
                    s["SequenceNumberRange"].contains("EndingSequenceNumber") ? "closed" : "open",
                    s["HashKeyRange"]["StartingHashKey"].get<std::string>().c_str(),
                    s["HashKeyRange"]["EndingHashKey"].get<std::string>().c_str());
      }
      if (!r->contains("NextToken")) break;
      req = {{"NextToken", (*r)["NextToken"]}};
    }
    return 0;
  }
  std::printf("%-40s %-9s %-12s %6s %9s %9s %s\n", "STREAM", "STATUS", "MODE", "SHARDS", "CONSUMERS",
              "RETENTION", "ENCRYPTION");
  json req = json::object();
  for (;;) {
    auto r = api.call("ListStreams", req);
    if (!r) return 1;
    for (const json& name : (*r)["StreamNames"]) {
      auto d = api.call("DescribeStreamSummary", {{"StreamName", name}});
      if (!d) continue;  // deleted meanwhile
      const json& s = (*d)["StreamDescriptionSummary"];
      std::printf("%-40s %-9s %-12s %6d %9d %8dh %s\n", name.get<std::string>().c_str(),
                  s["StreamStatus"].get<std::string>().c_str(),
                  s["StreamModeDetails"]["StreamMode"].get<std::string>().c_str(),
                  s["OpenShardCount"].get<int>(), s.value("ConsumerCount", 0),
                  s["RetentionPeriodHours"].get<int>(), s["EncryptionType"].get<std::string>().c_str());
    }
    if (!r->value("HasMoreStreams", false) || !r->contains("NextToken")) break;
    req = {{"NextToken", (*r)["NextToken"]}};
  }
  return 0;
}

}  // namespace

CLI::App* add_kinesis_command(CLI::App& app, std::function<int()>* run) {
  static Common common;
  static TailOptions tail;
  static PutOptions put;
  static std::string ls_stream;
  auto* k = app.add_subcommand("kinesis", "work with Kinesis streams: tail, put, ls");
  k->require_subcommand(1);
  auto* tc = k->add_subcommand("tail", "print a stream's records as they arrive, following splits and merges");
  add_common(tc, &common);
  tc->add_option("--stream", tail.stream, "stream name")->required();
  tc->add_option("--from", tail.from, "trim-horizon (default), latest, or a time (ISO-8601 or epoch seconds)");
  tc->add_option("--format", tail.format, "raw (the data, one record a line; default) or json");
  tc->add_option("--max-records", tail.max_records, "exit after this many records");
  auto* pc = k->add_subcommand("put", "put records: the arguments, else one per line of stdin");
  add_common(pc, &common);
  pc->add_option("--stream", put.stream, "stream name")->required();
  pc->add_option("--partition-key", put.partition_key, "partition key (default: a new one per record)");
  pc->add_option("records", put.records, "record data");
  auto* lc = k->add_subcommand("ls", "list streams, or with --stream the stream's shards");
  add_common(lc, &common);
  lc->add_option("--stream", ls_stream, "list this stream's shards");
  *run = [tc, pc, lc]() -> int {
    signal(SIGPIPE, SIG_IGN);
    if (tc->parsed()) {
      signal(SIGINT, on_signal);
      signal(SIGTERM, on_signal);
      return run_tail(common, tail);
    }
    if (pc->parsed()) return run_put(common, put);
    if (lc->parsed()) return run_ls(common, ls_stream);
    return 2;
  };
  return k;
}

}  // namespace sl::cli
