// The `subscribe` stream: the reply that acknowledges a subscription, then the frames that follow
// on the connection (a change, a gap, a heartbeat). The service (handlers.cpp) builds them; the
// client side (event_stream.cpp, for `hangar watch` and the tray) parses them, once. Wire form
// unchanged from the untyped frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

struct SubscribeReply {
  static constexpr std::string_view kCommand = "subscribe";
  static constexpr std::string_view kWhat = "subscribe reply";
  bool subscribed = true;
  std::int64_t seq = 0;  // the newest change now: changes after it follow
  std::int64_t heartbeat_ms = 0;

  static SubscribeReply read(const Json& json, Fields& fields);
  static core::Result<SubscribeReply> from_json(const Json& json);
  Json to_json() const;
};

// {"type": "change"}: one committed state change.
struct ChangeEvent {
  static constexpr std::string_view kWhat = "change frame";
  std::int64_t seq = 0;
  std::string serial;
  std::optional<core::DeviceState> from;  // null on the wire when the device was first queued
  core::DeviceState to = core::DeviceState::kQueued;
  std::string reason;   // may be empty
  std::int64_t at = 0;  // Unix ms

  static ChangeEvent read(const Json& json, Fields& fields);
  static core::Result<ChangeEvent> from_json(const Json& json);
  Json to_json() const;
};

// {"type": "removed"}: the device left the queue (`hangar remove`, `hangar deregister`) from
// state `from`; `reason` says how. Its serial is no longer in the counts. A frame of its own, so
// a client that only knows "change" frames skips it instead of reading an unknown state.
struct RemovedEvent {
  static constexpr std::string_view kWhat = "removed frame";
  std::int64_t seq = 0;
  std::string serial;
  std::optional<core::DeviceState> from;  // the state it was in (none only in a damaged history)
  std::string reason;
  std::int64_t at = 0;  // Unix ms

  static RemovedEvent read(const Json& json, Fields& fields);
  static core::Result<RemovedEvent> from_json(const Json& json);
  Json to_json() const;
};

// {"type": "gap"}: `missed` changes up to `seq` are not sent to this subscriber. `cause` says why
// (a service before it sent none: read as kBehind):
struct GapEvent {
  static constexpr std::string_view kWhat = "gap frame";
  static constexpr std::string_view kBehind = "behind";  // it fell behind and its queue was full
  // A replay met changes its history no longer has (deleted with their device by a release
  // before this one): they cannot be shown, by this subscriber or any other.
  static constexpr std::string_view kHistoryLost = "history_lost";
  std::uint64_t missed = 0;
  std::int64_t seq = 0;
  std::string cause = std::string(kBehind);

  static GapEvent read(const Json& json, Fields& fields);
  static core::Result<GapEvent> from_json(const Json& json);
  Json to_json() const;
};

// {"type": "heartbeat"}: the service is alive; `seq` is its newest change.
struct HeartbeatEvent {
  static constexpr std::string_view kWhat = "heartbeat frame";
  std::int64_t seq = 0;

  static HeartbeatEvent read(const Json& json, Fields& fields);
  static core::Result<HeartbeatEvent> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
