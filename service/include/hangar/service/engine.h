// The registration engine: sends queued devices to the cloud from the durable store, in batches,
// within a write budget, with backoff; polls whole imports; turns every answer into a state in the
// seed's words; survives crashes without losing or double-importing a device.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

#include "hangar/cloud/registration.h"
#include "hangar/core/clock.h"
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
  // Licences (SKU ids) a user must hold before a device is delivered to them.
  std::vector<std::string> required_licenses;
  std::uint64_t seed = 0;  // jitter; 0 = random
};

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

struct EngineStatus {
  bool online = true;
  bool paused = false;
  std::string last_error;  // the last cloud failure, for `hangar status`; already redacted
  std::optional<std::int64_t> blocked_until_ms;  // uploads wait until then (backoff/throttle)
  std::int64_t throttled = 0;                    // 429s received
  std::int64_t requests = 0;                     // cloud calls made
  ActivityPass activity;
  std::int64_t next_activity_at = 0;
};

class Engine {
 public:
  Engine(store::Store& store, cloud::RegistrationApi& api, const core::Clock& clock,
         EngineConfig config);

  // One pass: recover in-doubt devices, upload what is due, poll what is pending, delete finished
  // import records, sweep group tags when due. Returns how long until the next pass is useful.
  std::chrono::milliseconds step();

  // Runs passes until `stop`; notify() and resume() cut a wait short.
  void run(std::stop_token stop);
  void notify();
  void pause();
  void resume();
  // Runs an activity pass on the next step (`hangar refresh`).
  void refresh();
  // New credentials were stored: forget the backoff earned with the old ones and try at once.
  void credentials_changed();
  // Hands a Ready-for-user device to a user (`hangar deliver`): the user must exist and hold
  // every required licence; then the user is assigned to the Autopilot device and the delivery
  // recorded. Runs on the engine's thread (the one that owns the cloud client); waits at most
  // `timeout` for it. Error codes: not_found, conflict, invalid_argument, or the cloud's.
  core::Result<store::DeviceRow> deliver(const std::string& serial, const std::string& upn,
                                         std::chrono::milliseconds timeout);
  EngineStatus status() const;

 private:
  void recover(std::int64_t now);
  void upload(std::int64_t now);
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
  void log_error(const std::string& what, const core::Error& error);

  store::Store& store_;
  cloud::RegistrationApi& api_;
  const core::Clock& clock_;
  EngineConfig config_;
  std::mt19937_64 rng_;
  RateBudget writes_;
  RateBudget requests_;

  mutable std::mutex mutex_;  // guards status_ and the wake-up flags
  std::condition_variable_any wake_;
  bool woken_ = false;
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
};

}  // namespace hangar::service
