// Turns bursts of device changes into one notification per kind per window: twelve devices
// reaching Ready for user within the window make "12 devices are Ready for user", not 12 balloons.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hangar/core/clock.h"

namespace hangar::tray {

enum class NotificationKind { kReady, kFailed };

struct Notification {
  NotificationKind kind = NotificationKind::kReady;
  std::string title;                 // "Hangar"
  std::string text;                  // what the balloon / desktop notification says
  std::vector<std::string> serials;  // the devices it covers, in the order they changed
};

// A Windows balloon holds at most 255 characters of text (NOTIFYICONDATAW::szInfo).
inline constexpr std::size_t kNotificationTextMax = 255;

// "Device SERIAL is Ready for user" / "12 devices are Ready for user".
std::string ready_text(const std::vector<std::string>& serials);
// "Registration failed for SERIAL: reason", "3 devices failed registration: reason (all 3)", or
// with `reasons` different reasons "3 devices failed registration for 2 reasons, the first: ...".
std::string failed_text(const std::vector<std::string>& serials, const std::string& first_reason,
                        std::size_t reasons = 1);

class Coalescer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Coalescer(const core::Clock& clock, std::chrono::milliseconds window)
      : clock_(clock), window_(window) {}

  // The first change of a kind opens its window; changes until it closes join the same
  // notification. A serial already in the batch is not counted twice.
  void add(NotificationKind kind, const std::string& serial, const std::string& reason = {});
  // The notifications whose window has closed, ready before failed; their batches are cleared.
  std::vector<Notification> take_due();
  // When the earliest open window closes; nullopt when nothing is waiting.
  std::optional<TimePoint> next_due() const;
  std::chrono::milliseconds window() const { return window_; }

 private:
  struct Batch {
    TimePoint opened;
    std::vector<std::string> serials;
    std::set<std::string> seen;
    std::string first_reason;
    std::set<std::string> reasons;  // the different reasons in the batch
  };
  std::optional<Batch>& batch(NotificationKind kind) {
    return kind == NotificationKind::kReady ? ready_ : failed_;
  }

  const core::Clock& clock_;
  std::chrono::milliseconds window_;
  std::optional<Batch> ready_;
  std::optional<Batch> failed_;
};

}  // namespace hangar::tray
