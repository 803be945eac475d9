// LakeTableProvider (see provider.h).
#include "lake/provider.h"

#include "exec/error.h"

namespace sl::lake {

namespace {

[[noreturn]] void fail(const Status& s) { throw exec::SqlError(exec::sqlstate::kIoError, s.message()); }

}  // namespace

std::vector<std::shared_ptr<const exec::DataChunk>> LakeTableProvider::snapshot() const {
  return snapshot_time_range(INT64_MIN, INT64_MAX, nullptr);
}

std::vector<std::shared_ptr<const exec::DataChunk>> LakeTableProvider::snapshot_time_range(int64_t lo, int64_t hi,
                                                                                           size_t* pruned) const {
  auto r = table_->refresh();
  if (!r.ok()) fail(r.status());
  auto snap = r.value();
  const auto& schema = snap->settings.schema;
  std::vector<size_t> cols(schema.size());
  for (size_t i = 0; i < cols.size(); i++) cols[i] = i;
  std::vector<std::shared_ptr<const exec::DataChunk>> out;
  auto pattern = PartitionPattern::parse(snap->settings.partition);
  for (auto& [path, f] : snap->files) {
    // Partition by path, then the file's time statistics.
    // (With time_column = 'arrival' no column holds the partition's time: nothing prunes.)
    int64_t ps, pe;
    bool skip = false;
    bool by_column = snap->settings.time_column != "arrival";
    if (by_column && pattern.ok() && !f.partition.empty() && pattern->range(f.partition, &ps, &pe))
      skip = pe <= lo || ps > hi;
    if (by_column && !skip && f.min_time_us != INT64_MIN && f.max_time_us != INT64_MAX)
      skip = f.max_time_us < lo || f.min_time_us > hi;
    if (skip) {
      if (pruned) (*pruned)++;
      continue;
    }
    Status st = scan_data_file(table_->store(), table_->key_of(path), snap->settings.format, schema, cols, {},
                               [&](exec::DataChunk& c) {
                                 out.push_back(std::make_shared<exec::DataChunk>(std::move(c)));
                                 return Status::OK();
                               });
    if (!st.ok()) fail(st);
  }
  return out;
}

int64_t LakeTableProvider::row_count() const {
  auto r = table_->refresh();
  return r.ok() ? r.value()->rows : table_->snapshot()->rows;
}

uint64_t LakeTableProvider::version() const { return table_->snapshot()->version; }

}  // namespace sl::lake
