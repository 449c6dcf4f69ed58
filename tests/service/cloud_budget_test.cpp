// The CloudBudget on its own, with a fake clock: the sliding windows, a Retry-After counted from
// the answer's arrival, throttling per lane, backoff with jitter under the cap, offline probing,
// what a caller handles itself, and the sentence an operator reads.
#include "hangar/service/cloud_budget.h"

#include <gtest/gtest.h>

#include <random>

#include "hangar/cloud/http.h"
#include "hangar/cloud/registration.h"

namespace hangar::service {
namespace {

using namespace std::chrono_literals;

core::Error failure(const char* code, int status = 0) {
  core::Error error = core::make_error(code, "a cloud answer");
  error.http_status = status;
  return error;
}

class BudgetTest : public ::testing::Test {
 protected:
  BudgetConfig config() {
    BudgetConfig config;
    config.seed = 7;
    return config;
  }
  // A request that takes `latency` on the fake clock and answers `answer`.
  core::Status send(CloudBudget& budget, Lane lane, CallKind kind,
                    std::optional<core::Error> answer = std::nullopt,
                    std::chrono::milliseconds latency = 0ms, const Answers& answers = {}) {
    return budget.call(
        lane, kind,
        [&]() -> core::Status {
          ++sent;
          clock.advance(latency);
          if (answer) return *answer;
          return {};
        },
        answers);
  }

  core::FakeClock clock;
  CloudHealth health;
  int sent = 0;
};

TEST_F(BudgetTest, TheWriteAndRequestBudgetsAreNeverExceeded) {
  BudgetConfig small = config();
  small.write_budget = 3;
  small.request_budget = 5;
  CloudBudget budget(clock, small, health);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kWrite).ok());
  auto refused = send(budget, Lane::kIntune, CallKind::kWrite);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, CloudBudget::kNotNow);
  EXPECT_EQ(refused.error().retry_after, 20s);
  EXPECT_EQ(sent, 3) << "nothing is sent over the budget";
  // Reads still fit the request budget; the writes of the other lane share the write budget.
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kRead).ok());
  EXPECT_TRUE(send(budget, Lane::kDirectory, CallKind::kRead).ok());
  EXPECT_FALSE(send(budget, Lane::kDirectory, CallKind::kRead).ok());
  EXPECT_FALSE(send(budget, Lane::kDirectory, CallKind::kWrite).ok());
  EXPECT_EQ(budget.retry_at(), clock.now_ms() + 20'000);
  clock.advance(20s);
  EXPECT_EQ(budget.wait_ms(Lane::kIntune, CallKind::kWrite), 0);
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kWrite).ok());
  EXPECT_EQ(budget.requests(), 6);
}

// Black-box round 12: a plain-http request the transport refused to send (another account served
// the loopback port) was counted in status's requests. A request that never left is not a request
// made; one whose answer was lost may have reached the cloud and is.
TEST_F(BudgetTest, ARequestThatNeverLeftIsNotCounted) {
  CloudBudget budget(clock, config(), health);
  core::Error unsent = core::make_error(cloud::kErrNetwork, "refused (the request was not sent)");
  cloud::set_failure(unsent, cloud::Failure::kNotSent);
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, unsent).ok());
  EXPECT_EQ(budget.requests(), 0);
  clock.advance(10min);
  core::Error lost = core::make_error(cloud::kErrNetwork, "connection reset");
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, lost).ok());
  EXPECT_EQ(budget.requests(), 1);
  clock.advance(10min);
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kRead).ok());
  EXPECT_EQ(budget.requests(), 2);
}

// Attack round 2, finding 07: while a request waits for its answer, `hangar status` can say what
// it waits for and since when; once answered (or failed), nothing is waiting.
TEST_F(BudgetTest, ARequestWaitingForItsAnswerIsReported) {
  CloudBudget budget(clock, config(), health);
  EXPECT_FALSE(budget.oldest_in_flight());
  const std::int64_t sent_at = clock.now_ms();
  std::optional<CloudBudget::InFlight> during;
  auto answered = budget.call(Lane::kIntune, CallKind::kWrite, [&]() -> core::Status {
    clock.advance(5s);
    during = budget.oldest_in_flight();
    return failure(cloud::kErrTimeout);
  });
  EXPECT_FALSE(answered.ok());
  ASSERT_TRUE(during);
  EXPECT_EQ(during->since_ms, sent_at);
  EXPECT_EQ(during->lane, Lane::kIntune);
  EXPECT_EQ(during->kind, CallKind::kWrite);
  EXPECT_EQ(during->calls, 1u);
  EXPECT_FALSE(budget.oldest_in_flight()) << "a failed answer is an answer";
}

