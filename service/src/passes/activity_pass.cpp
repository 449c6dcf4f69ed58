// The activity pass and partner sync (see activity_pass.h).
#include "hangar/service/passes/activity_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "hangar/service/passes/delivery_pass.h"
#include "text_util.h"

namespace hangar::service {

namespace {

// When a request the budget held back may go.
std::int64_t not_before(const core::Error& held, std::int64_t now) {
  return now + std::max<std::int64_t>(1, held.retry_after ? held.retry_after->count() : 0);
}

}  // namespace

ActivitySyncPass::ActivitySyncPass(PassContext context, CloudSource<cloud::ActivityCloud> cloud)
    : ctx_(context), cloud_(std::move(cloud), context.budget) {}

void ActivitySyncPass::run(std::int64_t now) {
  all_devices_.reset();  // every run reads the tenant afresh
  repair_tags(now);
  monitor(now);
}

std::int64_t ActivitySyncPass::next_wake(std::int64_t now) const {
  return std::min(
      next_tag_repair_ == 0 ? now + ctx_.config.sweep_interval.count() : next_tag_repair_,
      std::max(next_activity_, now + 1));
}

void ActivitySyncPass::refresh() {
  std::lock_guard lock(mutex_);
  refresh_requested_ = true;
}

ActivityPass ActivitySyncPass::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

std::int64_t ActivitySyncPass::next_activity_at() const {
  std::lock_guard lock(mutex_);
  return next_activity_at_;
}

core::Result<std::vector<cloud::AutopilotDevice>> ActivitySyncPass::read_all_devices(
    std::int64_t now) {
  if (all_devices_) return *all_devices_;
  auto listed = cloud_.read(Lane::kIntune,
                            [](cloud::ActivityCloud& api) { return api.list_autopilot_devices(); });
  if (!listed) {
    if (listed.error().code != CloudBudget::kNotNow) {
      (void)ctx_.health.refused(forms::kAutopilotList, listed.error(), now);
    }
    return listed.error();
  }
  ctx_.health.accepted(forms::kAutopilotList, now);
  all_devices_ = std::move(*listed);
  return *all_devices_;
}

std::string ActivitySyncPass::profile_for_tag(const std::string& group_tag) const {
  const auto found = ctx_.config.tag_profiles.find(lower(group_tag));
  return found == ctx_.config.tag_profiles.end() ? std::string() : found->second;
}

void ActivitySyncPass::add_partner_devices(const std::vector<cloud::AutopilotDevice>& identities,
                                           std::int64_t now, ActivityPass& pass) {
  // Devices a partner (an OEM or reseller) registered with our group tag or a tag mapped to a
  // profile (tag_profiles): no CSV ever passed through Hangar, so they are added as registered and
  // tracked like the rest. Devices with no group tag at all are counted (and listed), and added
  // only when the admin asked for it (track_untagged): a tenant holds many devices that are not
  // Hangar's. Serials already in the store come back as already queued or a conflict and are left
  // alone.
  auto known_list = ctx_.store.serials();
  if (!known_list) {
    spdlog::error("reading the queue's serials: {}", known_list.error().message);
    return;
  }
  std::set<std::string> known(known_list->begin(), known_list->end());
  // Removed by an admin (`hangar remove`, `hangar deregister`): not added back.
  auto removed = ctx_.store.removed_serials();
  if (!removed) {
    spdlog::error("reading the removed serials: {}", removed.error().message);
    return;
  }
  known.insert(removed->begin(), removed->end());
  std::vector<store::NewDevice> candidates;
  for (const auto& identity : identities) {
    if (identity.serial.empty() || known.count(lower(identity.serial)) > 0) continue;
    const bool untagged = identity.group_tag.empty();
    const std::string profile = untagged ? std::string() : profile_for_tag(identity.group_tag);
    if (untagged) {
      ++pass.untagged;
      if (pass.untagged_devices.size() < ActivityPass::kUntaggedShown) {
        pass.untagged_devices.push_back({identity.serial, identity.manufacturer, identity.model});
      }
      if (!ctx_.config.track_untagged) {
        if (untagged_logged_.insert(lower(identity.serial)).second) {
          spdlog::info(
              "device {}: in the tenant without a group tag and not Hangar's; not tracked "
              "(\"track_untagged\": true in hangar.json tracks such devices)",
              identity.serial);
        }
        continue;
      }
    } else if (!ctx_.config.claims_tag(identity.group_tag)) {
      continue;  // another team's tag
    }
    store::NewDevice device;
    device.serial = identity.serial;
    if (!identity.manufacturer.empty()) device.manufacturer = identity.manufacturer;
    if (!identity.model.empty()) device.model = identity.model;
    // An untagged device keeps no tag: the daily tag sweep then leaves it as it is in the tenant.
    if (!untagged) device.group_tag = identity.group_tag;
    // The profile its tag maps to; none otherwise (an empty profile), rather than one nobody
    // picked.
    device.profile = profile;
    device.state = core::DeviceState::kReadyForUser;
    device.partner_registered = true;
    device.created_at = now;
    candidates.push_back(std::move(device));
  }
  if (candidates.empty()) return;
  auto results = ctx_.store.insert_devices(candidates);
  if (!results) {
    spdlog::error("adding partner-registered devices: {}", results.error().message);
    return;
  }
  for (std::size_t i = 0; i < results->size(); ++i) {
    if ((*results)[i].outcome != store::InsertOutcome::kInserted) continue;
    const store::NewDevice& added = candidates[i];
    if (!added.group_tag) {
      ++pass.untagged_added;
      spdlog::info("device {}: in the tenant without a group tag; tracking it (track_untagged)",
                   added.serial);
      continue;
    }
    ++pass.partners_added;
    spdlog::info(
        "device {}: registered by a partner (in the tenant with group tag {}); tracking "
        "it{}",
        added.serial, *added.group_tag,
        added.profile.empty() ? std::string(" without a profile")
                              : " as " + added.profile + " (tag_profiles)");
  }
}

bool ActivitySyncPass::gone_from_tenant(const store::DeviceRow& device, std::int64_t now) {
  // A deregister whose answer was lost: the tenant now says it was done. Out of the queue, as the
  // deregister itself would have taken it.
  const std::string doubt = DeliveryPass::doubt_key("deregister", device.serial);
  if (auto lost = ctx_.store.get_meta(doubt); lost && *lost) {
    const std::string reason =
        "deregistered (the deletion's answer was lost; Windows Autopilot no longer lists it)";
    if (auto removed = ctx_.store.remove_device(device.serial, true, now, reason); !removed) {
      spdlog::error("device {}: {}", device.serial, removed.error().message);
      return false;
    }
    // The in-doubt record stays: `hangar deregister` run again, as it advised, then answers
    // "already deleted" (and clears it), not "nothing to deregister".
    spdlog::info("device {}: {}; out of the queue", device.serial, reason);
    return true;
  }
  // Deleted in the Intune admin center (or by another tool). One list that lacks it is not proof
  // enough to act on: the second pass in a row without it fails it, with the way back.
  if (!missing_once_.contains(device.id)) {
    spdlog::warn(
        "device {}: not in the tenant's Windows Autopilot devices; checked again next pass",
        device.serial);
    return false;
  }
  const std::string detail =
      "its Windows Autopilot registration was deleted outside Hangar (the tenant no longer lists "
      "it); run `hangar retry " +
      device.serial + "` to register it again, or `hangar remove " + device.serial +
      "` if it is retired";
  if (auto failed = ctx_.store.finish_registration(
          device.serial, core::DeviceState::kRegistrationFailed,
          std::string("Deleted from Windows Autopilot"), detail, std::nullopt,
          "deleted from Windows Autopilot outside Hangar", now);
      !failed) {
    spdlog::error("device {}: {}", device.serial, failed.error().message);
    return false;
  }
  spdlog::warn("device {}: {}", device.serial, detail);
  return true;
}

// Reads every Autopilot device's enrollment and every managed device's last sync (two paged
// lists, so requests grow with pages, not devices), decides Active / Inactive for each registered
// device, and writes only the rows where something changed.
void ActivitySyncPass::monitor(std::int64_t now) {
  {
    std::lock_guard lock(mutex_);
    if (refresh_requested_) {
      refresh_requested_ = false;
      next_activity_ = std::min(next_activity_, now);
    }
  }
  if (now < next_activity_) return;
  ActivityPass pass;
  auto identities = read_all_devices(now);
  if (!identities) {
    if (identities.error().code == CloudBudget::kNotNow) {
      next_activity_ = not_before(identities.error(), now);  // when the budget allows
      return;
    }
    ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, identities.error());
    next_activity_ = std::max(now + 1, ctx_.budget.blocked_until(Lane::kIntune));
    return;
  }
  ++pass.requests;
  std::map<std::string, const cloud::AutopilotDevice*> by_serial;
  bool any_managed = false;
  for (const auto& identity : *identities) {
    by_serial[lower(identity.serial)] = &identity;
    any_managed = any_managed || !identity.managed_device_id.empty();
  }
  add_partner_devices(*identities, now, pass);
  auto tracked = ctx_.store.tracked_devices();
  if (!tracked) {
    spdlog::error("reading registered devices: {}", tracked.error().message);
    next_activity_ = now + ctx_.config.activity_interval.count();
    return;
  }
  pass.devices = static_cast<std::int64_t>(tracked->size());
  if (!tracked->empty()) {
    std::map<std::string, const cloud::ManagedDevice*> managed_by_id;
    core::Result<std::vector<cloud::ManagedDevice>> managed = std::vector<cloud::ManagedDevice>{};
    if (any_managed) {
      managed = cloud_.read(Lane::kIntune,
                            [](cloud::ActivityCloud& api) { return api.list_managed_devices(); });
      if (!managed) {
        if (managed.error().code == CloudBudget::kNotNow) {
          next_activity_ = not_before(managed.error(), now);
          return;
        }
        (void)ctx_.health.refused(forms::kManagedDevices, managed.error(), now);
        ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, managed.error());
        next_activity_ = std::max(now + 1, ctx_.budget.blocked_until(Lane::kIntune));
        return;
      }
      ctx_.health.accepted(forms::kManagedDevices, now);
      ++pass.requests;
      for (const auto& device : *managed) managed_by_id[device.id] = &device;
    }

