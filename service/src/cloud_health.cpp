// The last cloud failure and the request forms the service keeps refusing (cloud_health.h).
#include "hangar/service/cloud_health.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "hangar/cloud/http.h"
#include "redact.h"

namespace hangar::service {

namespace forms {
const RequestForm kImportedList{"imported.list", "GET .../importedWindowsAutopilotDeviceIdentities",
                                "polling import records", ""};
const RequestForm kImportedGet{
    "imported.get", "GET .../importedWindowsAutopilotDeviceIdentities/{id}",
    "polling import records", "the whole import table is listed instead"};
const RequestForm kImportedBySerial{
    "imported.by_serial",
    "GET .../importedWindowsAutopilotDeviceIdentities?$filter=contains(serialNumber,'...')",
    "finding devices sent before an interruption", "the whole import table is listed instead"};
const RequestForm kImportedDelete{
    "imported.delete", "DELETE .../importedWindowsAutopilotDeviceIdentities/{id}",
    "deleting Hangar's finished import records (housekeeping)",
    "each record is tried again on its own backoff; uploads and operator commands go on; if it "
    "lasts, give Microsoft support the request id"};
const RequestForm kImportCreate{
    "imported.import", "POST .../importedWindowsAutopilotDeviceIdentities/import",
    "uploading devices",
    "nothing is marked failed: each batch waits on a backoff and is sent again; if it lasts, "
    "give Microsoft support the request id"};
const RequestForm kAutopilotList{"autopilot.list", "GET .../windowsAutopilotDeviceIdentities",
                                 "reading the tenant's Autopilot devices", ""};
const RequestForm kAutopilotByGroupTag{
    "autopilot.by_group_tag",
    "GET .../windowsAutopilotDeviceIdentities?$filter=contains(groupTag,'...')",
    "confirming registered devices (Ready for user)", "every Autopilot device is listed instead"};
const RequestForm kAutopilotBySerial{
    "autopilot.by_serial",
    "GET .../windowsAutopilotDeviceIdentities?$filter=contains(serialNumber,'...')",
    "finding one Autopilot device by serial", "every Autopilot device is listed instead"};
const RequestForm kManagedDevices{"managedDevices.list",
                                  "GET .../managedDevices?$select=id,lastSyncDateTime",
                                  "reading last syncs (Active / Inactive)", ""};
const RequestForm kGroupMembers{
    "groups.members",
    "GET .../groups/{id}/members/microsoft.graph.device?$select=id,deviceId&$top=999",
    "the profile-group sweep", ""};
const RequestForm kDevicesByDeviceId{
    "devices.by_device_id", "GET .../devices?$filter=deviceId in (...)&$select=id,deviceId",
    "the profile-group sweep (device objects)", ""};
}  // namespace forms

namespace {

constexpr std::int64_t kUnreachableSummaryMs = 60'000;

std::string with_request_id(const core::Error& error) {
  std::string text = error.message;
  if (!error.request_id.empty()) text += " (request id " + error.request_id + ")";
  return redact(text);
}

}  // namespace

bool CloudHealth::is_refusal_status(int http_status) {
  return http_status == 400 || http_status == 405 || http_status == 500 || http_status == 501;
}

void CloudHealth::set_event_sink(EventSink* sink) {
  std::lock_guard lock(mutex_);
  sink_ = sink;
}

void CloudHealth::begin_pass() {
  std::lock_guard lock(mutex_);
  ++pass_;
}

void CloudHealth::failed(const core::Error& error, std::int64_t now_ms) {
  const std::string text = with_request_id(error);
  std::lock_guard lock(mutex_);
  last_ = {text, now_ms, 0};
  if (!cloud::unreachable(error)) {
    spdlog::warn("cloud call failed: {}", text);
    return;
  }
  // Offline, the engine probes every few seconds: the first failure is logged, then one line a
  // minute says how many more there were.
  if (unreachable_count_++ == 0) {
    unreachable_since_ = now_ms;
    unreachable_logged_at_ = now_ms;
    spdlog::warn("cloud call failed (the cloud cannot be reached): {}", text);
  } else if (now_ms - unreachable_logged_at_ >= kUnreachableSummaryMs) {
    unreachable_logged_at_ = now_ms;
    spdlog::warn("cloud still unreachable: {} calls failed in the last {} s; the last: {}",
                 unreachable_count_, (now_ms - unreachable_since_) / 1000, text);
  }
}

void CloudHealth::succeeded(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (unreachable_count_ > 0) {
    spdlog::info("cloud reachable again after {} failed call(s) in {} s", unreachable_count_,
                 (now_ms - unreachable_since_) / 1000);
    unreachable_count_ = 0;
  }
  if (last_.at != 0 && last_.resolved_at == 0) last_.resolved_at = now_ms;
  if (credentials_) {
    spdlog::info("the cloud accepts Hangar's credentials again");
    credentials_.reset();
  }
}

void CloudHealth::credentials_refused(const core::Error& error, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (!credentials_) {
    credentials_ = RefusedRequest{"credentials",
                                  "Hangar's credentials",
                                  "every request",
                                  "nothing is sent until they work: set new ones with `hangar "
                                  "config set-credentials` (or grant the app its permissions)",
                                  0,
                                  {},
                                  {},
                                  now_ms,
                                  0,
                                  0};
    spdlog::error("the cloud refuses Hangar's credentials: {}", with_request_id(error));
  }
  credentials_->http_status = error.http_status;
  credentials_->message = redact(error.message);
  credentials_->request_id = error.request_id;
  credentials_->last_at = now_ms;
  ++credentials_->passes;
}

void CloudHealth::clear_last_error() {
  std::lock_guard lock(mutex_);
  last_ = {};
  credentials_.reset();
}

Refusal CloudHealth::refused(const RequestForm& form, const core::Error& error,
                             std::int64_t now_ms) {
  if (!is_refusal_status(error.http_status)) return Refusal::kNone;
  std::lock_guard lock(mutex_);
  Track& track = tracks_[form.id];
  RefusedRequest& shown = track.shown;
  if (shown.passes == 0) {
    shown = {form.id, form.request, form.purpose, form.fallback, 0, {}, {}, now_ms, 0, 0};
  }
  shown.http_status = error.http_status;
  shown.message = redact(error.message);
  shown.request_id = error.request_id;
  shown.last_at = now_ms;
  if (track.last_pass != pass_) {
    track.last_pass = pass_;
    ++shown.passes;
  }
  const std::string meanwhile =
      *form.fallback ? std::string(form.fallback) : std::string("the work that needs it waits");
  const auto remember = [&] {
    std::string text = shown.message;
    if (!error.request_id.empty()) text += " (request id " + error.request_id + ")";
    last_ = {text, now_ms, 0};
  };
  if (track.persistent) {
    remember();
    track.tried_at = now_ms;
    spdlog::warn("the cloud still refuses {} ({}): HTTP {} (request id {}); {}", form.request,
                 form.purpose, error.http_status, error.request_id, meanwhile);
    return Refusal::kPersistent;
  }
  if (shown.passes < kPassesToFlag) return Refusal::kRefused;
  remember();
  track.persistent = true;
  track.tried_at = now_ms;
  spdlog::error(
      "the cloud has refused {} ({}) {} passes running: HTTP {}: {} (request id {}). Meanwhile {}. "
      "This needs attention: if it persists, report the request id to Microsoft support",
      form.request, form.purpose, shown.passes, error.http_status, shown.message,
      error.request_id.empty() ? "none given" : error.request_id, meanwhile);
  if (sink_ != nullptr) {
    sink_->write({EventId::kCloudRequestRefused,
                  EventLevel::kError,
                  {form.request, form.purpose, std::to_string(error.http_status), shown.message,
                   error.request_id.empty() ? "none given" : error.request_id, meanwhile}});
  }
  return Refusal::kPersistent;
}

void CloudHealth::accepted(const RequestForm& form, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const auto it = tracks_.find(form.id);
  if (it == tracks_.end()) return;
  if (it->second.persistent) {
    spdlog::info("the cloud accepts {} ({}) again, {} s after it first refused it", form.request,
                 form.purpose, (now_ms - it->second.shown.since) / 1000);
    if (sink_ != nullptr) {
      sink_->write(
          {EventId::kCloudRequestAccepted, EventLevel::kInformation, {form.request, form.purpose}});
    }
  }
  tracks_.erase(it);
}

bool CloudHealth::avoid(const RequestForm& form, std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  const auto it = tracks_.find(form.id);
  if (it == tracks_.end() || !it->second.persistent || !*form.fallback) return false;
  return now_ms - it->second.tried_at <
         std::chrono::duration_cast<std::chrono::milliseconds>(kRecheck).count();
}

LastCloudError CloudHealth::last_error() const {
  std::lock_guard lock(mutex_);
  return last_;
}

std::vector<RefusedRequest> CloudHealth::refused_requests() const {
  std::lock_guard lock(mutex_);
  std::vector<RefusedRequest> out;
  for (const auto& [id, track] : tracks_) {
    if (track.persistent) out.push_back(track.shown);
  }
  std::sort(out.begin(), out.end(),
            [](const RefusedRequest& a, const RefusedRequest& b) { return a.since < b.since; });
  // Refused credentials first: nothing else can work until they do.
  if (credentials_) out.insert(out.begin(), *credentials_);
  return out;
}

}  // namespace hangar::service
