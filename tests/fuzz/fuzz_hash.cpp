// libFuzzer target: text -> lenient base64 -> parse_hardware_hash, and raw bytes -> parse directly.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hangar/core/hardware_hash.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hangar::core;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto decoded = decode_base64_lenient(text); decoded) {
    // The normalised text must decode to the same bytes.
    auto again = decode_base64_bytes(decoded->normalized);
    if (!again || *again != decoded->bytes) __builtin_trap();
    (void)parse_hardware_hash(decoded->bytes);
  }
  if (auto info = parse_hardware_hash(std::span<const std::uint8_t>(data, size)); info) {
    if (info->serial_number.empty() || info->manufacturer.empty()) __builtin_trap();
    (void)os_build_matches(info->os_build, "10.0.17763");
  }
  return 0;
}
