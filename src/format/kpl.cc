#include "format/kpl.h"

#include <cstring>
#include <unordered_map>

#include "util/hash.h"

namespace sl::format {
namespace {

constexpr size_t kDigest = 16;

// Protobuf wire reader over a byte range. Every read checks bounds.
struct Wire {
  const uint8_t* p;
  const uint8_t* end;
  bool varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) return false;
      uint8_t b = *p++;
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) { *v = r; return true; }
    }
    return false;  // more than 10 bytes
  }
  bool bytes(std::string_view* s) {
    uint64_t n;
    if (!varint(&n) || n > static_cast<uint64_t>(end - p)) return false;
    *s = std::string_view(reinterpret_cast<const char*>(p), n);
    p += n;
    return true;
  }
  // Skips a field of `wire_type` whose tag was just read.
  bool skip(uint32_t wire_type) {
    uint64_t v;
    std::string_view s;
    switch (wire_type) {
      case 0: return varint(&v);
      case 1: if (end - p < 8) return false; p += 8; return true;
      case 2: return bytes(&s);
      case 5: if (end - p < 4) return false; p += 4; return true;
      default: return false;  // groups (3, 4) are not used by this format
    }
  }
};

Status bad(std::string what) { return corruption("corrupt KPL aggregate: " + what); }

struct InnerRecord {
  uint64_t pk = 0, ehk = 0;
  bool has_pk = false, has_ehk = false, has_data = false;
  std::string_view data;
};

Status parse_inner(std::string_view msg, InnerRecord* r) {
  Wire w{reinterpret_cast<const uint8_t*>(msg.data()), reinterpret_cast<const uint8_t*>(msg.data()) + msg.size()};
  while (w.p < w.end) {
    uint64_t tag;
    if (!w.varint(&tag)) return bad("truncated record tag");
    uint32_t field = static_cast<uint32_t>(tag >> 3), wt = tag & 7;
    if (field == 1 && wt == 0) {
      if (!w.varint(&r->pk)) return bad("truncated partition_key_index");
      r->has_pk = true;
    } else if (field == 2 && wt == 0) {
      if (!w.varint(&r->ehk)) return bad("truncated explicit_hash_key_index");
      r->has_ehk = true;
    } else if (field == 3 && wt == 2) {
      if (!w.bytes(&r->data)) return bad("truncated record data");
      r->has_data = true;
    } else if (!w.skip(wt)) {
      return bad("malformed field " + std::to_string(field) + " in record");
    }
  }
  if (!r->has_pk) return bad("record without partition_key_index");
  if (!r->has_data) return bad("record without data");
  return Status::OK();
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) { out.push_back(static_cast<char>((v & 0x7F) | 0x80)); v >>= 7; }
  out.push_back(static_cast<char>(v));
}
void put_bytes(std::string& out, uint32_t field, std::string_view s) {
  put_varint(out, (field << 3) | 2);
  put_varint(out, s.size());
  out.append(s);
}

}  // namespace

bool is_kpl_aggregate(std::string_view r) {
  return r.size() >= sizeof kKplMagic + kDigest && std::memcmp(r.data(), kKplMagic, sizeof kKplMagic) == 0;
}

Status kpl_deaggregate(std::string_view record, std::vector<KplRecord>* out) {
  out->clear();
  if (!is_kpl_aggregate(record)) return bad("too short or no magic");
  std::string_view body = record.substr(sizeof kKplMagic, record.size() - sizeof kKplMagic - kDigest);
  Md5Digest d = md5(body);
  if (std::memcmp(d.data(), record.data() + record.size() - kDigest, kDigest) != 0)
    return bad("MD5 mismatch");
  std::vector<std::string_view> pks, ehks;
  std::vector<InnerRecord> inner;
  Wire w{reinterpret_cast<const uint8_t*>(body.data()), reinterpret_cast<const uint8_t*>(body.data()) + body.size()};
  while (w.p < w.end) {
    uint64_t tag;
    if (!w.varint(&tag)) return bad("truncated tag");
    uint32_t field = static_cast<uint32_t>(tag >> 3), wt = tag & 7;
    std::string_view s;
    if ((field == 1 || field == 2 || field == 3) && wt == 2) {
      if (!w.bytes(&s)) return bad("truncated field " + std::to_string(field));
      if (field == 1) pks.push_back(s);
      else if (field == 2) ehks.push_back(s);
      else {
        InnerRecord r;
        SL_RETURN_IF_ERROR(parse_inner(s, &r));
        inner.push_back(r);
      }
    } else if (!w.skip(wt)) {
      return bad("malformed field " + std::to_string(field));
    }
  }
  out->reserve(inner.size());
  for (size_t i = 0; i < inner.size(); i++) {
    const InnerRecord& r = inner[i];
    if (r.pk >= pks.size())
      return bad("record " + std::to_string(i) + ": partition_key_index " + std::to_string(r.pk) +
                 " outside a table of " + std::to_string(pks.size()));
    if (r.has_ehk && r.ehk >= ehks.size())
      return bad("record " + std::to_string(i) + ": explicit_hash_key_index " + std::to_string(r.ehk) +
                 " outside a table of " + std::to_string(ehks.size()));
    out->push_back(KplRecord{pks[r.pk], r.has_ehk ? ehks[r.ehk] : std::string_view(), r.data});
  }
  return Status::OK();
}

std::string kpl_aggregate(const std::vector<KplRecord>& records) {
  std::vector<std::string_view> pks, ehks;
  std::unordered_map<std::string_view, uint64_t> pk_idx, ehk_idx;
  std::string body, rec;
  auto index_of = [](std::string_view k, std::vector<std::string_view>& table,
                     std::unordered_map<std::string_view, uint64_t>& idx) {
    auto [it, fresh] = idx.emplace(k, table.size());
    if (fresh) table.push_back(k);
    return it->second;
  };
  std::string recs;
  for (const KplRecord& r : records) {
    rec.clear();
    put_varint(rec, (1 << 3) | 0);
    put_varint(rec, index_of(r.partition_key, pks, pk_idx));
    if (!r.explicit_hash_key.empty()) {
      put_varint(rec, (2 << 3) | 0);
      put_varint(rec, index_of(r.explicit_hash_key, ehks, ehk_idx));
    }
    put_bytes(rec, 3, r.data);
    put_bytes(recs, 3, rec);
  }
  for (auto k : pks) put_bytes(body, 1, k);
  for (auto k : ehks) put_bytes(body, 2, k);
  body += recs;
  std::string out(reinterpret_cast<const char*>(kKplMagic), sizeof kKplMagic);
  out += body;
  Md5Digest d = md5(body);
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

}  // namespace sl::format
