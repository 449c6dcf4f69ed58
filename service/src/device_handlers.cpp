// Handlers for the device queue commands: import (validated again here: the service never trusts a
// client), list, show and remove.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>

#include "handlers.h"
#include "hangar/core/excerpt.h"
#include "hangar/core/field_limits.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/principal_name.h"
#include "hangar/intake/portal_csv.h"
#include "hangar/intake/validation.h"
#include "hangar/ipc/args.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/device_wire.h"
#include "hangar/store/errors.h"

namespace hangar::service {

namespace {

using ipc::Json;

// A page of `list` must fit one frame: rows with their 4 KB hashes are about 6 KB of JSON each.
// Besides the row counts, a page ends once its rows reach kPageBytes (half a frame), whatever
// their fields hold, so no page can outgrow the frame limit.
constexpr std::int64_t kMaxPageWithHashes = 500;
constexpr std::int64_t kMaxPage = 5000;
constexpr std::size_t kPageBytes = ipc::kDefaultMaxFrameSize / 2;
// A row stored before fields had limits may alone exceed a page: it is sent with each text
// cut to this and without its hash, marked "truncated" (hangar show has the rest).
constexpr std::size_t kOversizeFieldBytes = 4096;
// `show`'s history and group corrections: the newest entries that fit this many bytes.
constexpr std::size_t kShowBytes = ipc::kDefaultMaxFrameSize / 2;
// The OS build `import` compares hashes with ("10.0.22631.2861"): it is quoted in a warning for
// every device that differs, so it is short.
constexpr std::size_t kMaxExpectBuild = 64;

core::Error invalid(std::string message) {
  return core::make_error(ipc::errc::kInvalidArgument, std::move(message));
}

core::Result<std::string> serial_argument(std::string_view command, const Json& args) {
  return ipc::Args(command, args).required_text("serial", "the device's serial number");
}

template <typename T>
void put_optional(Json& json, const char* key, const std::optional<T>& value) {
  if (value) json[key] = *value;
}

std::string display_state(const std::string& key) {
  auto state = core::parse_device_state(key);
  return state ? std::string(core::display_name(*state)) : key;
}

// The row with every text field cut to kOversizeFieldBytes and no hash (see kOversizeFieldBytes).
Json truncated_row(Json row) {
  for (auto& [key, value] : row.items()) {
    if (value.is_string())
      value = core::excerpt(value.get_ref<const std::string&>(), kOversizeFieldBytes);
  }
  row.erase("hash");
  row["truncated"] = true;
  return row;
}

Json row_to_json(const store::DeviceRow& row) {
  Json json{{"id", row.id},
            {"serial", row.serial},
            {"state", row.state},
            {"state_display", display_state(row.state)},
            {"profile", row.profile},
            {"partner_registered", row.partner_registered},
            {"attempts", row.attempts},
            {"created_at", row.created_at},
            {"updated_at", row.updated_at},
            {"state_changed_at", row.state_changed_at},
            {"has_hash", row.hardware_hash ? !row.hardware_hash->empty() : false}};
  put_optional(json, "product_id", row.product_id);
  put_optional(json, "manufacturer", row.manufacturer);
  put_optional(json, "model", row.model);
  put_optional(json, "group_tag", row.group_tag);
  put_optional(json, "assigned_user", row.assigned_user);
  put_optional(json, "failure_reason", row.failure_reason);
  put_optional(json, "last_error", row.last_error);
  put_optional(json, "request_id", row.request_id);
  put_optional(json, "source_file", row.source_file);
  put_optional(json, "source_line", row.source_line);
  put_optional(json, "import_id", row.import_id);
  put_optional(json, "cloud_device_id", row.cloud_device_id);
  put_optional(json, "next_attempt_at", row.next_attempt_at);
  put_optional(json, "managed_device_id", row.managed_device_id);
  put_optional(json, "enrollment_state", row.enrollment_state);
  put_optional(json, "last_sync_at", row.last_sync_at);
  put_optional(json, "delivered_at", row.delivered_at);
  put_optional(json, "delivered_to", row.delivered_to);
  put_optional(json, "azure_ad_device_id", row.azure_ad_device_id);
  put_optional(json, "last_contacted_at", row.last_contacted_at);
  // The seed's advice for a failure it names; permanent ones wait for the supplier, not a retry.
  if (row.failure_reason) {
    if (auto failure = core::failure_of_text(*row.failure_reason)) {
      json["advice"] = std::string(core::advice(*failure));
      json["permanent"] = core::is_permanent(*failure);
    }
  }
  // Registration Pending for longer than usual, and why as far as the engine knows.
  if (row.state == "registration_pending" && row.pending_flagged_at) {
    json["long_pending"] = true;
    json["pending_flagged_at"] = *row.pending_flagged_at;
    put_optional(json, "pending_cause", row.pending_cause);
  }
  if (row.hardware_hash && !row.hardware_hash->empty()) {
    json["hash"] = core::encode_base64(*row.hardware_hash);
  }
  return json;
}

core::Result<Json> handle_import(ServiceContext& context, const Json& args,
                                 const ipc::CallContext& call) {
  const ipc::Args reader("import", args);
  auto devices_or = reader.array("devices");
  if (!devices_or) return std::move(devices_or).error();
  if (*devices_or == nullptr)
    return invalid("import needs \"devices\", an array of device objects");
  const Json* devices = *devices_or;
  if (devices->size() > ipc::kMaxImportBatch) {
    return invalid("at most " + std::to_string(ipc::kMaxImportBatch) +
                   " devices per import request, got " + std::to_string(devices->size()));
  }
  core::ValidationOptions validation;
  auto expect_build = reader.text("expect_build");
  if (!expect_build) return std::move(expect_build).error();
  if (*expect_build) {
    if ((*expect_build)->size() > kMaxExpectBuild) {
      return invalid("\"expect_build\" of import is an OS build such as 10.0.22631.2861, at most " +
                     std::to_string(kMaxExpectBuild) + " bytes; got " +
                     std::to_string((*expect_build)->size()));
    }
    validation.expect_build = std::move(**expect_build);
  }
  // The CLI's --strict. Without it a serial Excel changed is replaced by the hash's here too, so a
  // client that sent the file's serial as it was still queues the device under its real one.
  auto strict = reader.flag("strict_serials");
  if (!strict) return std::move(strict).error();
  validation.strict_serials = strict->value_or(false);

  // Each record is decoded and validated again; within the request, duplicates and conflicts are
  // found by the validator, and against everything queued before by the store.
  core::Validator validator(validation);
  std::vector<core::DeviceRecord> records;
  std::vector<std::string> decode_errors;
  records.reserve(devices->size());
  for (const Json& item : *devices) {
    auto wire = ipc::device_from_wire(item);
    if (!wire) {
      decode_errors.push_back(wire.error().message);
      records.emplace_back();
      validator.add(records.back(), {});
      continue;
    }
    // The portal's CSV must carry every queued tag (export, a later manual upload): the same check
    // as the CLI's --group-tag, so a tag queued is never one export has to leave out.
    std::string tag_problem;
    if (!wire->device.group_tag.empty()) {
      if (auto problem = core::group_tag_problem(wire->device.group_tag); !problem.empty()) {
        tag_problem = "the Group Tag " + problem +
                      " (it must fit the portal's CSV: ASCII, no "
                      "comma, quote or line break)";
      }
    }
    decode_errors.push_back(std::move(tag_problem));
    records.push_back(std::move(wire->device));
    validator.add(records.back(), wire->hash_error);
  }
  validator.finish();
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (decode_errors[i].empty() && validator.accepted(i)) {
      validator.apply_corrections(i, records[i]);
    }
  }

