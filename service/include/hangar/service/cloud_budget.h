// The one object every cloud request passes through, from every pass and every operator command
// (`hangar deliver`): the write and request budgets, the throttle windows (a 429's Retry-After,
// counted from the moment the answer arrived), backoff with full jitter after other failures, and
// whether the cloud can be reached at all. A request is only sent when the budget admits it, and
// the budget learns from every answer, so no caller can drop a 429 and let the next write go out
// inside its window.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <type_traits>

#include "hangar/core/clock.h"
#include "hangar/core/result.h"
#include "hangar/service/cloud_health.h"

namespace hangar::service {

// Sliding-window counter: at most `limit` events in any `window`.
class RateBudget {
 public:
  RateBudget(int limit, std::chrono::milliseconds window)
      : limit_(limit), window_ms_(window.count()) {}
  // How long until one more event fits (0: now).
  std::int64_t wait_ms(std::int64_t now_ms);
  void record(std::int64_t now_ms);

 private:
  int limit_;
  std::int64_t window_ms_;
  std::deque<std::int64_t> events_;
};

// Full jitter: uniform in [0, min(cap, base * 2^attempt)].
std::chrono::milliseconds full_jitter(int attempt, std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap, std::mt19937_64& rng);

// Who throttles a request: Intune (imports, Autopilot devices, managed devices) and Entra ID (the
// directory: groups, device objects, users) throttle apart, so a 429 from one holds back only the
// requests that go to it.
enum class Lane { kIntune, kDirectory };
enum class CallKind { kRead, kWrite };

struct BudgetConfig {
  // Writes (import, delete, updateDeviceProperties, group members, assignUserToDevice) and all
  // requests per window. Graph allows 100 and 1,000 per 20 s (DOMAIN.md); a tenth is kept back
  // because the two clocks never agree on where a window starts.
  int write_budget = 90;
  int request_budget = 900;
  std::chrono::milliseconds window{std::chrono::seconds(20)};
  std::chrono::milliseconds backoff_base{std::chrono::seconds(2)};
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  // While the cloud cannot be reached, one attempt this often: no busy loop, quick resumption.
  std::chrono::milliseconds offline_probe{std::chrono::seconds(5)};
  // A 429 without Retry-After waits this long (doubling while it repeats, up to backoff_cap).
  std::chrono::milliseconds throttle_default{std::chrono::seconds(10)};
  std::uint64_t seed = 0;  // jitter; 0 = random
};

// How a caller reads some failed answers of one call.
struct Answers {
  // Errors that are answers, not failures (a 404 for a record already deleted).
  std::function<bool(const core::Error&)> accept;
  // Failures the caller handles alone: no backoff, nothing logged (a 403 on one group's
  // membership is about that group, not the credentials).
  std::function<bool(const core::Error&)> mine;
};

// Thread-safe: the engine's thread sends, `status` reads.
class CloudBudget {
 public:
  // The code of the error a request gets when the budget, not the cloud, said "not now" (the
  // window's budget is spent, or the lane is throttled, backing off or offline): nothing failed,
  // the caller tries again later. Its retry_after says when.
  static constexpr char kNotNow[] = "budget_spent";

  CloudBudget(const core::Clock& clock, BudgetConfig config, CloudHealth& health);

  // Sends `request` (a callable returning core::Result<T> or core::Status) when the budget admits
  // it, and learns from its answer: a 429 blocks the lane until its Retry-After has passed from
  // the moment the answer arrived (a 429 to a write blocks the lane's writes only: Intune counts
  // writes apart, 100 writes / 1,000 requests per 20 s, so its reads, such as following devices
  // already sent, go on); a network failure makes the cloud offline (one probe per
  // offline_probe); a 5xx, an answer in doubt or refused credentials back off. A 4xx about the
  // request itself (kErrRejected), and a read's refusal of its form (400, 405, 500, 501: the
  // caller's CloudHealth tracks it and may fall back at once), block nothing: the caller decides
  // (wait_out()); so do the failures `answers.mine` names.
  template <class Request>
  auto call(Lane lane, CallKind kind, Request&& request, const Answers& answers = {})
      -> std::invoke_result_t<Request&> {
    if (auto refused = admit(lane, kind)) return *refused;
    const InFlightTicket ticket(*this, lane, kind);
    auto result = request();
    if (!result.ok()) not_sent(result.error());
    if (result.ok() || (answers.accept && answers.accept(result.error()))) {
      answered(lane);
    } else if (!answers.mine || !answers.mine(result.error())) {
      failed(lane, kind, result.error());
    }
    return result;
  }

  // A failed answer the caller wants waited out: what call() left to the caller (a 4xx, a read's
  // refusal) is logged and the lane backs off; what call() handled already, and kNotNow, change
  // nothing.
  void wait_out(Lane lane, CallKind kind, const core::Error& error);
  // True when call() leaves a failed answer to the caller.
  static bool callers_failure(CallKind kind, const core::Error& error);

  // How long until a request of `kind` may go on `lane` (0: now).
  std::int64_t wait_ms(Lane lane, CallKind kind) const;
  // The end of the lane's throttle window, backoff or offline wait (0 or past: none): when any
  // request may go again.
  std::int64_t blocked_until(Lane lane) const;
  // When a write may go again: blocked_until() or a 429 to a write, whichever ends later.
  std::int64_t writes_blocked_until(Lane lane) const;
  // The end of the lane's throttle window only (a 429's Retry-After; 0 or past: none).
  std::int64_t throttled_until(Lane lane) const;
  // The earliest moment a request refused with kNotNow since the last begin_pass() may go.
  std::int64_t retry_at() const;
  void begin_pass();

