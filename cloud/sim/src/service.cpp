// The request pipeline: parse, route, then for cloud endpoints fault injection, auth and
// throttling around the handler; request ids on every response.
#include <cmath>

#include "hangar/cloudsim/service.h"
#include "service_state.h"
#include "text.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

// Distinct, fixed offsets so the two request-level streams never mirror the tenant's.
constexpr std::uint64_t kRequestStream = 0x5eed0001;
constexpr std::uint64_t kFaultStream = 0x5eed0002;

bool is_write(const std::string& method) { return method != "GET" && method != "HEAD"; }

RequestContext make_context(const HttpRequest& request, SimState& state) {
  RequestContext ctx{request, {}, {}, {}, {}, {}, {}, state.now()};
  const auto question = request.target.find('?');
  const std::string path = request.target.substr(0, question);
  for (auto& segment : split(path, '/')) {
    if (!segment.empty()) ctx.segments.push_back(percent_decode(segment, false));
  }
  if (question != std::string::npos) {
    ctx.query = parse_query_string(std::string_view(request.target).substr(question + 1));
  }
  const std::string host = ctx.header("host");
  ctx.origin = "http://" + (host.empty() ? std::string("localhost") : host);
  ctx.request_id = state.request_rng.guid();
  // Graph echoes the caller's id, or uses its own when there is none.
  ctx.client_request_id = ctx.header("client-request-id");
  if (ctx.client_request_id.empty()) ctx.client_request_id = ctx.request_id;
  return ctx;
}

bool is_token_path(const std::vector<std::string>& s) {
  return s.size() == 4 && iequals(s[1], "oauth2") && iequals(s[2], "v2.0") &&
         iequals(s[3], "token");
}

bool is_graph_version(const std::string& segment) { return segment == "beta" || segment == "v1.0"; }

HttpResponse unauthorized(TokenCheck check, const RequestContext& ctx) {
  std::string message;
  switch (check) {
    case TokenCheck::kMissing:
      message = "Access token is empty.";
      break;
    case TokenCheck::kExpired:
      message = "Lifetime validation failed, the token is expired.";
      break;
    case TokenCheck::kMalformed:
      message = "Access token validation failure: the Authorization header is not 'Bearer <JWT>'.";
      break;
    case TokenCheck::kUnknown:
    case TokenCheck::kOk:
      message = "Access token validation failure. Invalid signature.";
      break;
  }
  auto response = graph_error(401, "InvalidAuthenticationToken", message, ctx);
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"\", error=\"invalid_token\"");
  return response;
}

HttpResponse serve_graph(SimState& state, const RequestContext& ctx, const GraphRoute& route) {
  auto token = state.tokens.validate(ctx.header("authorization"), ctx.now_ms);
  if (token.check != TokenCheck::kOk) return unauthorized(token.check, ctx);

  const auto& throttling = state.scenario.throttling;
  if (auto wait_ms =
          state.throttler.admit(token.client_id, is_write(ctx.request.method), ctx.now_ms)) {
    const auto seconds = (*wait_ms + 999) / 1000;  // whole seconds, rounded up: never too early
    const bool send_retry_after = !endpoint_matches(throttling.omit_retry_after, route.endpoint);
    state.stats.throttled(route.endpoint, send_retry_after);
    auto response = graph_error(429, "TooManyRequests",
                                "Too many requests from this application. Retry after " +
                                    std::to_string(seconds) + " seconds.",
                                ctx);
    if (send_retry_after) response.headers.emplace_back("Retry-After", std::to_string(seconds));
    return response;
  }

  auto result = handle_graph(state, ctx, route);
  if (!result) {
    const auto& error = result.error();
    return graph_error(status_for_code(error.code), error.code, error.message, ctx);
  }
  if (result->body) return json_response(result->status, *result->body, kGraphJson);
  HttpResponse empty;
  empty.status = result->status;
  return empty;
}

