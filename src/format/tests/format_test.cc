#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "exec/value.h"
#include "format/convert.h"
#include "format/decoder.h"
#include "format/encoder.h"
#include "format/kpl.h"
#include "util/error.h"
#include "util/hash.h"

namespace sl::format {
namespace {

using exec::LogicalType;
using exec::TypeId;
using Rows = std::vector<std::vector<std::string>>;

struct Decoded {
  Rows rows;
  std::vector<ErrorRow> errors;
  size_t chunks = 0;
};

// Decodes `recs` with chunks of `capacity` rows; each row rendered as PostgreSQL text.
Decoded run(RecordDecoder& dec, const std::vector<RawRecord>& recs, size_t capacity = exec::kVectorSize) {
  Decoded d;
  ErrorSink sink;
  dec.set_input(recs);
  while (!dec.done()) {
    exec::DataChunk chunk = dec.make_chunk(capacity);
    size_t n = dec.decode(chunk, sink);
    EXPECT_EQ(n, chunk.size());
    EXPECT_LE(chunk.size(), capacity);
    d.chunks++;
    for (size_t r = 0; r < chunk.size(); r++) {
      std::vector<std::string> row;
      for (size_t c = 0; c < chunk.column_count(); c++)
        row.push_back(exec::Value::read(chunk.column(c), r).to_string());
      d.rows.push_back(row);
    }
    if (d.chunks > 100000) { ADD_FAILURE() << "decoder does not make progress"; break; }
  }
  d.errors = sink.rows;
  return d;
}

std::vector<RawRecord> one(std::string_view data) { return {RawRecord{data, 3, 42, 1700000000123}}; }

DecoderOptions csv_opts() {
  DecoderOptions o;
  o.format = RecordFormat::kCsv;
  return o;
}
DecoderOptions json_opts() {
  DecoderOptions o;
  o.format = RecordFormat::kJson;
  return o;
}

// Decodes a single CSV field as `t`: the rendered value, or "ERR: reason".
std::string conv(LogicalType t, std::string_view field) {
  DecoderOptions o = csv_opts();
  o.event_time_column.clear();
  RecordDecoder dec({{"v", t}}, o);
  Decoded d = run(dec, one(field));
  if (!d.errors.empty()) return "ERR: " + d.errors[0].reason;
  if (d.rows.size() != 1) return "ROWS " + std::to_string(d.rows.size());
  return d.rows[0][0];
}

// ---- conversions ------------------------------------------------------------------------

TEST(Convert, Integers) {
  EXPECT_EQ(conv(TypeId::kSmallInt, "32767"), "32767");
  EXPECT_EQ(conv(TypeId::kSmallInt, "-32768"), "-32768");
  EXPECT_EQ(conv(TypeId::kSmallInt, "32768"), "ERR: column v: '32768' is out of range for smallint");
  EXPECT_EQ(conv(TypeId::kInteger, "2147483647"), "2147483647");
  EXPECT_EQ(conv(TypeId::kInteger, "2147483648"), "ERR: column v: '2147483648' is out of range for integer");
  EXPECT_EQ(conv(TypeId::kInteger, "-2147483649"), "ERR: column v: '-2147483649' is out of range for integer");
  EXPECT_EQ(conv(TypeId::kBigInt, "9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(conv(TypeId::kBigInt, "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(conv(TypeId::kBigInt, "9223372036854775808"),
            "ERR: column v: '9223372036854775808' is out of range for bigint");
  EXPECT_EQ(conv(TypeId::kInteger, " +12 "), "12");
  EXPECT_EQ(conv(TypeId::kInteger, "abc"), "ERR: column v: 'abc' is not a valid integer");
  EXPECT_EQ(conv(TypeId::kInteger, "1.5"), "ERR: column v: '1.5' is not a valid integer");
  EXPECT_EQ(conv(TypeId::kInteger, "-"), "ERR: column v: '-' is not a valid integer");
  EXPECT_EQ(conv(TypeId::kInteger, "12x"), "ERR: column v: '12x' is not a valid integer");
}

TEST(Convert, Floats) {
  EXPECT_EQ(conv(TypeId::kDouble, "1.5"), "1.5");
  EXPECT_EQ(conv(TypeId::kDouble, "-2.5e3"), "-2500");
  EXPECT_EQ(conv(TypeId::kDouble, "NaN"), "NaN");
  EXPECT_EQ(conv(TypeId::kDouble, "-Infinity"), "-Infinity");
  EXPECT_EQ(conv(TypeId::kDouble, " 3 "), "3");
  EXPECT_EQ(conv(TypeId::kDouble, "1e400"), "ERR: column v: '1e400' is out of range for double precision");
  EXPECT_EQ(conv(TypeId::kDouble, "x1"), "ERR: column v: 'x1' is not a valid double precision");
  EXPECT_EQ(conv(TypeId::kReal, "0.25"), "0.25");
  EXPECT_EQ(conv(TypeId::kReal, "1e39"), "ERR: column v: '1e39' is out of range for real");
}

TEST(Convert, Numeric) {
  LogicalType n = LogicalType::numeric(6, 2);
  EXPECT_EQ(conv(n, "1234.56"), "1234.56");
  EXPECT_EQ(conv(n, "-0.5"), "-0.50");
  EXPECT_EQ(conv(n, "1.005"), "1.01");  // half away from zero
  EXPECT_EQ(conv(n, "9999.99"), "9999.99");
  EXPECT_EQ(conv(n, "10000"), "ERR: column v: '10000' is out of range for numeric(6,2)");
  EXPECT_EQ(conv(n, "1.2.3"), "ERR: column v: '1.2.3' is not a valid numeric(6,2)");
}

TEST(Convert, Booleans) {
  for (const char* t : {"t", "true", "TRUE", "1", "yes", "on"}) EXPECT_EQ(conv(TypeId::kBoolean, t), "t") << t;
  for (const char* f : {"f", "false", "FALSE", "0", "no", "off"}) EXPECT_EQ(conv(TypeId::kBoolean, f), "f") << f;
  EXPECT_EQ(conv(TypeId::kBoolean, "maybe"), "ERR: column v: 'maybe' is not a valid boolean");
}

TEST(Convert, TextAndBytea) {
  EXPECT_EQ(conv(TypeId::kVarchar, " a b "), " a b ");  // text keeps its spaces
  EXPECT_EQ(conv(TypeId::kBytea, "\\x00ff41"), "\\x00ff41");
  EXPECT_EQ(conv(TypeId::kBytea, "\\x0"), "ERR: column v: '\\x0' is not a valid bytea");
  EXPECT_EQ(conv(TypeId::kBytea, "\\xzz"), "ERR: column v: '\\xzz' is not a valid bytea");
}

TEST(Convert, DatesAndTimestamps) {
  EXPECT_EQ(conv(TypeId::kDate, "2024-02-29"), "2024-02-29");
  EXPECT_EQ(conv(TypeId::kDate, "2023-02-29"), "ERR: column v: '2023-02-29' is not a valid date");
  EXPECT_EQ(conv(TypeId::kDate, "1700000000"), "2023-11-14");  // epoch seconds
  EXPECT_EQ(conv(TypeId::kTimestamp, "2024-01-02 03:04:05"), "2024-01-02 03:04:05");
  EXPECT_EQ(conv(TypeId::kTimestamp, "2024-01-02 03:04:05.123456"), "2024-01-02 03:04:05.123456");
  EXPECT_EQ(conv(TypeId::kTimestamp, "2024-01-02T03:04:05.5Z"), "2024-01-02 03:04:05.5");
  EXPECT_EQ(conv(TypeId::kTimestamp, "2024-01-02T03:04:05+02:00"), "2024-01-02 01:04:05");
  EXPECT_EQ(conv(TypeId::kTimestampTz, "2024-01-02T03:04:05-05:30"), "2024-01-02 08:34:05+00");
  EXPECT_EQ(conv(TypeId::kTimestamp, "2024-01-02"), "2024-01-02 00:00:00");
  // all digits: epoch seconds, milliseconds or microseconds by magnitude
  EXPECT_EQ(conv(TypeId::kTimestamp, "1700000000"), "2023-11-14 22:13:20");
  EXPECT_EQ(conv(TypeId::kTimestamp, "1700000000123"), "2023-11-14 22:13:20.123");
  EXPECT_EQ(conv(TypeId::kTimestamp, "1700000000123456"), "2023-11-14 22:13:20.123456");
  EXPECT_EQ(conv(TypeId::kTimestamp, "0"), "1970-01-01 00:00:00");
  EXPECT_EQ(conv(TypeId::kTimestamp, "-86400"), "1969-12-31 00:00:00");
  EXPECT_EQ(conv(TypeId::kTimestamp, "2024-13-01 00:00:00"),
            "ERR: column v: '2024-13-01 00:00:00' is not a valid timestamp without time zone");
  EXPECT_EQ(conv(TypeId::kTimestamp, "yesterday"),
            "ERR: column v: 'yesterday' is not a valid timestamp without time zone");
  EXPECT_EQ(conv(TypeId::kInterval, "1 day 02:00:00"), "1 day 02:00:00");
}

TEST(Convert, PureFunctions) {
  int64_t v;
  EXPECT_EQ(parse_int_text("99999999999999999999", INT64_MIN, INT64_MAX, &v), ConvertError::kRange);
  EXPECT_EQ(parse_int_text("", INT64_MIN, INT64_MAX, &v), ConvertError::kSyntax);
  EXPECT_EQ(epoch_to_micros(99999999999), 99999999999 * 1000000);
  EXPECT_EQ(epoch_to_micros(100000000000), 100000000000 * 1000);
  int64_t us;
  EXPECT_EQ(epoch_double_to_micros(1.5, &us), ConvertError::kOk);
  EXPECT_EQ(us, 1500000);
  EXPECT_EQ(epoch_double_to_micros(NAN, &us), ConvertError::kSyntax);
}

// ---- CSV --------------------------------------------------------------------------------

std::vector<ColumnSpec> sales_schema() {
  return {{"zipcode", TypeId::kInteger}, {"product", TypeId::kVarchar}, {"price", TypeId::kInteger},
          {"ts", TypeId::kTimestamp}};
}

TEST(Csv, MultiRowRecordsAndMetadata) {
  DecoderOptions o = csv_opts();
  o.event_time_column = "ts";
  o.with_partition = o.with_offset = o.with_arrival = true;
  RecordDecoder dec(sales_schema(), o);
  EXPECT_EQ(dec.output_names(),
            (std::vector<std::string>{"zipcode", "product", "price", "ts", "_partition", "_offset", "_arrival"}));
  EXPECT_EQ(dec.event_time_index(), 3u);
  EXPECT_EQ(dec.partition_index(), 4);
  EXPECT_EQ(dec.offset_index(), 5);
  EXPECT_EQ(dec.arrival_index(), 6);
  std::vector<RawRecord> recs = {
      {"98101,product1,45,2024-01-01 10:00:00\n98102,product2,12,2024-01-01 10:00:01\n", 1, 100, 1000},
      {"98103,product3,50,2024-01-01 10:00:02\r\n98104,product4,41,2024-01-01 10:00:03", 2, 200, 2000},
      {"", 2, 201, 2000},
      {"\n\n", 2, 202, 2000},
  };
  Decoded d = run(dec, recs);
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0], (std::vector<std::string>{"98101", "product1", "45", "2024-01-01 10:00:00", "1", "100",
                                                 "1970-01-01 00:00:01+00"}));
  EXPECT_EQ(d.rows[2][1], "product3");  // \r\n stripped
  EXPECT_EQ(d.rows[3], (std::vector<std::string>{"98104", "product4", "41", "2024-01-01 10:00:03", "2", "200",
                                                 "1970-01-01 00:00:02+00"}));
  EXPECT_EQ(dec.rows_decoded(), 4u);
}

TEST(Csv, QuotingAndNulls) {
  RecordDecoder dec({{"a", TypeId::kVarchar}, {"b", TypeId::kVarchar}, {"n", TypeId::kInteger}}, csv_opts());
  Decoded d = run(dec, one("\"x,y\",\"say \"\"hi\"\"\",1\n"
                           ",\"\",\n"
                           "\"multi\nline\",plain,\"7\"\n"
                           "\"\"\"\",\"\"\"\"\"\",2\r\n"));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0][0], "x,y");
  EXPECT_EQ(d.rows[0][1], "say \"hi\"");
  EXPECT_EQ(d.rows[1][0], "NULL");  // empty unquoted -> NULL
  EXPECT_EQ(d.rows[1][1], "");      // quoted empty -> ''
  EXPECT_EQ(d.rows[1][2], "NULL");
  EXPECT_EQ(d.rows[2][0], "multi\nline");
  EXPECT_EQ(d.rows[2][2], "7");
  EXPECT_EQ(d.rows[3][0], "\"");
  EXPECT_EQ(d.rows[3][1], "\"\"");
}

