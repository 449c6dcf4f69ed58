// The registration pass's cloud reads whose request form the service may refuse, each with its
// fallback, the recovery of in-doubt devices, and `hangar remove --force` of a pending device
// (see registration_pass.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "hangar/ipc/protocol.h"
#include "hangar/service/passes/registration_pass.h"
#include "same_machine.h"
#include "text_util.h"

namespace hangar::service {

namespace {

// Intune lists pages of about 1,000 (microsoft-graph-docs-contrib #3693; managedDevices:
// powershell-intune-samples #2): the estimate of what a whole-table list costs.
constexpr std::size_t kIntunePage = 1000;

// Of several import records for one serial (an earlier attempt's may still be there), the one an
// interrupted upload most likely made: still in progress, else complete, else failed.
const cloud::ImportRecord* most_recent_attempt(const std::vector<const cloud::ImportRecord*>& all) {
  const auto rank = [](const cloud::ImportRecord* record) {
    switch (record->status) {
      case cloud::ImportStatus::kUnknown:
      case cloud::ImportStatus::kPending:
      case cloud::ImportStatus::kPartial:
        return 0;
      case cloud::ImportStatus::kComplete:
        return 1;
      case cloud::ImportStatus::kError:
        return 2;
    }
    return 2;
  };
  const cloud::ImportRecord* best = nullptr;
  for (const cloud::ImportRecord* record : all) {
    if (!best || rank(record) <= rank(best)) best = record;
  }
  return best;
}

}  // namespace

std::size_t RegistrationPass::import_table_pages(std::size_t ours) const {
  return std::max<std::size_t>(1, (ours + foreign_records_ + kIntunePage - 1) / kIntunePage);
}

void RegistrationPass::recover(std::int64_t now) {
  auto doubtful = ctx_.store.in_doubt_devices();
  if (!doubtful) {
    spdlog::error("reading in-flight devices: {}", doubtful.error().message);
    return;
  }
  const auto adopt = [&](const store::DeviceRow& device, const cloud::ImportRecord* record) {
    if (record) {
      // Sent before the answer was lost: adopt the cloud's record instead of importing again.
      spdlog::info(
          "device {} reached the cloud before the interruption (import record {}); not sending "
          "it again",
          device.serial, record->id);
      if (auto status = ctx_.store.mark_uploaded(device.serial, record->id, record->import_id, now);
          !status) {
        spdlog::error("recording {}: {}", device.serial, status.error().message);
      }
    } else if (auto status = ctx_.store.release_upload(device.serial, std::nullopt, false, {}, now);
               !status) {
      spdlog::error("releasing {}: {}", device.serial, status.error().message);
    }
  };
  std::size_t pending = 0;
  if (auto counts = ctx_.store.count_by_state(); counts) {
    pending = static_cast<std::size_t>((*counts)[core::DeviceState::kRegistrationPending]);
  }
  // One lookup per device, or one list of the whole table (its pages), whichever is fewer; the
  // table too once the service refuses the serial filter (400 or 501: nothing is documented for
  // import records, the filter is what public tools use).
  bool whole_table = doubtful->size() > import_table_pages(pending + doubtful->size()) ||
                     ctx_.health.avoid(forms::kImportedBySerial, now);
  std::size_t done = 0;
  for (; !whole_table && done < doubtful->size(); ++done) {
    const store::DeviceRow& device = (*doubtful)[done];
    auto records = cloud_.read(Lane::kIntune, [&](cloud::RegistrationCloud& api) {
      return api.import_records_for_serial(device.serial);
    });
    if (!records) {
      const core::Error& error = records.error();
      if (error.code == CloudBudget::kNotNow) return;
      const Refusal refusal = ctx_.health.refused(forms::kImportedBySerial, error, now);
      if (refusal == Refusal::kPersistent || error.http_status == 400 || error.http_status == 501) {
        if (refusal != Refusal::kPersistent) ctx_.health.failed(error, now);
        spdlog::warn(
            "the cloud refuses to filter import records by serial (HTTP {}, request id {}); "
            "listing the whole import table instead",
            error.http_status, error.request_id.empty() ? "none given" : error.request_id);
        whole_table = true;
        break;
      }
      ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, error);
      return;
    }
    ctx_.health.accepted(forms::kImportedBySerial, now);
    std::vector<const cloud::ImportRecord*> mine;
    for (const auto& record : *records) mine.push_back(&record);
    adopt(device, most_recent_attempt(mine));
  }
  if (whole_table && done < doubtful->size()) {
    auto table = cloud_.read(
        Lane::kIntune, [](cloud::RegistrationCloud& api) { return api.list_import_records(); });
    if (!table) {
      if (table.error().code == CloudBudget::kNotNow) return;
      (void)ctx_.health.refused(forms::kImportedList, table.error(), now);
      ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, table.error());
      return;
    }
    ctx_.health.accepted(forms::kImportedList, now);
    std::map<std::string, std::vector<const cloud::ImportRecord*>> by_serial;
    for (const auto& record : *table) by_serial[lower(record.serial)].push_back(&record);
    for (; done < doubtful->size(); ++done) {
      const store::DeviceRow& device = (*doubtful)[done];
      const auto it = by_serial.find(lower(device.serial));
      adopt(device, it == by_serial.end() ? nullptr : most_recent_attempt(it->second));
    }
  }
  recovered_ = true;
}

