// hangard on Windows: picks the host (SCM service, console, install, uninstall, setup) and hands
// over.
#include <iostream>
#include <string>
#include <vector>

#include "console_host.h"
#include "hangar/core/version.h"
#include "scm_host.h"
#include "service_install.h"
#include "setup.h"
#include "win_text.h"

int main() {
  namespace win = hangar::service::win;
  std::vector<std::string> args = win::command_line_args();
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h" || arg == "/?") {
      std::cout << win::host_usage();
      return 0;
    }
    if (arg == "--version") {
      std::cout << "hangard " << hangar::core::kVersion << "\n";
      return 0;
    }
  }
  const std::string command = args.empty() ? std::string() : args.front();
  const std::vector<std::string> rest =
      args.empty() ? args : std::vector<std::string>(args.begin() + 1, args.end());
  if (command == "console") return win::run_console(rest);
  if (command == "install") return win::install_service(rest);
  if (command == "uninstall") return win::uninstall_service(rest);
  if (command == "setup") return win::run_setup(rest);

  // No subcommand: the SCM started us (binPath flags are our arguments), or someone ran the exe by
  // hand, in which case the dispatcher refuses and the same flags run in the console.
  if (auto code = win::run_as_service(args)) return *code;
  return win::run_console(args);
}