  const std::int64_t now = context.clock.now_ms();
  std::vector<store::NewDevice> to_insert;
  std::vector<std::size_t> inserted_index;  // position in `records` of each to_insert entry
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!decode_errors[i].empty() || !validator.accepted(i)) continue;
    const core::DeviceRecord& r = records[i];
    store::NewDevice device;
    device.serial = r.serial_number;
    auto optional_text = [](const std::string& text) {
      return text.empty() ? std::nullopt : std::optional<std::string>(text);
    };
    device.product_id = optional_text(r.windows_product_id);
    if (!r.hardware_hash.empty()) device.hardware_hash = r.hardware_hash;
    device.manufacturer = optional_text(r.manufacturer);
    device.model = optional_text(r.model);
    // Get-WindowsAutoPilotInfo's rows carry no make or model: the hash has them (SMBIOS records
    // 16 and 17), and the hand-off list shows them, so they are stored now.
    if ((!device.manufacturer || !device.model) && !r.hardware_hash.empty()) {
      if (auto info = core::parse_hardware_hash(r.hardware_hash)) {
        if (!device.manufacturer) device.manufacturer = optional_text(info->manufacturer);
        if (!device.model) device.model = optional_text(info->model);
      }
    }
    device.group_tag = r.group_tag.empty() ? std::string(core::kDefaultGroupTag) : r.group_tag;
    // No tag given (no --group-tag, none in the file): a queued device keeps the one it has.
    device.group_tag_defaulted = r.group_tag.empty();
    device.assigned_user = optional_text(r.assigned_user);
    device.profile = std::string(core::cli_name(r.profile));
    device.source_file = optional_text(r.source_file);
    if (r.source_line > 0) device.source_line = static_cast<std::int64_t>(r.source_line);
    device.created_at = now;
    to_insert.push_back(std::move(device));
    inserted_index.push_back(i);
  }
  auto stored = context.store.insert_devices(to_insert);
  if (!stored) return stored.error();

  Json results = Json::array();
  std::size_t accepted = 0, already = 0, updated = 0, rejected = 0;
  std::size_t next = 0;  // walks inserted_index alongside `records`
  for (std::size_t i = 0; i < records.size(); ++i) {
    const core::RecordResult verdict = validator.result(i);
    // The validator's copy: an over-long serial is only an excerpt there.
    Json entry{{"serial", verdict.serial_number}, {"location", verdict.location}};
    if (!verdict.os_build.empty()) entry["os_build"] = verdict.os_build;
    if (verdict.serial_replaced) entry["serial_in_file"] = validator.serial_in_file(i);
    if (!decode_errors[i].empty()) {
      entry["outcome"] = "invalid";
      entry["reason"] = decode_errors[i];
      ++rejected;
    } else if (next < inserted_index.size() && inserted_index[next] == i) {
      const store::InsertResult& outcome = (*stored)[next++];
      entry["outcome"] = store::outcome_name(outcome.outcome);
      if (!outcome.message.empty()) entry["reason"] = outcome.message;
      if (outcome.outcome == store::InsertOutcome::kInserted) {
        ++accepted;
        // Kept as the intended user; assigned by `deliver` once the licences are checked.
        if (!records[i].assigned_user.empty()) entry["user_deferred"] = records[i].assigned_user;
      } else if (outcome.outcome == store::InsertOutcome::kAlreadyQueued) {
        ++already;
      } else if (outcome.outcome == store::InsertOutcome::kUpdated) {
        ++updated;
      } else {
        ++rejected;
      }
    } else {
      entry["outcome"] = std::string(core::verdict_name(verdict.verdict));
      entry["reason"] = verdict.reason;
      if (verdict.failure) entry["failure"] = std::string(core::message(*verdict.failure));
      // A duplicate inside the request is the same device twice: not an error, nothing to queue.
      if (verdict.verdict == core::Verdict::kDuplicate) {
        ++already;
      } else {
        ++rejected;
      }
    }
    results.push_back(std::move(entry));
  }
  if (accepted > 0 && context.engine) context.engine->notify();
  spdlog::info("import from {}: {} device(s) accepted, {} already queued, {} updated, {} rejected",
               call.peer.user, accepted, already, updated, rejected);
  return Json{{"accepted", accepted},
              {"already_queued", already},
              {"updated", updated},
              {"rejected", rejected},
              {"results", std::move(results)}};
}

