// The S3 store against a real S3-compatible server: s3rver (npm, pinned in package-lock.json)
// started on 127.0.0.1 by this test, and s3_fault_proxy.py in front of it where signatures
// must be checked (s3rver does not check V4 signatures) or faults injected. A missing node or
// s3rver fails the test; nothing is skipped.
//
// The fault test prints its seed; SL_S3_FAULT_SEED=<n> replays the proxy's choices (thread
// interleavings still differ between runs).
#include <dirent.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "lake/object_store.h"
#include "lake/s3_store.h"

namespace sl::lake {
namespace {

namespace fs = std::filesystem;

// A child process whose stdout is read until a line containing a marker appears.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { stop(); }

  // Starts argv; returns the first stdout line containing `marker` ("" on failure, with
  // *error set: exec failed, exited, or no marker within 30 s).
  std::string start(const std::vector<std::string>& argv, const std::string& marker, std::string* error) {
    int fds[2];
    if (::pipe(fds) != 0) {
      *error = "pipe failed";
      return "";
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::read(out_, tmp, sizeof tmp);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
      size_t at = buf.find(marker);
      if (at != std::string::npos) {
        size_t eol = buf.find('\n', at);
        if (eol != std::string::npos) {
          size_t bol = buf.rfind('\n', at);
          return buf.substr(bol == std::string::npos ? 0 : bol + 1, eol - (bol == std::string::npos ? 0 : bol + 1));
        }
      }
    }
    *error = "no \"" + marker + "\" from " + argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + "; its output: " + buf;
    return "";
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);  // s3rver's graceful close waits out idle keep-alive connections
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (out_ >= 0) {
      ::close(out_);
      out_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

int port_after(const std::string& line, char sep) {
  size_t at = line.rfind(sep);
  return at == std::string::npos ? 0 : std::atoi(line.c_str() + at + 1);
}

std::map<std::string, long> read_stats(const std::string& path) {
  std::map<std::string, long> m;
  std::ifstream in(path);
  std::string k;
  long v;
  while (in >> k >> v) m[k] = v;
  return m;
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

// One s3rver for the whole suite (node starts in ~1 s), with bucket "lake"; each test works
// under its own prefix. Virtual-hosted requests reach it as <bucket>.s3.localhost.
class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);  // curl honours http_proxy from the environment
    char tmpl[] = "/tmp/sl_s3rver_XXXXXX";
    dir_ = new std::string(::mkdtemp(tmpl));
    server_ = new Child;
    std::string script = std::string(SL_SOURCE_DIR) + "/node_modules/s3rver/bin/s3rver.js";
    // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has in its
    // legacy provider.
    std::string line = server_->start({SL_NODE, "--openssl-legacy-provider", script, "-d", *dir_, "-a", "127.0.0.1", "-p", "0", "-s",
                                       "--service-endpoint", "localhost", "--configure-bucket", "lake"},
                                      "listening on", &start_error_);
    port_ = port_after(line, ':');
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ec;
    if (::testing::UnitTest::GetInstance()->failed_test_count() == 0) {
      fs::remove_all(*dir_, ec);
    } else {
      std::printf("s3rver's directory and the fault proxy's log (fault.log) kept in %s\n", dir_->c_str());
    }
    delete dir_;
  }

  void SetUp() override {
    ASSERT_GT(port_, 0) << "s3rver did not start (node: " << SL_NODE << "): " << start_error_;
  }

  static std::string endpoint() { return "http://127.0.0.1:" + std::to_string(port_); }

  static S3Options options() {
    S3Options o;
    o.endpoint = endpoint();
    o.access_key = "S3RVER";
    o.secret_key = "S3RVER";
    o.retry_base_ms = 5;
    o.max_retries = 3;
    return o;
  }

