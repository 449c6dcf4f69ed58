// Microsoft Graph implementation of the cloud interfaces (see graph_client.h): the token, the
// transport glue (call, call_json, get_all and its paging guards) and the URL helpers. The
// requests are in graph_devices.cpp (Intune) and graph_directory.cpp (users and groups), the
// JSON readers in graph_json.cpp.
#include "hangar/cloud/graph_client.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "hangar/cloud/call_deadline.h"

namespace hangar::cloud {

namespace {

using Json = nlohmann::json;

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string form_encode(std::initializer_list<std::pair<const char*, std::string>> fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += name;
    body += '=';
    body += url_encode(value);
  }
  return body;
}

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response) {
  const std::string value = response.header("retry-after");
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || seconds < 0) return std::nullopt;  // HTTP dates are not used here
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// A non-2xx answer as an error: its cause classified once (classify_answer), the status, Graph's
// error code and the request ids travel on it.
core::Error http_error(const std::string& method, const std::string& url,
                       const HttpResponse& response, const char* permission) {
  const int status = response.status;
  const GraphErrorBody body = parse_graph_error(response.body);
  std::string message =
      method + " " + url + " answered HTTP " + std::to_string(status) + ": " + body.text;
  if (status == 403) {
    message += std::string(" (the app registration needs the ") + permission +
               " application permission, with admin consent)";
  }
  core::Error error = core::make_error({}, std::move(message));
  set_failure(error, classify_answer(status, response.body));
  error.http_status = status;
  error.remote_code = body.code;
  error.request_id = response.header("request-id");
  if (error.request_id.empty()) error.request_id = body.request_id;
  error.client_request_id = response.header("client-request-id");
  if (error.client_request_id.empty()) error.client_request_id = body.client_request_id;
  error.retry_after = retry_after(response);
  return error;
}

// Replaces every occurrence of `secret` (and its form-encoded spelling) in an error message: an
// answer that echoes the request (a proxy's error page, say) must not carry the secret or the
// bearer token into a log or a reply.
void scrub(std::string& text, const std::string& secret) {
  if (secret.size() < 4) return;
  for (const std::string& needle : {secret, url_encode(secret)}) {
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at)) {
      text.replace(at, needle.size(), "[redacted]");
      at += 10;
    }
  }
}

constexpr const char* kIntunePermission = "DeviceManagementServiceConfig.ReadWrite.All";
constexpr const char* kDirectoryPermission = "GroupMember.ReadWrite.All and Device.Read.All";

}  // namespace

