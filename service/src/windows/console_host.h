// Runs hangard in the foreground of a console: `hangard console`, or any start outside the SCM.
#pragma once

#include <string>
#include <vector>

namespace hangar::service::win {

// Logs to the console as well as the log file; Ctrl+C, Ctrl+Break, closing the window, logoff and
// shutdown stop it cleanly. Returns the process exit code.
int run_console(const std::vector<std::string>& args);

}  // namespace hangar::service::win