TEST(Csv, QuotedEmptyIsNotNullForNumbers) {
  RecordDecoder dec({{"n", TypeId::kInteger}}, csv_opts());
  Decoded d = run(dec, one("\"\"\n"));
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].reason, "column n: '' is not a valid integer");
}

TEST(Csv, DelimiterQuoteHeaderAndPositions) {
  DecoderOptions o = csv_opts();
  o.delimiter = '|';
  o.quote = '\'';
  o.skip_header = true;
  // columns by position: price is field 2, name field 0; field 1 is ignored
  RecordDecoder dec({{"price", TypeId::kDouble, "", 2}, {"name", TypeId::kVarchar, "", 0}}, o);
  Decoded d = run(dec, one("name|ignored|price\n'a|b'|x|1.5\n'it''s'|y|2|extra|fields\n"));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0][0], "1.5");
  EXPECT_EQ(d.rows[0][1], "a|b");
  EXPECT_EQ(d.rows[1][1], "it's");
}

TEST(Csv, ErrorRowsCarryMetadataAndDecodingContinues) {
  RecordDecoder dec(sales_schema(), csv_opts());
  std::vector<RawRecord> recs = {
      {"1,p,abc,2024-01-01 00:00:00\n2,p,5,2024-01-01 00:00:00\n3,p\n4,\"open,5,x\n", 7, 9001, 55},
      {"5,p,6,2024-01-01 00:00:00\n", 8, 9002, 66},
  };
  Decoded d = run(dec, recs);
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0][0], "2");
  EXPECT_EQ(d.rows[1][0], "5");
  ASSERT_EQ(d.errors.size(), 3u);
  EXPECT_EQ(d.errors[0].partition, 7u);
  EXPECT_EQ(d.errors[0].offset, 9001u);
  EXPECT_EQ(d.errors[0].arrival_ms, 55);
  EXPECT_EQ(d.errors[0].sub_row, 0u);
  EXPECT_EQ(d.errors[0].raw, "1,p,abc,2024-01-01 00:00:00");
  EXPECT_EQ(d.errors[0].reason, "column price: 'abc' is not a valid integer");
  EXPECT_EQ(d.errors[1].sub_row, 2u);
  EXPECT_EQ(d.errors[1].raw, "3,p");
  EXPECT_EQ(d.errors[1].reason, "column price: row has 2 fields, expected at least 3");
  EXPECT_EQ(d.errors[2].sub_row, 3u);
  EXPECT_EQ(d.errors[2].reason, "unterminated quoted field");
  EXPECT_EQ(d.errors[2].raw, "4,\"open,5,x\n");
  EXPECT_EQ(dec.rows_failed(), 3u);
}

