// GraphClient against a strict scripted transport and a fake clock: the token cache and its
// renewal, every HTTP answer's mapping to an error code, paging, the URL policy, and the request
// shapes Graph expects.
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "hangar/cloud/graph_client.h"

namespace hangar::cloud {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Every request must be expected, in order; an unexpected one fails the test.
class ScriptedTransport final : public HttpTransport {
 public:
  struct Step {
    std::string method;
    std::string url_prefix;
    core::Result<HttpResponse> answer;
  };

  void expect(std::string method, std::string url_prefix, int status, std::string body = "{}",
              std::map<std::string, std::string> headers = {}) {
    HttpResponse response{status, std::move(headers), std::move(body)};
    steps_.push_back({std::move(method), std::move(url_prefix), response});
  }
  void expect_failure(std::string method, std::string url_prefix, std::string code) {
    steps_.push_back(
        {std::move(method), std::move(url_prefix), core::make_error(std::move(code), "boom")});
  }
  void expect_token(std::string token = "tok-1", int expires_in = 3600) {
    expect(
        "POST", "https://login.example/tenant-1/oauth2/v2.0/token", 200,
        Json{{"access_token", token}, {"expires_in", expires_in}, {"token_type", "Bearer"}}.dump());
  }

  core::Result<HttpResponse> send(const HttpRequest& request, std::chrono::milliseconds) override {
    sent.push_back(request);
    if (steps_.empty()) {
      ADD_FAILURE() << "unexpected request " << request.method << " " << request.url;
      return core::make_error(kErrNetwork, "unexpected");
    }
    Step step = std::move(steps_.front());
    steps_.pop_front();
    EXPECT_EQ(request.method, step.method);
    EXPECT_EQ(request.url.rfind(step.url_prefix, 0), 0u)
        << request.url << " does not start with " << step.url_prefix;
    return step.answer;
  }

  bool done() const { return steps_.empty(); }
  std::vector<HttpRequest> sent;

 private:
  std::deque<Step> steps_;
};

constexpr const char* kGraph = "https://graph.example/beta";

class GraphClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<GraphClient> make() {
    GraphConfig config;
    config.authority_url = "https://login.example/";
    config.graph_url = kGraph;
    config.tenant_id = "tenant-1";
    config.client_id = "client-1";
    config.client_secret = "s3cret value&more";
    auto client = GraphClient::create(config, transport_, clock_);
    EXPECT_TRUE(client.ok()) << client.error().message;
    return std::move(client).value();
  }
  void TearDown() override { EXPECT_TRUE(transport_.done()) << "expected requests were not made"; }

  ScriptedTransport transport_;
  core::FakeClock clock_;
};

