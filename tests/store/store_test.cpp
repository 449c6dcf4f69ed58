// Tests for the Store: how it opens and checks files, the queue operations, and its behaviour
// under concurrent writers and a lock held by another connection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hangar/store/errors.h"
#include "hangar/store/migrations.h"
#include "hangar/store/store.h"
#include "test_support.h"

namespace hangar::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::open_or_die;
using testing::TempDir;

// ---- opening -----------------------------------------------------------------------------------

TEST(StoreOpen, CreatesMissingParentDirectories) {
  TempDir dir;
  const auto path = dir.path() / "a" / "b" / "queue.db";
  auto store = open_or_die(path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(store->path(), path);
}

TEST(StoreOpen, FailsClearlyWhenTheParentIsAFile) {
  TempDir dir;
  testing::write_bytes(dir.file("blocker"), {'x'});
  const auto path = dir.file("blocker") / "queue.db";
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrOpenFailed);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(path)));
}

TEST(StoreOpen, FailsWhenThePathIsADirectory) {
  TempDir dir;
  auto store = Store::open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(dir.path())));
}

TEST(StoreOpen, TurnsOnWalForeignKeysAndBusyTimeout) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  StoreOptions options;
  options.busy_timeout = std::chrono::milliseconds(1234);
  auto store = open_or_die(path, options);
  ASSERT_NE(store, nullptr);
  auto settings = store->connection_settings();
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  EXPECT_EQ(settings->journal_mode, "wal");
  EXPECT_EQ(settings->synchronous, 1) << "synchronous should be NORMAL";
  EXPECT_TRUE(settings->foreign_keys);
  EXPECT_EQ(settings->busy_timeout_ms, 1234);

  // WAL is a property of the file, so a second connection sees it too; and the schema's foreign
  // keys are real: history cannot point at a device that does not exist.
  auto other = Database::open(path);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other->query_text("PRAGMA journal_mode"), "wal");
  ASSERT_TRUE(other->exec("PRAGMA foreign_keys = ON").ok());
  auto orphan = other->exec(
      "INSERT INTO state_history (device_id, serial, to_state, at) VALUES (999, 'X', 'queued', 1)");
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code, kErrConstraint);
}

// ---- corruption --------------------------------------------------------------------------------

// A store with enough rows (hashes spill into overflow pages) to span many pages.
void build_populated_store(const std::filesystem::path& path) {
  auto store = open_or_die(path);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 60; ++i) {
    auto device = testing::sample_device("SN-" + std::to_string(i));
    device.hardware_hash = std::vector<std::uint8_t>(3000, static_cast<std::uint8_t>(i));
    ASSERT_TRUE(store->insert_device(device).ok());
  }
}

TEST(StoreCorruption, GarbageOverPagesIsReportedAndFileLeftAlone) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  build_populated_store(path);
  // Closing the last connection checkpoints the WAL into the main file and deletes it.
  ASSERT_FALSE(std::filesystem::exists(dir.file("queue.db-wal")));

  auto bytes = testing::read_bytes(path);
  ASSERT_GT(bytes.size(), 100u);
  // Page size is a big-endian u16 at offset 16 of the header (1 means 65536).
  std::size_t page_size = (std::size_t{bytes[16]} << 8) | bytes[17];
  if (page_size == 1) page_size = 65536;
  ASSERT_GT(bytes.size(), page_size * 4) << "need several pages to damage";
  // Keep page 1 (header and schema) intact so SQLite opens the file; wreck every other page.
  std::mt19937 generator(1234);
  for (std::size_t i = page_size; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(generator());
  }
  testing::write_bytes(path, bytes);

  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(path)));
  EXPECT_THAT(store.error().message, HasSubstr("restore it from backup"));
  EXPECT_EQ(testing::read_bytes(path), bytes) << "a damaged file must not be modified";
}

