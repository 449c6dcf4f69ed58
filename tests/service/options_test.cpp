// hangard's option parsing: what a mistyped --cloud-url is told (attack finding 07 c); the long
// Registration Pending thresholds (issue 13).
#include "hangar/service/options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include "test_support.h"

namespace hangar::service {
namespace {

class ServiceOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("HANGAR_CLOUD_URL");
    ::unsetenv("HANGAR_CONFIG");
  }
  void TearDown() override { ::unsetenv("HANGAR_CLOUD_URL"); }
  std::vector<std::string> args(std::vector<std::string> extra) const {
    std::vector<std::string> all{"--data-dir", dir_.path().string()};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }
  test::TempDir dir_;
};

TEST_F(ServiceOptions, ACloudUrlWithoutASchemeIsToldItNeedsOne) {
  for (const std::string url : {"127.0.0.1:8710", "localhost:8710", "graph.microsoft.com"}) {
    auto options = parse_options(args({"--cloud-url", url}));
    ASSERT_FALSE(options.ok()) << url;
    EXPECT_EQ(options.error().code, "usage");
    EXPECT_EQ(options.error().message,
              "--cloud-url needs a scheme: https://... (http:// only for a loopback simulator), "
              "not \"" +
                  url + "\"");
  }
  ::setenv("HANGAR_CLOUD_URL", "127.0.0.1:8710", 1);
  auto from_env = parse_options(args({}));
  ASSERT_FALSE(from_env.ok());
  EXPECT_EQ(from_env.error().message.rfind("HANGAR_CLOUD_URL needs a scheme", 0), 0u)
      << from_env.error().message;
  ::unsetenv("HANGAR_CLOUD_URL");
  std::ofstream(dir_.path() / "hangar.json") << R"({"cloud_url": "127.0.0.1:8710"})";
  std::filesystem::permissions(dir_.path() / "hangar.json", std::filesystem::perms(0600));
  auto from_file = parse_options(args({}));
  ASSERT_FALSE(from_file.ok());
  EXPECT_NE(from_file.error().message.find("hangar.json: \"cloud_url\" needs a scheme"),
            std::string::npos)
      << from_file.error().message;
}

TEST_F(ServiceOptions, UrlsWithASchemeAreTakenAsGiven) {
  for (const std::string url : {"http://127.0.0.1:8710", "https://login.example", "HTTPS://x"}) {
    auto options = parse_options(args({"--cloud-url", url}));
    ASSERT_TRUE(options.ok()) << url << ": " << options.error().message;
    EXPECT_EQ(options->cloud_url, url);
  }
  auto none = parse_options(args({}));
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->cloud_url, "");
}

TEST_F(ServiceOptions, PendingThresholdsComeFromTheConfigFileAndMustBePositive) {
  const auto config = [&](const std::string& text) {
    std::ofstream(dir_.path() / "hangar.json", std::ios::trunc) << text;
    std::filesystem::permissions(dir_.path() / "hangar.json", std::filesystem::perms(0600));
    return parse_options(args({}));
  };
  auto defaults = config("{}");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->pending_warning_minutes, 30);
  EXPECT_EQ(defaults->pending_limit_hours, 24);
  auto set = config(R"({"pending_warning_minutes": 45, "pending_limit_hours": 1.5})");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->pending_warning_minutes, 45);
  EXPECT_EQ(set->pending_limit_hours, 1.5);
  // Black-box round 8: a warning at or after the limit could never show (the device fails
  // first): refused, naming both. A limit alone, shorter than the default warning, halves it.
  auto late = config(R"({"pending_warning_minutes": 120, "pending_limit_hours": 1})");
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("\"pending_warning_minutes\" (120) must be less than "
                                      "\"pending_limit_hours\" in minutes (60)"),
            std::string::npos)
      << late.error().message;
  auto short_limit = config(R"({"pending_limit_hours": 0.5})");
  ASSERT_TRUE(short_limit.ok()) << short_limit.error().message;
  EXPECT_EQ(short_limit->pending_warning_minutes, 15);
  // Black-box round 9: a limit of a third of a second failed every device before its import was
  // read; it must cover three polls (30 s each by default).
  auto typo = config(R"({"pending_limit_hours": 0.0001})");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("\"pending_limit_hours\" (0.0001, 0.36 s) must be at least "
                                      "three poll intervals (90 s)"),
            std::string::npos)
      << typo.error().message;
  auto zero = config(R"({"pending_limit_hours": 0})");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("\"pending_limit_hours\" must be a positive number (hours "
                                      "of Registration Pending before a device is Registration "
                                      "failed)"),
            std::string::npos)
      << zero.error().message;
  // Attack round 3, finding 04: "never" written as a huge number overflowed into "pending for
  // over -9.2e15 seconds" for every device; durations have an upper bound.
  for (const auto& [key, huge, says] :
       {std::tuple{"pending_limit_hours", "1e16", "at most 8760 (hours: a year)"},
        std::tuple{"pending_warning_minutes", "1e300", "at most 525600 (minutes: a year)"},
        std::tuple{"activity_interval_hours", "1e300", "at most 8760 (hours: a year)"},
        std::tuple{"inactive_after_days", "1e19", "at most 3650 (days: ten years)"}}) {
    auto big = config(std::string("{\"") + key + "\": " + huge + "}");
    ASSERT_FALSE(big.ok()) << key;
    EXPECT_NE(big.error().message.find(std::string("\"") + key + "\" must be " + says),
              std::string::npos)
        << big.error().message;
  }
  auto year = config(R"({"pending_limit_hours": 8760, "pending_warning_minutes": 525000})");
  ASSERT_TRUE(year.ok()) << year.error().message;
  auto text = config(R"({"pending_warning_minutes": "30"})");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message.find("\"pending_warning_minutes\" must be a positive number"),
            std::string::npos);
}

