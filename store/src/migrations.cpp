// The schema's forward migrations and the runner that applies them (see migrations.h).
#include "hangar/store/migrations.h"

#include <array>
#include <string>

#include "hangar/store/errors.h"

namespace hangar::store {

namespace {

// Serials are unique without regard to ASCII case (COLLATE NOCASE): a device's serial reaches us
// from several hands (OEM file, the on-device script, a typed CSV), and manufacturers do not
// issue serials that differ only in case, so "pf0abc12" and "PF0ABC12" are the same machine and
// queuing it twice would only produce ZtdDeviceDuplicated later. The serial is stored as given.
//
// Times are Unix milliseconds from the caller's injected clock. `id` is the rowid (no
// AUTOINCREMENT) so history rows and logs refer to a compact, stable key.
//
// The state CHECK lists the values of the device state machine; a new state is a new migration.
// state_history.to_state is deliberately unchecked: history is a log and must keep old values
// readable even if a state is renamed later (the reader, RowReader in store_rows.cpp, then accepts
// the old key too; a value that names no state is a store_corrupt error, never a made-up state).
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE devices (
  id                 INTEGER PRIMARY KEY,
  serial             TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(serial) > 0),
  product_id         TEXT,
  hardware_hash      BLOB,
  manufacturer       TEXT,
  model              TEXT,
  group_tag          TEXT,
  assigned_user      TEXT,
  profile            TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('queued', 'registration_pending',
                       'registration_failed', 'ready_for_user', 'active', 'inactive')),
  failure_reason     TEXT,
  last_error         TEXT,
  request_id         TEXT,
  source_file        TEXT,
  source_line        INTEGER,
  partner_registered INTEGER NOT NULL DEFAULT 0 CHECK (partner_registered IN (0, 1)),
  import_id          TEXT,
  cloud_device_id    TEXT,
  attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at    INTEGER,
  in_flight_since    INTEGER,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  state_changed_at   INTEGER NOT NULL
);
-- The sender picks due work with: WHERE state = ? AND next_attempt_at <= now.
CREATE INDEX devices_state_next_attempt ON devices (state, next_attempt_at);

CREATE TABLE state_history (
  id         INTEGER PRIMARY KEY,
  device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  reason     TEXT,
  at         INTEGER NOT NULL
);
CREATE INDEX state_history_device_at ON state_history (device_id, at);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

PRAGMA application_id = 1212239431;
)sql";

// The same hardware hash under two serials is one machine typed twice (or a copy-paste slip) and
// the cloud refuses the second with ZtdDeviceDuplicated, so the store finds it at import time: a
// 16-byte fingerprint (core::hash_fingerprint) indexed, the bytes compared on a match. SQL cannot
// compute the fingerprint, so Store::open fills it for rows an older release wrote.
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE devices ADD COLUMN hash_fingerprint BLOB;
CREATE INDEX devices_hash_fingerprint ON devices (hash_fingerprint)
  WHERE hash_fingerprint IS NOT NULL;
)sql";

// The registration engine: the cloud's id of a device's own import record (polled and deleted; the
// batch's import id is in import_id), and when a long Registration Pending was flagged.
constexpr std::string_view kMigration3 = R"sql(
ALTER TABLE devices ADD COLUMN import_record_id TEXT;
ALTER TABLE devices ADD COLUMN pending_flagged_at INTEGER;
CREATE INDEX devices_import_id ON devices (import_id) WHERE import_id IS NOT NULL;
)sql";

// The device lifecycle: what the activity monitor last read (the Intune managed device, the
// Autopilot enrollment state, the last sync) and the hand-off to a user.
constexpr std::string_view kMigration4 = R"sql(
ALTER TABLE devices ADD COLUMN managed_device_id TEXT;
ALTER TABLE devices ADD COLUMN enrollment_state TEXT;
ALTER TABLE devices ADD COLUMN last_sync_at INTEGER;
ALTER TABLE devices ADD COLUMN delivered_at INTEGER;
ALTER TABLE devices ADD COLUMN delivered_to TEXT;
)sql";

// Profile groups: the Entra ID device id the activity pass reads from the Autopilot identity
// (azureActiveDirectoryDeviceId; what group membership is checked by), and every correction the
// group sweep made, kept as a log like state_history (`profile` is the profile whose group it
// is, so a later change of the mapping does not rewrite what happened).
constexpr std::string_view kMigration5 = R"sql(
ALTER TABLE devices ADD COLUMN azure_ad_device_id TEXT;
CREATE TABLE group_corrections (
  id        INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  at        INTEGER NOT NULL,
  action    TEXT NOT NULL CHECK (action IN ('added', 'removed')),
  group_id  TEXT NOT NULL,
  profile   TEXT NOT NULL
);
CREATE INDEX group_corrections_device_at ON group_corrections (device_id, at);
)sql";

