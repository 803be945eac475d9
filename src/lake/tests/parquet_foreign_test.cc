// Files as other writers make them, built by hand from the Thrift structs: INT96, DECIMAL
// in every physical form, legacy converted types, TIMESTAMP(NANOS), PLAIN_DICTIONARY,
// data page v2, DELTA_BYTE_ARRAY, and the types we refuse.
#include <gtest/gtest.h>

#include "lake/parquet.h"
#include "lake/parquet_encoding.h"
#include "lake/parquet_meta.h"
#include "lake/tests/test_objects.h"

namespace sl::lake::parquet {
namespace {

using exec::TypeId;
using exec::Value;

struct RawColumn {
  meta::SchemaElement el;
  std::vector<std::string> pages;  // header + payload each
};

std::string levels_rle(const std::vector<uint8_t>& defs) {
  std::string out;
  rle_hybrid_encode(defs.data(), defs.size(), 1, &out);
  return out;
}

std::string page_v1(int32_t n, int32_t encoding, const std::string* levels, const std::string& values) {
  std::string body;
  if (levels) {
    put_u32le(&body, static_cast<uint32_t>(levels->size()));
    body += *levels;
  }
  body += values;
  meta::PageHeader h;
  h.type = meta::kDataPage;
  h.uncompressed_page_size = h.compressed_page_size = static_cast<int32_t>(body.size());
  h.data_page.emplace();
  h.data_page->num_values = n;
  h.data_page->encoding = encoding;
  h.data_page->definition_level_encoding = meta::kRle;
  h.data_page->repetition_level_encoding = meta::kRle;
  std::string out;
  meta::encode(h, &out);
  return out + body;
}

std::string page_v2(int32_t n, int32_t nulls, int32_t encoding, const std::string& levels, const std::string& values) {
  meta::PageHeader h;
  h.type = meta::kDataPageV2;
  h.uncompressed_page_size = h.compressed_page_size = static_cast<int32_t>(levels.size() + values.size());
  auto& d = h.data_page_v2.emplace();
  d.num_values = n;
  d.num_nulls = nulls;
  d.num_rows = n;
  d.encoding = encoding;
  d.definition_levels_byte_length = static_cast<int32_t>(levels.size());
  d.is_compressed = false;
  std::string out;
  meta::encode(h, &out);
  return out + levels + values;
}

std::string dict_page(int32_t n, const std::string& plain) {
  meta::PageHeader h;
  h.type = meta::kDictionaryPage;
  h.uncompressed_page_size = h.compressed_page_size = static_cast<int32_t>(plain.size());
  h.dictionary_page.emplace();
  h.dictionary_page->num_values = n;
  h.dictionary_page->encoding = meta::kPlainDictionary;
  std::string out;
  meta::encode(h, &out);
  return out + plain;
}

std::string build_file(std::vector<RawColumn> cols, int64_t rows) {
  std::string f = "PAR1";
  meta::FileMetaData fm;
  meta::SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(cols.size());
  fm.schema.push_back(root);
  meta::RowGroup rg;
  rg.num_rows = rows;
  for (auto& c : cols) {
    fm.schema.push_back(c.el);
    meta::ColumnChunk cc;
    meta::ColumnMetaData md;
    md.type = *c.el.type;
    md.path_in_schema = {c.el.name};
    md.num_values = rows;
    md.data_page_offset = static_cast<int64_t>(f.size());
    for (auto& p : c.pages) f += p;
    md.total_compressed_size = md.total_uncompressed_size = static_cast<int64_t>(f.size()) - md.data_page_offset;
    cc.file_offset = md.data_page_offset;
    cc.meta_data = md;
    rg.columns.push_back(cc);
  }
  fm.num_rows = rows;
  fm.row_groups.push_back(rg);
  std::string footer;
  meta::encode(fm, &footer);
  f += footer;
  put_u32le(&f, static_cast<uint32_t>(footer.size()));
  return f + "PAR1";
}

meta::SchemaElement element(const std::string& name, int32_t type, bool optional = true) {
  meta::SchemaElement e;
  e.name = name;
  e.type = type;
  e.repetition = optional ? meta::kOptional : meta::kRequired;
  return e;
}

std::vector<Value> read_column(const std::string& file, size_t col, exec::LogicalType* type = nullptr) {
  auto r = Reader::open(std::make_unique<testing::MemoryObject>(file), "foreign.parquet");
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return {};
  if (type) *type = (*r)->schema()[col].type;
  std::vector<exec::DataChunk> out;
  Status st = (*r)->read_row_group(0, {col}, &out);
  EXPECT_TRUE(st.ok()) << st.to_string();
  std::vector<Value> v;
  for (auto& c : out) {
    for (size_t i = 0; i < c.size(); i++) v.push_back(Value::read(c.column(0), i));
  }
  return v;
}

template <class T>
std::string raw(std::initializer_list<T> xs) {
  std::string s;
  for (T x : xs) s.append(reinterpret_cast<const char*>(&x), sizeof(T));
  return s;
}

TEST(ParquetForeign, Int96Timestamps) {
  RawColumn c{element("t96", meta::kInt96), {}};
  std::string v;
  auto put96 = [&](uint64_t nanos, uint32_t jd) { v += raw<uint64_t>({nanos}) + raw<uint32_t>({jd}); };
  put96(1500, 2440588 + 1);
  put96(0, 2440588 - 1);
  std::string lv = levels_rle({1, 0, 1});
  c.pages.push_back(page_v1(3, meta::kPlain, &lv, v));
  exec::LogicalType t;
  auto got = read_column(build_file({c}, 3), 0, &t);
  EXPECT_EQ(t.id, TypeId::kTimestamp);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].i, exec::kMicrosPerDay + 1);
  EXPECT_TRUE(got[1].is_null);
  EXPECT_EQ(got[2].i, -exec::kMicrosPerDay);
}

