// Parquet writer: one ColumnWriter per field buffers the open row group's pages
// (compressed as they fill) and its dictionary; a row group is cut when the buffered
// bytes or rows reach their limits, and then written out column chunk by column chunk.
#include <cmath>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "lake/codec.h"
#include "lake/parquet.h"
#include "lake/parquet_encoding.h"
#include "lake/parquet_meta.h"

namespace sl::lake::parquet {

bool parse_codec(std::string_view name, Codec* out) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "none" || n == "uncompressed") *out = Codec::kNone;
  else if (n == "snappy") *out = Codec::kSnappy;
  else if (n == "gzip") *out = Codec::kGzip;
  else if (n == "zstd") *out = Codec::kZstd;
  else return false;
  return true;
}

const char* codec_name(Codec c) {
  switch (c) {
    case Codec::kNone: return "none";
    case Codec::kSnappy: return "snappy";
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
  }
  return "?";
}

namespace {

using exec::TypeId;

// A FIXED_LEN_BYTE_ARRAY(12) INTERVAL value.
struct Flba12 {
  char b[12];
  bool operator==(const Flba12& o) const { return std::memcmp(b, o.b, 12) == 0; }
};

// ---- values: conversion from the vector's type, plain encoding, order, hashing ----

template <class S, class P>
inline bool to_parquet(const S& s, P* p) {
  *p = static_cast<P>(s);
  return true;
}
inline bool to_parquet(const exec::StringRef& s, std::string_view* p) {
  *p = s.view();
  return true;
}
// INTERVAL: months, days, milliseconds as little-endian u32 each. Sub-millisecond micros
// are truncated; a time part that is negative or beyond u32 milliseconds borrows whole
// days (the same total duration), as readers take the milliseconds as unsigned.
inline bool to_parquet(const exec::Interval& s, Flba12* p) {
  int64_t ms = s.micros / 1000;
  int64_t days = s.days;
  if (ms < 0 || ms > int64_t{UINT32_MAX}) {
    int64_t d = ms / 86400000;
    if (ms % 86400000 < 0) d--;
    days += d;
    ms -= d * 86400000;
  }
  if (days < INT32_MIN || days > INT32_MAX) return false;
  uint32_t parts[3] = {static_cast<uint32_t>(s.months), static_cast<uint32_t>(days), static_cast<uint32_t>(ms)};
  std::memcpy(p->b, parts, 12);
  return true;
}

inline void plain_put(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }  // packed later
inline void plain_put(std::string* out, int32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
inline void plain_put(std::string* out, int64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }
inline void plain_put(std::string* out, float v) { out->append(reinterpret_cast<const char*>(&v), 4); }
inline void plain_put(std::string* out, double v) { out->append(reinterpret_cast<const char*>(&v), 8); }
inline void plain_put(std::string* out, std::string_view v) {
  put_u32le(out, static_cast<uint32_t>(v.size()));
  out->append(v);
}
inline void plain_put(std::string* out, const Flba12& v) { out->append(v.b, 12); }

template <class P>
inline std::string stat_bytes(const P& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(P));
}
inline std::string stat_bytes(const std::string& v) { return v; }

template <class P>
inline bool is_nan(const P& v) {
  if constexpr (std::is_floating_point_v<P>) return std::isnan(v);
  return false;
}

inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}
template <class P>
inline uint64_t hash_of(const P& v) {
  uint64_t x = 0;
  std::memcpy(&x, &v, sizeof(P) < 8 ? sizeof(P) : 8);
  return mix(x);
}
inline uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ mix(w)) * 0x9e3779b97f4a7c15ULL;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return mix(h ^ w);
}
inline uint64_t hash_of(const std::string_view& v) { return hash_bytes(v.data(), v.size()); }
inline uint64_t hash_of(const Flba12& v) { return hash_bytes(v.b, 12); }
// Floats hash and compare by bits: every distinct bit pattern is its own entry.
template <class P>
inline bool same(const P& a, const P& b) {
  if constexpr (std::is_floating_point_v<P>) return std::memcmp(&a, &b, sizeof(P)) == 0;
  else return a == b;
}

