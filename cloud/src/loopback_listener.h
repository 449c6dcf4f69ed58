// Who serves the loopback port of a plain-http cloud URL (the simulated cloud). Any local user may
// listen on a free port; a request sent there carries hardware hashes and a bearer token, and its
// answers would make devices "Ready for user" that never reached Microsoft (black-box round 10).
#pragma once

#include <string>

#include "hangar/core/result.h"

namespace hangar::cloud {

// For an http:// loopback URL: refused (kErrNetwork, Failure::kNotSent: nothing was sent) when the
// process listening on its port belongs to another account than this process's or the system's
// (root; LocalSystem). Allowed when nothing listens (the connection then fails as usual) and where
// the owner cannot be told (no /proc; a Windows listener whose process cannot be opened, as under
// Wine for a Linux process).
core::Status check_loopback_listener(const std::string& url);

}  // namespace hangar::cloud
