// Per-platform default locations (see paths.h).
#include "hangar/core/paths.h"

#include <cstdlib>

#ifdef _WIN32
#include <windows.h>
// After windows.h:
#include <knownfolders.h>
#include <shlobj.h>

#include "hangar/core/win_text.h"
#else
#include <unistd.h>
#endif

namespace hangar::core {

std::string env(const char* name) {
#ifdef _WIN32
  // The wide API, so a value outside the ANSI code page (a user name in a path) survives as UTF-8.
  std::wstring wide_name(name, name + std::char_traits<char>::length(name));
  DWORD size = ::GetEnvironmentVariableW(wide_name.c_str(), nullptr, 0);
  if (size == 0) return {};
  std::wstring value(size, L'\0');
  DWORD written = ::GetEnvironmentVariableW(wide_name.c_str(), value.data(), size);
  if (written == 0 || written >= size) return {};
  value.resize(written);
  return win::to_utf8(value);
#else
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
#endif
}

std::filesystem::path default_data_dir() {
#ifdef _WIN32
  // The known folder, not %ProgramData%: a service's environment is built for its account and
  // need not carry the variable (under Wine's service manager it names C:\users\Public), while
  // the MSI creates and secures the folder it resolves through the known folder.
  wchar_t* known = nullptr;
  if (SUCCEEDED(::SHGetKnownFolderPath(FOLDERID_ProgramData, KF_FLAG_DEFAULT, nullptr, &known))) {
    std::filesystem::path base(known);
    ::CoTaskMemFree(known);
    return base / "Hangar";
  }
  ::CoTaskMemFree(known);
  std::string base = env("ProgramData");
  if (base.empty()) base = "C:\\ProgramData";
  return std::filesystem::path(std::u8string(base.begin(), base.end())) / "Hangar";
#else
  if (geteuid() == 0) return "/var/lib/hangar";
  std::string state = env("XDG_STATE_HOME");
  if (!state.empty()) return std::filesystem::path(state) / "hangar";
  std::string home = env("HOME");
  return std::filesystem::path(home.empty() ? "/tmp" : home) / ".local/state/hangar";
#endif
}

std::string default_endpoint() {
#ifdef _WIN32
  return R"(\\.\pipe\hangar)";
#else
  if (geteuid() == 0) return "/run/hangar/hangar.sock";
  std::string runtime = env("XDG_RUNTIME_DIR");
  if (!runtime.empty()) return runtime + "/hangar/hangar.sock";
  return (default_data_dir() / "run" / "hangar.sock").string();
#endif
}

std::string default_client_endpoint() {
#ifndef _WIN32
  if (geteuid() != 0) {
    const std::string own = default_endpoint();
    const std::string system = "/run/hangar/hangar.sock";
    std::error_code ec;
    if (!std::filesystem::exists(own, ec) && std::filesystem::exists(system, ec)) return system;
  }
#endif
  return default_endpoint();
}

std::filesystem::path default_config_file(const std::filesystem::path& data_dir) {
  return data_dir / "hangar.json";
}

std::string path_to_utf8(const std::filesystem::path& path) {
  const std::u8string text = path.u8string();
  return std::string(text.begin(), text.end());
}

}  // namespace hangar::core
