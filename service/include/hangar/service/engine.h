// The registration engine: sends queued devices to the cloud from the durable store, in batches,
// within a write budget, with backoff; polls whole imports; turns every answer into a state in the
// seed's words; survives crashes without losing or double-importing a device.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hangar/cloud/registration.h"
#include "hangar/core/clock.h"
#include "hangar/core/stop.h"
#include "hangar/service/cloud_budget.h"
#include "hangar/service/cloud_health.h"
#include "hangar/store/store.h"

namespace hangar::service {

struct EngineConfig {
  std::size_t batch_size = 500;  // devices per import call (the portal's per-file limit)
  // Writes (import, delete, updateDeviceProperties) and all requests per window. Graph allows 100
  // and 1,000 per 20 s (DOMAIN.md); a tenth is kept back because the two clocks never agree on
  // where a window starts, and a 429 stops every write for its Retry-After.
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
  std::chrono::milliseconds pending_threshold{std::chrono::minutes(30)};
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
  // Licences (SKU ids) a user must hold before a device is delivered to them.
  std::vector<std::string> required_licenses;
  std::uint64_t seed = 0;  // jitter; 0 = random
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

class Engine {
 public:
  // The code of a read's error when the request budget, not the cloud, said "not now".
  static constexpr char kBudgetSpent[] = "budget_spent";

  Engine(store::Store& store, cloud::RegistrationApi& api, const core::Clock& clock,
         EngineConfig config);

  // One pass: recover in-doubt devices, upload what is due, poll what is pending, delete finished
  // import records, sweep group tags when due. Returns how long until the next pass is useful.
  std::chrono::milliseconds step();

  // Runs passes until `stop`; notify() and resume() cut a wait short.
  void run(const core::StopToken& stop);
  void notify();
  void pause();
  void resume();
  // Runs an activity pass on the next step (`hangar refresh`).
  void refresh();
  // Runs a profile-group sweep on the next step (after the activity pass when both are due).
  // False when no profile groups are configured.
  bool sweep_groups();
  // New credentials were stored: forget the backoff earned with the old ones and try at once.
  void credentials_changed();
  // Where refused request forms are reported besides the log (the Event Log); call before run().
  void set_event_sink(EventSink* sink) { health_.set_event_sink(sink); }
  // Hands a Ready-for-user device to a user (`hangar deliver`): the user must exist and hold
  // every required licence; then the user is assigned to the Autopilot device and the delivery
  // recorded. Runs on the engine's thread (the one that owns the cloud client); waits at most
  // `timeout` for it. Error codes: not_found, conflict, invalid_argument, or the cloud's.
  core::Result<store::DeviceRow> deliver(const std::string& serial, const std::string& upn,
                                         std::chrono::milliseconds timeout);
  EngineStatus status() const;

 private:
  // In-doubt devices (a crash or an unreadable answer left them in flight): each is looked up by
  // serial among the import records, or the whole table is listed when that takes fewer
  // requests or the service refuses the serial filter; found ones are adopted, the rest queued.
  void recover(std::int64_t now);
  // True when a batch was sent (the call answered or not).
  bool upload(std::int64_t now);
  void send(std::vector<store::DeviceRow> batch, std::int64_t now);
  void poll(std::int64_t now);
  // True when the device is now registered (its profile still to be confirmed).
  bool settle(const store::DeviceRow& device, const cloud::ImportRecord& record, std::int64_t now);
  // Registered devices: Ready for user once the tenant lists them with a deployment profile
  // assigned; one paged list per group tag. False when the pass must stop (budget, failure).
  bool confirm(const std::vector<const store::DeviceRow*>& devices, std::int64_t now);
  void flag_if_long_pending(const store::DeviceRow& device, std::int64_t now);
  // Deletes finished import records, at most `limit` this pass (housekeeping yields to imports).
  void delete_finished(std::int64_t now, std::size_t limit);
  void sweep(std::int64_t now);
  void monitor(std::int64_t now);
  // The profile-group sweep: lists each configured group's device members, plans the corrections
  // for our registered devices, then makes them within the write budget (over several steps if
  // need be). plan_groups() returns false when the listing must be retried later.
  void enforce_groups(std::int64_t now);
  bool plan_groups(std::int64_t now);
  void apply_group_corrections(std::int64_t now);
  core::Result<store::DeviceRow> deliver_now(const std::string& serial, const std::string& upn);
  void run_jobs();
  std::int64_t add_partner_devices(const std::vector<cloud::AutopilotDevice>& identities,
                                   std::int64_t now);
  // Common handling of a failed call: offline, throttled, backoff. Returns when uploads may resume.
  std::int64_t on_failure(const core::Error& error, std::int64_t now);
  void on_success();
  // A failed poll or confirmation: uploads and the next poll wait as on_failure() says.
  void poll_failed(const core::Error& error, std::int64_t now);
  bool spend_request(std::int64_t now, bool write);