  std::unique_ptr<ObjectStore> store(const std::string& uri, const S3Options& o) {
    auto s = open_s3_store(uri, o);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<ObjectStore> store(const std::string& prefix) { return store("s3://lake/" + prefix, options()); }

  // Starts the fault proxy in front of s3rver; returns its port (0 on failure).
  int start_proxy(Child* proxy, const std::vector<std::string>& extra, std::string* error) {
    std::vector<std::string> argv = {SL_PYTHON, std::string(SL_SOURCE_DIR) + "/src/lake/tests/s3_fault_proxy.py",
                                     "--upstream", std::to_string(port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return port_after(proxy->start(argv, "PORT ", error), ' ');
  }

  static inline std::string* dir_ = nullptr;
  static inline Child* server_ = nullptr;
  static inline int port_ = 0;
  static inline std::string start_error_;
};

TEST_F(S3StoreTest, PutGetStatRemove) {
  auto s = store("rt");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->uri(), "s3://lake/rt");
  std::string bin("a\0b\r\n\xff", 6);
  ASSERT_TRUE(s->put("dir/one.bin", bin).ok());
  auto g = s->get("dir/one.bin");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(*g, bin);
  auto st = s->stat("dir/one.bin");
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->key, "dir/one.bin");
  EXPECT_EQ(st->size, 6u);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(st->modified_ms), static_cast<double>(now), 120000.0);

  ASSERT_TRUE(s->put("dir/one.bin", "replaced").ok());
  EXPECT_EQ(*s->get("dir/one.bin"), "replaced");
  ASSERT_TRUE(s->put("empty", "").ok());
  EXPECT_EQ(*s->get("empty"), "");
  EXPECT_EQ(s->stat("empty")->size, 0u);

  auto missing = s->get("dir/nope");
  ASSERT_EQ(missing.status().code(), Errc::kNotFound) << missing.status().to_string();
  EXPECT_NE(missing.status().message().find("NoSuchKey"), std::string::npos) << missing.status().message();
  EXPECT_NE(missing.status().message().find("s3://lake/rt/dir/nope"), std::string::npos);
  EXPECT_NE(missing.status().message().find("HTTP 404"), std::string::npos);
  EXPECT_EQ(s->stat("dir/nope").status().code(), Errc::kNotFound);
  EXPECT_EQ(s->open("dir/nope").status().code(), Errc::kNotFound);

  ASSERT_TRUE(s->remove("dir/one.bin").ok());
  EXPECT_EQ(s->get("dir/one.bin").status().code(), Errc::kNotFound);
  EXPECT_TRUE(s->remove("dir/one.bin").ok());  // absent: OK
  EXPECT_EQ(s->put("../escape", "x").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s->put("/abs", "x").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s->list("/abs").status().code(), Errc::kInvalidArgument);
}

TEST_F(S3StoreTest, KeysWithSpacesUnicodeAndXmlCharacters) {
  auto s = store("keys");
  ASSERT_TRUE(s);
  std::vector<std::string> keys = {"a b/c d.txt", "plus+equals=amp&q?hash#pct%star*", "ünïcødé/日本語.parquet",
                                   "quote'dq\"lt<gt>", "tilde~under_score-dash.dot", "emoji/😀"};
  for (const auto& k : keys) ASSERT_TRUE(s->put(k, "v:" + k).ok()) << k;
  for (const auto& k : keys) {
    auto g = s->get(k);
    ASSERT_TRUE(g.ok()) << k << ": " << g.status().to_string();
    EXPECT_EQ(*g, "v:" + k);
  }
  auto l = s->list("");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  std::vector<std::string> sorted = keys, got;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& o : *l) got.push_back(o.key);
  EXPECT_EQ(got, sorted);
  auto sub = s->list("ünïcødé/");
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->size(), 1u);
  EXPECT_EQ((*sub)[0].key, "ünïcødé/日本語.parquet");
  EXPECT_EQ((*sub)[0].size, std::string("v:ünïcødé/日本語.parquet").size());
}

