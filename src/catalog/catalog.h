// The catalog: named tables and views of one data directory, persisted there.
//
// Layout under DATA/catalog/: catalog.json (definitions, format version 1, written
// atomically: tmp + fsync + rename) and one file per table, <id>.tbl (columnar, format
// version 1, CRC32C-checked, rewritten atomically on every change).
//
// Kinds: kTable (rows stored here), kView (a SQL text bound at query time); kStream and
// kMaterializedView are reserved for the streaming runtime (stream/), which registers a
// TableProvider for them: the SQL engine reads every kind through TableProvider, so a
// live view or a stream's retained records are scanned like a table.
//
// Thread-safety: all methods may be called from any thread; definitions are guarded by one
// mutex, each table's rows by its own. Readers get immutable snapshots (shared chunks).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exec/types.h"
#include "exec/value.h"
#include "exec/vector.h"

namespace sl::catalog {

using exec::DataChunk;
using exec::LogicalType;

// kSink: a lake sink (stream/ registers its table as the provider).
enum class TableKind { kTable, kView, kStream, kMaterializedView, kSink };
const char* table_kind_name(TableKind k);

struct ColumnDef {
  std::string name;
  LogicalType type;
  bool not_null = false;
};

// Something that yields batches: a stored table, a stream's retained records, a live view.
class TableProvider {
 public:
  virtual ~TableProvider() = default;
  // An immutable snapshot of the current rows (chunks are shared, never mutated).
  virtual std::vector<std::shared_ptr<const DataChunk>> snapshot() const = 0;
  virtual int64_t row_count() const = 0;
  // Changes whenever the rows change (0 = never tracked). Streaming lookup joins rebuild
  // their copy of a table when it moves.
  virtual uint64_t version() const { return 0; }

  // Predicate pushdown (optional). A bound says column `column` lies in [lo, hi]
  // (inclusive; a NULL Value = open; values of the column's type). Providers that can skip
  // data by bounds (lake tables: partitions, file and row-group statistics) answer
  // prunes() = true; the planner then reads them through snapshot_filtered(), which
  // returns a superset of the rows satisfying every bound (the planner still filters),
  // and shows scan_note() in EXPLAIN (what was pruned, from metadata only).
  struct ColumnBound {
    size_t column = 0;
    exec::Value lo, hi;
  };
  virtual bool prunes() const { return false; }
  virtual std::vector<std::shared_ptr<const DataChunk>> snapshot_filtered(const std::vector<ColumnBound>&) const {
    return snapshot();
  }
  virtual std::string scan_note(const std::vector<ColumnBound>&) const { return ""; }
};

// Rows of a kTable, in memory, persisted to one file.
class StoredTable final : public TableProvider {
 public:
  StoredTable(std::vector<ColumnDef> columns, std::string path);
  std::vector<std::shared_ptr<const DataChunk>> snapshot() const override;
  int64_t row_count() const override;
  uint64_t version() const override { return version_.load(); }
  // Appends rows (types must match the columns) and persists the table; all or nothing.
  // Throws sl::Error on I/O failure (the rows are then not added).
  void append(const std::vector<DataChunk>& chunks);
  // Reads the file (if any). Throws sl::Error on corruption.
  void load();
  void remove_file();
  const std::string& path() const { return path_; }

 private:
  void persist(const std::vector<std::shared_ptr<const DataChunk>>& chunks) const;
  std::vector<ColumnDef> columns_;
  std::string path_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const DataChunk>> chunks_;
  int64_t rows_ = 0;
  std::atomic<uint64_t> version_{1};
};

struct CatalogEntry {
  std::string name;
  TableKind kind = TableKind::kTable;
  std::vector<ColumnDef> columns;
  std::string sql;                              // views: the defining SELECT
  std::map<std::string, std::string> options;   // WITH (...) options
  std::shared_ptr<TableProvider> provider;      // tables, streams, materialized views
  uint64_t id = 0;
};

class Catalog {
 public:
  // Opens (creating) DATA/catalog. Throws sl::Error on I/O errors or corrupt files.
  static std::unique_ptr<Catalog> open(const std::string& data_dir);

  // Names are case-folded by the binder (unquoted identifiers are lower case).
  std::shared_ptr<const CatalogEntry> find(const std::string& name) const;
  std::vector<std::shared_ptr<const CatalogEntry>> list() const;

  // Throws SqlError 42P07 if the name exists (unless if_not_exists: returns false).
  bool create_table(const std::string& name, std::vector<ColumnDef> columns,
                    std::map<std::string, std::string> options, bool if_not_exists);
  bool create_view(const std::string& name, std::vector<ColumnDef> columns, std::string sql,
                   bool or_replace);
  // Registers a provider-backed entry (streaming runtime). Persisted like the others;
  // after a restart the runtime re-attaches its provider with attach_provider().
  void create_provided(const std::string& name, TableKind kind, std::vector<ColumnDef> columns,
                       std::string sql, std::map<std::string, std::string> options,
                       std::shared_ptr<TableProvider> provider);
  void attach_provider(const std::string& name, std::shared_ptr<TableProvider> provider);
  // Throws SqlError 42P01 if missing (unless if_exists: returns false), 42809 if the kind
  // differs (DROP VIEW on a table).
  bool drop(const std::string& name, TableKind kind, bool if_exists);
  // The stored table behind a kTable entry (for INSERT/COPY).
  std::shared_ptr<StoredTable> stored_table(const std::string& name) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit Catalog(std::string dir) : dir_(std::move(dir)) {}
  void load();
  void save_locked() const;  // REQUIRES: mu_ held
  std::string table_path(uint64_t id) const;
  std::string dir_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<CatalogEntry>> entries_;
  uint64_t next_id_ = 1;
};

}  // namespace sl::catalog