TEST(ParquetForeign, DecimalsInEveryPhysicalForm) {
  // FIXED_LEN_BYTE_ARRAY(5) DECIMAL(10,2), big-endian two's complement.
  RawColumn f{element("fl", meta::kFixedLenByteArray, false), {}};
  f.el.type_length = 5;
  f.el.logical.kind = meta::LogicalType::kDecimal;
  f.el.logical.precision = 10;
  f.el.logical.scale = 2;
  f.pages.push_back(page_v1(2, meta::kPlain, nullptr, std::string("\xff\xff\xff\xcf\xc7", 5) + std::string("\x00\x00\x00\x30\x39", 5)));
  // BYTE_ARRAY DECIMAL(18,0) by converted type, of several lengths (sign-extended 9 bytes too).
  RawColumn b{element("ba", meta::kByteArray, false), {}};
  b.el.converted_type = meta::kDecimal;
  b.el.precision = 18;
  b.el.scale = 0;
  std::string bv;
  for (std::string x : {std::string("\x00\xff", 2), std::string("\xff", 1), std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xfe", 9)}) {
    put_u32le(&bv, static_cast<uint32_t>(x.size()));
    bv += x;
  }
  b.pages.push_back(page_v1(3, meta::kPlain, nullptr, bv));
  // INT32 DECIMAL(9,3).
  RawColumn i{element("i32", meta::kInt32, false), {}};
  i.el.logical.kind = meta::LogicalType::kDecimal;
  i.el.logical.precision = 9;
  i.el.logical.scale = 3;
  i.pages.push_back(page_v1(3, meta::kPlain, nullptr, raw<int32_t>({-5, 999999999, 0})));

  std::string file = build_file({f}, 2);
  exec::LogicalType t;
  auto got = read_column(file, 0, &t);
  EXPECT_EQ(t, exec::LogicalType::numeric(10, 2));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].i, -12345);
  EXPECT_EQ(got[1].i, 12345);

  got = read_column(build_file({b}, 3), 0, &t);
  EXPECT_EQ(t, exec::LogicalType::numeric(18, 0));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].i, 255);
  EXPECT_EQ(got[1].i, -1);
  EXPECT_EQ(got[2].i, -2);

  got = read_column(build_file({i}, 3), 0, &t);
  EXPECT_EQ(t, exec::LogicalType::numeric(9, 3));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].i, -5);
  EXPECT_EQ(got[1].i, 999999999);
}

TEST(ParquetForeign, LegacyConvertedTypesAndUnits) {
  RawColumn ms{element("ms", meta::kInt64, false), {}};
  ms.el.converted_type = meta::kTimestampMillis;
  ms.pages.push_back(page_v1(2, meta::kPlain, nullptr, raw<int64_t>({1700000000123, -1})));
  RawColumn u32{element("u32", meta::kInt32, false), {}};
  u32.el.converted_type = meta::kUint32;
  u32.pages.push_back(page_v1(2, meta::kPlain, nullptr, raw<uint32_t>({4294967295u, 7})));
  RawColumn i8{element("i8", meta::kInt32, false), {}};
  i8.el.converted_type = meta::kInt8;
  i8.pages.push_back(page_v1(2, meta::kPlain, nullptr, raw<int32_t>({-128, 127})));
  RawColumn ns{element("ns", meta::kInt64, false), {}};
  ns.el.logical.kind = meta::LogicalType::kTimestamp;
  ns.el.logical.unit = meta::kNanos;
  ns.el.logical.adjusted_to_utc = true;
  ns.pages.push_back(page_v1(2, meta::kPlain, nullptr, raw<int64_t>({-1500, 1700000000123456789})));
  std::string file = build_file({ms, u32, i8, ns}, 2);
  exec::LogicalType t;
  auto got = read_column(file, 0, &t);
  EXPECT_EQ(t.id, TypeId::kTimestamp);
  EXPECT_EQ(got.at(0).i, 1700000000123000);
  EXPECT_EQ(got.at(1).i, -1000);
  got = read_column(file, 1, &t);
  EXPECT_EQ(t.id, TypeId::kBigInt);
  EXPECT_EQ(got.at(0).i, 4294967295);
  got = read_column(file, 2, &t);
  EXPECT_EQ(t.id, TypeId::kSmallInt);
  EXPECT_EQ(got.at(0).i, -128);
  got = read_column(file, 3, &t);
  EXPECT_EQ(t.id, TypeId::kTimestampTz);
  EXPECT_EQ(got.at(0).i, -2);  // floor, not truncation
  EXPECT_EQ(got.at(1).i, 1700000000123456);
}

