// End-to-end registration: the real hangar-cloudsim, the real hangard and the real hangar. Faults
// and throttling must not lose a device; kill -9 at random moments must neither lose nor
// double-import one (checked with the simulator's own per-serial import counters).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "child_process.h"
#include "cloudsim_process.h"
#include "hangar/cloud/http.h"
#include "hangar/ipc/client.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kHangard = HANGAR_TEST_HANGARD;
const std::string kHangar = HANGAR_TEST_HANGAR;
const std::string kCloudsim = HANGAR_TEST_CLOUDSIM;
const std::string kDevicegen = HANGAR_TEST_DEVICEGEN;

class RegistrationE2E : public ::testing::Test {
 protected:
  void SetUp() override { endpoint_ = unique_endpoint(dir_); }

  void start_cloud(const Json& scenario) {
    std::string why;
    auto url = start_cloudsim(kCloudsim, scenario, dir_.path(), cloud_, why);
    ASSERT_TRUE(url.has_value()) << "hangar-cloudsim did not start: " << why;
    url_ = *url;
  }

  void start_service(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{kHangard,     "--data-dir",      (dir_.path() / "data").string(),
                                  "--endpoint", endpoint_,         "--cloud-url",
                                  url_,         "--poll-interval", "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    service_ = std::make_unique<Process>(argv, dir_.path() / "hangard.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hangar({"ping"}).code == 0) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "hangard did not come up: " << read_file(dir_.path() / "hangard.out");
  }

  RunResult hangar(std::vector<std::string> args) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    return run_command(args, dir_.path(), 60s);
  }

  Json status() {
    auto result = hangar({"--json", "status"});
    EXPECT_EQ(result.code, 0) << result.output;
    return Json::parse(result.output);
  }

  // A call to the simulator's own control API (/_sim/...), which must succeed; its JSON answer.
  Json admin(const std::string& method, const std::string& path, const Json& body) {
    auto transport = cloud::make_cpprest_transport();
    auto response = transport->send(
        {method, url_ + path, {{"Content-Type", "application/json"}}, body.dump()}, 10s);
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response.ok() ? response->status / 100 : 0, 2)
        << (response.ok() ? response->body : "");
    return response.ok() ? Json::parse(response->body.empty() ? "{}" : response->body) : Json{};
  }

  Json cloud_stats() {
    auto transport = cloud::make_cpprest_transport();
    auto response = transport->send({"GET", url_ + "/_sim/stats", {}, {}}, 10s);
    EXPECT_TRUE(response.ok());
    return response.ok() ? Json::parse(response->body) : Json::object();
  }

  // Waits until nothing is queued or pending; returns false on timeout.
  bool wait_final(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (status()["queue_depth"] == 0) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }

  std::filesystem::path make_devices(const std::vector<std::string>& groups) {
    std::vector<std::string> argv{kDevicegen, "-o", (dir_.path() / "devices.csv").string()};
    for (const auto& g : groups) argv.insert(argv.end(), {"--devices", g});
    auto result = run_command(argv, dir_.path(), 60s);
    EXPECT_EQ(result.code, 0) << result.output;
    return dir_.path() / "devices.csv";
  }

  TempDir dir_;
  std::string endpoint_;
  std::string url_;
  std::unique_ptr<Process> cloud_;
  std::unique_ptr<Process> service_;
};

