// The registration engine (see engine.h): schedules the passes and wakes them.
#include "hangar/service/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <vector>

#include "hangar/cloud/call_deadline.h"
#include "hangar/cloud/cloud_error.h"
#include "hangar/core/device.h"
#include "hangar/ipc/protocol.h"
#include "text_util.h"

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

// A cloud failure an operator command cannot help (a 5xx, a StorageError, an answer that cannot be
// read), in the seed's words with the Request ID support needs; Intune's own text, often a long
// JSON document, goes to the service log only.
core::Error unexpected_error(const core::Error& error, const std::string& what) {
  spdlog::warn("the {} failed: {}", what, error.message);
  core::Error said = error;
  said.message = "the " + what + " failed: " + core::unexpected_error_message(error.request_id) +
                 ". Your request could not be processed automatically: try again later; if it "
                 "keeps failing, contact Support and provide the Request ID (the cloud's own "
                 "answer is in the service log)";
  return said;
}

}  // namespace

bool EngineConfig::claims_tag(const std::string& group_tag) const {
  if (group_tag.empty()) return track_untagged;
  return tag_profiles.contains(lower(group_tag)) || lower(group_tag) == lower(default_group_tag);
}

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
      delivery_({store_, budget_, health_, clock_, config_}, std::move(clouds.delivery)) {
  // An admin's pause outlives a restart (a crash, a reboot, an upgrade: black-box round 6).
  auto paused = store_.get_meta(std::string(kPausedKey));
  if (!paused) {
    spdlog::warn("cannot read whether uploads were paused: {}; they run", paused.error().message);
  } else if (*paused) {
    paused_ = true;
    spdlog::info("uploads are paused (since {}); `hangar resume` continues", **paused);
  }
}

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
core::Result<T> Engine::run_operator_job(const OperatorJob<T>& op,
                                         std::chrono::milliseconds timeout) {
  using Steady = std::chrono::steady_clock;
  // What the caller's thread and the engine's share, under mutex_.
  struct Call {
    std::optional<core::Result<T>> answer;
    bool started = false;    // the work is under way on the engine's thread
    bool abandoned = false;  // the caller was answered without it: never start it (again)
  };
  auto call = std::make_shared<Call>();
  const auto deadline = Steady::now() + timeout;
  auto job = [this, call, work = op.work, record_doubt = op.record_doubt, deadline, what = op.what,
              serial = op.serial]() -> std::optional<std::int64_t> {
    {
      std::lock_guard lock(mutex_);
      if (call->abandoned) return std::nullopt;
      call->started = true;
      working_on_ = {lower(serial), what};
    }
    std::optional<core::Result<T>> answer;
    std::optional<std::int64_t> again;
    try {
      // Every cloud call of the work ends by the caller's deadline (call_deadline.h): a write
      // that is not answered by then is in doubt, and the caller hears so in time.
      const cloud::CallDeadline bound(deadline);
      auto result = work();
      if (!result && result.error().code == CloudBudget::kNotNow) {
        // Held by the budget (a throttle window, say): wait for it if the caller can, else say
        // when to try again. Nothing was sent meanwhile.
        const milliseconds wait = result.error().retry_after.value_or(milliseconds(1000));
        if (Steady::now() + wait + kOperatorStartMargin < deadline) {
          again = clock_.now_ms() + wait.count();
        } else {
          answer = core::make_error(ipc::errc::kBusy, result.error().message);
        }
      } else if (!result && cloud::failure_of(result.error()) == cloud::Failure::kTransient &&
                 !result.error().message.starts_with("could not read ")) {
        // (A failed read the pass has told already, with what it changed, is passed on.)
        answer = unexpected_error(result.error(), what);
      } else {
        answer = std::move(result);
      }
    } catch (const std::exception& e) {
      answer = core::make_error(ipc::errc::kInternal, what + " failed: " + std::string(e.what()));
    }
    {
      std::lock_guard lock(mutex_);
      working_on_.reset();
      if (!call->abandoned) {
        if (again) {
          call->started = false;
          return again;
        }
        call->answer = std::move(answer);
        operator_cv_.notify_all();
        return std::nullopt;
      }
    }
    // Its caller was told "in doubt" meanwhile: whatever became of the work, the re-run reads the
    // tenant first (recorded again now, after the work that may have cleared the waiter's record).
    if (record_doubt && !again) record_doubt();
    if (answer && !answer->ok()) {
      spdlog::info("the {} ended after its caller was answered: {}", what, answer->error().message);
    } else if (answer) {
      spdlog::info("the {} completed after its caller was answered", what);
    }
    return std::nullopt;
  };
  {
    std::lock_guard lock(mutex_);
    if (operators_stopping_) {
      return core::make_error(ipc::errc::kBusy, "the service is stopping: the " + op.what +
                                                    " was not started and nothing was sent; run "
                                                    "it again once the service is back");
    }
    jobs_.push_back({std::move(job), 0});
  }
  notify();
  std::unique_lock lock(mutex_);
  operator_cv_.wait_until(lock, deadline - kOperatorStartMargin,
                          [&] { return call->answer.has_value() || operators_stopping_; });
  if (!call->answer && !call->started) {
    // Not begun: the engine was busy (a long pass), or the service is stopping. It never will.
    call->abandoned = true;
    if (operators_stopping_) {
      return core::make_error(ipc::errc::kBusy, "the service is stopping: the " + op.what +
                                                    " was not started and nothing was sent; run "
                                                    "it again once the service is back");
    }
    return core::make_error(
        ipc::errc::kBusy, "the service was busy with other cloud requests and did not start the " +
                              op.what +
                              " within the wait: nothing was sent; try again (a longer "
                              "--timeout waits longer)");
  }
  // Under way: its cloud calls end by the deadline; give the rest of the work a moment, or, when
  // the service stops, until the stop's grace is over (its cloud call was cancelled).
  while (!call->answer) {
    auto limit = deadline + kOperatorGrace;
    if (operators_stopping_) limit = std::min(limit, operators_stop_until_);
    if (Steady::now() >= limit) break;
    operator_cv_.wait_until(lock, limit);
  }
  if (call->answer) return std::move(*call->answer);
  call->abandoned = true;
  const bool stopping = operators_stopping_;
  lock.unlock();
  if (op.read_only) {
    return core::make_error(ipc::errc::kTimeout,
                            "the " + op.what + " did not finish " +
                                (stopping ? "before the service stopped" : "within the wait") +
                                ": nothing was changed; try again (a longer --timeout waits "
                                "longer)");
  }
  // Told like a lost answer: recorded, so that the re-run reads the device in the tenant first.
  if (op.record_doubt) op.record_doubt();
  spdlog::warn("the {} did not finish {}; its caller is told it may have been done", op.what,
               stopping ? "before the service stopped" : "within the caller's wait");
  return core::make_error(ipc::errc::kInDoubt,
                          "the " + op.what + " did not finish " +
                              (stopping ? "before the service stopped" : "within the wait") +
                              "; it may have been done: `hangar show " + op.serial +
                              "` tells the outcome, and running `" + op.rerun +
                              "` again reads the device in the tenant first and completes");
}

