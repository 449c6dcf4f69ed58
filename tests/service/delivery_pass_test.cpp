// Delivery with its own fake (users, licences, the assignment) and a fake clock: the device must be
// Ready for user, the user must exist and hold every required licence; then the user is assigned
// and the delivery recorded. Inside a throttle window nothing is sent and the caller learns when to
// try again.
#include <gtest/gtest.h>

#include "fake_clouds.h"
#include "hangar/service/passes/delivery_pass.h"
#include "pass_rig.h"

namespace hangar::service::test {
namespace {

class DeliveryPassTest : public PassRig {
 protected:
  void start() { pass_.emplace(context(), fixed_source<cloud::DeliveryCloud>(cloud_)); }

  FakeUsers cloud_;
  std::optional<DeliveryPass> pass_;
};

TEST_F(DeliveryPassTest, ChecksTheUserAndLicencesThenAssignsAndRecords) {
  registered("V0");
  queue_profile("V1", "standard");  // still queued
  config_.required_licenses = {"sku-e3", "sku-intune"};
  cloud_.users["ada@contoso.com"] = {"SKU-E3", "sku-intune", "sku-other"};
  cloud_.users["bob@contoso.com"] = {"sku-e3"};
  start();

  auto early = pass_->deliver("V1", "ada@contoso.com");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, "conflict");
  EXPECT_NE(early.error().message.find("not Ready for user yet"), std::string::npos);
  EXPECT_EQ(cloud_.requests, 0) << "nothing asked for a device that is not ready";

  auto nobody = pass_->deliver("V0", "eve@contoso.com");
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, "not_found");
  EXPECT_NE(nobody.error().message.find("no user eve@contoso.com"), std::string::npos);

  auto unlicensed = pass_->deliver("V0", "bob@contoso.com");
  ASSERT_FALSE(unlicensed.ok());
  EXPECT_EQ(unlicensed.error().code, "invalid_argument");
  EXPECT_NE(unlicensed.error().message.find("lacks 1 required licence(s): sku-intune"),
            std::string::npos)
      << unlicensed.error().message;
  EXPECT_TRUE(cloud_.assigned.empty()) << "nothing assigned while the licences are missing";

  auto delivered = pass_->deliver("V0", "ada@contoso.com");
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  EXPECT_EQ(delivered->device.delivered_to, "ada@contoso.com");
  EXPECT_EQ(delivered->device.assigned_user, "ada@contoso.com");
  EXPECT_TRUE(delivered->device.delivered_at.has_value());
  EXPECT_FALSE(delivered->already) << "this call assigned the user";
  EXPECT_EQ(cloud_.assigned["ap-V0"], "ada@contoso.com");

  // The same user again is a no-op that succeeds; another user is refused (the portal reassigns).
  auto twice = pass_->deliver("V0", "ada@contoso.com");
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  EXPECT_TRUE(twice->already) << "the repeat assigned nothing and says so";
  EXPECT_EQ(cloud_.assigned.size(), 1u);
  auto other = pass_->deliver("V0", "bob@contoso.com");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("already delivered to ada@contoso.com"), std::string::npos);
  EXPECT_FALSE(pass_->deliver("NOPE", "ada@contoso.com").ok());
}

TEST_F(DeliveryPassTest, ADeviceWithoutItsAutopilotIdIsLookedUpBySerial) {
  cloud_.users["ada@contoso.com"] = {};
  store::NewDevice partner;  // tracked as Ready for user, its Autopilot id not read yet
  partner.serial = "P9";
  partner.profile = "standard";
  partner.state = core::DeviceState::kReadyForUser;
  partner.partner_registered = true;
  partner.created_at = clock_.now_ms();
  ASSERT_TRUE(store_->insert_device(partner).ok());
  start();
  auto missing = pass_->deliver("P9", "ada@contoso.com");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "not_found");
  cloud::AutopilotDevice identity;
  identity.id = "ap-found-P9";
  identity.serial = "P9";
  cloud_.tenant["P9"] = identity;
  ASSERT_TRUE(pass_->deliver("P9", "ada@contoso.com").ok());
  EXPECT_EQ(cloud_.assigned["ap-found-P9"], "ada@contoso.com");
}

