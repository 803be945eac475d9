#include "lake/parquet_meta.h"

namespace sl::lake::parquet::meta {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;

// ---- encoders ---------------------------------------------------------------------

namespace {

void put_statistics(CompactWriter& w, int16_t id, const Statistics& s) {
  w.begin_struct(id);
  if (s.max) w.field_binary(1, *s.max);
  if (s.min) w.field_binary(2, *s.min);
  if (s.null_count) w.field_i64(3, *s.null_count);
  if (s.distinct_count) w.field_i64(4, *s.distinct_count);
  if (s.max_value) w.field_binary(5, *s.max_value);
  if (s.min_value) w.field_binary(6, *s.min_value);
  w.end_struct();
}

void put_logical(CompactWriter& w, int16_t id, const LogicalType& t) {
  w.begin_struct(id);
  w.begin_struct(t.kind);
  switch (t.kind) {
    case LogicalType::kDecimal:
      w.field_i32(1, t.scale);
      w.field_i32(2, t.precision);
      break;
    case LogicalType::kTime:
    case LogicalType::kTimestamp:
      w.field_bool(1, t.adjusted_to_utc);
      w.begin_struct(2);
      w.begin_struct(static_cast<int16_t>(t.unit));
      w.end_struct();
      w.end_struct();
      break;
    case LogicalType::kInteger:
      w.field_i8(1, static_cast<int8_t>(t.bit_width));
      w.field_bool(2, t.is_signed);
      break;
    default:
      break;  // empty structs
  }
  w.end_struct();
  w.end_struct();
}

void put_schema_element(CompactWriter& w, const SchemaElement& e) {
  w.begin_elem_struct();
  if (e.type) w.field_i32(1, *e.type);
  if (e.type_length) w.field_i32(2, *e.type_length);
  if (e.repetition) w.field_i32(3, *e.repetition);
  w.field_binary(4, e.name);
  if (e.num_children) w.field_i32(5, *e.num_children);
  if (e.converted_type) w.field_i32(6, *e.converted_type);
  if (e.scale) w.field_i32(7, *e.scale);
  if (e.precision) w.field_i32(8, *e.precision);
  if (e.field_id) w.field_i32(9, *e.field_id);
  if (e.logical.kind != LogicalType::kNone) put_logical(w, 10, e.logical);
  w.end_elem_struct();
}

void put_column_meta(CompactWriter& w, int16_t id, const ColumnMetaData& m) {
  w.begin_struct(id);
  w.field_i32(1, m.type);
  w.begin_list(2, CType::kI32, static_cast<uint32_t>(m.encodings.size()));
  for (int32_t e : m.encodings) w.elem_i32(e);
  w.begin_list(3, CType::kBinary, static_cast<uint32_t>(m.path_in_schema.size()));
  for (auto& p : m.path_in_schema) w.elem_binary(p);
  w.field_i32(4, m.codec);
  w.field_i64(5, m.num_values);
  w.field_i64(6, m.total_uncompressed_size);
  w.field_i64(7, m.total_compressed_size);
  w.field_i64(9, m.data_page_offset);
  if (m.dictionary_page_offset) w.field_i64(11, *m.dictionary_page_offset);
  if (m.statistics) put_statistics(w, 12, *m.statistics);
  w.end_struct();
}

}  // namespace

void encode(const FileMetaData& m, std::string* out) {
  CompactWriter w(out);
  w.field_i32(1, m.version);
  w.begin_list(2, CType::kStruct, static_cast<uint32_t>(m.schema.size()));
  for (auto& e : m.schema) put_schema_element(w, e);
  w.field_i64(3, m.num_rows);
  w.begin_list(4, CType::kStruct, static_cast<uint32_t>(m.row_groups.size()));
  for (auto& rg : m.row_groups) {
    w.begin_elem_struct();
    w.begin_list(1, CType::kStruct, static_cast<uint32_t>(rg.columns.size()));
    for (auto& c : rg.columns) {
      w.begin_elem_struct();
      if (c.file_path) w.field_binary(1, *c.file_path);
      w.field_i64(2, c.file_offset);
      if (c.meta_data) put_column_meta(w, 3, *c.meta_data);
      w.end_elem_struct();
    }
    w.field_i64(2, rg.total_byte_size);
    w.field_i64(3, rg.num_rows);
    if (rg.file_offset) w.field_i64(5, *rg.file_offset);
    if (rg.total_compressed_size) w.field_i64(6, *rg.total_compressed_size);
    w.end_elem_struct();
  }
  if (!m.key_value_metadata.empty()) {
    w.begin_list(5, CType::kStruct, static_cast<uint32_t>(m.key_value_metadata.size()));
    for (auto& kv : m.key_value_metadata) {
      w.begin_elem_struct();
      w.field_binary(1, kv.key);
      if (kv.value) w.field_binary(2, *kv.value);
      w.end_elem_struct();
    }
  }
  if (m.created_by) w.field_binary(6, *m.created_by);
  if (m.column_orders > 0) {
    w.begin_list(7, CType::kStruct, static_cast<uint32_t>(m.column_orders));
    for (size_t i = 0; i < m.column_orders; i++) {
      w.begin_elem_struct();
      w.begin_struct(1);  // TYPE_ORDER
      w.end_struct();
      w.end_elem_struct();
    }
  }
  w.stop();
}

void encode(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.field_i32(1, h.type);
  w.field_i32(2, h.uncompressed_page_size);
  w.field_i32(3, h.compressed_page_size);
  if (h.crc) w.field_i32(4, *h.crc);
  if (h.data_page) {
    auto& d = *h.data_page;
    w.begin_struct(5);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.encoding);
    w.field_i32(3, d.definition_level_encoding);
    w.field_i32(4, d.repetition_level_encoding);
    if (d.statistics) put_statistics(w, 5, *d.statistics);
    w.end_struct();
  }
  if (h.dictionary_page) {
    auto& d = *h.dictionary_page;
    w.begin_struct(7);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.encoding);
    if (d.is_sorted) w.field_bool(3, *d.is_sorted);
    w.end_struct();
  }
  if (h.data_page_v2) {
    auto& d = *h.data_page_v2;
    w.begin_struct(8);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.num_nulls);
    w.field_i32(3, d.num_rows);
    w.field_i32(4, d.encoding);
    w.field_i32(5, d.definition_levels_byte_length);
    w.field_i32(6, d.repetition_levels_byte_length);
    w.field_bool(7, d.is_compressed);
    if (d.statistics) put_statistics(w, 8, *d.statistics);
    w.end_struct();
  }
  w.stop();
}

