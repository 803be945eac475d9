// LakeSink: the two-phase protocol with simulated crashes at each step, partitioning,
// rolling, changelogs, maintenance, and reading the table back through the provider.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "exec/value.h"
#include "lake/provider.h"
#include "lake/sink.h"

namespace sl::lake {
namespace {

namespace fs = std::filesystem;
using exec::DataChunk;
using exec::LogicalType;
using exec::TypeId;
using exec::Value;

constexpr int64_t kBase = 1796691900LL * 1000000;  // 2026-12-08 01:05:00 UTC

struct Dir {
  fs::path p = fs::temp_directory_path() / ("lake_sink_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  Dir() { fs::remove_all(p); }
  ~Dir() { fs::remove_all(p); }
  static inline int n = 0;
};

std::vector<parquet::Field> fields() { return {{"ts", TypeId::kTimestamp, true}, {"id", TypeId::kBigInt, true}}; }

// Rows id in [from, to), ts = kBase + id * step_us.
DataChunk rows(int from, int to, int64_t step_us = 1'000'000) {
  DataChunk c({TypeId::kTimestamp, TypeId::kBigInt}, static_cast<size_t>(std::max(1, to - from)));
  for (int i = from; i < to; i++) {
    size_t r = c.size();
    Value::make_int(TypeId::kTimestamp, kBase + i * step_us).write(c.column(0), r);
    Value::bigint(i).write(c.column(1), r);
    c.set_size(r + 1);
  }
  return c;
}

struct Env {
  Dir dir;
  ManualClock clock{kBase / 1000};
  std::shared_ptr<ObjectStore> store = std::shared_ptr<ObjectStore>(open_local_store(dir.p.string()).value());