TEST(Csv, GarbageAfterClosingQuote) {
  RecordDecoder dec({{"a", TypeId::kVarchar}, {"b", TypeId::kInteger}}, csv_opts());
  Decoded d = run(dec, one("\"a\"x,1\nb,2\n"));
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0][0], "b");
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].reason, "unexpected character after a closing quote");
  EXPECT_EQ(d.errors[0].raw, "\"a\"x,1");
}

TEST(Csv, NullEventTimeIsAnError) {
  DecoderOptions o = csv_opts();
  o.event_time_column = "ts";
  RecordDecoder dec(sales_schema(), o);
  Decoded d = run(dec, one("1,p,2,\n"));
  EXPECT_TRUE(d.rows.empty());
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].reason, "column ts: event time is NULL");
}

TEST(Csv, ArrivalIsEventTimeWithoutEventTimeColumn) {
  RecordDecoder dec({{"a", TypeId::kInteger}}, csv_opts());
  EXPECT_EQ(dec.output_names(), (std::vector<std::string>{"a", "_arrival"}));
  EXPECT_EQ(dec.event_time_index(), 1u);
  Decoded d = run(dec, one("1\n"));
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0][1], "2023-11-14 22:13:20.123+00");
}

TEST(Csv, BadDefinitionsThrow) {
  DecoderOptions o = csv_opts();
  o.event_time_column = "nope";
  EXPECT_THROW(RecordDecoder(sales_schema(), o), UserError);
  o.event_time_column = "price";
  EXPECT_THROW(RecordDecoder(sales_schema(), o), UserError);
  DecoderOptions q = csv_opts();
  q.delimiter = '"';
  EXPECT_THROW(RecordDecoder(sales_schema(), q), UserError);
  DecoderOptions j = json_opts();
  EXPECT_THROW(RecordDecoder({{"a", TypeId::kInteger, "x..y"}}, j), UserError);
  EXPECT_THROW(RecordDecoder({{"a", TypeId::kInteger, "x"}, {"b", TypeId::kInteger, "x.y"}}, j), UserError);
}

// Rows are resumed exactly at chunk boundaries, also inside multi-row records.
TEST(Csv, BatchBoundaries) {
  RecordDecoder dec({{"i", TypeId::kInteger}, {"s", TypeId::kVarchar}}, csv_opts());
  std::vector<std::string> bodies;
  int expect = 0;
  for (int r = 0; r < 50; r++) {
    std::string b;
    for (int k = 0; k < r % 7; k++, expect++) b += std::to_string(expect) + ",s" + std::to_string(expect + 1) + "\n";
    if (r % 5 == 0) b += "bad,row\n";
    bodies.push_back(b);
  }
  std::vector<RawRecord> recs;
  for (size_t i = 0; i < bodies.size(); i++) recs.push_back({bodies[i], 0, i, 0});
  for (size_t cap : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, exec::kVectorSize}) {
    Decoded d = run(dec, recs, cap);
    ASSERT_EQ(d.rows.size(), static_cast<size_t>(expect)) << cap;
    for (int i = 0; i < expect; i++) {
      ASSERT_EQ(d.rows[i][0], std::to_string(i)) << cap;
      ASSERT_EQ(d.rows[i][1], "s" + std::to_string(i + 1)) << cap;
    }
    EXPECT_EQ(d.errors.size(), 10u);
    if (cap == 1) EXPECT_GE(d.chunks, static_cast<size_t>(expect));
  }
}

TEST(Csv, RecordsConsumedTracksProgress) {
  RecordDecoder dec({{"i", TypeId::kInteger}}, csv_opts());
  std::vector<RawRecord> recs = {{"1\n2\n3\n", 0, 0, 0}, {"4\n", 0, 1, 0}};
  dec.set_input(recs);
  ErrorSink sink;
  exec::DataChunk c = dec.make_chunk(2);
  EXPECT_EQ(dec.decode(c, sink), 2u);
  EXPECT_EQ(dec.records_consumed(), 0u);
  EXPECT_FALSE(dec.done());
  c = dec.make_chunk(2);
  EXPECT_EQ(dec.decode(c, sink), 2u);
  EXPECT_EQ(exec::Value::read(c.column(0), 0).to_string(), "3");
  EXPECT_EQ(exec::Value::read(c.column(0), 1).to_string(), "4");
  EXPECT_TRUE(dec.done());
  EXPECT_EQ(dec.records_consumed(), 2u);
}

