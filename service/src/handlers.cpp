// Command handlers: each reads or changes the service state and returns a JSON result.
#include "handlers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "credentials.h"
#include "hangar/core/version.h"
#include "hangar/ipc/args.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/messages/events.h"
#include "hangar/ipc/messages/status.h"
#include "hangar/ipc/messages/version.h"
#include "redact.h"

namespace hangar::service {

namespace {

// Heartbeats at most a minute apart: a client tells a dead service from a quiet one within three.
constexpr std::int64_t kMinHeartbeatMs = 100;
constexpr std::int64_t kMaxHeartbeatMs = 60'000;
// How many long-pending devices `status` names (it is polled: it stays small).
constexpr std::int64_t kLongPendingShown = 5;

ipc::msg::VersionReply version_reply() {
  ipc::msg::VersionReply reply;
  reply.service_version = core::kVersion;
  reply.platform = core::kPlatform;
  reply.protocol = ipc::kProtocolVersion;
  reply.min_protocol = ipc::kMinProtocolVersion;
  reply.encodings = std::vector<std::string>{"json", "cbor"};
  for (const auto& info : ipc::kCommands) {
    reply.commands.push_back({std::string(info.name),
                              std::string(ipc::permission_name(info.permission)),
                              std::string(info.summary)});
  }
  return reply;
}

ipc::Json change_to_wire(const StateChange& change) {
  switch (change.kind) {
    case StateChange::Kind::kLeft:
      return ipc::msg::RemovedEvent{change.seq, change.serial, change.from_state, change.reason,
                                    change.at_ms}
          .to_json();
    case StateChange::Kind::kHistoryLost:
      return ipc::msg::GapEvent{change.lost, change.seq,
                                std::string(ipc::msg::GapEvent::kHistoryLost)}
          .to_json();
    case StateChange::Kind::kState:
      break;
  }
  return ipc::msg::ChangeEvent{change.seq,      change.serial, change.from_state,
                               change.to_state, change.reason, change.at_ms}
      .to_json();
}

// `subscribe`: the reply acknowledges, then the connection carries changes, gaps and heartbeats
// until the client leaves or the service stops.
core::Result<ipc::Json> subscribe(ServiceContext& context, const ipc::Json& args,
                                  const ipc::CallContext& call) {
  if (!context.feed) return core::make_error(ipc::errc::kUnavailable, "no event feed runs");
  if (!call.stream_after) {
    return core::make_error(ipc::errc::kInvalidArgument, "subscribe needs its own connection");
  }
  const ipc::Args reader("subscribe", args);
  auto since_arg = reader.count("since");
  if (!since_arg) return std::move(since_arg).error();
  std::optional<std::int64_t> since;
  if (*since_arg) {
    since = static_cast<std::int64_t>(
        std::min<std::uint64_t>(**since_arg, std::numeric_limits<std::int64_t>::max()));
  }
  auto heartbeat_arg = reader.count("heartbeat_ms");
  if (!heartbeat_arg) return std::move(heartbeat_arg).error();
  std::int64_t heartbeat_ms = 10'000;
  if (*heartbeat_arg) {
    if (**heartbeat_arg < static_cast<std::uint64_t>(kMinHeartbeatMs) ||
        **heartbeat_arg > static_cast<std::uint64_t>(kMaxHeartbeatMs)) {
      return core::make_error(ipc::errc::kInvalidArgument, "\"heartbeat_ms\" must be between " +
                                                               std::to_string(kMinHeartbeatMs) +
                                                               " and " +
                                                               std::to_string(kMaxHeartbeatMs));
    }
    heartbeat_ms = static_cast<std::int64_t>(**heartbeat_arg);
  }
  // The per-user and total caps are checked by the feed as the subscription joins (busy).
  auto subscription = context.feed->subscribe(since, call.peer.user);
  if (!subscription) return std::move(subscription).error();
  spdlog::debug("{} subscribed to state changes (since {})", call.peer.user,
                since ? std::to_string(*since) : std::string("now"));
  const std::int64_t start_seq = (*subscription)->start_seq();
  *call.stream_after = [subscription = std::move(subscription).value(),
                        heartbeat = std::chrono::milliseconds(heartbeat_ms)](
                           const ipc::FrameWriter& write, const ipc::PeerLeft& peer_left) {
    using SteadyClock = std::chrono::steady_clock;
    // Waits come in slices of at most a second, so a client that hung up is noticed within one
    // (and its thread and connection freed) instead of at the next write, a heartbeat away.
    constexpr std::chrono::milliseconds kSlice{1000};
    auto last_frame = SteadyClock::now();
    while (!peer_left()) {
      const auto heartbeat_due = last_frame + heartbeat;
      const auto wait = std::clamp(
          std::chrono::ceil<std::chrono::milliseconds>(heartbeat_due - SteadyClock::now()),
          std::chrono::milliseconds::zero(), kSlice);
      Subscription::Batch batch = subscription->next(wait);
      if (batch.closed) break;
      if (batch.missed > 0 || !batch.changes.empty()) {
        if (batch.missed > 0 &&
            !write(ipc::msg::GapEvent{batch.missed, batch.missed_through}.to_json())) {
          break;
        }
        bool gone = false;
        for (const auto& change : batch.changes) {
          if (!write(change_to_wire(change))) {
            gone = true;
            break;
          }
        }
        if (gone) break;
        last_frame = SteadyClock::now();
      } else if (SteadyClock::now() >= heartbeat_due) {
        if (!write(ipc::msg::HeartbeatEvent{batch.seq}.to_json())) break;
        last_frame = SteadyClock::now();
      }
    }
    subscription->close();
  };
  return ipc::msg::SubscribeReply{true, start_seq, heartbeat_ms}.to_json();
}

// `status` is what the tray and scripts poll: one ipc::msg::StatusReply, serialised by the same
// code the CLI and the tray parse it with.
core::Result<ipc::Json> status_reply(ServiceContext& context, const ipc::CallContext& call) {
  auto counts = context.store.count_by_state();
  if (!counts) return counts.error();
  ipc::msg::StatusReply reply;
  reply.states = *counts;
  // Devices Registration Pending for longer than usual (flagged by the engine), the first few with
  // their cause: the tray and `hangar status` show them.
  auto flagged = context.store.long_pending(kLongPendingShown);
  if (!flagged) return flagged.error();
  reply.long_pending = flagged->first;
  for (const store::DeviceRow& row : flagged->second) {
    reply.long_pending_devices.push_back(
        {row.serial, row.state_changed_at, row.pending_cause.value_or("")});
  }
  // The same definition as Store::queue_depth(), from one consistent read.
  reply.queue_depth = reply.count(core::DeviceState::kQueued) +
                      reply.count(core::DeviceState::kRegistrationPending);
  reply.service_version = core::kVersion;
  reply.platform = core::kPlatform;
  reply.uptime_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(context.clock.steady_now() - context.started)
          .count();
  reply.subscribers =
      context.feed ? static_cast<std::int64_t>(context.feed->subscriber_count()) : 0;
  reply.endpoint = context.endpoint;
  reply.data_dir = context.data_dir;
  reply.caller = {call.peer.user, call.peer.can_write, call.peer.is_admin};

  ipc::msg::Cloud& cloud = reply.cloud;
  if (context.credentials) {
    const CredentialManager::Summary summary = context.credentials->summary();
    cloud.mode = summary.mode;
    cloud.tenant_id = summary.tenant_id;
    cloud.credentials = summary.credentials;
    cloud.url = context.credentials->graph_url();
  }
  if (!context.engine) return reply.to_json();
  const EngineStatus engine = context.engine->status();
  cloud.online = engine.online;
  cloud.paused = engine.paused;
  cloud.throttled = engine.throttled;
  cloud.requests = engine.requests;
  if (!engine.last_error.empty()) {
    cloud.last_error = engine.last_error;  // redacted
    cloud.last_error_at = engine.last_error_at;
    cloud.last_error_resolved = engine.last_error_resolved_at != 0;
    if (engine.last_error_resolved_at != 0)
      cloud.last_error_resolved_at = engine.last_error_resolved_at;
  }
  if (engine.requests_waiting > 0) {
    // "Is it stuck?": what was sent and not answered yet, and since when.
    cloud.waiting_on = engine.waiting_on;
    cloud.waiting_since = engine.waiting_since;
    cloud.waiting_ms = std::max<std::int64_t>(0, context.clock.now_ms() - engine.waiting_since);
    cloud.requests_waiting = static_cast<std::int64_t>(engine.requests_waiting);
  }
  // Request forms the cloud keeps refusing: they need attention (the tray shows it).
  auto& refused = cloud.needs_attention.emplace();
  for (const RefusedRequest& form : engine.refused_requests) {
    refused.push_back({form.request, form.purpose, form.http_status,
                       form.message,  // redacted by CloudHealth
                       form.request_id, form.since, form.last_at, form.passes, form.fallback});
  }
  // The engine reports only a wait still to come; an attempt already due (held by a pause, or
  // about to be picked up) is due now, not at a time gone by.
  const std::int64_t now_ms = context.clock.now_ms();
  std::optional<std::int64_t> next = engine.blocked_until_ms;
  if (auto due = context.store.next_attempt_at(); due && *due) {
    const std::int64_t at = std::max(now_ms, **due);
    next = next ? std::min(*next, at) : at;
  }
  cloud.next_retry_at = next;

  ipc::msg::Activity& activity = cloud.activity.emplace();
  activity.next_pass_at = engine.next_activity_at;
  if (engine.activity.finished_at > 0) {
    ipc::msg::ActivityPassSummary& last = activity.last.emplace();
    last.last_pass_at = engine.activity.finished_at;
    last.devices = engine.activity.devices;
    last.rows_written = engine.activity.written;
    last.requests = engine.activity.requests;
    last.active = engine.activity.active;
    last.inactive = engine.activity.inactive;
    last.partners_added = engine.activity.partners_added;
    last.profiles_set = engine.activity.profiles_set;
    // Tenant devices without a group tag that are not Hangar's: counted, the first few named.
    last.untagged = engine.activity.untagged;
    last.untagged_added = engine.activity.untagged_added;
    for (const auto& device : engine.activity.untagged_devices) {
      last.untagged_devices.push_back({device.serial, device.manufacturer, device.model});
    }
  }

  ipc::msg::Groups& groups = cloud.groups.emplace();
  groups.configured = engine.groups_configured;
  if (!engine.groups_configured) return reply.to_json();
  groups.running = engine.group_sweep_running;
  groups.next_sweep_at = engine.next_group_sweep_at;
  if (engine.groups.finished_at > 0) {
    ipc::msg::GroupSweepSummary& last = groups.last_sweep.emplace();
    last.started_at = engine.groups.started_at;
    last.finished_at = engine.groups.finished_at;
    last.devices = engine.groups.devices;
    last.skipped = engine.groups.skipped;
    last.added = engine.groups.added;
    last.removed = engine.groups.removed;
    last.removals_skipped = engine.groups.removals_skipped;
    if (!engine.groups.skipped_removals.empty()) {
      auto& kept = last.skipped_removals.emplace();
      for (const SkippedRemoval& removal : engine.groups.skipped_removals) {
        kept.push_back({removal.serial, removal.group_id, removal.profile,
                        removal.reason});  // redacted by the engine
      }
    }
    last.requests = engine.groups.requests;
    last.errors = engine.groups.errors;
    if (!engine.groups.last_error.empty()) last.last_error = redact(engine.groups.last_error);
  }
  return reply.to_json();
}

}  // namespace

std::vector<ipc::Binding> make_bindings(ServiceContext& context) {
  std::vector<ipc::Binding> bindings;
  bindings.push_back(
      {"version", [](const ipc::Json&, const ipc::CallContext&) -> core::Result<ipc::Json> {
         return version_reply().to_json();
       }});
  bindings.push_back(
      {"ping", [](const ipc::Json&, const ipc::CallContext&) -> core::Result<ipc::Json> {
         return ipc::Json{{"pong", true}};
       }});
  bindings.push_back(
      {"status",
       [&context](const ipc::Json&, const ipc::CallContext& call) -> core::Result<ipc::Json> {
         return status_reply(context, call);
       }});
  add_device_bindings(bindings, context);
  add_credential_bindings(bindings, context);
  const auto engine_command = [&context](void (Engine::*action)(), const char* state) {
    return [&context, action, state](const ipc::Json&,
                                     const ipc::CallContext& call) -> core::Result<ipc::Json> {
      if (!context.engine) {
        return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
      }
      (context.engine->*action)();
      spdlog::info("uploads {} by {}", state, call.peer.user);
      return ipc::Json{{"uploads", state}};
    };
  };
  bindings.push_back({"pause", engine_command(&Engine::pause, "paused")});
  bindings.push_back({"resume", engine_command(&Engine::resume, "resumed")});
  bindings.push_back({"subscribe", [&context](const ipc::Json& args, const ipc::CallContext& call) {
                        return subscribe(context, args, call);
                      }});
  bindings.push_back(
      {"refresh",
       [&context](const ipc::Json&, const ipc::CallContext& call) -> core::Result<ipc::Json> {
         if (!context.engine) {
           return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
         }
         context.engine->refresh();
         spdlog::info("activity refresh requested by {}", call.peer.user);
         return ipc::Json{{"refresh", "requested"}};
       }});
  bindings.push_back(
      {"sweep-groups",
       [&context](const ipc::Json&, const ipc::CallContext& call) -> core::Result<ipc::Json> {
         if (!context.engine) {
           return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
         }
         if (!context.engine->sweep_groups()) {
           return core::make_error(ipc::errc::kConflict,
                                   "no profile groups are configured: add \"profile_groups\" "
                                   "(profile -> Entra ID group object id) to hangar.json and "
                                   "restart hangard");
         }
         spdlog::info("profile-group sweep requested by {}", call.peer.user);
         return ipc::Json{{"sweep", "requested"}};
       }});
  return bindings;
}

}  // namespace hangar::service
