// Sets up spdlog for hangard: a rotating file in the data directory, plus the console when asked.
#pragma once

#include <filesystem>
#include <string>

#include "hangar/core/result.h"

namespace hangar::service {

// Installs the default logger. The log file is <data dir>/logs/hangard.log, rotated at 5 MB, five
// files kept.
core::Status setup_logging(const std::filesystem::path& data_dir, const std::string& level,
                           bool console);

}  // namespace hangar::service