TEST_F(DeliveryPassTest, AThrottledAssignmentSaysWhenToTryAgainNeverIntunesJson) {
  registered("W0");
  cloud_.users["ada@contoso.com"] = {};
  core::Error throttled = core::make_error(
      cloud::kErrThrottled, R"(HTTP 429: {"error":{"code":"TooManyRequests","message":"..."}})");
  throttled.http_status = 429;
  throttled.retry_after = 20s;
  cloud_.assign_failures.push_back(throttled);
  start();
  auto refused = pass_->deliver("W0", "ada@contoso.com");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, CloudBudget::kNotNow);
  EXPECT_EQ(refused.error().message, "the cloud is throttling Hangar; try again in 20 s");
  EXPECT_EQ(refused.error().retry_after, 20s);
  // Inside the window nothing is sent at all, not even the user lookup.
  const int requests = cloud_.requests;
  clock_.advance(5s);
  auto held = pass_->deliver("W0", "ada@contoso.com");
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error().message, "the cloud is throttling Hangar; try again in 15 s");
  EXPECT_EQ(cloud_.requests, requests);
  clock_.advance(15s);
  EXPECT_TRUE(pass_->deliver("W0", "ada@contoso.com").ok());
}

// Issue 13: licences are named by skuPartNumber (configured by id or by name), never GUIDs only.
TEST_F(DeliveryPassTest, MissingLicencesAreNamedAndMayBeConfiguredByName) {
  registered("N0");
  cloud_.skus = {{"aaaa-e5", "SPE_E5"}, {"bbbb-intune", "INTUNE_A"}};
  config_.required_licenses = {"SPE_E5", "bbbb-intune"};
  cloud_.users["bob@contoso.com"] = {};
  cloud_.users["ada@contoso.com"] = {"AAAA-E5", "bbbb-intune"};
  start();
  auto unlicensed = pass_->deliver("N0", "bob@contoso.com");
  ASSERT_FALSE(unlicensed.ok());
  EXPECT_NE(unlicensed.error().message.find(
                "lacks 2 required licence(s): SPE_E5, INTUNE_A (bbbb-intune)"),
            std::string::npos)
      << unlicensed.error().message;
  auto delivered = pass_->deliver("N0", "ada@contoso.com");
  EXPECT_TRUE(delivered.ok()) << delivered.error().message;
  // The names cannot be read (no permission): ids are compared and shown as they are.
  registered("N1");
  cloud_.sku_failures.push_back(
      core::make_error(cloud::kErrRejected, "403 Authorization_RequestDenied"));
  config_.required_licenses = {"bbbb-intune"};
  auto fallback = pass_->deliver("N1", "bob@contoso.com");
  ASSERT_FALSE(fallback.ok());
  EXPECT_NE(fallback.error().message.find("lacks 1 required licence(s): bbbb-intune"),
            std::string::npos)
      << fallback.error().message;
}

