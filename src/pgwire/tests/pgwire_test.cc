// PgServer end to end in process: the real sql::Engine on a temporary data directory, a
// hand-written protocol client (pg_client.h) on 127.0.0.1.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "pgwire/pg_server.h"
#include "pgwire/tests/pg_client.h"
#include "sql/engine.h"

namespace sl::pgwire {
namespace {

using pgtest::PgClient;
using pgtest::QueryOutcome;

class PgWireTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server({}); }
  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start_server(PgServerOptions o) {
    if (server_) server_->stop();
    server_.reset();
    if (!engine_) {
      char tmpl[] = "/tmp/pgwire_test_XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      engine_ = sql::Engine::open(dir_);
    }
    o.host = "127.0.0.1";
    o.port = 0;
    auto s = PgServer::start(o, engine_.get(), [](std::string_view u) -> std::optional<PgUser> {
      if (u == "admin") return PgUser{"admin", "adminpw", "admin"};
      if (u == "writer") return PgUser{"writer", "writerpw", "writer"};
      if (u == "reader") return PgUser{"reader", "readerpw", "reader"};
      return std::nullopt;
    });
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    server_ = std::move(s).value();
  }

  std::unique_ptr<PgClient> login(const std::string& user = "admin", const std::string& pw = "") {
    auto c = std::make_unique<PgClient>();
    EXPECT_TRUE(c->connect(server_->port()));
    auto err = c->login(user, pw.empty() ? user + "pw" : pw);
    EXPECT_TRUE(err.empty()) << err['M'];
    return c;
  }

  std::string dir_;
  std::unique_ptr<sql::Engine> engine_;
  std::unique_ptr<PgServer> server_;
};

TEST_F(PgWireTest, StartupReportsParametersAndKey) {
  auto c = login();
  EXPECT_EQ(c->params["server_version"], "15.0 (streamlake)");
  EXPECT_EQ(c->params["server_encoding"], "UTF8");
  EXPECT_EQ(c->params["client_encoding"], "UTF8");
  EXPECT_EQ(c->params["DateStyle"], "ISO, MDY");
  EXPECT_EQ(c->params["TimeZone"], "UTC");
  EXPECT_EQ(c->params["integer_datetimes"], "on");
  EXPECT_EQ(c->params["standard_conforming_strings"], "on");
  EXPECT_EQ(c->params["application_name"], "pgwire_test");
  EXPECT_NE(c->pid, 0);
}

TEST_F(PgWireTest, WrongPasswordAndUnknownUserAreRefused) {
  for (auto [u, p] : {std::pair<std::string, std::string>{"admin", "nope"}, {"mallory", "x"}}) {
    PgClient c;
    ASSERT_TRUE(c.connect(server_->port()));
    auto err = c.login(u, p);
    EXPECT_EQ(err['C'], "28P01") << u;
    EXPECT_EQ(err['S'], "FATAL");
    EXPECT_TRUE(c.closed_by_server());
  }
}