core::Result<std::map<std::string, cloud::ImportRecord>> RegistrationPass::read_import_records(
    const std::vector<const store::DeviceRow*>& devices, std::int64_t now) {
  std::map<std::string, cloud::ImportRecord> by_id;
  // Intune gives each record its own import id, so one record is one GET; the whole table costs
  // its pages. Ties go to the table: it also tells how many records are not ours.
  bool whole_table = devices.size() >= import_table_pages(devices.size()) ||
                     ctx_.health.avoid(forms::kImportedGet, now);
  for (std::size_t i = 0; !whole_table && i < devices.size(); ++i) {
    const std::string id = devices[i]->import_record_id.value_or("");
    auto record = cloud_.read(Lane::kIntune,
                              [&](cloud::RegistrationCloud& api) { return api.import_record(id); });
    if (!record) {
      if (record.error().code == CloudBudget::kNotNow) return record.error();
      if (ctx_.health.refused(forms::kImportedGet, record.error(), now) == Refusal::kPersistent) {
        whole_table = true;
        break;
      }
      return record.error();
    }
    ctx_.health.accepted(forms::kImportedGet, now);
    if (*record) by_id.emplace(id, std::move(**record));
  }
  if (!whole_table) return by_id;
  by_id.clear();
  auto records = cloud_.read(
      Lane::kIntune, [](cloud::RegistrationCloud& api) { return api.list_import_records(); });
  if (!records) {
    (void)ctx_.health.refused(forms::kImportedList, records.error(), now);
    return records.error();
  }
  ctx_.health.accepted(forms::kImportedList, now);
  std::size_t matched = 0;
  for (auto& record : *records) by_id.emplace(record.id, std::move(record));
  for (const store::DeviceRow* device : devices) {
    if (by_id.count(device->import_record_id.value_or("")) > 0) ++matched;
  }
  // Records that are not ours (other tools', or ours awaiting deletion) make the table bigger.
  foreign_records_ = by_id.size() - matched;
  return by_id;
}

core::Result<std::vector<cloud::AutopilotDevice>> RegistrationPass::read_all_devices(
    std::int64_t now) {
  if (all_devices_) return *all_devices_;
  auto listed = cloud_.read(
      Lane::kIntune, [](cloud::RegistrationCloud& api) { return api.list_autopilot_devices(); });
  if (!listed) {
    (void)ctx_.health.refused(forms::kAutopilotList, listed.error(), now);
    return listed.error();
  }
  ctx_.health.accepted(forms::kAutopilotList, now);
  all_devices_ = std::move(*listed);
  return *all_devices_;
}

