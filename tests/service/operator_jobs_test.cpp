// The engine's operator jobs (deliver, deregister, remove --force) as their callers see them: an
// answer always comes within the caller's wait (done, failed, or in doubt and recorded so a re-run
// completes), a graceful stop answers every waiting caller, a deregister settles an import Intune
// finished since the last poll, and a cloud 5xx is told in the seed's words, not Intune's.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "engine_rig.h"
#include "fake_clouds.h"
#include "hangar/cloud/cloud_error.h"
#include "hangar/core/stop.h"
#include "hangar/ipc/protocol.h"
#include "hangar/service/engine.h"

namespace hangar::service::test {
namespace {

using Steady = std::chrono::steady_clock;

class OperatorJobsTest : public EngineRig {
 protected:
  // A registered device the tenant lists (delivery's view of it).
  void in_tenant(const std::string& serial) {
    registered(serial);
    users_.tenant[serial].id = "ap-" + serial;
    users_.tenant[serial].serial = serial;
  }
  // A device uploaded and followed: Registration Pending with import record rec-SERIAL.
  void pending(const std::string& serial) {
    queue_profile(serial, "standard");
    ASSERT_TRUE(store_->claim_upload_batch(clock_.now_ms(), 10).ok());
    ASSERT_TRUE(
        store_->mark_uploaded(serial, "rec-" + serial, "rec-" + serial, clock_.now_ms()).ok());
    cloud::ImportRecord record;
    record.id = "rec-" + serial;
    record.import_id = record.id;
    record.serial = serial;
    record.status = cloud::ImportStatus::kUnknown;
    imports_.records[record.id] = record;
  }
};

// Black-box round 7: a plain `remove` while a deregister of the same device was deleting it took
// the device out, said it was still registered, and left the deregister without its device. The
// engine says what it is doing to a serial while it does it; `remove` refuses meanwhile.
TEST_F(OperatorJobsTest, TheWorkUnderWayOnASerialIsKnownWhileItRuns) {
  in_tenant("W0");
  std::atomic<bool> deleting{false};
  users_.on_delete = [&deleting] {
    deleting = true;
    std::this_thread::sleep_for(600ms);
  };
  config_.run_passes = false;
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  EXPECT_FALSE(engine.operator_work_on("W0").has_value());
  std::thread caller([&] { EXPECT_TRUE(engine.deregister("W0", 5s).ok()); });
  while (!deleting) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(engine.operator_work_on("w0").value_or(""), "deregistration of W0");
  EXPECT_FALSE(engine.operator_work_on("W1").has_value());
  caller.join();
  EXPECT_FALSE(engine.operator_work_on("W0").has_value()) << "nothing under way once it ended";
}

// Black-box round, finding 1: work still under way when the caller's wait is over (a cloud call
// slower than its bound) is answered "in doubt" a second after the wait, with what to run, and
// recorded like a lost answer: the re-run reads the tenant, finds the device gone and completes.
TEST_F(OperatorJobsTest, WorkNotDoneWithinTheWaitIsAnsweredInDoubtAndTheReRunCompletes) {
  in_tenant("Q0");
  users_.on_delete = [] { std::this_thread::sleep_for(3500ms); };
  config_.run_passes = false;  // operator jobs only: no pass runs meanwhile
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  const auto started = Steady::now();
  auto answer = engine.deregister("Q0", 2s);
  const auto took = Steady::now() - started;
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, ipc::errc::kInDoubt);
  EXPECT_NE(answer.error().message.find("`hangar show Q0`"), std::string::npos)
      << answer.error().message;
  EXPECT_NE(answer.error().message.find("`hangar deregister Q0 --yes` again"), std::string::npos)
      << answer.error().message;
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 2s + Engine::kOperatorGrace + 400ms) << "answered within wait_ms + a second";
  EXPECT_TRUE(store_->get_meta("in_doubt.deregister.q0")->has_value());

  users_.on_delete = nullptr;
  std::this_thread::sleep_for(2s);  // the DELETE ends after its caller was answered
  clock_.advance(10s);
  auto again = engine.deregister("Q0", 5s);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->already_gone);
  EXPECT_EQ(users_.deleted, std::vector<std::string>{"ap-Q0"}) << "deleted once";
  EXPECT_FALSE(store_->get_device("Q0").ok());
}

