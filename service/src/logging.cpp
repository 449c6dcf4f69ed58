// spdlog set-up for hangard (see logging.h).
#include "logging.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <vector>

#include "redact.h"

namespace hangar::service {

namespace {

// Every message passes through redact() before any sink formats it: no secret or bearer token
// reaches the log file or the console, whatever a caller or a library put into the message.
class RedactingSink final : public spdlog::sinks::dist_sink<std::mutex> {
 public:
  explicit RedactingSink(std::vector<spdlog::sink_ptr> sinks)
      : spdlog::sinks::dist_sink<std::mutex>(std::move(sinks)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string clean = redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy(msg);
    copy.payload = spdlog::string_view_t(clean.data(), clean.size());
    spdlog::sinks::dist_sink<std::mutex>::sink_it_(copy);
  }
};

}  // namespace

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
  auto redacting = std::make_shared<RedactingSink>(std::move(sinks));
  auto logger = std::make_shared<spdlog::logger>("hangard", redacting);
  logger->set_level(spdlog::level::from_str(level));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace hangar::service
