// The one check of a user's principal name (UPN), for every path that takes a user: the CSV's
// Assigned User column (validate, merge, import, the service's import), `hangar import --user`
// and `hangar deliver --user`. Entra ID's rule (Microsoft Learn, "Password policies and account
// restrictions in Microsoft Entra ID", UserPrincipalName): letters, digits and ' . - _ ! # ^ ~
// before one @, no period right before it, at most 64 characters there; a domain of letters,
// digits, dots and hyphens after it, at most 48 characters; 113 in all. Anything else (a space,
// "?$select=", a slash, a second @) is not a name to look up in the cloud. Blanks around a name are
// dropped first, on every path (trim_blanks).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hangar::core {

inline constexpr std::size_t kUpnNameMax = 64;    // before the @
inline constexpr std::size_t kUpnDomainMax = 48;  // after it
inline constexpr std::size_t kUpnMax = 113;       // in all (kAssignedUserLimit)

// Why `upn` is not a user principal name ("has no @", "has a space before the @", ...), or an
// empty string when it is one. Never repeats the value: callers quote it (an excerpt) themselves.
std::string user_principal_name_problem(std::string_view upn);

// `text` without the blanks around it (spaces, tabs, line breaks, vertical tabs, form feeds): a
// name pasted with a space or a line break around it is still that name. The one trim of a user
// (and of a group tag): the CSV reader applies it to every cell, the CLI to every --user and
// --group-tag (import, validate, merge, capture, deliver), the service to deliver's "user".
std::string_view trim_blanks(std::string_view text);

inline bool is_user_principal_name(std::string_view upn) {
  return user_principal_name_problem(upn).empty();
}

// The rule in one line, for messages: "name@domain (letters, digits and ' . - _ ! # ^ ~ before
// the @, ...)".
std::string_view user_principal_name_rule();

}  // namespace hangar::core