// Damage that every page still parses but where a table and its index disagree: only the full
// integrity_check (not quick_check) finds this, and it is what would let a serial be queued twice.
TEST(StoreCorruption, TableAndIndexDisagreeingIsReported) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  {
    auto store = open_or_die(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->insert_device(testing::sample_device("UNIQUESERIAL0001")).ok());
  }
  auto bytes = testing::read_bytes(path);
  const std::size_t page_size = (std::size_t{bytes[16]} << 8) | bytes[17];
  ASSERT_GE(page_size, 512u);
  // The serial is stored twice: in the table's leaf page (type 0x0D) and in the index's (0x0A).
  // Change it in the table only, keeping its length so the record stays well-formed.
  const std::string serial = "UNIQUESERIAL0001";
  bool patched = false;
  for (auto it = bytes.begin();
       (it = std::search(it, bytes.end(), serial.begin(), serial.end())) != bytes.end(); ++it) {
    const auto offset = static_cast<std::size_t>(it - bytes.begin());
    const std::size_t page_start = offset / page_size * page_size;
    const std::size_t header = page_start == 0 ? 100 : page_start;  // page 1 holds the file header
    if (bytes[header] == 0x0D) {
      it[static_cast<std::ptrdiff_t>(serial.size()) - 1] = '2';
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  testing::write_bytes(path, bytes);

  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(path)));
  EXPECT_THAT(store.error().message, HasSubstr("failed integrity check"));
  EXPECT_THAT(store.error().message, HasSubstr("index"));
}

TEST(StoreCorruption, NonDatabaseFileIsReported) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Device Serial Number,Windows Product ID,Hardware Hash\n";
  testing::write_bytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));

  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(path)));
  EXPECT_THAT(store.error().message, HasSubstr("not a SQLite database"));
  EXPECT_THAT(store.error().message, HasSubstr("move it aside"));
}

TEST(StoreCorruption, DamagedHeaderIsReported) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  build_populated_store(path);
  auto bytes = testing::read_bytes(path);
  for (std::size_t i = 0; i < 16; ++i) bytes[i] = 0xAA;  // the "SQLite format 3" magic
  testing::write_bytes(path, bytes);

  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrCorrupt);
  EXPECT_THAT(store.error().message, HasSubstr(path_to_utf8(path)));
}

// ---- queue operations --------------------------------------------------------------------------

TEST(StoreDevices, InsertAndGetRoundTripEveryColumn) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  const NewDevice in = testing::sample_device("PF0ABC12", 1000);
  auto id = store->insert_device(in);
  ASSERT_TRUE(id.ok()) << id.error().message;

  auto out = store->get_device("PF0ABC12");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->id, *id);
  EXPECT_EQ(out->serial, in.serial);
  EXPECT_EQ(out->product_id, in.product_id);
  EXPECT_EQ(out->hardware_hash, in.hardware_hash);
  EXPECT_EQ(out->manufacturer, in.manufacturer);
  EXPECT_EQ(out->model, in.model);
  EXPECT_EQ(out->group_tag, in.group_tag);
  EXPECT_EQ(out->assigned_user, in.assigned_user);
  EXPECT_EQ(out->profile, in.profile);
  EXPECT_EQ(out->state, core::DeviceState::kQueued);
  EXPECT_EQ(out->source_file, in.source_file);
  EXPECT_EQ(out->source_line, in.source_line);
  EXPECT_FALSE(out->partner_registered);
  EXPECT_EQ(out->attempts, 0);
  EXPECT_EQ(out->failure_reason, std::nullopt);
  EXPECT_EQ(out->import_id, std::nullopt);
  EXPECT_EQ(out->next_attempt_at, std::nullopt);
  EXPECT_EQ(out->created_at, 1000);
  EXPECT_EQ(out->updated_at, 1000);
  EXPECT_EQ(out->state_changed_at, 1000);

  // A partner-registered device has no hash: NULL, not an empty blob.
  NewDevice partner;
  partner.serial = "PARTNER-1";
  partner.profile = "Power user";
  partner.state = core::DeviceState::kRegistrationPending;
  partner.partner_registered = true;
  ASSERT_TRUE(store->insert_device(partner).ok());
  auto partner_row = store->get_device("PARTNER-1");
  ASSERT_TRUE(partner_row.ok());
  EXPECT_EQ(partner_row->hardware_hash, std::nullopt);
  EXPECT_TRUE(partner_row->partner_registered);
  EXPECT_EQ(partner_row->state, core::DeviceState::kRegistrationPending);
}

TEST(StoreDevices, RejectsDuplicatesEmptySerialsAndUnknownStates) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("PF0ABC12")).ok());

  auto duplicate = store->insert_device(testing::sample_device("pf0abc12"));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, kErrConflict);
  EXPECT_THAT(duplicate.error().message, HasSubstr("pf0abc12"));
  // Lookups ignore case too, and return the serial as first stored.
  EXPECT_EQ(store->get_device("pf0abc12")->serial, "PF0ABC12");

  auto empty = store->insert_device(testing::sample_device(""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, kErrInvalidArgument);

  EXPECT_EQ(*store->device_count(), 1);
  EXPECT_EQ(store->get_device("NOPE").error().code, kErrNotFound);
}

