// open_store: local paths only in this branch. PLACEHOLDER FOR THE MERGE: the s3 branch's
// src/lake/store.cc replaces this file (it adds "s3://" through open_s3_store).
#include <string>

#include "lake/object_store.h"

namespace sl::lake {

Result<std::unique_ptr<ObjectStore>> open_store(const std::string& uri_or_path, const S3Options&) {
  if (uri_or_path.rfind("s3://", 0) == 0)
    return Status(Errc::kUnsupported, "s3:// paths need the S3 object store, which this build lacks: " + uri_or_path);
  if (uri_or_path.rfind("file://", 0) == 0) return open_local_store(uri_or_path.substr(7));
  return open_local_store(uri_or_path);
}

}  // namespace sl::lake
