// hangar-tray's log (see logging.h).
#include "logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace hangar::tray {

core::Status setup_logging(const std::string& file, bool to_stderr) {
  std::shared_ptr<spdlog::logger> logger;
  if (!file.empty()) {
    // spdlog would make the missing folders (as whoever runs the tray) and log where nobody
    // looks; a mistyped folder is said instead (black-box round 13).
    const auto folder = std::filesystem::path(file).parent_path();
    std::error_code ec;
    if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
      return core::make_error("log", "cannot open the log " + file + ": its folder " +
                                         folder.string() + " does not exist");
    }
  }
  try {
    if (!file.empty()) {
      logger = spdlog::basic_logger_mt("hangar-tray", file);
    } else if (to_stderr) {
      logger = spdlog::stderr_logger_mt("hangar-tray");
    } else {
      logger = std::make_shared<spdlog::logger>("hangar-tray",
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
  } catch (const spdlog::spdlog_ex& e) {
    return core::make_error("log", "cannot open the log " + file + ": " + e.what());
  }
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace hangar::tray
