// The cloud credentials: where they come from, where they are kept, and the Graph client that uses
// them, swapped without a restart when `hangar config set-credentials` changes them.
//
// Where each piece comes from, first match wins:
//   tenant id, client id  <data dir>/credentials.json (written by set-credentials)
//                         > tenant_id / client_id in hangar.json
//                         > none: the simulated cloud with its well-known test credentials
//   client secret         HANGAR_CLIENT_SECRET in the service's environment (set-credentials is
//                         refused while it is set, so a stored secret is never silently ignored)
//                         > the SecretStore (secret_store.h): 0600 file / DPAPI
// On Windows a plain-text <data dir>\client-secret left by an older set-up is moved into the
// DPAPI store at start-up and deleted. Nothing here logs or returns a secret.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hangar/cloud/graph_client.h"
#include "hangar/cloud/http.h"
#include "hangar/cloud/registration.h"
#include "hangar/core/clock.h"
#include "hangar/ipc/messages/config.h"
#include "hangar/ipc/protocol.h"
#include "secret_store.h"

namespace hangar::service {

// The simulated cloud's well-known test credentials (cloudsim/README.md): not secrets.
inline constexpr char kSimTenantId[] = "11111111-1111-4111-8111-111111111111";
inline constexpr char kSimClientId[] = "22222222-2222-4222-8222-222222222222";
inline constexpr char kSimClientSecret[] = "hangar-cloudsim-secret";

struct CredentialSettings {
  std::filesystem::path data_dir;
  std::filesystem::path config_file;  // named when its tenant_id/client_id are in use
  std::string cloud_url;              // see Options
  std::string authority_url;
  std::string graph_url;
  std::string graph_scope;       // empty: derived from the Graph URL (GraphConfig::scope)
  std::string config_tenant_id;  // hangar.json
  std::string config_client_id;
  std::string env_secret;  // HANGAR_CLIENT_SECRET
  // A verification token request gives up after this long (the CLI waits 30 s for the reply).
  std::chrono::milliseconds verify_timeout{std::chrono::seconds(10)};
};

struct NewCredentials {
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;
  bool verify = true;  // ask the cloud for a token before storing them
  std::string by;      // the caller, for the log and `config show`
};

class CredentialManager {
 public:
  // Reads what is stored and connects. Never fails: an unreadable or damaged file leaves the cloud
  // "not configured" with the reason (logged, and shown by `hangar config show`), so the service
  // still starts and an administrator can set the credentials again.
  CredentialManager(CredentialSettings settings, cloud::HttpTransport& transport,
                    const core::Clock& clock);
  ~CredentialManager();
  CredentialManager(const CredentialManager&) = delete;
  CredentialManager& operator=(const CredentialManager&) = delete;

  // The Graph client the engine's passes talk to now (a call in flight finishes with the client it
  // started with; the next one, and its token request, uses the one set() switched to), or why
  // there is none (code cloud::kErrNotConfigured). Any thread.
  core::Result<std::shared_ptr<cloud::CloudApi>> client() const;

  // The configured URLs break the policy in cloud/http.h (plain http to another machine): a
  // configuration error that no credentials can fix, so the service refuses to start.
  core::Status check_urls() const;

  // Validates, optionally verifies with a token request (refused credentials change nothing; an
  // unreachable cloud stores them anyway and says so), stores the secret protected and the ids in
  // credentials.json, and switches the Graph client over. The reply is describe() plus
  // "verified" (and "verify_error").
  core::Result<ipc::Json> set(NewCredentials request);
  // Removes credentials.json and the stored secret; falls back to hangar.json / the simulator.
  core::Result<ipc::Json> clear(const std::string& by);
  // Whether clear() would remove anything (ids, a secret, or a damaged file of either).
  bool stored() const;

  // Everything `hangar config show` prints; never the secret.
  ipc::Json describe() const;
  // For `hangar status`: mode, tenant, where the credentials come from (the `cloud` part of
  // ipc::msg::StatusReply).
  struct Summary {
    std::string mode;  // "tenant", "simulated" or "not_configured"
    std::optional<std::string> tenant_id;
    std::string credentials;
  };
  Summary summary() const;
  std::string graph_url() const;
  // The tenant in use ("" when none), so a handler can refuse a switch while devices are pending.
  std::string tenant_id() const;

 private:
  enum class Mode { kSimulated, kTenant, kNotConfigured };
  struct StoredIds {
    std::string tenant_id;
    std::string client_id;
    std::int64_t set_at = 0;
    std::string set_by;
  };

  void load_locked();
  void migrate_plain_secret_locked();
  void apply_locked();
  cloud::GraphConfig base_config(bool simulated) const;
  ipc::msg::ConfigReply describe_locked() const;
  bool stored_locked() const;
  std::string source_text_locked() const;
  core::Status write_ids(const StoredIds& ids) const;

  CredentialSettings settings_;
  cloud::HttpTransport& transport_;
  const core::Clock& clock_;
  SecretStore store_;
  std::filesystem::path ids_file_;

  mutable std::mutex mutex_;
  std::optional<StoredIds> stored_ids_;
  std::optional<std::string> ids_error_;  // credentials.json exists but is damaged
  std::optional<std::string> stored_secret_;
  std::optional<std::string> secret_error_;  // the stored secret cannot be read

  // The resolution: what the connection currently uses.
  Mode mode_ = Mode::kNotConfigured;
  cloud::GraphConfig active_;  // URLs always; ids and secret when configured
  std::string ids_source_;     // "set-credentials", "config_file", "simulated", ""
  std::string secret_source_;  // "environment", "store", "simulated", "none"
  std::string problem_;        // why the cloud is not configured

  // What client() hands out: the current client, or why there is none.
  mutable std::mutex client_mutex_;
  std::shared_ptr<cloud::CloudApi> client_;
  core::Error no_client_;
};

}  // namespace hangar::service
