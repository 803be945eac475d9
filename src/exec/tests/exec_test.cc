#include <gtest/gtest.h>

#include "exec/error.h"
#include "exec/expression.h"
#include "exec/keys.h"
#include "exec/operators.h"
#include "exec/value.h"

namespace sl::exec {
namespace {

DataChunk ints(std::vector<std::optional<int32_t>> vals) {
  DataChunk c({TypeId::kInteger}, std::max<size_t>(vals.size(), kVectorSize));
  for (size_t i = 0; i < vals.size(); i++) {
    if (vals[i]) c.column(0).data<int32_t>()[i] = *vals[i];
    else c.column(0).set_null(i);
  }
  c.set_size(vals.size());
  return c;
}

TEST(Vector, ValidityAndGather) {
  Vector v(TypeId::kBigInt, 8);
  for (int i = 0; i < 8; i++) v.data<int64_t>()[i] = i * 10;
  EXPECT_TRUE(v.all_valid());
  v.set_null(3);
  EXPECT_FALSE(v.is_valid(3));
  EXPECT_TRUE(v.is_valid(4));
  uint32_t sel[] = {3, 5, 7};
  Vector g(TypeId::kBigInt, 8);
  g.gather(v, sel, 3);
  EXPECT_TRUE(g.is_null(0));
  EXPECT_EQ(g.data<int64_t>()[1], 50);
  EXPECT_EQ(g.data<int64_t>()[2], 70);
}

TEST(Vector, ReferenceIsCopyOnWrite) {
  Vector a(TypeId::kInteger, 4);
  a.data<int32_t>()[0] = 1;
  Vector b(TypeId::kInteger, 4);
  b.reference(a);
  EXPECT_EQ(b.data<const int32_t>()[0], 1);
  b.data<int32_t>()[0] = 2;  // unshares
  EXPECT_EQ(a.data<const int32_t>()[0], 1);
  EXPECT_EQ(b.data<const int32_t>()[0], 2);
}

TEST(Vector, StringsSurviveSourceDestruction) {
  Vector out(TypeId::kVarchar, 2);
  {
    Vector s(TypeId::kVarchar, 2);
    s.data<StringRef>()[0] = s.add_string("hello world, a long string");
    out.reference(s);
  }
  EXPECT_EQ(out.data<const StringRef>()[0].view(), "hello world, a long string");
}

TEST(Value, FormatAndParse) {
  EXPECT_EQ(format_numeric(-5, 2), "-0.05");
  EXPECT_EQ(format_numeric(12345, 2), "123.45");
  int64_t v;
  ASSERT_TRUE(parse_numeric("1.005", 10, 2, &v));
  EXPECT_EQ(v, 101);  // half away from zero
  EXPECT_FALSE(parse_numeric("123456", 5, 2, &v));
  int32_t d;
  ASSERT_TRUE(parse_date("2024-02-29", &d));
  EXPECT_EQ(format_date(d), "2024-02-29");
  EXPECT_FALSE(parse_date("2023-02-29", &d));
  int64_t ts;
  ASSERT_TRUE(parse_timestamp("2024-01-01 00:00:00+01:00", &ts));
  EXPECT_EQ(format_timestamp(ts, true), "2023-12-31 23:00:00+00");
  Interval iv;
  ASSERT_TRUE(parse_interval("1 year 2 mons -3 days 04:05:06.5", &iv));
  EXPECT_EQ(format_interval(iv), "1 year 2 mons -3 days 04:05:06.5");
  EXPECT_EQ(format_double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_double(1e308 * 10), "Infinity");
  EXPECT_THROW(parse_value("99999", TypeId::kSmallInt), SqlError);
}

TEST(Expression, ArithmeticOverflowAndNulls) {
  ExecContext ctx;
  DataChunk in = ints({2147483647, 1, std::nullopt});
  auto add = make_arith(ArithOp::kAdd, make_column(0, TypeId::kInteger), make_constant(Value::integer(1)), TypeId::kInteger);
  Vector out(TypeId::kInteger);
  try {
    add->eval(in, out, ctx);
    FAIL() << "expected overflow";
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), sqlstate::kNumericOutOfRange);
  }
  DataChunk ok = ints({1, std::nullopt});
  add->eval(ok, out, ctx);
  EXPECT_EQ(out.data<int32_t>()[0], 2);
  EXPECT_TRUE(out.is_null(1));
}