  LakeSinkOptions options(std::vector<parquet::Field> schema = fields(), bool signed_rows = false) {
    LakeSinkOptions o;
    o.store = store;
    o.prefix = "hist/";
    o.settings.schema = std::move(schema);
    o.settings.format = FileFormat::kCsvGz;
    o.settings.time_column = "ts";
    o.clock = &clock;
    o.signed_rows = signed_rows;
    o.grace_ms = 0;
    return o;
  }
  std::unique_ptr<LakeSink> open(LakeSinkOptions o) {
    auto s = LakeSink::open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return std::move(s.value());
  }
  std::unique_ptr<LakeSink> open() { return open(options()); }
  // Ids in the table's latest snapshot, sorted (duplicates kept).
  std::vector<int64_t> ids() {
    auto t = Table::open(store, "hist", nullptr);
    EXPECT_TRUE(t.ok());
    LakeTableProvider p(std::shared_ptr<Table>(std::move(t.value())));
    std::vector<int64_t> out;
    for (auto& c : p.snapshot())
      for (size_t r = 0; r < c->size(); r++) out.push_back(c->column(1).data<int64_t>()[r]);
    std::sort(out.begin(), out.end());
    return out;
  }
  size_t data_files() {
    size_t n = 0;
    auto all = store->list("hist/");
    for (auto& o : all.value()) n += o.key.rfind("hist/_commits/", 0) != 0;
    return n;
  }
};

std::vector<int64_t> range(int from, int to) {
  std::vector<int64_t> v;
  for (int i = from; i < to; i++) v.push_back(i);
  return v;
}

TEST(LakeSink, PrepareThenCommit) {
  Env e;
  auto s = e.open();
  ASSERT_TRUE(s->recover("").ok());
  ASSERT_TRUE(s->write(rows(0, 100)).ok());
  EXPECT_TRUE(e.ids().empty());
  auto rec = s->prepare(1, "pos-1");
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(rec->empty());
  EXPECT_TRUE(e.ids().empty());  // durable but invisible
  EXPECT_EQ(e.data_files(), 2u);  // 01:05 and 01:06 partitions
  ASSERT_TRUE(s->commit(1).ok());
  EXPECT_EQ(e.ids(), range(0, 100));
  auto snap = s->table()->snapshot();
  EXPECT_EQ(snap->epoch, 1u);
  EXPECT_EQ(snap->source_positions, "pos-1");
  // Nothing written: nothing to prepare.
  EXPECT_EQ(s->prepare(2, "pos-1").value(), "");
  ASSERT_TRUE(s->commit(2).ok());
  EXPECT_EQ(s->table()->snapshot()->version, 2u);
}

// Crash after prepare, before the checkpoint holding the record: the checkpoint still
// holds the previous record; the prepared files are orphans, the rows are re-read.
TEST(LakeSink, CrashBeforeCheckpointDiscards) {
  Env e;
  std::string ckpt;
  {
    auto s = e.open();
    ASSERT_TRUE(s->recover("").ok());
    ASSERT_TRUE(s->write(rows(0, 10)).ok());
    ckpt = s->prepare(1, "10").value();
    ASSERT_TRUE(s->commit(1).ok());
    ASSERT_TRUE(s->write(rows(10, 20)).ok());
    ASSERT_TRUE(s->prepare(2, "20").ok());
    // crash: the checkpoint with epoch 2's record never became durable
  }
  EXPECT_GT(e.data_files(), 1u);
  auto s = e.open();
  ASSERT_TRUE(s->recover(ckpt).ok());
  EXPECT_EQ(e.ids(), range(0, 10));
  EXPECT_EQ(e.data_files(), 1u);  // the orphan is gone
  // The runtime re-reads from position 10.
  ASSERT_TRUE(s->write(rows(10, 20)).ok());
  ASSERT_TRUE(s->prepare(2, "20").ok());
  ASSERT_TRUE(s->commit(2).ok());
  EXPECT_EQ(e.ids(), range(0, 20));
}

// Crash after the checkpoint, before commit: recovery publishes the pending commit, once,
// even if recovery itself is cut short and runs again.
TEST(LakeSink, CrashAfterCheckpointRecommits) {
  Env e;
  std::string ckpt;
  {
    auto s = e.open();
    ASSERT_TRUE(s->recover("").ok());
    ASSERT_TRUE(s->write(rows(0, 50)).ok());
    ckpt = s->prepare(7, "50").value();
    // crash before commit(7)
  }
  EXPECT_TRUE(e.ids().empty());
  {
    auto s = e.open();
    ASSERT_TRUE(s->recover(ckpt).ok());
    EXPECT_EQ(e.ids(), range(0, 50));
  }
  {
    auto s = e.open();
    ASSERT_TRUE(s->recover(ckpt).ok());  // again: already published
    EXPECT_EQ(e.ids(), range(0, 50));
    EXPECT_EQ(s->table()->snapshot()->version, 2u);
    // Later epochs continue above it even if the runtime's epoch is lower.
    ASSERT_TRUE(s->write(rows(50, 60)).ok());
    ASSERT_TRUE(s->prepare(3, "60").ok());
    ASSERT_TRUE(s->commit(3).ok());
    EXPECT_EQ(s->table()->snapshot()->epoch, 8u);
  }
  EXPECT_EQ(e.ids(), range(0, 60));
}

// Crash after commit: the checkpoint's record is already in the lake; nothing doubles.
TEST(LakeSink, CrashAfterCommitIsIdempotent) {
  Env e;
  std::string ckpt;
  {
    auto s = e.open();
    ASSERT_TRUE(s->recover("").ok());
    ASSERT_TRUE(s->write(rows(0, 30)).ok());
    ckpt = s->prepare(1, "30").value();
    ASSERT_TRUE(s->commit(1).ok());
    ASSERT_TRUE(s->write(rows(30, 40)).ok());  // not prepared: lost with the crash
  }
  auto s = e.open();
  ASSERT_TRUE(s->recover(ckpt).ok());
  EXPECT_EQ(e.ids(), range(0, 30));
  EXPECT_EQ(s->table()->snapshot()->version, 2u);
}

// A commit that fails keeps its files pending; the next prepare carries them along.
TEST(LakeSink, FailedCommitRidesAlong) {
  Env e;
  auto s = e.open();
  ASSERT_TRUE(s->recover("").ok());
  ASSERT_TRUE(s->write(rows(0, 10)).ok());
  ASSERT_TRUE(s->prepare(1, "10").ok());
  // The commit fails for real: _commits is not writable (root ignores permissions, so
  // there the commit succeeds and the test checks only that nothing doubles).
  fs::permissions(e.dir.p / "hist" / "_commits", fs::perms::owner_read | fs::perms::owner_exec);
  bool root = ::geteuid() == 0;
  Status st = s->commit(1);
  if (!root) {
    EXPECT_FALSE(st.ok());
  }
  fs::permissions(e.dir.p / "hist" / "_commits", fs::perms::owner_all);
  ASSERT_TRUE(s->write(rows(10, 20)).ok());
  auto rec = s->prepare(2, "20");
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(s->commit(2).ok());
  EXPECT_EQ(e.ids(), range(0, 20));
}

TEST(LakeSink, ChangelogOpColumn) {
  Env e;
  auto f = fields();
  f.push_back({"op", TypeId::kVarchar, true});
  auto s = e.open(e.options(f, true));
  ASSERT_TRUE(s->recover("").ok());
  DataChunk c = rows(0, 4);
  c.set_sign(1, -1);
  ASSERT_TRUE(s->write(c).ok());
  ASSERT_TRUE(s->prepare(1, "").ok());
  ASSERT_TRUE(s->commit(1).ok());
  LakeTableProvider p(s->table());
  std::vector<std::string> ops;
  for (auto& ch : p.snapshot())
    for (size_t r = 0; r < ch->size(); r++) ops.push_back(Value::read(ch->column(2), r).s);
  EXPECT_EQ(ops, (std::vector<std::string>{"+", "-", "+", "+"}));
  // An append-only sink refuses retractions.
  Env e2;
  auto a = e2.open();
  EXPECT_EQ(a->write(c).code(), Errc::kInvalidArgument);
}

TEST(LakeSink, RollBySizeAndTime) {
  Env e;
  auto o = e.options();
  o.roll_bytes = 1;  // every write closes its file
  auto s = e.open(o);
  ASSERT_TRUE(s->recover("").ok());
  for (int i = 0; i < 5; i++) ASSERT_TRUE(s->write(rows(i * 10, i * 10 + 10, 1000)).ok());
  ASSERT_TRUE(s->prepare(1, "").ok());
  ASSERT_TRUE(s->commit(1).ok());
  EXPECT_EQ(s->table()->snapshot()->files.size(), 5u);
  auto o2 = e.options();
  o2.prefix = "t2/";
  o2.roll_us = 10'000'000;
  auto s2 = e.open(o2);
  ASSERT_TRUE(s2->write(rows(0, 10, 1000)).ok());
  e.clock.advance(11'000);
  ASSERT_TRUE(s2->write(rows(10, 20, 1000)).ok());  // rolls the file opened 11 s ago
  ASSERT_TRUE(s2->write(rows(20, 30, 1000)).ok());
  ASSERT_TRUE(s2->prepare(1, "").ok());
  ASSERT_TRUE(s2->commit(1).ok());
  EXPECT_EQ(s2->table()->snapshot()->files.size(), 2u);
  EXPECT_EQ(s2->table()->snapshot()->rows, 30);
}

TEST(LakeSink, MaintainCompactsAndRetains) {
  Env e;
  auto o = e.options();
  o.retain_us = 3600'000'000LL;  // 1 hour
  o.roll_us = 1'000'000;
  auto s = e.open(o);
  ASSERT_TRUE(s->recover("").ok());
  // Three epochs of small files in the 01:05 partition, one two hours earlier.
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(s->write(rows(i * 5, i * 5 + 5, 1000)).ok());
    ASSERT_TRUE(s->prepare(static_cast<uint64_t>(i + 1), "").ok());
    ASSERT_TRUE(s->commit(static_cast<uint64_t>(i + 1)).ok());
  }
  ASSERT_TRUE(s->write(rows(-7200, -7199)).ok());
  ASSERT_TRUE(s->prepare(4, "").ok());
  ASSERT_TRUE(s->commit(4).ok());
  EXPECT_EQ(s->table()->snapshot()->files.size(), 4u);
  e.clock.advance(10 * 60 * 1000);  // 10 minutes on: 01:05 is closed
  ASSERT_TRUE(s->maintain(true).ok());
  auto snap = s->table()->snapshot();
  EXPECT_EQ(snap->files.size(), 1u);  // the old partition retired, three merged into one
  EXPECT_EQ(e.ids(), range(0, 15));
  EXPECT_EQ(e.data_files(), 1u);  // grace 0: replaced files deleted at once
}

TEST(LakeSink, BadOptions) {
  Env e;
  auto o = e.options();
  o.settings.time_column = "nope";
  EXPECT_EQ(LakeSink::open(o).status().code(), Errc::kInvalidArgument);
  o = e.options();
  o.settings.time_column = "id";
  EXPECT_EQ(LakeSink::open(o).status().code(), Errc::kInvalidArgument);
  o = e.options();
  o.settings.partition = "yyyy/ss";
  EXPECT_EQ(LakeSink::open(o).status().code(), Errc::kInvalidArgument);
  o = e.options();
  o.settings.time_column = "arrival";
  EXPECT_TRUE(LakeSink::open(o).ok());
}

TEST(LakeProvider, TimeRangePrunes) {
  Env e;
  auto s = e.open();
  ASSERT_TRUE(s->recover("").ok());
  ASSERT_TRUE(s->write(rows(0, 600)).ok());  // ten one-minute partitions
  ASSERT_TRUE(s->prepare(1, "").ok());
  ASSERT_TRUE(s->commit(1).ok());
  LakeTableProvider p(s->table());
  catalog::TableProvider::ColumnBound ts;
  ts.column = 0;
  ts.lo = Value::make_int(TypeId::kTimestamp, kBase + 300'000'000);
  ts.hi = Value::null(TypeId::kTimestamp);
  EXPECT_EQ(p.scan_note({ts}), "lake: 5 of 10 files, 5 pruned by partition and statistics");
  auto count = [](const std::vector<std::shared_ptr<const DataChunk>>& chunks) {
    int64_t n = 0;
    for (auto& c : chunks) n += static_cast<int64_t>(c->size());
    return n;
  };
  // A superset of the rows in range: whole files (here exactly the 300 rows from 01:10).
  EXPECT_EQ(count(p.snapshot_filtered({ts})), 300);
  // By column statistics: ids 0..599, one file a minute; id <= 59 is the first file.
  catalog::TableProvider::ColumnBound id;
  id.column = 1;
  id.lo = Value::null(TypeId::kBigInt);
  id.hi = Value::bigint(59);
  EXPECT_EQ(count(p.snapshot_filtered({id})), 60);
  EXPECT_EQ(count(p.snapshot_filtered({ts, id})), 0);
  EXPECT_EQ(count(p.snapshot()), 600);
}

}  // namespace
}  // namespace sl::lake