TEST_F(DeliveryPassTest, DeregisterDeletesTheAutopilotRecordAndRemembersTheSerial) {
  registered("R0");
  cloud_.tenant["R0"].id = "ap-R0";
  cloud_.tenant["R0"].serial = "R0";
  cloud_.tenant["STRANGER"].id = "ap-STRANGER";
  cloud_.tenant["STRANGER"].serial = "STRANGER";
  queue_profile("R9", "standard");
  ASSERT_TRUE(store_->claim_upload_batch(clock_.now_ms(), 10).ok());
  ASSERT_TRUE(store_->mark_uploaded("R9", "rec-R9", "rec-R9", clock_.now_ms()).ok());
  start();
  auto pending = pass_->deregister("R9");
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.error().code, "conflict");
  EXPECT_NE(pending.error().message.find("hangar remove R9 --force"), std::string::npos);
  EXPECT_EQ(pass_->deregister("R9", "ada", {.check_only = true}).error().code, "conflict")
      << "the look-up meets the same refusal";

  // The CLI's look-up before its question: the identity it would delete, and nothing deleted.
  auto looked_up = pass_->deregister("R0", "ada", {.check_only = true});
  ASSERT_TRUE(looked_up.ok()) << looked_up.error().message;
  EXPECT_EQ(looked_up->autopilot_id, "ap-R0");
  EXPECT_TRUE(cloud_.deleted.empty());
  EXPECT_TRUE(store_->get_device("R0").ok()) << "still in the queue";
  EXPECT_EQ(pass_->deregister("STRANGER", "ada", {.check_only = true}).error().code, "conflict");

  auto done = pass_->deregister("R0", "ada");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->autopilot_id, "ap-R0");
  EXPECT_FALSE(done->already_gone);
  EXPECT_EQ(cloud_.deleted, std::vector<std::string>{"ap-R0"});
  EXPECT_FALSE(store_->get_device("R0").ok()) << "out of the queue";
  // A device Hangar never had, with no group tag (or another team's): not Hangar's to delete
  // unless forced (black-box round 8); forced, it is deleted and remembered all the same.
  auto refused = pass_->deregister("STRANGER", "ada");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "conflict");
  EXPECT_NE(refused.error().message.find("STRANGER is not Hangar's: it is not in the queue, and it "
                                         "has no group tag"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("hangar deregister STRANGER --force"), std::string::npos);
  cloud_.tenant["STRANGER"].group_tag = "FinanceTeam";
  refused = pass_->deregister("STRANGER", "ada");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("its group tag FinanceTeam is another team's"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(cloud_.deleted, std::vector<std::string>{"ap-R0"}) << "nothing more was deleted";
  ASSERT_TRUE(pass_->deregister("STRANGER", "ada", {.force = true}).ok());
  EXPECT_EQ(*store_->removed_serials(), (std::vector<std::string>{"r0", "stranger"}));
  auto gone = pass_->deregister("R0");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "not_found");
  EXPECT_NE(gone.error().message.find("no Windows Autopilot device with serial R0"),
            std::string::npos);
  // A second admin's deregister of the same device says who took it out, and when (round 7).
  EXPECT_NE(gone.error().message.find("it left the queue on "), std::string::npos)
      << gone.error().message;
  EXPECT_NE(gone.error().message.find("(deregistered by ada: its Windows Autopilot record is "
                                      "deleted)"),
            std::string::npos)
      << gone.error().message;
  auto never = pass_->deregister("NEVER");
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().message.find("left the queue"), std::string::npos)
      << never.error().message;
}

// Two manufacturers may use one serial, and the tenant then lists both. Only the first was looked
// at: deregister could delete, and deliver assign, another maker's machine. The queue's machine is
// the one with its recorded Autopilot id (else its make and model); where none is plainly ours,
// nothing is changed and the admin is told why.
TEST_F(DeliveryPassTest, ASerialTwoMachinesShareActsOnOursOrOnNone) {
  const auto device = [](std::string id, std::string serial, std::string make) {
    cloud::AutopilotDevice d;
    d.id = std::move(id);
    d.serial = std::move(serial);
    d.manufacturer = std::move(make);
    return d;
  };
  registered("T0");  // recorded as ap-T0
  cloud_.namesakes.emplace("T0", device("ap-hp-T0", "T0", "HP Inc."));
  cloud_.tenant["T0"] = device("ap-T0", "T0", "Dell Inc.");
  cloud_.users["ada@contoso.com"] = {};
  cloud_.namesakes.emplace("U0", device("ap-hp-U0", "U0", "HP Inc."));
  cloud_.tenant["U0"] = device("ap-U0", "U0", "Dell Inc.");
  start();

  auto delivered = pass_->deliver("T0", "ada@contoso.com");
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  EXPECT_EQ(cloud_.assigned.count("ap-hp-T0"), 0U);
  auto done = pass_->deregister("T0");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->autopilot_id, "ap-T0");
  EXPECT_EQ(cloud_.deleted, std::vector<std::string>{"ap-T0"});

  // Not in the queue: nothing tells the two apart.
  auto unsure = pass_->deregister("U0");
  ASSERT_FALSE(unsure.ok());
  EXPECT_EQ(unsure.error().code, "conflict");
  EXPECT_NE(unsure.error().message.find(
                "Windows Autopilot lists 2 devices with serial U0 (HP Inc., Dell Inc.) and Hangar "
                "cannot tell which is this one: nothing was deleted"),
            std::string::npos)
      << unsure.error().message;
  EXPECT_EQ(cloud_.deleted, std::vector<std::string>{"ap-T0"}) << "neither U0 was deleted";
}

