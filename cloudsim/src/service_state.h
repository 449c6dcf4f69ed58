// CloudSim's private state and what its route files share: the parsed request, handler results
// and the response builders.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth.h"
#include "hangar/cloudsim/service.h"
#include "hangar/core/result.h"
#include "stats.h"
#include "throttle.h"

namespace hangar::cloudsim {

struct SimState {
  SimState(Scenario initial, const core::Clock& base_clock);

  std::int64_t now() const { return clock.now_ms() + advanced_ms; }
  void configure(Scenario next);  // configuration only; the tenant's contents stay
  void reset();                   // tenant, counters, budgets and RNGs back to the start
  nlohmann::json stats_json() const;

  std::mutex mutex;
  const core::Clock& clock;
  std::int64_t advanced_ms = 0;  // POST /_sim/advance
  Scenario scenario;
  // Separate streams so that, for example, how often a client asks for tokens does not change
  // which requests get faults: request ids and tokens, and fault decisions. (The tenant has its
  // own for record ids and delay jitter.)
  Rng request_rng{1};
  Rng fault_rng{1};
  Rng throttle_rng{1};             // which Intune 429s go without Retry-After
  std::vector<int> refusals_used;  // per scenario.refusals rule: requests refused so far
  Tenant tenant;
  TokenStore tokens;
  Throttler throttler;
  Stats stats;
};

inline constexpr const char* kGraphJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
inline constexpr const char* kPlainJson = "application/json; charset=utf-8";

struct RequestContext {
  const HttpRequest& request;
  std::vector<std::string> segments;  // decoded path segments
  std::vector<std::pair<std::string, std::string>> query;
  std::string origin;      // "http://127.0.0.1:1234" as the client addressed us
  std::string graph_base;  // origin + "/beta" (or "/v1.0", as called)
  std::string request_id;
  std::string client_request_id;
  std::int64_t now_ms = 0;
  // An Intune endpoint (deviceManagement/...): its errors carry Intune's JSON document in
  // error.message (unless scenario.lenient.plain_intune_errors).
  bool intune = false;

  std::string header(const std::string& lower_name) const {
    auto it = request.headers.find(lower_name);
    return it == request.headers.end() ? std::string() : it->second;
  }
};

// A Graph handler's answer. Failures are core::Error whose code is the Graph error code;
// status_for_code gives the HTTP status.
struct ApiReply {
  int status = 200;
  std::optional<nlohmann::json> body;
};
using ApiResult = core::Result<ApiReply>;

int status_for_code(const std::string& code);
HttpResponse json_response(int status, const nlohmann::json& body, const char* content_type);
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}; on an
// Intune endpoint `message` is Intune's own JSON document ({"_version": 3, "Message": "... -
// Operation ID (for customer support): ... - Activity ID: ... - Url: ...", ...}) as a string.
HttpResponse graph_error(int status, const std::string& code, const std::string& message,
                         const RequestContext& ctx);
// True for the Intune endpoint ids (imported.*, autopilot.*, managedDevices.*).
bool is_intune_endpoint(const std::string& endpoint);

// Which Graph operation a method and path name, known before auth so throttling can key on it.
enum class GraphOp {
  kImport,
  kImportedList,
  kImportedGet,
  kImportedDelete,
  kAutopilotList,
  kAutopilotGet,
  kAutopilotDelete,
  kUpdateProperties,
  kAssignUser,
  kManagedList,
  kManagedGet,
  kUserGet,
  kSkuList,
  kGroupMembersList,
  kGroupMemberAdd,
  kGroupMemberRemove,
  kDevicesList,
  kDeviceGet,
  kUnknownSegment,
  kMethodNotAllowed,
};
struct GraphRoute {
  GraphOp op = GraphOp::kUnknownSegment;
  std::string endpoint = "graph.unknown";  // the id in stats and fault/throttle patterns
  std::string id;
  std::string detail;  // the unknown segment or refused method, for the error message
  std::string member;  // groups/{id}/members/{member}/$ref: the member's object id
};
// `segments` start after /{version}.
GraphRoute classify_graph(const std::string& method, const std::vector<std::string>& segments);
ApiResult handle_graph(SimState& state, const RequestContext& ctx, const GraphRoute& route);

// POST /{tenant}/oauth2/v2.0/token
HttpResponse handle_token(SimState& state, const RequestContext& ctx, const std::string& tenant);
// /_sim/... (segments include "_sim")
HttpResponse handle_admin(SimState& state, const RequestContext& ctx);

}  // namespace hangar::cloudsim
