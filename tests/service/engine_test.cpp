// The registration engine with a fake cloud and a fake clock: batching, Retry-After honoured
// exactly, backoff on 5xx, the write budget, offline probing without a busy loop, crash recovery
// by serial lookup, and each import outcome in the seed's words.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "hangar/cloud/http.h"
#include "hangar/service/engine.h"
#include "waits.h"

namespace hangar::service {
namespace {

using namespace std::chrono_literals;

class FakeCloud final : public cloud::CloudApi {
 public:
  // Errors to return from the next import calls, in order; then success.
  std::deque<core::Error> import_failures;
  bool offline = false;
  std::map<std::string, cloud::ImportRecord> records;  // by record id
  std::map<std::string, int> imports_per_serial;
  int import_calls = 0;
  int lookups = 0;
  int deletes = 0;
  std::vector<std::size_t> batch_sizes;
  // An import call takes this long on this clock (the answer arrives after it).
  core::FakeClock* clock = nullptr;
  std::chrono::milliseconds latency{0};
  // How an imported serial ends: "complete" or an error name.
  std::map<std::string, std::string> outcome;
  // The tenant's Autopilot devices by serial (registered imports land here), and the profile
  // status a registered serial shows (default assignedInSync).
  std::map<std::string, cloud::AutopilotDevice> tenant;
  std::map<std::string, std::string> profile;
  int tag_lists = 0;
  int tag_sets = 0;

  // Errors to return from the next reads of each kind ("tagged", "by_serial", "for_serial",
  // "table", "get"), in order; then the read works.
  std::map<std::string, std::deque<core::Error>> read_failures;
  // Import answers to cut off (kErrInDoubt) after the records were made, and serials an answer
  // leaves out although they were imported.
  int cut_off_answers = 0;
  std::set<std::string> left_out;
  // Records of other tools in the import table.
  int foreign_records = 0;

  std::optional<core::Error> fail(const std::string& kind) {
    auto it = read_failures.find(kind);
    if (it == read_failures.end() || it->second.empty()) return std::nullopt;
    core::Error error = it->second.front();
    it->second.pop_front();
    return error;
  }

