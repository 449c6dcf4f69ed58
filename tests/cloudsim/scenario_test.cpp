// Scenario files (strict parsing), time scaling and the admin API's counters and clock.
#include <unistd.h>

#include <fstream>

#include "hangar/cloudsim/scenario.h"
#include "sim_fixture.h"

namespace hangar::cloudsim::test {
namespace {

TEST(ScenarioParse, AFullDocumentSetsEveryField) {
  auto parsed = parse_scenario(json::parse(R"({
    "description": "demo",
    "seed": 7,
    "time_scale": 60,
    "auth": {"tenant_id": "t-1", "token_lifetime_seconds": 120,
             "apps": [{"client_id": "c-1", "client_secret": "s-1"}]},
    "import": {"max_devices_per_call": 50, "validate_hash": false, "serial_filter_status": 501},
    "registration": {"delay_seconds": 600, "jitter_seconds": 0, "profile_delay_seconds": 10,
                     "profile_status": "assignedInSync"},
    "paging": {"page_size": 20, "max_page_size": 200, "directory_page_size": 5,
               "directory_max_page_size": 50},
    "throttling": {"enabled": true, "writes": {"limit": 10, "window_seconds": 5},
                   "requests": {"limit": 50, "window_seconds": 5},
                   "omit_retry_after": ["imported.import"], "omit_retry_after_rate": 0.25},
    "lenient": {"autopilot_select": true, "any_filter": true, "pending_status": true,
                "import_id_per_call": true, "echo_hardware_identifier": true,
                "plain_intune_errors": true, "always_retry_after": true,
                "entra_object_at_enrollment": true, "any_token_audience": true},
    "refusals": [{"endpoint": "autopilot.list", "query": "contains(groupTag", "status": 400,
                  "times": 3}],
    "faults": {"endpoints": ["*"], "error_rate": 0.2, "error_statuses": [503], "latency_ms": 50,
               "jitter_ms": 10, "drop_rate": 0.01, "drop_after_rate": 0.02, "malformed_rate": 0.03},
    "rules": [{"description": "transient", "serial_prefix": "ST-", "error": "StorageError"},
              {"serial": "X-1", "error": "ZtdDeviceAssignedToOtherTenant", "times": 0,
               "delay_seconds": 5, "group_tag": "", "profile_status": "failed", "code": 808}],
    "tenant": {"devices": [{"serial_number": "P-1", "group_tag": "g",
                            "managed": {"id": "m-1", "last_sync_days_ago": 9}}],
               "oem_devices": [{"serial_number": "O-1", "manufacturer": "F", "model": "M"}],
               "users": [{"user_principal_name": "a@b.c", "licenses": ["sku"]}]}
  })"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const Scenario& s = *parsed;
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.time_scale, 60);
  EXPECT_EQ(s.auth.apps.at(0).client_secret, "s-1");
  EXPECT_EQ(s.import.serial_filter_status, 501);
  EXPECT_EQ(s.paging.directory_page_size, 5);
  EXPECT_EQ(s.throttling.omit_retry_after_rate, 0.25);
  EXPECT_TRUE(s.lenient.autopilot_select && s.lenient.any_filter && s.lenient.pending_status &&
              s.lenient.import_id_per_call && s.lenient.echo_hardware_identifier &&
              s.lenient.plain_intune_errors && s.lenient.always_retry_after &&
              s.lenient.entra_object_at_enrollment && s.lenient.any_token_audience);
  ASSERT_EQ(s.refusals.size(), 1u);
  EXPECT_EQ(s.refusals[0].status, 400);
  EXPECT_EQ(s.refusals[0].times, 3);
  EXPECT_EQ(s.registration.delay_seconds, 600);
  EXPECT_EQ(s.throttling.writes.limit, 10);
  EXPECT_EQ(s.faults.error_statuses, std::vector<int>{503});
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].times, 1) << "StorageError is transient by default";
  EXPECT_TRUE(s.rules[0].matches("ST-9"));
  EXPECT_FALSE(s.rules[0].matches("XST-9"));
  EXPECT_EQ(s.rules[1].group_tag, std::optional<std::string>(""));
  EXPECT_EQ(s.devices.at(0).managed->last_sync_days_ago, 9);
  EXPECT_EQ(s.oem_devices.at(0).model, "M");
  EXPECT_EQ(s.users.at(0).licenses, std::vector<std::string>{"sku"});
}

