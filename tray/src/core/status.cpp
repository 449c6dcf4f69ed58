// Health, tooltip and status text from a `status` reply (see status.h).
#include "hangar/tray/status.h"

#include <array>
#include <string_view>
#include <utility>

namespace hangar::tray {

namespace {

std::string headline(const std::optional<StatusSnapshot>& status) {
  switch (health_of(status)) {
    case Health::kOk:
      return "Hangar: all well";
    case Health::kFailures:
      return "Hangar: " + std::to_string(status->count(core::DeviceState::kRegistrationFailed)) +
             " failed registration";
    case Health::kPaused:
      return "Hangar: uploads paused";
    case Health::kOffline:
      return status ? "Hangar: cloud offline" : "Hangar: service not reachable";
    case Health::kAttention:
      if (status && status->attention.empty()) {
        return "Hangar: " + std::to_string(status->long_pending) +
               " device(s) pending longer than usual";
      }
      return "Hangar: needs attention: the cloud keeps refusing a request";
  }
  return "Hangar";
}

}  // namespace

const char* health_name(Health health) {
  switch (health) {
    case Health::kOk:
      return "ok";
    case Health::kOffline:
      return "offline";
    case Health::kFailures:
      return "failures";
    case Health::kPaused:
      return "paused";
    case Health::kAttention:
      return "attention";
  }
  return "unknown";
}

std::int64_t StatusSnapshot::count(core::DeviceState state) const {
  const auto it = states.find(state);
  return it == states.end() ? 0 : it->second;
}

StatusSnapshot snapshot_of(const ipc::msg::StatusReply& reply) {
  StatusSnapshot snapshot;
  snapshot.states = reply.states;
  const ipc::msg::Cloud& cloud = reply.cloud;
  snapshot.cloud_online = cloud.online.value_or(true);
  snapshot.paused = cloud.paused.value_or(false);
  snapshot.cloud_error = cloud.last_error.value_or("");
  snapshot.cloud_error_resolved = cloud.last_error_resolved.value_or(false);
  for (const auto& form : cloud.needs_attention.value_or(std::vector<ipc::msg::RefusedForm>{})) {
    std::string line = "the cloud keeps refusing " + form.request;
    if (!form.purpose.empty()) line += " (for " + form.purpose + ")";
    line += ": HTTP " + std::to_string(form.http_status);
    if (!form.request_id.empty()) line += ", request id " + form.request_id;
    line += "; " + (form.fallback.empty() ? std::string("that work waits") : form.fallback);
    snapshot.attention.push_back(std::move(line));
  }
  snapshot.long_pending = reply.long_pending;
  for (const auto& device : reply.long_pending_devices) {
    snapshot.long_pending_devices.push_back(
        device.serial + ": " +
        (device.cause.empty() ? std::string("cause not known yet") : device.cause));
  }
  snapshot.data_dir = reply.data_dir;
  snapshot.endpoint = reply.endpoint;
  return snapshot;
}

core::Result<StatusSnapshot> parse_status(const Json& reply) {
  auto parsed = ipc::msg::StatusReply::from_json(reply);
  if (!parsed) return std::move(parsed).error();
  return snapshot_of(*parsed);
}

Health health_of(const std::optional<StatusSnapshot>& status) {
  if (!status) return Health::kOffline;
  if (!status->attention.empty()) return Health::kAttention;
  if (status->count(core::DeviceState::kRegistrationFailed) > 0) return Health::kFailures;
  // Devices pending past the warning are no "all well" (black-box round 8).
  if (status->long_pending > 0) return Health::kAttention;
  if (status->paused) return Health::kPaused;
  if (!status->cloud_online) return Health::kOffline;
  return Health::kOk;
}

std::string tooltip_text(const std::optional<StatusSnapshot>& status) {
  std::string text = headline(status);
  if (status) {
    std::string counts;
    const auto add = [&counts](std::int64_t n, const std::string& label) {
      if (n == 0) return;
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + label;
    };
    // Long-pending devices are among the pending ones: said with them, not counted twice, in the
    // words status and list use (black-box round 10).
    for (const core::DeviceState state : core::kDeviceStates) {
      std::string label(core::short_name(state));
      if (state == core::DeviceState::kRegistrationPending && status->long_pending > 0) {
        label += " (" + std::to_string(status->long_pending) + " longer than usual)";
      }
      add(status->count(state), label);
    }
    text += "\n" + (counts.empty() ? std::string("no devices") : counts);
  }
  return truncate_utf8(std::move(text), kTooltipMax);
}

std::string status_text(const StatusSnapshot& status) {
  std::string text = "Service: running";
  if (!status.endpoint.empty()) text += " (" + status.endpoint + ")";
  text += "\nCloud: ";
  text += status.cloud_online ? "online" : "offline";
  if (!status.cloud_error.empty()) {
    text += " (last error: " + status.cloud_error +
            (status.cloud_error_resolved ? "; resolved since)" : ")");
  }
  for (const auto& line : status.attention) text += "\nNeeds attention: " + line;
  if (status.long_pending > 0) {
    text += "\nPending longer than usual: " + std::to_string(status.long_pending) + " device(s)";
    for (const auto& line : status.long_pending_devices) text += "\n  " + line;
  }
  text += "\nUploads: ";
  text += status.paused ? "paused" : "running";
  text += "\n";
  for (const core::DeviceState state : core::kDeviceStates) {
    text +=
        "\n" + std::string(core::display_name(state)) + ": " + std::to_string(status.count(state));
  }
  if (!status.data_dir.empty()) text += "\n\nData directory: " + status.data_dir;
  return text;
}

std::string truncate_utf8(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  constexpr std::string_view kEllipsis = "...";
  if (max < kEllipsis.size()) return std::string(kEllipsis.substr(0, max));
  std::size_t cut = max - kEllipsis.size();
  // Step back over continuation bytes (10xxxxxx) so a multi-byte character is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += kEllipsis;
  return text;
}

}  // namespace hangar::tray
