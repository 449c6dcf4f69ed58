// The profile-group sweep with its own fake (Entra ID groups and device objects) and a fake
// clock: corrections into the profile's group and out of the others, a device's removes only
// after its add, lookups fifteen ids at a time, the write budget and Retry-After, missing groups
// and refused writes, devices removed mid-sweep, daily across restarts.
#include <gtest/gtest.h>

#include "fake_clouds.h"
#include "hangar/service/passes/group_sweep_pass.h"
#include "pass_rig.h"

namespace hangar::service::test {
namespace {

// ---- profile groups ----

constexpr const char* kStandardGroup = "6d1c2b8e-0000-4000-8000-000000000001";
constexpr const char* kPowerGroup = "6d1c2b8e-0000-4000-8000-000000000002";

class GroupSweepPassTest : public PassRig {
 protected:
  void SetUp() override {
    PassRig::SetUp();
    config_.profile_groups = {{"standard", kStandardGroup}, {"power-user", kPowerGroup}};
    cloud_.groups[kStandardGroup];
    cloud_.groups[kPowerGroup];
  }
  // A new pass, as at start-up (the budget stays: it is the service's).
  void start() { pass_.emplace(context(), fixed_source<cloud::GroupCloud>(cloud_)); }
  std::chrono::milliseconds step() { return round(*pass_); }
  void run_for(std::chrono::milliseconds total) {
    run_rounds(total, [this] { return step(); });
  }
  // Our devices are registered already: the sweep looks at registered devices only.
  void queue_profile(const std::string& serial, const std::string& profile) {
    registered(serial, profile);
  }
  // The device's Entra ID device id, as the activity pass stores it, and its object in the
  // directory.
  void join(const std::string& serial, const std::string& device_id) {
    auto row = store_->get_device(serial);
    ASSERT_TRUE(row.ok());
    store::ActivityUpdate update;
    update.id = row->id;
    update.cloud_device_id = row->cloud_device_id;
    update.azure_ad_device_id = device_id;
    ASSERT_TRUE(
        store_->apply_activity(std::vector<store::ActivityUpdate>{update}, clock_.now_ms()).ok());
    cloud_.join(device_id);
  }
  // `hangar sync`: a sweep now.
  void sync() {
    ASSERT_TRUE(pass_->request());
    step();
  }
  EngineStatus report() {
    EngineStatus status;
    pass_->report(status);
    status.throttled = budget_->throttled();
    return status;
  }
  std::vector<std::string> corrections(const std::string& serial) {
    std::vector<std::string> out;
    auto rows = store_->group_corrections(serial);
    EXPECT_TRUE(rows.ok());
    for (const auto& c : *rows) out.push_back(c.action + " " + c.group_id + " " + c.profile);
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

  FakeDirectory cloud_;
  std::optional<GroupSweepPass> pass_;
};

TEST_F(GroupSweepPassTest, PutsOurDevicesBackInTheirProfilesGroupAndOutOfTheOthers) {
  queue_profile("S0", "standard");    // moved by hand into the power-user group
  queue_profile("S1", "standard");    // where it belongs
  queue_profile("P0", "power-user");  // in no group at all
  queue_profile("S2", "standard");    // registered, never enrolled: no Entra ID device yet
  start();
  step();  // the first sweep, at start-up
  join("S0", "dev-s0");
  join("S1", "dev-s1");
  join("P0", "dev-p0");
  cloud_.directory["dev-other"] = "obj-dev-other";  // not ours: never touched
  cloud_.groups[kPowerGroup] = {"obj-dev-s0", "obj-dev-other"};
  cloud_.groups[kStandardGroup] = {"obj-dev-s1", "obj-dev-other"};
  const int lists_before = cloud_.group_lists;

  sync();

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
  const EngineStatus status = report();
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
  sync();
  EXPECT_EQ(cloud_.member_adds + cloud_.member_removes, writes);
  EXPECT_EQ(report().groups.added, 0);
}

// Issue 13: a partner's device whose group tag maps to a profile (tag_profiles) is handled like
// the rest; one without a profile is never moved.
TEST_F(GroupSweepPassTest, PartnerDevicesAreSweptOnlyWithAProfileTheirTagGaveThem) {
  for (const auto& [serial, profile] :
       {std::pair{"MAPPED", "power-user"}, std::pair{"NOPROFILE", ""}}) {
    store::NewDevice device;
    device.serial = serial;
    device.group_tag = "Contoso";
    device.profile = profile;
    device.state = core::DeviceState::kReadyForUser;
    device.partner_registered = true;
    device.created_at = clock_.now_ms();
    ASSERT_TRUE(store_->insert_device(device).ok());
  }
  start();
  step();
  join("MAPPED", "dev-mapped");
  join("NOPROFILE", "dev-noprofile");
  cloud_.groups[kStandardGroup] = {"obj-dev-mapped", "obj-dev-noprofile"};
  sync();
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{"obj-dev-mapped"}));
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-noprofile"}));
  EXPECT_EQ(corrections("MAPPED"),
            (std::vector<std::string>{std::string("added ") + kPowerGroup + " power-user",
                                      std::string("removed ") + kStandardGroup + " standard"}));
  EXPECT_TRUE(corrections("NOPROFILE").empty());
}

TEST_F(GroupSweepPassTest, LookupsGoFifteenDeviceIdsAtATime) {
  for (int i = 0; i < 20; ++i)
    queue_profile("L" + std::string(1, static_cast<char>('a' + i)), "standard");
  config_.write_budget = 1000;
  start();
  step();  // the first sweep, at start-up
  for (int i = 0; i < 20; ++i) {
    const std::string serial = "L" + std::string(1, static_cast<char>('a' + i));
    join(serial, "dev-" + serial);
  }
  sync();
  EXPECT_EQ(cloud_.lookup_sizes, (std::vector<std::size_t>{15, 5}));
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 20u);
  EXPECT_EQ(report().groups.added, 20);
}

