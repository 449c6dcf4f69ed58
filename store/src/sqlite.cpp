// The SQLite RAII layer (see sqlite.h) and the mapping from SQLite result codes to store errors.
#include "hangar/store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include "hangar/store/errors.h"

namespace hangar::store {

namespace detail {

// Lives on the heap so Statement and Transaction can point at it while the Database moves.
struct Connection {
  sqlite3* db = nullptr;
  std::filesystem::path path;
  std::string display_path;
  // Idle prepared statements by SQL text. Preparing costs more than running the small queries the
  // service makes on every request, so statements go back here instead of being finalized.
  std::unordered_map<std::string, sqlite3_stmt*> idle_statements;

  ~Connection() {
    for (auto& [sql, statement] : idle_statements) sqlite3_finalize(statement);
    // close_v2 defers the close until outstanding statements are finalized instead of failing.
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

}  // namespace detail

namespace {

// What the operator should do, by kind of failure. Kept next to the mapping so every code gets
// the same advice wherever it is raised.
constexpr std::string_view kCorruptAdvice =
    "restore it from backup or move it aside to start an empty queue";

// Statement text is useful in a bug report but noisy in a message: keep its first line, capped.
std::string short_sql(std::string_view sql) {
  auto first = sql.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  sql.remove_prefix(first);
  sql = sql.substr(0, std::min(sql.find('\n'), std::size_t{60}));
  return std::string(sql);
}

core::Error make_sqlite_error(sqlite3* db, const std::string& file, int rc, std::string_view what) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string context = std::string(what) + " on database file " + file;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return core::make_error(kErrBusy, "database file " + file +
                                            " stayed locked by another connection for longer "
                                            "than the busy timeout (" +
                                            std::string(what) + ": " + detail +
                                            "); close other programs using it (a second Hangar "
                                            "service, a SQLite browser) and retry");
    case SQLITE_CORRUPT:
      return core::make_error(kErrCorrupt, "database file " + file + " is corrupt (" +
                                               std::string(what) + ": " + detail + "); " +
                                               std::string(kCorruptAdvice));
    case SQLITE_NOTADB:
      return core::make_error(kErrCorrupt, "file " + file +
                                               " is not a SQLite database or its header is "
                                               "damaged (" +
                                               detail + "); " + std::string(kCorruptAdvice));
    case SQLITE_CONSTRAINT:
      return core::make_error(kErrConstraint, context + " broke a schema rule: " + detail);
    case SQLITE_FULL:
      return core::make_error(
          kErrIo, context + " failed: " + detail + "; free disk space on that drive and retry");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH:
      return core::make_error(kErrIo, context + " failed: " + detail +
                                          "; check that the service account can write to the "
                                          "file and its directory");
    case SQLITE_IOERR:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
      return core::make_error(kErrIo, context + " failed with an I/O error: " + detail +
                                          "; check that the disk is healthy and local (not a "
                                          "network share)");
    default:
      return core::make_error(kErrInternal, context + " failed: " + detail + " (SQLite code " +
                                                std::to_string(rc) +
                                                "); this is a bug in Hangar, please report it "
                                                "with this message");
  }
}

core::Status exec_on(detail::Connection& connection, std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
  const int rc = sqlite3_exec(connection.db, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return make_sqlite_error(connection.db, connection.display_path, rc,
                             "running \"" + short_sql(sql) + "\"");
  }
  return {};
}

int to_sqlite_length(std::size_t size) {
  return static_cast<int>(
      std::min<std::size_t>(size, static_cast<std::size_t>(std::numeric_limits<int>::max())));
}

}  // namespace

std::string path_to_utf8(const std::filesystem::path& path) {
  const std::u8string utf8 = path.u8string();
  return std::string(reinterpret_cast<const char*>(utf8.data()), utf8.size());
}

// ---- Database ----------------------------------------------------------------------------------

Database::Database(std::unique_ptr<detail::Connection> connection)
    : connection_(std::move(connection)) {}
Database::Database(Database&& other) noexcept = default;
Database& Database::operator=(Database&& other) noexcept = default;
Database::~Database() = default;

core::Result<Database> Database::open(const std::filesystem::path& path,
                                      const DatabaseOptions& options) {
  auto connection = std::make_unique<detail::Connection>();
  connection->path = path;
  connection->display_path = path_to_utf8(path);
  // SQLite wants UTF-8 file names on every platform, including Windows.
  const int rc = sqlite3_open_v2(connection->display_path.c_str(), &connection->db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string detail =
        connection->db != nullptr ? sqlite3_errmsg(connection->db) : sqlite3_errstr(rc);
    return core::make_error(
        kErrOpenFailed, "cannot open database file " + connection->display_path + ": " + detail +
                            "; check that the path is a file (not a directory) and that the "
                            "service account can write to its directory");
  }
  // Extended codes tell SQLITE_CONSTRAINT_UNIQUE apart from other constraint failures.
  sqlite3_extended_result_codes(connection->db, 1);
  const auto timeout_ms = std::clamp<std::chrono::milliseconds::rep>(
      options.busy_timeout.count(), 0, std::numeric_limits<int>::max());
  sqlite3_busy_timeout(connection->db, static_cast<int>(timeout_ms));
  return Database(std::move(connection));
}

core::Status Database::exec(std::string_view sql) { return exec_on(*connection_, sql); }

core::Result<Statement> Database::prepare(std::string_view sql) {
  auto& idle = connection_->idle_statements;
  if (auto it = idle.find(std::string(sql)); it != idle.end()) {
    sqlite3_stmt* cached = it->second;
    idle.erase(it);
    return Statement(connection_.get(), cached);
  }
  sqlite3_stmt* statement = nullptr;
  const int rc = sqlite3_prepare_v2(connection_->db, sql.data(), to_sqlite_length(sql.size()),
                                    &statement, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(statement);
    return error(rc, "preparing \"" + short_sql(sql) + "\"");
  }
  return Statement(connection_.get(), statement);
}

core::Result<Statement> Database::first_row(std::string_view sql) {
  auto statement = prepare(sql);
  if (!statement) return std::move(statement).error();
  auto row = statement->step();
  if (!row) return std::move(row).error();
  if (!*row) {
    return core::make_error(kErrInternal, "\"" + short_sql(sql) + "\" returned no row on " +
                                              connection_->display_path +
                                              "; this is a bug in Hangar, please report it");
  }
  return statement;
}

core::Result<std::int64_t> Database::query_int64(std::string_view sql) {
  auto statement = first_row(sql);
  if (!statement) return std::move(statement).error();
  return statement->column_int64(0);
}

core::Result<std::string> Database::query_text(std::string_view sql) {
  auto statement = first_row(sql);
  if (!statement) return std::move(statement).error();
  return statement->column_text(0);
}

core::Status Database::check_integrity() {
  // integrity_check rather than quick_check: it also verifies that every index matches its table,
  // and a damaged UNIQUE(serial) index would silently let a device be queued twice. The queue
  // holds thousands of rows at most, so the full check costs milliseconds.
  const auto failed = [this](std::string problems) {
    return core::make_error(kErrCorrupt, "database file " + connection_->display_path +
                                             " failed integrity check: " + problems + "; " +
                                             std::string(kCorruptAdvice));
  };
  // Damage can be bad enough that the check itself stops with SQLITE_CORRUPT instead of listing
  // problems; report that the same way. SQLITE_NOTADB keeps its own, clearer message.
  const auto stopped = [&](core::Error error) {
    if ((sqlite3_errcode(connection_->db) & 0xff) == SQLITE_CORRUPT) {
      return failed(sqlite3_errmsg(connection_->db));
    }
    return error;
  };
  auto statement = prepare("PRAGMA integrity_check");
  if (!statement) return stopped(std::move(statement).error());
  std::vector<std::string> problems;
  std::size_t total = 0;
  for (;;) {
    auto row = statement->step();
    if (!row) return stopped(std::move(row).error());
    if (!*row) break;
    std::string line = statement->column_text(0);
    if (line == "ok") continue;
    ++total;
    if (problems.size() < 3) problems.push_back(std::move(line));
  }
  if (total == 0) return {};
  std::string joined;
  for (const auto& problem : problems) {
    if (!joined.empty()) joined += "; ";
    joined += problem;
  }
  if (total > problems.size()) {
    joined += " (and " + std::to_string(total - problems.size()) + " more)";
  }
  return failed(std::move(joined));
}

std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(connection_->db);
}