core::Result<std::vector<cloud::AutopilotDevice>> RegistrationPass::read_tagged(
    const std::string& tag, std::int64_t now) {
  if (!ctx_.health.avoid(forms::kAutopilotByGroupTag, now)) {
    auto listed = cloud_.read(Lane::kIntune, [&](cloud::RegistrationCloud& api) {
      return api.list_autopilot_devices_tagged(tag);
    });
    if (listed) {
      ctx_.health.accepted(forms::kAutopilotByGroupTag, now);
      return listed;
    }
    if (listed.error().code == CloudBudget::kNotNow) return listed.error();
    if (ctx_.health.refused(forms::kAutopilotByGroupTag, listed.error(), now) !=
        Refusal::kPersistent) {
      return listed.error();
    }
  }
  // The fallback: every device, the tag matched here as contains() would (ignoring case).
  auto all = read_all_devices(now);
  if (!all) return all.error();
  std::vector<cloud::AutopilotDevice> tagged;
  const std::string wanted = lower(tag);
  for (const auto& device : *all) {
    if (lower(device.group_tag).find(wanted) != std::string::npos) tagged.push_back(device);
  }
  return tagged;
}

core::Result<std::optional<cloud::AutopilotDevice>> RegistrationPass::read_device(
    const store::DeviceRow& device, std::int64_t now) {
  const std::string& serial = device.serial;
  if (!ctx_.health.avoid(forms::kAutopilotBySerial, now)) {
    auto found = cloud_.read(Lane::kIntune, [&](cloud::RegistrationCloud& api) {
      return api.find_autopilot_devices(serial);
    });
    if (found) {
      ctx_.health.accepted(forms::kAutopilotBySerial, now);
      return this_machine(*found, &device);
    }
    if (found.error().code == CloudBudget::kNotNow) return found.error();
    if (ctx_.health.refused(forms::kAutopilotBySerial, found.error(), now) !=
        Refusal::kPersistent) {
      return found.error();
    }
  }
  auto all = read_all_devices(now);
  if (!all) return all.error();
  const std::string wanted = lower(serial);
  std::vector<cloud::AutopilotDevice> listed;
  for (const auto& listed_device : *all) {
    if (lower(listed_device.serial) == wanted) listed.push_back(listed_device);
  }
  return this_machine(listed, &device);
}

