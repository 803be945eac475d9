// Local object store, gzip text files and the lake table format.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "exec/value.h"
#include "lake/data_file.h"
#include "lake/table.h"
#include "lake/text_files.h"

namespace sl::lake {
namespace {

namespace fs = std::filesystem;
using exec::DataChunk;
using exec::LogicalType;
using exec::TypeId;
using exec::Value;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("lake_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

std::shared_ptr<ObjectStore> local(const TempDir& d) {
  auto s = open_local_store(d.str());
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::shared_ptr<ObjectStore>(std::move(s.value()));
}

std::vector<parquet::Field> schema() {
  return {{"ts", TypeId::kTimestamp, true}, {"id", TypeId::kBigInt, true}, {"name", TypeId::kVarchar, true},
          {"price", LogicalType::numeric(10, 2), true}, {"ok", TypeId::kBoolean, true}};
}

// Rows i in [from, to): ts = base + i seconds, id = i, name "n<i>" (NULL every 7th),
// price i.25, ok = i odd.
DataChunk rows(int64_t base_us, int from, int to) {
  std::vector<LogicalType> types;
  for (auto& f : schema()) types.push_back(f.type);
  DataChunk c(types, static_cast<size_t>(std::max(1, to - from)));
  for (int i = from; i < to; i++) {
    size_t r = c.size();
    Value::make_int(TypeId::kTimestamp, base_us + int64_t{i} * 1000000).write(c.column(0), r);
    Value::bigint(i).write(c.column(1), r);
    (i % 7 == 0 ? Value::null(TypeId::kVarchar) : Value::text("n" + std::to_string(i) + (i % 5 == 0 ? ", \"q\"\nx" : "")))
        .write(c.column(2), r);
    Value::numeric(int64_t{i} * 100 + 25, 10, 2).write(c.column(3), r);
    Value::boolean(i % 2).write(c.column(4), r);
    c.set_size(r + 1);
  }
  return c;
}

std::vector<std::string> render(const std::vector<DataChunk>& chunks) {
  std::vector<std::string> out;
  for (auto& c : chunks)
    for (size_t r = 0; r < c.size(); r++) {
      std::string line;
      for (size_t k = 0; k < c.column_count(); k++) line += Value::read(c.column(k), r).to_string() + "|";
      out.push_back(line);
    }
  return out;
}

TEST(LocalStore, PutGetListRemove) {
  TempDir d;
  auto s = local(d);
  ASSERT_TRUE(s->put("a/b/c.txt", "hello").ok());
  ASSERT_TRUE(s->put("a/b/c.txt", "hello2").ok());
  ASSERT_TRUE(s->put("a/x.txt", "x").ok());
  ASSERT_TRUE(s->put("ab.txt", "y").ok());
  auto g = s->get("a/b/c.txt");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.value(), "hello2");
  EXPECT_EQ(s->get("nope").status().code(), Errc::kNotFound);
  auto l = s->list("a/");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].key, "a/b/c.txt");
  EXPECT_EQ((*l)[0].size, 6u);
  EXPECT_EQ((*l)[1].key, "a/x.txt");
  auto all = s->list("a");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);  // a/b/c.txt, a/x.txt, ab.txt
  auto st = s->stat("ab.txt");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 1u);
  EXPECT_EQ(s->stat("zz").status().code(), Errc::kNotFound);
  ASSERT_TRUE(s->remove("a/b/c.txt").ok());
  ASSERT_TRUE(s->remove("a/b/c.txt").ok());  // absent: OK
  EXPECT_FALSE(fs::exists(d.str() + "/a/b"));  // empty directories go
  EXPECT_EQ(s->list("a/")->size(), 1u);
  auto o = s->open("a/x.txt");
  ASSERT_TRUE(o.ok());
  std::string buf;
  EXPECT_EQ((*o)->read(0, 2, &buf).code(), Errc::kInvalidArgument);
}

