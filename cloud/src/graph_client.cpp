// Microsoft Graph implementation of the cloud interfaces (see graph_client.h).
#include "hangar/cloud/graph_client.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace hangar::cloud {

namespace {

using Json = nlohmann::json;

constexpr const char* kImported = "/deviceManagement/importedWindowsAutopilotDeviceIdentities";
constexpr const char* kAutopilot = "/deviceManagement/windowsAutopilotDeviceIdentities";

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

// Intune wraps a second JSON document in error.message ({"_version": 3, "Message": "... -
// Operation ID (for customer support): ... - Activity ID: ... - Url: ...", ...}): its Message is
// the text a person needs, not the escaped document.
std::string unwrap_intune_message(const std::string& message) {
  const auto start = message.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || message[start] != '{') return message;
  try {
    const Json inner = Json::parse(message);
    if (inner.is_object()) {
      if (auto it = inner.find("Message"); it != inner.end() && it->is_string()) {
        return it->get<std::string>();
      }
    }
  } catch (const Json::exception&) {
  }
  return message;
}

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response) {
  const std::string value = response.header("retry-after");
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || seconds < 0) return std::nullopt;  // HTTP dates are not used here
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

core::Error http_error(const std::string& method, const std::string& url,
                       const HttpResponse& response, const char* permission) {
  const int status = response.status;
  const char* code = status == 429                    ? kErrThrottled
                     : status >= 500                  ? kErrTransient
                     : status == 401 || status == 403 ? kErrAuth
                                                      : kErrRejected;
  std::string message = method + " " + url + " answered HTTP " + std::to_string(status) + ": " +
                        graph_error_text(response.body);
  if (status == 403) {
    message += std::string(" (the app registration needs the ") + permission +
               " application permission, with admin consent)";
  }
  core::Error error = core::make_error(code, std::move(message));
  error.http_status = status;
  error.request_id = response.header("request-id");
  error.retry_after = retry_after(response);
  // A StorageError in the body is the service's own "try again" (DOMAIN.md).
  if (error.code == kErrRejected && response.body.find("StorageError") != std::string::npos) {
    error.code = kErrTransient;
  }
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

std::string text_field(const Json& json, const char* key) {
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

constexpr const char* kIntunePermission = "DeviceManagementServiceConfig.ReadWrite.All";
constexpr const char* kDirectoryPermission = "GroupMember.ReadWrite.All and Device.Read.All";
constexpr const char* kEmptyGuid = "00000000-0000-0000-0000-000000000000";

AutopilotDevice parse_autopilot(const Json& json) {
  AutopilotDevice device;
  device.azure_ad_device_id = text_field(json, "azureActiveDirectoryDeviceId");
  if (device.azure_ad_device_id == kEmptyGuid) device.azure_ad_device_id.clear();
  device.enrollment_state = text_field(json, "enrollmentState");
  device.managed_device_id = text_field(json, "managedDeviceId");
  // Intune writes the all-zero GUID until the device enrolls: not enrolled.
  if (device.managed_device_id == kEmptyGuid) device.managed_device_id.clear();
  device.id = json.value("id", "");
  device.serial = json.value("serialNumber", "");
  if (json.contains("groupTag") && json["groupTag"].is_string())
    device.group_tag = json["groupTag"];
  if (json.contains("manufacturer") && json["manufacturer"].is_string()) {
    device.manufacturer = json["manufacturer"];
  }
  if (json.contains("model") && json["model"].is_string()) device.model = json["model"];
  if (json.contains("deploymentProfileAssignmentStatus") &&
      json["deploymentProfileAssignmentStatus"].is_string()) {
    device.profile_status = json["deploymentProfileAssignmentStatus"];
  }
  return device;
}

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

std::string graph_error_text(std::string_view text) {
  const std::string body(text);
  try {
    const Json parsed = Json::parse(body);
    if (parsed.is_object() && parsed.contains("error")) {
      const Json& error = parsed["error"];
      if (error.is_object()) {
        std::string out = error.value("code", "");
        const std::string message = unwrap_intune_message(error.value("message", ""));
        if (!message.empty()) out += (out.empty() ? "" : ": ") + message;
        if (!out.empty()) return out;
      } else if (error.is_string()) {
        // OAuth2 errors: {"error":"invalid_client","error_description":"AADSTS..."}
        return error.get<std::string>() + ": " + parsed.value("error_description", "");
      }
    }
  } catch (const Json::exception&) {
  }
  return body.substr(0, 200);
}

std::string graph_scope_for(std::string_view graph_url) {
  const auto scheme = graph_url.find("://");
  if (scheme == std::string_view::npos) return std::string(graph_url) + "/.default";
  const auto path = graph_url.find('/', scheme + 3);
  return std::string(graph_url.substr(0, path)) + "/.default";
}

ImportStatus parse_import_status(std::string_view text) {
  if (text == "pending") return ImportStatus::kPending;
  if (text == "partial") return ImportStatus::kPartial;
  if (text == "complete") return ImportStatus::kComplete;
  if (text == "error") return ImportStatus::kError;
  return ImportStatus::kUnknown;
}

ImportRecord parse_import_record(const Json& json) {
  ImportRecord record;
  record.id = json.value("id", "");
  record.import_id = json.contains("importId") && json["importId"].is_string()
                         ? json["importId"].get<std::string>()
                         : std::string();
  record.serial = json.value("serialNumber", "");
  if (json.contains("state") && json["state"].is_object()) {
    const Json& state = json["state"];
    if (state.contains("deviceImportStatus") && state["deviceImportStatus"].is_string()) {
      record.status = parse_import_status(state["deviceImportStatus"].get<std::string>());
    }
    if (state.contains("deviceErrorCode") && state["deviceErrorCode"].is_number_integer()) {
      const long long code = state["deviceErrorCode"].get<long long>();
      if (code != 0) record.error_code = code;
    }
    if (state.contains("deviceErrorName") && state["deviceErrorName"].is_string()) {
      record.error_name = state["deviceErrorName"];
    }
    if (state.contains("deviceRegistrationId") && state["deviceRegistrationId"].is_string()) {
      record.registration_id = state["deviceRegistrationId"];
    }
  }
  return record;
}

ErrorMeaning interpret_import_error(std::optional<long long> code, std::string_view name) {
  const std::string detail =
      std::string(name.empty() ? "error" : name) + (code ? " (" + std::to_string(*code) + ")" : "");
  using Action = ErrorMeaning::Action;
  using core::FailureReason;
  if ((code && *code == 806) || name == "ZtdDeviceAlreadyAssigned") {
    return {Action::kRegistered, FailureReason::kDeviceAlreadyRegistered, detail};
  }
  if ((code && *code == 808) || name == "ZtdDeviceAssignedToOtherTenant") {
    return {Action::kFailed, FailureReason::kClaimedByAnotherOrganization, detail};
  }
  if ((code && *code == 802) || name == "InvalidZtdHardwareHash") {
    return {Action::kFailed, FailureReason::kHardwareHashNotValid, detail};
  }
  if (name == "ZtdDeviceDuplicated") {
    return {Action::kFailed, FailureReason::kHardwareHashNotValid,
            detail + ": the same hardware hash was imported under another serial"};
  }
  if (name == "ZtdDeviceNotFound" || name == "DeviceNotFound") {
    return {Action::kFailed, FailureReason::kDeviceNotFound, detail};
  }
  if (name == "StorageError") return {Action::kRetry, FailureReason::kUnexpectedError, detail};
  return {Action::kFailed, FailureReason::kUnexpectedError, detail};
}

std::optional<std::int64_t> parse_graph_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, optional fraction, then Z (Graph always answers in UTC).
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  if (*year <= 1) return std::nullopt;  // 0001-01-01T00:00:00Z: Graph's "never"
  int millis = 0;
  if (text[19] == '.') {
    int digits = 0;
    for (std::size_t i = 20; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      if (digits < 3) millis = millis * 10 + (text[i] - '0');
      ++digits;
    }
    for (; digits < 3; ++digits) millis *= 10;
  } else if (text.size() != 20) {
    return std::nullopt;
  }
  // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
  const int y = *year - (*month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (*month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + *day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
  return ((days * 24 + *hour) * 60 + *minute) * 60'000 + std::int64_t{*second} * 1000 + millis;
}

ProfileAssignment interpret_profile_status(std::string_view status) {
  if (status.empty()) return ProfileAssignment::kNotShown;
  if (status.rfind("assigned", 0) == 0) return ProfileAssignment::kAssigned;
  if (status == "failed") return ProfileAssignment::kFailed;
  return ProfileAssignment::kWaiting;
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
  ++token_requests_;
  auto response = transport_.send(request, config_.timeout);
  if (!response) return response.error();
  if (response->status != 200) {
    core::Error error = http_error("POST", request.url, *response, kIntunePermission);
    scrub(error.message, config_.client_secret);
    if (response->status == 400 || response->status == 401) {
      error.code = kErrAuth;
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

core::Status GraphClient::verify_credentials() {
  auto bearer = token(true);
  if (!bearer) return bearer.error();
  return {};
}

core::Result<HttpResponse> GraphClient::call(const std::string& method, const std::string& url,
                                             const std::string& body, Api api) {
  for (int attempt = 0;; ++attempt) {
    auto bearer = token(attempt > 0);
    if (!bearer) return bearer.error();
    HttpRequest request;
    request.method = method;
    request.url = url;
    request.headers["Authorization"] = "Bearer " + *bearer;
    request.headers["Accept"] = "application/json";
    if (!body.empty()) {
      request.headers["Content-Type"] = "application/json";
      request.body = body;
    }
    auto response = transport_.send(request, config_.timeout);
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

core::Result<std::vector<ImportRecord>> GraphClient::import_devices(
    std::span<const ImportItem> items) {
  Json identities = Json::array();
  for (const auto& item : items) {
    Json identity{{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
                  {"serialNumber", item.serial}};
    if (!item.product_key.empty()) identity["productKey"] = item.product_key;
    if (!item.hash_base64.empty()) identity["hardwareIdentifier"] = item.hash_base64;
    if (!item.group_tag.empty()) identity["groupTag"] = item.group_tag;
    if (!item.assigned_user.empty()) identity["assignedUserPrincipalName"] = item.assigned_user;
    identities.push_back(std::move(identity));
  }
  const std::string url = graph(std::string(kImported) + "/import");
  auto response =
      call("POST", url, Json{{"importedWindowsAutopilotDeviceIdentities", identities}}.dump());
  if (!response) return response.error();
  // A 2xx means the cloud took the call: an answer that cannot be read (cut off, not JSON, no
  // records) leaves every device in doubt, never "not sent".
  const auto in_doubt = [&](const std::string& why) {
    core::Error error = core::make_error(
        kErrInDoubt, "POST " + url + " answered HTTP " + std::to_string(response->status) +
                         " but " + why + ": the devices may have been imported");
    error.http_status = response->status;
    error.request_id = response->header("request-id");
    return error;
  };
  Json body;
  try {
    body = Json::parse(response->body);
  } catch (const Json::exception&) {
    return in_doubt(response->body.empty() ? "with no body" : "with a body that is not JSON");
  }
  if (!body.is_object() || !body.contains("value") || !body["value"].is_array()) {
    return in_doubt("without the list of import records");
  }
  std::vector<ImportRecord> records;
  for (const auto& item : body["value"]) {
    if (item.is_object()) records.push_back(parse_import_record(item));
  }
  return records;
}

core::Result<std::optional<ImportRecord>> GraphClient::import_record(const std::string& id) {
  std::string request_id;
  auto body =
      call_json("GET", graph(std::string(kImported) + "/" + url_encode(id)), {}, &request_id);
  if (!body) {
    if (body.error().http_status == 404) return std::optional<ImportRecord>();
    return body.error();
  }
  ImportRecord record = parse_import_record(*body);
  record.request_id = request_id;
  return std::optional<ImportRecord>(std::move(record));
}

namespace {

bool same_serial(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

core::Result<std::vector<ImportRecord>> GraphClient::import_records_for_serial(
    const std::string& serial) {
  // The form public tools use on import records (WindowsAutopilotIntune's
  // Get-AutopilotImportedDevice -serial); no filter is documented there.
  std::vector<std::string> request_ids;
  auto items = get_all(graph(kImported) + "?$filter=" +
                           url_encode("contains(serialNumber," + odata_quote(serial) + ")"),
                       &request_ids);
  if (!items) return items.error();
  std::vector<ImportRecord> records;
  for (std::size_t i = 0; i < items->size(); ++i) {
    ImportRecord record = parse_import_record((*items)[i]);
    // contains() also matches longer serials: keep the exact one (serials ignore case).
    if (!same_serial(record.serial, serial)) continue;
    record.request_id = request_ids[i];
    records.push_back(std::move(record));
  }
  return records;
}

core::Status GraphClient::delete_import_record(const std::string& id) {
  auto response = call("DELETE", graph(std::string(kImported) + "/" + url_encode(id)));
  if (!response) return response.error();
  return {};
}

core::Result<std::optional<AutopilotDevice>> GraphClient::find_autopilot_device(
    const std::string& serial) {
  // contains(), the filter function Microsoft documents in place of eq (which is a 400 here).
  auto items = get_all(graph(kAutopilot) + "?$filter=" +
                       url_encode("contains(serialNumber," + odata_quote(serial) + ")"));
  if (!items) return items.error();
  for (const auto& item : *items) {
    AutopilotDevice device = parse_autopilot(item);
    if (same_serial(device.serial, serial))
      return std::optional<AutopilotDevice>(std::move(device));
  }
  return std::optional<AutopilotDevice>();
}

core::Result<std::vector<AutopilotDevice>> GraphClient::list_autopilot_devices() {
  // No $select (a 500 on this collection) and no $top (undocumented here): the default page,
  // about 1,000 devices, carries every field.
  auto items = get_all(graph(kAutopilot));
  if (!items) return items.error();
  std::vector<AutopilotDevice> devices;
  devices.reserve(items->size());
  for (const auto& item : *items) devices.push_back(parse_autopilot(item));
  return devices;
}

core::Result<std::vector<AutopilotDevice>> GraphClient::list_autopilot_devices_tagged(
    const std::string& group_tag) {
  // contains(), the documented filter function; exact matches are picked by the caller. No
  // $select: Intune answers any projection on this collection with a 500, and the default one
  // carries deploymentProfileAssignmentStatus on beta.
  auto items = get_all(graph(kAutopilot) + "?$filter=" +
                       url_encode("contains(groupTag," + odata_quote(group_tag) + ")"));
  if (!items) return items.error();
  std::vector<AutopilotDevice> devices;
  devices.reserve(items->size());
  for (const auto& item : *items) devices.push_back(parse_autopilot(item));
  return devices;
}

core::Result<std::vector<ImportRecord>> GraphClient::list_import_records() {
  std::vector<std::string> request_ids;
  auto items = get_all(graph(kImported), &request_ids);
  if (!items) return items.error();
  std::vector<ImportRecord> records;
  records.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    records.push_back(parse_import_record((*items)[i]));
    records.back().request_id = request_ids[i];
  }
  return records;
}

core::Result<std::vector<ManagedDevice>> GraphClient::list_managed_devices() {
  // $select on managedDevices is in wide use; the default page is 1,000.
  auto items = get_all(graph("/deviceManagement/managedDevices") +
                       "?$select=" + url_encode("id,lastSyncDateTime"));
  if (!items) return items.error();
  std::vector<ManagedDevice> devices;
  devices.reserve(items->size());
  for (const auto& item : *items) {
    devices.push_back(
        {text_field(item, "id"), parse_graph_time(text_field(item, "lastSyncDateTime"))});
  }
  return devices;
}

core::Result<std::optional<UserLicences>> GraphClient::find_user(const std::string& upn) {
  auto body = call_json("GET", graph("/users/" + url_encode(upn)) +
                                   "?$select=" + url_encode("userPrincipalName,assignedLicenses"));
  if (!body) {
    if (body.error().message.find("HTTP 404") != std::string::npos) {
      return std::optional<UserLicences>();
    }
    return body.error();
  }
  UserLicences user;
  user.user_principal_name = text_field(*body, "userPrincipalName");
  if (user.user_principal_name.empty()) user.user_principal_name = upn;
  if (auto it = body->find("assignedLicenses"); it != body->end() && it->is_array()) {
    for (const auto& licence : *it) {
      if (licence.is_object()) {
        const std::string sku = text_field(licence, "skuId");
        if (!sku.empty()) user.sku_ids.push_back(sku);
      }
    }
  }
  return std::optional<UserLicences>(std::move(user));
}

core::Status GraphClient::assign_user(const std::string& device_id, const std::string& upn) {
  auto response = call(
      "POST", graph(std::string(kAutopilot) + "/" + url_encode(device_id) + "/assignUserToDevice"),
      Json{{"userPrincipalName", upn}, {"addressableUserName", upn}}.dump());
  if (response) return {};
  core::Error error = std::move(response).error();
  // Microsoft has retired parts of direct user assignment, and assignUserToDevice is reported to
  // answer 400 at times (microsoft-graph-docs #11620): say what to do instead of the raw answer.
  if (error.code == kErrRejected || error.code == kErrTransient) {
    error.message =
        "Intune did not assign " + upn + " to the Autopilot device (" + error.message +
        "). Intune refuses direct user assignment at times (Microsoft has retired parts of it): " +
        (error.code == kErrTransient ? std::string("try `hangar deliver` again later, or assign")
                                     : std::string("assign")) +
        " the user in the Intune admin center (Devices > Windows > Windows enrollment > Devices: "
        "select the device, Assign user); Hangar has not recorded the delivery";
  }
  return error;
}

core::Status GraphClient::set_group_tag(const std::string& device_id, const std::string& tag) {
  auto response =
      call("POST",
           graph(std::string(kAutopilot) + "/" + url_encode(device_id) + "/updateDeviceProperties"),
           Json{{"groupTag", tag}}.dump());
  if (!response) return response.error();
  return {};
}

namespace {

std::vector<DirectoryDevice> parse_directory_devices(const std::vector<Json>& items) {
  std::vector<DirectoryDevice> devices;
  devices.reserve(items.size());
  for (const auto& item : items) {
    DirectoryDevice device{text_field(item, "id"), text_field(item, "deviceId")};
    if (!device.object_id.empty()) devices.push_back(std::move(device));
  }
  return devices;
}

bool is_http_status(const core::Error& error, int status) {
  return error.code == kErrRejected &&
         error.message.find("HTTP " + std::to_string(status)) != std::string::npos;
}

}  // namespace

core::Result<std::vector<DirectoryDevice>> GraphClient::list_group_devices(
    const std::string& group_id) {
  // The cast segment returns device members only (users or nested groups are not ours to
  // judge); 999 is the largest page the directory serves.
  auto items =
      get_all(directory("/groups/" + url_encode(group_id) + "/members/microsoft.graph.device") +
                  "?$select=" + url_encode("id,deviceId") + "&$top=999",
              nullptr, Api::kDirectory);
  if (!items) return items.error();
  return parse_directory_devices(*items);
}

core::Result<std::vector<DirectoryDevice>> GraphClient::find_directory_devices(
    std::span<const std::string> device_ids) {
  std::vector<DirectoryDevice> found;
  for (std::size_t at = 0; at < device_ids.size(); at += kMaxDeviceIdsPerLookup) {
    const std::size_t end = std::min(device_ids.size(), at + kMaxDeviceIdsPerLookup);
    std::string list;
    for (std::size_t i = at; i < end; ++i)
      list += (list.empty() ? "" : ",") + odata_quote(device_ids[i]);
    auto items =
        get_all(directory("/devices") + "?$filter=" + url_encode("deviceId in (" + list + ")") +
                    "&$select=" + url_encode("id,deviceId"),
                nullptr, Api::kDirectory);
    if (!items) return items.error();
    auto devices = parse_directory_devices(*items);
    found.insert(found.end(), devices.begin(), devices.end());
  }
  return found;
}

core::Result<bool> GraphClient::add_group_member(const std::string& group_id,
                                                 const std::string& object_id) {
  auto response =
      call("POST", directory("/groups/" + url_encode(group_id) + "/members/$ref"),
           Json{{"@odata.id", directory("/directoryObjects/" + url_encode(object_id))}}.dump(),
           Api::kDirectory);
  if (response) return true;
  // Graph refuses a reference that exists with this 400: the device is a member already.
  if (is_http_status(response.error(), 400) &&
      response.error().message.find("already exist") != std::string::npos) {
    return false;
  }
  return response.error();
}

core::Result<bool> GraphClient::remove_group_member(const std::string& group_id,
                                                    const std::string& object_id) {
  auto response = call(
      "DELETE",
      directory("/groups/" + url_encode(group_id) + "/members/" + url_encode(object_id) + "/$ref"),
      {}, Api::kDirectory);
  if (response) return true;
  // 404 for a member that is not (or no longer) in the group. A missing group is a 404 too; the
  // sweep has just listed the group, so the member is what went missing.
  if (is_http_status(response.error(), 404)) return false;
  return response.error();
}

}  // namespace hangar::cloud
