// The engine: it schedules the passes and wakes them, stops at once, pauses, runs operator jobs
// on its thread, and every pass shares one CloudBudget: a throttle met by one pass holds the
// others' requests on the same lane (and only there). The passes have tests of their own.
#include "hangar/service/engine.h"

#include <gtest/gtest.h>

#include <random>

#include "engine_rig.h"
#include "fake_clouds.h"
#include "waits.h"

namespace hangar::service::test {
namespace {

constexpr const char* kStandardGroup = "6d1c2b8e-0000-4000-8000-000000000001";

class EngineTest : public EngineRig {
 protected:
  void run_for(std::chrono::milliseconds total, Engine& engine) {
    run_rounds(total, [&engine] { return engine.step(); });
  }
};

TEST_F(EngineTest, RetryAfterIsHonouredExactly) {
  queue("T", 2);
  core::Error throttled = core::make_error(cloud::kErrThrottled, "429");
  throttled.retry_after = 7s;
  imports_.import_failures.push_back(throttled);
  Engine engine = make();
  const auto delay = engine.step();
  EXPECT_EQ(imports_.import_calls, 1);
  EXPECT_EQ(delay, 7s);
  EXPECT_EQ(engine.status().throttled, 1);
  clock_.advance(6999ms);
  engine.step();
  EXPECT_EQ(imports_.import_calls, 1) << "sent again before Retry-After passed";
  clock_.advance(1ms);
  engine.step();
  EXPECT_EQ(imports_.import_calls, 2);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 2);
}

// Stop requests and wake-ups at random moments while run() works on its own thread, with every
// pass due far in the future (the fake clock never moves, so the engine's next pass is 30 s to an
// hour away): each stop must end run() within a second. Under Wine this once hung for ever in
// std::stop_callback's destructor (core/stop.h).
TEST_F(EngineTest, StopsAndWakeupsAtRandomMomentsEndRunAtOnce) {
  queue("S", 3);
  config_.required_licenses = {"sku-e3"};
  Engine engine = make();
  std::mt19937 random(20261201);
  constexpr int kRounds = 1000;
  hangar::test::StopRounds worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  for (int round = 0; round < kRounds; ++round) {
    worker.start();
    for (auto n = random() % 4; n > 0; --n) {
      hangar::test::spin_for(std::chrono::microseconds(random() % 300));
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
    hangar::test::spin_for(std::chrono::microseconds(random() % 500));
    worker.stop(1000ms, "round " + std::to_string(round) + ": Engine::run seeing its stop");
  }
}

TEST_F(EngineTest, PausedEngineSendsNothingUntilResumed) {
  queue("P", 2);
  Engine engine = make();
  engine.pause();
  run_for(10s, engine);
  EXPECT_EQ(imports_.import_calls, 0);
  EXPECT_TRUE(engine.status().paused);
  engine.resume();
  engine.step();
  EXPECT_EQ(imports_.import_calls, 1);
}

// Black-box round 7: a pause stopped every pass, so devices already sent stayed Registration
// Pending, and refresh/sync timed out blaming the cloud. A pause holds uploads only.
TEST_F(EngineTest, APauseHoldsUploadsButDevicesSentAreStillFollowed) {
  queue("F", 2);
  Engine engine = make();
  engine.step();
  ASSERT_EQ(imports_.import_calls, 1);
  ASSERT_EQ(count(core::DeviceState::kRegistrationPending), 2);
  queue_profile("G0", "standard");
  engine.pause();
  run_for(60s, engine);
  EXPECT_EQ(imports_.import_calls, 1) << "nothing new sent while paused";
  EXPECT_EQ(count(core::DeviceState::kQueued), 1);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 0);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 2) << "the devices sent were followed";
  const int lists = activity_.enrollment_lists;
  engine.refresh();
  engine.step();
  EXPECT_GT(activity_.enrollment_lists, lists) << "the activity pass is not held by the pause";
}

// Black-box round 6: a restart (crash, reboot, upgrade) resumed uploads the admin had paused.
TEST_F(EngineTest, APauseOutlivesARestartAndResumeToo) {
  queue("P", 2);
  {
    Engine engine = make();
    engine.pause();
  }
  {
    Engine restarted = make();
    EXPECT_TRUE(restarted.status().paused);
    run_for(10s, restarted);
    EXPECT_EQ(imports_.import_calls, 0);
    restarted.resume();
  }
  Engine again = make();
  EXPECT_FALSE(again.status().paused);
  again.step();
  EXPECT_EQ(imports_.import_calls, 1);
}

