// The token endpoint and the bearer-token check on Graph routes, driven without sockets.
#include "sim_fixture.h"

namespace hangar::cloudsim::test {
namespace {

class AuthTest : public SimTest {};

TEST_F(AuthTest, IssuesABearerTokenForValidClientCredentials) {
  auto response = request_token(token_form());
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = json::parse(response.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  const auto token = body["access_token"].get<std::string>();
  EXPECT_EQ(token.rfind("eyJ", 0), 0u) << "JWT-shaped, like the real service";
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(sim().stats()["tokens_issued"], 1);
}

TEST_F(AuthTest, RefusesEachBadCredentialWithAnAadError) {
  struct Case {
    std::string tenant;
    std::string form;
    int status;
    std::string error;
  };
  const std::string good = token_form();
  const std::vector<Case> cases{
      {"00000000-0000-0000-0000-000000000000", good, 400, "invalid_request"},  // unknown tenant
      {kTenant, token_form("wrong-secret"), 401, "invalid_client"},
      {kTenant,
       std::string("grant_type=client_credentials&client_id=") + kClientId +
           "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
       401, "invalid_client"},  // no secret
      {kTenant,
       "grant_type=client_credentials&client_id=nobody&client_secret=x&scope=https%3A%2F%2Fgraph."
       "microsoft.com%2F.default",
       400, "unauthorized_client"},
      {kTenant,
       std::string("grant_type=client_credentials&client_id=") + kClientId +
           "&client_secret=" + kSecret + "&scope=https%3A%2F%2Fgraph.microsoft.com%2FUser.Read",
       400, "invalid_scope"},
      {kTenant,
       std::string("grant_type=password&client_id=") + kClientId + "&client_secret=" + kSecret +
           "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
       400, "unsupported_grant_type"},
      {kTenant, "client_id=x", 400, "invalid_request"},  // no grant_type
  };
  for (const auto& c : cases) {
    auto response = send("POST", "/" + c.tenant + "/oauth2/v2.0/token", c.form);
    EXPECT_EQ(response.status, c.status) << c.form;
    auto body = json::parse(response.body);
    EXPECT_EQ(body["error"], c.error) << c.form;
    EXPECT_NE(body["error_description"].get<std::string>().find("AADSTS"), std::string::npos);
  }
  EXPECT_EQ(send("GET", std::string("/") + kTenant + "/oauth2/v2.0/token").status, 405);
  EXPECT_EQ(sim().stats()["tokens_issued"], 0);
}

TEST_F(AuthTest, GraphRefusesMissingMalformedAndUnknownTokens) {
  const std::string target = std::string(kImported);
  for (const auto& [header, message] :
       std::vector<std::pair<std::string, std::string>>{{"", "Access token is empty."},
                                                        {"Basic abc", "not 'Bearer <JWT>'"},
                                                        {"Bearer not-a-jwt", "not 'Bearer <JWT>'"},
                                                        {"Bearer a.b.c", "Invalid signature"}}) {
    std::map<std::string, std::string> headers;
    if (!header.empty()) headers["authorization"] = header;
    auto response = send("GET", target, "", headers);
    EXPECT_EQ(response.status, 401) << header;
    auto body = json::parse(response.body);
    EXPECT_EQ(body["error"]["code"], "InvalidAuthenticationToken");
    EXPECT_NE(body["error"]["message"].get<std::string>().find(message), std::string::npos)
        << body.dump();
    EXPECT_NE(response.header("WWW-Authenticate"), "");
  }
}

TEST_F(AuthTest, ATokenExpiresAfterItsConfiguredLifetime) {
  Scenario scenario = quiet_scenario();
  scenario.auth.token_lifetime_seconds = 30;  // short, to exercise the client's refresh
  start(scenario);
  auto first = request_token(token_form());
  EXPECT_EQ(json::parse(first.body)["expires_in"], 30);
  EXPECT_EQ(graph("GET", kImported).status, 200);
  advance(29s);
  EXPECT_EQ(graph("GET", kImported).status, 200);
  advance(1s);
  auto expired = graph("GET", kImported);
  ASSERT_EQ(expired.status, 401);
  EXPECT_NE(json::parse(expired.body)["error"]["message"].get<std::string>().find("expired"),
            std::string::npos);
  // A fresh token works again: what a client does after a 401.
  token_.clear();
  EXPECT_EQ(graph("GET", kImported).status, 200);
}

TEST_F(AuthTest, AdvancingSimulatedTimeExpiresTokensToo) {
  EXPECT_EQ(graph("GET", kImported).status, 200);
  sim().advance(std::chrono::hours(1));
  EXPECT_EQ(graph("GET", kImported).status, 401);
}

TEST_F(AuthTest, EveryResponseCarriesRequestIds) {
  auto with_id = send("GET", kImported, "", {{"client-request-id", "my-correlation-id"}});
  EXPECT_EQ(with_id.status, 401);
  EXPECT_EQ(with_id.header("client-request-id"), "my-correlation-id");
  const auto request_id = with_id.header("request-id");
  EXPECT_EQ(request_id.size(), 36u);
  auto body = json::parse(with_id.body);
  EXPECT_EQ(body["error"]["innerError"]["request-id"], request_id);
  EXPECT_EQ(body["error"]["innerError"]["client-request-id"], "my-correlation-id");

  // Without one, Graph uses its own request id for both; each response gets a new one.
  auto a = graph("GET", kImported);
  auto b = graph("GET", kImported);
  EXPECT_EQ(a.header("client-request-id"), a.header("request-id"));
  EXPECT_NE(a.header("request-id"), b.header("request-id"));
  for (const auto& response :
       {request_token(token_form()), send("GET", "/_sim/stats"), send("GET", "/nowhere")}) {
    EXPECT_NE(response.header("request-id"), "");
    EXPECT_NE(response.header("client-request-id"), "");
  }
}

}  // namespace
}  // namespace hangar::cloudsim::test