std::int64_t Database::changes() const { return sqlite3_changes64(connection_->db); }

bool Database::in_transaction() const { return sqlite3_get_autocommit(connection_->db) == 0; }

const std::filesystem::path& Database::path() const { return connection_->path; }

const std::string& Database::display_path() const { return connection_->display_path; }

sqlite3* Database::handle() const { return connection_->db; }

core::Error Database::error(int rc, std::string_view what) const {
  return make_sqlite_error(connection_->db, connection_->display_path, rc, what);
}

// ---- Statement ---------------------------------------------------------------------------------

Statement::Statement(detail::Connection* connection, sqlite3_stmt* statement)
    : connection_(connection), statement_(statement) {}

Statement::Statement(Statement&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)),
      statement_(std::exchange(other.statement_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    connection_ = std::exchange(other.connection_, nullptr);
    statement_ = std::exchange(other.statement_, nullptr);
  }
  return *this;
}

Statement::~Statement() { release(); }

void Statement::release() {
  if (statement_ == nullptr) return;
  // Reset and unbind so a later user of the cached statement starts clean; a second live copy of
  // the same SQL (rare: nested use) is simply finalized.
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
  const char* sql = sqlite3_sql(statement_);
  if (connection_ != nullptr && sql != nullptr &&
      connection_->idle_statements.emplace(sql, statement_).second) {
    statement_ = nullptr;
    return;
  }
  sqlite3_finalize(statement_);
  statement_ = nullptr;
}