// How long an operator command may wait for the engine (a throttle window included): what the
// caller said it waits (wait_ms), at most ipc::kOperatorWait, at least a second.
core::Result<std::chrono::milliseconds> operator_wait(std::string_view command, const Json& args) {
  auto given = ipc::Args(command, args).count("wait_ms");
  if (!given) return std::move(given).error();
  const std::uint64_t wanted =
      given->value_or(static_cast<std::uint64_t>(ipc::kOperatorWait.count()));
  return std::chrono::milliseconds(std::clamp<std::uint64_t>(
      wanted, 1'000, static_cast<std::uint64_t>(ipc::kOperatorWait.count())));
}

core::Result<Json> handle_deliver(ServiceContext& context, const Json& args,
                                  const ipc::CallContext& call) {
  auto serial = serial_argument("deliver", args);
  if (!serial) return serial.error();
  auto given = ipc::Args("deliver", args).text("user");
  if (!given) return std::move(given).error();
  std::string user_text;
  if (*given && !(*given)->empty()) {
    user_text = **given;
  } else {
    // The user the import named (import --user, the CSV's Assigned User column).
    auto device = context.store.get_device(*serial);
    if (!device) return device.error();
    if (!device->assigned_user || device->assigned_user->empty()) {
      return invalid("device " + device->serial +
                     " names no user: give the user's principal name with --user");
    }
    user_text = *device->assigned_user;
  }
  // A name pasted with a space or a line break around it is still the name.
  const auto first = user_text.find_first_not_of(" \t\r\n");
  user_text = first == std::string::npos
                  ? std::string()
                  : user_text.substr(first, user_text.find_last_not_of(" \t\r\n") - first + 1);
  const std::string* user = &user_text;
  // Entra ID's rule, the one the CSV's Assigned User column and import --user are checked by.
  if (auto problem = core::user_principal_name_problem(*user); !problem.empty()) {
    return invalid("\"" + core::excerpt(*user, 80) + "\" is not a user principal name: it " +
                   problem + "; give it as " + std::string(core::user_principal_name_rule()) +
                   " with --user");
  }
  if (!context.engine) {
    return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
  }
  auto wait = operator_wait("deliver", args);
  if (!wait) return wait.error();
  auto delivered = context.engine->deliver(*serial, *user, *wait);
  if (!delivered) return delivered.error();
  spdlog::info("{} delivered {} to {}", call.peer.user, delivered->serial,
               delivered->delivered_to.value_or(""));
  return row_to_json(*delivered);
}

core::Result<Json> handle_list(ServiceContext& context, const Json& args) {
  const ipc::Args reader("list", args);
  store::DeviceFilter filter;
  auto state_text = reader.text("state");
  if (!state_text) return std::move(state_text).error();
  if (*state_text) {
    auto state = core::parse_device_state(**state_text);
    if (!state) {
      return invalid("unknown state \"" + core::excerpt(**state_text) +
                     "\"; use queued, registration-pending, registration-failed, ready-for-user, "
                     "active or inactive");
    }
    filter.state = std::string(core::storage_key(*state));
  }
  auto profile_text = reader.text("profile");
  if (!profile_text) return std::move(profile_text).error();
  if (*profile_text) {
    auto profile = core::parse_profile(**profile_text);
    if (!profile) {
      return invalid("unknown profile \"" + core::excerpt(**profile_text) +
                     "\"; use standard, sensitive-data or power-user");
    }
    filter.profile = std::string(core::cli_name(*profile));
  }
  // Counts arrive as unsigned 64-bit numbers; the store's are signed.
  const auto as_int64 = [](std::uint64_t value) {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(value, std::numeric_limits<std::int64_t>::max()));
  };
  auto since = reader.count("since_ms");
  if (!since) return std::move(since).error();
  if (*since) filter.changed_since = as_int64(**since);
  auto after = reader.count("after_id");
  if (!after) return std::move(after).error();
  if (*after) filter.after_id = as_int64(**after);
  auto limit_arg = reader.count("limit");
  if (!limit_arg) return std::move(limit_arg).error();
  const std::int64_t limit = *limit_arg ? as_int64(**limit_arg) : 0;
  auto with_hash = reader.flag("with_hash");
  if (!with_hash) return std::move(with_hash).error();
  filter.with_hash = with_hash->value_or(false);
  const std::int64_t page_max = filter.with_hash ? kMaxPageWithHashes : kMaxPage;
  filter.limit = limit == 0 ? page_max : std::min(limit, page_max);

  auto rows = context.store.list_devices(filter);
  if (!rows) return rows.error();
  Json devices = Json::array();
  std::size_t bytes = 0;
  bool cut_short = false;  // the byte budget ended the page before the rows did
  for (const auto& row : *rows) {
    Json json = row_to_json(row);
    std::size_t size = ipc::json_size(json);
    if (size > kPageBytes) {
      json = truncated_row(std::move(json));
      size = ipc::json_size(json);
    }
    if (!devices.empty() && bytes + size > kPageBytes) {
      cut_short = true;
      break;
    }
    bytes += size;
    devices.push_back(std::move(json));
  }
  const std::int64_t last_id = devices.empty() ? 0 : devices.back()["id"].get<std::int64_t>();
  Json reply{{"devices", std::move(devices)}};
  // On the first page: how many devices match in all, so a listing can say "50 of 1,519".
  if (filter.after_id == 0) {
    auto total = context.store.count_devices(filter);
    if (!total) return total.error();
    reply["total"] = *total;
  }
  // When the page size, not the caller, cut the list short, a full page may have more behind it:
  // the client asks again from here.
  const bool clamped = limit == 0 || limit > page_max;
  if (cut_short || (clamped && static_cast<std::int64_t>(rows->size()) == filter.limit)) {
    reply["next_after_id"] = last_id;
  }
  return reply;
}

// Keeps the newest entries of `entries` (oldest first) that fit `budget` bytes; returns how many
// older ones were left out.
std::size_t keep_newest(Json& entries, std::size_t budget) {
  std::size_t bytes = 0;
  std::size_t keep = 0;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const std::size_t size = ipc::json_size(*it) + 1;
    if (bytes + size > budget) break;
    bytes += size;
    ++keep;
  }
  const std::size_t dropped = entries.size() - keep;
  if (dropped > 0) {
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(dropped));
  }
  return dropped;
}

