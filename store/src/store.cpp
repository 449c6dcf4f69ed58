// The device queue store (see store.h): opening and checking the file, and the queue operations.
#include "hangar/store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <system_error>
#include <utility>

#include "hangar/core/hardware_hash.h"
#include "hangar/store/migrations.h"

namespace hangar::store {

namespace {

constexpr std::string_view kDeviceColumns =
    "id, serial, product_id, hardware_hash, manufacturer, model, group_tag, assigned_user, "
    "profile, state, failure_reason, last_error, request_id, source_file, source_line, "
    "partner_registered, import_id, cloud_device_id, attempts, next_attempt_at, "
    "in_flight_since, created_at, updated_at, state_changed_at, import_record_id, "
    "pending_flagged_at, managed_device_id, enrollment_state, last_sync_at, delivered_at, "
    "delivered_to, azure_ad_device_id";

DeviceRow read_device(const Statement& row) {
  DeviceRow device;
  device.id = row.column_int64(0);
  device.serial = row.column_text(1);
  device.product_id = row.column_optional_text(2);
  device.hardware_hash = row.column_optional_blob(3);
  device.manufacturer = row.column_optional_text(4);
  device.model = row.column_optional_text(5);
  device.group_tag = row.column_optional_text(6);
  device.assigned_user = row.column_optional_text(7);
  device.profile = row.column_text(8);
  device.state = row.column_text(9);
  device.failure_reason = row.column_optional_text(10);
  device.last_error = row.column_optional_text(11);
  device.request_id = row.column_optional_text(12);
  device.source_file = row.column_optional_text(13);
  device.source_line = row.column_optional_int64(14);
  device.partner_registered = row.column_int64(15) != 0;
  device.import_id = row.column_optional_text(16);
  device.cloud_device_id = row.column_optional_text(17);
  device.attempts = row.column_int64(18);
  device.next_attempt_at = row.column_optional_int64(19);
  device.in_flight_since = row.column_optional_int64(20);
  device.created_at = row.column_int64(21);
  device.updated_at = row.column_int64(22);
  device.state_changed_at = row.column_int64(23);
  device.import_record_id = row.column_optional_text(24);
  device.pending_flagged_at = row.column_optional_int64(25);
  device.managed_device_id = row.column_optional_text(26);
  device.enrollment_state = row.column_optional_text(27);
  device.last_sync_at = row.column_optional_int64(28);
  device.delivered_at = row.column_optional_int64(29);
  device.delivered_to = row.column_optional_text(30);
  device.azure_ad_device_id = row.column_optional_text(31);
  return device;
}

// The column list with or without the hash bytes (NULL in their place keeps read_device's indexes).
// Every row a device query returns.
core::Result<std::vector<DeviceRow>> read_devices(Statement& query) {
  std::vector<DeviceRow> rows;
  for (;;) {
    auto row = query.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    rows.push_back(read_device(query));
  }
  return rows;
}

std::string device_columns(bool with_hash) {
  std::string columns(kDeviceColumns);
  if (!with_hash) columns.replace(columns.find("hardware_hash"), 13, "NULL");
  return columns;
}

bool same_text_ignoring_case(const std::optional<std::string>& a,
                             const std::optional<std::string>& b) {
  const std::string& x = a ? *a : std::string();
  const std::string& y = b ? *b : std::string();
  return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](char c, char d) {
    return std::tolower(static_cast<unsigned char>(c)) ==
           std::tolower(static_cast<unsigned char>(d));
  });
}

// " from file:line" for messages about a queued device, or "" when its origin is unknown.
std::string origin(const std::optional<std::string>& file,
                   const std::optional<std::int64_t>& line) {
  if (!file || file->empty()) return {};
  return " from " + *file + (line && *line > 0 ? ":" + std::to_string(*line) : std::string());
}

core::Error unknown_state(std::string_view state) {
  std::string known;
  for (auto name : kDeviceStates) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return core::make_error(kErrInvalidArgument, "unknown device state \"" + std::string(state) +
                                                   "\"; use one of " + known);
}

core::Error device_not_found(std::string_view serial) {
  return core::make_error(kErrNotFound, "no device with serial " + std::string(serial) +
                                            " is in the queue; check the serial, or import it "
                                            "first");
}

// Looks up a device's id and state inside the caller's transaction.
struct DeviceKey {
  std::int64_t id = 0;
  std::string state;
};
core::Result<std::optional<DeviceKey>> find_device_key(Database& database,
                                                       std::string_view serial) {
  auto lookup = database.prepare("SELECT id, state FROM devices WHERE serial = ?1");
  if (!lookup) return std::move(lookup).error();
  if (auto status = lookup->bind(1, serial); !status) return std::move(status).error();
  auto row = lookup->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<DeviceKey>();
  return std::optional<DeviceKey>(DeviceKey{lookup->column_int64(0), lookup->column_text(1)});
}

