// Gzip'd CSV / JSON-lines data files (see text_files.h).
#include "lake/text_files.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>

#include "format/decoder.h"
#include "format/encoder.h"

namespace sl::lake {

using exec::DataChunk;
using exec::LogicalType;
using exec::TypeId;
using exec::Value;

// ---- statistics ---------------------------------------------------------------------------

int compare_values(const Value& a, const Value& b) {
  switch (a.type.id) {
    case TypeId::kReal:
    case TypeId::kDouble:
      return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
    case TypeId::kVarchar:
    case TypeId::kBytea:
      return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    case TypeId::kInterval: {
      auto x = a.iv.total_micros(), y = b.iv.total_micros();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default:
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  }
}

StatsBuilder::StatsBuilder(std::vector<LogicalType> types)
    : types_(std::move(types)), stats_(types_.size()), text_too_long_(types_.size(), 0) {
  for (size_t c = 0; c < types_.size(); c++) {
    stats_[c].min = Value::null(types_[c]);
    stats_[c].max = Value::null(types_[c]);
  }
}

namespace {

template <class T>
void minmax_fixed(const exec::Vector& v, size_t n, parquet::ColumnStats& st, const LogicalType& type) {
  const T* d = v.data<T>();
  bool any = false;
  T lo{}, hi{};
  int64_t nulls = 0;
  for (size_t r = 0; r < n; r++) {
    if (v.is_null(r)) {
      nulls++;
      continue;
    }
    T x = d[r];
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) continue;  // NaN orders nowhere; it never narrows a range
    }
    if (!any) lo = hi = x, any = true;
    else if (x < lo) lo = x;
    else if (x > hi) hi = x;
  }
  st.null_count += nulls;
  if (!any) return;
  auto mk = [&](T x) {
    Value val;
    val.type = type;
    val.is_null = false;
    if constexpr (std::is_floating_point_v<T>) val.f = x;
    else val.i = static_cast<int64_t>(x);
    return val;
  };
  Value vlo = mk(lo), vhi = mk(hi);
  if (!st.has_min_max) {
    st.min = vlo, st.max = vhi, st.has_min_max = true;
  } else {
    if (compare_values(vlo, st.min) < 0) st.min = vlo;
    if (compare_values(vhi, st.max) > 0) st.max = vhi;
  }
}

}  // namespace

void StatsBuilder::add(const DataChunk& chunk) {
  size_t n = chunk.size();
  for (size_t c = 0; c < types_.size() && c < chunk.column_count(); c++) {
    const auto& v = chunk.column(c);
    auto& st = stats_[c];
    switch (types_[c].id) {
      case TypeId::kBoolean: minmax_fixed<uint8_t>(v, n, st, types_[c]); break;
      case TypeId::kSmallInt: minmax_fixed<int16_t>(v, n, st, types_[c]); break;
      case TypeId::kInteger:
      case TypeId::kDate: minmax_fixed<int32_t>(v, n, st, types_[c]); break;
      case TypeId::kBigInt:
      case TypeId::kNumeric:
      case TypeId::kTimestamp:
      case TypeId::kTimestampTz: minmax_fixed<int64_t>(v, n, st, types_[c]); break;
      case TypeId::kReal: minmax_fixed<float>(v, n, st, types_[c]); break;
      case TypeId::kDouble: minmax_fixed<double>(v, n, st, types_[c]); break;
      case TypeId::kVarchar:
      case TypeId::kBytea: {
        const auto* d = v.data<exec::StringRef>();
        for (size_t r = 0; r < n; r++) {
          if (v.is_null(r)) {
            st.null_count++;
            continue;
          }
          if (text_too_long_[c]) continue;
          std::string_view s = d[r].view();
          if (s.size() > 64) {
            text_too_long_[c] = 1;
            st.has_min_max = false;
            st.min = Value::null(types_[c]);
            st.max = Value::null(types_[c]);
            continue;
          }
          if (!st.has_min_max) {
            st.min = Value::null(types_[c]);
            st.min.is_null = false;
            st.min.s = s;
            st.max = st.min;
            st.has_min_max = true;
          } else if (s < st.min.s) {
            st.min.s = s;
          } else if (s > st.max.s) {
            st.max.s = s;
          }
        }
        break;
      }
      default:
        for (size_t r = 0; r < n; r++) st.null_count += v.is_null(r) ? 1 : 0;
        break;
    }
  }
}

// ---- writer ---------------------------------------------------------------------------------

struct TextFileWriter::Z {
  z_stream s{};
  bool init = false;
  ~Z() {
    if (init) deflateEnd(&s);
  }
};