core::Result<Json> handle_show(ServiceContext& context, const Json& args) {
  auto serial = serial_argument("show", args);
  if (!serial) return serial.error();
  auto row = context.store.get_device(*serial);
  if (!row) return row.error();
  auto history = context.store.history(*serial);
  if (!history) return history.error();
  Json json = row_to_json(*row);
  if (ipc::json_size(json) > kShowBytes) json = truncated_row(std::move(json));
  if (row->hardware_hash && !row->hardware_hash->empty()) {
    auto info = core::parse_hardware_hash(*row->hardware_hash);
    if (info) {
      json["hash_summary"] = {{"bytes", row->hardware_hash->size()},
                              {"os_build", info->os_build},
                              {"serial", info->serial_number},
                              {"manufacturer", info->manufacturer},
                              {"model", info->model},
                              {"sku", info->sku},
                              {"family", info->family},
                              {"tpm_version", info->tpm_version},
                              {"checksum", core::checksum_name(info->checksum)}};
    } else {
      json["hash_summary"] = {{"bytes", row->hardware_hash->size()},
                              {"error", info.error().message}};
    }
  }
  Json changes = Json::array();
  for (const auto& change : *history) {
    Json entry{
        {"to", change.to_state}, {"to_display", display_state(change.to_state)}, {"at", change.at}};
    put_optional(entry, "from", change.from_state);
    put_optional(entry, "reason", change.reason);
    changes.push_back(std::move(entry));
  }
  // A device retried for years has a long history: the newest part that fits is shown.
  if (const std::size_t dropped = keep_newest(changes, kShowBytes / 2); dropped > 0) {
    json["history_omitted"] = dropped;
  }
  json["history"] = std::move(changes);
  auto corrections = context.store.group_corrections(*serial);
  if (!corrections) return corrections.error();
  Json groups = Json::array();
  for (const auto& correction : *corrections) {
    Json entry{{"at", correction.at},
               {"action", correction.action},
               {"group_id", correction.group_id},
               {"profile", correction.profile}};
    if (!correction.reason.empty()) entry["reason"] = correction.reason;
    groups.push_back(std::move(entry));
  }
  if (const std::size_t dropped = keep_newest(groups, kShowBytes / 4); dropped > 0) {
    json["group_corrections_omitted"] = dropped;
  }
  json["group_corrections"] = std::move(groups);
  return json;
}

