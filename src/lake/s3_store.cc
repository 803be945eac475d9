// The S3-compatible object store: see s3_store.h for the request, signing and retry rules.
#include "lake/s3_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include "util/aws_credentials.h"
#include "util/hash.h"

namespace sl::lake {
namespace s3 {

std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status check_key(std::string_view key) {
  if (key.empty()) return invalid_argument("object key is empty");
  if (key.size() > 1024) return invalid_argument("object key longer than 1024 bytes: " + std::string(key.substr(0, 64)) + "…");
  if (key.front() == '/') return invalid_argument("object key is absolute: " + std::string(key));
  if (key.find("..") != std::string_view::npos) return invalid_argument("object key contains \"..\": " + std::string(key));
  // Control characters cannot be listed back in ListObjectsV2's XML (XML 1.0 has no way to
  // write most of them), so they are refused up front.
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7F) return invalid_argument("object key contains a control character: " + std::string(key));
  }
  return Status::OK();
}

Result<S3Location> parse_s3_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.substr(0, kScheme.size()) != kScheme) return invalid_argument("not an s3:// URI: " + std::string(uri));
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (loc.bucket.empty()) return invalid_argument("s3 URI without a bucket: " + std::string(uri));
  for (char c : loc.bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
          c == '.' || c == '_'))
      return invalid_argument("s3 bucket name has characters S3 does not allow: " + std::string(uri));
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) {
      SL_RETURN_IF_ERROR(check_key(prefix));
      loc.prefix = std::string(prefix) + "/";
    }
  }
  return loc;
}

namespace {

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}


int64_t civil_to_ms(int year, int month, int day, int hour, int minute, int second, int ms) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return -1;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t t = timegm(&tm);
  return static_cast<int64_t>(t) * 1000 + ms;
}

int num(std::string_view s, size_t pos, size_t len) {
  if (pos + len > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out.push_back('&');
    else if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string digits(ent.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long cp = digits.empty() ? 0x110000 : std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0' || cp > 0x10FFFF) {
        out.push_back('&');
        continue;
      }
      append_utf8(static_cast<uint32_t>(cp), &out);
    } else {
      out.push_back('&');
      continue;
    }
    i = semi;
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(tag);
  std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char c = xml[after];
    if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      pos = after;  // a longer tag name (<KeyCount> when looking for <Key>)
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <Tag/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::string xml_first(std::string_view xml, std::string_view tag) {
  auto all = xml_elements(xml, tag);
  return all.empty() ? std::string() : xml_unescape(all.front());
}

Result<ListPage> parse_list_page(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos)
    return corruption("ListObjectsV2 answer is not a ListBucketResult: " + std::string(xml.substr(0, 200)));
  ListPage page;
  for (std::string_view c : xml_elements(xml, "Contents")) {
    auto keys = xml_elements(c, "Key");
    auto sizes = xml_elements(c, "Size");
    if (keys.empty() || sizes.empty()) return corruption("ListObjectsV2 entry without Key or Size");
    ObjectInfo info;
    info.key = xml_unescape(keys.front());
    if (!parse_u64(sizes.front(), &info.size))
      return corruption("ListObjectsV2 entry " + info.key + " has a bad Size: " + std::string(sizes.front()));
    info.modified_ms = std::max<int64_t>(0, parse_iso8601_ms(xml_first(c, "LastModified")));
    page.objects.push_back(std::move(info));
  }
  // IsTruncated and NextContinuationToken are children of the root only.
  page.truncated = xml_first(xml, "IsTruncated") == "true";
  page.next_token = xml_first(xml, "NextContinuationToken");
  if (page.truncated && page.next_token.empty())
    return corruption("ListObjectsV2 answer is truncated but has no NextContinuationToken");
  return page;
}

