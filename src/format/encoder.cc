#include "format/encoder.h"

#include "util/json.h"

#include <charconv>
#include <cmath>

#include "exec/value.h"

namespace sl::format {

using exec::TypeId;

namespace {

void append_csv_field(std::string_view v, bool is_text, const CsvWriteOptions& o, std::string& out) {
  bool need = is_text && v.empty();
  if (!need && !v.empty() && (v.front() == ' ' || v.back() == ' ')) need = true;
  if (!need)
    for (char c : v)
      if (c == o.delimiter || c == o.quote || c == '\n' || c == '\r') { need = true; break; }
  if (!need) { out += v; return; }
  out += o.quote;
  for (char c : v) {
    if (c == o.quote) out += o.quote;
    out += c;
  }
  out += o.quote;
}

}  // namespace

void append_json_string(std::string_view s, std::string& out) { sl::append_json_string(out, s); }

void write_csv_header(const std::vector<std::string>& names, const CsvWriteOptions& opts, std::string& out) {
  for (size_t c = 0; c < names.size(); c++) {
    if (c) out += opts.delimiter;
    append_csv_field(names[c], false, opts, out);
  }
  out += '\n';
}

void write_csv(const exec::DataChunk& chunk, const CsvWriteOptions& opts, std::string& out) {
  std::string v;
  for (size_t r = 0; r < chunk.size(); r++) {
    for (size_t c = 0; c < chunk.column_count(); c++) {
      if (c) out += opts.delimiter;
      const exec::Vector& col = chunk.column(c);
      if (col.is_null(r)) continue;
      v.clear();
      exec::format_value(col, r, v);
      append_csv_field(v, col.type().id == TypeId::kVarchar || col.type().id == TypeId::kBytea, opts, out);
    }
    out += '\n';
  }
}

void write_json_lines(const exec::DataChunk& chunk, const std::vector<std::string>& names, std::string& out) {
  std::string v;
  for (size_t r = 0; r < chunk.size(); r++) {
    out += '{';
    for (size_t c = 0; c < chunk.column_count(); c++) {
      if (c) out += ',';
      append_json_string(names[c], out);
      out += ':';
      const exec::Vector& col = chunk.column(c);
      if (col.is_null(r)) { out += "null"; continue; }
      switch (col.type().id) {
        case TypeId::kBoolean: out += col.data<uint8_t>()[r] ? "true" : "false"; break;
        case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt: case TypeId::kNumeric:
          exec::format_value(col, r, out);
          break;
        case TypeId::kReal: case TypeId::kDouble: {
          double d = col.type().id == TypeId::kReal ? col.data<float>()[r] : col.data<double>()[r];
          if (std::isfinite(d)) {
            exec::format_value(col, r, out);
          } else {
            v.clear();
            exec::format_value(col, r, v);
            append_json_string(v, out);
          }
          break;
        }
        case TypeId::kVarchar: append_json_string(col.data<exec::StringRef>()[r].view(), out); break;
        default:
          v.clear();
          exec::format_value(col, r, v);
          append_json_string(v, out);
      }
    }
    out += "}\n";
  }
}

}  // namespace sl::format
