// hangar-tray on Linux: no icon (there is no common tray on Linux desktops), desktop
// notifications through libnotify with the same policy as the Windows balloons.
#include <signal.h>

#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "../app/logging.h"
#include "../app/monitor.h"
#include "../app/print_view.h"
#include "hangar/core/paths.h"
#include "hangar/core/stop.h"
#include "hangar/tray/options.h"
#include "notify_view.h"

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
