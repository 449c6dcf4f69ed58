// The cloud credentials and the swappable Graph client (see credentials.h).
#include "credentials.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "hangar/core/credential_checks.h"
#include "hangar/service/options.h"
#include "redact.h"

namespace hangar::service {

namespace {

using ipc::Json;

constexpr const char* kIdsFileName = "credentials.json";

std::string path_text(const std::filesystem::path& path) {
  const auto text = path.u8string();
  return std::string(text.begin(), text.end());
}

core::Error not_configured(std::string why) {
  return core::make_error(cloud::kErrNotConfigured, std::move(why));
}

// A plain-text secret as older set-ups wrote it by hand: one line, maybe a newline after it.
std::optional<std::string> read_plain_secret(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ' ||
                             secret.back() == '\t' || secret.back() == '\n')) {
    secret.pop_back();
  }
  if (core::client_secret_problem(secret)) {
    wipe(secret);
    return std::nullopt;
  }
  return secret;
}

}  // namespace

// ---- CredentialManager -------------------------------------------------------------------------

CredentialManager::CredentialManager(CredentialSettings settings, cloud::HttpTransport& transport,
                                     const core::Clock& clock)
    : settings_(std::move(settings)),
      transport_(transport),
      clock_(clock),
      store_(settings_.data_dir),
      ids_file_(settings_.data_dir / kIdsFileName),
      no_client_(not_configured("no cloud credentials: run `hangar config set-credentials`")) {
  register_secret(settings_.env_secret);
  std::lock_guard lock(mutex_);
  load_locked();
  apply_locked();
  if (!settings_.env_secret.empty() && stored_secret_) {
    spdlog::warn(
        "HANGAR_CLIENT_SECRET is set in the service's environment and overrides the "
        "secret stored in {}",
        path_text(store_.path()));
  }
  if (!settings_.env_secret.empty() && mode_ == Mode::kSimulated) {
    spdlog::warn(
        "HANGAR_CLIENT_SECRET is set but no tenant is configured, so it is not used: set "
        "tenant_id and client_id in {} or run `hangar config set-credentials`",
        path_text(settings_.config_file));
  }
  if (stored_ids_ && !settings_.config_tenant_id.empty() &&
      (settings_.config_tenant_id != stored_ids_->tenant_id ||
       settings_.config_client_id != stored_ids_->client_id)) {
    spdlog::info(
        "the tenant and client id set with `hangar config set-credentials` ({}) override "
        "tenant_id/client_id in {}",
        path_text(ids_file_), path_text(settings_.config_file));
  }
  switch (mode_) {
    case Mode::kSimulated:
      spdlog::info("cloud: {} (the simulated cloud: no tenant configured)", active_.graph_url);
      break;
    case Mode::kTenant:
      spdlog::info("cloud: {} (tenant {}, client id {}; {})", active_.graph_url, active_.tenant_id,
                   active_.client_id, source_text_locked());
      break;
    case Mode::kNotConfigured:
      spdlog::warn("cloud: {}: not configured: {}", active_.graph_url, problem_);
      break;
  }
}

CredentialManager::~CredentialManager() {
  if (stored_secret_) wipe(*stored_secret_);
  wipe(active_.client_secret);
}

