// Stop requests and wake-ups for the long-lived threads (engine, hosts, tray monitor), built on a
// plain mutex and condition variable instead of std::stop_token.
//
// Why not std::stop_token with condition_variable_any: every such wait registers a
// std::stop_callback, and ~stop_callback, when another thread is running that callback (a stop
// request arriving just as the wait ends), waits for it on a std::binary_semaphore. In the Windows
// build (mingw-w64, libstdc++ 12, no futex) that semaphore sleeps in libstdc++'s waiter pool, which
// reads the value outside its mutex and so can miss the release for ever (GCC PR libstdc++/106183,
// fixed in GCC 13). Seen as an engine thread that never ended and a service stuck in
// STOP_PENDING. Here a stop request wakes each sleeper while holding the mutex that sleepers
// register and unregister under, so no thread ever waits for another's callback, and a wake-up
// is a flag set under the sleeper's own mutex, so it cannot be lost.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace hangar::core {

namespace detail {
struct StopState;
}

// The reading side of a StopSource; cheap to copy. A default-constructed token is never stopped.
class StopToken {
 public:
  StopToken() = default;
  bool stop_requested() const noexcept;

 private:
  friend class StopSource;
  friend class Wakeup;
  explicit StopToken(std::shared_ptr<detail::StopState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::StopState> state_;
};

class StopSource {
 public:
  StopSource();
  // Marks the source stopped and wakes every thread sleeping on one of its tokens. True the first
  // time. Takes only short, non-nested mutexes: safe from any thread (not a signal handler).
  bool request_stop() noexcept;
  bool stop_requested() const noexcept;
  StopToken token() const { return StopToken(state_); }

 private:
  std::shared_ptr<detail::StopState> state_;
};

// Where one thread sleeps: until notify(), a stop request on the token it waits with, or a
// deadline. A notification is latched: one sent while the thread is busy ends its next wait at
// once, so a wake-up can never fall between "nothing to do" and "sleep".
class Wakeup {
 public:
  enum class Reason { kNotified, kStopped, kTimedOut };

  Wakeup() = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  void notify();
  Reason wait_until(const StopToken& stop, std::chrono::steady_clock::time_point deadline);
  Reason wait_for(const StopToken& stop, std::chrono::steady_clock::duration timeout);

 private:
  friend struct detail::StopState;
  void wake_for_stop();

  std::mutex mutex_;
  std::condition_variable cv_;
  bool notified_ = false;
};

// std::jthread's shape for a core::StopToken: runs fn(token); the destructor requests stop and
// joins. Not movable: the thread holds a token of this object's source.
class StopThread {
 public:
  StopThread() = default;
  template <class F>
  explicit StopThread(F&& fn) : source_(), thread_(std::forward<F>(fn), source_.token()) {}
  StopThread(const StopThread&) = delete;
  StopThread& operator=(const StopThread&) = delete;
  ~StopThread() { stop_and_join(); }

  void request_stop() noexcept { source_.request_stop(); }
  void stop_and_join() {
    source_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  bool joinable() const noexcept { return thread_.joinable(); }

 private:
  StopSource source_;  // declared first: the thread's token refers to it
  std::thread thread_;
};

}  // namespace hangar::core
