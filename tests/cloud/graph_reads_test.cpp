// GraphClient's reads and pure helpers against the scripted transport: paging and its guards,
// the filtered lists, the record and device parsers, scopes, times, profile states, the URL
// policy and the import error words.
#include <gtest/gtest.h>

#include "scripted_graph.h"

namespace hangar::cloud {
namespace {

using graphtest::GraphClientTest;
using graphtest::Json;
using graphtest::kGraph;
using graphtest::ScriptedTransport;
using namespace std::chrono_literals;

TEST_F(GraphClientTest, PollingListsTheImportTableFollowingNextLinks) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "GET", std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities",
      200,
      Json{{"value",
            {{{"id", "r1"},
              {"importId", "r1"},
              {"serialNumber", "S1"},
              {"state", {{"deviceImportStatus", "complete"}, {"deviceRegistrationId", "reg-1"}}}}}},
           {"@odata.nextLink", std::string(kGraph) + "/next-page"}}
          .dump());
  transport_.expect("GET", std::string(kGraph) + "/next-page", 200,
                    Json{{"value",
                          {{{"id", "r2"},
                            {"serialNumber", "S2"},
                            {"state",
                             {{"deviceImportStatus", "error"},
                              {"deviceErrorCode", 808},
                              {"deviceErrorName", "ZtdDeviceAssignedToOtherTenant"}}}}}}}
                        .dump());
  auto records = client->list_import_records();
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].status, ImportStatus::kComplete);
  EXPECT_EQ((*records)[0].registration_id, "reg-1");
  EXPECT_EQ((*records)[1].status, ImportStatus::kError);
  EXPECT_EQ((*records)[1].error_code, 808);
  // The documented list: no query options at all.
  EXPECT_EQ(transport_.sent[1].url,
            std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities");
}

TEST_F(GraphClientTest, NextLinkToAnotherHostIsRefused) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "GET", kGraph, 200,
      Json{{"value", Json::array()}, {"@odata.nextLink", "https://evil.example/x"}}.dump());
  auto records = client->list_import_records();
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.error().message.find("evil.example"), std::string::npos);
}

// The directory calls go to v1.0 next to a beta Graph URL, follow nextLinks on v1.0 only, and a
// 403 names the directory permissions instead of the Intune one.
TEST_F(GraphClientTest, GroupCallsUseV1NameTheirPermissionsAndKeepTheTokenOnTheHost) {
  auto client = make();
  constexpr const char* kV1 = "https://graph.example/v1.0";
  transport_.expect_token();
  transport_.expect("GET", std::string(kV1) + "/groups/g1/members/microsoft.graph.device?", 200,
                    Json{{"value", {{{"id", "o1"}, {"deviceId", "d1"}}}},
                         {"@odata.nextLink", std::string(kV1) + "/groups/g1/members?$skiptoken=x"}}
                        .dump());
  transport_.expect("GET", std::string(kV1) + "/groups/g1/members?$skiptoken=x", 200,
                    Json{{"value", {{{"id", "o2"}, {"deviceId", "d2"}}}}}.dump());
  auto members = client->list_group_devices("g1");
  ASSERT_TRUE(members.ok()) << members.error().message;
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[1].object_id, "o2");
  EXPECT_EQ((*members)[1].device_id, "d2");

  transport_.expect("GET", kV1, 200,
                    Json{{"value", Json::array()},
                         {"@odata.nextLink", std::string(kGraph) + "/groups/g1/members?x"}}
                        .dump());
  EXPECT_FALSE(client->list_group_devices("g1").ok()) << "a nextLink off the v1.0 base";

  transport_.expect("POST", std::string(kV1) + "/groups/g1/members/$ref", 403, "{}");
  auto forbidden = client->add_group_member("g1", "o1");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, kErrAuth);
  EXPECT_NE(forbidden.error().message.find("GroupMember.ReadWrite.All"), std::string::npos);
  EXPECT_EQ(Json::parse(transport_.sent.back().body),
            (Json{{"@odata.id", std::string(kV1) + "/directoryObjects/o1"}}));

  // Fifteen ids per `in` filter: 16 ids are two requests.
  std::vector<std::string> ids;
  for (int i = 0; i < 16; ++i) ids.push_back("d" + std::to_string(i));
  transport_.expect("GET", std::string(kV1) + "/devices?$filter=deviceId%20in%20%28%27d0%27", 200,
                    Json{{"value", {{{"id", "o0"}, {"deviceId", "d0"}}}}}.dump());
  transport_.expect("GET", std::string(kV1) + "/devices?$filter=deviceId%20in%20%28%27d15%27%29",
                    200, Json{{"value", Json::array()}}.dump());
  auto found = client->find_directory_devices(ids);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->size(), 1u);
}