TEST(StoreDevices, BatchInsertReportsEachOutcomeAndIsIdempotent) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  std::vector<NewDevice> batch{testing::sample_device("A1"), testing::sample_device("B2"),
                               testing::sample_device("")};
  auto first = store->insert_devices(batch);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].outcome, InsertOutcome::kInserted);
  EXPECT_EQ((*first)[1].outcome, InsertOutcome::kInserted);
  EXPECT_EQ((*first)[2].outcome, InsertOutcome::kInvalid);
  EXPECT_THAT((*first)[2].message, HasSubstr("serial"));

  // The same file again: nothing changes, each device says where it was queued from.
  auto again = store->insert_devices(batch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].outcome, InsertOutcome::kAlreadyQueued);
  EXPECT_EQ((*again)[0].id, (*first)[0].id);
  EXPECT_THAT((*again)[0].message, HasSubstr("batch1.csv:7"));
  EXPECT_EQ(*store->device_count(), 2);
  EXPECT_EQ(store->history("A1")->size(), 1u);
}

// Attack round 2, finding 11: a re-import with another profile or group tag (the admin correcting
// a mistake) is applied while the device waits, said with what changed, and refused with the way
// out once the device was uploaded; it never silently keeps the old values.
TEST(StoreDevices, ReimportWithAnotherProfileOrTagUpdatesAQueuedDeviceOnly) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->insert_devices(std::vector<NewDevice>{testing::sample_device("Q1"),
                                                          testing::sample_device("P1")})
                  .ok());
  ASSERT_TRUE(
      store->transition("P1", core::DeviceState::kRegistrationPending, "uploaded", 2000).ok());

  auto again_q = testing::sample_device("Q1");
  again_q.profile = "power-user";
  again_q.group_tag = "Sales";
  again_q.assigned_user.reset();  // no --user: the one queued stays
  auto again_p = testing::sample_device("P1");
  again_p.profile = "power-user";
  auto results = store->insert_devices(std::vector<NewDevice>{again_q, again_p});
  ASSERT_TRUE(results.ok()) << results.error().message;
  EXPECT_EQ((*results)[0].outcome, InsertOutcome::kUpdated);
  EXPECT_THAT((*results)[0].message,
              HasSubstr("profile Standard -> power-user, group tag Microsoft365Managed_Autopilot "
                        "-> Sales"));
  EXPECT_EQ(outcome_name((*results)[0].outcome), "updated");
  auto q = store->get_device("Q1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->profile, "power-user");
  EXPECT_EQ(q->group_tag, "Sales");
  EXPECT_EQ(q->assigned_user, "user@example.com");
  EXPECT_EQ(store->history("Q1")->size(), 1u) << "no state changed";

  EXPECT_EQ((*results)[1].outcome, InsertOutcome::kConflict);
  EXPECT_THAT((*results)[1].message, HasSubstr("was NOT applied"));
  EXPECT_THAT((*results)[1].message, HasSubstr("hangar remove P1"));
  EXPECT_EQ(store->get_device("P1")->profile, "Standard");

  // The same values again: already queued, nothing to say. Nor when no tag was given (the
  // default stands in for it): the device keeps the tag it has.
  auto untagged = again_q;
  untagged.group_tag = "Microsoft365Managed_Autopilot";
  untagged.group_tag_defaulted = true;
  auto same = store->insert_devices(std::vector<NewDevice>{again_q, untagged});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)[0].outcome, InsertOutcome::kAlreadyQueued);
  EXPECT_EQ((*same)[1].outcome, InsertOutcome::kAlreadyQueued) << (*same)[1].message;
  EXPECT_EQ(store->get_device("Q1")->group_tag, "Sales");

  // Attack round 5, finding 01: a re-import that corrects only the profile (no tag given) changes
  // only the profile; the stored tag is not reset to the default, and the message says so.
  auto profile_only = untagged;
  profile_only.profile = "sensitive-data";
  auto corrected = store->insert_devices(std::vector<NewDevice>{profile_only});
  ASSERT_TRUE(corrected.ok());
  EXPECT_EQ((*corrected)[0].outcome, InsertOutcome::kUpdated);
  EXPECT_THAT((*corrected)[0].message, HasSubstr("profile power-user -> sensitive-data"));
  EXPECT_THAT((*corrected)[0].message, Not(HasSubstr("group tag")));
  EXPECT_EQ(store->get_device("Q1")->profile, "sensitive-data");
  EXPECT_EQ(store->get_device("Q1")->group_tag, "Sales");
}

