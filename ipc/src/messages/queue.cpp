// The remove, retry and deregister replies (queue.h).
#include "hangar/ipc/messages/queue.h"

namespace hangar::ipc::msg {

RemoveReply RemoveReply::read(const Json&, Fields& f) {
  RemoveReply r;
  f.required("removed", r.removed)
      .required("state", r.state)
      .required("registered_in_autopilot", r.registered_in_autopilot)
      .optional("import_record_deleted", r.import_record_deleted);
  return r;
}

core::Result<RemoveReply> RemoveReply::from_json(const Json& json) {
  return read_message<RemoveReply>(json, kWhat);
}

Json RemoveReply::to_json() const {
  Json json(Json::value_t::object);
  json["removed"] = removed;
  json["state"] = core::storage_key(state);
  json["registered_in_autopilot"] = registered_in_autopilot;
  put_optional(json, "import_record_deleted", import_record_deleted);
  return json;
}

SkippedReason SkippedReason::read(const Json&, Fields& f) {
  SkippedReason s;
  f.required("reason", s.reason).required("devices", s.devices).required("advice", s.advice);
  return s;
}

Json SkippedReason::to_json() const {
  return Json{{"reason", reason}, {"devices", devices}, {"advice", advice}};
}

RetryReply RetryReply::read(const Json&, Fields& f) {
  RetryReply r;
  f.required("requeued", r.requeued)
      .required("skipped", r.skipped)
      .optional("skipped_reasons", r.skipped_reasons);
  return r;
}

core::Result<RetryReply> RetryReply::from_json(const Json& json) {
  return read_message<RetryReply>(json, kWhat);
}

Json RetryReply::to_json() const {
  Json json(Json::value_t::object);
  json["requeued"] = requeued;
  json["skipped"] = skipped;
  if (skipped_reasons) {
    Json& reasons = json["skipped_reasons"];
    reasons = Json::array();
    for (const auto& reason : *skipped_reasons) reasons.push_back(reason.to_json());
  }
  return json;
}

DeregisterReply DeregisterReply::read(const Json&, Fields& f) {
  DeregisterReply r;
  f.required("deregistered", r.deregistered)
      .required("autopilot_id", r.autopilot_id)
      .optional("already_deleted", r.already_deleted)
      .optional("never_registered", r.never_registered)
      .optional("checked", r.checked);
  return r;
}

core::Result<DeregisterReply> DeregisterReply::from_json(const Json& json) {
  return read_message<DeregisterReply>(json, kWhat);
}

Json DeregisterReply::to_json() const {
  Json json{{"deregistered", deregistered}, {"autopilot_id", autopilot_id}};
  put_optional(json, "already_deleted", already_deleted);
  put_optional(json, "never_registered", never_registered);
  put_optional(json, "checked", checked);
  return json;
}

}  // namespace hangar::ipc::msg