TEST_F(S3StoreTest, ListPagesPastAThousandKeys) {
  auto s = store("paging/root");
  ASSERT_TRUE(s);
  constexpr int kKeys = 1100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kKeys; i += 4) {
        char key[64];
        std::snprintf(key, sizeof key, "p/%05d", i);
        if (!s->put(key, std::string(static_cast<size_t>(i % 7), 'x')).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(s->put("q/outside", "y").ok());
  auto l = s->list("p/");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  ASSERT_EQ(l->size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "p/%05d", i);
    ASSERT_EQ((*l)[static_cast<size_t>(i)].key, key);
    ASSERT_EQ((*l)[static_cast<size_t>(i)].size, static_cast<uint64_t>(i % 7));
  }
  auto all = s->list("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kKeys + 1));
  EXPECT_EQ(all->back().key, "q/outside");
  auto some = s->list("p/010");
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->size(), 100u);
  auto none = s->list("nothing/");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // A store rooted one level up sees the keys with the longer relative path.
  auto up = store("paging");
  auto l2 = up->list("root/q/");
  ASSERT_TRUE(l2.ok());
  ASSERT_EQ(l2->size(), 1u);
  EXPECT_EQ((*l2)[0].key, "root/q/outside");
}

TEST_F(S3StoreTest, RangedReads) {
  auto s = store("ranges");
  ASSERT_TRUE(s);
  std::mt19937_64 rng(7);
  std::string data = random_bytes(rng, 100000);
  ASSERT_TRUE(s->put("obj", data).ok());
  auto o = s->open("obj");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ((*o)->size(), data.size());
  std::string out = "stale";
  for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 1}, {0, 100000}, {99999, 1}, {12345, 54321}, {99992, 8}, {500, 0}, {100000, 0}}) {
    Status st = (*o)->read(off, len, &out);
    ASSERT_TRUE(st.ok()) << off << "+" << len << ": " << st.to_string();
    EXPECT_EQ(out, data.substr(off, len)) << off << "+" << len;
  }
  EXPECT_EQ((*o)->read(99999, 2, &out).code(), Errc::kInvalidArgument);
  EXPECT_EQ((*o)->read(100001, 0, &out).code(), Errc::kInvalidArgument);
  EXPECT_EQ((*o)->read(UINT64_MAX, 2, &out).code(), Errc::kInvalidArgument);
}

TEST_F(S3StoreTest, MultipartUploads) {
  auto s = store("mp");
  ASSERT_TRUE(s);
  std::mt19937_64 rng(11);
  // 5 MiB parts, S3's minimum for all parts but the last: 11 MiB + 123 → 3 parts.
  S3Options o = options();
  o.multipart_part_bytes = 5u << 20;
  auto big = store("s3://lake/mp", o);
  std::string data = random_bytes(rng, (11u << 20) + 123);
  auto w = big->create("big.bin");
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = std::min<size_t>(data.size() - pos, 1 + rng() % (3u << 20));
    ASSERT_TRUE((*w)->append(std::string_view(data).substr(pos, n)).ok());
    pos += n;
  }
  EXPECT_EQ((*w)->bytes_written(), data.size());
  EXPECT_EQ(big->stat("big.bin").status().code(), Errc::kNotFound);  // invisible before close
  ASSERT_TRUE((*w)->close().ok());
  EXPECT_EQ((*w)->append("x").code(), Errc::kInUse);
  auto g = big->get("big.bin");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_TRUE(*g == data) << "multipart object differs (" << g->size() << " vs " << data.size() << " bytes)";
  auto r = big->open("big.bin");
  ASSERT_TRUE(r.ok());
  std::string out;
  ASSERT_TRUE((*r)->read((5u << 20) - 10, 20, &out).ok());  // across a part boundary
  EXPECT_EQ(out, data.substr((5u << 20) - 10, 20));

  // Exactly two parts and no tail; a small object (one PUT); an empty one.
  o.multipart_part_bytes = 64u << 10;
  auto small_parts = store("s3://lake/mp", o);
  std::string two = random_bytes(rng, 128u << 10);
  auto w2 = small_parts->create("two-parts");
  ASSERT_TRUE((*w2)->append(two).ok());
  ASSERT_TRUE((*w2)->close().ok());
  EXPECT_TRUE(*small_parts->get("two-parts") == two);
  auto w3 = small_parts->create("small");
  ASSERT_TRUE((*w3)->append("tiny").ok());
  ASSERT_TRUE((*w3)->close().ok());
  EXPECT_EQ(*small_parts->get("small"), "tiny");
  auto w4 = small_parts->create("empty");
  ASSERT_TRUE((*w4)->close().ok());
  EXPECT_EQ(*small_parts->get("empty"), "");
}

