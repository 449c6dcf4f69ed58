// Tests for the versioned schema: fresh files reach the latest version, files left by every older
// version upgrade with their data intact, and files from a newer build are refused untouched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "hangar/core/hardware_hash.h"
#include "hangar/store/errors.h"
#include "hangar/store/migrations.h"
#include "hangar/store/store.h"
#include "test_support.h"

namespace hangar::store {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

constexpr std::int64_t kSeedTime = 1'650'000'000'000;

// Writes rows the way the release at schema `version` would have, with plain SQL of that version
// (not the Store API, which always speaks the latest schema). Returns false when no seed exists:
// whoever appends migration N+1 must add the seed for version N here.
bool seed_at_version(Database& db, std::int64_t version) {
  switch (version) {
    case 0:
      return true;  // an empty file: nothing to keep
    case 1: {
      const std::string t = std::to_string(kSeedTime);
      // Seeding a later version starts here too: from version 9 each history row has its serial.
      const bool with_serial = *db.query_int64(
                                   "SELECT count(*) FROM pragma_table_info('state_history') "
                                   "WHERE name = 'serial'") == 1;
      const std::string serial = with_serial ? "'SEED-1', " : "";
      const auto status = db.exec(
          "INSERT INTO devices (id, serial, hardware_hash, profile, state, partner_registered, "
          "attempts, created_at, updated_at, state_changed_at) VALUES (7, 'SEED-1', x'4f41', "
          "'Standard', 'registration_pending', 0, 2, " +
          t + ", " + t + ", " + t +
          ");"
          "INSERT INTO state_history (device_id, " +
          (with_serial ? "serial, " : "") + "from_state, to_state, reason, at) VALUES (7, " +
          serial + "NULL, 'queued', NULL, " + t + "), (7, " + serial +
          "'queued', 'registration_pending', 'uploaded', " + t +
          ");"
          "INSERT INTO meta (key, value) VALUES ('seeded_at_version', '1');");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 2: {
      // Version 2 added hash fingerprints; write one row with its fingerprint as that release did.
      if (!seed_at_version(db, 1)) return false;
      const auto fingerprint = core::hash_fingerprint(std::vector<std::uint8_t>{'O', 'A'}).bytes();
      std::string hex;
      for (auto byte : fingerprint) {
        static constexpr char kDigits[] = "0123456789abcdef";
        hex += kDigits[byte >> 4];
        hex += kDigits[byte & 15];
      }
      const auto status = db.exec("UPDATE devices SET hash_fingerprint = x'" + hex +
                                  "';"
                                  "UPDATE meta SET value = '2' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 3: {
      // Version 3 added engine columns: a device that was uploaded when that release stopped.
      if (!seed_at_version(db, 2)) return false;
      const auto status = db.exec(
          "UPDATE devices SET import_id = 'imp-1', import_record_id = 'rec-1';"
          "UPDATE meta SET value = '3' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 4: {
      // Version 4 added the lifecycle columns: the same device, seen enrolled and delivered.
      if (!seed_at_version(db, 3)) return false;
      const auto status = db.exec(
          "UPDATE devices SET managed_device_id = 'md-1', enrollment_state = 'enrolled', "
          "last_sync_at = 1700000000000, delivered_at = 1700000000001, "
          "delivered_to = 'ada@contoso.com';"
          "UPDATE meta SET value = '4' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 5: {
      // Version 5 added Entra ID device ids and the group corrections log.
      if (!seed_at_version(db, 4)) return false;
      const auto status = db.exec(
          "UPDATE devices SET azure_ad_device_id = 'entra-1';"
          "INSERT INTO group_corrections (device_id, at, action, group_id, profile) VALUES "
          "(7, 1700000000002, 'removed', 'group-2', 'power-user');"
          "UPDATE meta SET value = '5' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 6: {
      // Version 6 let the corrections log keep skipped removals, with their reason.
      if (!seed_at_version(db, 5)) return false;
      const auto status = db.exec(
          "INSERT INTO group_corrections (device_id, at, action, group_id, profile, reason) "
          "VALUES (7, 1700000000003, 'skipped', 'group-1', 'standard', 'its own group could "
          "not be listed');"
          "UPDATE meta SET value = '6' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 7: {
      // Version 7 kept the cause of a long Registration Pending with its flag.
      if (!seed_at_version(db, 6)) return false;
      const auto status = db.exec(
          "UPDATE devices SET pending_flagged_at = 1700000000004, pending_cause = 'imported; no "
          "deployment profile assigned to group tag Sales';"
          "UPDATE meta SET value = '7' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 8: {
      // Version 8 remembered removed serials and the last contact.
      if (!seed_at_version(db, 7)) return false;
      const auto status = db.exec(
          "INSERT INTO removed_serials (serial, removed_at) VALUES ('GONE-1', 1700000000005);"
          "UPDATE devices SET last_contacted_at = 1700000000006;"
          "UPDATE meta SET value = '8' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    case 9: {
      // Version 9 kept the history of a device that left the queue, and its leaving.
      if (!seed_at_version(db, 8)) return false;
      const auto status = db.exec(
          "INSERT INTO state_history (device_id, serial, from_state, to_state, reason, at) "
          "VALUES (NULL, 'GONE-2', NULL, 'queued', NULL, 1700000000007), (NULL, 'GONE-2', "
          "'queued', NULL, 'removed by ada', 1700000000008);"
          "UPDATE meta SET value = '9' WHERE key = 'seeded_at_version';");
      EXPECT_TRUE(status.ok()) << status.error().message;
      return true;
    }
    default:
      return false;
  }
}

// Checks, through the latest Store API, that what seed_at_version(version) wrote is still there.
void expect_seed_survived(Store& store, std::int64_t version) {
  if (version < 1) {
    EXPECT_EQ(*store.device_count(), 0);
    return;
  }
  auto device = store.get_device("SEED-1");
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ(device->id, 7);
  EXPECT_EQ(device->state, core::DeviceState::kRegistrationPending);
  EXPECT_EQ(device->attempts, 2);
  EXPECT_EQ(device->hardware_hash, (std::vector<std::uint8_t>{'O', 'A'}));
  auto history = store.history("SEED-1");
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].reason, "uploaded");
  EXPECT_EQ(*store.get_meta("seeded_at_version"), std::to_string(version));
  if (version >= 3) {
    EXPECT_EQ(device->import_record_id, "rec-1");
  }
  if (version >= 4) {
    EXPECT_EQ(device->managed_device_id, "md-1");
    EXPECT_EQ(device->enrollment_state, "enrolled");
    EXPECT_EQ(device->last_sync_at, 1700000000000);
    EXPECT_EQ(device->delivered_to, "ada@contoso.com");
  } else {
    EXPECT_FALSE(device->managed_device_id.has_value());
    EXPECT_FALSE(device->delivered_at.has_value());
  }
  auto corrections = store.group_corrections("SEED-1");
  ASSERT_TRUE(corrections.ok()) << corrections.error().message;
  if (version >= 5) {
    EXPECT_EQ(device->azure_ad_device_id, "entra-1");
    ASSERT_EQ(corrections->size(), version >= 6 ? 2u : 1u);
    EXPECT_EQ(corrections->front().action, "removed");
    EXPECT_EQ(corrections->front().group_id, "group-2");
    EXPECT_EQ(corrections->front().profile, "power-user");
    EXPECT_EQ(corrections->front().reason, "");  // version 5 had no reasons
    if (version >= 6) {
      EXPECT_EQ(corrections->back().action, "skipped");
      EXPECT_EQ(corrections->back().reason, "its own group could not be listed");
    }
  } else {
    // Upgraded files start without Entra ids (the next activity pass reads them) or corrections.
    EXPECT_FALSE(device->azure_ad_device_id.has_value());
    EXPECT_TRUE(corrections->empty());
  }
  if (version >= 7) {
    EXPECT_EQ(device->pending_cause, "imported; no deployment profile assigned to group tag Sales");
  } else {
    EXPECT_FALSE(device->pending_cause.has_value());  // older files: no cause until the next poll
  }
  auto removed = store.removed_serials();
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  if (version >= 8) {
    EXPECT_EQ(*removed, std::vector<std::string>{"gone-1"});
    EXPECT_EQ(device->last_contacted_at, 1700000000006);
  } else {
    EXPECT_TRUE(removed->empty());
    EXPECT_FALSE(device->last_contacted_at.has_value());
  }
  // The event stream reads the history without the devices: each row names its serial (version 9
  // copied it into the rows of older files), and a device's leaving is a change of its own.
  auto changes = store.changes_since(0, 10);
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  ASSERT_EQ(changes->size(), version >= 9 ? 4u : 2u);
  EXPECT_EQ((*changes)[0].serial, "SEED-1");
  EXPECT_EQ((*changes)[1].to_state, core::DeviceState::kRegistrationPending);
  EXPECT_FALSE((*changes)[1].left);
  if (version >= 9) {
    EXPECT_EQ((*changes)[3].serial, "GONE-2");
    EXPECT_TRUE((*changes)[3].left);
    EXPECT_EQ((*changes)[3].from_state, core::DeviceState::kQueued);
    EXPECT_EQ((*changes)[3].reason, "removed by ada");
  }
  // Whether written by version 1 (fingerprint backfilled at open) or 2, the hash is known: the
  // same bytes under another serial are refused.
  auto twin = testing::sample_device("SEED-TWIN");
  twin.hardware_hash = std::vector<std::uint8_t>{'O', 'A'};
  auto results = store.insert_devices(std::vector<NewDevice>{twin});
  ASSERT_TRUE(results.ok()) << results.error().message;
  EXPECT_EQ(results->front().outcome, InsertOutcome::kConflict);
  EXPECT_THAT(results->front().message, HasSubstr("SEED-1"));
}

TEST(StoreMigrations, ListIsContiguousFromOne) {
  const auto list = migrations();
  ASSERT_FALSE(list.empty());
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i].version, static_cast<std::int64_t>(i + 1));
    EXPECT_FALSE(list[i].sql.empty());
  }
  EXPECT_EQ(latest_schema_version(), list.back().version);
}

TEST(StoreMigrations, FreshDatabaseReachesLatestVersion) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->schema_version(), latest_schema_version());
  }
  auto db = Database::open(path);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*read_schema_version(*db), latest_schema_version());
  EXPECT_EQ(*db->query_int64("PRAGMA application_id"), kApplicationId);
  for (const char* table : {"devices", "state_history", "meta", "group_corrections"}) {
    EXPECT_EQ(*db->query_int64(std::string("SELECT count(*) FROM sqlite_master WHERE type = "
                                           "'table' AND name = '") +
                               table + "'"),
              1)
        << table;
  }
  for (const char* index :
       {"devices_state_next_attempt", "state_history_device_at", "group_corrections_device_at"}) {
    EXPECT_EQ(*db->query_int64(std::string("SELECT count(*) FROM sqlite_master WHERE type = "
                                           "'index' AND name = '") +
                               index + "'"),
              1)
        << index;
  }
}

