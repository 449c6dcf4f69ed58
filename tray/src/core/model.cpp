// The tray's I/O-free state machine (see model.h).
#include "hangar/tray/model.h"

#include <algorithm>

namespace hangar::tray {

namespace {

std::int64_t int_field(const Json& object, const char* name, std::int64_t fallback) {
  const auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

std::string string_field(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::chrono::milliseconds Backoff::next() {
  const auto delay = next_;
  next_ = std::min(next_ * 2, cap_);
  return delay;
}

void TrayModel::on_subscribed(const Json& ack) {
  const std::int64_t seq = int_field(ack, "seq", 0);
  // A sequence behind ours means a new history (the data directory was replaced): start over
  // from it, or every new event would look like one already seen.
  if (!last_seq_ || seq < *last_seq_) last_seq_ = seq;
  const std::int64_t heartbeat = int_field(ack, "heartbeat_ms", 10'000);
  heartbeat_ = std::chrono::milliseconds(heartbeat > 0 ? heartbeat : 10'000);
  connected_ = true;
  disconnect_reason_.clear();
  status_stale_ = true;
  last_frame_at_ = clock_.steady_now();
  backoff_.reset();
}

std::chrono::milliseconds TrayModel::on_disconnected(const std::string& why) {
  connected_ = false;
  disconnect_reason_ = why;
  status_stale_ = true;
  return backoff_.next();
}

bool TrayModel::silent_too_long() const {
  return connected_ && clock_.steady_now() - last_frame_at_ >= silence_limit();
}

void TrayModel::on_status(StatusSnapshot status) {
  status_ = std::move(status);
  status_stale_ = false;
}

void TrayModel::on_event(const Json& event) {
  last_frame_at_ = clock_.steady_now();
  if (!event.is_object()) return;
  const std::string type = string_field(event, "type");
  const std::int64_t seq = int_field(event, "seq", -1);
  if (type == "change") {
    // Replayed or repeated: already counted and notified.
    if (last_seq_ && seq <= *last_seq_) return;
    last_seq_ = seq;
    status_stale_ = true;
    const std::string to = string_field(event, "to");
    const std::string serial = string_field(event, "serial");
    if (serial.empty()) return;  // malformed: counted by the next status, not announced
    if (to == "ready_for_user") {
      coalescer_.add(NotificationKind::kReady, serial);
    } else if (to == "registration_failed") {
      coalescer_.add(NotificationKind::kFailed, serial, string_field(event, "reason"));
    }
  } else if (type == "gap") {
    // Changes were dropped: the counts are wrong, but nothing is invented for the lost ones.
    events_lost_ += std::max<std::int64_t>(int_field(event, "missed", 0), 0);
    if (seq >= 0) last_seq_ = std::max(last_seq_.value_or(seq), seq);
    status_stale_ = true;
  } else if (type == "heartbeat") {
    // A heartbeat ahead of us means changes we never saw: refresh the counts.
    if (last_seq_ && seq > *last_seq_) status_stale_ = true;
  }
}

std::optional<TrayModel::TimePoint> TrayModel::next_deadline() const {
  std::optional<TimePoint> deadline = coalescer_.next_due();
  if (connected_) {
    const TimePoint watchdog = last_frame_at_ + silence_limit();
    deadline = deadline ? std::min(*deadline, watchdog) : watchdog;
  }
  return deadline;
}

}  // namespace hangar::tray
