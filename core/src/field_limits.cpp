// Device field length limits (see field_limits.h).
#include "hangar/core/field_limits.h"

#include <utility>

namespace hangar::core {

std::size_t character_count(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::optional<FieldProblem> check_field_limits(const DeviceRecord& record) {
  const std::pair<const FieldLimit*, const std::string*> texts[] = {
      {&kSerialLimit, &record.serial_number},      {&kProductIdLimit, &record.windows_product_id},
      {&kManufacturerLimit, &record.manufacturer}, {&kModelLimit, &record.model},
      {&kGroupTagLimit, &record.group_tag},        {&kAssignedUserLimit, &record.assigned_user}};
  for (const auto& [limit, value] : texts) {
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
