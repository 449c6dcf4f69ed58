// Per-app request budgets (the Intune limits in DOMAIN.md: 100 writes and 1000 requests per 20 s
// per app per tenant), as sliding windows so no window of that length ever admits more.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "hangar/cloudsim/scenario.h"

namespace hangar::cloudsim {

class SlidingWindow {
 public:
  explicit SlidingWindow(Budget budget) : budget_(budget) {}
  // Milliseconds until one more request fits (0: it fits now).
  std::int64_t wait_ms(std::int64_t now_ms);
  void take(std::int64_t now_ms) { admitted_.push_back(now_ms); }

 private:
  Budget budget_;
  std::deque<std::int64_t> admitted_;  // times of admitted requests inside the window
};

class Throttler {
 public:
  // Budgets restart when their limits change; unchanged ones keep their history.
  void configure(const ThrottleConfig& config);
  void reset();
  // Admits the request (charging every budget it uses) or says how long until it would fit.
  // A refused request charges nothing, so a client that waits as told gets in.
  std::optional<std::int64_t> admit(const std::string& app, bool write, std::int64_t now_ms);

 private:
  SlidingWindow& window(std::map<std::string, SlidingWindow>& windows, const Budget& budget,
                        const std::string& app);

  ThrottleConfig config_;
  std::map<std::string, SlidingWindow> writes_;
  std::map<std::string, SlidingWindow> requests_;
};

}  // namespace hangar::cloudsim
