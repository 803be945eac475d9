#include "kinesis/wire.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "util/base64.h"

namespace sl::kinesis {

void throw_serialization(const std::string& msg) { throw ApiError("SerializationException", msg); }

namespace {

// nlohmann's from_cbor rejects tags 0..5 (0xc0..0xc5) even when told to ignore tags, and
// the Java SDKs send every timestamp as tag 1: hence this small decoder.
class CborReader {
 public:
  explicit CborReader(std::string_view b) : b_(b) {}
  json item(int depth = 0) {
    if (depth > 64) fail();
    uint8_t ib = byte();
    uint8_t major = ib >> 5, info = ib & 31;
    while (major == 6) {  // tags: skip
      (void)arg(info);
      ib = byte();
      major = ib >> 5;
      info = ib & 31;
    }
    switch (major) {
      case 0: return json(arg(info));
      case 1: {
        uint64_t v = arg(info);
        if (v > static_cast<uint64_t>(INT64_MAX)) fail();
        return json(-1 - static_cast<int64_t>(v));
      }
      case 2:
      case 3: {
        std::string s;
        if (info == 31) {
          while (peek() != 0xff) {
            uint8_t cb = byte();
            if ((cb >> 5) != major || (cb & 31) == 31) fail();
            s += take(arg(cb & 31));
          }
          byte();
        } else {
          s = take(arg(info));
        }
        if (major == 3) return json(std::move(s));
        return json::binary(std::vector<uint8_t>(s.begin(), s.end()));
      }
      case 4: {
        json a = json::array();
        if (info == 31) {
          while (peek() != 0xff) a.push_back(item(depth + 1));
          byte();
        } else {
          uint64_t n = arg(info);
          if (n > b_.size()) fail();
          for (uint64_t i = 0; i < n; i++) a.push_back(item(depth + 1));
        }
        return a;
      }
      case 5: {
        json m = json::object();
        auto entry = [&] {
          json k = item(depth + 1);
          if (!k.is_string()) fail();
          m[k.get<std::string>()] = item(depth + 1);
        };
        if (info == 31) {
          while (peek() != 0xff) entry();
          byte();
        } else {
          uint64_t n = arg(info);
          if (n > b_.size()) fail();
          for (uint64_t i = 0; i < n; i++) entry();
        }
        return m;
      }
      default:  // 7: simple values and floats
        switch (info) {
          case 20: return json(false);
          case 21: return json(true);
          case 22:
          case 23: return json(nullptr);
          case 25: {
            uint16_t h = static_cast<uint16_t>(arg(25));
            int e = (h >> 10) & 31, m = h & 1023;
            double v = e == 0 ? std::ldexp(m, -24)
                       : e == 31 ? (m ? NAN : INFINITY)
                                 : std::ldexp(m + 1024, e - 25);
            return json((h & 0x8000) ? -v : v);
          }
          case 26: {
            uint32_t bits = static_cast<uint32_t>(arg(26));
            float f;
            std::memcpy(&f, &bits, 4);
            return json(static_cast<double>(f));
          }
          case 27: {
            uint64_t bits = arg(27);
            double d;
            std::memcpy(&d, &bits, 8);
            return json(d);
          }
          default: fail();
        }
    }
  }
  bool at_end() const { return pos_ == b_.size(); }

