// Request counters (see stats.h).
#include "stats.h"

namespace hangar::cloudsim {

void Stats::record(const std::string& endpoint, int status) {
  const std::string key = std::to_string(status);
  ++all_.total;
  ++all_.by_status[key];
  auto& e = by_endpoint_[endpoint];
  ++e.total;
  ++e.by_status[key];
}

void Stats::throttled(const std::string& endpoint, bool retry_after_sent) {
  ++throttled_;
  if (!retry_after_sent) ++throttled_without_retry_after_;
  ++throttled_by_endpoint_[endpoint];
}

nlohmann::json Stats::to_json() const {
  nlohmann::json endpoints = nlohmann::json::object();
  for (const auto& [name, c] : by_endpoint_) {
    endpoints[name] = {{"total", c.total}, {"by_status", c.by_status}};
  }
  return {
      {"requests",
       {{"total", all_.total}, {"by_status", all_.by_status}, {"by_endpoint", endpoints}}},
      {"throttled",
       {{"total", throttled_},
        {"without_retry_after", throttled_without_retry_after_},
        {"by_endpoint", throttled_by_endpoint_}}},
      {"faults",
       {{"error_5xx", faults_[0]},
        {"dropped", faults_[1]},
        {"dropped_after_processing", faults_[2]},
        {"malformed", faults_[3]}}},
  };
}

}  // namespace hangar::cloudsim