TEST(Expression, AndShortCircuitsDivisionByZero) {
  ExecContext ctx;
  DataChunk in = ints({0, 5});
  // x <> 0 AND 10 / x > 1
  auto ne = make_compare(CompareOp::kNe, make_column(0, TypeId::kInteger), make_constant(Value::integer(0)));
  auto div = make_arith(ArithOp::kDiv, make_constant(Value::integer(10)), make_column(0, TypeId::kInteger), TypeId::kInteger);
  auto gt = make_compare(CompareOp::kGt, std::move(div), make_constant(Value::integer(1)));
  auto e = make_and(std::move(ne), std::move(gt));
  Vector out(TypeId::kBoolean);
  e->eval(in, out, ctx);
  EXPECT_EQ(out.data<uint8_t>()[0], 0);
  EXPECT_EQ(out.data<uint8_t>()[1], 1);
}

TEST(Expression, ThreeValuedOr) {
  ExecContext ctx;
  DataChunk in({TypeId::kBoolean, TypeId::kBoolean}, 4);
  // (NULL, true), (NULL, false), (false, false)
  in.column(0).set_null(0); in.column(1).data<uint8_t>()[0] = 1;
  in.column(0).set_null(1); in.column(1).data<uint8_t>()[1] = 0;
  in.column(0).data<uint8_t>()[2] = 0; in.column(1).data<uint8_t>()[2] = 0;
  in.set_size(3);
  auto e = make_or(make_column(0, TypeId::kBoolean), make_column(1, TypeId::kBoolean));
  Vector out(TypeId::kBoolean);
  e->eval(in, out, ctx);
  EXPECT_EQ(out.data<uint8_t>()[0], 1);
  EXPECT_TRUE(out.is_null(1));
  EXPECT_FALSE(out.is_null(2));
  EXPECT_EQ(out.data<uint8_t>()[2], 0);
}

TEST(Keys, OrderMatchesSql) {
  Vector v(TypeId::kVarchar, 4);
  v.data<StringRef>()[0] = v.add_string("b");
  v.data<StringRef>()[1] = v.add_string("a");
  v.data<StringRef>()[2] = v.add_string("ab");
  v.set_null(3);
  std::vector<std::string> k;
  encode_keys({&v}, 4, {}, k);
  EXPECT_LT(k[1], k[2]);  // a < ab
  EXPECT_LT(k[2], k[0]);  // ab < b
  EXPECT_LT(k[0], k[3]);  // NULLS LAST
  encode_keys({&v}, 4, {KeySpec{true, true}}, k);
  EXPECT_LT(k[3], k[0]);  // DESC NULLS FIRST
  EXPECT_LT(k[0], k[2]);
  Vector d(TypeId::kDouble, 3);
  d.data<double>()[0] = -1.5;
  d.data<double>()[1] = -0.0;
  d.data<double>()[2] = 0.0;
  encode_keys({&d}, 3, {}, k);
  EXPECT_LT(k[0], k[1]);
  EXPECT_EQ(k[1], k[2]);
}

// A source over prepared chunks, for driving operators.
class ChunkSource final : public PhysicalOperator {
 public:
  explicit ChunkSource(std::vector<DataChunk> chunks) : PhysicalOperator(chunks[0].types()), chunks_(std::move(chunks)) {}
  std::string name() const override { return "TEST_SOURCE"; }
  bool is_source() const override { return true; }
  bool get_data(DataChunk& out, ExecContext&) override {
    if (pos_ >= chunks_.size()) return false;
    const DataChunk& c = chunks_[pos_];
    size_t n = std::min(out.capacity(), c.size() - off_);
    out.append(c, off_, n);
    off_ += n;
    if (off_ >= c.size()) { pos_++; off_ = 0; }
    return true;
  }

 private:
  std::vector<DataChunk> chunks_;
  size_t pos_ = 0, off_ = 0;
};

std::vector<std::vector<Value>> run(OpPtr root, ExecContext& ctx) {
  Executor ex(std::move(root), ctx);
  std::vector<std::vector<Value>> rows;
  while (auto* c = ex.next()) {
    for (size_t i = 0; i < c->size(); i++) {
      std::vector<Value> r;
      for (size_t col = 0; col < c->column_count(); col++) r.push_back(Value::read(c->column(col), i));
      rows.push_back(r);
    }
  }
  return rows;
}

