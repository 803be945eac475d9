// A lake table as a catalog relation: `SELECT ... FROM <sink>` reads the table's latest
// snapshot (whole commits only; files of every format).
//
// Threads: any; each snapshot() loads the commits published since the last one (one
// probe of the next commit's key when nothing changed) and reads the live files.
#pragma once

#include <memory>

#include "catalog/catalog.h"
#include "lake/table.h"

namespace sl::lake {

class LakeTableProvider final : public catalog::TableProvider {
 public:
  explicit LakeTableProvider(std::shared_ptr<Table> table) : table_(std::move(table)) {}
  // Every live file decoded. Throws exec::SqlError 58030 on an I/O error or a corrupt
  // file (naming it).
  std::vector<std::shared_ptr<const exec::DataChunk>> snapshot() const override;
  int64_t row_count() const override;
  uint64_t version() const override;
  std::shared_ptr<Table> table() const { return table_; }

  // Pushdown (catalog::TableProvider): a file is skipped when a bound excludes its
  // column statistics, or, for the time column, its partition's range; a Parquet row
  // group when its statistics are excluded.
  bool prunes() const override { return true; }
  std::vector<std::shared_ptr<const exec::DataChunk>> snapshot_filtered(const std::vector<ColumnBound>& bounds) const override;
  // "lake: 3 of 10 files, 7 pruned by ..." from the latest snapshot's metadata.
  std::string scan_note(const std::vector<ColumnBound>& bounds) const override;

 private:
  // The live files the bounds do not exclude.
  std::vector<const DataFile*> select_files(const Snapshot& snap, const std::vector<ColumnBound>& bounds) const;
  std::shared_ptr<Table> table_;
};

}  // namespace sl::lake
