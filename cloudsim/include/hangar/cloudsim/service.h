// CloudSim: the whole simulated cloud behind one call, HttpRequest in, HttpResponse out: the token
// endpoint, the Graph routes, auth, throttling, fault injection and the admin API. Sockets live
// elsewhere (http_server.h adapts this to cpprestsdk), so tests drive it directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hangar/cloudsim/scenario.h"
#include "hangar/cloudsim/tenant.h"
#include "hangar/core/clock.h"

namespace hangar::cloudsim {

struct SimState;  // private (src/service_state.h)

// URL layout, relative to the listener's origin (http://127.0.0.1:PORT):
//   POST /{tenant}/oauth2/v2.0/token        the authority (token endpoint)
//   /beta/... and /v1.0/...                 Graph
//   /_sim/...                               the admin API (no auth, no faults, no throttling)
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  // Origin-form request target, still percent-encoded: "/beta/users/a%40b.com?$select=x".
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;  // empty when there is no body
  std::string body;
  // Injected latency: the HTTP layer waits this long (real time) before answering.
  std::chrono::milliseconds delay{0};
  // Injected connection drop: the HTTP layer must not deliver this response. (cpprestsdk's
  // listener can only send the headers and then close the connection: see http_server.cpp.)
  bool drop_connection = false;

  // The first header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

class CloudSim {
 public:
  // `clock` drives everything: SystemClock in the executable, FakeClock in tests. The tenant
  // starts as the scenario describes.
  CloudSim(Scenario scenario, const core::Clock& clock);
  ~CloudSim();
  CloudSim(const CloudSim&) = delete;
  CloudSim& operator=(const CloudSim&) = delete;

  // Thread-safe; requests are served one at a time (the state machine is small and fast, and a
  // total order keeps seeded runs repeatable).
  HttpResponse handle(const HttpRequest& request);

  // The admin API's operations, for tests and embedding.
  nlohmann::json stats();  // what GET /_sim/stats returns
  // Back to the scenario's initial state: tenant re-seeded, counters, budgets and RNGs reset.
  // Issued tokens stay valid so a running client is not disturbed.
  void reset();
  // Replaces rules, timing, throttling, faults and credentials; the tenant's contents are kept
  // (the scenario's seed devices and users apply at the next reset).
  void set_scenario(Scenario scenario);
  // Moves the simulator's time forward (tokens, budgets and registrations all see it).
  void advance(std::chrono::milliseconds by);
  std::int64_t now_ms() const;
  // Runs `inspect` on the tenant under the simulator's lock, after due work was processed.
  void with_tenant(const std::function<void(const Tenant&)>& inspect);

 private:
  std::unique_ptr<SimState> state_;
};

}  // namespace hangar::cloudsim
