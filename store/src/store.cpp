// The device queue store (see store.h): opening and checking the file, its settings, the counts
// and the meta table. The devices, the upload queue and the history are in store_devices.cpp,
// store_queue.cpp and store_history.cpp.
#include <sqlite3.h>

#include <system_error>
#include <utility>

#include "hangar/core/hardware_hash.h"
#include "hangar/store/migrations.h"
#include "store_rows.h"

namespace hangar::store {

using namespace detail;

namespace {

// Rows written before schema 2 have hashes but no fingerprints; SQL cannot compute them, so this
// does, once (afterwards the query finds nothing and costs one index probe).
core::Status backfill_fingerprints(Database& database) {
  auto transaction = Transaction::begin(database, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  auto updates =
      query_all(database,
                "SELECT id, hardware_hash FROM devices WHERE hash_fingerprint IS NULL AND "
                "hardware_hash IS NOT NULL AND length(hardware_hash) > 0",
                [](const Statement& row) {
                  return std::make_pair(row.column_int64(0),
                                        core::hash_fingerprint(row.column_blob(1)).bytes());
                });
  if (!updates) return std::move(updates).error();
  for (const auto& [id, fingerprint] : *updates) {
    if (auto status = execute(database, "UPDATE devices SET hash_fingerprint = ?1 WHERE id = ?2",
                              std::span<const std::uint8_t>(fingerprint), id);
        !status) {
      return status;
    }
  }
  return transaction->commit();
}

// Everything Store::open does between opening the file and handing out the Store.
core::Result<std::int64_t> prepare_file(Database& database, const StoreOptions& options) {
  // foreign_keys is per connection and off by default; it costs no I/O, so set it first.
  if (auto status = database.exec("PRAGMA foreign_keys = ON"); !status) {
    return std::move(status).error();
  }
  // Check before writing anything (switching to WAL writes the header): a damaged file must be
  // left exactly as it was for whoever restores or inspects it. A file that is not a database at
  // all fails here too, with SQLITE_NOTADB, which maps to store_corrupt.
  if (auto status = database.check_integrity(); !status) return std::move(status).error();

  auto application_id = database.query_int64("PRAGMA application_id");
  if (!application_id) return std::move(application_id).error();
  auto version = read_schema_version(database);
  if (!version) return std::move(version).error();
  if (*application_id != 0 && *application_id != kApplicationId) {
    return core::make_error(kErrOpenFailed,
                            "database file " + database.display_path() +
                                " belongs to another program (application id " +
                                std::to_string(*application_id) +
                                "); point Hangar at its own data file or move this one aside");
  }
  if (*version == 0) {
    // Version 0 with tables in it is someone else's database that never set application_id;
    // migration 1 would otherwise mix Hangar's tables into it.
    auto objects = database.query_int64("SELECT count(*) FROM sqlite_master");
    if (!objects) return std::move(objects).error();
    if (*objects != 0) {
      return core::make_error(kErrOpenFailed,
                              "database file " + database.display_path() +
                                  " already holds tables that Hangar did not create; point "
                                  "Hangar at its own data file or move this one aside");
    }
  }
  // Refuse a newer file before anything below writes to it.
  if (auto status = check_schema_known(database); !status) return std::move(status).error();

  // WAL lets readers (the CLI, support tools) work while the service writes, and survives a
  // crash without a hot journal. It needs shared memory, so it fails on network shares.
  auto journal_mode = database.query_text("PRAGMA journal_mode = WAL");
  if (!journal_mode) return std::move(journal_mode).error();
  if (*journal_mode != "wal") {
    return core::make_error(kErrOpenFailed,
                            "could not switch database file " + database.display_path() +
                                " to write-ahead logging (journal mode stayed \"" + *journal_mode +
                                "\"); keep the data directory on a local disk, not a network "
                                "share");
  }
  // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file, and
  // commits do not wait for an fsync each.
  if (auto status = database.exec("PRAGMA synchronous = NORMAL"); !status) {
    return std::move(status).error();
  }

  const std::int64_t target = options.max_schema_version.value_or(latest_schema_version());
  if (auto status = migrate_to(database, target); !status) return std::move(status).error();
  auto migrated = read_schema_version(database);
  if (!migrated) return migrated;
  if (*migrated >= 2) {
    if (auto status = backfill_fingerprints(database); !status) return std::move(status).error();
  }
  return migrated;
}

}  // namespace

std::string_view outcome_name(InsertOutcome outcome) {
  switch (outcome) {
    case InsertOutcome::kInserted:
      return "accepted";
    case InsertOutcome::kAlreadyQueued:
      return "already_queued";
    case InsertOutcome::kUpdated:
      return "updated";
    case InsertOutcome::kRegistrationFailed:
      return "registration_failed";
    case InsertOutcome::kConflict:
      return "conflict";
    case InsertOutcome::kInvalid:
      return "invalid";
  }
  return "invalid";
}

Store::Store(Database database, std::int64_t schema_version)
    : database_(std::move(database)), schema_version_(schema_version) {}

Store::~Store() = default;

core::Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path,
                                                 const StoreOptions& options) {
  const auto parent = path.parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return core::make_error(kErrOpenFailed, "cannot create directory " + path_to_utf8(parent) +
                                                  " for database file " + path_to_utf8(path) +
                                                  ": " + ec.message() +
                                                  "; check the path and the service account's "
                                                  "permissions on it");
    }
  }
  auto database = Database::open(path, DatabaseOptions{options.busy_timeout});
  if (!database) return std::move(database).error();
  auto version = prepare_file(*database, options);
  if (!version) return std::move(version).error();
  std::unique_ptr<Store> store(new Store(std::move(database).value(), *version));
  if (*version < 1) return store;  // a test hook's bare file: no meta table yet
  auto floor = store->get_meta("history_floor");
  if (!floor) return std::move(floor).error();
  if (*floor) {
    try {
      store->history_floor_ = std::stoll(**floor);
    } catch (const std::exception&) {
      return core::make_error(kErrCorrupt, "meta value history_floor \"" + **floor + "\" in " +
                                               path.string() + " is not a number");
    }
  }
  return store;
}

