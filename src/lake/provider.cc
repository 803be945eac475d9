// LakeTableProvider (see provider.h).
#include "lake/provider.h"

#include "exec/error.h"
#include "lake/text_files.h"

namespace sl::lake {

namespace {

[[noreturn]] void fail(const Status& s) { throw exec::SqlError(exec::sqlstate::kIoError, s.message()); }

// Whether [min, max] (statistics) can hold a value within the bound.
bool may_match(const parquet::ColumnStats& st, const catalog::TableProvider::ColumnBound& b) {
  if (!st.has_min_max || st.min.is_null || st.max.is_null) return true;
  if (st.min.type != st.max.type) return true;
  if (!b.lo.is_null && b.lo.type == st.max.type && compare_values(st.max, b.lo) < 0) return false;
  if (!b.hi.is_null && b.hi.type == st.min.type && compare_values(st.min, b.hi) > 0) return false;
  return true;
}

// A bound on a temporal column as microseconds (dates: start of the day).
bool bound_us(const exec::Value& v, int64_t* us) {
  if (v.is_null) return false;
  switch (v.type.id) {
    case exec::TypeId::kTimestamp:
    case exec::TypeId::kTimestampTz: *us = v.i; return true;
    case exec::TypeId::kDate: *us = v.i * 86'400'000'000LL; return true;
    default: return false;
  }
}

}  // namespace

std::vector<const DataFile*> LakeTableProvider::select_files(const Snapshot& snap,
                                                             const std::vector<ColumnBound>& bounds) const {
  const auto& schema = snap.settings.schema;
  int time_col = -1;
  for (size_t i = 0; i < schema.size(); i++)
    if (schema[i].name == snap.settings.time_column) time_col = static_cast<int>(i);
  auto pattern = PartitionPattern::parse(snap.settings.partition);
  std::vector<const DataFile*> out;
  for (auto& [path, f] : snap.files) {
    bool keep = true;
    for (auto& b : bounds) {
      if (b.column < f.columns.size() && !may_match(f.columns[b.column], b)) keep = false;
      int64_t ps, pe, v;
      if (keep && static_cast<int>(b.column) == time_col && pattern.ok() && !f.partition.empty() &&
          pattern->range(f.partition, &ps, &pe)) {
        if (bound_us(b.lo, &v) && pe <= v) keep = false;
        if (bound_us(b.hi, &v) && ps > v) keep = false;
      }
      if (!keep) break;
    }
    if (keep) out.push_back(&f);
  }
  return out;
}

std::vector<std::shared_ptr<const exec::DataChunk>> LakeTableProvider::snapshot_filtered(
    const std::vector<ColumnBound>& bounds) const {
  auto r = table_->refresh();
  if (!r.ok()) fail(r.status());
  auto snap = r.value();
  const auto& schema = snap->settings.schema;
  std::vector<size_t> cols(schema.size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  auto keep_group = [&](const parquet::RowGroupInfo& g) {
    for (auto& b : bounds)
      if (b.column < g.columns.size() && !may_match(g.columns[b.column], b)) return false;
    return true;
  };
  std::vector<std::shared_ptr<const exec::DataChunk>> out;
  for (const DataFile* f : select_files(*snap, bounds)) {
    auto scan = [&](const std::string& key) {
      return scan_data_file(table_->store(), key, snap->settings.format, schema, cols, keep_group,
                            [&](exec::DataChunk& c) {
                              out.push_back(std::make_shared<exec::DataChunk>(std::move(c)));
                              return Status::OK();
                            });
    };
    Status st = scan(table_->key_of(f->path));
    // A compaction or retention commit after our snapshot moved the file to the trash
    // (nothing was read yet: the open failed).
    if (st.code() == Errc::kNotFound) st = scan(table_->trash_key_of(f->path));
    if (!st.ok()) fail(st);
  }
  return out;
}

std::string LakeTableProvider::scan_note(const std::vector<ColumnBound>& bounds) const {
  auto r = table_->refresh();
  if (!r.ok()) return "lake: " + r.status().message();
  size_t n = select_files(*r.value(), bounds).size(), all = r.value()->files.size();
  return "lake: " + std::to_string(n) + " of " + std::to_string(all) + " files, " + std::to_string(all - n) +
         " pruned by partition and statistics";
}

std::vector<std::shared_ptr<const exec::DataChunk>> LakeTableProvider::snapshot() const {
  return snapshot_filtered({});
}

int64_t LakeTableProvider::row_count() const {
  auto r = table_->refresh();
  return r.ok() ? r.value()->rows : table_->snapshot()->rows;
}

uint64_t LakeTableProvider::version() const { return table_->snapshot()->version; }

}  // namespace sl::lake
