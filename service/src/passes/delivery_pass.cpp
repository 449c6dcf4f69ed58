// Delivery (see delivery_pass.h).
#include "hangar/service/passes/delivery_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "hangar/core/device.h"
#include "hangar/ipc/protocol.h"
#include "text_util.h"

namespace hangar::service {

DeliveryPass::DeliveryPass(PassContext context, CloudSource<cloud::DeliveryCloud> cloud)
    : ctx_(context), cloud_(std::move(cloud), context.budget) {}

core::Error DeliveryPass::not_now(const core::Error& error, Lane lane) const {
  if (error.code != CloudBudget::kNotNow && error.code != cloud::kErrThrottled) return error;
  // The budget has counted the throttle from the answer's arrival: its wait is the one to tell.
  std::int64_t wait = ctx_.budget.wait_ms(lane, CallKind::kWrite);
  if (wait <= 0 && error.retry_after) wait = error.retry_after->count();
  core::Error held = core::make_error(CloudBudget::kNotNow, CloudBudget::throttling_message(wait));
  held.retry_after = std::chrono::milliseconds(wait);
  return held;
}

core::Result<store::DeviceRow> DeliveryPass::deliver(const std::string& serial,
                                                     const std::string& upn) {
  const std::int64_t now = ctx_.clock.now_ms();
  auto device = ctx_.store.get_device(serial);
  if (!device) return device.error();
  if (device->delivered_at) {
    return core::make_error(ipc::errc::kConflict, "device " + device->serial +
                                                      " was already delivered to " +
                                                      device->delivered_to.value_or("?"));
  }
  if (device->state != "ready_for_user" && device->state != "active" &&
      device->state != "inactive") {
    return core::make_error(
        ipc::errc::kConflict,
        "device " + device->serial + " is not Ready for user yet (it is " +
            std::string(core::display_name(
                core::parse_device_state(device->state).value_or(core::DeviceState::kQueued))) +
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
    if (user.error().code == cloud::kErrRejected) ctx_.health.failed(user.error(), now);
    return not_now(user.error(), Lane::kDirectory);
  }
  if (!*user) {
    return core::make_error(ipc::errc::kNotFound,
                            "no user " + upn + " in the tenant; check the spelling of the UPN");
  }
  std::vector<std::string> missing;
  for (const auto& sku : ctx_.config.required_licenses) {
    const auto& held = (*user)->sku_ids;
    const bool has = std::any_of(held.begin(), held.end(),
                                 [&](const std::string& h) { return lower(h) == lower(sku); });
    if (!has) missing.push_back(sku);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& sku : missing) list += (list.empty() ? "" : ", ") + sku;
    return core::make_error(ipc::errc::kInvalidArgument,
                            "user " + upn + " lacks " + std::to_string(missing.size()) +
                                " required licence(s): " + list +
                                "; assign them in the Microsoft 365 admin center, then deliver");
  }
  std::string cloud_id = device->cloud_device_id.value_or("");
  if (cloud_id.empty()) {
    auto found = cloud_.read(Lane::kIntune, [&](cloud::DeliveryCloud& api) {
      return api.find_autopilot_device(device->serial);
    });
    if (!found) {
      if (found.error().code == cloud::kErrRejected) ctx_.health.failed(found.error(), now);
      return not_now(found.error(), Lane::kIntune);
    }
    if (!*found) {
      return core::make_error(
          ipc::errc::kNotFound,
          "device " + device->serial + " is not in the tenant's Autopilot devices");
    }
    cloud_id = (*found)->id;
  }
  auto assigned = cloud_.write(
      Lane::kIntune, [&](cloud::DeliveryCloud& api) { return api.assign_user(cloud_id, upn); });
  if (!assigned) {
    if (assigned.error().code == cloud::kErrRejected) ctx_.health.failed(assigned.error(), now);
    return not_now(assigned.error(), Lane::kIntune);
  }
  if (auto recorded = ctx_.store.record_delivery(device->serial, upn, now); !recorded) {
    return recorded.error();
  }
  spdlog::info("device {} delivered to {}", device->serial, upn);
  return ctx_.store.get_device(device->serial);
}

}  // namespace hangar::service
