// The Store's devices: queueing (the same device again, a conflict, a hash twin), listing, reading,
// removing, and every change of a device's row and state with its history.
#include <algorithm>
#include <cctype>

#include "hangar/core/hardware_hash.h"
#include "store_rows.h"

namespace hangar::store {

using namespace detail;

namespace {

bool same_text_ignoring_case(const std::optional<std::string>& a,
                             const std::optional<std::string>& b) {
  const std::string& x = a ? *a : std::string();
  const std::string& y = b ? *b : std::string();
  return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](char c, char d) {
    return std::tolower(static_cast<unsigned char>(c)) ==
           std::tolower(static_cast<unsigned char>(d));
  });
}

// " from file:line" for messages about a queued device, or "" when its origin is unknown.
std::string origin(const std::optional<std::string>& file,
                   const std::optional<std::int64_t>& line) {
  if (!file || file->empty()) return {};
  return " from " + *file + (line && *line > 0 ? ":" + std::to_string(*line) : std::string());
}

}  // namespace

namespace {

// What a device is queued for: changed by a re-import while it waits.
struct Assignment {
  std::string profile;
  std::string group_tag;
  std::string user;
};

// "profile standard -> power-user, group tag Lab -> Sales", or empty when nothing differs.
std::string assignment_changes(const Assignment& was, const Assignment& asked) {
  std::string changes;
  const auto add = [&](std::string_view what, const std::string& from, const std::string& to) {
    if (from == to) return;
    if (!changes.empty()) changes += ", ";
    changes += std::string(what) + " " + (from.empty() ? "(none)" : from) + " -> " +
               (to.empty() ? "(none)" : to);
  };
  add("profile", was.profile, asked.profile);
  add("group tag", was.group_tag, asked.group_tag);
  add("assigned user", was.user, asked.user);
  return changes;
}

}  // namespace

core::Result<std::int64_t> Store::insert_device(const NewDevice& device) {
  auto results = insert_devices(std::span<const NewDevice>(&device, 1));
  if (!results) return std::move(results).error();
  InsertResult& result = results->front();
  switch (result.outcome) {
    case InsertOutcome::kInserted:
    case InsertOutcome::kUpdated:
      return result.id;
    case InsertOutcome::kInvalid:
      return core::make_error(kErrInvalidArgument, std::move(result.message));
    case InsertOutcome::kAlreadyQueued:
    case InsertOutcome::kRegistrationFailed:
    case InsertOutcome::kConflict:
      break;
  }
  return core::make_error(kErrConflict, std::move(result.message));
}

