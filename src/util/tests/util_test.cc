#include <gtest/gtest.h>

#include "util/base64.h"
#include "util/hash.h"
#include "util/status.h"
#include "util/time.h"

namespace sl {
namespace {

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  // Extending in pieces equals one pass.
  std::string s = "The quick brown fox jumps over the lazy dog, twice over and again";
  uint32_t c = crc32c_extend(crc32c(s.substr(0, 7)), s.data() + 7, s.size() - 7);
  EXPECT_EQ(c, crc32c(s));
}

// Long inputs take a three-lane path: it must agree with the definition (bit by bit here)
// at every length around its block boundaries, from any starting value.
TEST(Crc32c, LongInputsMatchBitwiseDefinition) {
  auto bitwise = [](uint32_t crc, const std::string& s) {
    crc = ~crc;
    for (unsigned char ch : s) {
      crc ^= ch;
      for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
  };
  std::string data;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 3 * 3 * 4096 + 100; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    data += static_cast<char>(x);
  }
  for (size_t n : {size_t{0}, size_t{8}, size_t{12287}, size_t{12288}, size_t{12289}, size_t{12295}, size_t{24576},
                   size_t{3 * 3 * 4096 + 100}}) {
    std::string s = data.substr(0, n);
    EXPECT_EQ(crc32c(s), bitwise(0, s)) << n;
    EXPECT_EQ(crc32c_extend(0x12345678u, s.data(), s.size()), bitwise(0x12345678u, s)) << n;
  }
  EXPECT_EQ(crc32c(std::string(40000, '\0')), bitwise(0, std::string(40000, '\0')));
}

TEST(Md5, KnownVectors) {
  EXPECT_EQ(hex_lower(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex_lower(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Sha256, KnownVectorsAndHmac) {
  EXPECT_EQ(hex_lower(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Base64, RoundTripAndRejects) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto enc = base64_encode(s);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9v!mFy").has_value());
  EXPECT_FALSE(base64_decode("Z===").has_value());
  std::string all;
  for (int i = 0; i < 256; i++) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*base64_decode(base64_encode(all)), all);
}

TEST(Time, Iso8601) {
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  int64_t t;
  ASSERT_TRUE(parse_iso8601_ms("2026-11-24T12:48:00.123Z", &t));
  EXPECT_EQ(format_iso8601_ms(t), "2026-11-24T12:48:00.123Z");
  ASSERT_TRUE(parse_iso8601_ms("2026-11-24T14:48:00+02:00", &t));
  EXPECT_EQ(format_iso8601_ms(t), "2026-11-24T12:48:00.000Z");
  EXPECT_FALSE(parse_iso8601_ms("2026-13-01", &t));
  EXPECT_FALSE(parse_iso8601_ms("yesterday", &t));
}

TEST(Result, CarriesValueOrStatus) {
  Result<int> a = 5;
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(*a, 5);
  Result<int> b = not_found("x");
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace sl

#include <atomic>

#include "util/thread_pool.h"

namespace sl {
namespace {

TEST(ThreadPool, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> n{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 1000; i++) pool.submit([&] { n.fetch_add(1); });
  }
  EXPECT_EQ(n.load(), 1000);
}

}  // namespace
}  // namespace sl

#include "util/json.h"

namespace sl {
namespace {

TEST(Json, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\t\x01\x1f d\xc3\xa9");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f d\xc3\xa9\"");
  out.clear();
  append_json_string(out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace sl