// Profile groups: the sweep also logs the removals it held back ('skipped': the device stays in
// another profile's group because its own group could not be confirmed) and why (`reason`, NULL
// for 'added' and 'removed'). SQLite cannot change a CHECK constraint in place, so the table is
// rebuilt with its rows and ids (foreign keys are off while migrating; apply_one checks them).
constexpr std::string_view kMigration6 = R"sql(
CREATE TABLE group_corrections_v6 (
  id        INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  at        INTEGER NOT NULL,
  action    TEXT NOT NULL CHECK (action IN ('added', 'removed', 'skipped')),
  group_id  TEXT NOT NULL,
  profile   TEXT NOT NULL,
  reason    TEXT
);
INSERT INTO group_corrections_v6 (id, device_id, at, action, group_id, profile)
  SELECT id, device_id, at, action, group_id, profile FROM group_corrections;
DROP TABLE group_corrections;
ALTER TABLE group_corrections_v6 RENAME TO group_corrections;
CREATE INDEX group_corrections_device_at ON group_corrections (device_id, at);
)sql";

// The device's life has an exit everywhere (issue 13): why a device has been Registration Pending
// longer than usual, as far as the engine knows ("imported; no deployment profile assigned to
// group tag X"), shown with the flag and used as the failure reason when the limit is reached.
constexpr std::string_view kMigration7 = R"sql(
ALTER TABLE devices ADD COLUMN pending_cause TEXT;
)sql";

// `remove` sticks (issue 13): serials taken out of the queue (remove, deregister) are remembered,
// so the partner sync does not add a device back that an admin removed; importing the serial
// again forgets it. And the hand-off list's "last contacted" (the Autopilot identity's
// lastContactedDateTime, as the activity pass reads it).
constexpr std::string_view kMigration8 = R"sql(
CREATE TABLE removed_serials (
  serial     TEXT PRIMARY KEY COLLATE NOCASE,
  removed_at INTEGER NOT NULL
);
ALTER TABLE devices ADD COLUMN last_contacted_at INTEGER;
)sql";

// A device's history outlives it (attack round 5, findings 05 and 08): `remove` and `deregister`
// deleted the device and, by the cascade, every state change it had made, so the event stream's
// replay skipped their sequence numbers and nobody was told the device had left. The table is
// rebuilt (SQLite cannot change a foreign key in place) with the serial in each row and the
// device reference set to NULL when the device goes; leaving the queue is a row of its own, with
// `to_state` NULL (the device has no state any more) and the reason. Rows keep their ids.
constexpr std::string_view kMigration9 = R"sql(
CREATE TABLE state_history_v9 (
  id         INTEGER PRIMARY KEY,
  device_id  INTEGER REFERENCES devices (id) ON DELETE SET NULL,
  serial     TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT,
  reason     TEXT,
  at         INTEGER NOT NULL
);
INSERT INTO state_history_v9 (id, device_id, serial, from_state, to_state, reason, at)
  SELECT h.id, h.device_id, d.serial, h.from_state, h.to_state, h.reason, h.at
  FROM state_history h JOIN devices d ON d.id = h.device_id;
DROP TABLE state_history;
ALTER TABLE state_history_v9 RENAME TO state_history;
CREATE INDEX state_history_device_at ON state_history (device_id, at);
CREATE INDEX state_history_serial_left ON state_history (serial COLLATE NOCASE)
  WHERE to_state IS NULL;
)sql";

// Append new migrations here; never edit one that has shipped.
constexpr std::array kMigrations = {
    Migration{1, "device queue, state history and meta", kMigration1},
    Migration{2, "hardware hash fingerprints for duplicate detection", kMigration2},
    Migration{3, "import record ids and long-pending flags for the registration engine",
              kMigration3},
    Migration{4, "activity (enrollment, last sync) and delivery of registered devices",
              kMigration4},
    Migration{5, "Entra ID device ids and profile group corrections", kMigration5},
    Migration{6, "removals the profile-group sweep skipped, with their reason", kMigration6},
    Migration{7, "the cause of a long Registration Pending", kMigration7},
    Migration{8, "removed serials (partner sync skips them) and last contacted", kMigration8},
    Migration{9, "state history kept when a device leaves the queue, with the leaving",
              kMigration9},
};

