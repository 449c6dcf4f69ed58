// What a test is waiting for, and how long it may take: read by the watchdog in test_main.cpp,
// which ends a test that overruns its limit and prints the test's name, what it was waiting for
// and (on Linux) every thread's stack, instead of leaving ctest to kill it in silence.
// Header-only, so helpers shared with the benchmarks (which have no watchdog) can announce waits.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace hangar::test {

namespace watchdog_detail {

struct Registry {
  std::mutex mutex;
  std::vector<std::pair<std::uint64_t, std::string>> waits;  // id, what; oldest first
  std::uint64_t next_id = 1;
  std::chrono::seconds limit{0};  // the current test's own limit, 0 for the default
};

inline Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace watchdog_detail

// Tests are slower under ASan and Wine: every limit is multiplied by HANGAR_TEST_TIME_SCALE
// (set by CMake per build: 1 native, more for the sanitizer and Wine builds).
inline double time_scale() {
  static const double scale = [] {
    const char* text = std::getenv("HANGAR_TEST_TIME_SCALE");
    const double value = text ? std::atof(text) : 1.0;
    return value > 0 ? value : 1.0;
  }();
  return scale;
}

// Announces a wait for as long as the object lives: "the simulator to listen", "hangard to exit".
class WaitingFor {
 public:
  explicit WaitingFor(std::string what) {
    auto& r = watchdog_detail::registry();
    std::lock_guard lock(r.mutex);
    id_ = r.next_id++;
    r.waits.emplace_back(id_, std::move(what));
  }
  ~WaitingFor() {
    auto& r = watchdog_detail::registry();
    std::lock_guard lock(r.mutex);
    std::erase_if(r.waits, [this](const auto& wait) { return wait.first == id_; });
  }
  WaitingFor(const WaitingFor&) = delete;
  WaitingFor& operator=(const WaitingFor&) = delete;

 private:
  std::uint64_t id_ = 0;
};

// A test that is slow by design (a gigabyte of input, twenty kill -9 rounds) raises its own limit,
// before scaling; the watchdog's default for the others is a few seconds' worth of work.
inline void set_time_limit(std::chrono::seconds limit) {
  auto& r = watchdog_detail::registry();
  std::lock_guard lock(r.mutex);
  r.limit = limit;
}

}  // namespace hangar::test
