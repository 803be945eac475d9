#include "catalog/catalog.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "exec/error.h"
#include "util/hash.h"

namespace sl::catalog {

using exec::SqlError;
using exec::TypeId;
namespace sqlstate = exec::sqlstate;
namespace fs = std::filesystem;

const char* table_kind_name(TableKind k) {
  switch (k) {
    case TableKind::kTable: return "table";
    case TableKind::kView: return "view";
    case TableKind::kStream: return "stream";
    case TableKind::kMaterializedView: return "materialized view";
    case TableKind::kSink: return "sink";
  }
  return "?";
}

namespace {

constexpr uint32_t kTableMagic = 0x42544C53;  // "SLTB"
constexpr uint32_t kTableVersion = 1;
constexpr int kCatalogVersion = 1;

// Writes `data` to `path` atomically: tmp file, fsync, rename, fsync dir.
void write_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_if_error(io_error_errno("open " + tmp));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      Status st = io_error_errno("write " + tmp);
      ::close(fd);
      throw_if_error(st);
    }
    off += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) { Status st = io_error_errno("fsync " + tmp); ::close(fd); throw_if_error(st); }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw_if_error(io_error_errno("rename " + tmp));
  std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) { (void)::fsync(dfd); ::close(dfd); }
}

void put32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }

struct Reader {
  const std::string& s;
  size_t pos = 0;
  void need(size_t n) {
    if (pos + n > s.size()) throw Error(Errc::kCorruption, "table file truncated");
  }
  uint32_t u32() { need(4); uint32_t v; std::memcpy(&v, s.data() + pos, 4); pos += 4; return v; }
  const char* bytes(size_t n) { need(n); const char* p = s.data() + pos; pos += n; return p; }
};

nlohmann::json type_to_json(const LogicalType& t) {
  return nlohmann::json{{"id", static_cast<int>(t.id)}, {"p", t.precision}, {"s", t.scale}};
}
LogicalType type_from_json(const nlohmann::json& j) {
  return LogicalType(static_cast<TypeId>(j.at("id").get<int>()), j.at("p").get<uint8_t>(), j.at("s").get<uint8_t>());
}

}  // namespace

// ---- StoredTable ---------------------------------------------------------------------

StoredTable::StoredTable(std::vector<ColumnDef> columns, std::string path)
    : columns_(std::move(columns)), path_(std::move(path)) {}

std::vector<std::shared_ptr<const DataChunk>> StoredTable::snapshot() const {
  std::lock_guard lk(mu_);
  return chunks_;
}

int64_t StoredTable::row_count() const {
  std::lock_guard lk(mu_);
  return rows_;
}

void StoredTable::append(const std::vector<DataChunk>& chunks) {
  std::lock_guard lk(mu_);
  auto next = chunks_;
  int64_t added = 0;
  for (auto& c : chunks) {
    if (c.size() == 0) continue;
    // Copy into a chunk owning its strings, sized to the rows.
    auto copy = std::make_shared<DataChunk>(c.types(), exec::kVectorSize);
    copy->append(c, 0, c.size());
    for (size_t col = 0; col < copy->column_count(); col++) {
      auto& v = copy->column(col);
      if (exec::phys_type(v.type().id) == exec::PhysType::kStr) {
        exec::Vector owned(v.type(), exec::kVectorSize);
        for (size_t i = 0; i < copy->size(); i++) {
          if (v.is_null(i)) { owned.set_null(i); continue; }
          owned.data<exec::StringRef>()[i] = owned.add_string(v.data<exec::StringRef>()[i].view());
        }
        v = std::move(owned);
      }
    }
    copy->clear_signs();
    added += static_cast<int64_t>(c.size());
    next.push_back(std::move(copy));
  }
  persist(next);
  chunks_ = std::move(next);
  rows_ += added;
  if (added) version_++;
}

void StoredTable::persist(const std::vector<std::shared_ptr<const DataChunk>>& chunks) const {
  std::string s;
  put32(s, kTableMagic);
  put32(s, kTableVersion);
  put32(s, static_cast<uint32_t>(columns_.size()));
  for (auto& c : columns_) {
    put32(s, static_cast<uint32_t>(c.type.id));
    put32(s, c.type.precision);
    put32(s, c.type.scale);
  }
  put32(s, static_cast<uint32_t>(chunks.size()));
  for (auto& ch : chunks) {
    uint32_t n = static_cast<uint32_t>(ch->size());
    put32(s, n);
    for (size_t col = 0; col < columns_.size(); col++) {
      const exec::Vector& v = ch->column(col);
      std::string valid((n + 7) / 8, '\0');
      for (uint32_t i = 0; i < n; i++)
        if (v.is_valid(i)) valid[i / 8] = static_cast<char>(valid[i / 8] | (1 << (i % 8)));
      s += valid;
      if (exec::phys_type(v.type().id) == exec::PhysType::kStr) {
        for (uint32_t i = 0; i < n; i++) {
          auto r = v.is_valid(i) ? v.data<exec::StringRef>()[i] : exec::StringRef("", 0);
          put32(s, r.len);
          s.append(r.ptr ? r.ptr : "", r.len);
        }
      } else {
        s.append(reinterpret_cast<const char*>(v.data<uint8_t>()), n * v.type().physical_size());
      }
    }
  }
  put32(s, crc32c(s));
  write_atomic(path_, s);
}

