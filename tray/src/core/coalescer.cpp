// Coalescing of device changes into notifications (see coalescer.h).
#include "hangar/tray/coalescer.h"

#include <algorithm>

#include "hangar/tray/status.h"

namespace hangar::tray {

std::string ready_text(const std::vector<std::string>& serials) {
  if (serials.size() == 1) return "Device " + serials.front() + " is Ready for user";
  return std::to_string(serials.size()) + " devices are Ready for user";
}

std::string failed_text(const std::vector<std::string>& serials, const std::string& first_reason,
                        std::size_t reasons) {
  std::string text;
  if (serials.size() == 1) {
    text = "Registration failed for " + serials.front();
    if (!first_reason.empty()) text += ": " + first_reason;
    return truncate_utf8(std::move(text), kNotificationTextMax);
  }
  const std::string count = std::to_string(serials.size());
  text = count + " devices failed registration";
  if (first_reason.empty()) return text;
  // "reason (and 11 more)" read as eleven more reasons (black-box round 8): one reason is said
  // to be all of theirs; several are counted, and the first is named as the first. A long reason
  // is shortened, never the words that say how many.
  if (reasons <= 1) {
    const std::string all = " (all " + count + ")";
    const std::size_t room = kNotificationTextMax - text.size() - all.size() - 2;
    return text + ": " + truncate_utf8(first_reason, room) + all;
  }
  text += " for " + std::to_string(reasons) + " reasons, the first: ";
  return text + truncate_utf8(first_reason, kNotificationTextMax - text.size());
}

void Coalescer::add(NotificationKind kind, const std::string& serial, const std::string& reason) {
  auto& open = batch(kind);
  if (!open) open = Batch{clock_.steady_now(), {}, {}, {}};
  if (!open->seen.insert(serial).second) return;
  open->serials.push_back(serial);
  if (open->first_reason.empty()) open->first_reason = reason;
  if (!reason.empty()) open->reasons.insert(reason);
}

std::vector<Notification> Coalescer::take_due() {
  std::vector<Notification> due;
  const auto now = clock_.steady_now();
  for (const auto kind : {NotificationKind::kReady, NotificationKind::kFailed}) {
    auto& open = batch(kind);
    if (!open || now - open->opened < window_) continue;
    Notification n;
    n.kind = kind;
    n.title = "Hangar";
    n.text = kind == NotificationKind::kReady
                 ? ready_text(open->serials)
                 : failed_text(open->serials, open->first_reason, open->reasons.size());
    n.serials = std::move(open->serials);
    due.push_back(std::move(n));
    open.reset();
  }
  return due;
}

std::optional<Coalescer::TimePoint> Coalescer::next_due() const {
  std::optional<TimePoint> due;
  for (const auto* open : {&ready_, &failed_}) {
    if (!*open) continue;
    const TimePoint at = (*open)->opened + window_;
    due = due ? std::min(*due, at) : at;
  }
  return due;
}

}  // namespace hangar::tray