TEST_F(RegistrationE2E, FaultsAndThrottlingLoseNothingAndImportNothingTwice) {
  start_cloud(
      {{"seed", 3},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 60}}},
       // A tiny write budget forces 429s; one Graph call in five fails with a 5xx.
       {"throttling", {{"writes", {{"limit", 4}, {"window_seconds", 2}}}}},
       {"faults", {{"endpoints", {"graph"}}, {"error_rate", 0.2}}},
       {"rules", {{{"serial_prefix", "OTHER-"}, {"error", "ZtdDeviceAssignedToOtherTenant"}}}}});
  start_service();
  const auto csv = make_devices({"OK-:120", "OTHER-:3"});
  auto imported = hangar({"import", csv.string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;

  ASSERT_TRUE(wait_final(120s)) << status().dump(2);
  const Json s = status();
  EXPECT_EQ(s["states"]["ready_for_user"], 120);
  EXPECT_EQ(s["states"]["registration_failed"], 3);
  auto failed = hangar({"show", "OTHER-0002"});
  EXPECT_NE(failed.output.find("Device claimed by another organization"), std::string::npos)
      << failed.output;

  const Json stats = cloud_stats();
  EXPECT_TRUE(stats["imports"]["serials_imported_more_than_once"].empty()) << stats.dump(2);
  EXPECT_GT(stats["faults"]["error_5xx"].get<int>(), 0);
  // Import plus polling stays far below one request per device.
  const auto& by_endpoint = stats["requests"]["by_endpoint"];
  int import_and_poll = 0;
  for (const auto& [name, counts] : by_endpoint.items()) {
    if (name == "imported.import" || name == "imported.list")
      import_and_poll += counts["total"].get<int>();
  }
  EXPECT_LT(import_and_poll, 123) << by_endpoint.dump(2);
}

// Every import answer is a 200 whose body is cut off (the simulator imported the devices, the
// client cannot read that it did): the batches are in doubt, looked up by serial among the import
// records and adopted, never sent again.
TEST_F(RegistrationE2E, CutOffImportAnswersAreLookedUpNotImportedTwice) {
  start_cloud({{"seed", 7},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 60}}},
               {"faults", {{"endpoints", {"imported.import"}}, {"malformed_rate", 1}}}});
  start_service({"--batch-size", "20"});
  const auto csv = make_devices({"CUT-:60"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(90s)) << status().dump(2);
  EXPECT_EQ(status()["states"]["ready_for_user"], 60);
  const Json stats = cloud_stats();
  EXPECT_TRUE(stats["imports"]["serials_imported_more_than_once"].empty())
      << stats["imports"]["serials_imported_more_than_once"].dump();
  EXPECT_EQ(stats["imports"]["by_serial"].size(), 60u);
  EXPECT_EQ(stats["imports"]["calls"], 3) << "each batch sent once";
  EXPECT_EQ(stats["faults"]["malformed"], 3);
  const std::string log = read_file(dir_.path() / "data" / "logs" / "hangard.log");
  EXPECT_NE(log.find("but with a body that is not JSON: the devices may have been imported"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("reached the cloud before the interruption"), std::string::npos);
}

// The same with one device per call (looked up by serial alone) and a service that refuses the
// serial filter on import records: the engine lists the whole import table instead.
TEST_F(RegistrationE2E, CutOffAnswersWithTheSerialFilterRefusedUseTheImportTable) {
  start_cloud({{"seed", 8},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 60}}},
               {"import", {{"serial_filter_status", 501}}},
               {"faults", {{"endpoints", {"imported.import"}}, {"malformed_rate", 1}}}});
  start_service({"--batch-size", "1"});
  const auto csv = make_devices({"ONE-:3"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(90s)) << status().dump(2);
  EXPECT_EQ(status()["states"]["ready_for_user"], 3);
  const Json stats = cloud_stats();
  EXPECT_TRUE(stats["imports"]["serials_imported_more_than_once"].empty()) << stats.dump(2);
  EXPECT_EQ(stats["imports"]["calls"], 3);
  EXPECT_GE(stats["requests"]["by_endpoint"]["imported.list"]["by_status"]["501"], 1)
      << stats["requests"]["by_endpoint"].dump(2);
  const std::string log = read_file(dir_.path() / "data" / "logs" / "hangard.log");
  EXPECT_NE(log.find("refuses to filter import records by serial (HTTP 501"), std::string::npos)
      << log;
}

