// Device field length limits (see field_limits.h).
#include "hangar/core/field_limits.h"

#include "hangar/core/terminal_safe.h"

#include <utility>

namespace hangar::core {

std::size_t character_count(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::optional<std::string> control_character(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t characters = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) ++characters;
    std::string shown;
    if (c < 0x20 || c == 0x7F) {
      shown = std::string("\\x") + kHex[c >> 4] + kHex[c & 0xF];
    } else if (c == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F)
        shown = std::string("\\u00") + kHex[next >> 4] + kHex[next & 0xF];
    } else if (c == 0xD8 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) == 0x9C) {
      shown = "\\u061c (a bidirectional control)";  // the Arabic letter mark (black-box round 15)
    } else if (c == 0xE2 && i + 2 < text.size()) {
      // The bidirectional controls reorder the rest of a line: a serial could read as another
      // (black-box round 14).
      const auto second = static_cast<unsigned char>(text[i + 1]);
      const auto third = static_cast<unsigned char>(text[i + 2]);
      if (is_line_control(second, third)) {
        const unsigned code = 0x2000u + ((second & 0x3Fu) << 6) + (third & 0x3Fu);
        shown = "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) shown += kHex[(code >> shift) & 0xF];
        shown += second == 0x80 && (third == 0xA8 || third == 0xA9) ? " (a line separator)"
                                                                    : " (a bidirectional control)";
      }
    }
    if (!shown.empty()) return shown + " (character " + std::to_string(characters) + ")";
  }
  return std::nullopt;
}

std::optional<FieldProblem> check_field_limits(const DeviceRecord& record) {
  const std::pair<const FieldLimit*, const std::string*> texts[] = {
      {&kSerialLimit, &record.serial_number},      {&kProductIdLimit, &record.windows_product_id},
      {&kManufacturerLimit, &record.manufacturer}, {&kModelLimit, &record.model},
      {&kGroupTagLimit, &record.group_tag},        {&kAssignedUserLimit, &record.assigned_user}};
  for (const auto& [limit, value] : texts) {
    // A device's identity never holds a control character; one that does (ESC, BEL) is a terminal
    // escape sequence waiting for whoever lists the queue (attack round 5, finding 06).
    if (auto control = control_character(*value)) {
      return FieldProblem{limit->field, std::string(limit->field) + " holds a control character, " +
                                            *control +
                                            "; device fields are plain text (remove it from the "
                                            "file: a terminal showing it would act on it)"};
    }
    // Bytes first: no count to take of a value that cannot fit even in one byte a character.
    if (value->size() <= limit->max) continue;
    const std::size_t characters = character_count(*value);
    if (characters <= limit->max) continue;
    return FieldProblem{limit->field, std::string(limit->field) + " is " +
                                          std::to_string(characters) +
                                          " characters long; the most the cloud takes is " +
                                          std::to_string(limit->max)};
  }
  if (record.hardware_hash.size() > kHashBytesLimit.max) {
    return FieldProblem{kHashBytesLimit.field,
                        "the hardware hash is " + std::to_string(record.hardware_hash.size()) +
                            " bytes; real hashes are 3-5 KiB and the most accepted is " +
                            std::to_string(kHashBytesLimit.max)};
  }
  if (record.source_file.size() > kSourceFileLimit.max) {
    return FieldProblem{kSourceFileLimit.field,
                        "the source file name is " + std::to_string(record.source_file.size()) +
                            " bytes; the most accepted is " + std::to_string(kSourceFileLimit.max)};
  }
  return std::nullopt;
}

}  // namespace hangar::core