// ---- JSON -------------------------------------------------------------------------------

TEST(Json, MappingNestedPathsMissingAndExtraFields) {
  RecordDecoder dec({{"id", TypeId::kBigInt},
                     {"name", TypeId::kVarchar},
                     {"city", TypeId::kVarchar, "addr.city"},
                     {"zip", TypeId::kInteger, "addr.geo.zip"},
                     {"ok", TypeId::kBoolean}},
                    json_opts());
  Decoded d = run(dec, one(R"({"id": 1, "name": "a\"b\u00e9", "addr": {"city": "Paris", "geo": {"zip": 75001}}, "ok": true})"
                           "\n"
                           R"({"ok": false, "extra": [1, {"x": 2}], "id": 2})"
                           "\r\n"
                           R"({"id": 3, "addr": null, "name": null})"
                           "\n\n"
                           R"(  {"addr": {"geo": {}, "other": 1}, "id": "4"}  )"
                           "\n"));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0], (std::vector<std::string>{"1", "a\"b\xc3\xa9", "Paris", "75001", "t", d.rows[0][5]}));
  EXPECT_EQ(d.rows[1][0], "2");
  EXPECT_EQ(d.rows[1][1], "NULL");
  EXPECT_EQ(d.rows[1][2], "NULL");
  EXPECT_EQ(d.rows[1][4], "f");
  EXPECT_EQ(d.rows[2][0], "3");
  EXPECT_EQ(d.rows[2][2], "NULL");
  EXPECT_EQ(d.rows[3][0], "4");  // string -> bigint
  EXPECT_EQ(d.rows[3][3], "NULL");
}

// Escapes are found wherever they sit in a string (the no-escape fast path scans words).
TEST(Json, EscapesAtEveryPosition) {
  RecordDecoder dec({{"s", TypeId::kVarchar}, {"n", TypeId::kInteger}}, json_opts());
  std::string text, want;
  std::vector<std::string> expect;
  for (size_t len = 0; len <= 20; len++) {
    std::string plain(len, 'x');
    text += "{\"s\": \"" + plain + "\", \"n\": 1}\n";
    expect.push_back(plain);
    for (size_t at = 0; at < len; at++) {
      std::string esc = plain.substr(0, at) + "\\t" + plain.substr(at + 1);
      text += "{\"s\": \"" + esc + "\", \"n\": 1}\n";
      expect.push_back(plain.substr(0, at) + "\t" + plain.substr(at + 1));
    }
  }
  Decoded d = run(dec, one(text));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), expect.size());
  for (size_t i = 0; i < expect.size(); i++) EXPECT_EQ(d.rows[i][0], expect[i]) << i;
}

TEST(Json, KeyOrderVaries) {
  RecordDecoder dec({{"a", TypeId::kInteger}, {"b", TypeId::kInteger}, {"c", TypeId::kInteger}}, json_opts());
  Decoded d = run(dec, one("{\"a\":1,\"b\":2,\"c\":3}\n{\"c\":6,\"a\":4,\"b\":5}\n{\"b\":8,\"c\":9,\"a\":7}\n"));
  ASSERT_EQ(d.rows.size(), 3u);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) EXPECT_EQ(d.rows[r][c], std::to_string(r * 3 + c + 1));
}

TEST(Json, ShortAndLongKeys) {
  // keys of 1, 7, 8, 15 and 16+ bytes; prefixes of each other must not match
  RecordDecoder dec({{"a", TypeId::kInteger},
                     {"abcdefg", TypeId::kInteger},
                     {"abcdefgh", TypeId::kInteger},
                     {"abcdefghijklmno", TypeId::kInteger},
                     {"abcdefghijklmnopqrstuvwxyz", TypeId::kInteger}},
                    json_opts());
  Decoded d = run(dec, one("{\"abcdefghijklmnopqrstuvwxyz\":5,\"abcdefghijklmno\":4,\"abcdefgh\":3,\"abcdefg\":2,\"a\":1,"
                           "\"ab\":9,\"abcdefghijklmnop\":9,\"abcdefghijklmnopqrstuvwxy\":9}\n"
                           "{\"a\":1}"));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0], (std::vector<std::string>{"1", "2", "3", "4", "5", d.rows[0][5]}));
  EXPECT_EQ(d.rows[1][1], "NULL");
}

TEST(Json, TypeConversions) {
  RecordDecoder dec({{"i", TypeId::kSmallInt},
                     {"d", TypeId::kDouble},
                     {"n", LogicalType::numeric(10, 3)},
                     {"t", TypeId::kTimestamp},
                     {"s", TypeId::kVarchar},
                     {"b", TypeId::kBoolean},
                     {"dt", TypeId::kDate},
                     {"x", TypeId::kBytea},
                     {"r", TypeId::kReal}},
                    json_opts());
  Decoded d = run(dec, one(R"({"i": -5, "d": 1e3, "n": 12.3456, "t": 1700000000123, "s": 42, "b": "yes", "dt": "2024-03-01", "x": "\\x4142", "r": 2})"
                           "\n"
                           R"({"i": "7", "d": "2.5", "n": "1.5", "t": "2024-01-01T00:00:00Z", "s": {"k": [1, 2]}, "b": 1, "dt": 1700000000, "r": 1.5})"
                           "\n"
                           R"({"t": 1700000000.25, "s": true, "d": 3})"
                           "\n"));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(d.rows[0], (std::vector<std::string>{"-5", "1000", "12.346", "2023-11-14 22:13:20.123", "42", "t",
                                                 "2024-03-01", "\\x4142", "2", d.rows[0][9]}));
  EXPECT_EQ(d.rows[1][0], "7");
  EXPECT_EQ(d.rows[1][1], "2.5");
  EXPECT_EQ(d.rows[1][2], "1.500");
  EXPECT_EQ(d.rows[1][3], "2024-01-01 00:00:00");
  EXPECT_EQ(d.rows[1][4], R"({"k": [1, 2]})");
  EXPECT_EQ(d.rows[1][5], "t");
  EXPECT_EQ(d.rows[1][6], "2023-11-14");
  EXPECT_EQ(d.rows[1][8], "1.5");
  EXPECT_EQ(d.rows[2][3], "2023-11-14 22:13:20.25");
  EXPECT_EQ(d.rows[2][4], "true");
  EXPECT_EQ(d.rows[2][1], "3");
}