core::Error Statement::error(int rc, std::string_view what) const {
  const char* sql = sqlite3_sql(statement_);
  return make_sqlite_error(connection_->db, connection_->display_path, rc,
                           std::string(what) + " \"" + short_sql(sql ? sql : "") + "\"");
}

core::Status Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(statement_, index, value);
  if (rc != SQLITE_OK) return error(rc, "binding parameter " + std::to_string(index) + " of");
  return {};
}

core::Status Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT copies the text, so callers may pass temporaries. A null data pointer (a
  // default-constructed string_view) would bind SQL NULL instead of an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc =
      sqlite3_bind_text64(statement_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) return error(rc, "binding parameter " + std::to_string(index) + " of");
  return {};
}

core::Status Statement::bind(int index, std::span<const std::uint8_t> value) {
  // A null data pointer would bind SQL NULL; an empty hash must stay an empty BLOB.
  const int rc = value.empty() ? sqlite3_bind_zeroblob(statement_, index, 0)
                               : sqlite3_bind_blob64(statement_, index, value.data(), value.size(),
                                                     SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return error(rc, "binding parameter " + std::to_string(index) + " of");
  return {};
}

core::Status Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(statement_, index);
  if (rc != SQLITE_OK) return error(rc, "binding parameter " + std::to_string(index) + " of");
  return {};
}

core::Result<bool> Statement::step() {
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Reset now so a failed statement does not keep its read snapshot open.
  sqlite3_reset(statement_);
  return error(rc, "running");
}

core::Status Statement::run() {
  auto row = step();
  if (!row) return std::move(row).error();
  if (*row) {
    sqlite3_reset(statement_);
    const char* sql = sqlite3_sql(statement_);
    return core::make_error(kErrInternal, "statement \"" + short_sql(sql ? sql : "") +
                                              "\" returned rows where none were expected on " +
                                              connection_->display_path +
                                              "; this is a bug in Hangar, please report it");
  }
  return {};
}

core::Status Statement::reset() {
  const int rc = sqlite3_reset(statement_);
  if (rc != SQLITE_OK) return error(rc, "resetting");
  return {};
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(statement_, column);
  // column_bytes must come after column_text: it reports the size of the converted value.
  const int size = sqlite3_column_bytes(statement_, column);
  if (text == nullptr || size <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> Statement::column_blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement_, column));
  const int size = sqlite3_column_bytes(statement_, column);
  if (data == nullptr || size <= 0) return {};
  return std::vector<std::uint8_t>(data, data + size);
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_int64(column);
}

std::optional<std::string> Statement::column_optional_text(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_text(column);
}

std::optional<std::vector<std::uint8_t>> Statement::column_optional_blob(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_blob(column);
}

// ---- Transaction -------------------------------------------------------------------------------

core::Result<Transaction> Transaction::begin(Database& database, TransactionMode mode) {
  auto status =
      database.exec(mode == TransactionMode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!status) return std::move(status).error();
  // Database's connection state is heap-allocated and outlives moves of the Database.
  return Transaction(database.connection_.get());
}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Transaction::~Transaction() {
  // SQLite already rolled back by itself after some errors (SQLITE_FULL, SQLITE_IOERR): only
  // roll back when a transaction is still open, and ignore the result since nothing can be done.
  if (connection_ != nullptr && sqlite3_get_autocommit(connection_->db) == 0) {
    sqlite3_exec(connection_->db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

core::Status Transaction::commit() {
  if (connection_ == nullptr) {
    return core::make_error(kErrInternal,
                            "commit called on a finished transaction; this is a bug in Hangar");
  }
  auto status = exec_on(*connection_, "COMMIT");
  // On failure the transaction is still open and the destructor rolls it back.
  if (!status) return status;
  connection_ = nullptr;
  return {};
}

}  // namespace hangar::store
