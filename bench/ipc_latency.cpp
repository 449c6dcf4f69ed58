// bench/ipc_latency: `status` round trips against a real hangard with 1, 8 and 64 concurrent
// clients, and in the same run a raw frame echo over the same transport (no JSON, no dispatch, no
// store) as the floor. `ping` (the envelope, dispatch and permission check, an empty result) sits
// between the two and tells the protocol's cost from the cost of building and parsing the status
// reply. Prints p50/p99 for each and the p99 ratios to the echo. The two alternate in rounds so
// that a noisy neighbour on a shared machine slows both alike instead of whichever ran at that
// moment.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "child_process.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/frame.h"
#include "hangar/ipc/protocol.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using hangar::ipc::Json;
using Micros = std::chrono::duration<double, std::micro>;

int run_echo_server(const std::string& endpoint) {
  auto listener = hangar::ipc::listen(endpoint, {});
  if (!listener) {
    std::cerr << "echo: " << listener.error().message << "\n";
    return 1;
  }
  std::vector<std::thread> threads;
  for (;;) {
    auto stream = (*listener)->accept();
    if (!stream) break;
    threads.emplace_back([s = std::shared_ptr<hangar::ipc::Stream>(std::move(stream).value())] {
      for (;;) {
        auto frame = hangar::ipc::read_frame(*s, {60s, 5s});
        if (!frame || !hangar::ipc::write_frame(*s, *frame, 5s)) break;
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}

struct Stats {
  double p50 = 0, p99 = 0;
  std::size_t samples = 0;
};

Stats summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  s.samples = v.size();
  if (v.empty()) return s;
  s.p50 = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  return s;
}

// Runs `calls_per_client` round trips on each of `clients` connections at once and appends every
// round trip's duration to `samples`.
template <typename MakeCall>
void measure(int clients, int calls_per_client, MakeCall make_call, std::vector<double>& samples) {
  std::vector<std::vector<double>> per_thread(static_cast<std::size_t>(clients));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto call = make_call();
      for (int i = 0; i < 50; ++i) (void)call();  // warm-up, connection set-up
      ++ready;
      while (!go.load()) std::this_thread::yield();
      auto& out = per_thread[static_cast<std::size_t>(c)];
      out.reserve(static_cast<std::size_t>(calls_per_client));
      for (int i = 0; i < calls_per_client; ++i) {
        auto start = std::chrono::steady_clock::now();
        if (!call()) ++failures;
        out.push_back(Micros(std::chrono::steady_clock::now() - start).count());
      }
    });
  }
  while (ready.load() < clients) std::this_thread::sleep_for(1ms);
  go = true;
  for (auto& t : threads) t.join();
  if (failures.load() > 0) std::cerr << "warning: " << failures.load() << " failed calls\n";
  for (auto& v : per_thread) samples.insert(samples.end(), v.begin(), v.end());
}

bool wait_for(const std::string& endpoint) {
  for (int i = 0; i < 300; ++i) {
    if (auto c = hangar::ipc::Client::connect(endpoint, 1s); c && c->call("ping").ok()) return true;
    if (auto s = hangar::ipc::connect(endpoint, 1s); s) {
      // The echo server answers a frame with the same frame.
      if (hangar::ipc::write_frame(**s, "x", 1s) && hangar::ipc::read_frame(**s, {1s, 1s}))
        return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--echo-server") return run_echo_server(argv[2]);
  int total_calls = 24000;
  int rounds = 6;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--calls") {
      total_calls = std::stoi(argv[i + 1]);
    } else if (flag == "--rounds") {
      rounds = std::max(1, std::stoi(argv[i + 1]));
    } else {
      std::cerr << "usage: ipc_latency [--calls N] [--rounds R]\n";
      return 2;
    }
  }

  hangar::test::TempDir dir;
  std::string service_endpoint = (dir.path() / "svc" / "hangar.sock").string();
  std::string echo_endpoint = (dir.path() / "echo" / "echo.sock").string();
  hangar::test::Process service({HANGAR_BENCH_HANGARD, "--data-dir", (dir.path() / "data").string(),
                                 "--endpoint", service_endpoint, "--log-level", "warn"},
                                dir.path() / "hangard.out");
  hangar::test::Process echo({argv[0], "--echo-server", echo_endpoint}, dir.path() / "echo.out");
  if (!wait_for(service_endpoint) || !wait_for(echo_endpoint)) {
    std::cerr << "servers did not start\n" << hangar::test::read_file(dir.path() / "hangard.out");
    return 1;
  }

  hangar::ipc::Request request;
  request.command = "status";
  const std::string status_payload = hangar::ipc::serialize(request);

  std::printf("ipc_latency: Unix-domain socket, %d round trips per configuration in %d rounds\n",
              total_calls, rounds);
  std::printf("%8s | %12s %12s | %12s %12s | %12s %12s | %12s %10s\n", "clients", "status p50",
              "status p99", "ping p50", "ping p99", "echo p50", "echo p99", "status/echo",
              "ping/echo");
  const auto command = [&](const char* name) {
    return [&service_endpoint, name] {
      auto client = std::make_shared<hangar::ipc::Client>(
          std::move(hangar::ipc::Client::connect(service_endpoint).value()));
      return [client, name] { return client->call(name).ok(); };
    };
  };
  const auto raw_echo = [&] {
    std::shared_ptr<hangar::ipc::Stream> s =
        std::move(hangar::ipc::connect(echo_endpoint, 1s).value());
    return [s, &status_payload] {
      return hangar::ipc::write_frame(*s, status_payload, 5s).ok() &&
             hangar::ipc::read_frame(*s, {5s, 5s}).ok();
    };
  };
  double ratio_at_8 = 0;
  for (int clients : {1, 8, 64}) {
    const int per_client = std::max(50, total_calls / clients / rounds);
    std::vector<double> status_samples;
    std::vector<double> ping_samples;
    std::vector<double> echo_samples;
    for (int round = 0; round < rounds; ++round) {
      measure(clients, per_client, command("status"), status_samples);
      measure(clients, per_client, command("ping"), ping_samples);
      measure(clients, per_client, raw_echo, echo_samples);
    }
    const Stats status = summarise(std::move(status_samples));
    const Stats ping = summarise(std::move(ping_samples));
    const Stats raw = summarise(std::move(echo_samples));
    std::printf(
        "%8d | %10.1fus %10.1fus | %10.1fus %10.1fus | %10.1fus %10.1fus | %11.2fx %9.2fx\n",
        clients, status.p50, status.p99, ping.p50, ping.p99, raw.p50, raw.p99, status.p99 / raw.p99,
        ping.p99 / raw.p99);
    if (clients == 8) ratio_at_8 = status.p99 / raw.p99;
  }
  std::printf("target: status p99 at 8 clients within 2x of the raw echo: %.2fx, %s\n", ratio_at_8,
              ratio_at_8 <= 2.0 ? "met" : "missed");
  service.signal(SIGTERM);
  echo.signal(SIGTERM);
  service.wait(5s);
  return 0;
}