    std::vector<store::ActivityUpdate> updates;
    std::set<std::int64_t> missing;
    for (const store::DeviceRow& device : *tracked) {
      const auto found = by_serial.find(lower(device.serial));
      if (found == by_serial.end()) {
        // Not in the tenant's whole list: its registration was deleted (black-box round 7: such a
        // device stayed Ready for user for ever).
        if (gone_from_tenant(device, now)) {
          --pass.devices;
        } else {
          missing.insert(device.id);
        }
        continue;
      }
      const cloud::AutopilotDevice& identity = *found->second;
      store::ActivityUpdate update;
      update.id = device.id;
      update.cloud_device_id = identity.id;
      if (!identity.managed_device_id.empty())
        update.managed_device_id = identity.managed_device_id;
      if (!identity.enrollment_state.empty()) update.enrollment_state = identity.enrollment_state;
      // A partner's device tracked without a profile whose tag now maps to one (tag_profiles
      // configured after it was found, or its tag changed in the portal): it gets that profile.
      if (device.partner_registered && device.profile.empty() && !identity.group_tag.empty()) {
        if (std::string profile = profile_for_tag(identity.group_tag); !profile.empty()) {
          spdlog::info("device {}: group tag {} maps to profile {} (tag_profiles)", device.serial,
                       identity.group_tag, profile);
          update.profile = std::move(profile);
          ++pass.profiles_set;
        }
      }
      // Reassigned in the Intune admin center after Hangar delivered it: the tenant's user is the
      // one the device is handed to now (attack round 5, finding 7).
      if (device.delivered_at && !identity.user_principal_name.empty() &&
          lower(identity.user_principal_name) != lower(device.delivered_to.value_or(""))) {
        spdlog::info("device {}: Windows Autopilot lists {} as its user (was {}); recorded",
                     device.serial, identity.user_principal_name,
                     device.delivered_to.value_or("-"));
        update.delivered_to = identity.user_principal_name;
      }
      if (!identity.azure_ad_device_id.empty()) {
        update.azure_ad_device_id = identity.azure_ad_device_id;
      }
      update.last_contacted_at = identity.last_contacted_ms;
      if (update.managed_device_id) {
        if (auto it = managed_by_id.find(*update.managed_device_id); it != managed_by_id.end()) {
          update.last_sync_at = it->second->last_sync_ms;
        }
      }
      core::DeviceState state = device.state;
      if (identity.enrollment_state == "enrolled" && update.last_sync_at) {
        const std::int64_t idle = now - *update.last_sync_at;
        const std::int64_t hours = std::max<std::int64_t>(idle, 0) / 3'600'000;
        if (idle <= ctx_.config.inactive_after.count()) {
          state = core::DeviceState::kActive;
          update.reason = "enrolled, last sync with Intune " + std::to_string(hours) + " h ago";
        } else {
          state = core::DeviceState::kInactive;
          update.reason = "not used in the last " +
                          std::to_string(ctx_.config.inactive_after.count() / 86'400'000) +
                          " days (last sync " + std::to_string(hours / 24) + " days ago)";
        }
      }
      if (state == core::DeviceState::kActive) ++pass.active;
      if (state == core::DeviceState::kInactive) ++pass.inactive;
      const bool changed = state != device.state ||
                           update.cloud_device_id != device.cloud_device_id ||
                           update.managed_device_id != device.managed_device_id ||
                           update.enrollment_state != device.enrollment_state ||
                           update.last_sync_at != device.last_sync_at ||
                           update.azure_ad_device_id != device.azure_ad_device_id ||
                           update.last_contacted_at != device.last_contacted_at ||
                           update.profile.has_value() || update.delivered_to.has_value();
      if (!changed) continue;
      if (state != device.state) {
        update.new_state = state;
        spdlog::debug("device {}: {} -> {} ({})", device.serial, core::display_name(device.state),
                      core::display_name(state), update.reason);
      }
      updates.push_back(std::move(update));
    }
    missing_once_ = std::move(missing);
    auto written = ctx_.store.apply_activity(updates, now);
    if (!written) {
      spdlog::error("recording device activity: {}", written.error().message);
    } else {
      pass.written = *written;
    }
  }
  pass.finished_at = now;
  spdlog::info(
      "activity pass: {} registered device(s), {} active, {} inactive, {} changed, {} partner "
      "device(s) added, {} untagged device(s) in the tenant not Hangar's ({} added), {} list "
      "call(s) (each paged)",
      pass.devices, pass.active, pass.inactive, pass.written, pass.partners_added, pass.untagged,
      pass.untagged_added, pass.requests);
  next_activity_ = now + ctx_.config.activity_interval.count();
  std::lock_guard lock(mutex_);
  last_ = pass;
  next_activity_at_ = next_activity_;
}

