// Runs hangard under the Windows service control manager (SCM).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hangar::service::win {

// Hands this process to the SCM's control dispatcher and runs the service until it stops.
// `command_line_args` are the binPath arguments; each ServiceMain call appends the arguments from
// StartService (`sc start NAME --flag`). Returns the service's exit code, or nullopt when this
// process was not started by the SCM (the caller then runs in console mode).
std::optional<int> run_as_service(std::vector<std::string> command_line_args);

}  // namespace hangar::service::win
