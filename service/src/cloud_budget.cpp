// The cloud budget (see cloud_budget.h).
#include "hangar/service/cloud_budget.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "hangar/cloud/http.h"
#include "hangar/cloud/registration.h"

namespace hangar::service {

namespace {

using std::chrono::milliseconds;

}  // namespace

std::int64_t RateBudget::wait_ms(std::int64_t now_ms) {
  while (!events_.empty() && events_.front() <= now_ms - window_ms_) events_.pop_front();
  if (static_cast<int>(events_.size()) < limit_) return 0;
  return events_.front() + window_ms_ - now_ms;
}

void RateBudget::record(std::int64_t now_ms) { events_.push_back(now_ms); }

milliseconds full_jitter(int attempt, milliseconds base, milliseconds cap, std::mt19937_64& rng) {
  const int shift = std::clamp(attempt, 0, 30);
  const std::int64_t ceiling =
      std::min<std::int64_t>(cap.count(), base.count() * (std::int64_t{1} << shift));
  std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(ceiling, 0));
  return milliseconds(pick(rng));
}

CloudBudget::CloudBudget(const core::Clock& clock, BudgetConfig config, CloudHealth& health)
    : clock_(clock),
      config_(config),
      health_(health),
      rng_(config_.seed ? config_.seed : std::random_device{}()),
      writes_(config_.write_budget, config_.window),
      requests_(config_.request_budget, config_.window) {}

std::int64_t CloudBudget::wait_locked(Lane lane, CallKind kind, std::int64_t now) {
  const std::int64_t budget = std::max(
      requests_.wait_ms(now), kind == CallKind::kWrite ? writes_.wait_ms(now) : std::int64_t{0});
  return std::max(budget, state(lane).blocked_for(kind) - now);
}

std::optional<core::Error> CloudBudget::admit(Lane lane, CallKind kind) {
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  const std::int64_t wait = wait_locked(lane, kind, now);
  if (wait > 0) {
    retry_at_ = retry_at_ == 0 ? now + wait : std::min(retry_at_, now + wait);
    core::Error error = core::make_error(kNotNow, holding_locked(lane, wait, now));
    error.retry_after = milliseconds(wait);
    return error;
  }
  requests_.record(now);
  if (kind == CallKind::kWrite) writes_.record(now);
  ++requests_made_;
  return std::nullopt;
}

void CloudBudget::not_sent(const core::Error& error) {
  if (cloud::failure_of(error) != cloud::Failure::kNotSent) return;
  std::lock_guard lock(mutex_);
  if (requests_made_ > 0) --requests_made_;
}

void CloudBudget::answered(Lane lane) {
  // Any answer ends a streak: a 5xx while polling must not grow the next upload's backoff, and a
  // long upload-free phase (confirming, deleting) must not escalate to the cap.
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mutex_);
    state(lane).failure_streak = 0;
    state(lane).throttle_streak = 0;
    online_ = true;
  }
  health_.succeeded(now);
}

bool CloudBudget::callers_failure(CallKind kind, const core::Error& error) {
  return error.code == cloud::kErrRejected ||
         (kind == CallKind::kRead && CloudHealth::is_refusal_status(error.http_status));
}

void CloudBudget::wait_out(Lane lane, CallKind kind, const core::Error& error) {
  if (error.code == kNotNow || !callers_failure(kind, error)) return;
  back_off(lane, kind, error);
}

void CloudBudget::failed(Lane lane, CallKind kind, const core::Error& error) {
  if (callers_failure(kind, error)) {
    // About the request itself: the moment is fine, the caller decides what follows.
    std::lock_guard lock(mutex_);
    online_ = true;
    return;
  }
  back_off(lane, kind, error);
}

