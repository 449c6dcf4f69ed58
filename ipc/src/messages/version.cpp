// The `version` reply (version.h).
#include "hangar/ipc/messages/version.h"

#include <algorithm>

namespace hangar::ipc::msg {

CommandSummary CommandSummary::read(const Json&, Fields& f) {
  CommandSummary c;
  f.required("name", c.name).required("permission", c.permission).required("summary", c.summary);
  return c;
}

Json CommandSummary::to_json() const {
  return Json{{"name", name}, {"permission", permission}, {"summary", summary}};
}

bool VersionReply::reads_cbor() const {
  return encodings && std::find(encodings->begin(), encodings->end(), "cbor") != encodings->end();
}

VersionReply VersionReply::read(const Json&, Fields& f) {
  VersionReply v;
  f.required("service_version", v.service_version)
      .required("platform", v.platform)
      .required("protocol", v.protocol)
      .required("min_protocol", v.min_protocol)
      .optional("encodings", v.encodings)
      .required("commands", v.commands);
  return v;
}

core::Result<VersionReply> VersionReply::from_json(const Json& json) {
  return read_message<VersionReply>(json, kWhat);
}

Json VersionReply::to_json() const {
  Json json{{"service_version", service_version},
            {"platform", platform},
            {"protocol", protocol},
            {"min_protocol", min_protocol}};
  if (encodings) json["encodings"] = *encodings;
  Json& table = json["commands"];
  table = Json::array();
  for (const auto& command : commands) table.push_back(command.to_json());
  return json;
}

}  // namespace hangar::ipc::msg