void CredentialManager::load_locked() {
  stored_ids_.reset();
  ids_error_.reset();
  std::error_code ec;
  if (std::filesystem::exists(ids_file_, ec)) {
    const auto damaged = [&](const std::string& why) {
      ids_error_ = path_text(ids_file_) + " is damaged (" + why +
                   "): run `hangar config set-credentials` again, or `hangar config "
                   "clear-credentials`";
    };
    std::ifstream in(ids_file_, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      ids_error_ = "cannot read " + path_text(ids_file_);
    } else {
      try {
        const Json j = Json::parse(text.str());
        StoredIds ids;
        ids.tenant_id = j.at("tenant_id").get<std::string>();
        ids.client_id = j.at("client_id").get<std::string>();
        ids.set_at = j.value("set_at", std::int64_t{0});
        ids.set_by = j.value("set_by", std::string());
        if (!core::normalize_guid(ids.tenant_id) || !core::normalize_guid(ids.client_id)) {
          damaged("the tenant or client id is not a GUID");
        } else {
          stored_ids_ = std::move(ids);
        }
      } catch (const Json::exception&) {
        damaged("not the JSON set-credentials writes");
      }
    }
  }

  migrate_plain_secret_locked();
  if (stored_secret_) wipe(*stored_secret_);
  stored_secret_.reset();
  secret_error_.reset();
  auto secret = store_.load();
  if (!secret) {
    secret_error_ = secret.error().message;
  } else if (*secret) {
    register_secret(**secret);
    stored_secret_ = std::move(*secret);
  }
  if (ids_error_) spdlog::error("cloud credentials: {}", *ids_error_);
  if (secret_error_) spdlog::error("cloud credentials: {}", *secret_error_);
}

// Windows only in practice: there the store is client-secret.dpapi and a plain client-secret is
// a leftover to protect and delete. On POSIX the store *is* <data dir>/client-secret.
void CredentialManager::migrate_plain_secret_locked() {
  const std::filesystem::path plain = settings_.data_dir / "client-secret";
  std::error_code ec;
  if (store_.path() == plain || !std::filesystem::exists(plain, ec)) return;
  auto secret = read_plain_secret(plain);
  if (!secret) {
    spdlog::warn("{} is not a usable client secret and is ignored; delete it", path_text(plain));
    return;
  }
  register_secret(*secret);
  auto existing = store_.load();
  if (!existing || *existing) {
    wipe(*secret);
    if (existing && *existing) wipe(**existing);
    spdlog::warn(
        "{} holds a plain-text client secret that is not used (the one protected in {} "
        "is): delete it",
        path_text(plain), path_text(store_.path()));
    return;
  }
  auto saved = store_.save(*secret);
  auto check = saved ? store_.load() : core::Result<std::optional<std::string>>(saved.error());
  if (!check || !*check || **check != *secret) {
    wipe(*secret);
    if (check && *check) wipe(**check);
    spdlog::error(
        "could not move the plain-text client secret in {} into {}: {}; it stays in use "
        "as it is",
        path_text(plain), path_text(store_.path()),
        check ? std::string("it did not read back the same") : check.error().message);
    (void)store_.remove();
    return;
  }
  wipe(**check);
  wipe(*secret);
  std::filesystem::remove(plain, ec);
  if (ec) {
    spdlog::warn(
        "moved the client secret into {}, but could not delete the plain-text {}: {}; "
        "delete it",
        path_text(store_.path()), path_text(plain), ec.message());
  } else {
    spdlog::info("moved the plain-text client secret from {} into {} ({}) and deleted it",
                 path_text(plain), path_text(store_.path()), SecretStore::protection());
  }
}

cloud::GraphConfig CredentialManager::base_config(bool simulated) const {
  cloud::GraphConfig graph;
  const std::string base = !settings_.cloud_url.empty() ? settings_.cloud_url
                           : simulated                  ? std::string(kDefaultCloudUrl)
                                                        : std::string();
  if (!base.empty()) {
    graph.authority_url = base;
    graph.graph_url = base + "/beta";
  }
  if (!settings_.authority_url.empty()) graph.authority_url = settings_.authority_url;
  if (!settings_.graph_url.empty()) graph.graph_url = settings_.graph_url;
  graph.scope = settings_.graph_scope;  // empty: GraphClient derives it from graph_url
  return graph;
}