  core::Result<std::vector<cloud::ImportRecord>> import_devices(
      std::span<const cloud::ImportItem> items) override {
    ++import_calls;
    if (clock) clock->advance(latency);  // the answer arrives this much later
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (!import_failures.empty()) {
      core::Error error = import_failures.front();
      import_failures.pop_front();
      return error;
    }
    batch_sizes.push_back(items.size());
    std::vector<cloud::ImportRecord> out;
    for (const auto& item : items) {
      cloud::ImportRecord record;
      record.id = "rec-" + item.serial + "-" + std::to_string(++imports_per_serial[item.serial]);
      record.import_id = record.id;  // as Intune answers: one import id per record
      record.serial = item.serial;
      record.status = cloud::ImportStatus::kUnknown;
      records[record.id] = record;
      if (!left_out.contains(item.serial)) out.push_back(record);
    }
    if (cut_off_answers > 0) {
      --cut_off_answers;
      core::Error error = core::make_error(
          cloud::kErrInDoubt, "POST .../import answered HTTP 200 but with a body that is not JSON");
      error.http_status = 200;
      error.request_id = "req-cut-off";
      return error;
    }
    return out;
  }
  // A pending record finishes as `outcome` says when it is read.
  void progress(cloud::ImportRecord& record) {
    const std::string how = outcome.count(record.serial) ? outcome[record.serial] : "complete";
    if (how == "complete") {
      record.status = cloud::ImportStatus::kComplete;
      record.registration_id = "ap-" + record.serial;
      register_device(record.serial);
    } else if (how != "pending") {
      record.status = cloud::ImportStatus::kError;
      record.error_name = how;
      record.request_id = "req-poll-" + record.serial;
    }
  }
  int record_gets = 0;
  core::Result<std::optional<cloud::ImportRecord>> import_record(const std::string& id) override {
    ++record_gets;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("get")) return *error;
    auto it = records.find(id);
    if (it == records.end()) return std::optional<cloud::ImportRecord>();
    progress(it->second);
    return std::optional<cloud::ImportRecord>(it->second);
  }
  int table_lists = 0;
  core::Result<std::vector<cloud::ImportRecord>> list_import_records() override {
    ++table_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("table")) return *error;
    std::vector<cloud::ImportRecord> out;
    for (auto& [id, record] : records) {
      progress(record);
      out.push_back(record);
    }
    for (int i = 0; i < foreign_records; ++i) {
      cloud::ImportRecord other;
      other.id = "foreign-" + std::to_string(i);
      other.serial = "OTHER-TOOL-" + std::to_string(i);
      other.status = cloud::ImportStatus::kComplete;
      out.push_back(other);
    }
    return out;
  }
  core::Result<std::vector<cloud::ImportRecord>> import_records_for_serial(
      const std::string& serial) override {
    ++lookups;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("for_serial")) return *error;
    std::vector<cloud::ImportRecord> out;
    for (const auto& [id, record] : records) {
      if (record.serial == serial) out.push_back(record);
    }
    return out;
  }
  core::Status delete_import_record(const std::string& id) override {
    ++deletes;
    records.erase(id);
    return {};
  }
  void register_device(const std::string& serial) {
    cloud::AutopilotDevice& device = tenant[serial];
    device.id = "ap-" + serial;
    device.serial = serial;
    if (device.group_tag.empty()) device.group_tag = "Microsoft365Managed_Autopilot";
  }
  cloud::AutopilotDevice with_profile(cloud::AutopilotDevice device) {
    device.profile_status =
        profile.count(device.serial) ? profile[device.serial] : "assignedInSync";
    return device;
  }
  // Devices not imported here (806: registered earlier) are in the tenant too.
  core::Result<std::optional<cloud::AutopilotDevice>> find_autopilot_device(
      const std::string& serial) override {
    ++lookups;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("by_serial")) return *error;
    register_device(serial);
    return std::optional<cloud::AutopilotDevice>(with_profile(tenant[serial]));
  }
  core::Result<std::vector<cloud::AutopilotDevice>> list_autopilot_devices_tagged(
      const std::string& tag) override {
    ++tag_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("tagged")) return *error;
    std::vector<cloud::AutopilotDevice> out;
    for (const auto& [serial, device] : tenant) {
      if (device.group_tag == tag) out.push_back(with_profile(device));
    }
    return out;
  }
  // Lifecycle: enrollment on the tenant's identities, last syncs by managed device id.
  std::map<std::string, std::int64_t> last_sync;  // managed id -> ms
  int enrollment_lists = 0;
  int managed_lists = 0;
  // Every device, every field (the activity pass, the tag sweep, the fallback of the filters).
  core::Result<std::vector<cloud::AutopilotDevice>> list_autopilot_devices() override {
    ++enrollment_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    std::vector<cloud::AutopilotDevice> out;
    for (const auto& [serial, device] : tenant) out.push_back(with_profile(device));
    return out;
  }
  core::Result<std::vector<cloud::ManagedDevice>> list_managed_devices() override {
    ++managed_lists;
    std::vector<cloud::ManagedDevice> out;
    for (const auto& [id, at] : last_sync) out.push_back({id, at});
    return out;
  }
  std::map<std::string, std::vector<std::string>> users;  // upn -> sku ids
  std::map<std::string, std::string> assigned;            // autopilot id -> upn
  core::Result<std::optional<cloud::UserLicences>> find_user(const std::string& upn) override {
    auto it = users.find(upn);
    if (it == users.end()) return std::optional<cloud::UserLicences>();
    return std::optional<cloud::UserLicences>(cloud::UserLicences{upn, it->second});
  }
  std::deque<core::Error> assign_failures;
  core::Status assign_user(const std::string& id, const std::string& upn) override {
    if (!assign_failures.empty()) {
      core::Error error = assign_failures.front();
      assign_failures.pop_front();
      return error;
    }
    assigned[id] = upn;
    return {};
  }
  void enroll(const std::string& serial, std::int64_t synced_at) {
    tenant[serial].enrollment_state = "enrolled";
    tenant[serial].managed_device_id = "md-" + serial;
    last_sync["md-" + serial] = synced_at;
  }
  // Entra ID: groups (id -> member object ids) and device objects (Entra device id -> object id).
  std::map<std::string, std::set<std::string>> groups;
  std::map<std::string, std::string> directory;
  int group_lists = 0;
  int member_adds = 0;
  int member_removes = 0;
  std::vector<std::size_t> lookup_sizes;  // device ids per lookup call
  std::deque<core::Error> group_write_failures;
  std::map<std::string, core::Error> refused;  // group id -> what every write to it answers
  std::map<std::string, std::set<std::string>> unlisted;  // group -> objects its list omits
  std::vector<std::string> writes;                        // "add|remove GROUP OBJECT", in order
  // The device enrolls and joins Entra ID: its identity carries the id, the directory its object.
  void join(const std::string& serial, const std::string& device_id) {
    tenant[serial].azure_ad_device_id = device_id;
    directory[device_id] = "obj-" + device_id;
  }
  core::Result<std::vector<cloud::DirectoryDevice>> list_group_devices(
      const std::string& group_id) override {
    ++group_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    auto group = groups.find(group_id);
    if (group == groups.end()) {
      return core::make_error(
          cloud::kErrRejected,
          "GET .../groups/" + group_id + " answered HTTP 404: Request_ResourceNotFound");
    }
    std::vector<cloud::DirectoryDevice> out;
    for (const auto& [device_id, object_id] : directory) {
      if (group->second.contains(object_id) && !unlisted[group_id].contains(object_id)) {
        out.push_back({object_id, device_id});
      }
    }
    return out;
  }
  core::Result<std::vector<cloud::DirectoryDevice>> find_directory_devices(
      std::span<const std::string> device_ids) override {
    lookup_sizes.push_back(device_ids.size());
    std::vector<cloud::DirectoryDevice> out;
    for (const auto& id : device_ids) {
      if (auto it = directory.find(id); it != directory.end()) out.push_back({it->second, id});
    }
    return out;
  }
  core::Result<bool> add_group_member(const std::string& group_id,
                                      const std::string& object_id) override {
    ++member_adds;
    writes.push_back("add " + group_id + " " + object_id);
    if (auto it = refused.find(group_id); it != refused.end()) return it->second;
    if (!group_write_failures.empty()) {
      core::Error error = group_write_failures.front();
      group_write_failures.pop_front();
      return error;
    }
    return groups[group_id].insert(object_id).second;
  }
  core::Result<bool> remove_group_member(const std::string& group_id,
                                         const std::string& object_id) override {
    ++member_removes;
    writes.push_back("remove " + group_id + " " + object_id);
    if (auto it = refused.find(group_id); it != refused.end()) return it->second;
    if (!group_write_failures.empty()) {
      core::Error error = group_write_failures.front();
      group_write_failures.pop_front();
      return error;
    }
    return groups[group_id].erase(object_id) > 0;
  }
  std::deque<core::Error> tag_set_failures;  // answers of the next set_group_tag calls
  core::Status set_group_tag(const std::string& id, const std::string& tag) override {
    ++tag_sets;
    if (!tag_set_failures.empty()) {
      core::Error error = tag_set_failures.front();
      tag_set_failures.pop_front();
      return error;
    }
    for (auto& [serial, device] : tenant) {
      if (device.id == id) device.group_tag = tag;
    }
    return {};
  }
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("hangar-engine-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    store_ = std::move(store::Store::open(path_)).value();
    config_.batch_size = 10;
    config_.poll_interval = 30s;
    config_.seed = 42;
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  void queue(const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      store::NewDevice device;
      device.serial = prefix + std::to_string(i);
      device.hardware_hash = std::vector<std::uint8_t>{'O', 'A', static_cast<std::uint8_t>(i)};
      device.profile = "standard";
      device.created_at = clock_.now_ms();
      ASSERT_TRUE(store_->insert_device(device).ok());
    }
  }
  void queue_profile(const std::string& serial, const std::string& profile) {
    store::NewDevice device;
    device.serial = serial;
    device.hardware_hash = std::vector<std::uint8_t>{'O', 'A', 'G'};
    device.hardware_hash->insert(device.hardware_hash->end(), serial.begin(), serial.end());
    device.profile = profile;
    device.created_at = clock_.now_ms();
    ASSERT_TRUE(store_->insert_device(device).ok());
  }
  std::int64_t count(const char* state) { return store_->count_by_state()->at(state); }
  // Runs passes, moving the fake clock by each pass's own delay, until `total` has passed.
  void run_for(std::chrono::milliseconds total, Engine& engine) {
    const std::int64_t end = clock_.now_ms() + total.count();
    while (clock_.now_ms() < end) {
      auto delay = engine.step();
      clock_.advance(std::max(delay, std::chrono::milliseconds(1)));
    }
  }

  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
  core::FakeClock clock_;
  FakeCloud cloud_;
  EngineConfig config_;
};

TEST_F(EngineTest, BatchesUploadPollAndFinishInTheSeedsWords) {
  queue("D", 23);
  cloud_.outcome["D3"] = "ZtdDeviceAssignedToOtherTenant";
  cloud_.outcome["D4"] = "ZtdDeviceAlreadyAssigned";
  Engine engine(*store_, cloud_, clock_, config_);
  // One import call per pass; the passes follow each other at once while work is due.
  EXPECT_EQ(engine.step(), 0ms);
  EXPECT_EQ(engine.step(), 0ms);
  EXPECT_EQ(engine.step(), 30s);  // all sent: next is the poll
  EXPECT_EQ(cloud_.batch_sizes, (std::vector<std::size_t>{10, 10, 3}));
  EXPECT_EQ(count("registration_pending"), 23);
  run_for(31s, engine);
  // One pass: the import table listed once (three import calls, 23 records: one page), the
  // finished devices registered and their profiles confirmed in the same pass.
  EXPECT_EQ(cloud_.table_lists, 1);
  EXPECT_EQ(cloud_.record_gets, 0) << "one table list is cheaper than 23 GETs";
  EXPECT_EQ(cloud_.tag_lists, 1);  // one list per group tag confirms all 22
  EXPECT_EQ(store_->get_device("D0")->cloud_device_id, "ap-D0");
  EXPECT_EQ(count("ready_for_user"), 22);
  EXPECT_EQ(count("registration_failed"), 1);
  EXPECT_EQ(store_->get_device("D3")->failure_reason, "Device claimed by another organization");
  EXPECT_EQ(store_->get_device("D4")->last_error,
            "ZtdDeviceAlreadyAssigned: Device already registered");
  EXPECT_EQ(store_->history("D0")->back().reason,
            "registered; deployment profile assigned (assignedInSync)");
  EXPECT_EQ(cloud_.tag_lists, 1);
  EXPECT_EQ(cloud_.lookups, 1);  // D4 (806) only: is it really in the tenant?
  EXPECT_EQ(cloud_.deletes, 23);
  EXPECT_TRUE(cloud_.records.empty());
}

