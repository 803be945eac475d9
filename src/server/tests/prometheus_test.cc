// The Prometheus text-format writer: HELP/TYPE lines, label escaping, number formats.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "server/prometheus.h"

namespace sl::server {
namespace {

TEST(Prometheus, FamiliesAndSamples) {
  PromWriter w;
  w.family("streamlake_kinesis_records_in_total", "counter", "Records accepted.");
  w.sample("streamlake_kinesis_records_in_total", {{"stream", "sales"}}, 42);
  w.sample("streamlake_kinesis_records_in_total", {{"stream", "b"}, {"shard", "1"}}, 0);
  w.family("streamlake_checkpoint_duration_seconds", "gauge", "Duration of the last checkpoint.");
  w.sample("streamlake_checkpoint_duration_seconds", 0.25);
  EXPECT_EQ(w.text(),
            "# HELP streamlake_kinesis_records_in_total Records accepted.\n"
            "# TYPE streamlake_kinesis_records_in_total counter\n"
            "streamlake_kinesis_records_in_total{stream=\"sales\"} 42\n"
            "streamlake_kinesis_records_in_total{stream=\"b\",shard=\"1\"} 0\n"
            "# HELP streamlake_checkpoint_duration_seconds Duration of the last checkpoint.\n"
            "# TYPE streamlake_checkpoint_duration_seconds gauge\n"
            "streamlake_checkpoint_duration_seconds 0.25\n");
}

TEST(Prometheus, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(PromWriter::escape_label_value("plain"), "plain");
  EXPECT_EQ(PromWriter::escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(PromWriter::escape_label_value("ünïcode"), "ünïcode");
  PromWriter w;
  w.family("m", "gauge", "line one\nback\\slash \"quotes\" stay");
  w.sample("m", {{"view", "we\"ird\nname"}}, 1);
  EXPECT_EQ(w.text(),
            "# HELP m line one\\nback\\\\slash \"quotes\" stay\n"
            "# TYPE m gauge\n"
            "m{view=\"we\\\"ird\\nname\"} 1\n");
}

TEST(Prometheus, FormatsValues) {
  EXPECT_EQ(PromWriter::format_value(0), "0");
  EXPECT_EQ(PromWriter::format_value(-3), "-3");
  EXPECT_EQ(PromWriter::format_value(1234567890123.0), "1234567890123");
  EXPECT_EQ(PromWriter::format_value(0.5), "0.5");
  EXPECT_EQ(PromWriter::format_value(1796691749.922), "1796691749.922");
  EXPECT_EQ(PromWriter::format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(PromWriter::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PromWriter::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(std::stod(PromWriter::format_value(1e300)), 1e300);
}

}  // namespace
}  // namespace sl::server