constexpr bool versions_are_contiguous() {
  for (std::size_t i = 0; i < kMigrations.size(); ++i) {
    if (kMigrations[i].version != static_cast<std::int64_t>(i) + 1) return false;
  }
  return true;
}
static_assert(versions_are_contiguous(), "migration versions must be 1, 2, 3, ... without gaps");
static_assert(kApplicationId == 1212239431, "migration 1 writes kApplicationId literally");

core::Error too_new(const Database& database, std::int64_t found) {
  return core::make_error(
      kErrSchemaTooNew,
      "database file " + database.display_path() + " has schema version " + std::to_string(found) +
          " but this Hangar build knows versions up to " + std::to_string(latest_schema_version()) +
          "; run the newer Hangar release that wrote it, or restore a backup made by this one");
}

core::Error migration_failed(const Database& database, const Migration& migration,
                             core::Error cause) {
  // Keep the codes whose remedy differs from "report a bug": a lock may clear, a disk may be
  // freed, a corrupt file needs restoring.
  const bool keep_code =
      cause.code == kErrBusy || cause.code == kErrIo || cause.code == kErrCorrupt;
  return core::make_error(keep_code ? std::move(cause.code) : std::string(kErrMigrationFailed),
                          "upgrading database file " + database.display_path() +
                              " to schema version " + std::to_string(migration.version) + " (" +
                              std::string(migration.description) + ") failed: " + cause.message +
                              "; the file was left at version " +
                              std::to_string(migration.version - 1));
}

core::Status apply_one(Database& database, const Migration& migration) {
  auto transaction = Transaction::begin(database, TransactionMode::kImmediate);
  if (!transaction) return migration_failed(database, migration, std::move(transaction).error());
  // Another process may have migrated the file while we waited for the write lock.
  auto current = read_schema_version(database);
  if (!current) return std::move(current).error();
  if (*current > latest_schema_version()) return too_new(database, *current);
  if (*current >= migration.version) return {};
  if (auto status = database.exec(migration.sql); !status) {
    return migration_failed(database, migration, std::move(status).error());
  }
  if (auto status = database.exec("PRAGMA user_version = " + std::to_string(migration.version));
      !status) {
    return migration_failed(database, migration, std::move(status).error());
  }
  // Foreign keys are off while migrating (see migrate_to), so check them before committing.
  auto violations = database.prepare("PRAGMA foreign_key_check");
  if (!violations) return migration_failed(database, migration, std::move(violations).error());
  auto row = violations->step();
  if (!row) return migration_failed(database, migration, std::move(row).error());
  if (*row) {
    return migration_failed(
        database, migration,
        core::make_error(kErrMigrationFailed,
                         "rows in table " + violations->column_text(0) + " refer to missing rows"));
  }
  if (auto status = transaction->commit(); !status) {
    return migration_failed(database, migration, std::move(status).error());
  }
  return {};
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

std::int64_t latest_schema_version() { return kMigrations.back().version; }

core::Result<std::int64_t> read_schema_version(Database& database) {
  return database.query_int64("PRAGMA user_version");
}

core::Status check_schema_known(Database& database) {
  auto current = read_schema_version(database);
  if (!current) return std::move(current).error();
  if (*current > latest_schema_version()) return too_new(database, *current);
  return {};
}

core::Status migrate_to(Database& database, std::int64_t target_version) {
  if (target_version < 0 || target_version > latest_schema_version()) {
    return core::make_error(kErrInvalidArgument,
                            "cannot migrate " + database.display_path() + " to schema version " +
                                std::to_string(target_version) + ": this build knows 0 to " +
                                std::to_string(latest_schema_version()));
  }
  auto current = read_schema_version(database);
  if (!current) return std::move(current).error();
  if (*current > latest_schema_version()) return too_new(database, *current);
  if (*current >= target_version) return {};

  // A migration that rebuilds a table (SQLite's 12-step ALTER TABLE procedure) drops the old
  // table; with foreign keys on, that would cascade-delete the state history. So they are off
  // while migrating, each migration ends with foreign_key_check, and they are restored after.
  // The pragma is a no-op inside a transaction, which is why it is set here and not per step.
  auto foreign_keys = database.query_int64("PRAGMA foreign_keys");
  if (!foreign_keys) return std::move(foreign_keys).error();
  if (auto status = database.exec("PRAGMA foreign_keys = OFF"); !status) return status;

  core::Status result;
  for (const Migration& migration : migrations()) {
    if (migration.version <= *current) continue;
    if (migration.version > target_version) break;
    result = apply_one(database, migration);
    if (!result) break;
  }
  if (*foreign_keys != 0) {
    if (auto status = database.exec("PRAGMA foreign_keys = ON"); !status && result.ok()) {
      return status;
    }
  }
  return result;
}

}  // namespace hangar::store
