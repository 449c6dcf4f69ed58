// The registration pass (see registration_pass.h): upload, poll, confirm, delete.
#include "hangar/service/passes/registration_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "hangar/cloud/http.h"
#include "hangar/core/device.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/principal_name.h"
#include "same_machine.h"
#include "text_util.h"

namespace hangar::service {

namespace {

using std::chrono::milliseconds;

// The seed's failure text, with the cloud's request id where support will need it.
std::string reason_text(core::FailureReason reason, const std::string& request_id) {
  if (reason == core::FailureReason::kUnexpectedError) {
    return core::unexpected_error_message(request_id.empty() ? "none given" : request_id);
  }
  return std::string(core::message(reason));
}

constexpr std::string_view kProfileFailed =
    "Intune could not assign the deployment profile (deploymentProfileAssignmentStatus failed): "
    "check that the profile is assigned to the device's group";

}  // namespace

RegistrationPass::RegistrationPass(PassContext context, CloudSource<cloud::RegistrationCloud> cloud)
    : ctx_(context), cloud_(std::move(cloud), context.budget) {}

void RegistrationPass::run(std::int64_t now, bool uploads_paused) {
  all_devices_.reset();  // every pass reads the tenant afresh
  // In-doubt devices are looked up only when a cloud call may be made again: scanning them on
  // every pass while offline would cost the whole queue per import batch.
  if (!recovered_ && now >= ctx_.budget.blocked_until(Lane::kIntune)) recover(now);
  const bool sent = recovered_ && !uploads_paused && upload(now);
  // While a queue goes out batch after batch, the poll waits for the last one: records made
  // seconds ago are still unknown, and listing the import table between batches only slows the
  // upload (and so every device's Ready for user).
  bool more_to_send = false;
  if (sent) {
    auto counts = ctx_.store.count_by_state();
    more_to_send = counts && (*counts)[core::DeviceState::kQueued] > 0;
  }
  if (!more_to_send) poll(now);
  // Removing finished import records is housekeeping: while devices wait to be uploaded it must
  // not spend the write budget (or draw a 429, which stops every write) that their import needs.
  auto counts = ctx_.store.count_by_state();
  const bool uploads_waiting = counts && (*counts)[core::DeviceState::kQueued] > 0;
  delete_finished(uploads_waiting ? 2 : deletions_.size(), now);
}

std::int64_t RegistrationPass::next_wake(std::int64_t now, bool have_queued,
                                         bool have_pending) const {
  std::int64_t wake = now + 60'000;
  const std::int64_t blocked = ctx_.budget.writes_blocked_until(Lane::kIntune);
  const std::int64_t budget_wait = ctx_.budget.retry_at();
  if (have_queued) {
    std::int64_t at = std::max(blocked, budget_wait);
    if (auto next = ctx_.store.next_attempt_at(); next && *next && at <= now) {
      at = std::max(at, **next);
    }
    wake = std::min(wake, std::max(at, now));
  }
  if (have_pending) wake = std::min(wake, std::max(next_poll_, now));
  if (!deletions_.empty()) {
    std::int64_t due = deletions_.front().not_before;
    for (const Deletion& each : deletions_) due = std::min(due, each.not_before);
    wake = std::min(wake, std::max({budget_wait, blocked, due, now + 1}));
  }
  return wake;
}

void RegistrationPass::credentials_changed(std::int64_t now) {
  next_poll_ = std::min(next_poll_, now);
  import_refusals_ = 0;
  if (auto cleared = ctx_.store.clear_next_attempts(now); !cleared) {
    spdlog::error("making the queued devices due after new credentials: {}",
                  cleared.error().message);
  }
}

void RegistrationPass::poll_failed(const core::Error& error, std::int64_t now) {
  if (error.code == CloudBudget::kNotNow) {
    // The budget: the rest once it allows.
    next_poll_ = std::max(next_poll_, now + error.retry_after.value_or(milliseconds(0)).count());
    return;
  }
  ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, error);
  next_poll_ = std::max(ctx_.budget.blocked_until(Lane::kIntune), now);
}

