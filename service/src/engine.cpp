// The registration engine (see engine.h).
#include "hangar/service/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <map>
#include <set>

#include "hangar/cloud/http.h"
#include "hangar/core/device.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/store/errors.h"
#include "redact.h"

namespace hangar::service {

namespace {

using std::chrono::milliseconds;

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

bool unreachable(const core::Error& error) {
  return error.code == cloud::kErrNetwork || error.code == cloud::kErrTimeout;
}

// The seed's failure text, with the cloud's request id where support will need it.
std::string reason_text(core::FailureReason reason, const std::string& request_id) {
  if (reason == core::FailureReason::kUnexpectedError) {
    return core::unexpected_error_message(request_id.empty() ? "none given" : request_id);
  }
  return std::string(core::message(reason));
}

}  // namespace

Engine::Engine(store::Store& store, cloud::RegistrationApi& api, const core::Clock& clock,
               EngineConfig config)
    : store_(store),
      api_(api),
      clock_(clock),
      config_(std::move(config)),
      rng_(config_.seed ? config_.seed : std::random_device{}()),
      writes_(config_.write_budget, config_.budget_window),
      requests_(config_.request_budget, config_.budget_window) {
  status_.groups_configured = !config_.profile_groups.empty();
}

bool Engine::spend_request(std::int64_t now, bool write) {
  const std::int64_t wait =
      std::max(requests_.wait_ms(now), write ? writes_.wait_ms(now) : std::int64_t{0});
  if (wait > 0) {
    budget_wait_until_ = now + wait;
    return false;
  }
  requests_.record(now);
  if (write) writes_.record(now);
  std::lock_guard lock(mutex_);
  ++status_.requests;
  return true;
}

std::int64_t Engine::on_failure(const core::Error& error, std::int64_t now) {
  std::int64_t until = now;
  if (unreachable(error)) {
    until = now + config_.offline_probe.count();
    std::lock_guard lock(mutex_);
    if (status_.online) spdlog::warn("cloud unreachable, working offline: {}", error.message);
    status_.online = false;
  } else if (error.code == cloud::kErrThrottled) {
    // Retry-After is honoured exactly; without it, a doubling wait.
    const milliseconds wait =
        error.retry_after
            ? *error.retry_after
            : std::min(config_.backoff_cap,
                       config_.throttle_default * (1 << std::min(throttle_streak_, 10)));
    ++throttle_streak_;
    until = now + wait.count();
    std::lock_guard lock(mutex_);
    ++status_.throttled;
  } else if (error.code == cloud::kErrAuth || error.code == cloud::kErrNotConfigured) {
    until = now + config_.backoff_cap.count();
  } else {
    until =
        now + full_jitter(failure_streak_, config_.backoff_base, config_.backoff_cap, rng_).count();
    ++failure_streak_;
  }
  if (!unreachable(error)) {
    std::lock_guard lock(mutex_);
    status_.online = true;
  }
  health_.failed(error, now);
  return until;
}

void Engine::poll_failed(const core::Error& error, std::int64_t now) {
  upload_blocked_until_ = std::max(upload_blocked_until_, on_failure(error, now));
  next_poll_ = upload_blocked_until_;
}

void Engine::on_success() {
  // Any answer ends a streak: a 5xx while polling must not grow the next upload's backoff, and
  // a long upload-free phase (confirming, deleting) must not escalate to the cap.
  failure_streak_ = 0;
  throttle_streak_ = 0;
  health_.succeeded(clock_.now_ms());
  std::lock_guard lock(mutex_);
  status_.online = true;
}

bool Engine::upload(std::int64_t now) {
  if (now < upload_blocked_until_ || now < budget_wait_until_) return false;
  // Nothing queued: no write slot spent (other writes share the budget).
  if (auto counts = store_.count_by_state(); counts && (*counts)["queued"] == 0) return false;
  if (!spend_request(now, true)) return false;
  auto batch = store_.claim_upload_batch(now, static_cast<std::int64_t>(config_.batch_size));
  if (!batch) {
    spdlog::error("claiming devices to upload: {}", batch.error().message);
    return false;
  }
  if (batch->empty()) return false;
  send(std::move(batch).value(), now);
  return true;
}

void Engine::send(std::vector<store::DeviceRow> batch, std::int64_t now) {
  std::vector<cloud::ImportItem> items;
  items.reserve(batch.size());
  for (const auto& device : batch) {
    cloud::ImportItem item;
    item.serial = device.serial;
    item.product_key = device.product_id.value_or("");
    if (device.hardware_hash && !device.hardware_hash->empty()) {
      item.hash_base64 = core::encode_base64(*device.hardware_hash);
    }
    item.group_tag = device.group_tag.value_or(config_.default_group_tag);
    item.assigned_user = device.assigned_user.value_or("");
    items.push_back(std::move(item));
  }
  auto records = api_.import_devices(items);
  if (!records) {
    const core::Error& error = records.error();
    if (error.code == cloud::kErrRejected) {
      health_.failed(error, now);  // logged with its request id, like every failed call
      // One bad record refuses the whole call: halve until the culprit stands alone.
      if (batch.size() > 1) {
        const auto middle = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
        std::vector<store::DeviceRow> second(std::make_move_iterator(middle),
                                             std::make_move_iterator(batch.end()));
        batch.erase(middle, batch.end());
        for (auto* half : {&batch, &second}) {
          if (!spend_request(now, true)) {
            for (const auto& device : *half) {
              (void)store_.release_upload(device.serial, std::nullopt, false, {}, now);
            }
            continue;
          }
          send(std::move(*half), now);
        }
        return;
      }
      const bool hash = error.message.find("Edm.Binary") != std::string::npos ||
                        error.message.find("hardwareIdentifier") != std::string::npos;
      const auto reason =
          hash ? core::FailureReason::kHardwareHashNotValid : core::FailureReason::kUnexpectedError;
      const std::string text = reason_text(reason, error.request_id);
      spdlog::warn("device {}: {} ({})", batch.front().serial, text, error.message);
      (void)store_.finish_registration(
          batch.front().serial, "registration_failed", text, error.message,
          error.request_id.empty() ? std::nullopt : std::optional<std::string>(error.request_id),
          text, now);
      return;
    }
    upload_blocked_until_ = on_failure(error, now);
    if (unreachable(error) || error.code == cloud::kErrInDoubt) {
      // The request may have arrived (a dropped connection, or a 2xx answer cut off): the devices
      // stay in flight, and the next pass looks each up before sending it again.
      recovered_ = false;
      return;
    }
    const bool count = error.code == cloud::kErrTransient;
    for (const auto& device : batch) {
      (void)store_.release_upload(device.serial, upload_blocked_until_, count, error.message, now);
    }
    return;
  }
  on_success();
  std::map<std::string, const cloud::ImportRecord*> by_serial;
  for (const auto& record : *records) by_serial[upper(record.serial)] = &record;
  std::vector<store::Store::Uploaded> uploaded;
  uploaded.reserve(batch.size());
  for (const auto& device : batch) {
    auto it = by_serial.find(upper(device.serial));
    if (it == by_serial.end()) {
      // The call was taken but its answer lacks this device: it may be imported all the same. It
      // stays in flight and is looked up before it is ever sent again.
      spdlog::warn(
          "device {}: the import answer did not include it; looking it up before "
          "sending it again",
          device.serial);
      recovered_ = false;
      continue;
    }
    uploaded.push_back({device.serial, it->second->id, it->second->import_id});
  }
  // One transaction for the whole answer: a commit per device took longer than the import call.
  if (auto skipped = store_.mark_uploaded_all(uploaded, now); !skipped) {
    // Left in flight: the next pass looks them up and adopts their records.
    spdlog::error("recording an upload of {} device(s): {}", uploaded.size(),
                  skipped.error().message);
    recovered_ = false;
    return;
  } else {
    for (const auto& serial : *skipped) {
      spdlog::warn("device {} changed while it was uploaded; its import record is not adopted",
                   serial);
    }
  }
  spdlog::info("uploaded {} device(s) in one import call", uploaded.size());
  next_poll_ = std::min(next_poll_ == 0 ? now + config_.poll_interval.count() : next_poll_,
                        now + config_.poll_interval.count());
}

void Engine::poll(std::int64_t now) {
  if (now < next_poll_) return;
  auto pending = store_.pending_devices();
  if (!pending) {
    spdlog::error("reading pending devices: {}", pending.error().message);
    return;
  }
  // Two kinds of Registration Pending: imports the cloud is still working on (their import
  // records are polled), and devices already in the tenant whose deployment profile is not
  // confirmed yet (confirmed by group tag, see confirm()).
  std::vector<const store::DeviceRow*> importing;
  std::vector<const store::DeviceRow*> registered;
  for (const auto& device : *pending) {
    if (device.cloud_device_id && !device.import_record_id) {
      registered.push_back(&device);
    } else {
      importing.push_back(&device);
    }
  }
  if (!confirm(registered, now)) return;

  std::vector<const store::DeviceRow*> just_registered;
  if (!importing.empty()) {
    auto by_id = read_import_records(importing, now);
    if (!by_id) {
      if (by_id.error().code != kBudgetSpent) poll_failed(by_id.error(), now);
      return;
    }
    for (const store::DeviceRow* device : importing) {
      auto it = by_id->find(device->import_record_id.value_or(""));
      if (it != by_id->end()) {
        if (settle(*device, it->second, now)) just_registered.push_back(device);
        continue;
      }
      // The record is gone (deleted by someone else's tool): ask the tenant directly.
      auto found = read_device(device->serial, now);
      if (!found) {
        if (found.error().code != kBudgetSpent) poll_failed(found.error(), now);
        return;
      }
      if (*found) {
        (void)store_.mark_registered(device->serial, (*found)->id, now);
      } else {
        (void)store_.requeue(device->serial, now, "the import record disappeared; importing again",
                             now);
      }
    }
  }
  next_poll_ = now + config_.poll_interval.count();
  // Devices whose import just finished are confirmed in the same pass: where the profile is
  // already assigned they are Ready for user now, not one poll interval later.
  (void)confirm(just_registered, now);
}

bool Engine::settle(const store::DeviceRow& device, const cloud::ImportRecord& record,
                    std::int64_t now) {
  using Action = cloud::ErrorMeaning::Action;
  if (record.status == cloud::ImportStatus::kComplete) {
    // In the tenant now; Ready for user once its deployment profile is assigned (confirm()).
    (void)store_.mark_registered(device.serial, record.registration_id, now);
    deletions_.push_back(record.id);
    return true;
  }
  if (record.status == cloud::ImportStatus::kError) {
    const auto meaning = cloud::interpret_import_error(record.error_code, record.error_name);
    if (meaning.action == Action::kRegistered) {
      // 806: already in this tenant. Ready for user once the tenant shows it.
      auto found = read_device(device.serial, now);
      if (!found && found.error().code != kBudgetSpent) on_failure(found.error(), now);
      if (found && *found) {
        (void)store_.mark_registered(device.serial, (*found)->id, now);
        (void)store_.note_problem(
            device.serial, meaning.detail + ": " + std::string(core::message(meaning.reason)), now);
        deletions_.push_back(record.id);
        return true;
      }
      return false;
    }
    if (meaning.action == Action::kRetry) {
      const auto wait = full_jitter(static_cast<int>(device.attempts), config_.backoff_base,
                                    config_.backoff_cap, rng_);
      (void)store_.requeue(device.serial, now + wait.count(), meaning.detail + ": retrying", now);
      deletions_.push_back(record.id);
      return false;
    }
    // The Request ID the seed shows with "Unexpected error": the response that reported it.
    const std::string text = reason_text(meaning.reason, record.request_id);
    spdlog::warn("device {}: Registration failed: {} ({})", device.serial, text, meaning.detail);
    (void)store_.finish_registration(
        device.serial, "registration_failed", text, meaning.detail,
        record.request_id.empty() ? std::nullopt : std::optional<std::string>(record.request_id),
        text, now);
    deletions_.push_back(record.id);
    return false;
  }
  flag_if_long_pending(device, now);
  return false;
}

void Engine::flag_if_long_pending(const store::DeviceRow& device, std::int64_t now) {
  if (!device.pending_flagged_at &&
      now - device.state_changed_at > config_.pending_threshold.count()) {
    spdlog::warn(
        "device {} has been Registration Pending for over {} minutes (usually under 10)",
        device.serial,
        std::chrono::duration_cast<std::chrono::minutes>(config_.pending_threshold).count());
    (void)store_.flag_long_pending(device.serial, now);
  }
}

namespace {

constexpr std::string_view kProfileFailed =
    "Intune could not assign the deployment profile (deploymentProfileAssignmentStatus failed): "
    "check that the profile is assigned to the device's group";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool Engine::confirm(const std::vector<const store::DeviceRow*>& devices, std::int64_t now) {
  std::map<std::string, std::vector<const store::DeviceRow*>> by_tag;
  for (const store::DeviceRow* device : devices) {
    by_tag[device->group_tag.value_or(config_.default_group_tag)].push_back(device);
  }
  for (const auto& [tag, group] : by_tag) {
    auto listed = read_tagged(tag, now);
    if (!listed) {
      // The budget: the rest on the next pass.
      if (listed.error().code != kBudgetSpent) poll_failed(listed.error(), now);
      return false;
    }
    std::map<std::string, const cloud::AutopilotDevice*> by_serial;
    for (const auto& identity : *listed) by_serial[lower(identity.serial)] = &identity;
    for (const store::DeviceRow* device : group) {
      const auto it = by_serial.find(lower(device->serial));
      std::optional<cloud::AutopilotDevice> identity;
      if (it != by_serial.end()) {
        identity = *it->second;
      } else {
        // Not under its tag: someone may have changed the tag. Look for it by serial.
        auto found = read_device(device->serial, now);
        if (!found) {
          if (found.error().code != kBudgetSpent) poll_failed(found.error(), now);
          return false;
        }
        if (!*found) {  // Intune lists new devices a little late: wait
          flag_if_long_pending(*device, now);
          continue;
        }
        identity = std::move(**found);
        if (lower(identity->group_tag) != lower(tag) && spend_request(now, true)) {
          if (auto set = api_.set_group_tag(identity->id, tag); set) {
            spdlog::info("device {}: group tag was \"{}\", set it back to \"{}\"", device->serial,
                         identity->group_tag, tag);
          } else {
            health_.failed(set.error(), now);
          }
        }
      }
      switch (cloud::interpret_profile_status(identity->profile_status)) {
        case cloud::ProfileAssignment::kAssigned:
        case cloud::ProfileAssignment::kNotShown: {
          const std::string why =
              identity->profile_status.empty()
                  ? std::string("registered (this Graph version does not show the profile)")
                  : "registered; deployment profile assigned (" + identity->profile_status + ")";
          // Keep what the import said (806 "already registered"), not an old profile problem.
          auto fresh = store_.get_device(device->serial);  // this pass may have noted a 806
          std::optional<std::string> detail = fresh ? fresh->last_error : device->last_error;
          if (detail == kProfileFailed) detail.reset();
          (void)store_.finish_registration(device->serial, "ready_for_user", std::nullopt, detail,
                                           std::nullopt, why, now);
          spdlog::info("device {} is Ready for user", device->serial);
          break;
        }
        case cloud::ProfileAssignment::kFailed: {
          if (device->last_error.value_or("") != kProfileFailed) {
            spdlog::warn("device {}: {}", device->serial, kProfileFailed);
            (void)store_.note_problem(device->serial, kProfileFailed, now);
          }
          flag_if_long_pending(*device, now);
          break;
        }
        case cloud::ProfileAssignment::kWaiting:
          flag_if_long_pending(*device, now);
          break;
      }
    }
  }
  return true;
}

std::int64_t Engine::add_partner_devices(const std::vector<cloud::AutopilotDevice>& identities,
                                         std::int64_t now) {
  // Devices carrying our group tag that a partner (an OEM or reseller) registered: no CSV ever
  // passed through Hangar, so they are added as registered and tracked like the rest. Serials
  // already in the store come back as already queued or a conflict and are left alone.
  auto known_list = store_.serials();
  if (!known_list) {
    spdlog::error("reading the queue's serials: {}", known_list.error().message);
    return 0;
  }
  const std::set<std::string> known(known_list->begin(), known_list->end());
  std::vector<store::NewDevice> candidates;
  for (const auto& identity : identities) {
    if (identity.serial.empty() || lower(identity.group_tag) != lower(config_.default_group_tag) ||
        known.count(lower(identity.serial)) > 0) {
      continue;
    }
    store::NewDevice device;
    device.serial = identity.serial;
    if (!identity.manufacturer.empty()) device.manufacturer = identity.manufacturer;
    if (!identity.model.empty()) device.model = identity.model;
    device.group_tag = identity.group_tag;
    device.profile = "standard";
    device.state = "ready_for_user";
    device.partner_registered = true;
    device.created_at = now;
    candidates.push_back(std::move(device));
  }
  if (candidates.empty()) return 0;
  auto results = store_.insert_devices(candidates);
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
        candidates[i].serial, config_.default_group_tag);
  }
  return added;
}

