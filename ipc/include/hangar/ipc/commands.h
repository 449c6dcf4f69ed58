// The one command table: every command's name, the permission it needs, a one-line summary, its
// arguments with their types, and the typed messages (ipc/messages/, namespace ipc::msg) its
// request and reply are. The service binds a handler to each entry (and refuses to start
// if one is missing); the dispatcher checks every request's arguments against the entry before
// the handler runs (args.h); the CLI and the tray use the same names.
#pragma once

#include <array>
#include <chrono>
#include <span>
#include <string_view>

#include "hangar/ipc/args.h"

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
  std::span<const ArgSpec> args;  // every argument the command takes; no others are accepted
  // The ipc::msg types of the request and the reply ("msg::StatusReply"); empty: plain JSON
  // (no arguments, or a one-field acknowledgement such as {"pong": true}). Each message's
  // kCommand names its entry here (tests/ipc/messages_test.cpp checks both ways).
  std::string_view request_type = {};
  std::string_view reply_type = {};
  // Its reply may take megabytes to build (a page of devices with their hashes): users other than
  // administrators build only a few such replies at once (Dispatcher::handle).
  bool large_reply = false;
};

// The longest an operator command that needs the cloud (deliver, deregister, remove --force)
// waits on the service's side, a throttle window included, when the caller names no wait_ms.
// Beyond it the service answers "try again in N s" at once.
inline constexpr std::chrono::milliseconds kOperatorWait{60'000};
// The shortest wait_ms the service takes (a shorter one is refused invalid_argument): less leaves
// no time for a cloud call. The CLI refuses a --timeout that would send less (usage error).
inline constexpr std::chrono::milliseconds kMinOperatorWait{2'000};
// The service answers within wait_ms plus this (work under way is given a second past the
// deadline its cloud calls end by); the CLI waits at least kOperatorReplyMargin more than the
// wait_ms it sends, so an answer always arrives before the CLI gives up.
inline constexpr std::chrono::milliseconds kOperatorAnswerLatest{1'000};
inline constexpr std::chrono::milliseconds kOperatorReplyMargin{3'000};

namespace args {
using enum ArgType;
inline constexpr std::array<ArgSpec, 3> kImport{
    {{"devices", kDevices, true}, {"expect_build", kString}, {"strict_serials", kBoolean}}};
inline constexpr std::array<ArgSpec, 6> kList{{{"state", kString},
                                               {"profile", kString},
                                               {"since_ms", kCount},
                                               {"after_id", kCount},
                                               {"limit", kCount},
                                               {"with_hash", kBoolean}}};
inline constexpr std::array<ArgSpec, 1> kSerial{{{"serial", kString, true}}};
inline constexpr std::array<ArgSpec, 3> kRetry{
    {{"serial", kString}, {"failed", kBoolean}, {"force", kBoolean}}};
// wait_ms: how long the caller waits for the answer (the CLI's --timeout less a margin); the
// service answers within it plus kOperatorAnswerLatest (kOperatorWait at most, kMinOperatorWait
// at least), every cloud call of the command bounded by what is left of it, so a client never
// gives up on a service that is still working for it: a write not answered in time is answered
// "in doubt" (errc::kInDoubt).
inline constexpr std::array<ArgSpec, 3> kRemove{
    {{"serial", kString, true}, {"force", kBoolean}, {"wait_ms", kCount}}};
// check: look the device up and answer what a deregister would do, changing nothing (the CLI
// asks before its confirmation prompt, so a refusal comes before the admin's "y").
inline constexpr std::array<ArgSpec, 4> kDeregister{
    {{"serial", kString, true}, {"force", kBoolean}, {"wait_ms", kCount}, {"check", kBoolean}}};
// check (set- and clear-credentials): the caller's rights and the pending-devices rule only,
// nothing changed, so the CLI refuses before it asks for a secret or a confirmation.
inline constexpr std::array<ArgSpec, 6> kSetCredentials{{{"tenant_id", kString, true},
                                                         {"client_id", kString, true},
                                                         {"client_secret", kString, true},
                                                         {"verify", kBoolean},
                                                         {"force", kBoolean},
                                                         {"check", kBoolean}}};
// force: clear even while devices are Registration Pending in the tenant (they are lost track of).
inline constexpr std::array<ArgSpec, 2> kClearCredentials{
    {{"force", kBoolean}, {"check", kBoolean}}};
inline constexpr std::array<ArgSpec, 3> kDeliver{
    {{"serial", kString, true}, {"user", kString}, {"wait_ms", kCount}}};
inline constexpr std::array<ArgSpec, 2> kSubscribe{{{"since", kCount}, {"heartbeat_ms", kCount}}};
}  // namespace args

inline constexpr std::array kCommands{
    CommandInfo{"version",
                Permission::kRead,
                "protocol and service versions, capabilities",
                {},
                {},
                "msg::VersionReply"},
    CommandInfo{"ping", Permission::kRead, "liveness check", {}},
    CommandInfo{"status",
                Permission::kRead,
                "service version, uptime and queue depth",
                {},
                {},
                "msg::StatusReply"},
    CommandInfo{"import", Permission::kWrite, "validate devices again and queue them durably",
                args::kImport, "msg::ImportRequest", "msg::ImportReply"},
    CommandInfo{"list",
                Permission::kRead,
                "queued devices, filtered and paged (a page ends before the frame limit)",
                args::kList,
                {},
                "msg::ListReply",
                true},
    CommandInfo{"show",
                Permission::kRead,
                "one device: record, hash summary, state history",
                args::kSerial,
                {},
                "msg::ShowReply",
                true},
    CommandInfo{"remove",
                Permission::kWrite,
                "take a device out of the queue (force: even while Registration Pending)",
                args::kRemove,
                {},
                "msg::RemoveReply"},
    CommandInfo{"deregister",
                Permission::kWrite,
                "delete a device's Windows Autopilot registration in the tenant (and take it "
                "out of the queue)",
                args::kDeregister,
                {},
                "msg::DeregisterReply"},
    CommandInfo{"retry",
                Permission::kWrite,
                "queue failed devices for registration again",
                args::kRetry,
                {},
                "msg::RetryReply"},
    CommandInfo{"pause", Permission::kWrite, "stop uploading until resumed", {}},
    CommandInfo{"resume", Permission::kWrite, "resume uploading", {}},
    CommandInfo{"config",
                Permission::kRead,
                "cloud configuration: tenant, client id, where the secret is kept (never the "
                "secret)",
                {},
                {},
                "msg::ConfigReply"},
    CommandInfo{"set-credentials", Permission::kAdmin,
                "store the tenant id, client id and client secret, protected at rest",
                args::kSetCredentials, "msg::SetCredentialsRequest", "msg::SetCredentialsReply"},
    CommandInfo{"clear-credentials",
                Permission::kAdmin,
                "remove the credentials stored with set-credentials",
                args::kClearCredentials,
                {},
                "msg::ClearCredentialsReply"},
    CommandInfo{"deliver",
                Permission::kWrite,
                "hand a Ready-for-user device to a licensed user and assign it in Autopilot",
                args::kDeliver,
                {},
                "msg::DeliverReply"},
    CommandInfo{"sweep-groups",
                Permission::kWrite,
                "put registered devices back in their profile's Entra ID group now, out of the "
                "other profiles' groups",
                {}},
    CommandInfo{"subscribe",
                Permission::kRead,
                "stream device state changes as they happen (hangar watch, the tray)",
                args::kSubscribe,
                {},
                "msg::SubscribeReply (then ChangeEvent, GapEvent, "
                "HeartbeatEvent frames)"},
    CommandInfo{"refresh",
                Permission::kWrite,
                "read enrollment and last sync of registered devices now (Active/Inactive)",
                {}},
};

const CommandInfo* find_command(std::string_view name);

}  // namespace hangar::ipc