bool RegistrationPass::upload(std::int64_t now) {
  // Throttled, backing off or the write budget spent: nothing is claimed.
  if (ctx_.budget.wait_ms(Lane::kIntune, CallKind::kWrite) > 0) return false;
  // Nothing queued: no write slot spent (other writes share the budget).
  if (auto counts = ctx_.store.count_by_state();
      counts && (*counts)[core::DeviceState::kQueued] == 0)
    return false;
  auto batch =
      ctx_.store.claim_upload_batch(now, static_cast<std::int64_t>(ctx_.config.batch_size));
  if (!batch) {
    spdlog::error("claiming devices to upload: {}", batch.error().message);
    return false;
  }
  if (batch->empty()) return false;
  send(std::move(batch).value(), now);
  return true;
}

void RegistrationPass::send(std::vector<store::DeviceRow> batch, std::int64_t now) {
  Bisection bisection;
  send_part(std::move(batch), now, bisection);
  if (bisection.suspect && !bisection.not_sent.empty()) {
    // Two devices refused alone and nothing taken: the request itself, or two bad records side
    // by side. A device from the far end of the batch, sent alone, tells them apart.
    std::vector<store::DeviceRow> rest = std::move(bisection.not_sent);
    bisection.not_sent.clear();
    std::vector<store::DeviceRow> probe;
    probe.push_back(std::move(rest.back()));
    rest.pop_back();
    bisection.suspect = false;
    bisection.settled = true;
    const std::size_t refused_before = bisection.refused_alone.size();
    send_part(std::move(probe), now, bisection);
    if (bisection.refused_alone.size() > refused_before &&
        cloud::failure_of(bisection.refused_alone.back().second) != cloud::Failure::kInvalidHash) {
      hold_refused_import(bisection.refused_alone, rest, now);
      return;
    }
    send_part(std::move(rest), now, bisection);
  }
  if (bisection.accepted && bisection.refused_before_taken > 0) {
    // Refused alone before any part was taken, then parts were: the refusal may have been the
    // request's, ended since (black-box round 12: a 400 for the first five calls failed a good
    // device as Unexpected error). Each such device is sent alone once more; refused again with
    // the form known to work, the refusal is its own.
    std::vector<std::pair<store::DeviceRow, core::Error>> refused;
    for (std::size_t i = 0; i < bisection.refused_alone.size(); ++i) {
      auto& [device, error] = bisection.refused_alone[i];
      if (i >= bisection.refused_before_taken ||
          cloud::failure_of(error) == cloud::Failure::kInvalidHash) {
        refused.emplace_back(std::move(device), std::move(error));
        continue;
      }
      Bisection again;
      again.accepted = true;
      again.settled = true;
      std::vector<store::DeviceRow> alone;
      alone.push_back(std::move(device));
      send_part(std::move(alone), now, again);
      for (auto& each : again.refused_alone) refused.push_back(std::move(each));
    }
    bisection.refused_alone = std::move(refused);
  }
  for (const auto& [device, error] : bisection.refused_alone) {
    const bool hash = cloud::failure_of(error) == cloud::Failure::kInvalidHash;
    const auto reason =
        hash ? core::FailureReason::kHardwareHashNotValid : core::FailureReason::kUnexpectedError;
    const std::string text = reason_text(reason, error.request_id);
    spdlog::warn("device {}: {} ({})", device.serial, text, error.message);
    (void)ctx_.store.finish_registration(
        device.serial, core::DeviceState::kRegistrationFailed, text, error.message,
        error.request_id.empty() ? std::nullopt : std::optional<std::string>(error.request_id),
        text, now);
  }
}

