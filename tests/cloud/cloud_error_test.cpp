// The cloud's failure vocabulary: every cause classified from answers shaped like the real
// service's (status + body, GRAPH-FACTS.md), the fields that travel on the error, and each former
// search of message text (404 users, members already there or gone, Edm.Binary) behaving as before.
#include <gtest/gtest.h>

#include "scripted_graph.h"

namespace hangar::cloud {
namespace {

using graphtest::GraphClientTest;
using graphtest::Json;
using graphtest::kGraph;

constexpr const char* kIntune429 =
    R"({"error":{"code":"TooManyRequests","message":"{\r\n  \"_version\": 3,\r\n  \"Message\": \"Too many requests - Operation ID (for customer support): 0 - Activity ID: a - Url: https://x\"\r\n}","innerError":{"date":"2024-07-01T10:00:00","request-id":"body-req","client-request-id":"body-client"}}})";
constexpr const char* kEdmBinary =
    R"({"error":{"code":"BadRequest","message":"Cannot convert the literal 'AAAA' to the expected type 'Edm.Binary'."}})";
constexpr const char* kAlreadyMember =
    R"({"error":{"code":"Request_BadRequest","message":"One or more added object references already exist for the following modified properties: 'members'.","innerError":{"request-id":"r"}}})";
constexpr const char* kUserMissing =
    R"({"error":{"code":"Request_ResourceNotFound","message":"Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present."}})";
constexpr const char* kExpiredToken =
    R"({"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}})";

TEST(CloudFailure, EachCauseFromARealShapedAnswer) {
  EXPECT_EQ(classify_answer(429, kIntune429), Failure::kThrottled);
  EXPECT_EQ(classify_answer(429, ""), Failure::kThrottled);
  EXPECT_EQ(classify_answer(503, "<html>Service Unavailable</html>"), Failure::kTransient);
  EXPECT_EQ(classify_answer(500, R"({"error":{"code":"InternalServerError"}})"),
            Failure::kTransient);
  EXPECT_EQ(classify_answer(401, kExpiredToken), Failure::kAuth);
  EXPECT_EQ(classify_answer(403, R"({"error":{"code":"Authorization_RequestDenied"}})"),
            Failure::kAuth);
  EXPECT_EQ(classify_answer(404, kUserMissing), Failure::kNotFound);
  EXPECT_EQ(classify_answer(400, kEdmBinary), Failure::kInvalidHash);
  EXPECT_EQ(
      classify_answer(
          400, R"({"error":{"code":"BadRequest","message":"hardwareIdentifier is invalid"}})"),
      Failure::kInvalidHash);
  EXPECT_EQ(classify_answer(400, kAlreadyMember), Failure::kAlreadyExists);
  // "already exist" is a duplicate member only on a 400; a 409 saying so is just refused.
  EXPECT_EQ(classify_answer(409, kAlreadyMember), Failure::kRejected);
  EXPECT_EQ(classify_answer(400, R"({"error":{"code":"StorageError","message":"x"}})"),
            Failure::kTransient);
  EXPECT_EQ(classify_answer(400, R"({"error":{"code":"BadRequest","message":"Invalid filter"}})"),
            Failure::kRejected);
  EXPECT_EQ(classify_answer(405, "not json at all"), Failure::kRejected);
}

TEST(CloudFailure, ImportRecordErrorsByCodeOrName) {
  EXPECT_EQ(classify_import_error(806, ""), Failure::kAlreadyRegistered);
  EXPECT_EQ(classify_import_error(std::nullopt, "ZtdDeviceAlreadyAssigned"),
            Failure::kAlreadyRegistered);
  EXPECT_EQ(classify_import_error(808, "ZtdDeviceAssignedToOtherTenant"), Failure::kOtherTenant);
  EXPECT_EQ(classify_import_error(std::nullopt, "ZtdDeviceAssignedToOtherTenant"),
            Failure::kOtherTenant);
  EXPECT_EQ(classify_import_error(802, ""), Failure::kInvalidHash);
  EXPECT_EQ(classify_import_error(std::nullopt, "ZtdDeviceDuplicated"), Failure::kDuplicated);
  EXPECT_EQ(classify_import_error(std::nullopt, "DeviceNotFound"), Failure::kDeviceNotFound);
  EXPECT_EQ(classify_import_error(std::nullopt, "StorageError"), Failure::kTransient);
  EXPECT_EQ(classify_import_error(801, "InvalidZtdRequestBody"), Failure::kImportFailed);
  EXPECT_EQ(interpret_import_error(808, "").failure, Failure::kOtherTenant);
}