TEST_F(EngineTest, AnUnknownImportErrorShowsTheRequestIdOfThePollThatReportedIt) {
  queue("U", 1);
  cloud_.outcome["U0"] = "SomethingNew";
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(31s, engine);
  const auto device = store_->get_device("U0");
  EXPECT_EQ(device->state, "registration_failed");
  EXPECT_EQ(device->failure_reason, "Unexpected error (Request ID: req-poll-U0)");
  EXPECT_EQ(device->request_id, "req-poll-U0");
}

TEST_F(EngineTest, ReadyForUserWaitsForTheDeploymentProfile) {
  queue("F", 3);
  cloud_.profile["F0"] = "pending";
  cloud_.profile["F1"] = "failed";
  cloud_.profile["F2"] = "notAssigned";
  config_.pending_threshold = 5min;
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(2min, engine);
  EXPECT_EQ(count("registration_pending"), 3);
  EXPECT_NE(store_->get_device("F1")->last_error->find("could not assign the deployment profile"),
            std::string::npos);
  EXPECT_FALSE(store_->get_device("F0")->last_error.has_value());
  cloud_.profile["F0"] = "assignedUnkownSyncState";
  cloud_.profile["F1"] = "assignedOutOfSync";
  run_for(31s, engine);
  EXPECT_EQ(count("ready_for_user"), 2);
  EXPECT_FALSE(store_->get_device("F1")->last_error.has_value())
      << "the old profile problem does not stay on a device that is Ready for user";
  // Still not assigned after the threshold: flagged as a long Registration Pending, once.
  run_for(5min, engine);
  EXPECT_EQ(store_->get_device("F2")->state, "registration_pending");
  EXPECT_TRUE(store_->get_device("F2")->pending_flagged_at.has_value());
}

TEST_F(EngineTest, ActivityMonitorMovesEnrolledDevicesThroughActiveAndInactive) {
  queue("A", 3);
  config_.activity_interval = 1h;
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(61s, engine);
  ASSERT_EQ(count("ready_for_user"), 3);
  // A0 synced an hour ago, A1 eight days ago, A2 never enrolled.
  cloud_.enroll("A0", clock_.now_ms() - 3'600'000);
  cloud_.enroll("A1", clock_.now_ms() - 8 * 86'400'000LL);
  engine.refresh();
  engine.step();
  EXPECT_EQ(store_->get_device("A0")->state, "active");
  EXPECT_EQ(store_->get_device("A0")->managed_device_id, "md-A0");
  EXPECT_EQ(store_->get_device("A1")->state, "inactive");
  EXPECT_EQ(store_->history("A1")->back().reason,
            "not used in the last 7 days (last sync 8 days ago)");
  EXPECT_EQ(store_->get_device("A2")->state, "ready_for_user");
  auto pass = engine.status().activity;
  EXPECT_EQ(pass.devices, 3);
  EXPECT_EQ(pass.active, 1);
  EXPECT_EQ(pass.inactive, 1);
  EXPECT_EQ(pass.requests, 2) << "one enrollment list and one managed-device list";
  // Nothing changed: a second pass writes nothing.
  engine.refresh();
  engine.step();
  EXPECT_EQ(engine.status().activity.written, 0);
  // Seven days later A0 has not synced again: Inactive. A1 syncs: Active again.
  cloud_.last_sync["md-A1"] = clock_.now_ms() + 7 * 86'400'000LL - 60'000;
  clock_.advance(std::chrono::hours(24 * 7));
  engine.step();  // the hourly pass is due
  EXPECT_EQ(store_->get_device("A0")->state, "inactive");
  EXPECT_EQ(store_->get_device("A1")->state, "active");
  EXPECT_EQ(engine.status().activity.written, 2);
  const auto history = store_->history("A1");
  ASSERT_GE(history->size(), 2u);
  EXPECT_EQ((*history)[history->size() - 2].to_state, "inactive");
  EXPECT_EQ(history->back().to_state, "active");
}

TEST_F(EngineTest, PartnerRegisteredDevicesWithOurTagAreAddedAndTracked) {
  queue("Q", 1);
  cloud::AutopilotDevice partner{"ap-P1", "P1", "Microsoft365Managed_Autopilot", "Contoso", "L7"};
  cloud_.tenant["P1"] = partner;
  cloud_.tenant["X1"] = cloud::AutopilotDevice{"ap-X1", "X1", "AnotherTeam"};
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(61s, engine);
  const auto added = store_->get_device("P1");
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(added->partner_registered);
  EXPECT_EQ(added->state, "ready_for_user");
  EXPECT_EQ(added->manufacturer, "Contoso");
  EXPECT_EQ(added->cloud_device_id, "ap-P1") << "tracked by the same pass";
  EXPECT_FALSE(store_->get_device("X1").ok()) << "another group tag is not ours";
  EXPECT_EQ(store_->get_device("Q0")->partner_registered, false);
  EXPECT_EQ(engine.status().activity.partners_added, 1);
  engine.refresh();
  engine.step();
  EXPECT_EQ(engine.status().activity.partners_added, 0);
}

TEST_F(EngineTest, DeliveryChecksTheUserAndLicencesThenAssignsAndRecords) {
  queue("V", 2);
  config_.required_licenses = {"sku-e3", "sku-intune"};
  cloud_.users["ada@contoso.com"] = {"SKU-E3", "sku-intune", "sku-other"};
  cloud_.users["bob@contoso.com"] = {"sku-e3"};
  Engine engine(*store_, cloud_, clock_, config_);
  engine.step();  // V0 and V1 uploaded; registered after the polls below
  {
    core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
    auto early = engine.deliver("V0", "ada@contoso.com", 5s);
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, "conflict");
    EXPECT_NE(early.error().message.find("not Ready for user yet"), std::string::npos);
  }
  run_for(61s, engine);
  ASSERT_EQ(count("ready_for_user"), 2);
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });

  auto nobody = engine.deliver("V0", "eve@contoso.com", 5s);
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, "not_found");
  EXPECT_NE(nobody.error().message.find("no user eve@contoso.com"), std::string::npos);

  auto unlicensed = engine.deliver("V0", "bob@contoso.com", 5s);
  ASSERT_FALSE(unlicensed.ok());
  EXPECT_EQ(unlicensed.error().code, "invalid_argument");
  EXPECT_NE(unlicensed.error().message.find("lacks 1 required licence(s): sku-intune"),
            std::string::npos)
      << unlicensed.error().message;
  EXPECT_TRUE(cloud_.assigned.empty()) << "nothing assigned while the licences are missing";

  auto delivered = engine.deliver("V0", "ada@contoso.com", 5s);
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  EXPECT_EQ(delivered->delivered_to, "ada@contoso.com");
  EXPECT_EQ(delivered->assigned_user, "ada@contoso.com");
  EXPECT_TRUE(delivered->delivered_at.has_value());
  EXPECT_EQ(cloud_.assigned["ap-V0"], "ada@contoso.com");

  auto twice = engine.deliver("V0", "ada@contoso.com", 5s);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("already delivered to ada@contoso.com"), std::string::npos);
  EXPECT_FALSE(engine.deliver("NOPE", "ada@contoso.com", 5s).ok());
}

