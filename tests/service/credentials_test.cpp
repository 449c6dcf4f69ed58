// CredentialManager against a fake cloud: where credentials come from, set/verify/clear, the
// switch of the Graph client without a restart, damaged files, and that no reply carries the
// secret.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "credentials.h"
#include "hangar/core/clock.h"
#include "test_support.h"

namespace hangar::service {
namespace {

// One call through the client the manager hands out now (what the engine's passes do).
core::Result<std::vector<cloud::AutopilotDevice>> list_devices(const CredentialManager& manager) {
  auto client = manager.client();
  if (!client) return client.error();
  return static_cast<cloud::ActivityCloud&>(**client).list_autopilot_devices();
}

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr const char* kClient = "0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a";
constexpr const char* kSecret = "Zq8~new.Secret_value-0123456789abcdefghij";
constexpr const char* kCloud = "http://127.0.0.1:9";

// A cloud that knows one valid (tenant, client, secret) and answers Graph lists with nothing.
class FakeCloud final : public cloud::HttpTransport {
 public:
  core::Result<cloud::HttpResponse> send(const cloud::HttpRequest& request,
                                         std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    requests.push_back(request);
    if (unreachable) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (request.url.find("/oauth2/v2.0/token") != std::string::npos) {
      ++token_requests;
      last_token_body = request.body;
      const bool ok = request.url.find("/" + tenant + "/") != std::string::npos &&
                      request.body.find("client_id=" + client) != std::string::npos &&
                      request.body.find("client_secret=" + secret_form) != std::string::npos;
      if (!ok) {
        return cloud::HttpResponse{
            401,
            {},
            R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})"};
      }
      return cloud::HttpResponse{
          200,
          {},
          R"({"access_token":"eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.c2ln","expires_in":3600})"};
    }
    last_authorization = request.headers.count("Authorization")
                             ? request.headers.at("Authorization")
                             : std::string();
    return cloud::HttpResponse{200, {}, R"({"value":[]})"};
  }

  std::mutex mutex_;
  std::string tenant = kTenant;
  std::string client = kClient;
  std::string secret_form = "Zq8~new.Secret_value-0123456789abcdefghij";  // form-encoded
  bool unreachable = false;
  int token_requests = 0;
  std::string last_token_body;
  std::string last_authorization;
  std::vector<cloud::HttpRequest> requests;
};

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialSettings settings() {
    CredentialSettings s;
    s.data_dir = dir_.path();
    s.config_file = dir_.path() / "hangar.json";
    s.cloud_url = kCloud;
    return s;
  }
  std::unique_ptr<CredentialManager> open(CredentialSettings s) {
    return std::make_unique<CredentialManager>(std::move(s), cloud_, clock_);
  }
  NewCredentials fresh(bool verify = true) {
    NewCredentials n;
    n.tenant_id = kTenant;
    n.client_id = kClient;
    n.client_secret = kSecret;
    n.verify = verify;
    n.by = "uid 0 (root)";
    return n;
  }
  static void expect_no_secret(const Json& j) {
    const std::string text = j.dump();
    EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
    EXPECT_EQ(text.find("eyJ"), std::string::npos) << text;
  }

  test::TempDir dir_;
  FakeCloud cloud_;
  core::FakeClock clock_;
};

TEST_F(CredentialsTest, NoTenantMeansTheSimulatedCloud) {
  auto manager = open(settings());
  const Json d = manager->describe();
  EXPECT_EQ(d["mode"], "simulated");
  EXPECT_EQ(d["tenant_id"], kSimTenantId);
  EXPECT_EQ(d["graph_url"], std::string(kCloud) + "/beta");
  EXPECT_EQ(d["secret"]["source"], "simulated");
  EXPECT_FALSE(d["secret"]["stored"].get<bool>());
  expect_no_secret(d);
  EXPECT_TRUE(manager->check_urls().ok());
}

TEST_F(CredentialsTest, ConfigTenantWithoutSecretStartsNotConfiguredAndSaysWhy) {
  auto s = settings();
  s.config_tenant_id = kTenant;
  s.config_client_id = kClient;
  auto manager = open(s);
  const Json d = manager->describe();
  EXPECT_EQ(d["mode"], "not_configured");
  EXPECT_EQ(d["source"], "config_file");
  EXPECT_NE(d["problem"].get<std::string>().find("set-credentials"), std::string::npos);
  auto call = list_devices(*manager);
  ASSERT_FALSE(call.ok());
  EXPECT_EQ(call.error().code, cloud::kErrNotConfigured);
  EXPECT_EQ(cloud_.requests.size(), 0u) << "nothing is sent without credentials";
}