TEST(StoreMigrations, MigrateToStopsAtTheTargetAndNeverDowngrades) {
  TempDir dir;
  auto db = Database::open(dir.file("queue.db"));
  ASSERT_TRUE(db.ok());
  for (std::int64_t target = 0; target <= latest_schema_version(); ++target) {
    ASSERT_TRUE(migrate_to(*db, target).ok());
    EXPECT_EQ(*read_schema_version(*db), target);
  }
  ASSERT_TRUE(migrate_to(*db, 0).ok());
  EXPECT_EQ(*read_schema_version(*db), latest_schema_version());
  auto bad = migrate_to(*db, latest_schema_version() + 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, kErrInvalidArgument);
}

// Builds a file as the release at each schema version left it (including the latest, i.e. a
// plain reopen), writes data with that version's SQL, then opens it normally.
TEST(StoreMigrations, UpgradesFromEveryEarlierVersionKeepingData) {
  for (std::int64_t version = 0; version <= latest_schema_version(); ++version) {
    SCOPED_TRACE("starting at schema version " + std::to_string(version));
    TempDir dir;
    const auto path = dir.file("queue.db");
    {
      StoreOptions old_release;
      old_release.max_schema_version = version;
      auto store = Store::open(path, old_release);
      ASSERT_TRUE(store.ok()) << store.error().message;
      EXPECT_EQ((*store)->schema_version(), version);
    }
    {
      auto db = Database::open(path);
      ASSERT_TRUE(db.ok());
      ASSERT_EQ(*read_schema_version(*db), version);
      ASSERT_TRUE(seed_at_version(*db, version))
          << "add a seed for schema version " << version << " to seed_at_version()";
    }
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->schema_version(), latest_schema_version());
    expect_seed_survived(**store, version);
  }
}

