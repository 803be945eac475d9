// Normalized keys: rows of several columns encoded as byte strings whose memcmp order is
// the SQL sort order (per column ASC/DESC, NULLS FIRST/LAST) and whose equality is SQL
// grouping equality (NULLs equal each other, -0 = 0, NaN = NaN). Used by hash aggregate,
// hash join, distinct, sort, top-N and windows: one encoder instead of per-type
// comparators called per row.
#pragma once

#include <string>
#include <vector>

#include "exec/vector.h"

namespace sl::exec {

struct KeySpec {
  bool descending = false;
  bool nulls_first = false;  // PostgreSQL default: NULLS LAST for ASC, FIRST for DESC
};

// Appends the key of rows [0, n) of `cols` to keys[0..n) (keys is resized to n).
// specs may be empty (all ASC NULLS LAST).
void encode_keys(const std::vector<const Vector*>& cols, size_t n, const std::vector<KeySpec>& specs,
                 std::vector<std::string>& keys);

// Bytes of one column's normalized key for type t (marker byte included), or 0 when the
// width varies (text, bytea).
size_t fixed_key_width(LogicalType t);
// Writes the normalized key of rows [0, n) of v (the same bytes encode_keys writes for this
// column) to out[i * w, (i + 1) * w) with w = fixed_key_width(v.type()) > 0.
void encode_column_fixed(const Vector& v, size_t n, KeySpec spec, char* out);

// Whether any of the key columns is NULL in row i.
bool any_null(const std::vector<const Vector*>& cols, size_t i);

}  // namespace sl::exec
