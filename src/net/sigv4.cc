#include "net/sigv4.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <strings.h>
#include <vector>

#include "util/hash.h"
#include "util/time.h"

namespace sl::net {

namespace {

constexpr int64_t kMaxSkewMs = 15 * 60 * 1000;
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; '+' stays '+' (SDKs encode spaces as %20). Bad escapes stay literal.
std::string pct_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out += static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string canonical_header_value(std::string_view v) {
  v = trim(v);
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

// Query parameters, decoded.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  if (q.empty()) return out;
  for (auto part : split(q, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) out.emplace_back(pct_decode(part), "");
    else out.emplace_back(pct_decode(part.substr(0, eq)), pct_decode(part.substr(eq + 1)));
  }
  return out;
}

std::string sha256_hex(std::string_view s) { return hex_lower(sha256(s)); }

SigV4Result fail(SigV4Result::Error e, std::string msg, SigV4Result r = {}) {
  r.error = e;
  r.message = std::move(msg);
  return r;
}

}  // namespace

const char* sigv4_error_type(SigV4Result::Error e) {
  switch (e) {
    case SigV4Result::Error::kNone: return "";
    case SigV4Result::Error::kMissing: return "MissingAuthenticationTokenException";
    case SigV4Result::Error::kUnknownKey: return "UnrecognizedClientException";
    case SigV4Result::Error::kBadSignature: return "InvalidSignatureException";
    case SigV4Result::Error::kExpired: return "InvalidSignatureException";
    case SigV4Result::Error::kMalformed: return "IncompleteSignatureException";
  }
  return "";
}

std::string sigv4_uri_encode(std::string_view s, bool encode_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    if (unreserved(c) || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string sigv4_canonical_uri(std::string_view raw_path, std::string_view service) {
  if (raw_path.empty()) return "/";
  if (service == "s3") {
    // S3: the path as-is, encoded once, no normalization.
    return sigv4_uri_encode(pct_decode(raw_path), false);
  }
  // Others: normalize (remove empty, "." and ".." segments), then encode the segments as
  // received (already encoded once by the client): the "double encoding" of the SDKs.
  std::vector<std::string_view> segs;
  for (auto seg : split(raw_path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
      continue;
    }
    segs.push_back(seg);
  }
  std::string out;
  for (auto seg : segs) {
    out += '/';
    out += sigv4_uri_encode(seg, true);
  }
  if (out.empty() || raw_path.back() == '/') out += '/';
  if (out == "//") out = "/";
  return out;
}

std::string sigv4_canonical_query(std::string_view raw_query, bool exclude_signature) {
  std::vector<std::pair<std::string, std::string>> enc;
  for (auto& [k, v] : parse_query(raw_query)) {
    if (exclude_signature && k == "X-Amz-Signature") continue;
    enc.emplace_back(sigv4_uri_encode(k, true), sigv4_uri_encode(v, true));
  }
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string sigv4_canonical_request(const HttpRequest& req, std::string_view signed_headers,
                                    std::string_view service, std::string_view payload_hash,
                                    bool presigned) {
  std::string cr;
  cr.reserve(512);
  cr += req.method;
  cr += '\n';
  cr += sigv4_canonical_uri(req.path, service);
  cr += '\n';
  cr += sigv4_canonical_query(req.query, presigned);
  cr += '\n';
  for (auto name : split(signed_headers, ';')) {
    cr += name;
    cr += ':';
    // HTTP/2 clients may sign the pseudo-header ':authority'; the server maps it to 'host'.
    std::string_view lookup = name == ":authority" ? std::string_view("host") : name;
    // Multiple headers of one name: values joined by ','.
    bool first = true;
    for (const auto& [k, v] : req.headers) {
      if (k != lookup) continue;
      if (!first) cr += ',';
      first = false;
      cr += canonical_header_value(v);
    }
    cr += '\n';
  }
  cr += '\n';
  cr += signed_headers;
  cr += '\n';
  cr += payload_hash;
  return cr;
}

std::string sigv4_signature(std::string_view secret, std::string_view date8,
                            std::string_view region, std::string_view service,
                            std::string_view string_to_sign) {
  std::string k = "AWS4";
  k += secret;
  auto kdate = hmac_sha256(k, date8);
  auto kregion = hmac_sha256({reinterpret_cast<const char*>(kdate.data()), kdate.size()}, region);
  auto kservice =
      hmac_sha256({reinterpret_cast<const char*>(kregion.data()), kregion.size()}, service);
  auto ksigning = hmac_sha256(
      {reinterpret_cast<const char*>(kservice.data()), kservice.size()}, "aws4_request");
  return hex_lower(hmac_sha256(
      {reinterpret_cast<const char*>(ksigning.data()), ksigning.size()}, string_to_sign));
}

std::string sigv4_amz_date(int64_t now_ms) {
  int64_t secs = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02uT%02d%02d%02dZ", static_cast<long long>(y), m,
                d, static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60));
  return buf;
}

bool sigv4_parse_amz_date(std::string_view s, int64_t* epoch_ms) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  auto num = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || !num(4, 2, &mo) || !num(6, 2, &d) || !num(9, 2, &h) ||
      !num(11, 2, &mi) || !num(13, 2, &se))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *epoch_ms = ((days * 86400) + h * 3600 + mi * 60 + se) * 1000;
  return true;
}

