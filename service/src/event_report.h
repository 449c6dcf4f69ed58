// Device state changes in the Event Log: which changes make an entry, and the rate limit that
// keeps 500 devices finishing at once from flooding the log. Platform-free (event_sink.h).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "hangar/service/event_sink.h"
#include "hangar/service/events.h"

namespace hangar::service {

// The entry for one state change: a device Ready for user (information) or a registration that
// failed (warning, with the reason in the seed's words); nothing for other changes.
std::optional<EventEntry> event_for(const StateChange& change);

// Writes event_for(change), if any, to `sink`.
void report_state_change(EventSink& sink, const StateChange& change);

// Per kind (failures, Ready for user): at most `per_window` entries one by one in any window of
// `window_ms`; the rest of that window are counted and written as one summary entry when the
// window ends. 500 devices finishing in one pass make 20 entries and one summary, not 500.
struct EventRateLimit {
  int per_window = 20;
  std::int64_t window_ms = 60'000;
};

// The Event Log listener on the feed: report_state_change() under the rate limit. Thread-safe:
// on_change() runs on the feed thread, flush() on the service's main thread.
class StateChangeReporter {
 public:
  explicit StateChangeReporter(EventSink& sink, EventRateLimit limit = {});

  void on_change(const StateChange& change);
  // Writes the summary of every window that has ended by `now_ms` (call it every few seconds,
  // and with INT64_MAX at shutdown so nothing counted is lost).
  void flush(std::int64_t now_ms);

 private:
  struct Window {
    std::int64_t start_ms = 0;
    std::int64_t last_ms = 0;
    int written = 0;
    std::int64_t held = 0;  // counted, not yet written
    bool open = false;
  };
  void close_if_ended(Window& window, EventId summary, std::int64_t now_ms);

  EventSink& sink_;
  EventRateLimit limit_;
  std::mutex mutex_;  // guards the windows and orders the writes
  Window failed_;
  Window ready_;
};

// "2026-11-25 12:30:00 UTC", for the summaries.
std::string format_utc(std::int64_t unix_ms);

}  // namespace hangar::service