// History ids are the event stream's sequence numbers (changes_since), so they must only grow.
// SQLite gives a new row max(id) + 1, which would hand out again the ids of a removed device's
// history if it held the newest rows: `floor` (Store::history_floor_) is the smallest id still
// allowed, raised by remove_device().
core::Status append_history(Database& database, std::int64_t floor, std::int64_t device_id,
                            std::optional<std::string_view> from_state, std::string_view to_state,
                            std::optional<std::string_view> reason, std::int64_t at) {
  auto insert = database.prepare(
      "INSERT INTO state_history (id, device_id, from_state, to_state, reason, at) "
      "VALUES (max(coalesce((SELECT max(id) FROM state_history), 0) + 1, ?6), ?1, ?2, ?3, ?4, "
      "?5)");
  if (!insert) return std::move(insert).error();
  if (auto status = insert->bind_all(device_id, from_state, to_state, reason, at, floor); !status) {
    return status;
  }
  return insert->run();
}

// Rows written before schema 2 have hashes but no fingerprints; SQL cannot compute them, so this
// does, once (afterwards the query finds nothing and costs one index probe).
core::Status backfill_fingerprints(Database& database) {
  auto transaction = Transaction::begin(database, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  std::vector<std::pair<std::int64_t, std::array<std::uint8_t, 16>>> updates;
  {
    auto missing = database.prepare(
        "SELECT id, hardware_hash FROM devices WHERE hash_fingerprint IS NULL AND "
        "hardware_hash IS NOT NULL AND length(hardware_hash) > 0");
    if (!missing) return std::move(missing).error();
    for (;;) {
      auto row = missing->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      updates.emplace_back(missing->column_int64(0),
                           core::hash_fingerprint(missing->column_blob(1)).bytes());
    }
  }
  for (const auto& [id, fingerprint] : updates) {
    auto update = database.prepare("UPDATE devices SET hash_fingerprint = ?1 WHERE id = ?2");
    if (!update) return std::move(update).error();
    if (auto status = update->bind(1, std::span<const std::uint8_t>(fingerprint)); !status) {
      return status;
    }
    if (auto status = update->bind(2, id); !status) return status;
    if (auto status = update->run(); !status) return status;
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
    case InsertOutcome::kConflict:
      return "conflict";
    case InsertOutcome::kInvalid:
      return "invalid";
  }
  return "invalid";
}

bool is_known_state(std::string_view state) {
  return std::find(kDeviceStates.begin(), kDeviceStates.end(), state) != kDeviceStates.end();
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

core::Result<std::vector<ChangeRow>> Store::changes_since(std::int64_t after_seq,
                                                          std::int64_t limit) const {
  std::lock_guard lock(mutex_);
  auto query = database_.prepare(
      "SELECT h.id, d.serial, h.from_state, h.to_state, h.reason, h.at FROM state_history h "
      "JOIN devices d ON d.id = h.device_id WHERE h.id > ?1 ORDER BY h.id LIMIT ?2");
  if (!query) return std::move(query).error();
  if (auto status = query->bind_all(after_seq, limit); !status) return std::move(status).error();
  std::vector<ChangeRow> rows;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    rows.push_back(ChangeRow{query->column_int64(0), query->column_text(1),
                             query->column_optional_text(2), query->column_text(3),
                             query->column_optional_text(4), query->column_int64(5)});
  }
  return rows;
}

core::Result<std::int64_t> Store::last_change_seq() const {
  std::lock_guard lock(mutex_);
  return database_.query_int64("SELECT coalesce(max(id), 0) FROM state_history");
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

core::Result<std::map<std::string, std::int64_t>> Store::count_by_state() const {
  std::lock_guard lock(mutex_);
  return counts_locked();
}

core::Result<std::map<std::string, std::int64_t>> Store::counts_locked() const {
  // `status` asks for these on every call; they change only when this connection writes (hangard
  // is the only writer), which sqlite3_total_changes64 counts, so the cache cannot go stale.
  const std::int64_t generation = sqlite3_total_changes64(database_.handle());
  if (counts_cache_ && counts_generation_ == generation) return *counts_cache_;
  std::map<std::string, std::int64_t> counts;
  for (auto state : kDeviceStates) counts.emplace(state, 0);
  auto query = database_.prepare("SELECT state, count(*) FROM devices GROUP BY state");
  if (!query) return std::move(query).error();
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    counts[query->column_text(0)] = query->column_int64(1);
  }
  counts_cache_ = counts;
  counts_generation_ = generation;
  return counts;
}

core::Result<std::int64_t> Store::queue_depth() const {
  std::lock_guard lock(mutex_);
  auto counts = counts_locked();
  if (!counts) return std::move(counts).error();
  return (*counts)["queued"] + (*counts)["registration_pending"];
}

core::Status Store::set_meta(std::string_view key, std::string_view value) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  {
    auto upsert = database_.prepare(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!upsert) return std::move(upsert).error();
    if (auto status = upsert->bind_all(key, value); !status) return status;
    if (auto status = upsert->run(); !status) return status;
  }
  return transaction->commit();
}

