// Unit tests of the engine-independent parts of pgwire: SCRAM (RFC 7677 vector), message
// parsing and building, malformed-input corpus through the fuzz entry point, SQL text
// helpers.
#include <gtest/gtest.h>

#include <random>

#include "pgwire/fuzz/pg_message_fuzz.h"
#include "pgwire/protocol.h"
#include "pgwire/scram.h"
#include "pgwire/sql_text.h"
#include "util/base64.h"

namespace sl::pgwire {
namespace {

// RFC 7677 section 3: user "user", password "pencil".
TEST(Scram, Rfc7677TestVector) {
  const std::string client_nonce = "rOprNGfwEbeRWgbNEkqO";
  const std::string server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt);
  ScramSecret secret = scram_make_secret("pencil", *salt, 4096);
  ScramServer server(secret, server_nonce);
  ScramClient client("user", "pencil", client_nonce);

  std::string first = client.client_first();
  EXPECT_EQ(first, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  auto server_first = server.client_first(first);
  ASSERT_TRUE(server_first.ok()) << server_first.status().to_string();
  EXPECT_EQ(*server_first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto client_final = client.client_final(*server_first);
  ASSERT_TRUE(client_final.ok());
  EXPECT_EQ(*client_final,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  auto server_final = server.client_final(*client_final);
  ASSERT_TRUE(server_final.ok()) << server_final.status().to_string();
  EXPECT_EQ(*server_final, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_TRUE(client.verify_server_final(*server_final));
}

TEST(Scram, WrongPasswordIsRefused) {
  ScramServer server(scram_make_secret("right", "saltsaltsaltsalt", 4096), scram_random_nonce());
  ScramClient client("", "wrong", scram_random_nonce());
  auto sf = server.client_first(client.client_first());
  ASSERT_TRUE(sf.ok());
  auto cf = client.client_final(*sf);
  ASSERT_TRUE(cf.ok());
  auto r = server.client_final(*cf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnauthenticated);
}

TEST(Scram, UnknownUserRunsAMockExchangeAndFails) {
  ScramServer server(std::nullopt, scram_random_nonce());
  ScramClient client("", "any", "abcdef");
  auto sf = server.client_first(client.client_first());
  ASSERT_TRUE(sf.ok());
  auto cf = client.client_final(*sf);
  ASSERT_TRUE(cf.ok());
  auto r = server.client_final(*cf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnauthenticated);
}

TEST(Scram, MalformedAndChannelBindingMessages) {
  for (const char* m : {"", "n", "x,,n=,r=abc", "p=tls-server-end-point,,n=,r=abc", "n,a=admin,n=,r=x",
                        "n,,n=,", "n,,r=abc", "n,,n=,r=", "n,,m=ext,n=,r=x"}) {
    ScramServer s(std::nullopt, "nonce");
    EXPECT_FALSE(s.client_first(m).ok()) << m;
  }
  ScramServer s(scram_make_secret("pw", "salt", 4096), "SN");
  ASSERT_TRUE(s.client_first("n,,n=,r=CN").ok());
  EXPECT_FALSE(s.client_final("c=biws,r=CNXX,p=AAAA").ok());  // wrong nonce
}

TEST(Scram, SameSecretForSameSalt) {
  auto a = scram_make_secret("pw", "0123456789abcdef", 4096);
  auto b = scram_make_secret("pw", "0123456789abcdef", 4096);
  EXPECT_EQ(a.stored_key, b.stored_key);
  EXPECT_NE(scram_random_nonce(), scram_random_nonce());
}

std::string startup(const std::vector<std::pair<std::string, std::string>>& kv,
                    int32_t code = kProtocolV3) {
  std::string body;
  append_be32(body, code);
  for (auto& [k, v] : kv) {
    body += k;
    body.push_back('\0');
    body += v;
    body.push_back('\0');
  }
  body.push_back('\0');
  std::string out;
  append_be32(out, static_cast<int32_t>(body.size() + 4));
  return out + body;
}

std::string msg(char type, const std::string& body) {
  std::string out(1, type);
  append_be32(out, static_cast<int32_t>(body.size() + 4));
  return out + body;
}

TEST(Protocol, StartupAndMessagesDecode) {
  FrameDecoder d;
  std::string ssl;
  append_be32(ssl, 8);
  append_be32(ssl, kSslRequestCode);
  std::string stream = ssl + startup({{"user", "bob"}, {"database", "db"}}) +
                       msg('Q', std::string("SELECT 1\0", 9)) + msg('S', "");
  // Byte by byte: framing must not depend on read boundaries.
  for (char c : stream) ASSERT_TRUE(d.feed(std::string_view(&c, 1)).ok());
  ASSERT_EQ(d.startups.size(), 2u);
  EXPECT_EQ(d.startups[0].kind, StartupPacket::kSsl);
  EXPECT_EQ(*d.startups[1].param("user"), "bob");
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].type, 'Q');
  QueryMsg q;
  ASSERT_TRUE(parse_query(d.messages[0].body, &q).ok());
  EXPECT_EQ(q.query, "SELECT 1");
}

TEST(Protocol, BindRoundTrip) {
  std::string b;
  b += std::string("p1\0s1\0", 6);
  append_be16(b, 2);
  append_be16(b, 0);
  append_be16(b, 1);
  append_be16(b, 2);
  append_be32(b, 3);
  b += "abc";
  append_be32(b, -1);
  append_be16(b, 1);
  append_be16(b, 1);
  BindMsg m;
  ASSERT_TRUE(parse_bind(b, &m).ok());
  EXPECT_EQ(m.portal, "p1");
  EXPECT_EQ(m.statement, "s1");
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(*m.params[0], "abc");
  EXPECT_FALSE(m.params[1]);
  EXPECT_EQ(m.result_formats, std::vector<int16_t>{1});
  // Truncations at every length fail cleanly.
  for (size_t n = 0; n < b.size(); ++n) EXPECT_FALSE(parse_bind(b.substr(0, n), &m).ok()) << n;
}

TEST(Protocol, RejectsBadLengthsAndTypes) {
  {
    FrameDecoder d;
    std::string s;
    append_be32(s, 3);  // shorter than its own length field
    EXPECT_FALSE(d.feed(s).ok());
  }
  {
    FrameDecoder d;
    std::string s;
    append_be32(s, 1 << 30);  // startup packet over 10000 bytes
    EXPECT_FALSE(d.feed(s).ok());
  }
  {
    FrameDecoder d;
    ASSERT_TRUE(d.feed(startup({{"user", "u"}})).ok());
    std::string s(1, 'Q');
    append_be32(s, static_cast<int32_t>(kMaxMessageBytes + 1));
    EXPECT_FALSE(d.feed(s).ok());  // oversized
  }
  {
    FrameDecoder d;
    ASSERT_TRUE(d.feed(startup({{"user", "u"}})).ok());
    EXPECT_FALSE(d.feed(msg('z', "")).ok());  // unknown type
  }
  {
    StartupPacket p;
    std::string body;
    append_be32(body, 2 << 16);  // protocol 2.0
    body.push_back('\0');
    Status st = parse_startup_packet(body, &p);
    EXPECT_EQ(st.code(), Errc::kUnsupported);
  }
  {
    StartupPacket p;
    std::string body;
    append_be32(body, kProtocolV3);
    body += std::string("database\0x\0\0", 12);
    EXPECT_FALSE(parse_startup_packet(body, &p).ok());  // no user
  }
}

TEST(Protocol, BackendMessages) {
  MessageWriter w;
  ErrorFields e;
  e.sqlstate = "42P01";
  e.message = "relation \"t\" does not exist";
  e.position = 15;
  write_error(w, e);
  const std::string& b = w.buffer();
  ASSERT_EQ(b[0], 'E');
  EXPECT_EQ(load_be32(b.data() + 1), static_cast<int32_t>(b.size() - 1));
  EXPECT_NE(b.find(std::string("C42P01\0", 7)), std::string::npos);
  EXPECT_NE(b.find(std::string("P15\0", 4)), std::string::npos);
  EXPECT_EQ(char_position("SELECT 'é', x", 12), 12);  // é is two bytes, one character
}

// Malformed inputs through the fuzz entry point: no crash, no hang (also under ASan).
TEST(Protocol, MalformedCorpusThroughFuzzEntryPoint) {
  std::vector<std::string> corpus;
  std::string good = startup({{"user", "u"}, {"database", "d"}});
  std::string bind;
  bind += std::string("\0\0", 2);
  append_be16(bind, 1);
  append_be16(bind, 7);  // bad format code
  corpus = {
      "", std::string(1, '\0'), "\x05\x00\x00\x00\x04", good,
      good + msg('Q', "no terminator"), good + msg('P', std::string("s\0q\0\xff\xff", 6)),
      good + msg('B', bind), good + msg('D', "X"), good + msg('E', std::string("\0\x01", 2)),
      good + msg('C', "S"), good + msg('p', std::string("SCRAM-SHA-256\0\x7f\xff\xff\xff", 18)),
      good + msg('p', std::string("SCRAM-SHA-256\0\0\0\0\x09n,,n=,r=x", 27)),
      good + msg('p', "c=biws,r=x,p=====") + msg('X', ""),
      good + "Q\xff\xff\xff\xff", good + "Q\x00\x00\x00\x02",
  };
  std::mt19937 rng(42);  // seed logged: fixed
  for (int i = 0; i < 2000; ++i) {
    std::string s = good + msg("QPBDECSHXp"[rng() % 10], std::string(rng() % 40, 'a'));
    for (int k = 0; k < 4; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    corpus.push_back(s);
  }
  for (const auto& c : corpus) {
    for (uint8_t split : {0, 3, 16}) {
      std::string in(1, static_cast<char>(split));
      in += c;
      fuzz_one_input(reinterpret_cast<const uint8_t*>(in.data()), in.size());
    }
  }
  SUCCEED();
}

TEST(SqlText, SplitsRespectingQuotesAndComments) {
  auto v = split_statements("SELECT 'a;b'; SELECT \"x;y\" -- c;\n; /* ; /* ; */ */ SELECT $$;$$;;  ");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].text, "SELECT 'a;b'");
  EXPECT_EQ(v[0].offset, 0u);
  EXPECT_EQ(v[1].text, "SELECT \"x;y\" -- c;");
  EXPECT_EQ(v[2].text, "/* ; /* ; */ */ SELECT $$;$$");
  EXPECT_TRUE(split_statements(" ; -- only a comment\n").empty());
  auto w = split_statements("select 1;  select E'\\';';");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].text, "select E'\\';'");
  EXPECT_EQ(w[1].offset, 11u);
}

