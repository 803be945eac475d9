#include "server/config.h"

#include <toml++/toml.h>

namespace sl::server {

Status load_config_file(const std::string& path, Config* cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return invalid_argument("config " + path + ": " + std::string(e.description()) + " at line " +
                            std::to_string(e.source().begin.line));
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
