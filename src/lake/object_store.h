// Object stores under the lake: a local directory or an S3-compatible bucket, behind one
// interface, so the table format, the sinks and the file readers never know which.
//
// Keys are '/'-separated paths relative to the store's root ("historical/_commits/
// 00000000000000000001.json"). A key never starts with '/', never contains "..", and is
// refused (kInvalidArgument) otherwise.
//
// Durability: put() and ObjectWriter::close() return only once the object is durable
// (local: written to a temporary file, fsync'd, renamed, directory fsync'd; S3: the PUT or
// CompleteMultipartUpload answered 200). put_if_absent() is the lake's commit primitive:
// exactly one of several concurrent writers of the same key succeeds (local: link(2) of a
// synced temporary file, which fails with EEXIST; S3: PUT with If-None-Match: *), the others
// get kAlreadyExists.
//
// Threads: every method may be called from any thread concurrently; an ObjectWriter and a
// RandomAccessObject are used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sl::lake {

struct ObjectInfo {
  std::string key;            // relative to the store's root
  uint64_t size = 0;
  int64_t modified_ms = 0;    // last modification, ms since the epoch (0 if unknown)
};

// Streams one object of unknown length; large objects go up as a multipart upload (S3).
// Nothing is visible under the key before close() succeeds; abort() (or the destructor
// without close) leaves nothing behind (local: removes the temporary file; S3: aborts the
// multipart upload).
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status append(std::string_view bytes) = 0;
  virtual Status close() = 0;
  virtual void abort() = 0;
  virtual uint64_t bytes_written() const = 0;
};

// Positional reads of one object (Parquet footers and column chunks).
class RandomAccessObject {
 public:
  virtual ~RandomAccessObject() = default;
  virtual uint64_t size() const = 0;
  // Reads [offset, offset + length) into *out (replacing its contents). Reading past the
  // end is kInvalidArgument; a short object is kCorruption.
  virtual Status read(uint64_t offset, uint64_t length, std::string* out) = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // "file:///abs/dir" or "s3://bucket/prefix" — for messages and SHOW SINKS.
  virtual std::string uri() const = 0;

  virtual Status put(const std::string& key, std::string_view bytes) = 0;
  // kAlreadyExists if the key exists (or another writer won the race).
  virtual Status put_if_absent(const std::string& key, std::string_view bytes) = 0;
  virtual Result<std::string> get(const std::string& key) = 0;          // kNotFound if absent
  virtual Result<std::unique_ptr<RandomAccessObject>> open(const std::string& key) = 0;
  virtual Result<std::unique_ptr<ObjectWriter>> create(const std::string& key) = 0;
  virtual Result<ObjectInfo> stat(const std::string& key) = 0;           // kNotFound if absent
  // Every object whose key starts with `prefix`, sorted by key (recursive).
  virtual Result<std::vector<ObjectInfo>> list(const std::string& prefix) = 0;
  // Removing an absent key is OK.
  virtual Status remove(const std::string& key) = 0;
};

// A directory on local disk (created if missing, mode 0700).
Result<std::unique_ptr<ObjectStore>> open_local_store(const std::string& root_dir);

// Settings of an S3-compatible store ([lake.s3] in streamlake.toml, or the standard AWS
// environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_SHARED_CREDENTIALS_FILE).
struct S3Options {
  std::string endpoint;         // "http://127.0.0.1:4569"; empty: https://s3.<region>.amazonaws.com
  std::string region;           // empty: from the environment, else "us-east-1"
  bool path_style = true;       // http://host/bucket/key (false: http://bucket.host/key)
  std::string access_key, secret_key, session_token;
  int max_retries = 8;          // 5xx, 429/SlowDown, dropped connections, timeouts
  int64_t retry_base_ms = 50;   // exponential backoff with full jitter, capped at 5 s
  int64_t request_timeout_ms = 60000;  // an attempt fails when nothing moves for this long
  uint64_t multipart_part_bytes = 8u << 20;  // ObjectWriter switches to multipart beyond this
  // Fills unset fields from the environment and the shared-credentials file.
  void fill_from_environment();
};

// "s3://bucket/prefix" with `options`.
Result<std::unique_ptr<ObjectStore>> open_s3_store(const std::string& uri, const S3Options& options);

// "s3://..." → open_s3_store, "file:///..." or a plain path → open_local_store.
Result<std::unique_ptr<ObjectStore>> open_store(const std::string& uri_or_path, const S3Options& s3);

}  // namespace sl::lake