const std::filesystem::path& Store::path() const { return database_.path(); }

std::int64_t Store::schema_version() const { return schema_version_; }

core::Result<ConnectionSettings> Store::connection_settings() const {
  std::lock_guard lock(mutex_);
  ConnectionSettings settings;
  auto journal_mode = database_.query_text("PRAGMA journal_mode");
  if (!journal_mode) return std::move(journal_mode).error();
  settings.journal_mode = *journal_mode;
  auto synchronous = database_.query_int64("PRAGMA synchronous");
  if (!synchronous) return std::move(synchronous).error();
  settings.synchronous = *synchronous;
  auto foreign_keys = database_.query_int64("PRAGMA foreign_keys");
  if (!foreign_keys) return std::move(foreign_keys).error();
  settings.foreign_keys = *foreign_keys != 0;
  auto busy_timeout = database_.query_int64("PRAGMA busy_timeout");
  if (!busy_timeout) return std::move(busy_timeout).error();
  settings.busy_timeout_ms = *busy_timeout;
  return settings;
}

core::Result<std::int64_t> Store::device_count() const {
  std::lock_guard lock(mutex_);
  return database_.query_int64("SELECT count(*) FROM devices");
}

core::Result<std::map<core::DeviceState, std::int64_t>> Store::count_by_state() const {
  std::lock_guard lock(mutex_);
  return counts_locked();
}

core::Result<std::map<core::DeviceState, std::int64_t>> Store::counts_locked() const {
  // `status` asks for these on every call; they change only when this connection writes (hangard
  // is the only writer), which sqlite3_total_changes64 counts, so the cache cannot go stale.
  const std::int64_t generation = sqlite3_total_changes64(database_.handle());
  if (counts_cache_ && counts_generation_ == generation) return *counts_cache_;
  std::map<core::DeviceState, std::int64_t> counts;
  for (const core::DeviceState state : core::kDeviceStates) counts.emplace(state, 0);
  RowReader reader;
  auto status =
      reader.check(run_statement(database_, "SELECT state, count(*) FROM devices GROUP BY state",
                                 nullptr, [&](const Statement& row) {
                                   counts[reader.state(row, 0)] = row.column_int64(1);
                                   return true;
                                 }));
  if (!status) return std::move(status).error();
  counts_cache_ = counts;
  counts_generation_ = generation;
  return counts;
}

core::Result<std::int64_t> Store::queue_depth() const {
  std::lock_guard lock(mutex_);
  auto counts = counts_locked();
  if (!counts) return std::move(counts).error();
  return (*counts)[core::DeviceState::kQueued] + (*counts)[core::DeviceState::kRegistrationPending];
}

core::Status Store::set_meta(std::string_view key, std::string_view value) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  if (auto status = execute(database_,
                            "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            key, value);
      !status) {
    return status;
  }
  return transaction->commit();
}

core::Status Store::erase_meta(std::string_view key) {
  std::lock_guard lock(mutex_);
  return execute(database_, "DELETE FROM meta WHERE key = ?1", key);
}

core::Result<std::optional<std::string>> Store::get_meta(std::string_view key) const {
  std::lock_guard lock(mutex_);
  return query_one(database_, "SELECT value FROM meta WHERE key = ?1", column_text_0, key);
}

}  // namespace hangar::store
