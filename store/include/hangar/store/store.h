// The durable device queue: one SQLite file (WAL) holding devices, their state history and
// service metadata, behind a thread-safe API that returns core::Result everywhere.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/store/errors.h"
#include "hangar/store/sqlite.h"

namespace hangar::store {

// Device states are core::DeviceState everywhere in the store's API; they become text (the
// storage keys of core/device.h, which the schema CHECKs) only in the SQL of the store's sources.

struct StoreOptions {
  // How long a write waits for another connection (another process) to release the write lock.
  std::chrono::milliseconds busy_timeout{5000};
  // Test hook: stop migrating at this schema version instead of the latest, to build a database
  // as an older release left it. The Store's methods assume the latest schema, so a Store opened
  // this way is only good for closing again. Unset in production.
  std::optional<std::int64_t> max_schema_version;
};

// What a caller supplies to queue a device. Times are Unix milliseconds from the caller's clock.
struct NewDevice {
  std::string serial;
  std::optional<std::string> product_id;
  std::optional<std::vector<std::uint8_t>> hardware_hash;  // decoded bytes; absent for partners
  std::optional<std::string> manufacturer;
  std::optional<std::string> model;
  std::optional<std::string> group_tag;
  // The tag is the default, none having been given: a re-import leaves a queued device's own.
  bool group_tag_defaulted = false;
  std::optional<std::string> assigned_user;
  std::string profile;
  core::DeviceState state = core::DeviceState::kQueued;
  std::optional<std::string> source_file;
  std::optional<std::int64_t> source_line;
  bool partner_registered = false;
  std::int64_t created_at = 0;
};

// One row of the devices table.
struct DeviceRow {
  std::int64_t id = 0;
  std::string serial;
  std::optional<std::string> product_id;
  std::optional<std::vector<std::uint8_t>> hardware_hash;  // read only when asked for
  bool has_hash = false;  // whether the row has one, read either way (list --json says so)
  std::optional<std::string> manufacturer;
  std::optional<std::string> model;
  std::optional<std::string> group_tag;
  std::optional<std::string> assigned_user;
  std::string profile;
  core::DeviceState state = core::DeviceState::kQueued;
  std::optional<std::string> failure_reason;
  std::optional<std::string> last_error;
  std::optional<std::string> request_id;
  std::optional<std::string> source_file;
  std::optional<std::int64_t> source_line;
  bool partner_registered = false;
  std::optional<std::string> import_id;        // the cloud's import record id
  std::optional<std::string> cloud_device_id;  // the registered Autopilot device id
  std::int64_t attempts = 0;
  std::optional<std::int64_t> next_attempt_at;
  std::optional<std::int64_t> in_flight_since;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t state_changed_at = 0;
  std::optional<std::string> import_record_id;     // the cloud's id of this device's import record
  std::optional<std::int64_t> pending_flagged_at;  // when a long Registration Pending was flagged
  // What the activity monitor last read, and the hand-off to a user.
  std::optional<std::string> managed_device_id;  // the Intune managed device
  std::optional<std::string> enrollment_state;   // the Autopilot identity's enrollmentState
  std::optional<std::int64_t> last_sync_at;      // the managed device's lastSyncDateTime
  std::optional<std::int64_t> delivered_at;      // `hangar deliver`
  std::optional<std::string> delivered_to;       // the user it was delivered to
  // The Entra ID device id (azureActiveDirectoryDeviceId), once the device has joined.
  std::optional<std::string> azure_ad_device_id;
  // Why a long Registration Pending is still pending, as far as the engine knows (with
  // pending_flagged_at; cleared with it).
  std::optional<std::string> pending_cause;
  // The Autopilot identity's lastContactedDateTime, as the activity pass last read it.
  std::optional<std::int64_t> last_contacted_at;
};

// One device's activity as the monitor read it. All fields are written as given (the monitor
// sends only devices where something changed); `new_state` moves the state with a history row.
struct ActivityUpdate {
  std::int64_t id = 0;
  std::optional<std::string> cloud_device_id;
  std::optional<std::string> managed_device_id;
  std::optional<std::string> enrollment_state;
  std::optional<std::int64_t> last_sync_at;
  std::optional<std::string> azure_ad_device_id;
  std::optional<std::int64_t> last_contacted_at;
  std::optional<core::DeviceState> new_state;
  std::string reason;  // for the history row
  // A profile for a device that has none (a partner's device whose group tag maps to one).
  std::optional<std::string> profile;
  // The user the tenant lists for a delivered device, when it differs from the recorded one (the
  // admin reassigned it in the Intune admin center): the hand-off list follows the tenant.
  std::optional<std::string> delivered_to;
};

// One state change of a device; from_state is absent for the row written when it was queued.
struct HistoryRow {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  std::optional<core::DeviceState> from_state;
  core::DeviceState to_state = core::DeviceState::kQueued;
  std::optional<std::string> reason;
  std::int64_t at = 0;
};

// One change the profile-group sweep made to a device's Entra ID group memberships, or a removal
// it held back.
struct GroupCorrection {
  std::int64_t device_id = 0;
  std::int64_t at = 0;
  // "added" (to its profile's group), "removed" (from another's) or "skipped" (left in another
  // profile's group because its own group could not be confirmed: see reason).
  std::string action;
  std::string group_id;  // the group's object id
  std::string profile;   // the profile whose group it is
  std::string reason;    // why a removal was skipped; empty for "added" and "removed"
};

// One committed state change, for the event stream. `seq` is the history row's id: it only grows.
// A device leaving the queue (remove, deregister) is a change too: `left`, with the state it
// left from in `from_state` (`to_state` is then meaningless).
struct ChangeRow {
  std::int64_t seq = 0;
  std::string serial;
  std::optional<core::DeviceState> from_state;  // none when the device was first queued
  core::DeviceState to_state = core::DeviceState::kQueued;
  bool left = false;
  std::optional<std::string> reason;
  std::int64_t at = 0;  // Unix ms
};

// What happened to one device of insert_devices().
enum class InsertOutcome {
  kInserted,            // queued now
  kAlreadyQueued,       // the same device (same serial and hash) was queued before: nothing changed
  kUpdated,             // the same device, still queued (not uploaded): its profile, group tag or
                        // assigned user changed to the new ones (message: which, from what to what)
  kRegistrationFailed,  // the same device, unchanged, whose registration failed: not queued,
                        // nothing happens until `hangar retry` (message: the reason, the way out)
  kConflict,            // same serial with another hash, or the same hash under another serial
  kInvalid,             // the record itself is unusable (empty serial)
};
std::string_view outcome_name(InsertOutcome outcome);

struct InsertResult {
  InsertOutcome outcome = InsertOutcome::kInserted;
  std::int64_t id = 0;  // the device's row id (the earlier one for kAlreadyQueued)
  std::string message;  // why, for every outcome but kInserted
};

// Which devices list_devices() returns, oldest first (by id). Unset fields do not filter.
struct DeviceFilter {
  std::optional<core::DeviceState> state;
  std::optional<std::string> profile;         // a CLI profile name ("power-user")
  std::optional<std::int64_t> changed_since;  // updated_at >= this (Unix ms)
  std::int64_t after_id = 0;                  // for paging: only ids greater than this
  std::int64_t limit = 0;                     // at most this many; 0 = no limit
  bool with_hash = false;  // leave the hash bytes out unless asked (a list needs no 4 KB each)
};

// The live settings of the Store's connection, for diagnostics and tests.
struct ConnectionSettings {
  std::string journal_mode;
  std::int64_t synchronous = 0;  // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
  bool foreign_keys = false;
  std::int64_t busy_timeout_ms = 0;
};

// The refusal of a removal while the device's upload is in flight (conflict), with what to do.
core::Error upload_in_flight(const std::string& serial);

// Thread-safe. The Store owns one connection and a mutex: every call, read or write, holds the
// mutex for its duration, and every write is one BEGIN IMMEDIATE transaction. One writer at a
// time is all SQLite allows anyway, and queue operations are short, so a single connection keeps
// this simple and free of SQLITE_BUSY between our own threads; other processes (a support tool,
// the CLI reading the file) still read concurrently thanks to WAL, and a process holding the
// write lock makes us wait up to the busy timeout, then fail with store_busy.
class Store {
 public:
  // Creates the parent directory if needed, opens the file, sets WAL, synchronous=NORMAL,
  // foreign_keys and the busy timeout, verifies the file with PRAGMA integrity_check, refuses
  // files of other programs or of a newer schema, then applies forward migrations.
  static core::Result<std::unique_ptr<Store>> open(const std::filesystem::path& path,
                                                   const StoreOptions& options = {});

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  const std::filesystem::path& path() const;
  // The schema version after open's migrations.
  std::int64_t schema_version() const;
  core::Result<ConnectionSettings> connection_settings() const;