// Byte limit on the min/max of a string column chunk; longer values get no min/max.
constexpr size_t kMaxStatBytes = 1024;

// Min/max of the values seen (floats: NaN ignored); strings compare as unsigned bytes.
template <class P>
struct MinMax {
  using T = std::conditional_t<std::is_same_v<P, std::string_view>, std::string, P>;
  bool has = false;
  bool too_long = false;
  T min{}, max{};
  void add(const P& v) {
    if constexpr (std::is_same_v<P, Flba12>) {
      return;  // intervals have no order
    } else {
      if (is_nan(v)) return;
      if constexpr (std::is_same_v<P, std::string_view>) {
        if (v.size() > kMaxStatBytes) { too_long = true; return; }
        if (!has) { min = max = T(v); has = true; return; }
        if (v < std::string_view(min)) min.assign(v);
        else if (v > std::string_view(max)) max.assign(v);
      } else {
        if (!has) { min = max = v; has = true; return; }
        if (v < min) min = v;
        else if (v > max) max = v;
      }
    }
  }
  void merge(const MinMax& o) {
    too_long = too_long || o.too_long;
    if (!o.has) return;
    if constexpr (std::is_same_v<P, Flba12>) {
      return;
    } else {
      if (!has) { *this = o; return; }
      if (o.min < min) min = o.min;
      if (max < o.max) max = o.max;
    }
  }
  bool usable() const { return has && !too_long && !std::is_same_v<P, Flba12>; }
  void fill(meta::Statistics* s) const {
    if (!usable()) return;
    T lo = min, hi = max;
    if constexpr (std::is_floating_point_v<P>) {
      if (lo == 0) lo = -P(0);  // the spec: a zero min is written as -0, a zero max as +0
      if (hi == 0) hi = P(0);
    }
    if constexpr (!std::is_same_v<P, Flba12>) {
      s->min_value = stat_bytes(lo);
      s->max_value = stat_bytes(hi);
    }
  }
};

template <class T>
exec::Value stat_value(exec::LogicalType t, const T& v) {
  exec::Value out = exec::Value::null(t);
  out.is_null = false;
  if constexpr (std::is_same_v<T, std::string>) out.s = v;
  else if constexpr (std::is_floating_point_v<T>) out.f = v;
  else if constexpr (std::is_same_v<T, Flba12>) out.is_null = true;
  else out.i = static_cast<int64_t>(v);
  return out;
}

// ---- the schema ---------------------------------------------------------------------

struct ColumnType {
  int32_t physical;
  int32_t type_length = 0;
};

ColumnType column_type(const exec::LogicalType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return {meta::kBoolean};
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kDate: return {meta::kInt32};
    case TypeId::kNumeric: return {t.precision <= 9 ? meta::kInt32 : meta::kInt64};
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return {meta::kInt64};
    case TypeId::kReal: return {meta::kFloat};
    case TypeId::kDouble: return {meta::kDouble};
    case TypeId::kVarchar:
    case TypeId::kBytea: return {meta::kByteArray};
    case TypeId::kInterval: return {meta::kFixedLenByteArray, 12};
    case TypeId::kNull: break;
  }
  return {-1};
}

