// The Store's shared row reading and history writing (store_rows.h).
#include "store_rows.h"
#include "hangar/core/excerpt.h"

namespace hangar::store::detail {

core::DeviceState RowReader::state(const Statement& row, int column) {
  const std::string text = row.column_text(column);
  if (auto state = core::state_of_key(text)) return *state;
  if (!error_) {
    std::string keys;
    for (const core::DeviceState known : core::kDeviceStates) {
      keys += (keys.empty() ? "" : ", ") + std::string(core::storage_key(known));
    }
    error_ = core::make_error(kErrCorrupt, "the database holds a device state \"" + text +
                                               "\" that names no state (one of " + keys +
                                               " was expected); was the file edited by hand?");
  }
  return core::DeviceState::kQueued;  // discarded: check() returns the error instead
}

std::optional<core::DeviceState> RowReader::optional_state(const Statement& row, int column) {
  if (row.column_is_null(column)) return std::nullopt;
  return state(row, column);
}

DeviceRow RowReader::device(const Statement& row) {
  DeviceRow device;
  device.id = row.column_int64(0);
  device.serial = row.column_text(1);
  device.product_id = row.column_optional_text(2);
  device.hardware_hash = row.column_optional_blob(3);
  device.manufacturer = row.column_optional_text(4);
  device.model = row.column_optional_text(5);
  device.group_tag = row.column_optional_text(6);
  device.assigned_user = row.column_optional_text(7);
  device.profile = row.column_text(8);
  device.state = state(row, 9);
  device.failure_reason = row.column_optional_text(10);
  device.last_error = row.column_optional_text(11);
  device.request_id = row.column_optional_text(12);
  device.source_file = row.column_optional_text(13);
  device.source_line = row.column_optional_int64(14);
  device.partner_registered = row.column_int64(15) != 0;
  device.import_id = row.column_optional_text(16);
  device.cloud_device_id = row.column_optional_text(17);
  device.attempts = row.column_int64(18);
  device.next_attempt_at = row.column_optional_int64(19);
  device.in_flight_since = row.column_optional_int64(20);
  device.created_at = row.column_int64(21);
  device.updated_at = row.column_int64(22);
  device.state_changed_at = row.column_int64(23);
  device.import_record_id = row.column_optional_text(24);
  device.pending_flagged_at = row.column_optional_int64(25);
  device.managed_device_id = row.column_optional_text(26);
  device.enrollment_state = row.column_optional_text(27);
  device.last_sync_at = row.column_optional_int64(28);
  device.delivered_at = row.column_optional_int64(29);
  device.delivered_to = row.column_optional_text(30);
  device.azure_ad_device_id = row.column_optional_text(31);
  device.pending_cause = row.column_optional_text(32);
  device.last_contacted_at = row.column_optional_int64(33);
  device.has_hash = row.column_int64(34) != 0;
  return device;
}

std::string device_columns(bool with_hash) {
  std::string columns(kDeviceColumns);
  if (!with_hash) columns.replace(columns.find("hardware_hash"), 13, "NULL");
  return columns;
}

core::Result<std::optional<std::string>> departure(Database& database, std::string_view serial) {
  // A serial that left the queue says when and how (its leaving is in the history, schema 9).
  return query_one(
      database,
      "SELECT strftime('%Y-%m-%d %H:%M:%SZ', at / 1000, 'unixepoch'), coalesce(reason, '') "
      "FROM state_history WHERE serial = ?1 COLLATE NOCASE AND to_state IS NULL "
      "ORDER BY id DESC LIMIT 1",
      [](const Statement& row) {
        const std::string reason = row.column_text(1);
        return row.column_text(0) + (reason.empty() ? std::string() : " (" + reason + ")");
      },
      serial);
}

core::Error device_not_found(Database& database, std::string_view serial) {
  auto left = departure(database, serial);
  if (left && *left) {
    return core::make_error(kErrNotFound, "no device with serial " + core::excerpt(serial) +
                                              " is in the queue: it was taken out on " + **left +
                                              "; import it again to track it");
  }
  return core::make_error(kErrNotFound, "no device with serial " + core::excerpt(serial) +
                                            " is in the queue; check the serial, or import it "
                                            "first");
}

core::Result<std::optional<DeviceKey>> find_device_key(Database& database,
                                                       std::string_view serial) {
  RowReader reader;
  return reader.check(query_one(
      database, "SELECT id, state FROM devices WHERE serial = ?1",
      [&reader](const Statement& row) {
        return DeviceKey{row.column_int64(0), reader.state(row, 1)};
      },
      serial));
}

core::Status append_history(Database& database, std::int64_t floor, std::int64_t device_id,
                            std::optional<core::DeviceState> from_state, core::DeviceState to_state,
                            std::optional<std::string_view> reason, std::int64_t at) {
  return execute(
      database,
      "INSERT INTO state_history (id, device_id, serial, from_state, to_state, reason, at) "
      "VALUES (max(coalesce((SELECT max(id) FROM state_history), 0) + 1, ?6), ?1, "
      "(SELECT serial FROM devices WHERE id = ?1), ?2, ?3, ?4, ?5)",
      device_id, from_state, to_state, reason, at, floor);
}

core::Status append_departure(Database& database, std::int64_t floor, std::int64_t device_id,
                              core::DeviceState from_state, std::string_view reason,
                              std::int64_t at) {
  return execute(
      database,
      "INSERT INTO state_history (id, device_id, serial, from_state, to_state, reason, at) "
      "VALUES (max(coalesce((SELECT max(id) FROM state_history), 0) + 1, ?5), ?1, "
      "(SELECT serial FROM devices WHERE id = ?1), ?2, NULL, ?3, ?4)",
      device_id, from_state, reason, at, floor);
}

}  // namespace hangar::store::detail