// Stop requests and wake-ups at random moments while run() works on its own thread, with every
// pass due far in the future (the fake clock never moves, so the engine's next pass is 30 s to an
// hour away): each stop must end run() within a second. Under Wine this once hung for ever in
// std::stop_callback's destructor (core/stop.h).
TEST_F(EngineTest, StopsAndWakeupsAtRandomMomentsEndRunAtOnce) {
  queue("S", 3);
  config_.required_licenses = {"sku-e3"};
  Engine engine(*store_, cloud_, clock_, config_);
  std::mt19937 random(20261201);
  constexpr int kRounds = 1000;
  test::StopRounds worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  for (int round = 0; round < kRounds; ++round) {
    worker.start();
    for (auto n = random() % 4; n > 0; --n) {
      test::spin_for(std::chrono::microseconds(random() % 300));
      switch (random() % 3) {
        case 0:
          engine.notify();
          break;
        case 1:
          engine.pause();
          engine.resume();
          break;
        default:
          // A delivery queues a job for the engine's thread and notifies it.
          EXPECT_FALSE(engine.deliver("S0", "nobody@contoso.com", 2s).ok());
      }
    }
    test::spin_for(std::chrono::microseconds(random() % 500));
    worker.stop(1000ms, "round " + std::to_string(round) + ": Engine::run seeing its stop");
  }
}

TEST_F(EngineTest, ActivityMonitorRunsHourlyNotOnEveryPass) {
  queue("B", 1);
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(61s, engine);
  const int lists = cloud_.enrollment_lists;
  run_for(30min, engine);
  EXPECT_EQ(cloud_.enrollment_lists, lists);
  run_for(31min, engine);
  EXPECT_EQ(cloud_.enrollment_lists, lists + 1);
}

TEST_F(EngineTest, ADeviceWhoseTagWasChangedIsFoundBySerialAndRetagged) {
  queue("G", 2);
  // Someone else's tool re-tags G1 as soon as it is registered.
  cloud_.tenant["G1"].group_tag = "SomeoneElsesTag";
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(31s, engine);
  EXPECT_EQ(count("ready_for_user"), 2);
  EXPECT_EQ(cloud_.tag_sets, 1);
  EXPECT_EQ(cloud_.tenant["G1"].group_tag, "Microsoft365Managed_Autopilot");
}

TEST_F(EngineTest, RetryAfterIsHonouredExactly) {
  queue("T", 2);
  core::Error throttled = core::make_error(cloud::kErrThrottled, "429");
  throttled.retry_after = 7s;
  cloud_.import_failures.push_back(throttled);
  Engine engine(*store_, cloud_, clock_, config_);
  const auto delay = engine.step();
  EXPECT_EQ(cloud_.import_calls, 1);
  EXPECT_EQ(delay, 7s);
  EXPECT_EQ(engine.status().throttled, 1);
  clock_.advance(6999ms);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, 1) << "sent again before Retry-After passed";
  clock_.advance(1ms);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, 2);
  EXPECT_EQ(count("registration_pending"), 2);
}

core::Error throttled_for(std::chrono::seconds wait) {
  core::Error error = core::make_error(
      cloud::kErrThrottled,
      R"(HTTP 429: {"error":{"code":"TooManyRequests","message":"{\"_version\": 3, \"Message\": \"Too many requests\"}"}})");
  error.http_status = 429;
  error.retry_after = wait;
  return error;
}

// Defect (issue 12): a Retry-After was counted from the start of the pass, so a slow answer's
// wait ended early by the time the call took, and the retry was throttled again.
TEST_F(EngineTest, RetryAfterCountsFromTheAnswersArrivalNotThePassStart) {
  queue("L", 1);
  cloud_.clock = &clock_;
  cloud_.latency = 300ms;
  cloud_.import_failures.push_back(throttled_for(7s));
  Engine engine(*store_, cloud_, clock_, config_);
  const std::int64_t started = clock_.now_ms();
  engine.step();
  ASSERT_EQ(cloud_.import_calls, 1);
  cloud_.latency = 0ms;
  clock_.advance(std::chrono::milliseconds(started + 7000 - clock_.now_ms()));
  engine.step();
  EXPECT_EQ(cloud_.import_calls, 1) << "sent 300 ms before the Retry-After ended";
  clock_.advance(300ms);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, 2);
}

// Defect (issue 12): a 429 on the tag write of confirm() was dropped: no block, the next device's
// write went out at once, and the device was declared Ready for user without its group tag.
TEST_F(EngineTest, AThrottledTagWriteWhileConfirmingHoldsEveryWriteAndTheDevice) {
  queue("H", 2);
  cloud_.tenant["H0"].group_tag = "SomeoneElsesTag";
  cloud_.tenant["H1"].group_tag = "SomeoneElsesTag";
  cloud_.tag_set_failures.push_back(throttled_for(30s));
  Engine engine(*store_, cloud_, clock_, config_);
  engine.step();  // both uploaded
  clock_.advance(30s);
  engine.step();  // polled: registered, confirmed; H0's tag write is throttled
  EXPECT_EQ(cloud_.tag_sets, 1) << "a second write went out inside the Retry-After";
  EXPECT_EQ(count("ready_for_user"), 0) << "Ready for user without the group tag";
  EXPECT_EQ(engine.status().throttled, 1);
  queue_profile("J0", "standard");
  const int imports = cloud_.import_calls;
  clock_.advance(10s);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, imports) << "an import went out inside the Retry-After";
  run_for(60s, engine);
  EXPECT_EQ(cloud_.tenant["H0"].group_tag, "Microsoft365Managed_Autopilot");
  EXPECT_EQ(cloud_.tenant["H1"].group_tag, "Microsoft365Managed_Autopilot");
  EXPECT_EQ(count("ready_for_user"), 3);
}

// Defect (issue 12): the daily tag sweep dropped the wait on_failure() returned for a 429.
TEST_F(EngineTest, AThrottledTagSweepWriteHoldsTheImports) {
  queue("K", 1);
  config_.sweep_interval = 2min;
  config_.activity_interval = 24h;
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(61s, engine);
  ASSERT_EQ(count("ready_for_user"), 1);
  cloud_.tenant["K0"].group_tag.clear();  // someone removed it: the sweep puts it back
  cloud_.tag_set_failures.push_back(throttled_for(60s));
  clock_.advance(2min);
  engine.step();  // the sweep is due: its write is throttled
  ASSERT_EQ(cloud_.tag_sets, 1);
  queue_profile("M0", "standard");
  const int imports = cloud_.import_calls;
  clock_.advance(5s);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, imports) << "an import went out inside the Retry-After";
  clock_.advance(55s);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, imports + 1);
}