void StoredTable::load() {
  std::ifstream f(path_, std::ios::binary);
  if (!f) return;
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (s.size() < 16) throw Error(Errc::kCorruption, "table file too short: " + path_);
  uint32_t crc;
  std::memcpy(&crc, s.data() + s.size() - 4, 4);
  if (crc32c(s.data(), s.size() - 4) != crc) throw Error(Errc::kCorruption, "table file checksum mismatch: " + path_);
  Reader r{s};
  if (r.u32() != kTableMagic) throw Error(Errc::kCorruption, "not a table file: " + path_);
  uint32_t ver = r.u32();
  if (ver != kTableVersion) throw Error(Errc::kCorruption, "unsupported table file version " + std::to_string(ver));
  uint32_t ncols = r.u32();
  if (ncols != columns_.size()) throw Error(Errc::kCorruption, "table file column count mismatch: " + path_);
  std::vector<LogicalType> types;
  for (uint32_t c = 0; c < ncols; c++) {
    auto id = static_cast<TypeId>(r.u32());
    auto p = static_cast<uint8_t>(r.u32());
    auto sc = static_cast<uint8_t>(r.u32());
    types.emplace_back(id, p, sc);
    if (types.back() != columns_[c].type) throw Error(Errc::kCorruption, "table file type mismatch: " + path_);
  }
  uint32_t nchunks = r.u32();
  std::vector<std::shared_ptr<const DataChunk>> chunks;
  int64_t rows = 0;
  for (uint32_t k = 0; k < nchunks; k++) {
    uint32_t n = r.u32();
    if (n > exec::kVectorSize) {
      // Written with a larger vector size: split.
    }
    auto chunk = std::make_shared<DataChunk>(types, std::max<size_t>(n, 1));
    for (uint32_t col = 0; col < ncols; col++) {
      exec::Vector& v = chunk->column(col);
      const char* valid = r.bytes((n + 7) / 8);
      for (uint32_t i = 0; i < n; i++)
        if (!((valid[i / 8] >> (i % 8)) & 1)) v.set_null(i);
      if (exec::phys_type(types[col].id) == exec::PhysType::kStr) {
        for (uint32_t i = 0; i < n; i++) {
          uint32_t len = r.u32();
          const char* p = r.bytes(len);
          v.data<exec::StringRef>()[i] = v.add_string(std::string_view(p, len));
        }
      } else {
        size_t w = types[col].physical_size();
        std::memcpy(v.data<uint8_t>(), r.bytes(n * w), n * w);
      }
    }
    chunk->set_size(n);
    rows += n;
    // Re-chunk to this build's vector size.
    for (size_t off = 0; off < n; off += exec::kVectorSize) {
      size_t m = std::min<size_t>(exec::kVectorSize, n - off);
      if (off == 0 && m == n) { chunks.push_back(chunk); break; }
      auto part = std::make_shared<DataChunk>(types, exec::kVectorSize);
      part->append(*chunk, off, m);
      chunks.push_back(std::move(part));
    }
  }
  std::lock_guard lk(mu_);
  chunks_ = std::move(chunks);
  rows_ = rows;
}

void StoredTable::remove_file() {
  std::error_code ec;
  fs::remove(path_, ec);
}

// ---- Catalog ---------------------------------------------------------------------------

std::unique_ptr<Catalog> Catalog::open(const std::string& data_dir) {
  std::string dir = data_dir + "/catalog";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(Errc::kIoError, "cannot create " + dir + ": " + ec.message());
  std::unique_ptr<Catalog> c(new Catalog(dir));
  c->load();
  return c;
}

std::string Catalog::table_path(uint64_t id) const { return dir_ + "/" + std::to_string(id) + ".tbl"; }

void Catalog::load() {
  std::string path = dir_ + "/catalog.json";
  std::ifstream f(path);
  if (!f) return;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    throw Error(Errc::kCorruption, "corrupt " + path + ": " + e.what());
  }
  if (j.value("version", 0) != kCatalogVersion)
    throw Error(Errc::kCorruption, "unsupported catalog version in " + path);
  next_id_ = j.value("next_id", 1);
  for (auto& e : j.at("entries")) {
    auto entry = std::make_shared<CatalogEntry>();
    entry->name = e.at("name");
    entry->kind = static_cast<TableKind>(e.at("kind").get<int>());
    entry->id = e.at("id");
    entry->sql = e.value("sql", "");
    for (auto& c : e.at("columns"))
      entry->columns.push_back({c.at("name"), type_from_json(c.at("type")), c.value("not_null", false)});
    if (e.contains("options"))
      for (auto& [k, v] : e.at("options").items()) entry->options[k] = v.get<std::string>();
    if (entry->kind == TableKind::kTable) {
      auto t = std::make_shared<StoredTable>(entry->columns, table_path(entry->id));
      t->load();
      entry->provider = t;
    }
    entries_[entry->name] = entry;
  }
}