core::Result<Json> handle_remove(ServiceContext& context, const Json& args,
                                 const ipc::CallContext& call) {
  auto serial = serial_argument("remove", args);
  if (!serial) return serial.error();
  auto force = ipc::Args("remove", args).flag("force");
  if (!force) return std::move(force).error();
  auto wait = operator_wait("remove", args);
  if (!wait) return wait.error();
  // Forced: on the engine's thread, which uploads and polls, so it cannot race the device's
  // upload; a pending device's import is asked about first (registered devices are kept).
  // Unforced: the store refuses a pending device and an upload in flight in one transaction.
  core::Result<store::DeviceRow> removed = core::make_error(ipc::errc::kInternal, "not run");
  std::string record_deleted;
  if (force->value_or(false) && context.engine) {
    auto withdrawn = context.engine->withdraw(*serial, *wait);
    if (!withdrawn) return withdrawn.error();
    record_deleted = withdrawn->import_record_deleted;
    removed = std::move(withdrawn->device);
  } else {
    removed = context.store.remove_device(*serial, force->value_or(false), context.clock.now_ms());
  }
  if (!removed) return removed.error();
  spdlog::info("remove by {}: device {} (was {})", call.peer.user, removed->serial, removed->state);
  Json reply{{"removed", removed->serial}, {"state", removed->state}};
  // The queue forgets it, the tenant does not: the Autopilot registration stays until
  // `hangar deregister` deletes it. Partner sync will not add the serial back either way.
  // Registration Pending without an import record: the import finished (mark_registered), only
  // the profile was still to be confirmed.
  const bool registered = removed->cloud_device_id || removed->partner_registered ||
                          removed->state == "ready_for_user" || removed->state == "active" ||
                          removed->state == "inactive" ||
                          (removed->state == "registration_pending" && !removed->import_record_id);
  reply["registered_in_autopilot"] = registered;
  if (!record_deleted.empty()) reply["import_record_deleted"] = record_deleted;
  return reply;
}

