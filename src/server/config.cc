#include "server/config.h"

#include <toml++/toml.h>

#include <map>
#include <set>
#include <string>

#include <algorithm>
#include <iterator>

namespace sl::server {
namespace {

// [lake.s3]: endpoint, region, path_style, access_key_id, secret_access_key, session_token,
// max_retries, retry_base_ms, request_timeout_ms, multipart_part_bytes.
Status load_s3_section(const toml::table& t, const std::string& path, lake::S3Options* o) {
  const toml::node_view<const toml::node> s3 = t["lake"]["s3"];
  if (!s3) return Status::OK();
  if (!s3.is_table()) return invalid_argument("config " + path + ": [lake.s3] must be a table");
  static const char* kKeys[] = {"endpoint", "region", "path_style", "access_key_id", "secret_access_key",
                                "session_token", "max_retries", "retry_base_ms", "request_timeout_ms",
                                "multipart_part_bytes"};
  for (const auto& [k, v] : *s3.as_table()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), k.str()) == std::end(kKeys))
      return invalid_argument("config " + path + ": unknown setting [lake.s3] " + std::string(k.str()));
  }
  if (auto v = s3["endpoint"].value<std::string>()) o->endpoint = *v;
  if (auto v = s3["region"].value<std::string>()) o->region = *v;
  if (auto v = s3["path_style"].value<bool>()) o->path_style = *v;
  if (auto v = s3["access_key_id"].value<std::string>()) o->access_key = *v;
  if (auto v = s3["secret_access_key"].value<std::string>()) o->secret_key = *v;
  if (auto v = s3["session_token"].value<std::string>()) o->session_token = *v;
  if (auto v = s3["max_retries"].value<int64_t>()) o->max_retries = static_cast<int>(*v);
  if (auto v = s3["retry_base_ms"].value<int64_t>()) o->retry_base_ms = *v;
  if (auto v = s3["request_timeout_ms"].value<int64_t>()) o->request_timeout_ms = *v;
  if (auto v = s3["multipart_part_bytes"].value<int64_t>()) {
    // S3 refuses parts below 5 MiB (but the last) and has at most 10000 of them.
    if (*v < (5 << 20) || *v > (int64_t{5} << 30))
      return invalid_argument("config " + path + ": [lake.s3] multipart_part_bytes must be 5 MiB to 5 GiB");
    o->multipart_part_bytes = static_cast<uint64_t>(*v);
  }
  if (o->max_retries < 0 || o->max_retries > 30 || o->retry_base_ms < 0 || o->request_timeout_ms <= 0)
    return invalid_argument("config " + path +
                            ": [lake.s3] max_retries must be 0..30, retry_base_ms >= 0, request_timeout_ms > 0");
  if (o->access_key.empty() != o->secret_key.empty())
    return invalid_argument("config " + path + ": [lake.s3] needs both access_key_id and secret_access_key");
  return Status::OK();
}

}  // namespace