meta::SchemaElement schema_element(const Field& f) {
  meta::SchemaElement e;
  ColumnType ct = column_type(f.type);
  e.type = ct.physical;
  if (ct.type_length) e.type_length = ct.type_length;
  e.repetition = f.nullable ? meta::kOptional : meta::kRequired;
  e.name = f.name;
  auto& lt = e.logical;
  switch (f.type.id) {
    case TypeId::kSmallInt:
      e.converted_type = meta::kInt16;
      lt.kind = meta::LogicalType::kInteger;
      lt.bit_width = 16;
      lt.is_signed = true;
      break;
    case TypeId::kNumeric:
      e.converted_type = meta::kDecimal;
      e.scale = f.type.scale;
      e.precision = f.type.precision;
      lt.kind = meta::LogicalType::kDecimal;
      lt.scale = f.type.scale;
      lt.precision = f.type.precision;
      break;
    case TypeId::kVarchar:
      e.converted_type = meta::kUtf8;
      lt.kind = meta::LogicalType::kString;
      break;
    case TypeId::kDate:
      e.converted_type = meta::kDate;
      lt.kind = meta::LogicalType::kDate;
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      lt.kind = meta::LogicalType::kTimestamp;
      lt.adjusted_to_utc = f.type.id == TypeId::kTimestampTz;
      lt.unit = meta::kMicros;
      // The converted type means "adjusted to UTC"; only timestamptz may carry it.
      if (lt.adjusted_to_utc) e.converted_type = meta::kTimestampMicros;
      break;
    case TypeId::kInterval:
      e.converted_type = meta::kInterval;  // no LogicalType exists for intervals
      break;
    default:
      break;
  }
  return e;
}

// ---- column writers -----------------------------------------------------------------

struct ChunkOut {
  meta::ColumnChunk chunk;
  ColumnStats stats;
};

class ColumnWriterBase {
 public:
  virtual ~ColumnWriterBase() = default;
  // Appends rows [from, from + n) of v.
  virtual Status append(const exec::Vector& v, size_t from, size_t n) = 0;
  // Writes the buffered chunk at file offset `offset` and resets for the next row group.
  virtual Status finish_chunk(ObjectWriter* out, uint64_t offset, ChunkOut* result) = 0;
  virtual uint64_t buffered_bytes() const = 0;
};

template <class S, class P>
class ColumnWriter final : public ColumnWriterBase {
  static constexpr bool kIsBool = std::is_same_v<P, uint8_t>;
  static constexpr bool kIsString = std::is_same_v<P, std::string_view>;

 public:
  ColumnWriter(const Field& f, const WriteOptions& o, Compressor* comp)
      : field_(f), opt_(o), comp_(comp), physical_(column_type(f.type).physical) {
    dict_mode_ = o.dictionary && !kIsBool;
  }

  Status append(const exec::Vector& v, size_t from, size_t n) override {
    const S* src = v.data<S>();
    const bool all_valid = v.all_valid();
    if (field_.nullable) {
      size_t at = levels_.size();
      levels_.resize(at + n, 1);
      if (!all_valid) {
        for (size_t i = 0; i < n; i++) {
          if (!v.is_valid(from + i)) {
            levels_[at + i] = 0;
            page_nulls_++;
          }
        }
      }
    }
    // Tight loops per mode; rows that are NULL are skipped (their level is 0).
    if (dict_mode_) {
      size_t at = idx_.size();
      idx_.resize(at + n);
      uint32_t* out = idx_.data() + at;
      size_t k = 0;
      for (size_t i = from; i < from + n; i++) {
        if (!all_valid && !v.is_valid(i)) continue;
        P p;
        if (!to_parquet(src[i], &p)) return out_of_range();
        page_mm_.add(p);
        out[k++] = dict_index(p);
      }
      idx_.resize(at + k);
    } else {
      for (size_t i = from; i < from + n; i++) {
        if (!all_valid && !v.is_valid(i)) continue;
        P p;
        if (!to_parquet(src[i], &p)) return out_of_range();
        page_mm_.add(p);
        plain_put(&plain_, p);
      }
    }
    page_rows_ += static_cast<uint32_t>(n);
    if (dict_mode_ && dict_plain_.size() > opt_.dictionary_max_bytes) {
      // The dictionary outgrew its limit: the pages so far keep it, the rest are PLAIN,
      // and later row groups of this writer start PLAIN (the values are too diverse).
      SL_RETURN_IF_ERROR(flush_page());
      dict_mode_ = false;
      fell_back_ = true;
    } else if (page_estimate() >= opt_.page_bytes) {
      SL_RETURN_IF_ERROR(flush_page());
    }
    return Status::OK();
  }

