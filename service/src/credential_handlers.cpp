// Handlers for the cloud credential commands: config (read), set-credentials and
// clear-credentials (admin; the dispatcher refuses them to anyone else before they run). The
// secret arrives in set-credentials' arguments and leaves in no reply, log line or error.
#include <spdlog/spdlog.h>

#include "credentials.h"
#include "handlers.h"
#include "hangar/core/credential_checks.h"

namespace hangar::service {

namespace {

using ipc::Json;

core::Error invalid(std::string message) {
  return core::make_error(ipc::errc::kInvalidArgument, std::move(message));
}

core::Error no_cloud() {
  return core::make_error(ipc::errc::kUnavailable, "this service runs without a cloud connection");
}

// A string argument; names the key, never the value.
core::Result<std::string> text_argument(const Json& args, const char* key, const char* what) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_string()) {
    return invalid(std::string("set-credentials needs ") + what + " in \"" + key + "\" (a string)");
  }
  return it->get<std::string>();
}

core::Result<bool> flag_argument(const Json& args, const char* key, bool fallback) {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  if (!it->is_boolean()) return invalid(std::string("\"") + key + "\" must be true or false");
  return it->get<bool>();
}

core::Result<Json> handle_set(ServiceContext& context, const Json& args,
                              const ipc::CallContext& call) {
  if (!context.credentials) return no_cloud();
  if (!args.is_object()) return invalid("set-credentials takes an object of arguments");
  auto tenant = text_argument(args, "tenant_id", "the tenant id");
  if (!tenant) return tenant.error();
  auto client = text_argument(args, "client_id", "the client id");
  if (!client) return client.error();
  auto secret = text_argument(args, "client_secret", "the client secret");
  if (!secret) return secret.error();
  auto verify = flag_argument(args, "verify", true);
  if (!verify) return verify.error();
  auto force = flag_argument(args, "force", false);
  if (!force) return force.error();

  // Devices Registration Pending are tracked by import records in the tenant that has them:
  // switching tenants under them would poll the wrong tenant.
  const auto wanted = core::normalize_guid(*tenant);
  const std::string current = context.credentials->tenant_id();
  if (!*force && wanted && !current.empty() && *wanted != current) {
    auto counts = context.store.count_by_state();
    if (!counts) return counts.error();
    const std::int64_t pending = (*counts)["registration_pending"];
    if (pending > 0) {
      return core::make_error(
          ipc::errc::kConflict,
          std::to_string(pending) + " device(s) are Registration Pending in tenant " + current +
              "; switching to another tenant now would lose track of them. Wait until they "
              "finish (hangar status), or pass --force");
    }
  }

  spdlog::debug("set-credentials from {} (pid {}): tenant {}, client id {}, verify {}, force {}",
                call.peer.user, call.peer.pid, *tenant, *client, *verify, *force);
  NewCredentials request;
  request.tenant_id = std::move(*tenant);
  request.client_id = std::move(*client);
  request.client_secret = std::move(*secret);
  request.verify = *verify;
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
         return context.credentials->describe();
       }});
  bindings.push_back(
      {"set-credentials", [&context](const Json& args, const ipc::CallContext& call) {
         return handle_set(context, args, call);
       }});
  bindings.push_back({"clear-credentials",
                      [&context](const Json&, const ipc::CallContext& call) -> core::Result<Json> {
                        if (!context.credentials) return no_cloud();
                        auto result = context.credentials->clear(call.peer.user);
                        if (result && context.engine) context.engine->credentials_changed();
                        return result;
                      }});
}

}  // namespace hangar::service