void CredentialManager::apply_locked() {
  wipe(active_.client_secret);
  problem_.clear();
  ids_source_.clear();
  secret_source_ = "none";
  std::string tenant, client;
  if (stored_ids_) {
    tenant = stored_ids_->tenant_id;
    client = stored_ids_->client_id;
    ids_source_ = "set-credentials";
  } else if (!ids_error_ && !settings_.config_tenant_id.empty()) {
    tenant = settings_.config_tenant_id;
    client = settings_.config_client_id;
    ids_source_ = "config_file";
  }

  if (ids_error_) {
    mode_ = Mode::kNotConfigured;
    active_ = base_config(false);
    problem_ = *ids_error_;
  } else if (ids_source_.empty()) {
    // No tenant anywhere: the simulated cloud with its published test credentials.
    mode_ = Mode::kSimulated;
    active_ = base_config(true);
    active_.tenant_id = kSimTenantId;
    active_.client_id = kSimClientId;
    active_.client_secret = kSimClientSecret;
    ids_source_ = "simulated";
    secret_source_ = "simulated";
  } else {
    mode_ = Mode::kTenant;
    active_ = base_config(false);
    active_.tenant_id = tenant;
    active_.client_id = client;
    if (!settings_.env_secret.empty()) {
      active_.client_secret = settings_.env_secret;
      secret_source_ = "environment";
    } else if (stored_secret_) {
      active_.client_secret = *stored_secret_;
      secret_source_ = "store";
    }
    if (client.empty()) {
      mode_ = Mode::kNotConfigured;
      problem_ = "tenant_id is set in " + path_text(settings_.config_file) +
                 " but client_id is not: run `hangar config set-credentials`";
    } else if (active_.client_secret.empty()) {
      mode_ = Mode::kNotConfigured;
      problem_ = secret_error_ ? *secret_error_
                               : "no client secret: run `hangar config set-credentials` (or set "
                                 "HANGAR_CLIENT_SECRET in the service's environment)";
    }
  }

  if (mode_ == Mode::kNotConfigured) {
    std::lock_guard lock(client_mutex_);
    client_.reset();
    no_client_ = not_configured("the cloud is not configured: " + problem_);
    return;
  }
  auto client_or = cloud::GraphClient::create(active_, transport_, clock_);
  if (!client_or) {
    mode_ = Mode::kNotConfigured;
    problem_ = client_or.error().message;
    std::lock_guard lock(client_mutex_);
    client_.reset();
    no_client_ = client_or.error();
    return;
  }
  {
    std::lock_guard lock(client_mutex_);
    client_ = std::shared_ptr<cloud::CloudApi>(std::move(client_or).value());
  }
  spdlog::debug("Graph client: {} with tenant {}, client id {} (ids: {}, secret: {})",
                active_.graph_url, active_.tenant_id, active_.client_id, ids_source_,
                secret_source_);
}

core::Result<std::shared_ptr<cloud::CloudApi>> CredentialManager::client() const {
  std::lock_guard lock(client_mutex_);
  if (!client_) return no_client_;
  return client_;
}

core::Status CredentialManager::check_urls() const {
  std::lock_guard lock(mutex_);
  for (const std::string* url : {&active_.authority_url, &active_.graph_url}) {
    if (auto allowed = cloud::check_url_allowed(*url); !allowed) return allowed;
  }
  return {};
}

std::string CredentialManager::source_text_locked() const {
  std::string ids = ids_source_ == "set-credentials"
                        ? "set with `hangar config set-credentials`"
                        : "tenant_id/client_id from " + path_text(settings_.config_file);
  std::string secret = secret_source_ == "environment" ? "secret from HANGAR_CLIENT_SECRET"
                       : secret_source_ == "store" ? "secret stored in " + path_text(store_.path())
                                                   : "no secret";
  return ids + ", " + secret;
}