TEST_F(PgWireTest, SimpleQueryRoundTrip) {
  auto c = login();
  auto r = c->query("CREATE TABLE t (id int, name text, price double precision, ok boolean, big bigint)");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  EXPECT_EQ(r.tags, std::vector<std::string>{"CREATE TABLE"});
  EXPECT_EQ(r.ready, 'I');
  r = c->query("INSERT INTO t VALUES (1, 'a', 1.5, true, 10000000000), (2, NULL, -2.25, false, -1)");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  EXPECT_EQ(r.tags, std::vector<std::string>{"INSERT 0 2"});
  r = c->query("SELECT id, name, price, ok, big FROM t ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  ASSERT_EQ(r.fields.size(), 5u);
  EXPECT_EQ(r.fields[0].name, "id");
  EXPECT_EQ(r.fields[0].type_oid, 23);
  EXPECT_EQ(r.fields[0].typlen, 4);
  EXPECT_EQ(r.fields[1].type_oid, 25);
  EXPECT_EQ(r.fields[2].type_oid, 701);
  EXPECT_EQ(r.fields[3].type_oid, 16);
  EXPECT_EQ(r.fields[4].type_oid, 20);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(*r.rows[0][0], "1");
  EXPECT_EQ(*r.rows[0][1], "a");
  EXPECT_EQ(*r.rows[0][2], "1.5");
  EXPECT_EQ(*r.rows[0][3], "t");
  EXPECT_EQ(*r.rows[0][4], "10000000000");
  EXPECT_FALSE(r.rows[1][1].has_value());
  EXPECT_EQ(*r.rows[1][3], "f");
  EXPECT_EQ(r.tags, std::vector<std::string>{"SELECT 2"});
}

TEST_F(PgWireTest, SeveralStatementsAndEmptyQuery) {
  auto c = login();
  auto r = c->query("SELECT 1 AS a; SELECT 2 AS b, 3 AS c");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  EXPECT_EQ(r.tags, (std::vector<std::string>{"SELECT 1", "SELECT 1"}));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(*r.rows[1][1], "3");
  r = c->query("");
  EXPECT_EQ(r.types, (std::vector<char>{'I', 'Z'}));
  r = c->query(" ; -- nothing\n");
  EXPECT_EQ(r.types, (std::vector<char>{'I', 'Z'}));
}

TEST_F(PgWireTest, ErrorsCarrySqlstateAndPosition) {
  auto c = login();
  auto r = c->query("SELECT * FROM missing_table");
  EXPECT_EQ(r.code(), "42P01");
  EXPECT_EQ(r.error['S'], "ERROR");
  EXPECT_EQ(r.error['V'], "ERROR");
  EXPECT_EQ(r.error['P'], "15");
  EXPECT_EQ(r.ready, 'I');
  // Position is relative to the whole query string, and later statements do not run.
  r = c->query("SELECT 1; SELECT * FROM missing_table; SELECT 2");
  EXPECT_EQ(r.code(), "42P01");
  EXPECT_EQ(r.error['P'], "25");
  EXPECT_EQ(r.tags, std::vector<std::string>{"SELECT 1"});
  r = c->query("SELECT 1/0");
  EXPECT_EQ(r.code(), "22012");
  r = c->query("SELEC 1");
  EXPECT_EQ(r.code(), "42601");
  // The connection is still usable.
  r = c->query("SELECT 7");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r.rows[0][0], "7");
}

TEST_F(PgWireTest, ExtendedQueryWithParametersAndBinaryResults) {
  auto c = login();
  ASSERT_TRUE(c->query("CREATE TABLE p (id int, name text, d date, v double precision)").ok());
  ASSERT_TRUE(c->query("INSERT INTO p VALUES (1, 'one', DATE '2024-01-02', 0.5), (2, 'two', DATE '1999-12-31', 2)").ok());
  c->parse("s1", "SELECT id, name, d, v FROM p WHERE id = $1");
  c->describe('S', "s1");
  c->bind("", "s1", {std::string("2")}, {0}, {1});
  c->describe('P', "");
  c->execute("");
  c->sync();
  QueryOutcome r = c->collect();
  ASSERT_TRUE(r.ok()) << r.error['M'];
  EXPECT_EQ(r.types, (std::vector<char>{'1', 't', 'T', '2', 'T', 'D', 'C', 'Z'}));
  ASSERT_EQ(r.rows.size(), 1u);
  ASSERT_EQ(r.fields.size(), 4u);
  EXPECT_EQ(r.fields[0].format, 1);
  EXPECT_EQ(r.fields[2].type_oid, 1082);
  const auto& row = r.rows[0];
  ASSERT_EQ(row[0]->size(), 4u);
  EXPECT_EQ(load_be32(row[0]->data()), 2);
  EXPECT_EQ(*row[1], "two");
  ASSERT_EQ(row[2]->size(), 4u);
  EXPECT_EQ(load_be32(row[2]->data()), -1);  // 1999-12-31 is day -1 of the PostgreSQL epoch
  ASSERT_EQ(row[3]->size(), 8u);
  uint64_t bits = (uint64_t(uint32_t(load_be32(row[3]->data()))) << 32) | uint32_t(load_be32(row[3]->data() + 4));
  double d;
  std::memcpy(&d, &bits, 8);
  EXPECT_EQ(d, 2.0);
  EXPECT_EQ(r.tags, std::vector<std::string>{"SELECT 1"});

  // Binary parameter with a declared type.
  c->parse("s2", "SELECT name FROM p WHERE id = $1", {23});
  std::string one;
  append_be32(one, 1);
  c->bind("", "s2", {one}, {1});
  c->execute("");
  c->sync();
  r = c->collect();
  ASSERT_TRUE(r.ok()) << r.error['M'];
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(*r.rows[0][0], "one");
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    o.push_back(d[c >> 4]);
    o.push_back(d[c & 15]);
  }
  return o;
}