// Defect (issue 12): `hangar deliver` wrote inside the engine's Retry-After window, and a 429
// reached the operator as Intune's raw JSON.
TEST_F(EngineTest, DeliveryInsideAThrottleWindowWritesNothingAndSaysWhenToTryAgain) {
  queue("W", 1);
  cloud_.users["ada@contoso.com"] = {};
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(61s, engine);
  ASSERT_EQ(count("ready_for_user"), 1);
  queue_profile("X0", "standard");
  cloud_.import_failures.push_back(throttled_for(45s));
  engine.step();
  ASSERT_EQ(engine.status().throttled, 1);
  {
    core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
    auto refused = engine.deliver("W0", "ada@contoso.com", 2s);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "the cloud is throttling Hangar; try again in 45 s");
    EXPECT_TRUE(cloud_.assigned.empty()) << "a write went out inside the Retry-After";
  }
  // The operator's own write answered 429: the same sentence, never Intune's JSON.
  clock_.advance(45s);
  cloud_.assign_failures.push_back(throttled_for(20s));
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  auto throttled = engine.deliver("W0", "ada@contoso.com", 2s);
  ASSERT_FALSE(throttled.ok());
  EXPECT_EQ(throttled.error().message, "the cloud is throttling Hangar; try again in 20 s");
  EXPECT_EQ(throttled.error().message.find("TooManyRequests"), std::string::npos);
}

TEST_F(EngineTest, ServerErrorsBackOffWithJitterUnderTheCap) {
  queue("S", 1);
  for (int i = 0; i < 6; ++i)
    cloud_.import_failures.push_back(core::make_error(cloud::kErrTransient, "503"));
  config_.backoff_base = 1s;
  config_.backoff_cap = 8s;
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(60s, engine);
  EXPECT_EQ(cloud_.import_calls, 7);  // six failures, then success
  EXPECT_EQ(count("registration_pending") + count("ready_for_user"), 1);
  EXPECT_EQ(store_->get_device("S0")->attempts, 7);
}

TEST_F(EngineTest, FullJitterStaysWithinBaseTimesTwoToTheAttemptAndTheCap) {
  std::mt19937_64 rng(1);
  for (int attempt = 0; attempt < 12; ++attempt) {
    for (int i = 0; i < 200; ++i) {
      const auto wait = full_jitter(attempt, 100ms, 5s, rng);
      EXPECT_GE(wait.count(), 0);
      EXPECT_LE(wait, std::min<std::chrono::milliseconds>(5s, 100ms * (1 << attempt)));
    }
  }
}

TEST_F(EngineTest, WriteBudgetIsNeverExceeded) {
  RateBudget budget(3, 20s);
  std::int64_t now = 0;
  EXPECT_EQ(budget.wait_ms(now), 0);
  budget.record(now);
  budget.record(now + 1000);
  budget.record(now + 2000);
  EXPECT_EQ(budget.wait_ms(now + 2000), 18000);
  EXPECT_EQ(budget.wait_ms(now + 20000), 0);
}

TEST_F(EngineTest, OfflineProbesEveryFewSecondsAndResumesWhenTheNetworkReturns) {
  queue("N", 3);
  cloud_.offline = true;
  config_.offline_probe = 5s;
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(60s, engine);
  EXPECT_FALSE(engine.status().online);
  // About one attempt per probe interval, never a busy loop: the first upload, then a look at the
  // import table for the devices it left in doubt (the request may have arrived) every 5 s.
  const int attempts = cloud_.import_calls + cloud_.lookups + cloud_.table_lists;
  EXPECT_LE(attempts, 14);
  EXPECT_GE(attempts, 11);
  EXPECT_EQ(count("queued"), 3);
  cloud_.offline = false;
  run_for(6s, engine);
  EXPECT_TRUE(engine.status().online);
  EXPECT_EQ(count("queued"), 0);
  // Each device reached the cloud once, although every offline attempt left it in doubt.
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
}

TEST_F(EngineTest, AfterACrashInDoubtDevicesAreLookedUpNotSentTwice) {
  queue("C", 4);
  {
    // The previous run claimed and sent C0 and C1, then died before recording the answer.
    auto claimed = store_->claim_upload_batch(clock_.now_ms(), 2);
    ASSERT_EQ(claimed->size(), 2u);
    std::vector<cloud::ImportItem> items{{"C0", "", "", "", ""}, {"C1", "", "", "", ""}};
    ASSERT_TRUE(cloud_.import_devices(items).ok());
  }
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(61s, engine);
  EXPECT_EQ(count("ready_for_user"), 4);
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
}

