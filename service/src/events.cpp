// The state-change feed: history rows -> listeners and bounded subscriber queues (events.h).
#include "hangar/service/events.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "hangar/ipc/protocol.h"

namespace hangar::service {

namespace {

StateChange to_change(const store::ChangeRow& row) {
  StateChange change;
  change.kind = row.left ? StateChange::Kind::kLeft : StateChange::Kind::kState;
  change.seq = row.seq;
  change.serial = row.serial;
  change.from_state = row.from_state;
  change.to_state = row.to_state;
  change.reason = row.reason.value_or("");
  change.at_ms = row.at;
  return change;
}

// The sequence numbers after `after` up to `through` that the history no longer has.
StateChange history_lost(std::int64_t after, std::int64_t through) {
  StateChange lost;
  lost.kind = StateChange::Kind::kHistoryLost;
  lost.seq = through;
  lost.lost = static_cast<std::uint64_t>(through - after);
  return lost;
}

}  // namespace

Subscription::Batch Subscription::replay_page() {
  std::int64_t after = 0;
  std::int64_t through = 0;
  {
    std::lock_guard lock(mutex_);
    after = replay_after_;
    through = replay_through_;
  }
  // Only this (the subscriber's) thread moves replay_after_; push() may only raise the end.
  auto rows = history_->changes_since(after, std::min(replay_page_, through - after));
  std::lock_guard lock(mutex_);
  Batch batch;
  if (!rows) {
    spdlog::warn("event feed: cannot replay the state history after #{}: {}", after,
                 rows.error().message);
    missed_ += static_cast<std::uint64_t>(replay_through_ - after);
    missed_through_ = std::max(missed_through_, replay_through_);
    replaying_ = false;
  } else {
    for (const auto& row : *rows) {
      if (row.seq > replay_through_) break;
      // A hole (history an older release deleted with its device) is told where it is.
      if (row.seq > replay_after_ + 1) {
        batch.changes.push_back(history_lost(replay_after_, row.seq - 1));
      }
      batch.changes.push_back(to_change(row));
      replay_after_ = row.seq;
    }
    // A short page: the history has nothing more. Every seq up to `through` was committed before
    // this read (the feed had delivered it), so what it lacks up to there is a hole too. The end
    // may have moved on meanwhile (push()): then the replay reads on.
    const bool short_page =
        static_cast<std::int64_t>(rows->size()) < std::min(replay_page_, through - after);
    if (short_page && replay_after_ < through) {
      batch.changes.push_back(history_lost(replay_after_, through));
      replay_after_ = through;
    }
    if (replay_after_ >= replay_through_ || (short_page && through >= replay_through_)) {
      replaying_ = false;
    }
  }
  if (!replaying_) {
    // Live changes the replay already covered are not sent twice.
    std::erase_if(queue_, [this](const StateChange& c) { return c.seq <= replay_after_; });
  }
  batch.missed = std::exchange(missed_, 0);
  batch.missed_through = std::exchange(missed_through_, 0);
  batch.seq = seq_;
  return batch;
}

Subscription::Batch Subscription::next(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mutex_);
    const bool replay = replaying_ && !closed_;
    lock.unlock();
    if (replay) {
      Batch page = replay_page();
      if (!page.changes.empty() || page.missed > 0) return page;
    }
  }
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout,
               [this] { return closed_ || missed_ > 0 || !queue_.empty() || replaying_; });
  if (replaying_ && !closed_) {
    // Fell behind while waiting: the history has what the queue dropped.
    lock.unlock();
    return replay_page();
  }
  Batch batch;
  batch.changes.assign(queue_.begin(), queue_.end());
  queue_.clear();
  batch.missed = std::exchange(missed_, 0);
  batch.missed_through = std::exchange(missed_through_, 0);
  batch.seq = seq_;
  batch.closed = closed_ && batch.changes.empty() && batch.missed == 0;
  return batch;
}

void Subscription::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

void Subscription::push(const StateChange& change) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    seq_ = change.seq;
    if (replaying_ && queue_.size() >= capacity_) {
      // Still replaying: the history has these too, so the replay reads on to here instead.
      replay_through_ = change.seq;
      queue_.clear();
    } else if (queue_.size() >= capacity_ && history_ != nullptr) {
      // The subscriber is behind (or a burst, an import call's 500 changes, outran a small
      // queue): it reads these from the durable history instead, at its own pace, from the
      // oldest it has not taken; a gap only when the history no longer has them (black-box round
      // 13: a watcher that kept up was told it fell behind, and the tray undercounted).
      replaying_ = true;
      replay_after_ = queue_.front().seq - 1;
      replay_through_ = change.seq;
      queue_.clear();
    } else if (queue_.size() >= capacity_) {
      // No history to read them from: a gap instead of these, and the subscriber resynchronises.
      missed_ += queue_.size() + 1;
      missed_through_ = change.seq;
      queue_.clear();
    } else {
      queue_.push_back(change);
    }
  }
  cv_.notify_one();
}

EventFeed::EventFeed(store::Store& store, EventFeedOptions options)
    : store_(store), options_(options) {}

