// libFuzzer target: bytes -> encoding detection -> CsvReader -> Validator, as `hangar validate`
// does.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "hangar/core/csv_reader.h"
#include "hangar/core/portal_csv.h"
#include "hangar/core/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hangar::core;
  CsvReaderOptions options;
  options.max_field_bytes = 8192;            // small caps so the fuzzer reaches the oversize paths
  options.read_chunk_bytes = 1 + size % 97;  // vary split points of code units and lines
  options.max_fields_per_row = 8;
  auto reader = CsvReader::from_stream(
      std::make_unique<std::istringstream>(std::string(reinterpret_cast<const char*>(data), size)),
      "fuzz.csv", options);
  if (!reader) return 0;
  ValidationOptions validation;
  validation.expect_build = "22631";
  Validator validator(validation);
  std::vector<DeviceRecord> accepted;
  while (auto record = reader->next()) {
    const auto index = validator.add(*record);
    if (validator.accepted(index) && accepted.size() < 16) accepted.push_back(record->device);
  }
  validator.finish();
  for (const auto& d : reader->diagnostics()) (void)d.to_string();
  (void)validator.summary();
  std::ostringstream out;
  (void)write_portal_csv(accepted, out);
  return 0;
}