void RegistrationPass::hold_refused_import(
    const std::vector<std::pair<store::DeviceRow, core::Error>>& refused_alone,
    const std::vector<store::DeviceRow>& not_sent, std::int64_t now) {
  // The request refused, not a record: every device of the batch back to the queue, on a
  // backoff, with the refusal (the last one) as its last error.
  const core::Error& error = refused_alone.back().second;
  ++import_refusals_;
  const auto wait =
      std::max(ctx_.config.backoff_base, full_jitter(import_refusals_, ctx_.config.backoff_base,
                                                     ctx_.config.backoff_cap, ctx_.budget.rng()));
  const std::int64_t seconds = (wait.count() + 999) / 1000;
  const std::string request_id = error.request_id.empty() ? "none given" : error.request_id;
  const std::string held =
      "the cloud refused the import request itself, not this device (" + error.message +
      "); nothing is marked failed: the batch is sent again in " + std::to_string(seconds) +
      " s (`hangar status` shows the refusal; if it lasts, give Microsoft "
      "support its request id, " +
      request_id + ")";
  for (const auto& [device, refused] : refused_alone) {
    (void)ctx_.store.release_upload(device.serial, now + wait.count(), false, held, now);
  }
  for (const auto& device : not_sent) {
    (void)ctx_.store.release_upload(device.serial, now + wait.count(), false, held, now);
  }
  (void)ctx_.health.refused(forms::kImportCreate, error, now);
  spdlog::warn(
      "the cloud refused the import request itself ({} time(s) in a row; request id {}): no "
      "device is marked failed; the batch is sent again in {} s",
      import_refusals_, request_id, seconds);
}

void RegistrationPass::send_part(std::vector<store::DeviceRow> batch, std::int64_t now,
                                 Bisection& bisection) {
  if (bisection.suspect) {
    // The form is in doubt: the rest waits for the far-end device's answer (send()).
    for (auto& device : batch) bisection.not_sent.push_back(std::move(device));
    return;
  }
  std::vector<cloud::ImportItem> items;
  items.reserve(batch.size());
  for (const auto& device : batch) {
    cloud::ImportItem item;
    item.serial = device.serial;
    item.product_key = device.product_id.value_or("");
    if (device.hardware_hash && !device.hardware_hash->empty()) {
      item.hash_base64 = core::encode_base64(*device.hardware_hash);
    }
    item.group_tag = device.group_tag.value_or(ctx_.config.default_group_tag);
    // Never the user: assigning one is `deliver`'s, after the user's licences are checked (the
    // seed: licences before hand-off). Microsoft has also removed direct user assignment through
    // the import's assignedUserPrincipalName (realmjoin/realmjoin-runbooks
    // org/devices/add-autopilot-device.ps1; GRAPH-FACTS.md).
    items.push_back(std::move(item));
  }
  auto records = cloud_.write(
      Lane::kIntune, [&](cloud::RegistrationCloud& api) { return api.import_devices(items); });
  if (!records) {
    const core::Error& error = records.error();
    if (error.code == CloudBudget::kNotNow) {
      // The budget said "not now" (a half of a halved batch): back to the queue, not in doubt.
      for (const auto& device : batch) {
        (void)ctx_.store.release_upload(device.serial, std::nullopt, false, {}, now);
      }
      return;
    }
    if (cloud::never_sent(error)) {
      // Certainly never sent (no token, no name, no connection, no TLS): nothing can have been
      // imported, so the devices go back to the queue until the budget's offline wait ends, and
      // `remove` works on them while the cloud is out of reach.
      for (const auto& device : batch) {
        (void)ctx_.store.release_upload(device.serial,
                                        ctx_.budget.writes_blocked_until(Lane::kIntune), false,
                                        error.message, now);
      }
      return;
    }
    if (error.code == cloud::kErrRejected) {
      ctx_.health.failed(error, now);  // logged with its request id, like every failed call
      // One bad record refuses the whole call: halve until the culprit stands alone.
      if (batch.size() > 1) {
        const auto middle = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
        std::vector<store::DeviceRow> second(std::make_move_iterator(middle),
                                             std::make_move_iterator(batch.end()));
        batch.erase(middle, batch.end());
        for (auto* half : {&batch, &second}) send_part(std::move(*half), now, bisection);
        return;
      }
      // Alone and refused: its own fault if its hash is; otherwise, a second device refused
      // alone with nothing taken means the request is refused (black-box round 9: 2N-1 calls,
      // every device failed, and no word in `hangar status`).
      const bool hash = cloud::failure_of(error) == cloud::Failure::kInvalidHash;
      const bool another_alone = std::any_of(
          bisection.refused_alone.begin(), bisection.refused_alone.end(), [](const auto& each) {
            return cloud::failure_of(each.second) != cloud::Failure::kInvalidHash;
          });
      bisection.refused_alone.emplace_back(std::move(batch.front()), error);
      if (!hash && !bisection.accepted && !bisection.settled && another_alone) {
        bisection.suspect = true;
      }
      return;
    }
    // The budget has set the wait (throttle, backoff, offline) from the answer's arrival.
    if (cloud::unreachable(error) || error.code == cloud::kErrInDoubt) {
      // The request may have arrived (a dropped connection, or a 2xx answer cut off): the devices
      // stay in flight, and the next pass looks each up before sending it again.
      recovered_ = false;
      return;
    }
    const bool count = error.code == cloud::kErrTransient;
    // A 500 or 501, pass after pass, is the request refused, not a bad moment: tracked as the
    // 400 is, so three passes running need attention (black-box round 11: a permanent 500 on the
    // import was never more than a last error).
    if (CloudHealth::is_refusal_status(error.http_status)) {
      (void)ctx_.health.refused(forms::kImportCreate, error, now);
    }
    for (const auto& device : batch) {
      (void)ctx_.store.release_upload(device.serial,
                                      ctx_.budget.writes_blocked_until(Lane::kIntune), count,
                                      error.message, now);
    }
    return;
  }
  // Taken: the request form works (a refusal in the same batch is a record's).
  if (!bisection.accepted) bisection.refused_before_taken = bisection.refused_alone.size();
  bisection.accepted = true;
  import_refusals_ = 0;
  ctx_.health.accepted(forms::kImportCreate, now);
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
  if (auto skipped = ctx_.store.mark_uploaded_all(uploaded, now); !skipped) {
    // Left in flight: the next pass looks them up and adopts their records.
    spdlog::error("recording an upload of {} device(s): {}", uploaded.size(),
                  skipped.error().message);
    recovered_ = false;
    return;
  } else {
    for (const auto& serial : *skipped) {
      // Ours and followed by nobody: deleted, never left behind in the cloud.
      const auto it = by_serial.find(upper(serial));
      spdlog::warn(
          "device {} changed while it was uploaded; its import record {} is not adopted and is "
          "deleted",
          serial, it == by_serial.end() ? std::string("?") : it->second->id);
      if (it != by_serial.end()) deletions_.push_back({it->second->id});
    }
  }
  spdlog::info("uploaded {} device(s) in one import call", uploaded.size());
  next_poll_ = std::min(next_poll_ == 0 ? now + ctx_.config.poll_interval.count() : next_poll_,
                        now + ctx_.config.poll_interval.count());
}

