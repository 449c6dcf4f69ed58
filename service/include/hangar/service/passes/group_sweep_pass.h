// The profile-group sweep: daily (group_sweep_interval, across restarts) or on `hangar sync`, it
// lists each configured profile group's device members, plans the corrections for our registered
// devices (into their profile's group, out of the other profiles' groups, a device's removes only
// after its add), then makes them within the write budget, over several runs if need be. Entra ID
// throttles apart from Intune: its requests go on the budget's directory lane.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "hangar/cloud/registration.h"
#include "hangar/service/engine_config.h"

namespace hangar::service {

class GroupSweepPass {
 public:
  GroupSweepPass(PassContext context, CloudSource<cloud::GroupCloud> cloud);

  void run(std::int64_t now);
  std::int64_t next_wake(std::int64_t now) const;
  // Runs a sweep on the next run() (after one under way). False when no groups are configured.
  // Any thread.
  bool request();
  // For `hangar status`. Any thread.
  void report(EngineStatus& status) const;

 private:
  // One planned write. A device's corrections are consecutive, its add (if any) first: its
  // removes run only once the add succeeded or was not needed.
  struct PlannedCorrection {
    std::int64_t device_id = 0;
    std::string serial;
    std::string action;  // "added" | "removed"
    std::string group_id;
    std::string profile;  // whose group it is
    std::string object_id;
    // A remove held back (its own group unreadable or unmapped, its add failed): recorded as
    // skipped with this reason, no call made.
    std::string skip_reason;
  };

  // False when the listing must be retried later.
  bool plan(std::int64_t now);
  void apply(std::int64_t now);
  void skip_removal(const PlannedCorrection& correction, std::int64_t now);
  // False when the device left Hangar (`hangar remove`) or was replaced since the plan was made.
  bool still_registered(const PlannedCorrection& correction);
  // A listing or lookup that could not be made now: the sweep starts again when the budget allows.
  bool retry_later(const core::Error& error, std::int64_t now);

  PassContext ctx_;
  CloudPort<cloud::GroupCloud> cloud_;
  bool active_ = false;
  std::int64_t next_sweep_ = -1;  // -1: not scheduled yet (read from the store's meta)
  GroupSweep pass_;               // the sweep in progress
  std::deque<PlannedCorrection> plan_;

  mutable std::mutex mutex_;  // guards the ones below
  bool requested_ = false;
  bool running_ = false;
  GroupSweep last_;  // the last finished sweep
  std::int64_t next_sweep_at_ = 0;
};

}  // namespace hangar::service
