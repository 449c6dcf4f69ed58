// Tests for the Store's upload queue and history: claiming, releasing and finishing uploads,
// transitions and their history, counts, meta, group corrections, and concurrent writers.
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
using testing::open_or_die;
using testing::TempDir;

TEST(StoreEngine, ClaimReleaseUploadFinishRequeueAndRetry) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  for (const char* serial : {"A", "B", "C"}) {
    ASSERT_TRUE(store->insert_device(testing::sample_device(serial, 1000)).ok());
  }
  auto claimed = store->claim_upload_batch(2000, 2);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].serial, "A");
  EXPECT_TRUE((*claimed)[0].hardware_hash.has_value());
  // In flight: not claimed twice, and reported as in doubt (a crash here must not lose them).
  auto rest = store->claim_upload_batch(2000, 10);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().serial, "C");
  EXPECT_EQ(store->in_doubt_devices()->size(), 3u);

  // A throttled upload: back to waiting until 5000.
  ASSERT_TRUE(store->release_upload("C", 5000, true, "throttled", 2100).ok());
  EXPECT_TRUE(store->claim_upload_batch(4999, 10)->empty());
  EXPECT_EQ(*store->next_attempt_at(), 5000);
  EXPECT_EQ(store->get_device("C")->attempts, 1);
  EXPECT_EQ(store->get_device("C")->last_error, "throttled");
  EXPECT_EQ(store->claim_upload_batch(5000, 10)->size(), 1u);

  ASSERT_TRUE(store->mark_uploaded("A", "rec-A", "imp-1", 2200).ok());
  ASSERT_TRUE(store->mark_uploaded("B", "rec-B", "imp-1", 2200).ok());
  EXPECT_EQ(store->mark_uploaded("A", "rec-A", "imp-1", 2200).error().code, kErrConflict);
  auto pending = store->pending_devices();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ(pending->front().import_record_id, "rec-A");
  EXPECT_EQ(pending->front().import_id, "imp-1");
  EXPECT_FALSE(pending->front().in_flight_since.has_value());

  ASSERT_TRUE(store
                  ->finish_registration("A", core::DeviceState::kReadyForUser, std::nullopt,
                                        std::nullopt, std::nullopt, "import complete", 3000)
                  .ok());
  ASSERT_TRUE(store
                  ->finish_registration("B", core::DeviceState::kRegistrationFailed,
                                        "Device claimed by another organization",
                                        "ZtdDeviceAssignedToOtherTenant (808)", "req-9",
                                        "import failed", 3000)
                  .ok());
  auto failed = store->get_device("B");
  EXPECT_EQ(failed->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(failed->failure_reason, "Device claimed by another organization");
  EXPECT_EQ(failed->request_id, "req-9");
  auto history = store->history("A");
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ(history->back().to_state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(history->back().reason, "import complete");

  EXPECT_EQ(*store->retry_failed(std::nullopt, 4000), 1);
  EXPECT_EQ(store->get_device("B")->state, core::DeviceState::kQueued);
  EXPECT_FALSE(store->get_device("B")->failure_reason.has_value());

  // A transient cloud error after upload: back to the queue, import ids forgotten.
  ASSERT_TRUE(store->mark_uploaded("C", "rec-C", "imp-2", 5100).ok());
  ASSERT_TRUE(store->requeue("C", 9000, "StorageError: retrying", 5200).ok());
  auto requeued = store->get_device("C");
  EXPECT_EQ(requeued->state, core::DeviceState::kQueued);
  EXPECT_FALSE(requeued->import_record_id.has_value());
  EXPECT_EQ(requeued->next_attempt_at, 9000);
}

TEST(StoreEngine, AWholeImportAnswerIsRecordedInOneGoSkippingDevicesThatMoved) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  for (const char* serial : {"A", "B", "C", "D"}) {
    ASSERT_TRUE(store->insert_device(testing::sample_device(serial, 1000)).ok());
  }
  ASSERT_EQ(store->claim_upload_batch(2000, 4)->size(), 4u);
  ASSERT_TRUE(store->mark_uploaded("C", "rec-C0", "rec-C0", 2100).ok());  // moved meanwhile
  const std::vector<Store::Uploaded> answer{{"a", "rec-A", "rec-A"},      // serials ignore case
                                            {"B", "rec-B", "rec-B"},
                                            {"C", "rec-C", "rec-C"},
                                            {"GONE", "rec-X", "rec-X"}};
  auto skipped = store->mark_uploaded_all(answer, 2200);
  ASSERT_TRUE(skipped.ok()) << skipped.error().message;
  EXPECT_EQ(*skipped, (std::vector<std::string>{"C", "GONE"}));
  const auto a = store->get_device("A");
  EXPECT_EQ(a->state, core::DeviceState::kRegistrationPending);
  EXPECT_EQ(a->import_record_id, "rec-A");
  EXPECT_EQ(a->import_id, "rec-A");
  EXPECT_FALSE(a->in_flight_since.has_value());
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(store->history("A")->back().reason, "uploaded (import rec-A)");
  EXPECT_EQ(store->get_device("C")->import_record_id, "rec-C0") << "left as it was";
  EXPECT_EQ(store->get_device("D")->state, core::DeviceState::kQueued)
      << "not in the answer: still in flight";
  EXPECT_EQ(store->in_doubt_devices()->size(), 1u);
  EXPECT_TRUE(store->mark_uploaded_all({}, 2300)->empty());
}