TEST_F(EngineTest, ABadRecordIsIsolatedByHalvingTheBatch) {
  queue("H", 4);
  core::Error bad = core::make_error(
      cloud::kErrRejected, "Cannot convert the literal 'x' to the expected type 'Edm.Binary'");
  bad.request_id = "req-1";
  // Whole batch refused, then halves: [H0,H1] fine, [H2,H3] refused, H2 fine, H3 refused.
  cloud_.import_failures = {bad};
  Engine engine(*store_, cloud_, clock_, config_);
  engine.step();
  EXPECT_EQ(cloud_.batch_sizes, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(count("registration_pending"), 4);
}

TEST_F(EngineTest, PausedEngineSendsNothingUntilResumed) {
  queue("P", 2);
  Engine engine(*store_, cloud_, clock_, config_);
  engine.pause();
  run_for(10s, engine);
  EXPECT_EQ(cloud_.import_calls, 0);
  EXPECT_TRUE(engine.status().paused);
  engine.resume();
  engine.step();
  EXPECT_EQ(cloud_.import_calls, 1);
}

// ---- what the real service does (issue 10) ----

core::Error http_failure(const char* code, int status, const std::string& request_id) {
  core::Error error = core::make_error(
      code, "GET https://graph.example/beta/... answered HTTP " + std::to_string(status) +
                ": InternalServerError: An internal server error has occurred");
  error.http_status = status;
  error.request_id = request_id;
  return error;
}

class RecordingSink final : public EventSink {
 public:
  void write(const EventEntry& entry) override { entries.push_back(entry); }
  std::vector<EventEntry> entries;
};

TEST_F(EngineTest, ACutOffImportAnswerPutsTheBatchInDoubtAndItIsLookedUpNotSentAgain) {
  queue("K", 12);
  config_.batch_size = 6;
  cloud_.cut_off_answers = 2;  // both import calls were taken, their answers lost
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(2min, engine);
  EXPECT_EQ(count("ready_for_user"), 12);
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
  EXPECT_EQ(cloud_.imports_per_serial.size(), 12u);
}

TEST_F(EngineTest, ADeviceMissingFromAnImportAnswerIsLookedUpNotSentAgain) {
  queue("M", 3);
  cloud_.left_out = {"M1"};
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(2min, engine);
  EXPECT_EQ(count("ready_for_user"), 3);
  EXPECT_EQ(cloud_.imports_per_serial["M1"], 1);
}

TEST_F(EngineTest, RecoveryListsTheImportTableWhenTheSerialFilterIsRefused) {
  queue("R", 1);
  cloud_.cut_off_answers = 1;
  // One in-doubt device: one contains() lookup is cheaper than the table, but it is refused.
  cloud_.read_failures["for_serial"] = {http_failure(cloud::kErrRejected, 400, "req-400")};
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(2min, engine);
  EXPECT_EQ(cloud_.lookups, 1);
  EXPECT_GE(cloud_.table_lists, 1);
  EXPECT_EQ(count("ready_for_user"), 1);
  EXPECT_EQ(cloud_.imports_per_serial["R0"], 1) << "found in the table, not imported again";
}

TEST_F(EngineTest, ARefusedFilterFallsBackAfterThreePassesNeedsAttentionAndIsRetriedLater) {
  queue("Z", 2);
  config_.poll_interval = 30s;
  for (int i = 0; i < 50; ++i) {
    cloud_.read_failures["tagged"].push_back(
        http_failure(cloud::kErrTransient, 500, "req-500-" + std::to_string(i)));
  }
  RecordingSink sink;
  Engine engine(*store_, cloud_, clock_, config_);
  engine.set_event_sink(&sink);
  run_for(20min, engine);
  // Three passes refused, then every Autopilot device listed instead: Ready for user after all.
  EXPECT_EQ(count("ready_for_user"), 2);
  EXPECT_EQ(cloud_.tag_lists, 3) << "not asked again once refused three passes running";
  const EngineStatus status = engine.status();
  ASSERT_EQ(status.refused_requests.size(), 1u);
  const RefusedRequest& refused = status.refused_requests.front();
  EXPECT_EQ(refused.form_id, "autopilot.by_group_tag");
  EXPECT_EQ(refused.http_status, 500);
  EXPECT_EQ(refused.request_id, "req-500-2");
  EXPECT_EQ(refused.passes, 3);
  EXPECT_NE(refused.fallback.find("every Autopilot device"), std::string::npos);
  ASSERT_EQ(sink.entries.size(), 1u);
  EXPECT_EQ(sink.entries[0].id, EventId::kCloudRequestRefused);
  EXPECT_EQ(sink.entries[0].level, EventLevel::kError);
  EXPECT_EQ(sink.entries[0].strings.at(4), "req-500-2");
  // The last error names its time; the fallback's success resolved it.
  EXPECT_NE(status.last_error.find("req-500-2"), std::string::npos) << status.last_error;
  EXPECT_GT(status.last_error_at, 0);
  EXPECT_GE(status.last_error_resolved_at, status.last_error_at);

  // Six hours later the filter is asked again, and accepted: the problem is over.
  cloud_.read_failures["tagged"].clear();
  run_for(std::chrono::hours(6), engine);
  queue_profile("Y0", "standard");
  run_for(2min, engine);
  EXPECT_EQ(count("ready_for_user"), 3);
  EXPECT_GT(cloud_.tag_lists, 3);
  EXPECT_TRUE(engine.status().refused_requests.empty());
  ASSERT_EQ(sink.entries.size(), 2u);
  EXPECT_EQ(sink.entries[1].id, EventId::kCloudRequestAccepted);
}

TEST_F(EngineTest, ThrottlingIsNotARefusalOfTheForm) {
  queue("W", 1);
  for (int i = 0; i < 6; ++i) {
    core::Error throttled = http_failure(cloud::kErrThrottled, 429, "req-429");
    throttled.retry_after = 1s;
    cloud_.read_failures["tagged"].push_back(throttled);
  }
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(10min, engine);
  EXPECT_EQ(count("ready_for_user"), 1);
  EXPECT_TRUE(engine.status().refused_requests.empty());
  EXPECT_EQ(cloud_.enrollment_lists, 1) << "only the activity pass lists every device";
}

TEST_F(EngineTest, AFewPendingRecordsInABigImportTableAreReadOneByOne) {
  queue("B", 2);
  cloud_.foreign_records = 4500;  // other tools' records: five pages
  cloud_.outcome["B0"] = "pending";
  cloud_.outcome["B1"] = "pending";
  Engine engine(*store_, cloud_, clock_, config_);
  run_for(31s, engine);
  EXPECT_EQ(cloud_.table_lists, 1) << "the first poll learns how big the table is";
  EXPECT_EQ(cloud_.record_gets, 0);
  run_for(61s, engine);
  EXPECT_EQ(cloud_.table_lists, 1);
  // Polls at 60, 90 and 120 s, two GETs each: cheaper than five pages each.
  EXPECT_EQ(cloud_.record_gets, 6);
  cloud_.outcome.clear();
  run_for(31s, engine);
  EXPECT_EQ(count("ready_for_user"), 2);
}

// ---- profile groups ----

constexpr const char* kStandardGroup = "6d1c2b8e-0000-4000-8000-000000000001";
constexpr const char* kPowerGroup = "6d1c2b8e-0000-4000-8000-000000000002";

class GroupSweepTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    config_.profile_groups = {{"standard", kStandardGroup}, {"power-user", kPowerGroup}};
    cloud_.groups[kStandardGroup];
    cloud_.groups[kPowerGroup];
  }
  // Registers the queued devices (Ready for user) and lets the first sweep, at start-up, pass.
  void register_all(Engine& engine) {
    run_for(31s, engine);
    ASSERT_EQ(count("queued") + count("registration_pending"), 0);
  }
  // An activity pass (to read the Entra ID device ids) followed by a sweep, as `hangar sync`.
  void sync(Engine& engine) {
    engine.refresh();
    ASSERT_TRUE(engine.sweep_groups());
    engine.step();
  }
  std::vector<std::string> corrections(const std::string& serial) {
    std::vector<std::string> out;
    auto rows = store_->group_corrections(serial);
    EXPECT_TRUE(rows.ok());
    for (const auto& c : *rows) {
      out.push_back(c.action + " " + c.group_id + " " + c.profile);
    }
    return out;
  }
  // The reasons of a device's skipped removals, oldest first.
  std::vector<std::string> skip_reasons(const std::string& serial) {
    std::vector<std::string> out;
    auto rows = store_->group_corrections(serial);
    EXPECT_TRUE(rows.ok());
    for (const auto& c : *rows) {
      if (c.action == "skipped") out.push_back(c.reason);
    }
    return out;
  }
};

TEST_F(GroupSweepTest, PutsOurDevicesBackInTheirProfilesGroupAndOutOfTheOthers) {
  queue_profile("S0", "standard");    // moved by hand into the power-user group
  queue_profile("S1", "standard");    // where it belongs
  queue_profile("P0", "power-user");  // in no group at all
  queue_profile("S2", "standard");    // registered, never enrolled: no Entra ID device yet
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  cloud_.join("S0", "dev-s0");
  cloud_.join("S1", "dev-s1");
  cloud_.join("P0", "dev-p0");
  cloud_.directory["dev-other"] = "obj-dev-other";  // not ours: never touched
  cloud_.groups[kPowerGroup] = {"obj-dev-s0", "obj-dev-other"};
  cloud_.groups[kStandardGroup] = {"obj-dev-s1", "obj-dev-other"};
  const int lists_before = cloud_.group_lists;

  sync(engine);

  EXPECT_EQ(store_->get_device("S0")->azure_ad_device_id, "dev-s0");  // read by the activity pass
  EXPECT_EQ(cloud_.groups[kStandardGroup],
            (std::set<std::string>{"obj-dev-s0", "obj-dev-s1", "obj-dev-other"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{"obj-dev-p0", "obj-dev-other"}));
  EXPECT_EQ(corrections("S0"),
            (std::vector<std::string>{std::string("added ") + kStandardGroup + " standard",
                                      std::string("removed ") + kPowerGroup + " power-user"}));
  EXPECT_EQ(corrections("P0"),
            (std::vector<std::string>{std::string("added ") + kPowerGroup + " power-user"}));
  EXPECT_TRUE(corrections("S1").empty());
  // S0 left the power-user group only after it was in its own.
  EXPECT_EQ(cloud_.writes,
            (std::vector<std::string>{std::string("add ") + kStandardGroup + " obj-dev-s0",
                                      std::string("remove ") + kPowerGroup + " obj-dev-s0",
                                      std::string("add ") + kPowerGroup + " obj-dev-p0"}));
  // One list per group; S0's object id came from a listing, so only P0 was looked up.
  EXPECT_EQ(cloud_.group_lists - lists_before, 2);
  EXPECT_EQ(cloud_.lookup_sizes, (std::vector<std::size_t>{1}));
  const EngineStatus status = engine.status();
  EXPECT_TRUE(status.groups_configured);
  EXPECT_FALSE(status.group_sweep_running);
  EXPECT_EQ(status.groups.devices, 3);
  EXPECT_EQ(status.groups.skipped, 1);
  EXPECT_EQ(status.groups.added, 2);
  EXPECT_EQ(status.groups.removed, 1);
  EXPECT_EQ(status.groups.removals_skipped, 0);
  EXPECT_EQ(status.groups.errors, 0);
  EXPECT_EQ(status.groups.requests, 2 + 1 + 3);  // lists, lookup, writes

  // Nothing left to correct: the next sweep only lists.
  const int writes = cloud_.member_adds + cloud_.member_removes;
  sync(engine);
  EXPECT_EQ(cloud_.member_adds + cloud_.member_removes, writes);
  EXPECT_EQ(engine.status().groups.added, 0);
}

TEST_F(GroupSweepTest, LookupsGoFifteenDeviceIdsAtATime) {
  for (int i = 0; i < 20; ++i)
    queue_profile("L" + std::string(1, static_cast<char>('a' + i)), "standard");
  config_.write_budget = 1000;
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  for (int i = 0; i < 20; ++i) {
    const std::string serial = "L" + std::string(1, static_cast<char>('a' + i));
    cloud_.join(serial, "dev-" + serial);
  }
  sync(engine);
  EXPECT_EQ(cloud_.lookup_sizes, (std::vector<std::size_t>{15, 5}));
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 20u);
  EXPECT_EQ(engine.status().groups.added, 20);
}

