// open_store for this branch: local paths, and the S3 settings from the environment.
// MERGE NOTE: the s3 branch's src/lake/store.cc replaces this file (it adds "s3://"
// through open_s3_store and its own S3Options::fill_from_environment).
#include <cstdlib>
#include <fstream>
#include <string>

#include "lake/object_store.h"

namespace sl::lake {

void S3Options::fill_from_environment() {
  auto env = [](const char* n) -> std::string {
    const char* v = std::getenv(n);
    return v ? v : "";
  };
  if (access_key.empty()) access_key = env("AWS_ACCESS_KEY_ID");
  if (secret_key.empty()) secret_key = env("AWS_SECRET_ACCESS_KEY");
  if (session_token.empty()) session_token = env("AWS_SESSION_TOKEN");
  if (endpoint.empty()) endpoint = !env("AWS_ENDPOINT_URL_S3").empty() ? env("AWS_ENDPOINT_URL_S3") : env("AWS_ENDPOINT_URL");
  std::string r = !env("AWS_REGION").empty() ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
  if (!r.empty()) region = r;
  if (!access_key.empty()) return;
  // The shared-credentials file: [profile] sections of key = value lines.
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE");
  std::ifstream in(file);
  std::string line, section;
  auto trim = [](std::string s) {
    size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    size_t eq = line.find('=');
    if (section != profile || eq == std::string::npos) continue;
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") access_key = v;
    else if (k == "aws_secret_access_key") secret_key = v;
    else if (k == "aws_session_token") session_token = v;
  }
}

Result<std::unique_ptr<ObjectStore>> open_store(const std::string& uri_or_path, const S3Options&) {
  if (uri_or_path.rfind("s3://", 0) == 0)
    return Status(Errc::kUnsupported, "s3:// paths need the S3 object store, which this build lacks: " + uri_or_path);
  if (uri_or_path.rfind("file://", 0) == 0) return open_local_store(uri_or_path.substr(7));
  return open_local_store(uri_or_path);
}

}  // namespace sl::lake