TEST(LocalStore, RefusesBadKeys) {
  TempDir d;
  auto s = local(d);
  for (std::string k : {"", "/abs", "a/../b", "..", "a//b", "a/", "./a", "x.sltmp"}) {
    EXPECT_EQ(s->put(k, "x").code(), Errc::kInvalidArgument) << k;
    EXPECT_EQ(s->get(k).status().code(), Errc::kInvalidArgument) << k;
  }
  EXPECT_EQ(s->list("../").status().code(), Errc::kInvalidArgument);
}

TEST(LocalStore, PutIfAbsentRace) {
  TempDir d;
  auto s = local(d);
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; i++)
    ts.emplace_back([&, i] {
      Status st = s->put_if_absent("_commits/1.json", "writer " + std::to_string(i));
      if (st.ok()) won++;
      else if (st.code() == Errc::kAlreadyExists) lost++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 7);
  auto l = s->list("");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 1u);  // no temporary files left
}

TEST(LocalStore, WriterVisibleOnlyAfterClose) {
  TempDir d;
  auto s = local(d);
  {
    auto w = s->create("p/f.bin");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->append("abc").ok());
    EXPECT_EQ(s->stat("p/f.bin").status().code(), Errc::kNotFound);
    EXPECT_TRUE(s->list("")->empty());
    // destroyed without close: nothing left
  }
  EXPECT_TRUE(s->list("")->empty());
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(d.str())) files += e.is_regular_file();
  EXPECT_EQ(files, 0u);
  auto w = s->create("p/f.bin");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->append("abc").ok());
  ASSERT_TRUE((*w)->append("def").ok());
  EXPECT_EQ((*w)->bytes_written(), 6u);
  ASSERT_TRUE((*w)->close().ok());
  EXPECT_EQ(s->get("p/f.bin").value(), "abcdef");
}