int64_t parse_iso8601_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return -1;
  int y = num(s, 0, 4), mo = num(s, 5, 2), d = num(s, 8, 2), h = num(s, 11, 2), mi = num(s, 14, 2), se = num(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return -1;
  size_t i = 19;
  int ms = 0;
  if (s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return -1;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (i + 1 != s.size() || s[i] != 'Z') return -1;
  return civil_to_ms(y, mo, d, h, mi, se, ms);
}

int64_t parse_http_date_ms(std::string_view s) {
  // "Tue, 08 Dec 2026 01:02:03 GMT"
  if (s.size() != 29 || s[3] != ',' || s.substr(26) != "GMT") return -1;
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int month = 0;
  for (int m = 0; m < 12; ++m) {
    if (s.substr(8, 3) == kMonths[m]) month = m + 1;
  }
  int d = num(s, 5, 2), y = num(s, 12, 4), h = num(s, 17, 2), mi = num(s, 20, 2), se = num(s, 23, 2);
  if (month == 0 || d < 0 || y < 0 || h < 0 || mi < 0 || se < 0) return -1;
  return civil_to_ms(y, month, d, h, mi, se, 0);
}

int64_t backoff_bound_ms(int attempt, int64_t base_ms, int64_t cap_ms) {
  int64_t bound = std::max<int64_t>(base_ms, 1);
  for (int i = 0; i < attempt && bound < cap_ms; ++i) bound *= 2;
  return std::min(bound, cap_ms);
}

std::string multipart_etag(const std::vector<std::string>& part_etags) {
  std::string concat;
  for (const std::string& e : part_etags) {
    std::string hex;
    for (char c : e) {
      if (c != '"') hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (hex.size() != 32) return "";
    for (size_t i = 0; i < 32; i += 2) {
      char* end = nullptr;
      std::string byte = hex.substr(i, 2);
      long v = std::strtol(byte.c_str(), &end, 16);
      if (*end != '\0') return "";
      concat.push_back(static_cast<char>(v));
    }
  }
  return hex_lower(md5(concat)) + "-" + std::to_string(part_etags.size());
}

}  // namespace s3

namespace {

using s3::S3Location;

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  bool headers_done = false;  // the blank line after the final header block arrived

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
  bool success() const { return status >= 200 && status < 300; }
};

struct Request {
  const char* method = "GET";
  std::string key;                   // full key (with the store's prefix); "" = the bucket
  std::string query;                 // canonical query string (make_query), without '?'
  std::vector<std::string> headers;  // "Name: value", never with an empty value
  std::string_view body;
  bool error_in_ok_body = false;     // CompleteMultipartUpload may answer 200 with an <Error>
};

// A query string in SigV4 canonical form: sorted by name, names and values encoded.
std::string make_query(std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string q;
  for (const auto& [k, v] : params) {
    if (!q.empty()) q += '&';
    q += s3::uri_encode(k, false) + "=" + s3::uri_encode(v, false);
  }
  return q;
}

std::string unquote(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '"'), s.end());
  return s;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {  // a new status line (after 100 Continue, redirects)
    resp->headers.clear();
    resp->headers_done = false;
    return size * n;
  }
  if (line == "\r\n" || line == "\n") {
    resp->headers_done = true;
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  resp->headers.emplace_back(std::move(name), std::string(value));
  return size * n;
}

bool retryable_code(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "ConditionalRequestConflict" || code == "OperationAborted";
}

// Transport failures worth another attempt; *maybe_sent: the server may have received it.
bool transient_curl_error(CURLcode rc, bool* maybe_sent) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      *maybe_sent = false;
      return true;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      *maybe_sent = true;
      return true;
    default:
      *maybe_sent = false;
      return false;
  }
}

