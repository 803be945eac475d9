#include "catalog/catalog.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "exec/error.h"

namespace sl::catalog {
namespace {

std::string temp_dir() {
  char t[] = "/tmp/catalog_test.XXXXXX";
  return mkdtemp(t);
}

DataChunk rows(int n) {
  DataChunk c({exec::TypeId::kInteger, exec::TypeId::kVarchar});
  for (int i = 0; i < n; i++) {
    c.column(0).data<int32_t>()[i] = i;
    if (i % 3 == 0) c.column(1).set_null(i);
    else c.column(1).data<exec::StringRef>()[i] = c.column(1).add_string("row" + std::to_string(i));
  }
  c.set_size(n);
  return c;
}

TEST(Catalog, TablesAndViewsSurviveReopen) {
  std::string dir = temp_dir();
  {
    auto cat = Catalog::open(dir);
    ASSERT_TRUE(cat->create_table("t", {{"a", exec::TypeId::kInteger, true}, {"b", exec::TypeId::kVarchar}}, {}, false));
    EXPECT_FALSE(cat->create_table("t", {{"x", exec::TypeId::kInteger}}, {}, true));
    EXPECT_THROW(cat->create_table("t", {{"x", exec::TypeId::kInteger}}, {}, false), exec::SqlError);
    std::vector<DataChunk> chunks;
    chunks.push_back(rows(static_cast<int>(std::min<size_t>(exec::kVectorSize, 5))));
    cat->stored_table("t")->append(chunks);
    cat->create_view("v", {{"a", exec::TypeId::kInteger}}, "CREATE VIEW v AS SELECT a FROM t", false);
  }
  auto cat = Catalog::open(dir);
  auto t = cat->find("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TableKind::kTable);
  EXPECT_TRUE(t->columns[0].not_null);
  auto n = static_cast<int64_t>(std::min<size_t>(exec::kVectorSize, 5));
  EXPECT_EQ(t->provider->row_count(), n);
  auto snap = t->provider->snapshot();
  ASSERT_FALSE(snap.empty());
  EXPECT_TRUE(snap[0]->column(1).is_null(0));
  if (n > 1) {
    EXPECT_EQ(snap[0]->column(1).data<exec::StringRef>()[1].view(), "row1");
  }
  auto v = cat->find("v");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, TableKind::kView);
  EXPECT_THROW(cat->drop("v", TableKind::kTable, false), exec::SqlError);
  EXPECT_TRUE(cat->drop("t", TableKind::kTable, false));
  EXPECT_FALSE(cat->drop("t", TableKind::kTable, true));
  EXPECT_FALSE(std::filesystem::exists(dir + "/catalog/1.tbl"));
  std::filesystem::remove_all(dir);
}

TEST(Catalog, CorruptTableFileIsDetected) {
  std::string dir = temp_dir();
  {
    auto cat = Catalog::open(dir);
    cat->create_table("t", {{"a", exec::TypeId::kInteger}, {"b", exec::TypeId::kVarchar}}, {}, false);
    std::vector<DataChunk> chunks;
    chunks.push_back(rows(1));
    cat->stored_table("t")->append(chunks);
  }
  std::string path = dir + "/catalog/1.tbl";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  try {
    Catalog::open(dir);
    FAIL() << "expected corruption";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::kCorruption);
  }
  std::filesystem::remove_all(dir);
}

TEST(Catalog, ProvidersForStreamingKinds) {
  struct Fixed final : TableProvider {
    std::vector<std::shared_ptr<const DataChunk>> snapshot() const override {
      auto c = std::make_shared<DataChunk>(rows(1));
      return {c};
    }
    int64_t row_count() const override { return 1; }
  };
  std::string dir = temp_dir();
  auto cat = Catalog::open(dir);
  cat->create_provided("mv", TableKind::kMaterializedView, {{"a", exec::TypeId::kInteger}, {"b", exec::TypeId::kVarchar}},
                       "SELECT 1", {{"emit", "changes"}}, std::make_shared<Fixed>());
  EXPECT_EQ(cat->find("mv")->provider->row_count(), 1);
  auto again = Catalog::open(dir);
  EXPECT_EQ(again->find("mv")->options.at("emit"), "changes");
  EXPECT_EQ(again->find("mv")->provider, nullptr);  // re-attached by the runtime
  again->attach_provider("mv", std::make_shared<Fixed>());
  EXPECT_NE(again->find("mv")->provider, nullptr);
  std::filesystem::remove_all(dir);
}

// The streaming runtime mirrors regular tables into its private planning catalog with
// create_provided (same StoredTable) and drops the mirror when it re-syncs: dropping an
// entry that only borrows a table must not delete the owner's file.
TEST(Catalog, DroppingABorrowedStoredTableKeepsItsFile) {
  std::string dir = temp_dir(), other = temp_dir();
  std::vector<ColumnDef> cols{{"a", exec::TypeId::kInteger}, {"b", exec::TypeId::kVarchar}};
  {
    auto cat = Catalog::open(dir);
    ASSERT_TRUE(cat->create_table("t", cols, {}, false));
    std::vector<DataChunk> chunks;
    chunks.push_back(rows(2));
    cat->stored_table("t")->append(chunks);
    auto mirror = Catalog::open(other);
    mirror->create_provided("t", TableKind::kTable, cols, "", {}, cat->find("t")->provider);
    EXPECT_TRUE(mirror->drop("t", TableKind::kTable, false));
    EXPECT_TRUE(std::filesystem::exists(cat->stored_table("t")->path()));
  }
  auto cat = Catalog::open(dir);
  ASSERT_TRUE(cat->find("t"));
  EXPECT_EQ(cat->find("t")->provider->row_count(), 2);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(other);
}

}  // namespace
}  // namespace sl::catalog
