// core::StopSource / Wakeup / StopThread: a stop or a notification is never lost, whenever it
// comes, natively and under Wine (where std::stop_callback could hang for ever: stop.h).
#include "hangar/core/stop.h"

#include <gtest/gtest.h>

#include "waits.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>

namespace hangar::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Reason = Wakeup::Reason;

void expect_within(const std::function<bool()>& done, std::chrono::milliseconds limit,
                   const char* what, int round) {
  test::within_or_abort(done, limit, "round " + std::to_string(round) + ": " + what);
}

TEST(StopTest, AStopEndsAnHourLongWaitAtOnce) {
  StopSource source;
  Wakeup wakeup;
  std::atomic<bool> done{false};
  Reason reason = Reason::kTimedOut;
  std::thread sleeper([&] {
    reason = wakeup.wait_for(source.token(), 1h);
    done = true;
  });
  std::this_thread::sleep_for(20ms);
  const auto asked = Clock::now();
  EXPECT_TRUE(source.request_stop());
  EXPECT_FALSE(source.request_stop()) << "only the first request reports true";
  expect_within([&] { return done.load(); }, 2000ms, "the stop", 0);
  sleeper.join();
  EXPECT_EQ(reason, Reason::kStopped);
  EXPECT_LT(Clock::now() - asked, 1s);
}

TEST(StopTest, AStoppedTokenNeverSleeps) {
  StopSource source;
  source.request_stop();
  Wakeup wakeup;
  wakeup.notify();  // a pending notification does not hide the stop
  EXPECT_EQ(wakeup.wait_for(source.token(), 1h), Reason::kStopped);
  EXPECT_TRUE(source.token().stop_requested());
}

TEST(StopTest, ANotificationSentBeforeTheWaitIsKept) {
  StopSource source;
  Wakeup wakeup;
  wakeup.notify();
  wakeup.notify();  // two notifications before a wait are one wake-up
  const auto start = Clock::now();
  EXPECT_EQ(wakeup.wait_for(source.token(), 1h), Reason::kNotified);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(wakeup.wait_for(source.token(), 30ms), Reason::kTimedOut);
}

TEST(StopTest, TimeoutsAndTheDefaultToken) {
  Wakeup wakeup;
  const auto start = Clock::now();
  EXPECT_EQ(wakeup.wait_for(StopToken{}, 40ms), Reason::kTimedOut);
  EXPECT_GE(Clock::now() - start, 40ms);
  EXPECT_FALSE(StopToken{}.stop_requested());
  // A deadline in the past, and one so far away it would overflow a naive conversion.
  EXPECT_EQ(wakeup.wait_until(StopToken{}, Clock::now() - 1s), Reason::kTimedOut);
  StopSource source;
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    source.request_stop();
  });
  EXPECT_EQ(wakeup.wait_for(source.token(), Clock::duration::max()), Reason::kStopped);
  stopper.join();
}

TEST(StopTest, OneStopWakesEverySleeperOfTheSource) {
  StopSource source;
  constexpr int kSleepers = 8;
  std::atomic<int> stopped{0};
  std::vector<std::thread> sleepers;
  std::vector<Wakeup> wakeups(kSleepers);
  for (int i = 0; i < kSleepers; ++i) {
    sleepers.emplace_back([&, i] {
      if (wakeups[static_cast<std::size_t>(i)].wait_for(source.token(), 1h) == Reason::kStopped) {
        ++stopped;
      }
    });
  }
  std::this_thread::sleep_for(20ms);
  source.request_stop();
  for (auto& t : sleepers) t.join();
  EXPECT_EQ(stopped.load(), kSleepers);
}

TEST(StopTest, StopThreadStopsAndJoinsOnDestruction) {
  std::atomic<bool> ended{false};
  {
    StopThread worker([&](const StopToken& stop) {
      Wakeup wakeup;
      while (wakeup.wait_for(stop, 1h) != Reason::kStopped) {
      }
      ended = true;
    });
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(ended.load());
}

// Stop requests and wake-ups at random moments, thousands of times. In each round a worker loops
// as the engine does (wake, work a little, sleep an hour) on a fresh stop source; the main thread
// notifies it a random number of times at random moments and then asks it to stop at a random
// moment: each stop must end the round within a second, and every notification sent while the
// worker slept must wake it.
TEST(StopTest, StopsAndWakeupsAtRandomMomentsAreNeverLost) {
  std::mt19937 random(20261201);
  constexpr int kRounds = 3000;
  long long slowest_us = 0;
  Wakeup wakeup;
  std::atomic<int> wakes{0};
  std::atomic<bool> asleep{false};
  std::minstd_rand work(7);  // the worker's own generator
  test::StopRounds worker([&](const StopToken& stop) {
    for (;;) {
      asleep = true;
      const Reason reason = wakeup.wait_for(stop, 1h);
      asleep = false;
      if (reason == Reason::kStopped) return;
      ++wakes;
      if (work() % 4 == 0) std::this_thread::yield();  // "work"
    }
  });
  for (int round = 0; round < kRounds; ++round) {
    worker.start();
    const int notifications = static_cast<int>(random() % 4);
    for (int n = 0; n < notifications; ++n) {
      test::spin_for(std::chrono::microseconds(random() % 200));
      const int before = wakes.load();
      const bool was_asleep = asleep.load();
      wakeup.notify();
      // It was asleep, or about to be: this notification must wake it.
      if (was_asleep) {
        expect_within([&] { return wakes.load() > before; }, 1000ms, "a notification", round);
      }
    }
    test::spin_for(std::chrono::microseconds(random() % 300));
    const auto asked = Clock::now();
    worker.stop(1000ms, "round " + std::to_string(round) + ": the stop");
    slowest_us = std::max<long long>(
        slowest_us,
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - asked).count());
  }
  RecordProperty("rounds", kRounds);
  RecordProperty("slowest_stop_us", static_cast<int>(slowest_us));
  std::printf("%d rounds; slowest stop seen after %lld us\n", kRounds, slowest_us);
}

}  // namespace
}  // namespace hangar::core