std::string url_encode(std::string_view text) {
  std::string out;
  for (char raw : text) {
    const auto c = static_cast<unsigned char>(raw);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::string odata_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string graph_scope_for(std::string_view graph_url) {
  const auto scheme = graph_url.find("://");
  if (scheme == std::string_view::npos) return std::string(graph_url) + "/.default";
  const auto path = graph_url.find('/', scheme + 3);
  return std::string(graph_url.substr(0, path)) + "/.default";
}

core::Result<std::unique_ptr<GraphClient>> GraphClient::create(GraphConfig config,
                                                               HttpTransport& transport,
                                                               const core::Clock& clock) {
  config.authority_url = trim_slash(config.authority_url);
  config.graph_url = trim_slash(config.graph_url);
  if (config.scope.empty()) config.scope = graph_scope_for(config.graph_url);
  for (const std::string* url : {&config.authority_url, &config.graph_url}) {
    if (auto allowed = check_url_allowed(*url); !allowed) return allowed.error();
  }
  if (config.tenant_id.empty() || config.client_id.empty() || config.client_secret.empty()) {
    return core::make_error(kErrNotConfigured,
                            "no cloud credentials: run `hangar config set-credentials` with the "
                            "tenant id, the app's client id and its secret");
  }
  auto client = std::unique_ptr<GraphClient>(new GraphClient(std::move(config), transport, clock));
  const std::string& base = client->config_.graph_url;
  client->directory_url_ = base.size() >= 5 && base.compare(base.size() - 5, 5, "/beta") == 0
                               ? base.substr(0, base.size() - 5) + "/v1.0"
                               : base;
  return client;
}

std::string GraphClient::graph(const std::string& path) const { return config_.graph_url + path; }

std::string GraphClient::directory(const std::string& path) const { return directory_url_ + path; }

core::Result<std::string> GraphClient::token(bool force_refresh) {
  std::lock_guard lock(token_mutex_);
  const std::int64_t now = clock_.now_ms();
  if (!force_refresh && !token_.empty() && now < token_expires_ms_) return token_;
  HttpRequest request;
  request.method = "POST";
  request.url = config_.authority_url + "/" + url_encode(config_.tenant_id) + "/oauth2/v2.0/token";
  request.headers["Content-Type"] = "application/x-www-form-urlencoded";
  request.body = form_encode({{"grant_type", "client_credentials"},
                              {"client_id", config_.client_id},
                              {"client_secret", config_.client_secret},
                              {"scope", config_.scope}});
  auto timeout = request_timeout("POST " + request.url);
  if (!timeout) return timeout.error();
  ++token_requests_;
  auto response = transport_.send(request, *timeout);
  if (!response) return response.error();
  if (response->status != 200) {
    core::Error error = http_error("POST", request.url, *response, kIntunePermission);
    scrub(error.message, config_.client_secret);
    if (response->status == 400 || response->status == 401) {
      set_failure(error, Failure::kAuth);
      error.message +=
          " (check the tenant id, client id and secret: `hangar config "
          "set-credentials`)";
    }
    return error;
  }
  try {
    const Json body = Json::parse(response->body);
    token_ = body.at("access_token").get<std::string>();
    const std::int64_t lifetime_s = body.value("expires_in", std::int64_t{3600});
    const std::int64_t margin_s =
        std::min<std::int64_t>(config_.refresh_margin.count(), lifetime_s / 2);
    token_expires_ms_ = now + (lifetime_s - margin_s) * 1000;
  } catch (const Json::exception&) {
    return core::make_error(kErrTransient, "the token endpoint answered without an access_token");
  }
  return token_;
}

core::Result<std::chrono::milliseconds> GraphClient::request_timeout(
    const std::string& label) const {
  // An operator command's calls end within what is left of its wait (call_deadline.h). With less
  // than a moment left nothing is sent: a request that cannot be answered in time would only
  // leave a write in doubt.
  const auto timeout = call_timeout(config_.timeout);
  if (timeout < kShortestRequest) {
    core::Error error = core::make_error(
        kErrNetwork, label + " was not sent: the operator's wait for its answer is over");
    set_failure(error, Failure::kNotSent);
    return error;
  }
  return timeout;
}

core::Status GraphClient::verify_credentials() {
  auto bearer = token(true);
  if (!bearer) return bearer.error();
  return {};
}

core::Result<HttpResponse> GraphClient::call(const std::string& method, const std::string& url,
                                             const std::string& body, Api api) {
  for (int attempt = 0;; ++attempt) {
    auto bearer = token(attempt > 0);
    if (!bearer) {
      // Without a token this request was never sent, whatever became of the token's own: an
      // unreachable token endpoint leaves no write of this call in doubt. Refusals (kErrAuth,
      // kErrTransient ...) keep their cause: they need the admin or a retry, not a look-up.
      core::Error error = bearer.error();
      if (unreachable(error)) {
        set_failure(error, Failure::kNotSent);
        error.message =
            "no access token for " + method + " " + url + ", so it was not sent: " + error.message;
      }
      return error;
    }
    HttpRequest request;
    request.method = method;
    request.url = url;
    request.headers["Authorization"] = "Bearer " + *bearer;
    request.headers["Accept"] = "application/json";
    if (!body.empty()) {
      request.headers["Content-Type"] = "application/json";
      request.body = body;
    }
    auto timeout = request_timeout(method + " " + url);
    if (!timeout) return timeout.error();
    auto response = transport_.send(request, *timeout);
    if (!response) return response.error();
    if (response->status == 401 && attempt == 0) continue;  // expired early or revoked: renew once
    if (response->status >= 200 && response->status < 300) return response;
    core::Error error = http_error(
        method, url, *response, api == Api::kDirectory ? kDirectoryPermission : kIntunePermission);
    scrub(error.message, *bearer);
    return error;
  }
}

core::Result<Json> GraphClient::call_json(const std::string& method, const std::string& url,
                                          const std::string& body, std::string* request_id,
                                          Api api) {
  auto response = call(method, url, body, api);
  if (!response) return response.error();
  if (request_id) *request_id = response->header("request-id");
  if (response->body.empty()) return Json::object();
  try {
    return Json::parse(response->body);
  } catch (const Json::exception&) {
    core::Error error = core::make_error(
        kErrTransient, method + " " + url + " answered with a body that is not JSON");
    error.request_id = response->header("request-id");
    return error;
  }
}

core::Result<std::vector<Json>> GraphClient::get_all(const std::string& url,
                                                     std::vector<std::string>* request_ids,
                                                     Api api) {
  const std::string& base = api == Api::kDirectory ? directory_url_ : config_.graph_url;
  std::vector<Json> items;
  std::string next = url;
  std::set<std::string> followed{url};
  for (int page = 0; !next.empty(); ++page) {
    if (page >= config_.max_pages) {
      return core::make_error(kErrTransient, "paging through " + url + " did not end after " +
                                                 std::to_string(page) + " pages");
    }
    std::string request_id;
    auto body = call_json("GET", next, {}, &request_id, api);
    if (!body) return body.error();
    if (body->contains("value") && (*body)["value"].is_array()) {
      for (auto& item : (*body)["value"]) {
        items.push_back(std::move(item));
        if (request_ids) request_ids->push_back(request_id);
      }
    }
    next = body->contains("@odata.nextLink") && (*body)["@odata.nextLink"].is_string()
               ? (*body)["@odata.nextLink"].get<std::string>()
               : std::string();
    // A nextLink must stay on the configured Graph host: never send the token elsewhere.
    if (!next.empty() && next.rfind(base, 0) != 0) {
      return core::make_error(kErrRejected, "the cloud's nextLink " + next +
                                                " leaves the configured Graph URL; refusing it");
    }
    // A page that links back to one already read would be followed for ever.
    if (!next.empty() && !followed.insert(next).second) {
      core::Error error = core::make_error(
          kErrTransient, "paging through " + url + " loops: page " + std::to_string(page + 2) +
                             "'s @odata.nextLink was already followed; stopped reading it");
      error.request_id = request_id;
      return error;
    }
  }
  return items;
}

}  // namespace hangar::cloud
