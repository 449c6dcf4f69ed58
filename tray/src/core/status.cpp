// Health, tooltip and status text from a `status` reply (see status.h).
#include "hangar/tray/status.h"

#include <array>
#include <string_view>
#include <utility>

namespace hangar::tray {

namespace {

struct StateLabel {
  const char* key;
  const char* short_label;  // tooltip
  const char* long_label;   // status text
};

// Lifecycle order; the storage keys of core/device.h.
constexpr std::array<StateLabel, 6> kStates{{
    {"queued", "queued", "Queued"},
    {"registration_pending", "pending", "Registration pending"},
    {"registration_failed", "failed", "Registration failed"},
    {"ready_for_user", "ready", "Ready for user"},
    {"active", "active", "Active"},
    {"inactive", "inactive", "Inactive"},
}};

bool known_state(const std::string& key) {
  for (const auto& s : kStates) {
    if (key == s.key) return true;
  }
  return false;
}

std::string headline(const std::optional<StatusSnapshot>& status) {
  switch (health_of(status)) {
    case Health::kOk:
      return "Hangar: all well";
    case Health::kFailures:
      return "Hangar: " + std::to_string(status->count("registration_failed")) +
             " failed registration";
    case Health::kPaused:
      return "Hangar: uploads paused";
    case Health::kOffline:
      return status ? "Hangar: cloud offline" : "Hangar: service not reachable";
    case Health::kAttention:
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

std::int64_t StatusSnapshot::count(const std::string& state) const {
  const auto it = states.find(state);
  return it == states.end() ? 0 : it->second;
}

core::Result<StatusSnapshot> parse_status(const Json& reply) {
  const auto states = reply.find("states");
  if (!reply.is_object() || states == reply.end() || !states->is_object()) {
    return core::make_error("malformed_reply", "the status reply has no \"states\" object");
  }
  StatusSnapshot snapshot;
  for (const auto& [key, value] : states->items()) {
    if (value.is_number_integer()) snapshot.states[key] = value.get<std::int64_t>();
  }
  // Fields of another type than expected read as absent: nlohmann's value() would throw, and an
  // exception on the monitor thread would end the process.
  const auto flag = [](const Json& object, const char* name, bool fallback) {
    const auto it = object.find(name);
    return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
  };
  const auto text = [](const Json& object, const char* name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (const auto cloud = reply.find("cloud"); cloud != reply.end() && cloud->is_object()) {
    snapshot.cloud_online = flag(*cloud, "online", true);
    snapshot.paused = flag(*cloud, "paused", false);
    snapshot.cloud_error = text(*cloud, "last_error");
    snapshot.cloud_error_resolved = flag(*cloud, "last_error_resolved", false);
    if (const auto refused = cloud->find("needs_attention");
        refused != cloud->end() && refused->is_array()) {
      for (const auto& form : *refused) {
        if (!form.is_object()) continue;
        std::string line = "the cloud keeps refusing " + text(form, "request");
        if (const std::string purpose = text(form, "purpose"); !purpose.empty()) {
          line += " (for " + purpose + ")";
        }
        if (const auto status = form.find("http_status");
            status != form.end() && status->is_number_integer()) {
          line += ": HTTP " + std::to_string(status->get<int>());
        }
        if (const std::string id = text(form, "request_id"); !id.empty()) {
          line += ", request id " + id;
        }
        const std::string fallback = text(form, "fallback");
        line += "; " + (fallback.empty() ? std::string("that work waits") : fallback);
        snapshot.attention.push_back(std::move(line));
      }
    }
  }
  if (const auto n = reply.find("long_pending"); n != reply.end() && n->is_number_integer()) {
    snapshot.long_pending = n->get<std::int64_t>();
  }
  if (const auto devices = reply.find("long_pending_devices");
      devices != reply.end() && devices->is_array()) {
    for (const auto& device : *devices) {
      if (!device.is_object()) continue;
      const std::string cause = text(device, "cause");
      snapshot.long_pending_devices.push_back(
          text(device, "serial") + ": " +
          (cause.empty() ? std::string("cause not known yet") : cause));
    }
  }
  snapshot.data_dir = text(reply, "data_dir");
  snapshot.endpoint = text(reply, "endpoint");
  return snapshot;
}

Health health_of(const std::optional<StatusSnapshot>& status) {
  if (!status) return Health::kOffline;
  if (!status->attention.empty()) return Health::kAttention;
  if (status->count("registration_failed") > 0) return Health::kFailures;
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
    for (const auto& s : kStates) add(status->count(s.key), s.short_label);
    for (const auto& [key, n] : status->states) {
      if (!known_state(key)) add(n, key);
    }
    add(status->long_pending, "pending too long");
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
  for (const auto& s : kStates) {
    text += "\n" + std::string(s.long_label) + ": " + std::to_string(status.count(s.key));
  }
  for (const auto& [key, n] : status.states) {
    if (!known_state(key)) text += "\n" + key + ": " + std::to_string(n);
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
