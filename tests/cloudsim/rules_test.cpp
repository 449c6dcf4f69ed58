// The seed's failures: each reproducible by a scenario rule, and the ones the service produces by
// itself (re-imports, duplicates, hashless rows that match nothing, bad hash layouts).
#include "sim_fixture.h"

namespace hangar::cloudsim::test {
namespace {

class RulesTest : public SimTest {
 protected:
  // Imports one row, lets the registration finish and returns its final record.
  json import_and_finish(const json& row) {
    auto records = import({row});
    advance(61s);
    return imported(records[0]["id"].get<std::string>());
  }
  static Rule rule_for(std::string serial, std::string error, int code = 0) {
    Rule rule;
    rule.serial = std::move(serial);
    rule.error = std::move(error);
    rule.code = code;
    return rule;
  }
  std::size_t registered_count() { return get_json(kAutopilot)["value"].size(); }
};

TEST_F(RulesTest, EachSeedFailureIsReproducibleBySerial) {
  Scenario scenario = quiet_scenario();
  scenario.rules = {rule_for("R-806", "ZtdDeviceAlreadyAssigned"),
                    rule_for("R-808", "ZtdDeviceAssignedToOtherTenant"),
                    rule_for("R-HASH", "InvalidZtdHardwareHash"),
                    rule_for("R-DUP", "ZtdDeviceDuplicated"),
                    rule_for("R-NF", "ZtdDeviceNotFound"),
                    rule_for("R-ODD", "SomethingNew", 1234)};
  start(scenario);
  struct Expect {
    std::string serial;
    std::string name;
    int code;
  };
  for (const auto& e : std::vector<Expect>{{"R-806", "ZtdDeviceAlreadyAssigned", 806},
                                           {"R-808", "ZtdDeviceAssignedToOtherTenant", 808},
                                           {"R-HASH", "InvalidZtdHardwareHash", 802},
                                           {"R-DUP", "ZtdDeviceDuplicated", 902},
                                           {"R-NF", "ZtdDeviceNotFound", 903},
                                           {"R-ODD", "SomethingNew", 1234}}) {
    auto record = import_and_finish(device_row(e.serial, make_hash(e.serial)));
    EXPECT_EQ(record["state"]["deviceImportStatus"], "error") << e.serial;
    EXPECT_EQ(record["state"]["deviceErrorName"], e.name) << e.serial;
    EXPECT_EQ(record["state"]["deviceErrorCode"], e.code) << e.serial;
  }
  // A rule-made 806 means "already registered here": that device is visible in the tenant, and
  // it is the only one.
  auto devices = get_json(kAutopilot)["value"];
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0]["serialNumber"], "R-806");
  EXPECT_EQ(sim().stats()["imports"]["errors_by_name"]["ZtdDeviceAssignedToOtherTenant"], 1);
}

TEST_F(RulesTest, PrefixRulesMatchEverySerialThatStartsWithIt) {
  Scenario scenario = quiet_scenario();
  Rule rule;
  rule.serial_prefix = "OTHER-";
  rule.error = "ZtdDeviceAssignedToOtherTenant";
  scenario.rules = {rule};
  start(scenario);
  EXPECT_EQ(
      import_and_finish(device_row("OTHER-1", make_hash("OTHER-1")))["state"]["deviceErrorCode"],
      808);
  EXPECT_EQ(
      import_and_finish(device_row("OTHER-2", make_hash("OTHER-2")))["state"]["deviceErrorCode"],
      808);
  EXPECT_EQ(
      import_and_finish(device_row("MINE-1", make_hash("MINE-1")))["state"]["deviceImportStatus"],
      "complete");
}

TEST_F(RulesTest, StorageErrorIsTransientSoTheRetrySucceeds) {
  Scenario scenario = quiet_scenario();
  scenario.rules = {rule_for("S-1", "StorageError")};
  scenario.rules[0].times = 1;  // what the scenario parser defaults StorageError to
  start(scenario);
  auto first = import_and_finish(device_row("S-1", make_hash("S-1")));
  EXPECT_EQ(first["state"]["deviceErrorName"], "StorageError");
  EXPECT_EQ(registered_count(), 0u);
  auto retry = import_and_finish(device_row("S-1", make_hash("S-1")));
  EXPECT_EQ(retry["state"]["deviceImportStatus"], "complete");
  EXPECT_EQ(registered_count(), 1u);
  EXPECT_EQ(sim().stats()["imports"]["by_serial"]["S-1"], 2);
  EXPECT_EQ(sim().stats()["imports"]["serials_imported_more_than_once"], json::array({"S-1"}));
}

TEST_F(RulesTest, ReimportingARegisteredDeviceIsA806) {
  import_and_finish(device_row("RE-1", make_hash("RE-1")));
  auto again = import_and_finish(device_row("RE-1", make_hash("RE-1")));
  EXPECT_EQ(again["state"]["deviceErrorName"], "ZtdDeviceAlreadyAssigned");
  EXPECT_EQ(again["state"]["deviceErrorCode"], 806);
  // Same hardware under another serial is recognised by its hash.
  auto renamed = import_and_finish(device_row("RE-1-TYPO", make_hash("RE-1")));
  EXPECT_EQ(renamed["state"]["deviceErrorCode"], 806);
  EXPECT_EQ(registered_count(), 1u);
}