void RegistrationPass::poll(std::int64_t now) {
  if (now < next_poll_) return;
  auto pending = ctx_.store.pending_devices();
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
      poll_failed(by_id.error(), now);
      return;
    }
    for (const store::DeviceRow* device : importing) {
      auto it = by_id->find(device->import_record_id.value_or(""));
      if (it != by_id->end()) {
        if (settle(*device, it->second, now)) just_registered.push_back(device);
        continue;
      }
      // The record is gone (deleted by someone else's tool): ask the tenant directly.
      auto found = read_device(*device, now);
      if (!found) {
        poll_failed(found.error(), now);
        return;
      }
      if (*found) {
        (void)ctx_.store.mark_registered(device->serial, (*found)->id, now);
      } else {
        (void)ctx_.store.requeue(device->serial, now,
                                 "the import record disappeared; importing again", now);
      }
    }
  }
  next_poll_ = now + ctx_.config.poll_interval.count();
  // Devices whose import just finished are confirmed in the same pass: where the profile is
  // already assigned they are Ready for user now, not one poll interval later.
  (void)confirm(just_registered, now);
}

bool RegistrationPass::settle(const store::DeviceRow& device, const cloud::ImportRecord& record,
                              std::int64_t now) {
  using Action = cloud::ErrorMeaning::Action;
  if (record.status == cloud::ImportStatus::kComplete) {
    // In the tenant now; Ready for user once its deployment profile is assigned (confirm()).
    (void)ctx_.store.mark_registered(device.serial, record.registration_id, now);
    deletions_.push_back({record.id});
    return true;
  }
  if (record.status == cloud::ImportStatus::kError) {
    const auto meaning = cloud::interpret_import_error(record.error_code, record.error_name);
    if (meaning.action == Action::kRegistered) {
      // 806: already in this tenant. Ready for user once the tenant shows it.
      auto found = read_device(device, now);
      if (!found) ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, found.error());
      if (found && *found) {
        (void)ctx_.store.mark_registered(device.serial, (*found)->id, now);
        (void)ctx_.store.note_problem(
            device.serial, meaning.detail + ": " + std::string(core::message(meaning.reason)), now);
        deletions_.push_back({record.id});
        return true;
      }
      return false;
    }
    if (meaning.reason == core::FailureReason::kDeviceNotFound) {
      // "Device not found" for a row the tenant lists already (a partner's device removed from
      // the queue and imported again by serial, with no hash): it is registered; it is tracked
      // like the partner's device it is (attack round 5, finding 10).
      auto found = read_device(device, now);
      if (!found) {
        ctx_.budget.wait_out(Lane::kIntune, CallKind::kRead, found.error());
        return false;  // the record is read again next poll
      }
      // Matched by serial, which two manufacturers may share: where both sides know the make and
      // model, they must be the same machine's, or the failure stands.
      const std::string mismatch = *found ? other_machine(device, **found) : std::string();
      if (!mismatch.empty()) {
        spdlog::warn(
            "device {}: the import says Device not found; {} (another machine with the same "
            "serial): not taken as this device, which fails as Device not found",
            device.serial, mismatch);
      } else if (*found) {
        spdlog::info(
            "device {}: the import says Device not found but Windows Autopilot lists it "
            "({}); registered",
            device.serial, (*found)->id);
        (void)ctx_.store.mark_registered(device.serial, (*found)->id, now);
        deletions_.push_back({record.id});
        return true;
      }
    }
    if (meaning.action == Action::kRetry) {
      const auto wait = full_jitter(static_cast<int>(device.attempts), ctx_.config.backoff_base,
                                    ctx_.config.backoff_cap, ctx_.budget.rng());
      (void)ctx_.store.requeue(device.serial, now + wait.count(), meaning.detail + ": retrying",
                               now);
      deletions_.push_back({record.id});
      return false;
    }
    // The Request ID the seed shows with "Unexpected error": the response that reported it.
    const std::string text = reason_text(meaning.reason, record.request_id);
    spdlog::warn("device {}: Registration failed: {} ({})", device.serial, text, meaning.detail);
    (void)ctx_.store.finish_registration(
        device.serial, core::DeviceState::kRegistrationFailed, text, meaning.detail,
        record.request_id.empty() ? std::nullopt : std::optional<std::string>(record.request_id),
        text, now);
    deletions_.push_back({record.id});
    return false;
  }
  flag_if_long_pending(
      device, now,
      record.status == cloud::ImportStatus::kPending ||
              record.status == cloud::ImportStatus::kPartial
          ? "Intune is still processing the import (deviceImportStatus " +
                std::string(record.status == cloud::ImportStatus::kPending ? "pending"
                                                                           : "partial") +
                ")"
          : "Intune has not started on the import yet (deviceImportStatus "
            "unknown)");
  return false;
}

