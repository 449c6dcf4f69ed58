// The Store's upload queue: claiming a batch and marking it in flight in one transaction, the
// devices left in doubt, the answers to an upload, the next attempt's time, and the activity
// monitor's writes.
#include <sqlite3.h>

#include "store_rows.h"

namespace hangar::store {

using namespace detail;

core::Result<std::vector<DeviceRow>> Store::claim_upload_batch(std::int64_t now_ms,
                                                               std::int64_t limit) {
  std::lock_guard lock(mutex_);
  // Claim and mark in one write transaction: no other claim can take the same rows in between.
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  RowReader reader;
  auto rows = query_all(
      database_,
      "SELECT " + device_columns(true) +
          " FROM devices WHERE state = 'queued' AND in_flight_since IS NULL AND "
          "(next_attempt_at IS NULL OR next_attempt_at <= ?1) ORDER BY id LIMIT ?2",
      [&reader](const Statement& row) { return reader.device(row); }, now_ms, limit);
  rows = reader.check(std::move(rows));
  if (!rows) return std::move(rows).error();
  for (auto& row : *rows) {
    if (auto status = execute(database_, "UPDATE devices SET in_flight_since = ?1 WHERE id = ?2",
                              now_ms, row.id);
        !status) {
      return std::move(status).error();
    }
    row.in_flight_since = now_ms;
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return rows;
}

core::Result<std::vector<DeviceRow>> Store::in_doubt_devices() const {
  std::lock_guard lock(mutex_);
  RowReader reader;
  return reader.check(query_all(database_,
                                "SELECT " + device_columns(true) +
                                    " FROM devices WHERE state = 'queued' AND in_flight_since IS "
                                    "NOT NULL ORDER BY id",
                                [&reader](const Statement& row) { return reader.device(row); }));
}

core::Status Store::release_upload(std::string_view serial,
                                   std::optional<std::int64_t> next_attempt_at, bool count_attempt,
                                   std::string_view last_error, std::int64_t now_ms) {
  return change_device(
      serial, core::DeviceState::kQueued, std::nullopt, {}, now_ms,
      std::string("in_flight_since = NULL, next_attempt_at = ?10, last_error = ?11") +
          (count_attempt ? ", attempts = attempts + 1" : ""),
      [&](Statement& update) -> core::Status {
        if (auto status = update.bind(10, next_attempt_at); !status) return status;
        return last_error.empty() ? update.bind_null(11) : update.bind(11, last_error);
      });
}

core::Status Store::mark_uploaded(std::string_view serial, std::string_view record_id,
                                  std::string_view import_id, std::int64_t now_ms) {
  return change_device(serial, core::DeviceState::kQueued, core::DeviceState::kRegistrationPending,
                       "uploaded (import " + std::string(import_id) + ")", now_ms,
                       "in_flight_since = NULL, next_attempt_at = NULL, import_record_id = ?10, "
                       "import_id = ?11, attempts = attempts + 1, last_error = NULL",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, record_id); !status) return status;
                         return update.bind(11, import_id);
                       });
}

