// GraphClient against a strict scripted transport and a fake clock: the token cache and its
// renewal, every HTTP answer's mapping to an error code, paging, the URL policy, and the request
// shapes Graph expects.
#include <gtest/gtest.h>

#include "hangar/cloud/call_deadline.h"
#include "scripted_graph.h"

namespace hangar::cloud {
namespace {

using graphtest::GraphClientTest;
using graphtest::Json;
using graphtest::kGraph;
using graphtest::ScriptedTransport;
using namespace std::chrono_literals;

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

// An import whose token could not be had was never sent: the token endpoint's own failure (even
// one that may have reached it) leaves no import in doubt. A failure of the import's own request
// may have reached the cloud and says so.
TEST_F(GraphClientTest, ACallWithoutATokenIsNeverSentOneThatFailedItselfMayHaveArrived) {
  auto client = make();
  const std::string import_url =
      std::string(kGraph) + "/deviceManagement/importedWindowsAutopilotDeviceIdentities/import";
  ImportItem item{"S1", "", "T0Ee", "", ""};
  const std::span<const ImportItem> items(&item, 1);
  for (const char* code : {kErrNetwork, kErrTimeout}) {
    transport_.expect_failure("POST", "https://login.example/tenant-1/oauth2/v2.0/token", code);
    auto failed = client->import_devices(items);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, kErrNetwork) << code;
    EXPECT_EQ(failure_of(failed.error()), Failure::kNotSent) << code;
    EXPECT_TRUE(never_sent(failed.error())) << code;
    EXPECT_NE(failed.error().message.find("no access token for POST " + import_url),
              std::string::npos)
        << failed.error().message;
  }
  EXPECT_EQ(transport_.sent.size(), 2u) << "only the token requests left";

  // A refused secret keeps its cause: the admin must act, nothing to look up either way.
  transport_.expect("POST", "https://login.example/tenant-1/oauth2/v2.0/token", 401,
                    R"({"error":"invalid_client","error_description":"AADSTS7000215"})");
  auto refused = client->import_devices(items);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kErrAuth);
  EXPECT_FALSE(never_sent(refused.error()));

  // The import's own request dropped: it may have arrived.
  transport_.expect_token();
  transport_.expect_failure("POST", import_url, kErrNetwork);
  auto dropped = client->import_devices(items);
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.error().code, kErrNetwork);
  EXPECT_FALSE(never_sent(dropped.error()));

  // Answered 401, and the renewal's token request failed: the retry was never sent, and the
  // first attempt was refused, so nothing was done.
  transport_.expect("POST", import_url, 401, R"({"error":{"code":"InvalidAuthenticationToken"}})");
  transport_.expect_failure("POST", "https://login.example/tenant-1/oauth2/v2.0/token",
                            kErrNetwork);
  auto renewal = client->import_devices(items);
  ASSERT_FALSE(renewal.ok());
  EXPECT_TRUE(never_sent(renewal.error()));
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
  EXPECT_EQ(parse_graph_error(R"({"error":{"code":"X","message":"{not json"}})").text,
            "X: {not json");
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

// Black-box round, finding 1: an operator command's requests end within what is left of its
// caller's wait (the token's too), not the client's 30 s; with no time left nothing is sent, and
// the error says so (never sent: no write of it can be in doubt).
TEST_F(GraphClientTest, AnOperatorsWaitBoundsEveryRequestAndNothingIsSentPastIt) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("DELETE", std::string(kGraph), 204, "");
  {
    const CallDeadline bound(std::chrono::steady_clock::now() + 2s);
    ASSERT_TRUE(client->delete_autopilot_device("ap-1").ok());
  }
  ASSERT_EQ(transport_.timeouts.size(), 2u);
  for (const auto timeout : transport_.timeouts) {
    EXPECT_LE(timeout, 2s);
    EXPECT_GT(timeout, 1s);
  }
  {
    const CallDeadline over(std::chrono::steady_clock::now() - 1ms);
    auto late = client->delete_autopilot_device("ap-2");
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, kErrNetwork);
    EXPECT_TRUE(never_sent(late.error())) << late.error().message;
    EXPECT_NE(late.error().message.find("was not sent"), std::string::npos) << late.error().message;
  }
  EXPECT_EQ(transport_.sent.size(), 2u) << "nothing sent once the wait was over";
  transport_.expect("DELETE", std::string(kGraph), 204, "");
  ASSERT_TRUE(client->delete_autopilot_device("ap-3").ok());
  EXPECT_EQ(transport_.timeouts.back(), 30s) << "no deadline: the configured timeout";
}

}  // namespace
}  // namespace hangar::cloud
