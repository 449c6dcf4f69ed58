// --dry-run output (see print_view.h):
//   health: ok | Hangar: all well / 12 ready
//   notify: ready | 12 devices are Ready for user | SN-1 SN-2 ...
#include "print_view.h"

#include <algorithm>
#include <string>

#include "hangar/core/terminal_safe.h"

namespace hangar::tray {

void PrintView::show_health(Health health, const std::string& tooltip) {
  std::string one_line = core::terminal_safe(tooltip, core::CarriageReturns::kOnlyBeforeLineFeed);
  std::replace(one_line.begin(), one_line.end(), '\n', '/');
  std::lock_guard lock(mutex_);
  std::fprintf(out_, "health: %s | %s\n", health_name(health), one_line.c_str());
  std::fflush(out_);
}

void PrintView::notify(const Notification& notification) {
  std::string serials;
  for (const auto& s : notification.serials) serials += (serials.empty() ? "" : " ") + s;
  std::lock_guard lock(mutex_);
  std::fprintf(out_, "notify: %s | %s | %s\n",
               notification.kind == NotificationKind::kReady ? "ready" : "failed",
               notification.text.c_str(), serials.c_str());
  std::fflush(out_);
}

}  // namespace hangar::tray
