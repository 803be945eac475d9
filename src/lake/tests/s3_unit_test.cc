// The S3 store's pure pieces: key rules, URI encoding, the XML it reads, dates, backoff,
// multipart ETags, shared-credentials files and the environment. No server.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "lake/s3_store.h"
#include "util/aws_credentials.h"
#include "util/hash.h"

namespace sl::lake {
namespace {

TEST(S3Unit, KeysAreCheckedAndEncoded) {
  EXPECT_TRUE(s3::check_key("historical/2026/12/08/part-0001.parquet").ok());
  EXPECT_TRUE(s3::check_key("a b/ünïcødé/x+y=z&q").ok());
  EXPECT_EQ(s3::check_key("").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key("/abs").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key("a/../b").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key("..").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key(std::string(1025, 'k')).code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key(std::string("a\0b", 3)).code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key("a\rb").code(), Errc::kInvalidArgument);
  EXPECT_EQ(s3::check_key("a\x7f").code(), Errc::kInvalidArgument);
  EXPECT_TRUE(s3::check_key("tab-free/é€😀").ok());

  EXPECT_EQ(s3::uri_encode("a b/c~d_e-f.g", true), "a%20b/c~d_e-f.g");
  EXPECT_EQ(s3::uri_encode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(s3::uri_encode("+=&?#%*", true), "%2B%3D%26%3F%23%25%2A");
  EXPECT_EQ(s3::uri_encode("é", true), "%C3%A9");
}

TEST(S3Unit, Uris) {
  auto a = s3::parse_s3_uri("s3://bucket/some/prefix/");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->bucket, "bucket");
  EXPECT_EQ(a->prefix, "some/prefix/");
  auto b = s3::parse_s3_uri("s3://bucket");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prefix, "");
  EXPECT_FALSE(s3::parse_s3_uri("s3:///prefix").ok());
  EXPECT_FALSE(s3::parse_s3_uri("http://bucket/x").ok());
  EXPECT_FALSE(s3::parse_s3_uri("s3://Bucket/x").ok());
  EXPECT_FALSE(s3::parse_s3_uri("s3://bucket/../x").ok());

  S3Options o;
  o.endpoint = "ftp://x";
  EXPECT_EQ(open_s3_store("s3://b/p", o).status().code(), Errc::kInvalidArgument);
  o.endpoint = "http://127.0.0.1:1";
  o.access_key = "only-the-key";
  EXPECT_EQ(open_s3_store("s3://b/p", o).status().code(), Errc::kInvalidArgument);
  o.secret_key = "and-the-secret";
  auto s = open_s3_store("s3://b/p/", o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)->uri(), "s3://b/p");
  EXPECT_EQ((*s)->put("../x", "").code(), Errc::kInvalidArgument);
  EXPECT_EQ((*s)->get("/x").status().code(), Errc::kInvalidArgument);
}

TEST(S3Unit, Xml) {
  EXPECT_EQ(s3::xml_unescape("a&amp;b&lt;c&gt;d&quot;e&apos;f"), "a&b<c>d\"e'f");
  EXPECT_EQ(s3::xml_unescape("&#13;&#x41;&#233;&#x1F600;"), "\rA\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(s3::xml_unescape("&bogus; & &#xZZ;"), "&bogus; & &#xZZ;");
  EXPECT_EQ(s3::xml_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
  std::string_view doc = "<R><Key>k1</Key><KeyCount>2</KeyCount><Key/><Key attr=\"1\">k&amp;3</Key></R>";
  auto keys = s3::xml_elements(doc, "Key");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], "k1");
  EXPECT_EQ(keys[1], "");
  EXPECT_EQ(keys[2], "k&amp;3");
  EXPECT_EQ(s3::xml_first(doc, "KeyCount"), "2");
  EXPECT_EQ(s3::xml_first(doc, "Missing"), "");
}

TEST(S3Unit, ListPages) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>p/</Prefix>"
      "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/a&amp;b</Key><LastModified>2026-12-08T01:02:03.456Z</LastModified>"
      "<ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>p/c&#13;d</Key><LastModified>2026-12-08T01:02:04Z</LastModified><Size>0</Size></Contents>"
      "<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>";
  auto page = s3::parse_list_page(xml);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a&b");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].modified_ms, 1796691723456);
  EXPECT_EQ(page->objects[1].key, "p/c\rd");
  EXPECT_EQ(page->objects[1].modified_ms, 1796691724000);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "tok+/=");

  EXPECT_EQ(s3::parse_list_page("<Error><Code>x</Code></Error>").status().code(), Errc::kCorruption);
  EXPECT_EQ(s3::parse_list_page("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").status().code(),
            Errc::kCorruption);
  EXPECT_EQ(s3::parse_list_page("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>")
                .status()
                .code(),
            Errc::kCorruption);
  auto empty = s3::parse_list_page("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_FALSE(empty->truncated);
}