// Black-box round 6: deregister of a device whose registration failed (the tenant never listed
// it) was "not found" and left it queued; it is taken out, with nothing deleted in the tenant.
TEST_F(DeliveryPassTest, DeregisterOfADeviceNeverRegisteredTakesItOutAndDeletesNothing) {
  queue_profile("F0", "standard");
  ASSERT_TRUE(store_
                  ->transition("F0", core::DeviceState::kRegistrationFailed, "Device not found",
                               clock_.now_ms())
                  .ok());
  queue_profile("Q0", "standard");  // not uploaded yet
  start();
  for (const char* serial : {"F0", "Q0"}) {
    auto looked_up = pass_->deregister(serial, "ada", {.check_only = true});
    ASSERT_TRUE(looked_up.ok()) << serial << ": " << looked_up.error().message;
    EXPECT_TRUE(looked_up->never_registered) << serial;
    EXPECT_TRUE(store_->get_device(serial).ok()) << serial << ": the look-up took nothing out";
    auto done = pass_->deregister(serial, "ada");
    ASSERT_TRUE(done.ok()) << serial << ": " << done.error().message;
    EXPECT_TRUE(done->never_registered) << serial;
    EXPECT_FALSE(done->already_gone) << serial;
    EXPECT_TRUE(done->autopilot_id.empty());
    auto gone = store_->get_device(serial);
    ASSERT_FALSE(gone.ok()) << serial << " is out of the queue";
    EXPECT_NE(gone.error().message.find("deregistered by ada: it was never registered"),
              std::string::npos)
        << gone.error().message;
  }
  EXPECT_TRUE(cloud_.deleted.empty()) << "nothing to delete in the tenant";
  EXPECT_EQ(*store_->removed_serials(), (std::vector<std::string>{"f0", "q0"}));
}

// Black-box round 6: a lookup before deliver's or deregister's write whose answer was dropped
// gave the admin only the transport's words ("GET ...: Failed to read response body").
TEST_F(DeliveryPassTest, AFailedLookupSaysNothingChangedAndWhatToRunAgain) {
  registered("D0");
  cloud_.tenant["D0"].id = "ap-D0";
  cloud_.tenant["D0"].serial = "D0";
  cloud_.users["ada@contoso.com"] = {};
  core::Error dropped =
      core::make_error(cloud::kErrNetwork, "GET .../users/ada: Failed to read response body");
  cloud_.read_failures.push_back(dropped);
  start();
  auto deliver = pass_->deliver("D0", "ada@contoso.com");
  ASSERT_FALSE(deliver.ok());
  EXPECT_NE(deliver.error().message.find("could not read user ada@contoso.com from the cloud"),
            std::string::npos)
      << deliver.error().message;
  EXPECT_NE(deliver.error().message.find(
                "nothing was assigned; run `hangar deliver D0 --user ada@contoso.com` again"),
            std::string::npos)
      << deliver.error().message;
  EXPECT_TRUE(cloud_.assigned.empty());

  clock_.advance(60s);  // past the offline probe the failure started
  cloud_.read_failures.push_back(dropped);
  auto deregister = pass_->deregister("D0");
  ASSERT_FALSE(deregister.ok());
  EXPECT_NE(deregister.error().message.find("could not read the device in Windows Autopilot"),
            std::string::npos)
      << deregister.error().message;
  EXPECT_NE(deregister.error().message.find(
                "nothing was deleted; run `hangar deregister D0 --yes` again"),
            std::string::npos)
      << deregister.error().message;
  EXPECT_TRUE(cloud_.deleted.empty());
  EXPECT_TRUE(store_->get_device("D0").ok());

  // A refusal that trying again cannot mend is told without the re-run.
  clock_.advance(60s);
  core::Error refused = core::make_error(cloud::kErrRejected, "GET answered HTTP 403");
  refused.http_status = 403;
  cloud_.read_failures.push_back(refused);
  auto denied = pass_->deliver("D0", "ada@contoso.com");
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("nothing was assigned"), std::string::npos);
  EXPECT_EQ(denied.error().message.find("again"), std::string::npos) << denied.error().message;
}

