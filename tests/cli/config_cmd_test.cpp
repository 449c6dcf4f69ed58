// `hangar config` in-process: argument validation (GUIDs, the secret never on the command line,
// --secret-stdin), and what reaches a fake service over the real transport: the secret only in
// set-credentials' client_secret, never in the CLI's output.
#include <gtest/gtest.h>

#include <sstream>

#include "cli_service_test.h"
#include "config_cmds.h"
#include "hangar/ipc/protocol.h"

namespace hangar::cli {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr const char* kClient = "0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a";
constexpr const char* kSecret = "Zq8~cli.Secret_value-0123456789abcdefghij";

class ConfigCmdTest : public CliServiceTest {
 protected:
  // Runs `hangar --endpoint E ARGS...` with `input` on stdin (empty unless given, as from a pipe);
  // returns the exit code.
  int run(std::vector<std::string> args, const std::string& input = "") {
    return CliServiceTest::run(std::move(args), input);
  }

  // A fake service on the endpoint: records each request, answers set-credentials and config.
  void start_service(bool admin_refused = false) {
    CliServiceTest::start_service(
        [admin_refused](const std::string& name, const Json&) -> core::Result<Json> {
          if ((name == "set-credentials" || name == "clear-credentials") && admin_refused) {
            // As the service's dispatcher words it.
            return core::make_error(ipc::errc::kPermissionDenied,
                                    "\"" + name +
                                        "\" changes the cloud credentials and uid 1001 "
                                        "(staging) is not allowed to (the operators group is "
                                        "not enough); run it as an administrator (root on "
                                        "Linux) or as the service's own account");
          }
          Json reply{{"mode", "tenant"},
                     {"tenant_id", kTenant},
                     {"client_id", kClient},
                     {"source", "set-credentials"},
                     {"graph_url", "https://graph.microsoft.com/beta"},
                     {"authority_url", "https://login.microsoftonline.com"},
                     {"scope", "https://graph.microsoft.com/.default"},
                     {"credentials_file", "/var/lib/hangar/credentials.json"},
                     {"config_file", "/etc/hangar/hangar.json"},
                     {"secret",
                      {{"set", true},
                       {"source", "store"},
                       {"store", "/var/lib/hangar/client-secret"},
                       {"protection", "a file only the service's account can read"},
                       {"stored", true}}}};
          if (name == "set-credentials") reply["verified"] = true;
          if (name == "clear-credentials") reply["cleared"] = true;
          return reply;
        });
  }
};

// Black-box round 5: a global option given twice is a usage error, as any other option is.
TEST_F(ConfigCmdTest, AGlobalOptionGivenTwiceIsAUsageError) {
  EXPECT_EQ(run({"--json", "--json", "config", "show"}), kUsage);
  EXPECT_NE(err_.str().find("--json given twice"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"--timeout", "5", "--timeout=9", "config", "show"}), kUsage);
  EXPECT_NE(err_.str().find("--timeout given twice"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"--endpoint", "/elsewhere.sock", "config", "show"}), kUsage);
  EXPECT_NE(err_.str().find("--endpoint given twice"), std::string::npos) << err_.str();
}

TEST_F(ConfigCmdTest, UsageAndUnknownSubcommands) {
  EXPECT_EQ(run({"config"}), kUsage);
  EXPECT_NE(err_.str().find("set-credentials"), std::string::npos);
  EXPECT_EQ(run({"config", "nope"}), kUsage);
  EXPECT_EQ(err_.str().find("did you mean"), std::string::npos) << err_.str();
  // Issue 13, item 7: "did you mean" for a mistyped subcommand too.
  EXPECT_EQ(run({"config", "shwo"}), kUsage);
  EXPECT_NE(err_.str().find("unknown subcommand \"shwo\" (did you mean \"show\"?)"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"config", "help"}), kOk);
  EXPECT_NE(out_.str().find("--secret-stdin"), std::string::npos);
  EXPECT_EQ(run({"config", "show", "extra"}), kUsage);
  EXPECT_EQ(run({"help"}), kOk);
  EXPECT_NE(out_.str().find("config show"), std::string::npos);
}