EventFeed::~EventFeed() { stop(); }

void EventFeed::add_listener(Listener listener) { listeners_.push_back(std::move(listener)); }

core::Status EventFeed::start() {
  auto last = store_.last_change_seq();
  if (!last) return std::move(last).error();
  {
    std::lock_guard lock(mutex_);
    cursor_ = *last;
  }
  thread_.emplace([this](const core::StopToken& stop) {
    while (wakeup_.wait_for(stop, options_.poll) != core::Wakeup::Reason::kStopped) {
      if (auto status = poll_once(); !status) {
        spdlog::warn("event feed: cannot read the state history: {}", status.error().message);
      }
    }
  });
  return {};
}

void EventFeed::stop() {
  thread_.reset();  // requests the stop and joins
  std::lock_guard lock(mutex_);
  stopped_ = true;
  for (auto& weak : subscriptions_) {
    if (auto subscription = weak.lock()) subscription->close();
  }
  subscriptions_.clear();
}

core::Status EventFeed::poll_once() {
  std::lock_guard lock(mutex_);
  return poll_locked();
}

core::Status EventFeed::poll_locked() {
  for (;;) {
    auto rows = store_.changes_since(cursor_, options_.read_batch);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return {};
    deliver(*rows);
    cursor_ = rows->back().seq;
    if (static_cast<std::int64_t>(rows->size()) < options_.read_batch) return {};
  }
}

void EventFeed::deliver(const std::vector<store::ChangeRow>& rows) {
  std::erase_if(subscriptions_, [](const auto& weak) { return weak.expired(); });
  std::vector<std::shared_ptr<Subscription>> live;
  live.reserve(subscriptions_.size());
  for (auto& weak : subscriptions_) {
    if (auto subscription = weak.lock()) live.push_back(std::move(subscription));
  }
  for (const auto& row : rows) {
    const StateChange change = to_change(row);
    for (const auto& listener : listeners_) {
      try {
        listener(change);
      } catch (const std::exception& e) {
        spdlog::warn("event feed: a listener failed on change {}: {}", change.seq, e.what());
      }
    }
    for (const auto& subscription : live) subscription->push(change);
  }
}

core::Result<std::shared_ptr<Subscription>> EventFeed::subscribe(std::optional<std::int64_t> since,
                                                                 const std::string& user) {
  auto subscription = std::make_shared<Subscription>(options_.subscriber_capacity);
  subscription->owner_ = user;
  std::lock_guard lock(mutex_);  // no delivery between the replay and joining the live feed
  if (stopped_) {
    subscription->close();
    return subscription;
  }
  // Counted under the lock, so two subscribe calls at once cannot both take the last place.
  std::erase_if(subscriptions_, [](const auto& weak) { return weak.expired(); });
  std::size_t open = 0;
  std::size_t mine = 0;
  for (const auto& weak : subscriptions_) {
    if (auto other = weak.lock()) {
      ++open;
      if (other->owner_ == user) ++mine;
    }
  }
  if (mine >= options_.max_subscribers_per_user) {
    return core::make_error(
        ipc::errc::kBusy,
        (user.empty() ? std::string("this user") : user) + " already has " + std::to_string(mine) +
            " event subscriptions open, the most one user may have (max_subscribers_per_user " +
            std::to_string(options_.max_subscribers_per_user) +
            "); close one (a `hangar watch` or a tray) and try again");
  }
  if (open >= options_.max_subscribers) {
    return core::make_error(ipc::errc::kBusy,
                            "the service already streams events to " + std::to_string(open) +
                                " subscribers, its maximum (max_subscribers " +
                                std::to_string(options_.max_subscribers) + "); try again later");
  }
  // The feed first reads what the history holds now (the thread polls every options_.poll), so a
  // replay covers every change made before this call: a burst committed just before (an import
  // of 500) would otherwise arrive live, all at once, past a small queue, as a gap.
  if (auto caught_up = poll_locked(); !caught_up) {
    spdlog::warn("event feed: cannot read the state history: {}", caught_up.error().message);
  }
  subscription->seq_ = cursor_;
  subscription->start_seq_ = cursor_;
  // The history a subscriber that falls behind reads from (Subscription::push).
  subscription->history_ = &store_;
  subscription->replay_page_ = std::max<std::int64_t>(options_.replay_page, 1);
  if (since && *since < cursor_) {
    // The replay reads the history up to the cursor as the subscriber takes it; rows newer than
    // the cursor are delivered live by the next poll, not replayed twice.
    subscription->replaying_ = true;
    subscription->replay_after_ = std::max<std::int64_t>(*since, 0);
    subscription->replay_through_ = cursor_;
  }
  subscriptions_.push_back(subscription);
  return subscription;
}

std::int64_t EventFeed::last_seq() const {
  std::lock_guard lock(mutex_);
  return cursor_;
}

std::size_t EventFeed::subscriber_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(subscriptions_.begin(), subscriptions_.end(),
                                                [](const auto& weak) { return !weak.expired(); }));
}

}  // namespace hangar::service