// A request form the cloud keeps refusing (here the group-tag filter, 500 every time): after three
// passes it is an error in the log with its request id and a problem in `hangar status`, and the
// engine lists every Autopilot device instead, so the devices still reach Ready for user.
TEST_F(RegistrationE2E, ARequestTheCloudKeepsRefusingNeedsAttentionAndHasAFallback) {
  start_cloud(
      {{"seed", 9},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 60}}},
       {"refusals",
        {{{"endpoint", "autopilot.list"}, {"query", "contains(groupTag"}, {"status", 500}}}}});
  start_service();
  const auto csv = make_devices({"REF-:4"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(120s)) << status().dump(2);
  const Json s = status();
  EXPECT_EQ(s["states"]["ready_for_user"], 4);
  ASSERT_EQ(s["cloud"]["needs_attention"].size(), 1u) << s.dump(2);
  const Json& problem = s["cloud"]["needs_attention"][0];
  EXPECT_NE(problem["request"].get<std::string>().find("contains(groupTag"), std::string::npos);
  EXPECT_EQ(problem["http_status"], 500);
  const std::string request_id = problem["request_id"];
  EXPECT_FALSE(request_id.empty());
  EXPECT_NE(problem["fallback"].get<std::string>().find("every Autopilot device"),
            std::string::npos);
  EXPECT_GT(s["cloud"]["last_error_at"].get<std::int64_t>(), 0);
  EXPECT_TRUE(s["cloud"]["last_error_resolved"].get<bool>()) << "the fallback worked since";
  auto human = hangar({"status"});
  EXPECT_NE(human.output.find("ATTENTION     the cloud keeps refusing GET"), std::string::npos)
      << human.output;
  EXPECT_NE(human.output.find("(resolved: calls succeed again since"), std::string::npos)
      << human.output;
  const std::string log = read_file(dir_.path() / "data" / "logs" / "hangard.log");
  const auto error_line = log.find("[error] the cloud has refused GET");
  ASSERT_NE(error_line, std::string::npos) << log;
  EXPECT_NE(log.substr(error_line, log.find('\n', error_line) - error_line).find(request_id),
            std::string::npos)
      << log.substr(error_line, 600);
  // Each refused call was logged at warn with its request id, in Intune's words.
  EXPECT_NE(log.find("[warning] cloud call failed: GET "), std::string::npos);
  EXPECT_NE(log.find("An internal server error has occurred - Operation ID"), std::string::npos);
  const Json stats = cloud_stats();
  EXPECT_EQ(stats["requests"]["by_endpoint"]["autopilot.list"]["by_status"]["500"], 3)
      << "asked three passes running, then not again for hours";
}

