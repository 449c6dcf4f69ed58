// Checks on cloud credentials shared by the CLI (before anything is sent) and the service (which
// never trusts the client): GUID syntax for the tenant and client ids, and the shape of a client
// secret. No message ever contains the secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hangar::core {

// The canonical form (lower case, no braces) of a GUID written 8-4-4-4-12 in hex, optionally in
// braces; nothing when `text` is not one.
std::optional<std::string> normalize_guid(std::string_view text);

// Longest secret accepted: Entra ID secrets are 40 characters; certificates are not secrets.
inline constexpr std::size_t kMaxClientSecretLength = 1024;

// Why `secret` cannot be a client secret (empty, too long, control characters or spaces at either
// end: a paste gone wrong), or nothing when it can. The text never quotes the secret.
std::optional<std::string> client_secret_problem(std::string_view secret);

}  // namespace hangar::core
