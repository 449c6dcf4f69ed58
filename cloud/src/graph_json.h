// What the Graph client's files share (graph_client.cpp, graph_devices.cpp, graph_directory.cpp,
// graph_json.cpp): the Intune collections' paths and the JSON readers.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include "hangar/cloud/registration.h"

namespace hangar::cloud::detail {

inline constexpr const char* kImported =
    "/deviceManagement/importedWindowsAutopilotDeviceIdentities";
inline constexpr const char* kAutopilot = "/deviceManagement/windowsAutopilotDeviceIdentities";

// The string at `key`, or "" when it is absent or not a string.
std::string text_field(const nlohmann::json& json, const char* key);
// One windowsAutopilotDeviceIdentity.
AutopilotDevice parse_autopilot(const nlohmann::json& json);
// Serials compare without case.
bool same_serial(std::string_view a, std::string_view b);

}  // namespace hangar::cloud::detail
