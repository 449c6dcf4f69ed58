// The activity pass and partner sync with their own fake (the tenant's Autopilot devices and the
// managed devices' last syncs) and a fake clock: Active and Inactive from enrollment and last
// sync, rows written only when something changed, partner-registered devices added, hourly.
#include <gtest/gtest.h>

#include "fake_clouds.h"
#include "hangar/service/passes/activity_pass.h"
#include "pass_rig.h"

namespace hangar::service::test {
namespace {

class ActivityPassTest : public PassRig {
 protected:
  void start() { pass_.emplace(context(), fixed_source<cloud::ActivityCloud>(cloud_)); }
  std::chrono::milliseconds step() { return round(*pass_); }
  void run_for(std::chrono::milliseconds total) {
    run_rounds(total, [this] { return step(); });
  }
  // Registered here and in the tenant.
  void ours(const std::string& serial) {
    registered(serial);
    cloud_.register_device(serial);
  }

  FakeActivity cloud_;
  std::optional<ActivitySyncPass> pass_;
};

TEST_F(ActivityPassTest, MovesEnrolledDevicesThroughActiveAndInactive) {
  for (const char* serial : {"A0", "A1", "A2"}) ours(serial);
  config_.activity_interval = 1h;
  start();
  step();
  // A0 synced an hour ago, A1 eight days ago, A2 never enrolled.
  cloud_.enroll("A0", clock_.now_ms() - 3'600'000);
  cloud_.enroll("A1", clock_.now_ms() - 8 * 86'400'000LL);
  pass_->refresh();
  step();
  EXPECT_EQ(store_->get_device("A0")->state, core::DeviceState::kActive);
  EXPECT_EQ(store_->get_device("A0")->managed_device_id, "md-A0");
  EXPECT_EQ(store_->get_device("A1")->state, core::DeviceState::kInactive);
  EXPECT_EQ(store_->history("A1")->back().reason,
            "not used in the last 7 days (last sync 8 days ago)");
  EXPECT_EQ(store_->get_device("A2")->state, core::DeviceState::kReadyForUser);
  auto pass = pass_->last();
  EXPECT_EQ(pass.devices, 3);
  EXPECT_EQ(pass.active, 1);
  EXPECT_EQ(pass.inactive, 1);
  EXPECT_EQ(pass.requests, 2) << "one enrollment list and one managed-device list";
  // Nothing changed: a second pass writes nothing.
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().written, 0);
  // Seven days later A0 has not synced again: Inactive. A1 syncs: Active again.
  cloud_.last_sync["md-A1"] = clock_.now_ms() + 7 * 86'400'000LL - 60'000;
  clock_.advance(std::chrono::hours(24 * 7));
  step();  // the hourly pass is due
  EXPECT_EQ(store_->get_device("A0")->state, core::DeviceState::kInactive);
  EXPECT_EQ(store_->get_device("A1")->state, core::DeviceState::kActive);
  EXPECT_EQ(pass_->last().written, 2);
  const auto history = store_->history("A1");
  ASSERT_GE(history->size(), 2u);
  EXPECT_EQ((*history)[history->size() - 2].to_state, core::DeviceState::kInactive);
  EXPECT_EQ(history->back().to_state, core::DeviceState::kActive);
}

TEST_F(ActivityPassTest, PartnerRegisteredDevicesWithOurTagAreAddedAndTracked) {
  ours("Q0");
  cloud::AutopilotDevice partner;
  partner.id = "ap-P1";
  partner.serial = "P1";
  partner.group_tag = "Microsoft365Managed_Autopilot";
  partner.manufacturer = "Contoso";
  partner.model = "L7";
  cloud_.tenant["P1"] = partner;
  cloud_.register_device("X1", "AnotherTeam");
  start();
  step();
  const auto added = store_->get_device("P1");
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(added->partner_registered);
  EXPECT_EQ(added->state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(added->manufacturer, "Contoso");
  EXPECT_EQ(added->cloud_device_id, "ap-P1") << "tracked by the same pass";
  EXPECT_FALSE(store_->get_device("X1").ok()) << "another group tag is not ours";
  EXPECT_EQ(store_->get_device("Q0")->partner_registered, false);
  EXPECT_EQ(pass_->last().partners_added, 1);
  EXPECT_EQ(added->profile, "") << "no profile nobody chose";
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().partners_added, 0);
  // Removed by the admin: the next sync does not bring it back (issue 13).
  ASSERT_TRUE(store_->remove_device("P1", false, clock_.now_ms()).ok());
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().partners_added, 0);
  EXPECT_FALSE(store_->get_device("P1").ok()) << "a removed serial stays removed";
}

TEST_F(ActivityPassTest, RunsHourlyNotOnEveryPass) {
  ours("B0");
  start();
  EXPECT_EQ(step(), 1h) << "next due in an hour";
  EXPECT_EQ(cloud_.enrollment_lists, 1);
  for (int minute = 0; minute < 59; ++minute) {
    clock_.advance(1min);
    step();
  }
  EXPECT_EQ(cloud_.enrollment_lists, 1);
  clock_.advance(1min);
  step();
  EXPECT_EQ(cloud_.enrollment_lists, 2);
}

TEST_F(ActivityPassTest, ARemovedGroupTagIsPutBackByTheDailySweep) {
  ours("K0");
  ours("K1");
  config_.sweep_interval = 24h;
  start();
  step();
  cloud_.tenant["K0"].group_tag.clear();  // someone removed it in the portal
  run_for(23h);
  EXPECT_EQ(cloud_.tag_sets, 0) << "daily, not hourly";
  run_for(1h + 1s);
  EXPECT_EQ(cloud_.tag_sets, 1);
  EXPECT_EQ(cloud_.tenant["K0"].group_tag, "Microsoft365Managed_Autopilot");
  EXPECT_EQ(cloud_.tenant["K1"].group_tag, "Microsoft365Managed_Autopilot");
}

}  // namespace
}  // namespace hangar::service::test