core::Result<std::optional<std::string>> Store::get_meta(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto query = database_.prepare("SELECT value FROM meta WHERE key = ?1");
  if (!query) return std::move(query).error();
  if (auto status = query->bind(1, key); !status) return std::move(status).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(query->column_text(0));
}

core::Result<std::int64_t> Store::insert_device(const NewDevice& device) {
  auto results = insert_devices(std::span<const NewDevice>(&device, 1));
  if (!results) return std::move(results).error();
  InsertResult& result = results->front();
  switch (result.outcome) {
    case InsertOutcome::kInserted:
      return result.id;
    case InsertOutcome::kInvalid:
      return core::make_error(kErrInvalidArgument, std::move(result.message));
    case InsertOutcome::kAlreadyQueued:
    case InsertOutcome::kConflict:
      break;
  }
  return core::make_error(kErrConflict, std::move(result.message));
}

core::Result<std::vector<InsertResult>> Store::insert_devices(std::span<const NewDevice> devices) {
  std::vector<InsertResult> results;
  results.reserve(devices.size());
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  for (const NewDevice& device : devices) {
    auto result = insert_locked(device);
    if (!result) return std::move(result).error();
    results.push_back(std::move(result).value());
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return results;
}

core::Result<InsertResult> Store::insert_locked(const NewDevice& device) {
  // Checked here, not only by the schema, so the caller gets a message instead of a CHECK name.
  if (device.serial.empty()) {
    return InsertResult{InsertOutcome::kInvalid, 0, "a device needs a serial number"};
  }
  if (!is_known_state(device.state)) {
    return InsertResult{InsertOutcome::kInvalid, 0, unknown_state(device.state).message};
  }
  const bool has_hash = device.hardware_hash && !device.hardware_hash->empty();

  // The same serial: the same device again (idempotent re-import) or a conflict.
  {
    auto existing = database_.prepare(
        "SELECT id, serial, hardware_hash, manufacturer, model, state, source_file, source_line "
        "FROM devices WHERE serial = ?1");
    if (!existing) return std::move(existing).error();
    if (auto status = existing->bind(1, device.serial); !status) return std::move(status).error();
    auto row = existing->step();
    if (!row) return std::move(row).error();
    if (*row) {
      const std::int64_t id = existing->column_int64(0);
      const auto hash = existing->column_optional_blob(2);
      const bool same =
          has_hash
              ? (hash && *hash == *device.hardware_hash)
              : (!hash &&
                 same_text_ignoring_case(existing->column_optional_text(3), device.manufacturer) &&
                 same_text_ignoring_case(existing->column_optional_text(4), device.model));
      const std::string where =
          origin(existing->column_optional_text(6), existing->column_optional_int64(7));
      const std::string state = existing->column_text(5);
      if (same) {
        return InsertResult{
            InsertOutcome::kAlreadyQueued, id,
            "serial " + device.serial + " is already queued" + where + " (state " + state + ")"};
      }
      return InsertResult{
          InsertOutcome::kConflict, id,
          "serial " + existing->column_text(1) + " is already queued" + where + " with " +
              (has_hash ? std::string(hash ? "a different hardware hash" : "no hardware hash")
                        : std::string(hash ? "a hardware hash" : "another manufacturer/model")) +
              " (state " + state + "); if this row is the right one, run `hangar remove " +
              device.serial + "` and import it again"};
    }
  }

  std::optional<std::array<std::uint8_t, 16>> fingerprint;
  if (has_hash) {
    fingerprint = core::hash_fingerprint(*device.hardware_hash).bytes();
    auto twins = database_.prepare(
        "SELECT serial, hardware_hash, source_file, source_line FROM devices "
        "WHERE hash_fingerprint = ?1");
    if (!twins) return std::move(twins).error();
    if (auto status = twins->bind(1, std::span<const std::uint8_t>(*fingerprint)); !status) {
      return std::move(status).error();
    }
    for (;;) {
      auto row = twins->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      if (twins->column_blob(1) == *device.hardware_hash) {
        return InsertResult{
            InsertOutcome::kConflict, 0,
            "the same hardware hash is already queued under serial " + twins->column_text(0) +
                origin(twins->column_optional_text(2), twins->column_optional_int64(3)) +
                "; one hash is one machine, so one of the two serials is wrong (the cloud would "
                "refuse the second with ZtdDeviceDuplicated)"};
      }
    }
  }

  auto insert = database_.prepare(
      "INSERT INTO devices (serial, product_id, hardware_hash, manufacturer, model, group_tag, "
      "assigned_user, profile, state, source_file, source_line, partner_registered, "
      "created_at, updated_at, state_changed_at, hash_fingerprint) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13, ?14)");
  if (!insert) return std::move(insert).error();
  if (auto status = insert->bind_all(
          device.serial, device.product_id, device.hardware_hash, device.manufacturer, device.model,
          device.group_tag, device.assigned_user, device.profile, device.state, device.source_file,
          device.source_line, static_cast<std::int64_t>(device.partner_registered ? 1 : 0),
          device.created_at);
      !status) {
    return std::move(status).error();
  }
  if (auto status = fingerprint ? insert->bind(14, std::span<const std::uint8_t>(*fingerprint))
                                : insert->bind_null(14);
      !status) {
    return std::move(status).error();
  }
  if (auto status = insert->run(); !status) return std::move(status).error();
  const std::int64_t id = database_.last_insert_rowid();
  if (auto status = append_history(database_, history_floor_, id, std::nullopt, device.state,
                                   std::nullopt, device.created_at);
      !status) {
    return std::move(status).error();
  }
  return InsertResult{InsertOutcome::kInserted, id, {}};
}

core::Result<std::vector<DeviceRow>> Store::list_devices(const DeviceFilter& filter) const {
  std::string sql = "SELECT " + device_columns(filter.with_hash) + " FROM devices WHERE id > ?1";
  if (filter.state) sql += " AND state = ?2";
  if (filter.profile) sql += " AND profile = ?3";
  if (filter.changed_since) sql += " AND updated_at >= ?4";
  sql += " ORDER BY id";
  if (filter.limit > 0) sql += " LIMIT ?5";
  std::lock_guard lock(mutex_);
  auto query = database_.prepare(sql);
  if (!query) return std::move(query).error();
  if (auto status = query->bind(1, filter.after_id); !status) return std::move(status).error();
  if (filter.state) {
    if (auto status = query->bind(2, *filter.state); !status) return std::move(status).error();
  }
  if (filter.profile) {
    if (auto status = query->bind(3, *filter.profile); !status) return std::move(status).error();
  }
  if (filter.changed_since) {
    if (auto status = query->bind(4, *filter.changed_since); !status) {
      return std::move(status).error();
    }
  }
  if (filter.limit > 0) {
    if (auto status = query->bind(5, filter.limit); !status) return std::move(status).error();
  }
  return read_devices(*query);
}

core::Result<std::int64_t> Store::count_devices(const DeviceFilter& filter) const {
  std::string sql = "SELECT count(*) FROM devices WHERE 1";
  if (filter.state) sql += " AND state = ?1";
  if (filter.profile) sql += " AND profile = ?2";
  if (filter.changed_since) sql += " AND updated_at >= ?3";
  std::lock_guard lock(mutex_);
  auto query = database_.prepare(sql);
  if (!query) return std::move(query).error();
  if (filter.state) {
    if (auto status = query->bind(1, *filter.state); !status) return std::move(status).error();
  }
  if (filter.profile) {
    if (auto status = query->bind(2, *filter.profile); !status) return std::move(status).error();
  }
  if (filter.changed_since) {
    if (auto status = query->bind(3, *filter.changed_since); !status) {
      return std::move(status).error();
    }
  }
  auto row = query->step();
  if (!row) return std::move(row).error();
  return *row ? query->column_int64(0) : std::int64_t{0};
}

core::Result<DeviceRow> Store::remove_device(std::string_view serial) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  DeviceRow device;
  {
    auto query =
        database_.prepare("SELECT " + device_columns(true) + " FROM devices WHERE serial = ?1");
    if (!query) return std::move(query).error();
    if (auto status = query->bind(1, serial); !status) return std::move(status).error();
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) return device_not_found(serial);
    device = read_device(*query);
  }
  if (device.state == "registration_pending") {
    return core::make_error(
        kErrConflict, "device " + device.serial +
                          " is Registration Pending: the cloud is registering it now, so it "
                          "cannot be removed; wait until it is Ready for user or Registration "
                          "failed, then remove it");
  }
  // Its history goes with it; if that held the newest ids, they must not be handed out again.
  auto newest = database_.query_int64("SELECT coalesce(max(id), 0) FROM state_history");
  if (!newest) return std::move(newest).error();
  const std::int64_t floor = std::max(history_floor_, *newest + 1);
  if (floor != history_floor_) {
    auto meta = database_.prepare(
        "INSERT INTO meta (key, value) VALUES ('history_floor', ?1) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!meta) return std::move(meta).error();
    if (auto status = meta->bind(1, std::to_string(floor)); !status) {
      return std::move(status).error();
    }
    if (auto status = meta->run(); !status) return std::move(status).error();
  }
  {
    auto erase = database_.prepare("DELETE FROM devices WHERE id = ?1");
    if (!erase) return std::move(erase).error();
    if (auto status = erase->bind(1, device.id); !status) return std::move(status).error();
    if (auto status = erase->run(); !status) return std::move(status).error();
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  history_floor_ = floor;
  return device;
}

core::Result<DeviceRow> Store::get_device(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  auto query = database_.prepare("SELECT " + std::string(kDeviceColumns) +
                                 " FROM devices WHERE serial = ?1");
  if (!query) return std::move(query).error();
  if (auto status = query->bind(1, serial); !status) return std::move(status).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  if (!*row) return device_not_found(serial);
  return read_device(*query);
}

core::Status Store::transition(std::string_view serial, std::string_view new_state,
                               std::string_view reason, std::int64_t now_ms) {
  if (!is_known_state(new_state)) return unknown_state(new_state);

  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  auto key = find_device_key(database_, serial);
  if (!key) return std::move(key).error();
  if (!*key) return device_not_found(serial);
  {
    auto update = database_.prepare(
        "UPDATE devices SET state = ?1, state_changed_at = ?2, updated_at = ?2 WHERE id = ?3");
    if (!update) return std::move(update).error();
    if (auto status = update->bind_all(new_state, now_ms, (*key)->id); !status) return status;
    if (auto status = update->run(); !status) return status;
  }
  const std::optional<std::string_view> why =
      reason.empty() ? std::nullopt : std::optional<std::string_view>(reason);
  if (auto status = append_history(database_, history_floor_, (*key)->id,
                                   std::string_view((*key)->state), new_state, why, now_ms);
      !status) {
    return status;
  }
  return transaction->commit();
}

core::Result<std::vector<HistoryRow>> Store::history(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  // A read transaction gives both queries the same snapshot, even if another process writes.
  auto transaction = Transaction::begin(database_, TransactionMode::kDeferred);
  if (!transaction) return std::move(transaction).error();
  auto key = find_device_key(database_, serial);
  if (!key) return std::move(key).error();
  if (!*key) return device_not_found(serial);
  auto query = database_.prepare(
      "SELECT id, device_id, from_state, to_state, reason, at FROM state_history "
      "WHERE device_id = ?1 ORDER BY at, id");
  if (!query) return std::move(query).error();
  if (auto status = query->bind(1, (*key)->id); !status) return std::move(status).error();
  std::vector<HistoryRow> rows;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    rows.push_back(HistoryRow{query->column_int64(0), query->column_int64(1),
                              query->column_optional_text(2), query->column_text(3),
                              query->column_optional_text(4), query->column_int64(5)});
  }
  return rows;
}

