// Service registration for hangard: CreateServiceW with description and failure actions, and
// stop-then-DeleteService for uninstall.
#include "service_install.h"

#include <windows.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "event_log.h"
#include "hangar/service/options.h"
#include "win_text.h"

namespace hangar::service::win {
namespace {

using namespace std::chrono_literals;

constexpr const wchar_t* kDisplayName = L"Hangar Autopilot registration service";
constexpr const wchar_t* kDescription =
    L"Queues Windows Autopilot hardware hashes captured in the staging room and registers the "
    L"devices with Intune. Clients talk to it over a local named pipe.";
constexpr auto kStopTimeout = 60s;

// Owns an SC_HANDLE (CloseServiceHandle, not CloseHandle).
class ScHandle {
 public:
  explicit ScHandle(SC_HANDLE handle = nullptr) : handle_(handle) {}
  ~ScHandle() {
    if (handle_ != nullptr) ::CloseServiceHandle(handle_);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  SC_HANDLE get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  SC_HANDLE handle_;
};

struct HostArgs {
  std::string name = kDefaultServiceName;
  bool auto_start = false;
  std::vector<std::string> service_flags;
};

// Splits the host's own flags (--name, --auto) from the flags the service itself will get.
std::optional<HostArgs> parse_host_args(const std::vector<std::string>& args, bool allow_flags) {
  HostArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--name" || arg.rfind("--name=", 0) == 0) {
      if (arg == "--name") {
        if (i + 1 >= args.size()) {
          std::cerr << "hangard: --name needs a value\n";
          return std::nullopt;
        }
        out.name = args[++i];
      } else {
        out.name = arg.substr(7);
      }
    } else if (arg == "--auto" && allow_flags) {
      out.auto_start = true;
    } else if (allow_flags) {
      out.service_flags.push_back(arg);
    } else {
      std::cerr << "hangard: unexpected argument \"" << arg << "\"\n" << host_usage();
      return std::nullopt;
    }
  }
  if (out.name.empty() || out.name.find_first_of("/\\") != std::string::npos) {
    std::cerr << "hangard: invalid service name \"" << out.name << "\"\n";
    return std::nullopt;
  }
  return out;
}

// Restart after 5 s, then 10 s, then every 60 s; the count resets after a day without failures.
std::string apply_failure_actions(SC_HANDLE service) {
  SC_ACTION actions[3] = {
      {SC_ACTION_RESTART, 5'000}, {SC_ACTION_RESTART, 10'000}, {SC_ACTION_RESTART, 60'000}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = 24 * 60 * 60;
  failure.cActions = 3;
  failure.lpsaActions = actions;
  if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure)) {
    return "cannot set the failure actions: " + last_error_text();
  }
  // Also restart after a non-zero exit code, not only after a crash. Wine's service manager does
  // not know this level (error 124): the actions above still apply to crashes there.
  SERVICE_FAILURE_ACTIONS_FLAG flag{TRUE};
  if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag)) {
    std::cerr << "hangard: warning: a non-zero exit will not count as a failure: "
              << last_error_text() << "\n";
  }
  return {};
}

// The description and failure actions are best effort for a development install: the service
// works without them, so a refusal is a warning, not a failure.
void configure_recovery(SC_HANDLE service, const std::string& name) {
  SERVICE_DESCRIPTIONW description{const_cast<wchar_t*>(kDescription)};
  if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description)) {
    std::cerr << "hangard: warning: cannot set the description of " << name << ": "
              << last_error_text() << "\n";
  }
  if (auto error = apply_failure_actions(service); !error.empty()) {
    std::cerr << "hangard: warning: " << name << ": " << error << "\n";
  }
}

// Polls until the service reports STOPPED or the timeout passes.
bool wait_until_stopped(SC_HANDLE service) {
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  for (;;) {
    SERVICE_STATUS_PROCESS status{};
    DWORD needed = 0;
    if (!::QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status),
                                sizeof(status), &needed)) {
      return false;
    }
    if (status.dwCurrentState == SERVICE_STOPPED) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(250ms);
  }
}

}  // namespace

std::wstring this_executable() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD size = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (size == 0) return {};
    if (size < path.size()) {
      path.resize(size);
      return path;
    }
    path.resize(path.size() * 2);  // truncated: long path
  }
}

std::string set_failure_actions(const std::string& name) {
  ScHandle manager(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!manager) return "cannot open the service control manager: " + last_error_text();
  ScHandle service(
      ::OpenServiceW(manager.get(), to_wide(name).c_str(), SERVICE_CHANGE_CONFIG | SERVICE_START));
  if (!service) return "cannot open service " + name + ": " + last_error_text();
  return apply_failure_actions(service.get());
}

