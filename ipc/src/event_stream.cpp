// The `subscribe` stream's client side (see event_stream.h).
#include "hangar/ipc/event_stream.h"

#include <algorithm>

namespace hangar::ipc {

std::chrono::milliseconds Backoff::next() {
  const auto delay = next_;
  next_ = std::min(next_ * 2, cap_);
  return delay;
}

StreamEvent EventCursor::on_subscribed(const Json& ack, TimePoint now) {
  StreamEvent event;
  event.kind = StreamEvent::Kind::kSubscribed;
  // Client::call has the acknowledgement already; one that is not msg::SubscribeReply ends the
  // subscription before this (EventStream::next).
  auto reply = msg::SubscribeReply::from_json(ack);
  event.seq = reply ? reply->seq : 0;
  event.resumed = ever_subscribed_;
  // A sequence behind ours means a new history (the data directory was replaced): follow it from
  // there, or every new change would look like one already seen.
  event.history_reset = last_seq_ && event.seq < *last_seq_;
  if (!last_seq_ || event.history_reset) last_seq_ = event.seq;
  const std::int64_t heartbeat = reply ? reply->heartbeat_ms : 0;
  heartbeat_ = std::chrono::milliseconds(heartbeat > 0 ? heartbeat : 10'000);
  connected_ = true;
  ever_subscribed_ = true;
  disconnect_reason_.clear();
  last_frame_at_ = now;
  backoff_.reset();
  return event;
}

StreamEvent EventCursor::on_frame(const Json& frame, TimePoint now) {
  last_frame_at_ = now;
  StreamEvent event;
  if (!frame.is_object()) return event;
  const auto type_it = frame.find("type");
  const std::string type =
      type_it != frame.end() && type_it->is_string() ? type_it->get<std::string>() : "";
  std::int64_t seq = 0;
  if (type == "change") {
    auto change = msg::ChangeEvent::from_json(frame);
    if (!change) return event;  // not a change frame after all: nothing to report
    seq = change->seq;
    if (seq < 0 || (last_seq_ && seq <= *last_seq_)) return event;  // a repeat
    last_seq_ = seq;
    event.kind = StreamEvent::Kind::kChange;
    event.change = std::move(change).value();
  } else if (type == "removed") {
    auto removed = msg::RemovedEvent::from_json(frame);
    if (!removed) return event;
    seq = removed->seq;
    if (seq < 0 || (last_seq_ && seq <= *last_seq_)) return event;  // a repeat
    last_seq_ = seq;
    event.kind = StreamEvent::Kind::kRemoved;
    event.removed = std::move(removed).value();
  } else if (type == "gap") {
    auto gap = msg::GapEvent::from_json(frame);
    if (!gap) return event;
    event.gap_cause = gap->cause;
    seq = gap->seq;
    // The changes that follow a gap are all newer than its seq: moving to it takes each of them.
    if (seq >= 0) last_seq_ = std::max(last_seq_.value_or(seq), seq);
    event.kind = StreamEvent::Kind::kGap;
    event.missed = gap->missed;
  } else if (type == "heartbeat") {
    auto heartbeat = msg::HeartbeatEvent::from_json(frame);
    if (!heartbeat) return event;
    seq = heartbeat->seq;
    event.kind = StreamEvent::Kind::kHeartbeat;
    event.ahead = last_seq_ && seq > *last_seq_;
  } else {
    return event;  // a newer service's frame: not ours to interpret
  }
  event.seq = seq;
  event.frame = frame;
  return event;
}

void EventCursor::restart_from(std::int64_t seq) {
  last_seq_ = seq;
  connected_ = false;
  disconnect_reason_ = "following a new history from its start";
}

std::chrono::milliseconds EventCursor::on_disconnected(const std::string& why) {
  connected_ = false;
  disconnect_reason_ = why;
  return backoff_.next();
}

bool EventCursor::silent_too_long(TimePoint now) const {
  return connected_ && now - last_frame_at_ >= 3 * heartbeat_;
}

std::optional<EventCursor::TimePoint> EventCursor::watchdog_deadline() const {
  if (!connected_) return std::nullopt;
  return last_frame_at_ + 3 * heartbeat_;
}

EventStream::EventStream(std::string endpoint, EventStreamOptions options, const core::Clock& clock)
    : endpoint_(std::move(endpoint)),
      options_(options),
      clock_(clock),
      cursor_(options.since, Backoff(options.first_retry, options.max_retry)) {}

StreamEvent EventStream::lost(const core::Error& error, const std::string& context) {
  client_.reset();
  StreamEvent event;
  event.kind = StreamEvent::Kind::kDisconnected;
  event.reason = context + error.message;
  event.code = error.code;
  const auto delay = cursor_.on_disconnected(event.reason);
  event.ever_subscribed = cursor_.ever_subscribed();
  if (options_.reconnect) {
    event.retry_in = delay;
    retry_at_ = clock_.steady_now() + delay;
  } else {
    ended_ = true;
  }
  return event;
}

StreamEvent EventStream::next(std::chrono::milliseconds wait, const core::StopToken& stop) {
  if (ended_ || stop.stop_requested()) return {};
  if (!client_) {
    const auto now = clock_.steady_now();
    if (now < retry_at_) {
      retry_wait_.wait_for(stop,
                           std::min<std::chrono::steady_clock::duration>(wait, retry_at_ - now));
      return {};
    }
    auto client = Client::connect(endpoint_, options_.connect_timeout);
    if (!client) return lost(client.error());
    const auto since = cursor_.resume_seq();
    auto ack = client->subscribe(since, options_.heartbeat_ms, options_.subscribe_timeout);
    if (!ack) return lost(ack.error(), "subscribe: ");
    if (auto typed = msg::SubscribeReply::from_json(*ack); !typed) {
      return lost(typed.error(), "subscribe: ");
    }
    client_.emplace(std::move(client).value());
    StreamEvent event = cursor_.on_subscribed(*ack, clock_.steady_now());
    event.since = since;
    if (event.history_reset && event.seq > 0) {
      // Changes of the new history were made before we joined it: take them all, from its start.
      client_.reset();
      cursor_.restart_from(0);
      retry_at_ = {};
    }
    return event;
  }
  // Wait no longer than the silence watchdog allows.
  auto slice = wait;
  if (auto deadline = cursor_.watchdog_deadline()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock_.steady_now());
    slice = std::clamp(left, std::chrono::milliseconds(1), wait);
  }
  auto frame = client_->next_event(slice);
  if (frame) return cursor_.on_frame(*frame, clock_.steady_now());
  if (frame.error().code != errc::kTimeout) return lost(frame.error());
  if (cursor_.silent_too_long(clock_.steady_now())) {
    return lost(core::Error{
        errc::kTimeout, "no event or heartbeat from the service for three heartbeat intervals"});
  }
  return {};
}

}  // namespace hangar::ipc