void roundtrip(TextFormat f) {
  TempDir d;
  auto s = local(d);
  auto w = s->create("t/f.gz");
  ASSERT_TRUE(w.ok());
  TextFileWriter tw(std::move(w.value()), f, schema());
  std::vector<DataChunk> in;
  for (int b = 0; b < 5; b++) in.push_back(rows(1'700'000'000'000'000, b * 1000, b * 1000 + 1000));
  for (auto& c : in) ASSERT_TRUE(tw.write(c).ok());
  auto sum = tw.finish();
  ASSERT_TRUE(sum.ok()) << sum.status().to_string();
  EXPECT_EQ(sum->rows, 5000);
  EXPECT_EQ(sum->columns[1].min.i, 0);
  EXPECT_EQ(sum->columns[1].max.i, 4999);
  EXPECT_EQ(sum->columns[2].null_count, 715);
  EXPECT_EQ(sum->columns[0].min.i, 1'700'000'000'000'000);
  std::vector<DataChunk> out;
  Status st = scan_data_file(*s, "t/f.gz", f == TextFormat::kCsv ? FileFormat::kCsvGz : FileFormat::kJsonlGz, schema(),
                             {0, 1, 2, 3, 4}, {}, [&](DataChunk& c) {
                               out.push_back(std::move(c));
                               return Status::OK();
                             });
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(render(out), render(in));
  // A projection, in another order.
  std::vector<DataChunk> proj;
  ASSERT_TRUE(scan_data_file(*s, "t/f.gz", f == TextFormat::kCsv ? FileFormat::kCsvGz : FileFormat::kJsonlGz, schema(),
                             {1, 1}, {}, [&](DataChunk& c) {
                               proj.push_back(std::move(c));
                               return Status::OK();
                             })
                  .ok());
  EXPECT_EQ(render(proj).size(), 5000u);
  EXPECT_EQ(render(proj)[42], "42|42|");
}

TEST(TextFiles, CsvRoundTrip) { roundtrip(TextFormat::kCsv); }
TEST(TextFiles, JsonLinesRoundTrip) { roundtrip(TextFormat::kJsonLines); }

TEST(TextFiles, EmptyAndCorrupt) {
  TempDir d;
  auto s = local(d);
  {
    TextFileWriter tw(std::move(s->create("e.csv.gz").value()), TextFormat::kCsv, schema());
    ASSERT_TRUE(tw.finish().ok());
  }
  int n = 0;
  ASSERT_TRUE(scan_data_file(*s, "e.csv.gz", FileFormat::kCsvGz, schema(), {0}, {}, [&](DataChunk& c) {
                n += static_cast<int>(c.size());
                return Status::OK();
              }).ok());
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(s->put("bad.csv.gz", "this is not gzip at all").ok());
  Status st = scan_data_file(*s, "bad.csv.gz", FileFormat::kCsvGz, schema(), {0}, {},
                             [&](DataChunk&) { return Status::OK(); });
  EXPECT_EQ(st.code(), Errc::kCorruption);
  EXPECT_NE(st.message().find("bad.csv.gz"), std::string::npos) << st.message();
  // Truncated.
  {
    TextFileWriter tw(std::move(s->create("t.csv.gz").value()), TextFormat::kCsv, schema());
    ASSERT_TRUE(tw.write(rows(0, 0, 2000)).ok());
    ASSERT_TRUE(tw.finish().ok());
  }
  std::string all = s->get("t.csv.gz").value();
  ASSERT_TRUE(s->put("t.csv.gz", all.substr(0, all.size() / 2)).ok());
  st = scan_data_file(*s, "t.csv.gz", FileFormat::kCsvGz, schema(), {0}, {}, [&](DataChunk&) { return Status::OK(); });
  EXPECT_EQ(st.code(), Errc::kCorruption) << st.to_string();
}

TEST(Partition, Patterns) {
  auto p = PartitionPattern::parse("yyyy/MM/dd/HH/mm");
  ASSERT_TRUE(p.ok());
  // 2026-12-08 01:05:30 UTC
  int64_t t = 1796691930LL * 1000000;
  EXPECT_EQ(p->format(t), "2026/12/08/01/05");
  int64_t a, b;
  ASSERT_TRUE(p->range("2026/12/08/01/05", &a, &b));
  EXPECT_EQ(a, 1796691900LL * 1000000);
  EXPECT_EQ(b - a, 60'000'000);
  auto q = PartitionPattern::parse("yyyy-MM-dd");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->format(t), "2026-12-08");
  ASSERT_TRUE(q->range("2026-12-08", &a, &b));
  EXPECT_EQ(b - a, 86'400'000'000);
  EXPECT_FALSE(q->range("2026/12/08", &a, &b));
  auto m = PartitionPattern::parse("yyyy/MM");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->range("2026/12", &a, &b));
  EXPECT_EQ(m->format(b), "2027/01");
  EXPECT_EQ(PartitionPattern::parse("yyyy/MM/").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(PartitionPattern::parse("yyyy//MM").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(PartitionPattern::parse("yyyy/yyyy").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(PartitionPattern::parse("YYYY").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(PartitionPattern::parse("").status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(PartitionPattern::parse("yyyy/MM/dd/HH/mm/ss").status().code(), Errc::kInvalidArgument);
  // Before 1970.
  EXPECT_EQ(p->format(-1), "1969/12/31/23/59");
}

TableSettings settings(FileFormat f = FileFormat::kCsvGz) {
  TableSettings s;
  s.schema = schema();
  s.format = f;
  s.partition = "yyyy/MM/dd/HH/mm";
  s.time_column = "ts";
  return s;
}

// Writes rows [from, to) as one file in the partition of base_us and returns it.
DataFile write_file(Table& t, int64_t base_us, int from, int to) {
  PartitionPattern p = PartitionPattern::parse(t.snapshot()->settings.partition).value();
  DataFile f;
  f.partition = p.format(base_us);
  f.path = t.new_file_path(f.partition, "t");
  DataFileOptions o;
  o.format = t.snapshot()->settings.format;
  auto w = open_data_file_writer(t.store(), t.key_of(f.path), t.snapshot()->settings.schema, o);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->write(rows(base_us, from, to)).ok());
  auto sum = (*w)->finish();
  EXPECT_TRUE(sum.ok());
  f.rows = sum->rows;
  f.bytes = sum->file_bytes;
  f.columns = sum->columns;
  f.min_time_us = sum->columns[0].min.i;
  f.max_time_us = sum->columns[0].max.i;
  return f;
}

std::vector<std::string> read_table(Table& t) {
  std::vector<DataChunk> out;
  auto s = t.snapshot();
  for (auto& [p, f] : s->files)
    EXPECT_TRUE(scan_data_file(t.store(), t.key_of(p), s->settings.format, s->settings.schema, {0, 1, 2, 3, 4}, {},
                               [&](DataChunk& c) {
                                 out.push_back(std::move(c));
                                 return Status::OK();
                               })
                    .ok());
  auto r = render(out);
  std::sort(r.begin(), r.end());
  return r;
}

TEST(Table, CreateCommitReplay) {
  TempDir d;
  auto store = local(d);
  EXPECT_EQ(Table::open(store, "hist", nullptr).status().code(), Errc::kNotFound);
  auto ts = settings();
  auto t = Table::open(store, "hist", &ts);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ((*t)->snapshot()->version, 1u);
  int64_t base = 1796691900LL * 1000000;
  CommitSpec c;
  c.added.push_back(write_file(**t, base, 0, 100));
  c.added.push_back(write_file(**t, base + 60'000'000, 100, 150));
  c.epoch = 7;
  c.source_positions = R"({"shard-0": 150})";
  auto n = (*t)->commit(c);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n.value(), 2u);
  EXPECT_TRUE(store->stat("hist/_commits/00000000000000000002.json").ok());
  // Another reader replays both commits.
  auto r = Table::open(store, "hist/", nullptr);
  ASSERT_TRUE(r.ok());
  auto s = (*r)->snapshot();
  EXPECT_EQ(s->version, 2u);
  EXPECT_EQ(s->rows, 150);
  EXPECT_EQ(s->files.size(), 2u);
  EXPECT_EQ(s->epoch, 7u);
  EXPECT_EQ(s->source_positions, R"({"shard-0": 150})");
  EXPECT_EQ(s->settings.schema.size(), 5u);
  EXPECT_EQ(s->settings.schema[3].type, LogicalType::numeric(10, 2));
  auto& f = s->files.begin()->second;
  EXPECT_EQ(f.partition, "2026/12/08/01/05");
  EXPECT_EQ(f.path.rfind("2026/12/08/01/05/part-", 0), 0u) << f.path;
  EXPECT_EQ(f.columns[1].min.i, 0);
  EXPECT_EQ(f.columns[1].max.i, 99);
  EXPECT_EQ(f.columns[2].null_count, 15);
  EXPECT_EQ(read_table(**r).size(), 150u);
  // A different schema is refused.
  auto other = settings();
  other.schema.pop_back();
  EXPECT_EQ(Table::open(store, "hist", &other).status().code(), Errc::kInvalidArgument);
}

TEST(Table, CommitRaceBothLand) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  auto a = Table::open(store, "t", &ts).value();
  auto b = Table::open(store, "t", &ts).value();
  int64_t base = 1796691900LL * 1000000;
  CommitSpec ca, cb;
  ca.added.push_back(write_file(*a, base, 0, 10));
  cb.added.push_back(write_file(*b, base, 10, 30));
  // Both think the next commit is 2; b loses the put_if_absent and lands as 3.
  ASSERT_EQ(a->commit(ca).value(), 2u);
  ASSERT_EQ(b->commit(cb).value(), 3u);
  EXPECT_EQ(b->snapshot()->rows, 30);
  EXPECT_EQ(a->refresh().value()->rows, 30);
  // The raw primitive: commit 3 exists, so writing it again is kAlreadyExists.
  EXPECT_EQ(store->put_if_absent("t/_commits/00000000000000000003.json", "{}").code(), Errc::kAlreadyExists);
  // Threads racing.
  std::vector<std::thread> th;
  std::vector<DataFile> files;
  for (int i = 0; i < 6; i++) files.push_back(write_file(*a, base, 100 + i * 10, 110 + i * 10));
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; i++)
    th.emplace_back([&, i] {
      auto t = Table::open(store, "t", nullptr).value();
      CommitSpec c;
      c.added.push_back(files[i]);
      if (t->commit(c).ok()) ok++;
    });
  for (auto& x : th) x.join();
  EXPECT_EQ(ok.load(), 6);
  auto s = a->refresh().value();
  EXPECT_EQ(s->version, 9u);
  EXPECT_EQ(s->rows, 90);
}

TEST(Table, OrphansRemoved) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  auto t = Table::open(store, "t", &ts).value();
  int64_t base = 1796691900LL * 1000000;
  CommitSpec c;
  c.added.push_back(write_file(*t, base, 0, 10));
  ASSERT_TRUE(t->commit(c).ok());
  DataFile orphan = write_file(*t, base, 10, 20);  // written, never committed (a crash)
  DataFile kept = write_file(*t, base, 20, 30);    // a pending commit's file
  ASSERT_TRUE(store->put("t/_tmp/leftover.csv.gz", "x").ok());
  auto n = t->remove_orphans({kept.path}, 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 2u);
  EXPECT_EQ(store->stat(t->key_of(orphan.path)).status().code(), Errc::kNotFound);
  EXPECT_TRUE(store->stat(t->key_of(kept.path)).ok());
  EXPECT_EQ(read_table(*t).size(), 10u);
}

TEST(Table, CompactionAndGrace) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  auto t = Table::open(store, "t", &ts).value();
  int64_t base = 1796691900LL * 1000000;
  for (int i = 0; i < 5; i++) {
    CommitSpec c;
    c.added.push_back(write_file(*t, base, i * 10, i * 10 + 10));
    c.epoch = static_cast<uint64_t>(i + 1);
    ASSERT_TRUE(t->commit(c).ok());
  }
  CommitSpec open_part;
  open_part.added.push_back(write_file(*t, base + 3600'000'000LL, 50, 60));
  open_part.added.push_back(write_file(*t, base + 3600'000'000LL, 60, 70));
  ASSERT_TRUE(t->commit(open_part).ok());
  auto before = read_table(*t);
  CompactionOptions co;
  co.closed_after_us = 60'000'000;
  // "now" is 30 minutes after base: the first partition is closed, the second is not.
  auto n = t->compact(co, base + 1800'000'000LL);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n.value(), 5u);
  auto s = t->snapshot();
  EXPECT_EQ(s->files.size(), 3u);
  EXPECT_EQ(s->rows, 70);
  EXPECT_EQ(s->epoch, 5u);
  EXPECT_EQ(read_table(*t), before);
  EXPECT_EQ(s->removed.size(), 5u);
  // The replaced files left the partition tree at once (a glob over it counts every row
  // once) and wait in the trash during the grace period, then go.
  EXPECT_EQ(store->list("t/2026/12/08/01/05/")->size(), 1u);
  EXPECT_EQ(store->list("t/_trash/2026/12/08/01/05/")->size(), 5u);
  // A crash between the commit and the move leaves a replaced file in the tree: the next
  // cleanup moves it to the trash.
  std::string back = store->list("t/_trash/2026/12/08/01/05/")->front().key;
  std::string original = "t/" + back.substr(std::string("t/_trash/").size());
  ASSERT_TRUE(store->put(original, store->get(back).value()).ok());
  ASSERT_TRUE(store->remove(back).ok());
  auto kept = t->remove_orphans({}, 3600'000);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept.value(), 0u);
  EXPECT_EQ(store->list("t/2026/12/08/01/05/")->size(), 1u);
  EXPECT_EQ(store->list("t/_trash/2026/12/08/01/05/")->size(), 5u);
  auto gone = t->remove_orphans({}, 0);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone.value(), 5u);
  EXPECT_EQ(store->list("t/2026/12/08/01/05/")->size(), 1u);
  EXPECT_EQ(store->list("t/_trash/")->size(), 0u);
  EXPECT_EQ(read_table(*t), before);
  // Nothing left to compact.
  EXPECT_EQ(t->compact(co, base + 1800'000'000LL).value(), 0u);
}