std::string describe_failure_actions(const std::string& name, std::string& error) {
  ScHandle manager(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!manager) {
    error = "cannot open the service control manager: " + last_error_text();
    return {};
  }
  ScHandle service(::OpenServiceW(manager.get(), to_wide(name).c_str(), SERVICE_QUERY_CONFIG));
  if (!service) {
    error = "cannot open service " + name + ": " + last_error_text();
    return {};
  }
  DWORD needed = 0;
  ::QueryServiceConfig2W(service.get(), SERVICE_CONFIG_FAILURE_ACTIONS, nullptr, 0, &needed);
  std::vector<BYTE> buffer(std::max(needed, static_cast<DWORD>(sizeof(SERVICE_FAILURE_ACTIONSW))));
  if (!::QueryServiceConfig2W(service.get(), SERVICE_CONFIG_FAILURE_ACTIONS, buffer.data(),
                              static_cast<DWORD>(buffer.size()), &needed)) {
    error = "cannot read the failure actions of " + name + ": " + last_error_text();
    return {};
  }
  const auto* failure = reinterpret_cast<const SERVICE_FAILURE_ACTIONSW*>(buffer.data());
  std::string text;
  for (DWORD i = 0; i < failure->cActions; ++i) {
    const SC_ACTION& action = failure->lpsaActions[i];
    if (!text.empty()) text += ", ";
    switch (action.Type) {
      case SC_ACTION_RESTART:
        text += "restart";
        break;
      case SC_ACTION_REBOOT:
        text += "reboot";
        break;
      case SC_ACTION_RUN_COMMAND:
        text += "run command";
        break;
      default:
        text += "none";
        break;
    }
    text += " " + std::to_string(action.Delay / 1000) + " s";
  }
  if (text.empty()) text = "none";
  text += "; reset after " + std::to_string(failure->dwResetPeriod) + " s";
  return text;
}

std::string host_usage() {
  return "usage: hangard [service flags]                  run as a service (or in the console)\n"
         "       hangard console [service flags]          run in the foreground\n"
         "       hangard install [--name NAME] [--auto] [service flags]\n"
         "       hangard uninstall [--name NAME]\n"
         "       hangard setup [--verify | --uninstall [--remove-data]] [--name NAME] [--data-dir "
         "DIR]\n"
         "                                                (the MSI's custom actions, as SYSTEM)\n"
         "The service name defaults to \"" +
         std::string(kDefaultServiceName) + "\"; --auto starts it at boot.\n" + usage();
}

int install_service(const std::vector<std::string>& args) {
  auto host = parse_host_args(args, true);
  if (!host) return 2;
  // Refuse flags the service would reject at start, while someone is there to read the error.
  if (auto options = parse_options(host->service_flags); !options) {
    std::cerr << "hangard: " << options.error().message << "\n";
    return 2;
  }
  const std::wstring exe = this_executable();
  if (exe.empty()) {
    std::cerr << "hangard: cannot find this executable's path: " << last_error_text() << "\n";
    return 1;
  }
  // The path is quoted so a space in it cannot be read as a different program.
  std::wstring command_line = L"\"" + exe + L"\"";
  for (const auto& flag : host->service_flags) command_line += L" " + quote_argument(to_wide(flag));

  ScHandle manager(
      ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
  if (!manager) {
    std::cerr << "hangard: cannot open the service control manager (run as administrator): "
              << last_error_text() << "\n";
    return 1;
  }
  const std::wstring name = to_wide(host->name);
  ScHandle service(::CreateServiceW(
      manager.get(), name.c_str(), kDisplayName,
      SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS | SERVICE_START,  // restart actions need START
      SERVICE_WIN32_OWN_PROCESS, host->auto_start ? SERVICE_AUTO_START : SERVICE_DEMAND_START,
      SERVICE_ERROR_NORMAL, command_line.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!service) {
    const DWORD error = ::GetLastError();
    std::cerr << "hangard: cannot create service " << host->name << ": " << error_text(error);
    if (error == ERROR_SERVICE_EXISTS) {
      std::cerr << "; run `hangard uninstall --name " << host->name << "` first";
    }
    std::cerr << "\n";
    return 1;
  }
  configure_recovery(service.get(), host->name);
  if (auto error = register_event_source(host->name, exe); !error.empty()) {
    std::cerr << "hangard: warning: the event source: " << error << "\n";
  }
  std::cout << "installed service " << host->name << " ("
            << (host->auto_start ? "automatic" : "manual") << " start): " << to_utf8(command_line)
            << "\n";
  return 0;
}

int uninstall_service(const std::vector<std::string>& args) {
  auto host = parse_host_args(args, false);
  if (!host) return 2;
  ScHandle manager(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!manager) {
    std::cerr << "hangard: cannot open the service control manager: " << last_error_text() << "\n";
    return 1;
  }
  ScHandle service(::OpenServiceW(manager.get(), to_wide(host->name).c_str(),
                                  SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (!service) {
    const DWORD error = ::GetLastError();
    if (error == ERROR_SERVICE_DOES_NOT_EXIST) {
      std::cout << "service " << host->name << " is not installed; nothing to do\n";
      return 0;
    }
    std::cerr << "hangard: cannot open service " << host->name << ": " << error_text(error) << "\n";
    return 1;
  }
  SERVICE_STATUS status{};
  if (::ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
    std::cout << "stopping " << host->name << "...\n";
  } else if (const DWORD error = ::GetLastError();
             error != ERROR_SERVICE_NOT_ACTIVE && error != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
    std::cerr << "hangard: cannot stop " << host->name << ": " << error_text(error) << "\n";
    return 1;
  }
  if (!wait_until_stopped(service.get())) {
    std::cerr << "hangard: " << host->name << " did not stop within "
              << std::chrono::duration_cast<std::chrono::seconds>(kStopTimeout).count()
              << " s; not deleting it\n";
    return 1;
  }
  if (!::DeleteService(service.get())) {
    std::cerr << "hangard: cannot delete " << host->name << ": " << last_error_text() << "\n";
    return 1;
  }
  if (auto error = unregister_event_source(host->name); !error.empty()) {
    std::cerr << "hangard: warning: the event source: " << error << "\n";
  }
  std::cout << "removed service " << host->name << "\n";
  return 0;
}

}  // namespace hangar::service::win