SigV4Result verify_sigv4(const HttpRequest& req, const SecretLookup& secret_for, int64_t now_ms) {
  using E = SigV4Result::Error;
  SigV4Result r;
  std::string credential, signed_headers, signature, amz_date;
  bool presigned = false;
  int64_t expires_s = -1;

  if (const std::string* auth = req.header("authorization")) {
    std::string_view a = trim(*auth);
    if (a.substr(0, kAlgorithm.size()) != kAlgorithm) {
      return fail(E::kMalformed, "Authorization header requires the AWS4-HMAC-SHA256 algorithm");
    }
    a.remove_prefix(kAlgorithm.size());
    for (auto part : split(a, ',')) {
      part = trim(part);
      auto eq = part.find('=');
      if (eq == std::string_view::npos) continue;
      auto k = trim(part.substr(0, eq));
      auto v = trim(part.substr(eq + 1));
      if (k == "Credential") credential = v;
      else if (k == "SignedHeaders") signed_headers = v;
      else if (k == "Signature") signature = v;
    }
    std::string missing;
    if (credential.empty()) missing += " Credential";
    if (signed_headers.empty()) missing += " SignedHeaders";
    if (signature.empty()) missing += " Signature";
    if (!missing.empty()) {
      return fail(E::kMalformed, "Authorization header requires parameter(s):" + missing + ".");
    }
    if (const std::string* d = req.header("x-amz-date")) amz_date = *d;
    else if (const std::string* d2 = req.header("date")) amz_date = *d2;
  } else {
    auto q = parse_query(req.query);
    auto get = [&](std::string_view k) -> const std::string* {
      for (auto& [qk, qv] : q)
        if (qk == k) return &qv;
      return nullptr;
    };
    const std::string* alg = get("X-Amz-Algorithm");
    if (!alg) return fail(E::kMissing, "Missing Authentication Token");
    presigned = true;
    if (*alg != kAlgorithm) return fail(E::kMalformed, "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
    const std::string* c = get("X-Amz-Credential");
    const std::string* sh = get("X-Amz-SignedHeaders");
    const std::string* sg = get("X-Amz-Signature");
    const std::string* dt = get("X-Amz-Date");
    const std::string* ex = get("X-Amz-Expires");
    if (!c || !sh || !sg || !dt) {
      return fail(E::kMalformed,
                  "presigned request requires X-Amz-Credential, X-Amz-SignedHeaders, "
                  "X-Amz-Signature and X-Amz-Date");
    }
    credential = *c;
    signed_headers = *sh;
    signature = *sg;
    amz_date = *dt;
    if (ex) {
      char* end = nullptr;
      long long v = std::strtoll(ex->c_str(), &end, 10);
      if (ex->empty() || *end != '\0' || v < 0 || v > 7 * 86400)
        return fail(E::kMalformed, "X-Amz-Expires must be 0..604800 seconds");
      expires_s = v;
    }
  }

  auto cparts = split(credential, '/');
  if (cparts.size() != 5 || cparts[4] != "aws4_request" || cparts[0].empty()) {
    return fail(E::kMalformed, "Credential should be scoped to a valid region / service: " +
                                   credential);
  }
  r.access_key = cparts[0];
  r.region = cparts[2];
  r.service = cparts[3];
  std::string_view date8 = cparts[1];

  if (amz_date.empty()) {
    return fail(E::kMalformed, "Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header.", r);
  }
  int64_t req_ms = 0;
  std::string amz_date_canon = amz_date;
  if (!sigv4_parse_amz_date(amz_date, &req_ms)) {
    // RFC 1123 "Date" header form is rare; we accept only the basic ISO 8601 form.
    return fail(E::kMalformed, "Date must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z')", r);
  }
  if (amz_date.substr(0, 8) != date8) {
    return fail(E::kBadSignature, "Credential date " + std::string(date8) +
                                      " does not match request date " + amz_date, r);
  }

  // Signed headers must be sorted, lowercase, and include host (or :authority).
  auto names = split(signed_headers, ';');
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return fail(E::kMalformed, "SignedHeaders is malformed", r);
    for (char ch : names[i])
      if (ch >= 'A' && ch <= 'Z') return fail(E::kMalformed, "SignedHeaders must be lowercase", r);
    if (i > 0 && !(names[i - 1] < names[i]))
      return fail(E::kBadSignature, "SignedHeaders must be sorted", r);
    bool present = false;
    std::string_view lookup = names[i] == ":authority" ? std::string_view("host") : names[i];
    for (const auto& [k, v] : req.headers)
      if (k == lookup) present = true;
    if (!present) {
      return fail(E::kBadSignature,
                  "The request signature we calculated does not match the signature you "
                  "provided: signed header '" + std::string(names[i]) + "' is missing", r);
    }
  }

  if (presigned) {
    if (now_ms < req_ms - kMaxSkewMs) return fail(E::kExpired, "Signature not yet current", r);
    int64_t exp = expires_s < 0 ? 15 * 60 : expires_s;
    if (now_ms > req_ms + exp * 1000) {
      return fail(E::kExpired, "Signature expired: " + amz_date + " is now earlier than " +
                                   sigv4_amz_date(now_ms - exp * 1000), r);
    }
  } else if (now_ms - req_ms > kMaxSkewMs || req_ms - now_ms > kMaxSkewMs) {
    return fail(E::kExpired, "Signature expired: " + amz_date + " is now earlier than " +
                                 sigv4_amz_date(now_ms - kMaxSkewMs) + " (" +
                                 sigv4_amz_date(now_ms) + " - 5 min.)", r);
  }

  std::optional<std::string> secret = secret_for(r.access_key);
  if (!secret) {
    return fail(E::kUnknownKey, "The security token included in the request is invalid.", r);
  }

  std::string payload_hash;
  if (const std::string* ph = req.header("x-amz-content-sha256")) {
    payload_hash = *ph;
    // A declared hash (not UNSIGNED-PAYLOAD / STREAMING-*) must match the body.
    if (payload_hash.size() == 64 && payload_hash != sha256_hex(req.body)) {
      return fail(E::kBadSignature,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.",
                  r);
    }
  }
  else if (presigned && r.service == "s3") payload_hash = "UNSIGNED-PAYLOAD";
  else payload_hash = sha256_hex(req.body);

  std::string cr = sigv4_canonical_request(req, signed_headers, r.service, payload_hash, presigned);
  std::string sts;
  sts.reserve(256);
  sts += kAlgorithm;
  sts += '\n';
  sts += amz_date_canon;
  sts += '\n';
  sts += date8;
  sts += '/';
  sts += r.region;
  sts += '/';
  sts += r.service;
  sts += "/aws4_request\n";
  sts += sha256_hex(cr);
  std::string want = sigv4_signature(*secret, date8, r.region, r.service, sts);
  if (!constant_time_equal(want, signature)) {
    return fail(E::kBadSignature,
                "The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method.", r);
  }
  r.error = E::kNone;
  return r;
}

