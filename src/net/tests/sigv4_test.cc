// SigV4: the AWS documentation's published example, round trips, tampering, presigned form.
#include "net/sigv4.h"

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "util/hash.h"
#include "util/time.h"

namespace sl::net {
namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
// 2015-08-30T12:36:00Z
constexpr int64_t kExampleMs = 1440938160000LL;

SecretLookup lookup() {
  return [](std::string_view ak) -> std::optional<std::string> {
    if (ak == "AKIDEXAMPLE") return std::string(kSecret);
    return std::nullopt;
  };
}

HttpRequest aws_example() {
  HttpRequest r;
  r.method = "GET";
  r.path = "/";
  r.query = "Action=ListUsers&Version=2010-05-08";
  r.target = "/?Action=ListUsers&Version=2010-05-08";
  r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"host", "iam.amazonaws.com"},
               {"x-amz-date", "20150830T123600Z"}};
  return r;
}

constexpr const char* kExampleSig = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

TEST(SigV4, AwsDocumentationExample) {
  HttpRequest r = aws_example();
  std::string cr = sigv4_canonical_request(
      r, "content-type;host;x-amz-date", "iam",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false);
  EXPECT_EQ(cr,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_lower(sha256(cr)), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  std::string sts =
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
      "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
  EXPECT_EQ(sigv4_signature(kSecret, "20150830", "us-east-1", "iam", sts), kExampleSig);

  // Verify the documented Authorization header.
  r.headers.emplace_back("authorization",
                         std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                                     "iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                                     "Signature=") + kExampleSig);
  auto v = verify_sigv4(r, lookup(), kExampleMs + 60000);
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.access_key, "AKIDEXAMPLE");
  EXPECT_EQ(v.region, "us-east-1");
  EXPECT_EQ(v.service, "iam");

  // Our signer produces the same header.
  HttpRequest s = aws_example();
  sign_sigv4(s, "AKIDEXAMPLE", kSecret, "us-east-1", "iam", kExampleMs);
  const std::string* auth = s.header("authorization");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(*auth, std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
                               "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                               "Signature=") + kExampleSig);
}

HttpRequest kinesis_put(int64_t now) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.target = "/";
  r.body = R"({"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"k"})";
  r.headers = {{"host", "127.0.0.1:4566"},
               {"content-type", "application/x-amz-json-1.1"},
               {"x-amz-target", "Kinesis_20131202.PutRecord"}};
  sign_sigv4(r, "AKIDEXAMPLE", kSecret, "us-east-1", "kinesis", now);
  return r;
}

TEST(SigV4, RoundTripAndTampering) {
  using E = SigV4Result::Error;
  const int64_t now = 1764000000000LL;
  HttpRequest r = kinesis_put(now);
  EXPECT_TRUE(verify_sigv4(r, lookup(), now).ok());
  EXPECT_TRUE(verify_sigv4(r, lookup(), now + 14 * 60 * 1000).ok());

  HttpRequest body = r;
  body.body[20] = 'X';
  EXPECT_EQ(verify_sigv4(body, lookup(), now).error, E::kBadSignature);

  HttpRequest hdr = r;
  for (auto& [k, v] : hdr.headers)
    if (k == "x-amz-target") v = "Kinesis_20131202.DeleteStream";
  EXPECT_EQ(verify_sigv4(hdr, lookup(), now).error, E::kBadSignature);

  HttpRequest date = r;
  for (auto& [k, v] : date.headers)
    if (k == "x-amz-date") v = sigv4_amz_date(now + 1000);
  EXPECT_EQ(verify_sigv4(date, lookup(), now).error, E::kBadSignature);

  auto late = verify_sigv4(r, lookup(), now + 16 * 60 * 1000);
  EXPECT_EQ(late.error, E::kExpired);
  EXPECT_NE(late.message.find("Signature expired"), std::string::npos);
  EXPECT_EQ(verify_sigv4(r, lookup(), now - 16 * 60 * 1000).error, E::kExpired);

  EXPECT_EQ(verify_sigv4(r, [](std::string_view) { return std::nullopt; }, now).error,
            E::kUnknownKey);

  HttpRequest none = r;
  std::erase_if(none.headers, [](auto& h) { return h.first == "authorization"; });
  EXPECT_EQ(verify_sigv4(none, lookup(), now).error, E::kMissing);

  HttpRequest bad = none;
  bad.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x");
  EXPECT_EQ(verify_sigv4(bad, lookup(), now).error, E::kMalformed);
  bad.headers.back().second = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(verify_sigv4(bad, lookup(), now).error, E::kMalformed);
  bad.headers.back().second =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251124/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=00";
  EXPECT_EQ(verify_sigv4(bad, lookup(), now).error, E::kBadSignature);

  // Wrong secret.
  HttpRequest other = r;
  sign_sigv4(other, "AKIDEXAMPLE", "not-the-secret", "us-east-1", "kinesis", now);
  EXPECT_EQ(verify_sigv4(other, lookup(), now).error, E::kBadSignature);
  EXPECT_STREQ(sigv4_error_type(E::kBadSignature), "InvalidSignatureException");
}