TEST(Operators, AggregateHonoursChangelogSigns) {
  // key, value with signs: +(a,1) +(a,2) -(a,1) +(b,5)
  DataChunk c({TypeId::kVarchar, TypeId::kInteger}, 4);
  const char* keys[] = {"a", "a", "a", "b"};
  int vals[] = {1, 2, 1, 5};
  int8_t signs[] = {1, 1, -1, 1};
  for (int i = 0; i < 4; i++) {
    c.column(0).data<StringRef>()[i] = c.column(0).add_string(keys[i]);
    c.column(1).data<int32_t>()[i] = vals[i];
    c.set_sign(i, signs[i]);
  }
  c.set_size(4);
  std::vector<DataChunk> chunks;
  chunks.push_back(std::move(c));
  std::vector<ExprPtr> groups;
  groups.push_back(make_column(0, TypeId::kVarchar));
  std::vector<AggregateCall> aggs(2);
  std::string err;
  ASSERT_TRUE(resolve_aggregate("count", {}, &aggs[0].sig, &err));
  ASSERT_TRUE(resolve_aggregate("sum", {TypeId::kInteger}, &aggs[1].sig, &err));
  aggs[1].args.push_back(make_column(1, TypeId::kInteger));
  auto agg = std::make_unique<HashAggregateOp>(std::move(groups), std::move(aggs));
  agg->children.push_back(std::make_unique<ChunkSource>(std::move(chunks)));
  ExecContext ctx;
  auto rows = run(std::move(agg), ctx);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].s, "a");
  EXPECT_EQ(rows[0][1].i, 1);  // count: 2 inserts - 1 retract
  EXPECT_EQ(rows[0][2].i, 2);  // sum: 1 + 2 - 1
  EXPECT_EQ(rows[1][2].i, 5);
}

TEST(Operators, FilterAndJoinPropagateSigns) {
  std::vector<DataChunk> left;
  left.push_back(ints({1, 2, 3}));
  left[0].set_sign(1, -1);
  std::vector<DataChunk> right;
  right.push_back(ints({2, 3, 3}));
  std::vector<ExprPtr> lk, rk;
  lk.push_back(make_column(0, TypeId::kInteger));
  rk.push_back(make_column(0, TypeId::kInteger));
  auto join = std::make_unique<HashJoinOp>(JoinType::kInner, std::move(lk), std::move(rk), nullptr,
                                           std::vector<LogicalType>{TypeId::kInteger}, std::vector<LogicalType>{TypeId::kInteger});
  join->children.push_back(std::make_unique<ChunkSource>(std::move(left)));
  join->children.push_back(std::make_unique<ChunkSource>(std::move(right)));
  ExecContext ctx;
  Executor ex(std::move(join), ctx);
  int plus = 0, minus = 0;
  while (auto* c = ex.next())
    for (size_t i = 0; i < c->size(); i++) (c->sign(i) > 0 ? plus : minus)++;
  EXPECT_EQ(plus, 2);   // 3 x (3, 3)
  EXPECT_EQ(minus, 1);  // retracted 2 x 2
}

TEST(Operators, TopNKeepsBestRows) {
  std::vector<DataChunk> chunks;
  for (int k = 0; k < 50; k++) {
    std::vector<std::optional<int32_t>> v;
    for (int i = 0; i < 200; i++) v.push_back((k * 7919 + i * 104729) % 10007);
    for (size_t off = 0; off < v.size(); off += kVectorSize) {
      std::vector<std::optional<int32_t>> part(v.begin() + off, v.begin() + std::min(v.size(), off + kVectorSize));
      chunks.push_back(ints(part));
    }
  }
  std::vector<SortKey> keys;
  keys.push_back({make_column(0, TypeId::kInteger), KeySpec{true, false}});
  auto sort = std::make_unique<SortOp>(std::vector<LogicalType>{TypeId::kInteger}, std::move(keys), 3);
  sort->children.push_back(std::make_unique<ChunkSource>(std::move(chunks)));
  ExecContext ctx;
  auto rows = run(std::move(sort), ctx);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_GE(rows[0][0].i, rows[1][0].i);
  EXPECT_GE(rows[1][0].i, rows[2][0].i);
}

