// The replies of the commands that change one device or the failed ones: remove, retry,
// deregister. Built by the service (device_handlers.cpp), parsed by the CLI (queue_cmds.cpp,
// service_cmds.cpp). Wire form unchanged from the untyped replies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

struct RemoveReply {
  static constexpr std::string_view kCommand = "remove";
  static constexpr std::string_view kWhat = "remove reply";
  std::string removed;                                   // the serial
  core::DeviceState state = core::DeviceState::kQueued;  // what it was
  // The tenant keeps a registration the queue forgets (`hangar deregister` deletes it).
  bool registered_in_autopilot = false;
  // Forced out while pending: the import record the engine deletes.
  std::optional<std::string> import_record_deleted;

  static RemoveReply read(const Json& json, Fields& fields);
  static core::Result<RemoveReply> from_json(const Json& json);
  Json to_json() const;
};

// Permanent failures a retry skipped, by reason.
struct SkippedReason {
  std::string reason;  // the seed's message
  std::int64_t devices = 0;
  std::string advice;

  static SkippedReason read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct RetryReply {
  static constexpr std::string_view kCommand = "retry";
  static constexpr std::string_view kWhat = "retry reply";
  std::int64_t requeued = 0;
  std::int64_t skipped = 0;
  std::optional<std::vector<SkippedReason>> skipped_reasons;  // when some were skipped

  static RetryReply read(const Json& json, Fields& fields);
  static core::Result<RetryReply> from_json(const Json& json);
  Json to_json() const;
};

struct DeregisterReply {
  static constexpr std::string_view kCommand = "deregister";
  static constexpr std::string_view kWhat = "deregister reply";
  std::string deregistered;  // the serial
  std::string autopilot_id;  // the deleted Autopilot device identity
  // The tenant no longer listed it (a lost answer to an earlier deletion): taken out of the
  // queue all the same.
  std::optional<bool> already_deleted;
  // The device was in the queue but never registered (queued, or its registration failed), and
  // the tenant does not list it: nothing to delete there; taken out of the queue.
  std::optional<bool> never_registered;
  // A look-up only (the request's `check`): nothing was deleted or changed. autopilot_id names
  // the identity a deregister would delete; already_deleted / never_registered say that it would
  // only take the device out of the queue.
  std::optional<bool> checked;

  static DeregisterReply read(const Json& json, Fields& fields);
  static core::Result<DeregisterReply> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