TEST_F(ConfigCmdTest, TheSecretIsNeverTakenFromTheCommandLine) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--secret", kSecret},
                                               {std::string("--secret=") + kSecret},
                                               {"--client-secret", kSecret}}) {
    std::vector<std::string> full{"config", "set-credentials", "--tenant",
                                  kTenant,  "--client-id",     kClient};
    full.insert(full.end(), args.begin(), args.end());
    EXPECT_EQ(run(full), kUsage);
    EXPECT_NE(err_.str().find("never taken as an argument"), std::string::npos) << err_.str();
    EXPECT_EQ(output().find(kSecret), std::string::npos) << output();
  }
  // A stray positional argument (a secret typed after the flags) is refused, not echoed.
  EXPECT_EQ(
      run({"config", "set-credentials", "--tenant", kTenant, "--client-id", kClient, kSecret}),
      kUsage);
  EXPECT_NE(err_.str().find("unexpected argument"), std::string::npos);
}

TEST_F(ConfigCmdTest, TenantAndClientIdMustBeGuids) {
  EXPECT_EQ(run({"config", "set-credentials", "--client-id", kClient, "--secret-stdin"}, kSecret),
            kUsage);
  EXPECT_NE(err_.str().find("--tenant is required"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", "contoso.onmicrosoft.com", "--client-id",
                 kClient, "--secret-stdin"},
                kSecret),
            kUsage);
  EXPECT_NE(err_.str().find("directory (tenant) ID"), std::string::npos) << err_.str();
  // The bad value is not repeated: it might be the secret pasted into the wrong flag.
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", kSecret, "--client-id", kClient,
                 "--secret-stdin"},
                kSecret),
            kUsage);
  EXPECT_EQ(output().find(kSecret), std::string::npos) << output();
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", kTenant, "--secret-stdin"}, kSecret),
            kUsage);
  EXPECT_NE(err_.str().find("--client-id is required"), std::string::npos);
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", kTenant, "--client-id", "12345",
                 "--secret-stdin"},
                kSecret),
            kUsage);
  EXPECT_NE(err_.str().find("Application (client) ID"), std::string::npos);
}

TEST_F(ConfigCmdTest, WithoutATerminalTheSecretNeedsSecretStdin) {
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", kTenant, "--client-id", kClient},
                std::string(kSecret) + "\n"),
            kUsage);
  EXPECT_NE(err_.str().find("--secret-stdin"), std::string::npos) << err_.str();
}

// A bad secret is bad input, a usage error as a bad GUID is (black-box round 12).
TEST_F(ConfigCmdTest, SecretStdinIsValidated) {
  const std::vector<std::string> args{"config",      "set-credentials", "--tenant",      kTenant,
                                      "--client-id", kClient,           "--secret-stdin"};
  EXPECT_EQ(run(args, ""), kUsage);
  EXPECT_NE(err_.str().find("no secret"), std::string::npos) << err_.str();
  EXPECT_EQ(run(args, "\n"), kUsage);
  EXPECT_NE(err_.str().find("empty"), std::string::npos) << err_.str();
  EXPECT_EQ(run(args, "first\nsecond\n"), kUsage);
  EXPECT_NE(err_.str().find("more than one line"), std::string::npos) << err_.str();
  EXPECT_EQ(run(args, std::string(" ") + kSecret), kUsage);
  EXPECT_NE(err_.str().find("space"), std::string::npos) << err_.str();
  EXPECT_EQ(run(args, std::string(2000, 'x')), kUsage);
  EXPECT_NE(err_.str().find("at most"), std::string::npos) << err_.str();
  EXPECT_EQ(output().find(kSecret), std::string::npos);
}

TEST_F(ConfigCmdTest, ReadSecretFromStripsOneLineBreak) {
  std::istringstream lf(std::string(kSecret) + "\n");
  EXPECT_EQ(*read_secret_from(lf), kSecret);
  std::istringstream crlf(std::string(kSecret) + "\r\n");
  EXPECT_EQ(*read_secret_from(crlf), kSecret);
  std::istringstream bare(kSecret);
  EXPECT_EQ(*read_secret_from(bare), kSecret);
  std::istringstream tab(std::string(kSecret) + "\t\n");
  EXPECT_FALSE(read_secret_from(tab).ok());
}