void Engine::run_jobs() {
  for (;;) {
    std::function<void()> job;
    {
      std::lock_guard lock(mutex_);
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

core::Result<store::DeviceRow> Engine::deliver(const std::string& serial, const std::string& upn,
                                               std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<core::Result<store::DeviceRow>>>();
  auto result = promise->get_future();
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, promise, serial, upn] {
      try {
        promise->set_value(deliver_now(serial, upn));
      } catch (const std::exception& e) {
        promise->set_value(
            core::make_error("internal", std::string("delivery failed: ") + e.what()));
      }
    });
  }
  notify();
  if (result.wait_for(timeout) != std::future_status::ready) {
    return core::make_error("timeout", "the delivery of " + serial +
                                           " did not finish in time; it may still complete: check "
                                           "`hangar show " +
                                           serial + "`");
  }
  return result.get();
}

core::Result<store::DeviceRow> Engine::deliver_now(const std::string& serial,
                                                   const std::string& upn) {
  const std::int64_t now = clock_.now_ms();
  auto device = store_.get_device(serial);
  if (!device) return device.error();
  if (device->delivered_at) {
    return core::make_error("conflict", "device " + device->serial + " was already delivered to " +
                                            device->delivered_to.value_or("?"));
  }
  if (device->state != "ready_for_user" && device->state != "active" &&
      device->state != "inactive") {
    return core::make_error(
        "conflict",
        "device " + device->serial + " is not Ready for user yet (it is " +
            std::string(core::display_name(
                core::parse_device_state(device->state).value_or(core::DeviceState::kQueued))) +
            "); deliver it once `hangar list --state ready-for-user` shows it");
  }
  auto user = api_.find_user(upn);
  if (!user) {
    health_.failed(user.error(), now);
    return user.error();
  }
  if (!*user) {
    return core::make_error("not_found",
                            "no user " + upn + " in the tenant; check the spelling of the UPN");
  }
  std::vector<std::string> missing;
  for (const auto& sku : config_.required_licenses) {
    const auto& held = (*user)->sku_ids;
    const bool has = std::any_of(held.begin(), held.end(),
                                 [&](const std::string& h) { return lower(h) == lower(sku); });
    if (!has) missing.push_back(sku);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& sku : missing) list += (list.empty() ? "" : ", ") + sku;
    return core::make_error("invalid_argument",
                            "user " + upn + " lacks " + std::to_string(missing.size()) +
                                " required licence(s): " + list +
                                "; assign them in the Microsoft 365 admin center, then deliver");
  }
  std::string cloud_id = device->cloud_device_id.value_or("");
  if (cloud_id.empty()) {
    auto found = api_.find_autopilot_device(device->serial);
    if (!found) {
      health_.failed(found.error(), now);
      return found.error();
    }
    if (!*found) {
      return core::make_error(
          "not_found", "device " + device->serial + " is not in the tenant's Autopilot devices");
    }
    cloud_id = (*found)->id;
  }
  if (auto assigned = api_.assign_user(cloud_id, upn); !assigned) {
    health_.failed(assigned.error(), now);
    return assigned.error();
  }
  health_.succeeded(now);
  if (auto recorded = store_.record_delivery(device->serial, upn, now); !recorded) {
    return recorded.error();
  }
  spdlog::info("device {} delivered to {}", device->serial, upn);
  return store_.get_device(device->serial);
}