TEST(Operators, MemoryLimitFailsCleanly) {
  std::vector<DataChunk> chunks;
  for (int k = 0; k < 64; k++) {
    std::vector<std::optional<int32_t>> v;
    for (size_t i = 0; i < std::min<size_t>(kVectorSize, 64); i++) v.push_back(static_cast<int32_t>(k * 1000 + i));
    chunks.push_back(ints(v));
  }
  std::vector<ExprPtr> groups;
  groups.push_back(make_column(0, TypeId::kInteger));
  auto agg = std::make_unique<HashAggregateOp>(std::move(groups), std::vector<AggregateCall>{});
  agg->children.push_back(std::make_unique<ChunkSource>(std::move(chunks)));
  ExecContext ctx(2000);
  try {
    run(std::move(agg), ctx);
    FAIL() << "expected the memory limit to trip";
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), sqlstate::kOutOfMemory);
  }
}

TEST(Operators, CancellationStopsThePipeline) {
  std::vector<DataChunk> chunks;
  chunks.push_back(ints({1}));
  std::atomic<bool> flag{true};
  ExecContext ctx;
  ctx.cancelled = &flag;
  try {
    run(std::make_unique<ChunkSource>(std::move(chunks)), ctx);
    FAIL() << "expected cancellation";
  } catch (const SqlError& e) {
    EXPECT_STREQ(e.sqlstate(), sqlstate::kQueryCanceled);
  }
}

TEST(Aggregate, StatesSaveAndLoadForCheckpoints) {
  // A state saved after some updates and loaded into a fresh one finalizes the same, and
  // both keep agreeing after further updates (the streaming runtime's checkpoints).
  struct Case {
    const char* fn;
    TypeId arg;
    bool distinct;
  };
  const Case cases[] = {{"count", TypeId::kInteger, false}, {"sum", TypeId::kInteger, false},
                        {"avg", TypeId::kDouble, false},    {"min", TypeId::kVarchar, false},
                        {"max", TypeId::kInteger, false},   {"bool_and", TypeId::kBoolean, false},
                        {"count", TypeId::kVarchar, true},  {"sum", TypeId::kInterval, false}};
  auto batch = [](TypeId t, int base, std::vector<Vector>& args) {
    args.clear();
    args.emplace_back(t, 6);
    for (int i = 0; i < 6; i++) {
      int x = (base + i) * 7 % 5;
      Value v;
      if (i == 4) v = Value::null(t);
      else if (t == TypeId::kVarchar) v = Value::text("v" + std::to_string(x));
      else if (t == TypeId::kDouble) v = Value::dbl(x * 0.5);
      else if (t == TypeId::kBoolean) v = Value::boolean(x != 0);
      else if (t == TypeId::kInterval) { v.type = t; v.is_null = false; v.iv = Interval{0, x, x * 1000}; }
      else v = Value::integer(x);
      v.write(args[0], i);
    }
  };
  const uint32_t groups[] = {0, 1, 2, 0, 1, 2};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fn);
    AggregateSignature sig;
    std::string err;
    ASSERT_TRUE(resolve_aggregate(c.fn, {c.arg}, &sig, &err)) << err;
    auto a = make_aggregate_state(sig, c.distinct, 0);
    a->resize(3);
    std::vector<Vector> args;
    batch(c.arg, 0, args);
    a->update(args, groups, 6, nullptr);
    std::string blob;
    ASSERT_TRUE(a->save(blob));
    auto b = make_aggregate_state(sig, c.distinct, 0);
    std::string_view in = blob;
    ASSERT_TRUE(b->load(in));
    EXPECT_TRUE(in.empty());
    batch(c.arg, 3, args);
    a->update(args, groups, 6, nullptr);
    batch(c.arg, 3, args);
    b->update(args, groups, 6, nullptr);
    Vector ra(sig.result, 3), rb(sig.result, 3);
    a->finalize(ra, 0, 3);
    b->finalize(rb, 0, 3);
    for (size_t g = 0; g < 3; g++) EXPECT_EQ(Value::read(ra, g).to_string(), Value::read(rb, g).to_string());
  }
  AggregateSignature sig;
  std::string err;
  ASSERT_TRUE(resolve_aggregate("string_agg", {TypeId::kVarchar, TypeId::kVarchar}, &sig, &err)) << err;
  std::string blob;
  EXPECT_FALSE(make_aggregate_state(sig, false, 0)->save(blob));  // not checkpointable yet
}

}  // namespace
}  // namespace sl::exec
