// hangar-tray's command line: flags, the HANGAR_ENDPOINT fallback and the errors.
#include <gtest/gtest.h>

#include <sstream>

#include "hangar/core/paths.h"
#include "hangar/tray/options.h"

namespace hangar::tray {
namespace {

using namespace std::chrono_literals;

TEST(TrayOptions, DefaultsComeFromTheEnvironmentThenThePlatform) {
  auto options = parse_options({}, "");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->endpoint, core::default_endpoint());
  EXPECT_EQ(options->coalesce, 3000ms);
  EXPECT_FALSE(options->dry_run);
  auto from_env = parse_options({}, "/tmp/x.sock");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->endpoint, "/tmp/x.sock");
}

TEST(TrayOptions, FlagsWinOverTheEnvironment) {
  auto options = parse_options(
      {"--endpoint", "pipe-1", "--coalesce-ms=500", "--log-file", "t.log", "--dry-run"}, "env");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->endpoint, "pipe-1");
  EXPECT_EQ(options->coalesce, 500ms);
  EXPECT_EQ(options->log_file, "t.log");
  EXPECT_TRUE(options->dry_run);
}

TEST(TrayOptions, BadInputIsAUsageError) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--coalesce-ms", "-1"},
                                             {"--coalesce-ms", "60001"},
                                             {"--coalesce-ms", "3s"},
                                             {"--endpoint"},
                                             // Black-box round 13: as hangar.
                                             {"--endpoint", ""},
                                             {"--endpoint=", "--dry-run"},
                                             {"--endpoint", "a", "--endpoint", "b"},
                                             {"--log-file", ""},
                                             {"--dry-run=yes"},
                                             {"--verbose"}}) {
    auto options = parse_options(args, "");
    ASSERT_FALSE(options.ok()) << args[0];
    EXPECT_EQ(options.error().code, "usage");
  }
}

// Issue 13, finding 5: `hangar-tray --help` fits 80 columns, whatever the default endpoint.
TEST(TrayOptions, HelpFitsEightyColumns) {
  const std::string text = usage_text();
  EXPECT_NE(text.find("--dry-run"), std::string::npos);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

}  // namespace
}  // namespace hangar::tray