TEST_F(GroupSweepPassTest, CorrectionsStayWithinTheWriteBudgetAndWaitOutRetryAfter) {
  for (int i = 0; i < 8; ++i) queue_profile("W" + std::to_string(i), "standard");
  config_.write_budget = 5;
  start();
  step();  // the first sweep, at start-up
  for (int i = 0; i < 8; ++i) join("W" + std::to_string(i), "dev-w" + std::to_string(i));
  core::Error throttled = core::make_error(cloud::kErrThrottled, "429");
  throttled.retry_after = 7s;
  cloud_.group_write_failures = {throttled};

  sync();
  EXPECT_EQ(cloud_.member_adds, 1);
  EXPECT_TRUE(report().group_sweep_running);
  clock_.advance(6s);
  step();
  EXPECT_EQ(cloud_.member_adds, 1) << "Retry-After is 7 s";
  clock_.advance(1s);
  step();
  // Five writes per 20 s: the 429 used one slot of the window, so four more now.
  EXPECT_EQ(cloud_.member_adds, 5);
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 4u);
  run_for(60s);
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 8u);
  EXPECT_EQ(cloud_.member_adds, 9);  // eight and the one refused
  EXPECT_FALSE(report().group_sweep_running);
  EXPECT_EQ(report().groups.added, 8);
  EXPECT_EQ(report().throttled, 1);
}

TEST_F(GroupSweepPassTest, ASweepRequestedWhileOneIsUnderWayRunsAfterIt) {
  for (int i = 0; i < 3; ++i) queue_profile("Q" + std::to_string(i), "standard");
  config_.write_budget = 2;
  start();
  step();  // the first sweep, at start-up
  for (int i = 0; i < 3; ++i) join("Q" + std::to_string(i), "dev-q" + std::to_string(i));
  sync();  // two of three adds fit the budget
  ASSERT_TRUE(report().group_sweep_running);
  const int lists = cloud_.group_lists;
  ASSERT_TRUE(pass_->request());  // asked again while the first one waits for the budget
  run_for(60s);
  EXPECT_EQ(cloud_.groups[kStandardGroup].size(), 3u);
  EXPECT_EQ(cloud_.group_lists, lists + 2) << "the second sweep listed both groups once more";
  EXPECT_FALSE(report().group_sweep_running);
}

TEST_F(GroupSweepPassTest, AMissingGroupIsAnErrorAndItsDevicesKeepTheirMemberships) {
  cloud_.groups.erase(kPowerGroup);  // a typo in profile_groups, say
  queue_profile("M0", "standard");
  queue_profile("M1", "power-user");
  start();
  step();  // the first sweep, at start-up
  join("M0", "dev-m0");
  join("M1", "dev-m1");
  cloud_.groups[kStandardGroup] = {"obj-dev-m1"};
  sync();
  // M0 joins its own group; M1 cannot join the missing one, so it stays in the standard group
  // (taking it out would leave it in none).
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-m0", "obj-dev-m1"}));
  EXPECT_EQ(cloud_.member_removes, 0);
  const EngineStatus status = report();
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
  sync();
  EXPECT_EQ(report().groups.removals_skipped, 1);
  EXPECT_EQ(corrections("M1").size(), 1u);
  EXPECT_EQ(cloud_.member_removes, 0);
}