  core::Result<std::int64_t> device_count() const;
  // Every known state is present, with 0 when no device is in it.
  core::Result<std::map<core::DeviceState, std::int64_t>> count_by_state() const;
  // Devices still waiting on the pipeline: queued + registration_pending.
  core::Result<std::int64_t> queue_depth() const;

  core::Status set_meta(std::string_view key, std::string_view value);
  core::Result<std::optional<std::string>> get_meta(std::string_view key) const;
  // Forgets a meta value (none: nothing happens).
  core::Status erase_meta(std::string_view key);

  // Queues a device and writes its first history row; returns its id. A serial already present
  // (compared without regard to case) fails with `conflict`.
  core::Result<std::int64_t> insert_device(const NewDevice& device);
  // Queues many devices in one transaction (all or nothing on a store failure); each gets its
  // outcome. Re-importing a device that is already queued is not an error (kAlreadyQueued), so a
  // file can be imported twice safely; with another profile, group tag or assigned user it is
  // kUpdated while the device is still queued, and a kConflict naming the way out once uploaded.
  core::Result<std::vector<InsertResult>> insert_devices(std::span<const NewDevice> devices);
  core::Result<std::vector<DeviceRow>> list_devices(const DeviceFilter& filter) const;
  // How many devices match `filter`'s state, profile and changed_since (after_id, limit and
  // with_hash are ignored): the "N of TOTAL" of a listing.
  core::Result<std::int64_t> count_devices(const DeviceFilter& filter) const;
  // Deletes a device, recording its leaving (`reason`) in the state history, which it keeps;
  // returns the row as it was. Refused with `conflict` while the
  // device is Registration Pending (the cloud is working on it and would finish behind our back)
  // unless `force`: the caller then deletes its import record in the cloud. Refused with
  // `conflict` even with `force` while its upload is in flight (claimed for an import request
  // whose answer is not in, or was lost): nobody knows yet whether the cloud registers it, and
  // the registration pass must be able to adopt (or delete) the import record it made.
  // The serial is remembered as removed (removed_serials()) until it is imported again.
  core::Result<DeviceRow> remove_device(std::string_view serial, bool force = false,
                                        std::int64_t now_ms = 0,
                                        std::string_view reason = "removed from the queue");
  // Remembers a serial as removed without a device in the queue (`hangar deregister` of a device
  // Hangar never had).
  core::Status remember_removed(std::string_view serial, std::int64_t now_ms);
  // Serials removed by an admin, lower-cased: the partner sync does not add them back.
  core::Result<std::vector<std::string>> removed_serials() const;
  // ---- the registration engine ----
  // Queued devices due for upload (next_attempt_at unset or passed, not in flight), oldest first,
  // with their hashes, marked in flight at `now_ms` in the same transaction.
  core::Result<std::vector<DeviceRow>> claim_upload_batch(std::int64_t now_ms, std::int64_t limit);
  // Queued devices still marked in flight: a crash or an unanswered request left them there, so
  // the cloud must be asked whether they arrived before they are sent again.
  core::Result<std::vector<DeviceRow>> in_doubt_devices() const;
  // Back to waiting after a failed upload: in flight cleared, the next attempt scheduled (unset:
  // at once), `last_error` recorded, and attempts counted when `count_attempt`.
  core::Status release_upload(std::string_view serial, std::optional<std::int64_t> next_attempt_at,
                              bool count_attempt, std::string_view last_error, std::int64_t now_ms);
  // Uploaded: Queued -> Registration Pending, with the cloud's import record and import ids.
  core::Status mark_uploaded(std::string_view serial, std::string_view record_id,
                             std::string_view import_id, std::int64_t now_ms);
  struct Uploaded {
    std::string serial;
    std::string record_id;
    std::string import_id;
  };
  // mark_uploaded() for the devices of one import answer, in one transaction (500 commits took
  // longer than the import call itself). A device that is no longer queued, or gone, is left as it
  // is and its serial returned; a store failure changes nothing.
  core::Result<std::vector<std::string>> mark_uploaded_all(std::span<const Uploaded> devices,
                                                           std::int64_t now_ms);
  core::Result<std::vector<DeviceRow>> pending_devices() const;
  // ---- the lifecycle ----
  // Every serial in the store, lower-cased (serials ignore case), for cheap membership tests.
  core::Result<std::vector<std::string>> serials() const;
  // Registered devices the activity monitor follows: Ready for user, Active, Inactive.
  core::Result<std::vector<DeviceRow>> tracked_devices() const;
  // Writes the given rows in one transaction; returns how many were written.
  core::Result<std::int64_t> apply_activity(std::span<const ActivityUpdate> updates,
                                            std::int64_t now_ms);
  // Appends one profile-group correction (the sweep records each as soon as the cloud accepted
  // it, so a crash mid-sweep loses none).
  core::Status record_group_correction(const GroupCorrection& correction);
  // A device's group corrections, oldest first.
  core::Result<std::vector<GroupCorrection>> group_corrections(std::string_view serial) const;
  // Records the hand-off: delivered_at, delivered_to and the assigned user.
  core::Status record_delivery(std::string_view serial, std::string_view user, std::int64_t now_ms);
  // The import finished: the device is in the tenant as `cloud_device_id` (empty when the cloud
  // did not say) but stays Registration Pending until its deployment profile is confirmed. The
  // import record id is cleared (the record gets deleted); last_error is cleared.
  core::Status mark_registered(std::string_view serial, std::string_view cloud_device_id,
                               std::int64_t now_ms);
  // Records a problem with a device that keeps its state (e.g. the profile assignment failed);
  // an empty `problem` clears it.
  core::Status note_problem(std::string_view serial, std::string_view problem, std::int64_t now_ms);
  // Queued or Registration Pending -> `state` (ready_for_user or registration_failed) with the
  // reason in the seed's words, the cloud's detail and request id; the history row says
  // `history_reason`.
  core::Status finish_registration(std::string_view serial, core::DeviceState state,
                                   std::optional<std::string> failure_reason,
                                   std::optional<std::string> detail,
                                   std::optional<std::string> request_id,
                                   std::string_view history_reason, std::int64_t now_ms);
  // Registration Pending -> Queued (a transient cloud error): import ids cleared, next attempt set.
  core::Status requeue(std::string_view serial, std::int64_t next_attempt_at,
                       std::string_view reason, std::int64_t now_ms);
  // Marks a long Registration Pending (pending_flagged_at is set once: the engine warns about it
  // once, not every poll) with its cause as known now (updated when it changes).
  core::Status flag_long_pending(std::string_view serial, std::string_view cause,
                                 std::int64_t now_ms);
  // Devices flagged as Registration Pending for long, oldest change first, at most `limit`
  // (0: all), and how many there are in all (`hangar status`, the tray).
  core::Result<std::pair<std::int64_t, std::vector<DeviceRow>>> long_pending(
      std::int64_t limit) const;
  // Registration failed -> Queued for one serial or all (`hangar retry`); returns how many.
  core::Result<std::int64_t> retry_failed(std::optional<std::string> serial, std::int64_t now_ms);
  // New credentials: every queued device is due now (the waits were earned with the old ones).
  core::Status clear_next_attempts(std::int64_t now_ms);
  // The earliest next_attempt_at among queued devices (for `hangar status`).
  core::Result<std::optional<std::int64_t>> next_attempt_at() const;