core::Result<RegistrationPass::Withdrawn> RegistrationPass::withdraw(const std::string& serial,
                                                                     std::int64_t now,
                                                                     const std::string& by) {
  const std::string reason = "removed with --force" + (by.empty() ? "" : " by " + by);
  auto device = ctx_.store.get_device(serial);
  if (!device) return device.error();
  if (device->state != core::DeviceState::kRegistrationPending || !device->import_record_id) {
    // No import of ours is followed in the cloud: the store decides (it refuses an upload in
    // flight, whose answer the registration pass still has to adopt).
    auto removed = ctx_.store.remove_device(device->serial, true, now, reason);
    if (!removed) return removed.error();
    return Withdrawn{std::move(*removed), {}};
  }
  const std::string record_id = *device->import_record_id;
  // Registered after all: kept and followed (so Ready for user, partner sync and deregister see
  // it), and the admin is told so and how to delete the registration.
  const auto registered = [&](const std::string& cloud_id, const std::string& how) -> core::Error {
    (void)ctx_.store.mark_registered(device->serial, cloud_id, now);
    spdlog::info("remove --force of {} refused: {}", device->serial, how);
    return core::make_error(
        ipc::errc::kConflict,
        "device " + device->serial + " is registered in Windows Autopilot already (" + how +
            "), so it is not removed: Hangar keeps it as registered; to delete that "
            "registration and take it out of the queue: hangar deregister " +
            device->serial);
  };
  // A read that failed for the network (or an answer that could not be read) changed nothing:
  // said so, with the command to run again, as deliver and deregister say it (black-box round
  // 14: the transport's words alone). kNotNow waits; a 5xx is told in the seed's words (Engine).
  const auto unread = [&](const core::Error& error, const std::string& what,
                          const std::string& done = "nothing was removed or deleted") {
    const bool server = cloud::failure_of(error) == cloud::Failure::kTransient;
    if (!(server || cloud::unreachable(error) || error.code == cloud::kErrInDoubt)) return error;
    core::Error told = error;
    // A 5xx in the seed's words with its Request ID (Intune's own text to the log only), and
    // what it changed (black-box round 15: "Unexpected error" alone did not say the device stayed).
    if (server)
      spdlog::warn("device {}: reading {} failed: {}", device->serial, what, error.message);
    told.message =
        "could not read " + what + " from the cloud (" +
        (server ? core::unexpected_error_message(error.request_id) : error.message) + "); " + done +
        ": the device stays Registration Pending here; run `hangar remove " + device->serial +
        " --force` again" +
        (server ? "; if it keeps failing, contact Support and provide the Request ID" : "");
    return told;
  };
  auto record = cloud_.read(
      Lane::kIntune, [&](cloud::RegistrationCloud& api) { return api.import_record(record_id); });
  if (!record) return unread(record.error(), "its import record " + record_id);
  bool failed_import = false;
  if (*record) {
    const cloud::ImportRecord& seen = **record;
    if (seen.status == cloud::ImportStatus::kComplete) {
      deletions_.push_back({record_id});
      return registered(seen.registration_id, "its import finished");
    }
    if (seen.status == cloud::ImportStatus::kError) {
      const auto meaning = cloud::interpret_import_error(seen.error_code, seen.error_name);
      if (meaning.action == cloud::ErrorMeaning::Action::kRegistered) {
        auto found = read_device(*device, now);
        if (!found) return unread(found.error(), "the device in Windows Autopilot");
        deletions_.push_back({record_id});
        return registered(*found ? (*found)->id : std::string(),
                          "the import answered " + meaning.detail);
      }
      failed_import = true;  // nothing was registered
    }
    // In progress (or failed): our record goes now, so Intune does not finish it behind our back.
    auto deleted = cloud_.write(
        Lane::kIntune,
        [&](cloud::RegistrationCloud& api) { return api.delete_import_record(record_id); },
        {.accept = [](const core::Error& error) { return error.http_status == 404; }});
    if (!deleted && deleted.error().http_status != 404) {
      const core::Error& error = deleted.error();
      if ((cloud::unreachable(error) && !cloud::never_sent(error)) ||
          error.code == cloud::kErrInDoubt) {
        // Sent, answer lost (attack round 5, finding 4): told as deliver and deregister tell it.
        // A re-run finds the record gone (or still there) and completes either way.
        const std::string text =
            "the deletion of its import record " + record_id +
            " was sent but its answer was lost (" + error.message +
            "): it may have been done; run `hangar remove " + device->serial +
            " --force` again: it reads the import and the device in the tenant first and completes";
        (void)ctx_.store.note_problem(device->serial, text, now);
        spdlog::warn("device {}: {}", device->serial, text);
        core::Error doubt = core::make_error(cloud::kErrInDoubt, text);
        doubt.request_id = error.request_id;
        return doubt;
      }
      return error;
    }
  }
  if (!failed_import) {
    // Intune may have finished the import just before the record went: the tenant says.
    auto found = read_device(*device, now);
    if (!found) {
      return unread(found.error(), "the device in Windows Autopilot",
                    record && *record ? "its import record " + record_id + " is deleted"
                                      : "nothing was deleted");
    }
    if (*found) return registered((*found)->id, "Intune finished its import");
  }
  auto removed = ctx_.store.remove_device(
      device->serial, true, now,
      *record ? reason + "; its import record " + record_id + " deleted" : reason);
  if (!removed) return removed.error();
  return Withdrawn{std::move(*removed), *record ? record_id : std::string()};
}

core::Status RegistrationPass::settle_import(const std::string& serial, std::int64_t now) {
  auto device = ctx_.store.get_device(serial);
  if (!device) return {};  // not in the queue: the deregister decides
  if (device->state != core::DeviceState::kRegistrationPending || !device->import_record_id) {
    return {};
  }
  const std::string record_id = *device->import_record_id;
  auto record = cloud_.read(
      Lane::kIntune, [&](cloud::RegistrationCloud& api) { return api.import_record(record_id); });
  if (!record) return record.error();
  if (*record) {
    if (settle(*device, **record, now)) {
      spdlog::info("device {}: its import finished; settled before the deregister", serial);
    }
    return {};
  }
  // The record is gone (someone else's tool deleted it): the tenant says whether it registered.
  auto found = read_device(*device, now);
  if (!found) return found.error();
  if (*found) (void)ctx_.store.mark_registered(device->serial, (*found)->id, now);
  return {};
}

}  // namespace hangar::service