core::Result<Json> handle_deregister(ServiceContext& context, const Json& args,
                                     const ipc::CallContext& call) {
  auto serial = serial_argument("deregister", args);
  if (!serial) return serial.error();
  if (!context.engine) {
    return core::make_error(ipc::errc::kUnavailable, "no registration engine runs");
  }
  auto wait = operator_wait("deregister", args);
  if (!wait) return wait.error();
  auto deleted = context.engine->deregister(*serial, *wait);
  if (!deleted) return deleted.error();
  spdlog::info("deregister by {}: device {} {} ({})", call.peer.user, *serial,
               deleted->already_gone ? "was already deleted in Windows Autopilot"
                                     : "deleted from Windows Autopilot",
               deleted->autopilot_id);
  Json reply{{"deregistered", *serial}, {"autopilot_id", deleted->autopilot_id}};
  if (deleted->already_gone) reply["already_deleted"] = true;
  return reply;
}

core::Result<Json> handle_retry(ServiceContext& context, const Json& args,
                                const ipc::CallContext& call) {
  const ipc::Args reader("retry", args);
  auto serial = reader.text("serial");
  if (!serial) return std::move(serial).error();
  auto failed = reader.flag("failed");
  if (!failed) return std::move(failed).error();
  if ((!*serial || (*serial)->empty()) && !failed->value_or(false)) {
    return invalid("give a serial, or \"failed\": true for every failed device");
  }
  if (*serial && (*serial)->empty()) serial->reset();
  auto force = reader.flag("force");
  if (!force) return std::move(force).error();
  const std::int64_t now = context.clock.now_ms();
  if (*serial) {
    // One device named: a permanent failure (not found, another organization) is skipped
    // unless forced, as with --failed: a retry cannot help until the supplier acts.
    if (auto device = context.store.get_device(**serial);
        device && device->failure_reason && !force->value_or(false)) {
      const auto failure = core::failure_of_text(*device->failure_reason);
      if (failure && core::is_permanent(*failure) && device->state == "registration_failed") {
        spdlog::info("retry by {}: {} skipped (permanent failure, not forced)", call.peer.user,
                     **serial);
        return Json{
            {"requeued", 0},
            {"skipped", 1},
            {"skipped_reasons", Json::array({{{"reason", std::string(core::message(*failure))},
                                              {"devices", 1},
                                              {"advice", std::string(core::advice(*failure))}}})}};
      }
    }
    auto count = context.store.retry_failed(*serial, now);
    if (!count) return count.error();
    spdlog::info("retry by {}: {} queued again", call.peer.user, **serial);
    if (*count > 0 && context.engine) context.engine->notify();
    return Json{{"requeued", *count}, {"skipped", 0}};
  }
  // Every failed device, except those a retry cannot help (not found, another organization:
  // the supplier must act first) unless forced.
  store::DeviceFilter filter;
  filter.state = "registration_failed";
  auto failed_rows = context.store.list_devices(filter);
  if (!failed_rows) return failed_rows.error();
  std::int64_t requeued = 0;
  std::int64_t skipped = 0;
  std::map<std::string, std::int64_t> skipped_by_reason;
  for (const auto& row : *failed_rows) {
    const auto failure = core::failure_of_text(row.failure_reason.value_or(""));
    if (failure && core::is_permanent(*failure) && !force->value_or(false)) {
      ++skipped;
      ++skipped_by_reason[std::string(core::message(*failure))];
      continue;
    }
    auto count = context.store.retry_failed(row.serial, now);
    if (!count) return count.error();
    requeued += *count;
  }
  spdlog::info("retry by {}: {} device(s) queued again, {} permanent failure(s) skipped",
               call.peer.user, requeued, skipped);
  if (requeued > 0 && context.engine) context.engine->notify();
  Json reply{{"requeued", requeued}, {"skipped", skipped}};
  if (skipped > 0) {
    Json reasons = Json::array();
    for (const auto& [reason, n] : skipped_by_reason) {
      const auto failure = core::failure_of_text(reason);
      reasons.push_back({{"reason", reason},
                         {"devices", n},
                         {"advice", failure ? std::string(core::advice(*failure)) : ""}});
    }
    reply["skipped_reasons"] = std::move(reasons);
  }
  return reply;
}

}  // namespace

void add_device_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context) {
  bindings.push_back({"import", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_import(context, args, call);
                      }});
  bindings.push_back({"list", [&context](const Json& args, const ipc::CallContext&) {
                        return handle_list(context, args);
                      }});
  bindings.push_back({"deliver", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_deliver(context, args, call);
                      }});
  bindings.push_back({"show", [&context](const Json& args, const ipc::CallContext&) {
                        return handle_show(context, args);
                      }});
  bindings.push_back({"retry", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_retry(context, args, call);
                      }});
  bindings.push_back({"remove", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_remove(context, args, call);
                      }});
  bindings.push_back({"deregister", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_deregister(context, args, call);
                      }});
}

}  // namespace hangar::service
