// The client side of the `subscribe` stream, shared by `hangar watch` and hangar-tray so both
// follow it the same way: where to resume after a reconnect, which frames are repeats, what a gap
// or a heartbeat ahead of us means, when the service's history was replaced, when a silent
// connection counts as dead, and how long to wait before connecting again.
//
//   EventCursor  the bookkeeping, free of I/O (tests drive it with JSON frames and a fake clock);
//   EventStream  a cursor plus the connection: connects, subscribes, reads, reconnects.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "hangar/core/clock.h"
#include "hangar/core/stop.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/messages/events.h"
#include "hangar/ipc/protocol.h"

namespace hangar::ipc {

// What the stream has to tell its user. Repeats (changes at or below the last seq seen, as a
// replay after a reconnect sends), frames of unknown types and frames that are not the message
// their type names (msg::ChangeEvent etc., a field missing or of another type) are never
// reported.
struct StreamEvent {
  enum class Kind {
    kNothing,       // the wait ended with nothing to report
    kSubscribed,    // (re)connected and subscribed
    kChange,        // a new change: `frame` is {"type":"change","seq",...}
    kRemoved,       // a device left the queue: `frame` is {"type":"removed","seq",...}
    kGap,           // the service dropped `missed` changes for us: counts must be re-read
    kHeartbeat,     // the service is alive; `ahead`: it has changes we never saw
    kDisconnected,  // lost (or never reached) the service: `reason`, then `retry_in`
  };
  Kind kind = Kind::kNothing;
  // kChange, kRemoved, kGap: the frame as the service sent it (what `watch --json` prints)
  Json frame;
  std::optional<msg::ChangeEvent> change;    // kChange: the frame, parsed
  std::optional<msg::RemovedEvent> removed;  // kRemoved: the frame, parsed
  // kChange, kRemoved, kGap, kHeartbeat: its seq; kSubscribed: the service's
  std::int64_t seq = 0;
  std::uint64_t missed = 0;           // kGap
  std::string gap_cause;              // kGap: msg::GapEvent::kBehind or kHistoryLost
  std::optional<std::int64_t> since;  // kSubscribed: what it asked for (none: from now on)
  bool resumed = false;               // kSubscribed: not the first subscription of this stream
  // kSubscribed: the service's seq is behind ours: a new history (another data directory). The
  // stream then subscribes again at once from its start, so none of its changes is missed.
  bool history_reset = false;
  bool ahead = false;                     // kHeartbeat
  std::string reason;                     // kDisconnected
  std::string code;                       // kDisconnected: the error code ("unavailable", "busy")
  std::chrono::milliseconds retry_in{0};  // kDisconnected: 0 when the stream will not retry
  bool ever_subscribed = false;           // kDisconnected: whether a subscription ever succeeded
};

// Reconnect delays: `first`, doubling up to `cap`; back to `first` once subscribed.
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

class EventCursor {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `since`: replay the changes after this seq on the first subscription; none: only new ones.
  explicit EventCursor(std::optional<std::int64_t> since = std::nullopt,
                       Backoff backoff = Backoff())
      : last_seq_(since), backoff_(backoff) {}

  // What to pass as `since` to subscribe: the last seq seen, so a reconnect misses nothing and
  // repeats nothing (nothing before the first subscription unless asked).
  std::optional<std::int64_t> resume_seq() const { return last_seq_; }
  // The acknowledgement {"subscribed":true,"seq":N,"heartbeat_ms":H}.
  StreamEvent on_subscribed(const Json& ack, TimePoint now);
  // One pushed frame. kNothing for a repeat, a frame of an unknown type or one that is not the
  // message its type names (ipc/messages/events.h).
  StreamEvent on_frame(const Json& frame, TimePoint now);
  // Follow the history from `seq` on the next subscription (after a history reset, the new
  // history's changes so far: from 0). Counts as a disconnection, without a backoff.
  void restart_from(std::int64_t seq);
  // The connection ended (or never started): how long to wait before trying again.
  std::chrono::milliseconds on_disconnected(const std::string& why);

  bool connected() const { return connected_; }
  bool ever_subscribed() const { return ever_subscribed_; }
  const std::string& disconnect_reason() const { return disconnect_reason_; }
  // No frame (event or heartbeat) for three heartbeat intervals: a silent service.
  bool silent_too_long(TimePoint now) const;
  // When the silence watchdog fires; nullopt while disconnected.
  std::optional<TimePoint> watchdog_deadline() const;

 private:
  std::optional<std::int64_t> last_seq_;
  Backoff backoff_;
  bool connected_ = false;
  bool ever_subscribed_ = false;
  std::string disconnect_reason_ = "not connected yet";
  std::chrono::milliseconds heartbeat_{10'000};
  TimePoint last_frame_at_{};
};

struct EventStreamOptions {
  std::optional<std::int64_t> since;         // see EventCursor
  std::optional<std::int64_t> heartbeat_ms;  // ask the service for this heartbeat interval
  bool reconnect = true;                     // false: a lost connection ends the stream
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds max_retry{30'000};
  Duration connect_timeout = std::chrono::seconds(5);
  Duration subscribe_timeout = std::chrono::seconds(10);
};

class EventStream {
 public:
  EventStream(std::string endpoint, EventStreamOptions options, const core::Clock& clock);

  // The next thing to report, waiting at most about `wait` for it (a connection attempt under way
  // may take up to the connect and subscribe timeouts); kNothing when the wait ends first or
  // `stop` is requested. Connects and subscribes when not connected, unless waiting out the
  // reconnect delay. After kDisconnected with reconnect off, ended() is true and next() returns
  // kNothing.
  StreamEvent next(std::chrono::milliseconds wait, const core::StopToken& stop);
  bool ended() const { return ended_; }
  const EventCursor& cursor() const { return cursor_; }

 private:
  StreamEvent lost(const core::Error& error, const std::string& context = {});

  const std::string endpoint_;
  const EventStreamOptions options_;
  const core::Clock& clock_;
  EventCursor cursor_;
  std::optional<Client> client_;
  std::chrono::steady_clock::time_point retry_at_{};
  core::Wakeup retry_wait_;  // the sleep before reconnecting; a stop ends it
  bool ended_ = false;
};

}  // namespace hangar::ipc
