// Assembles valid hardware hashes ('OA' + records + 'CS' checksum) for tests, the demo and
// benchmarks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hangar::core {

// Records are written in the order they are added. build() adds the header and, unless disabled,
// the 'CS' record with the SHA-256 of the body, so the result parses with HashChecksum::kValid.
class HardwareHashBuilder {
 public:
  HardwareHashBuilder() = default;

  // A hash shaped like a real device's: OS build, CPU, RAM, disk, two network adapters, TPM version
  // and a 256-byte EK public key, SMBIOS UUID, serial, make, model, SKU, family, product key id...
  // then padded to `target_bytes` (real hashes are ~4 KB). `seed` varies the random parts.
  static HardwareHashBuilder realistic(std::string_view serial, std::string_view manufacturer,
                                       std::string_view model,
                                       std::string_view os_build = "10.0.22631.2861",
                                       std::uint64_t seed = 0, std::size_t target_bytes = 4096);

  // Type 1: the release ("major.minor.build.1") and the installed version. Ignores bad text.
  HardwareHashBuilder& os_build(std::string_view version);
  HardwareHashBuilder& serial_number(std::string_view value) { return text(14, value); }
  HardwareHashBuilder& manufacturer(std::string_view value) { return text(16, value); }
  HardwareHashBuilder& model(std::string_view value) { return text(17, value); }
  HardwareHashBuilder& sku(std::string_view value) { return text(18, value); }
  HardwareHashBuilder& family(std::string_view value) { return text(19, value); }
  // A NUL-terminated ASCII record.
  HardwareHashBuilder& text(std::uint16_t type, std::string_view value);
  HardwareHashBuilder& binary(std::uint16_t type, std::span<const std::uint8_t> payload);
  // `count` pseudo-random payload bytes (deterministic for a given seed).
  HardwareHashBuilder& random(std::uint16_t type, std::size_t count);
  // Adds filler records at build time so the whole hash is `total_bytes` long (0: no padding).
  HardwareHashBuilder& pad_to(std::size_t total_bytes);
  HardwareHashBuilder& with_checksum(bool enabled);
  HardwareHashBuilder& seed(std::uint64_t value);

  std::vector<std::uint8_t> build() const;
  std::string build_base64() const;

 private:
  std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> records_;
  std::size_t pad_to_ = 0;
  bool checksum_ = true;
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
};

}  // namespace hangar::core
