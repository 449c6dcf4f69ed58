// hangar-cloudsim: the simulated Microsoft cloud as a process. Prints "listening on URL" on stdout
// once it accepts requests and stops cleanly on SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "hangar/cloudsim/http_server.h"
#include "hangar/cloudsim/scenario.h"
#include "hangar/cloudsim/service.h"

namespace {

using namespace hangar;

constexpr const char* kUsage = R"(usage: hangar-cloudsim [options]
  --port N          listen on 127.0.0.1:N (default 0: pick a free port)
  --scenario FILE   scenario JSON (see cloudsim/README.md); default: a
                    well-behaved tenant
  --seed N          override the scenario's seed
  --time-scale X    override the scenario's time_scale (60: a 5-minute
                    registration takes 5 s)
  --log-requests    log one line per request on stderr
  --help            this text
Prints "listening on http://127.0.0.1:PORT" on stdout when ready; stops on
SIGINT or SIGTERM.
)";

struct Options {
  std::uint16_t port = 0;
  std::string scenario_file;
  std::optional<std::uint64_t> seed;
  std::optional<double> time_scale;
  bool log_requests = false;
};

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The options, or nullopt after printing why (exit code in `exit_code`).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    std::optional<std::string_view> v;
    bool ok = true;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      exit_code = 0;
      return std::nullopt;
    } else if (arg == "--log-requests") {
      options.log_requests = true;
    } else if (arg == "--port") {
      ok = (v = value()) && parse_number(*v, options.port);
    } else if (arg == "--scenario") {
      ok = (v = value()).has_value();
      if (ok) options.scenario_file = std::string(*v);
    } else if (arg == "--seed") {
      std::uint64_t seed = 0;
      ok = (v = value()) && parse_number(*v, seed);
      options.seed = seed;
    } else if (arg == "--time-scale") {
      double scale = 0;
      ok = (v = value()) && parse_number(*v, scale) && scale > 0;
      options.time_scale = scale;
    } else {
      std::cerr << "hangar-cloudsim: unknown option '" << arg << "'\n" << kUsage;
      exit_code = 2;
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "hangar-cloudsim: " << arg << " needs a valid value\n" << kUsage;
      exit_code = 2;
      return std::nullopt;
    }
  }
  return options;
}

int run(const Options& options, const sigset_t& stop_signals) {
  cloudsim::Scenario scenario;
  if (!options.scenario_file.empty()) {
    auto loaded = cloudsim::load_scenario_file(options.scenario_file);
    if (!loaded) {
      spdlog::error("{}", loaded.error().message);
      return 2;
    }
    scenario = std::move(*loaded);
  }
  if (options.seed) scenario.seed = *options.seed;
  if (options.time_scale) scenario.time_scale = *options.time_scale;

  core::SystemClock clock;
  cloudsim::CloudSim sim(scenario, clock);
  cloudsim::HttpServer server(sim);
  if (auto started = server.start({options.port, options.log_requests}); !started) {
    spdlog::error("{}", started.error().message);
    return 1;
  }
  // The one line scripts and tests wait for: flushed at once.
  std::cout << "listening on " << server.origin() << std::endl;
  spdlog::info("tenant {}, client id {}, time scale {}, seed {}; admin: {}/_sim/stats",
               scenario.auth.tenant_id,
               scenario.auth.apps.empty() ? "(none)" : scenario.auth.apps.front().client_id,
               scenario.time_scale, scenario.seed, server.origin());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("stopping on signal {}", signal_number);
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // main thread alone receives them through sigwait: no handler, no global state.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudsim"));
  int exit_code = 0;
  auto options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  return run(*options, stop_signals);
}
