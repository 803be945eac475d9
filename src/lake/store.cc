// open_store: the one entry point that picks the object store by the URI's scheme.
#include "lake/object_store.h"

namespace sl::lake {

Result<std::unique_ptr<ObjectStore>> open_store(const std::string& uri_or_path, const S3Options& s3) {
  if (uri_or_path.rfind("s3://", 0) == 0) return open_s3_store(uri_or_path, s3);
  constexpr std::string_view kFile = "file://";
  if (uri_or_path.rfind(kFile, 0) == 0) {
    std::string path = uri_or_path.substr(kFile.size());
    if (path.empty() || path.front() != '/')
      return invalid_argument("file:// URI needs an absolute path (file:///dir): " + uri_or_path);
    return open_local_store(path);
  }
  if (uri_or_path.find("://") != std::string::npos)
    return invalid_argument("unsupported object store URI (use s3://bucket/prefix, file:///dir or a path): " +
                            uri_or_path);
  return open_local_store(uri_or_path);
}

}  // namespace sl::lake
