// bench/upload's baseline: a naive client that behaves like Get-WindowsAutoPilotInfo -Online,
// against its own fresh simulator (see upload.cpp).
#include "upload_common.h"

namespace upload_bench {

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

}  // namespace upload_bench
