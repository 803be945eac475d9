#include "kinesis/schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "kinesis/internal.h"
#include "kinesis/wire.h"
#include "util/base64.h"

namespace sl::kinesis {
namespace {

using json = nlohmann::json;

const char kSchemaText[] =
#include "kinesis/schema_data.inc"
    ;

struct Schema {
  json doc;
};

// The patterns of the Kinesis model, matched by hand: std::regex recurses per character and
// overflows the stack on long inputs (a 100 KB StreamARN), and members can be long
// (ExplicitHashKey has no length limit). Full-match semantics of Java's Pattern.matches;
// `.` does not match \n or \r, `\S` is anything but space, \t, \n, \x0B, \f, \r.
bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\x0B' || c == '\f' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' || c == '-';
}
// 0|([1-9]\d{0,max_more})
bool match_number(std::string_view s, size_t max_more) {
  if (s == "0") return true;
  if (s.empty() || s[0] < '1' || s[0] > '9' || s.size() > max_more + 1) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}
// ":" \d{12} ":" at j
bool colon_account_colon(std::string_view s, size_t j) {
  if (j + 14 > s.size() || s[j] != ':' || s[j + 13] != ':') return false;
  for (size_t k = j + 1; k < j + 13; k++)
    if (!is_digit(s[k])) return false;
  return true;
}
// The prefix "arn:aws" .* ":kinesis:" .* ":" \d{12} ":" ending exactly at `end` (the
// `.*` after the account included when any_after_account): true if s[0, end) matches.
bool arn_prefix(std::string_view s, size_t end, bool any_after_account) {
  if (s.substr(0, 7) != "arn:aws") return false;
  for (size_t i = 7; i < end; i++)
    if (s[i] == '\n' || s[i] == '\r') return false;
  size_t k = s.find(":kinesis:", 7);
  if (k == std::string_view::npos) return false;
  // the first ":kinesis:" leaves the most room; then some ":" \d{12} ":" after it
  for (size_t j = k + 9; j + 14 <= end; j++)
    if (colon_account_colon(s, j) && (any_after_account ? true : j + 14 == end)) return true;
  return false;
}
// arn:aws.*:kinesis:.*:\d{12}:stream/\S+  (any_after_account: ...:\d{12}:.*stream/\S+)
bool match_stream_arn(std::string_view s, bool any_after_account) {
  for (size_t k = s.find("stream/"); k != std::string_view::npos; k = s.find("stream/", k + 1)) {
    std::string_view tail = s.substr(k + 7);
    if (tail.empty()) continue;
    bool tail_ok = true;
    for (char c : tail) tail_ok = tail_ok && !is_ws(c);
    if (tail_ok && arn_prefix(s, k, any_after_account)) return true;
  }
  return false;
}
// ^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/NAME\/consumer\/NAME:[0-9]+
bool match_consumer_arn(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == s.size()) return false;
  for (size_t i = colon + 1; i < s.size(); i++)
    if (!is_digit(s[i])) return false;
  size_t b = colon;
  while (b > 0 && is_name_char(s[b - 1])) b--;  // consumer name
  if (b == colon || b < 10 || s.substr(b - 10, 10) != "/consumer/") return false;
  size_t e = b - 10, a = e;
  while (a > 0 && is_name_char(s[a - 1])) a--;  // stream name
  if (a == e || a < 7 || s.substr(a - 7, 7) != "stream/") return false;
  return arn_prefix(s, a - 7, true);
}

bool match_known_pattern(const std::string& pattern, std::string_view s) {
  if (pattern == "[a-zA-Z0-9_.-]+") {
    if (s.empty()) return false;
    for (char c : s)
      if (!is_name_char(c)) return false;
    return true;
  }
  if (pattern == "0|([1-9]\\d{0,38})") return match_number(s, 38);
  if (pattern == "0|([1-9]\\d{0,128})") return match_number(s, 128);
  if (pattern == "[a-z0-9]{20}-[a-z0-9]{3}") {
    if (s.size() != 24 || s[20] != '-') return false;
    for (size_t i = 0; i < 24; i++)
      if (i != 20 && !((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]))) return false;
    return true;
  }
  if (pattern == "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+") return match_stream_arn(s, false);
  if (pattern == "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+") return match_stream_arn(s, true);
  if (pattern == "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+")
    return match_consumer_arn(s);
  throw std::logic_error("kinesis schema: no matcher for pattern " + pattern);
}