TEST_F(GraphClientTest, ImportSendsGraphsShapeWithTokenAndFormEncodedCredentials) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "POST",
      std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities/import",
      200,
      R"({"value":[{"id":"r1","importId":"imp-1","serialNumber":"S1",
                        "state":{"deviceImportStatus":"pending","deviceErrorCode":0}}]})");
  ImportItem item{"S1", "PK", "T0Ee", "Microsoft365Managed_Autopilot", "amy@contoso.com"};
  auto records = client->import_devices(std::span<const ImportItem>(&item, 1));
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].id, "r1");
  EXPECT_EQ((*records)[0].import_id, "imp-1");
  EXPECT_EQ((*records)[0].status, ImportStatus::kPending);
  EXPECT_FALSE((*records)[0].error_code.has_value());

  const HttpRequest& token = transport_.sent[0];
  EXPECT_EQ(token.headers.at("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_NE(token.body.find("grant_type=client_credentials"), std::string::npos);
  EXPECT_NE(token.body.find("client_secret=s3cret%20value%26more"), std::string::npos);
  // The scope follows the configured Graph host (national clouds require their own).
  EXPECT_NE(token.body.find("scope=https%3A%2F%2Fgraph.example%2F.default"), std::string::npos)
      << token.body;
  const HttpRequest& import = transport_.sent[1];
  EXPECT_EQ(import.headers.at("Authorization"), "Bearer tok-1");
  const Json body = Json::parse(import.body);
  const Json& identity = body["importedWindowsAutopilotDeviceIdentities"][0];
  EXPECT_EQ(identity["@odata.type"], "#microsoft.graph.importedWindowsAutopilotDeviceIdentity");
  EXPECT_EQ(identity["serialNumber"], "S1");
  EXPECT_EQ(identity["productKey"], "PK");
  EXPECT_EQ(identity["hardwareIdentifier"], "T0Ee");
  EXPECT_EQ(identity["groupTag"], "Microsoft365Managed_Autopilot");
  EXPECT_EQ(identity["assignedUserPrincipalName"], "amy@contoso.com");
}

TEST_F(GraphClientTest, TokenIsCachedRenewedBeforeExpiryAndOnceOn401) {
  auto client = make();
  transport_.expect_token("tok-1", 3600);
  transport_.expect("DELETE", std::string(kGraph), 204, "");
  transport_.expect("DELETE", std::string(kGraph), 204, "");
  ASSERT_TRUE(client->delete_import_record("a").ok());
  ASSERT_TRUE(client->delete_import_record("b").ok());
  EXPECT_EQ(client->token_requests(), 1);

  // 3600 s minus the 300 s margin: at 3301 s the token is renewed before it is used.
  clock_.advance(3301s);
  transport_.expect_token("tok-2", 3600);
  transport_.expect("DELETE", std::string(kGraph), 204, "");
  ASSERT_TRUE(client->delete_import_record("c").ok());
  EXPECT_EQ(transport_.sent.back().headers.at("Authorization"), "Bearer tok-2");

  // Revoked early: one 401, one renewal, one retry.
  transport_.expect("DELETE", std::string(kGraph), 401,
                    R"({"error":{"code":"InvalidAuthenticationToken"}})");
  transport_.expect_token("tok-3", 3600);
  transport_.expect("DELETE", std::string(kGraph), 204, "");
  ASSERT_TRUE(client->delete_import_record("d").ok());
  EXPECT_EQ(client->token_requests(), 3);

  // A second 401 in a row is an auth error, not a loop.
  transport_.expect("DELETE", std::string(kGraph), 401, "{}");
  transport_.expect_token("tok-4", 3600);
  transport_.expect("DELETE", std::string(kGraph), 401, "{}");
  auto refused = client->delete_import_record("e");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kErrAuth);
}

TEST_F(GraphClientTest, VerifyCredentialsAlwaysAsksForAFreshToken) {
  auto client = make();
  transport_.expect_token("tok-1");
  EXPECT_TRUE(client->verify_credentials().ok());
  transport_.expect_token("tok-2");
  EXPECT_TRUE(client->verify_credentials().ok());
  EXPECT_EQ(client->token_requests(), 2);

  transport_.expect(
      "POST", "https://login.example/tenant-1/oauth2/v2.0/token", 401,
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})");
  auto refused = client->verify_credentials();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kErrAuth);
  EXPECT_NE(refused.error().message.find("AADSTS7000215"), std::string::npos);
  EXPECT_NE(refused.error().message.find("set-credentials"), std::string::npos);
}

TEST_F(GraphClientTest, ErrorsNeverEchoTheSecretOrTheBearerToken) {
  auto client = make();
  // A proxy's error page that echoes the request it refused: the form body, then the header.
  transport_.expect("POST", "https://login.example/tenant-1/oauth2/v2.0/token", 400,
                    "<html>bad request: client_id=client-1&client_secret=s3cret%20value%26more "
                    "(s3cret value&more)</html>");
  auto refused = client->verify_credentials();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("[redacted]"), std::string::npos);

  transport_.expect_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig");
  transport_.expect("DELETE", kGraph, 400,
                    "refused: Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig");
  auto rejected = client->delete_import_record("a");
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().message.find("eyJ"), std::string::npos) << rejected.error().message;
}

