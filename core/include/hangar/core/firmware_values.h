// Values a device's firmware reports (SMBIOS, WMI) and the same values inside its hardware hash:
// trimmed (NULs included), compared without regard to ASCII case, and told apart from the
// placeholders OEMs leave in. Used by `hangar capture` and by validation (a hash whose serial is a
// placeholder).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hangar::core {

char lower_ascii(char c);
bool iequals_ascii(std::string_view a, std::string_view b);
// NUL counts as whitespace: SMBIOS strings and sysfs files sometimes carry one at the end.
bool is_firmware_space(char c);
std::string_view trim_firmware_text(std::string_view s);

// Trimmed value, or nullopt for a value that is empty or an OEM placeholder.
std::optional<std::string> clean_firmware_value(std::string_view raw);
bool is_oem_placeholder(std::string_view trimmed);

}  // namespace hangar::core