TEST_F(S3StoreTest, AbortLeavesNothingVisibleAndSendsAbortMultipartUpload) {
  Child proxy;
  std::string err, stats = *dir_ + "/abort.stats";
  int port = start_proxy(&proxy, {"--secret", "S3RVER", "--stats", stats}, &err);
  ASSERT_GT(port, 0) << err;
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.multipart_part_bytes = 64u << 10;
  auto s = store("s3://lake/abort", o);
  std::mt19937_64 rng(3);
  {
    auto w = s->create("aborted");
    ASSERT_TRUE((*w)->append(random_bytes(rng, 200u << 10)).ok());  // 3 parts uploaded
    (*w)->abort();
    EXPECT_EQ((*w)->close().code(), Errc::kInUse);
  }
  {
    auto w = s->create("dropped");
    ASSERT_TRUE((*w)->append(random_bytes(rng, 100u << 10)).ok());
  }  // destroyed without close
  {
    auto w = s->create("small-dropped");
    ASSERT_TRUE((*w)->append("abc").ok());
  }
  EXPECT_EQ(s->stat("aborted").status().code(), Errc::kNotFound);
  EXPECT_EQ(s->stat("dropped").status().code(), Errc::kNotFound);
  EXPECT_EQ(s->stat("small-dropped").status().code(), Errc::kNotFound);
  auto l = s->list("");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->empty());
  auto st = read_stats(stats);
  EXPECT_EQ(st["op_POST_uploads"], 2);
  EXPECT_EQ(st["op_PUT_uploadId"], 4);
  // s3rver does not implement AbortMultipartUpload (it answers 405); the request is sent.
  EXPECT_EQ(st["op_DELETE_uploadId"], 2);
  EXPECT_EQ(st["op_PUT_plain"], 0);
  EXPECT_EQ(st["bad_signature"], 0);
}

TEST_F(S3StoreTest, PutIfAbsent) {
  auto s = store("cas");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_if_absent("_commits/00000000000000000001.json", "{\"n\":1}").ok());
  Status again = s->put_if_absent("_commits/00000000000000000001.json", "{\"n\":\"other\"}");
  EXPECT_EQ(again.code(), Errc::kAlreadyExists) << again.to_string();
  EXPECT_EQ(*s->get("_commits/00000000000000000001.json"), "{\"n\":1}");
  ASSERT_TRUE(s->put_if_absent("_commits/00000000000000000002.json", "").ok());
  EXPECT_EQ(s->put_if_absent("_commits/00000000000000000002.json", "").code(), Errc::kAlreadyExists);
  EXPECT_EQ(s->put_if_absent("../x", "").code(), Errc::kInvalidArgument);
}