TEST_F(GraphClientTest, AnswersMapToErrorCodesWithRequestIdAndRetryAfter) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("DELETE", kGraph, 429, R"({"error":{"code":"TooManyRequests"}})",
                    {{"retry-after", "7"}, {"request-id", "req-429"}});
  auto throttled = client->delete_import_record("a");
  ASSERT_FALSE(throttled.ok());
  EXPECT_EQ(throttled.error().code, kErrThrottled);
  EXPECT_EQ(throttled.error().retry_after, std::chrono::milliseconds(7000));
  EXPECT_EQ(throttled.error().request_id, "req-429");

  transport_.expect("DELETE", kGraph, 429, "{}");
  auto bare = client->delete_import_record("a");
  EXPECT_EQ(bare.error().code, kErrThrottled);
  EXPECT_FALSE(bare.error().retry_after.has_value());

  transport_.expect("DELETE", kGraph, 503, "{}");
  EXPECT_EQ(client->delete_import_record("a").error().code, kErrTransient);
  transport_.expect("DELETE", kGraph, 400, R"({"error":{"code":"StorageError","message":"x"}})");
  EXPECT_EQ(client->delete_import_record("a").error().code, kErrTransient);
  transport_.expect("DELETE", kGraph, 403, "{}");
  auto forbidden = client->delete_import_record("a");
  EXPECT_EQ(forbidden.error().code, kErrAuth);
  EXPECT_NE(forbidden.error().message.find("DeviceManagementServiceConfig.ReadWrite.All"),
            std::string::npos);
  transport_.expect(
      "POST", kGraph, 400,
      R"({"error":{"code":"BadRequest","message":"Cannot convert the literal 'x' to the expected type 'Edm.Binary'."}})",
      {{"request-id", "req-400"}});
  ImportItem item{"S1", "", "x", "", ""};
  auto rejected = client->import_devices(std::span<const ImportItem>(&item, 1));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, kErrRejected);
  EXPECT_NE(rejected.error().message.find("Edm.Binary"), std::string::npos);
  EXPECT_EQ(rejected.error().request_id, "req-400");

  transport_.expect_failure("DELETE", kGraph, kErrNetwork);
  EXPECT_EQ(client->delete_import_record("a").error().code, kErrNetwork);
}

TEST_F(GraphClientTest, SecretNeverAppearsInErrors) {
  auto client = make();
  transport_.expect(
      "POST", "https://login.example/", 401,
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})");
  auto refused = client->delete_import_record("a");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kErrAuth);
  EXPECT_NE(refused.error().message.find("AADSTS7000215"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos);
}

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

TEST_F(GraphClientTest, FindAutopilotDeviceKeepsTheExactSerialOnly) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("GET", kGraph, 200,
                    Json{{"value",
                          {{{"id", "a1"}, {"serialNumber", "S10"}},
                           {{"id", "a2"}, {"serialNumber", "s1"}, {"groupTag", "T"}}}}}
                        .dump());
  auto device = client->find_autopilot_device("S1");
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE(device->has_value());
  EXPECT_EQ((*device)->id, "a2");
  EXPECT_EQ((*device)->group_tag, "T");
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
TEST_F(GraphClientTest, AnUnreadableImportAnswerLeavesTheDevicesInDoubt) {
  auto client = make();
  ImportItem item{"S1", "", "T0Ee", "", ""};
  const std::string url =
      std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities/import";
  transport_.expect_token();
  for (const std::string& body :
       {std::string(R"({"value":[{"id":"r1","serialNu)"), std::string("<html>gateway</html>"),
        std::string(""), std::string(R"({"error":"none"})")}) {
    transport_.expect("POST", url, 200, body, {{"request-id", "req-cut"}});
    auto records = client->import_devices(std::span<const ImportItem>(&item, 1));
    ASSERT_FALSE(records.ok()) << body;
    EXPECT_EQ(records.error().code, kErrInDoubt) << body;
    EXPECT_EQ(records.error().request_id, "req-cut");
    EXPECT_EQ(records.error().http_status, 200);
    EXPECT_NE(records.error().message.find("may have been imported"), std::string::npos);
  }
}

TEST_F(GraphClientTest, ImportRecordsByIdAndBySerialUseTheFormsPublicToolsUse) {
  auto client = make();
  const std::string base =
      std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities";
  transport_.expect_token();
  transport_.expect("GET", base + "/r1", 200,
                    Json{{"id", "r1"},
                         {"importId", "r1"},
                         {"serialNumber", "S1"},
                         {"state", {{"deviceImportStatus", "unknown"}}}}
                        .dump(),
                    {{"request-id", "req-get"}});
  auto record = client->import_record("r1");
  ASSERT_TRUE(record.ok()) << record.error().message;
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ((*record)->status, ImportStatus::kUnknown);
  EXPECT_EQ((*record)->request_id, "req-get");
  transport_.expect("GET", base + "/gone", 404,
                    R"({"error":{"code":"ResourceNotFound","message":"no such record"}})");
  auto gone = client->import_record("gone");
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_FALSE(gone->has_value());

  // contains(serialNumber,...) as WindowsAutopilotIntune does; only the exact serial is kept.
  transport_.expect(
      "GET", base + "?$filter=contains%28serialNumber%2C%27O%27%27K-1%27%29", 200,
      Json{{"value",
            {{{"id", "a"}, {"serialNumber", "O'K-10"}}, {{"id", "b"}, {"serialNumber", "o'k-1"}}}}}
          .dump());
  auto mine = client->import_records_for_serial("O'K-1");
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].id, "b");
  // A service that refuses the filter: a 400 the engine can tell from a busy moment.
  transport_.expect("GET", base + "?$filter=", 400,
                    R"({"error":{"code":"BadRequest","message":"An error has occurred"}})");
  auto refused = client->import_records_for_serial("S2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().http_status, 400);
}

