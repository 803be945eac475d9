// The Zeppelin converter: interpreters, chart settings and malformed notes, including the
// stored sample of the AWS solution's note (test/server/fixtures/zeppelin_aws_solution.json).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/zeppelin.h"

namespace sl::server {
namespace {

std::string fixture() {
  std::ifstream f(std::string(SL_SOURCE_DIR) + "/test/server/fixtures/zeppelin_aws_solution.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Zeppelin, SplitsTheInterpreterDirective) {
  std::string i, b;
  split_interpreter("%sql\nshow tables", &i, &b);
  EXPECT_EQ(i, "sql");
  EXPECT_EQ(b, "show tables");
  split_interpreter("  %spark.sql SELECT 1", &i, &b);
  EXPECT_EQ(i, "spark.sql");
  EXPECT_EQ(b, "SELECT 1");
  split_interpreter("%sql(type=update)\r\nSELECT 2", &i, &b);
  EXPECT_EQ(i, "sql");
  EXPECT_EQ(b, "SELECT 2");
  split_interpreter("SELECT 3 % 2", &i, &b);
  EXPECT_EQ(i, "");
  EXPECT_EQ(b, "SELECT 3 % 2");
  split_interpreter("%md", &i, &b);
  EXPECT_EQ(i, "md");
  EXPECT_EQ(b, "");
}

TEST(Zeppelin, ConvertsTheAwsSolutionNote) {
  std::string text = fixture();
  ASSERT_FALSE(text.empty()) << "fixture missing";
  ZeppelinNote n = convert_zeppelin_note(text);
  EXPECT_EQ(n.name, "Streaming Data Analytics");
  ASSERT_EQ(n.paragraphs.size(), 6u);
  const auto& p = n.paragraphs;
  EXPECT_EQ(p[0].type, "sql");
  EXPECT_EQ(p[0].text, "show tables");
  EXPECT_EQ(p[0].view.mode, "table");
  EXPECT_EQ(p[1].text, "SELECT * FROM records");
  EXPECT_EQ(p[2].view.mode, "pie");
  EXPECT_EQ(p[2].view.x, "product");
  EXPECT_EQ(p[2].view.y, std::vector<std::string>{"price"});
  EXPECT_FALSE(p[2].view.series.has_value());
  EXPECT_EQ(p[3].view.mode, "bar");
  EXPECT_EQ(p[3].view.x, "zipcode");
  EXPECT_EQ(p[3].view.series, std::optional<std::string>("product"));
  EXPECT_TRUE(p[3].view.stacked);
  EXPECT_EQ(p[4].type, "markdown");
  EXPECT_EQ(p[4].text.rfind("## Streaming analytics", 0), 0u);
  EXPECT_EQ(p[5].type, "text");
  EXPECT_EQ(p[5].unsupported, std::optional<std::string>("%spark"));
  for (size_t i = 0; i < p.size(); i++)
    for (size_t k = i + 1; k < p.size(); k++) EXPECT_NE(p[i].id, p[k].id);
}

TEST(Zeppelin, OlderAndNewerShapes) {
  ZeppelinNote n = convert_zeppelin_note(R"j({"path":"/a/b/Sales","paragraphs":[
    {"text":"SELECT 1","config":{"graph":{"mode":"scatterChart","keys":[{"name":"x"}],"values":[{"name":"y"}]}}},
    {"text":"%sql\nSELECT 2","config":{"results":[{"graph":{"mode":"multiBarChart","stacked":false,
       "keys":[],"values":[{"name":"a"},{"name":"b"}],"groups":[]}}]}},
    {"text":"%python\nprint(1)","config":{"results":{"0":{"graph":{"mode":"pieChart"}}}}},
    {"text":null}, {"config":{}}]})j");
  EXPECT_EQ(n.name, "Sales");
  ASSERT_EQ(n.paragraphs.size(), 3u);
  EXPECT_EQ(n.paragraphs[0].view.mode, "scatter");
  EXPECT_EQ(n.paragraphs[0].view.x, "x");
  EXPECT_EQ(n.paragraphs[1].view.mode, "bar");
  EXPECT_FALSE(n.paragraphs[1].view.stacked);
  EXPECT_EQ(n.paragraphs[1].view.y, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(n.paragraphs[2].type, "text");
  EXPECT_EQ(n.paragraphs[2].view.mode, "table") << "charts are kept for SQL paragraphs only";
  ZeppelinNote unnamed = convert_zeppelin_note(R"j({"paragraphs":[]})j");
  EXPECT_EQ(unnamed.name, "Imported note");
}

TEST(Zeppelin, MalformedNotesNameTheField) {
  auto message = [](const char* text) {
    try {
      convert_zeppelin_note(text);
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, 400);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{").find("body"), std::string::npos);
  EXPECT_NE(message("[]").find("body"), std::string::npos);
  EXPECT_NE(message(R"j({"name":"x"})j").find("paragraphs"), std::string::npos);
  EXPECT_NE(message(R"j({"paragraphs":[7]})j").find("paragraphs[0]"), std::string::npos);
  EXPECT_NE(message(R"j({"paragraphs":[{"text":["a"]}]})j").find("paragraphs[0].text"), std::string::npos);
  EXPECT_NE(message(R"j({"paragraphs":[{"text":"SELECT 1","config":{"results":{"0":{"graph":{"keys":"a"}}}}}]})j")
                .find("keys"),
            std::string::npos);
  EXPECT_NE(message(R"j({"paragraphs":[{"text":"SELECT 1","config":{"results":{"0":{"graph":{"values":[{"n":1}]}}}}}]})j")
                .find("values[0]"),
            std::string::npos);
}

}  // namespace
}  // namespace sl::server
