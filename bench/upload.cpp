// bench/upload: hangard registering N devices against hangar-cloudsim (50 ms latency, the default
// throttle) vs a naive client that behaves like Get-WindowsAutoPilotInfo -Online, each against its
// own fresh simulator with the same scenario, in the same run.
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

namespace {

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

double since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

struct Device {
  std::string serial;
  std::string hash_base64;
};

// Every device valid and unique: a distinct serial and seed per device, realistic 4 KB hashes.
std::vector<Device> make_devices(std::size_t count) {
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
bool write_csv(const fs::path& path, const std::vector<Device>& devices) {
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

CloudCounts counts_from(const Json& stats) {
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

std::string endpoint_list(const std::map<std::string, std::uint64_t>& counts) {
  std::string text;
  for (const auto& [endpoint, n] : counts) {
    text += (text.empty() ? "" : ", ") + endpoint + " " + std::to_string(n);
  }
  return text.empty() ? "none" : text;
}

// The most events inside any window of `window_ms` (a sliding window, as the throttle's).
std::size_t max_in_window(std::vector<std::int64_t> times_ms, std::int64_t window_ms) {
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

Json scenario_json(double time_scale) {
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

std::optional<HangarStatus> hangar_status(const std::string& endpoint, const fs::path& scratch) {
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

std::optional<SideResult> run_hangar(const fs::path& dir, const fs::path& scenario,
                                     const fs::path& csv, const Settings& settings) {
  Simulator sim(scenario, dir / "cloudsim-hangar.log");
  if (!sim.wait_ready()) return std::nullopt;

  const std::string endpoint = (dir / "run" / "hangar.sock").string();
  const fs::path service_log = dir / "hangard.out";
  char poll[32];
  std::snprintf(poll, sizeof poll, "%g", settings.poll_real_seconds());
  hangar::test::Process service(
      {HANGAR_BENCH_HANGARD, "--data-dir", (dir / "data").string(), "--endpoint", endpoint,
       "--log-level", "warn", "--cloud-url", sim.url(), "--poll-interval", poll},
      service_log);
  struct Stop {
    hangar::test::Process& service;
    void operator()() {
      if (!service.running()) return;
      service.signal(SIGTERM);
      if (!service.wait(30s)) std::cerr << "upload: hangard did not stop within 30 s\n";
    }
    ~Stop() { (*this)(); }
  } stop{service};
  if (!service.started()) {
    std::cerr << "upload: cannot start " << HANGAR_BENCH_HANGARD << "\n";
    return std::nullopt;
  }
  bool ready = false;
  for (int attempt = 0; attempt < 300 && !ready && !service.wait(0ms); ++attempt) {
    ready =
        hangar::test::run_command({HANGAR_BENCH_HANGAR, "--endpoint", endpoint, "ping"}, dir, 10s)
            .code == 0;
    if (!ready) std::this_thread::sleep_for(50ms);
  }
  if (!ready) {
    std::cerr << "upload: hangard did not answer ping\n" << tail_of(service_log);
    return std::nullopt;
  }

  // The clock runs from the moment the operator starts `hangar import`.
  const auto start = SteadyClock::now();
  auto imported = hangar::test::run_command({HANGAR_BENCH_HANGAR, "--endpoint", endpoint, "import",
                                             csv.string(), "--profile", "standard"},
                                            dir, 600s);
  const double import_seconds = since(start);
  if (imported.code != 0) {
    std::cerr << "upload: hangar import exited with " << imported.code << "\n"
              << imported.output.substr(0, 2000) << "\nhangard:\n"
              << tail_of(service_log);
    return std::nullopt;
  }

  SideResult result;
  const double limit = 3 * settings.bound_seconds() + 120;
  std::optional<double> all_uploaded;
  HangarStatus last;
  while (true) {
    auto status = hangar_status(endpoint, dir);
    const double now = since(start);
    if (!status) {
      std::cerr << "upload: hangar status failed\n" << tail_of(service_log);
      return std::nullopt;
    }
    last = *status;
    if (!all_uploaded && status->queued == 0) all_uploaded = now;
    if (status->ready + status->failed >= settings.devices) {
      result.finished = true;
      result.seconds = now;
      break;
    }
    if (now > limit) {
      result.seconds = now;
      char why[160];
      std::snprintf(why, sizeof why, "stopped after %.0f s: %zu queued, %zu pending", now,
                    status->queued, status->pending);
      result.stopped_because = why;
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  result.final_devices = last.ready + last.failed;
  result.failed_devices = last.failed;
  stop();  // hangard would go on deleting finished import records; the figures end here

  auto stats = sim.stats();
  if (!stats) return std::nullopt;
  result.cloud = counts_from(*stats);
  result.max_429_per_window = max_in_window(
      sim.throttled_times_ms(), static_cast<std::int64_t>(kThrottleWindowSeconds * 1000));
  char notes[1024];
  std::snprintf(notes, sizeof notes,
                "  hangar: import CLI %.1f s; every device uploaded (none queued) at %.1f s; "
                "import calls %llu for %zu devices\n"
                "          hangar status when all were final: %lld cloud requests, %lld 429s; "
                "import records deleted by the stop: %llu of %zu\n",
                import_seconds, all_uploaded.value_or(-1),
                static_cast<unsigned long long>(result.cloud.import), settings.devices,
                static_cast<long long>(last.requests), static_cast<long long>(last.throttled),
                static_cast<unsigned long long>(result.cloud.deletes), result.final_devices);
  result.notes = notes;
  sim.stop();
  return result;
}

// ---- the baseline: Get-WindowsAutoPilotInfo -Online --------------------------------------------

// What the script does with -Online (DOMAIN.md: one POST per device, a GET per device every 30 s
// with no timeout, never deletes its import records), one request at a time as PowerShell's
// pipeline runs it, through the Graph SDK's retry handler (a 429 waits its Retry-After and is
// retried, at most 3 times; a call that still fails ends the script).
class NaiveScript {
 public:
  NaiveScript(std::string url, const Settings& settings, SteadyClock::time_point deadline)
      : url_(std::move(url)),
        settings_(settings),
        deadline_(deadline),
        transport_(hangar::cloud::make_cpprest_transport()) {}

  SideResult run(const std::vector<Device>& devices) {
    SideResult result;
    const auto start = SteadyClock::now();
    if (!connect()) return stopped(result, start, "no token: " + error_);

    // $computers | % { $imported += Add-AutopilotImportedDevice ... }
    std::vector<std::string> ids;
    ids.reserve(devices.size());
    for (const auto& device : devices) {
      if (SteadyClock::now() >= deadline_) {
        return stopped(
            result, start,
            "limit reached while importing, " + std::to_string(ids.size()) + " imported");
      }
      Json body{
          {"importedWindowsAutopilotDeviceIdentities",
           Json::array({{{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
                         {"serialNumber", device.serial},
                         {"hardwareIdentifier", device.hash_base64},
                         {"groupTag", kGroupTag}}})}};
      auto reply = call("POST", graph("/import"), body.dump());
      if (!reply) {
        return stopped(result, start,
                       "import of " + device.serial + " failed, which ends the script: " + error_);
      }
      const Json& value = (*reply)["value"];
      if (!value.is_array() || value.empty() || !value[0].contains("id")) {
        return stopped(result, start, "import of " + device.serial + " returned no record");
      }
      ids.push_back(value[0]["id"].get<std::string>());
      if (ids.size() % 1000 == 0 || ids.size() == devices.size()) {
        progress("%zu of %zu imported at %.0f s (%llu 429s so far)", ids.size(), devices.size(),
                 since(start), static_cast<unsigned long long>(throttled_));
      }
    }

    // while ($processingCount -gt 0) { $imported | % { Get-AutopilotImportedDevice -id ... };
    //   Start-Sleep 30 }: every record again on every pass, until none is in progress.
    const auto sleep = std::chrono::duration<double>(settings_.poll_real_seconds());
    for (int pass = 1;; ++pass) {
      std::size_t in_progress = 0, failed = 0;
      for (const auto& id : ids) {
        if (SteadyClock::now() >= deadline_) {
          return stopped(result, start, "limit reached in poll pass " + std::to_string(pass));
        }
        auto record = call("GET", graph("/" + id));
        if (!record) {
          return stopped(result, start, "GET " + id + " failed, which ends the script: " + error_);
        }
        const std::string state = (*record)["state"].value("deviceImportStatus", "");
        if (state == "error") ++failed;
        if (state != "complete" && state != "error") ++in_progress;
      }
      final_ = ids.size() - in_progress;
      failed_ = failed;
      progress("poll pass %d: %zu of %zu in progress at %.0f s", pass, in_progress, ids.size(),
               since(start));
      if (in_progress == 0) {
        result.finished = true;
        result.seconds = since(start);
        break;
      }
      if (SteadyClock::now() + sleep >= deadline_) {
        return stopped(result, start, "limit reached after poll pass " + std::to_string(pass));
      }
      std::this_thread::sleep_for(sleep);
    }
    result.final_devices = final_;
    result.failed_devices = failed_;
    return result;
  }

  std::uint64_t throttled() const { return throttled_; }

 private:
  template <typename... Args>
  void progress(const char* format, Args... args) {
    std::printf("  baseline: ");
    std::printf(format, args...);
    std::printf("\n");
    std::fflush(stdout);
  }

  SideResult& stopped(SideResult& result, SteadyClock::time_point start, const std::string& why) {
    result.seconds = since(start);
    result.stopped_because = why;
    result.final_devices = final_;
    result.failed_devices = failed_;
    return result;
  }

  std::string graph(const std::string& path) const {
    return url_ + "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities" + path;
  }

  // Connect-MgGraph with the app's secret: one token, renewed only if Graph says it expired.
  bool connect() {
    hangar::cloud::HttpRequest request{"POST",
                                       url_ + "/" + kTenant + "/oauth2/v2.0/token",
                                       {{"Content-Type", "application/x-www-form-urlencoded"}},
                                       std::string("grant_type=client_credentials&client_id=") +
                                           kClientId + "&client_secret=" + kClientSecret +
                                           "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"};
    auto response = transport_->send(request, 30s);
    if (!response || response->status != 200) {
      error_ = response ? "HTTP " + std::to_string(response->status) : response.error().message;
      return false;
    }
    const auto body = Json::parse(response->body, nullptr, false);
    if (!body.is_object() || !body.contains("access_token")) {
      error_ = "no access_token in the answer";
      return false;
    }
    token_ = body["access_token"].get<std::string>();
    return true;
  }

  std::optional<Json> call(const std::string& method, const std::string& url,
                           const std::string& body = {}) {
    int retries = 0;
    bool renewed = false;
    while (true) {
      hangar::cloud::HttpRequest request{
          method, url, {{"Authorization", "Bearer " + token_}}, body};
      if (!body.empty()) request.headers["Content-Type"] = "application/json";
      auto response = transport_->send(request, 100s);
      if (!response) {
        error_ = response.error().message;
        return std::nullopt;
      }
      if (response->status == 401 && !renewed) {
        renewed = true;
        if (!connect()) return std::nullopt;
        continue;
      }
      if (response->status == 429) {
        ++throttled_;
        if (retries++ >= kScriptMaxRetries) {
          error_ = "HTTP 429 after " + std::to_string(kScriptMaxRetries) + " retries";
          return std::nullopt;
        }
        // The SDK waits what Retry-After says; without it, its own exponential delay.
        const std::string after = response->header("retry-after");
        const double wait = after.empty() ? 3.0 * std::pow(2.0, retries - 1) : std::stod(after);
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        continue;
      }
      if (response->status < 200 || response->status >= 300) {
        error_ = "HTTP " + std::to_string(response->status) + ": " + response->body.substr(0, 200);
        return std::nullopt;
      }
      auto parsed = Json::parse(response->body, nullptr, false);
      if (parsed.is_discarded()) {
        error_ = "an answer that is not JSON";
        return std::nullopt;
      }
      return parsed;
    }
  }

  std::string url_;
  const Settings& settings_;
  SteadyClock::time_point deadline_;
  std::unique_ptr<hangar::cloud::HttpTransport> transport_;
  std::string token_;
  std::string error_;
  std::uint64_t throttled_ = 0;
  std::size_t final_ = 0;
  std::size_t failed_ = 0;
};

std::optional<SideResult> run_baseline(const fs::path& dir, const fs::path& scenario,
                                       const std::vector<Device>& devices,
                                       const Settings& settings) {
  Simulator sim(scenario, dir / "cloudsim-baseline.log");
  if (!sim.wait_ready()) return std::nullopt;
  const auto deadline =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(settings.baseline_limit_seconds));
  NaiveScript script(sim.url(), settings, deadline);
  SideResult result = script.run(devices);
  auto stats = sim.stats();
  if (!stats) return std::nullopt;
  result.cloud = counts_from(*stats);
  result.max_429_per_window = max_in_window(
      sim.throttled_times_ms(), static_cast<std::int64_t>(kThrottleWindowSeconds * 1000));
  char notes[256];
  std::snprintf(notes, sizeof notes,
                "  baseline: its own count of 429s received: %llu; import records left in the "
                "tenant: %llu\n",
                static_cast<unsigned long long>(script.throttled()),
                static_cast<unsigned long long>(
                    (*stats)["tenant"].value("imported_records", std::uint64_t{0})));
  result.notes = notes;
  sim.stop();
  return result;
}

// ---- output -----------------------------------------------------------------------------------

double per_device(std::uint64_t requests, std::size_t devices) {
  return static_cast<double>(requests) / static_cast<double>(devices);
}

void print_row(const char* label, const std::string& hangar, const std::string& baseline) {
  std::printf("  %-44s %16s %16s\n", label, hangar.c_str(), baseline.c_str());
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string count(std::uint64_t value) { return std::to_string(value); }

std::optional<Settings> parse_arguments(int argc, char** argv) {
  Settings parsed;
  auto number = [](const char* text) -> std::optional<double> {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0)) return std::nullopt;
    return value;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep") {
      parsed.keep = true;
    } else if (arg == "--hangar-only") {
      parsed.baseline = false;
    } else if (arg == "--smoke") {
      parsed.devices = kSmokeDevices;
      parsed.time_scale = kSmokeTimeScale;
    } else if (arg == "--devices" && i + 1 < argc) {
      auto n = number(argv[++i]);
      if (!n || *n != std::floor(*n) || *n > 1e6) return std::nullopt;
      parsed.devices = static_cast<std::size_t>(*n);
    } else if (arg == "--time-scale" && i + 1 < argc) {
      auto x = number(argv[++i]);
      if (!x) return std::nullopt;
      parsed.time_scale = *x;
    } else if (arg == "--baseline-limit" && i + 1 < argc) {
      auto s = number(argv[++i]);
      if (!s) return std::nullopt;
      parsed.baseline_limit_seconds = *s;
    } else {
      return std::nullopt;
    }
  }
  return parsed;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = parse_arguments(argc, argv);
  if (!parsed) {
    std::fprintf(stderr,
                 "usage: upload [--devices N] [--time-scale X] [--baseline-limit S] [--smoke]\n"
                 "              [--hangar-only] [--keep]\n"
                 "  --devices N         valid, unique devices to register (default %zu)\n"
                 "  --time-scale X      the simulator's time_scale; both poll intervals are 30 s\n"
                 "                      divided by it (default %g)\n"
                 "  --baseline-limit S  real seconds the baseline may take before it is stopped\n"
                 "                      and reported as far as it got (default %g)\n"
                 "  --smoke             --devices %zu --time-scale %g: a check in seconds\n"
                 "  --hangar-only       skip the baseline (no ratio)\n"
                 "  --keep              keep the work directory (CSV, logs, queue) and print it\n",
                 kDefaultDevices, kDefaultTimeScale, kDefaultBaselineLimitSeconds, kSmokeDevices,
                 kSmokeTimeScale);
    return 2;
  }
  const Settings& settings = *parsed;
  const std::size_t n = settings.devices;
  WorkDir dir("hangar-upload-", settings.keep);
  const auto generate_start = SteadyClock::now();
  const std::vector<Device> devices = make_devices(n);
  const fs::path csv = dir.path() / "devices.csv";
  if (!write_csv(csv, devices)) {
    std::cerr << "upload: cannot write " << csv << "\n";
    return 1;
  }
  const fs::path scenario = dir.path() / "scenario.json";
  std::ofstream(scenario) << scenario_json(settings.time_scale).dump(2) << "\n";

  std::printf("upload: %zu valid devices (generated in %.1f s), each side against its own fresh\n",
              n, since(generate_start));
  std::printf(
      "        hangar-cloudsim: latency %d ms on every Graph answer; default throttle (%d writes "
      "and\n"
      "        %d requests per %.0f s, real time); registration %.0f s + uniform [0, %.0f] s "
      "simulated,\n"
      "        time_scale %g: %.1f-%.1f s real\n",
      kLatencyMs, kWriteLimit, kRequestLimit, kThrottleWindowSeconds, kDelaySeconds, kJitterSeconds,
      settings.time_scale, kDelaySeconds / settings.time_scale,
      settings.longest_delay_real_seconds());
  std::printf(
      "hangar  : hangard --poll-interval %g (its default 30 s, scaled), then hangar import "
      "FILE;\n"
      "          final = ready for user or registration failed in hangar --json status\n",
      settings.poll_real_seconds());
  std::printf(
      "baseline: Get-WindowsAutoPilotInfo -Online: one import POST per device, then every record\n"
      "          GET again every %g s (its Start-Sleep 30, scaled) until none is in progress;\n"
      "          one request at a time; a 429 waits its Retry-After (the Graph SDK's retry "
      "handler);\n"
      "          stopped after %.0f s if not done\n",
      settings.poll_real_seconds(), settings.baseline_limit_seconds);
  std::fflush(stdout);

  const fs::path hangar_dir = dir.path() / "hangar";
  fs::create_directories(hangar_dir);
  std::printf("\nhangar: running...\n");
  std::fflush(stdout);
  auto hangar = run_hangar(hangar_dir, scenario, csv, settings);
  if (!hangar) return 1;
  std::printf("  hangar: %s after %.1f s\n", hangar->finished ? "every device final" : "STOPPED",
              hangar->seconds);

  std::optional<SideResult> baseline;
  if (settings.baseline) {
    const fs::path baseline_dir = dir.path() / "baseline";
    fs::create_directories(baseline_dir);
    std::printf("\nbaseline: running...\n");
    std::fflush(stdout);
    baseline = run_baseline(baseline_dir, scenario, devices, settings);
    if (!baseline) return 1;
  }

  // ---- the table
  const auto side = [&](const std::optional<SideResult>& r, auto figure) -> std::string {
    return r ? figure(*r) : std::string("-");
  };
  const auto rpd = [&](const SideResult& r) {
    return per_device(r.cloud.import + r.cloud.poll, n);
  };
  const bool baseline_done = baseline && baseline->finished;
  // A baseline stopped early has made at least these requests: its figures are lower bounds.
  const char* at_least = baseline && !baseline->finished ? ">= " : "";
  std::printf("\n  %-44s %16s %16s\n", "", "hangar", "baseline");
  print_row("wall time until every device final (s)",
            hangar->finished ? format("%.1f", hangar->seconds) : format("> %.1f", hangar->seconds),
            side(baseline, [&](const SideResult& r) {
              return r.finished ? format("%.1f", r.seconds) : format("> %.0f", r.seconds);
            }));
  print_row(
      "devices final (of them failed)",
      std::to_string(hangar->final_devices) + " (" + std::to_string(hangar->failed_devices) + ")",
      side(baseline, [&](const SideResult& r) {
        return std::to_string(r.final_devices) + " (" + std::to_string(r.failed_devices) + ")";
      }));
  print_row("requests per device (import + poll)", format("%.4f", rpd(*hangar)),
            side(baseline, [&](const SideResult& r) { return at_least + format("%.3f", rpd(r)); }));
  print_row("  import requests", count(hangar->cloud.import),
            side(baseline, [&](const SideResult& r) { return count(r.cloud.import); }));
  print_row("  poll requests", count(hangar->cloud.poll),
            side(baseline, [&](const SideResult& r) { return count(r.cloud.poll); }));
  print_row("total requests (+ deletes, token, other)", count(hangar->cloud.total),
            side(baseline, [&](const SideResult& r) { return count(r.cloud.total); }));
  print_row("  deletes / token / other",
            count(hangar->cloud.deletes) + " / " + count(hangar->cloud.token) + " / " +
                count(hangar->cloud.other),
            side(baseline, [&](const SideResult& r) {
              return count(r.cloud.deletes) + " / " + count(r.cloud.token) + " / " +
                     count(r.cloud.other);
            }));
  print_row("429s received", count(hangar->cloud.throttled),
            side(baseline, [&](const SideResult& r) { return count(r.cloud.throttled); }));
  print_row("max 429s in any 20 s window", count(hangar->max_429_per_window),
            side(baseline, [&](const SideResult& r) { return count(r.max_429_per_window); }));
  std::optional<double> ratio;
  if (baseline && rpd(*hangar) > 0) ratio = rpd(*baseline) / rpd(*hangar);
  print_row("ratio baseline / hangar, requests per device",
            ratio ? at_least + format("%.1fx", *ratio) : std::string("-"), "");

  std::printf("\n  requests by endpoint, hangar:   %s\n",
              endpoint_list(hangar->cloud.by_endpoint).c_str());
  if (baseline) {
    std::printf("  requests by endpoint, baseline: %s\n",
                endpoint_list(baseline->cloud.by_endpoint).c_str());
  }
  std::printf("  429s by endpoint, hangar: %s",
              endpoint_list(hangar->cloud.throttled_by_endpoint).c_str());
  if (baseline) {
    std::printf("; baseline: %s", endpoint_list(baseline->cloud.throttled_by_endpoint).c_str());
  }
  std::printf("\n%s", hangar->notes.c_str());
  if (baseline) std::printf("%s", baseline->notes.c_str());
  if (!hangar->finished) std::printf("  hangar %s\n", hangar->stopped_because.c_str());
  if (baseline && !baseline->finished) {
    std::printf("  baseline stopped: %s; its figures are what it reached (lower bounds)\n",
                baseline->stopped_because.c_str());
  }

  // ---- the targets
  std::printf("\ntargets:\n");
  const double hangar_rpd = rpd(*hangar);
  std::printf("  hangar requests per device (import + poll) <= %.1f: %.4f  %s\n",
              kTargetRequestsPerDevice, hangar_rpd,
              hangar->finished && hangar_rpd <= kTargetRequestsPerDevice ? "met" : "MISSED");
  if (!baseline) {
    std::printf("  >= %.0fx fewer than the baseline: not measured (--hangar-only)\n", kTargetRatio);
  } else if (ratio && *ratio >= kTargetRatio) {
    std::printf("  >= %.0fx fewer than the baseline: %s%.1fx  met\n", kTargetRatio, at_least,
                *ratio);
  } else if (baseline_done) {
    std::printf("  >= %.0fx fewer than the baseline: %.1fx  MISSED\n", kTargetRatio,
                ratio.value_or(0));
  } else {
    std::printf(
        "  >= %.0fx fewer than the baseline: >= %.1fx so far, not decided (the baseline was "
        "stopped)\n",
        kTargetRatio, ratio.value_or(0));
  }
  std::printf(
      "  every device final within the delay + 2 poll intervals (%.1f + 2 x %.1f = %.1f s): "
      "%s%.1f s  %s\n",
      settings.longest_delay_real_seconds(), settings.poll_real_seconds(), settings.bound_seconds(),
      hangar->finished ? "" : "> ", hangar->seconds,
      hangar->finished && hangar->seconds <= settings.bound_seconds() ? "met" : "MISSED");
  std::printf("  never more than %zu 429 per %.0f s throttle window: %zu  %s\n",
              kTargetMax429PerWindow, kThrottleWindowSeconds, hangar->max_429_per_window,
              hangar->max_429_per_window <= kTargetMax429PerWindow ? "met" : "MISSED");
  return 0;
}
