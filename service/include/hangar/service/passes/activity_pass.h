// The activity pass and partner sync: hourly (or on `hangar refresh`) it lists the tenant's
// Autopilot devices and the managed devices' last syncs (two paged lists: requests grow with
// pages, not devices), moves registered devices between Ready for user, Active and Inactive, and
// adds the devices a partner registered with our group tag or one mapped to a profile
// (tag_profiles), counting untagged tenant devices (tracked with track_untagged). Daily it also
// puts back a group tag someone removed from one of our devices.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hangar/cloud/registration.h"
#include "hangar/service/engine_config.h"

namespace hangar::service {

class ActivitySyncPass {
 public:
  ActivitySyncPass(PassContext context, CloudSource<cloud::ActivityCloud> cloud);

  void run(std::int64_t now);
  std::int64_t next_wake(std::int64_t now) const;
  // Runs the activity pass on the next run() (`hangar refresh`). Any thread.
  void refresh();
  // The last finished pass and when the next is due. Any thread.
  ActivityPass last() const;
  std::int64_t next_activity_at() const;

 private:
  void monitor(std::int64_t now);
  void repair_tags(std::int64_t now);
  // Adds partner-registered devices (and untagged ones with track_untagged), counting them and
  // the untagged devices left alone in `pass`.
  void add_partner_devices(const std::vector<cloud::AutopilotDevice>& identities, std::int64_t now,
                           ActivityPass& pass);
  // The profile `group_tag` maps to in tag_profiles; empty when none.
  std::string profile_for_tag(const std::string& group_tag) const;
  // Every Autopilot device, listed at most once per run().
  core::Result<std::vector<cloud::AutopilotDevice>> read_all_devices(std::int64_t now);

  PassContext ctx_;
  CloudPort<cloud::ActivityCloud> cloud_;
  // A tracked device the tenant's whole list lacks: out of the queue when a deregister of it was
  // in doubt, Registration failed when a second list in a row lacks it (true: it was handled).
  bool gone_from_tenant(const store::DeviceRow& device, std::int64_t now);
  std::int64_t next_activity_ = 0;
  // Tracked devices (by id) the last complete list of the tenant did not have: a second pass in a
  // row without them fails them (see monitor()).
  std::set<std::int64_t> missing_once_;
  std::int64_t next_tag_repair_ = 0;
  std::optional<std::vector<cloud::AutopilotDevice>> all_devices_;
  std::set<std::string> untagged_logged_;  // untagged serials already logged as not tracked

  mutable std::mutex mutex_;  // guards the three below
  bool refresh_requested_ = false;
  ActivityPass last_;
  std::int64_t next_activity_at_ = 0;
};

}  // namespace hangar::service
