// A small RAII layer over the SQLite C API (connection, prepared statement, transaction guard) that
// turns every SQLite failure into a core::Error naming the file and what to do about it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"

// Forward declarations keep <sqlite3.h> out of this header, so users of hangar_store do not need
// SQLite's include directory.
struct sqlite3;
struct sqlite3_stmt;

namespace hangar::store {

namespace detail {
struct Connection;
}  // namespace detail

class Statement;

struct DatabaseOptions {
  // How long a statement waits for another connection's lock before failing with store_busy.
  std::chrono::milliseconds busy_timeout{5000};
};

// Converts a path to the UTF-8 that SQLite expects on every platform (on Windows,
// path::string() would give the ANSI code page instead).
std::string path_to_utf8(const std::filesystem::path& path);

// One SQLite connection. Not thread-safe by itself: Store serialises access with a mutex.
// Statements and transactions keep a pointer to the connection's state, which stays put when
// the Database is moved, but they must not outlive it.
class Database {
 public:
  // Opens (creating if needed) the file. Opening is lazy in SQLite: a damaged file is only
  // detected by the first statement that reads it (see check_integrity()).
  static core::Result<Database> open(const std::filesystem::path& path,
                                     const DatabaseOptions& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows.
  core::Status exec(std::string_view sql);
  core::Result<Statement> prepare(std::string_view sql);
  // Runs a statement that returns one row and returns its first column.
  core::Result<std::int64_t> query_int64(std::string_view sql);
  core::Result<std::string> query_text(std::string_view sql);

  // PRAGMA integrity_check: store_corrupt with the first problems if the file is not sound.
  core::Status check_integrity();

  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;
  bool in_transaction() const;
  const std::filesystem::path& path() const;
  // The path as UTF-8, for messages.
  const std::string& display_path() const;
  // Escape hatch for code that needs a raw SQLite call; the Database still owns the handle.
  sqlite3* handle() const;

  // Builds the error for SQLite result code `rc` from this connection's last failure.
  core::Error error(int rc, std::string_view what) const;

 private:
  friend class Transaction;
  explicit Database(std::unique_ptr<detail::Connection> connection);
  // Prepares `sql` and steps to its first row; a statement that returns none is a bug.
  core::Result<Statement> first_row(std::string_view sql);

  std::unique_ptr<detail::Connection> connection_;
};

// A prepared statement. Parameters are 1-based, columns 0-based, as in SQLite.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  core::Status bind(int index, std::int64_t value);
  core::Status bind(int index, std::string_view value);
  core::Status bind(int index, std::span<const std::uint8_t> value);
  // A device state binds as its storage key: the one place a state becomes SQL text.
  core::Status bind(int index, core::DeviceState state) {
    return bind(index, core::storage_key(state));
  }
  core::Status bind_null(int index);
  template <typename T>
  core::Status bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // Binds every argument in order to parameters 1..N; stops at the first failure.
  template <typename... Args>
  core::Status bind_all(const Args&... args) {
    core::Status status;
    int index = 0;
    (void)((status = bind(++index, args), status.ok()) && ...);
    return status;
  }

  // Advances to the next row: true when a row is available, false when the statement is done.
  core::Result<bool> step();
  // Steps a statement that returns no rows.
  core::Status run();
  // Makes the statement runnable again; bindings are kept.
  core::Status reset();

  bool column_is_null(int column) const;
  std::int64_t column_int64(int column) const;
  std::string column_text(int column) const;
  std::vector<std::uint8_t> column_blob(int column) const;
  std::optional<std::int64_t> column_optional_int64(int column) const;
  std::optional<std::string> column_optional_text(int column) const;
  std::optional<std::vector<std::uint8_t>> column_optional_blob(int column) const;

 private:
  friend class Database;
  Statement(detail::Connection* connection, sqlite3_stmt* statement);
  core::Error error(int rc, std::string_view what) const;
  // Returns the statement to the connection's cache (or finalizes it).
  void release();

  detail::Connection* connection_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
};

enum class TransactionMode {
  // BEGIN: takes locks lazily. Only for read-only work: upgrading it to a write in WAL mode can
  // fail with SQLITE_BUSY without waiting for the busy timeout.
  kDeferred,
  // BEGIN IMMEDIATE: takes the write lock up front (waiting up to the busy timeout), so the
  // transaction cannot fail half-way for lack of a lock. Every write uses this.
  kImmediate,
};

// Rolls back on destruction unless commit() succeeded, so an early error return undoes the work.
class Transaction {
 public:
  static core::Result<Transaction> begin(Database& database, TransactionMode mode);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  core::Status commit();

 private:
  explicit Transaction(detail::Connection* connection) : connection_(connection) {}

  detail::Connection* connection_ = nullptr;  // null once committed or moved from
};

}  // namespace hangar::store
