// Names, keys and parsing for the device domain enums.
#include "hangar/core/device.h"

#include <array>
#include <utility>

namespace hangar::core {
namespace {

// Lower-cases ASCII and maps ' ', '-' and '_' to '_' so "Ready for user", "ready-for-user" and
// "READY_FOR_USER" compare equal.
std::string fold(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  for (std::size_t i = begin; i < end; ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == ' ' || c == '-') c = '_';
    out.push_back(c);
  }
  return out;
}

struct StateNames {
  DeviceState state;
  std::string_view display;
  std::string_view key;
  std::string_view short_name;  // the word people type for it (folded); empty: none
};

constexpr std::array<StateNames, 6> kStates{{
    {DeviceState::kQueued, "Queued", "queued", ""},
    {DeviceState::kRegistrationPending, "Registration Pending", "registration_pending", "pending"},
    {DeviceState::kRegistrationFailed, "Registration failed", "registration_failed", "failed"},
    {DeviceState::kReadyForUser, "Ready for user", "ready_for_user", "ready"},
    {DeviceState::kActive, "Active", "active", ""},
    {DeviceState::kInactive, "Inactive", "inactive", ""},
}};

struct ProfileNames {
  Profile profile;
  std::string_view display;
  std::string_view cli;
};

constexpr std::array<ProfileNames, 3> kProfiles{{
    {Profile::kStandard, "Standard", "standard"},
    {Profile::kSensitiveData, "Sensitive data", "sensitive-data"},
    {Profile::kPowerUser, "Power user", "power-user"},
}};

}  // namespace

std::string_view display_name(DeviceState state) {
  return kStates[static_cast<std::size_t>(state)].display;
}

std::string_view storage_key(DeviceState state) {
  return kStates[static_cast<std::size_t>(state)].key;
}

std::string_view short_name(DeviceState state) {
  const StateNames& names = kStates[static_cast<std::size_t>(state)];
  return names.short_name.empty() ? names.key : names.short_name;
}

std::optional<DeviceState> state_of_key(std::string_view key) {
  for (const auto& names : kStates) {
    if (names.key == key) return names.state;
  }
  return std::nullopt;
}

std::optional<DeviceState> parse_device_state(std::string_view text) {
  const std::string folded = fold(text);
  // Without separators too: "ReadyForUser" and "registrationpending" are the same states.
  std::string joined = folded;
  std::erase(joined, '_');
  for (const auto& names : kStates) {
    // Storage keys are already in folded form; display names fold to the same string.
    if (folded == names.key) return names.state;
    if (!names.short_name.empty() && folded == names.short_name) return names.state;
    std::string key(names.key);
    std::erase(key, '_');
    if (!joined.empty() && joined == key) return names.state;
  }
  return std::nullopt;
}

std::string accepted_state_names() {
  std::string out;
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    if (i > 0) out += i + 1 == kStates.size() ? " or " : ", ";
    std::string cli(kStates[i].key);
    for (char& c : cli) {
      if (c == '_') c = '-';
    }
    out += cli;
    if (!kStates[i].short_name.empty()) {
      out += " (";
      out += kStates[i].short_name;
      out += ')';
    }
  }
  return out;
}

std::string_view message(FailureReason reason) {
  switch (reason) {
    case FailureReason::kDeviceNotFound:
      return "Device not found";
    case FailureReason::kHardwareHashNotValid:
      return "Hardware hash not valid";
    case FailureReason::kDeviceAlreadyRegistered:
      return "Device already registered";
    case FailureReason::kClaimedByAnotherOrganization:
      return "Device claimed by another organization";
    case FailureReason::kUnexpectedError:
      return "Unexpected error";
  }
  return "Unexpected error";
}

std::string unexpected_error_message(std::string_view request_id) {
  std::string out(message(FailureReason::kUnexpectedError));
  out += " (Request ID: ";
  out += request_id.empty() ? std::string_view("unknown") : request_id;
  out += ')';
  return out;
}

std::string_view advice(FailureReason reason) {
  // The seed's "Details" column (register-devices-self, Troubleshooting device registration).
  switch (reason) {
    case FailureReason::kDeviceNotFound:
      return "No match was found for the manufacturer, model or serial number: confirm these "
             "values with your device supplier.";
    case FailureReason::kHardwareHashNotValid:
      return "The hardware hash was not formatted correctly: double-check the hardware hash and "
             "then resubmit.";
    case FailureReason::kDeviceAlreadyRegistered:
      return "This device is already registered to your organization: no further action "
             "required.";
    case FailureReason::kClaimedByAnotherOrganization:
      return "This device has already been claimed by another organization: check with your "
             "device supplier.";
    case FailureReason::kUnexpectedError:
      return "The request could not be processed automatically: contact Support and give them "
             "the Request ID.";
  }
  return "Contact Support and give them the Request ID.";
}

std::optional<FailureReason> failure_of_text(std::string_view text) {
  for (FailureReason reason :
       {FailureReason::kDeviceNotFound, FailureReason::kHardwareHashNotValid,
        FailureReason::kDeviceAlreadyRegistered, FailureReason::kClaimedByAnotherOrganization,
        FailureReason::kUnexpectedError}) {
    if (text.starts_with(message(reason))) return reason;
  }
  return std::nullopt;
}

bool is_permanent(FailureReason reason) {
  return reason == FailureReason::kDeviceNotFound ||
         reason == FailureReason::kClaimedByAnotherOrganization;
}

std::string_view display_name(Profile profile) {
  return kProfiles[static_cast<std::size_t>(profile)].display;
}

std::string_view cli_name(Profile profile) {
  return kProfiles[static_cast<std::size_t>(profile)].cli;
}

std::optional<Profile> parse_profile(std::string_view text) {
  const std::string folded = fold(text);
  for (const auto& names : kProfiles) {
    if (folded == fold(names.cli)) return names.profile;
  }
  return std::nullopt;
}

std::string_view profile_spellings() {
  return "standard, sensitive-data or power-user (any case; '-', '_' or a space between the "
         "words)";
}

std::string format_location(std::string_view file, std::uint64_t line) {
  std::string out = file.empty() ? std::string("<input>") : std::string(file);
  if (line != 0) out += ":" + std::to_string(line);
  return out;
}

std::string DeviceRecord::location() const { return format_location(source_file, source_line); }

}  // namespace hangar::core