std::optional<std::string> Engine::operator_work_on(const std::string& serial) const {
  std::lock_guard lock(mutex_);
  if (working_on_ && working_on_->first == lower(serial)) return working_on_->second;
  return std::nullopt;
}

void Engine::stop_operator_jobs(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    operators_stopping_ = true;
    operators_stop_until_ = std::chrono::steady_clock::now() + grace;
  }
  operator_cv_.notify_all();
}

core::Result<DeliveryPass::Delivered> Engine::deliver(const std::string& serial,
                                                      const std::string& upn,
                                                      std::chrono::milliseconds timeout) {
  return run_operator_job<DeliveryPass::Delivered>(
      {"delivery of " + serial, serial, "hangar deliver " + serial + " --user " + upn,
       [this, serial, upn] { return delivery_.deliver(serial, upn); },
       [this, serial, upn] { delivery_.record_doubt("deliver", serial, upn); }},
      timeout);
}

core::Result<RegistrationPass::Withdrawn> Engine::withdraw(const std::string& serial,
                                                           std::chrono::milliseconds timeout,
                                                           const std::string& by) {
  // A re-run reads the import record and the tenant again by itself: nothing to record.
  return run_operator_job<RegistrationPass::Withdrawn>(
      {"removal of " + serial,
       serial,
       "hangar remove " + serial + " --force",
       [this, serial, by] { return registration_.withdraw(serial, clock_.now_ms(), by); },
       {}},
      timeout);
}

core::Result<DeliveryPass::Deregistered> Engine::deregister(const std::string& serial,
                                                            std::chrono::milliseconds timeout,
                                                            const std::string& by,
                                                            DeregisterRequest ask) {
  std::function<void()> record_doubt;
  if (!ask.check_only) {
    record_doubt = [this, serial] { delivery_.record_doubt("deregister", serial, "unknown"); };
  }
  return run_operator_job<DeliveryPass::Deregistered>(
      {(ask.check_only ? "look-up for the deregistration of " : "deregistration of ") + serial,
       serial, "hangar deregister " + serial + " --yes",
       [this, serial, by, ask]() -> core::Result<DeliveryPass::Deregistered> {
         // An import Intune finished since the last poll is settled first (its record read
         // once), so a device registered meanwhile is deregistered, not sent to `remove
         // --force`, which would send it back here.
         if (auto settled = registration_.settle_import(serial, clock_.now_ms()); !settled) {
           return settled.error();
         }
         return delivery_.deregister(serial, by, ask);
       },
       std::move(record_doubt), ask.check_only},
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
  bool paused = false;
  {
    std::lock_guard lock(mutex_);
    if (backoff_reset_requested_) {
      backoff_reset_requested_ = false;
      budget_.reset();
      registration_.credentials_changed(now);
    }
    paused = paused_;
    if (!config_.run_passes) return std::chrono::hours(1);
  }
  // A pause holds uploads only: devices already sent are still followed to Ready for user, and
  // the activity pass and group sweep run (black-box round 7: refresh and sync timed out, blaming
  // the cloud, and pending devices stayed pending while paused).
  budget_.begin_pass();
  health_.begin_pass();
  registration_.run(now, paused);
  activity_.run(now);
  groups_.run(now);  // after the activity pass: it reads the Entra ID device ids

  // Sleep until the earliest moment something can happen.
  auto counts = store_.count_by_state();
  const bool have_queued = !paused && counts && (*counts)[core::DeviceState::kQueued] > 0;
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
  {
    std::lock_guard lock(mutex_);
    paused_ = true;
  }
  if (auto kept = store_.set_meta(std::string(kPausedKey), std::to_string(clock_.now_ms()));
      !kept) {
    spdlog::warn("uploads paused, but not recorded ({}): a restart would resume them",
                 kept.error().message);
  }
}

void Engine::resume() {
  {
    std::lock_guard lock(mutex_);
    paused_ = false;
  }
  if (auto kept = store_.erase_meta(std::string(kPausedKey)); !kept) {
    spdlog::warn("uploads resumed, but not recorded ({}): a restart would pause them again",
                 kept.error().message);
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
  if (const std::int64_t blocked = budget_.writes_blocked_until(Lane::kIntune); blocked > now) {
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
