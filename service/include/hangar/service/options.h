// hangard's options: flags override environment variables, which override the config file, which
// overrides the per-platform defaults.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hangar/core/result.h"

namespace hangar::service {

struct Options {
  std::filesystem::path data_dir;
  std::filesystem::path config_file;
  std::string endpoint;
  std::string operators_group;  // may run write commands (see ipc::ListenOptions)
  std::string log_level = "info";
  bool console_log = false;  // also log to the console (foreground/console mode)

  // The cloud. With no tenant configured Hangar talks to the simulated cloud (hangar-cloudsim) at
  // kDefaultCloudUrl with its well-known test credentials: the embedded default.
  std::string cloud_url;      // shorthand: authority = cloud_url, Graph = cloud_url + "/beta"
  std::string authority_url;  // default https://login.microsoftonline.com (sovereign clouds differ)
  std::string graph_url;      // default https://graph.microsoft.com/beta
  // The token scope; empty: the Graph host's own "<scheme>://<host>/.default", which national
  // clouds require (https://graph.microsoft.us/.default for US Government L4, ...).
  std::string graph_scope;
  std::string tenant_id;
  std::string client_id;
  // HANGAR_CLIENT_SECRET only: it overrides the secret stored with `hangar config set-credentials`,
  // which the service reads itself (service/src/credentials.h). Never logged.
  std::string client_secret;
  double poll_interval_seconds = 30;
  // The engine (config keys of the same names; --batch-size).
  int batch_size = 500;                // devices per import call, 1..500
  double activity_interval_hours = 1;  // how often enrollment and last sync are read
  double inactive_after_days = 7;      // no sync for this long: Inactive (the seed: 7 days)
  // Registration Pending longer than this is flagged (the seed: usually under 10 minutes) ...
  double pending_warning_minutes = 30;
  bool pending_warning_set = false;  // written in hangar.json (else it follows a short limit)
  // ... and longer than this it is Registration failed with its cause.
  double pending_limit_hours = 24;
  std::vector<std::string> required_licenses;  // SKU ids a user needs before `hangar deliver`
  // Profile (CLI name) -> Entra ID group object id; empty: no group sweep.
  std::map<std::string, std::string> profile_groups;
  double group_sweep_interval_hours = 24;
  // Group tag (lower case) -> profile (CLI name): partner-registered devices with the tag are
  // tracked with that profile. Devices with the default tag and no mapping get no profile.
  std::map<std::string, std::string> tag_profiles;
  // Autopilot devices in the tenant without any group tag, not known here: counted and listed by
  // `hangar sync` always, tracked only when this is set (never the whole tenant silently).
  bool track_untagged = false;
  // Changes a `subscribe` client may fall behind by before it is sent a gap (config only).
  int event_queue_size = 4096;
  // `subscribe` streams open at once, in all and per user (config only). Each holds one of the IPC
  // server's 256 connections, so at most half may stream: the rest stay free for commands.
  int max_subscribers = 64;
  int max_subscribers_per_user = 8;
  // The IPC server's connection limits (config only; see ipc::ServerOptions): connections in all,
  // how many of them only administrators and the service's account may take, how many one other
  // user may hold, and how long a connection may sit idle between requests.
  int max_connections = 256;
  int reserved_connections = 16;
  int max_connections_per_user = 32;
  double idle_timeout_seconds = 30;
  // Memory that requests being received and decoded may hold across all connections, in MiB.
  int request_memory_mib = 24;
};

inline constexpr int kMaxSubscribersLimit = 128;  // the most max_subscribers may be set to

inline constexpr const char* kDefaultCloudUrl = "http://127.0.0.1:8710";

// Parses `args` (without the program name and any host subcommand). Recognised flags: --config,
// --data-dir, --endpoint, --operators-group, --log-level; environment: HANGAR_CONFIG,
// HANGAR_DATA_DIR, HANGAR_ENDPOINT. Reads the JSON config file if it exists.
core::Result<Options> parse_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace hangar::service