TEST_F(RegistrationE2E, EnrolledDevicesBecomeActiveOrInactiveOnRefresh) {
  // PARTNER-1 was registered by a partner with our group tag; it is enrolled and synced a day ago.
  start_cloud({{"seed", 9},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 60}}},
               {"tenant",
                {{"devices",
                  {{{"serial_number", "PARTNER-1"},
                    {"group_tag", "Microsoft365Managed_Autopilot"},
                    {"manufacturer", "Contoso"},
                    {"model", "Laptop 7"},
                    {"hardware_hash", ""},
                    {"user_principal_name", ""},
                    {"profile_status", "assignedUnkownSyncState"},
                    {"managed", {{"id", ""}, {"device_name", ""}, {"last_sync_days_ago", 1}}}}}},
                 {"users",
                  {{{"user_principal_name", "ada@contoso.com"},
                    {"display_name", "Ada"},
                    {"licenses", {"05e9a617-0261-4cee-bb44-138d3ef5d965"}}}}}}}});
  start_service();
  const auto csv = make_devices({"LIFE-:3"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);
  ASSERT_EQ(status()["states"]["ready_for_user"], 3);

  // LIFE-0001 enrolls and syncs now; LIFE-0002 enrolled but last synced 9 days ago.
  for (const auto& [serial, days] : {std::pair{"LIFE-0001", 0}, std::pair{"LIFE-0002", 9}}) {
    admin("POST", "/_sim/enroll", {{"serialNumber", serial}, {"lastSyncDaysAgo", days}});
  }
  auto refreshed = hangar({"sync"});
  ASSERT_EQ(refreshed.code, 0) << refreshed.output;
  // The partner's device was added by the pass at start-up (or this one), and is tracked.
  EXPECT_NE(refreshed.output.find("activity pass: 4 registered device(s), 2 active, 1 inactive"),
            std::string::npos)
      << refreshed.output;
  auto partner = hangar({"--json", "show", "PARTNER-1"});
  ASSERT_EQ(partner.code, 0) << partner.output;
  EXPECT_NE(partner.output.find("\"partner_registered\": true"), std::string::npos)
      << partner.output;
  // A second pass finds nothing new and changes nothing.
  auto again = hangar({"refresh"});
  EXPECT_NE(again.output.find("0 partner-registered device(s) added"), std::string::npos)
      << again.output;
  EXPECT_NE(again.output.find("0 changed"), std::string::npos) << again.output;
  const Json s = status();
  EXPECT_EQ(s["states"]["active"], 2) << s.dump(2);
  EXPECT_EQ(s["states"]["inactive"], 1);
  EXPECT_EQ(s["states"]["ready_for_user"], 1);
  auto active = hangar({"list", "--state", "active"});
  EXPECT_NE(active.output.find("LIFE-0001"), std::string::npos) << active.output;
  auto inactive = hangar({"show", "LIFE-0002"});
  EXPECT_NE(inactive.output.find("not used in the last 7 days"), std::string::npos)
      << inactive.output;
  // The hand-off: LIFE-0003 is Ready for user; Ada exists, nobody@ does not.
  auto handoff = hangar({"list", "--state", "ready-for-user"});
  EXPECT_NE(handoff.output.find("LIFE-0003"), std::string::npos) << handoff.output;
  auto unknown = hangar({"deliver", "LIFE-0003", "--user", "nobody@contoso.com"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.output.find("no user nobody@contoso.com"), std::string::npos) << unknown.output;
  auto delivered = hangar({"deliver", "LIFE-0003", "--user", "ada@contoso.com"});
  ASSERT_EQ(delivered.code, 0) << delivered.output;
  EXPECT_NE(delivered.output.find("delivered LIFE-0003 to ada@contoso.com"), std::string::npos)
      << delivered.output;
  auto shown = hangar({"show", "LIFE-0003"});
  EXPECT_NE(shown.output.find("ada@contoso.com at"), std::string::npos) << shown.output;
  // Two lists per pass whatever the number of devices: requests follow pages, not devices.
  const Json stats = cloud_stats();
  const auto& by_endpoint = stats["requests"]["by_endpoint"];
  EXPECT_LE(by_endpoint["managedDevices.list"]["total"].get<int>(), 3) << by_endpoint.dump(2);
}

TEST_F(RegistrationE2E, SyncPutsADeviceBackInItsProfilesGroupAndShowReportsIt) {
  const std::string standard = "6d1c2b8e-0000-4000-8000-000000000001";
  const std::string power = "6d1c2b8e-0000-4000-8000-000000000002";
  // FOREIGN-1 is enrolled, not ours (another group tag), and sits in the standard group.
  start_cloud({{"seed", 4},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 60}}},
               {"tenant",
                {{"devices",
                  {{{"serial_number", "FOREIGN-1"},
                    {"group_tag", "SomeoneElse"},
                    {"managed", {{"last_sync_days_ago", 1}}}}}},
                 {"groups",
                  {{{"id", standard}, {"display_name", "MMD standard"}, {"members", {"FOREIGN-1"}}},
                   {{"id", power}, {"display_name", "MMD power user"}}}}}}});
  std::filesystem::create_directories(dir_.path() / "data");
  std::ofstream(dir_.path() / "data" / "hangar.json")
      << Json{{"profile_groups", {{"standard", standard}, {"power-user", power}}}}.dump();
  start_service();
  const auto csv = make_devices({"GRP-:1"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "power-user"}).code, 0);
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);

  // The device enrols; then someone moves it by hand from the power-user group to the standard one.
  admin("POST", "/_sim/enroll", {{"serialNumber", "GRP-0001"}});
  const Json moved =
      admin("POST", "/_sim/groups/" + standard + "/members", {{"serialNumber", "GRP-0001"}});
  const std::string object = moved.value("id", "");
  ASSERT_FALSE(object.empty()) << moved.dump();

  auto synced = hangar({"sync"});
  ASSERT_EQ(synced.code, 0) << synced.output;
  EXPECT_NE(synced.output.find("profile groups: 1 device(s) checked, 1 added to their profile's "
                               "group, 1 removed from another profile's group"),
            std::string::npos)
      << synced.output;

  // In its profile's group only; the device that is not ours is still where it was.
  const auto members = [&](const std::string& group) {
    std::vector<std::string> ids;
    const Json listed = admin("GET", "/_sim/groups/" + group + "/members", Json::object());
    for (const auto& m : listed["members"]) ids.push_back(m["id"]);
    return ids;
  };
  EXPECT_EQ(members(power), std::vector<std::string>{object});
  const auto in_standard = members(standard);
  ASSERT_EQ(in_standard.size(), 1u);
  EXPECT_NE(in_standard.front(), object);

  auto shown = hangar({"show", "GRP-0001"});
  ASSERT_EQ(shown.code, 0) << shown.output;
  EXPECT_NE(shown.output.find("added to " + power + " (power-user's group"), std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find("removed from " + standard + " (standard's group"), std::string::npos)
      << shown.output;
  auto shown_json = hangar({"--json", "show", "GRP-0001"});
  const Json device = Json::parse(shown_json.output);
  ASSERT_EQ(device["group_corrections"].size(), 2u) << device.dump(2);
  EXPECT_EQ(device["group_corrections"][0]["action"], "added");
  EXPECT_EQ(device["group_corrections"][1]["action"], "removed");
  EXPECT_FALSE(device.value("azure_ad_device_id", "").empty());

  const Json groups = status()["cloud"]["groups"];
  EXPECT_TRUE(groups["configured"].get<bool>());
  EXPECT_EQ(groups["last_sweep"]["added"], 1) << groups.dump(2);
  EXPECT_EQ(groups["last_sweep"]["removed"], 1);
  EXPECT_EQ(groups["last_sweep"]["errors"], 0);
  auto human = hangar({"status"});
  EXPECT_NE(human.output.find("1 added to their profile's group"), std::string::npos)
      << human.output;

  // Requests follow groups, not devices: one list per group per sweep (start-up and sync), the
  // object id came from the standard group's list (no lookup), one add and one remove.
  const Json stats = cloud_stats();
  const Json& by = stats["requests"]["by_endpoint"];
  EXPECT_EQ(by["groups.members.list"]["total"], 4) << by.dump(2);
  EXPECT_FALSE(by.contains("devices.list")) << by.dump(2);
  EXPECT_EQ(by["groups.members.add"]["total"], 1);
  EXPECT_EQ(by["groups.members.remove"]["total"], 1);

  // A second sync finds nothing to correct.
  auto again = hangar({"sync"});
  EXPECT_NE(again.output.find("1 device(s) checked, 0 added"), std::string::npos) << again.output;
}

