// What the benchmarks that start real binaries share: a work directory kept on request, the tail
// of a log for error messages, and the OEM naming used for generated devices.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "child_process.h"
#include "test_support.h"

namespace hangar::bench {

// The run's directory (CSV, logs, databases): removed at the end unless --keep asks to look at
// it afterwards, e.g. to profile a binary on the very same input.
class WorkDir {
 public:
  WorkDir(const std::string& prefix, bool keep)
      : path_(std::filesystem::temp_directory_path() / (prefix + test::unique_suffix())),
        keep_(keep) {
    std::filesystem::create_directories(path_);
  }
  ~WorkDir() {
    if (keep_) {
      std::printf("kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool keep_;
};

// The last lines of a log, enough to see why a step failed without flooding the terminal.
inline std::string tail_of(const std::filesystem::path& log, std::size_t max_chars = 2000) {
  std::string text = test::read_file(log);
  return text.size() > max_chars ? "..." + text.substr(text.size() - max_chars) : text;
}

// Serial prefixes and models in the style of the big OEMs, so a file looks like a mixed fleet.
struct Oem {
  const char* manufacturer;
  const char* model;
  const char* serial_prefix;
};
inline constexpr std::array<Oem, 4> kOems = {{
    {"LENOVO", "20XW0026GE", "PF"},
    {"HP", "HP EliteBook 840 G10", "5CG"},
    {"Dell Inc.", "Latitude 7440", "DL"},
    {"Microsoft Corporation", "Surface Laptop 5", "0F"},
}};

}  // namespace hangar::bench
