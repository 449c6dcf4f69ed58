// The tray's I/O-free state machine (see model.h).
#include "hangar/tray/model.h"

namespace hangar::tray {

namespace {

std::string string_field(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void TrayModel::on_status(StatusSnapshot status) {
  status_ = std::move(status);
  status_stale_ = false;
}

void TrayModel::on_stream(const ipc::StreamEvent& event) {
  using Kind = ipc::StreamEvent::Kind;
  switch (event.kind) {
    case Kind::kNothing:
      return;
    case Kind::kSubscribed:
      connected_ = true;
      disconnect_reason_.clear();
      status_stale_ = true;
      return;
    case Kind::kDisconnected:
      connected_ = false;
      disconnect_reason_ = event.reason;
      status_stale_ = true;
      return;
    case Kind::kChange: {
      status_stale_ = true;
      const std::string to = string_field(event.frame, "to");
      const std::string serial = string_field(event.frame, "serial");
      if (serial.empty()) return;  // malformed: counted by the next status, not announced
      if (to == "ready_for_user") {
        coalescer_.add(NotificationKind::kReady, serial);
      } else if (to == "registration_failed") {
        coalescer_.add(NotificationKind::kFailed, serial, string_field(event.frame, "reason"));
      }
      return;
    }
    case Kind::kGap:
      // Changes were dropped: the counts are wrong, but nothing is invented for the lost ones.
      events_lost_ += static_cast<std::int64_t>(event.missed);
      status_stale_ = true;
      return;
    case Kind::kHeartbeat:
      // A heartbeat ahead of us means changes we never saw: refresh the counts.
      if (event.ahead) status_stale_ = true;
      return;
  }
}

}  // namespace hangar::tray