TEST(S3Unit, Dates) {
  EXPECT_EQ(s3::parse_iso8601_ms("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(s3::parse_iso8601_ms("2026-12-08T01:02:03.4Z"), 1796691723400);
  EXPECT_EQ(s3::parse_iso8601_ms("2026-12-08T01:02:03.456789Z"), 1796691723456);
  EXPECT_EQ(s3::parse_iso8601_ms("2026-12-08 01:02:03Z"), -1);
  EXPECT_EQ(s3::parse_iso8601_ms("2026-13-08T01:02:03Z"), -1);
  EXPECT_EQ(s3::parse_http_date_ms("Tue, 08 Dec 2026 01:02:03 GMT"), 1796691723000);
  EXPECT_EQ(s3::parse_http_date_ms("Tue, 08 Foo 2026 01:02:03 GMT"), -1);
  EXPECT_EQ(s3::parse_http_date_ms(""), -1);
}

TEST(S3Unit, Backoff) {
  EXPECT_EQ(s3::backoff_bound_ms(0, 50), 50);
  EXPECT_EQ(s3::backoff_bound_ms(1, 50), 100);
  EXPECT_EQ(s3::backoff_bound_ms(6, 50), 3200);
  EXPECT_EQ(s3::backoff_bound_ms(7, 50), 5000);
  EXPECT_EQ(s3::backoff_bound_ms(60, 50), 5000);
  EXPECT_EQ(s3::backoff_bound_ms(3, 0), 8);
}

TEST(S3Unit, MultipartEtag) {
  // md5("a") = 0cc175b9c0f1b6a831c399e269772661, md5("b") = 92eb5ffee6ae2fec3ad71c777531578f;
  // the multipart ETag is md5 of their 32 binary bytes, then "-2".
  std::string e = s3::multipart_etag({"\"0cc175b9c0f1b6a831c399e269772661\"", "92eb5ffee6ae2fec3ad71c777531578f"});
  std::string bin;
  for (const char* h : {"0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f"}) {
    for (int i = 0; i < 32; i += 2) bin.push_back(static_cast<char>(std::stoi(std::string(h + i, 2), nullptr, 16)));
  }
  EXPECT_EQ(e, hex_lower(md5(bin)) + "-2");
  EXPECT_EQ(s3::multipart_etag({"not-an-md5"}), "");
}

TEST(S3Unit, SharedCredentialsAndEnvironment) {
  std::string ini =
      "# comment\n[default]\naws_access_key_id = AKDEF\naws_secret_access_key=SKDEF\n\n"
      "[ci]\r\n; other comment\r\naws_access_key_id=AKCI\r\naws_secret_access_key = SK/CI=\r\naws_session_token = T\r\n";
  auto d = parse_aws_credentials(ini, "default");
  EXPECT_EQ(d.access_key, "AKDEF");
  EXPECT_EQ(d.secret_key, "SKDEF");
  EXPECT_EQ(d.session_token, "");
  auto ci = parse_aws_credentials(ini, "ci");
  EXPECT_EQ(ci.access_key, "AKCI");
  EXPECT_EQ(ci.secret_key, "SK/CI=");
  EXPECT_EQ(ci.session_token, "T");
  EXPECT_EQ(parse_aws_credentials(ini, "none").access_key, "");

  char tmpl[] = "/tmp/sl_s3_credsXXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl) << ini;
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                        "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE"})
    unsetenv(v);
  setenv("AWS_SHARED_CREDENTIALS_FILE", tmpl, 1);
  setenv("AWS_PROFILE", "ci", 1);
  setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
  setenv("AWS_ENDPOINT_URL", "http://generic:1", 1);
  S3Options o;
  o.fill_from_environment();
  EXPECT_EQ(o.access_key, "AKCI");
  EXPECT_EQ(o.session_token, "T");
  EXPECT_EQ(o.region, "eu-west-1");
  EXPECT_EQ(o.endpoint, "http://generic:1");

  // The environment's keys beat the file; explicit settings beat both.
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
  setenv("AWS_REGION", "eu-north-1", 1);
  setenv("AWS_ENDPOINT_URL_S3", "http://s3-specific:2", 1);
  S3Options e;
  e.fill_from_environment();
  EXPECT_EQ(e.access_key, "AKENV");
  EXPECT_EQ(e.session_token, "");
  EXPECT_EQ(e.region, "eu-north-1");
  EXPECT_EQ(e.endpoint, "http://s3-specific:2");
  S3Options x;
  x.access_key = "AKX";
  x.secret_key = "SKX";
  x.region = "us-west-2";
  x.endpoint = "http://mine:3";
  x.fill_from_environment();
  EXPECT_EQ(x.access_key, "AKX");
  EXPECT_EQ(x.region, "us-west-2");
  EXPECT_EQ(x.endpoint, "http://mine:3");
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
                        "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"})
    unsetenv(v);
  ::unlink(tmpl);
}

}  // namespace
}  // namespace sl::lake
