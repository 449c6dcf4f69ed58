// The tray's state, free of I/O: what the service said last (`status`), whether it is connected,
// and the pending notifications. The monitor feeds it what the event stream (ipc::EventStream)
// reports and the `status` replies, and shows what it answers; tests feed it an ipc::EventCursor's
// output and a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/clock.h"
#include "hangar/ipc/event_stream.h"
#include "hangar/tray/coalescer.h"
#include "hangar/tray/status.h"

namespace hangar::tray {

class TrayModel {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TrayModel(const core::Clock& clock, std::chrono::milliseconds coalesce_window)
      : coalescer_(clock, coalesce_window) {}

  // --- what the service says ------------------------------------------------------------------
  // What the event stream reported (ipc::EventStream: it already dropped repeats and knows where to
  // resume): connection, change, gap, heartbeat.
  void on_stream(const ipc::StreamEvent& event);
  bool connected() const { return connected_; }
  const std::string& disconnect_reason() const { return disconnect_reason_; }
  void on_status(StatusSnapshot status);
  // A change or a gap arrived since the last status: the counts need a `status` call.
  bool status_stale() const { return status_stale_; }
  // Events lost by the service's queue (gap markers) since start.
  std::int64_t events_lost() const { return events_lost_; }

  // --- what to show ----------------------------------------------------------------------------
  Health health() const { return health_of(shown_status()); }
  std::string tooltip() const { return tooltip_text(shown_status()); }
  // The last status, even when offline (the menu uses its data_dir).
  const std::optional<StatusSnapshot>& last_status() const { return status_; }
  std::vector<Notification> take_notifications() { return coalescer_.take_due(); }
  // When the next notification window closes; nullopt when nothing is pending.
  std::optional<TimePoint> next_deadline() const { return coalescer_.next_due(); }

 private:
  std::optional<StatusSnapshot> shown_status() const { return connected_ ? status_ : std::nullopt; }

  Coalescer coalescer_;
  std::optional<StatusSnapshot> status_;
  bool connected_ = false;
  std::string disconnect_reason_ = "not connected yet";
  bool status_stale_ = true;
  std::int64_t events_lost_ = 0;
  // The time (Unix ms) of the newest change seen, and, after the service came back with a new
  // history (a data directory restored from a backup, say), the time up to which its changes are
  // taken as the past: counted, never announced (black-box round 13: a restore announced 20
  // devices Ready for user since before the backup).
  std::int64_t newest_at_ = 0;
  std::int64_t past_until_ = 0;
};

}  // namespace hangar::tray
