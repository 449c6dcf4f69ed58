// The last line of defence for "secrets are never logged": every log line (logging.cpp) and every
// cloud error shown by `hangar status` passes through redact(), which blanks the secrets the
// service knows, bearer tokens, JWT-shaped tokens and secret-bearing form or JSON fields. The code
// does not log them in the first place; this catches what a library or a remote answer echoes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hangar::service {

// Remembers a secret for the rest of the process's life (thread-safe). Secrets shorter than four
// characters are ignored: blanking every "a" would make the log unreadable and protect nothing.
void register_secret(std::string_view secret);

// `text` with every registered secret, bearer token, JWT-shaped token ("eyJ...") and value of
// client_secret / access_token / refresh_token (form or JSON) replaced by "[redacted]".
std::string redact(std::string_view text);
// The same with an explicit list of secrets instead of the registered ones (tests).
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace hangar::service
