// The registration engine: one thread that schedules the passes and wakes them. Each pass is a
// class of its own with its own narrow cloud interface (passes/): registration (upload, poll,
// confirm, recover, delete its import records), activity and partner sync, the profile-group
// sweep, and delivery (an operator command run on the same thread). Every cloud request of every
// pass goes through one CloudBudget: the write and request budgets, the throttle windows, backoff
// and online/offline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "hangar/cloud/registration.h"
#include "hangar/core/clock.h"
#include "hangar/core/stop.h"
#include "hangar/service/cloud_budget.h"
#include "hangar/service/cloud_health.h"
#include "hangar/service/engine_config.h"
#include "hangar/service/passes/activity_pass.h"
#include "hangar/service/passes/delivery_pass.h"
#include "hangar/service/passes/group_sweep_pass.h"
#include "hangar/service/passes/registration_pass.h"
#include "hangar/store/store.h"

namespace hangar::service {

// Where each pass finds its cloud interface.
struct EngineClouds {
  CloudSource<cloud::RegistrationCloud> registration;
  CloudSource<cloud::ActivityCloud> activity;
  CloudSource<cloud::GroupCloud> groups;
  CloudSource<cloud::DeliveryCloud> delivery;

  // Every pass from one client (GraphClient, or whichever the credentials select now).
  static EngineClouds from(CloudSource<cloud::CloudApi> source);
};

class Engine {
 public:
  Engine(store::Store& store, EngineClouds clouds, const core::Clock& clock, EngineConfig config);
  // Every pass talks to `api`, which outlives the engine (tests, benches).
  Engine(store::Store& store, cloud::CloudApi& api, const core::Clock& clock, EngineConfig config);

  // One pass of each kind that is due: registration, activity, group sweep; operator jobs first.
  // Returns how long until the next pass is useful.
  std::chrono::milliseconds step();

  // Runs passes until `stop`; notify() and resume() cut a wait short.
  void run(const core::StopToken& stop);
  void notify();
  // Kept in the store (meta "uploads_paused", the time it was paused): a restart keeps it.
  void pause();
  void resume();
  static constexpr std::string_view kPausedKey = "uploads_paused";
  // Runs an activity pass on the next step (`hangar refresh`).
  void refresh();
  // Runs a profile-group sweep on the next step (after the activity pass when both are due).
  // False when no profile groups are configured.
  bool sweep_groups();
  // New credentials were stored: forget the backoff earned with the old ones and try at once.
  void credentials_changed();
  // Where refused request forms are reported besides the log (the Event Log); call before run().
  void set_event_sink(EventSink* sink) { health_.set_event_sink(sink); }
  // What an operator job is doing to `serial` right now on the engine's thread ("deregistration
  // of S1"), if one is: a plain `remove` must not take the device out from under it.
  std::optional<std::string> operator_work_on(const std::string& serial) const;
  // Hands a Ready-for-user device to a user (`hangar deliver`, see DeliveryPass) on the engine's
  // thread; waits at most `timeout` for it, a throttle window included: one that lasts longer is
  // answered "the cloud is throttling Hangar; try again in N s" (code busy) at once, with nothing
  // sent. Error codes: not_found, conflict, invalid_argument, busy, timeout, or the cloud's.
  core::Result<DeliveryPass::Delivered> deliver(const std::string& serial, const std::string& upn,
                                                std::chrono::milliseconds timeout);
  // `hangar deregister` (see DeliveryPass::deregister) on the engine's thread, waiting as deliver
  // does (a look-up only, `ask.check_only`, records nothing when its caller stops waiting).
  core::Result<DeliveryPass::Deregistered> deregister(const std::string& serial,
                                                      std::chrono::milliseconds timeout,
                                                      const std::string& by = {},
                                                      DeregisterRequest ask = {});
  // A device removed while Registration Pending (`hangar remove --force`): its import record is
  // deleted in the cloud by the registration pass, on the engine's thread, as the budget allows.
  void delete_import_record(std::string record_id);
  // `hangar remove SERIAL --force` (see RegistrationPass::withdraw) on the engine's thread, so it
  // never races the upload or the poll of that device; waits as deliver does.
  core::Result<RegistrationPass::Withdrawn> withdraw(const std::string& serial,
                                                     std::chrono::milliseconds timeout,
                                                     const std::string& by = {});
  EngineStatus status() const;
  // A graceful stop, after the transport's cancel_all(): every operator command still waiting is
  // answered now or within `grace` (the reply its work gives once its cancelled cloud call
  // ended, else in doubt), work not yet begun is dropped, and later commands are refused; so the
  // IPC server can answer them before it closes their connections.
  void stop_operator_jobs(std::chrono::milliseconds grace);

  // Before its deadline, the time an operator job needs left to be begun (or to wait out a
  // throttle window); after it, how long its caller waits more for work under way to end. The CLI
  // waits past the wait_ms it sends by more than both (ipc::kOperatorReplyMargin).
  static constexpr std::chrono::milliseconds kOperatorStartMargin{500};
  static constexpr std::chrono::milliseconds kOperatorGrace{1000};

 private:
  // Work other threads hand to the engine's thread. It returns when to run it again (a delivery
  // waiting out a throttle window), or nothing when it is done.
  struct Job {
    std::function<std::optional<std::int64_t>()> run;
    std::int64_t not_before = 0;
  };
  void run_jobs();
  // The operator job under way on the engine's thread: (serial lower-cased, "deregistration of
  // S1"), under mutex_.
  std::optional<std::pair<std::string, std::string>> working_on_;
  // An operator command's work and how to speak of it.
  template <class T>
  struct OperatorJob {
    std::string what;    // "deregistration of S1"
    std::string serial;  // for `hangar show SERIAL`
    std::string rerun;   // the command that completes it after an answer in doubt
    std::function<core::Result<T>()> work;
    // Records the work as in doubt when its caller is answered before it ended (may be empty).
    std::function<void()> record_doubt;
    // Writes nothing (a look-up): not answered in time, it is a plain timeout, never in doubt.
    bool read_only = false;
  };
  // Runs `op.work` on the engine's thread as an operator job, every cloud call of it bounded by
  // `timeout` (cloud::CallDeadline): a result held by the budget (kNotNow) is tried again when
  // the budget allows if `timeout` leaves time, else answered busy; work the engine never began
  // in time is dropped (busy: nothing sent); work under way that has not ended kOperatorGrace
  // after the deadline (or by the stop's grace) is answered in doubt (ipc::errc::kInDoubt) and
  // recorded so (op.record_doubt).
  template <class T>
  core::Result<T> run_operator_job(const OperatorJob<T>& op, std::chrono::milliseconds timeout);

  store::Store& store_;
  const core::Clock& clock_;
  EngineConfig config_;
  CloudHealth health_;
  CloudBudget budget_;
  RegistrationPass registration_;
  ActivitySyncPass activity_;
  GroupSweepPass groups_;
  DeliveryPass delivery_;

  mutable std::mutex mutex_;  // guards the flags and jobs below
  core::Wakeup wakeup_;       // notify(), resume() and stop end the wait between passes
  bool paused_ = false;
  bool backoff_reset_requested_ = false;
  std::deque<Job> jobs_;
  std::condition_variable operator_cv_;  // an operator job answered, or the stop began
  bool operators_stopping_ = false;
  std::chrono::steady_clock::time_point operators_stop_until_;
};

}  // namespace hangar::service
