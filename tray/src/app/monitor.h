// The tray's connection to hangard: follows the event stream (ipc::EventStream: resume, gaps,
// reconnects), keeps the status fresh, and hands health and notifications to the platform's
// TrayView.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "hangar/core/clock.h"
#include "hangar/core/result.h"
#include "hangar/core/stop.h"
#include "hangar/ipc/event_stream.h"
#include "hangar/tray/model.h"

namespace hangar::tray {

// What a platform shows. Called from the monitor's thread: a GUI implementation hands the
// values to its own thread.
class TrayView {
 public:
  virtual ~TrayView() = default;
  virtual void show_health(Health health, const std::string& tooltip) = 0;
  virtual void notify(const Notification& notification) = 0;
};

class Monitor {
 public:
  Monitor(std::string endpoint, std::chrono::milliseconds coalesce, TrayView& view)
      : endpoint_(std::move(endpoint)), model_(clock_, coalesce), view_(view) {}

  // Runs until `stop` is requested. Waits for events are sliced, so it returns within half a
  // second, or once the connection attempt or call under way ends (at most 5 s to connect and
  // 10 s for a call against a service that hangs).
  void run(const core::StopToken& stop);

  // For the menu (any thread). A command ("pause", "resume") on its own connection; the service's
  // error (permission_denied ...) comes back as is. The status refreshes right after.
  core::Result<Json> command(const std::string& name);
  // The text of "Open status", from a fresh `status` call.
  core::Result<std::string> status_report() const;
  // The last status the service sent (kept while offline), for the data directory and pause state.
  std::optional<StatusSnapshot> last_status() const;

 private:
  // One turn of the loop: refresh the status when due, show what is due, then take what the
  // event stream reports within half a second.
  void step(ipc::EventStream& stream, const core::StopToken& stop);
  void refresh_status();
  void publish();

  const std::string endpoint_;
  core::SystemClock clock_;
  mutable std::mutex mutex_;  // model_: the monitor thread writes it, the menu reads it
  TrayModel model_;
  TrayView& view_;
  std::atomic<bool> refresh_requested_{false};
  std::chrono::steady_clock::time_point status_at_{};
  std::optional<std::pair<Health, std::string>> shown_;
  // Set once the first connection attempt has ended: the health shown before it (offline, the
  // model's start) is not logged as if the service had been found unreachable.
  bool attempted_ = false;
};

}  // namespace hangar::tray