ipc::msg::ConfigReply CredentialManager::describe_locked() const {
  ipc::msg::ConfigReply c;
  c.mode = mode_ == Mode::kSimulated ? "simulated"
           : mode_ == Mode::kTenant  ? "tenant"
                                     : "not_configured";
  c.secret.set = !active_.client_secret.empty();
  c.secret.source = secret_source_;
  c.secret.store = path_text(store_.path());
  c.secret.protection = SecretStore::protection();
  c.secret.stored = stored_secret_.has_value();
  c.secret.error = secret_error_;
  if (!settings_.env_secret.empty()) c.secret.environment_override = true;
  c.graph_url = active_.graph_url;
  c.authority_url = active_.authority_url;
  c.scope = active_.scope.empty() ? cloud::graph_scope_for(active_.graph_url) : active_.scope;
  c.source = ids_source_;
  c.credentials_file = path_text(ids_file_);
  c.config_file = path_text(settings_.config_file);
  if (!active_.tenant_id.empty()) c.tenant_id = active_.tenant_id;
  if (!active_.client_id.empty()) c.client_id = active_.client_id;
  if (stored_ids_) {
    if (stored_ids_->set_at > 0) c.set_at = stored_ids_->set_at;
    if (!stored_ids_->set_by.empty()) c.set_by = stored_ids_->set_by;
  }
  if (!problem_.empty()) c.problem = problem_;
  return c;
}

Json CredentialManager::describe() const {
  std::lock_guard lock(mutex_);
  return describe_locked().to_json();
}

CredentialManager::Summary CredentialManager::summary() const {
  std::lock_guard lock(mutex_);
  Summary s;
  s.mode = mode_ == Mode::kSimulated ? "simulated"
           : mode_ == Mode::kTenant  ? "tenant"
                                     : "not_configured";
  if (mode_ == Mode::kTenant) {
    s.tenant_id = active_.tenant_id;
    s.credentials = source_text_locked();
  } else if (mode_ == Mode::kSimulated) {
    s.credentials = "the simulated cloud's test credentials (no tenant configured)";
  } else {
    s.credentials = "not configured: " + problem_;
  }
  return s;
}

std::string CredentialManager::graph_url() const {
  std::lock_guard lock(mutex_);
  return active_.graph_url;
}

std::string CredentialManager::tenant_id() const {
  std::lock_guard lock(mutex_);
  return active_.tenant_id;
}

core::Status CredentialManager::write_ids(const StoredIds& ids) const {
  const Json j{{"tenant_id", ids.tenant_id},
               {"client_id", ids.client_id},
               {"set_at", ids.set_at},
               {"set_by", ids.set_by}};
  return write_private_file(ids_file_, j.dump(2) + "\n");
}

