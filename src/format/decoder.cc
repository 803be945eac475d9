#include "format/decoder.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <utility>

#include "exec/value.h"
#include "format/convert.h"
#include "format/kpl.h"
#include "util/error.h"

namespace sl::format {

using exec::LogicalType;
using exec::StringRef;
using exec::TypeId;

namespace {

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  return s;
}

// Whether s[0, n) holds a backslash: eight bytes at a time (a library memchr call costs
// more than the scan for the short strings of typical JSON values).
bool has_backslash(const char* s, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  constexpr uint64_t kBackslashes = kOnes * static_cast<unsigned char>('\\');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    w ^= kBackslashes;  // a zero byte where s had a backslash
    if ((w - kOnes) & ~w & kHighs) return true;
  }
  for (; i < n; i++)
    if (s[i] == '\\') return true;
  return false;
}

// JSON field mapping: a tree of keys; leaves are columns.
// A key to match against raw JSON: for keys up to 15 bytes, the key plus its closing
// quote as two masked 8-byte words, so matching is two loads and compares.
static_assert(simdjson::SIMDJSON_PADDING >= 16);
static_assert(simdjson::SIMDJSON_PADDING <= kRecordPadding);
struct KeyMatch {
  std::string key;
  uint64_t k[2] = {0, 0}, m[2] = {0, 0};
  bool short_key = false;
  explicit KeyMatch(std::string s) : key(std::move(s)) {
    if (key.size() > 15) return;
    short_key = true;
    unsigned char b[16] = {}, mb[16] = {};
    std::memcpy(b, key.data(), key.size());
    b[key.size()] = '"';
    std::memset(mb, 0xFF, key.size() + 1);
    std::memcpy(k, b, 16);
    std::memcpy(m, mb, 16);
  }
  bool operator==(const std::string& o) const { return key == o; }
};

struct JsonNode {
  std::vector<KeyMatch> keys;
  std::vector<int> column;  // column index for a leaf, -1 for an inner node
  std::vector<int> child;   // child node for an inner node, -1 for a leaf
  size_t guess = 0;         // objects usually repeat their key order: try the next key first
};

}  // namespace

struct RecordDecoder::Impl {
  // --- definition ---
  std::vector<ColumnSpec> schema;
  DecoderOptions opts;
  std::vector<std::string> names;
  std::vector<LogicalType> types;
  size_t event_idx = 0;
  int part_idx = -1, off_idx = -1, arr_idx = -1;
  std::vector<int> csv_field;  // per schema column
  std::vector<JsonNode> nodes;
  std::vector<uint8_t> drop;       // per output column: 1 = not read (projection)
  std::vector<size_t> dropped;     // those columns
  // make_chunk() gives unread columns as all-NULL vectors sharing these buffers (nothing
  // to allocate, zero or write per row); other chunks get NULLs row by row (finish_row).
  mutable std::vector<exec::Vector> null_cols;  // per output column (empty if read)
  mutable size_t null_cap = 0;
  std::vector<size_t> dropped_unshared;          // per decode(): dropped, not shared

  // --- batch state ---
  std::span<const RawRecord> input;
  size_t rec = 0;              // current record
  bool started = false;        // units of `rec` prepared
  std::vector<std::string_view> units;  // payloads of the record (one, or KPL inner records)
  std::vector<KplRecord> kpl;
  size_t unit = 0;             // current unit
  size_t pos = 0;              // byte position in the unit
  uint32_t sub_row = 0;        // row index within the record
  bool header_pending = false;

  // --- per decode() call ---
  exec::DataChunk* out = nullptr;
  std::vector<uint8_t*> data;  // column buffers
  ErrorSink* errs = nullptr;
  const RawRecord* cur = nullptr;

