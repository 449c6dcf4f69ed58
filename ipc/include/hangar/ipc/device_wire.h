// The wire form of a device record in `import` requests, shared by the CLI, the tray and the
// service so both ends agree on field names and on how the hash travels (base64 or bytes).
#pragma once

#include <string>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/protocol.h"

namespace hangar::ipc {

// The most devices one `import` request may carry: 250 devices with 4 KB hashes are about 1.5 MB
// of JSON, well inside the 8 MiB frame limit, and the reply comes back before the CLI's progress
// bar looks stuck.
inline constexpr std::size_t kMaxImportBatch = 250;
// A batch also ends once its devices reach this many bytes (json_size of their wire form), so
// devices with long fields or large hashes never make a request near the 8 MiB frame limit or a
// large share of the service's request memory.
inline constexpr std::size_t kMaxImportBatchBytes = 2u * 1024u * 1024u;

// How "hash" travels: base64 text (any encoding) or a byte string (CBOR requests only: JSON
// text has no byte strings, and nlohmann would dump one as an object).
enum class HashForm { kBase64, kBytes };

// {"serial", "product_id", "hash", "manufacturer", "model", "group_tag", "assigned_user",
//  "profile" (CLI name), "source_file", "source_line"}; empty fields are left out.
Json device_to_wire(const core::DeviceRecord& device, HashForm hash_form = HashForm::kBase64);

struct WireDevice {
  core::DeviceRecord device;
  // Non-empty when "hash" was present but not base64: the validator turns it into
  // "Hardware hash not valid" for this record only.
  std::string hash_error;
};

// Fails (invalid_argument, naming the field) when the object is not a device: a field of the
// wrong type, an unknown profile. A bad hash is not a failure here (see WireDevice::hash_error).
core::Result<WireDevice> device_from_wire(const Json& json);

}  // namespace hangar::ipc