// The device's own group refuses the add (a dynamic-membership group: 400), so the sweep must
// not take it out of the group it was moved into by hand: it would be in no profile group.
TEST_F(RegistrationE2E, SyncKeepsADeviceInAnotherGroupWhenItsOwnGroupRefusesTheAdd) {
  const std::string standard = "6d1c2b8e-0000-4000-8000-000000000001";
  const std::string power = "6d1c2b8e-0000-4000-8000-000000000002";
  start_cloud(
      {{"seed", 5},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 60}}},
       {"tenant",
        {{"groups",
          {{{"id", standard}, {"display_name", "MMD standard"}},
           {{"id", power},
            {"display_name", "MMD power user"},
            {"membership_rule", "(device.devicePhysicalIds -any _ -eq \"[OrderID]:PU\")"}}}}}}});
  std::filesystem::create_directories(dir_.path() / "data");
  std::ofstream(dir_.path() / "data" / "hangar.json")
      << Json{{"profile_groups", {{"standard", standard}, {"power-user", power}}}}.dump();
  start_service();
  const auto csv = make_devices({"DYN-:1"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "power-user"}).code, 0);
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);

  admin("POST", "/_sim/enroll", {{"serialNumber", "DYN-0001"}});
  const Json moved =
      admin("POST", "/_sim/groups/" + standard + "/members", {{"serialNumber", "DYN-0001"}});
  const std::string object = moved.value("id", "");
  ASSERT_FALSE(object.empty()) << moved.dump();

  auto synced = hangar({"sync"});
  ASSERT_EQ(synced.code, 0) << synced.output;
  EXPECT_NE(synced.output.find("profile groups: 1 device(s) checked, 0 added to their profile's "
                               "group, 0 removed from another profile's group, 1 removal(s) "
                               "skipped"),
            std::string::npos)
      << synced.output;
  EXPECT_NE(synced.output.find("1 error(s)"), std::string::npos) << synced.output;
  EXPECT_NE(synced.output.find("not removed: DYN-0001 stays in " + standard), std::string::npos)
      << synced.output;

  // Still in the group it was moved into; the dynamic group is as its rule left it.
  const Json listed = admin("GET", "/_sim/groups/" + standard + "/members", Json::object());
  ASSERT_EQ(listed["members"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["members"][0]["id"], object);
  EXPECT_TRUE(
      admin("GET", "/_sim/groups/" + power + "/members", Json::object())["members"].empty());

  auto shown = hangar({"show", "DYN-0001"});
  ASSERT_EQ(shown.code, 0) << shown.output;
  EXPECT_NE(shown.output.find("not removed from " + standard + " (standard's group"),
            std::string::npos)
      << shown.output;
  const Json device = Json::parse(hangar({"--json", "show", "DYN-0001"}).output);
  ASSERT_EQ(device["group_corrections"].size(), 1u) << device.dump(2);
  EXPECT_EQ(device["group_corrections"][0]["action"], "skipped");
  EXPECT_NE(device["group_corrections"][0].value("reason", "").find("HTTP 400"), std::string::npos)
      << device.dump(2);

  const Json last = status()["cloud"]["groups"]["last_sweep"];
  EXPECT_EQ(last["removed"], 0) << last.dump(2);
  EXPECT_EQ(last["removals_skipped"], 1);
  EXPECT_EQ(last["errors"], 1);
  ASSERT_EQ(last["skipped_removals"].size(), 1u);
  EXPECT_EQ(last["skipped_removals"][0]["serial"], "DYN-0001");
  // The add was tried, the remove never sent.
  const Json stats = cloud_stats();
  const Json& by = stats["requests"]["by_endpoint"];
  EXPECT_EQ(by["groups.members.add"]["total"], 1) << by.dump(2);
  EXPECT_FALSE(by.contains("groups.members.remove")) << by.dump(2);
}

