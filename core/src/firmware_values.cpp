// Firmware values (see firmware_values.h): trimming, ASCII case folding, OEM placeholders.
#include "hangar/core/firmware_values.h"

#include <algorithm>
#include <array>

namespace hangar::core {
namespace {

// Values firmware vendors leave in SMBIOS when the OEM never filled it in (seen on white-box
// boards, AMI/Insyde/Phoenix defaults and virtual machines), compared case-insensitively.
constexpr std::array<std::string_view, 33> kPlaceholders{
    "to be filled by o.e.m.",
    "to be filled by oem",
    "to be filled",
    "default string",
    "default",
    "system serial number",
    "system product name",
    "system manufacturer",
    "system name",
    "system version",
    "chassis serial number",
    "base board serial number",
    "serial number",
    "serial",
    "product name",
    "manufacturer",
    "not specified",
    "not applicable",
    "not available",
    "none",
    "n/a",
    "na",
    "null",
    "empty",
    "unknown",
    "undefined",
    "invalid",
    "oem",
    "o.e.m.",
    "type1productconfigid",
    "0123456789",
    "123456789",
    "1234567890",
};

}  // namespace

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  }
  return true;
}

// NUL counts as whitespace: SMBIOS strings and sysfs files sometimes carry one at the end.
bool is_firmware_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == '\0';
}

std::string_view trim_firmware_text(std::string_view s) {
  while (!s.empty() && is_firmware_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_firmware_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_oem_placeholder(std::string_view trimmed) {
  if (trimmed.empty()) return true;
  for (const auto placeholder : kPlaceholders) {
    if (iequals_ascii(trimmed, placeholder)) return true;
  }
  // "0", "00000000", "0000-0000", "........": no digit or letter carries information.
  if (trimmed.find_first_not_of("0 .-_*") == std::string_view::npos) return true;
  // "FFFFFFFF" (erased flash) and "XXXXXXXX" (a template).
  const char first = lower_ascii(trimmed.front());
  if ((first == 'f' || first == 'x') && trimmed.size() > 1 &&
      std::all_of(trimmed.begin(), trimmed.end(),
                  [first](char c) { return lower_ascii(c) == first; })) {
    return true;
  }
  return false;
}

std::optional<std::string> clean_firmware_value(std::string_view raw) {
  const std::string_view trimmed = trim_firmware_text(raw);
  if (is_oem_placeholder(trimmed)) return std::nullopt;
  return std::string(trimmed);
}

}  // namespace hangar::core