const Schema& schema() {
  static const Schema* s = [] {
    auto* sc = new Schema;
    sc->doc = json::parse(kSchemaText);
    // Every pattern of the model must have a matcher (fails at the first request, in tests).
    std::function<void(const json&)> collect = [&](const json& spec) {
      if (auto p = spec.find("pattern"); p != spec.end()) match_known_pattern(p->get<std::string>(), "");
      for (const char* k : {"e", "k", "v"})
        if (auto c = spec.find(k); c != spec.end()) collect(*c);
      if (auto m = spec.find("m"); m != spec.end())
        for (const json& mem : *m) collect(mem[1]);
    };
    for (auto& [op, members] : sc->doc.items())
      for (const json& mem : members) collect(mem[1]);
    return sc;
  }();
  return *s;
}

std::string lower_first(const std::string& s) {
  std::string r = s;
  if (!r.empty() && r[0] >= 'A' && r[0] <= 'Z') r[0] = static_cast<char>(r[0] - 'A' + 'a');
  return r;
}

[[noreturn]] void type_error(const std::string& msg) { throw_serialization(msg); }

bool is_int(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

// A JSON number as AWS's deserializer sees an Integer (clamped to 32 bits, fractions
// floored) or a Long (clamped to 64 bits).
int64_t number_value(const json& v, bool is_long) {
  const double lim = is_long ? 9.2e18 : 2147483647.0;
  int64_t hi = is_long ? INT64_MAX : 2147483647, lo = is_long ? INT64_MIN : -2147483648LL;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(hi) ? hi : static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return std::clamp<int64_t>(v.get<int64_t>(), lo, hi);
  double d = std::floor(v.get<double>());
  if (std::isnan(d)) return 0;
  if (d >= lim) return hi;
  if (d <= -lim) return lo;
  return static_cast<int64_t>(d);
}

// Pass 1: JSON types, the messages AWS's JSON deserializer gives.
void check_type(const json& v, const json& spec, Encoding enc) {
  if (v.is_null()) return;
  const std::string& t = spec["t"].get_ref<const std::string&>();
  auto structural = [&](const char* scalar_msg) {
    if (v.is_array()) type_error("Start of list found where not expected");
    if (v.is_object()) type_error("Start of structure or map found where not expected.");
    if (scalar_msg) type_error(scalar_msg);
  };
  if (t == "string") {
    if (v.is_string()) return;
    if (v.is_boolean()) type_error("class java.lang.Boolean can not be converted to an String");
    if (v.is_number())
      type_error("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                 "converted to an String");
    structural("Unexpected value for a String");
  } else if (t == "integer" || t == "long") {
    const char* word = t == "integer" ? "Integer" : "Long";
    if (v.is_number()) return;
    if (v.is_boolean())
      type_error(std::string("class java.lang.Boolean can not be converted to an ") + word);
    if (v.is_string())
      type_error(std::string("class java.lang.String can not be converted to an ") + word);
    structural("Unexpected value for a number");
  } else if (t == "boolean") {
    if (v.is_boolean()) return;
    if (v.is_number())
      type_error("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                 "converted to an Boolean");
    if (v.is_string()) {
      std::string up = v.get<std::string>();
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      type_error("'" + up + "' can not be converted to an Boolean");
    }
    structural("Unexpected value for a Boolean");
  } else if (t == "blob") {
    if (v.is_binary()) return;
    if (v.is_boolean()) type_error("class java.lang.Boolean can not be converted to a Blob");
    if (v.is_number())
      type_error("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                 "converted to a Blob");
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      if (s.size() % 4)
        type_error("'" + s + "' can not be converted to a Blob: Base64 encoded length is "
                   "expected a multiple of 4 bytes but found: " + std::to_string(s.size()));
      for (size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' ||
                  (c == '=' && (i + 1 == s.size() || s[i + 1] == '='));
        if (!ok)
          type_error("'" + s + "' can not be converted to a Blob: Invalid Base64 character: '" +
                     std::string(1, c == '=' ? s[i + 1] : c) + "'");
      }
      if (!base64_decode(s))
        type_error("'" + s + "' can not be converted to a Blob: Invalid last non-pad Base64 "
                   "character dectected");
      return;
    }
    structural(nullptr);
  } else if (t == "timestamp") {
    if (v.is_number()) return;
    if (v.is_boolean())
      type_error("class java.lang.Boolean can not be converted to milliseconds since epoch");
    if (v.is_string()) {
      int64_t ms;
      // ISO-8601 text is what the SDKs' other protocols send; AWS's JSON endpoint takes it.
      if (enc == Encoding::kJson && parse_iso8601_ms(v.get<std::string>(), &ms)) return;
      type_error("class java.lang.String can not be converted to milliseconds since epoch");
    }
    structural(nullptr);
  } else if (t == "list") {
    if (v.is_array()) {
      for (const json& e : v) check_type(e, spec["e"], enc);
      return;
    }
    if (v.is_object()) type_error("Start of structure or map found where not expected.");
    type_error("Expected list or null");
  } else if (t == "map") {
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) check_type(*it, spec["v"], enc);
      return;
    }
    if (v.is_array()) type_error("Start of list found where not expected");
    type_error("Expected map or null");
  } else if (t == "structure") {
    if (v.is_object()) {
      for (const json& mem : spec["m"]) {
        auto it = v.find(mem[0].get_ref<const std::string&>());
        if (it != v.end()) check_type(*it, mem[1], enc);
      }
      return;
    }
    if (v.is_array()) type_error("Start of list found where not expected");
    type_error("Expected null");
  }
}

// How AWS prints a value in a ValidationException.
std::string render(const json& v, const json& spec) {
  const std::string& t = spec["t"].get_ref<const std::string&>();
  if (t == "blob") {
    size_t n = 0;
    if (v.is_binary()) n = v.get_binary().size();
    else if (v.is_string()) n = base64_decode(v.get_ref<const std::string&>()).value_or("").size();
    return "java.nio.HeapByteBuffer[pos=0 lim=" + std::to_string(n) + " cap=" + std::to_string(n) + "]";
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return std::to_string(number_value(v, t == "long"));
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (t == "list") {
    std::string s = "[";
    bool first = true;
    for (const json& e : v) {
      if (!first) s += ", ";
      first = false;
      if (spec["e"]["t"] == "structure")
        s += "com.amazonaws.kinesis.v20131202." + spec["e"].value("name", std::string("Entry")) + "@c965e310";
      else s += render(e, spec["e"]);
    }
    return s + "]";
  }
  if (t == "map") {
    std::string s = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) s += ", ";
      first = false;
      s += it.key() + "=" + render(*it, spec["v"]);
    }
    return s + "}";
  }
  return v.dump();
}