TEST(CloudFailure, OneTableOfNamesAndTheCodeEachTravelsUnder) {
  for (int i = 0; i <= static_cast<int>(Failure::kNotSent); ++i) {
    const auto failure = static_cast<Failure>(i);
    const auto name = failure_name(failure);
    EXPECT_FALSE(name.empty()) << i;
    EXPECT_EQ(parse_failure(name), failure) << name;
  }
  EXPECT_EQ(failure_name(Failure::kOtherTenant), "other_tenant");
  EXPECT_EQ(failure_name(Failure::kAlreadyRegistered), "already_registered");
  EXPECT_EQ(parse_failure("no_such_cause"), std::nullopt);
  EXPECT_STREQ(failure_code(Failure::kThrottled), kErrThrottled);
  EXPECT_STREQ(failure_code(Failure::kNotFound), kErrRejected);
  EXPECT_STREQ(failure_code(Failure::kInvalidHash), kErrRejected);
  EXPECT_STREQ(failure_code(Failure::kInDoubt), kErrInDoubt);
  // Never sent travels as a network failure: everything that works offline keeps doing so.
  EXPECT_STREQ(failure_code(Failure::kNotSent), kErrNetwork);
  EXPECT_EQ(failure_name(Failure::kNotSent), "not_sent");
  // Errors made before any answer are read from their code.
  EXPECT_EQ(failure_of(core::make_error(kErrNetwork, "reset")), Failure::kNetwork);
  EXPECT_EQ(failure_of(core::make_error(kErrTimeout, "slow")), Failure::kTimeout);
  EXPECT_EQ(failure_of(core::make_error("store_busy", "x")), Failure::kNone);
  core::Error error = core::make_error("x", "y");
  set_failure(error, Failure::kAlreadyExists);
  EXPECT_EQ(error.code, kErrRejected);
  EXPECT_EQ(failure_of(error), Failure::kAlreadyExists);
}

// A network failure may have reached the cloud unless its cause says it never left.
TEST(CloudFailure, UnreachableAndNeverSentAreReadFromTheCauseNotTheText) {
  core::Error unsent = core::make_error("x", "refused, the request was not sent");
  set_failure(unsent, Failure::kNotSent);
  EXPECT_TRUE(unreachable(unsent));
  EXPECT_TRUE(never_sent(unsent));
  const core::Error dropped = core::make_error(kErrNetwork, "the request was not sent");
  EXPECT_TRUE(unreachable(dropped));
  EXPECT_FALSE(never_sent(dropped)) << "the text decides nothing";
  EXPECT_TRUE(unreachable(core::make_error(kErrTimeout, "slow")));
  EXPECT_FALSE(never_sent(core::make_error(kErrTimeout, "slow")));
  EXPECT_FALSE(unreachable(core::make_error(kErrInDoubt, "cut off")));
  EXPECT_FALSE(unreachable(core::make_error(kErrTransient, "500")));
  // A code overwritten after the cause was set no longer claims it.
  core::Error later = unsent;
  later.code = kErrInDoubt;
  EXPECT_FALSE(never_sent(later));
}