// ---- decoders ---------------------------------------------------------------------

namespace {

// Reads a struct: f(id, type) handles known fields and returns false for unknown ones,
// which are skipped.
template <class F>
void read_struct(CompactReader& r, F&& f) {
  r.begin_struct();
  int16_t id;
  CType t;
  while (r.next_field(&id, &t)) {
    if (!f(id, t)) r.skip(t);
  }
  r.end_struct();
}

// Reads a list of structs, calling f(index) for each element positioned at its start.
template <class F>
void read_struct_list(CompactReader& r, CType t, F&& f) {
  CType elem;
  uint32_t n = r.begin_list(t, &elem);
  if (!r.ok()) return;
  if (n > 0 && elem != CType::kStruct) {
    r.fail("Thrift list of structs has element type " + std::to_string(static_cast<int>(elem)));
    return;
  }
  for (uint32_t i = 0; i < n && r.ok(); i++) f(i, n);
}

void read_statistics(CompactReader& r, Statistics* s) {
  read_struct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1: s->max = r.read_binary(t); return true;
      case 2: s->min = r.read_binary(t); return true;
      case 3: s->null_count = r.read_i64(t); return true;
      case 4: s->distinct_count = r.read_i64(t); return true;
      case 5: s->max_value = r.read_binary(t); return true;
      case 6: s->min_value = r.read_binary(t); return true;
      default: return false;
    }
  });
}

void read_time_unit(CompactReader& r, int32_t* unit) {
  read_struct(r, [&](int16_t id, CType t) {
    if (t == CType::kStruct && id >= 1 && id <= 3) *unit = id;
    return false;  // the unit structs are empty: skip them
  });
}