TEST_F(GraphClientTest, FindAutopilotDevicesKeepsEveryExactSerialOnly) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("GET", kGraph, 200,
                    Json{{"value",
                          {{{"id", "a1"}, {"serialNumber", "S10"}},
                           {{"id", "a2"}, {"serialNumber", "s1"}, {"groupTag", "T"}},
                           {{"id", "a3"}, {"serialNumber", "S1"}, {"manufacturer", "HP"}}}}}
                        .dump());
  auto devices = client->find_autopilot_devices("S1");
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 2U);
  EXPECT_EQ((*devices)[0].id, "a2");
  EXPECT_EQ((*devices)[0].group_tag, "T");
  EXPECT_EQ((*devices)[1].id, "a3");
  EXPECT_EQ((*devices)[1].manufacturer, "HP");
}

TEST_F(GraphClientTest, PolledRecordsCarryTheRequestIdOfTheirPage) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "GET", std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities",
      200,
      Json{{"value",
            {{{"id", "r1"},
              {"serialNumber", "S1"},
              {"state", {{"deviceImportStatus", "error"}, {"deviceErrorName", "Odd"}}}}}},
           {"@odata.nextLink", std::string(kGraph) + "/deviceManagement/y?$skiptoken=2"}}
          .dump(),
      {{"request-id", "page-1"}});
  transport_.expect("GET", std::string(kGraph) + "/deviceManagement/y?$skiptoken=2", 200,
                    Json{{"value", {{{"id", "r2"}, {"serialNumber", "S2"}}}}}.dump(),
                    {{"request-id", "page-2"}});
  auto records = client->list_import_records();
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].request_id, "page-1");
  EXPECT_EQ((*records)[0].error_name, "Odd");
  EXPECT_EQ((*records)[1].request_id, "page-2");
}

// A nextLink back to a page already read (seen from real services' paging bugs) would be followed
// for ever, about a hundred requests a second: the second visit ends the list with an error.
TEST_F(GraphClientTest, ANextLinkBackToAPageAlreadyReadEndsTheList) {
  auto client = make();
  transport_.expect_token();
  const std::string first =
      std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities";
  const std::string second = std::string(kGraph) + "/deviceManagement/y?$skiptoken=2";
  transport_.expect(
      "GET", first, 200,
      Json{{"value", {{{"id", "r1"}, {"serialNumber", "S1"}}}}, {"@odata.nextLink", second}}
          .dump());
  transport_.expect(
      "GET", second, 200,
      Json{{"value", {{{"id", "r2"}, {"serialNumber", "S2"}}}}, {"@odata.nextLink", first}}.dump(),
      {{"request-id", "loop-page"}});
  auto records = client->list_import_records();
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.error().message.find("loops"), std::string::npos) << records.error().message;
  EXPECT_EQ(records.error().request_id, "loop-page");
}

TEST_F(GraphClientTest, TaggedListFiltersWithContainsSelectsNothingAndFollowsPages) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "GET",
      std::string(kGraph) + "/deviceManagement/windowsAutopilotDeviceIdentities?$filter=", 200,
      Json{{"value",
            {{{"id", "a1"},
              {"serialNumber", "S1"},
              {"groupTag", "Tag A"},
              {"deploymentProfileAssignmentStatus", "assignedInSync"}}}},
           {"@odata.nextLink", std::string(kGraph) + "/deviceManagement/x?$skiptoken=2"}}
          .dump());
  transport_.expect("GET", std::string(kGraph) + "/deviceManagement/x?$skiptoken=2", 200,
                    Json{{"value",
                          {{{"id", "a2"},
                            {"serialNumber", "S2"},
                            {"groupTag", "Tag A"},
                            {"deploymentProfileAssignmentStatus", "pending"}}}}}
                        .dump());
  auto devices = client->list_autopilot_devices_tagged("Tag A");
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].profile_status, "assignedInSync");
  EXPECT_EQ((*devices)[1].serial, "S2");
  const std::string& url = transport_.sent[1].url;
  EXPECT_EQ(url, std::string(kGraph) +
                     "/deviceManagement/windowsAutopilotDeviceIdentities?$filter="
                     "contains%28groupTag%2C%27Tag%20A%27%29")
      << "no $select (a 500 on this collection), no $top";
}