void Engine::credentials_changed() {
  {
    std::lock_guard lock(mutex_);
    backoff_reset_requested_ = true;
  }
  notify();
}

void Engine::refresh() {
  {
    std::lock_guard lock(mutex_);
    refresh_requested_ = true;
  }
  notify();
}

// Reads every Autopilot device's enrollment and every managed device's last sync (two paged
// lists, so requests grow with pages, not devices), decides Active / Inactive for each registered
// device, and writes only the rows where something changed.
void Engine::monitor(std::int64_t now) {
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
    if (identities.error().code == kBudgetSpent) return;  // the next pass
    next_activity_ = std::max(now + 1, on_failure(identities.error(), now));
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
  auto tracked = store_.tracked_devices();
  if (!tracked) {
    spdlog::error("reading registered devices: {}", tracked.error().message);
    next_activity_ = now + config_.activity_interval.count();
    return;
  }
  pass.devices = static_cast<std::int64_t>(tracked->size());
  if (!tracked->empty()) {
    std::map<std::string, const cloud::ManagedDevice*> managed_by_id;
    core::Result<std::vector<cloud::ManagedDevice>> managed = std::vector<cloud::ManagedDevice>{};
    if (any_managed) {
      if (!spend_request(now, false)) return;
      managed = api_.list_managed_devices();
      if (!managed) {
        (void)health_.refused(forms::kManagedDevices, managed.error(), now);
        next_activity_ = std::max(now + 1, on_failure(managed.error(), now));
        return;
      }
      health_.accepted(forms::kManagedDevices, now);
      ++pass.requests;
      for (const auto& device : *managed) managed_by_id[device.id] = &device;
    }
    on_success();

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
      if (update.managed_device_id) {
        if (auto it = managed_by_id.find(*update.managed_device_id); it != managed_by_id.end()) {
          update.last_sync_at = it->second->last_sync_ms;
        }
      }
      std::string state = device.state;
      if (identity.enrollment_state == "enrolled" && update.last_sync_at) {
        const std::int64_t idle = now - *update.last_sync_at;
        const std::int64_t hours = std::max<std::int64_t>(idle, 0) / 3'600'000;
        if (idle <= config_.inactive_after.count()) {
          state = "active";
          update.reason = "enrolled, last sync with Intune " + std::to_string(hours) + " h ago";
        } else {
          state = "inactive";
          update.reason = "not used in the last " +
                          std::to_string(config_.inactive_after.count() / 86'400'000) +
                          " days (last sync " + std::to_string(hours / 24) + " days ago)";
        }
      }
      if (state == "active") ++pass.active;
      if (state == "inactive") ++pass.inactive;
      const bool changed = state != device.state ||
                           update.cloud_device_id != device.cloud_device_id ||
                           update.managed_device_id != device.managed_device_id ||
                           update.enrollment_state != device.enrollment_state ||
                           update.last_sync_at != device.last_sync_at ||
                           update.azure_ad_device_id != device.azure_ad_device_id;
      if (!changed) continue;
      if (state != device.state) {
        update.new_state = state;
        spdlog::debug("device {}: {} -> {} ({})", device.serial, device.state, state,
                      update.reason);
      }
      updates.push_back(std::move(update));
    }
    auto written = store_.apply_activity(updates, now);
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
  next_activity_ = now + config_.activity_interval.count();
  std::lock_guard lock(mutex_);
  status_.activity = pass;
  status_.next_activity_at = next_activity_;
}