TEST(ScenarioParse, MistakesAreErrorsNamingTheirPlace) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"rules": [{"serial": "A", "eror": "X"}]})", "scenario.rules[0]: unknown key 'eror'"},
      {R"({"rules": [{"error": "X"}]})", "needs serial or serial_prefix"},
      {R"({"throttling": {"writes": {"limit": "100"}}})", "limit must be an integer"},
      {R"({"faults": {"error_rate": 1.5}})", "rates must be between 0 and 1"},
      {R"({"faults": {"error_statuses": [404]}})", "must be 5xx"},
      {R"({"time_scale": 0})", "time_scale must be > 0"},
      {R"({"import": {"initial_status": "pending"}})", "unknown key 'initial_status'"},
      {R"({"import": {"serial_filter_status": 404}})",
       "serial_filter_status must be 0, 400 or 501"},
      {R"({"lenient": {"select": true}})", "scenario.lenient: unknown key 'select'"},
      {R"({"lenient": {"any_filter": 1}})", "any_filter must be true or false"},
      {R"({"refusals": [{"query": "x"}]})", "endpoint is required"},
      {R"({"refusals": [{"endpoint": "*", "status": 503}]})", "status must be 400, 500 or 501"},
      {R"({"throttling": {"omit_retry_after_rate": 2}})", "omit_retry_after_rate"},
      {R"({"tenant": {"devices": [{"serial_number": "A", "hardware_hash": "T0E"}]}})",
       "hardware_hash is not valid base64"},
      {R"([])", "must be an object"},
      // A typo in an endpoint pattern would make a fault test pass for the wrong reason.
      {R"({"faults": {"endpoints": ["imported.imprt"]}})",
       "scenario.faults: endpoints: 'imported.imprt' matches no endpoint"},
      {R"({"faults": {"endpoints": ["improted.*"]}})", "'improted.*' matches no endpoint"},
      {R"({"throttling": {"omit_retry_after": ["users"]}})", "'users' matches no endpoint"},
      {R"({"refusals": [{"endpoint": "autopilot.lst", "status": 500}]})",
       "'autopilot.lst' matches no endpoint"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = parse_scenario(json::parse(text));
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, "scenario_invalid");
    EXPECT_NE(parsed.error().message.find(message), std::string::npos)
        << text << " -> " << parsed.error().message;
  }
}

TEST(ScenarioParse, EveryEndpointPatternTheReadmeNamesIsAccepted) {
  for (const char* pattern : {"*", "graph", "token", "imported.*", "imported.import",
                              "autopilot.assignUserToDevice", "groups.members.*", "users.get"}) {
    const json doc{{"faults", {{"endpoints", {pattern}}}},
                   {"throttling", {{"omit_retry_after", {pattern}}}}};
    EXPECT_TRUE(parse_scenario(doc).ok()) << pattern;
  }
}

TEST(ScenarioParse, LoadsFilesAndReportsBadOnes) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto good = dir / ("cloudsim-scenario-" + std::to_string(::getpid()) + ".json");
  const auto bad = dir / ("cloudsim-scenario-bad-" + std::to_string(::getpid()) + ".json");
  std::ofstream(good) << R"({"seed": 3})";
  std::ofstream(bad) << R"({"seed": )";
  auto loaded = load_scenario_file(good);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->seed, 3u);
  EXPECT_NE(load_scenario_file(bad).error().message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_scenario_file(dir / "no-such-scenario.json").error().message.find("cannot read"),
            std::string::npos);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST(EndpointPatterns, MatchExactlyByPrefixAndByGroup) {
  EXPECT_TRUE(endpoint_matches({"*"}, "token"));
  EXPECT_TRUE(endpoint_matches({"graph"}, "imported.import"));
  EXPECT_FALSE(endpoint_matches({"graph"}, "token"));
  EXPECT_TRUE(endpoint_matches({"imported.*"}, "imported.list"));
  EXPECT_FALSE(endpoint_matches({"imported.*"}, "autopilot.list"));
  EXPECT_TRUE(endpoint_matches({"users.get"}, "users.get"));
  EXPECT_FALSE(endpoint_matches({}, "users.get"));
}

class TimeTest : public SimTest {};