TEST(StoreDevices, TransitionUpdatesStateAndWritesHistory) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("PF0ABC12", 1000)).ok());
  ASSERT_TRUE(
      store->transition("PF0ABC12", core::DeviceState::kRegistrationPending, "uploaded", 2000)
          .ok());
  ASSERT_TRUE(store->transition("PF0ABC12", core::DeviceState::kReadyForUser, "", 3000).ok());

  auto device = store->get_device("PF0ABC12");
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(device->state_changed_at, 3000);
  EXPECT_EQ(device->updated_at, 3000);
  EXPECT_EQ(device->created_at, 1000);

  auto history = store->history("PF0ABC12");
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].from_state, std::nullopt);
  EXPECT_EQ((*history)[0].to_state, core::DeviceState::kQueued);
  EXPECT_EQ((*history)[0].at, 1000);
  EXPECT_EQ((*history)[1].from_state, core::DeviceState::kQueued);
  EXPECT_EQ((*history)[1].to_state, core::DeviceState::kRegistrationPending);
  EXPECT_EQ((*history)[1].reason, "uploaded");
  EXPECT_EQ((*history)[1].at, 2000);
  EXPECT_EQ((*history)[2].from_state, core::DeviceState::kRegistrationPending);
  EXPECT_EQ((*history)[2].to_state, core::DeviceState::kReadyForUser);
  EXPECT_EQ((*history)[2].reason, std::nullopt);
  for (const auto& row : *history) EXPECT_EQ(row.device_id, device->id);

  auto missing = store->transition("NOPE", core::DeviceState::kActive, "", 4000);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, kErrNotFound);
  EXPECT_EQ(store->history("PF0ABC12")->size(), 3u) << "failed transitions must not write history";
  EXPECT_EQ(store->history("NOPE").error().code, kErrNotFound);
}

// State history is not CHECKed (a log): a value no release writes (a file edited by hand) is a
// clear store_corrupt error naming it, not a state made up for it.
TEST(StoreDevices, HistoryWithAnUnknownStateIsAClearError) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  auto store = open_or_die(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_device(testing::sample_device("PF0ABC12")).ok());
  {
    auto other = Database::open(path);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(
        other
            ->exec("INSERT INTO state_history (device_id, serial, from_state, to_state, at) "
                   "SELECT id, serial, 'queued', 'delivered', 5 FROM devices")
            .ok());
  }
  auto history = store->history("PF0ABC12");
  ASSERT_FALSE(history.ok());
  EXPECT_EQ(history.error().code, kErrCorrupt);
  EXPECT_THAT(history.error().message, HasSubstr("\"delivered\""));
  EXPECT_THAT(history.error().message, HasSubstr("ready_for_user"));
  auto changes = store->changes_since(0, 10);
  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(changes.error().code, kErrCorrupt);
}

TEST(StoreDevices, CountsByStateAndQueueDepth) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->queue_depth(), 0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->insert_device(testing::sample_device("SN-" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(store->transition("SN-0", core::DeviceState::kRegistrationPending, "", 1).ok());
  ASSERT_TRUE(
      store->transition("SN-1", core::DeviceState::kRegistrationFailed, "Device not found", 1)
          .ok());
  ASSERT_TRUE(store->transition("SN-2", core::DeviceState::kReadyForUser, "", 1).ok());

  auto counts = store->count_by_state();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->size(), core::kDeviceStates.size());
  EXPECT_EQ(counts->at(core::DeviceState::kQueued), 2);
  EXPECT_EQ(counts->at(core::DeviceState::kRegistrationPending), 1);
  EXPECT_EQ(counts->at(core::DeviceState::kRegistrationFailed), 1);
  EXPECT_EQ(counts->at(core::DeviceState::kReadyForUser), 1);
  EXPECT_EQ(counts->at(core::DeviceState::kActive), 0);
  EXPECT_EQ(counts->at(core::DeviceState::kInactive), 0);
  EXPECT_EQ(*store->device_count(), 5);
  EXPECT_EQ(*store->queue_depth(), 3);
}

TEST(StoreDevices, MetaSetGetOverwrite) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->get_meta("tenant"), std::nullopt);
  ASSERT_TRUE(store->set_meta("tenant", "contoso").ok());
  EXPECT_EQ(*store->get_meta("tenant"), "contoso");
  ASSERT_TRUE(store->set_meta("tenant", "fabrikam").ok());
  EXPECT_EQ(*store->get_meta("tenant"), "fabrikam");
  ASSERT_TRUE(store->set_meta("empty", "").ok());
  EXPECT_EQ(*store->get_meta("empty"), "");
}