core::Status Store::change_device(std::string_view serial,
                                  std::optional<std::string_view> from_state,
                                  std::optional<std::string_view> new_state,
                                  std::string_view reason, std::int64_t now_ms,
                                  const std::string& set_sql,
                                  const std::function<core::Status(Statement&)>& bind) {
  if (new_state && !is_known_state(*new_state)) return unknown_state(*new_state);
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  auto key = find_device_key(database_, serial);
  if (!key) return std::move(key).error();
  if (!*key) return device_not_found(serial);
  if (from_state && (*key)->state != *from_state) {
    return core::make_error(kErrConflict, "device " + std::string(serial) + " is " + (*key)->state +
                                              ", not " + std::string(*from_state));
  }
  std::string sql = "UPDATE devices SET updated_at = ?1";
  if (new_state) sql += ", state = ?3, state_changed_at = ?1";
  if (!set_sql.empty()) sql += ", " + set_sql;
  sql += " WHERE id = ?2";
  {
    auto update = database_.prepare(sql);
    if (!update) return std::move(update).error();
    if (auto status = update->bind(1, now_ms); !status) return status;
    if (auto status = update->bind(2, (*key)->id); !status) return status;
    if (new_state) {
      if (auto status = update->bind(3, *new_state); !status) return status;
    }
    if (bind) {
      if (auto status = bind(*update); !status) return status;
    }
    if (auto status = update->run(); !status) return status;
  }
  if (new_state && *new_state != (*key)->state) {
    const std::optional<std::string_view> why =
        reason.empty() ? std::nullopt : std::optional<std::string_view>(reason);
    if (auto status = append_history(database_, history_floor_, (*key)->id,
                                     std::string_view((*key)->state), *new_state, why, now_ms);
        !status) {
      return status;
    }
  }
  return transaction->commit();
}

