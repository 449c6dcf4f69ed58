// Bounded waits for stress tests: a condition that must come true within a limit, else the
// process ends at once, naming what was lost (a thread that missed its wake-up can be neither
// joined nor abandoned safely, so failing fast is the only clean way out).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "hangar/core/stop.h"
#include "watchdog.h"

namespace hangar::test {

// Spins for `duration`: a short random delay that means what it says (a sleep is rounded up to a
// millisecond or more on Windows and under Wine, which would make every round slow and alike).
inline void spin_for(std::chrono::microseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
}

template <class Done>
void within_or_abort(Done done, std::chrono::milliseconds limit, const std::string& what) {
  WaitingFor waiting(what);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now - start < std::chrono::milliseconds(2)) {  // most waits end within microseconds
      std::this_thread::yield();
      continue;
    }
    if (now > deadline) {
      std::fprintf(stderr, "%s: not seen within %lld ms (a lost wake-up)\n", what.c_str(),
                   static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

// One worker thread for many rounds of a stop stress: each round runs `body(token)` with a fresh
// StopSource, so a test can stop it thousands of times without paying for a new thread each time
// (creating one costs milliseconds under Wine). The races under test are between the stop and
// the body's waits, which a thread per round adds nothing to.
class StopRounds {
 public:
  explicit StopRounds(std::function<void(const core::StopToken&)> body)
      : body_(std::move(body)), thread_([this] { work(); }) {}
  ~StopRounds() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  StopRounds(const StopRounds&) = delete;
  StopRounds& operator=(const StopRounds&) = delete;

  // Begins a round: the worker calls body() with a new token.
  void start() {
    {
      std::lock_guard lock(mutex_);
      source_.emplace();
      running_ = true;
    }
    changed_.notify_all();
  }
  // Asks the round to stop and waits for body() to return; `what` names it if it never does.
  void stop(std::chrono::milliseconds limit, const std::string& what) {
    {
      std::lock_guard lock(mutex_);
      source_->request_stop();
    }
    within_or_abort(
        [this] {
          std::lock_guard lock(mutex_);
          return !running_;
        },
        limit, what);
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return quit_ || running_; });
      if (quit_) return;
      const core::StopToken token = source_->token();
      lock.unlock();
      body_(token);
      lock.lock();
      running_ = false;
    }
  }

  std::function<void(const core::StopToken&)> body_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<core::StopSource> source_;
  bool running_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace hangar::test