void global_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The state shared by a store and the objects and writers it hands out (which may outlive
// it): settings, location and a pool of curl handles. Thread-safe.
class S3Client {
 public:
  S3Client(S3Options o, S3Location loc) : opt_(std::move(o)), loc_(std::move(loc)) {
    sigv4_ = "aws:amz:" + opt_.region + ":s3";
    std::string ep = opt_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    size_t scheme_end = ep.find("://");
    scheme_ = ep.substr(0, scheme_end + 3);
    std::string rest = ep.substr(scheme_end + 3);
    size_t slash = rest.find('/');
    host_ = rest.substr(0, slash);
    base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
  }
  ~S3Client() {
    for (CURL* h : free_) curl_easy_cleanup(h);
  }

  const S3Location& location() const { return loc_; }
  const S3Options& options() const { return opt_; }
  std::string full_key(const std::string& key) const { return loc_.prefix + key; }
  // "s3://bucket/full/key", for messages.
  std::string display(const std::string& full_key) const { return "s3://" + loc_.bucket + "/" + full_key; }

  // Runs `req` with retries. OK: *resp holds a final answer (2xx, or an error that is not
  // retried). Not OK: the attempts ran out; the message says the last failure.
  // `applied` (may be empty) is asked, when an earlier attempt may have been applied, whether
  // the operation is in effect; if it says yes, the answer is a synthetic 200.
  Status execute(const Request& req, HttpResponse* resp, const std::function<bool()>& applied = {}) {
    const std::string what = display(req.key);
    bool ambiguous = false;
    std::string last;
    std::vector<std::string> history;  // each failed attempt, for the final message
    const std::string sha = "x-amz-content-sha256: " + hex_lower(sha256(req.body));  // once, not per attempt
    for (int attempt = 0;; ++attempt) {
      if (attempt > 0 && ambiguous && applied && applied()) {
        *resp = HttpResponse{};
        resp->status = 200;
        return Status::OK();
      }
      *resp = HttpResponse{};
      CURLcode rc = perform(req, sha, resp);
      bool retry = false;
      if (rc != CURLE_OK) {
        bool maybe_sent = false;
        retry = transient_curl_error(rc, &maybe_sent);
        ambiguous = ambiguous || maybe_sent;
        last = std::string(req.method) + " " + what + ": " + curl_easy_strerror(rc);
        if (!retry) return io_error(last);
        history.push_back(curl_easy_strerror(rc));
      } else {
        std::string code;
        if (req.error_in_ok_body && resp->status == 200 && resp->body.find("<Error>") != std::string::npos) {
          // S3 reports a failed completion inside a 200 answer: retried only if its code says so.
          code = s3::xml_first(resp->body, "Code");
          resp->status = retryable_code(code) ? 500 : 400;
        }
        if (resp->success()) return Status::OK();
        if (code.empty()) code = s3::xml_first(resp->body, "Code");
        retry = resp->status >= 500 || resp->status == 429 || retryable_code(code);
        if (resp->status >= 500 && resp->status != 503) ambiguous = true;
        if (!retry) {
          if (ambiguous && applied && applied()) {
            *resp = HttpResponse{};
            resp->status = 200;
          }
          return Status::OK();
        }
        last = error_status(*resp, req.method, req.key).message();
        history.push_back("HTTP " + std::to_string(resp->status) + " " + code);
      }
      if (attempt >= opt_.max_retries) break;
      sleep_backoff(attempt);
    }
    if (ambiguous && applied && applied()) {
      *resp = HttpResponse{};
      resp->status = 200;
      return Status::OK();
    }
    std::string earlier;
    for (size_t i = 0; i + 1 < history.size(); ++i) earlier += (i ? ", " : "") + history[i];
    return io_error(last + " (gave up after " + std::to_string(opt_.max_retries + 1) + " attempts" +
                    (earlier.empty() ? "" : "; earlier: " + earlier) + ")");
  }

  // The Status of a final non-2xx answer: S3's Code and Message, the object, the HTTP status.
  Status error_status(const HttpResponse& r, const char* method, const std::string& full_key) const {
    std::string code = s3::xml_first(r.body, "Code");
    std::string message = s3::xml_first(r.body, "Message");
    if (code.empty()) {
      switch (r.status) {
        case 400: code = "BadRequest"; break;
        case 403: code = "Forbidden"; break;
        case 404: code = "NotFound"; break;
        case 412: code = "PreconditionFailed"; break;
        case 416: code = "InvalidRange"; break;
        default: code = "HTTP" + std::to_string(r.status);
      }
    }
    std::string text = std::string(method) + " " + display(full_key) + ": " + code + " (HTTP " +
                       std::to_string(r.status) + ")" + (message.empty() ? "" : ": " + message);
    Errc e = Errc::kIoError;
    if (r.status == 404) e = Errc::kNotFound;
    else if (r.status == 412) e = Errc::kAlreadyExists;
    else if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
             code == "InvalidToken" || code == "TokenRefreshRequired")
      e = Errc::kUnauthenticated;
    else if (r.status == 403) e = Errc::kPermissionDenied;
    else if (r.status == 400 || r.status == 416) e = Errc::kInvalidArgument;
    return {e, std::move(text)};
  }

  // HEAD of a full key: size, modification time and ETag.
  Result<ObjectInfo> head(const std::string& full, std::string* etag) {
    HttpResponse resp;
    SL_RETURN_IF_ERROR(simple("HEAD", full, {}, &resp));
    ObjectInfo info;
    info.key = full;
    if (!s3::parse_u64(resp.header("content-length"), &info.size))
      return corruption("HEAD " + display(full) + ": answer without a valid Content-Length");
    info.modified_ms = std::max<int64_t>(0, s3::parse_http_date_ms(resp.header("last-modified")));
    if (etag) *etag = resp.header("etag");
    return info;
  }

  Result<std::string> get_full(const std::string& full) {
    HttpResponse resp;
    SL_RETURN_IF_ERROR(simple("GET", full, {}, &resp));
    return std::move(resp.body);
  }

  Status put_full(const std::string& full, std::string_view bytes) {
    HttpResponse resp;
    return simple("PUT", full, bytes, &resp);
  }

  // One plain request on an object (no query, no extra header); OK only for a 2xx answer.
  Status simple(const char* method, const std::string& full, std::string_view body, HttpResponse* resp) {
    Request req;
    req.method = method;
    req.key = full;
    req.body = body;
    SL_RETURN_IF_ERROR(execute(req, resp));
    if (!resp->success()) return error_status(*resp, method, full);
    return Status::OK();
  }

 private:
  CURL* acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        CURL* h = free_.back();
        free_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* h) {
    curl_easy_reset(h);  // keeps the connection cache
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < 16) {
      free_.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  std::string url(const Request& req) const {
    std::string u = scheme_;
    if (opt_.path_style) {
      u += host_ + base_path_ + "/" + loc_.bucket;
      if (!req.key.empty()) u += "/" + s3::uri_encode(req.key, true);
    } else {
      u += loc_.bucket + "." + host_ + base_path_ + "/" + s3::uri_encode(req.key, true);
    }
    if (!req.query.empty()) u += "?" + req.query;
    return u;
  }

  CURLcode perform(const Request& req, const std::string& sha_header, HttpResponse* resp) {
    CURL* h = acquire();
    if (!h) return CURLE_OUT_OF_MEMORY;
    std::string u = url(req);
    curl_easy_setopt(h, CURLOPT_URL, u.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));  // S3 speaks HTTP/1.1
    // An attempt fails when nothing moves for request_timeout_ms (connecting included), not
    // after a fixed total: a large part or object on a slow link may take longer.
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.request_timeout_ms));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::max<int64_t>(1, (opt_.request_timeout_ms + 999) / 1000)));
    if (!opt_.access_key.empty()) {
      curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
      curl_easy_setopt(h, CURLOPT_USERNAME, opt_.access_key.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, opt_.secret_key.c_str());
    }
    curl_slist* hdrs = nullptr;
    hdrs = curl_slist_append(hdrs, sha_header.c_str());
    std::string token;
    if (!opt_.session_token.empty()) {
      token = "x-amz-security-token: " + opt_.session_token;
      hdrs = curl_slist_append(hdrs, token.c_str());
    }
    for (const std::string& x : req.headers) hdrs = curl_slist_append(hdrs, x.c_str());
    std::string_view m = req.method;
    if (m == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (m == "PUT" || m == "POST") {
      // An explicit Content-Type, so curl neither adds its form type nor signs an empty one.
      bool has_type = std::any_of(req.headers.begin(), req.headers.end(),
                                  [](const std::string& x) { return x.rfind("Content-Type:", 0) == 0; });
      if (!has_type) hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.empty() ? "" : req.body.data());
    } else if (m != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    // curl accepts an answer cut off inside its headers; we do not (its Content-Length, and
    // so the check of the body's length, may be what is missing).
    if (rc == CURLE_OK && !resp->headers_done) rc = CURLE_PARTIAL_FILE;
    curl_slist_free_all(hdrs);
    release(h);
    return rc;
  }

  void sleep_backoff(int attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    int64_t bound = s3::backoff_bound_ms(attempt, opt_.retry_base_ms);
    std::uniform_int_distribution<int64_t> dist(0, bound);
    std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
  }

  const S3Options opt_;
  const S3Location loc_;
  std::string sigv4_, scheme_, host_, base_path_;
  std::mutex mu_;
  std::vector<CURL*> free_;  // GUARDED_BY(mu_)
};

