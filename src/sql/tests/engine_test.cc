#include "sql/engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

namespace sl::sql {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/engine_test.XXXXXX";
    dir_ = mkdtemp(t);
    engine_ = Engine::open(dir_);
    session_ = engine_->session();
  }
  void TearDown() override {
    session_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<std::vector<std::string>> rows(QueryResult& r) {
    std::vector<std::vector<std::string>> out;
    while (auto* c = r.next())
      for (size_t i = 0; i < c->size(); i++) {
        std::vector<std::string> row;
        for (size_t k = 0; k < c->column_count(); k++)
          row.push_back(c->column(k).is_null(i) ? "NULL" : to_pg_text(c->column(k), i));
        out.push_back(row);
      }
    return out;
  }
  void exec(const std::string& sql) {
    auto r = session_->execute(sql);
    while (r.next()) {}
  }
  std::string dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Session> session_;
};

TEST_F(EngineTest, CommandTagsAndSchema) {
  auto c = session_->execute("CREATE TABLE t (a int, b numeric(10,2), c text)");
  EXPECT_EQ(c.kind(), StatementKind::kCreateTable);
  EXPECT_EQ(c.command_tag(), "CREATE TABLE");
  auto i = session_->execute("INSERT INTO t VALUES (1, 2.5, 'x'), (2, NULL, 'y'), (3, 1, NULL)");
  EXPECT_EQ(i.command_tag(), "INSERT 0 3");
  auto s = session_->execute("SELECT a, b AS price, c FROM t WHERE a > 1");
  ASSERT_EQ(s.columns().size(), 3u);
  EXPECT_EQ(s.columns()[1].name, "price");
  EXPECT_EQ(s.columns()[0].type.pg_oid(), 23);
  EXPECT_EQ(s.columns()[1].type.pg_oid(), 1700);
  EXPECT_EQ(s.columns()[1].type.pg_typmod(), ((10 << 16) | 2) + 4);
  EXPECT_EQ(s.columns()[2].type.pg_oid(), 25);
  auto r = rows(s);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(s.command_tag(), "SELECT 2");
  auto e = session_->execute("");
  EXPECT_EQ(e.kind(), StatementKind::kEmpty);
}

TEST_F(EngineTest, ErrorsCarrySqlstateAndPosition) {
  try {
    session_->execute("SELECT nope FROM (SELECT 1 AS a) t");
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), "42703");
    EXPECT_EQ(e.position(), 7);
  }
  try {
    session_->execute("SELECT 1 +");
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), "42601");
    EXPECT_GE(e.position(), 9);
  }
  try {
    session_->execute("SELECT 1; SELECT 2");
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), "42601");
  }
  try {
    session_->execute_script("SELECT 1; SELECT nope");
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.position(), 17);  // shifted to the script
  }
}

TEST_F(EngineTest, PreparedStatementsInferAndBindParameters) {
  exec("CREATE TABLE t (id bigint, name text, ts timestamp, price numeric(8,2))");
  auto ins = session_->prepare("INSERT INTO t VALUES ($1, $2, $3, $4)");
  ASSERT_EQ(ins.parameter_types().size(), 4u);
  EXPECT_EQ(ins.parameter_types()[0].id, TypeId::kBigInt);
  EXPECT_EQ(ins.parameter_types()[2].id, TypeId::kTimestamp);
  EXPECT_EQ(session_->execute(ins, {ParamValue::text("1"), ParamValue::text("a"), ParamValue::text("2024-01-01 00:00:00"), ParamValue::text("9.99")}).command_tag(), "INSERT 0 1");
  // binary: bigint 2, text "b", NULL timestamp, numeric 12.50
  ParamValue id{std::string("\0\0\0\0\0\0\0\x02", 8), true};
  ParamValue num{std::string("\0\x02\0\0\0\0\0\x02\0\x0c\x13\x88", 12), true};
  session_->execute(ins, {id, ParamValue{std::string("b"), true}, ParamValue::null(), num});
  auto q = session_->prepare("SELECT name, price FROM t WHERE id = $1 OR name = $2 ORDER BY id");
  ASSERT_EQ(q.parameter_types().size(), 2u);
  EXPECT_EQ(q.parameter_types()[0].id, TypeId::kBigInt);
  EXPECT_EQ(q.parameter_types()[1].id, TypeId::kVarchar);
  ASSERT_EQ(q.columns().size(), 2u);
  auto r = session_->execute(q, {ParamValue::text("2"), ParamValue::text("a")});
  auto v = rows(r);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0][0], "a");
  EXPECT_EQ(v[1][0], "b");
  EXPECT_EQ(v[1][1], "12.50");
  EXPECT_THROW(session_->execute(q, {ParamValue::text("x"), ParamValue::text("a")}), SqlError);
  EXPECT_THROW(session_->execute(q, {ParamValue::text("1")}), SqlError);
}

