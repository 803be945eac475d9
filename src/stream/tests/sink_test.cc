// Lake sinks in the runtime: CREATE/SHOW/DROP SINK, feeding from stream tables and views,
// the checkpoint's two phases, crash recovery, backfill, errors.
#include "stream/tests/stream_fixture.h"

namespace sl::stream {
namespace {

class SinkTest : public StreamTest {
 protected:
  void sales_with_sink(const std::string& sink_opts = "path = 'hist', format = 'csv.gz'") {
    create_stream("sales", 2);
    sales_table();
    exec("CREATE SINK hist FROM sales WITH (" + sink_opts + ")");
  }
  void put_sales(int from, int to) {
    for (int i = from; i < to; i++) put("sales", "k" + std::to_string(i), sale(10000 + i % 7, "p" + std::to_string(i % 5), i, i));
  }
  std::string error_of(const std::string& q) {
    try {
      exec(q);
    } catch (const exec::SqlError& e) {
      return std::string(e.sqlstate()) + ": " + e.what();
    }
    return "no error";
  }
  SinkStatus sink_status(const std::string& name) {
    for (auto& s : rt_->sinks())
      if (s.name == name) return s;
    ADD_FAILURE() << "no sink " << name;
    return {};
  }
  fs::path lake() { return dir_ / "data" / "lake"; }
};

TEST_F(SinkTest, TableRowsLandAtCheckpoint) {
  sales_with_sink();
  put_sales(0, 100);
  rt_->run_until_idle();
  EXPECT_EQ(rows("SELECT count(*) FROM hist"), std::vector<std::string>{"0"});  // not committed yet
  EXPECT_EQ(sink_status("hist").pending_rows, 100);
  rt_->checkpoint();
  EXPECT_EQ(sorted(rows("SELECT * FROM hist")), sorted(rows("SELECT * FROM sales")));
  auto st = sink_status("hist");
  EXPECT_EQ(st.rows, 100);
  EXPECT_EQ(st.pending_rows, 0);
  EXPECT_EQ(st.format, "csv.gz");
  EXPECT_EQ(st.source, "sales");
  EXPECT_EQ(st.status, "running");
  EXPECT_GT(st.files, 0);
  EXPECT_GT(st.last_commit_ms, 0);
  // Partitioned by the table's event time: 100 seconds from kT0 span two or three minutes.
  EXPECT_TRUE(fs::exists(lake() / "hist" / "2023" / "11" / "14" / "22" / "13"));
  EXPECT_TRUE(fs::exists(lake() / "hist" / "_commits" / "00000000000000000002.json"));
  auto show = rows("SHOW SINKS");
  ASSERT_EQ(show.size(), 1u);
  EXPECT_EQ(show[0].rfind("hist|sales|csv.gz|file://", 0), 0u) << show[0];
  // WHERE over the sink.
  EXPECT_EQ(rows("SELECT count(*) FROM hist WHERE ts >= " + ts_sql((kT0 + 50'000) * 1000)),
            std::vector<std::string>{"50"});
  // Pushdown: rows span 22:13:20..22:14:59 (two minute partitions, one file each); the
  // 22:13 partition ends before the bound 22:14:10.
  std::string plan;
  for (auto& l : rows("EXPLAIN SELECT count(*) FROM hist WHERE ts >= " + ts_sql((kT0 + 50'000) * 1000))) plan += l + "\n";
  EXPECT_NE(plan.find("SCAN (hist; lake: 1 of 2 files, 1 pruned by partition and statistics)"), std::string::npos) << plan;
  EXPECT_EQ(rows("SELECT count(*) FROM hist WHERE " + ts_sql((kT0 + 99'000) * 1000) + " < ts"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(rows("SELECT count(*) FROM hist WHERE ts = " + ts_sql((kT0 + 7'000) * 1000) + " AND price = 7"),
            std::vector<std::string>{"1"});
}

TEST_F(SinkTest, CrashReplaysExactlyOnce) {
  sales_with_sink("path = 'hist', format = 'jsonl.gz', partition = 'yyyy-MM-dd/HH'");
  put_sales(0, 50);
  rt_->run_until_idle();
  rt_->checkpoint();
  put_sales(50, 80);
  rt_->run_until_idle();  // written to files no commit references
  crash();
  open();
  put_sales(80, 100);
  rt_->run_until_idle();
  rt_->checkpoint();
  EXPECT_EQ(sorted(rows("SELECT * FROM hist")), sorted(rows("SELECT * FROM sales")));
  EXPECT_EQ(rows("SELECT count(*) FROM hist"), std::vector<std::string>{"100"});
  // A clean restart keeps it.
  close();
  open();
  EXPECT_EQ(rows("SELECT count(*) FROM hist"), std::vector<std::string>{"100"});
  EXPECT_TRUE(fs::exists(lake() / "hist" / "2023-11-14" / "22"));
}

TEST_F(SinkTest, ViewsAppendOnlyAndChangelog) {
  create_stream("sales", 1);
  sales_table();
  exec("CREATE MATERIALIZED VIEW cheap AS SELECT product, price, ts FROM sales WHERE price < 40");
  exec("CREATE MATERIALIZED VIEW per_product AS SELECT product, count(*) AS n FROM sales GROUP BY product");
  exec("CREATE SINK cheap_lake FROM cheap WITH (path = 'cheap', format = 'csv.gz')");
  exec("CREATE SINK counts FROM per_product WITH (path = 'counts', format = 'jsonl.gz')");
  put_sales(0, 30);
  rt_->run_until_idle();
  put_sales(30, 60);  // a second round: the counts change (retract + insert)
  rt_->run_until_idle();
  rt_->checkpoint();
  EXPECT_EQ(sorted(rows("SELECT * FROM cheap_lake")), sorted(rows("SELECT * FROM cheap")));
  // The changelog: replaying + as insert and - as delete gives the view.
  auto cl = rows("SELECT product, n, op FROM counts");
  std::multiset<std::string> live;
  for (auto& r : cl) {
    std::string row = r.substr(0, r.rfind('|'));
    if (r.back() == '+') live.insert(row);
    else live.erase(live.find(row));
  }
  auto want = sorted(rows("SELECT * FROM per_product"));
  EXPECT_EQ(std::vector<std::string>(live.begin(), live.end()), want);
  EXPECT_EQ(rows("SELECT count(*) FROM counts WHERE op = '-'").at(0) != "0", true);
  // Default time columns: the view's ts; arrival for the aggregate.
  auto e = engine_->catalog().find("cheap_lake");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->options.at("time_column"), "ts");
  EXPECT_EQ(engine_->catalog().find("counts")->options.at("time_column"), "arrival");
  EXPECT_EQ(engine_->catalog().find("counts")->columns.back().name, "op");
}

TEST_F(SinkTest, BackfillAtCreate) {
  create_stream("sales", 2);
  sales_table();
  exec("CREATE MATERIALIZED VIEW cheap AS SELECT product, price, ts FROM sales WHERE price < 40");
  put_sales(0, 70);
  rt_->run_until_idle();
  rt_->checkpoint();
  exec("CREATE SINK hist FROM sales WITH (path = 'hist', format = 'csv.gz')");
  exec("CREATE SINK cheap_lake FROM cheap WITH (path = 'a/cheap', format = 'csv.gz')");
  EXPECT_EQ(rows("SELECT count(*) FROM hist"), std::vector<std::string>{"70"});
  EXPECT_EQ(sorted(rows("SELECT * FROM cheap_lake")), sorted(rows("SELECT * FROM cheap")));
  put_sales(70, 90);
  rt_->run_until_idle();
  rt_->checkpoint();
  EXPECT_EQ(sorted(rows("SELECT * FROM hist")), sorted(rows("SELECT * FROM sales")));
}

TEST_F(SinkTest, DropKeepsOrPurges) {
  sales_with_sink();
  put_sales(0, 20);
  rt_->run_until_idle();
  rt_->checkpoint();
  EXPECT_EQ(error_of("DROP TABLE sales"), "2BP01: cannot drop sales because sink hist depends on it");
  put_sales(20, 30);
  rt_->run_until_idle();
  exec("DROP SINK hist");  // commits its last rows, keeps the files
  EXPECT_FALSE(engine_->catalog().find("hist"));
  EXPECT_TRUE(fs::exists(lake() / "hist" / "_commits" / "00000000000000000003.json"));
  // Re-created on the same path: the table goes on (and is backfilled from the table).
  exec("CREATE SINK IF NOT EXISTS hist2 FROM sales WITH (path = 'hist', format = 'csv.gz')");
  EXPECT_EQ(rows("SELECT count(*) FROM hist2"), std::vector<std::string>{"60"});
  exec("DROP SINK hist2 PURGE");
  EXPECT_FALSE(fs::exists(lake() / "hist"));
  EXPECT_EQ(error_of("DROP SINK hist2"), "42704: sink \"hist2\" does not exist");
  exec("DROP SINK IF EXISTS hist2");
  exec("DROP TABLE sales");
}

TEST_F(SinkTest, Errors) {
  create_stream("sales", 1);
  sales_table();
  exec("CREATE TABLE plain (a int)");
  EXPECT_EQ(error_of("CREATE SINK s FROM nope WITH (path = 'x')"), "42P01: relation \"nope\" does not exist");
  EXPECT_EQ(error_of("CREATE SINK s FROM plain WITH (path = 'x')"),
            "42809: \"plain\" is a table; sinks read stream tables and materialized views");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales_errors WITH (path = 'x')"),
            "42809: \"sales_errors\" is an errors table; errors tables cannot be sunk");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales"), "22023: a lake sink needs a path (WITH (path = 'historical'))");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', colour = 'red')").substr(0, 40),
            "22023: option \"colour\" is not recognized");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', format = 'xml')"),
            "22023: sink format \"xml\" is not supported (parquet, csv.gz, jsonl.gz)");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', connector = 'kafka')"),
            "22023: sink connector \"kafka\" is not supported (only 'lake')");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = '../x', format = 'csv.gz')").substr(0, 30),
            "22023: lake path \"../x\" must b");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', format = 'csv.gz', compression = 'zstd')"),
            "22023: format 'csv.gz' is gzip-compressed; compression must be 'gzip' (or left out)");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', format = 'csv.gz', partition = 'yyyy/ss')").substr(0, 35),
            "22023: partition pattern \"yyyy/ss\":");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', format = 'csv.gz', time_column = 'price')"),
            "22023: time_column \"price\" must be a timestamp or a date");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', format = 'csv.gz', roll = 'often')"),
            "22023: roll \"often\" is neither a duration ('1 minute') nor a size ('128 MB')");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'x', format = 'csv.gz', retain = 'forever')"),
            "22023: retain \"forever\" is not a duration ('30 days')");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path 'x')"), "42601: expected = at or near \"x\"");
  EXPECT_EQ(error_of("CREATE SINK s sales"), "42601: expected from at or near \"sales\"");
  exec("CREATE SINK s FROM sales WITH (path = 'x', format = 'csv.gz', roll = '16 MB', retain = '30 days')");
  EXPECT_EQ(error_of("CREATE SINK s FROM sales WITH (path = 'y', format = 'csv.gz')"), "42P07: relation \"s\" already exists");
  EXPECT_EQ(error_of("CREATE SINK t FROM sales WITH (path = 'x/deeper', format = 'csv.gz')").substr(0, 41),
            "42710: lake path \"x/deeper\" overlaps the ");
  EXPECT_EQ(error_of("DROP SINK plain"), "42809: \"plain\" is not a sink");
  EXPECT_EQ(error_of("DROP TABLE s"), "42809: \"s\" is not a table");
  EXPECT_EQ(error_of("INSERT INTO s VALUES (1)").substr(0, 30), "42809: cannot insert into sink");
}

}  // namespace
}  // namespace sl::stream