// Finding 2: a graceful stop while a deregister waits for its DELETE answers the caller (in doubt,
// the write may have been done) instead of closing its connection; work not yet begun is dropped
// with "nothing was sent", and later commands are refused.
TEST_F(OperatorJobsTest, AGracefulStopAnswersEveryWaitingOperatorCommand) {
  in_tenant("S0");
  std::atomic<bool> deleting{false};
  std::atomic<bool> release{false};
  users_.on_delete = [&] {
    deleting = true;
    const auto until = Steady::now() + 5s;
    while (!release && Steady::now() < until) std::this_thread::sleep_for(10ms);
  };
  config_.run_passes = false;  // operator jobs only
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  std::optional<core::Result<DeliveryPass::Deregistered>> answer;
  std::thread caller([&] { answer.emplace(engine.deregister("S0", 20s)); });
  const auto wait_until = Steady::now() + 5s;
  while (!deleting && Steady::now() < wait_until) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(deleting);
  const auto stopped = Steady::now();
  engine.stop_operator_jobs(300ms);
  caller.join();
  EXPECT_LT(Steady::now() - stopped, 1s) << "answered within the stop's grace";
  release = true;
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->error().code, ipc::errc::kInDoubt);
  EXPECT_NE(answer->error().message.find("did not finish before the service stopped"),
            std::string::npos)
      << answer->error().message;
  EXPECT_TRUE(store_->get_meta("in_doubt.deregister.s0")->has_value());

  auto later = engine.deliver("S0", "ada@contoso.com", 5s);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code, ipc::errc::kBusy);
  EXPECT_NE(later.error().message.find("the service is stopping"), std::string::npos);
}

TEST_F(OperatorJobsTest, AStopDropsWorkNotYetBegunAndSaysNothingWasSent) {
  in_tenant("N0");
  config_.run_passes = false;  // the step below runs the queued jobs only
  Engine engine = make();      // no engine thread: the job waits in the queue
  std::optional<core::Result<DeliveryPass::Deregistered>> answer;
  std::thread caller([&] { answer.emplace(engine.deregister("N0", 20s)); });
  std::this_thread::sleep_for(100ms);
  engine.stop_operator_jobs(1s);
  caller.join();
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->error().code, ipc::errc::kBusy);
  EXPECT_NE(answer->error().message.find("nothing was sent"), std::string::npos)
      << answer->error().message;
  engine.step();  // runs the queued jobs: the dropped one does nothing
  EXPECT_EQ(users_.requests, 0);
  EXPECT_TRUE(users_.deleted.empty());
}

// Finding 3: Intune finished the import after the last poll. `deregister` reads the import record
// once and deletes the registration, instead of sending the admin to `remove --force` (which
// would send them back here).
TEST_F(OperatorJobsTest, ADeregisterSettlesAnImportFinishedSinceTheLastPoll) {
  pending("F0");
  users_.tenant["F0"].id = "ap-F0";
  users_.tenant["F0"].serial = "F0";
  config_.run_passes = false;  // no poll: only what the deregister reads
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  auto done = engine.deregister("F0", 5s);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->autopilot_id, "ap-F0");
  EXPECT_EQ(users_.deleted, std::vector<std::string>{"ap-F0"});
  EXPECT_FALSE(store_->get_device("F0").ok()) << "out of the queue";
  EXPECT_EQ(imports_.record_gets, 1) << "the import record read once";

  // Still importing: the refusal stands (remove --force deletes the import, no loop).
  pending("F1");
  imports_.outcome["F1"] = "pending";
  imports_.absent.insert("F1");  // and the tenant does not list it
  auto refused = engine.deregister("F1", 5s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ipc::errc::kConflict);
  EXPECT_NE(refused.error().message.find("hangar remove F1 --force"), std::string::npos);
  auto removed = engine.withdraw("F1", 5s);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
}

