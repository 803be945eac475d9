// Crash test: a child process appends durably from 2 threads and reports every
// acknowledged append over a pipe; the parent SIGKILLs it at a pseudo-random moment
// (after a random number of acknowledgements), reopens the store and checks that every
// acknowledged record is there, with its content, at its offset.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <semaphore>
#include <thread>

#include "log/log.h"
#include "log/tests/log_test_util.h"
#include "util/time.h"

namespace sl::log {
namespace {

struct Ack {  // 32 bytes: pipe writes of this size are atomic
  uint64_t first_offset;
  uint32_t count;
  uint32_t writer;  // round * 2 + thread
  uint64_t seq;
  uint64_t partition;
};

std::string key_of(uint32_t writer, uint64_t seq, uint32_t i) {
  return "w" + std::to_string(writer) + "s" + std::to_string(seq) + "i" + std::to_string(i);
}
std::string data_of(uint32_t writer, uint64_t seq, uint32_t i) {
  // varying sizes so batches straddle read chunks and segment ends differently
  size_t n = 10 + (writer * 7919 + seq * 104729 + i * 31) % 100;
  std::string s(n, static_cast<char>('a' + (seq + i) % 26));
  std::string tag = key_of(writer, seq, i);
  s.replace(0, std::min(tag.size(), n), tag.substr(0, n));
  return s;
}
uint32_t count_of(uint32_t writer, uint64_t seq) { return 1 + (writer + seq * 13) % 20; }

[[noreturn]] void child_main(const std::string& dir, int round, int fd) {
  LogOptions o;
  o.segment_bytes = 256 << 10;  // rolls often, so kills land in rolls too
  o.index_interval_bytes = 4096;
  auto r = LogStore::open(dir, o);
  if (!r.ok()) {
    std::fprintf(stderr, "child open: %s\n", r.status().to_string().c_str());
    _exit(2);
  }
  auto store = std::move(r).value();
  Partition* parts[2];
  for (int i = 0; i < 2; i++) {
    std::string name = "p" + std::to_string(i);
    parts[i] = store->find_partition(name);
    if (!parts[i]) parts[i] = store->create_partition(name).value();
  }
  auto worker = [&](uint32_t t) {
    uint32_t writer = static_cast<uint32_t>(round) * 2 + t;
    // Like a server: a few appends in flight per thread, so what is on disk tracks what
    // was acknowledged and kills land among writes, syncs and rolls.
    auto window = std::make_shared<std::counting_semaphore<4>>(4);
    std::vector<std::string> keys, datas;
    std::vector<RecordIn> in;
    for (uint64_t seq = 0;; seq++) {
      uint32_t n = count_of(writer, seq);
      keys.resize(n);
      datas.resize(n);
      in.resize(n);
      for (uint32_t i = 0; i < n; i++) {
        keys[i] = key_of(writer, seq, i);
        datas[i] = data_of(writer, seq, i);
        in[i] = {keys[i], datas[i]};
      }
      uint64_t pi = (seq + t) % 2;
      auto shared = std::make_shared<Ack>(Ack{0, n, writer, seq, pi});
      // The offset is known only when append returns; the callback may run before
      // that, so both sides meet through the shared state.
      auto state = std::make_shared<std::atomic<int>>(0);
      auto report = [fd, shared] {
        if (::write(fd, shared.get(), sizeof(Ack)) != sizeof(Ack)) _exit(3);
      };
      window->acquire();
      auto res = store->append(parts[pi], in, now_millis(), [shared, state, report, window](Status s) {
        if (!s.ok()) _exit(4);
        if (state->fetch_add(1) == 1) report();
        window->release();
      });
      if (!res.ok()) _exit(5);
      shared->first_offset = res->first_offset;
      if (state->fetch_add(1) == 1) report();
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  _exit(0);
}

TEST(LogCrashTest, KilledAppenderLosesNothingAcknowledged) {
  testing::TempDir d;
  uint64_t seed = std::random_device{}();
  if (const char* e = std::getenv("SL_LOG_CRASH_SEED")) seed = std::stoull(e);
  std::printf("log crash test seed: %llu (SL_LOG_CRASH_SEED to repeat)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::vector<Ack> acked;
  const int64_t deadline = mono_nanos() + 8'000'000'000LL;
  int rounds = 0;
  const int64_t t0 = mono_nanos();
  for (int round = 0; round < 12 && mono_nanos() < deadline; round++, rounds++) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_main(d.path(), round, fds[1]);
    }
    ::close(fds[1]);
    // Kill after a random number of acknowledgements: event-driven, no sleeping. On a
    // slow disk a round also ends after a second, so the test stays short.
    size_t kill_after = 1 + rng() % 1500;
    const int64_t round_end = std::min<int64_t>(deadline, mono_nanos() + 1'000'000'000LL);
    size_t got = 0;
    Ack a;
    bool child_died = false;
    while (got < kill_after && (got == 0 || mono_nanos() < round_end)) {
      ssize_t r = ::read(fds[0], &a, sizeof a);
      if (r == 0) {
        child_died = true;
        break;
      }
      ASSERT_EQ(r, static_cast<ssize_t>(sizeof a));
      acked.push_back(a);
      got++;
    }
    ::kill(pid, SIGKILL);
    // Drain what was acknowledged before the kill landed.
    for (;;) {
      ssize_t r = ::read(fds[0], &a, sizeof a);
      if (r <= 0) break;
      ASSERT_EQ(r, static_cast<ssize_t>(sizeof a));
      acked.push_back(a);
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_FALSE(child_died) << "child exited early, status " << status;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

    // Reopen and verify every acknowledged record.
    auto r = LogStore::open(d.path(), {.segment_bytes = 256 << 10, .index_interval_bytes = 4096});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    auto store = std::move(r).value();
    std::vector<testing::Rec> recs[2];
    for (int i = 0; i < 2; i++) {
      Partition* p = store->find_partition("p" + std::to_string(i));
      ASSERT_NE(p, nullptr);
      recs[i] = testing::read_all(p);
      ASSERT_EQ(recs[i].size(), p->durable_end());
      for (size_t k = 0; k < recs[i].size(); k++) ASSERT_EQ(recs[i][k].offset, k);
      for (size_t k = 1; k < recs[i].size(); k++)
        ASSERT_LE(recs[i][k - 1].arrival_ms, recs[i][k].arrival_ms);
    }
    for (const Ack& ack : acked) {
      const auto& v = recs[ack.partition];
      ASSERT_LE(ack.first_offset + ack.count, v.size())
          << "acknowledged append lost: writer " << ack.writer << " seq " << ack.seq;
      for (uint32_t i = 0; i < ack.count; i++) {
        const auto& rec = v[ack.first_offset + i];
        ASSERT_EQ(rec.key, key_of(ack.writer, ack.seq, i));
        ASSERT_EQ(rec.data, data_of(ack.writer, ack.seq, i));
      }
    }
    std::printf("round %d (%.1f s): %zu acks so far, partitions hold %zu and %zu records\n", round,
                (mono_nanos() - t0) / 1e9, acked.size(), recs[0].size(), recs[1].size());
    // New appends continue after everything recovered.
    for (int i = 0; i < 2; i++) {
      Partition* p = store->find_partition("p" + std::to_string(i));
      testing::Acks acks;
      RecordIn in[] = {{"after", "crash"}};
      auto ar = store->append(p, in, now_millis(), acks.cb());
      ASSERT_TRUE(ar.ok());
      EXPECT_EQ(ar->first_offset, recs[i].size());
      acks.wait_for(1);
      // Keep the oracle in step: this record is acknowledged too.
      acked.push_back({ar->first_offset, 0, 0, 0, static_cast<uint64_t>(i)});
    }
  }
  EXPECT_GE(rounds, 3);
  EXPECT_GT(acked.size(), 100u);
}

}  // namespace
}  // namespace sl::log