// Attack round 3, finding 3: a deregister whose answer was lost (the DELETE reached the tenant,
// the connection dropped) is recorded, and the re-run finds the device gone and completes here
// instead of failing "not found" for ever.
TEST_F(DeliveryPassTest, ADeregisterWhoseAnswerWasLostIsRecordedAndTheReRunCompletes) {
  registered("L0");
  cloud_.tenant["L0"].id = "ap-L0";
  cloud_.tenant["L0"].serial = "L0";
  cloud_.lost_answers = 1;
  start();
  auto lost = pass_->deregister("L0");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, cloud::kErrInDoubt);
  EXPECT_NE(lost.error().message.find("run `hangar deregister L0 --yes` again"), std::string::npos)
      << lost.error().message;
  EXPECT_TRUE(cloud_.tenant.empty()) << "the DELETE did reach the tenant";
  auto kept = store_->get_device("L0");
  ASSERT_TRUE(kept.ok()) << "not forgotten before the tenant confirms it";
  EXPECT_NE(kept->last_error.value_or("").find("its answer was lost"), std::string::npos);
  EXPECT_TRUE(store_->get_meta("in_doubt.deregister.l0")->has_value());

  clock_.advance(10s);  // the offline probe the lost answer started
  auto again = pass_->deregister("L0");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->already_gone);
  EXPECT_EQ(cloud_.deleted.size(), 1u) << "nothing deleted twice";
  EXPECT_FALSE(store_->get_device("L0").ok()) << "out of the queue";
  EXPECT_EQ(*store_->removed_serials(), std::vector<std::string>{"l0"});
  EXPECT_FALSE(store_->get_meta("in_doubt.deregister.l0")->has_value());
}

// Black-box round, finding 5: whether a write's answer was lost is cloud_error.h's one rule. A
// DELETE that certainly never left (no connection) is not in doubt: nothing recorded, the error
// told as it is; one that timed out after it was sent is.
TEST_F(DeliveryPassTest, ADeleteThatWasNeverSentIsNotInDoubtOneThatTimedOutIs) {
  registered("U0");
  cloud_.tenant["U0"].id = "ap-U0";
  cloud_.tenant["U0"].serial = "U0";
  core::Error unsent =
      core::make_error(cloud::kErrNetwork, "DELETE .../ap-U0: no connection within 30 s");
  cloud::set_failure(unsent, cloud::Failure::kNotSent);
  cloud_.delete_failures.push_back(unsent);
  start();
  auto refused = pass_->deregister("U0");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, cloud::kErrNetwork);
  EXPECT_FALSE(store_->get_meta("in_doubt.deregister.u0")->has_value());
  EXPECT_EQ(store_->get_device("U0")->last_error.value_or("").find("its answer was lost"),
            std::string::npos);

  clock_.advance(10s);  // the offline probe
  cloud_.delete_failures.push_back(core::make_error(
      cloud::kErrTimeout, "DELETE .../ap-U0: the cloud did not answer within 2 s"));
  auto timed_out = pass_->deregister("U0");
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, cloud::kErrInDoubt);
  EXPECT_TRUE(store_->get_meta("in_doubt.deregister.u0")->has_value());
}

// The same for deliver: the assignment reached the tenant, its answer did not; the re-run reads
// the device, finds the user assigned, and records the delivery without assigning again.
TEST_F(DeliveryPassTest, ADeliveryWhoseAnswerWasLostIsRecordedAndTheReRunCompletes) {
  registered("D0");
  cloud_.tenant["D0"].id = "ap-D0";
  cloud_.tenant["D0"].serial = "D0";
  cloud_.users["ada@contoso.com"] = {};
  cloud_.lost_answers = 1;
  start();
  auto lost = pass_->deliver("D0", "ada@contoso.com");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, cloud::kErrInDoubt);
  EXPECT_NE(lost.error().message.find("hangar deliver D0 --user ada@contoso.com"),
            std::string::npos)
      << lost.error().message;
  EXPECT_FALSE(store_->get_device("D0")->delivered_at) << "not recorded as delivered yet";

  clock_.advance(10s);
  auto again = pass_->deliver("D0", "ada@contoso.com");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->device.delivered_to.value_or(""), "ada@contoso.com");
  EXPECT_FALSE(again->device.last_error) << "the doubt is settled";
  EXPECT_TRUE(again->already) << "the lost assignment did it; this call sent nothing";
  EXPECT_EQ(cloud_.assigned.size(), 1u);
  EXPECT_FALSE(store_->get_meta("in_doubt.deliver.d0")->has_value());
}