bool RegistrationPass::flag_if_long_pending(const store::DeviceRow& device, std::int64_t now,
                                            const std::string& cause) {
  const std::int64_t pending_for = now - device.state_changed_at;
  if (pending_for > ctx_.config.pending_limit.count()) {
    const double ms = static_cast<double>(ctx_.config.pending_limit.count());
    const std::string limit = ms >= 3'600'000 ? fmt::format("{:g} hours", ms / 3'600'000)
                              : ms >= 60'000  ? fmt::format("{:g} minutes", ms / 60'000)
                                              : fmt::format("{:g} seconds", ms / 1'000);
    const std::string text = "Registration Pending for over " + limit + ": " + cause +
                             "; fix that, then retry it (hangar retry " + device.serial +
                             ") or remove it";
    spdlog::warn("device {}: Registration failed: {}", device.serial, text);
    (void)ctx_.store.finish_registration(device.serial, core::DeviceState::kRegistrationFailed,
                                         text, cause, std::nullopt, "pending for over " + limit,
                                         now);
    // Ours, and no longer polled: the import record goes (a late registration is still found
    // by serial when the device is retried).
    if (device.import_record_id) deletions_.push_back({*device.import_record_id});
    return true;
  }
  if (pending_for > ctx_.config.pending_threshold.count() &&
      (!device.pending_flagged_at || device.pending_cause.value_or("") != cause)) {
    if (!device.pending_flagged_at) {
      spdlog::warn(
          "device {} has been Registration Pending for over {} minutes (usually under 10): {}",
          device.serial,
          std::chrono::duration_cast<std::chrono::minutes>(ctx_.config.pending_threshold).count(),
          cause);
    }
    (void)ctx_.store.flag_long_pending(device.serial, cause, now);
  }
  return false;
}

