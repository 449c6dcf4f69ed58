// The `import` request and reply. The CLI (intake_cmds.cpp, `capture`) and the tray build the
// request from device records (device_wire.h gives each device's wire form); the service
// (device_handlers.cpp) validates every device again and answers with one result per device.
// Wire form unchanged from the untyped messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

struct ImportRequest {
  static constexpr std::string_view kCommand = "import";
  Json devices = Json::array();  // device_to_wire() objects, at most kMaxImportBatch
  std::optional<std::string> expect_build;
  std::optional<bool> strict_serials;
  Json to_json() const;
};

// What happened to one device of the request, in the request's order.
struct ImportResult {
  std::string serial;    // as queued (the hash's, when Excel had changed the file's)
  std::string location;  // file:line
  // "accepted", "already_queued", "updated", "registration_failed" (the same device, whose
  // registration failed: `hangar retry` is the way), "conflict", "invalid", "duplicate", ...
  std::string outcome;
  std::optional<std::string> reason;          // why, for every outcome but accepted
  std::optional<std::string> os_build;        // the hash's OS build
  std::optional<std::string> serial_in_file;  // the file's serial, when replaced
  std::optional<std::string> user_deferred;   // assigned by `deliver`, not at registration
  std::optional<std::string> failure;         // the seed's failure message

  static ImportResult read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct ImportReply {
  static constexpr std::string_view kCommand = "import";
  static constexpr std::string_view kWhat = "import reply";
  std::uint64_t accepted = 0;
  std::uint64_t already_queued = 0;
  std::uint64_t updated = 0;
  // Sent again while Registration failed (absent from an older service's reply).
  std::optional<std::uint64_t> registration_failed;
  std::uint64_t rejected = 0;
  std::vector<ImportResult> results;

  static ImportReply read(const Json& json, Fields& fields);
  static core::Result<ImportReply> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
