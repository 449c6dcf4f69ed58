// The `import` request and reply (import.h).
#include "hangar/ipc/messages/import.h"

namespace hangar::ipc::msg {

Json ImportRequest::to_json() const {
  Json json{{"devices", devices}};
  put_optional(json, "expect_build", expect_build);
  put_optional(json, "strict_serials", strict_serials);
  return json;
}

ImportResult ImportResult::read(const Json&, Fields& f) {
  ImportResult r;
  f.required("serial", r.serial)
      .required("location", r.location)
      .required("outcome", r.outcome)
      .optional("reason", r.reason)
      .optional("os_build", r.os_build)
      .optional("serial_in_file", r.serial_in_file)
      .optional("user_deferred", r.user_deferred)
      .optional("failure", r.failure);
  return r;
}

Json ImportResult::to_json() const {
  Json json{{"serial", serial}, {"location", location}, {"outcome", outcome}};
  put_optional(json, "reason", reason);
  put_optional(json, "os_build", os_build);
  put_optional(json, "serial_in_file", serial_in_file);
  put_optional(json, "user_deferred", user_deferred);
  put_optional(json, "failure", failure);
  return json;
}

ImportReply ImportReply::read(const Json&, Fields& f) {
  ImportReply r;
  f.required("accepted", r.accepted)
      .required("already_queued", r.already_queued)
      .required("updated", r.updated)
      .optional("registration_failed", r.registration_failed)
      .required("rejected", r.rejected)
      .required("results", r.results);
  return r;
}

core::Result<ImportReply> ImportReply::from_json(const Json& json) {
  return read_message<ImportReply>(json, kWhat);
}

Json ImportReply::to_json() const {
  Json json{{"accepted", accepted},
            {"already_queued", already_queued},
            {"updated", updated},
            {"rejected", rejected}};
  put_optional(json, "registration_failed", registration_failed);
  Json& rows = json["results"];
  rows = Json::array();
  for (const auto& result : results) rows.push_back(result.to_json());
  return json;
}

}  // namespace hangar::ipc::msg