// A 2xx import answer that cannot be read means the cloud took the call: the devices are in
// doubt (kErrInDoubt), never "not sent".
TEST(GraphScope, FollowsTheConfiguredGraphHost) {
  EXPECT_EQ(graph_scope_for("https://graph.microsoft.com/beta"),
            "https://graph.microsoft.com/.default");
  EXPECT_EQ(graph_scope_for("https://graph.microsoft.us/v1.0"),
            "https://graph.microsoft.us/.default");
  EXPECT_EQ(graph_scope_for("https://dod-graph.microsoft.us/beta"),
            "https://dod-graph.microsoft.us/.default");
  EXPECT_EQ(graph_scope_for("https://microsoftgraph.chinacloudapi.cn/v1.0"),
            "https://microsoftgraph.chinacloudapi.cn/.default");
  EXPECT_EQ(graph_scope_for("http://127.0.0.1:8710/beta"), "http://127.0.0.1:8710/.default");

  ScriptedTransport transport;
  core::FakeClock clock;
  GraphConfig config;
  config.authority_url = "https://login.microsoftonline.us";
  config.graph_url = "https://graph.microsoft.us/beta";
  config.tenant_id = config.client_id = config.client_secret = "x";
  auto derived = GraphClient::create(config, transport, clock);
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ((*derived)->scope(), "https://graph.microsoft.us/.default");
  transport.expect("POST", "https://login.microsoftonline.us/x/oauth2/v2.0/token", 200,
                   Json{{"access_token", "t"}, {"expires_in", 3600}}.dump());
  EXPECT_TRUE((*derived)->verify_credentials().ok());
  EXPECT_NE(transport.sent.back().body.find("scope=https%3A%2F%2Fgraph.microsoft.us%2F.default"),
            std::string::npos);
  config.scope = "https://graph.microsoft.com/.default";  // configured: used as given
  auto configured = GraphClient::create(config, transport, clock);
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ((*configured)->scope(), "https://graph.microsoft.com/.default");
}