class S3Object final : public RandomAccessObject {
 public:
  S3Object(std::shared_ptr<S3Client> c, std::string full, uint64_t size, std::string etag)
      : c_(std::move(c)), full_(std::move(full)), size_(size), etag_(std::move(etag)) {}

  uint64_t size() const override { return size_; }

  Status read(uint64_t offset, uint64_t length, std::string* out) override {
    if (offset > size_ || length > size_ - offset)
      return invalid_argument("read of [" + std::to_string(offset) + ", +" + std::to_string(length) + ") past the end of " +
                              c_->display(full_) + " (" + std::to_string(size_) + " bytes)");
    out->clear();
    if (length == 0) return Status::OK();
    Request req;
    req.method = "GET";
    req.key = full_;
    req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
    if (!etag_.empty()) req.headers.push_back("If-Match: " + etag_);
    HttpResponse resp;
    SL_RETURN_IF_ERROR(c_->execute(req, &resp));
    if (resp.status == 412)
      return corruption("GET " + c_->display(full_) + ": the object changed since it was opened");
    if (resp.status == 416)
      return corruption("GET " + c_->display(full_) + ": the object is shorter than its " + std::to_string(size_) + " bytes");
    if (!resp.success()) return c_->error_status(resp, "GET", full_);
    if (resp.body.size() == size_ && size_ != length) {
      // The whole object: the server ignored the range (200), or mishandled it (s3rver
      // answers "bytes=0-0" with 206 and every byte).
      *out = resp.body.substr(offset, length);
      return Status::OK();
    }
    if (resp.status != 206 || resp.body.size() != length)
      return corruption("GET " + c_->display(full_) + ": asked for " + std::to_string(length) + " bytes at " +
                        std::to_string(offset) + ", got " + std::to_string(resp.body.size()) + " (HTTP " +
                        std::to_string(resp.status) + ")");
    *out = std::move(resp.body);
    return Status::OK();
  }

