// hangar-tray on Windows: a GUI-subsystem process (no console window) with a notification-area
// icon; the monitor runs on its own thread, the window's thread runs the message loop.
#include <windows.h>

#include <shellapi.h>

#include <cwctype>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "../app/logging.h"
#include "../app/monitor.h"
#include "../app/print_view.h"
#include "hangar/core/paths.h"
#include "hangar/core/stop.h"
#include "hangar/core/win_text.h"
#include "hangar/tray/options.h"
#include "tray_window.h"

namespace {

// The command line as UTF-8 (main's argv is in the ANSI code page).
std::vector<std::string> utf8_arguments() {
  std::vector<std::string> args;
  int count = 0;
  LPWSTR* wide = CommandLineToArgvW(GetCommandLineW(), &count);
  for (int i = 1; wide && i < count; ++i) args.push_back(hangar::core::win::to_utf8(wide[i]));
  if (wide) LocalFree(wide);
  return args;
}

void complain(const std::string& text) {
  MessageBoxW(nullptr, hangar::core::win::to_wide(text).c_str(), L"hangar-tray",
              MB_OK | MB_ICONERROR);
}

}  // namespace

int main() {
  using namespace hangar::tray;
  auto options = parse_options(utf8_arguments(), hangar::core::env("HANGAR_ENDPOINT"));
  if (!options || options->help) {
    complain(options ? usage_text() : options.error().message + "\n\n" + usage_text());
    return options ? 0 : 2;
  }
  if (auto log = setup_logging(options->log_file, /*to_stderr=*/false); !log) {
    complain(log.error().message);
    return 1;
  }
  if (options->dry_run) {
    // No icon: what would be shown goes to standard output until the process is ended.
    PrintView view;
    Monitor monitor(options->endpoint, options->coalesce, view);
    monitor.run(hangar::core::StopToken{});
    return 0;
  }
  // One tray per session and service: the Run key starts one at logon, and a second started by
  // hand would show a second icon and every balloon twice. (Local\: this session only.)
  std::wstring endpoint_key = hangar::core::win::to_wide(options->endpoint).substr(0, 200);
  for (auto& c : endpoint_key) {
    if (c == L'\\') c = L'_';  // a backslash would name a kernel namespace
    // Pipe names are case-insensitive: one service however it is spelled (black-box round 13).
    c = static_cast<wchar_t>(std::towlower(static_cast<wint_t>(c)));
  }
  const std::wstring instance_name = L"Local\\hangar-tray-" + endpoint_key;
  HANDLE instance = CreateMutexW(nullptr, FALSE, instance_name.c_str());
  if (instance != nullptr && GetLastError() == ERROR_ALREADY_EXISTS) {
    spdlog::info("hangar-tray: already running in this session for {}", options->endpoint);
    CloseHandle(instance);
    return 0;
  }
  // Restart Manager closes the tray during an MSI upgrade (WM_ENDSESSION); this brings it back.
  RegisterApplicationRestart(nullptr, 0);
  TrayWindow window;
  if (auto created = window.create(GetModuleHandleW(nullptr)); !created) {
    spdlog::error("{}", created.error().message);
    complain(created.error().message);
    return 1;
  }
  Monitor monitor(options->endpoint, options->coalesce, window);
  window.attach(monitor);
  hangar::core::StopThread watcher(
      [&monitor](const hangar::core::StopToken& stop) { monitor.run(stop); });
  MSG message;
  while (GetMessageW(&message, nullptr, 0, 0) > 0) {
    TranslateMessage(&message);
    DispatchMessageW(&message);
  }
  spdlog::info("hangar-tray: quit");
  window.finish_commands();  // a menu command may still use the monitor
  watcher.stop_and_join();
  if (instance != nullptr) CloseHandle(instance);
  return 0;
}