TEST(Table, Retention) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  auto t = Table::open(store, "t", &ts).value();
  int64_t day = 86'400'000'000LL;
  int64_t base = 1796691900LL * 1000000;
  for (int i = 0; i < 4; i++) {
    CommitSpec c;
    c.added.push_back(write_file(*t, base - i * 10 * day, i * 10, i * 10 + 5));
    ASSERT_TRUE(t->commit(c).ok());
  }
  // retain 15 days: the partitions 20 and 30 days old go, as one commit.
  auto n = t->apply_retention(15 * day, base);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 2u);
  auto s = t->snapshot();
  EXPECT_EQ(s->files.size(), 2u);
  EXPECT_EQ(s->version, 6u);
  EXPECT_EQ(t->apply_retention(15 * day, base).value(), 0u);
}

TEST(Table, CorruptCommitIsAnError) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  ASSERT_TRUE(Table::open(store, "t", &ts).ok());
  ASSERT_TRUE(store->put("t/_commits/00000000000000000002.json", "{not json").ok());
  auto r = Table::open(store, "t", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kCorruption);
  EXPECT_NE(r.status().message().find("00000000000000000002.json"), std::string::npos);
  ASSERT_TRUE(store->put("t/_commits/00000000000000000002.json",
                         R"({"format":"streamlake-lake","version":99,"commit":2})")
                  .ok());
  r = Table::open(store, "t", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version 99"), std::string::npos);
}