TEST_F(ConfigCmdTest, ValidInputWithoutAServiceIsUnreachableAndStillSilentAboutTheSecret) {
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", kTenant, "--client-id", kClient,
                 "--secret-stdin"},
                std::string(kSecret) + "\n"),
            kUnreachable);
  EXPECT_EQ(output().find(kSecret), std::string::npos) << output();
}

TEST_F(ConfigCmdTest, SetSendsTheSecretOnlyInClientSecretAndNeverPrintsIt) {
  start_service();
  ASSERT_EQ(run({"config", "set-credentials", "--tenant", "{72F988BF-86F1-41AF-91AB-2D7CD011DB47}",
                 "--client-id", kClient, "--secret-stdin", "--no-verify"},
                std::string(kSecret) + "\r\n"),
            kOk)
      << output();
  const auto sent = requests();
  ASSERT_EQ(sent.size(), 1u);
  const Json& args = sent[0].second;
  EXPECT_EQ(sent[0].first, "set-credentials");
  EXPECT_EQ(args["tenant_id"], kTenant) << "canonical form";
  EXPECT_EQ(args["client_id"], kClient);
  EXPECT_EQ(args["client_secret"], kSecret);
  EXPECT_EQ(args["verify"], false);
  EXPECT_EQ(args["force"], false);
  EXPECT_NE(out_.str().find("credentials set: tenant " + std::string(kTenant)), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("/var/lib/hangar/client-secret"), std::string::npos);
  EXPECT_EQ(output().find(kSecret), std::string::npos) << output();

  ASSERT_EQ(run({"--json", "config", "set-credentials", "--tenant", kTenant, "--client-id", kClient,
                 "--secret-stdin", "--force"},
                kSecret),
            kOk);
  EXPECT_EQ(Json::parse(out_.str())["ok"], true);
  EXPECT_EQ(requests().back().second["verify"], true);
  EXPECT_EQ(requests().back().second["force"], true);
  EXPECT_EQ(output().find(kSecret), std::string::npos);
}

TEST_F(ConfigCmdTest, ShowAndClear) {
  start_service();
  ASSERT_EQ(run({"config", "show"}), kOk) << output();
  EXPECT_NE(out_.str().find("tenant       " + std::string(kTenant)), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("set, stored in /var/lib/hangar/client-secret"), std::string::npos)
      << out_.str();
  EXPECT_EQ(requests().back().first, "config");

  // Removing needs a confirmation; without a terminal, --yes.
  EXPECT_EQ(run({"config", "clear-credentials"}), kUsage);
  EXPECT_NE(err_.str().find("--yes"), std::string::npos);
  ASSERT_EQ(run({"config", "clear-credentials", "--yes"}), kOk) << output();
  EXPECT_EQ(requests().back().first, "clear-credentials");
  EXPECT_NE(out_.str().find("stored credentials removed"), std::string::npos);
}

TEST_F(ConfigCmdTest, PermissionDeniedExplainsThatOperatorsCannotChangeCredentials) {
  start_service(true);
  EXPECT_EQ(run({"config", "set-credentials", "--tenant", kTenant, "--client-id", kClient,
                 "--secret-stdin"},
                kSecret),
            kFailed);
  EXPECT_NE(err_.str().find("operators group is not enough"), std::string::npos) << err_.str();
}

// Black-box round 6: the refusal named "config" and advised joining the operators group, which
// the operator was in and which is not enough.
TEST_F(ConfigCmdTest, ARefusedClearNamesTheCommandAsTypedAndGivesNoWrongAdvice) {
  start_service(true);
  EXPECT_EQ(run({"config", "clear-credentials", "--yes"}), kFailed);
  EXPECT_NE(err_.str().find("\"config clear-credentials\" changes the cloud credentials"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(err_.str().find("membership of the operators group"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("run it as an administrator"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace hangar::cli
