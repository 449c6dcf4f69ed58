// redact(): registered secrets, bearer tokens, JWT-shaped tokens and secret-bearing fields are
// blanked; ordinary text (ids, URLs, messages about tokens) is left alone. And the log file that
// setup_logging() creates never receives them.
#include <gtest/gtest.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "logging.h"
#include "redact.h"
#include "test_support.h"

namespace hangar::service {
namespace {

constexpr const char* kJwt =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhcHBpZCI6IjIyMjIifQ.c2lnbmF0dXJlLWJ5dGVz";

TEST(Redact, KnownSecretsAreBlankedEverywhere) {
  const std::vector<std::string> secrets{"s3cret~Value.123"};
  EXPECT_EQ(redact("token request with s3cret~Value.123 failed; s3cret~Value.123 again", secrets),
            "token request with [redacted] failed; [redacted] again");
  // Too short to be a secret: left alone rather than blanking every "ab".
  EXPECT_EQ(redact("ab cd", {"ab"}), "ab cd");
}

TEST(Redact, BearerTokensAndJwtsAreBlanked) {
  const std::string header = std::string("Authorization: Bearer ") + kJwt;
  EXPECT_EQ(redact(header, {}), "Authorization: Bearer [redacted]");
  EXPECT_EQ(redact(std::string("token ") + kJwt + " issued", {}), "token [redacted] issued");
  EXPECT_EQ(redact("authorization: bearer abcdefghijklmnop", {}),
            "authorization: bearer [redacted]");
  // Prose about tokens is not a token.
  EXPECT_EQ(redact("no bearer token was sent", {}), "no bearer token was sent");
}

TEST(Redact, SecretFieldsInFormsAndJsonAreBlanked) {
  EXPECT_EQ(redact("grant_type=client_credentials&client_id=abc&client_secret=x%7Ey&scope=z", {}),
            "grant_type=client_credentials&client_id=abc&client_secret=[redacted]&scope=z");
  EXPECT_EQ(redact(R"({"access_token":"opaque-value","expires_in":3599})", {}),
            R"({"access_token":"[redacted]","expires_in":3599})");
  EXPECT_EQ(redact(R"({"client_secret": "abc def"})", {}), R"({"client_secret": "[redacted]"})");
}

TEST(Redact, OrdinaryTextIsUnchanged) {
  const std::string text =
      "cloud: https://graph.microsoft.com/beta (tenant 72f988bf-86f1-41af-91ab-2d7cd011db47, "
      "client id 0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a; run `hangar config set-credentials`)";
  EXPECT_EQ(redact(text, {}), text);
}

TEST(Redact, RegisteredSecretsApplyToTheLogFile) {
  test::TempDir dir;
  ASSERT_TRUE(setup_logging(dir.path(), "trace", false).ok());
  register_secret("registered-secret-value-42");
  spdlog::info("secret {} and header Bearer {}", "registered-secret-value-42", kJwt);
  spdlog::debug("form client_secret=registered-secret-value-42&x=1");
  spdlog::default_logger()->flush();
  std::ifstream in(dir.path() / "logs" / "hangard.log", std::ios::binary);
  std::stringstream log;
  log << in.rdbuf();
  const std::string text = log.str();
  EXPECT_EQ(text.find("registered-secret-value-42"), std::string::npos) << text;
  EXPECT_EQ(text.find("eyJ"), std::string::npos) << text;
  EXPECT_NE(text.find("secret [redacted] and header Bearer [redacted]"), std::string::npos) << text;
  // Release the file before the directory goes.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("redact-test-after"));
}

}  // namespace
}  // namespace hangar::service
