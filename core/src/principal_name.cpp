// Entra ID's user principal name rule (see principal_name.h).
#include "hangar/core/principal_name.h"

#include <cstdio>

namespace hangar::core {

namespace {

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// "a space", "'/'", "byte 0xC3 (not ASCII)": the character a message names.
std::string describe(char c) {
  if (c == ' ') return "a space";
  if (c == '\t') return "a tab";
  if (c == '\r' || c == '\n') return "a line break";
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte == 0x7F || byte >= 0x80) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", byte);
    return std::string("byte ") + hex + (byte >= 0x80 ? " (not ASCII)" : " (a control character)");
  }
  return std::string("'") + c + "'";
}

}  // namespace

std::string_view trim_blanks(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

std::string user_principal_name_problem(std::string_view upn) {
  if (upn.empty()) return "is empty";
  const auto at = upn.find('@');
  if (at == std::string_view::npos) return "has no @ (name@domain)";
  if (upn.find('@', at + 1) != std::string_view::npos) return "has more than one @";
  const std::string_view name = upn.substr(0, at);
  const std::string_view domain = upn.substr(at + 1);
  if (name.empty()) return "has nothing before the @";
  if (domain.empty()) return "has no domain after the @";
  for (const char c : name) {
    if (!alnum(c) && std::string_view("'.-_!#^~").find(c) == std::string_view::npos) {
      return "has " + describe(c) + " before the @ (only letters, digits and ' . - _ ! # ^ ~)";
    }
  }
  if (name.back() == '.') return "has a period right before the @";
  for (const char c : domain) {
    if (!alnum(c) && c != '.' && c != '-') {
      return "has " + describe(c) + " in its domain (only letters, digits, '.' and '-')";
    }
  }
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return "has an empty part in its domain \"" + std::string(domain) + "\"";
  }
  if (name.size() > kUpnNameMax) {
    return "has " + std::to_string(name.size()) + " characters before the @; Entra ID takes " +
           std::to_string(kUpnNameMax);
  }
  if (domain.size() > kUpnDomainMax) {
    return "has " + std::to_string(domain.size()) + " characters after the @; Entra ID takes " +
           std::to_string(kUpnDomainMax);
  }
  // 64 + 1 + 48 is 113: the total limit holds once both parts do.
  return {};
}

std::string_view user_principal_name_rule() {
  return "name@domain: letters, digits and ' . - _ ! # ^ ~ before the @ (at most 64), letters, "
         "digits, '.' and '-' after it (at most 48)";
}

}  // namespace hangar::core
