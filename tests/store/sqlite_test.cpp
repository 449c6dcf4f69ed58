// Tests for the SQLite RAII wrapper: binding and reading values, the transaction guard and the
// mapping of SQLite failures to store error codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/store/errors.h"
#include "hangar/store/sqlite.h"
#include "test_support.h"

namespace hangar::store {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

Database open_or_die(const std::filesystem::path& path, DatabaseOptions options = {}) {
  auto database = Database::open(path, options);
  EXPECT_TRUE(database.ok()) << database.error().message;
  return std::move(database).value();
}

TEST(StoreSqlite, BindsAndReadsEveryType) {
  TempDir dir;
  Database db = open_or_die(dir.file("t.db"));
  ASSERT_TRUE(db.exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT)").ok());

  const std::string text_with_nul("a\0b", 3);
  const std::vector<std::uint8_t> blob{0x00, 0xff, 0x10};
  {
    auto insert = db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
    ASSERT_TRUE(insert.ok()) << insert.error().message;
    ASSERT_TRUE(
        insert->bind_all(std::int64_t{-5}, text_with_nul, blob, std::optional<std::string>()).ok());
    ASSERT_TRUE(insert->run().ok());
    // Reset keeps bindings; an empty blob must stay an empty blob, not NULL.
    ASSERT_TRUE(insert->reset().ok());
    ASSERT_TRUE(insert->bind(3, std::vector<std::uint8_t>{}).ok());
    ASSERT_TRUE(insert->run().ok());
  }
  EXPECT_EQ(db.last_insert_rowid(), 2);

  auto select = db.prepare("SELECT i, s, b, n FROM t ORDER BY rowid");
  ASSERT_TRUE(select.ok());
  auto row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->column_int64(0), -5);
  EXPECT_EQ(select->column_text(1), text_with_nul);
  EXPECT_EQ(select->column_blob(2), blob);
  EXPECT_TRUE(select->column_is_null(3));
  EXPECT_EQ(select->column_optional_text(3), std::nullopt);
  row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  ASSERT_FALSE(select->column_is_null(2));
  EXPECT_EQ(select->column_optional_blob(2), std::vector<std::uint8_t>{});
  row = select->step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST(StoreSqlite, EmptyStringViewBindsEmptyTextNotNull) {
  TempDir dir;
  Database db = open_or_die(dir.file("t.db"));
  auto select = db.prepare("SELECT ?1 IS NULL, length(?1)");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(select->bind(1, std::string_view()).ok());
  auto row = select->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(select->column_int64(0), 0);
  EXPECT_EQ(select->column_int64(1), 0);
}

TEST(StoreSqlite, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  Database db = open_or_die(dir.file("t.db"));
  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER)").ok());
  {
    auto transaction = Transaction::begin(db, TransactionMode::kImmediate);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)").ok());
    EXPECT_TRUE(db.in_transaction());
  }  // no commit: rolled back
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(*db.query_int64("SELECT count(*) FROM t"), 0);
  {
    auto transaction = Transaction::begin(db, TransactionMode::kImmediate);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(transaction->commit().ok());
    EXPECT_FALSE(transaction->commit().ok()) << "a second commit must be refused";
  }
  EXPECT_EQ(*db.query_int64("SELECT count(*) FROM t"), 1);
}

TEST(StoreSqlite, StatementsSurviveAMoveOfTheDatabase) {
  TempDir dir;
  Database first = open_or_die(dir.file("t.db"));
  // Declared before the statement so it is destroyed after it: statements must not outlive the
  // database they came from.
  std::optional<Database> moved;
  auto statement = first.prepare("SELECT 42");
  ASSERT_TRUE(statement.ok());
  moved.emplace(std::move(first));
  auto row = statement->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(statement->column_int64(0), 42);
}

TEST(StoreSqlite, MapsFailuresToStableCodes) {
  TempDir dir;
  const auto path = dir.file("t.db");
  Database db = open_or_die(path);
  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)").ok());
  ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)").ok());

  auto duplicate = db.exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, kErrConstraint);
  EXPECT_THAT(duplicate.error().message, HasSubstr(path_to_utf8(path)));

  auto bad_sql = db.prepare("SELEC nonsense");
  ASSERT_FALSE(bad_sql.ok());
  EXPECT_EQ(bad_sql.error().code, kErrInternal);

  // A second connection waits at most its busy timeout for the first one's write lock.
  Database other = open_or_die(path, DatabaseOptions{std::chrono::milliseconds(50)});
  ASSERT_TRUE(db.exec("BEGIN IMMEDIATE").ok());
  auto busy = other.exec("BEGIN IMMEDIATE");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, kErrBusy);
  EXPECT_THAT(busy.error().message, HasSubstr(path_to_utf8(path)));
  ASSERT_TRUE(db.exec("ROLLBACK").ok());
}

TEST(StoreSqlite, OpeningADirectoryFails) {
  TempDir dir;
  // SQLite opens lazily, so the failure may surface at open or at the first statement.
  auto db = Database::open(dir.path());
  if (db.ok()) {
    auto status = db->exec("CREATE TABLE t (x)");
    ASSERT_FALSE(status.ok());
    EXPECT_THAT(status.error().message, HasSubstr(path_to_utf8(dir.path())));
  } else {
    EXPECT_EQ(db.error().code, kErrOpenFailed);
    EXPECT_THAT(db.error().message, HasSubstr(path_to_utf8(dir.path())));
  }
}

}  // namespace
}  // namespace hangar::store
