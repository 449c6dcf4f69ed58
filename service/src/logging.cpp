// spdlog set-up for hangard (see logging.h).
#include "logging.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <vector>

#include "log_file.h"
#include "redact.h"
#include "trust.h"

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
  const auto dir = data_dir / "logs";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return core::make_error("log_error",
                            "cannot create the log folder " + dir.string() + ": " + ec.message());
  }
  // A log folder another user could write to would let them plant a link as the log.
  if (auto trusted = check_trusted_directory(dir, "log folder"); !trusted) return trusted;
  auto file = make_log_file_sink(dir / "hangard.log", 5 * 1024 * 1024, 5);
  if (!file) return std::move(file).error();
  sinks.push_back(std::move(file).value());
  if (console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto redacting = std::make_shared<RedactingSink>(std::move(sinks));
  auto logger = std::make_shared<spdlog::logger>("hangard", redacting);
  logger->set_level(spdlog::level::from_str(level));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace hangar::service