bool RegistrationPass::confirm(const std::vector<const store::DeviceRow*>& devices,
                               std::int64_t now) {
  std::map<std::string, std::vector<const store::DeviceRow*>> by_tag;
  for (const store::DeviceRow* device : devices) {
    by_tag[device->group_tag.value_or(ctx_.config.default_group_tag)].push_back(device);
  }
  for (const auto& [tag, group] : by_tag) {
    auto listed = read_tagged(tag, now);
    if (!listed) {
      // The budget: the rest on the next pass.
      poll_failed(listed.error(), now);
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
        auto found = read_device(*device, now);
        if (!found) {
          poll_failed(found.error(), now);
          return false;
        }
        if (!*found) {  // Intune lists new devices a little late: wait
          flag_if_long_pending(*device, now,
                               "imported, but the tenant does not list it among its Autopilot "
                               "devices yet");
          continue;
        }
        identity = std::move(**found);
        if (lower(identity->group_tag) != lower(tag)) {
          // Not Ready for user without its tag: the tag is what puts it in its profile's group.
          const std::string& wanted = tag;  // a structured binding cannot be captured (clang)
          auto set = cloud_.write(Lane::kIntune, [&](cloud::RegistrationCloud& api) {
            return api.set_group_tag(identity->id, wanted);
          });
          if (!set) {
            if (set.error().code == cloud::kErrRejected) {
              // Refused for this device: the others go on, this one is asked again next poll.
              ctx_.health.failed(set.error(), now);
              flag_if_long_pending(*device, now,
                                   "imported; setting its group tag " + tag +
                                       " was refused: " + set.error().message);
              continue;
            }
            // Throttled, backing off, offline or the budget spent: no write goes out until the
            // budget allows, and the devices left wait for the next poll.
            poll_failed(set.error(), now);
            return false;
          }
          spdlog::info("device {}: group tag was \"{}\", set it back to \"{}\"", device->serial,
                       identity->group_tag, tag);
        }
      }
      switch (cloud::interpret_profile_status(identity->profile_status)) {
        case cloud::ProfileAssignment::kAssigned:
        case cloud::ProfileAssignment::kNotShown: {
          const std::string why =
              identity->profile_status.empty()
                  ? std::string("registered (this Graph version does not show the profile)")
                  : "registered; deployment profile assigned (" + identity->profile_status + ")";
          // An old profile problem does not stay on a device that is Ready for user, and the
          // import's 806 ("already registered") is no error on it either: the seed says "no
          // further action required", so it goes into the history's reason.
          auto fresh = ctx_.store.get_device(device->serial);  // this pass may have noted a 806
          std::optional<std::string> detail = fresh ? fresh->last_error : device->last_error;
          if (detail == kProfileFailed) detail.reset();
          std::string history = why;
          if (detail &&
              detail->ends_with(core::message(core::FailureReason::kDeviceAlreadyRegistered))) {
            history = "already registered to your organization (" + *detail +
                      "): no further action required; " + why;
            detail.reset();
          }
          (void)ctx_.store.finish_registration(device->serial, core::DeviceState::kReadyForUser,
                                               std::nullopt, detail, std::nullopt, history, now);
          spdlog::info("device {} is Ready for user", device->serial);
          break;
        }
        case cloud::ProfileAssignment::kFailed: {
          if (device->last_error.value_or("") != kProfileFailed) {
            spdlog::warn("device {}: {}", device->serial, kProfileFailed);
            (void)ctx_.store.note_problem(device->serial, kProfileFailed, now);
          }
          flag_if_long_pending(*device, now, std::string(kProfileFailed));
          break;
        }
        case cloud::ProfileAssignment::kWaiting:
          // notAssigned: no profile is assigned to the group the tag puts it in; pending or
          // unknown: Intune is still assigning it.
          flag_if_long_pending(
              *device, now,
              identity->profile_status == "notAssigned"
                  ? "imported; no deployment profile assigned to group tag " + tag
                  : "imported; the deployment profile for group tag " + tag +
                        " is not assigned yet (deploymentProfileAssignmentStatus " +
                        identity->profile_status + ")");
          break;
      }
    }
  }
  return true;
}