core::Result<std::vector<InsertResult>> Store::insert_devices(std::span<const NewDevice> devices) {
  std::vector<InsertResult> results;
  results.reserve(devices.size());
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  for (const NewDevice& device : devices) {
    auto result = insert_locked(device);
    if (!result) return std::move(result).error();
    results.push_back(std::move(result).value());
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return results;
}

core::Result<InsertResult> Store::insert_locked(const NewDevice& device) {
  // Checked here, not only by the schema, so the caller gets a message instead of a CHECK name.
  if (device.serial.empty()) {
    return InsertResult{InsertOutcome::kInvalid, 0, "a device needs a serial number"};
  }
  const bool has_hash = device.hardware_hash && !device.hardware_hash->empty();

  // The same serial: the same device again (idempotent re-import) or a conflict.
  RowReader reader;
  bool apply_assignment = false;  // the new profile, tag or user is written (queued or failed)
  auto existing = query_one(
      database_,
      "SELECT id, serial, hardware_hash, manufacturer, model, state, source_file, source_line, "
      "profile, group_tag, assigned_user, failure_reason FROM devices WHERE serial = ?1",
      [&](const Statement& row) {
        const std::int64_t id = row.column_int64(0);
        const auto hash = row.column_optional_blob(2);
        const bool same =
            has_hash ? (hash && *hash == *device.hardware_hash)
                     : (!hash &&
                        same_text_ignoring_case(row.column_optional_text(3), device.manufacturer) &&
                        same_text_ignoring_case(row.column_optional_text(4), device.model));
        const std::string where = origin(row.column_optional_text(6), row.column_optional_int64(7));
        const core::DeviceState state_key = reader.state(row, 5);
        const std::string state(core::display_name(state_key));
        if (same) {
          const Assignment was{row.column_text(8), row.column_optional_text(9).value_or(""),
                               row.column_optional_text(10).value_or("")};
          const Assignment asked{
              device.profile,
              device.group_tag_defaulted ? was.group_tag : device.group_tag.value_or(""),
              device.assigned_user.value_or(was.user)};
          const std::string changes = assignment_changes(was, asked);
          // Not queued and nothing will happen to it by itself: a re-import is the admin trying
          // again, and `hangar retry` is how (attack round 5, finding 03). It was never
          // registered, so another profile, tag or user is the admin's correction: applied (it
          // stays failed until the retry sends it), never a dead end (issue 13).
          if (state_key == core::DeviceState::kRegistrationFailed) {
            const auto reason = row.column_optional_text(11);
            const std::string failed = device.serial + " is " + state +
                                       (reason && !reason->empty() ? " (" + *reason + ")" : "");
            // A permanent failure (not found, another organization) is retried only with --force,
            // once the supplier has acted: the hint names the command that works.
            const auto failure = reason ? core::failure_of_text(*reason) : std::nullopt;
            const std::string retry = "`hangar retry " + device.serial +
                                      (failure && core::is_permanent(*failure) ? " --force`" : "`");
            if (changes.empty()) {
              return InsertResult{InsertOutcome::kRegistrationFailed, id,
                                  failed + "; run " + retry +
                                      (failure && core::is_permanent(*failure)
                                           ? " once the supplier has confirmed the device"
                                           : "")};
            }
            apply_assignment = true;
            return InsertResult{
                InsertOutcome::kRegistrationFailed, id,
                failed + "; " + changes + " applied; run " + retry + " to send it again"};
          }
          if (changes.empty()) {
            return InsertResult{InsertOutcome::kAlreadyQueued, id,
                                "serial " + device.serial + " is already queued" + where +
                                    " (state " + state + ")"};
          }
          // Another profile, group tag or user for the same device: the admin correcting an
          // import. Applied while nothing was sent; refused, with the way out, once it was.
          if (state_key == core::DeviceState::kQueued) {
            apply_assignment = true;
            return InsertResult{InsertOutcome::kUpdated, id,
                                "serial " + device.serial + " was already queued" + where +
                                    " and not uploaded yet: " + changes};
          }
          return InsertResult{InsertOutcome::kConflict, id,
                              "serial " + device.serial + " is already queued" + where +
                                  " and past the upload (state " + state + "), so " + changes +
                                  " was NOT applied; to change it, run `hangar remove " +
                                  device.serial + "` and import it again"};
        }
        return InsertResult{
            InsertOutcome::kConflict, id,
            "serial " + row.column_text(1) + " is already queued" + where + " with " +
                (has_hash ? std::string(hash ? "a different hardware hash" : "no hardware hash")
                          : std::string(hash ? "a hardware hash" : "another manufacturer/model")) +
                " (state " + state + "); if this row is the right one, run `hangar remove " +
                device.serial + "` and import it again"};
      },
      device.serial);
  existing = reader.check(std::move(existing));
  if (!existing) return std::move(existing).error();
  if (*existing) {
    InsertResult found = std::move(**existing);
    if (apply_assignment) {
      // Only the user's name is kept: it is assigned by `deliver`, once the licences are checked.
      if (auto status =
              execute(database_,
                      "UPDATE devices SET profile = ?1, group_tag = COALESCE(?2, group_tag), "
                      "assigned_user = COALESCE(?3, assigned_user), updated_at = ?4 "
                      "WHERE id = ?5 AND state IN ('queued', 'registration_failed')",
                      device.profile,
                      // No tag given: the device keeps its own (attack round 5,
                      // finding 01), as the "updated:" message says.
                      device.group_tag_defaulted ? std::nullopt : device.group_tag,
                      device.assigned_user, device.created_at, found.id);
          !status) {
        return std::move(status).error();
      }
    }
    return found;
  }

  std::optional<std::array<std::uint8_t, 16>> fingerprint;
  if (has_hash) {
    fingerprint = core::hash_fingerprint(*device.hardware_hash).bytes();
    std::optional<InsertResult> twin;
    auto status = run_statement(
        database_,
        "SELECT serial, hardware_hash, source_file, source_line FROM devices "
        "WHERE hash_fingerprint = ?1",
        bind_args(std::span<const std::uint8_t>(*fingerprint)), [&](const Statement& row) {
          if (row.column_blob(1) != *device.hardware_hash) return true;
          twin = InsertResult{
              InsertOutcome::kConflict, 0,
              "the same hardware hash is already queued under serial " + row.column_text(0) +
                  origin(row.column_optional_text(2), row.column_optional_int64(3)) +
                  "; one hash is one machine, so one of the two serials is wrong (the cloud would "
                  "refuse the second with ZtdDeviceDuplicated)"};
          return false;
        });
    if (!status) return std::move(status).error();
    if (twin) return std::move(*twin);
  }

  const std::optional<std::span<const std::uint8_t>> fingerprint_bytes =
      fingerprint ? std::optional<std::span<const std::uint8_t>>(*fingerprint) : std::nullopt;
  if (auto status = execute(
          database_,
          "INSERT INTO devices (serial, product_id, hardware_hash, manufacturer, model, group_tag, "
          "assigned_user, profile, state, source_file, source_line, partner_registered, "
          "created_at, updated_at, state_changed_at, hash_fingerprint) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13, ?14)",
          device.serial, device.product_id, device.hardware_hash, device.manufacturer, device.model,
          device.group_tag, device.assigned_user, device.profile, device.state, device.source_file,
          device.source_line, static_cast<std::int64_t>(device.partner_registered ? 1 : 0),
          device.created_at, fingerprint_bytes);
      !status) {
    return std::move(status).error();
  }
  const std::int64_t id = database_.last_insert_rowid();
  // Imported again by an admin: no longer a removed serial. (The partner sync never inserts a
  // removed serial: it skips them.)
  if (!device.partner_registered) {
    if (auto status =
            execute(database_, "DELETE FROM removed_serials WHERE serial = ?1", device.serial);
        !status) {
      return std::move(status).error();
    }
  }
  if (auto status = append_history(database_, history_floor_, id, std::nullopt, device.state,
                                   std::nullopt, device.created_at);
      !status) {
    return std::move(status).error();
  }
  return InsertResult{InsertOutcome::kInserted, id, {}};
}

namespace {

// The filter's optional clauses (state, profile, changed since) as ?2..?4, shared by the list and
// its count; each parameter is bound only when its clause is in the statement.
std::string filter_clauses(const DeviceFilter& filter) {
  std::string sql;
  if (filter.state) sql += " AND state = ?2";
  if (filter.profile) sql += " AND profile = ?3";
  if (filter.changed_since) sql += " AND updated_at >= ?4";
  return sql;
}

core::Status bind_filter(Statement& query, const DeviceFilter& filter) {
  if (filter.state) {
    if (auto status = query.bind(2, *filter.state); !status) return status;
  }
  if (filter.profile) {
    if (auto status = query.bind(3, *filter.profile); !status) return status;
  }
  if (filter.changed_since) return query.bind(4, *filter.changed_since);
  return {};
}

}  // namespace

core::Result<std::vector<DeviceRow>> Store::list_devices(const DeviceFilter& filter) const {
  std::string sql = "SELECT " + device_columns(filter.with_hash) + " FROM devices WHERE id > ?1" +
                    filter_clauses(filter) + " ORDER BY id";
  if (filter.limit > 0) sql += " LIMIT ?5";
  const Binder bind = [&](Statement& query) -> core::Status {
    if (auto status = query.bind(1, filter.after_id); !status) return status;
    if (auto status = bind_filter(query, filter); !status) return status;
    if (filter.limit > 0) return query.bind(5, filter.limit);
    return {};
  };
  std::lock_guard lock(mutex_);
  RowReader reader;
  return reader.check(query_all_bound(
      database_, sql, bind, [&reader](const Statement& row) { return reader.device(row); }));
}

// Ignores after_id and limit: how many devices the filter matches in all.
core::Result<std::int64_t> Store::count_devices(const DeviceFilter& filter) const {
  const std::string sql = "SELECT count(*) FROM devices WHERE 1" + filter_clauses(filter);
  const Binder bind = [&](Statement& query) { return bind_filter(query, filter); };
  std::lock_guard lock(mutex_);
  auto counts = query_all_bound(database_, sql, bind, column_int64_0);
  if (!counts) return std::move(counts).error();
  return counts->empty() ? std::int64_t{0} : counts->front();
}

core::Error upload_in_flight(const std::string& serial) {
  return core::make_error(
      kErrConflict,
      "device " + serial +
          " is being uploaded right now (its import request is in flight, or its answer was "
          "lost and the registration pass will look it up): the cloud may be registering it, "
          "so it is not removed; try again in a minute, when it is Registration Pending "
          "(then `hangar remove " +
          serial + " --force`) or back in the queue");
}

core::Result<DeviceRow> Store::remove_device(std::string_view serial, bool force,
                                             std::int64_t now_ms, std::string_view reason) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  RowReader reader;
  auto found = reader.check(query_one(
      database_, "SELECT " + device_columns(true) + " FROM devices WHERE serial = ?1",
      [&reader](const Statement& row) { return reader.device(row); }, serial));
  if (!found) return std::move(found).error();
  if (!*found) return device_not_found(database_, serial);
  DeviceRow device = std::move(**found);
  if (device.state == core::DeviceState::kQueued && device.in_flight_since) {
    return upload_in_flight(device.serial);
  }
  if (device.state == core::DeviceState::kRegistrationPending && !force) {
    return core::make_error(
        kErrConflict, "device " + device.serial +
                          " is Registration Pending: the cloud is registering it now, so it "
                          "is not removed; wait until it is Ready for user or Registration "
                          "failed (a device pending too long fails by itself), or remove it now "
                          "with --force, which also deletes its import record in the cloud");
  }
  // Its history stays (the serial is in each row), and its leaving is a change of its own.
  if (auto status =
          append_departure(database_, history_floor_, device.id, device.state, reason, now_ms);
      !status) {
    return std::move(status).error();
  }
  if (auto status = execute(database_, "DELETE FROM devices WHERE id = ?1", device.id); !status) {
    return std::move(status).error();
  }
  if (auto status = execute(database_,
                            "INSERT INTO removed_serials (serial, removed_at) VALUES (?1, ?2) "
                            "ON CONFLICT (serial) DO UPDATE SET removed_at = excluded.removed_at",
                            device.serial, now_ms);
      !status) {
    return std::move(status).error();
  }
  if (auto status = transaction->commit(); !status) return std::move(status).error();
  return device;
}

