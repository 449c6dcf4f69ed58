// The cloud credentials' messages: `config` (what is configured, never the secret), and the
// replies of `set-credentials` and `clear-credentials` (the same description, plus what the
// command did), and the `set-credentials` request. Built by the service (credentials.cpp),
// parsed by the CLI (config_cmds.cpp). Wire form unchanged from the untyped messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

// Where the client secret is and how it is kept (`secret`).
struct SecretInfo {
  bool set = false;
  std::string source;      // "environment", "store", "simulated", "none"
  std::string store;       // the file (or vault) it is kept in
  std::string protection;  // how it is protected at rest, in words
  bool stored = false;
  std::optional<std::string> error;
  std::optional<bool> environment_override;

  static SecretInfo read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct ConfigReply {
  static constexpr std::string_view kCommand = "config";
  static constexpr std::string_view kWhat = "config reply";
  std::string mode;  // "tenant", "simulated", "not_configured"
  std::string graph_url;
  std::string authority_url;
  std::string scope;
  std::string source;  // where the ids come from: "set-credentials", "config_file", "simulated"
  std::string credentials_file;
  std::string config_file;
  SecretInfo secret;
  std::optional<std::string> tenant_id;
  std::optional<std::string> client_id;
  std::optional<std::int64_t> set_at;
  std::optional<std::string> set_by;
  std::optional<std::string> problem;
  // The cloud refuses these credentials: its last answer (redacted, with its request id) and since
  // when; absent while they work or before they were tried.
  std::optional<std::string> refused;
  std::optional<std::int64_t> refused_since;

  static ConfigReply read(const Json& json, Fields& fields);
  static core::Result<ConfigReply> from_json(const Json& json);
  Json to_json() const;
};

struct SetCredentialsRequest {
  static constexpr std::string_view kCommand = "set-credentials";
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;  // the caller wipes the request's copy once sent
  bool verify = true;
  bool force = false;
  Json to_json() const;
};

// The description after the change, and whether the cloud issued a token for the new ones.
struct SetCredentialsReply : ConfigReply {
  static constexpr std::string_view kCommand = "set-credentials";
  static constexpr std::string_view kWhat = "set-credentials reply";
  bool verified = false;
  std::optional<std::string> verify_error;  // the cloud could not be asked

  static SetCredentialsReply read(const Json& json, Fields& fields);
  static core::Result<SetCredentialsReply> from_json(const Json& json);
  Json to_json() const;
};

struct ClearCredentialsReply : ConfigReply {
  static constexpr std::string_view kCommand = "clear-credentials";
  static constexpr std::string_view kWhat = "clear-credentials reply";
  bool cleared = false;  // false: none were stored

  static ClearCredentialsReply read(const Json& json, Fields& fields);
  static core::Result<ClearCredentialsReply> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