TEST(Table, SnapshotFilesEvery100Commits) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  auto t = Table::open(store, "t", &ts).value();
  for (int i = 2; i <= 205; i++) {
    CommitSpec c;
    DataFile f;
    f.path = "2026/12/08/01/05/f" + std::to_string(i) + ".csv.gz";
    f.partition = "2026/12/08/01/05";
    f.rows = i;
    f.bytes = 10;
    c.added.push_back(f);
    if (i % 3 == 0) c.removed.push_back("2026/12/08/01/05/f" + std::to_string(i - 1) + ".csv.gz");
    c.epoch = static_cast<uint64_t>(i);
    c.source_positions = "p" + std::to_string(i);
    ASSERT_EQ(t->commit(c).value(), static_cast<uint64_t>(i));
  }
  EXPECT_TRUE(store->stat("t/_commits/00000000000000000100.snapshot.json").ok());
  EXPECT_TRUE(store->stat("t/_commits/00000000000000000200.snapshot.json").ok());
  auto want = t->snapshot();
  // Without the commits the snapshot covers, a reader still opens the table: it starts
  // from the newest snapshot file.
  for (int i = 1; i <= 200; i++) {
    char key[64];
    std::snprintf(key, sizeof key, "t/_commits/%020d.json", i);
    ASSERT_TRUE(store->remove(key).ok());
  }
  auto r = Table::open(store, "t", nullptr);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  auto got = (*r)->snapshot();
  EXPECT_EQ(got->version, 205u);
  EXPECT_EQ(got->rows, want->rows);
  EXPECT_EQ(got->files.size(), want->files.size());
  EXPECT_EQ(got->removed.size(), want->removed.size());
  EXPECT_EQ(got->epoch, 205u);
  EXPECT_EQ(got->source_positions, "p205");
  EXPECT_EQ(got->settings.schema.size(), 5u);
  EXPECT_EQ(got->files.at("2026/12/08/01/05/f150.csv.gz").commit, 150u);
  // A corrupt snapshot file is an error naming it.
  ASSERT_TRUE(store->put("t/_commits/00000000000000000200.snapshot.json", "{").ok());
  auto bad = Table::open(store, "t", nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("00000000000000000200.snapshot.json"), std::string::npos);
}