TEST(Json, ConversionErrors) {
  RecordDecoder dec({{"i", TypeId::kSmallInt}, {"b", TypeId::kBoolean}, {"t", TypeId::kTimestamp}}, json_opts());
  Decoded d = run(dec, one("{\"i\": 40000}\n{\"i\": 1.5}\n{\"i\": \"x\"}\n{\"b\": 7}\n{\"i\": 99999999999999999999}\n"
                           "{\"t\": [1]}\n{\"b\": \"no\"}\n{\"i\": true}\n{\"i\": 2.0}\n{\"i\": 1e2}\n"));
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0][1], "f");
  ASSERT_EQ(d.errors.size(), 9u);
  EXPECT_EQ(d.errors[7].reason, "column i: '2.0' is not a valid smallint");
  EXPECT_EQ(d.errors[8].reason, "column i: '1e2' is not a valid smallint");
  EXPECT_EQ(d.errors[0].reason, "column i: '40000' is out of range for smallint");
  EXPECT_EQ(d.errors[1].reason, "column i: '1.5' is not a valid smallint");
  EXPECT_EQ(d.errors[2].reason, "column i: 'x' is not a valid smallint");
  EXPECT_EQ(d.errors[3].reason, "column b: '7' is not a valid boolean");
  EXPECT_EQ(d.errors[4].reason, "column i: '99999999999999999999' is out of range for smallint");
  EXPECT_EQ(d.errors[5].reason, "column t: '[1]' is not a valid timestamp without time zone");
  EXPECT_EQ(d.errors[6].reason, "column i: 'true' is not a valid smallint");
  EXPECT_EQ(d.errors[0].sub_row, 0u);
  EXPECT_EQ(d.errors[6].sub_row, 7u);
  EXPECT_EQ(d.errors[6].raw, "{\"i\": true}");
}

TEST(Json, MalformedJson) {
  RecordDecoder dec({{"a", TypeId::kInteger}, {"o", TypeId::kVarchar, "x.y"}}, json_opts());
  Decoded d = run(dec, one("{\"a\": 1\n[1,2]\n{\"a\": 2}}\nnot json\n{\"a\": 3, \"x\": 5}\n\"str\"\n{\"a\":4}\n"
                           "{\"a\": 5, \"a\": 6}\n{\"a\":tru}\n"));
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0][0], "4");
  EXPECT_EQ(d.rows[1][0], "6");  // duplicate keys: the last wins
  ASSERT_EQ(d.errors.size(), 7u);
  for (auto& e : d.errors) EXPECT_FALSE(e.reason.empty());
  EXPECT_EQ(d.errors[1].reason, "expected a JSON object");
  EXPECT_EQ(d.errors[2].raw, "{\"a\": 2}}");
  EXPECT_EQ(d.errors[4].reason, "key x: expected a JSON object");
  EXPECT_EQ(d.errors[5].reason, "expected a JSON object");
  EXPECT_EQ(d.errors[6].raw, "{\"a\":tru}");
}

// Projection: columns nobody reads come out NULL, but their values are still checked, so
// exactly the same rows become error rows as when every column is read.
TEST(Json, UnreadColumnsAreNullAndStillChecked) {
  std::vector<ColumnSpec> schema = {{"id", TypeId::kBigInt}, {"name", TypeId::kVarchar}, {"n", TypeId::kInteger},
                                    {"t", TypeId::kTimestamp}, {"tag", TypeId::kVarchar}};
  std::string text =
      "{\"id\": 1, \"name\": \"ann\", \"n\": 5, \"t\": 1700000000000, \"tag\": \"x\"}\n"
      "{\"id\": 2, \"name\": \"b\\\"ob\", \"n\": \"oops\", \"t\": 1700000000000}\n"   // bad n (unread)
      "{\"id\": 3, \"name\": tru, \"t\": 1700000000000}\n"                            // bad literal in unread text
      "{\"id\": 4, \"name\": {\"k\": [1]}, \"n\": 7, \"t\": 1700000000000, \"tag\": 12}\n"
      "{\"id\": 5, \"t\": null}\n";                                                   // NULL event time
  DecoderOptions all = json_opts();
  all.event_time_column = "t";
  DecoderOptions proj = all;
  proj.read_columns = {1, 0, 0, 0, 1};  // id and tag (t, the event time, is kept anyway)
  RecordDecoder full_dec(schema, all), proj_dec(schema, proj);
  Decoded full = run(full_dec, one(text)), part = run(proj_dec, one(text));
  ASSERT_EQ(full.rows.size(), 2u);
  ASSERT_EQ(part.rows.size(), 2u);
  ASSERT_EQ(part.errors.size(), full.errors.size());
  ASSERT_EQ(part.errors.size(), 3u);
  for (size_t i = 0; i < full.errors.size(); i++) {
    EXPECT_EQ(part.errors[i].reason, full.errors[i].reason);
    EXPECT_EQ(part.errors[i].sub_row, full.errors[i].sub_row);
    EXPECT_EQ(part.errors[i].raw, full.errors[i].raw);
  }
  EXPECT_EQ(full.rows[1][1], R"({"k": [1]})");
  for (size_t r = 0; r < 2; r++) {
    EXPECT_EQ(part.rows[r][0], full.rows[r][0]);
    EXPECT_EQ(part.rows[r][1], "NULL");
    EXPECT_EQ(part.rows[r][2], "NULL");
    EXPECT_EQ(part.rows[r][3], full.rows[r][3]);
    EXPECT_EQ(part.rows[r][4], full.rows[r][4]);
  }
  EXPECT_EQ(part.rows[1][4], "12");
  // Small chunks, and a chunk the caller built (not make_chunk's): the same rows.
  EXPECT_EQ(run(proj_dec, one(text), 1).rows, part.rows);
  {
    ErrorSink sink;
    std::vector<RawRecord> recs = one(text);  // set_input borrows the records
    proj_dec.set_input(recs);
    exec::DataChunk own(proj_dec.output_types());
    while (!proj_dec.done()) proj_dec.decode(own, sink);
    ASSERT_EQ(own.size(), 2u);
    for (size_t r = 0; r < 2; r++)
      for (size_t c = 0; c < 5; c++)
        EXPECT_EQ(exec::Value::read(own.column(c), r).to_string(), part.rows[r][c]) << r << " " << c;
  }
  // CSV too.
  DecoderOptions csv = csv_opts();
  csv.read_columns = {0, 1};
  RecordDecoder csv_dec({{"a", TypeId::kInteger}, {"b", TypeId::kVarchar}}, csv);
  Decoded c = run(csv_dec, one("1,x\nbad,y\n3,\"z\"\"\"\n"));
  ASSERT_EQ(c.rows.size(), 2u);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].reason, "column a: 'bad' is not a valid integer");
  EXPECT_EQ(c.rows[0], (std::vector<std::string>{"NULL", "x", c.rows[0][2]}));
  EXPECT_EQ(c.rows[1][1], "z\"");
  EXPECT_THROW(RecordDecoder({{"a", TypeId::kInteger}}, csv), UserError);  // 2 entries for 1 column
}

