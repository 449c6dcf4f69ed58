// The one way the store runs a statement: prepare, bind, step, read each row. Arguments bind to
// ?1..?N in order (std::optional binds NULL when empty); a row mapper turns the current row of a
// Statement into a value. Every failure is the Database's error, naming the file.
//
//   auto rows = query_all(db, "SELECT id, serial FROM devices WHERE state = ?1", read_key, state);
//   auto one = query_one(db, "SELECT value FROM meta WHERE key = ?1", column_text0, key);
//   auto status = execute(db, "DELETE FROM devices WHERE id = ?1", id);
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hangar/store/sqlite.h"

namespace hangar::store {

// Binds a statement's parameters when they do not fit one pack (optional clauses numbered ?2, ?3
// ... that a query may leave out).
using Binder = std::function<core::Status(Statement&)>;

// Prepares `sql`, lets `bind` bind it (may be empty), and calls `on_row` for each row (may be
// empty: a statement that returns no rows). `on_row` returns false to stop early.
core::Status run_statement(Database& database, std::string_view sql, const Binder& bind,
                           const std::function<bool(const Statement&)>& on_row);

// A Binder that binds `args` to ?1..?N.
template <typename... Args>
Binder bind_args(const Args&... args) {
  return [&args...](Statement& statement) { return statement.bind_all(args...); };
}

// Every row, mapped by `map(const Statement&)`, with a Binder.
template <typename Map>
auto query_all_bound(Database& database, std::string_view sql, const Binder& bind, Map&& map)
    -> core::Result<std::vector<std::invoke_result_t<Map&, const Statement&>>> {
  std::vector<std::invoke_result_t<Map&, const Statement&>> rows;
  auto status = run_statement(database, sql, bind, [&](const Statement& row) {
    rows.push_back(map(row));
    return true;
  });
  if (!status) return std::move(status).error();
  return rows;
}

// Every row, mapped by `map(const Statement&)`, with `args` bound to ?1..?N.
template <typename Map, typename... Args>
auto query_all(Database& database, std::string_view sql, Map&& map, const Args&... args) {
  return query_all_bound(database, sql, bind_args(args...), std::forward<Map>(map));
}

// The first row mapped by `map`, or nullopt when there is none.
template <typename Map, typename... Args>
auto query_one(Database& database, std::string_view sql, Map&& map, const Args&... args)
    -> core::Result<std::optional<std::invoke_result_t<Map&, const Statement&>>> {
  std::optional<std::invoke_result_t<Map&, const Statement&>> first;
  auto status = run_statement(database, sql, bind_args(args...), [&](const Statement& row) {
    first.emplace(map(row));
    return false;
  });
  if (!status) return std::move(status).error();
  return first;
}

// A statement that returns no rows, with `args` bound to ?1..?N.
template <typename... Args>
core::Status execute(Database& database, std::string_view sql, const Args&... args) {
  return run_statement(database, sql, bind_args(args...), nullptr);
}

// Row mappers for single-column answers.
inline std::int64_t column_int64_0(const Statement& row) { return row.column_int64(0); }
inline std::string column_text_0(const Statement& row) { return row.column_text(0); }

}  // namespace hangar::store