  // --- scratch ---
  struct Field { const char* p; uint32_t len; bool quoted; bool scratch; };
  std::vector<Field> fields;
  std::string unq;     // unescaped quoted CSV fields
  std::string bytes;   // bytea decoding
  std::string pad;     // padded copy of the JSON unit (when the record is not padded)
  const char* jbuf = nullptr;  // the JSON unit's bytes: in place, or `pad`
  size_t jcap = 0;             // readable bytes at jbuf (>= unit size + SIMDJSON_PADDING)
  std::vector<uint8_t> seen;
  std::string reason;
  simdjson::ondemand::parser parser;

  uint64_t ok_rows = 0, bad_rows = 0;

  // ---------------------------------------------------------------------------------------
  void build() {
    for (auto& c : schema) {
      names.push_back(c.name);
      types.push_back(c.type);
    }
    size_t n = schema.size();
    if (!opts.event_time_column.empty()) {
      size_t k = 0;
      while (k < n && schema[k].name != opts.event_time_column) k++;
      if (k == n) throw UserError("event_time column '" + opts.event_time_column + "' is not in the schema");
      if (!schema[k].type.is_temporal())
        throw UserError("event_time column '" + opts.event_time_column + "' must be a timestamp, timestamptz or date, not " +
                        schema[k].type.to_string());
      event_idx = k;
    }
    auto add = [&](const char* name, LogicalType t) {
      names.push_back(name);
      types.push_back(t);
      return static_cast<int>(names.size() - 1);
    };
    if (opts.with_partition) part_idx = add("_partition", TypeId::kBigInt);
    if (opts.with_offset) off_idx = add("_offset", TypeId::kBigInt);
    if (opts.with_arrival || opts.event_time_column.empty()) arr_idx = add("_arrival", TypeId::kTimestampTz);
    if (opts.event_time_column.empty()) event_idx = static_cast<size_t>(arr_idx);

    for (size_t k = 0; k < n; k++) {
      int f = schema[k].csv_index < 0 ? static_cast<int>(k) : schema[k].csv_index;
      csv_field.push_back(f);
    }
    if (opts.format == RecordFormat::kCsv) {
      if (opts.delimiter == opts.quote || opts.delimiter == '\n' || opts.delimiter == '\r')
        throw UserError("CSV delimiter must differ from the quote character and newlines");
    }
    // JSON mapping tree.
    nodes.emplace_back();
    for (size_t k = 0; k < n; k++) {
      std::string path = schema[k].json_path.empty() ? schema[k].name : schema[k].json_path;
      size_t node = 0, at = 0;
      while (true) {
        size_t dot = path.find('.', at);
        std::string key = path.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
        if (key.empty()) throw UserError("bad JSON path '" + path + "' for column " + schema[k].name);
        bool leaf = dot == std::string::npos;
        size_t j = 0;
        while (j < nodes[node].keys.size() && nodes[node].keys[j] != key) j++;
        if (j < nodes[node].keys.size()) {
          if (leaf || nodes[node].child[j] < 0)
            throw UserError("JSON path '" + path + "' of column " + schema[k].name + " overlaps another column's");
        } else {
          nodes[node].keys.emplace_back(key);
          nodes[node].column.push_back(leaf ? static_cast<int>(k) : -1);
          int child = -1;
          if (!leaf) {
            child = static_cast<int>(nodes.size());
            nodes.emplace_back();
          }
          nodes[node].child.push_back(child);  // `nodes` may have moved: index again
        }
        if (leaf) break;
        node = static_cast<size_t>(nodes[node].child[j]);
        at = dot + 1;
      }
    }
    seen.assign(n, 0);
    if (!opts.read_columns.empty() && opts.read_columns.size() != n)
      throw UserError("decoder: read_columns has " + std::to_string(opts.read_columns.size()) + " entries for " +
                      std::to_string(n) + " columns");
    drop.assign(types.size(), 0);
    for (size_t k = 0; k < opts.read_columns.size(); k++) {
      if (opts.read_columns[k] || k == event_idx) continue;
      drop[k] = 1;
      dropped.push_back(k);
    }
  }

