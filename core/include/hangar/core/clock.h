// An injectable clock: the service and the engine read time only through this, so tests can use a
// fake one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace hangar::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in Unix milliseconds (what the store records).
  virtual std::int64_t now_ms() const = 0;
  // Monotonic time for durations and deadlines.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  std::int64_t now_ms() const override { return now_ms_.load(); }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  void advance(std::chrono::milliseconds by) { now_ms_ += by.count(); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace hangar::core
