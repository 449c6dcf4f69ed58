// hangar-tray's command line.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "hangar/core/result.h"

namespace hangar::tray {

struct Options {
  std::string endpoint;  // --endpoint, else HANGAR_ENDPOINT, else core::default_endpoint()
  std::chrono::milliseconds coalesce{3000};  // --coalesce-ms: the notification window
  std::string log_file;                      // --log-file: connections, health, every notification
  bool dry_run = false;  // --dry-run: print to stdout instead of an icon / desktop notifications
  bool help = false;
};

// `env_endpoint` is HANGAR_ENDPOINT's value (empty when unset). Error code "usage" on bad input.
core::Result<Options> parse_options(const std::vector<std::string>& args,
                                    const std::string& env_endpoint);

std::string usage_text();

}  // namespace hangar::tray