TEST(Json, EventTimeAndBatchBoundaries) {
  DecoderOptions o = json_opts();
  o.event_time_column = "ts";
  o.with_offset = true;
  RecordDecoder dec({{"n", TypeId::kInteger}, {"ts", TypeId::kTimestampTz, "meta.ts"}}, o);
  std::vector<std::string> bodies;
  int expect = 0;
  for (int r = 0; r < 40; r++) {
    std::string b;
    for (int k = 0; k < r % 4; k++, expect++)
      b += "{\"n\": " + std::to_string(expect) + ", \"meta\": {\"ts\": \"" + std::to_string(1700000000001 + expect) +
           "\"}}\n";
    if (r % 9 == 0) b += "{\"n\": 1}\n";  // no event time
    bodies.push_back(b);
  }
  std::vector<RawRecord> recs;
  for (size_t i = 0; i < bodies.size(); i++) recs.push_back({bodies[i], 0, 1000 + i, 0});
  for (size_t cap : {size_t{1}, size_t{2}, size_t{7}, exec::kVectorSize}) {
    Decoded d = run(dec, recs, cap);
    ASSERT_EQ(d.rows.size(), static_cast<size_t>(expect));
    for (int i = 0; i < expect; i++) ASSERT_EQ(d.rows[i][0], std::to_string(i));
    EXPECT_EQ(d.rows[0][1], "2023-11-14 22:13:20.001+00");
    ASSERT_EQ(d.errors.size(), 5u);
    EXPECT_EQ(d.errors[0].reason, "column ts: event time is NULL");
    EXPECT_EQ(d.errors[1].offset, 1009u);
  }
}

// ---- KPL --------------------------------------------------------------------------------

void varint(std::string& o, uint64_t v) {
  while (v >= 0x80) { o.push_back(static_cast<char>((v & 0x7F) | 0x80)); v >>= 7; }
  o.push_back(static_cast<char>(v));
}
void len_field(std::string& o, int field, std::string_view s) {
  varint(o, (field << 3) | 2);
  varint(o, s.size());
  o += s;
}
std::string frame(const std::string& body) {
  std::string out("\xF3\x89\x9A\xC2", 4);
  out += body;
  Md5Digest d = md5(body);
  out.append(reinterpret_cast<const char*>(d.data()), 16);
  return out;
}
// Hand-encoded AggregatedRecord: two partition keys, one explicit hash key, three records.
std::string hand_aggregate(const std::vector<std::string>& datas) {
  std::string body;
  len_field(body, 1, "pk-a");
  len_field(body, 1, "pk-b");
  len_field(body, 2, "12345");
  for (size_t i = 0; i < datas.size(); i++) {
    std::string rec;
    varint(rec, (1 << 3) | 0);
    varint(rec, i % 2);
    if (i == 1) { varint(rec, (2 << 3) | 0); varint(rec, 0); }
    len_field(rec, 3, datas[i]);
    // a tag {key: "k", value: "v"}, skipped by the decoder
    std::string tag;
    len_field(tag, 1, "k");
    len_field(tag, 2, "v");
    len_field(rec, 4, tag);
    len_field(body, 3, rec);
  }
  return frame(body);
}

TEST(Kpl, PublishedExampleRecord) {
  // An aggregate of one record (partition key "partition_key", data "data") as published
  // with the Elixir port of the KPL aggregator (ex_kpl): magic, protobuf, MD5.
  const unsigned char bytes[] = {243, 137, 154, 194, 10, 13, 112, 97, 114, 116, 105, 116, 105, 111, 110, 95, 107,
                                 101, 121, 26, 8, 8, 0, 26, 4, 100, 97, 116, 97, 208, 54, 153, 218, 90, 34, 47,
                                 163, 33, 8, 173, 27, 217, 85, 161, 78};
  std::string_view rec(reinterpret_cast<const char*>(bytes), sizeof bytes);
  ASSERT_TRUE(is_kpl_aggregate(rec));
  std::vector<KplRecord> out;
  ASSERT_TRUE(kpl_deaggregate(rec, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].partition_key, "partition_key");
  EXPECT_EQ(out[0].data, "data");
  EXPECT_EQ(kpl_aggregate({{"partition_key", "", "data"}}), std::string(rec));
}

TEST(Kpl, DeaggregateHandEncoded) {
  std::string agg = hand_aggregate({"1,a\n2,b\n", "3,c", "4,d\n"});
  std::vector<KplRecord> out;
  ASSERT_TRUE(kpl_deaggregate(agg, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].partition_key, "pk-a");
  EXPECT_EQ(out[1].partition_key, "pk-b");
  EXPECT_EQ(out[1].explicit_hash_key, "12345");
  EXPECT_EQ(out[2].explicit_hash_key, "");
  EXPECT_EQ(out[1].data, "3,c");
  // round trip through our aggregator
  std::vector<KplRecord> again;
  std::string agg2 = kpl_aggregate(out);
  ASSERT_TRUE(kpl_deaggregate(agg2, &again).ok());
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < 3; i++) {
    EXPECT_EQ(again[i].data, out[i].data);
    EXPECT_EQ(again[i].partition_key, out[i].partition_key);
    EXPECT_EQ(again[i].explicit_hash_key, out[i].explicit_hash_key);
  }
}

