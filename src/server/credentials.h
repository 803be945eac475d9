// The server's credentials file: DATA/credentials, AWS shared-credentials format, 0600.
//
// The first start writes a fresh admin key pair there (unless the config names users),
// so `AWS_SHARED_CREDENTIALS_FILE=DATA/credentials aws kinesis ...` and any AWS SDK work
// with no further set-up, and `streamlake produce` / `streamlake sql` read it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/config.h"
#include "util/status.h"

namespace sl::server {

struct KeyPair {
  std::string access_key;
  std::string secret;
};

// Generates a random key pair: access key "SLAK" + 16 [A-Z2-7], secret 40 base64 chars.
KeyPair generate_key_pair();

// Reads [default] (or the named profile) from an AWS shared-credentials file.
Result<KeyPair> read_credentials_file(const std::string& path, const std::string& profile = "default");

// Writes the file with mode 0600, atomically.
Status write_credentials_file(const std::string& path, const KeyPair& kp);

// Writes DATA/aws-config (mode 0600) unless it exists: an AWS CLI config with the region and
// cli_binary_format = raw-in-base64-out, so `aws ... put-record --data TEXT` sends TEXT with
// the AWS CLI v1 and v2 alike (README's tour uses it through AWS_CONFIG_FILE).
Status ensure_aws_config_file(const std::string& data_dir, const std::string& region);

// Loads DATA/credentials, creating it on first start. Sets *created when it did.
Result<KeyPair> load_or_create_credentials(const std::string& data_dir, bool* created);

// Lookups by access key or user name over the configured users.
class UserDirectory {
 public:
  explicit UserDirectory(std::vector<User> users) : users_(std::move(users)) {}
  const User* by_access_key(std::string_view ak) const;
  const User* by_name(std::string_view name) const;
  const std::vector<User>& users() const { return users_; }

 private:
  std::vector<User> users_;
};

}  // namespace sl::server