core::Result<DeviceRow> Store::get_device(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  RowReader reader;
  auto found = reader.check(query_one(
      database_, "SELECT " + std::string(kDeviceColumns) + " FROM devices WHERE serial = ?1",
      [&reader](const Statement& row) { return reader.device(row); }, serial));
  if (!found) return std::move(found).error();
  if (!*found) return device_not_found(database_, serial);
  return std::move(**found);
}

core::Status Store::remember_removed(std::string_view serial, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return execute(database_,
                 "INSERT INTO removed_serials (serial, removed_at) VALUES (?1, ?2) "
                 "ON CONFLICT (serial) DO UPDATE SET removed_at = excluded.removed_at",
                 serial, now_ms);
}

core::Result<std::vector<std::string>> Store::removed_serials() const {
  std::lock_guard lock(mutex_);
  return query_all(database_, "SELECT lower(serial) FROM removed_serials ORDER BY lower(serial)",
                   column_text_0);
}

core::Result<std::vector<std::string>> Store::serials() const {
  std::lock_guard lock(mutex_);
  return query_all(database_, "SELECT lower(serial) FROM devices", column_text_0);
}

core::Result<std::vector<DeviceRow>> Store::tracked_devices() const {
  std::lock_guard lock(mutex_);
  RowReader reader;
  return reader.check(query_all(database_,
                                "SELECT " + device_columns(false) +
                                    " FROM devices WHERE state IN ('ready_for_user', 'active', "
                                    "'inactive') ORDER BY id",
                                [&reader](const Statement& row) { return reader.device(row); }));
}