 private:
  std::shared_ptr<S3Client> c_;
  const std::string full_;
  const uint64_t size_;
  const std::string etag_;
};

// Buffers up to one part; the first full part starts a multipart upload, close() sends the
// rest (a small object is one PUT). MD5s of the parts and of the whole object are kept to
// recognise our own completed object when the answer to CompleteMultipartUpload is lost.
class S3Writer final : public ObjectWriter {
 public:
  S3Writer(std::shared_ptr<S3Client> c, std::string full) : c_(std::move(c)), full_(std::move(full)) {
    part_bytes_ = std::max<uint64_t>(c_->options().multipart_part_bytes, 1);
    md5_ = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md5_, EVP_md5(), nullptr);
  }
  ~S3Writer() override {
    if (state_ != State::kClosed && state_ != State::kAborted) abort();
    EVP_MD_CTX_free(md5_);
  }

  Status append(std::string_view bytes) override {
    SL_RETURN_IF_ERROR(check_open("append to"));
    buf_.append(bytes);
    written_ += bytes.size();
    EVP_DigestUpdate(md5_, bytes.data(), bytes.size());
    size_t pos = 0;
    while (buf_.size() - pos >= part_bytes_) {
      Status st = upload_part(std::string_view(buf_).substr(pos, part_bytes_));
      if (!st.ok()) return fail(std::move(st));
      pos += part_bytes_;
    }
    buf_.erase(0, pos);
    return Status::OK();
  }

  Status close() override {
    SL_RETURN_IF_ERROR(check_open("close"));
    if (upload_id_.empty()) {
      Status st = c_->put_full(full_, buf_);
      if (!st.ok()) return fail(std::move(st));
    } else {
      if (!buf_.empty()) {
        Status st = upload_part(buf_);
        if (!st.ok()) return fail(std::move(st));
      }
      Status st = complete();
      if (!st.ok()) return fail(std::move(st));
    }
    state_ = State::kClosed;
    std::string().swap(buf_);
    return Status::OK();
  }

  void abort() override {
    if (state_ == State::kClosed || state_ == State::kAborted) return;
    state_ = State::kAborted;
    std::string().swap(buf_);
    if (upload_id_.empty()) return;
    Request req;
    req.method = "DELETE";
    req.key = full_;
    req.query = make_query({{"uploadId", upload_id_}});
    HttpResponse resp;
    // Best effort: an upload left behind is invisible and costs storage until a bucket
    // lifecycle rule (AbortIncompleteMultipartUpload) removes it.
    c_->execute(req, &resp).ignore();
  }

  uint64_t bytes_written() const override { return written_; }

 private:
  enum class State { kOpen, kFailed, kClosed, kAborted };

  Status check_open(const char* what) const {
    if (state_ == State::kFailed) return failed_;
    if (state_ != State::kOpen)
      return {Errc::kInUse, std::string("cannot ") + what + " " + c_->display(full_) + ": the writer is " +
                                (state_ == State::kClosed ? "closed" : "aborted")};
    return Status::OK();
  }

  Status fail(Status st) {
    state_ = State::kFailed;
    failed_ = st;
    return st;
  }

  Status start_upload() {
    Request req;
    req.method = "POST";
    req.key = full_;
    req.query = make_query({{"uploads", ""}});
    HttpResponse resp;
    SL_RETURN_IF_ERROR(c_->execute(req, &resp));
    if (!resp.success()) return c_->error_status(resp, "POST (CreateMultipartUpload)", full_);
    upload_id_ = s3::xml_first(resp.body, "UploadId");
    if (upload_id_.empty())
      return corruption("CreateMultipartUpload " + c_->display(full_) + ": answer without an UploadId");
    return Status::OK();
  }

  Status upload_part(std::string_view part) {
    if (upload_id_.empty()) SL_RETURN_IF_ERROR(start_upload());
    if (etags_.size() >= 10000)
      return {Errc::kLimitExceeded, "multipart upload of " + c_->display(full_) +
                                        " needs more than 10000 parts: raise multipart_part_bytes"};
    Request req;
    req.method = "PUT";
    req.key = full_;
    req.query = make_query({{"partNumber", std::to_string(etags_.size() + 1)}, {"uploadId", upload_id_}});
    req.body = part;
    HttpResponse resp;
    SL_RETURN_IF_ERROR(c_->execute(req, &resp));
    if (!resp.success()) return c_->error_status(resp, "PUT (UploadPart)", full_);
    std::string etag = resp.header("etag");
    if (etag.empty()) return corruption("UploadPart " + c_->display(full_) + ": answer without an ETag");
    etags_.push_back(std::move(etag));
    return Status::OK();
  }

  Status complete() {
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + s3::xml_escape(etags_[i]) +
             "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md5_, digest, &n);
    const std::string whole_md5 = hex_lower(digest, n);
    const std::string parts_etag = s3::multipart_etag(etags_);
    Request req;
    req.method = "POST";
    req.key = full_;
    req.query = make_query({{"uploadId", upload_id_}});
    req.headers.push_back("Content-Type: application/xml");
    req.body = xml;
    req.error_in_ok_body = true;
    // The completion may have been applied although its answer was lost; a retry then finds
    // no upload. Our object is recognised by its size and ETag (S3's multipart ETag, or the
    // MD5 of the whole object as some S3-compatible stores give).
    auto applied = [&] {
      std::string etag;
      auto info = c_->head(full_, &etag);
      if (!info.ok() || info->size != written_) return false;
      etag = unquote(etag);
      return etag == parts_etag || etag == whole_md5;
    };
    HttpResponse resp;
    SL_RETURN_IF_ERROR(c_->execute(req, &resp, applied));
    if (!resp.success()) return c_->error_status(resp, "POST (CompleteMultipartUpload)", full_);
    return Status::OK();
  }

  std::shared_ptr<S3Client> c_;
  const std::string full_;
  uint64_t part_bytes_;
  std::string buf_;
  uint64_t written_ = 0;
  std::string upload_id_;
  std::vector<std::string> etags_;
  EVP_MD_CTX* md5_ = nullptr;
  State state_ = State::kOpen;
  Status failed_;
};