void CloudBudget::back_off(Lane lane, CallKind kind, const core::Error& error) {
  // Measured from now, when the answer has arrived: a Retry-After counted from when the request
  // (or the pass) started would end early by the time the call took.
  const std::int64_t now = clock_.now_ms();
  health_.failed(error, now);
  // Refused credentials need the admin: said at once, not only as the last error (black-box
  // round 10: a rotated secret left status, config show and the tray saying all was well).
  if (error.code == cloud::kErrAuth) health_.credentials_refused(error, now);
  std::lock_guard lock(mutex_);
  if (cloud::unreachable(error)) {
    if (online_) spdlog::warn("cloud unreachable, working offline: {}", error.message);
    online_ = false;
    // The network is gone for every lane: one probe per interval in all.
    for (LaneState& each : lanes_) {
      each.blocked_until = std::max(each.blocked_until, now + config_.offline_probe.count());
    }
    return;
  }
  online_ = true;
  LaneState& lane_state = state(lane);
  std::int64_t until = now;
  if (error.code == cloud::kErrThrottled) {
    // Retry-After is honoured exactly; without it, a doubling wait.
    const milliseconds wait =
        error.retry_after
            ? *error.retry_after
            : std::min(config_.backoff_cap,
                       config_.throttle_default * (1 << std::min(lane_state.throttle_streak, 10)));
    ++lane_state.throttle_streak;
    ++throttled_;
    until = now + wait.count();
    lane_state.throttled_until = std::max(lane_state.throttled_until, until);
    if (kind == CallKind::kWrite) {
      // The write limit is spent, not the request limit: reads go on (a 429 to a read then
      // holds them too).
      lane_state.writes_blocked_until = std::max(lane_state.writes_blocked_until, until);
      return;
    }
  } else if (error.code == cloud::kErrAuth || error.code == cloud::kErrNotConfigured) {
    until = now + config_.backoff_cap.count();
  } else {
    until = now +
            full_jitter(lane_state.failure_streak, config_.backoff_base, config_.backoff_cap, rng_)
                .count();
    ++lane_state.failure_streak;
  }
  lane_state.blocked_until = std::max(lane_state.blocked_until, until);
}

std::int64_t CloudBudget::wait_ms(Lane lane, CallKind kind) const {
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  // wait_locked() drops expired events; the copies keep this const.
  RateBudget writes = writes_;
  RateBudget requests = requests_;
  const std::int64_t budget = std::max(
      requests.wait_ms(now), kind == CallKind::kWrite ? writes.wait_ms(now) : std::int64_t{0});
  return std::max<std::int64_t>({budget, state(lane).blocked_for(kind) - now, 0});
}

std::int64_t CloudBudget::writes_blocked_until(Lane lane) const {
  std::lock_guard lock(mutex_);
  return state(lane).blocked_for(CallKind::kWrite);
}

std::int64_t CloudBudget::blocked_until(Lane lane) const {
  std::lock_guard lock(mutex_);
  return state(lane).blocked_until;
}

std::int64_t CloudBudget::throttled_until(Lane lane) const {
  std::lock_guard lock(mutex_);
  return state(lane).throttled_until;
}

std::int64_t CloudBudget::retry_at() const {
  std::lock_guard lock(mutex_);
  return retry_at_;
}

void CloudBudget::begin_pass() {
  std::lock_guard lock(mutex_);
  retry_at_ = 0;
}

void CloudBudget::reset() {
  {
    std::lock_guard lock(mutex_);
    for (LaneState& lane : lanes_) lane = {};
  }
  health_.clear_last_error();
}

std::uint64_t CloudBudget::sent(Lane lane, CallKind kind) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_ticket_++;
  in_flight_.emplace(id, InFlight{clock_.now_ms(), lane, kind, 0});
  return id;
}

void CloudBudget::settled(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(id);
}

std::optional<CloudBudget::InFlight> CloudBudget::oldest_in_flight() const {
  std::lock_guard lock(mutex_);
  if (in_flight_.empty()) return std::nullopt;
  InFlight oldest = in_flight_.begin()->second;
  oldest.calls = in_flight_.size();
  return oldest;
}

bool CloudBudget::online() const {
  std::lock_guard lock(mutex_);
  return online_;
}

std::int64_t CloudBudget::requests() const {
  std::lock_guard lock(mutex_);
  return requests_made_;
}

std::int64_t CloudBudget::throttled() const {
  std::lock_guard lock(mutex_);
  return throttled_;
}

std::string CloudBudget::holding_message(Lane lane, std::int64_t wait_ms) const {
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  return holding_locked(lane, wait_ms, now);
}

std::string CloudBudget::holding_locked(Lane lane, std::int64_t wait_ms, std::int64_t now) const {
  // Only a real throttle (a 429's window) is called throttling: a backoff after 5xx answers or
  // an unreachable cloud is said as what it is.
  const std::int64_t seconds = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
  const std::string again = "; try again in " + std::to_string(seconds) + " s";
  const LaneState& lane_state = state(lane);
  if (lane_state.throttled_until > now) return throttling_message(wait_ms);
  if (!online_) return "the cloud cannot be reached; Hangar tries again every few seconds" + again;
  if (lane_state.blocked_until > now) {
    return std::string("Hangar is waiting after failed requests to ") +
           (lane == Lane::kIntune ? "Intune" : "Entra ID") +
           " before it sends more (see `hangar status` for the last error)" + again;
  }
  return "Hangar's request budget for the cloud is spent for now" + again;
}

std::string CloudBudget::throttling_message(std::int64_t wait_ms) {
  const std::int64_t seconds = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
  return "the cloud is throttling Hangar; try again in " + std::to_string(seconds) + " s";
}

}  // namespace hangar::service
