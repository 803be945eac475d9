// AWS Signature Version 4: verification of incoming requests (Authorization header and
// presigned query string forms) and signing for our own clients.
//
// Pure functions; thread-safe. The canonical request follows the AWS specification:
// path segments URI-encoded (twice for services other than s3, as the SDKs do),
// canonical query sorted by encoded key then value, header values trimmed with runs of
// spaces collapsed, payload hash = x-amz-content-sha256 when present (incl.
// UNSIGNED-PAYLOAD), else SHA-256 of the body.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/http.h"

namespace sl::net {

struct SigV4Result {
  enum class Error {
    kNone,
    kMissing,       // MissingAuthenticationTokenException
    kUnknownKey,    // UnrecognizedClientException
    kBadSignature,  // InvalidSignatureException
    kExpired,       // InvalidSignatureException "Signature expired": skew > 15 min, or presigned expired
    kMalformed,     // IncompleteSignatureException
  };
  Error error = Error::kNone;
  std::string access_key, region, service, message;
  bool ok() const { return error == Error::kNone; }
};

// The Kinesis/AWS error type name for an error ("" for kNone).
const char* sigv4_error_type(SigV4Result::Error e);

using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key)>;

SigV4Result verify_sigv4(const HttpRequest& req, const SecretLookup& secret_for, int64_t now_ms);

// Signs `req` in place: sets x-amz-date, x-amz-content-sha256 (when sign_payload_header)
// and authorization. Signs every header present (host should be set by the caller if the
// server checks it; our verifier accepts whatever was signed).
void sign_sigv4(HttpRequest& req, std::string_view access_key, std::string_view secret,
                std::string_view region, std::string_view service, int64_t now_ms,
                bool sign_payload_header = false);

// Building blocks, exposed for tests.
std::string sigv4_uri_encode(std::string_view s, bool encode_slash);
std::string sigv4_canonical_uri(std::string_view raw_path, std::string_view service);
// exclude_signature: drop X-Amz-Signature (presigned form).
std::string sigv4_canonical_query(std::string_view raw_query, bool exclude_signature);
std::string sigv4_canonical_request(const HttpRequest& req, std::string_view signed_headers,
                                    std::string_view service, std::string_view payload_hash,
                                    bool presigned);
std::string sigv4_signature(std::string_view secret, std::string_view date8,
                            std::string_view region, std::string_view service,
                            std::string_view string_to_sign);
// "20150830T123600Z" for epoch milliseconds, and back (false on bad input).
std::string sigv4_amz_date(int64_t now_ms);
bool sigv4_parse_amz_date(std::string_view s, int64_t* epoch_ms);

}  // namespace sl::net
