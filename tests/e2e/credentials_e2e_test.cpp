// End-to-end credentials: the real hangar-cloudsim with a non-default tenant, app and secret, the
// real hangard at debug log level and the real hangar. Credentials set with `hangar config
// set-credentials` (secret on stdin) are verified, stored 0600, used without a restart for a
// whole registration to Ready for user, kept across a restart and removed again; and neither the
// service's log nor anything the CLI printed contains the secret or a bearer token.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>

#include "child_process.h"
#include "cloudsim_process.h"
#include "hangar/cloud/http.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kHangard = HANGAR_TEST_HANGARD;
const std::string kHangar = HANGAR_TEST_HANGAR;
const std::string kCloudsim = HANGAR_TEST_CLOUDSIM;
const std::string kDevicegen = HANGAR_TEST_DEVICEGEN;

// Not the simulator's defaults: only these are accepted, so a registration proves they are used.
const std::string kTenant = "4d3c2b1a-9f8e-4d7c-8b6a-5f4e3d2c1b0a";
const std::string kClient = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const std::string kSecret = "e2e~Fresh.Secret_4hY7-kP2qL9mN3vB8xZ1wR5tU";

class CredentialsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = unique_endpoint(dir_);
    data_dir_ = dir_.path() / "data";
  }

  void start_cloud() {
    const Json scenario{
        {"seed", 7},
        {"time_scale", 600},
        {"auth",
         {{"tenant_id", kTenant},
          {"apps", {{{"client_id", kClient}, {"client_secret", kSecret}}}},
          {"token_lifetime_seconds", 3600}}},
        {"registration",
         {{"delay_seconds", 30}, {"jitter_seconds", 10}, {"profile_delay_seconds", 30}}}};
    std::string why;
    auto url = start_cloudsim(kCloudsim, scenario, dir_.path(), cloud_, why);
    ASSERT_TRUE(url.has_value()) << "hangar-cloudsim did not start: " << why;
    url_ = *url;
  }

  void start_service() {
    service_ = std::make_unique<Process>(
        std::vector<std::string>{kHangard, "--data-dir", data_dir_.string(), "--endpoint",
                                 endpoint_, "--cloud-url", url_, "--poll-interval", "0.5",
                                 "--log-level", "debug"},
        dir_.path() / "hangard.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hangar({"ping"}).code == 0) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "hangard did not come up: " << read_file(dir_.path() / "hangard.out");
  }

  void stop_service() {
    service_->signal(SIGTERM);
    ASSERT_EQ(service_->wait(15s), std::optional<int>(0));
  }

  // Every CLI output is kept, to check afterwards that none of it carries a secret.
  RunResult hangar(std::vector<std::string> args,
                   const std::optional<std::string>& input = std::nullopt) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    RunResult result = run_command(args, dir_.path(), 60s, {}, input);
    cli_output_ += result.output;
    return result;
  }

  Json json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto result = hangar(args);
    EXPECT_EQ(result.code, 0) << result.output;
    return result.code == 0 ? Json::parse(result.output) : Json::object();
  }

  Json cloud_stats() {
    auto transport = cloud::make_cpprest_transport();
    auto response = transport->send({"GET", url_ + "/_sim/stats", {}, {}}, 10s);
    EXPECT_TRUE(response.ok());
    return response.ok() ? Json::parse(response->body) : Json::object();
  }

  bool wait_final(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (json({"status"})["queue_depth"] == 0) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }

  // No secret, no bearer token, no JWT ("eyJ..." is base64 of '{"').
  static void expect_clean(const std::string& what, const std::string& text) {
    EXPECT_EQ(text.find(kSecret), std::string::npos) << what << " contains the client secret";
    EXPECT_EQ(text.find("eyJ"), std::string::npos) << what << " contains a JWT";
    const auto bearer = text.find("Bearer ");
    if (bearer != std::string::npos) {
      EXPECT_EQ(text.compare(bearer + 7, 10, "[redacted]"), 0)
          << what << " contains a bearer token: " << text.substr(bearer, 40);
    }
  }

  TempDir dir_;
  std::string endpoint_;
  std::filesystem::path data_dir_;
  std::string url_;
  std::string cli_output_;
  std::unique_ptr<Process> cloud_;
  std::unique_ptr<Process> service_;
};