TEST_F(GroupSweepPassTest, AnAddRefusedWith400Or403KeepsTheDeviceInTheOtherGroup) {
  queue_profile("F0", "power-user");  // its group is dynamic: adds are 400
  queue_profile("F1", "power-user");  // role-assignable: 403
  queue_profile("F2", "standard");    // its add works, so its remove runs
  start();
  step();  // the first sweep, at start-up
  join("F0", "dev-f0");
  join("F1", "dev-f1");
  join("F2", "dev-f2");
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

  sync();
  // Neither refused device was taken out of the standard group: no remove was even sent.
  EXPECT_EQ(cloud_.groups[kStandardGroup],
            (std::set<std::string>{"obj-dev-f0", "obj-dev-f1", "obj-dev-f2"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{}));
  EXPECT_EQ(cloud_.writes,
            (std::vector<std::string>{std::string("add ") + kPowerGroup + " obj-dev-f0",
                                      std::string("add ") + kPowerGroup + " obj-dev-f1",
                                      std::string("add ") + kStandardGroup + " obj-dev-f2",
                                      std::string("remove ") + kPowerGroup + " obj-dev-f2"}));
  const EngineStatus status = report();
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

TEST_F(GroupSweepPassTest, ADeviceWhoseProfileHasNoGroupIsLeftWhereItIs) {
  queue_profile("U0", "sensitive-data");  // no group configured for this profile
  start();
  step();  // the first sweep, at start-up
  join("U0", "dev-u0");
  cloud_.groups[kStandardGroup] = {"obj-dev-u0"};
  cloud_.groups[kPowerGroup] = {"obj-dev-u0"};
  sync();
  EXPECT_TRUE(cloud_.writes.empty());
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-u0"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{"obj-dev-u0"}));
  const EngineStatus status = report();
  EXPECT_EQ(status.groups.devices, 1);
  EXPECT_EQ(status.groups.removed, 0);
  EXPECT_EQ(status.groups.removals_skipped, 2);
  EXPECT_EQ(status.groups.errors, 0);
  EXPECT_EQ(skip_reasons("U0").size(), 2u);
  for (const auto& reason : skip_reasons("U0")) {
    EXPECT_NE(reason.find("sensitive-data"), std::string::npos) << reason;
  }
}

TEST_F(GroupSweepPassTest, AnAddAnsweredAlreadyAMemberLetsTheRemoveRun) {
  queue_profile("A0", "standard");
  start();
  step();  // the first sweep, at start-up
  join("A0", "dev-a0");
  // In both groups, but the standard group's listing lags and leaves it out: the add answers
  // "already a member", which is as good as added.
  cloud_.groups[kStandardGroup] = {"obj-dev-a0"};
  cloud_.groups[kPowerGroup] = {"obj-dev-a0"};
  cloud_.unlisted[kStandardGroup] = {"obj-dev-a0"};
  sync();
  EXPECT_EQ(cloud_.writes,
            (std::vector<std::string>{std::string("add ") + kStandardGroup + " obj-dev-a0",
                                      std::string("remove ") + kPowerGroup + " obj-dev-a0"}));
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{}));
  EXPECT_EQ(report().groups.added, 0);
  EXPECT_EQ(report().groups.removed, 1);
  EXPECT_EQ(report().groups.removals_skipped, 0);
}

TEST_F(GroupSweepPassTest, ADeviceRemovedFromHangarMidSweepIsNotTouched) {
  queue_profile("R0", "standard");
  queue_profile("R1", "standard");
  config_.write_budget = 2;
  start();
  step();  // the first sweep, at start-up
  join("R0", "dev-r0");
  join("R1", "dev-r1");
  cloud_.groups[kPowerGroup] = {"obj-dev-r0", "obj-dev-r1"};
  sync();  // R0's add and remove fit the budget; R1's wait
  ASSERT_TRUE(report().group_sweep_running);
  ASSERT_EQ(cloud_.writes.size(), 2u);
  ASSERT_TRUE(store_->remove_device("R1").ok());  // hangar remove R1
  run_for(60s);
  EXPECT_EQ(cloud_.writes.size(), 2u) << "nothing written for a device Hangar no longer has";
  EXPECT_EQ(cloud_.groups[kPowerGroup], (std::set<std::string>{"obj-dev-r1"}));
  EXPECT_EQ(cloud_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-r0"}));
  EXPECT_FALSE(report().group_sweep_running);
  EXPECT_EQ(report().groups.removals_skipped, 0);
}

TEST_F(GroupSweepPassTest, RunsDailyAcrossRestartsAndNotAtAllWithoutGroups) {
  queue_profile("D0", "standard");
  {
    start();
    step();  // the first sweep runs at start-up
    EXPECT_GT(report().groups.finished_at, 0);
  }
  const int lists = cloud_.group_lists;
  {
    // A restart an hour later: the day is not over, so no sweep yet.
    start();
    run_for(1h);
    EXPECT_EQ(cloud_.group_lists, lists);
    run_for(23h);
    EXPECT_EQ(cloud_.group_lists, lists + 2);  // one sweep: two groups listed
  }
  config_.profile_groups.clear();
  start();
  EXPECT_FALSE(pass_->request());
  run_for(25h);
  EXPECT_FALSE(report().groups_configured);
  EXPECT_EQ(cloud_.group_lists, lists + 2);
}

}  // namespace
}  // namespace hangar::service::test
