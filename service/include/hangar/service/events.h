// The live stream of device state changes. The store's state history is the source: every change
// is a durable history row whose id is the change's sequence number. One feed thread reads new
// rows and fans them out to in-process listeners (the Windows Event Log) and to subscriptions (the
// `subscribe` command: `hangar watch`, the tray). A subscription is a bounded queue: a subscriber
// that does not keep up loses changes and is told so with a gap, and never slows the feed or the
// service down. A subscriber that asks for the past (`since`) reads it from the durable history, a
// page at a time, however long it is, and then follows the live feed without a gap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hangar/core/result.h"
#include "hangar/core/stop.h"
#include "hangar/store/store.h"

namespace hangar::service {

struct StateChange {
  enum class Kind {
    kState,  // the device moved to `to_state`
    kLeft,   // the device left the queue (remove, deregister) from `from_state`; `reason` says how
    // Only in a replay: the history has no rows for the `lost` sequence numbers up to `seq` (a
    // release before schema 9 deleted a removed device's history with it). Not a device's change.
    kHistoryLost,
  };
  Kind kind = Kind::kState;
  std::int64_t seq = 0;  // increasing; a client resumes after the last seq it saw
  std::string serial;
  std::optional<core::DeviceState> from_state;  // none when the device was first queued
  core::DeviceState to_state = core::DeviceState::kQueued;
  std::string reason;      // may be empty
  std::int64_t at_ms = 0;  // Unix ms
  std::uint64_t lost = 0;  // kHistoryLost
};

class EventFeed;

// One subscriber's queue. Thread-safe; the feed pushes, the subscriber's thread calls next().
class Subscription {
 public:
  struct Batch {
    std::vector<StateChange> changes;
    std::uint64_t missed = 0;  // changes dropped before these because the queue was full
    // With `missed`: the newest seq among the dropped changes. Every change in `changes` is newer,
    // so a client that skips up to here on a gap still takes each of them.
    std::int64_t missed_through = 0;
    std::int64_t seq = 0;  // the newest seq this subscription has been offered
    bool closed = false;   // the feed stopped: no more batches
  };

  explicit Subscription(std::size_t capacity) : capacity_(capacity) {}
  // Waits up to `timeout` for changes, a gap or the end; returns what is queued (maybe nothing).
  Batch next(std::chrono::milliseconds timeout);
  void close();
  // The feed's last seq when this subscription joined it: every live change it gets is newer
  // (what the `subscribe` reply acknowledges; read later, it could cover changes still queued).
  std::int64_t start_seq() const { return start_seq_; }

 private:
  friend class EventFeed;
  void push(const StateChange& change);
  // One page of the replay from the history (next() calls it while replaying, without the lock
  // held during the read): the changes after replay_after_ up to replay_through_, with a
  // kHistoryLost entry where the history has a hole.
  Batch replay_page();

  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<StateChange> queue_;
  std::uint64_t missed_ = 0;
  std::int64_t missed_through_ = 0;
  std::int64_t seq_ = 0;
  std::int64_t start_seq_ = 0;  // set once by EventFeed::subscribe before it is shared
  std::string owner_;           // the subscribing user, likewise
  bool closed_ = false;
  // The replay: while `replaying_`, next() reads the history after `replay_after_` up to
  // `replay_through_` in pages of `replay_page_` rows. Live changes wait in the queue meanwhile;
  // if they overflow it, the replay simply reads further (the history has them) instead of a gap.
  const store::Store* history_ = nullptr;
  bool replaying_ = false;
  std::int64_t replay_after_ = 0;
  std::int64_t replay_through_ = 0;
  std::int64_t replay_page_ = 500;
};

struct EventFeedOptions {
  std::chrono::milliseconds poll{200};  // how often the history is checked for new rows
  std::int64_t read_batch = 2000;       // rows per read
  std::size_t subscriber_capacity = 4096;
  std::int64_t replay_page = 500;  // history rows a replaying subscription reads at a time
  // Subscriptions open at once, in all and per user. Each holds a connection and a thread of the
  // IPC server for as long as it lasts, so together they must leave most of the server's
  // connections (256) to ordinary commands; beyond either limit subscribe() answers busy.
  std::size_t max_subscribers = 64;
  std::size_t max_subscribers_per_user = 8;
};

class EventFeed {
 public:
  using Listener = std::function<void(const StateChange&)>;

  explicit EventFeed(store::Store& store, EventFeedOptions options = {});
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Listeners run on the feed thread, in order, and must not block. Add them before start().
  void add_listener(Listener listener);
  // Starts after the newest change already in the store: only new changes are streamed.
  core::Status start();
  // Closes every subscription and joins the thread. Idempotent.
  void stop();

  // A new subscription for `user` (ipc::PeerIdentity::user). With `since`, the changes after
  // that seq come first, replayed from the durable history page by page however many there are
  // (the store must outlive the subscription's use), then the live ones, without a gap.
  // Refused with "busy", naming the limit, when `user` already holds max_subscribers_per_user
  // subscriptions or max_subscribers are open.
  core::Result<std::shared_ptr<Subscription>> subscribe(std::optional<std::int64_t> since,
                                                        const std::string& user = {});
  // Reads new history rows now and delivers them (the thread calls this; tests call it directly).
  core::Status poll_once();
  std::int64_t last_seq() const;
  // Subscriptions still open (one whose client left is counted until its stream notices, within
  // about a second).
  std::size_t subscriber_count() const;

 private:
  // poll_once() with mutex_ held.
  core::Status poll_locked();
  void deliver(const std::vector<store::ChangeRow>& rows);

  store::Store& store_;
  EventFeedOptions options_;
  std::vector<Listener> listeners_;
  mutable std::mutex mutex_;  // cursor_ and subscriptions_; held while delivering
  std::int64_t cursor_ = 0;
  std::vector<std::weak_ptr<Subscription>> subscriptions_;
  bool stopped_ = false;  // under mutex_: stop() ran, later subscriptions start closed
  core::Wakeup wakeup_;   // the feed thread sleeps here between polls
  std::optional<core::StopThread> thread_;  // the feed thread; last, so it stops first
};

}  // namespace hangar::service