// Intune wraps a second JSON document in error.message: its Message is shown, not the escape.
TEST_F(GraphClientTest, IntunesJsonInErrorMessageIsShownAsItsMessageText) {
  auto client = make();
  const std::string intune =
      R"({"error":{"code":"InternalServerError","message":"{\r\n  \"_version\": 3,\r\n  )"
      R"(\"Message\": \"An internal server error has occurred - Operation ID (for customer )"
      R"(support): 00000000-0000-0000-0000-000000000000 - Activity ID: 7d1e - Url: )"
      R"(https://fef.msub01.manage.microsoft.com/x\",\r\n  \"CustomApiErrorPhrase\": \"\",)"
      R"(\r\n  \"RetryAfter\": null\r\n}","innerError":{"request-id":"req-1"}}})";
  transport_.expect_token();
  transport_.expect("GET", kGraph, 500, intune, {{"request-id", "req-1"}});
  auto failed = client->list_autopilot_devices();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().http_status, 500);
  EXPECT_NE(failed.error().message.find(
                "HTTP 500: InternalServerError: An internal server error has occurred - "
                "Operation ID (for customer support)"),
            std::string::npos)
      << failed.error().message;
  EXPECT_EQ(failed.error().message.find("_version"), std::string::npos) << failed.error().message;
  EXPECT_EQ(failed.error().message.find("\\r\\n"), std::string::npos);
  EXPECT_EQ(graph_error_text(R"({"error":{"code":"X","message":"{not json"}})"), "X: {not json");
}

TEST_F(GraphClientTest, AFailedUserAssignmentSaysWhatToDo) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "POST", std::string(kGraph) + "/deviceManagement/windowsAutopilotDeviceIdentities/ap-1/", 400,
      R"({"error":{"code":"BadRequest","message":"{\"_version\": 3, \"Message\": \"An error has occurred - Operation ID (for customer support): 0 - Activity ID: 1\"}"}})",
      {{"request-id", "req-assign"}});
  auto refused = client->assign_user("ap-1", "ada@contoso.com");
  ASSERT_FALSE(refused.ok());
  const std::string& message = refused.error().message;
  EXPECT_EQ(refused.error().request_id, "req-assign");
  EXPECT_NE(message.find("Intune did not assign ada@contoso.com"), std::string::npos) << message;
  EXPECT_NE(message.find("Intune admin center"), std::string::npos) << message;
  EXPECT_NE(message.find("Assign user"), std::string::npos) << message;
  EXPECT_EQ(message.find("_version"), std::string::npos) << message;
  EXPECT_EQ(message.find('{'), std::string::npos) << "no raw JSON: " << message;
}

TEST_F(GraphClientTest, AllZeroManagedDeviceIdMeansNotEnrolled) {
  auto client = make();
  transport_.expect_token();
  transport_.expect(
      "GET", std::string(kGraph) + "/deviceManagement/windowsAutopilotDeviceIdentities", 200,
      Json{{"value",
            {{{"id", "a1"},
              {"serialNumber", "S1"},
              {"enrollmentState", "notContacted"},
              {"managedDeviceId", "00000000-0000-0000-0000-000000000000"},
              {"azureActiveDirectoryDeviceId", "6e1c0a2b-1111-4222-8333-944455556666"}},
             {{"id", "a2"},
              {"serialNumber", "S2"},
              {"managedDeviceId", "m-2"},
              {"azureActiveDirectoryDeviceId", "00000000-0000-0000-0000-000000000000"}}}}}
          .dump());
  auto devices = client->list_autopilot_devices();
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].managed_device_id, "");
  EXPECT_EQ((*devices)[0].azure_ad_device_id, "6e1c0a2b-1111-4222-8333-944455556666")
      << "registration creates the Entra ID device";
  EXPECT_EQ((*devices)[1].managed_device_id, "m-2");
  EXPECT_EQ((*devices)[1].azure_ad_device_id, "");
  EXPECT_EQ(transport_.sent[1].url.find('?'), std::string::npos) << "no $select, no $top";
}

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