TEST(Kpl, DecoderDeaggregatesAndPassesPlainRecordsThrough) {
  RecordDecoder dec({{"i", TypeId::kInteger}, {"s", TypeId::kVarchar}}, csv_opts());
  std::string agg = hand_aggregate({"1,a\n2,b\n", "x,c", "4,d\n"});
  std::vector<RawRecord> recs = {{agg, 5, 77, 0}, {"5,e\n", 5, 78, 0}};
  for (size_t cap : {size_t{1}, size_t{2}, exec::kVectorSize}) {
    Decoded d = run(dec, recs, cap);
    ASSERT_EQ(d.rows.size(), 4u);
    EXPECT_EQ(d.rows[0][0], "1");
    EXPECT_EQ(d.rows[1][0], "2");
    EXPECT_EQ(d.rows[2][0], "4");
    EXPECT_EQ(d.rows[3][0], "5");
    ASSERT_EQ(d.errors.size(), 1u);
    EXPECT_EQ(d.errors[0].offset, 77u);
    EXPECT_EQ(d.errors[0].sub_row, 2u);  // third row of the outer record
    EXPECT_EQ(d.errors[0].raw, "x,c");
  }
}

TEST(Kpl, JsonInsideAggregate) {
  RecordDecoder dec({{"a", TypeId::kInteger}}, json_opts());
  std::string agg = hand_aggregate({"{\"a\":1}\n{\"a\":2}", "{\"a\":3}"});
  Decoded d = run(dec, {RawRecord{agg, 0, 0, 0}});
  ASSERT_TRUE(d.errors.empty());
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(d.rows[2][0], "3");
}

TEST(Kpl, CorruptAggregatesAreErrorRows) {
  std::string good = hand_aggregate({"1,a\n"});
  std::string bad_md5 = good;
  bad_md5.back() ^= 1;
  std::string truncated_body;
  len_field(truncated_body, 1, "pk");
  truncated_body += std::string("\x1a\x10\x08\x00", 4);  // record claims 16 bytes, has 2
  std::string bad_index_body;
  {
    std::string rec;
    varint(rec, (1 << 3) | 0);
    varint(rec, 3);  // partition key table has 1 entry
    len_field(rec, 3, "9,z");
    len_field(bad_index_body, 1, "pk");
    len_field(bad_index_body, 3, rec);
  }
  std::string no_data_body;
  {
    std::string rec;
    varint(rec, (1 << 3) | 0);
    varint(rec, 0);
    len_field(no_data_body, 1, "pk");
    len_field(no_data_body, 3, rec);
  }
  std::string bad_wire = frame(std::string("\x0f\x01", 2));  // wire type 7
  std::vector<std::string> bads = {bad_md5, frame(truncated_body), frame(bad_index_body), frame(no_data_body), bad_wire};
  std::vector<RawRecord> recs;
  for (size_t i = 0; i < bads.size(); i++) recs.push_back({bads[i], 1, 10 + i, 0});
  recs.push_back({good, 1, 99, 0});
  RecordDecoder dec({{"i", TypeId::kInteger}, {"s", TypeId::kVarchar}}, csv_opts());
  Decoded d = run(dec, recs);
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0][1], "a");
  ASSERT_EQ(d.errors.size(), bads.size());
  EXPECT_EQ(d.errors[0].reason, "corrupt KPL aggregate: MD5 mismatch");
  for (size_t i = 0; i < bads.size(); i++) {
    EXPECT_EQ(d.errors[i].offset, 10 + i);
    EXPECT_EQ(d.errors[i].raw, bads[i]);
    EXPECT_NE(d.errors[i].reason.find("corrupt KPL aggregate"), std::string::npos) << d.errors[i].reason;
  }
  std::vector<KplRecord> out;
  EXPECT_EQ(kpl_deaggregate(frame(bad_index_body), &out).code(), Errc::kCorruption);
  // KPL off: the aggregate is just bytes (here: not JSON)
  DecoderOptions o = json_opts();
  o.kpl = false;
  RecordDecoder plain({{"s", TypeId::kVarchar}}, o);
  Decoded p = run(plain, {RawRecord{good, 0, 0, 0}});
  EXPECT_TRUE(p.rows.empty());
  ASSERT_FALSE(p.errors.empty());
  EXPECT_EQ(p.errors[0].reason.find("KPL"), std::string::npos);
}

// Mutated inputs never crash the decoders (the ASan build runs this too): every record
// ends as rows or error rows, and decoding always finishes.
// Records that say padding follows them are parsed in place: same rows and errors as from
// the padded copy, also for KPL aggregates and multi-row records.
TEST(Json, PaddedRecordsParseInPlace) {
  std::vector<std::string> texts = {"{\"a\": 1, \"s\": \"x\"}\n{\"a\": 2}\n", "{\"s\": \"y\\u00e9\", \"a\": 3}",
                                    "{\"a\": ", "{\"a\": 4}\n\n{\"a\": \"no\"}\n"};
  texts.push_back(hand_aggregate({"{\"a\": 5, \"s\": \"k\"}", "{\"a\": 6}\n{\"a\": 7}"}));
  // Back to back in one buffer (as in the log's read buffer), the last followed by padding
  // that would break a parser reading the wrong bytes.
  std::string buf;
  std::vector<std::pair<size_t, size_t>> at;
  for (auto& t : texts) {
    at.push_back({buf.size(), t.size()});
    buf += t;
    buf += "}]\"";
  }
  buf.append(kRecordPadding, '{');
  std::vector<RawRecord> in_place, copied;
  for (size_t i = 0; i < texts.size(); i++) {
    in_place.push_back({std::string_view(buf).substr(at[i].first, at[i].second), 1, i, 0, true});
    copied.push_back({texts[i], 1, i, 0, false});
  }
  RecordDecoder d1({{"a", TypeId::kInteger}, {"s", TypeId::kVarchar}}, json_opts());
  RecordDecoder d2({{"a", TypeId::kInteger}, {"s", TypeId::kVarchar}}, json_opts());
  Decoded x = run(d1, in_place, 2), y = run(d2, copied, 2);
  EXPECT_EQ(x.rows, y.rows);
  ASSERT_EQ(x.errors.size(), y.errors.size());
  for (size_t i = 0; i < x.errors.size(); i++) EXPECT_EQ(x.errors[i].reason, y.errors[i].reason);
  EXPECT_EQ(x.rows.size(), 7u);
  EXPECT_EQ(x.errors.size(), 2u);
}

