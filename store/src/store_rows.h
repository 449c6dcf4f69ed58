// What the Store's files share (store.cpp, store_devices.cpp, store_queue.cpp,
// store_history.cpp): the device row's columns and reader, the device lookup inside a
// transaction, the history writer and the errors every part names the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/store/query.h"
#include "hangar/store/store.h"

namespace hangar::store::detail {

inline constexpr std::string_view kDeviceColumns =
    "id, serial, product_id, hardware_hash, manufacturer, model, group_tag, assigned_user, "
    "profile, state, failure_reason, last_error, request_id, source_file, source_line, "
    "partner_registered, import_id, cloud_device_id, attempts, next_attempt_at, "
    "in_flight_since, created_at, updated_at, state_changed_at, import_record_id, "
    "pending_flagged_at, managed_device_id, enrollment_state, last_sync_at, delivered_at, "
    "delivered_to, azure_ad_device_id, pending_cause, last_contacted_at, "
    "coalesce(length(hardware_hash), 0) > 0";

// Reads states (storage keys) from rows and remembers the first column value that names no state:
// devices.state is CHECKed (and open()'s integrity_check verifies it), state_history's columns
// are not, so a file edited by hand is where one would come from. Row mappers cannot fail, so a
// query reads its rows, then check() turns its result into that error.
class RowReader {
 public:
  core::DeviceState state(const Statement& row, int column);
  std::optional<core::DeviceState> optional_state(const Statement& row, int column);
  // One row selected with device_columns().
  DeviceRow device(const Statement& row);

  template <typename T>
  core::Result<T> check(core::Result<T> result) const {
    if (result && error_) return *error_;
    return result;
  }

 private:
  std::optional<core::Error> error_;
};
// The column list with or without the hash bytes (NULL in their place keeps read_device's indexes).
std::string device_columns(bool with_hash);

// When and why the serial last left the queue ("2026-12-03 02:00:00Z (deregistered by ...)").
core::Result<std::optional<std::string>> departure(Database& database, std::string_view serial);
// not_found for a serial not in the queue; one that left it says when and how.
core::Error device_not_found(Database& database, std::string_view serial);

// Empty text as NULL (an optional reason or error).
inline std::optional<std::string_view> unless_empty(std::string_view text) {
  return text.empty() ? std::nullopt : std::optional<std::string_view>(text);
}

// Looks up a device's id and state inside the caller's transaction.
struct DeviceKey {
  std::int64_t id = 0;
  core::DeviceState state = core::DeviceState::kQueued;
};
core::Result<std::optional<DeviceKey>> find_device_key(Database& database, std::string_view serial);

// History ids are the event stream's sequence numbers (changes_since), so they must only grow.
// SQLite gives a new row max(id) + 1; before schema 9 a removed device's history went with it,
// and if it held the newest rows those ids would be handed out again: `floor`
// (Store::history_floor_, kept in meta by the releases that deleted history) is the smallest id
// still allowed. Each row carries the device's serial, so it outlives the device.
core::Status append_history(Database& database, std::int64_t floor, std::int64_t device_id,
                            std::optional<core::DeviceState> from_state, core::DeviceState to_state,
                            std::optional<std::string_view> reason, std::int64_t at);
// The device leaves the queue (remove, deregister): a row with no new state, written before the
// device row is deleted (which sets the row's device_id to NULL).
core::Status append_departure(Database& database, std::int64_t floor, std::int64_t device_id,
                              core::DeviceState from_state, std::string_view reason,
                              std::int64_t at);

}  // namespace hangar::store::detail
