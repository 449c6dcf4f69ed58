// hangar-tray on Linux: no icon (there is no common tray on Linux desktops), desktop
// notifications through libnotify with the same policy as the Windows balloons.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "../app/logging.h"
#include "../app/monitor.h"
#include "../app/print_view.h"
#include "hangar/core/paths.h"
#include "hangar/core/stop.h"
#include "hangar/tray/options.h"
#include "notify_view.h"

namespace {

enum class Instance { kFirst, kSecond, kUnknown };

// One tray per user and service, as on Windows (a session mutex there): a second, started by hand
// beside the desktop's autostart one, would show every notification twice. An flock on a file in
// the user's runtime directory (else /tmp), named after the uid and the endpoint; the kernel
// drops it when the process ends, however it ends. The descriptor stays open on purpose. A file
// that is not the user's own (planted in /tmp by someone else) is not trusted to decide: kUnknown.
Instance claim_instance(const std::string& endpoint) {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  struct stat st {};
  const std::string dir =
      runtime != nullptr && *runtime == '/' && ::stat(runtime, &st) == 0 && S_ISDIR(st.st_mode)
          ? std::string(runtime)
          : std::string("/tmp");
  // The socket itself, not its spelling: /var/run/... (a symlink to /run on Debian) or a "./" in
  // the path reach the same service (black-box round 13: two trays announced every device twice).
  std::error_code ec;
  std::string socket = std::filesystem::weakly_canonical(endpoint, ec).string();
  if (ec || socket.empty()) socket = endpoint;
  const std::string path = dir + "/hangar-tray-" + std::to_string(::getuid()) + "-" +
                           std::to_string(std::hash<std::string>{}(socket)) + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Instance::kUnknown;
  if (::fstat(fd, &st) != 0 || st.st_uid != ::getuid() || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Instance::kUnknown;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Instance::kSecond;
  }
  return Instance::kFirst;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hangar::tray;
  auto options = parse_options(std::vector<std::string>(argv + 1, argv + argc),
                               hangar::core::env("HANGAR_ENDPOINT"));
  if (!options) {
    std::fprintf(stderr, "hangar-tray: %s\n%s", options.error().message.c_str(),
                 usage_text().c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (auto log = setup_logging(options->log_file, /*to_stderr=*/true); !log) {
    std::fprintf(stderr, "hangar-tray: %s\n", log.error().message.c_str());
    return 1;
  }

  switch (claim_instance(options->endpoint)) {
    case Instance::kSecond:
      spdlog::info("hangar-tray: already running for {} (this user); this one ends",
                   options->endpoint);
      return 0;
    case Instance::kUnknown:
      spdlog::warn("hangar-tray: cannot tell whether another hangar-tray runs for {}; going on",
                   options->endpoint);
      break;
    case Instance::kFirst:
      break;
  }

  // SIGINT/SIGTERM end the process cleanly: blocked here, taken by a sigwait thread (a handler
  // could not safely request the stop).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  PrintView print_view;
  NotifyView notify_view;
  TrayView* view = &print_view;
  if (!options->dry_run) {
    if (auto ready = notify_view.init(); !ready) {
      spdlog::error("{}", ready.error().message);
      return 1;
    }
    view = &notify_view;
  }
  Monitor monitor(options->endpoint, options->coalesce, *view);
  hangar::core::StopThread watcher(
      [&monitor](const hangar::core::StopToken& stop) { monitor.run(stop); });
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("hangar-tray: stopping (signal {})", signal_number);
  watcher.stop_and_join();
  return 0;
}