// Racing writers of one commit through a store that honours If-None-Match (the proxy, as
// S3 does): exactly one wins, whatever the HEAD before the PUT saw.
TEST_F(S3StoreTest, PutIfAbsentRaceHasOneWinner) {
  Child proxy;
  std::string err, stats = *dir_ + "/race.stats";
  int port = start_proxy(&proxy, {"--secret", "S3RVER", "--stats", stats, "--conditional"}, &err);
  ASSERT_GT(port, 0) << err;
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto s = store("s3://lake/race", o);
  ASSERT_TRUE(s);
  for (int round = 0; round < 5; ++round) {
    std::string key = "_commits/" + std::to_string(round) + ".json";
    constexpr int kWriters = 8;
    std::vector<Status> results(kWriters);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        ++ready;
        while (ready.load() < kWriters) std::this_thread::yield();
        results[static_cast<size_t>(w)] = s->put_if_absent(key, "writer " + std::to_string(w));
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0, winner = -1;
    for (int w = 0; w < kWriters; ++w) {
      const Status& r = results[static_cast<size_t>(w)];
      if (r.ok()) {
        ++winners;
        winner = w;
      } else {
        EXPECT_EQ(r.code(), Errc::kAlreadyExists) << r.to_string();
      }
    }
    ASSERT_EQ(winners, 1) << key;
    EXPECT_EQ(*s->get(key), "writer " + std::to_string(winner));
  }
  auto st = read_stats(stats);
  EXPECT_EQ(st["bad_signature"], 0);
  // Most writers pass the HEAD together: the store's 412 decided the races.
  std::printf("race: %ld conditional PUTs reached the store for 5 keys\n", st["op_PUT_plain"]);
  EXPECT_GT(st["op_PUT_plain"], 5);
}

TEST_F(S3StoreTest, Errors) {
  auto nb = store("s3://no-such-bucket/x", options());
  ASSERT_TRUE(nb);
  auto g = nb->get("k");
  EXPECT_EQ(g.status().code(), Errc::kNotFound);
  EXPECT_NE(g.status().message().find("NoSuchBucket"), std::string::npos) << g.status().message();
  EXPECT_EQ(nb->put("k", "v").code(), Errc::kNotFound);
  EXPECT_EQ(nb->list("").status().code(), Errc::kNotFound);
  EXPECT_EQ(nb->remove("k").code(), Errc::kNotFound);
  auto w = nb->create("k");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->append("v").ok());
  EXPECT_EQ((*w)->close().code(), Errc::kNotFound);

  S3Options bad = options();
  bad.access_key = "NOT-A-KEY";
  auto unknown = store("s3://lake/x", bad);
  Status st = unknown->put("k", "v");
  EXPECT_EQ(st.code(), Errc::kUnauthenticated) << st.to_string();
  EXPECT_NE(st.message().find("InvalidAccessKeyId"), std::string::npos) << st.message();

  // Nobody listens: retried, then a clear I/O error.
  S3Options down = options();
  down.endpoint = "http://127.0.0.1:1";
  down.max_retries = 2;
  down.retry_base_ms = 1;
  auto ds = store("s3://lake/x", down);
  auto dg = ds->get("k");
  EXPECT_EQ(dg.status().code(), Errc::kIoError);
  EXPECT_NE(dg.status().message().find("after 3 attempts"), std::string::npos) << dg.status().message();

  // A server that accepts and never answers: each attempt ends after request_timeout_ms.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(silent, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  S3Options hang = down;
  hang.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  hang.request_timeout_ms = 1000;
  hang.max_retries = 1;
  auto t0 = std::chrono::steady_clock::now();
  auto hg = store("s3://lake/x", hang)->get("k");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(silent);
  EXPECT_EQ(hg.status().code(), Errc::kIoError);
  EXPECT_NE(hg.status().message().find("Timeout"), std::string::npos) << hg.status().message();
  EXPECT_GT(secs, 1.5);
  EXPECT_LT(secs, 8.0);
}

