// libFuzzer target: bytes -> encoding detection -> separator choice -> CsvReader -> Validator, as
// `hangar validate` does (with --strict on every other input), and the first two lines as a pair
// of serials for the check of what Excel did to one.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "hangar/intake/csv_reader.h"
#include "hangar/intake/portal_csv.h"
#include "hangar/intake/spreadsheet.h"
#include "hangar/intake/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hangar::core;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  {
    const std::string_view text(bytes);
    const std::size_t cut = text.find('\n');
    const std::string_view first = text.substr(0, cut);
    const std::string_view second =
        cut == std::string_view::npos ? std::string_view() : text.substr(cut + 1, 80);
    if (auto damage = excel_serial_damage(first.substr(0, 80), second)) {
      (void)serial_damage_message(*damage, first, second);
    }
    (void)is_excel_scientific(second);
    (void)excel_characters(text);
  }
  CsvReaderOptions options;
  options.max_field_bytes = 8192;            // small caps so the fuzzer reaches the oversize paths
  options.read_chunk_bytes = 1 + size % 97;  // vary split points of code units and lines
  options.max_fields_per_row = 8;
  auto reader =
      CsvReader::from_stream(std::make_unique<std::istringstream>(bytes), "fuzz.csv", options);
  if (!reader) return 0;
  ValidationOptions validation;
  validation.expect_build = "22631";
  validation.strict_serials = size % 2 == 1;
  Validator validator(validation);
  std::vector<DeviceRecord> accepted;
  while (auto record = reader->next()) {
    const auto index = validator.add(*record);
    if (validator.accepted(index) && accepted.size() < 16) {
      validator.apply_corrections(index, record->device);
      accepted.push_back(record->device);
    }
  }
  validator.finish();
  for (const auto& d : reader->diagnostics()) (void)d.to_string();
  (void)validator.summary();
  std::ostringstream out;
  (void)write_portal_csv(accepted, out);
  return 0;
}