core::Status Store::transition(std::string_view serial, core::DeviceState new_state,
                               std::string_view reason, std::int64_t now_ms) {
  return change_device(serial, std::nullopt, new_state, reason, now_ms, {}, nullptr);
}

core::Status Store::change_device(std::string_view serial,
                                  std::optional<core::DeviceState> from_state,
                                  std::optional<core::DeviceState> new_state,
                                  std::string_view reason, std::int64_t now_ms,
                                  const std::string& set_sql,
                                  const std::function<core::Status(Statement&)>& bind) {
  std::lock_guard lock(mutex_);
  auto transaction = Transaction::begin(database_, TransactionMode::kImmediate);
  if (!transaction) return std::move(transaction).error();
  auto key = find_device_key(database_, serial);
  if (!key) return std::move(key).error();
  if (!*key) return device_not_found(database_, serial);
  if (from_state && (*key)->state != *from_state) {
    return core::make_error(kErrConflict, "device " + std::string(serial) + " is " +
                                              std::string(core::display_name((*key)->state)) +
                                              ", not " +
                                              std::string(core::display_name(*from_state)));
  }
  std::string sql = "UPDATE devices SET updated_at = ?1";
  if (new_state) sql += ", state = ?3, state_changed_at = ?1";
  if (!set_sql.empty()) sql += ", " + set_sql;
  sql += " WHERE id = ?2";
  const Binder bind_update = [&](Statement& update) -> core::Status {
    if (auto status = update.bind(1, now_ms); !status) return status;
    if (auto status = update.bind(2, (*key)->id); !status) return status;
    if (new_state) {
      if (auto status = update.bind(3, *new_state); !status) return status;
    }
    return bind ? bind(update) : core::Status();
  };
  if (auto status = run_statement(database_, sql, bind_update, nullptr); !status) return status;
  if (new_state && *new_state != (*key)->state) {
    if (auto status = append_history(database_, history_floor_, (*key)->id, (*key)->state,
                                     *new_state, unless_empty(reason), now_ms);
        !status) {
      return status;
    }
  }
  return transaction->commit();
}

