// The registration engine (see engine.h): schedules the passes and wakes them.
#include "hangar/service/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <vector>

#include "hangar/ipc/protocol.h"

namespace hangar::service {

namespace {

using std::chrono::milliseconds;

template <class Api>
CloudSource<Api> narrowed(CloudSource<cloud::CloudApi> source) {
  return [source = std::move(source)]() -> core::Result<std::shared_ptr<Api>> {
    auto api = source();
    if (!api) return api.error();
    return std::shared_ptr<Api>(std::move(*api));
  };
}

}  // namespace

BudgetConfig EngineConfig::budget() const {
  BudgetConfig budget;
  budget.write_budget = write_budget;
  budget.request_budget = request_budget;
  budget.window = budget_window;
  budget.backoff_base = backoff_base;
  budget.backoff_cap = backoff_cap;
  budget.offline_probe = offline_probe;
  budget.throttle_default = throttle_default;
  budget.seed = seed;
  return budget;
}

EngineClouds EngineClouds::from(CloudSource<cloud::CloudApi> source) {
  return {narrowed<cloud::RegistrationCloud>(source), narrowed<cloud::ActivityCloud>(source),
          narrowed<cloud::GroupCloud>(source), narrowed<cloud::DeliveryCloud>(source)};
}

Engine::Engine(store::Store& store, EngineClouds clouds, const core::Clock& clock,
               EngineConfig config)
    : store_(store),
      clock_(clock),
      config_(std::move(config)),
      budget_(clock_, config_.budget(), health_),
      registration_({store_, budget_, health_, clock_, config_}, std::move(clouds.registration)),
      activity_({store_, budget_, health_, clock_, config_}, std::move(clouds.activity)),
      groups_({store_, budget_, health_, clock_, config_}, std::move(clouds.groups)),
      delivery_({store_, budget_, health_, clock_, config_}, std::move(clouds.delivery)) {}

Engine::Engine(store::Store& store, cloud::CloudApi& api, const core::Clock& clock,
               EngineConfig config)
    : Engine(store, EngineClouds::from(fixed_source(api)), clock, std::move(config)) {}

void Engine::run_jobs() {
  std::vector<Job> due;
  {
    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_.now_ms();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->not_before <= now) {
        due.push_back(std::move(*it));
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Job& job : due) {
    if (auto again = job.run()) {
      job.not_before = *again;
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
  }
}

template <class T>
core::Result<T> Engine::run_operator_job(const std::string& what,
                                         std::function<core::Result<T>()> work,
                                         std::chrono::milliseconds timeout) {
  using Answer = core::Result<T>;
  auto promise = std::make_shared<std::promise<Answer>>();
  auto result = promise->get_future();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto job = [this, promise, work = std::move(work), deadline,
              what]() -> std::optional<std::int64_t> {
    try {
      auto answer = work();
      if (!answer && answer.error().code == CloudBudget::kNotNow) {
        // Held by the budget (a throttle window, say): wait for it if the caller can, else say
        // when to try again. Nothing was sent meanwhile.
        const milliseconds wait = answer.error().retry_after.value_or(milliseconds(1000));
        if (std::chrono::steady_clock::now() + wait < deadline)
          return clock_.now_ms() + wait.count();
        promise->set_value(core::make_error(ipc::errc::kBusy, answer.error().message));
        return std::nullopt;
      }
      promise->set_value(std::move(answer));
    } catch (const std::exception& e) {
      promise->set_value(
          core::make_error(ipc::errc::kInternal, what + " failed: " + std::string(e.what())));
    }
    return std::nullopt;
  };
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({std::move(job), 0});
  }
  notify();
  if (result.wait_for(timeout) != std::future_status::ready) {
    return core::make_error(ipc::errc::kTimeout, "the " + what +
                                                     " did not finish in time; it may still "
                                                     "complete: check `hangar show` or "
                                                     "`hangar status`");
  }
  return result.get();
}

core::Result<store::DeviceRow> Engine::deliver(const std::string& serial, const std::string& upn,
                                               std::chrono::milliseconds timeout) {
  return run_operator_job<store::DeviceRow>(
      "delivery of " + serial, [this, serial, upn] { return delivery_.deliver(serial, upn); },
      timeout);
}

core::Result<RegistrationPass::Withdrawn> Engine::withdraw(const std::string& serial,
                                                           std::chrono::milliseconds timeout) {
  return run_operator_job<RegistrationPass::Withdrawn>(
      "removal of " + serial,
      [this, serial] { return registration_.withdraw(serial, clock_.now_ms()); }, timeout);
}

core::Result<DeliveryPass::Deregistered> Engine::deregister(const std::string& serial,
                                                            std::chrono::milliseconds timeout) {
  return run_operator_job<DeliveryPass::Deregistered>(
      "deregistration of " + serial, [this, serial] { return delivery_.deregister(serial); },
      timeout);
}

void Engine::delete_import_record(std::string record_id) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({[this, id = std::move(record_id)]() -> std::optional<std::int64_t> {
                       registration_.forget_import_record(id);
                       return std::nullopt;
                     },
                     0});
  }
  notify();
}

