// The longest value each device field may have, checked by the validator on both sides (the CLI
// before it sends, the service before it queues), so an over-long field is one rejected row, never
// a reply too large to send or a message that repeats megabytes.
//
// Microsoft documents no maximum for the Autopilot import's own properties (serialNumber,
// productKey, groupTag, manufacturer, model have none in the Graph schema). Where a limit is
// known it is used; elsewhere the bound is ours, far above real values:
//   assigned user   113 characters: Entra ID's UPN limit (64 before the '@', 48 after it);
//   group tag       512 characters: the limit Intune enforces on group tags (found by
//                   ennnbeee/AutopilotGroupTagger, issue #3, against real tenants);
//   serial number   128 characters (ours: SMBIOS serials in the wild are up to ~30);
//   product id       64 characters (ours: a product key is 29, a product ID 23);
//   manufacturer, model  255 characters each (ours: SMBIOS strings);
//   hardware hash   32 KiB decoded (ours: real hashes are 3-5 KiB);
//   source file     4096 bytes (a path on the CLI's machine, echoed in messages).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/device.h"

namespace hangar::core {

struct FieldLimit {
  std::string_view field;  // as the CSV header names it
  std::size_t max;         // characters (UTF-8 code points), bytes for the hash and the file
};

inline constexpr FieldLimit kSerialLimit{"Device Serial Number", 128};
inline constexpr FieldLimit kProductIdLimit{"Windows Product ID", 64};
inline constexpr FieldLimit kManufacturerLimit{"Manufacturer", 255};
inline constexpr FieldLimit kModelLimit{"Model", 255};
inline constexpr FieldLimit kGroupTagLimit{"Group Tag", 512};
inline constexpr FieldLimit kAssignedUserLimit{"Assigned User", 113};
inline constexpr FieldLimit kHashBytesLimit{"Hardware Hash", 32 * 1024};
inline constexpr FieldLimit kSourceFileLimit{"source file", 4096};

// UTF-8 code points in `text` (bytes that are not a sequence's continuation).
std::size_t character_count(std::string_view text);

struct FieldProblem {
  std::string_view field;
  std::string message;  // names the field, its length and the limit; never repeats the value
};

// The first control character in `text` (C0, DEL, C1 as U+0080..U+009F, or a bidirectional
// control: U+200E/F, U+202A..U+202E, U+2066..U+2069), shown escaped with
// its position: "\x1b (character 4)"; nothing when there is none.
std::optional<std::string> control_character(std::string_view text);

// The first field of `record` over its limit or holding a control character, if any.
std::optional<FieldProblem> check_field_limits(const DeviceRecord& record);

}  // namespace hangar::core
