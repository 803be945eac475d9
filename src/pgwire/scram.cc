#include "pgwire/scram.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

#include "util/base64.h"

namespace sl::pgwire {

namespace {

std::string_view as_sv(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

Sha256Digest xor_digest(const Sha256Digest& a, std::string_view b) {
  Sha256Digest r{};
  for (size_t i = 0; i < r.size(); ++i) r[i] = a[i] ^ static_cast<uint8_t>(b[i]);
  return r;
}

// Splits "a=..,b=..,..." into attributes; returns the value of `key` at index `idx`.
std::optional<std::string_view> attr(std::string_view msg, size_t idx, char key) {
  size_t start = 0;
  for (size_t i = 0; i < idx; ++i) {
    size_t c = msg.find(',', start);
    if (c == std::string_view::npos) return std::nullopt;
    start = c + 1;
  }
  size_t end = msg.find(',', start);
  std::string_view part = msg.substr(start, end == std::string_view::npos ? msg.npos : end - start);
  if (part.size() < 2 || part[0] != key || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

bool printable_nonce(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

Status bad(std::string m) { return invalid_argument(std::move(m)); }

}  // namespace

ScramSecret scram_make_secret(std::string_view password, std::string_view salt, int iterations) {
  ScramSecret s;
  s.salt = std::string(salt);
  s.iterations = iterations;
  Sha256Digest salted{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(salted.size()), salted.data());
  Sha256Digest client_key = hmac_sha256(as_sv(salted), "Client Key");
  s.stored_key = sha256(as_sv(client_key));
  s.server_key = hmac_sha256(as_sv(salted), "Server Key");
  return s;
}

std::string scram_random_nonce() {
  unsigned char raw[18];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    // RAND_bytes failing means the OS entropy source is broken; refuse to make a nonce
    // that could repeat.
    throw std::runtime_error("RAND_bytes failed");
  }
  return base64_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

ScramServer::ScramServer(std::optional<ScramSecret> secret, std::string server_nonce)
    : secret_(std::move(secret)), server_nonce_(std::move(server_nonce)) {
  if (!secret_) {
    // A made-up salt derived from the nonce; stored_key is random-looking so no proof matches.
    mock_.salt = std::string(reinterpret_cast<const char*>(sha256(server_nonce_).data()), 16);
    mock_.iterations = kScramIterations;
    mock_.stored_key = sha256("mock" + server_nonce_);
  }
}

Result<std::string> ScramServer::client_first(std::string_view msg) {
  if (state_ != 0) return bad("unexpected SCRAM message");
  state_ = 1;
  // gs2-header: cbind-flag "," [authzid] ","
  if (msg.size() < 3) return bad("malformed SCRAM message");
  if (msg[0] == 'p') return bad("channel binding is not supported (offer was SCRAM-SHA-256 only)");
  if ((msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',') return bad("malformed SCRAM message");
  size_t c2 = msg.find(',', 2);
  if (c2 == std::string_view::npos) return bad("malformed SCRAM message");
  if (c2 != 2) return bad("authorization identities are not supported");
  gs2_header_ = std::string(msg.substr(0, c2 + 1));
  client_first_bare_ = std::string(msg.substr(c2 + 1));
  std::string_view bare = client_first_bare_;
  if (bare.substr(0, 2) == "m=") return bad("SCRAM extensions are not supported");
  if (!attr(bare, 0, 'n')) return bad("malformed SCRAM message: expected n=");
  auto cnonce = attr(bare, 1, 'r');
  if (!cnonce || !printable_nonce(*cnonce)) return bad("malformed SCRAM message: expected r=");
  nonce_ = std::string(*cnonce) + server_nonce_;
  const ScramSecret& s = secret_ ? *secret_ : mock_;
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(s.salt) + ",i=" + std::to_string(s.iterations);
  return server_first_;
}

Result<std::string> ScramServer::client_final(std::string_view msg) {
  if (state_ != 1) return bad("unexpected SCRAM message");
  state_ = 2;
  auto cb = attr(msg, 0, 'c');
  auto r = attr(msg, 1, 'r');
  size_t pidx = msg.rfind(",p=");
  if (!cb || !r || pidx == std::string_view::npos) return bad("malformed SCRAM message");
  auto cb_raw = base64_decode(*cb);
  if (!cb_raw || *cb_raw != gs2_header_) return bad("SCRAM channel binding check failed");
  if (*r != nonce_) return bad("SCRAM nonce mismatch");
  auto proof = base64_decode(msg.substr(pidx + 3));
  if (!proof || proof->size() != 32) return bad("malformed SCRAM proof");
  std::string without_proof(msg.substr(0, pidx));
  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + without_proof;
  const ScramSecret& s = secret_ ? *secret_ : mock_;
  Sha256Digest client_sig = hmac_sha256(as_sv(s.stored_key), auth_message);
  Sha256Digest client_key = xor_digest(client_sig, *proof);
  Sha256Digest check = sha256(as_sv(client_key));
  if (!secret_ || !constant_time_equal(as_sv(check), as_sv(s.stored_key)))
    return Status(Errc::kUnauthenticated, "password authentication failed");
  Sha256Digest server_sig = hmac_sha256(as_sv(s.server_key), auth_message);
  return "v=" + base64_encode(as_sv(server_sig));
}

ScramClient::ScramClient(std::string user, std::string password, std::string client_nonce)
    : user_(std::move(user)), password_(std::move(password)), cnonce_(std::move(client_nonce)) {}

std::string ScramClient::client_first() {
  client_first_bare_ = "n=" + user_ + ",r=" + cnonce_;
  return "n,," + client_first_bare_;
}

Result<std::string> ScramClient::client_final(std::string_view server_first) {
  auto r = attr(server_first, 0, 'r');
  auto s = attr(server_first, 1, 's');
  auto i = attr(server_first, 2, 'i');
  if (!r || !s || !i) return bad("malformed server-first-message");
  if (r->substr(0, cnonce_.size()) != cnonce_ || r->size() <= cnonce_.size())
    return bad("server nonce does not extend the client nonce");
  auto salt = base64_decode(*s);
  if (!salt) return bad("malformed salt");
  int iters = 0;
  for (char c : *i) {
    if (c < '0' || c > '9' || iters > 10000000) return bad("malformed iteration count");
    iters = iters * 10 + (c - '0');
  }
  if (iters <= 0) return bad("malformed iteration count");
  Sha256Digest salted{};
  PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                    reinterpret_cast<const unsigned char*>(salt->data()),
                    static_cast<int>(salt->size()), iters, EVP_sha256(),
                    static_cast<int>(salted.size()), salted.data());
  Sha256Digest client_key = hmac_sha256(as_sv(salted), "Client Key");
  Sha256Digest stored_key = sha256(as_sv(client_key));
  Sha256Digest server_key = hmac_sha256(as_sv(salted), "Server Key");
  std::string without_proof = "c=biws,r=" + std::string(*r);
  std::string auth_message =
      client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  Sha256Digest client_sig = hmac_sha256(as_sv(stored_key), auth_message);
  Sha256Digest proof{};
  for (size_t k = 0; k < proof.size(); ++k) proof[k] = client_key[k] ^ client_sig[k];
  expected_server_final_ = "v=" + base64_encode(as_sv(hmac_sha256(as_sv(server_key), auth_message)));
  return without_proof + ",p=" + base64_encode(as_sv(proof));
}

bool ScramClient::verify_server_final(std::string_view server_final) const {
  return !expected_server_final_.empty() && constant_time_equal(server_final, expected_server_final_);
}

}  // namespace sl::pgwire
