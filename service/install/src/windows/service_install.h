// `hangard install` and `hangard uninstall`: registering hangard with the service control manager
// for development (the MSI does it for real), and the failure actions both use.
#pragma once

#include <string>
#include <vector>

namespace hangar::service::win {

inline constexpr const char* kDefaultServiceName = "Hangar";

// install [--name NAME] [--auto] [service flags...]: creates the service with the full quoted path
// of this executable plus the service flags as its command line. Returns the exit code.
int install_service(const std::vector<std::string>& args);

// uninstall [--name NAME]: stops the service if it runs (and waits), then deletes it.
int uninstall_service(const std::vector<std::string>& args);

std::string host_usage();

// The full path of hangard.exe (this process), or empty if Windows cannot say.
std::wstring this_executable();

// Failure recovery for service `name`: restart after 5 s, 10 s, then every 60 s, the count reset
// after a day without failures, also after a non-zero exit. Returns an empty string on success,
// else what failed. Needs SERVICE_CHANGE_CONFIG (an administrator or SYSTEM).
std::string set_failure_actions(const std::string& name);
// The failure actions service `name` has now, as text ("restart 5 s, restart 10 s, restart 60 s;
// reset after 86400 s"); empty with `error` set when they cannot be read.
std::string describe_failure_actions(const std::string& name, std::string& error);

}  // namespace hangar::service::win