TEST_F(GroupSweepTest, CorrectionsStayWithinTheWriteBudgetAndWaitOutRetryAfter) {
  for (int i = 0; i < 8; ++i) queue_profile("W" + std::to_string(i), "standard");
  config_.write_budget = 5;
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  run_for(65s, engine);  // the import deletes' writes are done and out of the window
  for (int i = 0; i < 8; ++i) cloud_.join("W" + std::to_string(i), "dev-w" + std::to_string(i));
  core::Error throttled = core::make_error(cloud::kErrThrottled, "429");
  throttled.retry_after = 7s;
  cloud_.group_write_failures = {throttled};
  const int deletes = cloud_.deletes;

  sync(engine);
  EXPECT_EQ(cloud_.deletes, deletes);
  EXPECT_EQ(cloud_.member_adds, 1);
  EXPECT_TRUE(engine.status().group_sweep_running);
  clock_.advance(6s);
  engine.step();
  EXPECT_EQ(cloud_.member_adds, 1) << "Retry-After is 7 s";
  clock_.advance(1s);
  engine.step();
  // Five writes per 20 s: the 429 used one slot of the window, so four more now.
  EXPECT_EQ(cloud_.member_adds, 5);
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 4u);
  run_for(60s, engine);
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 8u);
  EXPECT_EQ(cloud_.member_adds, 9);  // eight and the one refused
  EXPECT_FALSE(engine.status().group_sweep_running);
  EXPECT_EQ(engine.status().groups.added, 8);
  EXPECT_EQ(engine.status().throttled, 1);
}

TEST_F(GroupSweepTest, ASweepRequestedWhileOneIsUnderWayRunsAfterIt) {
  for (int i = 0; i < 3; ++i) queue_profile("Q" + std::to_string(i), "standard");
  config_.write_budget = 2;
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  run_for(65s, engine);
  for (int i = 0; i < 3; ++i) cloud_.join("Q" + std::to_string(i), "dev-q" + std::to_string(i));
  sync(engine);  // two of three adds fit the budget
  ASSERT_TRUE(engine.status().group_sweep_running);
  const int lists = cloud_.group_lists;
  ASSERT_TRUE(engine.sweep_groups());  // asked again while the first one waits for the budget
  run_for(60s, engine);
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 3u);
  EXPECT_EQ(cloud_.group_lists, lists + 2) << "the second sweep listed both groups once more";
  EXPECT_FALSE(engine.status().group_sweep_running);
}

TEST_F(GroupSweepTest, AMissingGroupIsAnErrorAndItsDevicesKeepTheirMemberships) {
  cloud_.groups.erase(kPowerGroup);  // a typo in profile_groups, say
  queue_profile("M0", "standard");
  queue_profile("M1", "power-user");
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  cloud_.join("M0", "dev-m0");
  cloud_.join("M1", "dev-m1");
  cloud_.groups[kStandardGroup] = {"obj-dev-m1"};
  sync(engine);
  // M0 joins its own group; M1 cannot join the missing one, so it stays in the standard group
  // (taking it out would leave it in none).
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-m0", "obj-dev-m1"}));
  EXPECT_EQ(cloud_.member_removes, 0);
  const EngineStatus status = engine.status();
  EXPECT_EQ(status.groups.errors, 1);
  EXPECT_NE(status.groups.last_error.find(kPowerGroup), std::string::npos)
      << status.groups.last_error;
  EXPECT_EQ(status.groups.added, 1);
  EXPECT_EQ(status.groups.removed, 0);
  EXPECT_EQ(status.groups.removals_skipped, 1);
  ASSERT_EQ(status.groups.skipped_removals.size(), 1u);
  EXPECT_EQ(status.groups.skipped_removals[0].serial, "M1");
  EXPECT_EQ(status.groups.skipped_removals[0].group_id, kStandardGroup);
  EXPECT_NE(status.groups.skipped_removals[0].reason.find("could not be listed"), std::string::npos)
      << status.groups.skipped_removals[0].reason;
  EXPECT_EQ(corrections("M1"),
            (std::vector<std::string>{std::string("skipped ") + kStandardGroup + " standard"}));
  ASSERT_EQ(skip_reasons("M1").size(), 1u);
  EXPECT_NE(skip_reasons("M1")[0].find(kPowerGroup), std::string::npos) << skip_reasons("M1")[0];

  // The next sweep counts it again, but the log says it once while nothing changes.
  sync(engine);
  EXPECT_EQ(engine.status().groups.removals_skipped, 1);
  EXPECT_EQ(corrections("M1").size(), 1u);
  EXPECT_EQ(cloud_.member_removes, 0);
}

