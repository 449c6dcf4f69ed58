// The device's life has an exit everywhere (issue 13), as an admin meets it: the real
// hangar-cloudsim, hangard and hangar. A device stuck in Registration Pending is flagged with its
// cause in status, list and show, fails at the limit and can be retried; `remove --force` takes a
// pending device out and deletes its import record in the cloud.
#include <fstream>

#include "registration_e2e_fixture.h"

namespace hangar::test {
namespace {

class LifecycleE2E : public RegistrationE2E {
 protected:
  // hangard with a config file (the pending thresholds are config only).
  void start_configured(const Json& config) {
    const auto file = dir_.path() / "hangar.json";
    std::ofstream(file) << config.dump();
    start_service({"--config", file.string()});
  }
  // Polls `status` until `done` holds; false on timeout.
  bool wait_status(const std::function<bool(const Json&)>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(status())) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }
  int endpoint_calls(const std::string& endpoint, const std::string& http_status) {
    const Json stats = cloud_stats();
    const Json& by = stats["requests"]["by_endpoint"];
    if (!by.contains(endpoint)) return 0;
    return by[endpoint]["by_status"].value(http_status, 0);
  }
};

TEST_F(LifecycleE2E, PendingTooLongIsFlaggedWithItsCauseFailsAtTheLimitAndCanBeForcedOut) {
  start_cloud({{"seed", 31},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 60}}},
               {"rules",
                {// Imported, but no deployment profile for their group: pending for ever.
                 {{"serial_prefix", "NOPRO-"}, {"profile_status", "notAssigned"}},
                 // Intune never gets to this import (100 simulated days).
                 {{"serial_prefix", "SLOW-"}, {"delay_seconds", 8'640'000}}}}});
  // Flagged after 1.2 s, failed after 20 s (the defaults are 30 minutes and 24 hours).
  start_configured({{"pending_warning_minutes", 0.02}, {"pending_limit_hours", 20.0 / 3600}});
  const auto csv = make_devices({"NOPRO-:2", "SLOW-:1"});
  auto imported = hangar({"import", csv.string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;

  ASSERT_TRUE(wait_status([](const Json& s) { return s.value("long_pending", 0) == 3; }, 15s))
      << status().dump(2);
  const Json s = status();
  ASSERT_TRUE(s.contains("long_pending_devices")) << s.dump(2);
  bool saw_profile_cause = false;
  for (const auto& device : s["long_pending_devices"]) {
    if (device["cause"] ==
        "imported; no deployment profile assigned to group tag Microsoft365Managed_Autopilot") {
      saw_profile_cause = true;
    }
  }
  EXPECT_TRUE(saw_profile_cause) << s.dump(2);

  auto human = hangar({"status"});
  EXPECT_NE(human.output.find("PENDING LONG  3 device(s) Registration Pending for longer than "
                              "usual"),
            std::string::npos)
      << human.output;
  EXPECT_NE(human.output.find("SLOW-0001 since"), std::string::npos) << human.output;
  EXPECT_NE(human.output.find("Intune has not started on the import yet"), std::string::npos)
      << human.output;

  auto listed = hangar({"list", "--wide"});
  EXPECT_NE(listed.output.find("Registration Pending (long)"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("pending longer than usual: imported; no deployment profile "
                               "assigned to group tag Microsoft365Managed_Autopilot"),
            std::string::npos)
      << listed.output;
  auto shown = hangar({"show", "NOPRO-0002"});
  EXPECT_NE(shown.output.find("pending long"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("(usually under 10 minutes): imported; no deployment profile"),
            std::string::npos)
      << shown.output;

  // remove refuses a pending device and says how; --force removes it and deletes its record.
  auto refused = hangar({"remove", "SLOW-0001"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.output.find("--force"), std::string::npos) << refused.output;
  const int deletes_before = endpoint_calls("imported.delete", "204");
  auto forced = hangar({"remove", "SLOW-0001", "--force"});
  ASSERT_EQ(forced.code, 0) << forced.output;
  EXPECT_NE(forced.output.find("removed SLOW-0001 from the queue"), std::string::npos)
      << forced.output;
  EXPECT_NE(forced.output.find("its import record in the cloud"), std::string::npos)
      << forced.output;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (endpoint_calls("imported.delete", "204") == deletes_before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(endpoint_calls("imported.delete", "204"), deletes_before + 1)
      << cloud_stats()["requests"]["by_endpoint"].dump(2);
  EXPECT_NE(hangar({"show", "SLOW-0001"}).code, 0) << "gone from the queue";

  // Past the limit: Registration failed with the cause, and retry takes it back.
  ASSERT_TRUE(wait_status(
      [](const Json& st) { return st["states"].value("registration_failed", 0) == 2; }, 40s))
      << status().dump(2);
  EXPECT_EQ(status().value("long_pending", -1), 0);
  auto failed = hangar({"show", "NOPRO-0001"});
  EXPECT_NE(failed.output.find("Registration Pending for over 20 seconds: imported; no deployment "
                               "profile assigned to group tag Microsoft365Managed_Autopilot"),
            std::string::npos)
      << failed.output;
  auto retried = hangar({"retry", "NOPRO-0001"});
  EXPECT_EQ(retried.code, 0) << retried.output;
}

// `remove` sticks: a partner's device shows no profile nobody chose; removing it says it stays
// registered in Autopilot and points to deregister; partner sync does not bring it back;
// deregister asks (or takes --yes) and deletes the registration in the tenant.
TEST_F(LifecycleE2E, RemoveSticksAndDeregisterDeletesTheAutopilotRegistration) {
  start_cloud({{"seed", 32},
               {"time_scale", 600},
               {"tenant",
                {{"devices",
                  {{{"serial_number", "PARTNER-1"},
                    {"group_tag", "Microsoft365Managed_Autopilot"},
                    {"manufacturer", "Contoso"},
                    {"model", "Laptop 7"},
                    {"profile_status", "assignedUnkownSyncState"}}}}}}});
  start_service();
  auto synced = hangar({"sync"});
  ASSERT_EQ(synced.code, 0) << synced.output;
  auto shown = hangar({"show", "PARTNER-1"});
  ASSERT_EQ(shown.code, 0) << shown.output;
  EXPECT_NE(shown.output.find("none (registered by a partner; nobody chose one)"),
            std::string::npos)
      << shown.output;
  EXPECT_EQ(shown.output.find("standard"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("registered by a partner: Hangar never had its hash"),
            std::string::npos)
      << shown.output;

  auto removed = hangar({"remove", "PARTNER-1"});
  ASSERT_EQ(removed.code, 0) << removed.output;
  EXPECT_NE(removed.output.find("PARTNER-1 is still registered in Windows Autopilot"),
            std::string::npos)
      << removed.output;
  EXPECT_NE(removed.output.find("hangar deregister PARTNER-1"), std::string::npos)
      << removed.output;
  ASSERT_EQ(hangar({"sync"}).code, 0);
  EXPECT_NE(hangar({"show", "PARTNER-1"}).code, 0) << "partner sync did not add it back";

  // Not a terminal and no --yes: a usage error, nothing deleted.
  auto unconfirmed = hangar({"deregister", "PARTNER-1"});
  EXPECT_EQ(unconfirmed.code, 2) << unconfirmed.output;
  EXPECT_NE(unconfirmed.output.find("--yes"), std::string::npos) << unconfirmed.output;
  EXPECT_EQ(endpoint_calls("autopilot.delete", "204"), 0);
  auto deregistered = hangar({"deregister", "PARTNER-1", "--yes"});
  ASSERT_EQ(deregistered.code, 0) << deregistered.output;
  EXPECT_NE(deregistered.output.find("deleted the Windows Autopilot registration of PARTNER-1"),
            std::string::npos)
      << deregistered.output;
  EXPECT_EQ(endpoint_calls("autopilot.delete", "204"), 1);
  auto again = hangar({"deregister", "PARTNER-1", "--yes"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.output.find("no Windows Autopilot device with serial PARTNER-1"),
            std::string::npos)
      << again.output;
}

// Issue 13: a partner's device shows a profile only when its group tag maps to one
// (tag_profiles); tenant devices without any group tag are found, counted and named by `hangar
// sync` and `status`, and tracked only once the admin sets track_untagged.
TEST_F(LifecycleE2E, PartnerTagsMapToProfilesAndUntaggedDevicesAreFoundNotAdopted) {
  const auto device = [](const char* serial, const char* tag) {
    Json d{{"serial_number", serial}, {"manufacturer", "Fabrikam"}, {"model", "Book 3"}};
    if (*tag) d["group_tag"] = tag;
    return d;
  };
  start_cloud(
      {{"seed", 34},
       {"time_scale", 600},
       {"tenant",
        {{"devices",
          {device("MAPPED-1", "Contoso-Sales"),
           device("DEFAULT-1", "Microsoft365Managed_Autopilot"), device("OTHER-1", "AnotherTeam"),
           device("LOOSE-1", ""), device("LOOSE-2", "")}}}}});
  start_configured({{"tag_profiles", {{"contoso-sales", "power-user"}}}});
  auto synced = hangar({"sync"});
  ASSERT_EQ(synced.code, 0) << synced.output;
  // (The pass at start-up may have added the partner devices already: `show` tells.)
  EXPECT_NE(synced.output.find("activity pass: 2 registered device(s)"), std::string::npos)
      << synced.output;
  EXPECT_NE(synced.output.find("2 device(s) in the tenant have no group tag and are not in "
                               "Hangar; not tracked (to track them: \"track_untagged\": true"),
            std::string::npos)
      << synced.output;
  EXPECT_NE(synced.output.find("  LOOSE-1  Fabrikam Book 3\n"), std::string::npos) << synced.output;
  EXPECT_NE(synced.output.find("  LOOSE-2  Fabrikam Book 3\n"), std::string::npos) << synced.output;
  auto mapped = hangar({"show", "MAPPED-1"});
  ASSERT_EQ(mapped.code, 0) << mapped.output;
  EXPECT_NE(mapped.output.find("power-user"), std::string::npos) << mapped.output;
  auto unmapped = hangar({"show", "DEFAULT-1"});
  ASSERT_EQ(unmapped.code, 0) << unmapped.output;
  EXPECT_NE(unmapped.output.find("none (registered by a partner; nobody chose one)"),
            std::string::npos)
      << unmapped.output;
  EXPECT_NE(hangar({"show", "OTHER-1"}).code, 0) << "another team's tag is not ours";
  EXPECT_NE(hangar({"show", "LOOSE-1"}).code, 0) << "untagged: found, not adopted";
  auto shown = hangar({"status"});
  ASSERT_EQ(shown.code, 0) << shown.output;
  EXPECT_NE(shown.output.find("untagged      2 device(s) in the tenant without a group tag, "
                              "not tracked (hangar sync lists them)"),
            std::string::npos)
      << shown.output;
  const Json activity = status()["cloud"]["activity"];
  EXPECT_EQ(activity["untagged"], 2) << activity.dump();
  EXPECT_EQ(activity["untagged_devices"].size(), 2u) << activity.dump();

  // The admin opts in: the next sync tracks them, without a profile; status no longer counts them.
  service_->signal(SIGTERM);
  ASSERT_TRUE(service_->wait(10s).has_value());
  start_configured({{"tag_profiles", {{"contoso-sales", "power-user"}}}, {"track_untagged", true}});
  auto tracked = hangar({"sync"});
  ASSERT_EQ(tracked.code, 0) << tracked.output;
  // Tracked by the pass at start-up or by this one: 2 partner and 2 untagged devices now.
  EXPECT_NE(tracked.output.find("activity pass: 4 registered device(s)"), std::string::npos)
      << tracked.output;
  auto loose = hangar({"show", "LOOSE-1"});
  ASSERT_EQ(loose.code, 0) << loose.output;
  EXPECT_NE(loose.output.find("Ready for user"), std::string::npos) << loose.output;
  auto again = hangar({"sync"});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(again.output.find("no group tag"), std::string::npos) << again.output;
  EXPECT_EQ(hangar({"status"}).output.find("untagged "), std::string::npos);
}

// Licences before any user is assigned (named by skuPartNumber), the hand-off list with its user,
// make and model from the hash, and the seed's advice with every failure; retry --failed skips
// the permanent ones and says so; "already registered" is no error on a Ready device.
TEST_F(LifecycleE2E, LicencesHandOffAndTheSeedsAdvice) {
  start_cloud(
      {{"seed", 33},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 60}}},
       {"rules",
        {{{"serial_prefix", "OTHER-"}, {"error", "ZtdDeviceAssignedToOtherTenant"}},
         {{"serial_prefix", "BAD-"}, {"error", "InvalidZtdHardwareHash"}},
         {{"serial_prefix", "DUPE-"}, {"error", "ZtdDeviceAlreadyAssigned"}}}},
       {"tenant",
        {{"skus",
          {{{"sku_id", "05e9a617-0261-4cee-bb44-138d3ef5d965"}, {"sku_part_number", "SPE_E3"}}}},
         {"users",
          {{{"user_principal_name", "ada@contoso.com"},
            {"licenses", {"05e9a617-0261-4cee-bb44-138d3ef5d965"}}},
           {{"user_principal_name", "bob@contoso.com"}, {"licenses", Json::array()}}}}}}});
  start_configured({{"required_licenses", {"SPE_E3"}}});
  const auto csv = make_devices({"OK-:2", "OTHER-:1", "BAD-:1", "DUPE-:1"});
  auto imported =
      hangar({"import", csv.string(), "--profile", "standard", "--user", "bob@contoso.com"});
  ASSERT_EQ(imported.code, 0) << imported.output;
  EXPECT_NE(imported.output.find("5 device(s) name a user: the user is assigned when you run "
                                 "`hangar deliver SERIAL`"),
            std::string::npos)
      << imported.output;
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);

  // The import named bob; deliver checks his licences first, by name.
  auto refused = hangar({"deliver", "OK-0001"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.output.find("user bob@contoso.com lacks 1 required licence(s): SPE_E3"),
            std::string::npos)
      << refused.output;
  EXPECT_EQ(endpoint_calls("autopilot.assignUserToDevice", "204"), 0) << "no user assigned yet";
  // Attack round 3, finding 07: query text is no principal name (never looked up in the cloud):
  // a usage error, as for import (black-box round 7); a name pasted with spaces around it is the
  // name.
  auto query = hangar({"deliver", "OK-0001", "--user", "ada@contoso.com?$select=id"});
  EXPECT_EQ(query.code, 2) << query.output;
  EXPECT_NE(query.output.find("--user takes the user's principal name"), std::string::npos)
      << query.output;
  auto delivered = hangar({"deliver", "OK-0001", "--user", " ada@contoso.com "});
  ASSERT_EQ(delivered.code, 0) << delivered.output;
  EXPECT_NE(delivered.output.find("to ada@contoso.com "), std::string::npos) << delivered.output;
  EXPECT_EQ(endpoint_calls("autopilot.assignUserToDevice", "204"), 1);
  // Delivered once: another user is the portal's job, and the refusal says where.
  auto again = hangar({"deliver", "OK-0001", "--user", "bob@contoso.com"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.output.find("unassign that user and assign the new one"), std::string::npos)
      << again.output;
  // The same user again (a retried script) is no failure, nothing is sent again, and it says so
  // (black-box round 10: it read as a new assignment; --json carried the 4 KB hash).
  auto same = hangar({"deliver", "OK-0001", "--user", "ada@contoso.com"});
  EXPECT_EQ(same.code, 0) << same.output;
  EXPECT_NE(same.output.find("OK-0001 was already delivered to ada@contoso.com on "),
            std::string::npos)
      << same.output;
  auto same_json = hangar({"--json", "deliver", "OK-0001", "--user", "ada@contoso.com"});
  EXPECT_EQ(same_json.code, 0) << same_json.output;
  EXPECT_NE(same_json.output.find("\"already_delivered\": true"), std::string::npos)
      << same_json.output;
  EXPECT_EQ(same_json.output.find("\"hash\""), std::string::npos) << same_json.output;
  EXPECT_EQ(endpoint_calls("autopilot.assignUserToDevice", "204"), 1);

  auto handoff = hangar({"list", "--handoff", "--wide", "--state", "ready"});
  ASSERT_EQ(handoff.code, 0) << handoff.output;
  for (const char* column :
       {"SERIAL", "MANUFACTURER", "MODEL", "GROUP TAG", "PROFILE", "STATE", "USER"}) {
    EXPECT_NE(handoff.output.find(column), std::string::npos) << column << "\n" << handoff.output;
  }
  EXPECT_NE(handoff.output.find("LAST CONTACTED"), std::string::npos) << handoff.output;
  const auto line_of = [&](const std::string& serial) {
    const auto at = handoff.output.find(serial);
    return at == std::string::npos ? std::string()
                                   : handoff.output.substr(at, handoff.output.find('\n', at) - at);
  };
  const std::string ok1 = line_of("OK-0001");
  EXPECT_NE(ok1.find("Contoso"), std::string::npos) << ok1;  // from the hash: the CSV has none
  EXPECT_NE(ok1.find("Laptop 7"), std::string::npos) << ok1;
  EXPECT_NE(ok1.find("Microsoft365Managed_Autopilot  standard  Ready for user  ada@contoso.com"),
            std::string::npos)
      << ok1;
  EXPECT_NE(line_of("OK-0002").find("bob@contoso.com (not delivered)"), std::string::npos)
      << handoff.output;
  auto listed = hangar({"list", "--wide"});
  EXPECT_NE(listed.output.find("Ready for user (ada@contoso.com)"), std::string::npos)
      << listed.output;
  auto shown = hangar({"--json", "show", "OK-0002"});
  const Json device = Json::parse(shown.output);
  EXPECT_EQ(device["manufacturer"], "Contoso") << "stored at import";
  EXPECT_EQ(device["model"], "Laptop 7");

  // The seed's advice with each failure.
  auto other = hangar({"show", "OTHER-0001"});
  EXPECT_NE(other.output.find("what to do      This device has already been claimed by another "
                              "organization: check with your device supplier."),
            std::string::npos)
      << other.output;
  auto bad = hangar({"show", "BAD-0001"});
  EXPECT_NE(bad.output.find("double-check the hardware hash and then resubmit"), std::string::npos)
      << bad.output;
  // 806 on a device that is Ready for user: no error line, the seed's words in its history.
  auto dupe = hangar({"show", "DUPE-0001"});
  EXPECT_NE(dupe.output.find("Ready for user"), std::string::npos) << dupe.output;
  EXPECT_EQ(dupe.output.find("last error"), std::string::npos) << dupe.output;
  EXPECT_NE(dupe.output.find("no further action required"), std::string::npos) << dupe.output;

  // Named, a permanent failure is skipped the same way unless forced (attack round 3, finding 05).
  // The one device named was not queued: exit 1, saying why and how (attack round 5, finding 9).
  auto named = hangar({"retry", "OTHER-0001"});
  EXPECT_EQ(named.code, 1) << named.output;
  EXPECT_NE(named.output.find("OTHER-0001 was not queued again: its failure is permanent "
                              "(Device claimed by another organization"),
            std::string::npos)
      << named.output;
  EXPECT_NE(named.output.find("`hangar retry OTHER-0001 --force` queues it again"),
            std::string::npos)
      << named.output;
  EXPECT_NE(hangar({"show", "OTHER-0001"}).output.find("Registration failed"), std::string::npos);

  auto retried = hangar({"retry", "--failed"});
  ASSERT_EQ(retried.code, 0) << retried.output;
  EXPECT_NE(retried.output.find("1 device(s) queued for registration again"), std::string::npos)
      << retried.output;
  EXPECT_NE(retried.output.find("1 device(s) skipped: a retry cannot help until the supplier "
                                "acts"),
            std::string::npos)
      << retried.output;
  EXPECT_NE(retried.output.find("1 Device claimed by another organization: This device has "
                                "already been claimed"),
            std::string::npos)
      << retried.output;
  EXPECT_NE(retried.output.find("--force"), std::string::npos);
  // Forced, the permanent one goes too (with BAD-0001 if it has failed again meanwhile).
  auto forced = hangar({"retry", "--failed", "--force"});
  EXPECT_NE(forced.output.find("queued for registration again"), std::string::npos)
      << forced.output;
  EXPECT_EQ(forced.output.find("skipped"), std::string::npos) << forced.output;
}

// Issue 13 (no dead ends): a device whose registration failed was never registered, so importing
// it again with another profile or user is the admin's correction. It is applied and said so,
// with `hangar retry` (the --json to_retry list; the device stays Registration failed until then),
// and the retry sends it corrected. The user is still only named: `deliver` checks the licences.
// A device registered already keeps refusing the change.
TEST_F(LifecycleE2E, ReimportCorrectsAFailedDeviceAndRetrySendsIt) {
  start_cloud(
      {{"seed", 34},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 60}}},
       // The first import of BAD-0001 is refused; the one after the retry goes through.
       {"rules", {{{"serial_prefix", "BAD-"}, {"error", "InvalidZtdHardwareHash"}, {"times", 1}}}},
       {"tenant",
        {{"skus",
          {{{"sku_id", "05e9a617-0261-4cee-bb44-138d3ef5d965"}, {"sku_part_number", "SPE_E3"}}}},
         {"users", {{{"user_principal_name", "bob@contoso.com"}, {"licenses", Json::array()}}}}}}});
  start_configured({{"required_licenses", {"SPE_E3"}}});
  const auto csv = make_devices({"OK-:1", "BAD-:1"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);
  ASSERT_EQ(status()["states"]["registration_failed"], 1) << status().dump(2);

  auto again = hangar(
      {"--json", "import", csv.string(), "--profile", "power-user", "--user", "bob@contoso.com"});
  EXPECT_EQ(again.code, 1) << "OK-0001 is refused: " << again.output;
  const Json reply = Json::parse(again.output);
  EXPECT_EQ(reply["accepted"], 0) << reply.dump(2);
  EXPECT_EQ(reply["updated"], 0);
  EXPECT_EQ(reply["registration_failed"], 1);
  EXPECT_EQ(reply["rejected"], 1);
  ASSERT_EQ(reply["to_retry"].size(), 1u) << reply.dump(2);
  EXPECT_EQ(reply["to_retry"][0]["serial"], "BAD-0001");
  EXPECT_EQ(reply["to_retry"][0]["reason"],
            "BAD-0001 is Registration failed (Hardware hash not valid); profile standard -> "
            "power-user, assigned user (none) -> bob@contoso.com applied; run `hangar retry "
            "BAD-0001` to send it again");
  ASSERT_EQ(reply["service_problems"].size(), 1u) << reply.dump(2);
  EXPECT_EQ(reply["service_problems"][0]["serial"], "OK-0001");
  const std::string refused = reply["service_problems"][0]["reason"];
  EXPECT_NE(refused.find("past the upload (state Ready for user)"), std::string::npos) << refused;
  EXPECT_NE(refused.find("was NOT applied"), std::string::npos) << refused;

  const Json failed = Json::parse(hangar({"--json", "show", "BAD-0001"}).output);
  EXPECT_EQ(failed["state"], "registration_failed") << failed.dump(2);
  EXPECT_EQ(failed["profile"], "power-user");
  const Json kept = Json::parse(hangar({"--json", "show", "OK-0001"}).output);
  EXPECT_EQ(kept["profile"], "standard") << kept.dump(2);

  auto retried = hangar({"retry", "BAD-0001"});
  ASSERT_EQ(retried.code, 0) << retried.output;
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);
  const Json registered = Json::parse(hangar({"--json", "show", "BAD-0001"}).output);
  EXPECT_EQ(registered["state"], "ready_for_user") << registered.dump(2);
  EXPECT_EQ(registered["profile"], "power-user");
  // Named at the re-import, assigned only by deliver, after the licence check.
  auto refused_user = hangar({"deliver", "BAD-0001"});
  EXPECT_NE(refused_user.code, 0);
  EXPECT_NE(refused_user.output.find("user bob@contoso.com lacks 1 required licence(s): SPE_E3"),
            std::string::npos)
      << refused_user.output;
  EXPECT_EQ(endpoint_calls("autopilot.assignUserToDevice", "204"), 0);
}

}  // namespace
}  // namespace hangar::test