TEST_F(PgWireTest, AllTypesInTextAndBinary) {
  auto c = login();
  const std::string q =
      "SELECT true, CAST(1 AS smallint), 2, CAST(3 AS bigint), CAST(1.5 AS real), CAST(2.5 AS double precision), "
      "CAST(12.34 AS numeric(5,2)), CAST('x' AS text), CAST('y' AS varchar), DATE '2000-01-02', "
      "TIMESTAMP '2000-01-01 00:00:01', TIMESTAMPTZ '2000-01-01 00:00:00+00', INTERVAL '1 day', "
      "CAST('\\x0102' AS bytea)";
  struct Want {
    int32_t oid;
    std::string text, binary_hex;
  };
  const std::vector<Want> want = {
      {16, "t", "01"},
      {21, "1", "0001"},
      {23, "2", "00000002"},
      {20, "3", "0000000000000003"},
      {700, "1.5", "3fc00000"},
      {701, "2.5", "4004000000000000"},
      {1700, "12.34", "0002000000000002000c0d48"},
      {25, "x", "78"},
      {25, "y", "79"},
      {1082, "2000-01-02", "00000001"},
      {1114, "2000-01-01 00:00:01", "00000000000f4240"},
      {1184, "2000-01-01 00:00:00+00", "0000000000000000"},
      {1186, "1 day", "00000000000000000000000100000000"},
      {17, "\\x0102", "0102"},
  };
  for (int16_t fmt : {0, 1}) {
    c->parse("", q);
    c->bind("", "", {}, {}, {fmt});
    c->describe('P', "");
    c->execute("");
    c->sync();
    auto r = c->collect();
    ASSERT_TRUE(r.ok()) << r.error['M'];
    ASSERT_EQ(r.fields.size(), want.size());
    ASSERT_EQ(r.rows.size(), 1u);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(r.fields[i].type_oid, want[i].oid) << i;
      EXPECT_EQ(r.fields[i].format, fmt) << i;
      ASSERT_TRUE(r.rows[0][i]) << i;
      if (fmt == 0) EXPECT_EQ(*r.rows[0][i], want[i].text) << i;
      else EXPECT_EQ(hex(*r.rows[0][i]), want[i].binary_hex) << i;
    }
  }
  // numeric(5,2) carries its typmod.
  auto r = c->query("SELECT CAST(1 AS numeric(5,2))");
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].typmod, (5 << 16 | 2) + 4);
}