TextFileWriter::TextFileWriter(std::unique_ptr<ObjectWriter> out, TextFormat format, std::vector<parquet::Field> schema,
                               int gzip_level)
    : z_(std::make_unique<Z>()), out_(std::move(out)), format_(format), schema_(std::move(schema)), stats_([&] {
        std::vector<LogicalType> t;
        for (auto& f : schema_) t.push_back(f.type);
        return t;
      }()) {
  for (auto& f : schema_) names_.push_back(f.name);
  // windowBits 15 + 16: a gzip wrapper, as `gzip` and every CSV reader expect.
  if (deflateInit2(&z_->s, std::clamp(gzip_level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK)
    z_->init = true;
}

TextFileWriter::~TextFileWriter() { abort(); }

void TextFileWriter::abort() {
  if (out_ && !done_) out_->abort();
  done_ = true;
}

uint64_t TextFileWriter::bytes() const { return (out_ ? out_->bytes_written() : 0) + zout_.size(); }

Status TextFileWriter::deflate_some(const char* data, size_t n, int flush) {
  if (!z_->init) return internal_error("gzip: deflateInit2 failed");
  auto& s = z_->s;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  s.avail_in = static_cast<uInt>(n);
  char buf[64 << 10];
  for (;;) {
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof buf;
    int rc = deflate(&s, flush);
    if (rc == Z_STREAM_ERROR) return internal_error("gzip: deflate failed");
    zout_.append(buf, sizeof buf - s.avail_out);
    if (zout_.size() >= kTextPieceBytes) {
      SL_RETURN_IF_ERROR(out_->append(zout_));
      zout_.clear();
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END : (s.avail_in == 0 && s.avail_out != 0)) break;
  }
  return Status::OK();
}

Status TextFileWriter::write(const DataChunk& chunk) {
  if (done_) return Status(Errc::kInUse, "text file writer is finished");
  text_.clear();
  if (!header_done_) {
    if (format_ == TextFormat::kCsv) format::write_csv_header(names_, {}, text_);
    header_done_ = true;
  }
  if (format_ == TextFormat::kCsv) format::write_csv(chunk, {}, text_);
  else format::write_json_lines(chunk, names_, text_);
  stats_.add(chunk);
  rows_ += static_cast<int64_t>(chunk.size());
  return deflate_some(text_.data(), text_.size(), Z_NO_FLUSH);
}

Result<parquet::FileSummary> TextFileWriter::finish() {
  if (done_) return Status(Errc::kInUse, "text file writer is finished");
  if (!header_done_ && format_ == TextFormat::kCsv) {
    text_.clear();
    format::write_csv_header(names_, {}, text_);
    header_done_ = true;
    SL_RETURN_IF_ERROR(deflate_some(text_.data(), text_.size(), Z_NO_FLUSH));
  }
  SL_RETURN_IF_ERROR(deflate_some(nullptr, 0, Z_FINISH));
  if (!zout_.empty()) SL_RETURN_IF_ERROR(out_->append(zout_));
  zout_.clear();
  SL_RETURN_IF_ERROR(out_->close());
  done_ = true;
  parquet::FileSummary sum;
  sum.rows = rows_;
  sum.file_bytes = out_->bytes_written();
  sum.columns = stats_.stats();
  sum.row_groups = 1;
  return sum;
}

// ---- reader ---------------------------------------------------------------------------------

struct TextFileReader::Z {
  z_stream s{};
  bool init = false;
  std::string in;  // compressed bytes not yet consumed
  ~Z() {
    if (init) inflateEnd(&s);
  }
};

struct TextFileReader::Dec {
  std::unique_ptr<format::RecordDecoder> decoder;
  format::ErrorSink errors;
};

TextFileReader::TextFileReader(std::unique_ptr<RandomAccessObject> in, TextFormat format,
                               std::vector<parquet::Field> schema, std::string name)
    : z_(std::make_unique<Z>()), dec_(std::make_unique<Dec>()), in_(std::move(in)), format_(format),
      schema_(std::move(schema)), name_(std::move(name)) {
  // 15 + 32: gzip or zlib header, detected.
  if (inflateInit2(&z_->s, 15 + 32) == Z_OK) z_->init = true;
  std::vector<format::ColumnSpec> specs;
  for (auto& f : schema_) specs.push_back({f.name, f.type, "", -1});
  format::DecoderOptions o;
  o.format = format == TextFormat::kCsv ? format::RecordFormat::kCsv : format::RecordFormat::kJson;
  o.kpl = false;
  dec_->decoder = std::make_unique<format::RecordDecoder>(std::move(specs), o);
}

TextFileReader::~TextFileReader() = default;

Status TextFileReader::fill() {
  if (!z_->init) return internal_error("gzip: inflateInit2 failed");
  if (z_->in.empty() && offset_ < in_->size()) {
    uint64_t n = std::min<uint64_t>(kTextPieceBytes, in_->size() - offset_);
    SL_RETURN_IF_ERROR(in_->read(offset_, n, &z_->in));
    offset_ += n;
  }
  if (z_->in.empty()) {
    input_end_ = true;
    return Status::OK();
  }
  auto& s = z_->s;
  s.next_in = reinterpret_cast<Bytef*>(z_->in.data());
  s.avail_in = static_cast<uInt>(z_->in.size());
  char buf[64 << 10];
  size_t produced = 0;
  while (s.avail_in > 0 && produced < kTextPieceBytes) {
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof buf;
    int rc = inflate(&s, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      text_.append(buf, sizeof buf - s.avail_out);
      // Concatenated gzip members (as `cat a.gz b.gz` makes) continue the same text.
      if (s.avail_in > 0) inflateReset(&s);
      else stream_end_ = true;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return corruption(name_ + ": bad gzip data (" + (s.msg ? s.msg : "inflate error") + ")");
    size_t got = sizeof buf - s.avail_out;
    text_.append(buf, got);
    produced += got;
    if (rc == Z_BUF_ERROR && got == 0) {
      if (s.avail_in == z_->in.size()) return corruption(name_ + ": bad gzip data (no progress)");
      break;
    }
  }
  z_->in.erase(0, z_->in.size() - s.avail_in);
  stream_end_ = stream_end_ && z_->in.empty();
  if (z_->in.empty() && offset_ >= in_->size()) input_end_ = true;
  return Status::OK();
}

Status TextFileReader::decode_complete_rows(bool last) {
  // The text up to the last row end outside quotes decodes now; the rest waits.
  size_t boundary = std::string::npos;
  if (last) {
    boundary = text_.size();
  } else if (format_ == TextFormat::kJsonLines) {
    size_t p = text_.rfind('\n');
    if (p != std::string::npos) boundary = p + 1;
  } else {
    for (size_t i = scanned_; i < text_.size(); i++) {
      char ch = text_[i];
      if (ch == '"') in_quotes_ = !in_quotes_;
      else if (ch == '\n' && !in_quotes_) boundary = i + 1;
    }
    scanned_ = text_.size();
  }
  if (boundary == std::string::npos || boundary == 0) return Status::OK();
  std::string_view rows(text_.data(), boundary);
  if (format_ == TextFormat::kCsv && !header_skipped_) {
    size_t nl = 0;
    bool q = false;
    for (; nl < rows.size(); nl++) {
      if (rows[nl] == '"') q = !q;
      else if (rows[nl] == '\n' && !q) break;
    }
    rows.remove_prefix(std::min(rows.size(), nl + 1));
    header_skipped_ = true;
  }
  if (!rows.empty()) {
    format::RawRecord rec;
    rec.data = rows;
    auto& dec = *dec_->decoder;
    dec.set_input(std::span<const format::RawRecord>(&rec, 1));
    size_t ncols = schema_.size();
    while (!dec.done()) {
      DataChunk c = dec.make_chunk();
      dec_->errors.clear();
      dec.decode(c, dec_->errors);
      if (!dec_->errors.rows.empty()) {
        auto& e = dec_->errors.rows.front();
        return corruption(name_ + ": row " + std::to_string(rows_ + c.size() + 1) + " does not decode: " + e.reason);
      }
      if (c.size() == 0) continue;
      rows_ += c.size();
      // The decoder appends `_arrival` (no event-time column): keep the schema's columns.
      DataChunk out({}, c.capacity());
      for (size_t k = 0; k < ncols; k++) out.add_column(std::move(c.column(k)));
      out.set_size(c.size());
      ready_.push_back(std::move(out));
    }
  }
  text_.erase(0, boundary);
  scanned_ -= std::min(scanned_, boundary);
  return Status::OK();
}

Status TextFileReader::next(DataChunk* out, bool* eof) {
  for (;;) {
    if (ready_pos_ < ready_.size()) {
      *out = std::move(ready_[ready_pos_++]);
      *eof = false;
      return Status::OK();
    }
    ready_.clear();
    ready_pos_ = 0;
    if (input_end_) {
      if (!text_.empty()) {
        if (!stream_end_) return corruption(name_ + ": truncated gzip data");
        SL_RETURN_IF_ERROR(decode_complete_rows(true));
        text_.clear();
        continue;
      }
      if (!stream_end_ && in_->size() > 0) return corruption(name_ + ": truncated gzip data");
      *out = DataChunk();
      *eof = true;
      return Status::OK();
    }
    SL_RETURN_IF_ERROR(fill());
    SL_RETURN_IF_ERROR(decode_complete_rows(false));
  }
}

}  // namespace sl::lake