TEST_F(TimeTest, TimeScaleMakesTenMinutesTakeTenSeconds) {
  Scenario scenario = quiet_scenario();
  scenario.time_scale = 60;
  scenario.registration.delay_seconds = 600;
  scenario.registration.profile_delay_seconds = 120;
  start(scenario);
  const auto id = import({device_row("TS-1", make_hash("TS-1"))})[0]["id"].get<std::string>();
  advance(9900ms);
  EXPECT_EQ(status_of(id), "unknown");
  advance(100ms);
  EXPECT_EQ(status_of(id), "complete");
  auto device = get_json(kAutopilot)["value"][0];
  EXPECT_EQ(device["deploymentProfileAssignmentStatus"], "pending");
  advance(2s);  // 120 simulated seconds
  device = get_json(kAutopilot)["value"][0];
  EXPECT_EQ(device["deploymentProfileAssignmentStatus"], "assignedUnkownSyncState");
}

TEST_F(TimeTest, JitterSpreadsCompletionsWithinItsRange) {
  Scenario scenario = quiet_scenario();
  scenario.registration.delay_seconds = 100;
  scenario.registration.jitter_seconds = 50;
  start(scenario);
  std::vector<json> rows;
  for (int i = 0; i < 40; ++i)
    rows.push_back(device_row("J-" + std::to_string(i), make_hash("J-" + std::to_string(i))));
  import(rows);
  auto complete = [&] { return sim().stats()["imports"]["completed"].get<int>(); };
  advance(99s);
  EXPECT_EQ(complete(), 0);
  advance(25s);
  EXPECT_GT(complete(), 0);
  EXPECT_LT(complete(), 40);
  advance(26s);
  EXPECT_EQ(complete(), 40);
}

TEST_F(TimeTest, AdminAdvanceMovesSimulatedTime) {
  const auto id = import({device_row("ADV-1", make_hash("ADV-1"))})[0]["id"].get<std::string>();
  auto response = send("POST", "/_sim/advance", R"({"seconds": 60})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["now"], "2023-11-14T22:14:20Z");
  token_.clear();  // tokens live in the same clock; this one is still valid, but be explicit
  EXPECT_EQ(status_of(id), "complete");
  EXPECT_EQ(sim().stats()["time"]["advanced_seconds"], 60.0);
  EXPECT_EQ(send("POST", "/_sim/advance", R"({"seconds": -1})").status, 400);
  EXPECT_EQ(send("POST", "/_sim/advance", "not json").status, 400);
}

TEST_F(TimeTest, StatsCountEveryEndpointImportPerSerialAndDelete) {
  auto records =
      import({device_row("ST-1", make_hash("ST-1")), device_row("ST-2", make_hash("ST-2"))});
  import({device_row("ST-1", make_hash("ST-1"))});
  graph("GET", std::string(kImported) + "/" + records[0]["id"].get<std::string>());
  graph("DELETE", std::string(kImported) + "/" + records[1]["id"].get<std::string>());
  auto stats = sim().stats();
  EXPECT_EQ(stats["imports"]["calls"], 2);
  EXPECT_EQ(stats["imports"]["rows"], 3);
  EXPECT_EQ(stats["imports"]["by_serial"]["ST-1"], 2);
  EXPECT_EQ(stats["imports"]["by_serial"]["ST-2"], 1);
  EXPECT_EQ(stats["imports"]["serials_imported_more_than_once"], json::array({"ST-1"}));
  EXPECT_EQ(stats["deletes"]["imported"], 1);
  EXPECT_EQ(stats["requests"]["by_endpoint"]["imported.import"]["total"], 2);
  EXPECT_EQ(stats["requests"]["by_endpoint"]["imported.get"]["by_status"]["200"], 1);
  EXPECT_EQ(stats["requests"]["by_endpoint"]["imported.delete"]["by_status"]["204"], 1);
  EXPECT_EQ(stats["requests"]["by_endpoint"]["token"]["total"], 1);
  EXPECT_EQ(stats["requests"]["total"], 5) << "admin calls are not counted";
  EXPECT_EQ(stats["tenant"]["imported_records"], 2);
  EXPECT_EQ(stats["imports"]["pending"], 2);
  EXPECT_EQ(send("GET", "/_sim/nothing").status, 404);
}

TEST_F(TimeTest, WithTenantSeesDueWork) {
  import({device_row("WT-1", make_hash("WT-1"))});
  advance(61s);
  std::size_t registered = 0;
  sim().with_tenant([&](const Tenant& tenant) { registered = tenant.autopilot_devices().size(); });
  EXPECT_EQ(registered, 1u);
}

}  // namespace
}  // namespace hangar::cloudsim::test
