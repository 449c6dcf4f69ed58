// The cloud interfaces (registration.h) over Microsoft Graph: OAuth2 client credentials with a
// cached token, the Autopilot import endpoints, paging, and every HTTP answer mapped to one of
// cloud_error.h's codes, with its cause classified once (classify_answer).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>
#include "hangar/cloud/http.h"
#include "hangar/cloud/registration.h"
#include "hangar/core/clock.h"

namespace hangar::cloud {

struct GraphConfig {
  // Both are configuration: sovereign clouds use other hosts.
  std::string authority_url = "https://login.microsoftonline.com";
  std::string graph_url = "https://graph.microsoft.com/beta";
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;  // never logged, never in an error message
  // The token's scope. Empty: graph_scope_for(graph_url), the Graph host's own "/.default", which
  // national clouds require (graph.microsoft.us, dod-graph.microsoft.us, ...).
  std::string scope;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // A token is renewed this long before it expires, so no call races its expiry.
  std::chrono::seconds refresh_margin{300};
  // Stop following @odata.nextLink after this many pages (a loop guard, not a limit in practice).
  int max_pages = 10'000;
};

class GraphClient final : public CloudApi {
 public:
  // Fails when a URL breaks the policy in http.h or credentials are missing.
  static core::Result<std::unique_ptr<GraphClient>> create(GraphConfig config,
                                                           HttpTransport& transport,
                                                           const core::Clock& clock);

  core::Result<std::vector<ImportRecord>> import_devices(
      std::span<const ImportItem> items) override;
  core::Result<std::optional<ImportRecord>> import_record(const std::string& id) override;
  core::Result<std::vector<ImportRecord>> import_records_for_serial(
      const std::string& serial) override;
  core::Status delete_import_record(const std::string& id) override;
  core::Result<std::vector<AutopilotDevice>> find_autopilot_devices(
      const std::string& serial) override;
  core::Result<std::vector<AutopilotDevice>> list_autopilot_devices() override;
  core::Result<std::vector<AutopilotDevice>> list_autopilot_devices_tagged(
      const std::string& group_tag) override;
  core::Result<std::vector<ImportRecord>> list_import_records() override;
  core::Result<std::vector<ManagedDevice>> list_managed_devices() override;
  core::Result<std::optional<UserLicences>> find_user(const std::string& upn) override;
  core::Status assign_user(const std::string& device_id, const std::string& upn) override;
  core::Result<std::map<std::string, std::string>> sku_names() override;
  core::Status delete_autopilot_device(const std::string& device_id) override;
  core::Status set_group_tag(const std::string& device_id, const std::string& tag) override;
  core::Result<std::vector<DirectoryDevice>> list_group_devices(
      const std::string& group_id) override;
  core::Result<std::vector<DirectoryDevice>> find_directory_devices(
      std::span<const std::string> device_ids) override;
  core::Result<bool> add_group_member(const std::string& group_id,
                                      const std::string& object_id) override;
  core::Result<bool> remove_group_member(const std::string& group_id,
                                         const std::string& object_id) override;

  // Requests a fresh token now, bypassing the cache: checks tenant, client id and secret before
  // they are stored. kErrAuth when the cloud refuses them; the token itself is never returned.
  core::Status verify_credentials();

  // How many token requests were made (tests check the cache).
  int token_requests() const { return token_requests_; }
  // The scope the token requests ask for.
  const std::string& scope() const { return config_.scope; }

 private:
  GraphClient(GraphConfig config, HttpTransport& transport, const core::Clock& clock)
      : config_(std::move(config)), transport_(transport), clock_(clock) {}

  core::Result<std::string> token(bool force_refresh);
  // The timeout of one request: config_.timeout, cut to what an operator's wait leaves
  // (call_deadline.h); kErrNetwork/kNotSent, nothing sent, when less than kShortestRequest is left.
  core::Result<std::chrono::milliseconds> request_timeout(const std::string& label) const;
  static constexpr std::chrono::milliseconds kShortestRequest{250};
  // Sends with the bearer token; on a 401 renews the token once and tries again. Non-2xx answers
  // become errors with the Graph message, the request-id and Retry-After.
  // `api` says which API the call belongs to, so a 403 names the permission it needs.
  enum class Api { kIntune, kDirectory };
  core::Result<HttpResponse> call(const std::string& method, const std::string& url,
                                  const std::string& body = {}, Api api = Api::kIntune);
  // `request_id`, when given, gets the response's request-id header.
  core::Result<nlohmann::json> call_json(const std::string& method, const std::string& url,
                                         const std::string& body = {},
                                         std::string* request_id = nullptr, Api api = Api::kIntune);
  // GETs `url` and every @odata.nextLink after it; returns the concatenated "value" arrays.
  // `request_ids`, when given, gets the request-id of the page each
  // item came from (the Request ID the seed shows with "Unexpected error").
  core::Result<std::vector<nlohmann::json>> get_all(const std::string& url,
                                                    std::vector<std::string>* request_ids = nullptr,
                                                    Api api = Api::kIntune);
  std::string graph(const std::string& path) const;
  // Entra ID calls go to v1.0 even when the Intune calls use beta (graph_url): the directory's
  // group and device APIs are stable there. The same host, so the token is the same.
  std::string directory(const std::string& path) const;
  std::string directory_url_;

  GraphConfig config_;
  HttpTransport& transport_;
  const core::Clock& clock_;
  std::mutex token_mutex_;
  std::string token_;
  std::int64_t token_expires_ms_ = 0;
  int token_requests_ = 0;
};

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view text);
// An OData string literal: quotes doubled.
std::string odata_quote(std::string_view text);
// Parses one importedWindowsAutopilotDeviceIdentity JSON object.
ImportRecord parse_import_record(const nlohmann::json& json);
// The client-credentials scope for a Graph URL: its scheme and host (and port) + "/.default"
// ("https://graph.microsoft.us/v1.0" -> "https://graph.microsoft.us/.default"). Microsoft: a
// scope naming Graph must use the national cloud's own Graph host (learn.microsoft.com
// graph/sdks/national-clouds).
std::string graph_scope_for(std::string_view graph_url);

}  // namespace hangar::cloud