TEST(SqlText, Normalize) {
  EXPECT_EQ(normalize_sql("  SELECT\n  Version() ; "), "select version()");
  EXPECT_EQ(normalize_sql("SELECT 'A  B' -- x\n FROM T"), "select 'A  B' from t");
  EXPECT_TRUE(starts_with_words("begin transaction", "begin"));
  EXPECT_FALSE(starts_with_words("beginx", "begin"));
}

TEST(SqlText, PrepareExecuteDeallocate) {
  auto p = parse_prepare_sql("PREPARE q1 (int, text) AS SELECT $1, $2");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "q1");
  EXPECT_EQ(p->body, "SELECT $1, $2");
  EXPECT_EQ(p->body_offset, 26u);
  std::string err;
  auto x = parse_execute_sql("EXECUTE q1 (42, 'it''s', NULL, date '2024-01-02', '7'::int, -1.5)", &err);
  ASSERT_TRUE(x);
  EXPECT_EQ(err, "");
  ASSERT_EQ(x->args.size(), 6u);
  EXPECT_EQ(*x->args[0], "42");
  EXPECT_EQ(*x->args[1], "it's");
  EXPECT_FALSE(x->args[2]);
  EXPECT_EQ(*x->args[3], "2024-01-02");
  EXPECT_EQ(*x->args[4], "7");
  EXPECT_EQ(*x->args[5], "-1.5");
  auto y = parse_execute_sql("EXECUTE q1 (1", &err);
  EXPECT_NE(err, "");
  EXPECT_FALSE(parse_execute_sql("SELECT 1", &err));
  EXPECT_EQ(*parse_deallocate_sql("DEALLOCATE PREPARE q1"), "q1");
  EXPECT_EQ(*parse_deallocate_sql("deallocate all"), "");
}

}  // namespace
}  // namespace sl::pgwire