core::Status Store::record_delivery(std::string_view serial, std::string_view user,
                                    std::int64_t now_ms) {
  return change_device(serial, std::nullopt, std::nullopt, {}, now_ms,
                       "delivered_at = ?10, delivered_to = ?11, assigned_user = ?11",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, now_ms); !status) return status;
                         return update.bind(11, user);
                       });
}

core::Status Store::mark_registered(std::string_view serial, std::string_view cloud_device_id,
                                    std::int64_t now_ms) {
  return change_device(serial, core::DeviceState::kRegistrationPending, std::nullopt, {}, now_ms,
                       "cloud_device_id = ?10, import_record_id = NULL, last_error = NULL",
                       [&](Statement& update) { return update.bind(10, cloud_device_id); });
}

core::Status Store::note_problem(std::string_view serial, std::string_view problem,
                                 std::int64_t now_ms) {
  return change_device(serial, std::nullopt, std::nullopt, {}, now_ms, "last_error = ?10",
                       [&](Statement& update) {
                         return problem.empty() ? update.bind_null(10) : update.bind(10, problem);
                       });
}

core::Status Store::finish_registration(std::string_view serial, core::DeviceState state,
                                        std::optional<std::string> failure_reason,
                                        std::optional<std::string> detail,
                                        std::optional<std::string> request_id,
                                        std::string_view history_reason, std::int64_t now_ms) {
  // From Queued too: a device the cloud refuses at upload never reaches Registration Pending.
  return change_device(
      serial, std::nullopt, state, history_reason, now_ms,
      "in_flight_since = NULL, failure_reason = ?10, last_error = ?11, request_id = ?12, "
      "next_attempt_at = NULL, pending_flagged_at = NULL, pending_cause = NULL",
      [&](Statement& update) -> core::Status {
        if (auto status = update.bind(10, failure_reason); !status) return status;
        if (auto status = update.bind(11, detail); !status) return status;
        return update.bind(12, request_id);
      });
}