core::Result<std::vector<DeviceRow>> Store::claim_upload_batch(std::int64_t now_ms,
                                                               std::int64_t limit) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  std::vector<DeviceRow> rows;
  {
    auto query = database_.prepare(
        "SELECT " + device_columns(true) +
        " FROM devices WHERE state = 'queued' AND in_flight_since IS NULL AND "
        "(next_attempt_at IS NULL OR next_attempt_at <= ?1) ORDER BY id LIMIT ?2");
    if (!query) return std::move(query).error();
    if (auto status = query->bind_all(now_ms, limit); !status) return std::move(status).error();
    auto read = read_devices(*query);
    if (!read) return std::move(read).error();
    rows = std::move(read).value();
  }
  for (auto& row : rows) {
    auto mark = database_.prepare("UPDATE devices SET in_flight_since = ?1 WHERE id = ?2");
    if (!mark) return std::move(mark).error();
    if (auto status = mark->bind_all(now_ms, row.id); !status) return std::move(status).error();
    if (auto status = mark->run(); !status) return std::move(status).error();
    row.in_flight_since = now_ms;
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return rows;
}

core::Result<std::vector<DeviceRow>> Store::in_doubt_devices() const {
  std::lock_guard lock(mutex_);
  auto query = database_.prepare("SELECT " + device_columns(true) +
                                 " FROM devices WHERE state = 'queued' AND in_flight_since IS "
                                 "NOT NULL ORDER BY id");
  if (!query) return std::move(query).error();
  return read_devices(*query);
}

