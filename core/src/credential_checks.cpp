// Credential syntax checks (see credential_checks.h).
#include "hangar/core/credential_checks.h"

#include <cctype>

namespace hangar::core {

std::optional<std::string> normalize_guid(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36) return std::nullopt;
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      out += '-';
    } else {
      if (!std::isxdigit(c)) return std::nullopt;
      out += static_cast<char>(std::tolower(c));
    }
  }
  return out;
}

std::optional<std::string> client_secret_problem(std::string_view secret) {
  if (secret.empty()) return std::string("the client secret is empty");
  if (secret.size() > kMaxClientSecretLength) {
    return "the client secret is " + std::to_string(secret.size()) + " bytes long; at most " +
           std::to_string(kMaxClientSecretLength) + " are accepted";
  }
  for (char raw : secret) {
    const auto c = static_cast<unsigned char>(raw);
    if (c < 0x20 || c == 0x7f) {
      return std::string(
          "the client secret contains a control character (a line break or tab?); paste only "
          "the secret's Value");
    }
  }
  if (secret.front() == ' ' || secret.back() == ' ') {
    return std::string(
        "the client secret begins or ends with a space; Entra ID secrets never do: paste only the "
        "secret's Value");
  }
  return std::nullopt;
}

}  // namespace hangar::core
