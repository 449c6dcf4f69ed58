// Throttling: 429 with Retry-After once a budget is spent, never more than the budget in any
// window, and Retry-After that is honest (waiting exactly that long gets the request in).
#include <deque>
#include <random>

#include "sim_fixture.h"

namespace hangar::cloudsim::test {
namespace {

class ThrottleTest : public SimTest {
 protected:
  void SetUp() override {
    Scenario scenario = quiet_scenario();
    scenario.throttling.enabled = true;  // the defaults: 100 writes and 1000 requests per 20 s
    // These tests check that Retry-After is honest; its omission has tests of its own.
    scenario.lenient.always_retry_after = true;
    start(scenario);
    token();  // the token endpoint is not throttled, but take it out of the way
  }
  HttpResponse write() { return graph("DELETE", std::string(kImported) + "/missing"); }
  HttpResponse read() { return graph("GET", std::string(kImported) + "?$top=1"); }
};

TEST_F(ThrottleTest, TheHundredAndFirstWriteIn20SecondsGets429WithRetryAfter) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(write().status, 404) << "write " << i << " is within the budget";
    advance(100ms);
  }
  auto throttled = write();
  ASSERT_EQ(throttled.status, 429);
  auto body = json::parse(throttled.body);
  EXPECT_EQ(body["error"]["code"], "TooManyRequests");
  // The first write left the window 20 s after it was made: 10 s from now.
  EXPECT_EQ(throttled.header("Retry-After"), "10");
  EXPECT_NE(throttled.header("request-id"), "");
  // Reads still have room: writes and requests are separate budgets.
  EXPECT_EQ(read().status, 200);

  advance(9s);
  EXPECT_EQ(write().status, 429) << "one second early";
  advance(1s);
  EXPECT_EQ(write().status, 404) << "after Retry-After the write gets in";

  auto stats = sim().stats();
  EXPECT_EQ(stats["throttled"]["total"], 2);
  EXPECT_EQ(stats["throttled"]["by_endpoint"]["imported.delete"], 2);
  EXPECT_EQ(stats["requests"]["by_endpoint"]["imported.delete"]["by_status"]["429"], 2);
}

TEST_F(ThrottleTest, NeverMoreThanTheBudgetInAnyWindow) {
  // A greedy client with random gaps, retrying at once when refused: every admitted write is
  // checked against the ones in the 20 s before it.
  std::mt19937 random(7);
  std::deque<std::int64_t> admitted;
  int throttled = 0;
  for (int i = 0; i < 3000; ++i) {
    advance(std::chrono::milliseconds(random() % 150));
    auto response = write();
    if (response.status == 429) {
      ++throttled;
      EXPECT_GE(std::stoi(response.header("Retry-After")), 1);
      continue;
    }
    ASSERT_EQ(response.status, 404);
    const auto now = clock_.now_ms();
    admitted.push_back(now);
    while (admitted.front() <= now - 20'000) admitted.pop_front();
    ASSERT_LE(admitted.size(), 100u) << "at request " << i;
  }
  EXPECT_GT(throttled, 0);
}

TEST_F(ThrottleTest, TheRequestBudgetCountsReadsAndWrites) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ((i % 10 == 0 ? write() : read()).status / 100 * 100, i % 10 == 0 ? 400 : 200);
  }
  auto throttled = read();
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.header("Retry-After"), "20");
}

TEST_F(ThrottleTest, RetryAfterCanBeOmittedPerEndpoint) {
  Scenario scenario = quiet_scenario();
  scenario.throttling.enabled = true;
  scenario.throttling.writes = {2, 20};
  scenario.throttling.omit_retry_after = {"imported.*"};
  start(scenario);
  write();
  write();
  auto throttled = write();
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.header("Retry-After"), "");
  EXPECT_EQ(sim().stats()["throttled"]["without_retry_after"], 1);
}

// Some Intune endpoints answer 429 without Retry-After (Microsoft Q&A, "Throttling limits for
// Graph API (beta) managedDevices"): by default about half of Intune's 429s go without it; the
// directory's always carry it.
TEST_F(ThrottleTest, SomeIntune429sComeWithoutRetryAfterByDefault) {
  Scenario scenario = quiet_scenario();
  scenario.throttling.enabled = true;
  scenario.throttling.writes = {1, 20};
  scenario.throttling.requests = {1, 20};
  start(scenario);
  EXPECT_EQ(write().status, 404);
  int with = 0;
  int without = 0;
  for (int i = 0; i < 40; ++i) {
    auto throttled = write();
    ASSERT_EQ(throttled.status, 429);
    (throttled.header("Retry-After").empty() ? without : with) += 1;
    // Intune's body: its document in error.message.
    EXPECT_NE(intune_text(throttled).find("Too many requests"), std::string::npos)
        << throttled.body;
  }
  EXPECT_GT(with, 5);
  EXPECT_GT(without, 5);
  for (int i = 0; i < 10; ++i) {
    auto directory = graph("GET", "/v1.0/groups/missing/members");
    ASSERT_EQ(directory.status, 429);
    EXPECT_NE(directory.header("Retry-After"), "");
  }
}

TEST_F(ThrottleTest, BudgetsArePerApp) {
  Scenario scenario = quiet_scenario();
  scenario.throttling.enabled = true;
  scenario.throttling.writes = {1, 20};
  scenario.auth.apps.push_back({"second-app", "second-secret"});
  start(scenario);
  EXPECT_EQ(write().status, 404);
  EXPECT_EQ(write().status, 429);
  auto other = request_token(
      "grant_type=client_credentials&client_id=second-app&client_secret=second-secret&scope="
      "https%3A%2F%2Fgraph.microsoft.com%2F.default");
  const auto other_token = json::parse(other.body)["access_token"].get<std::string>();
  auto response = send("DELETE", std::string(kImported) + "/missing", "",
                       {{"authorization", "Bearer " + other_token}});
  EXPECT_EQ(response.status, 404);
}

TEST_F(ThrottleTest, ResetRestoresTheBudgetAndClearsCounters) {
  Scenario scenario = quiet_scenario();
  scenario.throttling.enabled = true;
  scenario.throttling.writes = {1, 20};
  start(scenario);
  write();
  EXPECT_EQ(write().status, 429);
  EXPECT_EQ(send("POST", "/_sim/reset").status, 204);
  EXPECT_EQ(write().status, 404) << "the token survives a reset; the budget does not";
  auto stats = sim().stats();
  EXPECT_EQ(stats["throttled"]["total"], 0);
  EXPECT_EQ(stats["requests"]["total"], 1);
}

}  // namespace
}  // namespace hangar::cloudsim::test
