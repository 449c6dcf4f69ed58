// The service's `status` reply reduced to what the tray shows: health, tooltip and status text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/messages/status.h"

namespace hangar::tray {

using Json = nlohmann::json;

// What the icon shows. Order of precedence (see health_of): offline (no service), attention (the
// cloud keeps refusing a request the service needs), failures, paused, offline (cloud), ok.
enum class Health { kOk, kOffline, kFailures, kPaused, kAttention };
const char* health_name(Health health);

struct StatusSnapshot {
  std::map<core::DeviceState, std::int64_t> states;
  bool cloud_online = true;
  bool paused = false;
  std::string cloud_error;            // the engine's last cloud error, if any
  bool cloud_error_resolved = false;  // a call has succeeded since
  // The request forms the cloud keeps refusing (`cloud.needs_attention`), one line each.
  std::vector<std::string> attention;
  // Devices Registration Pending for longer than usual (`long_pending`), and the first few as
  // "SERIAL: cause" (`long_pending_devices`).
  std::int64_t long_pending = 0;
  std::vector<std::string> long_pending_devices;
  std::string data_dir;
  std::string endpoint;
  std::int64_t count(core::DeviceState state) const;
};

// What the tray shows of a `status` reply.
StatusSnapshot snapshot_of(const ipc::msg::StatusReply& reply);
// Parses a `status` result with ipc::msg::StatusReply (the CLI's parser too), then snapshot_of();
// "malformed_reply" naming the field when it is not a status reply.
core::Result<StatusSnapshot> parse_status(const Json& reply);

// nullopt: the service is not reachable.
Health health_of(const std::optional<StatusSnapshot>& status);

// Windows truncates a tooltip at 127 characters (NOTIFYICONDATAW::szTip holds 128).
inline constexpr std::size_t kTooltipMax = 127;
// Two lines: the health in words, then the devices per state (non-zero ones, lifecycle order).
std::string tooltip_text(const std::optional<StatusSnapshot>& status);

// The longer text of "Open status": service, cloud, uploads, every state's count, data directory.
std::string status_text(const StatusSnapshot& status);

// At most `max` bytes, cut at a UTF-8 character boundary and ending in "..." when cut.
std::string truncate_utf8(std::string text, std::size_t max);

}  // namespace hangar::tray