  // `not_found` when no device has this serial.
  core::Result<DeviceRow> get_device(std::string_view serial) const;
  // Moves a device to `new_state` and appends the history row in the same transaction (none when
  // it is in that state already: a history row is a change).
  core::Status transition(std::string_view serial, core::DeviceState new_state,
                          std::string_view reason, std::int64_t now_ms);
  // The device's state changes, oldest first.
  core::Result<std::vector<HistoryRow>> history(std::string_view serial) const;
  // When and why a serial not in the queue last left it ("2026-12-03 02:00:00Z (deregistered by
  // alice: ...)"), or nothing when it never did.
  core::Result<std::optional<std::string>> departure(std::string_view serial) const;
  // Committed state changes with seq > after_seq, oldest first, at most `limit` (the event feed).
  core::Result<std::vector<ChangeRow>> changes_since(std::int64_t after_seq,
                                                     std::int64_t limit) const;
  // The newest change's seq (0 when there is none).
  core::Result<std::int64_t> last_change_seq() const;

 private:
  Store(Database database, std::int64_t schema_version);
  core::Result<std::map<core::DeviceState, std::int64_t>> counts_locked() const;
  // Updates one device in a transaction: `set_sql` (e.g. "import_id = ?10") is bound by `bind`
  // from parameter 10 on; with `new_state` the state changes (only from `from_state` when given)
  // and a history row is written. `not_found`/`conflict` name the serial.
  core::Status change_device(std::string_view serial, std::optional<core::DeviceState> from_state,
                             std::optional<core::DeviceState> new_state, std::string_view reason,
                             std::int64_t now_ms, const std::string& set_sql,
                             const std::function<core::Status(Statement&)>& bind);
  // One device of insert_devices(), inside its transaction; errors are store failures only.
  core::Result<InsertResult> insert_locked(const NewDevice& device);

  // mutable: const reads still go through the one connection and so must lock.
  mutable std::mutex mutex_;
  // The smallest state_history id a new row may take (see append_history); 0 when unconstrained.
  std::int64_t history_floor_ = 0;
  mutable Database database_;
  std::int64_t schema_version_;
  // Per-state counts as of SQLite's change counter `counts_generation_` (see counts_locked()).
  mutable std::optional<std::map<core::DeviceState, std::int64_t>> counts_cache_;
  mutable std::int64_t counts_generation_ = -1;
  mutable std::optional<std::optional<std::int64_t>> next_attempt_cache_;
  mutable std::int64_t next_attempt_generation_ = -1;
};

}  // namespace hangar::store