TEST(Robustness, MutatedInputs) {
  std::mt19937 rng(1234);
  std::string csv = "1,\"a\"\"b\",2024-01-01 00:00:00\n2,x,1700000000\r\n";
  std::string json = "{\"i\": 1, \"s\": \"a\\u00e9\", \"t\": {\"u\": 5}}\n{\"i\": \"2\"}\n";
  std::vector<std::string> kpl_bodies;
  for (int k = 0; k < 300; k++) {
    std::string agg = hand_aggregate({csv, json, "3,y,0\n"});
    std::string body = agg.substr(4, agg.size() - 20);
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; f++) body[rng() % body.size()] = static_cast<char>(rng());
    if (rng() % 3 == 0) body.resize(rng() % body.size());
    kpl_bodies.push_back(frame(body));  // valid MD5 over a damaged protobuf
  }
  std::vector<std::string> texts;
  for (int k = 0; k < 300; k++) {
    std::string t = (k % 2) ? csv : json;
    int flips = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < flips; f++) t[rng() % t.size()] = "\",\n\r{}[]:\\x0 "[rng() % 14];
    if (rng() % 4 == 0) t.resize(rng() % t.size());
    texts.push_back(t);
  }
  std::vector<RawRecord> recs;
  for (auto& b : kpl_bodies) recs.push_back({b, 0, recs.size(), 0});
  for (auto& t : texts) recs.push_back({t, 0, recs.size(), 0});
  for (RecordFormat f : {RecordFormat::kCsv, RecordFormat::kJson}) {
    DecoderOptions o;
    o.format = f;
    RecordDecoder dec({{"i", TypeId::kInteger}, {"s", TypeId::kVarchar}, {"t", TypeId::kTimestamp, "t.u"}}, o);
    for (size_t cap : {size_t{1}, size_t{3}, exec::kVectorSize}) {
      Decoded d = run(dec, recs, cap);
      EXPECT_GT(d.rows.size() + d.errors.size(), recs.size() / 2);
      for (const ErrorRow& e : d.errors) EXPECT_FALSE(e.reason.empty());
    }
  }
}

// ---- errors table, encoders ---------------------------------------------------------------

TEST(Errors, AppendErrorsToChunk) {
  std::vector<ErrorRow> rows = {{1, 2, 3000, 4, "why", std::string("r\0w", 3)}, {5, 6, 7, 8, "b", "c"}, {9, 9, 9, 9, "d", "e"}};
  exec::DataChunk c(error_column_types(), 2);
  EXPECT_EQ(error_column_names().size(), 6u);
  EXPECT_EQ(append_errors(rows, 0, c), 2u);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(exec::Value::read(c.column(0), 0).to_string(), "1");
  EXPECT_EQ(exec::Value::read(c.column(2), 0).to_string(), "1970-01-01 00:00:03+00");
  EXPECT_EQ(exec::Value::read(c.column(4), 0).to_string(), "why");
  EXPECT_EQ(exec::Value::read(c.column(5), 0).to_string(), "\\x720077");
  exec::DataChunk c2(error_column_types(), 2);
  EXPECT_EQ(append_errors(rows, 2, c2), 1u);
  EXPECT_EQ(exec::Value::read(c2.column(3), 0).to_string(), "9");
}

exec::DataChunk sample_chunk(std::vector<std::string>* names) {
  *names = {"i", "s", "b", "d", "n", "ts", "x"};
  std::vector<LogicalType> types = {TypeId::kInteger, TypeId::kVarchar,  TypeId::kBoolean,
                                    TypeId::kDouble,  LogicalType::numeric(8, 2), TypeId::kTimestamp,
                                    TypeId::kBytea};
  exec::DataChunk c(types, 4);
  exec::Value::integer(1).write(c.column(0), 0);
  exec::Value::text("a,\"b\"\nc").write(c.column(1), 0);
  exec::Value::boolean(true).write(c.column(2), 0);
  exec::Value::dbl(1.5).write(c.column(3), 0);
  exec::Value::numeric(-12345, 8, 2).write(c.column(4), 0);
  exec::Value::make_int(TypeId::kTimestamp, 1700000000123000).write(c.column(5), 0);
  exec::Value x = exec::Value::text(std::string("\x01\xff", 2));
  x.type = TypeId::kBytea;
  x.write(c.column(6), 0);
  for (size_t k = 0; k < 7; k++) c.column(k).set_null(1);
  exec::Value::text("").write(c.column(1), 2);
  exec::Value::text(" pad ").write(c.column(1), 3);
  for (size_t r = 2; r < 4; r++) {
    exec::Value::integer(static_cast<int32_t>(r)).write(c.column(0), r);
    exec::Value::dbl(r == 2 ? NAN : -INFINITY).write(c.column(3), r);
    for (size_t k : {2, 4, 5, 6}) c.column(k).set_null(r);
  }
  c.set_size(4);
  return c;
}

TEST(Encoders, CsvRoundTrip) {
  std::vector<std::string> names;
  exec::DataChunk c = sample_chunk(&names);
  std::string out;
  write_csv_header(names, {}, out);
  write_csv(c, {}, out);
  EXPECT_EQ(out,
            "i,s,b,d,n,ts,x\n"
            "1,\"a,\"\"b\"\"\nc\",t,1.5,-123.45,2023-11-14 22:13:20.123,\\x01ff\n"
            ",,,,,,\n"
            "2,\"\",,NaN,,,\n"
            "3,\" pad \",,-Infinity,,,\n");
  std::vector<ColumnSpec> schema;
  for (size_t k = 0; k < names.size(); k++) schema.push_back({names[k], c.column(k).type()});
  DecoderOptions o = csv_opts();
  o.skip_header = true;
  RecordDecoder dec(schema, o);
  Decoded d = run(dec, one(out));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 4u);
  for (size_t r = 0; r < 4; r++)
    for (size_t k = 0; k < names.size(); k++)
      EXPECT_EQ(d.rows[r][k], exec::Value::read(c.column(k), r).to_string()) << r << "," << k;
}

TEST(Encoders, JsonLinesRoundTrip) {
  std::vector<std::string> names;
  exec::DataChunk c = sample_chunk(&names);
  std::string out;
  write_json_lines(c, names, out);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            R"({"i":1,"s":"a,\"b\"\nc","b":true,"d":1.5,"n":-123.45,"ts":"2023-11-14 22:13:20.123","x":"\\x01ff"})");
  std::vector<ColumnSpec> schema;
  for (size_t k = 0; k < names.size(); k++) schema.push_back({names[k], c.column(k).type()});
  RecordDecoder dec(schema, json_opts());
  Decoded d = run(dec, one(out));
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].reason;
  ASSERT_EQ(d.rows.size(), 4u);
  for (size_t r = 0; r < 4; r++)
    for (size_t k = 0; k < names.size(); k++)
      EXPECT_EQ(d.rows[r][k], exec::Value::read(c.column(k), r).to_string()) << r << "," << k;
}

TEST(Encoders, JsonStringEscapes) {
  std::string o;
  append_json_string(std::string("a\"\\\n\x01", 5), o);
  EXPECT_EQ(o, R"("a\"\\\n\u0001")");
}

}  // namespace
}  // namespace sl::format