  // ---------------------------------------------------------------------------------------
  void error_row(std::string_view raw, std::string why) {
    ErrorRow e;
    e.partition = cur->partition;
    e.offset = cur->offset;
    e.arrival_ms = cur->arrival_ms;
    e.sub_row = sub_row;
    e.reason = std::move(why);
    e.raw = std::string(raw);
    errs->rows.push_back(std::move(e));
    bad_rows++;
  }

  void set_null(size_t c, size_t row) { out->column(c).set_null(row); }
  template <class T>
  void put(size_t c, size_t row, T v) {
    if (drop[c]) return;  // not read: checked, not kept
    reinterpret_cast<T*>(data[c])[row] = v;
    out->column(c).set_valid(row);
  }
  void put_str(size_t c, size_t row, std::string_view s) {
    if (drop[c]) return;  // not read: NULL (finish_row), no copy
    exec::Vector& v = out->column(c);
    reinterpret_cast<StringRef*>(data[c])[row] = v.add_string(s);
    v.set_valid(row);
  }

  bool fail(size_t c, std::string_view text, ConvertError e) {
    reason = conversion_reason(schema[c].name, text, schema[c].type, e);
    return false;
  }

  // Stores text as column c's type in `row`. False (with `reason`) on a bad value.
  bool put_text(size_t c, size_t row, std::string_view text) {
    const LogicalType& t = schema[c].type;
    ConvertError e = ConvertError::kOk;
    switch (t.id) {
      case TypeId::kNull: set_null(c, row); return true;
      case TypeId::kBoolean: {
        bool b;
        if ((e = parse_bool_text(text, &b)) != ConvertError::kOk) return fail(c, text, e);
        put<uint8_t>(c, row, b);
        return true;
      }
      case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt: {
        int64_t v;
        if ((e = parse_int_text(text, int_min_of(t.id), int_max_of(t.id), &v)) != ConvertError::kOk)
          return fail(c, text, e);
        put_int(c, row, v);
        return true;
      }
      case TypeId::kReal: {
        float f;
        if ((e = parse_float_text(text, &f)) != ConvertError::kOk) return fail(c, text, e);
        put<float>(c, row, f);
        return true;
      }
      case TypeId::kDouble: {
        double d;
        if ((e = parse_double_text(text, &d)) != ConvertError::kOk) return fail(c, text, e);
        put<double>(c, row, d);
        return true;
      }
      case TypeId::kNumeric: {
        int64_t v;
        if ((e = parse_numeric_text(text, t.precision, t.scale, &v)) != ConvertError::kOk) return fail(c, text, e);
        put<int64_t>(c, row, v);
        return true;
      }
      case TypeId::kVarchar: put_str(c, row, text); return true;
      case TypeId::kBytea:
        if (!exec::parse_bytea(text, &bytes)) return fail(c, text, ConvertError::kSyntax);
        put_str(c, row, bytes);
        return true;
      case TypeId::kDate: {
        int32_t d;
        if ((e = parse_date_text(text, &d)) != ConvertError::kOk) return fail(c, text, e);
        put<int32_t>(c, row, d);
        return true;
      }
      case TypeId::kTimestamp: case TypeId::kTimestampTz: {
        int64_t us;
        if ((e = parse_timestamp_text(text, &us)) != ConvertError::kOk) return fail(c, text, e);
        put<int64_t>(c, row, us);
        return true;
      }
      case TypeId::kInterval: {
        exec::Interval iv;
        if (!exec::parse_interval(trim_ws(text), &iv)) return fail(c, text, ConvertError::kSyntax);
        put<exec::Interval>(c, row, iv);
        return true;
      }
    }
    return fail(c, text, ConvertError::kSyntax);
  }

  void put_int(size_t c, size_t row, int64_t v) {
    switch (schema[c].type.id) {
      case TypeId::kSmallInt: put<int16_t>(c, row, static_cast<int16_t>(v)); break;
      case TypeId::kInteger: put<int32_t>(c, row, static_cast<int32_t>(v)); break;
      default: put<int64_t>(c, row, v); break;
    }
  }

