// hangard on POSIX: a foreground process; SIGTERM or SIGINT stops it gracefully.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "hangar/core/stop.h"
#include "hangar/core/version.h"
#include "hangar/service/run.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << hangar::service::usage();
      return 0;
    }
    if (arg == "--version") {
      std::cout << "hangard " << hangar::core::kVersion << "\n";
      return 0;
    }
  }
  auto options = hangar::service::parse_options(args);
  if (!options) {
    std::cerr << "hangard: " << options.error().message << "\n";
    if (options.error().code == "usage") std::cerr << hangar::service::usage();
    return 2;
  }
  options->console_log = true;

  // Signals are taken by one thread with sigwait, so no handler runs in an arbitrary context.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  hangar::core::StopSource stop;
  hangar::core::StopThread waiter([&](const hangar::core::StopToken& token) {
    while (!token.stop_requested()) {
      timespec timeout{0, 200'000'000};
      int sig = sigtimedwait(&signals, nullptr, &timeout);
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
        stop.request_stop();
        return;
      }
    }
  });
  int code = hangar::service::run(*options, stop.token(), [] {});
  waiter.stop_and_join();
  return code;
}
