// spdlog set-up for hangard (see logging.h).
#include "logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace hangar::service {

core::Status setup_logging(const std::filesystem::path& data_dir, const std::string& level,
                           bool console) {
  std::vector<spdlog::sink_ptr> sinks;
  try {
    auto dir = data_dir / "logs";
    std::filesystem::create_directories(dir);
    sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        (dir / "hangard.log").string(), 5 * 1024 * 1024, 5));
    if (console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  } catch (const std::exception& e) {
    return core::make_error("log_error",
                            "cannot open the log in " + data_dir.string() + ": " + e.what());
  }
  auto logger = std::make_shared<spdlog::logger>("hangard", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(level));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace hangar::service