core::Status Store::requeue(std::string_view serial, std::int64_t next_attempt_at,
                            std::string_view reason, std::int64_t now_ms) {
  return change_device(serial, core::DeviceState::kRegistrationPending, core::DeviceState::kQueued,
                       reason, now_ms,
                       "import_id = NULL, import_record_id = NULL, in_flight_since = NULL, "
                       "next_attempt_at = ?10, last_error = ?11, pending_flagged_at = NULL, "
                       "pending_cause = NULL",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, next_attempt_at); !status) {
                           return status;
                         }
                         return update.bind(11, reason);
                       });
}

core::Status Store::flag_long_pending(std::string_view serial, std::string_view cause,
                                      std::int64_t now_ms) {
  return change_device(serial, core::DeviceState::kRegistrationPending, std::nullopt, {}, now_ms,
                       "pending_flagged_at = coalesce(pending_flagged_at, ?10), "
                       "pending_cause = ?11",
                       [&](Statement& update) -> core::Status {
                         if (auto status = update.bind(10, now_ms); !status) return status;
                         return update.bind(11, unless_empty(cause));
                       });
}

core::Result<std::pair<std::int64_t, std::vector<DeviceRow>>> Store::long_pending(
    std::int64_t limit) const {
  std::lock_guard lock(mutex_);
  constexpr std::string_view kWhere =
      " FROM devices WHERE state = 'registration_pending' AND pending_flagged_at IS NOT NULL";
  auto total = query_one(database_, "SELECT count(*)" + std::string(kWhere),
                         [](const Statement& row) { return row.column_int64(0); });
  if (!total) return std::move(total).error();
  RowReader reader;
  auto rows = reader.check(query_all(
      database_,
      "SELECT " + device_columns(false) + std::string(kWhere) +
          " ORDER BY state_changed_at, id LIMIT ?1",
      [&reader](const Statement& row) { return reader.device(row); },
      limit > 0 ? limit : std::int64_t{-1}));
  if (!rows) return std::move(rows).error();
  return std::pair<std::int64_t, std::vector<DeviceRow>>{total->value_or(0), std::move(*rows)};
}

core::Result<std::int64_t> Store::retry_failed(std::optional<std::string> serial,
                                               std::int64_t now_ms) {
  std::vector<std::string> serials;
  if (serial) {
    serials.push_back(*serial);
  } else {
    DeviceFilter filter;
    filter.state = core::DeviceState::kRegistrationFailed;
    auto rows = list_devices(filter);
    if (!rows) return std::move(rows).error();
    for (const auto& row : *rows) serials.push_back(row.serial);
  }
  std::int64_t count = 0;
  for (const auto& s : serials) {
    auto status = change_device(
        s, core::DeviceState::kRegistrationFailed, core::DeviceState::kQueued, "retry requested",
        now_ms,
        "failure_reason = NULL, last_error = NULL, request_id = NULL, import_id = NULL, "
        "import_record_id = NULL, in_flight_since = NULL, next_attempt_at = NULL, attempts = 0",
        nullptr);
    if (!status) return std::move(status).error();
    ++count;
  }
  return count;
}

}  // namespace hangar::store
