// The device domain: the record read from a hash file, its lifecycle states, profiles and failure
// reasons.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::core {

// Assigned to every registered device (the seed: "Autopilot group tag").
inline constexpr std::string_view kDefaultGroupTag = "Microsoft365Managed_Autopilot";

// The seed's device states plus kQueued: accepted by Hangar but not yet sent to the cloud.
enum class DeviceState {
  kQueued,
  kRegistrationPending,
  kRegistrationFailed,
  kReadyForUser,
  kActive,
  kInactive,
};

// Every state, in lifecycle order (the order `status` counts them in).
inline constexpr std::array<DeviceState, 6> kDeviceStates{
    DeviceState::kQueued,
    DeviceState::kRegistrationPending,
    DeviceState::kRegistrationFailed,
    DeviceState::kReadyForUser,
    DeviceState::kActive,
    DeviceState::kInactive,
};

// The one table of state names (core/src/device.cpp): the seed's words for people, one key for
// machines (the store's column, the wire), and every spelling accepted on input.
// "Registration Pending" etc., exactly as the seed's table spells them (the case differs per row).
std::string_view display_name(DeviceState state);
// "registration_pending" etc.: the keys the store's CHECK constraint accepts and the wire carries.
std::string_view storage_key(DeviceState state);
// The state whose storage key is exactly `key` (no other spelling): how the store and the wire
// read one back.
std::optional<DeviceState> state_of_key(std::string_view key);
// The short word for it ("pending", "failed", "ready"; the key for the others: "queued",
// "active"), for places with little room (the tray's tooltip).
std::string_view short_name(DeviceState state);
// Accepts a display name, a storage key or the short word ("pending", "failed", "ready"), any
// case, with spaces, '_' or '-' between words.
std::optional<DeviceState> parse_device_state(std::string_view text);
// "queued, registration-pending (pending), ..., active or inactive": for messages about a state
// that parse_device_state did not accept.
std::string accepted_state_names();

// The seed's registration failure messages.
enum class FailureReason {
  kDeviceNotFound,
  kHardwareHashNotValid,
  kDeviceAlreadyRegistered,
  kClaimedByAnotherOrganization,
  kUnexpectedError,
};

std::string_view message(FailureReason reason);
// "Unexpected error (Request ID: <id>)": support needs the cloud's request id to find the call.
std::string unexpected_error_message(std::string_view request_id);
// What to do about it, after the seed's troubleshooting table ("Confirm these values with your
// device supplier", ...).
std::string_view advice(FailureReason reason);
// The failure a stored reason names (it starts with the seed's message); nullopt for other text
// (a long Registration Pending, an older release's wording).
std::optional<FailureReason> failure_of_text(std::string_view text);
// Retrying cannot help until someone else acts (the supplier): not found, another organization.
bool is_permanent(FailureReason reason);

// Device profiles offered by the portal's drop-down.
enum class Profile { kStandard, kSensitiveData, kPowerUser };

std::string_view display_name(Profile profile);
// "standard", "sensitive-data", "power-user": the CLI's --profile values.
std::string_view cli_name(Profile profile);
// The one reading of a profile name, for every path that takes one (--profile, the config's
// profile_groups keys and tag_profiles values, the service's requests and its store): the CLI name
// or the display name, in any case, with '-', '_' or ' ' between the words and spaces around it
// ignored. "Standard", "sensitive data", "Power_User" and " power-user " are all accepted; nothing
// else is ("poweruser", "power--user", "gold").
std::optional<Profile> parse_profile(std::string_view text);
// What parse_profile accepts, for messages: "standard, sensitive-data or power-user (any case;
// '-', '_' or a space between the words)".
std::string_view profile_spellings();

// One device as read from an input file. Partner-style rows carry no hash (the cloud matches them
// by manufacturer + model + serial), so `hardware_hash` may be empty.
struct DeviceRecord {
  std::string serial_number;
  std::string windows_product_id;
  std::vector<std::uint8_t> hardware_hash;  // decoded bytes; empty when the row has none
  std::string manufacturer;
  std::string model;
  std::string group_tag;
  std::string assigned_user;
  Profile profile = Profile::kStandard;
  std::string source_file;        // where the record came from, for diagnostics
  std::uint64_t source_line = 0;  // physical line the record starts on (1-based; 0 = unknown)

  // "file:line" (or just the file, or "<input>") for messages: format_location.
  std::string location() const;
};

// "file:line"; just "file" when the line is 0 (unknown); "<input>" for a record with no file.
std::string format_location(std::string_view file, std::uint64_t line);

}  // namespace hangar::core