TEST(SigV4, PayloadHashHeader) {
  const int64_t now = 1764000000000LL;
  HttpRequest r;
  r.method = "PUT";
  r.path = "/bucket/key";
  r.body = "payload";
  r.headers = {{"host", "h"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
  sign_sigv4(r, "AKIDEXAMPLE", kSecret, "us-east-1", "s3", now);
  EXPECT_TRUE(verify_sigv4(r, lookup(), now).ok());
  r.body = "another payload";  // not covered by the signature
  EXPECT_TRUE(verify_sigv4(r, lookup(), now).ok());

  HttpRequest s;
  s.method = "POST";
  s.path = "/";
  s.body = "abc";
  s.headers = {{"host", "h"}};
  sign_sigv4(s, "AKIDEXAMPLE", kSecret, "us-east-1", "kinesis", now, /*sign_payload_header=*/true);
  EXPECT_EQ(*s.header("x-amz-content-sha256"), hex_lower(sha256("abc")));
  EXPECT_TRUE(verify_sigv4(s, lookup(), now).ok());
  s.body = "abd";
  EXPECT_EQ(verify_sigv4(s, lookup(), now).error, SigV4Result::Error::kBadSignature);
}

TEST(SigV4, CanonicalForms) {
  EXPECT_EQ(sigv4_uri_encode("a b/c~d*e+f=", false), "a%20b/c~d%2Ae%2Bf%3D");
  EXPECT_EQ(sigv4_uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(sigv4_canonical_query("b=2&a=3&a=1&c", false), "a=1&a=3&b=2&c=");
  EXPECT_EQ(sigv4_canonical_query("k=a%20b&X-Amz-Signature=zz", true), "k=a%20b");
  EXPECT_EQ(sigv4_canonical_query("k=a%2fb", false), "k=a%2Fb");
  EXPECT_EQ(sigv4_canonical_uri("", "kinesis"), "/");
  EXPECT_EQ(sigv4_canonical_uri("/a/./b/../c/", "kinesis"), "/a/c/");
  EXPECT_EQ(sigv4_canonical_uri("/a%20b", "kinesis"), "/a%2520b");  // double-encoded
  EXPECT_EQ(sigv4_canonical_uri("/a%20b", "s3"), "/a%20b");
  HttpRequest r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"my-header", "  a   b \t c  "}, {"my-header", "d"}};
  std::string cr = sigv4_canonical_request(r, "my-header", "svc", "h", false);
  EXPECT_EQ(cr, "GET\n/\n\nmy-header:a b c,d\n\nmy-header\nh");
  int64_t ms;
  ASSERT_TRUE(sigv4_parse_amz_date("20150830T123600Z", &ms));
  EXPECT_EQ(ms, kExampleMs);
  EXPECT_EQ(sigv4_amz_date(kExampleMs), "20150830T123600Z");
  EXPECT_FALSE(sigv4_parse_amz_date("2015-08-30T12:36:00Z", &ms));
}

TEST(SigV4, PresignedQueryString) {
  using E = SigV4Result::Error;
  const int64_t t = kExampleMs;
  auto build = [&](std::string expires, std::string secret) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/";
    r.headers = {{"host", "iam.amazonaws.com"}};
    r.query = "Action=ListUsers&Version=2010-05-08&X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fiam%2Faws4_request"
              "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=" + expires +
              "&X-Amz-SignedHeaders=host";
    std::string cr = sigv4_canonical_request(r, "host", "iam", hex_lower(sha256("")), true);
    std::string sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n" +
                      hex_lower(sha256(cr));
    r.query += "&X-Amz-Signature=" + sigv4_signature(secret, "20150830", "us-east-1", "iam", sts);
    return r;
  };
  HttpRequest r = build("60", kSecret);
  auto v = verify_sigv4(r, lookup(), t + 30000);
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(verify_sigv4(r, lookup(), t + 61000).error, E::kExpired);
  EXPECT_EQ(verify_sigv4(build("60", "wrong"), lookup(), t).error, E::kBadSignature);
  HttpRequest tampered = r;
  tampered.query.replace(tampered.query.find("ListUsers"), 9, "ListRoles");
  EXPECT_EQ(verify_sigv4(tampered, lookup(), t).error, E::kBadSignature);
  EXPECT_EQ(verify_sigv4(build("abc", kSecret), lookup(), t).error, E::kMalformed);
}