// A stored sample of format version 1 (as docs/lake.md describes it) reads back.
TEST(Table, StoredSampleVersion1) {
  TempDir d;
  auto store = local(d);
  ASSERT_TRUE(store->put("s/_commits/00000000000000000001.json", R"J({
 "format": "streamlake-lake", "version": 1, "commit": 1, "operation": "create",
 "timestamp_ms": 1796691900000, "epoch": 0, "source_positions": "", "added": [], "removed": [],
 "table": {"schema": [
   {"name": "ts", "type": "timestamp without time zone", "type_id": 11, "precision": 0, "scale": 0, "nullable": true},
   {"name": "id", "type": "bigint", "type_id": 4, "precision": 0, "scale": 0, "nullable": false},
   {"name": "price", "type": "numeric(10,2)", "type_id": 7, "precision": 10, "scale": 2, "nullable": true},
   {"name": "name", "type": "text", "type_id": 8, "precision": 0, "scale": 0, "nullable": true}],
  "file_format": "csv.gz", "partition": "yyyy/MM/dd/HH/mm", "time_column": "ts"}})J")
                  .ok());
  ASSERT_TRUE(store->put("s/_commits/00000000000000000002.json", R"J({
 "format": "streamlake-lake", "version": 1, "commit": 2, "operation": "append",
 "timestamp_ms": 1796691930123, "epoch": 7,
 "source_positions": "{\"sales\": {\"shardId-000000000000\": 1234}}",
 "added": [{"path": "2026/12/08/01/05/part-a.csv.gz", "partition": "2026/12/08/01/05", "rows": 2, "bytes": 99,
            "min_time_us": 1796691900000000, "max_time_us": 1796691959000000,
            "columns": [{"null_count": 0, "min": 1796691900000000, "max": 1796691959000000},
                        {"null_count": 0, "min": 1, "max": 2},
                        {"null_count": 1},
                        {"null_count": 0, "min": "a", "max": "b"}]}],
 "removed": []})J")
                  .ok());
  auto t = Table::open(store, "s", nullptr);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto s = (*t)->snapshot();
  EXPECT_EQ(s->version, 2u);
  EXPECT_EQ(s->epoch, 7u);
  EXPECT_EQ(s->rows, 2);
  ASSERT_EQ(s->settings.schema.size(), 4u);
  EXPECT_EQ(s->settings.schema[2].type, LogicalType::numeric(10, 2));
  EXPECT_FALSE(s->settings.schema[1].nullable);
  EXPECT_EQ(s->settings.format, FileFormat::kCsvGz);
  auto& f = s->files.at("2026/12/08/01/05/part-a.csv.gz");
  EXPECT_EQ(f.columns[1].max.i, 2);
  EXPECT_FALSE(f.columns[2].has_min_max);
  EXPECT_EQ(f.columns[3].min.s, "a");
  EXPECT_EQ(f.min_time_us, 1796691900000000);
}