TEST(StoreMigrations, ZeroByteFileIsTreatedAsNew) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  testing::write_bytes(path, {});
  auto store = Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->schema_version(), latest_schema_version());
  EXPECT_EQ(*(*store)->device_count(), 0);
}

TEST(StoreMigrations, ReopeningKeepsDataAndVersion) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->insert_device(testing::sample_device("PF0ABC12")).ok());
    ASSERT_TRUE((*store)->set_meta("tenant", "contoso").ok());
  }
  auto store = Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->schema_version(), latest_schema_version());
  EXPECT_EQ(*(*store)->device_count(), 1);
  EXPECT_EQ(*(*store)->get_meta("tenant"), "contoso");
}

TEST(StoreMigrations, RefusesNewerSchemaWithoutTouchingTheFile) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  { ASSERT_TRUE(Store::open(path).ok()); }
  const std::int64_t future = latest_schema_version() + 5;
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version = " + std::to_string(future)).ok());
  }
  const auto before = testing::read_bytes(path);

  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrSchemaTooNew);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(path)));
  EXPECT_THAT(store.error().message, HasSubstr("version " + std::to_string(future)));
  EXPECT_THAT(store.error().message, HasSubstr(std::to_string(latest_schema_version())));
  EXPECT_EQ(testing::read_bytes(path), before);

  auto db = Database::open(path);
  ASSERT_TRUE(db.ok());
  auto direct = migrate_to(*db, latest_schema_version());
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().code, kErrSchemaTooNew);
}

TEST(StoreMigrations, RefusesDatabasesOfOtherPrograms) {
  TempDir dir;
  const auto with_tables = dir.file("other.db");
  {
    auto db = Database::open(with_tables);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec("CREATE TABLE photos (id INTEGER PRIMARY KEY)").ok());
  }
  auto store = Store::open(with_tables);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrOpenFailed);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(with_tables)));

  const auto with_app_id = dir.file("other2.db");
  {
    auto db = Database::open(with_app_id);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec("PRAGMA application_id = 42").ok());
  }
  store = Store::open(with_app_id);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrOpenFailed);
  EXPECT_THAT(store.error().message, HasSubstr("another program"));
}

}  // namespace
}  // namespace hangar::store