TEST_F(S3StoreTest, SignaturesAreWhatS3Checks) {
  // s3rver does not check V4 signatures; the proxy does, as S3 would.
  Child proxy;
  std::string err, stats = *dir_ + "/sig.stats";
  int port = start_proxy(&proxy, {"--secret", "S3RVER", "--stats", stats}, &err);
  ASSERT_GT(port, 0) << err;
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.session_token = "FwoGZXIvYXdzE+token/with=chars";
  o.multipart_part_bytes = 64u << 10;
  auto s = store("s3://lake/sig ned", o);
  std::mt19937_64 rng(5);
  std::string big = random_bytes(rng, 150u << 10);
  ASSERT_TRUE(s->put("a b/ü+&=.txt", "x").ok());
  ASSERT_TRUE(s->put_if_absent("c", "y").ok());
  auto w = s->create("big");
  ASSERT_TRUE((*w)->append(big).ok());
  ASSERT_TRUE((*w)->close().ok());
  auto l = s->list("a b/");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  EXPECT_EQ(l->size(), 1u);
  auto r = s->open("big");
  ASSERT_TRUE(r.ok());
  std::string out;
  ASSERT_TRUE((*r)->read(1000, 70000, &out).ok());
  EXPECT_EQ(out, big.substr(1000, 70000));
  EXPECT_TRUE(s->remove("c").ok());
  auto stats_now = read_stats(stats);
  EXPECT_EQ(stats_now["bad_signature"], 0);
  EXPECT_GE(stats_now["requests"], 10);

  S3Options wrong = o;
  wrong.secret_key = "not-the-secret";
  auto ws = store("s3://lake/x", wrong);
  Status st = ws->put("k", "v");
  EXPECT_EQ(st.code(), Errc::kUnauthenticated) << st.to_string();
  EXPECT_NE(st.message().find("SignatureDoesNotMatch"), std::string::npos) << st.message();
}

TEST_F(S3StoreTest, VirtualHostedStyle) {
  S3Options o = options();
  o.endpoint = "http://s3.localhost:" + std::to_string(port_);  // curl resolves *.localhost itself
  o.path_style = false;
  auto s = store("s3://lake/vhost", o);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put("k 1", "v1").ok());
  EXPECT_EQ(*s->get("k 1"), "v1");
  auto l = s->list("");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].key, "k 1");
  // The same object through path-style addressing.
  EXPECT_EQ(*store("vhost")->get("k 1"), "v1");
}