void Catalog::save_locked() const {
  nlohmann::json j;
  j["version"] = kCatalogVersion;
  j["next_id"] = next_id_;
  j["entries"] = nlohmann::json::array();
  for (auto& [name, e] : entries_) {
    nlohmann::json cols = nlohmann::json::array();
    for (auto& c : e->columns) cols.push_back({{"name", c.name}, {"type", type_to_json(c.type)}, {"not_null", c.not_null}});
    nlohmann::json opts = nlohmann::json::object();
    for (auto& [k, v] : e->options) opts[k] = v;
    j["entries"].push_back({{"name", e->name}, {"kind", static_cast<int>(e->kind)}, {"id", e->id},
                            {"sql", e->sql}, {"columns", cols}, {"options", opts}});
  }
  write_atomic(dir_ + "/catalog.json", j.dump(1));
}

std::shared_ptr<const CatalogEntry> Catalog::find(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const CatalogEntry>> Catalog::list() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<const CatalogEntry>> r;
  for (auto& [n, e] : entries_) r.push_back(e);
  return r;
}

bool Catalog::create_table(const std::string& name, std::vector<ColumnDef> columns,
                           std::map<std::string, std::string> options, bool if_not_exists) {
  std::lock_guard lk(mu_);
  if (entries_.count(name)) {
    if (if_not_exists) return false;
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists", -1, Errc::kAlreadyExists);
  }
  auto e = std::make_shared<CatalogEntry>();
  e->name = name;
  e->kind = TableKind::kTable;
  e->columns = std::move(columns);
  e->options = std::move(options);
  e->id = next_id_++;
  auto t = std::make_shared<StoredTable>(e->columns, table_path(e->id));
  e->provider = t;
  entries_[name] = e;
  try {
    save_locked();
  } catch (...) {
    entries_.erase(name);
    throw;
  }
  return true;
}

bool Catalog::create_view(const std::string& name, std::vector<ColumnDef> columns, std::string sql, bool or_replace) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    if (!or_replace || it->second->kind != TableKind::kView)
      throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists", -1, Errc::kAlreadyExists);
  }
  auto e = std::make_shared<CatalogEntry>();
  e->name = name;
  e->kind = TableKind::kView;
  e->columns = std::move(columns);
  e->sql = std::move(sql);
  e->id = next_id_++;
  auto old = it != entries_.end() ? it->second : nullptr;
  entries_[name] = e;
  try {
    save_locked();
  } catch (...) {
    if (old) entries_[name] = old; else entries_.erase(name);
    throw;
  }
  return true;
}

void Catalog::create_provided(const std::string& name, TableKind kind, std::vector<ColumnDef> columns,
                              std::string sql, std::map<std::string, std::string> options,
                              std::shared_ptr<TableProvider> provider) {
  std::lock_guard lk(mu_);
  if (entries_.count(name))
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists", -1, Errc::kAlreadyExists);
  auto e = std::make_shared<CatalogEntry>();
  e->name = name;
  e->kind = kind;
  e->columns = std::move(columns);
  e->sql = std::move(sql);
  e->options = std::move(options);
  e->provider = std::move(provider);
  e->id = next_id_++;
  entries_[name] = e;
  save_locked();
}

void Catalog::attach_provider(const std::string& name, std::shared_ptr<TableProvider> provider) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw SqlError(sqlstate::kUndefinedTable, "relation \"" + name + "\" does not exist", -1, Errc::kNotFound);
  auto e = std::make_shared<CatalogEntry>(*it->second);
  e->provider = std::move(provider);
  it->second = e;
}

bool Catalog::drop(const std::string& name, TableKind kind, bool if_exists) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    if (if_exists) return false;
    throw SqlError(sqlstate::kUndefinedTable,
                   std::string(kind == TableKind::kView ? "view" : "table") + " \"" + name + "\" does not exist", -1,
                   Errc::kNotFound);
  }
  if (it->second->kind != kind)
    throw SqlError(sqlstate::kWrongObjectType,
                   "\"" + name + "\" is not a " + table_kind_name(kind), -1, Errc::kInvalidArgument);
  auto e = it->second;
  entries_.erase(it);
  save_locked();
  if (e->kind == TableKind::kTable) {
    // Only a table this catalog stores: create_provided may lend it another catalog's
    // table (the streaming runtime's planning catalog mirrors lookup tables), whose file
    // belongs to that catalog.
    auto t = std::dynamic_pointer_cast<StoredTable>(e->provider);
    if (t && t->path() == table_path(e->id)) t->remove_file();
  }
  return true;
}

std::shared_ptr<StoredTable> Catalog::stored_table(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return nullptr;
  return std::dynamic_pointer_cast<StoredTable>(it->second->provider);
}

}  // namespace sl::catalog