  uint64_t buffered_bytes() const override {
    return pages_bytes_ + page_estimate() + dict_plain_.size() + slots_.size() * sizeof(Slot) + dict_vals_.size() * sizeof(P);
  }

  Status finish_chunk(ObjectWriter* out, uint64_t offset, ChunkOut* result) override {
    SL_RETURN_IF_ERROR(flush_page());
    meta::ColumnMetaData md;
    md.type = physical_;
    md.path_in_schema = {field_.name};
    md.codec = codec_thrift_id(opt_.codec);
    md.num_values = chunk_rows_;
    uint64_t pos = offset;
    int64_t uncompressed = 0;
    if (dict_pages_ > 0) {
      body_.assign(dict_plain_);
      SL_RETURN_IF_ERROR(comp_->compress(opt_.codec, opt_.compression_level, body_, &comp_buf_));
      meta::PageHeader h;
      h.type = meta::kDictionaryPage;
      h.uncompressed_page_size = static_cast<int32_t>(body_.size());
      h.compressed_page_size = static_cast<int32_t>(comp_buf_.size());
      h.dictionary_page.emplace();
      h.dictionary_page->num_values = static_cast<int32_t>(dict_n_);
      h.dictionary_page->encoding = meta::kPlain;
      header_.clear();
      meta::encode(h, &header_);
      SL_RETURN_IF_ERROR(out->append(header_));
      SL_RETURN_IF_ERROR(out->append(comp_buf_));
      md.dictionary_page_offset = static_cast<int64_t>(pos);
      pos += header_.size() + comp_buf_.size();
      uncompressed += static_cast<int64_t>(header_.size() + body_.size());
    }
    md.data_page_offset = static_cast<int64_t>(pos);
    for (size_t i = 0; i < npages_; i++) SL_RETURN_IF_ERROR(out->append(pages_[i]));
    pos += pages_bytes_;
    uncompressed += pages_uncompressed_;
    md.total_uncompressed_size = uncompressed;
    md.total_compressed_size = static_cast<int64_t>(pos - offset);
    if (dict_pages_ > 0) md.encodings.push_back(meta::kPlain);  // the dictionary page
    if (plain_pages_ > 0 && dict_pages_ == 0) md.encodings.push_back(meta::kPlain);
    md.encodings.push_back(meta::kRle);
    if (dict_pages_ > 0) md.encodings.push_back(meta::kRleDictionary);
    md.statistics.emplace();
    md.statistics->null_count = chunk_nulls_;
    chunk_mm_.fill(&*md.statistics);

    result->chunk.file_offset = md.data_page_offset;
    result->stats = ColumnStats{};
    result->stats.null_count = chunk_nulls_;
    if (chunk_mm_.usable()) {
      result->stats.has_min_max = true;
      result->stats.min = stat_value(field_.type, chunk_mm_.min);
      result->stats.max = stat_value(field_.type, chunk_mm_.max);
    }
    result->chunk.meta_data = std::move(md);

    npages_ = 0;  // the page buffers stay allocated for the next row group
    pages_bytes_ = 0;
    pages_uncompressed_ = 0;
    chunk_rows_ = chunk_nulls_ = 0;
    chunk_mm_ = MinMax<P>{};
    dict_pages_ = plain_pages_ = 0;
    reset_dictionary();
    dict_mode_ = opt_.dictionary && !kIsBool && !fell_back_;
    return Status::OK();
  }

 private:
  Status out_of_range() const {
    return invalid_argument("column \"" + field_.name + "\": value out of the range Parquet can hold");
  }

