// Parquet writer/reader round trips (every type, NULLs, codecs, dictionary on and off,
// many row groups and pages, limits) and corrupt inputs (errors, never crashes).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "lake/codec.h"
#include "lake/parquet.h"
#include "lake/tests/parquet_test_data.h"
#include "lake/tests/test_objects.h"
#include "lake/thrift_compact.h"

namespace sl::lake::parquet {
namespace {

using exec::LogicalType;
using exec::TypeId;
using exec::Value;
using testdata::all_types_schema;
using testdata::gen;
using testdata::make_chunks;

bool same_value(const Value& a, const Value& b) {
  if (a.is_null || b.is_null) return a.is_null == b.is_null;
  switch (a.type.id) {
    case TypeId::kReal: {
      float x = static_cast<float>(a.f), y = static_cast<float>(b.f);
      return std::memcmp(&x, &y, 4) == 0;
    }
    case TypeId::kDouble: return std::memcmp(&a.f, &b.f, 8) == 0;
    case TypeId::kVarchar:
    case TypeId::kBytea: return a.s == b.s;
    case TypeId::kInterval: return a.iv == b.iv;
    default: return a.i == b.i;
  }
}

std::string write_file(const std::vector<Field>& schema, const std::vector<exec::DataChunk>& chunks,
                       const WriteOptions& o, FileSummary* summary = nullptr) {
  std::string bytes;
  auto w = Writer::open(std::make_unique<testing::MemoryWriter>(&bytes), schema, o);
  EXPECT_TRUE(w.ok()) << w.status().to_string();
  for (auto& c : chunks) {
    Status st = (*w)->write(c);
    EXPECT_TRUE(st.ok()) << st.to_string();
  }
  auto s = (*w)->finish();
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (summary && s.ok()) *summary = *s;
  return bytes;
}

Result<std::unique_ptr<Reader>> open_bytes(std::string bytes, const std::string& name = "mem.parquet") {
  return Reader::open(std::make_unique<testing::MemoryObject>(std::move(bytes)), name);
}

// Reads every row group and column; returns the rows as values.
std::vector<std::vector<Value>> read_all(Reader& r) {
  std::vector<std::vector<Value>> rows;
  std::vector<size_t> cols(r.schema().size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  std::vector<exec::DataChunk> chunks;  // reused: the reader recycles its vectors
  for (size_t g = 0; g < r.num_row_groups(); g++) {
    Status st = r.read_row_group(g, cols, &chunks);
    EXPECT_TRUE(st.ok()) << st.to_string();
    size_t n = 0;
    for (auto& c : chunks) {
      for (size_t i = 0; i < c.size(); i++) {
        std::vector<Value> row;
        for (size_t k = 0; k < cols.size(); k++) row.push_back(Value::read(c.column(k), i));
        rows.push_back(std::move(row));
      }
      n += c.size();
    }
    EXPECT_EQ(static_cast<int64_t>(n), r.row_group(g).rows);
  }
  return rows;
}

bool value_less(const LogicalType& t, const Value& a, const Value& b) {
  if (t.is_float()) return a.f < b.f;
  if (t.id == TypeId::kVarchar || t.id == TypeId::kBytea) return a.s < b.s;
  return a.i < b.i;
}

void check_round_trip(const std::vector<Field>& schema, int64_t rows, const WriteOptions& o) {
  auto chunks = make_chunks(schema, rows);
  FileSummary sum;
  std::string bytes = write_file(schema, chunks, o, &sum);
  EXPECT_EQ(sum.rows, rows);
  EXPECT_EQ(sum.file_bytes, bytes.size());
  auto r = open_bytes(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ((*r)->schema().size(), schema.size());
  for (size_t c = 0; c < schema.size(); c++) {
    EXPECT_EQ((*r)->schema()[c].name, schema[c].name);
    EXPECT_EQ((*r)->schema()[c].type, schema[c].type) << schema[c].name;
    EXPECT_EQ((*r)->schema()[c].nullable, schema[c].nullable);
  }
  EXPECT_EQ((*r)->num_rows(), rows);
  auto got = read_all(**r);
  ASSERT_EQ(static_cast<int64_t>(got.size()), rows);
  for (int64_t i = 0; i < rows; i++) {
    for (size_t c = 0; c < schema.size(); c++) {
      Value want = gen(schema[c].type, i, schema[c].nullable);
      ASSERT_TRUE(same_value(got[i][c], want))
          << "row " << i << " column " << schema[c].name << ": " << got[i][c].to_string() << " vs " << want.to_string();
    }
  }
  // Statistics: min <= every value <= max, both attained; null counts exact.
  int64_t row0 = 0;
  for (size_t g = 0; g < (*r)->num_row_groups(); g++) {
    const auto& info = (*r)->row_group(g);
    for (size_t c = 0; c < schema.size(); c++) {
      const auto& st = info.columns[c];
      const auto& t = schema[c].type;
      int64_t nulls = 0;
      bool saw_min = false, saw_max = false;
      for (int64_t i = row0; i < row0 + info.rows; i++) {
        const Value& v = got[i][c];
        if (v.is_null) { nulls++; continue; }
        if (!st.has_min_max) continue;
        if (t.is_float() && std::isnan(v.f)) continue;
        EXPECT_FALSE(value_less(t, v, st.min)) << schema[c].name;
        EXPECT_FALSE(value_less(t, st.max, v)) << schema[c].name;
        saw_min = saw_min || !value_less(t, st.min, v);
        saw_max = saw_max || !value_less(t, v, st.max);
      }
      EXPECT_EQ(st.null_count, nulls) << schema[c].name;
      if (st.has_min_max) {
        EXPECT_TRUE(saw_min && saw_max) << schema[c].name << " row group " << g;
      }
      bool expect_stats = t.id != TypeId::kInterval && nulls < info.rows && !(t.id == TypeId::kVarchar && row0 <= 1 && row0 + info.rows > 1);
      EXPECT_EQ(st.has_min_max, expect_stats) << schema[c].name << " row group " << g;
    }
    row0 += info.rows;
  }
}

TEST(Parquet, RoundTripEveryTypeEveryCodec) {
  for (Codec codec : {Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool dict : {true, false}) {
      SCOPED_TRACE(std::string(codec_name(codec)) + (dict ? " dict" : " plain"));
      WriteOptions o;
      o.codec = codec;
      o.dictionary = dict;
      check_round_trip(all_types_schema(), 5000, o);
    }
  }
}

TEST(Parquet, ManyRowGroupsAndPages) {
  WriteOptions o;
  o.row_group_rows = 1000;
  o.page_bytes = 700;
  check_round_trip(all_types_schema(), 10007, o);
  o.row_group_rows = 1 << 20;
  o.row_group_bytes = 20000;  // cut by bytes
  auto schema = all_types_schema();
  auto chunks = make_chunks(schema, 20000);
  FileSummary sum;
  std::string bytes = write_file(schema, chunks, o, &sum);
  EXPECT_GT(sum.row_groups, 3u);
  check_round_trip(schema, 20000, o);
}

TEST(Parquet, NotNullColumns) {
  WriteOptions o;
  check_round_trip(all_types_schema(false), 3000, o);
  // A NULL in a NOT NULL column is refused.
  auto schema = all_types_schema(false);
  std::string bytes;
  auto w = Writer::open(std::make_unique<testing::MemoryWriter>(&bytes), schema, o);
  ASSERT_TRUE(w.ok());
  auto chunks = make_chunks(all_types_schema(true), 10, true);
  Status st = (*w)->write(chunks[0]);
  EXPECT_EQ(st.code(), Errc::kInvalidArgument);
  EXPECT_NE(st.message().find("NOT NULL"), std::string::npos) << st.message();
}

TEST(Parquet, EmptyFile) {
  auto schema = all_types_schema();
  FileSummary sum;
  std::string bytes = write_file(schema, {}, WriteOptions{}, &sum);
  EXPECT_EQ(sum.rows, 0);
  EXPECT_EQ(sum.row_groups, 0u);
  auto r = open_bytes(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->num_rows(), 0);
  EXPECT_EQ((*r)->num_row_groups(), 0u);
  EXPECT_EQ((*r)->schema().size(), schema.size());
}

TEST(Parquet, DictionaryFallsBackToPlain) {
  std::vector<Field> schema = {{"s", TypeId::kVarchar}, {"x", TypeId::kBigInt}};
  std::vector<exec::DataChunk> chunks;
  for (int k = 0; k < 20; k++) {
    exec::DataChunk c({TypeId::kVarchar, TypeId::kBigInt});
    for (size_t i = 0; i < exec::kVectorSize; i++) {
      int64_t r = k * static_cast<int64_t>(exec::kVectorSize) + static_cast<int64_t>(i);
      Value::text("unique-value-" + std::to_string(r * 7)).write(c.column(0), i);
      Value::bigint(r % 3).write(c.column(1), i);
    }
    c.set_size(exec::kVectorSize);
    chunks.push_back(std::move(c));
  }
  WriteOptions o;
  o.dictionary_max_bytes = 10000;
  o.row_group_rows = 15000;
  std::string bytes = write_file(schema, chunks, o);
  WriteOptions plain = o;
  plain.dictionary = false;
  std::string plain_bytes = write_file(schema, chunks, plain);
  auto r = open_bytes(bytes);
  ASSERT_TRUE(r.ok());
  auto got = read_all(**r);
  ASSERT_EQ(got.size(), 20 * exec::kVectorSize);
  for (size_t i = 0; i < got.size(); i++) {
    ASSERT_EQ(got[i][0].s, "unique-value-" + std::to_string(i * 7));
    ASSERT_EQ(got[i][1].i, static_cast<int64_t>(i % 3));
  }
}

TEST(Parquet, IntervalsKeepTheirTotal) {
  std::vector<Field> schema = {{"iv", TypeId::kInterval}};
  exec::DataChunk c({TypeId::kInterval});
  std::vector<exec::Interval> in = {{0, 0, -3600000000LL}, {1, -2, 5000000000000LL}, {0, 0, 1500}, {-5, 3, 0}};
  for (size_t i = 0; i < in.size(); i++) {
    Value v = Value::null(TypeId::kInterval);
    v.is_null = false;
    v.iv = in[i];
    v.write(c.column(0), i);
  }
  c.set_size(in.size());
  std::vector<exec::DataChunk> chunks;
  chunks.push_back(std::move(c));
  auto r = open_bytes(write_file(schema, chunks, WriteOptions{}));
  ASSERT_TRUE(r.ok());
  auto got = read_all(**r);
  ASSERT_EQ(got.size(), in.size());
  for (size_t i = 0; i < in.size(); i++) {
    exec::Interval want = in[i];
    want.micros = want.micros / 1000 * 1000;  // milliseconds in the file
    EXPECT_EQ(got[i][0].iv.months, want.months);
    EXPECT_EQ(got[i][0].iv.total_micros(), want.total_micros()) << i;
  }
  EXPECT_EQ(got[1][0].iv.days, -2 + 57);  // 5e12 micros: beyond u32 ms, 57 days borrowed
}

TEST(Parquet, CodecNames) {
  Codec c;
  EXPECT_TRUE(parse_codec("ZSTD", &c));
  EXPECT_EQ(c, Codec::kZstd);
  EXPECT_TRUE(parse_codec("uncompressed", &c));
  EXPECT_EQ(c, Codec::kNone);
  EXPECT_FALSE(parse_codec("lz4", &c));
  EXPECT_STREQ(codec_name(Codec::kSnappy), "snappy");
}

TEST(Parquet, ProjectionAndChunking) {
  auto schema = all_types_schema();
  auto chunks = make_chunks(schema, 5000);
  auto r = open_bytes(write_file(schema, chunks, WriteOptions{}));
  ASSERT_TRUE(r.ok());
  std::vector<exec::DataChunk> out;
  ASSERT_TRUE((*r)->read_row_group(0, {8, 2}, &out).ok());
  size_t row = 0;
  for (auto& c : out) {
    ASSERT_EQ(c.column_count(), 2u);
    EXPECT_LE(c.size(), exec::kVectorSize);
    for (size_t i = 0; i < c.size(); i++, row++) {
      EXPECT_TRUE(same_value(Value::read(c.column(0), i), gen(schema[8].type, static_cast<int64_t>(row))));
      EXPECT_TRUE(same_value(Value::read(c.column(1), i), gen(schema[2].type, static_cast<int64_t>(row))));
    }
  }
  EXPECT_EQ(row, 5000u);
  // Reading again into the same chunks with other columns: vectors of other types are
  // not reused, NULLs of the last read do not linger.
  ASSERT_TRUE((*r)->read_row_group(0, {2, 3}, &out).ok());
  row = 0;
  for (auto& c : out) {
    ASSERT_EQ(c.column_count(), 2u);
    for (size_t i = 0; i < c.size(); i++, row++) {
      EXPECT_TRUE(same_value(Value::read(c.column(0), i), gen(schema[2].type, static_cast<int64_t>(row))));
      EXPECT_TRUE(same_value(Value::read(c.column(1), i), gen(schema[3].type, static_cast<int64_t>(row))));
    }
  }
  EXPECT_EQ((*r)->read_row_group(1, {0}, &out).code(), Errc::kInvalidArgument);
  EXPECT_EQ((*r)->read_row_group(0, {99}, &out).code(), Errc::kInvalidArgument);
}

// ---- corrupt inputs -------------------------------------------------------------------

std::string small_file(Codec codec = Codec::kZstd, bool dict = true, int64_t rows = 300) {
  auto schema = all_types_schema();
  auto chunks = make_chunks(schema, rows);
  WriteOptions o;
  o.codec = codec;
  o.dictionary = dict;
  o.page_bytes = 256;
  o.row_group_rows = 150;
  return write_file(schema, chunks, o);
}

// Opens and reads everything; returns the first error (OK if all went well).
Status try_read(const std::string& bytes) {
  auto r = open_bytes(bytes, "bad.parquet");
  if (!r.ok()) return r.status();
  std::vector<size_t> cols((*r)->schema().size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  for (size_t g = 0; g < (*r)->num_row_groups(); g++) {
    std::vector<exec::DataChunk> out;
    Status st = (*r)->read_row_group(g, cols, &out);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

void expect_corruption(const std::string& bytes, const std::string& what) {
  Status st = try_read(bytes);
  EXPECT_EQ(st.code(), Errc::kCorruption) << what << ": " << st.to_string();
  EXPECT_NE(st.message().find("bad.parquet"), std::string::npos) << what << ": " << st.message();
}

TEST(ParquetCorrupt, BadMagic) {
  std::string f = small_file();
  std::string a = f;
  a[0] = 'X';
  expect_corruption(a, "head magic");
  std::string b = f;
  b[b.size() - 1] = 'X';
  expect_corruption(b, "tail magic");
  expect_corruption("PAR1", "tiny");
  expect_corruption("", "empty");
  expect_corruption(std::string(100, '\0'), "zeros");
}

TEST(ParquetCorrupt, FooterLengthBeyondFile) {
  std::string f = small_file();
  uint32_t len = static_cast<uint32_t>(f.size());
  std::memcpy(&f[f.size() - 8], &len, 4);
  expect_corruption(f, "footer length");
  len = 0xffffffffu;
  std::memcpy(&f[f.size() - 8], &len, 4);
  expect_corruption(f, "footer length max");
}

TEST(ParquetCorrupt, TruncatedFiles) {
  std::string f = small_file();
  for (size_t n = 0; n < f.size(); n += (n < 64 || n + 200 > f.size()) ? 1 : 37) {
    Status st = try_read(f.substr(0, n));
    EXPECT_FALSE(st.ok()) << "prefix " << n;
  }
}

TEST(ParquetCorrupt, GarbageFooter) {
  std::string f = small_file();
  uint32_t len;
  std::memcpy(&len, &f[f.size() - 8], 4);
  std::mt19937 rng(7);
  for (int k = 0; k < 300; k++) {
    std::string g = f;
    size_t start = g.size() - 8 - len;
    for (size_t i = start; i < g.size() - 8; i++) {
      if (rng() % 4 == 0) g[i] = static_cast<char>(rng());
    }
    Status st = try_read(g);  // must not crash; may by chance still be valid
    if (!st.ok()) {
      EXPECT_NE(st.message().find("bad.parquet"), std::string::npos) << st.message();
    }
  }
  // A footer of pure garbage.
  std::string g = f;
  for (size_t i = g.size() - 8 - len; i < g.size() - 8; i++) g[i] = static_cast<char>(0xff);
  expect_corruption(g, "0xff footer");
}

TEST(ParquetCorrupt, EveryByteFlipped) {
  // Each byte of the data region and footer in turn: page headers that lie about sizes,
  // bad codec payloads, bad levels and indices. Errors only, never a crash.
  for (Codec c : {Codec::kNone, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    std::string f = small_file(c, c != Codec::kGzip, 160);
    int errors = 0;
    for (size_t i = 4; i + 8 < f.size(); i++) {
      for (uint8_t x : {uint8_t{0xff}, static_cast<uint8_t>(f[i] ^ 0x5a)}) {
        std::string g = f;
        if (static_cast<uint8_t>(g[i]) == x) continue;
        g[i] = static_cast<char>(x);
        Status st = try_read(g);
        if (!st.ok()) {
          errors++;
          EXPECT_NE(st.message().find("bad.parquet"), std::string::npos) << st.message();
        }
      }
    }
    EXPECT_GT(errors, 0);
  }
}

TEST(ParquetCorrupt, BadCodecPayload) {
  for (Codec c : {Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    Compressor comp;
    std::string out;
    std::string garbage(100, '\x7f');
    Status st = comp.decompress(c, garbage, 1000, &out);
    EXPECT_EQ(st.code(), Errc::kCorruption) << codec_name(c);
    std::string packed;
    ASSERT_TRUE(comp.compress(c, 3, "hello hello hello hello", &packed).ok());
    EXPECT_EQ(comp.decompress(c, packed, 5, &out).code(), Errc::kCorruption) << codec_name(c);
    ASSERT_TRUE(comp.decompress(c, packed, 23, &out).ok()) << codec_name(c);
    EXPECT_EQ(out, "hello hello hello hello");
  }
}

TEST(Thrift, SkipsUnknownNestedFields) {
  std::string buf;
  thrift::CompactWriter w(&buf);
  w.field_i32(1, 42);
  w.begin_struct(2);              // unknown nested struct
  w.field_binary(1, "abc");
  w.begin_list(2, thrift::CType::kStruct, 2);
  w.begin_elem_struct();
  w.field_i64(7, -5);
  w.end_elem_struct();
  w.begin_elem_struct();
  w.end_elem_struct();
  w.end_struct();
  w.field_bool(3, true);
  w.field_i64(40, 1234567890123LL);  // long delta: id written in full
  w.stop();
  thrift::CompactReader r(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
  r.begin_struct();
  int16_t id;
  thrift::CType t;
  int32_t a = 0;
  bool b = false;
  int64_t c = 0;
  while (r.next_field(&id, &t)) {
    if (id == 1) a = r.read_i32(t);
    else if (id == 3) b = r.read_bool(t);
    else if (id == 40) c = r.read_i64(t);
    else r.skip(t);
  }
  r.end_struct();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(a, 42);
  EXPECT_TRUE(b);
  EXPECT_EQ(c, 1234567890123LL);
  EXPECT_EQ(r.position(), buf.size());
  // Deep nesting is refused, not recursed into.
  std::string deep(1000, static_cast<char>(0x1c));  // field delta 1, type struct, nested
  thrift::CompactReader d(reinterpret_cast<const uint8_t*>(deep.data()), deep.size());
  d.skip(thrift::CType::kStruct);
  EXPECT_FALSE(d.ok());
}

}  // namespace
}  // namespace sl::lake::parquet
