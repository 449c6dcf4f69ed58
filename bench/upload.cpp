// bench/upload: hangard registering N devices against hangar-cloudsim (50 ms latency, the default
// throttle) vs a naive client that behaves like Get-WindowsAutoPilotInfo -Online, each against its
// own fresh simulator with the same scenario, in the same run.
#include "upload_common.h"

namespace {

using namespace upload_bench;

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
  using namespace upload_bench;
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