  uint64_t page_estimate() const {
    return levels_.size() / 8 + (dict_mode_ ? idx_.size() * 2 : plain_.size());
  }

  void reset_dictionary() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    dict_plain_.clear();
    dict_vals_.clear();
    dict_str_.clear();
    dict_n_ = 0;
  }

  P dict_value(uint32_t i) const {
    if constexpr (kIsString) return std::string_view(dict_plain_.data() + dict_str_[i].first, dict_str_[i].second);
    else return dict_vals_[i];
  }

  // Open addressing, linear probing. Fixed-width values are stored in the slots beside
  // their index (one cache line per probe); strings are compared through their offsets.
  struct Slot {
    std::conditional_t<kIsString, uint64_t, P> key{};  // strings: the hash
    uint32_t idx1 = 0;                                  // index + 1; 0: empty
  };

  void grow_slots() {
    size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
    if (dict_n_ == 0 && !slots_.empty()) cap = slots_.size();  // reused from the last chunk
    slots_.assign(cap, Slot{});
    for (uint32_t i = 0; i < dict_n_; i++) {
      P v = dict_value(i);
      uint64_t hv = hash_of(v);
      size_t s = hv & (cap - 1);
      while (slots_[s].idx1 != 0) s = (s + 1) & (cap - 1);
      if constexpr (kIsString) slots_[s].key = hv;
      else slots_[s].key = v;
      slots_[s].idx1 = i + 1;
    }
  }

  uint32_t dict_index(const P& v) {
    if ((dict_n_ + 1) * 2 > slots_.size()) grow_slots();
    const size_t mask = slots_.size() - 1;
    const uint64_t hv = hash_of(v);
    size_t s = hv & mask;
    while (true) {
      const Slot& e = slots_[s];
      if (e.idx1 == 0) break;
      if constexpr (kIsString) {
        if (e.key == hv && dict_value(e.idx1 - 1) == v) return e.idx1 - 1;
      } else {
        if (same(e.key, v)) return e.idx1 - 1;
      }
      s = (s + 1) & mask;
    }
    uint32_t id = dict_n_++;
    if constexpr (kIsString) slots_[s].key = hv;
    else slots_[s].key = v;
    slots_[s].idx1 = id + 1;
    if constexpr (kIsString) {
      put_u32le(&dict_plain_, static_cast<uint32_t>(v.size()));
      dict_str_.emplace_back(static_cast<uint32_t>(dict_plain_.size()), static_cast<uint32_t>(v.size()));
      dict_plain_.append(v);
    } else {
      dict_vals_.push_back(v);
      plain_put(&dict_plain_, v);
    }
    return id;
  }

  Status flush_page() {
    if (page_rows_ == 0) return Status::OK();
    body_.clear();
    if (field_.nullable) {
      levels_buf_.clear();
      rle_hybrid_encode(levels_.data(), levels_.size(), 1, &levels_buf_);
      put_u32le(&body_, static_cast<uint32_t>(levels_buf_.size()));
      body_.append(levels_buf_);
    }
    const bool dict = dict_mode_;
    if (dict) {
      int bw = std::max(1, bit_width_of(dict_n_ > 0 ? dict_n_ - 1 : 0));
      body_.push_back(static_cast<char>(bw));
      rle_hybrid_encode(idx_.data(), idx_.size(), bw, &body_);
    } else if constexpr (kIsBool) {
      size_t n = plain_.size(), start = body_.size();
      body_.resize(start + (n + 7) / 8, 0);
      for (size_t i = 0; i < n; i++) {
        if (plain_[i]) body_[start + i / 8] = static_cast<char>(body_[start + i / 8] | (1 << (i % 8)));
      }
    } else {
      body_.append(plain_);
    }
    if (body_.size() > static_cast<size_t>(INT32_MAX)) {
      return invalid_argument("column \"" + field_.name + "\": a page beyond 2 GiB (values too large)");
    }
    SL_RETURN_IF_ERROR(comp_->compress(opt_.codec, opt_.compression_level, body_, &comp_buf_));
    meta::PageHeader h;
    h.type = meta::kDataPage;
    h.uncompressed_page_size = static_cast<int32_t>(body_.size());
    h.compressed_page_size = static_cast<int32_t>(comp_buf_.size());
    auto& d = h.data_page.emplace();
    d.num_values = static_cast<int32_t>(page_rows_);
    d.encoding = dict ? meta::kRleDictionary : meta::kPlain;
    d.definition_level_encoding = meta::kRle;
    d.repetition_level_encoding = meta::kRle;
    d.statistics.emplace();
    d.statistics->null_count = page_nulls_;
    page_mm_.fill(&*d.statistics);
    if (npages_ == pages_.size()) pages_.emplace_back();
    std::string& page = pages_[npages_++];
    page.clear();
    meta::encode(h, &page);
    pages_uncompressed_ += static_cast<int64_t>(page.size() + body_.size());
    page.append(comp_buf_);
    pages_bytes_ += page.size();
    (dict ? dict_pages_ : plain_pages_)++;
    chunk_rows_ += page_rows_;
    chunk_nulls_ += page_nulls_;
    chunk_mm_.merge(page_mm_);
    page_mm_ = MinMax<P>{};
    page_rows_ = page_nulls_ = 0;
    levels_.clear();
    idx_.clear();
    plain_.clear();
    return Status::OK();
  }

  const Field field_;
  const WriteOptions& opt_;
  Compressor* comp_;
  const int32_t physical_;
  bool dict_mode_ = false;
  bool fell_back_ = false;

  // the open page
  std::vector<uint8_t> levels_;
  std::vector<uint32_t> idx_;
  std::string plain_;
  uint32_t page_rows_ = 0, page_nulls_ = 0;
  MinMax<P> page_mm_;

  // the open chunk
  std::vector<std::string> pages_;  // [0, npages_) hold this chunk's pages
  size_t npages_ = 0;
  uint64_t pages_bytes_ = 0;
  int64_t pages_uncompressed_ = 0;
  int64_t chunk_rows_ = 0, chunk_nulls_ = 0;
  MinMax<P> chunk_mm_;
  int dict_pages_ = 0, plain_pages_ = 0;

  // the dictionary: PLAIN-encoded values (the dictionary page) and an open-addressing
  // hash table of indexes + 1 (0: empty)
  std::string dict_plain_;
  std::vector<P> dict_vals_;                               // fixed-width values
  std::vector<std::pair<uint32_t, uint32_t>> dict_str_;    // strings: offset, length
  std::vector<Slot> slots_;
  uint32_t dict_n_ = 0;

  // scratch
  std::string body_, comp_buf_, levels_buf_, header_;
};