  // Metadata columns and the event-time check; false (with `reason`) on a NULL event time.
  bool finish_row(size_t row) {
    for (size_t c : dropped_unshared) set_null(c, row);
    if (part_idx >= 0) put<int64_t>(part_idx, row, cur->partition);
    if (off_idx >= 0) put<int64_t>(off_idx, row, static_cast<int64_t>(cur->offset));
    if (arr_idx >= 0) put<int64_t>(arr_idx, row, cur->arrival_ms * 1000);
    if (out->column(event_idx).is_null(row)) {
      reason = "column " + names[event_idx] + ": event time is NULL";
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // CSV: splits the row starting at `pos` into `fields`, moving `pos` past its terminator.
  // `end` is the end of the row's bytes (without terminator). False on a quoting error.
  bool csv_split(std::string_view u, size_t* end) {
    const char* s = u.data();
    const size_t n = u.size();
    const char delim = opts.delimiter, quote = opts.quote;
    fields.clear();
    unq.clear();
    size_t i = pos;
    for (;;) {
      if (i < n && s[i] == quote) {
        i++;
        size_t from = i, scratch_from = unq.size();
        bool esc = false;
        for (;;) {
          const void* q = std::memchr(s + i, quote, n - i);
          if (!q) {
            reason = "unterminated quoted field";
            *end = n;
            pos = n;
            return false;
          }
          size_t j = static_cast<const char*>(q) - s;
          if (j + 1 < n && s[j + 1] == quote) {
            unq.append(s + from, j + 1 - from);
            i = j + 2;
            from = i;
            esc = true;
            continue;
          }
          if (esc) {
            unq.append(s + from, j - from);
            fields.push_back(Field{nullptr, static_cast<uint32_t>(unq.size() - scratch_from), true, true});
            fields.back().p = reinterpret_cast<const char*>(scratch_from);  // resolved below
          } else {
            fields.push_back(Field{s + from, static_cast<uint32_t>(j - from), true, false});
          }
          i = j + 1;
          break;
        }
        if (i < n && s[i] == '\r' && (i + 1 == n || s[i + 1] == '\n')) i++;
        if (i < n && s[i] != delim && s[i] != '\n') {
          reason = "unexpected character after a closing quote";
          const void* nl = std::memchr(s + i, '\n', n - i);
          *end = nl ? static_cast<const char*>(nl) - s : n;
          pos = nl ? *end + 1 : n;
          return false;
        }
      } else {
        size_t from = i;
        while (i < n && s[i] != delim && s[i] != '\n') i++;
        size_t len = i - from;
        if ((i == n || s[i] == '\n') && len > 0 && s[i - 1] == '\r') len--;
        fields.push_back(Field{s + from, static_cast<uint32_t>(len), false, false});
      }
      if (i >= n) { *end = n; pos = n; break; }
      if (s[i] == delim) { i++; continue; }
      // s[i] == '\n'
      *end = (i > 0 && s[i - 1] == '\r') ? i - 1 : i;
      pos = i + 1;
      break;
    }
    for (Field& f : fields)
      if (f.scratch) f.p = unq.data() + reinterpret_cast<size_t>(f.p);
    return true;
  }

  // Decodes one CSV row into `row`; true when a row was appended.
  bool csv_row(std::string_view u, size_t row) {
    size_t start = pos, end;
    bool header = header_pending;
    header_pending = false;
    if (!csv_split(u, &end)) {
      error_row(u.substr(start, end - start), reason);
      return false;
    }
    std::string_view raw = u.substr(start, end - start);
    if (header) return false;
    for (size_t c = 0; c < schema.size(); c++) {
      size_t f = static_cast<size_t>(csv_field[c]);
      if (f >= fields.size()) {
        error_row(raw, "column " + schema[c].name + ": row has " + std::to_string(fields.size()) +
                           " fields, expected at least " + std::to_string(f + 1));
        return false;
      }
      const Field& fd = fields[f];
      if (fd.len == 0 && !fd.quoted) {
        set_null(c, row);
        continue;
      }
      if (!put_text(c, row, std::string_view(fd.p, fd.len))) {
        error_row(raw, reason);
        return false;
      }
    }
    if (!finish_row(row)) {
      error_row(raw, reason);
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // JSON: one object per line.
  bool json_value(size_t c, size_t row, simdjson::ondemand::value v) {
    using simdjson::ondemand::json_type;
    // Fast path: a JSON string without escapes is its raw bytes. raw_json_token() does not
    // consume the value and costs no scan: "text" plus any spaces up to the next token.
    std::string_view tok = v.raw_json_token();
    if (!tok.empty() && tok[0] == '"') {
      size_t e = tok.size();
      while (e > 1 && (tok[e - 1] == ' ' || tok[e - 1] == '\t' || tok[e - 1] == '\n' || tok[e - 1] == '\r')) e--;
      if (e >= 2 && tok[e - 1] == '"') {
        std::string_view inner = tok.substr(1, e - 2);
        if (!has_backslash(inner.data(), inner.size())) {
          if (schema[c].type.id == TypeId::kVarchar) {
            put_str(c, row, inner);
            return true;
          }
          return put_text(c, row, inner);
        }
      }
    }
    json_type jt;
    if (v.type().get(jt)) { reason = "column " + schema[c].name + ": invalid JSON value"; return false; }
    if (jt == json_type::null) { set_null(c, row); return true; }
    const LogicalType& t = schema[c].type;
    std::string_view s;
    if (jt == json_type::string) {
      if (v.get_string().get(s)) { reason = "column " + schema[c].name + ": invalid JSON string"; return false; }
      return put_text(c, row, s);
    }
    if (jt == json_type::number) {
      switch (t.id) {
        case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt: {
          int64_t x;
          if (!v.get_int64().get(x)) {
            if (x < int_min_of(t.id) || x > int_max_of(t.id)) return fail(c, trim_ws(v.raw_json_token()), ConvertError::kRange);
            put_int(c, row, x);
            return true;
          }
          // not an int64: too big (all digits) or has a fraction/exponent (not an integer)
          std::string_view tok = trim_ws(v.raw_json_token());
          bool digits = tok.find_first_not_of("-0123456789") == std::string_view::npos;
          return fail(c, tok, digits ? ConvertError::kRange : ConvertError::kSyntax);
        }
        case TypeId::kReal: case TypeId::kDouble: {
          double d;
          if (v.get_double().get(d)) return fail(c, trim_ws(v.raw_json_token()), ConvertError::kRange);
          if (t.id == TypeId::kDouble) { put<double>(c, row, d); return true; }
          if (std::fabs(d) > 3.4028234663852886e38) return fail(c, trim_ws(v.raw_json_token()), ConvertError::kRange);
          put<float>(c, row, static_cast<float>(d));
          return true;
        }
        case TypeId::kDate: case TypeId::kTimestamp: case TypeId::kTimestampTz: {
          int64_t us;
          int64_t x;
          if (!v.get_int64().get(x)) {
            us = epoch_to_micros(x);
          } else {
            double d;
            ConvertError e = ConvertError::kRange;
            if (v.get_double().get(d) || (e = epoch_double_to_micros(d, &us)) != ConvertError::kOk)
              return fail(c, trim_ws(v.raw_json_token()), e);
          }
          if (t.id == TypeId::kDate) {
            int64_t d = us / exec::kMicrosPerDay - (us % exec::kMicrosPerDay < 0);
            put<int32_t>(c, row, static_cast<int32_t>(d));
          } else {
            put<int64_t>(c, row, us);
          }
          return true;
        }
        default:
          return put_text(c, row, trim_ws(v.raw_json_token()));
      }
    }
    if (jt == json_type::boolean) {
      bool b;
      if (v.get_bool().get(b)) { reason = "column " + schema[c].name + ": invalid JSON value"; return false; }
      if (t.id == TypeId::kBoolean) { put<uint8_t>(c, row, b); return true; }
      if (t.id == TypeId::kVarchar) { put_str(c, row, b ? "true" : "false"); return true; }
      return fail(c, b ? "true" : "false", ConvertError::kSyntax);
    }
    // object or array: text columns keep the JSON text
    std::string_view raw;
    bool err;
    if (jt == json_type::object) {
      simdjson::ondemand::object o;
      err = v.get_object().get(o) || o.raw_json().get(raw);
    } else {
      simdjson::ondemand::array a;
      err = v.get_array().get(a) || a.raw_json().get(raw);
    }
    if (err) { reason = "column " + schema[c].name + ": invalid JSON"; return false; }
    if (t.id == TypeId::kVarchar) { put_str(c, row, raw); return true; }
    return fail(c, raw, ConvertError::kSyntax);
  }

  // Whether the raw key (as written, escapes not resolved) equals `k`: the bytes match
  // and a quote follows. Reads stay inside [jbuf, jbuf + jcap) (the unit and its padding).
  bool key_is(const char* raw, const KeyMatch& km) const {
    if (km.short_key) {
      // REQUIRES: 16 bytes readable at raw: the key lies inside the unit, and jbuf has
      // SIMDJSON_PADDING (>= 16) bytes after it.
      uint64_t a0, a1;
      std::memcpy(&a0, raw, 8);
      std::memcpy(&a1, raw + 8, 8);
      return ((a0 & km.m[0]) == km.k[0]) & ((a1 & km.m[1]) == km.k[1]);
    }
    const std::string& k = km.key;
    size_t n = k.size();
    size_t avail = static_cast<size_t>(jbuf + jcap - raw);
    return avail > n && raw[n] == '"' && std::memcmp(raw, k.data(), n) == 0;
  }

  bool json_object(simdjson::ondemand::object obj, size_t node_i, size_t row) {
    for (auto fr : obj) {
      simdjson::ondemand::field f;
      if (std::move(fr).get(f)) { reason = "invalid JSON"; return false; }
      const char* key = f.key().raw();
      JsonNode& node = nodes[node_i];
      size_t nk = node.keys.size(), j = node.guess;
      if (!(j < nk && key_is(key, node.keys[j]))) {
        j = 0;
        while (j < nk && !key_is(key, node.keys[j])) j++;
        if (j == nk) continue;  // not mapped: skipped
      }
      node.guess = j + 1 < nk ? j + 1 : 0;
      if (node.column[j] >= 0) {
        size_t c = static_cast<size_t>(node.column[j]);
        if (!json_value(c, row, f.value())) return false;
        seen[c] = 1;
      } else {
        simdjson::ondemand::json_type jt;
        if (f.value().type().get(jt)) { reason = "invalid JSON"; return false; }
        if (jt == simdjson::ondemand::json_type::null) continue;
        simdjson::ondemand::object sub;
        if (jt != simdjson::ondemand::json_type::object || f.value().get_object().get(sub)) {
          reason = "key " + node.keys[j].key + ": expected a JSON object";
          return false;
        }
        if (!json_object(sub, static_cast<size_t>(node.child[j]), row)) return false;
      }
    }
    return true;
  }

  bool json_row(std::string_view u, size_t row) {
    size_t start = pos;
    const void* nl = std::memchr(u.data() + pos, '\n', u.size() - pos);
    size_t end = nl ? static_cast<const char*>(nl) - u.data() : u.size();
    pos = nl ? end + 1 : u.size();
    std::string_view raw = u.substr(start, end - start);
    if (raw.size() > 0 && raw.back() == '\r') raw.remove_suffix(1);
    if (trim_ws(raw).empty()) return false;  // blank line
    simdjson::ondemand::document doc;
    auto ec = parser.iterate(jbuf + start, raw.size(), jcap - start).get(doc);
    if (ec) {
      error_row(raw, std::string("invalid JSON: ") + simdjson::error_message(ec));
      return false;
    }
    simdjson::ondemand::object obj;
    if ((ec = doc.get_object().get(obj))) {
      error_row(raw, ec == simdjson::INCORRECT_TYPE ? "expected a JSON object"
                                                     : std::string("invalid JSON: ") + simdjson::error_message(ec));
      return false;
    }
    std::fill(seen.begin(), seen.end(), 0);
    if (!json_object(obj, 0, row)) {
      error_row(raw, reason);
      return false;
    }
    const char* loc;
    if (doc.current_location().get(loc) == simdjson::SUCCESS) {
      error_row(raw, "invalid JSON: trailing content after the object");
      return false;
    }
    for (size_t c = 0; c < schema.size(); c++)
      if (!seen[c]) set_null(c, row);
    if (!finish_row(row)) {
      error_row(raw, reason);
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  void start_record() {
    cur = &input[rec];
    units.clear();
    unit = 0;
    pos = 0;
    sub_row = 0;
    started = true;
    if (opts.kpl && is_kpl_aggregate(cur->data)) {
      Status st = kpl_deaggregate(cur->data, &kpl);
      if (!st.ok()) {
        error_row(cur->data, st.message());
        return;  // no units: the record is done
      }
      for (const KplRecord& k : kpl) units.push_back(k.data);
    } else {
      units.push_back(cur->data);
    }
    start_unit();
  }

  void start_unit() {
    pos = 0;
    header_pending = opts.skip_header;
    if (unit < units.size() && opts.format == RecordFormat::kJson) {
      // simdjson reads up to SIMDJSON_PADDING bytes past a document; their content does
      // not matter (they hold zeros or earlier records' bytes).
      std::string_view u = units[unit];
      if (cur->padded) {
        // Units lie inside the record: the record's padding follows each of them too.
        jbuf = u.data();
        jcap = u.size() + simdjson::SIMDJSON_PADDING;
        return;
      }
      if (pad.size() < u.size() + simdjson::SIMDJSON_PADDING) pad.resize(u.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(pad.data(), u.data(), u.size());
      jbuf = pad.data();
      jcap = pad.size();
    }
  }

  // Skips line terminators (and, for JSON, blank space) before the next row.
  void skip_blank(std::string_view u) {
    if (opts.format == RecordFormat::kCsv) {
      while (pos < u.size() && (u[pos] == '\n' || (u[pos] == '\r' && pos + 1 < u.size() && u[pos + 1] == '\n'))) pos++;
    } else {
      while (pos < u.size() && (u[pos] == '\n' || u[pos] == '\r' || u[pos] == ' ' || u[pos] == '\t')) pos++;
    }
  }

  size_t decode(exec::DataChunk& chunk, ErrorSink& sink) {
    assert(chunk.column_count() == types.size());
    out = &chunk;
    errs = &sink;
    data.resize(types.size());
    dropped_unshared.clear();
    for (size_t c = 0; c < types.size(); c++) {
      if (drop[c]) {
        // Never written: all NULL already when it shares null_cols[c]'s buffer.
        const exec::Vector& v = chunk.column(c);
        bool shared = c < null_cols.size() && null_cap == chunk.capacity() &&
                      v.data<uint8_t>() == std::as_const(null_cols[c]).data<uint8_t>();
        if (!shared) dropped_unshared.push_back(c);
        data[c] = nullptr;
        continue;
      }
      data[c] = chunk.column(c).data<uint8_t>();
    }
    const size_t cap = chunk.capacity();
    size_t row = chunk.size(), first = row;
    const bool csv = opts.format == RecordFormat::kCsv;
    while (rec < input.size()) {
      if (!started) start_record();
      while (unit < units.size()) {
        std::string_view u = units[unit];
        for (;;) {
          skip_blank(u);
          if (pos >= u.size()) break;
          if (row == cap) {
            chunk.set_size(row);
            return row - first;
          }
          bool ok = csv ? csv_row(u, row) : json_row(u, row);
          if (ok) {
            row++;
            ok_rows++;
          }
          sub_row++;
        }
        unit++;
        start_unit();
      }
      rec++;
      started = false;
    }
    chunk.set_size(row);
    return row - first;
  }
};

// -----------------------------------------------------------------------------------------

RecordDecoder::RecordDecoder(std::vector<ColumnSpec> schema, DecoderOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->schema = std::move(schema);
  impl_->opts = std::move(options);
  impl_->build();
}
RecordDecoder::~RecordDecoder() = default;
RecordDecoder::RecordDecoder(RecordDecoder&&) noexcept = default;
RecordDecoder& RecordDecoder::operator=(RecordDecoder&&) noexcept = default;

const std::vector<std::string>& RecordDecoder::output_names() const { return impl_->names; }
const std::vector<exec::LogicalType>& RecordDecoder::output_types() const { return impl_->types; }
size_t RecordDecoder::event_time_index() const { return impl_->event_idx; }
int RecordDecoder::partition_index() const { return impl_->part_idx; }
int RecordDecoder::offset_index() const { return impl_->off_idx; }
int RecordDecoder::arrival_index() const { return impl_->arr_idx; }

exec::DataChunk RecordDecoder::make_chunk(size_t capacity) const {
  Impl& I = *impl_;
  if (I.dropped.empty()) return exec::DataChunk(I.types, capacity);
  if (I.null_cap != capacity) {
    I.null_cols.clear();
    for (size_t c = 0; c < I.types.size(); c++) {
      I.null_cols.emplace_back(I.types[c], I.drop[c] ? capacity : 0);
      if (!I.drop[c]) continue;
      for (size_t r = 0; r < capacity; r++) I.null_cols[c].set_null(r);
    }
    I.null_cap = capacity;
  }
  exec::DataChunk chunk(std::vector<LogicalType>{}, capacity);
  for (size_t c = 0; c < I.types.size(); c++)
    chunk.add_column(I.drop[c] ? exec::Vector::sharing(I.null_cols[c]) : exec::Vector(I.types[c], capacity));
  return chunk;
}

void RecordDecoder::set_input(std::span<const RawRecord> records) {
  impl_->input = records;
  impl_->rec = 0;
  impl_->started = false;
  impl_->units.clear();
  impl_->unit = 0;
  impl_->pos = 0;
}

size_t RecordDecoder::decode(exec::DataChunk& out, ErrorSink& errors) { return impl_->decode(out, errors); }
bool RecordDecoder::done() const { return impl_->rec >= impl_->input.size(); }
size_t RecordDecoder::records_consumed() const { return impl_->rec; }
uint64_t RecordDecoder::rows_decoded() const { return impl_->ok_rows; }
uint64_t RecordDecoder::rows_failed() const { return impl_->bad_rows; }

// -----------------------------------------------------------------------------------------

std::vector<std::string> error_column_names() {
  return {"_partition", "_offset", "_arrival", "sub_row", "reason", "raw"};
}
std::vector<exec::LogicalType> error_column_types() {
  return {TypeId::kBigInt, TypeId::kBigInt, TypeId::kTimestampTz, TypeId::kInteger, TypeId::kVarchar, TypeId::kBytea};
}

size_t append_errors(const std::vector<ErrorRow>& rows, size_t from, exec::DataChunk& out) {
  assert(out.column_count() == 6);
  size_t row = out.size(), n = 0;
  auto* part = out.column(0).data<int64_t>();
  auto* off = out.column(1).data<int64_t>();
  auto* arr = out.column(2).data<int64_t>();
  auto* sub = out.column(3).data<int32_t>();
  auto* why = out.column(4).data<StringRef>();
  auto* raw = out.column(5).data<StringRef>();
  for (size_t i = from; i < rows.size() && row < out.capacity(); i++, row++, n++) {
    const ErrorRow& e = rows[i];
    part[row] = e.partition;
    off[row] = static_cast<int64_t>(e.offset);
    arr[row] = e.arrival_ms * 1000;
    sub[row] = static_cast<int32_t>(e.sub_row);
    why[row] = out.column(4).add_string(e.reason);
    raw[row] = out.column(5).add_string(e.raw);
    for (size_t c = 0; c < 6; c++) out.column(c).set_valid(row);
  }
  out.set_size(row);
  return n;
}

}  // namespace sl::format