TEST_F(CredentialsE2E, SetCredentialsRegistersWithThemAndNothingLeaksIntoLogsOrOutput) {
  start_cloud();
  start_service();

  // No tenant yet: the simulated cloud's default credentials, which this simulator refuses.
  Json shown = json({"config", "show"});
  EXPECT_EQ(shown["mode"], "simulated") << shown.dump(2);

  // A wrong secret is refused by the cloud and changes nothing.
  auto wrong = hangar(
      {"config", "set-credentials", "--tenant", kTenant, "--client-id", kClient, "--secret-stdin"},
      std::string("not~the.right_secret-0123456789abcdefgh\n"));
  EXPECT_EQ(wrong.code, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("refused"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("AADSTS"), std::string::npos) << wrong.output;
  EXPECT_EQ(json({"config", "show"})["mode"], "simulated");
  EXPECT_FALSE(std::filesystem::exists(data_dir_ / "client-secret"));

  // The right one, piped as a script would.
  auto set = hangar(
      {"config", "set-credentials", "--tenant", kTenant, "--client-id", kClient, "--secret-stdin"},
      kSecret + "\n");
  ASSERT_EQ(set.code, 0) << set.output;
  EXPECT_NE(set.output.find("credentials set: tenant " + kTenant), std::string::npos) << set.output;
  EXPECT_NE(set.output.find("the cloud issued a token"), std::string::npos) << set.output;

  struct stat st {};
  ASSERT_EQ(::stat((data_dir_ / "client-secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the secret file is owner-only";

  shown = json({"config", "show"});
  EXPECT_EQ(shown["mode"], "tenant");
  EXPECT_EQ(shown["tenant_id"], kTenant);
  EXPECT_EQ(shown["client_id"], kClient);
  EXPECT_EQ(shown["secret"]["source"], "store");
  EXPECT_EQ(shown["secret"]["store"], (data_dir_ / "client-secret").string());
  auto human = hangar({"config", "show"});
  EXPECT_NE(human.output.find("set, stored in"), std::string::npos) << human.output;
  Json status = json({"status"});
  EXPECT_EQ(status["cloud"]["tenant_id"], kTenant) << status.dump(2);
  EXPECT_EQ(status["cloud"]["mode"], "tenant");

  // A registration all the way to Ready for user, with the new credentials and no restart.
  auto generated = run_command(
      {kDevicegen, "-o", (dir_.path() / "devices.csv").string(), "--devices", "CRED-:12"},
      dir_.path(), 60s);
  ASSERT_EQ(generated.code, 0) << generated.output;
  auto imported =
      hangar({"import", (dir_.path() / "devices.csv").string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;
  ASSERT_TRUE(wait_final(120s)) << json({"status"}).dump(2);
  status = json({"status"});
  EXPECT_EQ(status["states"]["ready_for_user"], 12) << status.dump(2);
  const Json stats = cloud_stats();
  EXPECT_GE(stats["tokens_issued"].get<int>(), 2) << "the verification and the engine's own";
  auto listed = hangar({"list", "--state", "ready-for-user"});
  EXPECT_NE(listed.output.find("CRED-0011"), std::string::npos) << listed.output;

  // Kept across a restart.
  stop_service();
  start_service();
  shown = json({"config", "show"});
  EXPECT_EQ(shown["tenant_id"], kTenant);
  EXPECT_EQ(shown["secret"]["stored"], true);

  // And removed again: back to the simulated cloud's defaults.
  EXPECT_EQ(hangar({"config", "clear-credentials"}).code, 2) << "needs --yes without a terminal";
  auto cleared = hangar({"config", "clear-credentials", "--yes"});
  ASSERT_EQ(cleared.code, 0) << cleared.output;
  EXPECT_NE(cleared.output.find("stored credentials removed"), std::string::npos);
  EXPECT_EQ(json({"config", "show"})["mode"], "simulated");
  EXPECT_FALSE(std::filesystem::exists(data_dir_ / "client-secret"));
  stop_service();

  // The service's log at debug level and everything the CLI printed: no secret, no token.
  const std::string log = read_file(data_dir_ / "logs" / "hangard.log");
  ASSERT_NE(log.find("cloud credentials set by"), std::string::npos) << log;
  ASSERT_NE(log.find("[debug]"), std::string::npos) << "the service logged at debug level";
  expect_clean("hangard.log", log);
  expect_clean("hangard's console output", read_file(dir_.path() / "hangard.out"));
  expect_clean("the CLI's output", cli_output_);
}

}  // namespace
}  // namespace hangar::test