std::unique_ptr<ColumnWriterBase> make_column_writer(const Field& f, const WriteOptions& o, Compressor* c) {
  switch (f.type.id) {
    case TypeId::kBoolean: return std::make_unique<ColumnWriter<uint8_t, uint8_t>>(f, o, c);
    case TypeId::kSmallInt: return std::make_unique<ColumnWriter<int16_t, int32_t>>(f, o, c);
    case TypeId::kInteger:
    case TypeId::kDate: return std::make_unique<ColumnWriter<int32_t, int32_t>>(f, o, c);
    case TypeId::kNumeric:
      if (f.type.precision <= 9) return std::make_unique<ColumnWriter<int64_t, int32_t>>(f, o, c);
      return std::make_unique<ColumnWriter<int64_t, int64_t>>(f, o, c);
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return std::make_unique<ColumnWriter<int64_t, int64_t>>(f, o, c);
    case TypeId::kReal: return std::make_unique<ColumnWriter<float, float>>(f, o, c);
    case TypeId::kDouble: return std::make_unique<ColumnWriter<double, double>>(f, o, c);
    case TypeId::kVarchar:
    case TypeId::kBytea: return std::make_unique<ColumnWriter<exec::StringRef, std::string_view>>(f, o, c);
    case TypeId::kInterval: return std::make_unique<ColumnWriter<exec::Interval, Flba12>>(f, o, c);
    case TypeId::kNull: break;
  }
  return nullptr;
}