Status load_config_file(const std::string& path, Config* cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return invalid_argument("config " + path + ": " + std::string(e.description()) + " at line " +
                            std::to_string(e.source().begin.line));
  }
  // A misspelt setting is an error, not silently the default (README.md lists them all).
  static const std::map<std::string, std::set<std::string>, std::less<>> kKnown = {
      {"server", {"data", "host", "port", "pg_port", "pg_enabled", "query_timeout_ms", "io_threads", "max_body_bytes",
                  "tls_cert", "tls_key"}},
      {"storage", {"fsync"}},
      {"streaming", {"checkpoint_interval_ms"}},
      {"kinesis", {"region", "create_delay_ms", "delete_delay_ms", "enforce_limits"}},
      {"ui", {"session_idle_minutes", "live_interval_ms"}},
      {"metrics", {"public"}},
      {"lake", {"s3"}},  // [lake.s3] checks its own keys
      {"users", {}},
  };
  for (const auto& [section, node] : t) {
    auto known = kKnown.find(section.str());
    if (known == kKnown.end())
      return invalid_argument("config " + path + ": unknown section [" + std::string(section.str()) + "]");
    if (section.str() == "users") continue;
    const toml::table* tbl = node.as_table();
    if (!tbl) return invalid_argument("config " + path + ": [" + std::string(section.str()) + "] must be a table");
    for (const auto& [key, value] : *tbl)
      if (!known->second.count(std::string(key.str())))
        return invalid_argument("config " + path + ": unknown setting " + std::string(key.str()) + " in [" +
                                std::string(section.str()) + "]");
  }
  auto str = [&](std::string_view sect, std::string_view key, std::string* out) {
    if (auto v = t[sect][key].value<std::string>()) *out = *v;
  };
  str("server", "data", &cfg->data_dir);
  str("server", "host", &cfg->host);
  if (auto v = t["server"]["port"].value<int64_t>()) cfg->port = static_cast<uint16_t>(*v);
  if (auto v = t["server"]["pg_port"].value<int64_t>()) cfg->pg_port = static_cast<uint16_t>(*v);
  if (auto v = t["server"]["pg_enabled"].value<bool>()) cfg->pg_enabled = *v;
  if (auto v = t["server"]["query_timeout_ms"].value<int64_t>()) cfg->query_timeout_ms = *v;
  if (auto v = t["server"]["io_threads"].value<int64_t>()) cfg->io_threads = static_cast<int>(*v);
  if (auto v = t["server"]["max_body_bytes"].value<int64_t>()) cfg->max_body_bytes = static_cast<size_t>(*v);
  str("server", "tls_cert", &cfg->tls_cert_file);
  str("server", "tls_key", &cfg->tls_key_file);
  if (auto v = t["storage"]["fsync"].value<bool>()) cfg->fsync = *v;
  if (auto v = t["streaming"]["checkpoint_interval_ms"].value<int64_t>()) cfg->checkpoint_interval_ms = *v;
  str("kinesis", "region", &cfg->region);
  if (auto v = t["kinesis"]["create_delay_ms"].value<int64_t>()) cfg->create_delay_ms = *v;
  if (auto v = t["kinesis"]["delete_delay_ms"].value<int64_t>()) cfg->delete_delay_ms = *v;
  if (Status st = load_s3_section(t, path, &cfg->s3); !st.ok()) return st;

  if (auto v = t["ui"]["session_idle_minutes"].value<int64_t>()) {
    if (*v < 1 || *v > 60 * 24 * 365)
      return invalid_argument("config " + path + ": [ui] session_idle_minutes must be 1 to 525600");
    cfg->ui_session_idle_minutes = *v;
  }
  if (auto v = t["ui"]["live_interval_ms"].value<int64_t>()) {
    if (*v < 20 || *v > 60000)
      return invalid_argument("config " + path + ": [ui] live_interval_ms must be 20 to 60000");
    cfg->ui_live_interval_ms = *v;
  }
  if (auto v = t["metrics"]["public"].value<bool>()) cfg->metrics_public = *v;

  if (auto v = t["kinesis"]["enforce_limits"].value<bool>()) cfg->kinesis_enforce_limits = *v;
  if (auto* users = t["users"].as_array()) {
    for (auto& node : *users) {
      auto* u = node.as_table();
      if (!u) return invalid_argument("config " + path + ": [[users]] entries must be tables");
      User user;
      user.name = (*u)["name"].value_or(std::string());
      user.access_key = (*u)["access_key"].value_or(std::string());
      user.secret = (*u)["secret"].value_or(std::string());
      user.role = (*u)["role"].value_or(std::string("reader"));
      if (user.name.empty() || user.access_key.empty() || user.secret.empty())
        return invalid_argument("config " + path + ": every user needs name, access_key and secret");
      if (user.role != "admin" && user.role != "writer" && user.role != "reader")
        return invalid_argument("config " + path + ": user " + user.name + ": role must be admin, writer or reader");
      cfg->users.push_back(std::move(user));
    }
  }
  return Status::OK();
}

}  // namespace sl::server