// Attack round 5, finding 03: the same device again while its registration failed is not "already
// queued" (it is not, and nothing will happen to it): it says what it is, why, and how to retry.
TEST(StoreDevices, ReimportOfAFailedDeviceNamesTheFailureAndRetry) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("F1")).ok());
  ASSERT_TRUE(store
                  ->finish_registration("F1", core::DeviceState::kRegistrationFailed,
                                        "Device not found", std::nullopt, std::nullopt,
                                        "ZtdDeviceNotFound", 2000)
                  .ok());
  auto again = store->insert_devices(std::vector<NewDevice>{testing::sample_device("F1")});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)[0].outcome, InsertOutcome::kRegistrationFailed);
  EXPECT_EQ(outcome_name((*again)[0].outcome), "registration_failed");
  EXPECT_EQ((*again)[0].message,
            "F1 is Registration failed (Device not found); run `hangar retry F1 --force` once the "
            "supplier has confirmed the device");
  EXPECT_EQ(store->get_device("F1")->state, core::DeviceState::kRegistrationFailed);
}

// Issue 13 (an admin's day without dead ends): a failed device was never registered, so a
// re-import with another profile, group tag or user is the admin's correction. It is applied, the
// device stays Registration failed (nothing is sent until `hangar retry`), and the message says
// what changed and the way on. A device truly past the upload still refuses the change.
TEST(StoreDevices, ReimportOfAFailedDeviceWithAnotherAssignmentAppliesItAndNamesRetry) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  auto partner = testing::sample_device("F2");  // no hash: the same make and model is the device
  partner.hardware_hash.reset();
  ASSERT_TRUE(store
                  ->insert_devices(std::vector<NewDevice>{testing::sample_device("F1"), partner,
                                                          testing::sample_device("R1")})
                  .ok());
  for (const char* serial : {"F1", "F2"}) {
    ASSERT_TRUE(store
                    ->finish_registration(serial, core::DeviceState::kRegistrationFailed,
                                          "Device not found", std::nullopt, std::nullopt,
                                          "ZtdDeviceNotFound", 2000)
                    .ok());
  }
  ASSERT_TRUE(store
                  ->finish_registration("R1", core::DeviceState::kReadyForUser, std::nullopt,
                                        std::nullopt, std::nullopt, "registered", 2000)
                  .ok());
  const std::size_t history_before = store->history("F1")->size();

  auto f1 = testing::sample_device("F1", 3000);
  f1.profile = "power-user";
  f1.group_tag = "Sales";
  auto f2 = partner;
  f2.model = "SURFACE LAPTOP";  // the same device, in another case
  f2.assigned_user = "new.owner@example.com";
  f2.group_tag_defaulted = true;  // no tag given: it keeps its own
  auto r1 = testing::sample_device("R1", 3000);
  r1.profile = "power-user";
  auto results = store->insert_devices(std::vector<NewDevice>{f1, f2, r1});
  ASSERT_TRUE(results.ok()) << results.error().message;

  EXPECT_EQ((*results)[0].outcome, InsertOutcome::kRegistrationFailed);
  EXPECT_EQ((*results)[0].message,
            "F1 is Registration failed (Device not found); profile Standard -> power-user, group "
            "tag Microsoft365Managed_Autopilot -> Sales applied; run `hangar retry F1 --force` to "
            "send it again");
  auto row = store->get_device("F1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(row->failure_reason, "Device not found");
  EXPECT_EQ(row->profile, "power-user");
  EXPECT_EQ(row->group_tag, "Sales");
  EXPECT_EQ(row->assigned_user, "user@example.com") << "no user given: the one queued stays";
  EXPECT_EQ(row->updated_at, 3000);
  EXPECT_EQ(store->history("F1")->size(), history_before) << "no state changed";

  EXPECT_EQ((*results)[1].outcome, InsertOutcome::kRegistrationFailed);
  EXPECT_EQ((*results)[1].message,
            "F2 is Registration failed (Device not found); assigned user user@example.com -> "
            "new.owner@example.com applied; run `hangar retry F2 --force` to send it again");
  EXPECT_EQ(store->get_device("F2")->assigned_user, "new.owner@example.com");
  EXPECT_EQ(store->get_device("F2")->group_tag, "Microsoft365Managed_Autopilot");

  // Registered already: the change would not reach the tenant, so it is refused with the way out.
  EXPECT_EQ((*results)[2].outcome, InsertOutcome::kConflict);
  EXPECT_THAT((*results)[2].message, HasSubstr("state Ready for user"));
  EXPECT_THAT((*results)[2].message, HasSubstr("was NOT applied"));
  EXPECT_EQ(store->get_device("R1")->profile, "Standard");

  // The same corrected row again: nothing more changes, and the way on is still said.
  auto same = store->insert_devices(std::vector<NewDevice>{f1});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)[0].message,
            "F1 is Registration failed (Device not found); run `hangar retry F1 --force` once the "
            "supplier has confirmed the device");

  // And the retry sends it with what was corrected.
  ASSERT_EQ(*store->retry_failed(std::string("F1"), 4000), 1);
  EXPECT_EQ(store->get_device("F1")->state, core::DeviceState::kQueued);
  EXPECT_EQ(store->get_device("F1")->profile, "power-user");
}