// Merges the chunk stats of one row group into the file's.
void merge_stats(const exec::LogicalType& t, const ColumnStats& in, ColumnStats* acc, bool first) {
  if (first) {
    *acc = in;
    return;
  }
  acc->null_count += in.null_count;
  if (!in.has_min_max) return;
  auto less = [&](const exec::Value& a, const exec::Value& b) {
    if (t.is_float()) return a.f < b.f;
    if (t.id == TypeId::kVarchar || t.id == TypeId::kBytea) return a.s < b.s;
    return a.i < b.i;
  };
  if (!acc->has_min_max) {
    // An earlier row group was all NULL: its absence of min/max does not matter.
    acc->has_min_max = true;
    acc->min = in.min;
    acc->max = in.max;
    return;
  }
  if (less(in.min, acc->min)) acc->min = in.min;
  if (less(acc->max, in.max)) acc->max = in.max;
}

class WriterImpl final : public Writer {
 public:
  WriterImpl(std::unique_ptr<ObjectWriter> out, std::vector<Field> schema, WriteOptions o)
      : out_(std::move(out)), schema_(std::move(schema)), opt_(std::move(o)) {}

  ~WriterImpl() override {
    if (!finished_) out_->abort();
  }

  Status init() {
    if (schema_.empty()) return invalid_argument("a Parquet file needs at least one column");
    for (auto& f : schema_) {
      if (f.name.empty()) return invalid_argument("a Parquet column needs a name");
      if (f.type.id == TypeId::kNull) return invalid_argument("column \"" + f.name + "\" has no type");
      if (f.type.id == TypeId::kNumeric && (f.type.precision < 1 || f.type.precision > 18 || f.type.scale > f.type.precision)) {
        return invalid_argument("column \"" + f.name + "\": numeric precision must be 1..18");
      }
      columns_.push_back(make_column_writer(f, opt_, &comp_));
    }
    if (opt_.row_group_rows <= 0) opt_.row_group_rows = 1;
    if (opt_.page_bytes == 0) opt_.page_bytes = 1;
    stats_.resize(schema_.size());
    SL_RETURN_IF_ERROR(out_->append("PAR1"));
    offset_ = 4;
    return Status::OK();
  }

  Status write(const exec::DataChunk& chunk) override {
    if (!failed_.ok()) return failed_;
    if (finished_) return invalid_argument("Parquet writer already finished");
    if (chunk.column_count() != schema_.size()) {
      return invalid_argument("chunk has " + std::to_string(chunk.column_count()) + " columns, the file " +
                              std::to_string(schema_.size()));
    }
    const size_t n = chunk.size();
    for (size_t c = 0; c < schema_.size(); c++) {
      const auto& v = chunk.column(c);
      const auto& f = schema_[c];
      if (v.type().id != f.type.id || (f.type.id == TypeId::kNumeric && v.type().scale != f.type.scale)) {
        return invalid_argument("column \"" + f.name + "\" is " + f.type.to_string() + ", the chunk has " +
                                v.type().to_string());
      }
      if (!f.nullable && !v.all_valid()) {
        for (size_t i = 0; i < n; i++) {
          if (v.is_null(i)) return invalid_argument("NULL in NOT NULL column \"" + f.name + "\"");
        }
      }
    }
    size_t from = 0;
    while (from < n) {
      size_t take = std::min<size_t>(n - from, static_cast<size_t>(opt_.row_group_rows - group_rows_));
      for (size_t c = 0; c < schema_.size(); c++) {
        Status st = columns_[c]->append(chunk.column(c), from, take);
        if (!st.ok()) return fail(st);
      }
      group_rows_ += static_cast<int64_t>(take);
      rows_ += static_cast<int64_t>(take);
      from += take;
      if (group_rows_ >= opt_.row_group_rows || buffered_bytes() >= opt_.row_group_bytes) {
        Status st = flush_row_group();
        if (!st.ok()) return fail(st);
      }
    }
    return Status::OK();
  }