TEST_F(CredentialsTest, SetVerifiesStoresAndSwitchesTheClientWithoutARestart) {
  auto manager = open(settings());
  auto reply = manager->set(fresh());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_TRUE((*reply)["verified"].get<bool>());
  EXPECT_EQ((*reply)["mode"], "tenant");
  EXPECT_EQ((*reply)["tenant_id"], kTenant);
  EXPECT_EQ((*reply)["client_id"], kClient);
  EXPECT_EQ((*reply)["source"], "set-credentials");
  EXPECT_EQ((*reply)["secret"]["source"], "store");
  EXPECT_EQ((*reply)["set_by"], "uid 0 (root)");
  expect_no_secret(*reply);
  EXPECT_EQ(cloud_.token_requests, 1) << "one verification";

  // The engine's next call asks for a token with the new credentials.
  ASSERT_TRUE(list_devices(*manager).ok());
  EXPECT_EQ(cloud_.token_requests, 2);
  EXPECT_NE(cloud_.last_token_body.find("client_secret=Zq8~new.Secret_value"), std::string::npos);
  EXPECT_EQ(cloud_.last_authorization.rfind("Bearer eyJ", 0), 0u);

  // Stored: a new manager (a restart) reads the same credentials back.
  const Json ids = Json::parse(std::ifstream(dir_.path() / "credentials.json"));
  EXPECT_EQ(ids["tenant_id"], kTenant);
  EXPECT_EQ(ids.dump().find(kSecret), std::string::npos) << "the secret is not in the ids file";
  auto restarted = open(settings());
  EXPECT_EQ(restarted->describe()["mode"], "tenant");
  EXPECT_EQ(restarted->summary().tenant_id, kTenant);
  ASSERT_TRUE(list_devices(*restarted).ok());
}

// National clouds need their Graph host in the scope: derived from graph_url, or as configured.
TEST_F(CredentialsTest, TheTokenScopeFollowsTheGraphHostOrTheConfiguredScope) {
  auto s = settings();
  s.cloud_url.clear();
  s.authority_url = "https://login.microsoftonline.us";
  s.graph_url = "https://graph.microsoft.us/beta";
  auto manager = open(s);
  EXPECT_EQ(manager->describe()["scope"], "https://graph.microsoft.us/.default");
  ASSERT_TRUE(manager->set(fresh()).ok());
  EXPECT_NE(cloud_.last_token_body.find("scope=https%3A%2F%2Fgraph.microsoft.us%2F.default"),
            std::string::npos)
      << cloud_.last_token_body;
  s.graph_url = "https://dod-graph.microsoft.us/v1.0";
  s.graph_scope = "https://dod-graph.microsoft.us/.default";
  auto configured = open(s);
  EXPECT_EQ(configured->describe()["scope"], "https://dod-graph.microsoft.us/.default");
  ASSERT_TRUE(list_devices(*configured).ok());
  EXPECT_NE(cloud_.last_token_body.find("scope=https%3A%2F%2Fdod-graph.microsoft.us%2F.default"),
            std::string::npos)
      << cloud_.last_token_body;
}

TEST_F(CredentialsTest, RefusedCredentialsChangeNothing) {
  auto manager = open(settings());
  auto wrong = fresh();
  wrong.client_secret = "Wrong~secret.value_0123456789abcdefghijk";
  auto reply = manager->set(wrong);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, ipc::errc::kInvalidArgument);
  EXPECT_NE(reply.error().message.find("refused"), std::string::npos);
  EXPECT_NE(reply.error().message.find("AADSTS7000215"), std::string::npos);
  EXPECT_EQ(reply.error().message.find("Wrong~secret"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.path() / "credentials.json"));
  EXPECT_FALSE(SecretStore(dir_.path()).load()->has_value());
  EXPECT_EQ(manager->describe()["mode"], "simulated");
}

TEST_F(CredentialsTest, UnreachableCloudStoresAnywayAndSaysItCouldNotVerify) {
  auto manager = open(settings());
  cloud_.unreachable = true;
  auto reply = manager->set(fresh());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_FALSE((*reply)["verified"].get<bool>());
  EXPECT_NE((*reply)["verify_error"].get<std::string>().find("connection refused"),
            std::string::npos);
  EXPECT_EQ((*reply)["mode"], "tenant");

  auto unverified = open(settings())->set(fresh(false));
  ASSERT_TRUE(unverified.ok());
  EXPECT_FALSE((*unverified)["verified"].get<bool>());
  EXPECT_FALSE(unverified->contains("verify_error"));
}