TEST(ParquetForeign, PlainDictionaryAndPageV2) {
  RawColumn s{element("s", meta::kByteArray), {}};
  s.el.converted_type = meta::kUtf8;
  std::string dict;
  for (std::string x : {"red", "green"}) {
    put_u32le(&dict, static_cast<uint32_t>(x.size()));
    dict += x;
  }
  s.pages.push_back(dict_page(2, dict));
  std::vector<uint32_t> idx = {1, 0, 1, 1};
  std::string iv(1, '\x01');
  rle_hybrid_encode(idx.data(), idx.size(), 1, &iv);
  std::string lv = levels_rle({1, 1, 0, 1, 1});
  s.pages.push_back(page_v1(5, meta::kPlainDictionary, &lv, iv));
  // A v2 page: levels outside the (here uncompressed) values, no length prefix.
  std::string lv2 = levels_rle({0, 1});
  s.pages.push_back(page_v2(2, 1, meta::kRleDictionary, lv2, iv.substr(0, 1) + std::string("\x03\x00", 2)));
  auto got = read_column(build_file({s}, 7), 0);
  ASSERT_EQ(got.size(), 7u);
  std::vector<std::string> want = {"green", "red", "", "green", "green", "", "red"};
  for (size_t i = 0; i < 7; i++) {
    if (i == 2 || i == 5) {
      EXPECT_TRUE(got[i].is_null) << i;
    } else {
      EXPECT_EQ(got[i].s, want[i]) << i;
    }
  }
}

TEST(ParquetForeign, DeltaByteArray) {
  RawColumn s{element("s", meta::kByteArray, false), {}};
  s.el.logical.kind = meta::LogicalType::kString;
  std::string v;
  // prefix lengths 0, 3, 2: block 128, 4 miniblocks, 3 values, first 0; min delta -1,
  // widths 3,0,0,0; packed deltas 4, 0.
  v += std::string("\x80\x01\x04\x03\x00\x01\x03\x00\x00\x00", 10) + std::string("\x04", 1) + std::string(11, '\0');
  // suffix lengths 3, 1, 2: first 3 (zigzag 6), min delta -2 (zigzag 3), widths 2,0,0,0,
  // packed 0, 3.
  v += std::string("\x80\x01\x04\x03\x06\x03\x02\x00\x00\x00", 10) + std::string("\x0c", 1) + std::string(7, '\0');
  v += "abcxyz";
  s.pages.push_back(page_v1(3, meta::kDeltaByteArray, nullptr, v));
  auto got = read_column(build_file({s}, 3), 0);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].s, "abc");
  EXPECT_EQ(got[1].s, "abcx");
  EXPECT_EQ(got[2].s, "abyz");
}

TEST(ParquetForeign, RefusedTypesNameTheColumn) {
  RawColumn t{element("when", meta::kInt64), {}};
  t.el.logical.kind = meta::LogicalType::kTime;
  t.el.logical.unit = meta::kMicros;
  auto r = Reader::open(std::make_unique<testing::MemoryObject>(build_file({t}, 0)), "foreign.parquet");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kUnsupported);
  EXPECT_NE(r.status().message().find("\"when\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("foreign.parquet"), std::string::npos);

  RawColumn n{element("nested", meta::kInt32), {}};
  n.el.num_children = 1;
  r = Reader::open(std::make_unique<testing::MemoryObject>(build_file({n}, 0)), "foreign.parquet");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kUnsupported);

  // A page holding more values than its row group declares.
  RawColumn i{element("i", meta::kInt32, false), {}};
  i.pages.push_back(page_v1(3, meta::kPlain, nullptr, raw<int32_t>({1, 2, 3})));
  std::string f = build_file({i}, 3);
  r = Reader::open(std::make_unique<testing::MemoryObject>(f), "foreign.parquet");
  ASSERT_TRUE(r.ok());
  // Lie: two values claimed in a page of three.
  RawColumn j{element("i", meta::kInt32, false), {}};
  j.pages.push_back(page_v1(3, meta::kPlain, nullptr, raw<int32_t>({1, 2})));
  r = Reader::open(std::make_unique<testing::MemoryObject>(build_file({j}, 3)), "foreign.parquet");
  ASSERT_TRUE(r.ok());
  std::vector<exec::DataChunk> out;
  Status st = (*r)->read_row_group(0, {0}, &out);
  EXPECT_EQ(st.code(), Errc::kCorruption) << st.to_string();
}

}  // namespace
}  // namespace sl::lake::parquet