TEST_F(PgWireTest, DescribeCloseFlushAndDeclaredTypes) {
  auto c = login();
  // A declared int4 parameter in binary where the engine infers bigint: converted, not misread.
  c->parse("s", "SELECT CAST($1 AS bigint) + 1 AS v", {23});
  c->describe('S', "s");
  std::string seven;
  append_be32(seven, 7);
  c->bind("p", "s", {seven}, {1});
  c->execute("p");
  c->send('H', "");  // Flush: results arrive without Sync
  std::vector<char> types;
  std::optional<std::string> v;
  while (types.empty() || types.back() != 'C') {
    auto m = c->read();
    ASSERT_TRUE(m);
    types.push_back(m->type);
    if (m->type == 't') {
      Reader r(m->body);
      int16_t n;
      int32_t oid;
      ASSERT_TRUE(r.int16(&n) && n == 1 && r.int32(&oid));
      EXPECT_EQ(oid, 23);  // the declared type wins in ParameterDescription
    }
    if (m->type == 'D') v = pgtest::parse_data_row(m->body)[0];
  }
  EXPECT_EQ(types, (std::vector<char>{'1', 't', 'T', '2', 'D', 'C'}));
  EXPECT_EQ(v, "8");
  c->send('C', std::string("S") + "s" + '\0');
  c->sync();
  auto r = c->collect();
  EXPECT_EQ(r.types, (std::vector<char>{'3', 'Z'}));
  // Closed statement is gone; Describe of a missing portal errors.
  c->describe('S', "s");
  c->sync();
  EXPECT_EQ(c->collect().code(), "26000");
  c->describe('P', "nope");
  c->sync();
  EXPECT_EQ(c->collect().code(), "34000");
  // Statements without rows describe as NoData; an empty query executes as EmptyQueryResponse.
  c->parse("", "");
  c->describe('S', "");
  c->bind("", "", {});
  c->execute("");
  c->sync();
  r = c->collect();
  EXPECT_EQ(r.types, (std::vector<char>{'1', 't', 'n', '2', 'I', 'Z'}));
}

TEST_F(PgWireTest, GssEncRequestAndOldProtocolVersion) {
  {
    PgClient c;
    ASSERT_TRUE(c.connect(server_->port()));
    std::string gss;
    append_be32(gss, 8);
    append_be32(gss, kGssEncRequestCode);
    c.send_raw(gss);
    EXPECT_EQ(c.read_byte(), 'N');
    EXPECT_TRUE(c.login("admin", "adminpw").empty());
  }
  {
    PgClient c;
    ASSERT_TRUE(c.connect(server_->port()));
    std::string v2;
    append_be32(v2, 9);
    append_be32(v2, 2 << 16);
    v2.push_back('\0');
    c.send_raw(v2);
    auto m = c.read();
    ASSERT_TRUE(m);
    EXPECT_EQ(pgtest::error_fields(m->body)['C'], "0A000");
    EXPECT_TRUE(c.closed_by_server());
  }
}

TEST_F(PgWireTest, RowLimitSuspendsThePortal) {
  auto c = login();
  ASSERT_TRUE(c->query("CREATE TABLE n (x int)").ok());
  ASSERT_TRUE(c->query("INSERT INTO n VALUES (1), (2), (3), (4), (5)").ok());
  c->parse("", "SELECT x FROM n ORDER BY x");
  c->bind("", "", {});
  c->execute("", 2);
  c->execute("", 2);
  c->execute("", 2);
  c->sync();
  auto r = c->collect();
  ASSERT_TRUE(r.ok()) << r.error['M'];
  EXPECT_EQ(r.types, (std::vector<char>{'1', '2', 'D', 'D', 's', 'D', 'D', 's', 'D', 'C', 'Z'}));
  ASSERT_EQ(r.rows.size(), 5u);
  EXPECT_EQ(*r.rows[4][0], "5");
}

TEST_F(PgWireTest, ExtendedErrorSkipsUntilSync) {
  auto c = login();
  c->parse("bad", "SELECT * FROM nowhere");
  c->bind("", "bad", {});
  c->execute("");
  c->sync();
  auto r = c->collect();
  EXPECT_EQ(r.code(), "42P01");
  EXPECT_EQ(r.error['P'], "15");
  EXPECT_EQ(r.types, (std::vector<char>{'E', 'Z'}));
  // Wrong parameter count.
  c->parse("two", "SELECT $1::int + $2::int");
  c->bind("", "two", {std::string("1")});
  c->sync();
  r = c->collect();
  EXPECT_EQ(r.code(), "08P01");
  EXPECT_EQ(r.ready, 'I');
  auto ok = c->query("SELECT 1");
  EXPECT_TRUE(ok.ok());
}

