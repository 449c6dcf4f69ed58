// Console mode for hangard: service::run() in the foreground, stopped by console control events.
#include "console_host.h"

#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include "hangar/core/stop.h"

#include "hangar/service/options.h"
#include "hangar/service/run.h"

namespace hangar::service::win {
namespace {

using namespace std::chrono_literals;

// Windows kills the process about 5 s after a close/logoff/shutdown event is delivered, and as
// soon as the handler returns: wait a little less than that for the clean shutdown.
constexpr auto kCloseGrace = 4500ms;

// SetConsoleCtrlHandler takes no context pointer, so the handler finds its stop source here. It is
// a function-local static, alive until the process exits, because the handler runs on a thread of
// its own and may still be waiting when run_console() returns.
struct ConsoleSession {
  core::StopSource stop;
  std::mutex mutex;
  std::condition_variable finished_changed;
  bool finished = false;
};

ConsoleSession& session() {
  static ConsoleSession instance;
  return instance;
}

BOOL WINAPI on_console_event(DWORD event) {
  ConsoleSession& s = session();
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
      s.stop.request_stop();
      return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT: {
      s.stop.request_stop();
      std::unique_lock lock(s.mutex);
      s.finished_changed.wait_for(lock, kCloseGrace, [&] { return s.finished; });
      return TRUE;
    }
    default:
      return FALSE;
  }
}

}  // namespace

int run_console(const std::vector<std::string>& args) {
  auto options = parse_options(args);
  if (!options) {
    std::cerr << "hangard: " << options.error().message << "\n";
    if (options.error().code == "usage") std::cerr << usage();
    return 2;
  }
  options->console_log = true;

  ConsoleSession& s = session();
  ::SetConsoleCtrlHandler(&on_console_event, TRUE);
  const int code = service::run(*options, s.stop.token(), [] {});
  {
    std::lock_guard lock(s.mutex);
    s.finished = true;
  }
  s.finished_changed.notify_all();
  ::SetConsoleCtrlHandler(&on_console_event, FALSE);
  return code;
}

}  // namespace hangar::service::win
