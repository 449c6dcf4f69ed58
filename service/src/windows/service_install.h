// `hangard install` and `hangard uninstall`: registering hangard with the service control manager.
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

}  // namespace hangar::service::win
