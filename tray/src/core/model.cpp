// The tray's I/O-free state machine (see model.h).
#include "hangar/tray/model.h"

#include <algorithm>

#include "hangar/core/terminal_safe.h"

namespace hangar::tray {

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
      if (event.history_reset) past_until_ = newest_at_;
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
      // The stream reports only changes that parse (ipc::msg::ChangeEvent).
      if (!event.change || event.change->serial.empty()) return;
      const ipc::msg::ChangeEvent& change = *event.change;
      const bool past = change.at <= past_until_;
      newest_at_ = std::max(newest_at_, change.at);
      if (past) return;
      if (change.to == core::DeviceState::kReadyForUser) {
        // A serial or reason from the cloud, on one line, every control character escaped as
        // `hangar` escapes it (black-box round 13: ESC [31m went raw to the tray's output).
        coalescer_.add(NotificationKind::kReady, core::one_line_safe(change.serial));
      } else if (change.to == core::DeviceState::kRegistrationFailed) {
        coalescer_.add(NotificationKind::kFailed, core::one_line_safe(change.serial),
                       core::one_line_safe(change.reason));
      }
      return;
    }
    case Kind::kRemoved:
      // A device left the queue: the counts are re-read without it; nothing to notify.
      status_stale_ = true;
      return;
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