TEST(GraphTime, ParsesGraphsTimestampsAndRefusesTheRest) {
  EXPECT_EQ(parse_graph_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_graph_time("2024-05-01T10:00:00Z"), 1714557600000);
  EXPECT_EQ(parse_graph_time("2024-05-01T10:00:00.1234567Z"), 1714557600123);
  EXPECT_EQ(parse_graph_time("2024-02-29T23:59:59.5Z"), 1709251199500);
  EXPECT_EQ(parse_graph_time("0001-01-01T00:00:00Z"), std::nullopt) << "Graph's never";
  EXPECT_EQ(parse_graph_time(""), std::nullopt);
  EXPECT_EQ(parse_graph_time("2024-05-01 10:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_graph_time("2024-13-01T10:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_graph_time("2024-05-01T10:00:00+02:00"), std::nullopt);
}

TEST_F(GraphClientTest, ManagedDevicesAndUsersForTheLifecycle) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("GET", std::string(kGraph) + "/deviceManagement/managedDevices?$select=", 200,
                    Json{{"value",
                          {{{"id", "m1"}, {"lastSyncDateTime", "2024-05-01T10:00:00Z"}},
                           {{"id", "m2"}, {"lastSyncDateTime", "0001-01-01T00:00:00Z"}}}}}
                        .dump());
  auto managed = client->list_managed_devices();
  ASSERT_TRUE(managed.ok()) << managed.error().message;
  ASSERT_EQ(managed->size(), 2u);
  EXPECT_EQ((*managed)[0].last_sync_ms, 1714557600000);
  EXPECT_FALSE((*managed)[1].last_sync_ms.has_value());

  transport_.expect("GET", std::string(kGraph) + "/users/ada%40contoso.com?$select=", 200,
                    Json{{"userPrincipalName", "ada@contoso.com"},
                         {"assignedLicenses", {{{"skuId", "sku-1"}}, {{"skuId", "sku-2"}}}}}
                        .dump());
  auto user = client->find_user("ada@contoso.com");
  ASSERT_TRUE(user.ok() && user->has_value());
  EXPECT_EQ((*user)->sku_ids, (std::vector<std::string>{"sku-1", "sku-2"}));
  transport_.expect("GET", std::string(kGraph) + "/users/nobody", 404,
                    R"({"error":{"code":"Request_ResourceNotFound","message":"no such user"}})");
  auto nobody = client->find_user("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.error().message;
  EXPECT_FALSE(nobody->has_value());
}

TEST(ProfileStatus, AssignedWaitingFailedOrNotShown) {
  EXPECT_EQ(interpret_profile_status("assignedInSync"), ProfileAssignment::kAssigned);
  EXPECT_EQ(interpret_profile_status("assignedOutOfSync"), ProfileAssignment::kAssigned);
  EXPECT_EQ(interpret_profile_status("assignedUnkownSyncState"), ProfileAssignment::kAssigned);
  EXPECT_EQ(interpret_profile_status("pending"), ProfileAssignment::kWaiting);
  EXPECT_EQ(interpret_profile_status("notAssigned"), ProfileAssignment::kWaiting);
  EXPECT_EQ(interpret_profile_status("unknown"), ProfileAssignment::kWaiting);
  EXPECT_EQ(interpret_profile_status("failed"), ProfileAssignment::kFailed);
  EXPECT_EQ(interpret_profile_status(""), ProfileAssignment::kNotShown);
}

TEST(GraphUrls, PlainHttpOnlyToLoopback) {
  EXPECT_TRUE(check_url_allowed("https://graph.microsoft.com/beta").ok());
  EXPECT_TRUE(check_url_allowed("http://127.0.0.1:8080/beta").ok());
  EXPECT_TRUE(check_url_allowed("http://localhost:8080").ok());
  EXPECT_TRUE(check_url_allowed("http://[::1]:8080/x").ok());
  EXPECT_EQ(check_url_allowed("http://graph.microsoft.com/beta").error().code, kErrInsecureUrl);
  EXPECT_EQ(check_url_allowed("http://127.0.0.1.evil.example/").error().code, kErrInsecureUrl);
  EXPECT_EQ(check_url_allowed("ftp://127.0.0.1/").error().code, kErrInsecureUrl);

  ScriptedTransport transport;
  core::FakeClock clock;
  GraphConfig config;
  config.graph_url = "http://graph.example/beta";
  config.tenant_id = config.client_id = config.client_secret = "x";
  EXPECT_EQ(GraphClient::create(config, transport, clock).error().code, kErrInsecureUrl);
  config.graph_url = "https://graph.example/beta";
  config.client_secret.clear();
  EXPECT_EQ(GraphClient::create(config, transport, clock).error().code, kErrNotConfigured);
}

TEST(ImportErrors, SeedWordsForEveryKnownCode) {
  using core::FailureReason;
  EXPECT_EQ(interpret_import_error(806, "ZtdDeviceAlreadyAssigned").action,
            ErrorMeaning::Action::kRegistered);
  EXPECT_EQ(interpret_import_error(806, "").reason, FailureReason::kDeviceAlreadyRegistered);
  EXPECT_EQ(interpret_import_error(808, "ZtdDeviceAssignedToOtherTenant").reason,
            FailureReason::kClaimedByAnotherOrganization);
  EXPECT_EQ(interpret_import_error(std::nullopt, "InvalidZtdHardwareHash").reason,
            FailureReason::kHardwareHashNotValid);
  EXPECT_EQ(interpret_import_error(802, "").reason, FailureReason::kHardwareHashNotValid);
  EXPECT_EQ(interpret_import_error(std::nullopt, "ZtdDeviceDuplicated").reason,
            FailureReason::kHardwareHashNotValid);
  EXPECT_EQ(interpret_import_error(std::nullopt, "ZtdDeviceNotFound").reason,
            FailureReason::kDeviceNotFound);
  EXPECT_EQ(interpret_import_error(std::nullopt, "StorageError").action,
            ErrorMeaning::Action::kRetry);
  const auto other = interpret_import_error(999, "SomethingNew");
  EXPECT_EQ(other.reason, FailureReason::kUnexpectedError);
  EXPECT_NE(other.detail.find("SomethingNew (999)"), std::string::npos);
}

}  // namespace
}  // namespace hangar::cloud
