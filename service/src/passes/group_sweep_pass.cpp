// The profile-group sweep (see group_sweep_pass.h).
#include "hangar/service/passes/group_sweep_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <span>

#include "hangar/core/device.h"
#include "hangar/store/errors.h"
#include "redact.h"
#include "text_util.h"

namespace hangar::service {

namespace {

constexpr std::string_view kGroupSweepMeta = "group_sweep_last_at";

// A 4xx or 403 is about one group or object (a typo in profile_groups, a role-assignable group):
// the sweep records it and goes on with the others; nothing backs off.
const Answers kGroupsAnswers{{}, [](const core::Error& error) {
                               return error.code == cloud::kErrRejected ||
                                      error.code == cloud::kErrAuth;
                             }};

std::string profile_key(const std::string& stored) {
  // Devices store the CLI name; rows of old releases may hold the display name.
  const auto profile = core::parse_profile(stored);
  return profile ? std::string(core::cli_name(*profile)) : lower(stored);
}

}  // namespace

GroupSweepPass::GroupSweepPass(PassContext context, CloudSource<cloud::GroupCloud> cloud)
    : ctx_(context), cloud_(std::move(cloud), context.budget) {}

bool GroupSweepPass::request() {
  if (ctx_.config.profile_groups.empty()) return false;
  std::lock_guard lock(mutex_);
  requested_ = true;
  return true;
}

void GroupSweepPass::report(EngineStatus& status) const {
  std::lock_guard lock(mutex_);
  status.groups_configured = !ctx_.config.profile_groups.empty();
  status.group_sweep_running = running_;
  status.groups = last_;
  status.next_group_sweep_at = next_sweep_at_;
}

std::int64_t GroupSweepPass::next_wake(std::int64_t now) const {
  const std::int64_t idle = now + 60'000;
  bool requested = false;
  {
    std::lock_guard lock(mutex_);
    requested = requested_;
  }
  if (active_) {
    return std::max({ctx_.budget.retry_at(), ctx_.budget.blocked_until(Lane::kDirectory), now + 1});
  }
  if (requested) return now + 1;
  if (!ctx_.config.profile_groups.empty() && next_sweep_ >= 0) {
    return std::max(next_sweep_, now + 1);
  }
  return idle;
}

bool GroupSweepPass::retry_later(const core::Error& error, std::int64_t now) {
  ctx_.budget.wait_out(Lane::kDirectory, CallKind::kRead, error);
  next_sweep_ = std::max({now + 1, ctx_.budget.blocked_until(Lane::kDirectory),
                          error.code == CloudBudget::kNotNow ? ctx_.budget.retry_at() : now + 1});
  return false;
}

void GroupSweepPass::run(std::int64_t now) {
  if (ctx_.config.profile_groups.empty()) return;
  if (next_sweep_ < 0) {
    // Daily across restarts: the last sweep's time is in the store.
    next_sweep_ = now;
    if (auto last = ctx_.store.get_meta(kGroupSweepMeta); last && *last) {
      try {
        next_sweep_ = std::stoll(**last) + ctx_.config.group_sweep_interval.count();
      } catch (const std::exception&) {
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    // A sweep under way finishes first (its listing predates the request); the requested one
    // starts on the pass after it.
    if (requested_ && !active_) {
      requested_ = false;
      next_sweep_ = std::min(next_sweep_, now);
    }
  }
  if (!active_) {
    const std::int64_t blocked = ctx_.budget.blocked_until(Lane::kDirectory);
    if (now < next_sweep_ || now < blocked) {
      std::lock_guard lock(mutex_);
      next_sweep_at_ = std::max(next_sweep_, blocked);
      return;
    }
    if (!plan(now)) {
      std::lock_guard lock(mutex_);
      next_sweep_at_ = next_sweep_;
      return;
    }
  }
  apply(now);
}

bool GroupSweepPass::plan(std::int64_t now) {
  GroupSweep pass;
  pass.started_at = now;
  auto tracked = ctx_.store.tracked_devices();
  if (!tracked) {
    spdlog::error("group sweep: reading registered devices: {}", tracked.error().message);
    next_sweep_ = now + ctx_.config.poll_interval.count();
    return false;
  }
  // One paged list per configured group: requests follow pages, not devices.
  std::map<std::string, std::map<std::string, std::string>> memberships;  // device id -> gid -> oid
  std::set<std::string> unreadable;  // groups that could not be listed: neither add nor remove
  for (const auto& [profile, group_id] : ctx_.config.profile_groups) {
    const std::string& group = group_id;  // a structured binding cannot be captured (clang)
    auto members = cloud_.read(
        Lane::kDirectory, [&](cloud::GroupCloud& api) { return api.list_group_devices(group); },
        kGroupsAnswers);
    if (!members && members.error().code == CloudBudget::kNotNow) {
      return retry_later(members.error(), now);
    }
    ++pass.requests;
    if (!members) {
      const core::Error& error = members.error();
      (void)ctx_.health.refused(forms::kGroupMembers, error, now);
      if (error.code == cloud::kErrRejected || error.code == cloud::kErrAuth) {
        // A group that does not exist (a typo in profile_groups) or a missing permission: the
        // other groups can still be enforced.
        ++pass.errors;
        pass.last_error = "listing group " + group_id + " (" + profile + "): " + error.message;
        ctx_.health.failed(error, now);
        unreadable.insert(group_id);
        continue;
      }
      return retry_later(error, now);
    }
    ctx_.health.accepted(forms::kGroupMembers, now);
    for (const auto& member : *members) {
      if (!member.device_id.empty())
        memberships[lower(member.device_id)][group_id] = member.object_id;
    }
  }

  // Planned per device: its add, then its removes, which must wait for the add (a device taken
  // out of the others' groups before it is in its own would be in none).
  struct DevicePlan {
    std::optional<PlannedCorrection> add;
    std::vector<PlannedCorrection> removes;
    std::string azure_ad_device_id;
  };
  std::vector<DevicePlan> plans;
  std::vector<std::string> lookups;  // Entra device ids whose object id no listing gave us
  for (const store::DeviceRow& device : *tracked) {
    // A partner-registered device without a profile had none chosen here, so moving it between
    // groups could undo the admin's intent: left alone. One whose group tag maps to a profile
    // (tag_profiles) was given that profile by the admin's configuration: handled like the rest.
    if (device.partner_registered && device.profile.empty()) continue;
    if (!device.azure_ad_device_id || device.azure_ad_device_id->empty()) {
      ++pass.skipped;  // its Entra ID device id not read yet (activity pass): nothing to check
      continue;
    }
    ++pass.devices;
    const std::string key = lower(*device.azure_ad_device_id);
    const auto found = memberships.find(key);
    const std::map<std::string, std::string> none;
    const auto& in = found == memberships.end() ? none : found->second;
    const std::string profile = profile_key(device.profile);
    const auto wanted = ctx_.config.profile_groups.find(profile);
    DevicePlan plan;
    plan.azure_ad_device_id = *device.azure_ad_device_id;
    // Why the device's removes must not run: its own group is not known to hold it.
    std::string hold;
    if (wanted == ctx_.config.profile_groups.end()) {
      // No group to put it back into: its memberships are left as they are.
      hold = "its profile (" + profile + ") has no group in profile_groups";
    } else if (unreadable.contains(wanted->second)) {
      hold = "its own group " + wanted->second + " (" + profile + ") could not be listed";
    } else if (!in.contains(wanted->second)) {
      PlannedCorrection add{device.id, device.serial, "added", wanted->second, profile, {}, {}};
      if (!in.empty()) add.object_id = in.begin()->second;  // same object in any group
      if (add.object_id.empty()) lookups.push_back(*device.azure_ad_device_id);
      plan.add = std::move(add);
    }
    for (const auto& [other_profile, group_id] : ctx_.config.profile_groups) {
      if (other_profile == profile || unreadable.contains(group_id)) continue;
      if (auto it = in.find(group_id); it != in.end()) {
        plan.removes.push_back(
            {device.id, device.serial, "removed", group_id, other_profile, it->second, hold});
      }
    }
    if (plan.add || !plan.removes.empty()) plans.push_back(std::move(plan));
  }

  // Object ids for devices to add that sit in no profile group: one filtered lookup per 15
  // devices (Graph's limit for `in`); corrections are rare, so this is usually none or one.
  std::map<std::string, std::string> objects;  // device id (lower) -> object id
  for (std::size_t at = 0; at < lookups.size(); at += cloud::kMaxDeviceIdsPerLookup) {
    const std::size_t end = std::min(lookups.size(), at + cloud::kMaxDeviceIdsPerLookup);
    auto found = cloud_.read(
        Lane::kDirectory,
        [&](cloud::GroupCloud& api) {
          return api.find_directory_devices(
              std::span<const std::string>(lookups.data() + at, end - at));
        },
        kGroupsAnswers);
    if (!found && found.error().code == CloudBudget::kNotNow)
      return retry_later(found.error(), now);
    ++pass.requests;
    if (!found) {
      const core::Error& error = found.error();
      (void)ctx_.health.refused(forms::kDevicesByDeviceId, error, now);
      if (error.code == cloud::kErrRejected || error.code == cloud::kErrAuth) {
        ++pass.errors;
        pass.last_error = "looking up device objects: " + error.message;
        ctx_.health.failed(error, now);
        continue;
      }
      return retry_later(error, now);
    }
    ctx_.health.accepted(forms::kDevicesByDeviceId, now);
    for (const auto& object : *found) objects[lower(object.device_id)] = object.object_id;
  }

  plan_.clear();
  for (auto& plan : plans) {
    if (plan.add && plan.add->object_id.empty()) {
      const auto it = objects.find(lower(plan.azure_ad_device_id));
      if (it != objects.end()) {
        plan.add->object_id = it->second;
      } else {
        // Enrolled, but the directory does not list its object (yet): the next sweep. (Such a
        // device sits in no listed group, so it has nothing to remove either.)
        ++pass.skipped;
        --pass.devices;
        spdlog::debug("group sweep: device {} has no Entra ID device object yet", plan.add->serial);
        for (auto& remove : plan.removes) {
          remove.skip_reason =
              "its Entra ID device object was not found, so it could not be "
              "added to its own group";
        }
        plan.add.reset();
      }
    }
    if (plan.add) plan_.push_back(std::move(*plan.add));
    for (auto& remove : plan.removes) plan_.push_back(std::move(remove));
  }
  pass_ = std::move(pass);
  active_ = true;
  std::lock_guard lock(mutex_);
  running_ = true;
  return true;
}

bool GroupSweepPass::still_registered(const PlannedCorrection& correction) {
  auto row = ctx_.store.get_device(correction.serial);
  if (row) return row->id == correction.device_id;
  if (row.error().code == store::kErrNotFound) return false;
  // The store could not say: the plan was made from it moments ago, so it stands.
  spdlog::error("group sweep: reading device {}: {}", correction.serial, row.error().message);
  return true;
}

void GroupSweepPass::skip_removal(const PlannedCorrection& correction, std::int64_t now) {
  ++pass_.removals_skipped;
  if (pass_.skipped_removals.size() < GroupSweep::kSkippedShown) {
    pass_.skipped_removals.push_back(
        {correction.serial, correction.group_id, correction.profile, correction.skip_reason});
  }
  spdlog::info("group sweep: device {} stays in {} ({}'s group), not removed: {}",
               correction.serial, correction.group_id, correction.profile, correction.skip_reason);
  // The log says it once per situation: a device left where it is day after day (its profile
  // has no group, say) gets one entry, not one a day.
  auto log = ctx_.store.group_corrections(correction.serial);
  if (!log) {
    spdlog::error("group sweep: reading the corrections of {}: {}", correction.serial,
                  log.error().message);
    return;
  }
  const auto last = std::find_if(log->rbegin(), log->rend(), [&](const store::GroupCorrection& c) {
    return c.group_id == correction.group_id;
  });
  if (last != log->rend() && last->action == "skipped" && last->reason == correction.skip_reason) {
    return;
  }
  if (auto recorded = ctx_.store.record_group_correction({correction.device_id, now, "skipped",
                                                          correction.group_id, correction.profile,
                                                          correction.skip_reason});
      !recorded) {
    spdlog::error("group sweep: recording the skipped removal of {} from {}: {}", correction.serial,
                  correction.group_id, recorded.error().message);
  }
}

void GroupSweepPass::apply(std::int64_t now) {
  while (!plan_.empty()) {
    const PlannedCorrection& correction = plan_.front();
    const bool held = !correction.skip_reason.empty();  // no call, no budget: only recorded
    // Writes wait out a throttle or backoff; a held-back removal needs no call.
    if (!held && now < ctx_.budget.blocked_until(Lane::kDirectory)) return;
    if (!still_registered(correction)) {
      // `hangar remove` since the plan was made: not ours any more, its memberships stay.
      const std::int64_t device = correction.device_id;
      spdlog::info(
          "group sweep: device {} left Hangar during the sweep; its groups are left as they are",
          correction.serial);
      while (!plan_.empty() && plan_.front().device_id == device) {
        plan_.pop_front();
      }
      continue;
    }
    if (held) {
      skip_removal(correction, now);
      plan_.pop_front();
      continue;
    }
    const bool add = correction.action == "added";
    auto changed = cloud_.write(
        Lane::kDirectory,
        [&](cloud::GroupCloud& api) {
          return add ? api.add_group_member(correction.group_id, correction.object_id)
                     : api.remove_group_member(correction.group_id, correction.object_id);
        },
        kGroupsAnswers);
    // The write budget, a throttle or a backoff: the next run resumes here.
    if (!changed && changed.error().code == CloudBudget::kNotNow) return;
    ++pass_.requests;
    if (!changed) {
      const core::Error& error = changed.error();
      if (error.code != cloud::kErrRejected && error.code != cloud::kErrAuth) {
        // Throttled, 5xx, offline: the budget holds the directory's requests; keep the
        // correction (and the removes behind it) and try it again. Only the sweep waits: Entra
        // ID throttles apart from the Intune imports.
        return;
      }
      ++pass_.errors;
      pass_.last_error = std::string(add ? "adding " : "removing ") + correction.serial +
                         (add ? " to group " : " from group ") + correction.group_id + ": " +
                         error.message;
      ctx_.health.failed(error, now);
      if (add) {
        // Not in its own group: taking it out of the others would leave it in none.
        // Kept in the corrections log and shown by `hangar show`: redacted like last_error.
        const std::string reason = redact("adding it to its own group " + correction.group_id +
                                          " (" + correction.profile + ") failed: " + error.message);
        for (auto it = std::next(plan_.begin());
             it != plan_.end() && it->device_id == correction.device_id; ++it) {
          it->skip_reason = reason;
        }
      }
    } else {
      if (*changed) {
        if (auto recorded =
                ctx_.store.record_group_correction({correction.device_id, now, correction.action,
                                                    correction.group_id, correction.profile});
            !recorded) {
          // The cloud made the change; only the log lacks it.
          spdlog::error("group sweep: recording that {} was {} {} {}: {}", correction.serial,
                        correction.action, add ? "to" : "from", correction.group_id,
                        recorded.error().message);
        }
        if (add) {
          ++pass_.added;
          spdlog::info("device {}: was not in its profile's group; added to {} ({})",
                       correction.serial, correction.group_id, correction.profile);
        } else {
          ++pass_.removed;
          spdlog::info("device {}: was in another profile's group; removed from {} ({})",
                       correction.serial, correction.group_id, correction.profile);
        }
      }
    }
    plan_.pop_front();
  }
  pass_.finished_at = now;
  active_ = false;
  next_sweep_ = now + ctx_.config.group_sweep_interval.count();
  (void)ctx_.store.set_meta(kGroupSweepMeta, std::to_string(now));
  spdlog::info(
      "group sweep: {} device(s) checked, {} added to their profile's group, {} removed from "
      "another profile's group, {} removal(s) skipped, {} without an Entra ID device id yet, {} "
      "error(s), {} call(s)",
      pass_.devices, pass_.added, pass_.removed, pass_.removals_skipped, pass_.skipped,
      pass_.errors, pass_.requests);
  std::lock_guard lock(mutex_);
  last_ = pass_;
  running_ = false;
  next_sweep_at_ = next_sweep_;
}

}  // namespace hangar::service