TEST_F(RulesTest, ASeededDeviceMakesItsImportA806) {
  Scenario scenario = quiet_scenario();
  SeedDevice partner;
  partner.serial_number = "PARTNER-1";
  partner.hardware_hash = make_hash("PARTNER-1");
  scenario.devices.push_back(partner);
  start(scenario);
  EXPECT_EQ(registered_count(), 1u);
  auto record = import_and_finish(device_row("PARTNER-1", make_hash("PARTNER-1")));
  EXPECT_EQ(record["state"]["deviceErrorCode"], 806);
}

TEST_F(RulesTest, TheSameHashTwiceIsDuplicated) {
  // In one call: the second row is the duplicate.
  auto records =
      import({device_row("DUP-A", make_hash("DUP")), device_row("DUP-B", make_hash("DUP"))});
  // While the first import is still pending, a later call's row is a duplicate too.
  auto later = import({device_row("DUP-C", make_hash("DUP"))});
  advance(61s);
  EXPECT_EQ(status_of(records[0]["id"]), "complete");
  EXPECT_EQ(imported(records[1]["id"])["state"]["deviceErrorName"], "ZtdDeviceDuplicated");
  EXPECT_EQ(imported(later[0]["id"])["state"]["deviceErrorName"], "ZtdDeviceDuplicated");
  EXPECT_EQ(registered_count(), 1u);
}

TEST_F(RulesTest, HashlessRowsMatchTheOemCatalogueOrAreNotFound) {
  Scenario scenario = quiet_scenario();
  scenario.oem_devices.push_back({"OEM-1", "Fabrikam", "Tablet 3"});
  start(scenario);
  auto known = import_and_finish(device_row("OEM-1", ""));
  EXPECT_EQ(known["state"]["deviceImportStatus"], "complete");
  auto device = get_json(kAutopilot)["value"][0];
  EXPECT_EQ(device["manufacturer"], "Fabrikam");
  EXPECT_EQ(device["model"], "Tablet 3");
  auto unknown = import_and_finish(device_row("OEM-404", ""));
  EXPECT_EQ(unknown["state"]["deviceErrorName"], "ZtdDeviceNotFound");
  EXPECT_EQ(unknown["hardwareIdentifier"], nullptr);
}

TEST_F(RulesTest, AHashWithoutTheRecordLayoutIsInvalid) {
  auto record = import_and_finish(
      device_row("BAD-LAYOUT", base64({'n', 'o', 't', ' ', 'a', ' ', 'h', 'a', 's', 'h'})));
  EXPECT_EQ(record["state"]["deviceErrorName"], "InvalidZtdHardwareHash");

  Scenario lenient = quiet_scenario();
  lenient.import.validate_hash = false;
  start(lenient);
  EXPECT_EQ(import_and_finish(
                device_row("BAD-LAYOUT", base64({'x', 'y', 'z'})))["state"]["deviceImportStatus"],
            "complete");
}

TEST_F(RulesTest, RulesCanChangeTimingGroupTagAndProfileStatus) {
  Scenario scenario = quiet_scenario();
  Rule slow;
  slow.serial = "SLOW-1";
  slow.delay_seconds = 600;
  Rule untagged;
  untagged.serial = "TAGLESS-1";
  untagged.group_tag = "";  // the group tag goes missing: what the daily sweep repairs
  untagged.profile_status = "failed";
  scenario.rules = {slow, untagged};
  start(scenario);
  auto slow_id = import({device_row("SLOW-1", make_hash("SLOW-1"))})[0]["id"].get<std::string>();
  auto tagless = import_and_finish(device_row("TAGLESS-1", make_hash("TAGLESS-1")));
  EXPECT_EQ(tagless["state"]["deviceImportStatus"], "complete");
  advance(31s);
  auto device = get_json(std::string(kAutopilot) + "/" +
                         tagless["state"]["deviceRegistrationId"].get<std::string>());
  EXPECT_EQ(device["groupTag"], "");
  EXPECT_EQ(device["deploymentProfileAssignmentStatus"], "failed");
  EXPECT_EQ(status_of(slow_id), "unknown");
  advance(10min);
  EXPECT_EQ(status_of(slow_id), "complete");
}

TEST_F(RulesTest, TimesLimitsARuleToTheFirstImports) {
  Scenario scenario = quiet_scenario();
  scenario.rules = {rule_for("T-1", "ZtdDeviceAssignedToOtherTenant")};
  scenario.rules[0].times = 2;
  start(scenario);
  EXPECT_EQ(import_and_finish(device_row("T-1", make_hash("T-1")))["state"]["deviceErrorCode"],
            808);
  EXPECT_EQ(import_and_finish(device_row("T-1", make_hash("T-1")))["state"]["deviceErrorCode"],
            808);
  EXPECT_EQ(import_and_finish(device_row("T-1", make_hash("T-1")))["state"]["deviceImportStatus"],
            "complete");
}

}  // namespace
}  // namespace hangar::cloudsim::test
