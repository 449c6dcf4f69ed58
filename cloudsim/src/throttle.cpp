// Sliding-window budgets (see throttle.h).
#include "throttle.h"

#include <algorithm>
#include <cmath>

namespace hangar::cloudsim {

std::int64_t SlidingWindow::wait_ms(std::int64_t now_ms) {
  const auto window_ms = static_cast<std::int64_t>(std::llround(budget_.window_seconds * 1000.0));
  while (!admitted_.empty() && admitted_.front() <= now_ms - window_ms) admitted_.pop_front();
  if (static_cast<std::int64_t>(admitted_.size()) < budget_.limit) return 0;
  // Full: room appears when the oldest admitted request leaves the window.
  return admitted_.front() + window_ms - now_ms;
}

void Throttler::configure(const ThrottleConfig& config) {
  auto same = [](const Budget& a, const Budget& b) {
    return a.limit == b.limit && a.window_seconds == b.window_seconds;
  };
  if (!same(config.writes, config_.writes)) writes_.clear();
  if (!same(config.requests, config_.requests)) requests_.clear();
  config_ = config;
}

void Throttler::reset() {
  writes_.clear();
  requests_.clear();
}

SlidingWindow& Throttler::window(std::map<std::string, SlidingWindow>& windows,
                                 const Budget& budget, const std::string& app) {
  return windows.try_emplace(app, budget).first->second;
}

std::optional<std::int64_t> Throttler::admit(const std::string& app, bool write,
                                             std::int64_t now_ms) {
  if (!config_.enabled) return std::nullopt;
  auto& requests = window(requests_, config_.requests, app);
  SlidingWindow* writes = write ? &window(writes_, config_.writes, app) : nullptr;
  std::int64_t wait = requests.wait_ms(now_ms);
  if (writes) wait = std::max(wait, writes->wait_ms(now_ms));
  if (wait > 0) return wait;
  requests.take(now_ms);
  if (writes) writes->take(now_ms);
  return std::nullopt;
}

}  // namespace hangar::cloudsim