TEST_F(PgWireTest, TransactionsAreAutocommitNoOps) {
  auto c = login();
  auto r = c->query("BEGIN");
  EXPECT_EQ(r.tags, std::vector<std::string>{"BEGIN"});
  EXPECT_EQ(r.ready, 'T');
  r = c->query("SELECT 1");
  EXPECT_EQ(r.ready, 'T');
  r = c->query("SELECT * FROM nope");
  EXPECT_EQ(r.ready, 'E');
  r = c->query("SELECT 1");
  EXPECT_EQ(r.code(), "25P02");
  r = c->query("COMMIT");
  EXPECT_EQ(r.tags, std::vector<std::string>{"ROLLBACK"});
  EXPECT_EQ(r.ready, 'I');
  r = c->query("BEGIN; SELECT 1; COMMIT");
  EXPECT_EQ(r.tags, (std::vector<std::string>{"BEGIN", "SELECT 1", "COMMIT"}));
  EXPECT_EQ(r.ready, 'I');
}

TEST_F(PgWireTest, RolesAreEnforcedBeforeExecution) {
  auto admin = login("admin");
  ASSERT_TRUE(admin->query("CREATE TABLE r (x int)").ok());
  auto reader = login("reader");
  auto r = reader->query("CREATE TABLE r2 (x int)");
  EXPECT_EQ(r.code(), "42501");
  r = reader->query("INSERT INTO r VALUES (1)");
  EXPECT_EQ(r.code(), "42501");
  r = reader->query("DROP TABLE r");
  EXPECT_EQ(r.code(), "42501");
  r = reader->query("SELECT count(*) FROM r");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  EXPECT_EQ(*r.rows[0][0], "0");
  auto writer = login("writer");
  EXPECT_TRUE(writer->query("INSERT INTO r VALUES (1)").ok());
  EXPECT_EQ(writer->query("CREATE TABLE r3 (x int)").code(), "42501");
  // COPY reads a server-side file: admin only (a writer could load /etc/passwd otherwise).
  EXPECT_EQ(writer->query("COPY r FROM '/etc/hostname'").code(), "42501");
  // Nothing the refused statements asked for happened.
  EXPECT_EQ(admin->query("SELECT * FROM r2").code(), "42P01");
  EXPECT_EQ(admin->query("SELECT * FROM r3").code(), "42P01");
  r = admin->query("SELECT count(*) FROM r");
  EXPECT_EQ(*r.rows[0][0], "1");
  // Extended protocol too.
  reader->parse("", "INSERT INTO r VALUES (2)");
  reader->bind("", "", {});
  reader->execute("");
  reader->sync();
  EXPECT_EQ(reader->collect().code(), "42501");
}

