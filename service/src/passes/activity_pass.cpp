// The activity pass and partner sync (see activity_pass.h).
#include "hangar/service/passes/activity_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

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

std::int64_t ActivitySyncPass::add_partner_devices(
    const std::vector<cloud::AutopilotDevice>& identities, std::int64_t now) {
  // Devices carrying our group tag that a partner (an OEM or reseller) registered: no CSV ever
  // passed through Hangar, so they are added as registered and tracked like the rest. Serials
  // already in the store come back as already queued or a conflict and are left alone.
  auto known_list = ctx_.store.serials();
  if (!known_list) {
    spdlog::error("reading the queue's serials: {}", known_list.error().message);
    return 0;
  }
  std::set<std::string> known(known_list->begin(), known_list->end());
  // Removed by an admin (`hangar remove`, `hangar deregister`): not added back.
  auto removed = ctx_.store.removed_serials();
  if (!removed) {
    spdlog::error("reading the removed serials: {}", removed.error().message);
    return 0;
  }
  known.insert(removed->begin(), removed->end());
  std::vector<store::NewDevice> candidates;
  for (const auto& identity : identities) {
    if (identity.serial.empty() ||
        lower(identity.group_tag) != lower(ctx_.config.default_group_tag) ||
        known.count(lower(identity.serial)) > 0) {
      continue;
    }
    store::NewDevice device;
    device.serial = identity.serial;
    if (!identity.manufacturer.empty()) device.manufacturer = identity.manufacturer;
    if (!identity.model.empty()) device.model = identity.model;
    device.group_tag = identity.group_tag;
    // No profile was chosen for it: none is shown (an empty profile), rather than one nobody
    // picked.
    device.profile = "";
    device.state = core::DeviceState::kReadyForUser;
    device.partner_registered = true;
    device.created_at = now;
    candidates.push_back(std::move(device));
  }
  if (candidates.empty()) return 0;
  auto results = ctx_.store.insert_devices(candidates);
  if (!results) {
    spdlog::error("adding partner-registered devices: {}", results.error().message);
    return 0;
  }
  std::int64_t added = 0;
  for (std::size_t i = 0; i < results->size(); ++i) {
    if ((*results)[i].outcome != store::InsertOutcome::kInserted) continue;
    ++added;
    spdlog::info(
        "device {}: registered by a partner (in the tenant with group tag {}); tracking it",
        candidates[i].serial, ctx_.config.default_group_tag);
  }
  return added;
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
  pass.partners_added = add_partner_devices(*identities, now);
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
    for (const store::DeviceRow& device : *tracked) {
      const auto found = by_serial.find(lower(device.serial));
      if (found == by_serial.end()) continue;  // not in the tenant (deleted there): leave it
      const cloud::AutopilotDevice& identity = *found->second;
      store::ActivityUpdate update;
      update.id = device.id;
      update.cloud_device_id = identity.id;
      if (!identity.managed_device_id.empty())
        update.managed_device_id = identity.managed_device_id;
      if (!identity.enrollment_state.empty()) update.enrollment_state = identity.enrollment_state;
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
                           update.last_contacted_at != device.last_contacted_at;
      if (!changed) continue;
      if (state != device.state) {
        update.new_state = state;
        spdlog::debug("device {}: {} -> {} ({})", device.serial, core::display_name(device.state),
                      core::display_name(state), update.reason);
      }
      updates.push_back(std::move(update));
    }
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
      "device(s) added, {} list call(s) (each paged)",
      pass.devices, pass.active, pass.inactive, pass.written, pass.partners_added, pass.requests);
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
