// SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL uses it: no channel binding
// (gs2 header "n,," or "y,,"), the user name taken from the startup packet.
//
// ScramServer is one authentication exchange on one connection thread; ScramClient is the
// matching client side (used by tests and by the in-process protocol client).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/hash.h"
#include "util/status.h"

namespace sl::pgwire {

inline constexpr int kScramIterations = 4096;

struct ScramSecret {
  std::string salt;  // raw bytes
  int iterations = kScramIterations;
  Sha256Digest stored_key{}, server_key{};
};

// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations); keys derived from it.
ScramSecret scram_make_secret(std::string_view password, std::string_view salt, int iterations);
// Random printable nonce (base64 of 18 random bytes).
std::string scram_random_nonce();

class ScramServer {
 public:
  // `secret` nullopt: unknown user; the exchange runs with a made-up salt and fails at the
  // end, so clients cannot probe which users exist.
  ScramServer(std::optional<ScramSecret> secret, std::string server_nonce);

  // client-first-message -> server-first-message. kInvalidArgument on a malformed message
  // or channel binding requested.
  Result<std::string> client_first(std::string_view msg);
  // client-final-message -> server-final-message ("v=..."). kUnauthenticated when the proof
  // does not match (or the user is unknown); kInvalidArgument when malformed.
  Result<std::string> client_final(std::string_view msg);

 private:
  std::optional<ScramSecret> secret_;
  ScramSecret mock_;
  std::string server_nonce_;
  std::string client_first_bare_, server_first_, gs2_header_, nonce_;
  int state_ = 0;
};

class ScramClient {
 public:
  ScramClient(std::string user, std::string password, std::string client_nonce);
  std::string client_first();
  // server-first -> client-final; error when malformed or the nonce was not extended.
  Result<std::string> client_final(std::string_view server_first);
  // Checks the server's signature ("v=...").
  bool verify_server_final(std::string_view server_final) const;

 private:
  std::string user_, password_, cnonce_, client_first_bare_;
  std::string expected_server_final_;
};

}  // namespace sl::pgwire