TEST_F(PgWireTest, ServerFunctionsSettingsAndCatalog) {
  auto c = login();
  ASSERT_TRUE(c->query("CREATE TABLE sales (zipcode int, product text, price int)").ok());
  auto r = c->query("SELECT version()");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.rows[0][0]->find("PostgreSQL 15.0"), std::string::npos);
  r = c->query("select current_schema(), current_database()");
  EXPECT_EQ(*r.rows[0][0], "public");
  EXPECT_EQ(*r.rows[0][1], "streamlake");
  r = c->query("SHOW server_version");
  EXPECT_EQ(*r.rows[0][0], "15.0 (streamlake)");
  r = c->query("SET application_name = 'x'");
  EXPECT_EQ(r.types, (std::vector<char>{'S', 'C', 'Z'}));
  r = c->query("SHOW TRANSACTION ISOLATION LEVEL");
  EXPECT_EQ(*r.rows[0][0], "read committed");
  EXPECT_EQ(c->query("SET TimeZone = 'America/New_York'").code(), "22023");  // sessions run in UTC
  EXPECT_EQ(c->query("SET client_encoding = 'LATIN1'").code(), "0A000");
  r = c->query("SET TIME ZONE 'UTC'; SET datestyle TO 'ISO'");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  r = c->query("SET statement_timeout = 1234");  // the engine's setting
  ASSERT_TRUE(r.ok()) << r.error['M'];
  r = c->query("SHOW statement_timeout");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_NE(r.rows[0][0]->find("1234"), std::string::npos);
  // psql's \dt
  r = c->query(R"(SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;)");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  ASSERT_EQ(r.fields.size(), 4u);
  EXPECT_EQ(r.fields[1].name, "Name");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(*r.rows[0][1], "sales");
  EXPECT_EQ(*r.rows[0][2], "table");
  // psql's \d sales: oid lookup, then columns.
  r = c->query(R"(SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(sales)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;)");
  ASSERT_EQ(r.rows.size(), 1u);
  std::string oid = *r.rows[0][0];
  r = c->query("SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod),\n  a.attnotnull\n"
               "FROM pg_catalog.pg_attribute a\nWHERE a.attrelid = '" + oid +
               "' AND a.attnum > 0 AND NOT a.attisdropped\nORDER BY a.attnum;");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(*r.rows[0][0], "zipcode");
  EXPECT_EQ(*r.rows[0][1], "integer");
  EXPECT_EQ(*r.rows[1][1], "text");
}

TEST_F(PgWireTest, SqlPrepareAndExecute) {
  auto c = login();
  ASSERT_TRUE(c->query("CREATE TABLE q (id int, name text)").ok());
  ASSERT_TRUE(c->query("INSERT INTO q VALUES (1, 'x'), (2, 'it''s')").ok());
  auto r = c->query("PREPARE byid (int) AS SELECT name FROM q WHERE id = $1");
  EXPECT_EQ(r.tags, std::vector<std::string>{"PREPARE"});
  r = c->query("EXECUTE byid (2)");
  ASSERT_TRUE(r.ok()) << r.error['M'];
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(*r.rows[0][0], "it's");
  EXPECT_EQ(c->query("DEALLOCATE byid").tags, std::vector<std::string>{"DEALLOCATE"});
  EXPECT_EQ(c->query("EXECUTE byid (2)").code(), "26000");
}

TEST_F(PgWireTest, CancelRequestStopsARunningQuery) {
  auto c = login();
  ASSERT_TRUE(c->query("CREATE TABLE big (x int)").ok());
  std::string values = "INSERT INTO big VALUES (0)";
  for (int i = 1; i < 2000; ++i) values += ", (" + std::to_string(i) + ")";
  ASSERT_TRUE(c->query(values).ok());
  // 2000^3 = 8e9 joined rows: runs far longer than the test unless cancelled.
  c->send('Q', std::string("SELECT count(*) FROM big a, big b, big c") + '\0');
  std::string cancel;
  append_be32(cancel, 16);
  append_be32(cancel, kCancelRequestCode);
  append_be32(cancel, c->pid);
  append_be32(cancel, c->key);
  std::optional<pgtest::Msg> m;
  // Cancels that arrive before the query starts are ignored (as in PostgreSQL): repeat until
  // the query reports its cancellation.
  for (int attempt = 0; attempt < 600 && !m; ++attempt) {
    PgClient k;
    ASSERT_TRUE(k.connect(server_->port()));
    k.send_raw(cancel);
    EXPECT_TRUE(k.closed_by_server());
    m = c->read(100);
  }
  ASSERT_TRUE(m);
  while (m && m->type == 'T') m = c->read();  // RowDescription precedes the error
  ASSERT_TRUE(m);
  ASSERT_EQ(m->type, 'E');
  EXPECT_EQ(pgtest::error_fields(m->body)['C'], "57014");
  auto z = c->read();
  ASSERT_TRUE(z);
  EXPECT_EQ(z->type, 'Z');
  EXPECT_TRUE(c->query("SELECT 1").ok());
}

