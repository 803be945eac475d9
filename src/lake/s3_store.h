// The S3-compatible object store (open_s3_store in object_store.h) and the pieces of it that
// are pure functions, declared here so that unit tests reach them without a server.
//
// Requests go through libcurl (one easy handle per request from a small pool, so connections
// are reused) and are signed by curl's built-in SigV4 ("aws:amz:<region>:s3"). curl 7.88
// (Debian 12) signs the query string exactly as sent and signs every header we pass, so:
// every query string is built here already in SigV4 canonical form (names sorted, names and
// values encoded by s3_uri_encode), no header is ever passed empty (an empty "Name:" removes
// the header from the request but curl still signs it), and x-amz-content-sha256 is computed
// here (SHA-256 of the body) and passed as a header, which curl then signs.
//
// Retries (every request): curl transport errors (refused or dropped connections, timeouts,
// truncated responses), HTTP 5xx, 429, and the S3 codes SlowDown, RequestTimeout,
// InternalError, ServiceUnavailable, ConditionalRequestConflict are retried up to
// S3Options::max_retries times with exponential backoff and full jitter
// (sleep uniform in [0, min(5 s, retry_base_ms * 2^attempt)]). Other 4xx answers are final.
// A request that may have been applied although we saw no answer (a dropped connection, a
// 5xx) is "ambiguous": operations that are not idempotent resolve it before the next attempt
// (put_if_absent compares the stored object with its bytes; CompleteMultipartUpload compares
// the stored object's size and ETag).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lake/object_store.h"
#include "util/status.h"

namespace sl::lake::s3 {

// S3's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex);
// '/' is kept when keep_slash (object keys in paths), encoded otherwise (query values).
std::string uri_encode(std::string_view s, bool keep_slash);

// kInvalidArgument unless `key` is a valid object key of ours: non-empty, no leading '/',
// no "..", no control character (0x00-0x1F, 0x7F), at most 1024 bytes.
Status check_key(std::string_view key);

// "s3://bucket/prefix" → bucket and prefix ("" or ending in '/').
struct S3Location {
  std::string bucket;
  std::string prefix;
};
Result<S3Location> parse_s3_uri(std::string_view uri);

// XML text with the five named entities and &#N; / &#xH; references decoded (UTF-8).
std::string xml_unescape(std::string_view s);
// XML-escapes &, <, >, " and '.
std::string xml_escape(std::string_view s);
// The raw (still escaped) contents of every <tag>…</tag> (or <tag/>, as "") in `xml`, in
// document order. Elements of the same name must not nest (true of the S3 answers we read).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);
// The decoded text of the first <tag> element, or "" if there is none.
std::string xml_first(std::string_view xml, std::string_view tag);

// One page of ListObjectsV2.
struct ListPage {
  std::vector<ObjectInfo> objects;  // keys as stored (with the store's prefix)
  bool truncated = false;
  std::string next_token;
};
Result<ListPage> parse_list_page(std::string_view xml);

// Decimal digits as an unsigned number; false if empty, not all digits, or above 19 digits.
bool parse_u64(std::string_view s, uint64_t* out);

// "2026-12-08T01:02:03.456Z" → ms since the epoch (-1 if malformed).
int64_t parse_iso8601_ms(std::string_view s);
// "Tue, 08 Dec 2026 01:02:03 GMT" → ms since the epoch (-1 if malformed).
int64_t parse_http_date_ms(std::string_view s);

// The upper bound of the attempt-th backoff (attempt 0 = before the first retry):
// min(cap_ms, base_ms * 2^attempt). The sleep is uniform in [0, bound].
int64_t backoff_bound_ms(int attempt, int64_t base_ms, int64_t cap_ms = 5000);

// The ETag S3 gives an object completed from parts with these ETags (hex MD5s, quotes
// allowed): "<hex md5 of the concatenated binary MD5s>-<count>"; "" if one is not hex MD5.
std::string multipart_etag(const std::vector<std::string>& part_etags);

}  // namespace sl::lake::s3
