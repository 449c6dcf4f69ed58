// Handlers for the cloud credential commands: config (read), set-credentials and
// clear-credentials (admin; the dispatcher refuses them to anyone else before they run). The
// secret arrives in set-credentials' arguments and leaves in no reply, log line or error.
#include <spdlog/spdlog.h>

#include "credentials.h"
#include "handlers.h"
#include "hangar/core/credential_checks.h"
#include "hangar/ipc/args.h"
#include "secret_store.h"

namespace hangar::service {

namespace {

using ipc::Json;

core::Error invalid(std::string message) {
  return core::make_error(ipc::errc::kInvalidArgument, std::move(message));
}

core::Error no_cloud() {
  return core::make_error(ipc::errc::kUnavailable, "this service runs without a cloud connection");
}

// Devices Registration Pending are tracked by import records in the tenant that has them:
// switching tenants (or clearing the credentials, which falls back to the simulated cloud) under
// them would lose track of them. A conflict naming them and --force, unless none is pending.
core::Status pending_in_tenant(ServiceContext& context, const std::string& doing) {
  const std::string current = context.credentials->tenant_id();
  if (current.empty()) return {};
  auto counts = context.store.count_by_state();
  if (!counts) return counts.error();
  const std::int64_t pending = (*counts)[core::DeviceState::kRegistrationPending];
  if (pending == 0) return {};
  return core::make_error(ipc::errc::kConflict,
                          std::to_string(pending) +
                              " device(s) are Registration Pending in tenant " + current + "; " +
                              doing +
                              " now would lose track of them. Wait until they finish (hangar "
                              "status), or pass --force");
}

core::Result<Json> handle_clear(ServiceContext& context, const Json& args,
                                const ipc::CallContext& call) {
  if (!context.credentials) return no_cloud();
  const ipc::Args reader("clear-credentials", args);
  auto force = reader.flag("force");
  if (!force) return force.error();
  auto check = reader.flag("check");
  if (!check) return check.error();
  if (!force->value_or(false)) {
    if (auto held = pending_in_tenant(context, "clearing the credentials"); !held) {
      return held.error();
    }
  }
  if (check->value_or(false)) {
    return Json{{"checked", true}, {"stored", context.credentials->stored()}};
  }
  auto result = context.credentials->clear(call.peer.user);
  if (result && context.engine) context.engine->credentials_changed();
  return result;
}

core::Result<Json> handle_set(ServiceContext& context, const Json& args,
                              const ipc::CallContext& call) {
  if (!context.credentials) return no_cloud();
  // Typed first (the dispatcher checked them against the command table already); no reader quotes
  // a string value, so a secret pasted into the wrong field is never repeated.
  const ipc::Args reader("set-credentials", args);
  auto tenant = reader.required_text("tenant_id", "the tenant id");
  if (!tenant) return tenant.error();
  auto client = reader.required_text("client_id", "the client id");
  if (!client) return client.error();
  auto secret = reader.required_text("client_secret", "the client secret");
  if (!secret) return secret.error();
  auto verify = reader.flag("verify");
  if (!verify) return verify.error();
  auto force = reader.flag("force");
  if (!force) return force.error();
  auto check = reader.flag("check");
  if (!check) return check.error();

  // Validated before anything is logged or compared: only the canonical GUIDs go further, so a
  // secret given as the tenant or client id never reaches the log (CredentialManager::set checks
  // the same again and stays the authority on the secret).
  const auto wanted = core::normalize_guid(*tenant);
  const auto client_id = core::normalize_guid(*client);
  if (!wanted || !client_id) {
    wipe(*secret);
    return invalid(!wanted ? "the tenant id must be the directory (tenant) ID, a GUID such as "
                             "72f988bf-86f1-41af-91ab-2d7cd011db47 (Entra ID > Overview)"
                           : "the client id must be the app registration's Application (client) "
                             "ID, a GUID such as 0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a");
  }

  const std::string current = context.credentials->tenant_id();
  if (!force->value_or(false) && *wanted != current) {
    if (auto held = pending_in_tenant(context, "switching to another tenant"); !held)
      return held.error();
  }
  if (check->value_or(false)) {
    wipe(*secret);
    return Json{{"checked", true}};
  }

  spdlog::debug("set-credentials from {} (pid {}): tenant {}, client id {}, verify {}, force {}",
                call.peer.user, call.peer.pid, *wanted, *client_id, verify->value_or(true),
                force->value_or(false));
  NewCredentials request;
  request.tenant_id = *wanted;
  request.client_id = *client_id;
  request.client_secret = std::move(*secret);
  request.verify = verify->value_or(true);
  request.by = call.peer.user;
  auto result = context.credentials->set(std::move(request));
  // Uploads waiting for credentials can go now.
  if (result && context.engine) context.engine->credentials_changed();
  return result;
}

}  // namespace

void add_credential_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context) {
  bindings.push_back(
      {"config", [&context](const Json&, const ipc::CallContext&) -> core::Result<Json> {
         if (!context.credentials) return no_cloud();
         Json described = context.credentials->describe();
         // Whether the cloud takes them (black-box round 10: "secret set" for a rotated secret).
         if (context.engine) {
           for (const RefusedRequest& refused : context.engine->status().refused_requests) {
             if (refused.form_id != "credentials") continue;
             std::string text = refused.message;
             if (!refused.request_id.empty()) text += " (request id " + refused.request_id + ")";
             for (char& c : text) {
               if (c == '\n' || c == '\r') c = ' ';  // AADSTS answers span lines
             }
             described["refused"] = text;
             described["refused_since"] = refused.since;
           }
         }
         return described;
       }});
  bindings.push_back(
      {"set-credentials", [&context](const Json& args, const ipc::CallContext& call) {
         return handle_set(context, args, call);
       }});
  bindings.push_back(
      {"clear-credentials", [&context](const Json& args, const ipc::CallContext& call) {
         return handle_clear(context, args, call);
       }});
}

}  // namespace hangar::service