core::Status Store::release_upload(std::string_view serial,
                                   std::optional<std::int64_t> next_attempt_at, bool count_attempt,
                                   std::string_view last_error, std::int64_t now_ms) {
  return change_device(
      serial, "queued", std::nullopt, {}, now_ms,
      std::string("in_flight_since = NULL, next_attempt_at = ?10, last_error = ?11") +
          (count_attempt ? ", attempts = attempts + 1" : ""),
      [&](Statement& update) -> core::Status {
        if (auto status = update.bind(10, next_attempt_at); !status) return status;
        return last_error.empty() ? update.bind_null(11) : update.bind(11, last_error);
      });
}

core::Status Store::mark_uploaded(std::string_view serial, std::string_view record_id,
                                  std::string_view import_id, std::int64_t now_ms) {
  return change_device(serial, "queued", "registration_pending",
                       "uploaded (import " + std::string(import_id) + ")", now_ms,
                       "in_flight_since = NULL, next_attempt_at = NULL, import_record_id = ?10, "
                       "import_id = ?11, attempts = attempts + 1, last_error = NULL",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, record_id); !status) return status;
                         return update.bind(11, import_id);
                       });
}

core::Result<std::vector<std::string>> Store::mark_uploaded_all(std::span<const Uploaded> devices,
                                                                std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  std::vector<std::string> skipped;
  for (const Uploaded& device : devices) {
    auto key = find_device_key(database_, device.serial);
    if (!key) return std::move(key).error();
    if (!*key || (*key)->state != "queued") {
      skipped.push_back(device.serial);
      continue;
    }
    auto update = database_.prepare(
        "UPDATE devices SET updated_at = ?1, state = 'registration_pending', state_changed_at = "
        "?1, in_flight_since = NULL, next_attempt_at = NULL, import_record_id = ?3, import_id = "
        "?4, attempts = attempts + 1, last_error = NULL WHERE id = ?2");
    if (!update) return std::move(update).error();
    if (auto status = update->bind_all(now_ms, (*key)->id, device.record_id, device.import_id);
        !status) {
      return std::move(status).error();
    }
    if (auto status = update->run(); !status) return std::move(status).error();
    const std::string reason = "uploaded (import " + device.import_id + ")";
    if (auto status =
            append_history(database_, history_floor_, (*key)->id, std::string_view("queued"),
                           "registration_pending", reason, now_ms);
        !status) {
      return std::move(status).error();
    }
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return skipped;
}

core::Result<std::vector<DeviceRow>> Store::pending_devices() const {
  DeviceFilter filter;
  filter.state = "registration_pending";
  return list_devices(filter);
}

core::Result<std::vector<std::string>> Store::serials() const {
  std::lock_guard lock(mutex_);
  auto query = database_.prepare("SELECT lower(serial) FROM devices");
  if (!query) return std::move(query).error();
  std::vector<std::string> out;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(query->column_text(0));
  }
  return out;
}

