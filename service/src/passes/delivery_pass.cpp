// Delivery (see delivery_pass.h).
#include "hangar/service/passes/delivery_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "hangar/core/device.h"
#include "hangar/ipc/protocol.h"
#include "same_machine.h"
#include "text_util.h"

namespace hangar::service {

DeliveryPass::DeliveryPass(PassContext context, CloudSource<cloud::DeliveryCloud> cloud)
    : ctx_(context), cloud_(std::move(cloud), context.budget) {}

core::Error DeliveryPass::not_now(const core::Error& error, Lane lane) const {
  if (error.code != CloudBudget::kNotNow && error.code != cloud::kErrThrottled) return error;
  // The budget has counted the throttle from the answer's arrival: its wait is the one to tell,
  // and it says why it holds the lane (a throttle is called one only after a real 429).
  std::int64_t wait = ctx_.budget.wait_ms(lane, CallKind::kWrite);
  if (wait <= 0 && error.retry_after) wait = error.retry_after->count();
  core::Error held =
      core::make_error(CloudBudget::kNotNow, error.code == cloud::kErrThrottled
                                                 ? CloudBudget::throttling_message(wait)
                                                 : ctx_.budget.holding_message(lane, wait));
  held.retry_after = std::chrono::milliseconds(wait);
  return held;
}

core::Error DeliveryPass::read_failed(const core::Error& error, Lane lane, std::string_view what,
                                      std::string_view unchanged, const std::string& rerun) {
  if (error.code == cloud::kErrRejected) ctx_.health.failed(error, ctx_.clock.now_ms());
  core::Error held = not_now(error, lane);
  if (held.code == CloudBudget::kNotNow) return held;
  const bool transient =
      cloud::unreachable(error) || error.code == cloud::kErrInDoubt || error.http_status >= 500;
  core::Error told = error;
  told.message = "could not read " + std::string(what) + " from the cloud (" + error.message +
                 "); " + std::string(unchanged) +
                 (transient ? "; run `" + rerun + "` again" : std::string());
  return told;
}

core::Result<std::optional<cloud::AutopilotDevice>> DeliveryPass::tenant_device(
    const std::string& serial, const store::DeviceRow* ours, std::string_view unchanged,
    const std::string& rerun) {
  auto listed = cloud_.read(
      Lane::kIntune, [&](cloud::DeliveryCloud& api) { return api.find_autopilot_devices(serial); });
  if (!listed) {
    return read_failed(listed.error(), Lane::kIntune, "the device in Windows Autopilot", unchanged,
                       rerun);
  }
  if (const std::string several = several_machines(serial, *listed, ours); !several.empty()) {
    return core::make_error(ipc::errc::kConflict,
                            several + ": " + std::string(unchanged) +
                                "; do it in the Intune admin center (Devices > Windows > "
                                "Enrollment > Devices), where each shows its make and model");
  }
  return this_machine(*listed, ours);
}

namespace {

// A write that may have reached the cloud without its answer reaching us: the one rule of
// cloud_error.h (unreachable, and not certainly unsent), or an answer that could not be read.
bool answer_lost(const core::Error& error) {
  return (cloud::unreachable(error) && !cloud::never_sent(error)) ||
         error.code == cloud::kErrInDoubt;
}

}  // namespace

std::string DeliveryPass::doubt_key(std::string_view kind, const std::string& serial) {
  return "in_doubt." + std::string(kind) + "." + lower(serial);
}

void DeliveryPass::record_doubt(std::string_view kind, const std::string& serial,
                                const std::string& value) {
  if (auto recorded = ctx_.store.set_meta(doubt_key(kind, serial), value); !recorded) {
    spdlog::error("recording the {} of {} as in doubt: {}", kind, serial, recorded.error().message);
  }
}

core::Error DeliveryPass::in_doubt(const core::Error& error, const std::string& key,
                                   const std::string& value, const std::string& serial,
                                   const std::string& what, const std::string& rerun) {
  const std::int64_t now = ctx_.clock.now_ms();
  if (auto recorded = ctx_.store.set_meta(key, value); !recorded) {
    spdlog::error("recording the {} of {} as in doubt: {}", what, serial, recorded.error().message);
  }
  const std::string text = "the " + what + " was sent but its answer was lost (" + error.message +
                           "): it may have been done; run `" + rerun +
                           "` again: it reads the device in the tenant first and completes";
  (void)ctx_.store.note_problem(serial, text, now);  // a device Hangar never had: nothing to note
  spdlog::warn("device {}: {}", serial, text);
  core::Error doubt = core::make_error(cloud::kErrInDoubt, text);
  doubt.request_id = error.request_id;
  return doubt;
}

core::Result<std::vector<std::string>> DeliveryPass::missing_licences(
    const std::vector<std::string>& held, std::int64_t now) {
  if (ctx_.config.required_licenses.empty()) return std::vector<std::string>{};
  // The tenant's subscriptions name each SKU id ("SPE_E5"): what admins know a licence by. If
  // they cannot be read (the app lacks Organization.Read.All), ids are compared and shown as
  // they are.
  auto names =
      cloud_.read(Lane::kDirectory, [](cloud::DeliveryCloud& api) { return api.sku_names(); });
  std::map<std::string, std::string> name_of;  // lower-case id -> name
  if (names) {
    for (const auto& [id, name] : *names) name_of[lower(id)] = name;
  } else if (names.error().code == CloudBudget::kNotNow ||
             names.error().code == cloud::kErrThrottled) {
    return names.error();
  } else {
    spdlog::warn(
        "reading the tenant's licence names (subscribedSkus): {}; licences are shown "
        "by id",
        names.error().message);
    ctx_.health.failed(names.error(), now);
  }
  std::vector<std::string> missing;
  for (const auto& sku : ctx_.config.required_licenses) {
    const bool has = std::any_of(held.begin(), held.end(), [&](const std::string& h) {
      if (lower(h) == lower(sku)) return true;
      const auto named = name_of.find(lower(h));
      return named != name_of.end() && lower(named->second) == lower(sku);
    });
    if (has) continue;
    const auto named = name_of.find(lower(sku));
    missing.push_back(named != name_of.end() ? named->second + " (" + sku + ")" : sku);
  }
  return missing;
}

core::Result<DeliveryPass::Deregistered> DeliveryPass::deregister(const std::string& serial,
                                                                  const std::string& by,
                                                                  DeregisterRequest ask) {
  const std::int64_t now = ctx_.clock.now_ms();
  auto device = ctx_.store.get_device(serial);
  if (!device && device.error().code != store::kErrNotFound) return device.error();
  if (device && device->state == core::DeviceState::kRegistrationPending &&
      device->import_record_id) {
    return core::make_error(ipc::errc::kConflict,
                            "device " + device->serial +
                                " is Registration Pending: its import is still followed; take it "
                                "out with `hangar remove " +
                                device->serial + " --force` first");
  }
  if (const auto wait = ctx_.budget.wait_ms(Lane::kIntune, CallKind::kWrite);
      wait > 0 && !ask.check_only) {
    core::Error held = core::make_error(CloudBudget::kNotNow, "");
    held.retry_after = std::chrono::milliseconds(wait);
    return not_now(held, Lane::kIntune);
  }
  const std::string key = doubt_key("deregister", serial);
  auto doubt = ctx_.store.get_meta(key);
  if (!doubt) return doubt.error();
  // Out of the queue and remembered: partner sync must not bring it back.
  const auto forget = [&](std::string_view what =
                              "its Windows Autopilot record is deleted") -> core::Status {
    if (device) {
      const std::string reason =
          "deregistered" + (by.empty() ? std::string() : " by " + by) + ": " + std::string(what);
      if (auto removed = ctx_.store.remove_device(device->serial, true, now, reason); !removed) {
        return removed.error();
      }
    } else if (auto remembered = ctx_.store.remember_removed(serial, now); !remembered) {
      return remembered;
    }
    return ctx_.store.erase_meta(key);
  };
  auto found = tenant_device(serial, device ? &*device : nullptr, "nothing was deleted",
                             "hangar deregister " + serial + " --yes");
  if (!found) return found.error();
  if (!*found) {
    // Gone from the tenant: a deregister whose answer was lost did it, or someone else did.
    const bool registered_here =
        device && (device->cloud_device_id || device->partner_registered ||
                   device->state == core::DeviceState::kRegistrationPending ||
                   device->state == core::DeviceState::kReadyForUser ||
                   device->state == core::DeviceState::kActive ||
                   device->state == core::DeviceState::kInactive);
    if (*doubt || registered_here) {
      if (ask.check_only) return Deregistered{{}, true};
      if (auto forgotten = forget(); !forgotten) return forgotten.error();
      spdlog::info("device {}: already deleted in Windows Autopilot; out of the queue", serial);
      return Deregistered{{}, true};
    }
    if (device) {
      // Never registered (queued, or its registration failed) and not in the tenant: nothing to
      // delete there, and the admin asked for it gone: out of the queue (black-box round 6).
      if (ask.check_only) return Deregistered{{}, false, true};
      if (auto forgotten = forget("it was never registered in Windows Autopilot"); !forgotten) {
        return forgotten.error();
      }
      spdlog::info("device {}: never registered in Windows Autopilot; out of the queue", serial);
      return Deregistered{{}, false, true};
    }
    // Another admin's deregister (or remove) got there first: said, with when and who.
    auto left = ctx_.store.departure(serial);
    if (left && *left) {
      return core::make_error(ipc::errc::kNotFound,
                              "no Windows Autopilot device with serial " + serial +
                                  " in the tenant, and none in the queue: nothing to deregister; "
                                  "it left the queue on " +
                                  **left);
    }
    return core::make_error(ipc::errc::kNotFound,
                            "no Windows Autopilot device with serial " + serial +
                                " in the tenant, and none in the queue: nothing to deregister");
  }
  // Not in the queue, and tagged for another team (or not at all): not Hangar's to delete on a
  // plain request, even by someone allowed to write (black-box round 8: another team's device
  // was deleted).
  if (!device && !ask.force && !ctx_.config.claims_tag((*found)->group_tag)) {
    const std::string& tag = (*found)->group_tag;
    return core::make_error(
        ipc::errc::kConflict,
        serial + " is not Hangar's: it is not in the queue, and " +
            (tag.empty() ? std::string("it has no group tag (track_untagged is off)")
                         : "its group tag " + tag + " is another team's (neither the default tag " +
                               ctx_.config.default_group_tag + " nor one in tag_profiles)") +
            "; nothing was deleted. `hangar deregister " + serial +
            " --force` deletes its Windows Autopilot registration all the same");
  }
  const std::string id = (*found)->id;
  if (ask.check_only) return Deregistered{id, false};
  auto deleted = cloud_.write(
      Lane::kIntune, [&](cloud::DeliveryCloud& api) { return api.delete_autopilot_device(id); },
      // 404: someone deleted it meanwhile; the outcome is the same.
      {.accept = [](const core::Error& error) { return error.http_status == 404; }});
  if (!deleted && deleted.error().http_status != 404) {
    if (answer_lost(deleted.error())) {
      return in_doubt(deleted.error(), key, id, serial, "deletion of its Autopilot registration",
                      "hangar deregister " + serial + " --yes");
    }
    if (deleted.error().code == cloud::kErrRejected) ctx_.health.failed(deleted.error(), now);
    return not_now(deleted.error(), Lane::kIntune);
  }
  if (auto forgotten = forget(); !forgotten) return forgotten.error();
  spdlog::info("device {}: Windows Autopilot registration {} deleted", serial, id);
  return Deregistered{id, false};
}

core::Result<DeliveryPass::Delivered> DeliveryPass::deliver(const std::string& serial,
                                                            const std::string& upn) {
  // The device as recorded now, with whether this call assigned nothing.
  const auto reread = [this](const std::string& id, bool already) -> core::Result<Delivered> {
    auto row = ctx_.store.get_device(id);
    if (!row) return row.error();
    return Delivered{std::move(*row), already};
  };
  const std::int64_t now = ctx_.clock.now_ms();
  auto device = ctx_.store.get_device(serial);
  if (!device) return device.error();
  if (device->delivered_at) {
    // The same user again (a script retried, a hurried second run): nothing to do, not a failure.
    if (lower(device->delivered_to.value_or("")) == lower(upn)) return Delivered{*device, true};
    // Hangar does not take a user off a device or give it another: the portal does both. The
    // admin may have done so already (as the refusal below advises): the tenant's current user
    // for the device is then recorded, and nothing is sent (attack round 5, finding 7).
    auto found = tenant_device(device->serial, &*device, "nothing was assigned",
                               "hangar deliver " + device->serial + " --user " + upn);
    if (!found) return found.error();
    if (*found && lower((*found)->user_principal_name) == lower(upn)) {
      if (auto recorded =
              ctx_.store.record_delivery(device->serial, (*found)->user_principal_name, now);
          !recorded) {
        return recorded.error();
      }
      spdlog::info(
          "device {}: Windows Autopilot lists {} as its user now (reassigned in the "
          "portal); recorded as delivered to {}",
          device->serial, (*found)->user_principal_name, (*found)->user_principal_name);
      return reread(device->serial, true);
    }
    return core::make_error(
        ipc::errc::kConflict,
        "device " + device->serial + " was already delivered to " +
            device->delivered_to.value_or("?") +
            "; Hangar does not reassign a delivered device: in the Intune admin center (Devices > "
            "Windows > Enrollment > Devices) unassign that user and assign the new one");
  }
  if (device->state != core::DeviceState::kReadyForUser &&
      device->state != core::DeviceState::kActive &&
      device->state != core::DeviceState::kInactive) {
    return core::make_error(ipc::errc::kConflict,
                            "device " + device->serial + " is not Ready for user yet (it is " +
                                std::string(core::display_name(device->state)) +
                                "); deliver it once `hangar list --state ready-for-user` shows it");
  }
  // Nothing is asked while the assignment could not be sent: the operator hears when to retry.
  if (const auto wait = ctx_.budget.wait_ms(Lane::kIntune, CallKind::kWrite); wait > 0) {
    core::Error held = core::make_error(CloudBudget::kNotNow, "");
    held.retry_after = std::chrono::milliseconds(wait);
    return not_now(held, Lane::kIntune);
  }
  auto user =
      cloud_.read(Lane::kDirectory, [&](cloud::DeliveryCloud& api) { return api.find_user(upn); });
  if (!user) {
    return read_failed(user.error(), Lane::kDirectory, "user " + upn, "nothing was assigned",
                       "hangar deliver " + device->serial + " --user " + upn);
  }
  if (!*user) {
    return core::make_error(ipc::errc::kNotFound,
                            "no user " + upn + " in the tenant; check the spelling of the UPN");
  }
  auto missing = missing_licences((*user)->sku_ids, now);
  if (!missing) {
    return read_failed(missing.error(), Lane::kDirectory, "the licences of " + upn,
                       "nothing was assigned",
                       "hangar deliver " + device->serial + " --user " + upn);
  }
  if (!missing->empty()) {
    std::string list;
    for (const auto& sku : *missing) list += (list.empty() ? "" : ", ") + sku;
    return core::make_error(ipc::errc::kInvalidArgument,
                            "user " + upn + " lacks " + std::to_string(missing->size()) +
                                " required licence(s): " + list +
                                "; assign them in the Microsoft 365 admin center, then deliver");
  }
  std::string cloud_id = device->cloud_device_id.value_or("");
  if (cloud_id.empty()) {
    auto found = tenant_device(device->serial, &*device, "nothing was assigned",
                               "hangar deliver " + device->serial + " --user " + upn);
    if (!found) return found.error();
    if (!*found) {
      return core::make_error(
          ipc::errc::kNotFound,
          "device " + device->serial + " is not in the tenant's Autopilot devices");
    }
    cloud_id = (*found)->id;
  }
  const std::string key = doubt_key("deliver", device->serial);
  auto doubt = ctx_.store.get_meta(key);
  if (!doubt) return doubt.error();
  if (*doubt) {
    // An earlier assignment's answer was lost: the device in the tenant says whether it happened.
    auto found = tenant_device(device->serial, &*device, "nothing was assigned",
                               "hangar deliver " + device->serial + " --user " + upn);
    if (!found) return found.error();
    // The lost assignment reached the tenant if the device has a user now: that delivery is
    // recorded, and a re-run naming someone else must not hand the device on (attack round 4).
    if (*found && !(*found)->user_principal_name.empty()) {
      const std::string assigned_to = (*found)->user_principal_name;
      if (auto recorded = ctx_.store.record_delivery(device->serial, assigned_to, now); !recorded) {
        return recorded.error();
      }
      (void)ctx_.store.erase_meta(key);
      (void)ctx_.store.note_problem(device->serial, "", now);  // the doubt is settled
      spdlog::info("device {}: {} was assigned already (the earlier answer was lost); delivered",
                   device->serial, assigned_to);
      // This call sent nothing: the earlier one did (black-box round 14: "assigned" said again).
      if (lower(assigned_to) == lower(upn)) return reread(device->serial, true);
      return core::make_error(
          ipc::errc::kConflict,
          "device " + device->serial + " was already delivered to " + assigned_to +
              ": the earlier assignment whose answer was lost did reach Windows Autopilot; Hangar "
              "does not reassign a delivered device: in the Intune admin center (Devices > "
              "Windows > Enrollment > Devices) unassign that user and assign the new one");
    }
  }
  auto assigned = cloud_.write(
      Lane::kIntune, [&](cloud::DeliveryCloud& api) { return api.assign_user(cloud_id, upn); });
  if (!assigned && answer_lost(assigned.error())) {
    return in_doubt(assigned.error(), key, upn, device->serial, "assignment of " + upn,
                    "hangar deliver " + device->serial + " --user " + upn);
  }
  if (!assigned) {
    if (assigned.error().code == cloud::kErrRejected) ctx_.health.failed(assigned.error(), now);
    return not_now(assigned.error(), Lane::kIntune);
  }
  if (auto recorded = ctx_.store.record_delivery(device->serial, upn, now); !recorded) {
    return recorded.error();
  }
  if (*doubt) {
    (void)ctx_.store.erase_meta(key);
    (void)ctx_.store.note_problem(device->serial, "", now);  // the doubt is settled
  }
  spdlog::info("device {} delivered to {}", device->serial, upn);
  return reread(device->serial, false);
}

}  // namespace hangar::service
