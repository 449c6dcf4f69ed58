// Stop requests and wake-ups without std::stop_callback (see stop.h for why).
#include "hangar/core/stop.h"

#include <algorithm>
#include <atomic>
#include <vector>

namespace hangar::core {

namespace {
constexpr std::chrono::hours kMaxSlice{1};
}  // namespace

namespace detail {

struct StopState {
  std::atomic<bool> stopped{false};
  std::mutex mutex;               // guards sleepers; held while waking them
  std::vector<Wakeup*> sleepers;  // threads inside Wakeup::wait_until on this source

  // False when the source is stopped already: the caller must not sleep.
  bool enter(Wakeup* sleeper) {
    std::lock_guard lock(mutex);
    if (stopped.load()) return false;
    sleepers.push_back(sleeper);
    return true;
  }

  // Once this returns, request_stop() is not inside sleeper->wake_for_stop() and never will be.
  void leave(Wakeup* sleeper) {
    std::lock_guard lock(mutex);
    sleepers.erase(std::find(sleepers.begin(), sleepers.end(), sleeper));
  }

  bool stop() {
    std::lock_guard lock(mutex);
    if (stopped.exchange(true)) return false;
    for (Wakeup* sleeper : sleepers) sleeper->wake_for_stop();
    return true;
  }
};

}  // namespace detail

bool StopToken::stop_requested() const noexcept { return state_ && state_->stopped.load(); }

StopSource::StopSource() : state_(std::make_shared<detail::StopState>()) {}

bool StopSource::request_stop() noexcept { return state_->stop(); }

bool StopSource::stop_requested() const noexcept { return state_->stopped.load(); }

void Wakeup::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  cv_.notify_all();
}

void Wakeup::wake_for_stop() {
  // Taking the mutex orders this after the sleeper's check of the stop flag: either it saw the
  // flag, or it is already waiting on cv_ and receives this notification.
  { std::lock_guard lock(mutex_); }
  cv_.notify_all();
}

Wakeup::Reason Wakeup::wait_until(const StopToken& stop,
                                  std::chrono::steady_clock::time_point deadline) {
  detail::StopState* state = stop.state_.get();
  if (state && !state->enter(this)) return Reason::kStopped;
  Reason reason = Reason::kTimedOut;
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (stop.stop_requested()) {
        reason = Reason::kStopped;
        break;
      }
      if (notified_) {
        notified_ = false;
        reason = Reason::kNotified;
        break;
      }
      // Slices of at most an hour: a far deadline never overflows the clock conversions the
      // runtime may do (mingw's condition variable waits on the system clock).
      const auto now = std::chrono::steady_clock::now();
      if (now < deadline) {
        cv_.wait_until(lock, deadline - now > kMaxSlice ? now + kMaxSlice : deadline);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        // A last look, so a stop or notification that raced the deadline is reported as such.
        if (stop.stop_requested()) {
          reason = Reason::kStopped;
        } else if (notified_) {
          notified_ = false;
          reason = Reason::kNotified;
        }
        break;
      }
    }
  }
  if (state) state->leave(this);
  return reason;
}

Wakeup::Reason Wakeup::wait_for(const StopToken& stop,
                                std::chrono::steady_clock::duration timeout) {
  // Ten years stand in for "for ever" without overflowing the time point.
  constexpr std::chrono::steady_clock::duration kForever = std::chrono::hours(24 * 365 * 10);
  return wait_until(stop, std::chrono::steady_clock::now() + std::min(timeout, kForever));
}

}  // namespace hangar::core
