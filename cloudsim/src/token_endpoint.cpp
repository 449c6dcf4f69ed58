// The Microsoft identity platform's v2.0 token endpoint, client-credentials grant only, with
// AADSTS-style errors for the mistakes a client can make.
#include "service_state.h"
#include "text.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

HttpResponse aad_error(int status, const std::string& error, int aadsts,
                       const std::string& description, const RequestContext& ctx) {
  std::string timestamp = format_inner_error_date(ctx.now_ms) + "Z";
  std::string full = "AADSTS" + std::to_string(aadsts) + ": " + description +
                     "\r\nTrace ID: " + ctx.request_id +
                     "\r\nCorrelation ID: " + ctx.client_request_id + "\r\nTimestamp: " + timestamp;
  json body{{"error", error},
            {"error_description", full},
            {"error_codes", json::array({aadsts})},
            {"timestamp", timestamp},
            {"trace_id", ctx.request_id},
            {"correlation_id", ctx.client_request_id}};
  return json_response(status, body, kPlainJson);
}

std::string form_value(const std::vector<std::pair<std::string, std::string>>& form,
                       const char* key) {
  for (const auto& [k, v] : form) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

HttpResponse handle_token(SimState& state, const RequestContext& ctx, const std::string& tenant) {
  const auto& auth = state.scenario.auth;
  if (ctx.request.method != "POST") {
    return aad_error(
        405, "invalid_request", 900561,
        "The endpoint only accepts POST requests. Received a " + ctx.request.method + " request.",
        ctx);
  }
  if (!iequals(tenant, auth.tenant_id)) {
    return aad_error(400, "invalid_request", 90002,
                     "Tenant '" + tenant +
                         "' not found. Check to make sure you have the correct tenant ID and are "
                         "signing into the correct cloud.",
                     ctx);
  }
  auto form = parse_query_string(ctx.request.body);
  for (const char* required : {"grant_type", "client_id", "scope"}) {
    if (form_value(form, required).empty()) {
      return aad_error(
          400, "invalid_request", 900144,
          std::string("The request body must contain the following parameter: '") + required + "'.",
          ctx);
    }
  }
  const std::string grant = form_value(form, "grant_type");
  if (grant != "client_credentials") {
    return aad_error(400, "unsupported_grant_type", 70003,
                     "The app requested an unsupported grant type '" + grant +
                         "'. hangar-cloudsim supports client_credentials only.",
                     ctx);
  }
  const std::string client_id = form_value(form, "client_id");
  const AppCredential* app = nullptr;
  for (const auto& a : auth.apps) {
    if (iequals(a.client_id, client_id)) app = &a;
  }
  if (!app) {
    return aad_error(400, "unauthorized_client", 700016,
                     "Application with identifier '" + client_id +
                         "' was not found in the directory '" + auth.tenant_id + "'.",
                     ctx);
  }
  const std::string client_secret = form_value(form, "client_secret");
  if (client_secret.empty()) {
    return aad_error(401, "invalid_client", 7000218,
                     "The request body must contain the following parameter: 'client_assertion' "
                     "or 'client_secret'.",
                     ctx);
  }
  if (client_secret != app->client_secret) {
    return aad_error(401, "invalid_client", 7000215,
                     "Invalid client secret provided. Ensure the secret being sent in the request "
                     "is the client secret value, not the client secret ID.",
                     ctx);
  }
  // Client credentials need "<resource>/.default". Any resource gets a token (the token endpoint
  // does not know which Graph host the client will call); Graph checks the audience (service.cpp).
  const std::string scope = form_value(form, "scope");
  if (!iends_with(scope, "/.default")) {
    return aad_error(400, "invalid_scope", 1002012,
                     "The provided value for scope " + scope +
                         " is not valid. Client credential flows must have a scope value with "
                         "/.default suffixed to the resource identifier (application ID URI).",
                     ctx);
  }
  const std::int64_t lifetime_s = auth.token_lifetime_seconds;
  const std::string audience = scope.substr(0, scope.size() - std::string("/.default").size());
  std::string token = state.tokens.issue(app->client_id, auth.tenant_id, audience, ctx.now_ms,
                                         lifetime_s * 1000, state.request_rng);
  json body{{"token_type", "Bearer"},
            {"expires_in", lifetime_s},
            {"ext_expires_in", lifetime_s},
            {"access_token", token}};
  auto response = json_response(200, body, kPlainJson);
  response.headers.emplace_back("Cache-Control", "no-store, no-cache");
  return response;
}

}  // namespace hangar::cloudsim