TEST_F(CredentialsTest, InvalidInputIsRefusedWithoutEchoingTheSecret) {
  auto manager = open(settings());
  auto bad_tenant = fresh();
  bad_tenant.tenant_id = "contoso";
  EXPECT_EQ(manager->set(bad_tenant).error().code, ipc::errc::kInvalidArgument);
  auto bad_client = fresh();
  bad_client.client_id = "1234";
  EXPECT_NE(manager->set(bad_client).error().message.find("client id"), std::string::npos);
  auto empty = fresh();
  empty.client_secret = "";
  EXPECT_NE(manager->set(empty).error().message.find("empty"), std::string::npos);
  auto line_break = fresh();
  line_break.client_secret = std::string(kSecret) + "\n";
  auto refused = manager->set(line_break);
  EXPECT_NE(refused.error().message.find("control character"), std::string::npos);
  EXPECT_EQ(refused.error().message.find(kSecret), std::string::npos);
  EXPECT_EQ(cloud_.token_requests, 0);

  // Braces and upper case are accepted and stored in canonical form.
  auto braced = fresh(false);
  braced.tenant_id = "{72F988BF-86F1-41AF-91AB-2D7CD011DB47}";
  auto ok = manager->set(braced);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)["tenant_id"], kTenant);
}

TEST_F(CredentialsTest, EnvironmentSecretOverridesAndSetIsRefusedWhileItIsThere) {
  auto s = settings();
  s.config_tenant_id = kTenant;
  s.config_client_id = kClient;
  s.env_secret = kSecret;
  auto manager = open(s);
  Json d = manager->describe();
  EXPECT_EQ(d["mode"], "tenant");
  EXPECT_EQ(d["secret"]["source"], "environment");
  EXPECT_TRUE(d["secret"]["environment_override"].get<bool>());
  expect_no_secret(d);
  auto refused = manager->set(fresh());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ipc::errc::kConflict);
  EXPECT_NE(refused.error().message.find("HANGAR_CLIENT_SECRET"), std::string::npos);
}

TEST_F(CredentialsTest, ClearFallsBackToTheConfigFileOrTheSimulator) {
  auto manager = open(settings());
  ASSERT_TRUE(manager->set(fresh(false)).ok());
  auto cleared = manager->clear("uid 0 (root)");
  ASSERT_TRUE(cleared.ok());
  EXPECT_TRUE((*cleared)["cleared"].get<bool>());
  EXPECT_EQ((*cleared)["mode"], "simulated");
  EXPECT_FALSE(fs::exists(dir_.path() / "credentials.json"));
  EXPECT_FALSE(fs::exists(SecretStore(dir_.path()).path()));
  auto again = manager->clear("uid 0 (root)");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)["cleared"].get<bool>());
}

TEST_F(CredentialsTest, StoredIdsOverrideTheConfigFile) {
  auto s = settings();
  s.config_tenant_id = "11111111-2222-4333-8444-555555555555";
  s.config_client_id = "66666666-7777-4888-8999-aaaaaaaaaaaa";
  auto manager = open(s);
  ASSERT_TRUE(manager->set(fresh(false)).ok());
  EXPECT_EQ(manager->tenant_id(), kTenant);
  EXPECT_EQ(open(s)->describe()["source"], "set-credentials");
}

TEST_F(CredentialsTest, DamagedFilesLeaveTheCloudNotConfiguredWithTheReason) {
  {
    auto manager = open(settings());
    ASSERT_TRUE(manager->set(fresh(false)).ok());
  }
  std::ofstream(dir_.path() / "credentials.json", std::ios::trunc) << "{not json";
  auto damaged_ids = open(settings());
  Json d = damaged_ids->describe();
  EXPECT_EQ(d["mode"], "not_configured") << "never silently the simulator";
  EXPECT_NE(d["problem"].get<std::string>().find("credentials.json"), std::string::npos);
  EXPECT_FALSE(list_devices(*damaged_ids).ok());

  // Setting them again repairs it.
  ASSERT_TRUE(damaged_ids->set(fresh(false)).ok());
  EXPECT_EQ(damaged_ids->describe()["mode"], "tenant");

  std::ofstream(SecretStore(dir_.path()).path(), std::ios::binary | std::ios::trunc)
      << std::string("\x01\x02\x03", 3);
  auto damaged_secret = open(settings());
  d = damaged_secret->describe();
  EXPECT_EQ(d["mode"], "not_configured");
  EXPECT_TRUE(d["secret"].contains("error"));
  EXPECT_NE(d["problem"].get<std::string>().find("set-credentials"), std::string::npos);
}

#ifdef _WIN32
TEST_F(CredentialsTest, WindowsPlainTextSecretIsMovedIntoDpapiAndDeleted) {
  std::ofstream(dir_.path() / "client-secret", std::ios::binary) << kSecret << "\r\n";
  auto s = settings();
  s.config_tenant_id = kTenant;
  s.config_client_id = kClient;
  auto manager = open(s);
  EXPECT_FALSE(fs::exists(dir_.path() / "client-secret")) << "plain text deleted";
  EXPECT_TRUE(fs::exists(dir_.path() / "client-secret.dpapi"));
  Json d = manager->describe();
  EXPECT_EQ(d["mode"], "tenant");
  EXPECT_EQ(d["secret"]["source"], "store");
  ASSERT_TRUE(list_devices(*manager).ok());
}
#endif

}  // namespace
}  // namespace hangar::service
