// Operator commands that need the cloud, against the real hangar-cloudsim, hangard and hangar
// (attack round 3): the CLI never gives up on a service that is still waiting for it (the
// service answers "try again in N s" within the CLI's --timeout), and a deregister whose answer
// was lost is recorded and completed by a re-run instead of becoming a dead end.
#include "registration_e2e_fixture.h"

#include <csignal>
#include <thread>

namespace hangar::test {
namespace {

class OperatorE2E : public RegistrationE2E {
 protected:
  // One device imported and Ready for user; its serial.
  std::string one_ready_device() {
    const auto csv = make_devices({"OP-:1"});
    auto imported = hangar({"import", csv.string(), "--profile", "standard"});
    EXPECT_EQ(imported.code, 0) << imported.output;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (status()["states"].value("ready_for_user", 0) == 1) break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(status()["states"].value("ready_for_user", 0), 1) << status().dump(2);
    return "OP-0001";
  }
  static Json quick_registration(int seed) {
    return {{"seed", seed},
            {"time_scale", 600},
            {"registration",
             {{"delay_seconds", 0}, {"jitter_seconds", 0}, {"profile_delay_seconds", 0}}}};
  }
};

// Finding 4: inside a throttle window of about a minute, `hangar --timeout 8 deregister` gets the
// service's "try again in N s" (exit 1) well before its 8 s, never exit 3 "did not answer".
TEST_F(OperatorE2E, AThrottledOperatorCommandIsAnsweredBeforeTheCliGivesUp) {
  Json scenario = quick_registration(41);
  // One write a minute: the import goes out, the clean-up DELETE after it gets a 429 with a
  // Retry-After of about 60 s.
  scenario["throttling"] = {{"writes", {{"limit", 1}, {"window_seconds", 60}}},
                            {"omit_retry_after_rate", 0}};
  start_cloud(scenario);
  start_service();
  const std::string serial = one_ready_device();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (status()["cloud"].value("throttled", 0) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GT(status()["cloud"].value("throttled", 0), 0) << status().dump(2);

  const auto started = std::chrono::steady_clock::now();
  auto held = hangar({"--timeout", "8", "deregister", serial, "--yes"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(held.code, 1) << held.output;
  EXPECT_NE(held.output.find("the cloud is throttling Hangar; try again in"), std::string::npos)
      << held.output;
  EXPECT_LT(took, 8s) << held.output;
  EXPECT_EQ(hangar({"show", serial}).code, 0) << "nothing was deleted";
}

// Finding 3: the DELETE of the Autopilot device reaches the tenant and the connection drops
// before the answer. The CLI says the answer was lost and how to finish; the re-run reads the
// tenant, finds the device gone, and takes it out of the queue ("already deleted").
TEST_F(OperatorE2E, ALostDeregisterAnswerIsRecordedAndTheReRunCompletes) {
  Json scenario = quick_registration(42);
  scenario["faults"] = {{"endpoints", {"autopilot.delete"}}, {"drop_after_rate", 1}};
  start_cloud(scenario);
  start_service();
  const std::string serial = one_ready_device();

  auto lost = hangar({"deregister", serial, "--yes"});
  EXPECT_EQ(lost.code, 1) << lost.output;
  EXPECT_NE(lost.output.find("its answer was lost"), std::string::npos) << lost.output;
  EXPECT_NE(lost.output.find("run `hangar deregister " + serial + " --yes` again"),
            std::string::npos)
      << lost.output;
  EXPECT_EQ(cloud_stats()["faults"].value("dropped_after_processing", 0), 1);
  auto shown = hangar({"show", serial});
  EXPECT_EQ(shown.code, 0) << "kept until the tenant confirms: " << shown.output;

  auto again = hangar({"deregister", serial, "--yes"});
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find(serial + " was already deleted in Windows Autopilot"),
            std::string::npos)
      << again.output;
  EXPECT_NE(hangar({"show", serial}).code, 0) << "out of the queue";
  ASSERT_EQ(hangar({"sync"}).code, 0);
  EXPECT_NE(hangar({"show", serial}).code, 0) << "and not brought back";
}

// Black-box round, finding 1: a Graph DELETE answering after 3 s and `--timeout 5`. The service
// bounds the DELETE by what is left of the CLI's wait and answers before the CLI gives up: exit 1
// "its answer was lost ... run again" (recorded), never exit 3 while the write completes; the
// re-run reads the tenant and completes. A --timeout too short for any cloud call is exit 2.
TEST_F(OperatorE2E, ADeleteSlowerThanTheWaitIsAnsweredInDoubtAndTheReRunCompletes) {
  Json scenario = quick_registration(43);
  scenario["faults"] = {{"endpoints", {"autopilot.delete"}}, {"latency_ms", 3000}};
  start_cloud(scenario);
  start_service();
  const std::string serial = one_ready_device();

  auto too_short = hangar({"--timeout", "1", "deregister", serial, "--yes"});
  EXPECT_EQ(too_short.code, 2) << too_short.output;
  EXPECT_NE(too_short.output.find("give --timeout 5 or more"), std::string::npos)
      << too_short.output;

  const auto started = std::chrono::steady_clock::now();
  auto slow = hangar({"--timeout", "5", "deregister", serial, "--yes"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(slow.code, 1) << slow.output;
  EXPECT_NE(slow.output.find("its answer was lost"), std::string::npos) << slow.output;
  EXPECT_NE(slow.output.find("run `hangar deregister " + serial + " --yes` again"),
            std::string::npos)
      << slow.output;
  EXPECT_LT(took, 5s) << slow.output;
  std::this_thread::sleep_for(2s);  // the simulator's late answer goes to nobody

  auto again = hangar({"deregister", serial, "--yes"});
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find(serial + " was already deleted in Windows Autopilot"),
            std::string::npos)
      << again.output;
  EXPECT_NE(hangar({"show", serial}).code, 0) << "out of the queue";
}

// Finding 2: SIGTERM while a deregister waits for a slow DELETE. The stop cancels the DELETE and
// answers the CLI (exit 1, the answer lost, run it again) before it closes the connection; once
// the service is back, the re-run completes.
TEST_F(OperatorE2E, AGracefulStopAnswersAWaitingDeregister) {
  Json scenario = quick_registration(44);
  scenario["faults"] = {{"endpoints", {"autopilot.delete"}}, {"latency_ms", 20'000}};
  start_cloud(scenario);
  start_service();
  const std::string serial = one_ready_device();

  RunResult waiting;
  std::thread cli([&] { waiting = hangar({"deregister", serial, "--yes"}); });
  std::this_thread::sleep_for(2500ms);  // the DELETE is under way
  service_->signal(SIGTERM);
  const auto code = service_->wait(15s);
  cli.join();
  ASSERT_TRUE(code.has_value()) << "hangard still running after SIGTERM";
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(waiting.code, 1) << waiting.output;
  EXPECT_EQ(waiting.output.find("closed"), std::string::npos) << waiting.output;
  EXPECT_NE(waiting.output.find("its answer was lost"), std::string::npos) << waiting.output;
  EXPECT_NE(waiting.output.find("run `hangar deregister " + serial + " --yes` again"),
            std::string::npos)
      << waiting.output;

  start_service();
  auto again = hangar({"deregister", serial, "--yes"});
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find(serial + " was already deleted in Windows Autopilot"),
            std::string::npos)
      << again.output;
}

}  // namespace
}  // namespace hangar::test