core::Result<std::vector<std::string>> Store::mark_uploaded_all(std::span<const Uploaded> devices,
                                                                std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  std::vector<std::string> skipped;
  for (const Uploaded& device : devices) {
    auto key = find_device_key(database_, device.serial);
    if (!key) return std::move(key).error();
    if (!*key || (*key)->state != core::DeviceState::kQueued) {
      skipped.push_back(device.serial);
      continue;
    }
    if (auto status = execute(database_,
                              "UPDATE devices SET updated_at = ?1, state = 'registration_pending', "
                              "state_changed_at = "
                              "?1, in_flight_since = NULL, next_attempt_at = NULL, "
                              "import_record_id = ?3, import_id = "
                              "?4, attempts = attempts + 1, last_error = NULL WHERE id = ?2",
                              now_ms, (*key)->id, device.record_id, device.import_id);
        !status) {
      return std::move(status).error();
    }
    const std::string reason = "uploaded (import " + device.import_id + ")";
    if (auto status =
            append_history(database_, history_floor_, (*key)->id, core::DeviceState::kQueued,
                           core::DeviceState::kRegistrationPending, reason, now_ms);
        !status) {
      return std::move(status).error();
    }
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return skipped;
}

core::Result<std::vector<DeviceRow>> Store::pending_devices() const {
  DeviceFilter filter;
  filter.state = core::DeviceState::kRegistrationPending;
  return list_devices(filter);
}

core::Status Store::clear_next_attempts(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return execute(database_,
                 "UPDATE devices SET next_attempt_at = NULL, updated_at = ?1 WHERE state = "
                 "'queued' AND next_attempt_at IS NOT NULL",
                 now_ms);
}

core::Result<std::optional<std::int64_t>> Store::next_attempt_at() const {
  std::lock_guard lock(mutex_);
  // `status` asks on every call; cached like the counts (see counts_locked).
  const std::int64_t generation = sqlite3_total_changes64(database_.handle());
  if (next_attempt_cache_ && next_attempt_generation_ == generation) return *next_attempt_cache_;
  auto row = query_one(database_,
                       "SELECT min(next_attempt_at) FROM devices WHERE state = 'queued' AND "
                       "next_attempt_at IS NOT NULL",
                       [](const Statement& r) { return r.column_optional_int64(0); });
  if (!row) return std::move(row).error();
  const std::optional<std::int64_t> next = row->value_or(std::nullopt);
  next_attempt_cache_ = next;
  next_attempt_generation_ = generation;
  return next;
}

core::Result<std::int64_t> Store::apply_activity(std::span<const ActivityUpdate> updates,
                                                 std::int64_t now_ms) {
  if (updates.empty()) return std::int64_t{0};
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  std::int64_t written = 0;
  for (const ActivityUpdate& update : updates) {
    std::optional<core::DeviceState> old_state;
    if (update.new_state) {
      RowReader reader;
      auto current = reader.check(query_one(
          database_, "SELECT state FROM devices WHERE id = ?1",
          [&reader](const Statement& row) { return reader.state(row, 0); }, update.id));
      if (!current) return std::move(current).error();
      if (!*current) continue;  // removed meanwhile
      old_state = std::move(**current);
    }
    const bool state_changes = update.new_state && *update.new_state != *old_state;
    const std::optional<core::DeviceState> new_state =
        state_changes ? update.new_state : std::nullopt;
    // ?7 appears only when the state changes; below ?8 it is bound (to NULL) either way.
    if (auto status = execute(
            database_,
            std::string("UPDATE devices SET updated_at = ?1, cloud_device_id = ?3, "
                        "managed_device_id = ?4, enrollment_state = ?5, last_sync_at = ?6, "
                        "azure_ad_device_id = ?8, last_contacted_at = ?9, "
                        "profile = COALESCE(?10, profile), "
                        "delivered_to = CASE WHEN delivered_at IS NULL THEN delivered_to "
                        "ELSE COALESCE(?11, delivered_to) END, "
                        "assigned_user = CASE WHEN delivered_at IS NULL THEN assigned_user "
                        "ELSE COALESCE(?11, assigned_user) END") +
                (state_changes ? ", state = ?7, state_changed_at = ?1" : "") + " WHERE id = ?2",
            now_ms, update.id, update.cloud_device_id, update.managed_device_id,
            update.enrollment_state, update.last_sync_at, new_state, update.azure_ad_device_id,
            update.last_contacted_at, update.profile, update.delivered_to);
        !status) {
      return std::move(status).error();
    }
    if (state_changes) {
      if (auto status = append_history(database_, history_floor_, update.id, *old_state,
                                       *update.new_state, unless_empty(update.reason), now_ms);
          !status) {
        return std::move(status).error();
      }
    }
    ++written;
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return written;
}

}  // namespace hangar::store