// Defect (issue 12): the daily tag sweep dropped the wait on_failure() returned for a 429, so
// the next import went out inside the Retry-After.
TEST_F(EngineTest, AThrottledTagSweepWriteHoldsTheImports) {
  registered("K0");
  activity_.register_device("K0", "");  // someone removed its tag: the sweep puts it back
  activity_.tag_set_failures.push_back(throttled_for(60s));
  config_.sweep_interval = 2min;
  config_.activity_interval = 24h;
  Engine engine = make();
  engine.step();
  clock_.advance(2min);
  engine.step();  // the sweep is due: its write is throttled
  ASSERT_EQ(activity_.tag_sets, 1);
  queue_profile("M0", "standard");
  clock_.advance(5s);
  engine.step();
  EXPECT_EQ(imports_.import_calls, 0) << "an import went out inside the Retry-After";
  EXPECT_TRUE(engine.status().blocked_until_ms.has_value());
  clock_.advance(55s);
  engine.step();
  EXPECT_EQ(imports_.import_calls, 1);
}

// Defect (issue 12): `hangar deliver` wrote inside the engine's Retry-After window, and a 429
// reached the operator as Intune's raw JSON.
TEST_F(EngineTest, DeliveryInsideAThrottleWindowWritesNothingAndSaysWhenToTryAgain) {
  registered("W0");
  users_.users["ada@contoso.com"] = {};
  queue_profile("X0", "standard");
  imports_.import_failures.push_back(throttled_for(45s));
  Engine engine = make();
  engine.step();
  ASSERT_EQ(engine.status().throttled, 1);
  {
    core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
    auto refused = engine.deliver("W0", "ada@contoso.com", 2s);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "busy");
    EXPECT_EQ(refused.error().message, "the cloud is throttling Hangar; try again in 45 s");
    EXPECT_TRUE(users_.assigned.empty()) << "a write went out inside the Retry-After";
  }
  // The operator's own write answered 429: the same sentence, never Intune's JSON.
  clock_.advance(45s);
  users_.assign_failures.push_back(throttled_for(20s));
  core::StopThread worker([&engine](const core::StopToken& stop) { engine.run(stop); });
  auto throttled = engine.deliver("W0", "ada@contoso.com", 2s);
  ASSERT_FALSE(throttled.ok());
  EXPECT_EQ(throttled.error().message, "the cloud is throttling Hangar; try again in 20 s");
  EXPECT_EQ(throttled.error().message.find("TooManyRequests"), std::string::npos);
}

TEST_F(EngineTest, ADirectoryThrottleHoldsTheSweepButNotTheImports) {
  config_.profile_groups = {{"standard", kStandardGroup}};
  directory_.groups[kStandardGroup];
  registered("T0", "standard", "dev-t0");
  directory_.join("dev-t0");
  directory_.group_write_failures = {throttled_for(60s)};
  Engine engine = make();
  ASSERT_TRUE(engine.sweep_groups());
  engine.step();
  ASSERT_EQ(directory_.member_adds, 1);
  ASSERT_TRUE(engine.status().group_sweep_running);
  EXPECT_FALSE(engine.status().blocked_until_ms.has_value()) << "imports are not held";

  // A device queued now is imported at once: Intune did not throttle.
  queue_profile("T1", "standard");
  clock_.advance(1s);
  engine.step();
  EXPECT_EQ(imports_.import_calls, 1);
  EXPECT_EQ(directory_.member_adds, 1) << "the sweep waits out its Retry-After";
  clock_.advance(60s);
  engine.step();
  EXPECT_EQ(directory_.member_adds, 2);
  EXPECT_FALSE(engine.status().group_sweep_running);
  EXPECT_EQ(directory_.groups[kStandardGroup], (std::set<std::string>{"obj-dev-t0"}));
}

TEST_F(EngineTest, EachPassIsWokenWhenItIsDue) {
  config_.activity_interval = 1h;
  config_.sweep_interval = 24h;
  Engine engine = make();
  EXPECT_EQ(engine.step(), 60s) << "nothing due: a look every minute";
  EXPECT_EQ(activity_.enrollment_lists, 1) << "the activity pass runs at start-up";
  queue("Q", 1);
  engine.notify();
  EXPECT_EQ(engine.step(), 30s) << "uploaded: the poll is next";
  EXPECT_EQ(imports_.import_calls, 1);
  engine.refresh();
  engine.step();
  EXPECT_EQ(activity_.enrollment_lists, 2) << "`hangar refresh` runs the activity pass at once";
  EXPECT_FALSE(engine.sweep_groups()) << "no profile groups configured";
}

}  // namespace
}  // namespace hangar::service::test
