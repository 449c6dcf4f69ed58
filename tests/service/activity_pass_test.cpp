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

// Attack round 5, finding 7: a delivered device reassigned in the Intune admin center is handed
// to the tenant's user; an undelivered device with a user in the tenant is not called delivered.
TEST_F(ActivityPassTest, TheTenantsUserOfADeliveredDeviceIsRecorded) {
  ours("U0");
  ours("U1");
  ASSERT_TRUE(store_->record_delivery("U0", "ada@contoso.com", clock_.now_ms()).ok());
  cloud_.tenant["U0"].user_principal_name = "bob@contoso.com";
  cloud_.tenant["U1"].user_principal_name = "eve@contoso.com";
  start();
  step();
  EXPECT_EQ(store_->get_device("U0")->delivered_to.value_or(""), "bob@contoso.com");
  EXPECT_EQ(store_->get_device("U0")->assigned_user.value_or(""), "bob@contoso.com");
  EXPECT_FALSE(store_->get_device("U1")->delivered_to.has_value());
  EXPECT_FALSE(store_->get_device("U1")->delivered_at.has_value());
  // The same user in a different case is no change.
  cloud_.tenant["U0"].user_principal_name = "BOB@contoso.com";
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().written, 0);
}

// Black-box round 7: a device whose registration was deleted in the Intune admin center stayed
// Ready for user for ever, and one whose deregister answer was lost stayed too. The tenant's whole
// list is the witness: a lost deregister it confirms takes the device out; a device two lists in
// a row lack fails, with the way back; one list alone changes nothing.
TEST_F(ActivityPassTest, ADeviceTheTenantNoLongerListsIsNotLeftReadyForUser) {
  ours("K0");
  registered("D0");  // deleted in the portal
  registered("L0");  // deregistered, the deletion's answer lost
  ASSERT_TRUE(store_->set_meta("in_doubt.deregister.l0", "ap-L0").ok());
  start();
  step();
  EXPECT_FALSE(store_->get_device("L0").ok()) << "the lost deregister was done: out";
  EXPECT_TRUE(store_->get_meta("in_doubt.deregister.l0")->has_value())
      << "kept for a deregister run again, which then says it was done";
  EXPECT_EQ(store_->get_device("D0")->state, core::DeviceState::kReadyForUser)
      << "one list without it is not proof enough";
  EXPECT_EQ(pass_->last().devices, 2);
  pass_->refresh();
  step();
  auto gone = store_->get_device("D0");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(gone->failure_reason, "Deleted from Windows Autopilot");
  EXPECT_NE(gone->last_error.value_or("").find("hangar retry D0"), std::string::npos);
  EXPECT_EQ(store_->get_device("K0")->state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(pass_->last().devices, 1);
}

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

// Issue 13: a partner's device shows no profile unless its group tag maps to one (tag_profiles);
// a mapping configured after a device was found gives it the profile on the next pass.
TEST_F(ActivityPassTest, PartnerDevicesGetTheProfileTheirGroupTagMapsTo) {
  cloud_.register_device("T1", "Contoso-Sales");                  // mapped
  cloud_.register_device("T2", "contoso-sales");                  // mapped, another case
  cloud_.register_device("T3", "Microsoft365Managed_Autopilot");  // the default tag, unmapped
  cloud_.register_device("T4", "AnotherTeam");                    // not ours
  config_.tag_profiles = {{"contoso-sales", "power-user"}};
  start();
  step();
  ASSERT_TRUE(store_->get_device("T1").ok());
  EXPECT_EQ(store_->get_device("T1")->profile, "power-user");
  EXPECT_TRUE(store_->get_device("T1")->partner_registered);
  EXPECT_EQ(store_->get_device("T2")->profile, "power-user");
  EXPECT_EQ(store_->get_device("T3")->profile, "") << "the default tag maps to nothing";
  EXPECT_FALSE(store_->get_device("T4").ok()) << "an unmapped tag that is not ours";
  EXPECT_EQ(pass_->last().partners_added, 3);
  EXPECT_EQ(pass_->last().profiles_set, 0);

  // The admin maps the default tag later: T3 gets that profile, once.
  config_.tag_profiles["microsoft365managed_autopilot"] = "sensitive-data";
  pass_->refresh();
  step();
  EXPECT_EQ(store_->get_device("T3")->profile, "sensitive-data");
  EXPECT_EQ(store_->get_device("T1")->profile, "power-user") << "a profile is never replaced";
  EXPECT_EQ(pass_->last().profiles_set, 1);
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().profiles_set, 0);
  EXPECT_EQ(pass_->last().written, 0);
}

// Issue 13: tenant devices without a group tag are found and counted (the first few named), never
// adopted silently; with track_untagged they are tracked, without a profile, and the daily tag
// sweep leaves their empty tag alone. Removed ones stay removed.
TEST_F(ActivityPassTest, UntaggedTenantDevicesAreReportedAndTrackedOnlyWhenAsked) {
  ours("U0");
  for (int i = 1; i <= 25; ++i) {
    const std::string serial = "U" + std::to_string(i);
    cloud_.register_device(serial, "");
    cloud_.tenant[serial].manufacturer = "Fabrikam";
    cloud_.tenant[serial].model = "M" + std::to_string(i);
  }
  config_.sweep_interval = 24h;
  start();
  step();
  EXPECT_EQ(pass_->last().untagged, 25);
  EXPECT_EQ(pass_->last().untagged_added, 0);
  ASSERT_EQ(pass_->last().untagged_devices.size(), ActivityPass::kUntaggedShown);
  EXPECT_EQ(pass_->last().untagged_devices[0].manufacturer, "Fabrikam");
  EXPECT_FALSE(store_->get_device("U1").ok()) << "not tracked unless the admin opts in";
  EXPECT_EQ(pass_->last().devices, 1);

  config_.track_untagged = true;
  ASSERT_TRUE(store_->remove_device("U0", false, clock_.now_ms()).ok());
  cloud_.tenant["U0"].group_tag.clear();  // removed by the admin: stays removed, untagged or not
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().untagged, 25) << "U0, removed by the admin, is not counted";
  EXPECT_EQ(pass_->last().untagged_added, 25);
  const auto tracked = store_->get_device("U7");
  ASSERT_TRUE(tracked.ok());
  EXPECT_TRUE(tracked->partner_registered);
  EXPECT_EQ(tracked->profile, "");
  EXPECT_FALSE(tracked->group_tag.has_value());
  EXPECT_EQ(tracked->state, core::DeviceState::kReadyForUser);
  EXPECT_FALSE(store_->get_device("U0").ok());
  pass_->refresh();
  step();
  EXPECT_EQ(pass_->last().untagged, 0) << "tracked ones are known now; U0 stays removed";
  EXPECT_EQ(pass_->last().untagged_added, 0);
  run_for(25h);  // the daily tag sweep: Hangar never tagged them, so it does not now
  EXPECT_EQ(cloud_.tag_sets, 0);
  EXPECT_EQ(cloud_.tenant["U7"].group_tag, "");
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
