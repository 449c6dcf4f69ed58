// Starts the real hangar-cloudsim for end-to-end tests: the scenario written to the test's
// directory, a free loopback port, and the URL read from the one line it prints when ready.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "child_process.h"

namespace hangar::test {

// The simulator's URL, or nullopt (with its output in `why`) when it did not come up in 15 s.
inline std::optional<std::string> start_cloudsim(const std::string& binary,
                                                 const nlohmann::json& scenario,
                                                 const std::filesystem::path& dir,
                                                 std::unique_ptr<Process>& process,
                                                 std::string& why) {
  std::ofstream(dir / "scenario.json") << scenario.dump();
  process = std::make_unique<Process>(std::vector<std::string>{binary, "--port", "0", "--scenario",
                                                               (dir / "scenario.json").string()},
                                      dir / "cloudsim.out");
  WaitingFor waiting("hangar-cloudsim to say where it listens (" + (dir / "cloudsim.out").string() +
                     ")");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = read_file(dir / "cloudsim.out");
    const auto at = out.find("listening on ");
    if (at != std::string::npos) return out.substr(at + 13, out.find('\n', at) - at - 13);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  why = read_file(dir / "cloudsim.out");
  return std::nullopt;
}

}  // namespace hangar::test
