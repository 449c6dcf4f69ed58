// The tray's state, free of I/O: what the service said last (`status`), where the event stream
// stands (last seq, heartbeats), the reconnect backoff and the pending notifications. The platform
// loop feeds it replies and events and shows what it answers; tests feed it JSON and a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/clock.h"
#include "hangar/tray/coalescer.h"
#include "hangar/tray/status.h"

namespace hangar::tray {

// Reconnect delays: 1 s, 2 s, 4 s ... up to 30 s; back to 1 s once connected.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds first = std::chrono::seconds(1),
                   std::chrono::milliseconds cap = std::chrono::seconds(30))
      : first_(first), cap_(cap), next_(first) {}
  std::chrono::milliseconds next();
  void reset() { next_ = first_; }

 private:
  std::chrono::milliseconds first_, cap_, next_;
};

class TrayModel {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TrayModel(const core::Clock& clock, std::chrono::milliseconds coalesce_window)
      : clock_(clock), coalescer_(clock, coalesce_window) {}

  // --- connection -------------------------------------------------------------------------------
  // What to pass as `since` to subscribe: nothing before the first subscription (no replay of old
  // history), then the last seq seen, so a reconnect misses nothing and repeats nothing.
  std::optional<std::int64_t> resume_seq() const { return last_seq_; }
  // The acknowledgement {"subscribed":true,"seq":N,"heartbeat_ms":H}. Resets the backoff.
  void on_subscribed(const Json& ack);
  // The service went away (or never answered): offline until the next subscription. Returns how
  // long to wait before trying again.
  std::chrono::milliseconds on_disconnected(const std::string& why);
  bool connected() const { return connected_; }
  const std::string& disconnect_reason() const { return disconnect_reason_; }
  // True when no frame (event or heartbeat) came for 3 heartbeat intervals: a silent service.
  bool silent_too_long() const;

  // --- what the service says
  // ----------------------------------------------------------------------
  void on_status(StatusSnapshot status);
  // One event frame: change, gap or heartbeat (unknown types are ignored).
  void on_event(const Json& event);
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
  // The next moment something is due: a notification window closes or the heartbeat watchdog
  // fires. nullopt when nothing is pending.
  std::optional<TimePoint> next_deadline() const;

 private:
  std::optional<StatusSnapshot> shown_status() const { return connected_ ? status_ : std::nullopt; }
  std::chrono::milliseconds silence_limit() const { return 3 * heartbeat_; }

  const core::Clock& clock_;
  Coalescer coalescer_;
  Backoff backoff_;
  std::optional<StatusSnapshot> status_;
  std::optional<std::int64_t> last_seq_;
  bool connected_ = false;
  std::string disconnect_reason_ = "not connected yet";
  bool status_stale_ = true;
  std::int64_t events_lost_ = 0;
  std::chrono::milliseconds heartbeat_{10'000};
  TimePoint last_frame_at_{};
};

}  // namespace hangar::tray
