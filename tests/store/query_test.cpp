// Tests for the store's one statement runner (query.h): arguments bound in order, rows mapped,
// the first row or none, early stops, statements that must return no rows, and errors that name
// the statement and the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/store/errors.h"
#include "hangar/store/query.h"
#include "test_support.h"

namespace hangar::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

struct Row {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> note;
  bool operator==(const Row&) const = default;
};

Row read_row(const Statement& row) {
  return Row{row.column_int64(0), row.column_text(1), row.column_optional_text(2)};
}

class StoreQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = Database::open(dir_.file("q.db"));
    ASSERT_TRUE(database.ok()) << database.error().message;
    db_.emplace(std::move(database).value());
    ASSERT_TRUE(
        db_->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)").ok());
    for (std::int64_t id : {1, 2, 3}) {
      const std::optional<std::string> note =
          id == 2 ? std::nullopt : std::optional<std::string>("n" + std::to_string(id));
      ASSERT_TRUE(execute(*db_, "INSERT INTO t (id, name, note) VALUES (?1, ?2, ?3)", id,
                          std::string("row") + std::to_string(id), note)
                      .ok());
    }
  }
  TempDir dir_;
  std::optional<Database> db_;
};

TEST_F(StoreQuery, EveryRowMappedWithArgumentsBoundInOrder) {
  auto rows =
      query_all(*db_, "SELECT id, name, note FROM t WHERE id >= ?1 AND name <> ?2 ORDER BY id",
                read_row, std::int64_t{1}, std::string_view("row3"));
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_THAT(*rows, ElementsAre(Row{1, "row1", "n1"}, Row{2, "row2", std::nullopt}));
  auto none =
      query_all(*db_, "SELECT id, name, note FROM t WHERE id > ?1", read_row, std::int64_t{9});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreQuery, FirstRowOrNone) {
  auto name = query_one(*db_, "SELECT name FROM t WHERE id = ?1", column_text_0, std::int64_t{2});
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, std::optional<std::string>("row2"));
  auto missing =
      query_one(*db_, "SELECT name FROM t WHERE id = ?1", column_text_0, std::int64_t{7});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // Only the first of several rows is read, and the statement can run again at once.
  auto first = query_one(*db_, "SELECT id FROM t ORDER BY id DESC", column_int64_0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, std::optional<std::int64_t>(3));
  EXPECT_EQ(*query_one(*db_, "SELECT id FROM t ORDER BY id DESC", column_int64_0),
            std::optional<std::int64_t>(3));
}

TEST_F(StoreQuery, NullsAndSparseParametersThroughABinder) {
  // An empty optional binds NULL.
  ASSERT_TRUE(execute(*db_, "UPDATE t SET note = ?1 WHERE id = ?2", std::optional<std::string>(),
                      std::int64_t{1})
                  .ok());
  EXPECT_EQ(*query_one(*db_, "SELECT count(*) FROM t WHERE note IS NULL", column_int64_0),
            std::optional<std::int64_t>(2));
  // A Binder binds only the parameters the statement holds.
  const Binder bind = [](Statement& statement) { return statement.bind(3, std::int64_t{3}); };
  auto rows = query_all_bound(*db_, "SELECT id FROM t WHERE id = ?3", bind, column_int64_0);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_THAT(*rows, ElementsAre(3));
}

TEST_F(StoreQuery, EarlyStopAndEveryRowThroughTheRunner) {
  std::vector<std::int64_t> seen;
  auto status =
      run_statement(*db_, "SELECT id FROM t ORDER BY id", nullptr, [&](const Statement& row) {
        seen.push_back(row.column_int64(0));
        return seen.size() < 2;
      });
  ASSERT_TRUE(status.ok());
  EXPECT_THAT(seen, ElementsAre(1, 2));
}

TEST_F(StoreQuery, FailuresNameTheStatementOrTheRule) {
  // A statement run for its effect must not return rows.
  auto rows = execute(*db_, "SELECT id FROM t");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code, kErrInternal);
  EXPECT_THAT(rows.error().message, HasSubstr("returned rows where none were expected"));
  auto broken = query_all(*db_, "SELECT nope FROM t", column_int64_0);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error().message, HasSubstr("q.db"));
  auto constraint = execute(*db_, "INSERT INTO t (id, name) VALUES (?1, ?2)", std::int64_t{4},
                            std::optional<std::string>());
  ASSERT_FALSE(constraint.ok());
  EXPECT_EQ(constraint.error().code, kErrConstraint);
  // A parameter the statement does not have is refused, not ignored.
  auto range = execute(*db_, "DELETE FROM t WHERE id = ?1", std::int64_t{1}, std::int64_t{2});
  EXPECT_FALSE(range.ok());
  EXPECT_EQ(*query_one(*db_, "SELECT count(*) FROM t", column_int64_0),
            std::optional<std::int64_t>(3));
}

}  // namespace
}  // namespace hangar::store
