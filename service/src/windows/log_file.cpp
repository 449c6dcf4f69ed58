// Windows: spdlog's rotating file sink (see log_file.h).
#include "../log_file.h"

#include <spdlog/sinks/rotating_file_sink.h>

namespace hangar::service {

core::Result<std::shared_ptr<spdlog::sinks::sink>> make_log_file_sink(
    const std::filesystem::path& path, std::size_t max_size, std::size_t max_files) {
  try {
    return std::shared_ptr<spdlog::sinks::sink>(
        std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path.string(), max_size, max_files));
  } catch (const std::exception& e) {
    return core::make_error("log_error", "cannot open the log " + path.string() + ": " + e.what());
  }
}

}  // namespace hangar::service