void sign_sigv4(HttpRequest& req, std::string_view access_key, std::string_view secret,
                std::string_view region, std::string_view service, int64_t now_ms,
                bool sign_payload_header) {
  auto set = [&](const std::string& name, std::string value) {
    std::erase_if(req.headers, [&](const auto& h) {
      std::string k = h.first;
      ascii_lower(k);
      return k == name;
    });
    req.headers.emplace_back(name, std::move(value));
  };
  if (req.path.empty() && !req.target.empty()) {
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  }
  if (req.path.empty()) req.path = "/";
  std::string amz_date = sigv4_amz_date(now_ms);
  std::string date8 = amz_date.substr(0, 8);
  set("x-amz-date", amz_date);
  std::string payload_hash;
  const std::string* declared = nullptr;
  for (const auto& [k, v] : req.headers)
    if (strcasecmp(k.c_str(), "x-amz-content-sha256") == 0) declared = &v;
  if (declared && !sign_payload_header) {
    payload_hash = *declared;  // e.g. UNSIGNED-PAYLOAD
  } else {
    payload_hash = sha256_hex(req.body);
    if (sign_payload_header) set("x-amz-content-sha256", payload_hash);
  }
  std::erase_if(req.headers, [](const auto& h) {
    std::string k = h.first;
    ascii_lower(k);
    return k == "authorization";
  });
  // Lowercase header names (HTTP is case-insensitive; the verifier sees them lowercased).
  for (auto& [k, v] : req.headers) ascii_lower(k);
  std::vector<std::string> names;
  for (const auto& [k, v] : req.headers) {
    if (k == "content-length" || k == "connection" || k == "user-agent" || k == "expect") continue;
    names.push_back(k);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string signed_headers;
  for (const auto& n : names) {
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += n;
  }
  std::string cr = sigv4_canonical_request(req, signed_headers, service, payload_hash, false);
  std::string scope = date8 + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  std::string sts = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" + sha256_hex(cr);
  std::string sig = sigv4_signature(secret, date8, region, service, sts);
  req.headers.emplace_back("authorization", std::string(kAlgorithm) + " Credential=" +
                                                std::string(access_key) + "/" + scope +
                                                ", SignedHeaders=" + signed_headers +
                                                ", Signature=" + sig);
}

}  // namespace sl::net