// Writers of many objects through a proxy that answers 500/503, drops connections before
// and after forwarding, truncates answers, stalls past the client's timeout, and has
// outages: every object must end exactly right.
TEST_F(S3StoreTest, FaultsAreRetriedUntilEveryObjectIsExact) {
  uint64_t seed = std::random_device{}();
  if (const char* e = std::getenv("SL_S3_FAULT_SEED")) seed = std::strtoull(e, nullptr, 10);
  std::printf("s3 fault test seed: %llu (replay: SL_S3_FAULT_SEED=%llu)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  Child proxy;
  std::string err, stats = *dir_ + "/fault.stats";
  int port = start_proxy(&proxy,
                         {"--secret", "S3RVER", "--stats", stats, "--log", *dir_ + "/fault.log", "--seed", std::to_string(seed), "--fault-rate",
                          "0.25", "--stall-ms", "4500", "--outage-every-ms", "5000", "--outage-ms", "600",
                          "--complete-error-rate", "0.5", "--conditional"},
                         &err);
  ASSERT_GT(port, 0) << err;
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  // An outage burns the first few (short) retries at once; 16 leave room for the faults
  // after it (a request fails ~1 in 10^5 runs at these rates).
  o.max_retries = 16;
  o.retry_base_ms = 50;
  o.request_timeout_ms = 3000;  // generous: ctest runs this beside other tests on a loaded machine
  o.multipart_part_bytes = 96u << 10;
  auto s = store("s3://lake/faults", o);
  ASSERT_TRUE(s);

  constexpr int kThreads = 4, kPuts = 12, kCommits = 4, kMultiparts = 3;
  std::mutex mu;
  std::map<std::string, std::string> expected;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(t));
      auto record = [&](const std::string& key, std::string data, const Status& st) {
        std::lock_guard<std::mutex> lock(mu);
        if (!st.ok()) failures.push_back(key + ": " + st.to_string());
        expected[key] = std::move(data);
      };
      for (int i = 0; i < kPuts; ++i) {
        std::string key = "t" + std::to_string(t) + "/put-" + std::to_string(i);
        std::string data = random_bytes(rng, rng() % (64u << 10));
        Status st = s->put(key, data);
        record(key, std::move(data), st);
      }
      for (int i = 0; i < kCommits; ++i) {
        std::string key = "t" + std::to_string(t) + "/_commits/" + std::to_string(i) + ".json";
        std::string data = "{\"thread\":" + std::to_string(t) + ",\"n\":" + std::to_string(i) + "}";
        Status st = s->put_if_absent(key, data);
        record(key, data, st);
        Status again = s->put_if_absent(key, "other");
        if (again.code() != Errc::kAlreadyExists) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(key + " second put_if_absent: " + again.to_string());
        }
      }
      for (int i = 0; i < kMultiparts; ++i) {
        std::string key = "t" + std::to_string(t) + "/multi-" + std::to_string(i);
        std::string data = random_bytes(rng, (300u << 10) + rng() % (200u << 10));
        auto w = s->create(key);
        Status st = w.status();
        for (size_t pos = 0; st.ok() && pos < data.size(); pos += 40000)
          st = (*w)->append(std::string_view(data).substr(pos, 40000));
        if (st.ok()) st = (*w)->close();
        record(key, std::move(data), st);
      }
      // Overwrite and delete under faults too.
      std::string key = "t" + std::to_string(t) + "/put-0";
      std::string data = "overwritten " + std::to_string(t);
      record(key, data, s->put(key, data));
      std::string gone = "t" + std::to_string(t) + "/put-1";
      Status rm = s->remove(gone);
      std::lock_guard<std::mutex> lock(mu);
      if (!rm.ok()) failures.push_back(gone + " remove: " + rm.to_string());
      expected.erase(gone);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;

  // Listing and reads through the faults, then each object straight from s3rver.
  auto listed = s->list("");
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  std::map<std::string, uint64_t> sizes;
  for (const auto& oi : *listed) sizes[oi.key] = oi.size;
  ASSERT_EQ(sizes.size(), expected.size());
  auto direct = store("faults");
  for (const auto& [key, data] : expected) {
    ASSERT_EQ(sizes.count(key), 1u) << key;
    EXPECT_EQ(sizes[key], data.size()) << key;
    auto g = direct->get(key);
    ASSERT_TRUE(g.ok()) << key << ": " << g.status().to_string();
    EXPECT_TRUE(*g == data) << key << " differs";
    auto viaproxy = s->get(key);
    ASSERT_TRUE(viaproxy.ok()) << key << ": " << viaproxy.status().to_string();
    EXPECT_TRUE(*viaproxy == data) << key << " differs through the proxy";
    if (data.size() > 10) {
      auto r = s->open(key);
      ASSERT_TRUE(r.ok()) << key << ": " << r.status().to_string();
      std::string out;
      Status rs = (*r)->read(3, data.size() - 10, &out);
      ASSERT_TRUE(rs.ok()) << key << ": " << rs.to_string();
      EXPECT_TRUE(out == data.substr(3, data.size() - 10)) << key;
    }
  }
  auto st = read_stats(stats);
  std::printf("s3 fault proxy:");
  for (const auto& [k, v] : st) std::printf(" %s=%ld", k.c_str(), v);
  std::printf("\n");
  EXPECT_EQ(st["bad_signature"], 0);
  for (const char* f : {"e500", "e503", "drop_before", "drop_after", "truncate", "outage", "ok_error"})
    EXPECT_GT(st[f], 0) << "no " << f << " fault was injected; the test proves less than it claims";
}

}  // namespace
}  // namespace sl::lake
