// Fault injection: 5xx, latency, drops before and after processing, malformed bodies; decided by
// the seeded RNG, so the same seed and request sequence repeat exactly.
#include "sim_fixture.h"

namespace hangar::cloudsim::test {
namespace {

class FaultsTest : public SimTest {
 protected:
  Scenario with_faults(double error, double drop, double drop_after, double malformed,
                       std::uint64_t seed = 42) {
    Scenario scenario = quiet_scenario();
    scenario.seed = seed;
    scenario.faults.error_rate = error;
    scenario.faults.drop_rate = drop;
    scenario.faults.drop_after_rate = drop_after;
    scenario.faults.malformed_rate = malformed;
    return scenario;
  }

  // What a client would see of `n` imports: status, or "drop", per request.
  std::vector<std::string> run_imports(int n) {
    std::vector<std::string> outcomes;
    for (int i = 0; i < n; ++i) {
      const auto serial = "F-" + std::to_string(i);
      auto response = graph("POST", std::string(kImported) + "/import",
                            import_body({device_row(serial, make_hash(serial))}).dump());
      if (response.drop_connection) {
        outcomes.push_back("drop");
      } else if (json::parse(response.body, nullptr, false).is_discarded()) {
        outcomes.push_back("malformed");
      } else {
        outcomes.push_back(std::to_string(response.status));
      }
    }
    return outcomes;
  }
};

TEST_F(FaultsTest, TheSameSeedRepeatsTheSameFaults) {
  start(with_faults(0.2, 0.1, 0.1, 0.1, 42));
  const auto first = run_imports(200);
  const auto first_stats = sim().stats();
  start(with_faults(0.2, 0.1, 0.1, 0.1, 42));
  EXPECT_EQ(run_imports(200), first);
  EXPECT_EQ(sim().stats()["faults"], first_stats["faults"]);
  EXPECT_EQ(sim().stats()["imports"]["by_serial"], first_stats["imports"]["by_serial"]);

  // And after a reset, too.
  EXPECT_EQ(send("POST", "/_sim/reset").status, 204);
  EXPECT_EQ(run_imports(200), first);

  start(with_faults(0.2, 0.1, 0.1, 0.1, 43));
  EXPECT_NE(run_imports(200), first) << "another seed, another run";
}

TEST_F(FaultsTest, ErrorRateInjects5xxBeforeProcessing) {
  start(with_faults(0.2, 0, 0, 0));
  const auto outcomes = run_imports(1000);
  const auto errors = std::count_if(outcomes.begin(), outcomes.end(),
                                    [](const std::string& o) { return o[0] == '5'; });
  EXPECT_GT(errors, 150);
  EXPECT_LT(errors, 250);
  auto stats = sim().stats();
  EXPECT_EQ(stats["faults"]["error_5xx"], errors);
  // Nothing was imported for the failed requests.
  EXPECT_EQ(stats["imports"]["rows"], 1000 - errors);
  for (const auto& o : outcomes)
    EXPECT_TRUE(o == "200" || o == "500" || o == "502" || o == "503" || o == "504") << o;
}

TEST_F(FaultsTest, InjectedErrorsAreGraphShaped) {
  Scenario scenario = with_faults(1, 0, 0, 0);
  scenario.faults.error_statuses = {503};
  start(scenario);
  auto response = graph("GET", kImported);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(json::parse(response.body)["error"]["code"], "ServiceUnavailable");
  EXPECT_NE(response.header("request-id"), "");
}

TEST_F(FaultsTest, ADropBeforeProcessingChangesNothing) {
  start(with_faults(0, 1, 0, 0));
  auto outcomes = run_imports(5);
  EXPECT_EQ(outcomes, std::vector<std::string>(5, "drop"));
  auto stats = sim().stats();
  EXPECT_EQ(stats["imports"]["rows"], 0);
  EXPECT_EQ(stats["faults"]["dropped"], 5);
}

TEST_F(FaultsTest, ADropAfterProcessingLosesTheReplyButNotTheImport) {
  start(with_faults(0, 0, 1, 0));
  auto outcomes = run_imports(5);
  EXPECT_EQ(outcomes, std::vector<std::string>(5, "drop"));
  auto stats = sim().stats();
  EXPECT_EQ(stats["imports"]["rows"], 5)
      << "the client cannot know: it must look before re-sending";
  EXPECT_EQ(stats["faults"]["dropped_after_processing"], 5);
}

TEST_F(FaultsTest, AMalformedBodyIsCutMidJsonAfterProcessing) {
  start(with_faults(0, 0, 0, 1));
  auto response = graph("POST", std::string(kImported) + "/import",
                        import_body({device_row("M-1", make_hash("M-1"))}).dump());
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(json::parse(response.body, nullptr, false).is_discarded()) << response.body;
  EXPECT_EQ(response.body.front(), '{');
  EXPECT_EQ(sim().stats()["imports"]["rows"], 1);
  EXPECT_EQ(sim().stats()["faults"]["malformed"], 1);
}

TEST_F(FaultsTest, LatencyIsAddedWithinItsJitter) {
  Scenario scenario = quiet_scenario();
  scenario.faults.latency_ms = 50;
  scenario.faults.jitter_ms = 20;
  start(scenario);
  bool varied = false;
  std::int64_t first = -1;
  for (int i = 0; i < 50; ++i) {
    auto response = graph("GET", kImported);
    EXPECT_GE(response.delay.count(), 50);
    EXPECT_LE(response.delay.count(), 70);
    if (first < 0) first = response.delay.count();
    varied = varied || response.delay.count() != first;
  }
  EXPECT_TRUE(varied);
}

TEST_F(FaultsTest, FaultsApplyOnlyToTheirEndpoints) {
  Scenario scenario = with_faults(1, 0, 0, 0);
  scenario.faults.endpoints = {"imported.import"};
  start(scenario);
  // The token endpoint, reads and the admin API are untouched.
  EXPECT_EQ(graph("GET", kImported).status, 200);
  EXPECT_EQ(send("GET", "/_sim/stats").status, 200);
  for (const auto& outcome : run_imports(3)) EXPECT_EQ(outcome[0], '5') << outcome;

  // The default ("graph") leaves the token endpoint alone; "*" includes it.
  start(with_faults(1, 0, 0, 0));
  EXPECT_EQ(request_token(token_form()).status, 200);
  Scenario everything = with_faults(1, 0, 0, 0);
  everything.faults.endpoints = {"*"};
  start(everything);
  EXPECT_GE(request_token(token_form()).status, 500);
}

TEST_F(FaultsTest, FaultsCanBeSwitchedWhileRunning) {
  // What a test of offline/online behaviour does: the "network" fails, then comes back.
  EXPECT_EQ(run_imports(1)[0], "200");
  auto put =
      send("PUT", "/_sim/scenario", R"({"faults":{"drop_rate":1},"throttling":{"enabled":false}})");
  EXPECT_EQ(put.status, 204) << put.body;
  EXPECT_EQ(run_imports(1)[0], "drop");
  sim().set_scenario(quiet_scenario());
  EXPECT_EQ(run_imports(1)[0], "200");
  EXPECT_EQ(sim().stats()["imports"]["rows"], 2) << "tenant state survives scenario changes";
  EXPECT_EQ(send("PUT", "/_sim/scenario", R"({"faults":{"drop_rate":2}})").status, 400);
}

}  // namespace
}  // namespace hangar::cloudsim::test
