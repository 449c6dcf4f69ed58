// What the engine and its passes are configured with, what they report for `hangar status`, and
// what every pass is given to work with.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/clock.h"
#include "hangar/service/cloud_budget.h"
#include "hangar/service/cloud_health.h"
#include "hangar/store/store.h"

namespace hangar::service {

struct EngineConfig {
  // False: step() runs the operator jobs only, no registration, activity or group pass (the tests
  // of those jobs, which must not share the fake cloud's scripted answers with a pass). A pause
  // (hangar pause) holds uploads only and is no substitute.
  bool run_passes = true;
  std::size_t batch_size = 500;  // devices per import call (the portal's per-file limit)
  // Writes (import, delete, updateDeviceProperties, group members, assignUserToDevice) and all
  // requests per window (the CloudBudget's). Graph allows 100 and 1,000 per 20 s (DOMAIN.md); a
  // tenth is kept back because the two clocks never agree on where a window starts, and a 429
  // stops every write for its Retry-After.
  int write_budget = 90;
  int request_budget = 900;
  std::chrono::milliseconds budget_window{std::chrono::seconds(20)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds backoff_base{std::chrono::seconds(2)};
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  // While the cloud cannot be reached, one attempt this often: no busy loop, quick resumption.
  std::chrono::milliseconds offline_probe{std::chrono::seconds(5)};
  // A 429 without Retry-After waits this long (doubling while it repeats, up to backoff_cap).
  std::chrono::milliseconds throttle_default{std::chrono::seconds(10)};
  // Registration Pending usually lasts under 10 minutes (the seed). Longer than
  // `pending_threshold` (config pending_warning_minutes) it is flagged in list, show, status and
  // the tray with its cause; longer than `pending_limit` (pending_limit_hours) it is Registration
  // failed with that cause, so it can be retried or removed.
  std::chrono::milliseconds pending_threshold{std::chrono::minutes(30)};
  std::chrono::milliseconds pending_limit{std::chrono::hours(24)};
  std::chrono::milliseconds sweep_interval{std::chrono::hours(24)};
  // The activity monitor: how often it reads enrollment and last sync of registered devices, and
  // how long without a sync makes an enrolled device Inactive (the seed: 7 days).
  std::chrono::milliseconds activity_interval{std::chrono::hours(1)};
  std::chrono::milliseconds inactive_after{std::chrono::hours(24 * 7)};
  std::string default_group_tag = "Microsoft365Managed_Autopilot";
  // Profile groups: a profile's CLI name ("power-user") -> its Entra ID group's object id. A
  // registered device belongs in its profile's group and in no other profile's group (the seed:
  // manual changes are undone). Empty: no group sweep.
  std::map<std::string, std::string> profile_groups;
  std::chrono::milliseconds group_sweep_interval{std::chrono::hours(24)};
  // Partner-registered devices: a group tag (lower case) -> the profile (CLI name) they are
  // tracked with. Devices with the default tag and no mapping are tracked without a profile; with
  // another tag that is not mapped they are not ours.
  std::map<std::string, std::string> tag_profiles;
  // Tenant devices without a group tag that Hangar does not know: tracked (as registered outside
  // Hangar, no profile, their tag left empty) only when set; otherwise counted and listed.
  bool track_untagged = false;
  // Licences (SKU ids) a user must hold before a device is delivered to them.
  std::vector<std::string> required_licenses;
  std::uint64_t seed = 0;  // jitter; 0 = random

  BudgetConfig budget() const;
  // Whether a tenant device with this group tag is Hangar's to track: a tag mapped in
  // tag_profiles, the default tag, or no tag when track_untagged. Any other tag is another team's.
  bool claims_tag(const std::string& group_tag) const;
};

// The last activity pass, for `hangar status` and `hangar refresh`.
struct ActivityPass {
  std::int64_t finished_at = 0;  // 0: none yet
  std::int64_t devices = 0;      // registered devices looked at
  std::int64_t written = 0;      // rows that changed
  std::int64_t requests = 0;     // list calls made (each follows its pages)
  std::int64_t active = 0;
  std::int64_t inactive = 0;
  std::int64_t partners_added = 0;  // partner-registered devices found in the tenant
  std::int64_t profiles_set = 0;    // partner devices given the profile their tag maps to
  // Autopilot devices in the tenant without a group tag that Hangar does not know (and no admin
  // removed): how many, the first kUntaggedShown of them, and how many were added (track_untagged).
  static constexpr std::size_t kUntaggedShown = 20;
  struct Untagged {
    std::string serial;
    std::string manufacturer;
    std::string model;
  };
  std::int64_t untagged = 0;
  std::vector<Untagged> untagged_devices;
  std::int64_t untagged_added = 0;
};

// A removal the sweep held back: the device stays in another profile's group, because taking it
// out could leave it in no profile group.
struct SkippedRemoval {
  std::string serial;
  std::string group_id;  // the group it stays in
  std::string profile;   // whose group that is
  std::string reason;
};

// A profile-group sweep, for `hangar status` and `hangar sync`.
struct GroupSweep {
  // How many skipped removals a summary spells out (status is polled: it stays small).
  static constexpr std::size_t kSkippedShown = 20;
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;  // 0: none finished yet
  std::int64_t devices = 0;      // our registered devices whose memberships were checked
  std::int64_t skipped = 0;      // registered, no Entra ID device id read yet: nothing to check
  std::int64_t added = 0;        // put back in their profile's group
  std::int64_t removed = 0;      // taken out of another profile's group
  // Removals held back: the device's own group could not be listed, its profile has no group,
  // or adding it to its own group failed. Not counted in `removed`; the first kSkippedShown are
  // in skipped_removals.
  std::int64_t removals_skipped = 0;
  std::vector<SkippedRemoval> skipped_removals;
  std::int64_t requests = 0;  // cloud calls (a list call follows its pages)
  std::int64_t errors = 0;    // calls refused (missing group, permission): see last_error
  std::string last_error;
};

struct EngineStatus {
  bool online = true;
  bool paused = false;
  std::string last_error;          // the last cloud failure, for `hangar status`; already redacted
  std::int64_t last_error_at = 0;  // when it happened (0: no failure)
  std::int64_t last_error_resolved_at = 0;  // the next success after it (0: not yet)
  // The oldest cloud request sent and not answered yet: since when, what ("a write to Intune"),
  // and how many wait (0: none).
  std::int64_t waiting_since = 0;
  std::string waiting_on;
  std::size_t requests_waiting = 0;
  // Request forms the cloud keeps refusing: they need attention (`hangar status`, the tray).
  std::vector<RefusedRequest> refused_requests;
  std::optional<std::int64_t> blocked_until_ms;  // uploads wait until then (backoff/throttle)
  std::int64_t throttled = 0;                    // 429s received
  std::int64_t requests = 0;                     // cloud calls made
  ActivityPass activity;
  std::int64_t next_activity_at = 0;
  bool groups_configured = false;
  bool group_sweep_running = false;  // memberships listed, corrections still being made
  GroupSweep groups;                 // the last finished sweep
  std::int64_t next_group_sweep_at = 0;
};

// What every pass works with: the queue, the budget every cloud request passes through, what the
// engine learns about the cloud, the clock and the configuration.
struct PassContext {
  store::Store& store;
  CloudBudget& budget;
  CloudHealth& health;
  const core::Clock& clock;
  const EngineConfig& config;
};

}  // namespace hangar::service
