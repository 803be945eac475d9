#include "cli/s3_cli.h"

#include <cstdio>
#include <iostream>
#include <iterator>

#include "lake/object_store.h"
#include "server/config.h"

namespace sl::cli {
namespace {

int fail(const Status& st) {
  std::fprintf(stderr, "streamlake s3: %s\n", st.to_string().c_str());
  return 1;
}

}  // namespace

int run_s3(const S3CliOptions& o) {
  server::Config cfg;
  if (!o.config_file.empty()) {
    if (Status st = server::load_config_file(o.config_file, &cfg); !st.ok()) return fail(st);
  }
  cfg.s3.fill_from_environment();
  if (!o.endpoint.empty()) cfg.s3.endpoint = o.endpoint;
  if (!o.region.empty()) cfg.s3.region = o.region;
  if (o.virtual_hosted) cfg.s3.path_style = false;

  constexpr std::string_view kScheme = "s3://";
  if (o.uri.rfind(kScheme, 0) != 0) return fail(invalid_argument("not an s3:// URI: " + o.uri));
  if (o.action == "ls") {
    auto store = lake::open_s3_store(o.uri, cfg.s3);
    if (!store.ok()) return fail(store.status());
    auto list = (*store)->list("");
    if (!list.ok()) return fail(list.status());
    for (const lake::ObjectInfo& info : *list)
      std::printf("%12llu %lld %s\n", static_cast<unsigned long long>(info.size),
                  static_cast<long long>(info.modified_ms), info.key.c_str());
    return 0;
  }
  // Object actions: the store is the bucket, the key the rest of the URI.
  size_t slash = o.uri.find('/', kScheme.size());
  if (slash == std::string::npos || slash + 1 == o.uri.size())
    return fail(invalid_argument("s3://bucket/key expected: " + o.uri));
  auto store = lake::open_s3_store(o.uri.substr(0, slash), cfg.s3);
  if (!store.ok()) return fail(store.status());
  const std::string key = o.uri.substr(slash + 1);
  if (o.action == "get") {
    auto data = (*store)->get(key);
    if (!data.ok()) return fail(data.status());
    std::fwrite(data->data(), 1, data->size(), stdout);
    return 0;
  }
  if (o.action == "put") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto writer = (*store)->create(key);  // multipart beyond multipart_part_bytes
    if (!writer.ok()) return fail(writer.status());
    if (Status st = (*writer)->append(data); !st.ok()) return fail(st);
    if (Status st = (*writer)->close(); !st.ok()) return fail(st);
    return 0;
  }
  if (o.action == "stat") {
    auto info = (*store)->stat(key);
    if (!info.ok()) return fail(info.status());
    std::printf("%llu %lld %s\n", static_cast<unsigned long long>(info->size), static_cast<long long>(info->modified_ms),
                key.c_str());
    return 0;
  }
  if (o.action == "rm") {
    if (Status st = (*store)->remove(key); !st.ok()) return fail(st);
    return 0;
  }
  return fail(invalid_argument("unknown action " + o.action + " (ls, get, put, stat, rm)"));
}

}  // namespace sl::cli
