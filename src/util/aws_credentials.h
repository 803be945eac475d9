// AWS shared-credentials files (~/.aws/credentials, DATA/credentials): INI text with one
// [profile] section per key pair.
#pragma once

#include <string>
#include <string_view>

namespace sl {

struct AwsCredentials {
  std::string access_key;     // aws_access_key_id
  std::string secret_key;     // aws_secret_access_key
  std::string session_token;  // aws_session_token (temporary credentials only)
};

// The keys of `profile` in the INI text; fields the profile lacks (or a missing profile)
// stay empty. '#' and ';' start comment lines; whitespace and CRLF line ends are ignored.
AwsCredentials parse_aws_credentials(std::string_view ini, std::string_view profile);

}  // namespace sl