TEST(StoreDevices, GroupCorrectionsAreKeptInOrderAndGoWithTheDevice) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  auto id = store->insert_device(testing::sample_device("GRP-1"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  ASSERT_TRUE(store->record_group_correction({*id, 2000, "removed", "g-std", "standard"}).ok());
  ASSERT_TRUE(store->record_group_correction({*id, 1000, "added", "g-pow", "power-user"}).ok());
  auto corrections = store->group_corrections("grp-1");  // serials ignore case
  ASSERT_TRUE(corrections.ok()) << corrections.error().message;
  ASSERT_EQ(corrections->size(), 2u);
  EXPECT_EQ((*corrections)[0].action, "added");
  EXPECT_EQ((*corrections)[0].group_id, "g-pow");
  EXPECT_EQ((*corrections)[1].profile, "standard");
  // A removal the sweep held back keeps its reason; the others have none.
  ASSERT_TRUE(store
                  ->record_group_correction(
                      {*id, 2500, "skipped", "g-std", "standard", "its own group failed"})
                  .ok());
  corrections = store->group_corrections("GRP-1");
  ASSERT_EQ(corrections->size(), 3u);
  EXPECT_EQ((*corrections)[0].reason, "");
  EXPECT_EQ((*corrections)[2].action, "skipped");
  EXPECT_EQ((*corrections)[2].reason, "its own group failed");
  // Only 'added', 'removed' and 'skipped' exist.
  EXPECT_FALSE(store->record_group_correction({*id, 3000, "moved", "g", "standard"}).ok());
  EXPECT_EQ(store->group_corrections("NOPE").error().code, kErrNotFound);
  // The log goes with the device.
  ASSERT_TRUE(store->remove_device("GRP-1").ok());
  ASSERT_TRUE(store->insert_device(testing::sample_device("GRP-1")).ok());
  EXPECT_TRUE(store->group_corrections("GRP-1")->empty());
}

// ---- concurrency -------------------------------------------------------------------------------

TEST(StoreConcurrency, ThreadsSharingOneStoreLoseNoWrites) {
  TempDir dir;
  auto store = open_or_die(dir.file("queue.db"));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string serial = "T" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->insert_device(testing::sample_device(serial)).ok()) ++failures;
        if (!store->transition(serial, core::DeviceState::kRegistrationPending, "batch", 2).ok())
          ++failures;
        if (!store->set_meta("last_writer", serial).ok()) ++failures;
        if (!store->queue_depth().ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->device_count(), kThreads * kPerThread);
  EXPECT_EQ(store->count_by_state()->at(core::DeviceState::kRegistrationPending),
            kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(store->history("T" + std::to_string(t) + "-0")->size(), 2u);
  }
}

TEST(StoreConcurrency, TwoStoresOnOneFileLoseNoWrites) {
  // Two connections (as two processes would have) contend for SQLite's write lock; the busy
  // timeout absorbs the waits.
  TempDir dir;
  const auto path = dir.file("queue.db");
  auto first = open_or_die(path);
  auto second = open_or_die(path);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kPerStore = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kPerStore; ++t) {
    Store* store = t % 2 == 0 ? first.get() : second.get();
    threads.emplace_back([&failures, store, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string serial = "T" + std::to_string(t) + "-" + std::to_string(i);
        auto inserted = store->insert_device(testing::sample_device(serial));
        if (!inserted.ok()) {
          ADD_FAILURE() << inserted.error().code << ": " << inserted.error().message;
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*first->device_count(), 2 * kPerStore * kPerThread);
  EXPECT_EQ(*second->device_count(), 2 * kPerStore * kPerThread);
}

TEST(StoreBusy, WritesFailAfterTheBusyTimeoutWhileReadsContinue) {
  TempDir dir;
  const auto path = dir.file("queue.db");
  StoreOptions options;
  options.busy_timeout = std::chrono::milliseconds(200);
  auto store = open_or_die(path, options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->set_meta("k", "before").ok());

  auto holder = Database::open(path, DatabaseOptions{std::chrono::milliseconds(0)});
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(holder->exec("BEGIN IMMEDIATE").ok());  // takes the write lock and keeps it

  const auto start = std::chrono::steady_clock::now();
  auto blocked = store->set_meta("k", "during");
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, kErrBusy);
  EXPECT_THAT(blocked.error().message, HasSubstr(path_to_utf8(path)));
  EXPECT_GE(waited, std::chrono::milliseconds(150)) << "should wait for the busy timeout";
  EXPECT_LT(waited, std::chrono::seconds(3)) << "should give up soon after the busy timeout";

  auto blocked_insert = store->insert_device(testing::sample_device("PF0ABC12"));
  ASSERT_FALSE(blocked_insert.ok());
  EXPECT_EQ(blocked_insert.error().code, kErrBusy);

  // WAL: readers are not blocked by the writer.
  EXPECT_EQ(*store->get_meta("k"), "before");
  EXPECT_EQ(*store->device_count(), 0);

  ASSERT_TRUE(holder->exec("ROLLBACK").ok());
  ASSERT_TRUE(store->set_meta("k", "after").ok());
  EXPECT_EQ(*store->get_meta("k"), "after");
}

}  // namespace
}  // namespace hangar::store