void RegistrationPass::delete_finished(std::size_t limit, std::int64_t now) {
  // Housekeeping fails alone: what only this request (this record) met is handled here, so a
  // DELETE the cloud keeps answering with a 500 never holds an upload or an operator command.
  // A throttle (429) and an unreachable cloud are every request's business: the budget's. A
  // connection dropped after this DELETE was sent is not an unreachable cloud: it reached it, and
  // its answer alone was lost (black-box round 9: the whole cloud was called offline, and refresh
  // and sync failed, while uploads and deregister worked).
  const auto mine = [](const core::Error& error) {
    const bool answer_dropped = error.code == cloud::kErrNetwork && !cloud::never_sent(error);
    return answer_dropped ||
           (error.code != cloud::kErrThrottled && !cloud::unreachable(error) &&
            error.code != cloud::kErrAuth && error.code != cloud::kErrNotConfigured);
  };
  std::size_t sent = 0;
  for (std::size_t left = deletions_.size(); left > 0 && sent < limit; --left) {
    Deletion next = std::move(deletions_.front());
    deletions_.pop_front();
    if (next.not_before > now) {  // backing off on its own
      deletions_.push_back(std::move(next));
      continue;
    }
    ++sent;
    auto status = cloud_.write(
        Lane::kIntune,
        [&](cloud::RegistrationCloud& api) { return api.delete_import_record(next.record_id); },
        // 404: gone already (someone else deleted it).
        {.accept = [](const core::Error& error) { return error.http_status == 404; },
         .mine = mine});
    if (status || status.error().http_status == 404) {
      if (status) ctx_.health.accepted(forms::kImportedDelete, now);
      continue;
    }
    const core::Error& error = status.error();
    if (error.code == CloudBudget::kNotNow || !mine(error)) {
      // Held by the budget (throttled, offline, the write budget spent): later, in order.
      deletions_.push_front(std::move(next));
      return;
    }
    // This record's own failure: logged with its request id, counted as a refusal of the form
    // (three passes running: `hangar status` lists it as needing attention), and this record
    // waits on its own backoff; the others, and every other request, go on.
    ctx_.health.failed(error, now);
    (void)ctx_.health.refused(forms::kImportedDelete, error, now);
    ++next.failures;
    const auto wait =
        std::max(ctx_.config.backoff_base, full_jitter(next.failures, ctx_.config.backoff_base,
                                                       ctx_.config.backoff_cap, ctx_.budget.rng()));
    next.not_before = now + wait.count();
    spdlog::warn(
        "deleting our import record {} failed ({} time(s) in a row; request id {}): trying it "
        "again in {} s; registration is not held by it",
        next.record_id, next.failures, error.request_id.empty() ? "none given" : error.request_id,
        (wait.count() + 999) / 1000);
    deletions_.push_back(std::move(next));
  }
}

}  // namespace hangar::service