  // New credentials: the backoff and throttling earned with the old ones are forgotten.
  void reset();

  bool online() const;
  // The oldest request sent and not answered yet (`hangar status` says what it waits for, and
  // since when): none when every request was answered.
  struct InFlight {
    std::int64_t since_ms = 0;
    Lane lane = Lane::kIntune;
    CallKind kind = CallKind::kRead;
    std::size_t calls = 0;  // how many requests are waiting, this one included
  };
  std::optional<InFlight> oldest_in_flight() const;
  std::int64_t requests() const;   // cloud calls made
  std::int64_t throttled() const;  // 429s received
  // The jitter source (a re-import's wait uses it too), for the engine's thread only.
  std::mt19937_64& rng() { return rng_; }
  const BudgetConfig& config() const { return config_; }

  // "the cloud is throttling Hangar; try again in N s" (N rounded up), for operator commands.
  static std::string throttling_message(std::int64_t wait_ms);
  // Why the lane holds requests for `wait_ms`, for operator commands: the throttling message
  // only inside a 429's window; else the backoff, the unreachable cloud or the spent budget.
  std::string holding_message(Lane lane, std::int64_t wait_ms) const;

 private:
  struct LaneState {
    std::int64_t blocked_until = 0;    // throttle, backoff or offline
    std::int64_t throttled_until = 0;  // the Retry-After part of it (and of writes_blocked_until)
    std::int64_t writes_blocked_until = 0;  // a 429 answered to a write: writes wait, reads go
    int failure_streak = 0;
    int throttle_streak = 0;
    // When a request of `kind` may go: a write also waits out a write's 429.
    std::int64_t blocked_for(CallKind kind) const {
      return kind == CallKind::kWrite ? std::max(blocked_until, writes_blocked_until)
                                      : blocked_until;
    }
  };

  // Marks a request as sent for as long as it lives (RAII: an exception ends it too).
  class InFlightTicket {
   public:
    InFlightTicket(CloudBudget& budget, Lane lane, CallKind kind)
        : budget_(budget), id_(budget.sent(lane, kind)) {}
    ~InFlightTicket() { budget_.settled(id_); }
    InFlightTicket(const InFlightTicket&) = delete;
    InFlightTicket& operator=(const InFlightTicket&) = delete;

   private:
    CloudBudget& budget_;
    std::uint64_t id_;
  };
  std::uint64_t sent(Lane lane, CallKind kind);
  void settled(std::uint64_t id);

  // Nothing when the request may go (and it is counted); else the kNotNow error.
  std::optional<core::Error> admit(Lane lane, CallKind kind);
  // A request that never left (its failure's cause is cloud::Failure::kNotSent: no connection, or
  // the transport refused to send it) is not counted among the requests made (black-box round 12).
  void not_sent(const core::Error& error);
  void answered(Lane lane);
  void failed(Lane lane, CallKind kind, const core::Error& error);
  void back_off(Lane lane, CallKind kind, const core::Error& error);
  std::int64_t wait_locked(Lane lane, CallKind kind, std::int64_t now);
  std::string holding_locked(Lane lane, std::int64_t wait_ms, std::int64_t now) const;
  LaneState& state(Lane lane) { return lanes_[lane == Lane::kIntune ? 0 : 1]; }
  const LaneState& state(Lane lane) const { return lanes_[lane == Lane::kIntune ? 0 : 1]; }

  const core::Clock& clock_;
  BudgetConfig config_;
  CloudHealth& health_;
  std::mt19937_64 rng_;

  mutable std::mutex mutex_;
  RateBudget writes_;
  RateBudget requests_;
  LaneState lanes_[2];
  bool online_ = true;
  std::int64_t requests_made_ = 0;
  std::int64_t throttled_ = 0;
  std::int64_t retry_at_ = 0;
  std::map<std::uint64_t, InFlight> in_flight_;  // by ticket, which grows: oldest first
  std::uint64_t next_ticket_ = 0;
};

// Where a pass gets the cloud client it talks to: the current one (`hangar config
// set-credentials` replaces it; a call in flight finishes with the old one), or the reason there
// is none (code cloud::kErrNotConfigured).
template <class Api>
using CloudSource = std::function<core::Result<std::shared_ptr<Api>>()>;

// A source that always hands out `api` (tests, benches, a client that is never replaced).
template <class Api>
CloudSource<Api> fixed_source(Api& api) {
  return [&api]() -> core::Result<std::shared_ptr<Api>> {
    return std::shared_ptr<Api>(std::shared_ptr<Api>{}, &api);
  };
}

// A pass's way to the cloud: its narrow interface, reached through the budget.
template <class Api>
class CloudPort {
 public:
  CloudPort(CloudSource<Api> source, CloudBudget& budget)
      : source_(std::move(source)), budget_(budget) {}

  template <class Request>
  auto call(Lane lane, CallKind kind, Request&& request, const Answers& answers = {}) {
    using R = std::invoke_result_t<Request&, Api&>;
    return budget_.call(
        lane, kind,
        [&]() -> R {
          auto api = source_();
          if (!api) return api.error();
          return request(**api);
        },
        answers);
  }
  template <class Request>
  auto read(Lane lane, Request&& request, const Answers& answers = {}) {
    return call(lane, CallKind::kRead, std::forward<Request>(request), answers);
  }
  template <class Request>
  auto write(Lane lane, Request&& request, const Answers& answers = {}) {
    return call(lane, CallKind::kWrite, std::forward<Request>(request), answers);
  }
  CloudBudget& budget() { return budget_; }

 private:
  CloudSource<Api> source_;
  CloudBudget& budget_;
};

}  // namespace hangar::service
