// The `version` reply: the service's versions, the encodings it reads and its command table.
// Built by the service (handlers.cpp), parsed by `hangar version` and by every client deciding
// whether to send CBOR (ipc::supports_cbor). Wire form unchanged from the untyped reply.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

// One entry of the service's command table, as `version` lists it.
struct CommandSummary {
  std::string name;
  std::string permission;  // "read", "write", "admin"
  std::string summary;

  static CommandSummary read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct VersionReply {
  static constexpr std::string_view kCommand = "version";
  static constexpr std::string_view kWhat = "version reply";
  std::string service_version;
  std::string platform;
  int protocol = 0;
  int min_protocol = 0;
  // "json", "cbor"; a service before CBOR listed none (JSON only).
  std::optional<std::vector<std::string>> encodings;
  std::vector<CommandSummary> commands;

  bool reads_cbor() const;

  static VersionReply read(const Json& json, Fields& fields);
  static core::Result<VersionReply> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
