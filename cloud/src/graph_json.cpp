// The Graph client's JSON readers: import records and their states and errors, Autopilot devices,
// Graph's times and profile states.
#include <cctype>

#include "graph_json.h"
#include "hangar/cloud/graph_client.h"

namespace hangar::cloud {

using Json = nlohmann::json;

namespace detail {

namespace {
constexpr const char* kEmptyGuid = "00000000-0000-0000-0000-000000000000";
}  // namespace

std::string text_field(const Json& json, const char* key) {
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

AutopilotDevice parse_autopilot(const Json& json) {
  AutopilotDevice device;
  device.azure_ad_device_id = text_field(json, "azureActiveDirectoryDeviceId");
  if (device.azure_ad_device_id == kEmptyGuid) device.azure_ad_device_id.clear();
  device.enrollment_state = text_field(json, "enrollmentState");
  // The user assignUserToDevice set (a property of the resource: learn.microsoft.com graph/api/
  // resources/intune-enrollment-windowsautopilotdeviceidentity): how a delivery whose answer was
  // lost is checked, with the same request that finds the device by serial.
  device.user_principal_name = text_field(json, "userPrincipalName");
  // Graph's "never" is year 1 (0001-01-01T00:00:00Z): parse_graph_time reads it as absent.
  device.last_contacted_ms = parse_graph_time(text_field(json, "lastContactedDateTime"));
  device.managed_device_id = text_field(json, "managedDeviceId");
  // Intune writes the all-zero GUID until the device enrolls: not enrolled.
  if (device.managed_device_id == kEmptyGuid) device.managed_device_id.clear();
  device.id = json.value("id", "");
  device.serial = json.value("serialNumber", "");
  if (json.contains("groupTag") && json["groupTag"].is_string())
    device.group_tag = json["groupTag"];
  if (json.contains("manufacturer") && json["manufacturer"].is_string()) {
    device.manufacturer = json["manufacturer"];
  }
  if (json.contains("model") && json["model"].is_string()) device.model = json["model"];
  if (json.contains("deploymentProfileAssignmentStatus") &&
      json["deploymentProfileAssignmentStatus"].is_string()) {
    device.profile_status = json["deploymentProfileAssignmentStatus"];
  }
  return device;
}

bool same_serial(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace detail

ImportStatus parse_import_status(std::string_view text) {
  if (text == "pending") return ImportStatus::kPending;
  if (text == "partial") return ImportStatus::kPartial;
  if (text == "complete") return ImportStatus::kComplete;
  if (text == "error") return ImportStatus::kError;
  return ImportStatus::kUnknown;
}

ImportRecord parse_import_record(const Json& json) {
  ImportRecord record;
  record.id = json.value("id", "");
  record.import_id = json.contains("importId") && json["importId"].is_string()
                         ? json["importId"].get<std::string>()
                         : std::string();
  record.serial = json.value("serialNumber", "");
  if (json.contains("state") && json["state"].is_object()) {
    const Json& state = json["state"];
    if (state.contains("deviceImportStatus") && state["deviceImportStatus"].is_string()) {
      record.status = parse_import_status(state["deviceImportStatus"].get<std::string>());
    }
    if (state.contains("deviceErrorCode") && state["deviceErrorCode"].is_number_integer()) {
      const long long code = state["deviceErrorCode"].get<long long>();
      if (code != 0) record.error_code = code;
    }
    if (state.contains("deviceErrorName") && state["deviceErrorName"].is_string()) {
      record.error_name = state["deviceErrorName"];
    }
    if (state.contains("deviceRegistrationId") && state["deviceRegistrationId"].is_string()) {
      record.registration_id = state["deviceRegistrationId"];
    }
  }
  return record;
}

ErrorMeaning interpret_import_error(std::optional<long long> code, std::string_view name) {
  const std::string detail =
      std::string(name.empty() ? "error" : name) + (code ? " (" + std::to_string(*code) + ")" : "");
  using Action = ErrorMeaning::Action;
  using core::FailureReason;
  const Failure failure = classify_import_error(code, name);
  switch (failure) {
    case Failure::kAlreadyRegistered:
      return {Action::kRegistered, FailureReason::kDeviceAlreadyRegistered, failure, detail};
    case Failure::kOtherTenant:
      return {Action::kFailed, FailureReason::kClaimedByAnotherOrganization, failure, detail};
    case Failure::kInvalidHash:
      return {Action::kFailed, FailureReason::kHardwareHashNotValid, failure, detail};
    case Failure::kDuplicated:
      return {Action::kFailed, FailureReason::kHardwareHashNotValid, failure,
              detail + ": the same hardware hash was imported under another serial"};
    case Failure::kDeviceNotFound:
      return {Action::kFailed, FailureReason::kDeviceNotFound, failure, detail};
    case Failure::kTransient:
      return {Action::kRetry, FailureReason::kUnexpectedError, failure, detail};
    default:
      return {Action::kFailed, FailureReason::kUnexpectedError, failure, detail};
  }
}

std::optional<std::int64_t> parse_graph_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, optional fraction, then Z (Graph always answers in UTC).
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  if (*year <= 1) return std::nullopt;  // 0001-01-01T00:00:00Z: Graph's "never"
  int millis = 0;
  if (text[19] == '.') {
    int digits = 0;
    for (std::size_t i = 20; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      if (digits < 3) millis = millis * 10 + (text[i] - '0');
      ++digits;
    }
    for (; digits < 3; ++digits) millis *= 10;
  } else if (text.size() != 20) {
    return std::nullopt;
  }
  // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
  const int y = *year - (*month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (*month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + *day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
  return ((days * 24 + *hour) * 60 + *minute) * 60'000 + std::int64_t{*second} * 1000 + millis;
}

ProfileAssignment interpret_profile_status(std::string_view status) {
  if (status.empty()) return ProfileAssignment::kNotShown;
  if (status.rfind("assigned", 0) == 0) return ProfileAssignment::kAssigned;
  if (status == "failed") return ProfileAssignment::kFailed;
  return ProfileAssignment::kWaiting;
}

}  // namespace hangar::cloud
