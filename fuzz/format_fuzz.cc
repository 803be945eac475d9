// libFuzzer target: record decoders of src/format — CSV and JSON lines (with and without
// KPL de-aggregation) into a schema with every column type, plus kpl_deaggregate. Input:
//   byte 0: bit 0 JSON (else CSV), bit 1 KPL on, bit 2 skip_header, bit 3 ';' delimiter,
//           bit 4 event-time column ts, bits 5-7 chunk capacity 1..8 (resumption inside
//           records is exercised with tiny chunks)
//   rest:   records separated by the byte 0x1e (record separator); each is one RawRecord.
// Every decoded value is rendered as text so the output vectors are read back.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exec/value.h"
#include "format/decoder.h"
#include "format/kpl.h"
#include "util/error.h"

using sl::exec::LogicalType;
using sl::exec::TypeId;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return -1;
  uint8_t flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  std::vector<sl::format::RawRecord> records;
  size_t start = 0;
  for (size_t i = 0; i <= in.size(); i++) {
    if (i == in.size() || in[i] == '\x1e') {
      sl::format::RawRecord r;
      r.data = in.substr(start, i - start);
      r.partition = static_cast<uint32_t>(records.size() % 3);
      r.offset = records.size();
      r.arrival_ms = 1700000000000 + static_cast<int64_t>(records.size());
      records.push_back(r);
      start = i + 1;
    }
  }
  for (const auto& r : records) {
    std::vector<sl::format::KplRecord> out;
    if (sl::format::is_kpl_aggregate(r.data)) (void)sl::format::kpl_deaggregate(r.data, &out);
  }

  std::vector<sl::format::ColumnSpec> schema = {
      {"b", TypeId::kBoolean},        {"i16", TypeId::kSmallInt},
      {"i", TypeId::kInteger},        {"n", LogicalType::numeric(10, 2)},
      {"r", TypeId::kReal},           {"d", TypeId::kDouble},
      {"s", TypeId::kVarchar, "a.b"}, {"by", TypeId::kBytea},
      {"dt", TypeId::kDate},          {"ts", TypeId::kTimestamp},
      {"tz", TypeId::kTimestampTz},   {"iv", TypeId::kInterval},
      {"big", TypeId::kBigInt},
  };
  sl::format::DecoderOptions o;
  o.format = (flags & 1) ? sl::format::RecordFormat::kJson : sl::format::RecordFormat::kCsv;
  o.kpl = flags & 2;
  o.skip_header = flags & 4;
  o.delimiter = (flags & 8) ? ';' : ',';
  if (flags & 16) o.event_time_column = "ts";
  o.with_partition = o.with_offset = o.with_arrival = true;
  size_t capacity = 1 + ((flags >> 5) & 7);
  try {
    sl::format::RecordDecoder dec(schema, o);
    dec.set_input(records);
    sl::format::ErrorSink errors;
    std::string text;
    for (int guard = 0; !dec.done() && guard < 1000000; guard++) {
      auto chunk = dec.make_chunk(capacity);
      dec.decode(chunk, errors);
      for (size_t row = 0; row < chunk.size(); row++) {
        for (size_t col = 0; col < chunk.column_count(); col++) {
          if (!chunk.column(col).is_null(row)) sl::exec::format_value(chunk.column(col), row, text);
        }
      }
      text.clear();
    }
  } catch (const sl::UserError&) {
  }
  return 0;
}