TEST(StoreDevices, SameSerialOtherHashAndSameHashOtherSerialAreConflicts) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("A1")).ok());

  auto other_hash = testing::sample_device("A1");
  other_hash.hardware_hash->push_back(0x42);
  auto twin = testing::sample_device("Z9");
  twin.hardware_hash = testing::sample_device("A1").hardware_hash;  // A1's exact bytes
  auto results = store->insert_devices(std::vector<NewDevice>{other_hash, twin});
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[0].outcome, InsertOutcome::kConflict);
  EXPECT_THAT((*results)[0].message, HasSubstr("different hardware hash"));
  EXPECT_THAT((*results)[0].message, HasSubstr("hangar remove A1"));
  EXPECT_EQ((*results)[1].outcome, InsertOutcome::kConflict);
  EXPECT_THAT((*results)[1].message, HasSubstr("under serial A1"));
  EXPECT_EQ(*store->device_count(), 1);

  // Partner rows (no hash) are the same device when make and model match, in any case.
  auto partner = testing::sample_device("P1");
  partner.hardware_hash.reset();
  ASSERT_TRUE(store->insert_device(partner).ok());
  auto partner_again = partner;
  partner_again.model = "SURFACE LAPTOP";
  auto partner_other = partner;
  partner_other.model = "Surface Book";
  auto partner_results =
      store->insert_devices(std::vector<NewDevice>{partner_again, partner_other});
  ASSERT_TRUE(partner_results.ok());
  EXPECT_EQ((*partner_results)[0].outcome, InsertOutcome::kAlreadyQueued);
  EXPECT_EQ((*partner_results)[1].outcome, InsertOutcome::kConflict);
}

TEST(StoreDevices, ListFiltersPagesAndLeavesHashesOutUnlessAsked) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) {
    auto device = testing::sample_device("S" + std::to_string(i), 1000 + i);
    device.profile = i % 2 ? "power-user" : "standard";
    ASSERT_TRUE(store->insert_device(device).ok());
  }
  ASSERT_TRUE(
      store->transition("S3", core::DeviceState::kRegistrationPending, "uploaded", 5000).ok());

  auto all = store->list_devices({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].serial, "S0");
  EXPECT_FALSE((*all)[0].hardware_hash.has_value());
  // Black-box round 9: read without its hash, a row still says it has one.
  EXPECT_TRUE((*all)[0].has_hash);

  DeviceFilter power;
  power.profile = "power-user";
  EXPECT_EQ(store->list_devices(power)->size(), 2u);
  DeviceFilter pending;
  pending.state = core::DeviceState::kRegistrationPending;
  ASSERT_EQ(store->list_devices(pending)->size(), 1u);
  EXPECT_EQ(store->list_devices(pending)->front().serial, "S3");
  DeviceFilter recent;
  recent.changed_since = 1003;
  EXPECT_EQ(store->list_devices(recent)->size(), 2u);  // S3 (changed at 5000) and S4

  DeviceFilter page;
  page.limit = 2;
  page.with_hash = true;
  auto first = store->list_devices(page);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_TRUE(first->back().hardware_hash.has_value());
  page.after_id = first->back().id;
  auto second = store->list_devices(page);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ(second->front().serial, "S2");
}

