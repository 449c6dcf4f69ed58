// `import`: every device is decoded and validated again here (the service never trusts a client),
// then queued; the reply is one ipc::msg::ImportResult per device.
#include <spdlog/spdlog.h>

#include "device_handlers.h"
#include "hangar/core/field_limits.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/intake/portal_csv.h"
#include "hangar/intake/validation.h"
#include "hangar/ipc/args.h"
#include "hangar/ipc/device_wire.h"
#include "hangar/ipc/messages/import.h"

namespace hangar::service::device_handlers {

namespace {

using ipc::Json;

// The OS build `import` compares hashes with ("10.0.22631.2861"): it is quoted in a warning for
// every device that differs, so it is short.
constexpr std::size_t kMaxExpectBuild = 64;

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

  ipc::msg::ImportReply reply;
  std::size_t next = 0;  // walks inserted_index alongside `records`
  for (std::size_t i = 0; i < records.size(); ++i) {
    const core::RecordResult verdict = validator.result(i);
    // The validator's copy: an over-long serial is only an excerpt there.
    ipc::msg::ImportResult& entry = reply.results.emplace_back();
    entry.serial = verdict.serial_number;
    entry.location = verdict.location;
    if (!verdict.os_build.empty()) entry.os_build = verdict.os_build;
    if (verdict.serial_replaced) entry.serial_in_file = std::string(validator.serial_in_file(i));
    if (!decode_errors[i].empty()) {
      entry.outcome = "invalid";
      entry.reason = decode_errors[i];
      ++reply.rejected;
    } else if (next < inserted_index.size() && inserted_index[next] == i) {
      const store::InsertResult& outcome = (*stored)[next++];
      entry.outcome = store::outcome_name(outcome.outcome);
      if (!outcome.message.empty()) entry.reason = outcome.message;
      if (outcome.outcome == store::InsertOutcome::kInserted) {
        ++reply.accepted;
        // Kept as the intended user; assigned by `deliver` once the licences are checked.
        if (!records[i].assigned_user.empty()) entry.user_deferred = records[i].assigned_user;
      } else if (outcome.outcome == store::InsertOutcome::kAlreadyQueued) {
        ++reply.already_queued;
      } else if (outcome.outcome == store::InsertOutcome::kUpdated) {
        ++reply.updated;
      } else if (outcome.outcome == store::InsertOutcome::kRegistrationFailed) {
        reply.registration_failed = reply.registration_failed.value_or(0) + 1;
      } else {
        ++reply.rejected;
      }
    } else {
      entry.outcome = core::verdict_name(verdict.verdict);
      entry.reason = verdict.reason;
      if (verdict.failure) entry.failure = std::string(core::message(*verdict.failure));
      // A duplicate inside the request is the same device twice: not an error, nothing to queue.
      if (verdict.verdict == core::Verdict::kDuplicate) {
        ++reply.already_queued;
      } else {
        ++reply.rejected;
      }
    }
  }
  if (reply.accepted > 0 && context.engine) context.engine->notify();
  spdlog::info("import from {}: {} device(s) accepted, {} already queued, {} updated, {} rejected",
               call.peer.user, reply.accepted, reply.already_queued, reply.updated, reply.rejected);
  return reply.to_json();
}

}  // namespace

void add_import_binding(std::vector<ipc::Binding>& bindings, ServiceContext& context) {
  bindings.push_back({"import", [&context](const Json& args, const ipc::CallContext& call) {
                        return handle_import(context, args, call);
                      }});
}

}  // namespace hangar::service::device_handlers