size_t length_of(const json& v, const json& spec) {
  const std::string& t = spec["t"].get_ref<const std::string&>();
  if (t == "blob") {
    if (v.is_binary()) return v.get_binary().size();
    return base64_decode(v.get_ref<const std::string&>()).value_or("").size();
  }
  if (v.is_string()) return utf8_length(v.get_ref<const std::string&>());
  return v.size();
}

class Checker {
 public:
  explicit Checker(const Schema& s) : s_(s) {}

  // The constraint texts a scalar value violates (in AWS's order), without the member's
  // own path: used for members and, bracketed, for list elements and map keys/values.
  std::vector<std::string> scalar_violations(const json& v, const json& spec) const {
    std::vector<std::string> out;
    const std::string& t = spec["t"].get_ref<const std::string&>();
    if (t == "integer" || t == "long") {
      int64_t x = number_value(v, t == "long");
      if (spec.contains("min") && x < spec["min"].get<int64_t>())
        out.push_back("Member must have value greater than or equal to " + spec["min"].dump());
      if (spec.contains("max") && x > spec["max"].get<int64_t>())
        out.push_back("Member must have value less than or equal to " + spec["max"].dump());
      return out;
    }
    if (t != "string" && t != "blob") return out;
    if (auto p = spec.find("pattern"); p != spec.end() && v.is_string()) {
      const std::string& pat = p->get_ref<const std::string&>();
      if (!match_known_pattern(pat, v.get_ref<const std::string&>()))
        out.push_back("Member must satisfy regular expression pattern: " + pat);
    }
    size_t n = length_of(v, spec);
    if (spec.contains("min") && n < spec["min"].get<size_t>())
      out.push_back("Member must have length greater than or equal to " + spec["min"].dump());
    if (spec.contains("max") && n > spec["max"].get<size_t>())
      out.push_back("Member must have length less than or equal to " + spec["max"].dump());
    if (auto e = spec.find("enum"); e != spec.end() && v.is_string()) {
      bool found = false;
      for (const json& x : *e) found = found || x == v;
      if (!found) {
        std::string set;
        for (const json& x : *e) set += (set.empty() ? "" : ", ") + x.get<std::string>();
        out.push_back("Member must satisfy enum value set: [" + set + "]");
      }
    }
    return out;
  }

