#include "server/credentials.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/aws_credentials.h"
#include "util/base64.h"

namespace sl::server {

KeyPair generate_key_pair() {
  unsigned char buf[16 + 30];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
  static const char* b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  KeyPair kp;
  kp.access_key = "SLAK";
  for (int i = 0; i < 16; i++) kp.access_key.push_back(b32[buf[i] & 31]);
  kp.secret = base64_encode(std::string_view(reinterpret_cast<char*>(buf + 16), 30));
  return kp;
}

Result<KeyPair> read_credentials_file(const std::string& path, const std::string& profile) {
  std::ifstream in(path);
  if (!in) return not_found("cannot read credentials file " + path);
  std::stringstream text;
  text << in.rdbuf();
  AwsCredentials c = parse_aws_credentials(text.str(), profile);
  if (c.access_key.empty() || c.secret_key.empty())
    return invalid_argument("credentials file " + path + " has no [" + profile + "] key pair");
  return KeyPair{std::move(c.access_key), std::move(c.secret_key)};
}

namespace {
// Writes `content` to `path` with mode 0600: temporary file, fsync, rename.
Status write_private_file(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error_errno("create " + tmp);
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!ok) return io_error_errno("write " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error_errno("rename " + tmp);
  return Status::OK();
}
}  // namespace

Status write_credentials_file(const std::string& path, const KeyPair& kp) {
  std::ostringstream os;
  os << "# streamlake credentials (AWS shared-credentials format). Use with\n"
     << "#   AWS_SHARED_CREDENTIALS_FILE=" << path << " aws --endpoint-url http://127.0.0.1:4566 kinesis ...\n"
     << "[default]\naws_access_key_id = " << kp.access_key << "\naws_secret_access_key = " << kp.secret << "\n";
  return write_private_file(path, os.str());
}

Status ensure_aws_config_file(const std::string& data_dir, const std::string& region) {
  std::string path = data_dir + "/aws-config";
  if (std::filesystem::exists(path)) return Status::OK();
  return write_private_file(
      path,
      "# An AWS CLI config for this server (AWS_CONFIG_FILE=" + path + "): the region, and blobs\n"
      "# given as text, so that `--data 'a,b,c'` sends those bytes with the AWS CLI v1 and v2 alike\n"
      "# (v1 ignores cli_binary_format; v2 would otherwise expect base64).\n"
      "[default]\nregion = " + region + "\ncli_binary_format = raw-in-base64-out\n");
}

Result<KeyPair> load_or_create_credentials(const std::string& data_dir, bool* created) {
  std::string path = data_dir + "/credentials";
  *created = false;
  if (std::filesystem::exists(path)) return read_credentials_file(path);
  KeyPair kp = generate_key_pair();
  SL_RETURN_IF_ERROR(write_credentials_file(path, kp));
  *created = true;
  return kp;
}

const User* UserDirectory::by_access_key(std::string_view ak) const {
  for (auto& u : users_)
    if (u.access_key == ak) return &u;
  return nullptr;
}

const User* UserDirectory::by_name(std::string_view name) const {
  for (auto& u : users_)
    if (u.name == name) return &u;
  return nullptr;
}

}  // namespace sl::server