// Finding 4: `remove --force` when Graph answers 5xx says the seed's "Unexpected error" with the
// Request ID; Intune's raw answer is for the service log only.
TEST_F(OperatorJobsTest, ACloud5xxIsToldInTheSeedsWordsWithTheRequestId) {
  pending("E0");
  core::Error failure = core::make_error(
      cloud::kErrTransient,
      "GET https://graph.microsoft.com/beta/deviceManagement/importedWindowsAutopilotDevice"
      "Identities/rec-E0 answered HTTP 500: InternalServerError: {\"_version\": 3, \"Message\": "
      "\"An internal server error has occurred - Operation ID (for customer support): "
      "00000000-0000-0000-0000-000000000000 - Activity ID: 7c4a0b2e - Url: https://fef.msua06."
      "manage.microsoft.com/DeviceEnrollmentFE/StatelessDeviceEnrollmentFEService/...\"}");
  failure.http_status = 500;
  failure.request_id = "req-5xx-1";
  cloud::set_failure(failure, cloud::Failure::kTransient);
  imports_.read_failures["get"].push_back(failure);
  config_.run_passes = false;  // operator jobs only
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  auto answer = engine.withdraw("E0", 5s);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, cloud::kErrTransient);
  EXPECT_EQ(answer.error().request_id, "req-5xx-1");
  const std::string& said = answer.error().message;
  EXPECT_NE(said.find("Unexpected error (Request ID: req-5xx-1)"), std::string::npos) << said;
  EXPECT_NE(said.find("contact Support and provide the Request ID"), std::string::npos) << said;
  EXPECT_EQ(said.find("Activity ID"), std::string::npos) << said;
  EXPECT_EQ(said.find("_version"), std::string::npos) << said;
  EXPECT_LT(said.size(), 300u) << said;
  EXPECT_TRUE(store_->get_device("E0").ok()) << "nothing removed";
}

// Black-box round 14: `remove --force` whose read of the import failed on the network said only
// the transport's words. It says nothing changed and to run it again, as deliver does.
TEST_F(OperatorJobsTest, ARemoveForceWhoseReadFailedSaysNothingChangedAndToRunItAgain) {
  pending("U0");
  core::Error failure =
      core::make_error(cloud::kErrNetwork,
                       "GET .../importedWindowsAutopilotDeviceIdentities/rec-U0: Failed to "
                       "read response body");
  imports_.read_failures["get"].push_back(failure);
  config_.run_passes = false;
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  auto answer = engine.withdraw("U0", 5s);
  ASSERT_FALSE(answer.ok());
  const std::string& said = answer.error().message;
  EXPECT_NE(said.find("Failed to read response body"), std::string::npos) << said;
  EXPECT_NE(said.find("nothing was removed or deleted"), std::string::npos) << said;
  EXPECT_NE(said.find("run `hangar remove U0 --force` again"), std::string::npos) << said;
  EXPECT_TRUE(store_->get_device("U0").ok()) << "nothing removed";
}

// Black-box round 12: two `deliver` commands for one device and user started together both said
// "assigned" (each compared the device before and after). The second runs after the first on the
// engine's thread and finds it delivered: it says it assigned nothing, and the cloud gets one call.
TEST_F(OperatorJobsTest, TwoDeliveriesAtOnceAssignOnceAndTheSecondSaysSo) {
  in_tenant("C0");
  users_.users["ada@contoso.com"] = {};
  config_.run_passes = false;  // operator jobs only
  Engine engine = make();
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  std::optional<core::Result<DeliveryPass::Delivered>> first;
  std::optional<core::Result<DeliveryPass::Delivered>> second;
  std::thread one([&] { first.emplace(engine.deliver("C0", "ada@contoso.com", 5s)); });
  std::thread two([&] { second.emplace(engine.deliver("C0", "ada@contoso.com", 5s)); });
  one.join();
  two.join();
  ASSERT_TRUE(first->ok()) << first->error().message;
  ASSERT_TRUE(second->ok()) << second->error().message;
  EXPECT_NE((*first)->already, (*second)->already) << "exactly one of them assigned the user";
  EXPECT_EQ(users_.assigned.size(), 1u);
  EXPECT_EQ((*first)->device.delivered_to.value_or(""), "ada@contoso.com");
  EXPECT_EQ((*second)->device.delivered_to.value_or(""), "ada@contoso.com");
}

}  // namespace
}  // namespace hangar::service::test