 private:
  [[noreturn]] static void fail() { throw_serialization("The request body could not be parsed."); }
  uint8_t peek() const {
    if (pos_ >= b_.size()) fail();
    return static_cast<uint8_t>(b_[pos_]);
  }
  uint8_t byte() {
    uint8_t c = peek();
    pos_++;
    return c;
  }
  uint64_t arg(uint8_t info) {
    if (info < 24) return info;
    int n = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : -1;
    if (n < 0) fail();
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | byte();
    return v;
  }
  std::string take(uint64_t n) {
    if (n > b_.size() - pos_) fail();
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

json cbor_to_json(std::string_view bytes) {
  CborReader r(bytes);
  json j = r.item();
  if (!r.at_end()) throw_serialization("The request body could not be parsed.");
  return j;
}

json parse_body(Encoding enc, std::string_view body) {
  if (body.empty()) return json::object();
  json j;
  if (enc == Encoding::kJson) {
    j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  } else {
    j = cbor_to_json(body);
  }
  if (j.is_discarded()) throw_serialization("The request body could not be parsed.");
  if (!j.is_object()) throw_serialization("Start of structure or map expected.");
  return j;
}

static bool is_timestamp_key(const std::string& k) {
  return k.size() >= 9 && k.compare(k.size() - 9, 9, "Timestamp") == 0;
}

static void write_json(const json& j, std::string& out, bool ts) {
  switch (j.type()) {
    case json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        json_append_string(out, it.key());
        out.push_back(':');
        write_json(it.value(), out, is_timestamp_key(it.key()));
      }
      out.push_back('}');
      break;
    }
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const json& e : j) {
        if (!first) out.push_back(',');
        first = false;
        write_json(e, out, false);
      }
      out.push_back(']');
      break;
    }
    case json::value_t::string: json_append_string(out, j.get_ref<const std::string&>()); break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      if (ts) json_append_epoch_seconds(out, j.get<int64_t>());
      else out += j.dump();
      break;
    default: out += j.dump(); break;
  }
}

static void write_cbor(const json& j, CborWriter& w, bool ts) {
  switch (j.type()) {
    case json::value_t::object:
      w.map(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) {
        w.text(it.key());
        write_cbor(it.value(), w, is_timestamp_key(it.key()));
      }
      break;
    case json::value_t::array:
      w.array(j.size());
      for (const json& e : j) write_cbor(e, w, false);
      break;
    case json::value_t::string: w.text(j.get_ref<const std::string&>()); break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      if (ts) w.timestamp_ms(j.get<int64_t>());
      else if (j.is_number_unsigned()) w.uint(j.get<uint64_t>());
      else w.sint(j.get<int64_t>());
      break;
    case json::value_t::number_float: w.dbl(j.get<double>()); break;
    case json::value_t::boolean: w.boolean(j.get<bool>()); break;
    case json::value_t::binary: {
      const auto& b = j.get_binary();
      w.bytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
      break;
    }
    default: w.null(); break;
  }
}

void write_doc(const json& doc, Encoding enc, std::string& out) {
  if (enc == Encoding::kJson) {
    write_json(doc, out, false);
  } else {
    CborWriter w(out);
    write_cbor(doc, w, false);
  }
}

static const json* member(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return nullptr;
  return &*it;
}

static const char* type_word(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "Start of structure or map";
    case json::value_t::array: return "Start of list";
    case json::value_t::string: return "STRING_VALUE";
    case json::value_t::boolean: return "BOOLEAN_VALUE";
    case json::value_t::binary: return "BLOB_VALUE";
    default: return "NUMBER_VALUE";
  }
}

std::optional<std::string> get_string(const json& in, const char* key) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (!m->is_string())
    throw_serialization(std::string(type_word(*m)) + " can not be converted to a String");
  return m->get<std::string>();
}

std::optional<int64_t> get_int(const json& in, const char* key) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (m->is_number_integer()) return m->get<int64_t>();
  if (m->is_number_unsigned()) {
    uint64_t u = m->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) throw_serialization("NUMBER_VALUE out of range");
    return static_cast<int64_t>(u);
  }
  if (m->is_number_float()) {
    double d = m->get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e18) return static_cast<int64_t>(d);
  }
  throw_serialization(std::string(type_word(*m)) + " can not be converted to an Integer");
}

std::optional<bool> get_bool(const json& in, const char* key) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (!m->is_boolean())
    throw_serialization(std::string(type_word(*m)) + " can not be converted to a Boolean");
  return m->get<bool>();
}

