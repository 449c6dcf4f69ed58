// The commands that change one device, or the failed ones: deliver (hand it to its user),
// remove, retry and deregister. Each reply is the typed message of ipc/messages/ (queue.h,
// device.h) the CLI parses.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "device_handlers.h"
#include "hangar/core/excerpt.h"
#include "hangar/core/field_limits.h"
#include "hangar/core/principal_name.h"
#include "hangar/ipc/args.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/messages/queue.h"

namespace hangar::service::device_handlers {

namespace {

using ipc::Json;

// How long an operator command may wait for the engine (a throttle window included): what the
// caller said it waits (wait_ms), at most ipc::kOperatorWait. Less than ipc::kMinOperatorWait
// leaves no time for a cloud call: refused, naming what was given.
core::Result<std::chrono::milliseconds> operator_wait(std::string_view command, const Json& args) {
  auto given = ipc::Args(command, args).count("wait_ms");
  if (!given) return std::move(given).error();
  const std::uint64_t wanted =
      given->value_or(static_cast<std::uint64_t>(ipc::kOperatorWait.count()));
  if (wanted < static_cast<std::uint64_t>(ipc::kMinOperatorWait.count())) {
    return core::make_error(ipc::errc::kInvalidArgument,
                            "\"" + std::string(command) + "\": wait_ms " + std::to_string(wanted) +
                                " leaves no time for a cloud call; give at least " +
                                std::to_string(ipc::kMinOperatorWait.count()));
  }
  return std::chrono::milliseconds(
      std::min<std::uint64_t>(wanted, static_cast<std::uint64_t>(ipc::kOperatorWait.count())));
}

core::Result<Json> handle_deliver(ServiceContext& context, const Json& args,
                                  const ipc::CallContext& call) {
  auto serial = serial_argument("deliver", args);
  if (!serial) return serial.error();
  auto given = ipc::Args("deliver", args).text("user");
  if (!given) return std::move(given).error();
  // A name pasted with a space or a line break around it is still the name (core::trim_blanks,
  // the trim every path that takes a user gives it). An empty one is a mistake, not "the user the
  // import named": that is what leaving the field out means.
  std::string user_text;
  if (*given) {
    user_text = std::string(core::trim_blanks(**given));
    if (user_text.empty()) {
      return invalid("user: empty; omit the field to use the user named at import");
    }
  } else {
    // The user the import named (import --user, the CSV's Assigned User column).
    auto device = context.store.get_device(*serial);
    if (!device) return device.error();
    if (!device->assigned_user || device->assigned_user->empty()) {
      return invalid("device " + device->serial +
                     " names no user: give the user's principal name with --user");
    }
    user_text = std::string(core::trim_blanks(*device->assigned_user));
  }
  const std::string* user = &user_text;
  // Entra ID's rule, the one the CSV's Assigned User column and import --user are checked by.
  if (auto problem = core::user_principal_name_problem(*user); !problem.empty()) {
    return invalid("\"" + core::excerpt(*user, 80) + "\" is not a user principal name: it " +
                   problem + "; give it as " + std::string(core::user_principal_name_rule()) +
                   " with --user");
  }
  if (!context.engine) {
    return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
  }
  auto wait = operator_wait("deliver", args);
  if (!wait) return wait.error();
  // Delivered before (the same user again, or a second command that waited behind the first):
  // said in the reply, nothing was sent (black-box rounds 10 to 12).
  auto delivered = context.engine->deliver(*serial, *user, *wait);
  if (!delivered) return delivered.error();
  const bool again = delivered->already;
  if (!again) {
    spdlog::info("{} delivered {} to {}", call.peer.user, delivered->device.serial,
                 delivered->device.delivered_to.value_or(""));
  }
  Json reply = device_message(delivered->device).to_json();
  reply["already_delivered"] = again;
  return reply;
}

core::Result<Json> handle_remove(ServiceContext& context, const Json& args,
                                 const ipc::CallContext& call) {
  auto serial = serial_argument("remove", args);
  if (!serial) return serial.error();
  auto force = ipc::Args("remove", args).flag("force");
  if (!force) return std::move(force).error();
  // Forced: on the engine's thread, which uploads and polls, so it cannot race the device's
  // upload; a pending device's import is asked about first (registered devices are kept).
  // Unforced: the store refuses a pending device and an upload in flight in one transaction.
  core::Result<store::DeviceRow> removed = core::make_error(ipc::errc::kInternal, "not run");
  std::string record_deleted;
  if (force->value_or(false) && context.engine) {
    // An upload in flight is refused at once, as without --force: the engine's thread is the one
    // waiting on that upload, so a removal queued behind it could only time out with the wrong
    // reason (black-box round 7).
    if (auto row = context.store.get_device(*serial);
        row && row->state == core::DeviceState::kQueued && row->in_flight_since) {
      return store::upload_in_flight(row->serial);
    }
    auto wait = operator_wait("remove", args);
    if (!wait) return wait.error();
    auto withdrawn = context.engine->withdraw(*serial, *wait, call.peer.user);
    if (!withdrawn) return withdrawn.error();
    record_deleted = withdrawn->import_record_deleted;
    removed = std::move(withdrawn->device);
  } else {
    // A deregister (or delivery) of it under way on the engine's thread: taking it out meanwhile
    // would leave that command without its device and this one claiming a registration the other
    // is deleting (black-box round 7).
    if (context.engine) {
      if (auto busy = context.engine->operator_work_on(*serial)) {
        return core::make_error(ipc::errc::kConflict,
                                "the " + *busy +
                                    " is under way right now, so it is not removed meanwhile; "
                                    "`hangar show " +
                                    *serial + "` tells the outcome when it has ended");
      }
    }
    removed = context.store.remove_device(*serial, force->value_or(false), context.clock.now_ms(),
                                          "removed by " + call.peer.user);
  }
  if (!removed) return removed.error();
  spdlog::info("remove by {}: device {} (was {})", call.peer.user, removed->serial,
               core::display_name(removed->state));
  ipc::msg::RemoveReply reply;
  reply.removed = removed->serial;
  reply.state = removed->state;
  // The queue forgets it, the tenant does not: the Autopilot registration stays until
  // `hangar deregister` deletes it. Partner sync will not add the serial back either way.
  // Registration Pending without an import record: the import finished (mark_registered), only
  // the profile was still to be confirmed.
  reply.registered_in_autopilot =
      removed->cloud_device_id || removed->partner_registered ||
      removed->state == core::DeviceState::kReadyForUser ||
      removed->state == core::DeviceState::kActive ||
      removed->state == core::DeviceState::kInactive ||
      (removed->state == core::DeviceState::kRegistrationPending && !removed->import_record_id);
  if (!record_deleted.empty()) reply.import_record_deleted = record_deleted;
  return reply.to_json();
}

core::Result<Json> handle_deregister(ServiceContext& context, const Json& args,
                                     const ipc::CallContext& call) {
  auto serial = serial_argument("deregister", args);
  if (!serial) return serial.error();
  auto wait = operator_wait("deregister", args);
  if (!wait) return wait.error();
  const ipc::Args reader("deregister", args);
  auto force = reader.flag("force");
  if (!force) return std::move(force).error();
  auto check = reader.flag("check");
  if (!check) return std::move(check).error();
  if (!context.engine) {
    return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
  }
  const DeregisterRequest ask{force->value_or(false), check->value_or(false)};
  auto deleted = context.engine->deregister(*serial, *wait, call.peer.user, ask);
  if (!deleted) return deleted.error();
  if (!ask.check_only) {
    spdlog::info("deregister by {}: device {} {} ({})", call.peer.user, *serial,
                 deleted->already_gone ? "was already deleted in Windows Autopilot"
                                       : "deleted from Windows Autopilot",
                 deleted->autopilot_id);
  }
  ipc::msg::DeregisterReply reply{*serial, deleted->autopilot_id, std::nullopt};
  if (deleted->already_gone) reply.already_deleted = true;
  if (deleted->never_registered) reply.never_registered = true;
  if (ask.check_only) reply.checked = true;
  return reply.to_json();
}

core::Result<Json> handle_retry(ServiceContext& context, const Json& args,
                                const ipc::CallContext& call) {
  const ipc::Args reader("retry", args);
  auto serial = reader.text("serial");
  if (!serial) return std::move(serial).error();
  auto failed = reader.flag("failed");
  if (!failed) return std::move(failed).error();
  if ((!*serial || (*serial)->empty()) && !failed->value_or(false)) {
    return invalid("give a serial, or \"failed\": true for every failed device");
  }
  if (*serial && (*serial)->empty()) serial->reset();
  auto force = reader.flag("force");
  if (!force) return std::move(force).error();
  const std::int64_t now = context.clock.now_ms();
  if (*serial) {
    // One device named: a permanent failure (not found, another organization) is skipped
    // unless forced, as with --failed: a retry cannot help until the supplier acts.
    if (auto device = context.store.get_device(**serial);
        device && device->failure_reason && !force->value_or(false)) {
      const auto failure = core::failure_of_text(*device->failure_reason);
      if (failure && core::is_permanent(*failure) &&
          device->state == core::DeviceState::kRegistrationFailed) {
        spdlog::info("retry by {}: {} skipped (permanent failure, not forced)", call.peer.user,
                     **serial);
        // The one device asked for was not queued: a failure (exit 1), not "0 queued" (attack
        // round 5, finding 9). `retry --failed` skipping some is no failure.
        return core::make_error(
            ipc::errc::kConflict,
            "device " + device->serial + " was not queued again: its failure is permanent (" +
                std::string(core::message(*failure)) + ": " + std::string(core::advice(*failure)) +
                "); a retry cannot help until the supplier acts; `hangar "
                "retry " +
                device->serial + " --force` queues it again anyway");
      }
    }
    auto count = context.store.retry_failed(*serial, now);
    if (!count) return count.error();
    spdlog::info("retry by {}: {} queued again", call.peer.user, **serial);
    if (*count > 0 && context.engine) context.engine->notify();
    return ipc::msg::RetryReply{*count, 0, std::nullopt}.to_json();
  }
  // Every failed device, except those a retry cannot help (not found, another organization:
  // the supplier must act first) unless forced.
  store::DeviceFilter filter;
  filter.state = core::DeviceState::kRegistrationFailed;
  auto failed_rows = context.store.list_devices(filter);
  if (!failed_rows) return failed_rows.error();
  std::int64_t requeued = 0;
  std::int64_t skipped = 0;
  std::map<std::string, std::int64_t> skipped_by_reason;
  for (const auto& row : *failed_rows) {
    const auto failure = core::failure_of_text(row.failure_reason.value_or(""));
    if (failure && core::is_permanent(*failure) && !force->value_or(false)) {
      ++skipped;
      ++skipped_by_reason[std::string(core::message(*failure))];
      continue;
    }
    auto count = context.store.retry_failed(row.serial, now);
    if (!count) return count.error();
    requeued += *count;
  }
  spdlog::info("retry by {}: {} device(s) queued again, {} permanent failure(s) skipped",
               call.peer.user, requeued, skipped);
  if (requeued > 0 && context.engine) context.engine->notify();
  ipc::msg::RetryReply reply{requeued, skipped, std::nullopt};
  if (skipped > 0) {
    auto& reasons = reply.skipped_reasons.emplace();
    for (const auto& [reason, n] : skipped_by_reason) {
      const auto failure = core::failure_of_text(reason);
      reasons.push_back({reason, n, failure ? std::string(core::advice(*failure)) : ""});
    }
  }
  return reply.to_json();
}

}  // namespace

void add_queue_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context) {
  bindings.push_back({"deliver", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_deliver(context, args, call);
                      }});
  bindings.push_back({"retry", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_retry(context, args, call);
                      }});
  bindings.push_back({"remove", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_remove(context, args, call);
                      }});
  bindings.push_back({"deregister", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_deregister(context, args, call);
                      }});
}

}  // namespace hangar::service::device_handlers
