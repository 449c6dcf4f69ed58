// What bench/upload's two sides share (upload.cpp: hangard; upload_baseline.cpp: the naive
// script): the scenario and its limits, the generated devices, the simulator process and its
// counters, the settings and a side's result.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "child_process.h"
#include "hangar/cloud/http.h"
#include "hangar/core/hash_builder.h"
#include "test_support.h"

namespace upload_bench {

namespace fs = std::filesystem;
using hangar::bench::kOems;
using hangar::bench::tail_of;
using hangar::bench::WorkDir;
using namespace std::chrono_literals;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kDefaultDevices = 5000;
// 5: the simulator's 5-minute registration takes a minute, and a 30 s poll interval is 6 s, long
// enough that a poll pass over 5,000 devices at 50 ms a request still fits inside it (as it does
// at full scale). A larger scale would shorten the run but squeeze the passes together.
constexpr double kDefaultTimeScale = 5;
constexpr double kSmokeTimeScale = 60;
constexpr std::size_t kSmokeDevices = 100;
constexpr double kDefaultBaselineLimitSeconds = 1800;
// The scenario: the simulator's own default registration timing, 50 ms on every Graph answer.
constexpr double kDelaySeconds = 300;  // simulated; the simulator's default
constexpr double kJitterSeconds = 60;  // simulated; uniform [0, 60] on top
constexpr int kLatencyMs = 50;
// The simulator's default throttle (DOMAIN.md's Intune figures), real time.
constexpr int kWriteLimit = 100;
constexpr int kRequestLimit = 1000;
constexpr double kThrottleWindowSeconds = 20;
// hangard's default poll interval and the script's Start-Sleep 30, both simulated seconds.
constexpr double kPollSeconds = 30;
constexpr const char* kGroupTag = "Microsoft365Managed_Autopilot";
constexpr const char* kTenant = "11111111-1111-4111-8111-111111111111";
constexpr const char* kClientId = "22222222-2222-4222-8222-222222222222";
constexpr const char* kClientSecret = "hangar-cloudsim-secret";
constexpr const char* kOsBuild = "10.0.22631.2861";
// The Graph PowerShell SDK's retry handler: up to 3 retries of a 429, each after Retry-After.
constexpr int kScriptMaxRetries = 3;

// Targets (the issue).
constexpr double kTargetRequestsPerDevice = 0.1;
constexpr double kTargetRatio = 100;
constexpr std::size_t kTargetMax429PerWindow = 1;

inline double since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

struct Device {
  std::string serial;
  std::string hash_base64;
};

// Every device valid and unique: a distinct serial and seed per device, realistic 4 KB hashes.
inline std::vector<Device> make_devices(std::size_t count) {
  std::vector<Device> devices;
  devices.reserve(count);
  char serial[32];
  for (std::size_t i = 0; i < count; ++i) {
    const hangar::bench::Oem& oem = kOems[i % kOems.size()];
    std::snprintf(serial, sizeof serial, "%s%08zu", oem.serial_prefix, i);
    devices.push_back({serial, hangar::core::HardwareHashBuilder::realistic(
                                   serial, oem.manufacturer, oem.model, kOsBuild, i + 1)
                                   .build_base64()});
  }
  return devices;
}

// Get-WindowsAutoPilotInfo's own CSV (CRLF, Product ID empty), read by `hangar import`.
inline bool write_csv(const fs::path& path, const std::vector<Device>& devices) {
  std::ofstream out(path, std::ios::binary);
  out << "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
  for (const auto& device : devices) out << device.serial << ",," << device.hash_base64 << "\r\n";
  out.close();
  return static_cast<bool>(out);
}

// ---- the simulator ----------------------------------------------------------------------------

// Request counts from /_sim/stats, by what the request was for.
struct CloudCounts {
  std::uint64_t total = 0;
  std::uint64_t import = 0;  // imported.import
  std::uint64_t poll = 0;    // reads of import records and Autopilot devices
  std::uint64_t deletes = 0;
  std::uint64_t token = 0;
  std::uint64_t other = 0;
  std::uint64_t throttled = 0;  // 429s sent
  std::map<std::string, std::uint64_t> by_endpoint;
  std::map<std::string, std::uint64_t> throttled_by_endpoint;
};

inline CloudCounts counts_from(const Json& stats) {
  CloudCounts counts;
  counts.total = stats["requests"].value("total", std::uint64_t{0});
  for (const auto& [endpoint, value] : stats["requests"]["by_endpoint"].items()) {
    const std::uint64_t n = value.value("total", std::uint64_t{0});
    counts.by_endpoint[endpoint] = n;
    if (endpoint == "imported.import") {
      counts.import += n;
    } else if (endpoint == "imported.list" || endpoint == "imported.get" ||
               endpoint == "autopilot.list" || endpoint == "autopilot.get") {
      counts.poll += n;
    } else if (endpoint == "imported.delete") {
      counts.deletes += n;
    } else if (endpoint == "token") {
      counts.token += n;
    } else {
      counts.other += n;
    }
  }
  counts.throttled = stats["throttled"].value("total", std::uint64_t{0});
  for (const auto& [endpoint, value] : stats["throttled"]["by_endpoint"].items()) {
    counts.throttled_by_endpoint[endpoint] = value.get<std::uint64_t>();
  }
  return counts;
}

inline std::string endpoint_list(const std::map<std::string, std::uint64_t>& counts) {
  std::string text;
  for (const auto& [endpoint, n] : counts) {
    text += (text.empty() ? "" : ", ") + endpoint + " " + std::to_string(n);
  }
  return text.empty() ? "none" : text;
}

// The most events inside any window of `window_ms` (a sliding window, as the throttle's).
inline std::size_t max_in_window(std::vector<std::int64_t> times_ms, std::int64_t window_ms) {
  std::sort(times_ms.begin(), times_ms.end());
  std::size_t best = 0;
  std::size_t first = 0;
  for (std::size_t last = 0; last < times_ms.size(); ++last) {
    while (times_ms[last] - times_ms[first] >= window_ms) ++first;
    best = std::max(best, last - first + 1);
  }
  return best;
}

// hangar-cloudsim as a child process, logging one line per request (with spdlog's millisecond
// timestamp), so each 429's time can be read back afterwards.
class Simulator {
 public:
  Simulator(const fs::path& scenario, fs::path log)
      : log_(std::move(log)),
        process_({HANGAR_BENCH_CLOUDSIM, "--port", "0", "--scenario", scenario.string(),
                  "--log-requests"},
                 log_) {}
  ~Simulator() { stop(); }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  bool wait_ready() {
    const auto deadline = SteadyClock::now() + 15s;
    while (process_.started() && !process_.wait(0ms) && SteadyClock::now() < deadline) {
      const std::string out = hangar::test::read_file(log_);
      const auto at = out.find("listening on ");
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        url_ = out.substr(at + 13, out.find('\n', at) - at - 13);
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    std::cerr << "upload: hangar-cloudsim did not start\n" << tail_of(log_);
    return false;
  }
  const std::string& url() const { return url_; }

  std::optional<Json> stats() {
    auto response = transport_->send({"GET", url_ + "/_sim/stats", {}, {}}, 10s);
    if (!response || response->status != 200) {
      std::cerr << "upload: cannot read " << url_ << "/_sim/stats\n";
      return std::nullopt;
    }
    auto parsed = Json::parse(response->body, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  }

  void stop() {
    if (!process_.running()) return;
    process_.signal(SIGTERM);
    if (!process_.wait(15s)) std::cerr << "upload: hangar-cloudsim did not stop within 15 s\n";
  }

  // When each 429 was sent, in ms, from the request log ("[2026-11-25 09:44:47.202] ... -> 429").
  std::vector<std::int64_t> throttled_times_ms() const {
    std::vector<std::int64_t> times;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      if (line.find(" -> 429") == std::string::npos) continue;
      std::tm tm{};
      int millis = 0;
      if (std::sscanf(line.c_str(), "[%d-%d-%d %d:%d:%d.%d]", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
        continue;
      }
      tm.tm_year -= 1900;
      tm.tm_mon -= 1;
      times.push_back(static_cast<std::int64_t>(::timegm(&tm)) * 1000 + millis);
    }
    return times;
  }

 private:
  fs::path log_;
  hangar::test::Process process_;
  std::string url_;
  std::unique_ptr<hangar::cloud::HttpTransport> transport_ =
      hangar::cloud::make_cpprest_transport();
};

inline Json scenario_json(double time_scale) {
  return Json{
      {"description", "bench/upload"},
      {"seed", 1},
      {"time_scale", time_scale},
      // Ready for user when the import completes: the profile is assigned at once, so both sides
      // cross the same finish line (the script's -Online loop waits for the import only).
      {"registration",
       {{"delay_seconds", kDelaySeconds},
        {"jitter_seconds", kJitterSeconds},
        {"profile_delay_seconds", 0}}},
      {"faults", {{"endpoints", {"graph"}}, {"latency_ms", kLatencyMs}}},
      // "throttling" left out: the simulator's default (100 writes, 1000 requests per 20 s).
  };
}

// ---- the figures of one side ------------------------------------------------------------------

struct SideResult {
  bool finished = false;  // every device final
  double seconds = 0;     // until every device was final (or until it stopped)
  std::size_t final_devices = 0;
  std::size_t failed_devices = 0;
  std::string stopped_because;  // when not finished
  CloudCounts cloud;
  std::size_t max_429_per_window = 0;
  std::string notes;  // side-specific lines printed under the table
};

// ---- Hangar -----------------------------------------------------------------------------------

struct HangarStatus {
  std::size_t queued = 0;
  std::size_t pending = 0;
  std::size_t ready = 0;
  std::size_t failed = 0;
  std::int64_t requests = 0;   // hangard's own count of cloud calls
  std::int64_t throttled = 0;  // and of 429s received
};

inline std::optional<HangarStatus> hangar_status(const std::string& endpoint,
                                                 const fs::path& scratch) {
  auto result = hangar::test::run_command(
      {HANGAR_BENCH_HANGAR, "--endpoint", endpoint, "--json", "status"}, scratch, 30s);
  if (result.code != 0) return std::nullopt;
  const auto reply = Json::parse(result.output, nullptr, false);
  if (!reply.is_object() || !reply.contains("states")) return std::nullopt;
  const Json& states = reply["states"];
  HangarStatus status;
  status.queued = states.value("queued", std::size_t{0});
  status.pending = states.value("registration_pending", std::size_t{0});
  status.ready = states.value("ready_for_user", std::size_t{0});
  status.failed = states.value("registration_failed", std::size_t{0});
  if (reply.contains("cloud") && reply["cloud"].is_object()) {
    status.requests = reply["cloud"].value("requests", std::int64_t{0});
    status.throttled = reply["cloud"].value("throttled", std::int64_t{0});
  }
  return status;
}

struct Settings {
  std::size_t devices = kDefaultDevices;
  double time_scale = kDefaultTimeScale;
  double baseline_limit_seconds = kDefaultBaselineLimitSeconds;
  bool baseline = true;
  bool keep = false;
  double poll_real_seconds() const { return kPollSeconds / time_scale; }
  double longest_delay_real_seconds() const {
    return (kDelaySeconds + kJitterSeconds) / time_scale;
  }
  // The target: every device final within the simulator's (longest) delay plus two polls.
  double bound_seconds() const { return longest_delay_real_seconds() + 2 * poll_real_seconds(); }
};

// The naive script's side: its own simulator, the same scenario and devices.
std::optional<SideResult> run_baseline(const fs::path& dir, const fs::path& scenario,
                                       const std::vector<Device>& devices,
                                       const Settings& settings);

}  // namespace upload_bench