core::Result<Json> CredentialManager::set(NewCredentials request) {
  const auto invalid = [](std::string message) {
    return core::make_error(ipc::errc::kInvalidArgument, std::move(message));
  };
  // Known before anything can go wrong, so even an echoed error is redacted in the log.
  register_secret(request.client_secret);
  const auto tenant = core::normalize_guid(request.tenant_id);
  if (!tenant) {
    wipe(request.client_secret);
    return invalid(
        "the tenant id must be the directory (tenant) ID, a GUID such as "
        "72f988bf-86f1-41af-91ab-2d7cd011db47 (Entra ID > Overview)");
  }
  const auto client = core::normalize_guid(request.client_id);
  if (!client) {
    wipe(request.client_secret);
    return invalid(
        "the client id must be the app registration's Application (client) ID, a GUID such as "
        "0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a");
  }
  if (auto problem = core::client_secret_problem(request.client_secret)) {
    wipe(request.client_secret);
    return invalid(*problem);
  }
  if (!settings_.env_secret.empty()) {
    wipe(request.client_secret);
    return core::make_error(
        ipc::errc::kConflict,
        "the service takes its client secret from HANGAR_CLIENT_SECRET in its environment, "
        "which overrides a stored secret: remove the variable from the service's environment, "
        "restart the service, then run set-credentials again");
  }

  bool verified = false;
  std::string verify_error;
  if (request.verify) {
    cloud::GraphConfig trial = base_config(false);
    trial.tenant_id = *tenant;
    trial.client_id = *client;
    trial.client_secret = request.client_secret;
    trial.timeout = settings_.verify_timeout;
    auto trial_client = cloud::GraphClient::create(trial, transport_, clock_);
    wipe(trial.client_secret);
    if (!trial_client) {
      wipe(request.client_secret);
      return trial_client.error();
    }
    auto checked = (*trial_client)->verify_credentials();
    if (checked) {
      verified = true;
    } else if (checked.error().code == cloud::kErrAuth ||
               checked.error().code == cloud::kErrRejected) {
      wipe(request.client_secret);
      spdlog::warn("cloud credentials for tenant {} refused by the cloud, nothing changed: {}",
                   *tenant, checked.error().message);
      return invalid("the cloud refused these credentials, so nothing was changed: " +
                     redact(checked.error().message));
    } else {
      verify_error = redact(checked.error().message);
    }
  }

  std::lock_guard lock(mutex_);
  std::optional<std::string> previous = stored_secret_;
  if (auto saved = store_.save(request.client_secret); !saved) {
    wipe(request.client_secret);
    if (previous) wipe(*previous);
    return core::make_error(ipc::errc::kInternal, saved.error().message);
  }
  StoredIds ids{*tenant, *client, clock_.now_ms(), request.by};
  if (auto written = write_ids(ids); !written) {
    // Put the old secret back, so ids and secret never disagree.
    (void)(previous ? store_.save(*previous) : store_.remove());
    wipe(request.client_secret);
    if (previous) wipe(*previous);
    return core::make_error(ipc::errc::kInternal, written.error().message);
  }
  if (previous) wipe(*previous);
  if (stored_secret_) wipe(*stored_secret_);
  stored_secret_ = std::move(request.client_secret);
  secret_error_.reset();
  stored_ids_ = std::move(ids);
  ids_error_.reset();
  apply_locked();
  spdlog::info("cloud credentials set by {}: tenant {}, client id {}; secret stored in {}; {}",
               request.by, *tenant, *client, path_text(store_.path()),
               verified         ? "verified with a token request"
               : request.verify ? "not verified (" + verify_error + ")"
                                : std::string("not verified (--no-verify)"));
  ipc::msg::SetCredentialsReply reply;
  static_cast<ipc::msg::ConfigReply&>(reply) = describe_locked();
  reply.verified = verified;
  if (!verify_error.empty()) reply.verify_error = verify_error;
  return reply.to_json();
}

bool CredentialManager::stored() const {
  std::lock_guard lock(mutex_);
  return stored_locked();
}

bool CredentialManager::stored_locked() const {
  std::error_code ec;
  return stored_ids_ || stored_secret_ || ids_error_ || secret_error_ ||
         std::filesystem::exists(store_.path(), ec);
}

core::Result<Json> CredentialManager::clear(const std::string& by) {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  const bool had = stored_locked();
  if (auto removed = store_.remove(); !removed) {
    return core::make_error(ipc::errc::kInternal, removed.error().message);
  }
  std::filesystem::remove(ids_file_, ec);
  if (ec) {
    return core::make_error(ipc::errc::kInternal,
                            "cannot remove " + path_text(ids_file_) + ": " + ec.message());
  }
  if (stored_secret_) wipe(*stored_secret_);
  stored_secret_.reset();
  secret_error_.reset();
  stored_ids_.reset();
  ids_error_.reset();
  apply_locked();
  if (had) {
    spdlog::info("cloud credentials cleared by {}; now: {}", by,
                 mode_ == Mode::kSimulated ? std::string("the simulated cloud")
                 : mode_ == Mode::kTenant  ? source_text_locked()
                                           : "not configured");
  }
  ipc::msg::ClearCredentialsReply reply;
  static_cast<ipc::msg::ConfigReply&>(reply) = describe_locked();
  reply.cleared = had;
  return reply.to_json();
}

}  // namespace hangar::service
