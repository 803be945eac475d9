#include "util/aws_credentials.h"

#include <cctype>

namespace sl {

AwsCredentials parse_aws_credentials(std::string_view ini, std::string_view profile) {
  AwsCredentials out;
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  bool in_profile = false;
  size_t pos = 0;
  while (pos <= ini.size()) {
    size_t nl = ini.find('\n', pos);
    std::string_view line = trim(ini.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? ini.size() + 1 : nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      std::string_view name = trim(line.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      in_profile = name == profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") out.access_key = std::string(v);
    else if (k == "aws_secret_access_key") out.secret_key = std::string(v);
    else if (k == "aws_session_token") out.session_token = std::string(v);
  }
  return out;
}

}  // namespace sl