// Attack round 4: after a lost answer, a re-run naming another user must not reassign the device
// the lost call already gave to the first; and repeating a delivery to the same user is no error.
TEST_F(DeliveryPassTest, AReRunWithAnotherUserAfterALostAnswerNeverReassigns) {
  registered("D1");
  cloud_.tenant["D1"].id = "ap-D1";
  cloud_.tenant["D1"].serial = "D1";
  cloud_.users["ada@contoso.com"] = {};
  cloud_.users["bob@contoso.com"] = {};
  cloud_.lost_answers = 1;
  start();
  ASSERT_FALSE(pass_->deliver("D1", "ada@contoso.com").ok());
  clock_.advance(10s);
  auto other = pass_->deliver("D1", "bob@contoso.com");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "conflict");
  EXPECT_NE(other.error().message.find("already delivered to ada@contoso.com"), std::string::npos)
      << other.error().message;
  EXPECT_EQ(cloud_.assigned.size(), 1u) << "bob was never assigned";
  EXPECT_EQ(store_->get_device("D1")->delivered_to.value_or(""), "ada@contoso.com");
  EXPECT_FALSE(store_->get_meta("in_doubt.deliver.d1")->has_value());

  auto same = pass_->deliver("D1", "ADA@contoso.com");
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(same->device.delivered_to.value_or(""), "ada@contoso.com");
  EXPECT_TRUE(same->already);
  EXPECT_EQ(cloud_.assigned.size(), 1u) << "nothing sent again";
}

// Attack round 5, finding 7: the admin reassigned the device in the portal (as the refusal
// advises); delivering to that user records it and sends nothing. Anyone else is still refused.
TEST_F(DeliveryPassTest, AUserTheTenantAlreadyListsIsRecordedNotRefused) {
  registered("R1");
  cloud_.tenant["R1"].id = "ap-R1";
  cloud_.tenant["R1"].serial = "R1";
  cloud_.users["ada@contoso.com"] = {};
  cloud_.users["bob@contoso.com"] = {};
  start();
  ASSERT_TRUE(pass_->deliver("R1", "ada@contoso.com").ok());
  auto refused = pass_->deliver("R1", "bob@contoso.com");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("Intune admin center"), std::string::npos);
  cloud_.tenant["R1"].user_principal_name = "bob@contoso.com";  // reassigned in the portal
  auto bob = pass_->deliver("R1", "Bob@contoso.com");
  ASSERT_TRUE(bob.ok()) << bob.error().message;
  EXPECT_EQ(bob->device.delivered_to.value_or(""), "bob@contoso.com");
  EXPECT_EQ(cloud_.assigned.size(), 1u) << "nothing sent: the tenant has it already";
  EXPECT_FALSE(pass_->deliver("R1", "ada@contoso.com").ok()) << "ada is no longer its user";
}

// Attack round 3, finding 2: a backoff after 5xx answers is not a throttle, and deliver says so.
TEST_F(DeliveryPassTest, ABackoffAfterServerErrorsIsNotCalledThrottling) {
  registered("B0");
  start();
  core::Error failure = core::make_error(cloud::kErrTransient, "HTTP 500");
  failure.http_status = 500;
  auto failing =
      budget_->call(Lane::kIntune, CallKind::kWrite, [&]() -> core::Status { return failure; });
  ASSERT_FALSE(failing.ok());
  clock_.advance(1ms);
  ASSERT_GT(budget_->wait_ms(Lane::kIntune, CallKind::kWrite), 0) << "seed 42 gives a wait";
  auto held = pass_->deliver("B0", "ada@contoso.com");
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error().code, CloudBudget::kNotNow);
  EXPECT_EQ(held.error().message.find("throttling"), std::string::npos) << held.error().message;
  EXPECT_NE(held.error().message.find("waiting after failed requests to Intune"), std::string::npos)
      << held.error().message;
}

}  // namespace
}  // namespace hangar::service::test