// The parsed lines of a `hangar --json watch` output file (one JSON object a line).
std::vector<Json> json_lines(const std::filesystem::path& path) {
  std::vector<Json> lines;
  std::istringstream text(read_file(path));
  for (std::string line; std::getline(text, line);) {
    if (!line.empty() && line.front() == '{') lines.push_back(Json::parse(line));
  }
  return lines;
}

// A stop while a cloud request is under way and the cloud does not answer (a silent proxy): the
// request is cancelled, the service stops at once, and the batch is recovered by serial later.
TEST_F(RegistrationE2E, StopsAtOnceWhileTheCloudSitsOnARequest) {
  start_cloud({{"seed", 6}, {"faults", {{"latency_ms", 60'000}}}});
  start_service();
  ASSERT_EQ(hangar({"import", make_devices({"HUNG-:3"}).string(), "--profile", "standard"}).code,
            0);
  std::this_thread::sleep_for(1500ms);  // the token, then the import call: held for a minute
  const auto asked = std::chrono::steady_clock::now();
  service_->signal(SIGTERM);
  const auto code = service_->wait(5s);
  ASSERT_TRUE(code.has_value()) << "hangard still running 5 s after SIGTERM:\n"
                                << read_file(dir_.path() / "hangard.out");
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s);
  EXPECT_NE(read_file(dir_.path() / "hangard.out").find("stopped cleanly"), std::string::npos);
}

// The same event-stream client as the tray's: a watcher that outlives its service and meets a
// service with another data directory (a history that starts again at 1) says so and shows the
// new history's changes instead of taking them for repeats.
TEST_F(RegistrationE2E, WatchFollowsAServiceThatComesBackWithANewHistory) {
  start_cloud({{"seed", 5}, {"time_scale", 600}, {"registration", {{"delay_seconds", 30}}}});
  start_service();
  ASSERT_EQ(hangar({"import", make_devices({"OLD-:3"}).string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);
  Process watcher({kHangar, "--endpoint", endpoint_, "watch"}, dir_.path() / "watch.out");
  const auto subscribed = std::chrono::steady_clock::now() + 15s;
  while (status()["subscribers"] != 1 && std::chrono::steady_clock::now() < subscribed) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status()["subscribers"], 1) << read_file(dir_.path() / "watch.out");

  service_->signal(SIGTERM);
  ASSERT_TRUE(service_->wait(10s).has_value());
  std::filesystem::rename(dir_.path() / "data", dir_.path() / "data-old");
  start_service();  // a fresh data directory: its history starts again
  ASSERT_EQ(hangar({"import", make_devices({"NEW-:1"}).string(), "--profile", "standard"}).code, 0);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string out;
  while (std::chrono::steady_clock::now() < deadline) {
    out = read_file(dir_.path() / "watch.out");
    if (out.find("NEW-0001  Registration Pending -> Ready for user") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  watcher.signal(SIGTERM);
  watcher.wait(5s);
  EXPECT_NE(out.find("-- lost the service"), std::string::npos) << out;
  EXPECT_NE(out.find("new history"), std::string::npos) << out;
  EXPECT_NE(out.find("  #1  "), std::string::npos) << "the new history from its start:\n" << out;
  EXPECT_NE(out.find("NEW-0001  (new) -> Queued"), std::string::npos) << out;
  EXPECT_NE(out.find("NEW-0001  Registration Pending -> Ready for user"), std::string::npos) << out;
}

TEST_F(RegistrationE2E, WatchStreamsEveryChangeLiveAndCanReplayThem) {
  start_cloud(
      {{"seed", 4},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 30}}},
       {"rules", {{{"serial_prefix", "OTHER-"}, {"error", "ZtdDeviceAssignedToOtherTenant"}}}}});
  start_service();
  Process watcher({kHangar, "--endpoint", endpoint_, "--json", "watch", "--count", "12"},
                  dir_.path() / "watch.out");
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (status()["subscribers"] != 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status()["subscribers"], 1) << read_file(dir_.path() / "watch.out");

  const auto csv = make_devices({"OK-:3", "OTHER-:1"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  // 4 devices x (queued, registration pending, ready or failed): the watcher exits after 12.
  ASSERT_EQ(watcher.wait(90s), std::optional<int>(0)) << read_file(dir_.path() / "watch.out");
  const auto live = json_lines(dir_.path() / "watch.out");
  ASSERT_EQ(live.size(), 12u) << read_file(dir_.path() / "watch.out");
  std::map<std::string, std::vector<std::string>> path_of;
  std::int64_t previous = 0;
  for (const auto& event : live) {
    EXPECT_EQ(event["type"], "change");
    EXPECT_GT(event["seq"].get<std::int64_t>(), previous) << "sequence numbers only grow";
    previous = event["seq"].get<std::int64_t>();
    EXPECT_GT(event["at"].get<std::int64_t>(), 0);
    path_of[event["serial"]].push_back(event["to"]);
    if (event["to"] == "registration_failed") {
      EXPECT_EQ(event["reason"], "Device claimed by another organization") << event.dump();
      EXPECT_EQ(event["from"], "registration_pending");
    }
  }
  const std::vector<std::string> ready{"queued", "registration_pending", "ready_for_user"};
  const std::vector<std::string> failed{"queued", "registration_pending", "registration_failed"};
  EXPECT_EQ(path_of["OK-0001"], ready);
  EXPECT_EQ(path_of["OK-0003"], ready);
  EXPECT_EQ(path_of["OTHER-0001"], failed);

  // The history is durable: the same changes again, from the start, and filtered.
  auto replay = hangar({"--json", "watch", "--from-seq", "0", "--count", "12"});
  ASSERT_EQ(replay.code, 0) << replay.output;
  std::vector<std::int64_t> live_seqs, replay_seqs;
  for (const auto& event : live) live_seqs.push_back(event["seq"]);
  std::istringstream lines(replay.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '{') replay_seqs.push_back(Json::parse(line)["seq"]);
  }
  EXPECT_EQ(replay_seqs, live_seqs);
  auto readies = hangar({"watch", "--from-seq", "0", "--state", "ready-for-user", "--count", "3"});
  ASSERT_EQ(readies.code, 0) << readies.output;
  EXPECT_NE(readies.output.find("OK-0002  Registration Pending -> Ready for user"),
            std::string::npos)
      << readies.output;
  EXPECT_EQ(readies.output.find("queued"), std::string::npos) << readies.output;
}

TEST_F(RegistrationE2E, ASlowSubscriberGetsAGapWhileTheServiceServesEveryoneElse) {
  start_cloud({{"seed", 6}, {"time_scale", 600}, {"registration", {{"delay_seconds", 30}}}});
  const auto config = dir_.path() / "hangar.json";
  {
    std::ofstream out(config);
    out << R"({"event_queue_size": 16})";
  }
  start_service({"--config", config.string()});
  auto subscriber = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(subscriber.ok());
  auto ack = subscriber->subscribe(std::nullopt, 60'000);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_EQ((*ack)["subscribed"], true);

  // The subscriber reads nothing while 1,000 devices are queued and registered: far more changes
  // than its socket and its queue of 16 hold.
  const auto csv = make_devices({"SLOW-:1000"});
  auto imported = hangar({"import", csv.string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;
  const auto asked = std::chrono::steady_clock::now();
  const Json during = status();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "the service stalled";
  EXPECT_EQ(during["subscribers"], 1);
  std::this_thread::sleep_for(500ms);  // the feed has seen the import

  std::uint64_t missed = 0;
  std::int64_t shown = 0;
  std::int64_t last_seq = (*ack)["seq"];
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (missed == 0 && std::chrono::steady_clock::now() < deadline) {
    auto event = subscriber->next_event(5s);
    ASSERT_TRUE(event.ok()) << event.error().message;
    if ((*event)["type"] == "gap") {
      missed = (*event)["missed"];
      // The gap's seq is the newest change it stands for: the missed ones sit between the last
      // change shown and it, and the next change shown follows it directly.
      const std::int64_t through = (*event)["seq"];
      EXPECT_EQ(through - last_seq, static_cast<std::int64_t>(missed));
      last_seq = through;
    } else if ((*event)["type"] == "change") {
      EXPECT_GT((*event)["seq"].get<std::int64_t>(), last_seq);
      last_seq = (*event)["seq"];
      ++shown;
    }
  }
  EXPECT_GT(missed, 0u) << "after " << shown << " changes";
  EXPECT_LT(shown, 1000) << "the subscriber was sent everything; no gap was needed";
  // After the gap the stream goes on: the registrations under way arrive as changes.
  bool more = false;
  for (int i = 0; i < 100 && !more; ++i) {
    auto event = subscriber->next_event(10s);
    ASSERT_TRUE(event.ok()) << event.error().message;
    if ((*event)["type"] == "gap") {  // still behind: another gap, again right after the last
      const std::int64_t through = (*event)["seq"];
      EXPECT_EQ(through - last_seq, (*event)["missed"].get<std::int64_t>());
      last_seq = through;
      continue;
    }
    if ((*event)["type"] != "change") continue;
    EXPECT_EQ((*event)["seq"].get<std::int64_t>(), last_seq + 1) << "a change after the gap lost";
    more = true;
  }
  EXPECT_TRUE(more);
}

TEST_F(RegistrationE2E, KillNineDuringUploadNeitherLosesNorDoubleImports) {
  set_time_limit(std::chrono::seconds(150));  // twenty kill -9 rounds over 1,000 devices
  start_cloud({{"seed", 5},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 30}}},
               {"faults", {{"endpoints", {"graph"}}, {"latency_ms", 30}, {"jitter_ms", 30}}}});
  // Batches of 50: 20 import calls, so the kills land in uploads as well as in polls.
  start_service({"--batch-size", "50"});
  const auto csv = make_devices({"CRASH-:1000"});
  auto imported = hangar({"import", csv.string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;

  std::mt19937 rng(11);
  const int rounds =
      std::getenv("HANGAR_CRASH_ROUNDS") ? std::atoi(std::getenv("HANGAR_CRASH_ROUNDS")) : 20;
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    service_->signal(SIGKILL);
    ASSERT_TRUE(service_->wait(10s).has_value());
    start_service({"--batch-size", "50"});
  }
  ASSERT_TRUE(wait_final(180s)) << status().dump(2);
  const Json s = status();
  EXPECT_EQ(s["states"]["ready_for_user"], 1000) << s.dump(2);
  const Json stats = cloud_stats();
  EXPECT_TRUE(stats["imports"]["serials_imported_more_than_once"].empty())
      << stats["imports"]["serials_imported_more_than_once"].dump();
  EXPECT_EQ(stats["imports"]["by_serial"].size(), 1000u);
  // At most 50 devices per call, so at least 20 import calls were made.
  EXPECT_GE(stats["imports"]["calls"].get<int>(), 20);
}

}  // namespace
}  // namespace hangar::test