void ActivitySyncPass::repair_tags(std::int64_t now) {
  if (next_tag_repair_ == 0) next_tag_repair_ = now + ctx_.config.sweep_interval.count();
  if (now < next_tag_repair_) return;
  auto devices = read_all_devices(now);
  if (!devices) {
    if (devices.error().code == CloudBudget::kNotNow) {
      next_tag_repair_ = not_before(devices.error(), now);
      return;
    }
    ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, devices.error());
    next_tag_repair_ = now + ctx_.config.poll_interval.count();
    return;
  }
  int fixed = 0;
  for (const auto& device : *devices) {
    if (!device.group_tag.empty()) continue;
    auto row = ctx_.store.get_device(device.serial);
    if (!row) continue;  // not ours
    // Found without a tag and tracked (track_untagged): Hangar never tagged it; left as it is.
    if (row->partner_registered && !row->group_tag) continue;
    const std::string tag = row->group_tag.value_or(ctx_.config.default_group_tag);
    auto status = cloud_.write(Lane::kIntune, [&](cloud::ActivityCloud& api) {
      return api.set_group_tag(device.id, tag);
    });
    if (!status) {
      // Throttled, backing off or the budget spent: the budget holds every write until it ends
      // (a refusal backs off too); the rest on the next sweep.
      ctx_.budget.wait_out(Lane::kIntune, CallKind::kWrite, status.error());
      break;
    }
    ++fixed;
  }
  if (fixed > 0) spdlog::info("group tag sweep: re-applied the group tag on {} device(s)", fixed);
  next_tag_repair_ = now + ctx_.config.sweep_interval.count();
}

}  // namespace hangar::service