TEST_F(BudgetTest, RetryAfterCountsFromTheAnswersArrival) {
  CloudBudget budget(clock, config(), health);
  core::Error throttled = failure(cloud::kErrThrottled, 429);
  throttled.retry_after = 7s;
  const std::int64_t sent_at = clock.now_ms();
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, throttled, 300ms).ok());
  EXPECT_EQ(budget.throttled_until(Lane::kIntune), sent_at + 7300);
  EXPECT_EQ(budget.throttled(), 1);
  clock.advance(6999ms);
  auto early = send(budget, Lane::kIntune, CallKind::kWrite);
  ASSERT_FALSE(early.ok()) << "a write inside the window is wasted";
  EXPECT_EQ(early.error().message, "the cloud is throttling Hangar; try again in 1 s");
  clock.advance(1ms);
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kWrite).ok());
  EXPECT_EQ(sent, 2);
}

// Black-box round 8: a 429 to an upload held every read of the lane too, so devices already sent
// were not followed while the queue waited out write throttles, and failed as pending too long
// although Intune had registered them. Intune counts writes apart (100 writes / 1,000 requests
// per 20 s): a write's 429 holds writes; a read's 429 (the request limit) holds everything.
TEST_F(BudgetTest, AThrottledWriteHoldsWritesAndReadsGoOn) {
  CloudBudget budget(clock, config(), health);
  core::Error throttled = failure(cloud::kErrThrottled, 429);
  throttled.retry_after = 10s;
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, throttled).ok());
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kRead).ok()) << "reads go on";
  EXPECT_GT(budget.wait_ms(Lane::kIntune, CallKind::kWrite), 9000);
  EXPECT_EQ(budget.wait_ms(Lane::kIntune, CallKind::kRead), 0);
  EXPECT_EQ(budget.writes_blocked_until(Lane::kIntune), clock.now_ms() + 10'000);
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite).ok());
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kRead, throttled).ok());
  EXPECT_GT(budget.wait_ms(Lane::kIntune, CallKind::kRead), 9000) << "a read's 429 holds reads";
  EXPECT_GT(budget.wait_ms(Lane::kIntune, CallKind::kWrite), 9000);
}

TEST_F(BudgetTest, EntraIdAndIntuneThrottleApart) {
  CloudBudget budget(clock, config(), health);
  core::Error throttled = failure(cloud::kErrThrottled, 429);
  throttled.retry_after = 60s;
  EXPECT_FALSE(send(budget, Lane::kDirectory, CallKind::kWrite, throttled).ok());
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kWrite).ok());
  EXPECT_FALSE(send(budget, Lane::kDirectory, CallKind::kWrite).ok());
  EXPECT_EQ(budget.writes_blocked_until(Lane::kIntune), 0);
}

TEST_F(BudgetTest, AThrottleWithoutRetryAfterDoublesUpToTheCap) {
  BudgetConfig doubling = config();
  doubling.throttle_default = 10s;
  doubling.backoff_cap = 35s;
  CloudBudget budget(clock, doubling, health);
  for (const auto expected : {10s, 20s, 35s, 35s}) {
    const std::int64_t at = clock.now_ms();
    EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kRead, failure(cloud::kErrThrottled)).ok());
    EXPECT_EQ(budget.blocked_until(Lane::kIntune) - at,
              std::chrono::milliseconds(expected).count());
    clock.advance(expected);
  }
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kRead).ok());  // an answer ends the streak
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kRead, failure(cloud::kErrThrottled)).ok());
  EXPECT_EQ(budget.blocked_until(Lane::kIntune) - clock.now_ms(), 10'000);
}

TEST_F(BudgetTest, ServerErrorsBackOffWithFullJitterUnderTheCap) {
  BudgetConfig jitter = config();
  jitter.backoff_base = 1s;
  jitter.backoff_cap = 8s;
  CloudBudget budget(clock, jitter, health);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::int64_t at = clock.now_ms();
    EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, failure(cloud::kErrTransient)).ok());
    const std::int64_t wait = budget.blocked_until(Lane::kIntune) - at;
    EXPECT_GE(wait, 0);
    EXPECT_LE(wait, std::min<std::int64_t>(8000, 1000LL << attempt));
    clock.advance(std::chrono::milliseconds(wait));
  }
  EXPECT_TRUE(budget.online());
}

// Black-box round 10: a rotated secret left status and the tray saying all was well. Refused
// credentials need attention at once, until a call succeeds or new credentials are set.
TEST_F(BudgetTest, RefusedCredentialsNeedAttentionUntilACallSucceeds) {
  CloudBudget budget(clock, config(), health);
  core::Error refused = failure(cloud::kErrAuth);
  refused.http_status = 401;
  refused.request_id = "req-401";
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, refused).ok());
  auto attention = health.refused_requests();
  ASSERT_EQ(attention.size(), 1u);
  EXPECT_EQ(attention.front().form_id, "credentials");
  EXPECT_EQ(attention.front().request_id, "req-401");
  EXPECT_NE(attention.front().fallback.find("hangar config set-credentials"), std::string::npos);
  budget.reset();  // new credentials
  EXPECT_TRUE(health.refused_requests().empty());
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, refused).ok());
  EXPECT_EQ(health.refused_requests().size(), 1u);
  clock.advance(std::chrono::minutes(10));
  EXPECT_TRUE(send(budget, Lane::kIntune, CallKind::kWrite).ok());
  EXPECT_TRUE(health.refused_requests().empty()) << "accepted again";
}