core::Result<std::vector<DeviceRow>> Store::tracked_devices() const {
  std::lock_guard lock(mutex_);
  auto query = database_.prepare("SELECT " + device_columns(false) +
                                 " FROM devices WHERE state IN ('ready_for_user', 'active', "
                                 "'inactive') ORDER BY id");
  if (!query) return std::move(query).error();
  return read_devices(*query);
}

core::Result<std::int64_t> Store::apply_activity(std::span<const ActivityUpdate> updates,
                                                 std::int64_t now_ms) {
  if (updates.empty()) return std::int64_t{0};
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  std::int64_t written = 0;
  for (const ActivityUpdate& update : updates) {
    if (update.new_state && !is_known_state(*update.new_state)) {
      return unknown_state(*update.new_state);
    }
    std::optional<std::string> old_state;
    if (update.new_state) {
      auto current = database_.prepare("SELECT state FROM devices WHERE id = ?1");
      if (!current) return std::move(current).error();
      if (auto status = current->bind(1, update.id); !status) return std::move(status).error();
      auto row = current->step();
      if (!row) return std::move(row).error();
      if (!*row) continue;  // removed meanwhile
      old_state = current->column_text(0);
    }
    const bool state_changes = update.new_state && *update.new_state != *old_state;
    auto statement = database_.prepare(
        std::string("UPDATE devices SET updated_at = ?1, cloud_device_id = ?3, "
                    "managed_device_id = ?4, enrollment_state = ?5, last_sync_at = ?6, "
                    "azure_ad_device_id = ?8") +
        (state_changes ? ", state = ?7, state_changed_at = ?1" : "") + " WHERE id = ?2");
    if (!statement) return std::move(statement).error();
    if (auto status =
            statement->bind_all(now_ms, update.id, update.cloud_device_id, update.managed_device_id,
                                update.enrollment_state, update.last_sync_at);
        !status) {
      return std::move(status).error();
    }
    if (state_changes) {
      if (auto status = statement->bind(7, *update.new_state); !status) {
        return std::move(status).error();
      }
    }
    if (auto status = statement->bind(8, update.azure_ad_device_id); !status) {
      return std::move(status).error();
    }
    if (auto status = statement->run(); !status) return std::move(status).error();
    if (state_changes) {
      const std::optional<std::string_view> why =
          update.reason.empty() ? std::nullopt : std::optional<std::string_view>(update.reason);
      if (auto status =
              append_history(database_, history_floor_, update.id, std::string_view(*old_state),
                             *update.new_state, why, now_ms);
          !status) {
        return std::move(status).error();
      }
    }
    ++written;
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return written;
}

core::Status Store::record_group_correction(const GroupCorrection& correction) {
  std::lock_guard lock(mutex_);
  auto insert = database_.prepare(
      "INSERT INTO group_corrections (device_id, at, action, group_id, profile, reason) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return std::move(insert).error();
  const std::optional<std::string> reason =
      correction.reason.empty() ? std::nullopt : std::optional<std::string>(correction.reason);
  if (auto status = insert->bind_all(correction.device_id, correction.at, correction.action,
                                     correction.group_id, correction.profile, reason);
      !status) {
    return status;
  }
  return insert->run();
}

core::Result<std::vector<GroupCorrection>> Store::group_corrections(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  auto key = find_device_key(database_, serial);
  if (!key) return std::move(key).error();
  if (!*key) return device_not_found(serial);
  auto query = database_.prepare(
      "SELECT device_id, at, action, group_id, profile, reason FROM group_corrections "
      "WHERE device_id = ?1 ORDER BY at, id");
  if (!query) return std::move(query).error();
  if (auto status = query->bind(1, (*key)->id); !status) return std::move(status).error();
  std::vector<GroupCorrection> rows;
  for (;;) {
    auto row = query->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    rows.push_back(GroupCorrection{
        query->column_int64(0), query->column_int64(1), query->column_text(2),
        query->column_text(3), query->column_text(4), query->column_optional_text(5).value_or("")});
  }
  return rows;
}

core::Status Store::record_delivery(std::string_view serial, std::string_view user,
                                    std::int64_t now_ms) {
  return change_device(serial, std::nullopt, std::nullopt, {}, now_ms,
                       "delivered_at = ?10, delivered_to = ?11, assigned_user = ?11",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, now_ms); !status) return status;
                         return update.bind(11, user);
                       });
}