void Engine::credentials_changed() {
  {
    std::lock_guard lock(mutex_);
    backoff_reset_requested_ = true;
  }
  notify();
}

void Engine::refresh() {
  activity_.refresh();
  notify();
}

bool Engine::sweep_groups() {
  if (!groups_.request()) return false;
  notify();
  return true;
}

std::chrono::milliseconds Engine::step() {
  run_jobs();
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mutex_);
    if (backoff_reset_requested_) {
      backoff_reset_requested_ = false;
      budget_.reset();
      registration_.credentials_changed(now);
    }
    if (paused_) return std::chrono::hours(1);
  }
  budget_.begin_pass();
  health_.begin_pass();
  registration_.run(now);
  activity_.run(now);
  groups_.run(now);  // after the activity pass: it reads the Entra ID device ids

  // Sleep until the earliest moment something can happen.
  auto counts = store_.count_by_state();
  const bool have_queued = counts && (*counts)[core::DeviceState::kQueued] > 0;
  const bool have_pending = counts && (*counts)[core::DeviceState::kRegistrationPending] > 0;
  std::int64_t wake = registration_.next_wake(now, have_queued, have_pending);
  wake = std::min({wake, activity_.next_wake(now), groups_.next_wake(now)});
  {
    std::lock_guard lock(mutex_);
    for (const Job& job : jobs_) wake = std::min(wake, std::max(job.not_before, now + 1));
  }
  return milliseconds(std::max<std::int64_t>(wake - now, 0));
}

void Engine::run(const core::StopToken& stop) {
  while (!stop.stop_requested()) {
    milliseconds delay{0};
    const auto started = std::chrono::steady_clock::now();
    try {
      delay = step();
      // step() counts from the start of the pass; a long pass (paging, deletes) must not push
      // the next one back by its own duration.
      delay -= std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    } catch (const std::exception& e) {
      spdlog::error("registration engine: {}", e.what());
      delay = config_.backoff_base;
    }
    // A pass that could do more at once still yields briefly, so a bug can never spin a core.
    wakeup_.wait_for(stop, std::max(delay, milliseconds(20)));
  }
}

void Engine::notify() { wakeup_.notify(); }

void Engine::pause() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void Engine::resume() {
  {
    std::lock_guard lock(mutex_);
    paused_ = false;
  }
  wakeup_.notify();
}

EngineStatus Engine::status() const {
  EngineStatus status;
  {
    std::lock_guard lock(mutex_);
    status.paused = paused_;
  }
  const std::int64_t now = clock_.now_ms();
  status.online = budget_.online();
  status.throttled = budget_.throttled();
  status.requests = budget_.requests();
  if (const std::int64_t blocked = budget_.blocked_until(Lane::kIntune); blocked > now) {
    status.blocked_until_ms = blocked;
  }
  status.activity = activity_.last();
  status.next_activity_at = activity_.next_activity_at();
  groups_.report(status);
  const LastCloudError last = health_.last_error();
  status.last_error = last.text;
  status.last_error_at = last.at;
  status.last_error_resolved_at = last.resolved_at;
  if (const auto waiting = budget_.oldest_in_flight()) {
    status.waiting_since = waiting->since_ms;
    status.waiting_on =
        std::string(waiting->kind == CallKind::kWrite ? "a write to " : "a read from ") +
        (waiting->lane == Lane::kIntune ? "Intune" : "Entra ID");
    status.requests_waiting = waiting->calls;
  }
  status.refused_requests = health_.refused_requests();
  return status;
}

}  // namespace hangar::service