  Result<FileSummary> finish() override {
    if (!failed_.ok()) return failed_;
    if (finished_) return invalid_argument("Parquet writer already finished");
    Status st = flush_row_group();
    if (!st.ok()) return fail(st);
    meta::FileMetaData fm;
    fm.version = 1;
    meta::SchemaElement root;
    root.name = "schema";
    root.num_children = static_cast<int32_t>(schema_.size());
    fm.schema.push_back(root);
    for (auto& f : schema_) fm.schema.push_back(schema_element(f));
    fm.num_rows = rows_;
    fm.row_groups = std::move(row_groups_);
    fm.created_by = opt_.created_by;
    fm.column_orders = schema_.size();
    std::string footer;
    meta::encode(fm, &footer);
    put_u32le(&footer, static_cast<uint32_t>(footer.size()));
    footer.append("PAR1");
    st = out_->append(footer);
    if (st.ok()) st = out_->close();
    if (!st.ok()) return fail(st);
    finished_ = true;
    FileSummary s;
    s.rows = rows_;
    s.file_bytes = offset_ + footer.size();
    s.columns = std::move(stats_);
    s.row_groups = fm.row_groups.size();
    return s;
  }

  int64_t rows_written() const override { return rows_; }

  uint64_t buffered_bytes() const override {
    uint64_t b = 0;
    for (auto& c : columns_) b += c->buffered_bytes();
    return b;
  }

 private:
  Status fail(Status st) {
    failed_ = st;
    return st;
  }

  Status flush_row_group() {
    if (group_rows_ == 0) return Status::OK();
    meta::RowGroup rg;
    rg.num_rows = group_rows_;
    rg.file_offset = static_cast<int64_t>(offset_);
    int64_t total = 0, uncompressed = 0;
    const bool first = row_groups_.empty();
    for (size_t c = 0; c < columns_.size(); c++) {
      ChunkOut co;
      SL_RETURN_IF_ERROR(columns_[c]->finish_chunk(out_.get(), offset_, &co));
      auto& md = *co.chunk.meta_data;
      offset_ += static_cast<uint64_t>(md.total_compressed_size);
      total += md.total_compressed_size;
      uncompressed += md.total_uncompressed_size;
      merge_stats(schema_[c].type, co.stats, &stats_[c], first);
      rg.columns.push_back(std::move(co.chunk));
    }
    rg.total_byte_size = uncompressed;
    rg.total_compressed_size = total;
    row_groups_.push_back(std::move(rg));
    group_rows_ = 0;
    return Status::OK();
  }

  std::unique_ptr<ObjectWriter> out_;
  std::vector<Field> schema_;
  WriteOptions opt_;
  Compressor comp_;
  std::vector<std::unique_ptr<ColumnWriterBase>> columns_;
  std::vector<meta::RowGroup> row_groups_;
  std::vector<ColumnStats> stats_;
  uint64_t offset_ = 0;
  int64_t rows_ = 0, group_rows_ = 0;
  bool finished_ = false;
  Status failed_;
};

}  // namespace

Result<std::unique_ptr<Writer>> Writer::open(std::unique_ptr<ObjectWriter> out, std::vector<Field> schema,
                                             WriteOptions options) {
  auto w = std::make_unique<WriterImpl>(std::move(out), std::move(schema), std::move(options));
  SL_RETURN_IF_ERROR(w->init());
  return std::unique_ptr<Writer>(std::move(w));
}

}  // namespace sl::lake::parquet