TEST(SigV4, ThroughTheServer) {
  const auto secret = lookup();
  auto srv = HttpServer::start(ServerOptions{.port = 0}, [&](HttpRequest& req,
                                                             std::shared_ptr<ResponseSink> sink) {
    auto v = verify_sigv4(req, secret, now_millis());
    sink->respond(HttpResponse{v.ok() ? 200 : 403, {}, v.ok() ? v.access_key : v.message});
  });
  ASSERT_TRUE(srv.ok());
  auto c = HttpClient::connect("127.0.0.1", (*srv)->port());
  ASSERT_TRUE(c.ok());
  HttpRequest r = kinesis_put(now_millis());
  auto resp = c->send(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(resp->body, "AKIDEXAMPLE");
  r.body += " ";
  resp = c->send(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 403);
}

}  // namespace
}  // namespace sl::net

namespace sl::net {
namespace {

// @aws-sdk/client-kinesis over HTTP/2 signs the pseudo-header ':authority' and sends no
// 'host'; the server maps :authority to 'host', so the verifier must read it from there.
TEST(SigV4, Http2AuthorityPseudoHeaderIsSigned) {
  const int64_t now = 1764000000000LL;
  HttpRequest r;
  r.method = "POST";
  r.path = r.target = "/";
  r.body = R"({"StreamName":"s"})";
  std::string amz_date = sigv4_amz_date(now);
  r.headers = {{"host", "127.0.0.1:4566"},
               {"content-type", "application/x-amz-json-1.1"},
               {"x-amz-date", amz_date}};
  const std::string signed_headers = ":authority;content-type;x-amz-date";
  std::string payload = hex_lower(sha256(r.body));
  std::string cr = sigv4_canonical_request(r, signed_headers, "kinesis", payload, false);
  EXPECT_NE(cr.find("\n:authority:127.0.0.1:4566\n"), std::string::npos) << cr;
  std::string date8 = amz_date.substr(0, 8);
  std::string scope = date8 + "/us-east-1/kinesis/aws4_request";
  std::string sts = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hex_lower(sha256(cr));
  std::string sig = sigv4_signature(kSecret, date8, "us-east-1", "kinesis", sts);
  r.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope +
                                              ", SignedHeaders=" + signed_headers + ", Signature=" + sig);
  auto res = verify_sigv4(r, lookup(), now);
  EXPECT_TRUE(res.ok()) << res.message;
}

}  // namespace
}  // namespace sl::net