TEST(StoreDevices, RemoveIsRefusedWhileRegistrationPending) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("A1")).ok());
  ASSERT_TRUE(store->insert_device(testing::sample_device("B2")).ok());
  ASSERT_TRUE(
      store->transition("B2", core::DeviceState::kRegistrationPending, "uploaded", 5000).ok());

  auto refused = store->remove_device("B2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kErrConflict);
  EXPECT_THAT(refused.error().message, HasSubstr("Registration Pending"));
  EXPECT_THAT(refused.error().message, HasSubstr("--force"));
  // Forced: removed even while pending, and returned as it was (the caller deletes its record).
  ASSERT_TRUE(store->insert_device(testing::sample_device("C3")).ok());
  ASSERT_TRUE(store->mark_uploaded("C3", "rec-C3", "imp-C3", 5001).ok());
  auto forced = store->remove_device("C3", true);
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  EXPECT_EQ(forced->state, core::DeviceState::kRegistrationPending);
  EXPECT_EQ(forced->import_record_id, "rec-C3");
  EXPECT_EQ(store->get_device("C3").error().code, kErrNotFound);

  auto removed = store->remove_device("a1");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->serial, "A1");
  EXPECT_EQ(store->get_device("A1").error().code, kErrNotFound);
  EXPECT_EQ(store->remove_device("A1").error().code, kErrNotFound);
  // Its hash is free again: the device can be imported once more.
  EXPECT_TRUE(store->insert_device(testing::sample_device("A1")).ok());
}

TEST(StoreDevices, ARemovedDevicesHistoryStaysAndItsLeavingIsAChange) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("A1")).ok());
  ASSERT_TRUE(
      store->transition("A1", core::DeviceState::kRegistrationFailed, "not found", 5000).ok());
  ASSERT_TRUE(store->remove_device("a1", false, 6000, "removed by ada").ok());
  auto changes = store->changes_since(0, 10);
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  ASSERT_EQ(changes->size(), 3u);
  for (const auto& change : *changes) EXPECT_EQ(change.serial, "A1");
  EXPECT_FALSE((*changes)[1].left);
  const auto& left = (*changes)[2];
  EXPECT_TRUE(left.left);
  EXPECT_EQ(left.from_state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(left.reason, "removed by ada");
  EXPECT_EQ(left.at, 6000);
  EXPECT_EQ(*store->last_change_seq(), left.seq);
  // Asked for, it is not found, and the answer says when it left and how.
  auto gone = store->get_device("a1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, kErrNotFound);
  EXPECT_THAT(gone.error().message,
              HasSubstr("taken out on 1970-01-01 00:00:06Z (removed by ada); import it again"));
  EXPECT_THAT(store->get_device("NEVER").error().message, HasSubstr("check the serial"));
  // Imported again, it is a new device: its own history starts afresh, the numbers go on.
  ASSERT_TRUE(store->insert_device(testing::sample_device("A1")).ok());
  auto history = store->history("A1");
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().to_state, core::DeviceState::kQueued);
  EXPECT_GT(history->front().id, left.seq);
  // A refused removal writes nothing.
  ASSERT_TRUE(store->insert_device(testing::sample_device("B2")).ok());
  ASSERT_TRUE(store->transition("B2", core::DeviceState::kRegistrationPending, "up", 7000).ok());
  const auto before = *store->last_change_seq();
  EXPECT_FALSE(store->remove_device("B2", false, 8000, "removed by ada").ok());
  EXPECT_EQ(*store->last_change_seq(), before);
}

TEST(StoreDevices, ARemovedSerialIsRememberedUntilItIsImportedAgain) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("Keep-1")).ok());
  ASSERT_TRUE(store->insert_device(testing::sample_device("Gone-1")).ok());
  ASSERT_TRUE(store->remove_device("gone-1", false, 7000).ok());
  ASSERT_TRUE(store->remember_removed("Never-Here", 7001).ok());
  EXPECT_EQ(*store->removed_serials(), (std::vector<std::string>{"gone-1", "never-here"}));
  // A partner's device with that serial does not clear it (the sync skips it anyway) ...
  auto partner = testing::sample_device("NEVER-HERE");
  partner.partner_registered = true;
  partner.hardware_hash.reset();
  ASSERT_TRUE(store->insert_device(partner).ok());
  EXPECT_EQ(store->removed_serials()->size(), 2u);
  // ... an admin importing it again does.
  ASSERT_TRUE(store->insert_device(testing::sample_device("GONE-1")).ok());
  EXPECT_EQ(*store->removed_serials(), (std::vector<std::string>{"never-here"}));
}

}  // namespace
}  // namespace hangar::store