// Issue 13: group tags mapped to profiles for partner-registered devices, and the opt-in for
// untagged tenant devices, with errors that name the file and the key.
TEST_F(ServiceOptions, TagProfilesAndTrackUntaggedAreReadStrictly) {
  const auto config = [&](const std::string& text) {
    std::ofstream(dir_.path() / "hangar.json", std::ios::trunc) << text;
    std::filesystem::permissions(dir_.path() / "hangar.json", std::filesystem::perms(0600));
    return parse_options(args({}));
  };
  auto defaults = config("{}");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_TRUE(defaults->tag_profiles.empty());
  EXPECT_FALSE(defaults->track_untagged);
  auto set = config(R"({"tag_profiles": {"Contoso-Sales": "Power User", "Lab": "standard"},)"
                    R"( "track_untagged": true})");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->tag_profiles, (std::map<std::string, std::string>{{"contoso-sales", "power-user"},
                                                                   {"lab", "standard"}}));
  EXPECT_TRUE(set->track_untagged);
  const std::string file = (dir_.path() / "hangar.json").string();
  for (const auto& [text, says] : {
           std::pair{R"({"tag_profiles": {"Lab": "standard", "LAB": "power-user"}})",
                     ": \"tag_profiles\".\"Lab\": the tag is mapped twice (also as \"LAB\"; "
                     "tags are compared without case)"},
           std::pair{R"({"tag_profiles": {"Lab": "gold"}})",
                     ": \"tag_profiles\".\"Lab\": unknown profile \"gold\"; use standard, "
                     "sensitive-data or power-user"},
           std::pair{R"({"tag_profiles": {"Lab": 3}})",
                     ": \"tag_profiles\".\"Lab\": must be a profile name; use standard, "
                     "sensitive-data or power-user"},
           std::pair{R"({"tag_profiles": {"": "standard"}})",
                     ": \"tag_profiles\".\"\": an empty group tag cannot be mapped; devices "
                     "without a tag are tracked with \"track_untagged\": true"},
           std::pair{R"({"tag_profiles": {"a,b": "standard"}})",
                     ": \"tag_profiles\".\"a,b\": the group tag "},
           // Black-box round 9: "the group tag non-ASCII character at position 2" lacked a verb.
           std::pair{"{\"tag_profiles\": {\"L\u00e4b\": \"standard\"}}",
                     ": \"tag_profiles\".\"L\u00e4b\": the group tag has a non-ASCII character at "
                     "position 2"},
           std::pair{R"({"tag_profiles": {"=Lab": "standard"}})",
                     ": \"tag_profiles\".\"=Lab\": the group tag begins with '=', which a "
                     "spreadsheet opening the upload file would run as a formula"},
           // Issue 13, finding 1: the rule imports use (group_tag_problem) refuses a tag of
           // spaces, and a tag with spaces around it, which no CSV cell or --group-tag carries
           // and which would sit beside the same tag without them as a second key.
           std::pair{R"({"tag_profiles": {"   ": "standard"}})",
                     ": \"tag_profiles\".\"   \": the group tag is only spaces"},
           std::pair{R"({"tag_profiles": {"Sales": "standard", "Sales ": "power-user"}})",
                     ": \"tag_profiles\".\"Sales \": the group tag ends with a space; write it "
                     "without the spaces around it"},
           std::pair{R"({"tag_profiles": {" Sales": "standard"}})",
                     ": \"tag_profiles\".\" Sales\": the group tag begins with a space; write "
                     "it without the spaces around it"},
           std::pair{R"({"tag_profiles": {"Sales": "standard", "SALES": "power-user"}})",
                     ": \"tag_profiles\".\"Sales\": the tag is mapped twice (also as \"SALES\"; "
                     "tags are compared without case)"},
           std::pair{R"({"tag_profiles": ["Lab"]})",
                     ": \"tag_profiles\" must be an object mapping group tags to profiles"},
           std::pair{R"({"track_untagged": "yes"})", ": \"track_untagged\" must be true or false"},
           // Black-box round 10: a key given twice was read as "the last one wins".
           std::pair{
               R"({"tag_profiles": {"Lab": "standard"}, "tag_profiles": {"Ops": "standard"}})",
               ": \"tag_profiles\" is given twice; keep one"},
           std::pair{R"({"tag_profiles": {"Lab": "standard", "Lab": "power-user"}})",
                     ": \"Lab\" is given twice in \"tag_profiles\"; keep one"},
           // Black-box round 14: a number no double holds aborted hangard.
           std::pair{R"({"pending_warning_minutes": 1e400})", ": not valid JSON: "},
           std::pair{R"({"tenant_id": "not a guid/../x"})", ": \"tenant_id\" must be a GUID"},
           std::pair{R"({"client_id": "42"})", ": \"client_id\" must be a GUID"},
           // Black-box round 15: a pass every 30 ms, a sweep every 1e308 hours.
           std::pair{R"({"activity_interval_hours": 0.0000001})",
                     ": \"activity_interval_hours\" must be at least 0.01"},
           std::pair{R"({"group_sweep_interval_hours": 1e308})",
                     ": \"group_sweep_interval_hours\" must be a number of hours from 0.01"},
       }) {
    auto bad = config(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.error().code, "config_error");
    EXPECT_EQ(bad.error().message.rfind(file + says, 0), 0u) << bad.error().message;
  }
}

}  // namespace
}  // namespace hangar::service