  void member(const json* v, const json& spec, const std::string& path) {
    if (v == nullptr || v->is_null()) {
      if (spec.value("req", false)) add("null", path, "Member must not be null");
      return;
    }
    const std::string& t = spec["t"].get_ref<const std::string&>();
    if (t == "structure") {
      structure(*v, spec["m"], path + ".");
      return;
    }
    if (t == "list" || t == "map") {
      size_t n = v->size();
      if (spec.contains("min") && n < spec["min"].get<size_t>())
        add(quoted(*v, spec), path, "Member must have length greater than or equal to " + spec["min"].dump());
      if (spec.contains("max") && n > spec["max"].get<size_t>())
        add(quoted(*v, spec), path, "Member must have length less than or equal to " + spec["max"].dump());
      if (t == "list") {
        const json& es = spec["e"];
        if (es["t"] == "structure") {
          size_t i = 1;
          for (const json& e : *v) structure(e, es["m"], path + "." + std::to_string(i++) + ".");
        } else {
          // Element constraints are reported once, on the list, bracketed.
          std::vector<std::string> bad;
          for (const json& e : *v) {
            if (e.is_null()) continue;
            bad = scalar_violations(e, es);
            if (!bad.empty()) break;
          }
          if (!bad.empty()) add(quoted(*v, spec), path, "Member must satisfy constraint: " + bracket(bad));
        }
      } else {
        std::vector<std::string> kbad, vbad;
        for (auto it = v->begin(); it != v->end(); ++it) {
          if (kbad.empty()) kbad = scalar_violations(json(it.key()), spec["k"]);
          if (vbad.empty() && !it->is_null()) vbad = scalar_violations(*it, spec["v"]);
        }
        if (!kbad.empty()) add(quoted(*v, spec), path, "Map keys must satisfy constraint: " + bracket(kbad));
        if (!vbad.empty()) add(quoted(*v, spec), path, "Map value must satisfy constraint: " + bracket(vbad));
      }
      return;
    }
    for (const std::string& c : scalar_violations(*v, spec)) add(quoted(*v, spec), path, c);
  }

  void structure(const json& obj, const json& members, const std::string& prefix) {
    for (const json& mem : members) {
      const std::string& name = mem[0].get_ref<const std::string&>();
      auto it = obj.is_object() ? obj.find(name) : obj.end();
      member(it == obj.end() ? nullptr : &*it, mem[1], prefix + lower_first(name));
    }
  }

  void done() const {
    if (errors_.empty()) return;
    std::string msg = std::to_string(errors_.size()) +
                      (errors_.size() == 1 ? " validation error detected: " : " validation errors detected: ");
    for (size_t i = 0; i < errors_.size(); i++) msg += (i ? "; " : "") + errors_[i];
    throw ApiError("ValidationException", msg);
  }

 private:
  static std::string bracket(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + v[i];
    return s + "]";
  }
  static std::string quoted(const json& v, const json& spec) { return "'" + render(v, spec) + "'"; }
  void add(const std::string& value, const std::string& path, const std::string& c) {
    if (errors_.size() >= 10) return;  // AWS reports at most 10
    errors_.push_back("Value " + value + " at '" + path + "' failed to satisfy constraint: " + c);
  }

  const Schema& s_;
  std::vector<std::string> errors_;
};

}  // namespace

bool match_pattern(const std::string& pattern, std::string_view s) {
  return match_known_pattern(pattern, s);
}

bool known_operation(std::string_view op) {
  return schema().doc.contains(std::string(op));
}

void validate_request(std::string_view op, const json& in, Encoding enc) {
  const Schema& s = schema();
  auto it = s.doc.find(std::string(op));
  if (it == s.doc.end()) return;
  for (const json& mem : *it) {
    auto m = in.find(mem[0].get_ref<const std::string&>());
    if (m != in.end()) check_type(*m, mem[1], enc);
  }
  Checker c(s);
  c.structure(in, *it, "");
  c.done();
}

}  // namespace sl::kinesis