TEST(CloudFailure, GraphErrorBodiesReadOnce) {
  const GraphErrorBody intune = parse_graph_error(kIntune429);
  EXPECT_EQ(intune.code, "TooManyRequests");
  EXPECT_EQ(intune.request_id, "body-req");
  EXPECT_EQ(intune.client_request_id, "body-client");
  EXPECT_EQ(intune.text.rfind("TooManyRequests: Too many requests - Operation ID", 0), 0u)
      << intune.text;
  const GraphErrorBody oauth = parse_graph_error(
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})");
  EXPECT_EQ(oauth.code, "invalid_client");
  EXPECT_EQ(oauth.text, "invalid_client: AADSTS7000215: Invalid client secret provided.");
  const GraphErrorBody html = parse_graph_error("<html>" + std::string(300, 'x'));
  EXPECT_TRUE(html.code.empty());
  EXPECT_EQ(html.text.size(), 200u);
}

TEST_F(GraphClientTest, TheAnswersStatusCodeAndIdsTravelOnTheError) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("DELETE", kGraph, 429, kIntune429,
                    {{"retry-after", "12"}, {"request-id", "hdr-req"}});
  auto throttled = client->delete_import_record("a");
  ASSERT_FALSE(throttled.ok());
  EXPECT_EQ(throttled.error().code, kErrThrottled);
  EXPECT_EQ(failure_of(throttled.error()), Failure::kThrottled);
  EXPECT_EQ(throttled.error().http_status, 429);
  EXPECT_EQ(throttled.error().remote_code, "TooManyRequests");
  EXPECT_EQ(throttled.error().request_id, "hdr-req");             // the header wins
  EXPECT_EQ(throttled.error().client_request_id, "body-client");  // else the body's innerError
  EXPECT_EQ(throttled.error().retry_after, std::chrono::milliseconds(12'000));

  transport_.expect("POST", kGraph, 400, kEdmBinary, {{"client-request-id", "hdr-client"}});
  ImportItem item{"S1", "", "AAAA", "", ""};
  auto hash = client->import_devices(std::span<const ImportItem>(&item, 1));
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().code, kErrRejected);  // the code the engine retries on is unchanged
  EXPECT_EQ(failure_of(hash.error()), Failure::kInvalidHash);
  EXPECT_EQ(hash.error().remote_code, "BadRequest");
  EXPECT_EQ(hash.error().client_request_id, "hdr-client");
}

// Formerly `message.find("HTTP 404")`: a user that does not exist is no user, not an error.
TEST_F(GraphClientTest, AMissingUserIsNoUser) {
  auto client = make();
  transport_.expect_token();
  transport_.expect("GET", std::string(kGraph) + "/users/", 404, kUserMissing);
  auto user = client->find_user("nobody@contoso.com");
  ASSERT_TRUE(user.ok()) << user.error().message;
  EXPECT_FALSE(user->has_value());
  transport_.expect("GET", std::string(kGraph) + "/users/", 400,
                    R"({"error":{"code":"BadRequest","message":"HTTP 404 in the text"}})");
  auto refused = client->find_user("bad");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().http_status, 400);
}

// Formerly `message.find("HTTP 400") && message.find("already exist")` and `find("HTTP 404")`.
TEST_F(GraphClientTest, AMemberAlreadyThereOrAlreadyGoneIsNotAnError) {
  auto client = make();
  const std::string v1 = "https://graph.example/v1.0/groups/";
  transport_.expect_token();
  transport_.expect("POST", v1, 400, kAlreadyMember);
  auto added = client->add_group_member("g", "o");
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_FALSE(*added);
  transport_.expect("POST", v1, 204, "");
  EXPECT_TRUE(*client->add_group_member("g", "o"));
  transport_.expect("POST", v1, 400,
                    R"({"error":{"code":"Request_BadRequest","message":"dynamic membership"}})");
  auto dynamic = client->add_group_member("g", "o");
  ASSERT_FALSE(dynamic.ok());
  EXPECT_EQ(failure_of(dynamic.error()), Failure::kRejected);

  transport_.expect("DELETE", v1, 404, R"({"error":{"code":"Request_ResourceNotFound"}})");
  auto removed = client->remove_group_member("g", "o");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_FALSE(*removed);
  transport_.expect("DELETE", v1, 503, "");
  EXPECT_FALSE(client->remove_group_member("g", "o").ok());
}

}  // namespace
}  // namespace hangar::cloud