class S3Store final : public ObjectStore {
 public:
  explicit S3Store(std::shared_ptr<S3Client> c) : c_(std::move(c)) {}

  std::string uri() const override {
    const S3Location& loc = c_->location();
    std::string p = loc.prefix;
    if (!p.empty()) p.pop_back();
    return "s3://" + loc.bucket + (p.empty() ? "" : "/" + p);
  }

  Status put(const std::string& key, std::string_view bytes) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    return c_->put_full(c_->full_key(key), bytes);
  }

  Status put_if_absent(const std::string& key, std::string_view bytes) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    const std::string full = c_->full_key(key);
    // A HEAD first: stores that ignore If-None-Match (s3rver) still refuse a key that exists
    // already; the conditional PUT below is what decides a race on stores that honour it.
    auto existing = c_->head(full, nullptr);
    if (existing.ok()) return {Errc::kAlreadyExists, "PUT " + c_->display(full) + ": the object exists already"};
    if (existing.status().code() != Errc::kNotFound) return existing.status();
    Request req;
    req.method = "PUT";
    req.key = full;
    req.body = bytes;
    req.headers.push_back("If-None-Match: *");
    // A retry after a lost answer finds our own object (412 on S3): same bytes = ours.
    auto applied = [&] {
      auto got = c_->get_full(full);
      return got.ok() && *got == bytes;
    };
    HttpResponse resp;
    SL_RETURN_IF_ERROR(c_->execute(req, &resp, applied));
    if (!resp.success()) return c_->error_status(resp, "PUT", full);
    return Status::OK();
  }

  Result<std::string> get(const std::string& key) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    return c_->get_full(c_->full_key(key));
  }

  Result<std::unique_ptr<RandomAccessObject>> open(const std::string& key) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    std::string full = c_->full_key(key), etag;
    SL_ASSIGN_OR_RETURN(ObjectInfo info, c_->head(full, &etag));
    return std::unique_ptr<RandomAccessObject>(std::make_unique<S3Object>(c_, full, info.size, etag));
  }

  Result<std::unique_ptr<ObjectWriter>> create(const std::string& key) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    return std::unique_ptr<ObjectWriter>(std::make_unique<S3Writer>(c_, c_->full_key(key)));
  }

  Result<ObjectInfo> stat(const std::string& key) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    SL_ASSIGN_OR_RETURN(ObjectInfo info, c_->head(c_->full_key(key), nullptr));
    info.key = key;
    return info;
  }

  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    if (!prefix.empty()) SL_RETURN_IF_ERROR(s3::check_key(prefix));
    const std::string& root = c_->location().prefix;
    const std::string full = root + prefix;
    std::vector<ObjectInfo> out;
    std::string token;
    do {
      std::vector<std::pair<std::string, std::string>> params = {
          {"list-type", "2"}, {"max-keys", "1000"}, {"prefix", full}};
      if (!token.empty()) params.emplace_back("continuation-token", token);
      Request req;
      req.method = "GET";
      req.query = make_query(std::move(params));
      HttpResponse resp;
      SL_RETURN_IF_ERROR(c_->execute(req, &resp));
      if (!resp.success()) return c_->error_status(resp, "GET (ListObjectsV2)", full);
      SL_ASSIGN_OR_RETURN(s3::ListPage page, s3::parse_list_page(resp.body));
      for (ObjectInfo& o : page.objects) {
        if (o.key.compare(0, full.size(), full) != 0) continue;
        o.key.erase(0, root.size());
        out.push_back(std::move(o));
      }
      token = page.truncated ? page.next_token : "";
    } while (!token.empty());
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status remove(const std::string& key) override {
    SL_RETURN_IF_ERROR(s3::check_key(key));
    const std::string full = c_->full_key(key);
    Request req;
    req.method = "DELETE";
    req.key = full;
    HttpResponse resp;
    SL_RETURN_IF_ERROR(c_->execute(req, &resp));
    if (resp.success()) return Status::OK();
    if (resp.status == 404 && s3::xml_first(resp.body, "Code") == "NoSuchKey") return Status::OK();
    return c_->error_status(resp, "DELETE", full);
  }

 private:
  std::shared_ptr<S3Client> c_;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

