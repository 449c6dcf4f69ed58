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
constexpr std::uint64_t kThrottleStream = 0x5eed0003;

// Graph's own resource names for the global cloud, and the simulator's origin as a client
// addresses it (the scope Hangar derives from its configured Graph URL).
bool audience_accepted(const std::string& audience, const RequestContext& ctx) {
  return iequals(audience, "https://graph.microsoft.com") ||
         iequals(audience, "00000003-0000-0000-c000-000000000000") || iequals(audience, ctx.origin);
}

// The first refusal rule that matches this request, if any (and counts it).
std::optional<int> refusal_status(SimState& state, const RequestContext& ctx,
                                  const GraphRoute& route) {
  const auto& rules = state.scenario.refusals;
  std::string query;
  for (const auto& [key, value] : ctx.query) query += key + "=" + value + "&";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const RefusalRule& rule = rules[i];
    if (!endpoint_matches({rule.endpoint}, route.endpoint) || !icontains(query, rule.query)) {
      continue;
    }
    if (rule.times > 0 && state.refusals_used[i] >= rule.times) continue;
    ++state.refusals_used[i];
    return rule.status;
  }
  return std::nullopt;
}

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
  // A token for another resource (another national cloud's Graph, say) is refused, as by Graph.
  if (!state.scenario.lenient.any_token_audience && !audience_accepted(token.audience, ctx)) {
    auto response = graph_error(401, "InvalidAuthenticationToken",
                                "Access token validation failure. Invalid audience.", ctx);
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"\", error=\"invalid_token\"");
    return response;
  }

  const auto& throttling = state.scenario.throttling;
  if (auto wait_ms =
          state.throttler.admit(token.client_id, is_write(ctx.request.method), ctx.now_ms)) {
    const auto seconds = (*wait_ms + 999) / 1000;  // whole seconds, rounded up: never too early
    // Some Intune endpoints answer 429 without Retry-After (Microsoft Q&A): a share of them here.
    const bool omitted_by_intune = is_intune_endpoint(route.endpoint) &&
                                   !state.scenario.lenient.always_retry_after &&
                                   state.throttle_rng.chance(throttling.omit_retry_after_rate);
    const bool send_retry_after =
        !omitted_by_intune && !endpoint_matches(throttling.omit_retry_after, route.endpoint);
    state.stats.throttled(route.endpoint, send_retry_after);
    auto response = graph_error(429, "TooManyRequests",
                                "Too many requests from this application. Retry after " +
                                    std::to_string(seconds) + " seconds.",
                                ctx);
    if (send_retry_after) response.headers.emplace_back("Retry-After", std::to_string(seconds));
    return response;
  }

  if (auto status = refusal_status(state, ctx, route)) {
    const char* code = *status == 400   ? "BadRequest"
                       : *status == 501 ? "NotImplemented"
                                        : "InternalServerError";
    return graph_error(
        *status, code,
        *status == 500 ? "An internal server error has occurred" : "An error has occurred", ctx);
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
  if (code == "NotImplemented") return 501;
  return 500;
}

bool is_intune_endpoint(const std::string& endpoint) {
  return endpoint.rfind("imported.", 0) == 0 || endpoint.rfind("autopilot.", 0) == 0 ||
         endpoint.rfind("managedDevices.", 0) == 0;
}

HttpResponse json_response(int status, const json& body, const char* content_type) {
  HttpResponse response;
  response.status = status;
  response.content_type = content_type;
  response.body = body.dump();
  return response;
}

namespace {

// Intune's error document, as its front end writes it into Graph's error.message (pretty-printed
// with CRLF, microsoft-graph-docs-contrib #2756): the text, the operation and activity ids, and
// the URL of the Intune service behind Graph.
std::string intune_document(const std::string& message, const RequestContext& ctx) {
  const std::string& target = ctx.request.target;
  const auto path_start = target.find('/', 1);  // after /beta or /v1.0
  std::string path = path_start == std::string::npos ? target : target.substr(path_start);
  const auto query = path.find('?');
  const std::string options = query == std::string::npos ? "" : "&" + path.substr(query + 1);
  path = path.substr(0, query);
  // In Intune's order ("_version" first): an ordered document, not nlohmann's sorted one.
  nlohmann::ordered_json document{
      {"_version", 3},
      {"Message", message +
                      " - Operation ID (for customer support): "
                      "00000000-0000-0000-0000-000000000000 - Activity ID: " +
                      ctx.client_request_id +
                      " - Url: https://fef.msub01.manage.microsoft.com/DeviceEnrollmentFE/"
                      "StatelessDeviceEnrollmentFEService" +
                      path + "?api-version=2021-01-22" + options},
      {"CustomApiErrorPhrase", ""},
      {"RetryAfter", nullptr},
      {"ErrorSourceService", ""},
      {"HttpHeaders", "{}"}};
  std::string text = document.dump(2);
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  return crlf;
}

}  // namespace

HttpResponse graph_error(int status, const std::string& code, const std::string& message,
                         const RequestContext& ctx) {
  json body{{"error",
             {{"code", code},
              // 401s come from Graph's own token check, before Intune: plain text.
              {"message", ctx.intune && status != 401 ? intune_document(message, ctx) : message},
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
  refusals_used.assign(scenario.refusals.size(), 0);
}

void SimState::reset() {
  request_rng.reseed(scenario.seed ^ kRequestStream);
  fault_rng.reseed(scenario.seed ^ kFaultStream);
  throttle_rng.reseed(scenario.seed ^ kThrottleStream);
  refusals_used.assign(scenario.refusals.size(), 0);
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
    graph_ctx.intune =
        is_intune_endpoint(route.endpoint) && !state.scenario.lenient.plain_intune_errors;
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