// Wraps `process` in the scenario's faults for `endpoint`. Drops and 5xx strike before
// processing (nothing changes in the tenant); drop_after and malformed strike after it, so the
// client cannot tell whether its write happened: the case retries must survive.
template <typename F>
HttpResponse with_faults(SimState& state, const RequestContext& ctx, const std::string& endpoint,
                         F process) {
  const auto& faults = state.scenario.faults;
  if (!endpoint_matches(faults.endpoints, endpoint)) return process();
  auto& rng = state.fault_rng;
  const auto delay =
      std::chrono::milliseconds(faults.latency_ms + rng.uniform_int(0, faults.jitter_ms));
  HttpResponse response;
  if (rng.chance(faults.drop_rate)) {
    // The status line the HTTP layer may have to send says "not processed", which is the truth.
    state.stats.fault(Fault::kDropped);
    response.status = 503;
    response.drop_connection = true;
  } else if (rng.chance(faults.error_rate)) {
    state.stats.fault(Fault::kError5xx);
    const auto& statuses = faults.error_statuses;
    const auto pick = rng.uniform_int(0, static_cast<std::int64_t>(statuses.size()) - 1);
    const int status = statuses[static_cast<std::size_t>(pick)];
    response = graph_error(status, status == 503 ? "ServiceUnavailable" : "InternalServerError",
                           "Injected failure (hangar-cloudsim fault injection).", ctx);
  } else {
    response = process();
    if (rng.chance(faults.drop_after_rate)) {
      state.stats.fault(Fault::kDroppedAfterProcessing);
      response.drop_connection = true;
    } else if (response.status / 100 == 2 && !response.body.empty() &&
               rng.chance(faults.malformed_rate)) {
      state.stats.fault(Fault::kMalformed);
      response.body.resize(response.body.size() / 2);
    }
  }
  response.delay = delay;
  return response;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

int status_for_code(const std::string& code) {
  if (code == "BadRequest" || code == "Request_BadRequest") return 400;
  if (code == "ResourceNotFound" || code == "Request_ResourceNotFound") return 404;
  if (code == "MethodNotAllowed") return 405;
  return 500;
}

HttpResponse json_response(int status, const json& body, const char* content_type) {
  HttpResponse response;
  response.status = status;
  response.content_type = content_type;
  response.body = body.dump();
  return response;
}

HttpResponse graph_error(int status, const std::string& code, const std::string& message,
                         const RequestContext& ctx) {
  json body{{"error",
             {{"code", code},
              {"message", message},
              {"innerError",
               {{"date", format_inner_error_date(ctx.now_ms)},
                {"request-id", ctx.request_id},
                {"client-request-id", ctx.client_request_id}}}}}};
  return json_response(status, body, kGraphJson);
}

SimState::SimState(Scenario initial, const core::Clock& base_clock)
    : clock(base_clock), scenario(std::move(initial)) {
  reset();
}

void SimState::configure(Scenario next) {
  scenario = std::move(next);
  tenant.configure(scenario);
  throttler.configure(scenario.throttling);
}

void SimState::reset() {
  request_rng.reseed(scenario.seed ^ kRequestStream);
  fault_rng.reseed(scenario.seed ^ kFaultStream);
  tenant.reset(scenario, now());
  throttler.reset();
  throttler.configure(scenario.throttling);
  stats.reset();
  tokens.reset_counter();
}

json SimState::stats_json() const {
  json out = stats.to_json();
  out["tokens_issued"] = tokens.issued();
  const auto& counts = tenant.counts();
  json repeated = json::array();
  for (const auto& [serial, n] : counts.by_serial) {
    if (n > 1) repeated.push_back(serial);
  }
  out["imports"] = {{"calls", counts.calls},         {"rows", counts.rows},
                    {"by_serial", counts.by_serial}, {"serials_imported_more_than_once", repeated},
                    {"completed", counts.completed}, {"errors_by_name", counts.errors_by_name},
                    {"pending", tenant.pending()}};
  out["deletes"] = {{"imported", counts.deleted}};
  out["tenant"] = {{"imported_records", tenant.imported_all().size()},
                   {"autopilot_devices", tenant.autopilot_devices().size()},
                   {"managed_devices", tenant.managed_devices().size()},
                   {"users", tenant.users().size()},
                   {"directory_devices", tenant.directory_devices().size()},
                   {"groups", tenant.groups().size()}};
  out["time"] = {{"now", format_iso8601(now())},
                 {"advanced_seconds", static_cast<double>(advanced_ms) / 1000.0},
                 {"time_scale", scenario.time_scale}};
  return out;
}

CloudSim::CloudSim(Scenario scenario, const core::Clock& clock)
    : state_(std::make_unique<SimState>(std::move(scenario), clock)) {}

CloudSim::~CloudSim() = default;

HttpResponse CloudSim::handle(const HttpRequest& request) {
  std::lock_guard lock(state_->mutex);
  auto& state = *state_;
  state.tenant.process_due(state.now());
  const RequestContext ctx = make_context(request, state);
  const auto& s = ctx.segments;

  HttpResponse response;
  if (!s.empty() && s[0] == "_sim") {
    response = handle_admin(state, ctx);  // not counted: stats describe the client's traffic
  } else if (is_token_path(s)) {
    response = with_faults(state, ctx, "token", [&] { return handle_token(state, ctx, s[0]); });
    state.stats.record("token", response.status);
  } else if (!s.empty() && is_graph_version(s[0])) {
    RequestContext graph_ctx = ctx;
    graph_ctx.graph_base = ctx.origin + "/" + s[0];
    const GraphRoute route =
        classify_graph(request.method, std::vector<std::string>(s.begin() + 1, s.end()));
    response = with_faults(state, graph_ctx, route.endpoint,
                           [&] { return serve_graph(state, graph_ctx, route); });
    state.stats.record(route.endpoint, response.status);
  } else {
    response = graph_error(404, "NotFound",
                           "hangar-cloudsim serves /{tenant}/oauth2/v2.0/token, /beta/..., "
                           "/v1.0/... and /_sim/...; not '" +
                               request.target + "'.",
                           ctx);
  }
  response.headers.emplace_back("request-id", ctx.request_id);
  response.headers.emplace_back("client-request-id", ctx.client_request_id);
  return response;
}

json CloudSim::stats() {
  std::lock_guard lock(state_->mutex);
  state_->tenant.process_due(state_->now());
  return state_->stats_json();
}

void CloudSim::reset() {
  std::lock_guard lock(state_->mutex);
  state_->reset();
}

void CloudSim::set_scenario(Scenario scenario) {
  std::lock_guard lock(state_->mutex);
  state_->configure(std::move(scenario));
}

void CloudSim::advance(std::chrono::milliseconds by) {
  std::lock_guard lock(state_->mutex);
  if (by.count() > 0) state_->advanced_ms += by.count();  // time never runs backwards
}

std::int64_t CloudSim::now_ms() const {
  std::lock_guard lock(state_->mutex);
  return state_->now();
}

void CloudSim::with_tenant(const std::function<void(const Tenant&)>& inspect) {
  std::lock_guard lock(state_->mutex);
  state_->tenant.process_due(state_->now());
  inspect(state_->tenant);
}

}  // namespace hangar::cloudsim
