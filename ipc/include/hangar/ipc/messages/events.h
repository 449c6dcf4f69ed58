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

// {"type": "gap"}: `missed` changes were dropped for this subscriber, up to `seq`.
struct GapEvent {
  static constexpr std::string_view kWhat = "gap frame";
  std::uint64_t missed = 0;
  std::int64_t seq = 0;

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