TEST_F(BudgetTest, FullJitterStaysWithinBaseTimesTwoToTheAttemptAndTheCap) {
  std::mt19937_64 rng(1);
  for (int attempt = 0; attempt < 12; ++attempt) {
    for (int i = 0; i < 200; ++i) {
      const auto wait = full_jitter(attempt, 100ms, 5s, rng);
      EXPECT_GE(wait.count(), 0);
      EXPECT_LE(wait, std::min<std::chrono::milliseconds>(5s, 100ms * (1 << attempt)));
    }
  }
}

TEST_F(BudgetTest, RateBudgetSlidesItsWindow) {
  RateBudget window(3, 20s);
  EXPECT_EQ(window.wait_ms(0), 0);
  window.record(0);
  window.record(1000);
  window.record(2000);
  EXPECT_EQ(window.wait_ms(2000), 18000);
  EXPECT_EQ(window.wait_ms(20000), 0);
}

TEST_F(BudgetTest, OfflineHoldsEveryLaneForOneProbeInterval) {
  BudgetConfig probe = config();
  probe.offline_probe = 5s;
  CloudBudget budget(clock, probe, health);
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kRead, failure(cloud::kErrNetwork)).ok());
  EXPECT_FALSE(budget.online());
  EXPECT_EQ(budget.wait_ms(Lane::kDirectory, CallKind::kRead), 5000);
  clock.advance(5s);
  EXPECT_TRUE(send(budget, Lane::kDirectory, CallKind::kRead).ok());
  EXPECT_TRUE(budget.online());
  EXPECT_NE(health.last_error().resolved_at, 0) << "the answer resolves the last failure";
}

TEST_F(BudgetTest, RefusalsAndTheCallersOwnFailuresBlockNothingUntilWaitedOut) {
  CloudBudget budget(clock, config(), health);
  // A 4xx about the request, and a read's refusal of its form: the caller decides.
  EXPECT_FALSE(
      send(budget, Lane::kIntune, CallKind::kWrite, failure(cloud::kErrRejected, 400)).ok());
  EXPECT_FALSE(
      send(budget, Lane::kIntune, CallKind::kRead, failure(cloud::kErrTransient, 500)).ok());
  EXPECT_EQ(budget.blocked_until(Lane::kIntune), 0);
  // What the caller names as its own (a 403 on one group), and answers it accepts (a 404).
  const Answers own{[](const core::Error& e) { return e.http_status == 404; },
                    [](const core::Error& e) { return e.code == cloud::kErrAuth; }};
  EXPECT_FALSE(
      send(budget, Lane::kDirectory, CallKind::kWrite, failure(cloud::kErrAuth, 403), 0ms, own)
          .ok());
  EXPECT_FALSE(
      send(budget, Lane::kDirectory, CallKind::kWrite, failure(cloud::kErrRejected, 404), 0ms, own)
          .ok());
  EXPECT_EQ(budget.blocked_until(Lane::kDirectory), 0);
  // Waited out on request: the lane backs off; what call() handled already is not counted twice.
  budget.wait_out(Lane::kIntune, CallKind::kRead, failure(cloud::kErrTransient, 500));
  EXPECT_GE(budget.blocked_until(Lane::kIntune), clock.now_ms());
  const std::int64_t blocked = budget.blocked_until(Lane::kIntune);
  budget.wait_out(Lane::kIntune, CallKind::kWrite, failure(cloud::kErrThrottled, 429));
  EXPECT_EQ(budget.blocked_until(Lane::kIntune), blocked);
  EXPECT_EQ(budget.throttled(), 0);
}

TEST_F(BudgetTest, RefusedCredentialsWaitTheCapAndNewOnesStartAfresh) {
  BudgetConfig cap = config();
  cap.backoff_cap = 5min;
  CloudBudget budget(clock, cap, health);
  EXPECT_FALSE(send(budget, Lane::kIntune, CallKind::kWrite, failure(cloud::kErrAuth, 401)).ok());
  EXPECT_EQ(budget.wait_ms(Lane::kIntune, CallKind::kWrite), 300'000);
  budget.reset();
  EXPECT_EQ(budget.wait_ms(Lane::kIntune, CallKind::kWrite), 0);
  EXPECT_EQ(health.last_error().at, 0);
}

TEST_F(BudgetTest, TheOperatorsSentenceRoundsUp) {
  EXPECT_EQ(CloudBudget::throttling_message(45'000),
            "the cloud is throttling Hangar; try again in 45 s");
  EXPECT_EQ(CloudBudget::throttling_message(1), "the cloud is throttling Hangar; try again in 1 s");
  EXPECT_EQ(CloudBudget::throttling_message(20'001),
            "the cloud is throttling Hangar; try again in 21 s");
}

}  // namespace
}  // namespace hangar::service
