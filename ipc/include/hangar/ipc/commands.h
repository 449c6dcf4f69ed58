// The one command table: every command's name, the permission it needs and a one-line summary.
// The service binds a handler to each entry (and refuses to start if one is missing); the CLI and
// the tray use the same names.
#pragma once

#include <array>
#include <string_view>

namespace hangar::ipc {

// kRead: anyone who may connect. kWrite: root/SYSTEM/Administrators, the service's own account and
// the operators group. kAdmin: the same without the operators group (the cloud credentials are the
// tenant's, not the staging room's).
enum class Permission { kRead, kWrite, kAdmin };

// "read", "write", "admin": how `version` lists the permission.
std::string_view permission_name(Permission permission);

struct CommandInfo {
  std::string_view name;
  Permission permission;
  std::string_view summary;
};

inline constexpr std::array kCommands{
    CommandInfo{"version", Permission::kRead, "protocol and service versions, capabilities"},
    CommandInfo{"ping", Permission::kRead, "liveness check"},
    CommandInfo{"status", Permission::kRead, "service version, uptime and queue depth"},
    CommandInfo{"import", Permission::kWrite, "validate devices again and queue them durably"},
    CommandInfo{"list", Permission::kRead, "queued devices, filtered and paged"},
    CommandInfo{"show", Permission::kRead, "one device: record, hash summary, state history"},
    CommandInfo{"remove", Permission::kWrite, "take a device out of the queue"},
    CommandInfo{"retry", Permission::kWrite, "queue failed devices for registration again"},
    CommandInfo{"pause", Permission::kWrite, "stop uploading until resumed"},
    CommandInfo{"resume", Permission::kWrite, "resume uploading"},
    CommandInfo{"config", Permission::kRead,
                "cloud configuration: tenant, client id, where the secret is kept (never the "
                "secret)"},
    CommandInfo{"set-credentials", Permission::kAdmin,
                "store the tenant id, client id and client secret, protected at rest"},
    CommandInfo{"clear-credentials", Permission::kAdmin,
                "remove the credentials stored with set-credentials"},
    CommandInfo{"deliver", Permission::kWrite,
                "hand a Ready-for-user device to a licensed user and assign it in Autopilot"},
    CommandInfo{"subscribe", Permission::kRead,
                "stream device state changes as they happen (hangar watch, the tray)"},
    CommandInfo{"refresh", Permission::kWrite,
                "read enrollment and last sync of registered devices now (Active/Inactive)"},
};

const CommandInfo* find_command(std::string_view name);

}  // namespace hangar::ipc