  // ---- reads with a fallback (engine_reads.cpp). Each spends the request budget itself: an
  // error with code kBudgetSpent means "not now, nothing failed"; other errors are the cloud's. A
  // refused request form is tracked in health_, and its fallback used once the refusal persists.
  // The import records of `devices` (Registration Pending with a record id), by record id: the
  // whole table when that takes fewer requests than one GET per record; a record that is gone is
  // absent.
  core::Result<std::map<std::string, cloud::ImportRecord>> read_import_records(
      const std::vector<const store::DeviceRow*>& devices, std::int64_t now);
  // The Autopilot devices whose group tag contains `tag` (every device, filtered here, while the
  // service refuses the filter).
  core::Result<std::vector<cloud::AutopilotDevice>> read_tagged(const std::string& tag,
                                                                std::int64_t now);
  // One Autopilot device by serial (nullopt: not in the tenant).
  core::Result<std::optional<cloud::AutopilotDevice>> read_device(const std::string& serial,
                                                                  std::int64_t now);
  // Every Autopilot device, listed at most once per pass.
  core::Result<std::vector<cloud::AutopilotDevice>> read_all_devices(std::int64_t now);
  // Rough pages of the import table (1,000 records a page): ours pending plus the others seen.
  std::size_t import_table_pages(std::size_t ours) const;

  store::Store& store_;
  cloud::RegistrationApi& api_;
  const core::Clock& clock_;
  EngineConfig config_;
  std::mt19937_64 rng_;
  RateBudget writes_;
  RateBudget requests_;

  mutable std::mutex mutex_;  // guards status_ and the wake-up flags
  core::Wakeup wakeup_;       // notify(), resume() and stop end the wait between passes
  bool refresh_requested_ = false;
  bool backoff_reset_requested_ = false;
  std::deque<std::function<void()>> jobs_;  // work other threads hand to the engine's thread
  EngineStatus status_;

  bool recovered_ = false;
  std::int64_t upload_blocked_until_ = 0;
  int failure_streak_ = 0;
  int throttle_streak_ = 0;
  std::int64_t next_poll_ = 0;
  std::int64_t next_sweep_ = 0;
  std::int64_t next_activity_ = 0;
  std::size_t foreign_records_ = 0;  // import records not ours, seen in the last whole-table list
  std::int64_t budget_wait_until_ = 0;
  std::deque<std::string> deletions_;  // finished import records to delete (ours only)
  CloudHealth health_;
  std::optional<std::vector<cloud::AutopilotDevice>> all_devices_;  // read_all_devices(), per pass

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
  void skip_group_removal(const PlannedCorrection& correction, std::int64_t now);
  // False when the device left Hangar (`hangar remove`) or was replaced since the plan was made.
  bool still_registered(const PlannedCorrection& correction);
  bool group_sweep_requested_ = false;  // guarded by mutex_
  bool group_sweep_active_ = false;
  std::int64_t next_group_sweep_ = -1;  // -1: not scheduled yet (read from the store's meta)
  GroupSweep group_pass_;               // the sweep in progress
  std::deque<PlannedCorrection> group_plan_;
  // Entra ID throttles apart from Intune: a 429 or 5xx on a directory call holds back the sweep's
  // calls, not Autopilot imports (upload_blocked_until_), and the other way round.
  std::int64_t group_blocked_until_ = 0;
};

}  // namespace hangar::service