core::Status Store::mark_registered(std::string_view serial, std::string_view cloud_device_id,
                                    std::int64_t now_ms) {
  return change_device(serial, "registration_pending", std::nullopt, {}, now_ms,
                       "cloud_device_id = ?10, import_record_id = NULL, last_error = NULL",
                       [&](Statement& update) { return update.bind(10, cloud_device_id); });
}

core::Status Store::note_problem(std::string_view serial, std::string_view problem,
                                 std::int64_t now_ms) {
  return change_device(serial, std::nullopt, std::nullopt, {}, now_ms, "last_error = ?10",
                       [&](Statement& update) { return update.bind(10, problem); });
}

core::Status Store::finish_registration(std::string_view serial, std::string_view state,
                                        std::optional<std::string> failure_reason,
                                        std::optional<std::string> detail,
                                        std::optional<std::string> request_id,
                                        std::string_view history_reason, std::int64_t now_ms) {
  // From Queued too: a device the cloud refuses at upload never reaches Registration Pending.
  return change_device(
      serial, std::nullopt, state, history_reason, now_ms,
      "in_flight_since = NULL, failure_reason = ?10, last_error = ?11, request_id = ?12, "
      "next_attempt_at = NULL, pending_flagged_at = NULL",
      [&](Statement& update) -> core::Status {
        if (auto status = update.bind(10, failure_reason); !status) return status;
        if (auto status = update.bind(11, detail); !status) return status;
        return update.bind(12, request_id);
      });
}

core::Status Store::requeue(std::string_view serial, std::int64_t next_attempt_at,
                            std::string_view reason, std::int64_t now_ms) {
  return change_device(serial, "registration_pending", "queued", reason, now_ms,
                       "import_id = NULL, import_record_id = NULL, in_flight_since = NULL, "
                       "next_attempt_at = ?10, last_error = ?11, pending_flagged_at = NULL",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, next_attempt_at); !status) {
                           return status;
                         }
                         return update.bind(11, reason);
                       });
}

core::Status Store::flag_long_pending(std::string_view serial, std::int64_t now_ms) {
  return change_device(serial, "registration_pending", std::nullopt, {}, now_ms,
                       "pending_flagged_at = ?10",
                       [&](Statement& update) { return update.bind(10, now_ms); });
}

core::Result<std::int64_t> Store::retry_failed(std::optional<std::string> serial,
                                               std::int64_t now_ms) {
  std::vector<std::string> serials;
  if (serial) {
    serials.push_back(*serial);
  } else {
    DeviceFilter filter;
    filter.state = "registration_failed";
    auto rows = list_devices(filter);
    if (!rows) return std::move(rows).error();
    for (const auto& row : *rows) serials.push_back(row.serial);
  }
  std::int64_t count = 0;
  for (const auto& s : serials) {
    auto status = change_device(
        s, "registration_failed", "queued", "retry requested", now_ms,
        "failure_reason = NULL, last_error = NULL, request_id = NULL, import_id = NULL, "
        "import_record_id = NULL, in_flight_since = NULL, next_attempt_at = NULL, attempts = 0",
        nullptr);
    if (!status) return std::move(status).error();
    ++count;
  }
  return count;
}

core::Result<std::optional<std::int64_t>> Store::next_attempt_at() const {
  std::lock_guard lock(mutex_);
  // `status` asks on every call; cached like the counts (see counts_locked).
  const std::int64_t generation = sqlite3_total_changes64(database_.handle());
  if (next_attempt_cache_ && next_attempt_generation_ == generation) return *next_attempt_cache_;
  auto query = database_.prepare(
      "SELECT min(next_attempt_at) FROM devices WHERE state = 'queued' AND "
      "next_attempt_at IS NOT NULL");
  if (!query) return std::move(query).error();
  auto row = query->step();
  if (!row) return std::move(row).error();
  std::optional<std::int64_t> next;
  if (*row) next = query->column_optional_int64(0);
  next_attempt_cache_ = next;
  next_attempt_generation_ = generation;
  return next;
}

}  // namespace hangar::store