void read_logical(CompactReader& r, LogicalType* lt) {
  read_struct(r, [&](int16_t kind, CType t) {
    if (t != CType::kStruct) return false;
    lt->kind = kind;
    switch (kind) {
      case LogicalType::kDecimal:
        read_struct(r, [&](int16_t id, CType ft) {
          if (id == 1) { lt->scale = r.read_i32(ft); return true; }
          if (id == 2) { lt->precision = r.read_i32(ft); return true; }
          return false;
        });
        return true;
      case LogicalType::kTime:
      case LogicalType::kTimestamp:
        read_struct(r, [&](int16_t id, CType ft) {
          if (id == 1) { lt->adjusted_to_utc = r.read_bool(ft); return true; }
          if (id == 2 && ft == CType::kStruct) { read_time_unit(r, &lt->unit); return true; }
          return false;
        });
        return true;
      case LogicalType::kInteger:
        read_struct(r, [&](int16_t id, CType ft) {
          if (id == 1) { lt->bit_width = r.read_i8(ft); return true; }
          if (id == 2) { lt->is_signed = r.read_bool(ft); return true; }
          return false;
        });
        return true;
      default:
        return false;  // an empty (or unknown) annotation struct: skipped
    }
  });
}

void read_schema_element(CompactReader& r, SchemaElement* e) {
  bool has_name = false;
  read_struct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1: e->type = r.read_i32(t); return true;
      case 2: e->type_length = r.read_i32(t); return true;
      case 3: e->repetition = r.read_i32(t); return true;
      case 4: e->name = r.read_binary(t); has_name = true; return true;
      case 5: e->num_children = r.read_i32(t); return true;
      case 6: e->converted_type = r.read_i32(t); return true;
      case 7: e->scale = r.read_i32(t); return true;
      case 8: e->precision = r.read_i32(t); return true;
      case 9: e->field_id = r.read_i32(t); return true;
      case 10:
        if (t != CType::kStruct) return false;
        read_logical(r, &e->logical);
        return true;
      default: return false;
    }
  });
  if (r.ok() && !has_name) r.fail("SchemaElement without a name");
}

void read_column_meta(CompactReader& r, ColumnMetaData* m) {
  uint32_t seen = 0;
  read_struct(r, [&](int16_t id, CType t) {
    if (id >= 1 && id <= 12) seen |= 1u << id;
    switch (id) {
      case 1: m->type = r.read_i32(t); return true;
      case 2: {
        CType elem;
        uint32_t n = r.begin_list(t, &elem);
        for (uint32_t i = 0; i < n && r.ok(); i++) {
          int32_t e = r.elem_i32(elem);
          if (m->encodings.size() < 64) m->encodings.push_back(e);
        }
        return true;
      }
      case 3: {
        CType elem;
        uint32_t n = r.begin_list(t, &elem);
        for (uint32_t i = 0; i < n && r.ok(); i++) m->path_in_schema.push_back(r.read_binary(elem));
        return true;
      }
      case 4: m->codec = r.read_i32(t); return true;
      case 5: m->num_values = r.read_i64(t); return true;
      case 6: m->total_uncompressed_size = r.read_i64(t); return true;
      case 7: m->total_compressed_size = r.read_i64(t); return true;
      case 9: m->data_page_offset = r.read_i64(t); return true;
      case 11: m->dictionary_page_offset = r.read_i64(t); return true;
      case 12:
        if (t != CType::kStruct) return false;
        m->statistics.emplace();
        read_statistics(r, &*m->statistics);
        return true;
      default: return false;
    }
  });
  constexpr uint32_t kRequired = (1u << 1) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 9);
  if (r.ok() && (seen & kRequired) != kRequired) r.fail("ColumnMetaData misses a required field");
}

void read_row_group(CompactReader& r, RowGroup* rg) {
  bool has_rows = false;
  read_struct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        read_struct_list(r, t, [&](uint32_t i, uint32_t n) {
          if (i == 0) rg->columns.reserve(n);
          ColumnChunk& c = rg->columns.emplace_back();
          read_struct(r, [&](int16_t cid, CType ct) {
            switch (cid) {
              case 1: c.file_path = r.read_binary(ct); return true;
              case 2: c.file_offset = r.read_i64(ct); return true;
              case 3:
                if (ct != CType::kStruct) return false;
                c.meta_data.emplace();
                read_column_meta(r, &*c.meta_data);
                return true;
              default: return false;
            }
          });
        });
        return true;
      case 2: rg->total_byte_size = r.read_i64(t); return true;
      case 3: rg->num_rows = r.read_i64(t); has_rows = true; return true;
      case 5: rg->file_offset = r.read_i64(t); return true;
      case 6: rg->total_compressed_size = r.read_i64(t); return true;
      default: return false;
    }
  });
  if (r.ok() && !has_rows) r.fail("RowGroup without num_rows");
}

}  // namespace

