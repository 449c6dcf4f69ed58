// Device state changes as Event Log entries, one by one up to a rate, then as summaries.
#include "event_report.h"

#include <algorithm>
#include <ctime>
#include <limits>

namespace hangar::service {
std::string format_utc(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
#ifdef _WIN32
  gmtime_s(&tm, &seconds);
#else
  gmtime_r(&seconds, &tm);
#endif
  char text[32];
  const std::size_t n = std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return std::string(text, n);
}

std::optional<EventEntry> event_for(const StateChange& change) {
  // A device leaving the queue is its admin's own doing: not news for the Event Log.
  if (change.kind != StateChange::Kind::kState) return std::nullopt;
  // A change that does not move the device (a new reason on a failed device) is not news.
  if (change.from_state && *change.from_state == change.to_state) return std::nullopt;
  if (change.to_state == core::DeviceState::kReadyForUser) {
    return EventEntry{EventId::kReadyForUser, EventLevel::kInformation, {change.serial}};
  }
  if (change.to_state == core::DeviceState::kRegistrationFailed) {
    // A device waits for someone to act (the seed's table says what), the service itself is
    // fine: a warning, not an error.
    std::string reason = change.reason.empty() ? std::string("no reason recorded") : change.reason;
    return EventEntry{
        EventId::kRegistrationFailed, EventLevel::kWarning, {change.serial, std::move(reason)}};
  }
  return std::nullopt;
}

void report_state_change(EventSink& sink, const StateChange& change) {
  if (auto entry = event_for(change)) sink.write(*entry);
}

StateChangeReporter::StateChangeReporter(EventSink& sink, EventRateLimit limit)
    : sink_(sink), limit_(limit) {}

void StateChangeReporter::on_change(const StateChange& change) {
  auto entry = event_for(change);
  if (!entry) return;
  const bool failed = entry->id == EventId::kRegistrationFailed;
  const EventId summary =
      failed ? EventId::kRegistrationFailedSummary : EventId::kReadyForUserSummary;
  std::lock_guard lock(mutex_);
  Window& window = failed ? failed_ : ready_;
  close_if_ended(window, summary, change.at_ms);
  if (!window.open) {
    window = Window{change.at_ms, change.at_ms, 0, 0, true};
  }
  window.last_ms = std::max(window.last_ms, change.at_ms);
  if (window.written < limit_.per_window) {
    ++window.written;
    sink_.write(*entry);
  } else {
    ++window.held;
  }
}

void StateChangeReporter::flush(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  close_if_ended(failed_, EventId::kRegistrationFailedSummary, now_ms);
  close_if_ended(ready_, EventId::kReadyForUserSummary, now_ms);
}

void StateChangeReporter::close_if_ended(Window& window, EventId summary, std::int64_t now_ms) {
  if (!window.open) return;
  const bool ended = now_ms == std::numeric_limits<std::int64_t>::max() ||
                     now_ms - window.start_ms >= limit_.window_ms;
  if (!ended) return;
  if (window.held > 0) {
    const EventLevel level = summary == EventId::kRegistrationFailedSummary
                                 ? EventLevel::kWarning
                                 : EventLevel::kInformation;
    sink_.write(EventEntry{
        summary,
        level,
        {std::to_string(window.held), format_utc(window.start_ms), format_utc(window.last_ms)}});
  }
  window = Window{};
}

}  // namespace hangar::service
