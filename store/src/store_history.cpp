// The Store's history: the state changes the event stream replays, one device's history, and the
// profile-group corrections made for it.
#include "store_rows.h"

namespace hangar::store {

using namespace detail;

namespace {

// The rows of one device's table (`sql` selects by device id, ?1), mapped by `map`; not_found
// when no device has this serial.
template <typename Map>
auto device_rows(Database& database, std::string_view serial, std::string_view sql, Map map)
    -> core::Result<std::vector<std::invoke_result_t<Map&, const Statement&>>> {
  auto key = find_device_key(database, serial);
  if (!key) return std::move(key).error();
  if (!*key) return device_not_found(database, serial);
  return query_all(database, sql, map, (*key)->id);
}

}  // namespace

core::Result<std::vector<ChangeRow>> Store::changes_since(std::int64_t after_seq,
                                                          std::int64_t limit) const {
  std::lock_guard lock(mutex_);
  RowReader reader;
  return reader.check(query_all(
      database_,
      "SELECT id, serial, from_state, to_state, reason, at FROM state_history "
      "WHERE id > ?1 ORDER BY id LIMIT ?2",
      [&reader](const Statement& row) {
        // No new state: the device left the queue.
        const bool left = !row.column_optional_text(3).has_value();
        return ChangeRow{row.column_int64(0),
                         row.column_text(1),
                         reader.optional_state(row, 2),
                         left ? core::DeviceState::kQueued : reader.state(row, 3),
                         left,
                         row.column_optional_text(4),
                         row.column_int64(5)};
      },
      after_seq, limit));
}

core::Result<std::int64_t> Store::last_change_seq() const {
  std::lock_guard lock(mutex_);
  return database_.query_int64("SELECT coalesce(max(id), 0) FROM state_history");
}

core::Result<std::vector<HistoryRow>> Store::history(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  // A read transaction gives both queries the same snapshot, even if another process writes.
  auto transaction = Transaction::begin(database_, TransactionMode::kDeferred);
  if (!transaction) return std::move(transaction).error();
  RowReader reader;
  return reader.check(
      device_rows(database_, serial,
                  "SELECT id, device_id, from_state, to_state, reason, at FROM state_history "
                  "WHERE device_id = ?1 AND to_state IS NOT NULL ORDER BY at, id",
                  [&reader](const Statement& row) {
                    return HistoryRow{row.column_int64(0),           row.column_int64(1),
                                      reader.optional_state(row, 2), reader.state(row, 3),
                                      row.column_optional_text(4),   row.column_int64(5)};
                  }));
}

core::Result<std::optional<std::string>> Store::departure(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  return detail::departure(database_, serial);
}

core::Status Store::record_group_correction(const GroupCorrection& correction) {
  std::lock_guard lock(mutex_);
  return execute(database_,
                 "INSERT INTO group_corrections (device_id, at, action, group_id, profile, reason) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 correction.device_id, correction.at, correction.action, correction.group_id,
                 correction.profile, unless_empty(correction.reason));
}

core::Result<std::vector<GroupCorrection>> Store::group_corrections(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  return device_rows(
      database_, serial,
      "SELECT device_id, at, action, group_id, profile, reason FROM group_corrections "
      "WHERE device_id = ?1 ORDER BY at, id",
      [](const Statement& row) {
        return GroupCorrection{row.column_int64(0), row.column_int64(1),
                               row.column_text(2),  row.column_text(3),
                               row.column_text(4),  row.column_optional_text(5).value_or("")};
      });
}

}  // namespace hangar::store