const json* get_object(const json& in, const char* key) {
  const json* m = member(in, key);
  if (m == nullptr) return nullptr;
  if (!m->is_object()) throw_serialization(std::string(type_word(*m)) + " cannot be a structure");
  return m;
}

std::optional<int64_t> get_timestamp(const json& in, const char* key, Encoding enc) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (enc == Encoding::kCbor && (m->is_number_integer() || m->is_number_unsigned()))
    return m->get<int64_t>();  // the SDKs' CBOR protocol: epoch milliseconds
  if (m->is_number()) return static_cast<int64_t>(std::llround(m->get<double>() * 1000.0));
  if (m->is_string()) {
    int64_t ms;
    if (parse_iso8601_ms(m->get<std::string>(), &ms)) return ms;
  }
  throw_serialization(std::string(type_word(*m)) + " can not be converted to a Timestamp");
}

std::optional<std::vector<std::pair<std::string, std::string>>> get_string_map(const json& in,
                                                                                const char* key) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (!m->is_object()) throw_serialization(std::string(type_word(*m)) + " cannot be a map");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (!it->is_string())
      throw_serialization(std::string(type_word(*it)) + " can not be converted to a String");
    out.emplace_back(it.key(), it->get<std::string>());
  }
  return out;
}

std::optional<std::vector<std::string>> get_string_list(const json& in, const char* key) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (!m->is_array()) throw_serialization(std::string(type_word(*m)) + " cannot be a list");
  std::vector<std::string> out;
  for (const json& e : *m) {
    if (!e.is_string())
      throw_serialization(std::string(type_word(e)) + " can not be converted to a String");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<std::string> get_blob(const json& in, const char* key, const char* field) {
  const json* m = member(in, key);
  if (m == nullptr) return std::nullopt;
  if (m->is_binary()) {
    const auto& b = m->get_binary();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  if (m->is_string()) {
    auto d = base64_decode(m->get_ref<const std::string&>());
    if (!d) throw_serialization(std::string("Base64 encoded value of '") + field + "' is invalid");
    return d;
  }
  throw_serialization(std::string(type_word(*m)) + " can not be converted to a Blob");
}

void Validator::add(const std::string& value_repr, const std::string& field, const std::string& c) {
  std::string v = value_repr == "null" ? "null" : value_repr;
  errors_.push_back("Value " + v + " at '" + field + "' failed to satisfy constraint: " + c);
}

void Validator::done() const {
  if (errors_.empty()) return;
  std::string msg = std::to_string(errors_.size()) +
                    (errors_.size() == 1 ? " validation error detected: "
                                         : " validation errors detected: ");
  for (size_t i = 0; i < errors_.size(); i++) {
    if (i) msg += "; ";
    msg += errors_[i];
  }
  throw ApiError("ValidationException", msg);
}

std::string quote(std::string_view v) { return "'" + std::string(v) + "'"; }

std::string list_repr(const std::vector<std::string>& v) {
  std::string s = "'[";
  for (size_t i = 0; i < v.size(); i++) {
    if (i) s += ", ";
    s += v[i];
  }
  return s + "]'";
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

void check_length(Validator& v, std::string_view s, size_t min, size_t max, const char* field) {
  size_t n = utf8_length(s);
  if (n < min)
    v.add(quote(s), field,
          "Member must have length greater than or equal to " + std::to_string(min));
  if (n > max)
    v.add(quote(s), field, "Member must have length less than or equal to " + std::to_string(max));
}

void check_range(Validator& v, int64_t x, int64_t min, int64_t max, const char* field) {
  if (x < min)
    v.add(quote(std::to_string(x)), field,
          "Member must have value greater than or equal to " + std::to_string(min));
  if (x > max)
    v.add(quote(std::to_string(x)), field,
          "Member must have value less than or equal to " + std::to_string(max));
}

static bool name_chars_ok(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

void check_stream_name(Validator& v, std::string_view s, const char* field) {
  check_length(v, s, 1, 128, field);
  if (!name_chars_ok(s))
    v.add(quote(s), field, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
}

bool parse_stream_arn(std::string_view arn, ArnParts* out) {
  // arn:aws[-partition]:kinesis:<region>:<12 digits>:stream/<name>
  auto next = [&](std::string_view& rest, std::string_view* part) {
    auto c = rest.find(':');
    if (c == std::string_view::npos) return false;
    *part = rest.substr(0, c);
    rest.remove_prefix(c + 1);
    return true;
  };
  std::string_view rest = arn, a, partition, service, region, account;
  if (!next(rest, &a) || a != "arn" || !next(rest, &partition) ||
      partition.substr(0, 3) != "aws" || !next(rest, &service) || service != "kinesis" ||
      !next(rest, &region) || !next(rest, &account))
    return false;
  if (account.size() != 12) return false;
  for (char c : account)
    if (c < '0' || c > '9') return false;
  if (rest.substr(0, 7) != "stream/") return false;
  std::string_view name = rest.substr(7);
  if (name.empty() || name.size() > 128 || !name_chars_ok(name)) return false;
  out->region = std::string(region);
  out->account = std::string(account);
  out->name = std::string(name);
  return true;
}

void check_stream_arn(Validator& v, std::string_view s, const char* field) {
  check_length(v, s, 1, 2048, field);
  ArnParts p;
  if (!parse_stream_arn(s, &p))
    v.add(quote(s), field,
          "Member must satisfy regular expression pattern: "
          "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
}

void check_shard_id(Validator& v, std::string_view s, const std::string& field) {
  check_length(v, s, 1, 128, field.c_str());
  if (!name_chars_ok(s))
    v.add(quote(s), field, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
}

static bool digits_pattern(std::string_view s, size_t max_digits) {
  if (s == "0") return true;
  if (s.empty() || s[0] < '1' || s[0] > '9' || s.size() > max_digits) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void check_hash_key_pattern(Validator& v, std::string_view s, const std::string& field) {
  if (!digits_pattern(s, 39))
    v.add(quote(s), field, "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
}

void check_seq_pattern(Validator& v, std::string_view s, const std::string& field) {
  if (!digits_pattern(s, 129))
    v.add(quote(s), field, "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})");
}

void check_partition_key(Validator& v, std::string_view s, const std::string& field) {
  size_t n = utf8_length(s);
  if (n < 1) v.add(quote(s), field, "Member must have length greater than or equal to 1");
  if (n > 256) v.add(quote(s), field, "Member must have length less than or equal to 256");
}

void check_tags(Validator& v, const std::vector<std::pair<std::string, std::string>>& tags,
                const char* field) {
  if (tags.size() > 200)
    v.add("'" + std::to_string(tags.size()) + " tags'", field,
          "Member must have length less than or equal to 200");
  for (auto& [k, val] : tags) {
    size_t kl = utf8_length(k), vl = utf8_length(val);
    if (kl < 1 || kl > 128)
      v.add(quote(k), std::string(field) + ".key",
            kl < 1 ? "Member must have length greater than or equal to 1"
                   : "Member must have length less than or equal to 128");
    if (vl > 256)
      v.add(quote(val), std::string(field) + ".value",
            "Member must have length less than or equal to 256");
  }
}

std::string shard_id(uint32_t ordinal) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shardId-%012u", ordinal);
  return buf;
}

bool parse_shard_ordinal(std::string_view id, uint32_t* ordinal) {
  // AWS accepts the bare number too ("1" means shardId-000000000001).
  constexpr std::string_view kPrefix = "shardId-";
  if (id.substr(0, kPrefix.size()) == kPrefix) id.remove_prefix(kPrefix.size());
  if (id.empty() || id.size() > 12) return false;
  uint64_t v = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *ordinal = static_cast<uint32_t>(v);
  return true;
}

}  // namespace sl::kinesis