TEST_F(PgWireTest, ServerDefaultStatementTimeout) {
  PgServerOptions o;
  o.statement_timeout_ms = 100;
  start_server(o);
  {
    // Set-up without the limit: under ASan on a loaded machine the INSERT alone may take
    // longer than 100 ms.
    auto setup = login();
    ASSERT_TRUE(setup->query("SET statement_timeout = 0").ok());
    ASSERT_TRUE(setup->query("CREATE TABLE slow (x int)").ok());
    std::string values = "INSERT INTO slow VALUES (0)";
    for (int i = 1; i < 2000; ++i) values += ", (" + std::to_string(i) + ")";
    ASSERT_TRUE(setup->query(values).ok());
  }
  auto c = login();  // a new session gets the server's default again
  auto r = c->query("SELECT count(*) FROM slow a, slow b, slow c");
  EXPECT_EQ(r.code(), "57014") << r.error['M'];
  EXPECT_TRUE(c->query("SELECT 1").ok());
}

TEST_F(PgWireTest, MalformedMessagesClose08P01AndOthersKeepWorking) {
  auto good = login();
  {
    auto c = login();
    c->send('z', "junk");  // unknown type
    auto m = c->read();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, 'E');
    EXPECT_EQ(pgtest::error_fields(m->body)['C'], "08P01");
    EXPECT_TRUE(c->closed_by_server());
  }
  {
    auto c = login();
    std::string huge(1, 'Q');
    append_be32(huge, 0x7fffffff);  // > 64 MiB
    c->send_raw(huge);
    auto m = c->read();
    ASSERT_TRUE(m);
    EXPECT_EQ(pgtest::error_fields(m->body)['C'], "08P01");
    EXPECT_TRUE(c->closed_by_server());
  }
  {
    auto c = login();
    c->send('B', std::string("\0\0\0", 3));  // truncated Bind
    auto m = c->read();
    ASSERT_TRUE(m);
    EXPECT_EQ(pgtest::error_fields(m->body)['C'], "08P01");
    EXPECT_TRUE(c->closed_by_server());
  }
  {
    PgClient c;
    ASSERT_TRUE(c.connect(server_->port()));
    std::string bad;
    append_be32(bad, 2);  // startup length below its own header
    c.send_raw(bad);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    PgClient c;
    ASSERT_TRUE(c.connect(server_->port()));
    c.send_raw("GET / HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(c.closed_by_server());
  }
  auto r = good->query("SELECT 42");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r.rows[0][0], "42");
  auto again = login();
  EXPECT_TRUE(again->query("SELECT 1").ok());
}

TEST_F(PgWireTest, SslRequestAnsweredNWithoutCertificate) {
  PgClient c;
  ASSERT_TRUE(c.connect(server_->port()));
  std::string ssl;
  append_be32(ssl, 8);
  append_be32(ssl, kSslRequestCode);
  c.send_raw(ssl);
  EXPECT_EQ(c.read_byte(), 'N');
  auto err = c.login("admin", "adminpw");
  EXPECT_TRUE(err.empty()) << err['M'];
}

TEST_F(PgWireTest, IdleConnectionsAreClosed) {
  PgServerOptions o;
  o.idle_timeout_ms = 200;
  start_server(o);
  auto c = login();
  auto m = c->read();  // the server's FATAL after 200 ms of silence
  ASSERT_TRUE(m);
  EXPECT_EQ(pgtest::error_fields(m->body)['C'], "57P05");
  EXPECT_TRUE(c->closed_by_server());
}

TEST_F(PgWireTest, ConnectionLimit) {
  PgServerOptions o;
  o.max_connections = 1;
  start_server(o);
  auto first = login();
  PgClient second;
  ASSERT_TRUE(second.connect(server_->port()));
  auto err = second.login("admin", "adminpw");
  EXPECT_EQ(err['C'], "53300");
  EXPECT_TRUE(first->query("SELECT 1").ok());
}

}  // namespace
}  // namespace sl::pgwire