namespace {

constexpr std::string_view kGroupSweepMeta = "group_sweep_last_at";

std::string profile_key(const std::string& stored) {
  // Devices store the CLI name; rows of old releases may hold the display name.
  const auto profile = core::parse_profile(stored);
  return profile ? std::string(core::cli_name(*profile)) : lower(stored);
}

}  // namespace

bool Engine::sweep_groups() {
  if (config_.profile_groups.empty()) return false;
  {
    std::lock_guard lock(mutex_);
    group_sweep_requested_ = true;
  }
  notify();
  return true;
}

void Engine::enforce_groups(std::int64_t now) {
  if (config_.profile_groups.empty()) return;
  if (next_group_sweep_ < 0) {
    // Daily across restarts: the last sweep's time is in the store.
    next_group_sweep_ = now;
    if (auto last = store_.get_meta(kGroupSweepMeta); last && *last) {
      try {
        next_group_sweep_ = std::stoll(**last) + config_.group_sweep_interval.count();
      } catch (const std::exception&) {
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    status_.groups_configured = true;
    // A sweep under way finishes first (its listing predates the request); the requested one
    // starts on the pass after it.
    if (group_sweep_requested_ && !group_sweep_active_) {
      group_sweep_requested_ = false;
      next_group_sweep_ = std::min(next_group_sweep_, now);
    }
  }
  if (!group_sweep_active_) {
    if (now < next_group_sweep_ || now < group_blocked_until_) {
      std::lock_guard lock(mutex_);
      status_.next_group_sweep_at = std::max(next_group_sweep_, group_blocked_until_);
      return;
    }
    if (!plan_groups(now)) {
      std::lock_guard lock(mutex_);
      status_.next_group_sweep_at = next_group_sweep_;
      return;
    }
  }
  apply_group_corrections(now);
}

bool Engine::plan_groups(std::int64_t now) {
  GroupSweep pass;
  pass.started_at = now;
  auto tracked = store_.tracked_devices();
  if (!tracked) {
    spdlog::error("group sweep: reading registered devices: {}", tracked.error().message);
    next_group_sweep_ = now + config_.poll_interval.count();
    return false;
  }
  // One paged list per configured group: requests follow pages, not devices.
  std::map<std::string, std::map<std::string, std::string>> memberships;  // device id -> gid -> oid
  std::set<std::string> unreadable;  // groups that could not be listed: neither add nor remove
  for (const auto& [profile, group_id] : config_.profile_groups) {
    if (!spend_request(now, false)) {
      next_group_sweep_ = std::max(now + 1, budget_wait_until_);
      return false;
    }
    ++pass.requests;
    auto members = api_.list_group_devices(group_id);
    if (!members) {
      const core::Error& error = members.error();
      (void)health_.refused(forms::kGroupMembers, error, now);
      if (error.code == cloud::kErrRejected || error.code == cloud::kErrAuth) {
        // A group that does not exist (a typo in profile_groups) or a missing permission: the
        // other groups can still be enforced.
        ++pass.errors;
        pass.last_error = "listing group " + group_id + " (" + profile + "): " + error.message;
        health_.failed(error, now);
        unreadable.insert(group_id);
        continue;
      }
      group_blocked_until_ = std::max(group_blocked_until_, on_failure(error, now));
      next_group_sweep_ = std::max(now + 1, group_blocked_until_);
      return false;
    }
    health_.accepted(forms::kGroupMembers, now);
    on_success();
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
    // A partner-registered device's profile was never chosen here (it is tracked as standard by
    // default), so moving it between groups could undo the admin's intent: left alone.
    if (device.partner_registered) continue;
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
    const auto wanted = config_.profile_groups.find(profile);
    DevicePlan plan;
    plan.azure_ad_device_id = *device.azure_ad_device_id;
    // Why the device's removes must not run: its own group is not known to hold it.
    std::string hold;
    if (wanted == config_.profile_groups.end()) {
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
    for (const auto& [other_profile, group_id] : config_.profile_groups) {
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
    if (!spend_request(now, false)) {
      next_group_sweep_ = std::max(now + 1, budget_wait_until_);
      return false;
    }
    ++pass.requests;
    auto found =
        api_.find_directory_devices(std::span<const std::string>(lookups.data() + at, end - at));
    if (!found) {
      const core::Error& error = found.error();
      (void)health_.refused(forms::kDevicesByDeviceId, error, now);
      if (error.code == cloud::kErrRejected || error.code == cloud::kErrAuth) {
        ++pass.errors;
        pass.last_error = "looking up device objects: " + error.message;
        health_.failed(error, now);
        continue;
      }
      group_blocked_until_ = std::max(group_blocked_until_, on_failure(error, now));
      next_group_sweep_ = std::max(now + 1, group_blocked_until_);
      return false;
    }
    health_.accepted(forms::kDevicesByDeviceId, now);
    on_success();
    for (const auto& object : *found) objects[lower(object.device_id)] = object.object_id;
  }

  group_plan_.clear();
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
    if (plan.add) group_plan_.push_back(std::move(*plan.add));
    for (auto& remove : plan.removes) group_plan_.push_back(std::move(remove));
  }
  group_pass_ = std::move(pass);
  group_sweep_active_ = true;
  std::lock_guard lock(mutex_);
  status_.group_sweep_running = true;
  return true;
}

bool Engine::still_registered(const PlannedCorrection& correction) {
  auto row = store_.get_device(correction.serial);
  if (row) return row->id == correction.device_id;
  if (row.error().code == store::kErrNotFound) return false;
  // The store could not say: the plan was made from it moments ago, so it stands.
  spdlog::error("group sweep: reading device {}: {}", correction.serial, row.error().message);
  return true;
}

void Engine::skip_group_removal(const PlannedCorrection& correction, std::int64_t now) {
  ++group_pass_.removals_skipped;
  if (group_pass_.skipped_removals.size() < GroupSweep::kSkippedShown) {
    group_pass_.skipped_removals.push_back(
        {correction.serial, correction.group_id, correction.profile, correction.skip_reason});
  }
  spdlog::info("group sweep: device {} stays in {} ({}'s group), not removed: {}",
               correction.serial, correction.group_id, correction.profile, correction.skip_reason);
  // The log says it once per situation: a device left where it is day after day (its profile
  // has no group, say) gets one entry, not one a day.
  auto log = store_.group_corrections(correction.serial);
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
  if (auto recorded =
          store_.record_group_correction({correction.device_id, now, "skipped", correction.group_id,
                                          correction.profile, correction.skip_reason});
      !recorded) {
    spdlog::error("group sweep: recording the skipped removal of {} from {}: {}", correction.serial,
                  correction.group_id, recorded.error().message);
  }
}

void Engine::apply_group_corrections(std::int64_t now) {
  while (!group_plan_.empty()) {
    const PlannedCorrection& correction = group_plan_.front();
    const bool held = !correction.skip_reason.empty();  // no call, no budget: only recorded
    // Writes wait out a throttle or backoff; a held-back removal needs no call.
    if (!held && now < group_blocked_until_) return;
    if (!still_registered(correction)) {
      // `hangar remove` since the plan was made: not ours any more, its memberships stay.
      const std::int64_t device = correction.device_id;
      spdlog::info(
          "group sweep: device {} left Hangar during the sweep; its groups are left as they are",
          correction.serial);
      while (!group_plan_.empty() && group_plan_.front().device_id == device) {
        group_plan_.pop_front();
      }
      continue;
    }
    if (held) {
      skip_group_removal(correction, now);
      group_plan_.pop_front();
      continue;
    }
    if (!spend_request(now, true)) return;  // the write budget: the next step resumes here
    ++group_pass_.requests;
    const bool add = correction.action == "added";
    auto changed = add ? api_.add_group_member(correction.group_id, correction.object_id)
                       : api_.remove_group_member(correction.group_id, correction.object_id);
    if (!changed) {
      const core::Error& error = changed.error();
      if (error.code != cloud::kErrRejected && error.code != cloud::kErrAuth) {
        // Throttled, 5xx, offline: keep the correction (and the removes behind it) and try it
        // again. Only the sweep waits: Entra ID throttles apart from the Intune imports.
        group_blocked_until_ = std::max(group_blocked_until_, on_failure(error, now));
        return;
      }
      ++group_pass_.errors;
      group_pass_.last_error = std::string(add ? "adding " : "removing ") + correction.serial +
                               (add ? " to group " : " from group ") + correction.group_id + ": " +
                               error.message;
      health_.failed(error, now);
      if (add) {
        // Not in its own group: taking it out of the others would leave it in none.
        // Kept in the corrections log and shown by `hangar show`: redacted like last_error.
        const std::string reason = redact("adding it to its own group " + correction.group_id +
                                          " (" + correction.profile + ") failed: " + error.message);
        for (auto it = std::next(group_plan_.begin());
             it != group_plan_.end() && it->device_id == correction.device_id; ++it) {
          it->skip_reason = reason;
        }
      }
    } else {
      on_success();
      if (*changed) {
        if (auto recorded =
                store_.record_group_correction({correction.device_id, now, correction.action,
                                                correction.group_id, correction.profile});
            !recorded) {
          // The cloud made the change; only the log lacks it.
          spdlog::error("group sweep: recording that {} was {} {} {}: {}", correction.serial,
                        correction.action, add ? "to" : "from", correction.group_id,
                        recorded.error().message);
        }
        if (add) {
          ++group_pass_.added;
          spdlog::info("device {}: was not in its profile's group; added to {} ({})",
                       correction.serial, correction.group_id, correction.profile);
        } else {
          ++group_pass_.removed;
          spdlog::info("device {}: was in another profile's group; removed from {} ({})",
                       correction.serial, correction.group_id, correction.profile);
        }
      }
    }
    group_plan_.pop_front();
  }
  group_pass_.finished_at = now;
  group_sweep_active_ = false;
  next_group_sweep_ = now + config_.group_sweep_interval.count();
  (void)store_.set_meta(kGroupSweepMeta, std::to_string(now));
  spdlog::info(
      "group sweep: {} device(s) checked, {} added to their profile's group, {} removed from "
      "another profile's group, {} removal(s) skipped, {} without an Entra ID device id yet, {} "
      "error(s), {} call(s)",
      group_pass_.devices, group_pass_.added, group_pass_.removed, group_pass_.removals_skipped,
      group_pass_.skipped, group_pass_.errors, group_pass_.requests);
  std::lock_guard lock(mutex_);
  status_.groups = group_pass_;
  status_.group_sweep_running = false;
  status_.next_group_sweep_at = next_group_sweep_;
}

void Engine::delete_finished(std::int64_t now, std::size_t limit) {
  if (now < upload_blocked_until_) return;  // throttled or backing off: writes wait
  for (std::size_t done = 0; done < limit && !deletions_.empty(); ++done) {
    if (!spend_request(now, true)) return;
    auto status = api_.delete_import_record(deletions_.front());
    // 404: gone already (someone else deleted it).
    if (!status && status.error().http_status != 404) {
      upload_blocked_until_ = std::max(upload_blocked_until_, on_failure(status.error(), now));
      return;  // keep it for later
    }
    on_success();
    deletions_.pop_front();
  }
}

void Engine::sweep(std::int64_t now) {
  if (now < next_sweep_) return;
  auto devices = read_all_devices(now);
  if (!devices) {
    if (devices.error().code == kBudgetSpent) return;
    on_failure(devices.error(), now);
    next_sweep_ = now + config_.poll_interval.count();
    return;
  }
  int fixed = 0;
  for (const auto& device : *devices) {
    if (!device.group_tag.empty()) continue;
    auto row = store_.get_device(device.serial);
    if (!row) continue;  // not ours
    if (!spend_request(now, true)) break;
    const std::string tag = row->group_tag.value_or(config_.default_group_tag);
    if (auto status = api_.set_group_tag(device.id, tag); status) {
      ++fixed;
    } else {
      on_failure(status.error(), now);
      break;
    }
  }
  if (fixed > 0) spdlog::info("group tag sweep: re-applied the group tag on {} device(s)", fixed);
  next_sweep_ = now + config_.sweep_interval.count();
}

std::chrono::milliseconds Engine::step() {
  run_jobs();
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mutex_);
    if (backoff_reset_requested_) {
      backoff_reset_requested_ = false;
      upload_blocked_until_ = 0;
      group_blocked_until_ = 0;
      next_poll_ = std::min(next_poll_, now);
      failure_streak_ = 0;
      throttle_streak_ = 0;
      health_.clear_last_error();
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (status_.paused) return std::chrono::hours(1);
  }
  budget_wait_until_ = 0;
  health_.begin_pass();
  all_devices_.reset();  // every pass reads the tenant afresh
  // In-doubt devices are looked up only when a cloud call may be made again: scanning them on
  // every pass while offline would cost the whole queue per import batch.
  if (!recovered_ && now >= upload_blocked_until_) recover(now);
  const bool sent = recovered_ && upload(now);
  // While a queue goes out batch after batch, the poll waits for the last one: records made
  // seconds ago are still unknown, and listing the import table between batches only slows the
  // upload (and so every device's Ready for user).
  bool more_to_send = false;
  if (sent) {
    auto counts = store_.count_by_state();
    more_to_send = counts && (*counts)["queued"] > 0;
  }
  if (!more_to_send) poll(now);
  // Removing finished import records is housekeeping: while devices wait to be uploaded it must
  // not spend the write budget (or draw a 429, which stops every write) that their import needs.
  {
    auto counts = store_.count_by_state();
    const bool uploads_waiting = counts && (*counts)["queued"] > 0;
    delete_finished(now, uploads_waiting ? 2 : deletions_.size());
  }
  if (next_sweep_ == 0) next_sweep_ = now + config_.sweep_interval.count();
  sweep(now);
  monitor(now);
  enforce_groups(now);  // after the activity pass: it reads the Entra ID device ids

  // Sleep until the earliest moment something can happen.
  std::int64_t wake = now + 60'000;
  auto queued = store_.count_by_state();
  const bool have_queued = queued && (*queued)["queued"] > 0;
  const bool have_pending = queued && (*queued)["registration_pending"] > 0;
  if (have_queued) {
    std::int64_t at = std::max(upload_blocked_until_, budget_wait_until_);
    if (auto next = store_.next_attempt_at(); next && *next && at <= now) at = std::max(at, **next);
    wake = std::min(wake, std::max(at, now));
  }
  if (have_pending) wake = std::min(wake, std::max(next_poll_, now));
  if (!deletions_.empty()) {
    wake = std::min(wake, std::max({budget_wait_until_, upload_blocked_until_, now + 1}));
  }
  wake = std::min(wake, next_sweep_);
  wake = std::min(wake, std::max(next_activity_, now + 1));
  bool sweep_requested = false;
  {
    std::lock_guard lock(mutex_);
    sweep_requested = group_sweep_requested_;
  }
  if (group_sweep_active_) {
    wake = std::min(wake, std::max({budget_wait_until_, group_blocked_until_, now + 1}));
  } else if (sweep_requested) {
    wake = std::min(wake, now + 1);
  } else if (!config_.profile_groups.empty() && next_group_sweep_ >= 0) {
    wake = std::min(wake, std::max(next_group_sweep_, now + 1));
  }
  {
    std::lock_guard lock(mutex_);
    status_.blocked_until_ms = upload_blocked_until_ > now
                                   ? std::optional<std::int64_t>(upload_blocked_until_)
                                   : std::nullopt;
  }
  return milliseconds(std::max<std::int64_t>(wake - now, 0));
}

void Engine::run(const core::StopToken& stop) {
  while (!stop.stop_requested()) {
    milliseconds delay{0};
    const auto started = std::chrono::steady_clock::now();
    try {
      delay = step();
      // step() counts from the start of the pass; a long pass (paging, deletes) must not push
      // the next one back by its own duration.
      delay -= std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    } catch (const std::exception& e) {
      spdlog::error("registration engine: {}", e.what());
      delay = config_.backoff_base;
    }
    // A pass that could do more at once still yields briefly, so a bug can never spin a core.
    wakeup_.wait_for(stop, std::max(delay, milliseconds(20)));
  }
}

void Engine::notify() { wakeup_.notify(); }

void Engine::pause() {
  std::lock_guard lock(mutex_);
  status_.paused = true;
}

void Engine::resume() {
  {
    std::lock_guard lock(mutex_);
    status_.paused = false;
  }
  wakeup_.notify();
}

EngineStatus Engine::status() const {
  EngineStatus status;
  {
    std::lock_guard lock(mutex_);
    status = status_;
  }
  const LastCloudError last = health_.last_error();
  status.last_error = last.text;
  status.last_error_at = last.at;
  status.last_error_resolved_at = last.resolved_at;
  status.refused_requests = health_.refused_requests();
  return status;
}

}  // namespace hangar::service
