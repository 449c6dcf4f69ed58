// Per-platform default locations (see paths.h).
#include "hangar/core/paths.h"

#include <cstdlib>

#ifndef _WIN32
#include <unistd.h>
#endif

namespace hangar::core {

std::string env(const char* name) {
#ifdef _WIN32
  char* value = nullptr;
  size_t len = 0;
  if (_dupenv_s(&value, &len, name) != 0 || value == nullptr) return {};
  std::string out(value);
  free(value);
  return out;
#else
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
#endif
}

std::filesystem::path default_data_dir() {
#ifdef _WIN32
  std::string base = env("ProgramData");
  if (base.empty()) base = "C:\\ProgramData";
  return std::filesystem::path(base) / "Hangar";
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

std::filesystem::path default_config_file(const std::filesystem::path& data_dir) {
  return data_dir / "hangar.json";
}

}  // namespace hangar::core