TEST_F(EngineTest, RenderingTextBinaryJson) {
  auto r = session_->execute(
      "SELECT 1::int, 2::bigint, 1.5::double precision, -12.34::numeric(6,2), 'a\"b'::text, true, date '2000-01-02', "
      "timestamp '2000-01-01 00:00:01', NULL::int, '\\x00ff'::bytea");
  const DataChunk* c = r.next();
  ASSERT_TRUE(c);
  std::string j;
  for (size_t k = 0; k < c->column_count(); k++) {
    if (k) j += ",";
    append_json(c->column(k), 0, j);
  }
  EXPECT_EQ(j, "1,2,1.5,-12.34,\"a\\\"b\",true,\"2000-01-02\",\"2000-01-01 00:00:01\",null,\"\\\\x00ff\"");
  std::string b;
  ASSERT_TRUE(append_pg_binary(c->column(0), 0, b));
  EXPECT_EQ(b, std::string("\0\0\0\x01", 4));
  b.clear();
  ASSERT_TRUE(append_pg_binary(c->column(6), 0, b));  // one day after the PostgreSQL epoch
  EXPECT_EQ(b, std::string("\0\0\0\x01", 4));
  b.clear();
  ASSERT_TRUE(append_pg_binary(c->column(7), 0, b));
  EXPECT_EQ(b, std::string("\0\0\0\0\0\x0f\x42\x40", 8));
  b.clear();
  ASSERT_TRUE(append_pg_binary(c->column(3), 0, b));  // ndigits 2, weight 0, neg, dscale 2: 12 3400
  EXPECT_EQ(b, std::string("\0\x02\0\0\x40\0\0\x02\0\x0c\x0d\x48", 12));
  EXPECT_EQ(to_pg_text(c->column(5), 0), "t");
}

TEST_F(EngineTest, BatchSizeSplitsResults) {
  session_->options().batch_size = 1;
  auto r = session_->execute("SELECT x FROM generate_series(1, 5) g(x)");
  int batches = 0;
  while (auto* c = r.next()) {
    EXPECT_EQ(c->size(), 1u);
    batches++;
  }
  EXPECT_EQ(batches, 5);
  EXPECT_EQ(r.command_tag(), "SELECT 5");
}

TEST_F(EngineTest, CancelFromAnotherThread) {
  auto r = session_->execute("SELECT count(*) FROM generate_series(1, 2000000000) g(x)");
  std::thread t([&] { session_->cancel(); });
  t.join();
  try {
    while (r.next()) {}
    FAIL() << "expected cancellation";
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), "57014");
  }
  // The session is usable afterwards.
  auto ok = session_->execute("SELECT 1");
  EXPECT_TRUE(ok.next());
}

TEST_F(EngineTest, SessionsShareTheCatalog) {
  exec("CREATE TABLE t (a int)");
  exec("INSERT INTO t VALUES (1), (2)");
  auto other = engine_->session();
  auto r = other->execute("SELECT sum(a) FROM t");
  EXPECT_EQ(rows(r)[0][0], "3");
}

}  // namespace
}  // namespace sl::sql