void decode(CompactReader& r, FileMetaData* m) {
  bool has_schema = false, has_rows = false;
  read_struct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1: m->version = r.read_i32(t); return true;
      case 2:
        has_schema = true;
        read_struct_list(r, t, [&](uint32_t i, uint32_t n) {
          if (i == 0) m->schema.reserve(n);
          read_schema_element(r, &m->schema.emplace_back());
        });
        return true;
      case 3: m->num_rows = r.read_i64(t); has_rows = true; return true;
      case 4:
        read_struct_list(r, t, [&](uint32_t i, uint32_t n) {
          if (i == 0) m->row_groups.reserve(n);
          read_row_group(r, &m->row_groups.emplace_back());
        });
        return true;
      case 5:
        read_struct_list(r, t, [&](uint32_t, uint32_t) {
          KeyValue& kv = m->key_value_metadata.emplace_back();
          read_struct(r, [&](int16_t kid, CType kt) {
            if (kid == 1) { kv.key = r.read_binary(kt); return true; }
            if (kid == 2) { kv.value = r.read_binary(kt); return true; }
            return false;
          });
        });
        return true;
      case 6: m->created_by = r.read_binary(t); return true;
      case 7:
        read_struct_list(r, t, [&](uint32_t, uint32_t) {
          m->column_orders++;
          r.skip(CType::kStruct);
        });
        return true;
      default: return false;
    }
  });
  if (r.ok() && (!has_schema || !has_rows)) r.fail("FileMetaData misses schema or num_rows");
}

void decode(CompactReader& r, PageHeader* h) {
  uint32_t seen = 0;
  read_struct(r, [&](int16_t id, CType t) {
    if (id >= 1 && id <= 8) seen |= 1u << id;
    switch (id) {
      case 1: h->type = r.read_i32(t); return true;
      case 2: h->uncompressed_page_size = r.read_i32(t); return true;
      case 3: h->compressed_page_size = r.read_i32(t); return true;
      case 4: h->crc = r.read_i32(t); return true;
      case 5: {
        if (t != CType::kStruct) return false;
        auto& d = h->data_page.emplace();
        read_struct(r, [&](int16_t fid, CType ft) {
          switch (fid) {
            case 1: d.num_values = r.read_i32(ft); return true;
            case 2: d.encoding = r.read_i32(ft); return true;
            case 3: d.definition_level_encoding = r.read_i32(ft); return true;
            case 4: d.repetition_level_encoding = r.read_i32(ft); return true;
            case 5:
              if (ft != CType::kStruct) return false;
              d.statistics.emplace();
              read_statistics(r, &*d.statistics);
              return true;
            default: return false;
          }
        });
        return true;
      }
      case 7: {
        if (t != CType::kStruct) return false;
        auto& d = h->dictionary_page.emplace();
        read_struct(r, [&](int16_t fid, CType ft) {
          switch (fid) {
            case 1: d.num_values = r.read_i32(ft); return true;
            case 2: d.encoding = r.read_i32(ft); return true;
            case 3: d.is_sorted = r.read_bool(ft); return true;
            default: return false;
          }
        });
        return true;
      }
      case 8: {
        if (t != CType::kStruct) return false;
        auto& d = h->data_page_v2.emplace();
        read_struct(r, [&](int16_t fid, CType ft) {
          switch (fid) {
            case 1: d.num_values = r.read_i32(ft); return true;
            case 2: d.num_nulls = r.read_i32(ft); return true;
            case 3: d.num_rows = r.read_i32(ft); return true;
            case 4: d.encoding = r.read_i32(ft); return true;
            case 5: d.definition_levels_byte_length = r.read_i32(ft); return true;
            case 6: d.repetition_levels_byte_length = r.read_i32(ft); return true;
            case 7: d.is_compressed = r.read_bool(ft); return true;
            case 8:
              if (ft != CType::kStruct) return false;
              d.statistics.emplace();
              read_statistics(r, &*d.statistics);
              return true;
            default: return false;
          }
        });
        return true;
      }
      default: return false;
    }
  });
  constexpr uint32_t kRequired = (1u << 1) | (1u << 2) | (1u << 3);
  if (r.ok() && (seen & kRequired) != kRequired) r.fail("PageHeader misses a required field");
}

}  // namespace sl::lake::parquet::meta
