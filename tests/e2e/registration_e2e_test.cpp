// End-to-end registration: the real hangar-cloudsim, the real hangard and the real hangar. Faults
// and throttling must not lose a device nor import one twice; the profile-group sync and the
// activity refresh (the watch, stop and kill -9 tests: registration_watch_e2e_test.cpp).
#include "registration_e2e_fixture.h"

namespace hangar::test {
namespace {

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
  // Recovered: the last error line says "none now", and the old error follows as history.
  EXPECT_NE(human.output.find("last error    none now: calls succeed again since"),
            std::string::npos)
      << human.output;
  EXPECT_NE(human.output.find("before that   "), std::string::npos) << human.output;
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
  EXPECT_NE(again.output.find("0 queue record(s) updated (state, enrollment, last sync)"),
            std::string::npos)
      << again.output;
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

}  // namespace
}  // namespace hangar::test