void S3Options::fill_from_environment() {
  if (endpoint.empty()) endpoint = env("AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = env("AWS_ENDPOINT_URL");
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (access_key.empty() && secret_key.empty()) {
    access_key = env("AWS_ACCESS_KEY_ID");
    secret_key = env("AWS_SECRET_ACCESS_KEY");
    session_token = env("AWS_SESSION_TOKEN");
  }
  if (access_key.empty() && secret_key.empty()) {
    std::string path = env("AWS_SHARED_CREDENTIALS_FILE");
    if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.aws/credentials";
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string profile = env("AWS_PROFILE");
      if (profile.empty()) profile = "default";
      AwsCredentials c = parse_aws_credentials(ss.str(), profile);
      access_key = c.access_key;
      secret_key = c.secret_key;
      session_token = c.session_token;
    }
  }
}

Result<std::unique_ptr<ObjectStore>> open_s3_store(const std::string& uri, const S3Options& options) {
  SL_ASSIGN_OR_RETURN(S3Location loc, s3::parse_s3_uri(uri));
  S3Options o = options;
  if (o.region.empty()) o.region = "us-east-1";
  for (char c : o.region) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
      return invalid_argument("S3 region has characters a region cannot have: " + o.region);
  }
  if (o.endpoint.empty()) o.endpoint = "https://s3." + o.region + ".amazonaws.com";
  if (o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0)
    return invalid_argument("S3 endpoint must start with http:// or https://: " + o.endpoint);
  if (o.endpoint.find_first_of("?# ") != std::string::npos)
    return invalid_argument("S3 endpoint must be scheme://host[:port][/path]: " + o.endpoint);
  if (!o.path_style && (loc.bucket.find('_') != std::string::npos || loc.bucket.find('.') != std::string::npos))
    return invalid_argument("bucket " + loc.bucket +
                            " cannot be addressed virtual-hosted style (dots or underscores); set path_style");
  if (o.access_key.empty() != o.secret_key.empty())
    return invalid_argument("S3 credentials need both an access key and a secret key");
  if (o.max_retries < 0 || o.retry_base_ms < 0 || o.request_timeout_ms <= 0 || o.multipart_part_bytes == 0)
    return invalid_argument("S3 retry, timeout and part-size settings must be positive");
  global_curl_init();
  return std::unique_ptr<ObjectStore>(std::make_unique<S3Store>(std::make_shared<S3Client>(std::move(o), std::move(loc))));
}

}  // namespace sl::lake
