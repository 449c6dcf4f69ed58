// Request counters for the admin API: per endpoint and status, 429s and injected faults.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace hangar::cloudsim {

enum class Fault { kError5xx, kDropped, kDroppedAfterProcessing, kMalformed };

class Stats {
 public:
  void record(const std::string& endpoint, int status);
  void throttled(const std::string& endpoint, bool retry_after_sent);
  void fault(Fault kind) { ++faults_[static_cast<std::size_t>(kind)]; }
  // {"requests": {"total", "by_status", "by_endpoint": {id: {"total", "by_status"}}},
  //  "throttled": {"total", "without_retry_after", "by_endpoint"},
  //  "faults": {"error_5xx", "dropped", "dropped_after_processing", "malformed"}}
  nlohmann::json to_json() const;
  void reset() { *this = Stats{}; }

 private:
  struct Counts {
    std::uint64_t total = 0;
    std::map<std::string, std::uint64_t> by_status;  // "200": n (JSON object keys are strings)
  };
  Counts all_;
  std::map<std::string, Counts> by_endpoint_;
  std::uint64_t throttled_ = 0;
  std::uint64_t throttled_without_retry_after_ = 0;
  std::map<std::string, std::uint64_t> throttled_by_endpoint_;
  std::array<std::uint64_t, 4> faults_{};
};

}  // namespace hangar::cloudsim