TEST_F(GroupSweepTest, AnAddRefusedWith400Or403KeepsTheDeviceInTheOtherGroup) {
  queue_profile("F0", "power-user");  // its group is dynamic: adds are 400
  queue_profile("F1", "power-user");  // role-assignable: 403
  queue_profile("F2", "standard");    // its add works, so its remove runs
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  cloud_.join("F0", "dev-f0");
  cloud_.join("F1", "dev-f1");
  cloud_.join("F2", "dev-f2");
  cloud_.groups[kStandardGroup] = {"obj-dev-f0", "obj-dev-f1"};
  cloud_.groups[kPowerGroup] = {"obj-dev-f2"};
  cloud_.group_write_failures = {
      core::make_error(cloud::kErrRejected,
                       "POST .../groups/" + std::string(kPowerGroup) +
                           "/members/$ref answered HTTP 400: its membership is dynamic"),
      core::make_error(cloud::kErrAuth,
                       "POST .../groups/" + std::string(kPowerGroup) +
                           "/members/$ref answered HTTP 403: Insufficient privileges to "
                           "complete the operation.")};

  sync(engine);
  // Neither refused device was taken out of the standard group: no remove was even sent.
  EXPECT_EQ(cloud_.groups[kStandardGroup],
            (std::set<std::string>{"obj-dev-f0", "obj-dev-f1", "obj-dev-f2"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{}));
  EXPECT_EQ(cloud_.writes,
            (std::vector<std::string>{std::string("add ") + kPowerGroup + " obj-dev-f0",
                                      std::string("add ") + kPowerGroup + " obj-dev-f1",
                                      std::string("add ") + kStandardGroup + " obj-dev-f2",
                                      std::string("remove ") + kPowerGroup + " obj-dev-f2"}));
  const EngineStatus status = engine.status();
  EXPECT_FALSE(status.group_sweep_running);
  EXPECT_EQ(status.groups.errors, 2);
  EXPECT_NE(status.groups.last_error.find("HTTP 403"), std::string::npos)
      << status.groups.last_error;
  EXPECT_EQ(status.groups.added, 1);
  EXPECT_EQ(status.groups.removed, 1);
  EXPECT_EQ(status.groups.removals_skipped, 2);
  ASSERT_EQ(skip_reasons("F0").size(), 1u);
  EXPECT_NE(skip_reasons("F0")[0].find("HTTP 400"), std::string::npos) << skip_reasons("F0")[0];
  ASSERT_EQ(skip_reasons("F1").size(), 1u);
  EXPECT_NE(skip_reasons("F1")[0].find("HTTP 403"), std::string::npos) << skip_reasons("F1")[0];
  EXPECT_EQ(corrections("F2"),
            (std::vector<std::string>{std::string("added ") + kStandardGroup + " standard",
                                      std::string("removed ") + kPowerGroup + " power-user"}));
}

TEST_F(GroupSweepTest, ADeviceWhoseProfileHasNoGroupIsLeftWhereItIs) {
  queue_profile("U0", "sensitive-data");  // no group configured for this profile
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  cloud_.join("U0", "dev-u0");
  cloud_.groups[kStandardGroup] = {"obj-dev-u0"};
  cloud_.groups[kPowerGroup] = {"obj-dev-u0"};
  sync(engine);
  EXPECT_TRUE(cloud_.writes.empty());
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-u0"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{"obj-dev-u0"}));
  const EngineStatus status = engine.status();
  EXPECT_EQ(status.groups.devices, 1);
  EXPECT_EQ(status.groups.removed, 0);
  EXPECT_EQ(status.groups.removals_skipped, 2);
  EXPECT_EQ(status.groups.errors, 0);
  EXPECT_EQ(skip_reasons("U0").size(), 2u);
  for (const auto& reason : skip_reasons("U0")) {
    EXPECT_NE(reason.find("sensitive-data"), std::string::npos) << reason;
  }
}

TEST_F(GroupSweepTest, AnAddAnsweredAlreadyAMemberLetsTheRemoveRun) {
  queue_profile("A0", "standard");
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  cloud_.join("A0", "dev-a0");
  // In both groups, but the standard group's listing lags and leaves it out: the add answers
  // "already a member", which is as good as added.
  cloud_.groups[kStandardGroup] = {"obj-dev-a0"};
  cloud_.groups[kPowerGroup] = {"obj-dev-a0"};
  cloud_.unlisted[kStandardGroup] = {"obj-dev-a0"};
  sync(engine);
  EXPECT_EQ(cloud_.writes,
            (std::vector<std::string>{std::string("add ") + kStandardGroup + " obj-dev-a0",
                                      std::string("remove ") + kPowerGroup + " obj-dev-a0"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{}));
  EXPECT_EQ(engine.status().groups.added, 0);
  EXPECT_EQ(engine.status().groups.removed, 1);
  EXPECT_EQ(engine.status().groups.removals_skipped, 0);
}

TEST_F(GroupSweepTest, ADirectoryThrottleHoldsTheSweepButNotTheImports) {
  queue_profile("T0", "standard");
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  cloud_.join("T0", "dev-t0");
  core::Error throttled = core::make_error(cloud::kErrThrottled, "429 from Entra ID");
  throttled.retry_after = 60s;
  cloud_.group_write_failures = {throttled};
  sync(engine);
  ASSERT_EQ(cloud_.member_adds, 1);
  ASSERT_TRUE(engine.status().group_sweep_running);
  EXPECT_FALSE(engine.status().blocked_until_ms.has_value()) << "imports are not held";

  // A device queued now is imported at once: Intune did not throttle.
  const int imports = cloud_.import_calls;
  queue_profile("T1", "standard");
  clock_.advance(1s);
  engine.step();
  EXPECT_EQ(cloud_.import_calls, imports + 1);
  EXPECT_EQ(cloud_.member_adds, 1) << "the sweep waits out its Retry-After";
  clock_.advance(60s);
  engine.step();
  EXPECT_EQ(cloud_.member_adds, 2);
  EXPECT_FALSE(engine.status().group_sweep_running);
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-t0"}));
}

TEST_F(GroupSweepTest, ADeviceRemovedFromHangarMidSweepIsNotTouched) {
  queue_profile("R0", "standard");
  queue_profile("R1", "standard");
  config_.write_budget = 2;
  Engine engine(*store_, cloud_, clock_, config_);
  register_all(engine);
  run_for(65s, engine);  // the import deletes' writes are out of the window
  cloud_.join("R0", "dev-r0");
  cloud_.join("R1", "dev-r1");
  cloud_.groups[kPowerGroup] = {"obj-dev-r0", "obj-dev-r1"};
  sync(engine);  // R0's add and remove fit the budget; R1's wait
  ASSERT_TRUE(engine.status().group_sweep_running);
  ASSERT_EQ(cloud_.writes.size(), 2u);
  ASSERT_TRUE(store_->remove_device("R1").ok());  // hangar remove R1
  run_for(60s, engine);
  EXPECT_EQ(cloud_.writes.size(), 2u) << "nothing written for a device Hangar no longer has";
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{"obj-dev-r1"}));
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-r0"}));
  EXPECT_FALSE(engine.status().group_sweep_running);
  EXPECT_EQ(engine.status().groups.removals_skipped, 0);
}

TEST_F(GroupSweepTest, RunsDailyAcrossRestartsAndNotAtAllWithoutGroups) {
  queue_profile("D0", "standard");
  {
    Engine engine(*store_, cloud_, clock_, config_);
    register_all(engine);  // the first sweep ran at start-up
    EXPECT_GT(engine.status().groups.finished_at, 0);
  }
  const int lists = cloud_.group_lists;
  {
    // A restart an hour later: the day is not over, so no sweep yet.
    Engine engine(*store_, cloud_, clock_, config_);
    run_for(1h, engine);
    EXPECT_EQ(cloud_.group_lists, lists);
    run_for(23h, engine);
    EXPECT_EQ(cloud_.group_lists, lists + 2);  // one sweep: two groups listed
  }
  config_.profile_groups.clear();
  Engine engine(*store_, cloud_, clock_, config_);
  EXPECT_FALSE(engine.sweep_groups());
  run_for(25h, engine);
  EXPECT_FALSE(engine.status().groups_configured);
  EXPECT_EQ(cloud_.group_lists, lists + 2);
}

}  // namespace
}  // namespace hangar::service
