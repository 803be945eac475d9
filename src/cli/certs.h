// `streamlake certs`: a self-signed certificate and key for a quick TLS start.
#pragma once

#include <string>
#include <vector>

namespace sl::cli {

// Writes DIR/cert.pem and DIR/key.pem (0600): an ECDSA P-256 key and a self-signed X.509
// certificate valid for `days`, with subjectAltName for each of `names` (DNS names or IPs).
// Returns false after printing the reason.
bool make_self_signed(const std::string& dir, const std::vector<std::string>& names, int days);

}  // namespace sl::cli
