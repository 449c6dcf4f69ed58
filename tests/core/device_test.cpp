// Tests for the device domain enums: display names, storage keys, parsing, failure messages.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "hangar/core/device.h"

namespace hangar::core {
namespace {

TEST(CoreDevice, StateDisplayNamesAreTheSeeds) {
  EXPECT_EQ(display_name(DeviceState::kQueued), "Queued");
  EXPECT_EQ(display_name(DeviceState::kRegistrationPending), "Registration Pending");
  EXPECT_EQ(display_name(DeviceState::kRegistrationFailed), "Registration failed");
  EXPECT_EQ(display_name(DeviceState::kReadyForUser), "Ready for user");
  EXPECT_EQ(display_name(DeviceState::kActive), "Active");
  EXPECT_EQ(display_name(DeviceState::kInactive), "Inactive");
}

TEST(CoreDevice, StateStorageKeysRoundTrip) {
  for (auto s :
       {DeviceState::kQueued, DeviceState::kRegistrationPending, DeviceState::kRegistrationFailed,
        DeviceState::kReadyForUser, DeviceState::kActive, DeviceState::kInactive}) {
    EXPECT_EQ(parse_device_state(storage_key(s)), s);
    EXPECT_EQ(parse_device_state(display_name(s)), s);
  }
  EXPECT_EQ(storage_key(DeviceState::kReadyForUser), "ready_for_user");
  EXPECT_EQ(storage_key(DeviceState::kRegistrationPending), "registration_pending");
}

TEST(CoreDevice, StateParsingIsLenient) {
  EXPECT_EQ(parse_device_state("ready-for-user"), DeviceState::kReadyForUser);
  EXPECT_EQ(parse_device_state("  REGISTRATION PENDING "), DeviceState::kRegistrationPending);
  EXPECT_EQ(parse_device_state("registration failed"), DeviceState::kRegistrationFailed);
  EXPECT_FALSE(parse_device_state(""));
  EXPECT_FALSE(parse_device_state("ready for"));
  EXPECT_FALSE(parse_device_state("registered"));
}

// The spellings people type (issue 13): every form of each state, the short word included.
TEST(CoreDevice, EveryReasonableSpellingOfEachStateIsAccepted) {
  const std::vector<std::pair<DeviceState, std::vector<std::string>>> spellings{
      {DeviceState::kQueued, {"queued", "Queued", "QUEUED"}},
      {DeviceState::kRegistrationPending,
       {"pending", "Pending", "registration-pending", "Registration Pending",
        "registration_pending"}},
      {DeviceState::kRegistrationFailed,
       {"failed", "FAILED", "registration-failed", "Registration failed", "registration_failed"}},
      {DeviceState::kReadyForUser,
       {"ready", "Ready", "ready-for-user", "Ready for user", "ready_for_user", "READY-FOR_USER"}},
      {DeviceState::kActive, {"active", "Active"}},
      {DeviceState::kInactive, {"inactive", " Inactive\t"}},
  };
  for (const auto& [state, names] : spellings) {
    for (const auto& name : names) EXPECT_EQ(parse_device_state(name), state) << name;
  }
  EXPECT_EQ(accepted_state_names(),
            "queued, registration-pending (pending), registration-failed (failed), "
            "ready-for-user (ready), active or inactive");
}

TEST(CoreDevice, FailureMessagesAreTheSeeds) {
  EXPECT_EQ(message(FailureReason::kDeviceNotFound), "Device not found");
  EXPECT_EQ(message(FailureReason::kHardwareHashNotValid), "Hardware hash not valid");
  EXPECT_EQ(message(FailureReason::kDeviceAlreadyRegistered), "Device already registered");
  EXPECT_EQ(message(FailureReason::kClaimedByAnotherOrganization),
            "Device claimed by another organization");
  EXPECT_EQ(message(FailureReason::kUnexpectedError), "Unexpected error");
  EXPECT_EQ(unexpected_error_message("3f2c-77"), "Unexpected error (Request ID: 3f2c-77)");
}

// Issue 13: each failure carries the seed's advice; a stored reason is read back by its message
// (with a Request ID after it, too); only not found and another organization are permanent.
TEST(CoreDevice, FailuresCarryTheSeedsAdvice) {
  EXPECT_NE(
      advice(FailureReason::kDeviceNotFound).find("confirm these values with your device supplier"),
      std::string_view::npos);
  EXPECT_NE(advice(FailureReason::kHardwareHashNotValid)
                .find("double-check the hardware hash and then resubmit"),
            std::string_view::npos);
  EXPECT_NE(advice(FailureReason::kDeviceAlreadyRegistered).find("no further action required"),
            std::string_view::npos);
  EXPECT_NE(
      advice(FailureReason::kClaimedByAnotherOrganization).find("check with your device supplier"),
      std::string_view::npos);
  EXPECT_NE(advice(FailureReason::kUnexpectedError).find("contact Support"),
            std::string_view::npos);
  EXPECT_EQ(failure_of_text("Unexpected error (Request ID: 3f2c-77)"),
            FailureReason::kUnexpectedError);
  EXPECT_EQ(failure_of_text("Device not found"), FailureReason::kDeviceNotFound);
  EXPECT_EQ(failure_of_text("Registration Pending for over 24 hours: imported"), std::nullopt);
  EXPECT_TRUE(is_permanent(FailureReason::kDeviceNotFound));
  EXPECT_TRUE(is_permanent(FailureReason::kClaimedByAnotherOrganization));
  EXPECT_FALSE(is_permanent(FailureReason::kHardwareHashNotValid));
  EXPECT_FALSE(is_permanent(FailureReason::kUnexpectedError));
}

TEST(CoreDevice, Profiles) {
  EXPECT_EQ(parse_profile("standard"), Profile::kStandard);
  EXPECT_EQ(parse_profile("sensitive-data"), Profile::kSensitiveData);
  EXPECT_EQ(parse_profile("Power user"), Profile::kPowerUser);
  EXPECT_EQ(parse_profile("POWER_USER"), Profile::kPowerUser);
  EXPECT_FALSE(parse_profile("admin"));
  EXPECT_EQ(display_name(Profile::kSensitiveData), "Sensitive data");
  EXPECT_EQ(display_name(Profile::kPowerUser), "Power user");
  EXPECT_EQ(cli_name(Profile::kPowerUser), "power-user");
  EXPECT_EQ(kDefaultGroupTag, "Microsoft365Managed_Autopilot");
}

// Issue 13, finding 2: the spellings README and docs promise (the one reading of a profile name,
// parse_profile, used by --profile, the config and the service), and what the messages say.
TEST(CoreDevice, ProfileSpellingsAreTheDocumentedOnes) {
  for (const char* text : {"standard", "Standard", "STANDARD", " standard\t"}) {
    EXPECT_EQ(parse_profile(text), Profile::kStandard) << text;
  }
  for (const char* text :
       {"sensitive-data", "sensitive_data", "sensitive data", "Sensitive data", "SENSITIVE-DATA"}) {
    EXPECT_EQ(parse_profile(text), Profile::kSensitiveData) << text;
  }
  for (const char* text :
       {"power-user", "power_user", "power user", "Power User", "POWER_USER", " Power-User "}) {
    EXPECT_EQ(parse_profile(text), Profile::kPowerUser) << text;
  }
  for (const char* text : {"poweruser", "power--user", "power  user", "power-user.", "admin", "",
                           "sensitive", "power-user\n"}) {
    EXPECT_FALSE(parse_profile(text)) << text;
  }
  EXPECT_EQ(profile_spellings(),
            "standard, sensitive-data or power-user (any case; '-', '_' or a space between the "
            "words)");
}

TEST(CoreDevice, Location) {
  DeviceRecord r;
  EXPECT_EQ(r.location(), "<input>");
  r.source_file = "a.csv";
  EXPECT_EQ(r.location(), "a.csv");
  r.source_line = 7;
  EXPECT_EQ(r.location(), "a.csv:7");
  EXPECT_EQ(format_location("a.csv", 7), "a.csv:7");
  EXPECT_EQ(format_location("", 7), "<input>:7");
  EXPECT_EQ(format_location("C:\\in\\b.csv", 0), "C:\\in\\b.csv");
  EXPECT_EQ(format_location("b.csv", 18'446'744'073'709'551'615ULL), "b.csv:18446744073709551615");
}

}  // namespace
}  // namespace hangar::core