TEST(Table, Purge) {
  TempDir d;
  auto store = local(d);
  auto ts = settings();
  auto t = Table::open(store, "t", &ts).value();
  CommitSpec c;
  c.added.push_back(write_file(*t, 1796691900LL * 1000000, 0, 10));
  ASSERT_TRUE(t->commit(c).ok());
  ASSERT_TRUE(store->put("other/keep.txt", "x").ok());
  ASSERT_TRUE(t->purge().ok());
  EXPECT_TRUE(store->list("t/")->empty());
  EXPECT_EQ(store->list("")->size(), 1u);
}

TEST(Durations, Parse) {
  int64_t us;
  ASSERT_TRUE(parse_duration("1 minute", &us));
  EXPECT_EQ(us, 60'000'000);
  ASSERT_TRUE(parse_duration("30 days", &us));
  EXPECT_EQ(us, 30 * 86'400'000'000LL);
  ASSERT_TRUE(parse_duration("250 milliseconds", &us));
  EXPECT_EQ(us, 250'000);
  EXPECT_FALSE(parse_duration("soon", &us));
  EXPECT_FALSE(parse_duration("5 fortnights", &us));
  uint64_t b;
  ASSERT_TRUE(parse_byte_size("128 MB", &b));
  EXPECT_EQ(b, 128u << 20);
  EXPECT_FALSE(parse_byte_size("12 XB", &b));
}

}  // namespace
}  // namespace sl::lake
