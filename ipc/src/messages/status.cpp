// The `status` reply's wire form (see status.h).
#include "hangar/ipc/messages/status.h"

namespace hangar::ipc::msg {

LongPendingDevice LongPendingDevice::read(const Json&, Fields& f) {
  LongPendingDevice d;
  f.required("serial", d.serial)
      .required("pending_since", d.pending_since)
      .required("cause", d.cause);
  return d;
}

Json LongPendingDevice::to_json() const {
  return Json{{"serial", serial}, {"pending_since", pending_since}, {"cause", cause}};
}

Caller Caller::read(const Json&, Fields& f) {
  Caller c;
  f.required("user", c.user).required("can_write", c.can_write).required("is_admin", c.is_admin);
  return c;
}

Json Caller::to_json() const {
  Json json(Json::value_t::object);
  json["user"] = user;
  json["can_write"] = can_write;
  json["is_admin"] = is_admin;
  return json;
}

RefusedForm RefusedForm::read(const Json&, Fields& f) {
  RefusedForm r;
  f.required("request", r.request)
      .required("purpose", r.purpose)
      .required("http_status", r.http_status)
      .required("message", r.message)
      .required("request_id", r.request_id)
      .required("since", r.since)
      .required("last_at", r.last_at)
      .required("passes", r.passes)
      .required("fallback", r.fallback);
  return r;
}

Json RefusedForm::to_json() const {
  return Json{{"request", request}, {"purpose", purpose},       {"http_status", http_status},
              {"message", message}, {"request_id", request_id}, {"since", since},
              {"last_at", last_at}, {"passes", passes},         {"fallback", fallback}};
}

UntaggedDevice UntaggedDevice::read(const Json&, Fields& f) {
  UntaggedDevice d;
  f.required("serial", d.serial)
      .required("manufacturer", d.manufacturer)
      .required("model", d.model);
  return d;
}

Json UntaggedDevice::to_json() const {
  return Json{{"serial", serial}, {"manufacturer", manufacturer}, {"model", model}};
}

Activity Activity::read(const Json&, Fields& f) {
  Activity a;
  f.required("next_pass_at", a.next_pass_at);
  if (f.has("last_pass_at")) {
    ActivityPassSummary& last = a.last.emplace();
    f.required("last_pass_at", last.last_pass_at)
        .required("devices", last.devices)
        .required("rows_written", last.rows_written)
        .required("requests", last.requests)
        .required("active", last.active)
        .required("inactive", last.inactive)
        .required("partners_added", last.partners_added)
        .required("profiles_set", last.profiles_set)
        .required("untagged", last.untagged)
        .required("untagged_added", last.untagged_added)
        .required("untagged_devices", last.untagged_devices);
  }
  return a;
}

Json Activity::to_json() const {
  Json json(Json::value_t::object);
  json["next_pass_at"] = next_pass_at;
  if (last) {
    json["last_pass_at"] = last->last_pass_at;
    json["devices"] = last->devices;
    json["rows_written"] = last->rows_written;
    json["requests"] = last->requests;
    json["active"] = last->active;
    json["inactive"] = last->inactive;
    json["partners_added"] = last->partners_added;
    json["profiles_set"] = last->profiles_set;
    json["untagged"] = last->untagged;
    json["untagged_added"] = last->untagged_added;
    Json& untagged = json["untagged_devices"];
    untagged = Json::array();
    for (const auto& device : last->untagged_devices) untagged.push_back(device.to_json());
  }
  return json;
}

SkippedRemovalInfo SkippedRemovalInfo::read(const Json&, Fields& f) {
  SkippedRemovalInfo s;
  f.required("serial", s.serial)
      .required("group_id", s.group_id)
      .required("profile", s.profile)
      .required("reason", s.reason);
  return s;
}

Json SkippedRemovalInfo::to_json() const {
  return Json{{"serial", serial}, {"group_id", group_id}, {"profile", profile}, {"reason", reason}};
}

GroupSweepSummary GroupSweepSummary::read(const Json&, Fields& f) {
  GroupSweepSummary s;
  f.required("started_at", s.started_at)
      .required("finished_at", s.finished_at)
      .required("devices", s.devices)
      .required("skipped", s.skipped)
      .required("added", s.added)
      .required("removed", s.removed)
      .required("removals_skipped", s.removals_skipped)
      .optional("skipped_removals", s.skipped_removals)
      .required("requests", s.requests)
      .required("errors", s.errors)
      .optional("last_error", s.last_error);
  return s;
}

Json GroupSweepSummary::to_json() const {
  Json json(Json::value_t::object);
  json["started_at"] = started_at;
  json["finished_at"] = finished_at;
  json["devices"] = devices;
  json["skipped"] = skipped;
  json["added"] = added;
  json["removed"] = removed;
  json["removals_skipped"] = removals_skipped;
  if (skipped_removals) {
    Json& kept = json["skipped_removals"];
    kept = Json::array();
    for (const auto& removal : *skipped_removals) kept.push_back(removal.to_json());
  }
  json["requests"] = requests;
  json["errors"] = errors;
  put_optional(json, "last_error", last_error);
  return json;
}

Groups Groups::read(const Json&, Fields& f) {
  Groups g;
  f.required("configured", g.configured);
  if (g.configured) {
    f.required("running", g.running.emplace())
        .required("next_sweep_at", g.next_sweep_at.emplace())
        .optional("last_sweep", g.last_sweep);
  }
  return g;
}

Json Groups::to_json() const {
  Json json(Json::value_t::object);
  json["configured"] = configured;
  put_optional(json, "running", running);
  put_optional(json, "next_sweep_at", next_sweep_at);
  if (last_sweep) json["last_sweep"] = last_sweep->to_json();
  return json;
}

Cloud Cloud::read(const Json&, Fields& f) {
  Cloud c;
  f.optional("mode", c.mode)
      .optional("tenant_id", c.tenant_id)
      .optional("credentials", c.credentials)
      .optional("url", c.url)
      .optional("online", c.online)
      .optional("paused", c.paused)
      .optional("throttled", c.throttled)
      .optional("requests", c.requests)
      .optional("last_error", c.last_error)
      .optional("last_error_at", c.last_error_at)
      .optional("last_error_resolved", c.last_error_resolved)
      .optional("last_error_resolved_at", c.last_error_resolved_at)
      .optional("waiting_on", c.waiting_on)
      .optional("waiting_since", c.waiting_since)
      .optional("waiting_ms", c.waiting_ms)
      .optional("requests_waiting", c.requests_waiting)
      .optional("needs_attention", c.needs_attention)
      .optional("next_retry_at", c.next_retry_at)
      .optional("activity", c.activity)
      .optional("groups", c.groups);
  return c;
}

Json Cloud::to_json() const {
  Json json(Json::value_t::object);
  put_optional(json, "mode", mode);
  put_optional(json, "tenant_id", tenant_id);
  put_optional(json, "credentials", credentials);
  put_optional(json, "url", url);
  put_optional(json, "online", online);
  put_optional(json, "paused", paused);
  put_optional(json, "throttled", throttled);
  put_optional(json, "requests", requests);
  put_optional(json, "last_error", last_error);
  put_optional(json, "last_error_at", last_error_at);
  put_optional(json, "last_error_resolved", last_error_resolved);
  put_optional(json, "last_error_resolved_at", last_error_resolved_at);
  put_optional(json, "waiting_on", waiting_on);
  put_optional(json, "waiting_since", waiting_since);
  put_optional(json, "waiting_ms", waiting_ms);
  put_optional(json, "requests_waiting", requests_waiting);
  if (needs_attention) {
    Json& refused = json["needs_attention"];
    refused = Json::array();
    for (const auto& form : *needs_attention) refused.push_back(form.to_json());
  }
  put_optional(json, "next_retry_at", next_retry_at);
  if (activity) json["activity"] = activity->to_json();
  if (groups) json["groups"] = groups->to_json();
  return json;
}

std::int64_t StatusReply::count(core::DeviceState state) const {
  const auto it = states.find(state);
  return it == states.end() ? 0 : it->second;
}

StatusReply StatusReply::read(const Json&, Fields& f) {
  StatusReply s;
  std::map<std::string, std::int64_t> states;
  std::optional<std::vector<LongPendingDevice>> long_pending_devices;
  f.required("states", states)
      .required("long_pending", s.long_pending)
      .optional("long_pending_devices", long_pending_devices)
      .required("queue_depth", s.queue_depth)
      .required("service_version", s.service_version)
      .required("platform", s.platform)
      .required("uptime_seconds", s.uptime_seconds)
      .required("subscribers", s.subscribers)
      .required("endpoint", s.endpoint)
      .required("data_dir", s.data_dir)
      .required("caller", s.caller)
      .required("cloud", s.cloud);
  for (const auto& [key, count] : states) {
    const auto state = core::state_of_key(key);
    if (!state) {
      f.fail("states", "names \"" + key + "\", which is no device state");
      break;
    }
    s.states[*state] = count;
  }
  if (long_pending_devices) s.long_pending_devices = std::move(*long_pending_devices);
  return s;
}

core::Result<StatusReply> StatusReply::from_json(const Json& json) {
  return read_message<StatusReply>(json, kWhat);
}

Json StatusReply::to_json() const {
  Json reply(Json::value_t::object);
  Json& counts = reply["states"];
  counts = Json::object();
  for (const auto& [state, n] : states) counts[core::storage_key(state)] = n;
  reply["long_pending"] = long_pending;
  if (!long_pending_devices.empty()) {
    Json& devices = reply["long_pending_devices"];
    for (const auto& device : long_pending_devices) devices.push_back(device.to_json());
  }
  reply["queue_depth"] = queue_depth;
  reply["service_version"] = service_version;
  reply["platform"] = platform;
  reply["uptime_seconds"] = uptime_seconds;
  reply["subscribers"] = subscribers;
  reply["endpoint"] = endpoint;
  reply["data_dir"] = data_dir;
  reply["caller"] = caller.to_json();
  reply["cloud"] = cloud.to_json();
  return reply;
}

}  // namespace hangar::ipc::msg
