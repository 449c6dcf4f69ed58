// Builds synthetic hardware hashes that parse exactly like real ones (see hardware_hash.h).
#include "hangar/core/hash_builder.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "hangar/core/hardware_hash.h"
#include "sha256.h"

namespace hangar::core {
namespace {

constexpr std::size_t kChecksumRecordBytes = 36;
constexpr std::size_t kMaxBody = 0xFFFF;  // the header's u16

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void fill_random(std::vector<std::uint8_t>& out, std::size_t count, std::uint64_t& state) {
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(static_cast<std::uint8_t>(splitmix(state) >> 32));
  }
}

void put_u16(std::vector<std::uint8_t>& out, std::size_t value) {
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
  out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
}

std::uint64_t text_seed(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: only to vary devices, not for security
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

std::string hex(std::uint64_t& rng, std::size_t digits) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) out.push_back(kHex[splitmix(rng) & 15]);
  return out;
}

}  // namespace

HardwareHashBuilder HardwareHashBuilder::realistic(
    std::string_view serial, std::string_view manufacturer, std::string_view model,
    std::string_view os_build_text, std::uint64_t seed_value, std::size_t target_bytes) {
  HardwareHashBuilder b;
  b.seed(seed_value ^ text_seed(serial));
  std::uint64_t rng = b.rng_ ^ 0x5DEECE66DULL;
  const std::string disk = hex(rng, 4) + "_" + hex(rng, 4) + "_" + hex(rng, 4) + "_" + hex(rng, 4) +
                           ".|NVMe SAMSUNG MZVL2512HCJQ-00B00|";
  // Same record order as the public sample in DOMAIN.md.
  b.os_build(os_build_text)
      .random(2, 12)
      .random(5, 21)
      .text(3, "GenuineIntel")
      .text(4, "13th Gen Intel(R) Core(TM) i7-1365U")
      .random(6, 12)
      .text(7, disk)
      .random(8, 22)
      .random(8, 22)
      .random(9, 12)
      .random(27, 4)
      .random(10, 5)
      .text(13, "TPM-Version:2.0 -Level:0-Revision:1.38-VendorID:'INTC'-Firmware:600.18.0.0")
      .random(25, 256)  // TPM EK public key (RSA-2048 modulus)
      .random(11, 42)
      .random(12, 16)  // SMBIOS UUID
      .serial_number(serial)
      .text(15, manufacturer)
      .manufacturer(manufacturer)
      .model(model)
      .sku(std::string(model) + "_SKU")
      .family(model.substr(0, model.find(' ')))
      .text(20, manufacturer)
      .text(21, model)
      .text(24, std::to_string(splitmix(rng) % 10000000000000ULL))
      .text(28, disk)
      .pad_to(target_bytes);
  return b;
}

HardwareHashBuilder& HardwareHashBuilder::os_build(std::string_view version) {
  std::array<std::uint16_t, 4> parts{};
  std::size_t i = 0;
  const char* p = version.data();
  const char* end = version.data() + version.size();
  while (p < end && i < parts.size()) {
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc()) return *this;
    ++i;
    p = next;
    if (p < end && *p == '.') ++p;
  }
  if (i != parts.size()) return *this;
  std::vector<std::uint8_t> payload;
  // {minor, major, revision, build}: the release (revision 1), then the installed version.
  for (std::uint16_t revision : {std::uint16_t{1}, parts[3]}) {
    put_u16(payload, parts[1]);
    put_u16(payload, parts[0]);
    put_u16(payload, revision);
    put_u16(payload, parts[2]);
  }
  fill_random(payload, 8, rng_);
  records_.emplace_back(std::uint16_t{1}, std::move(payload));
  return *this;
}

HardwareHashBuilder& HardwareHashBuilder::text(std::uint16_t type, std::string_view value) {
  std::vector<std::uint8_t> payload(value.begin(), value.end());
  payload.push_back(0);
  records_.emplace_back(type, std::move(payload));
  return *this;
}

HardwareHashBuilder& HardwareHashBuilder::binary(std::uint16_t type,
                                                 std::span<const std::uint8_t> payload) {
  records_.emplace_back(type, std::vector<std::uint8_t>(payload.begin(), payload.end()));
  return *this;
}

HardwareHashBuilder& HardwareHashBuilder::random(std::uint16_t type, std::size_t count) {
  std::vector<std::uint8_t> payload;
  fill_random(payload, count, rng_);
  records_.emplace_back(type, std::move(payload));
  return *this;
}

HardwareHashBuilder& HardwareHashBuilder::pad_to(std::size_t total_bytes) {
  pad_to_ = total_bytes;
  return *this;
}

HardwareHashBuilder& HardwareHashBuilder::with_checksum(bool enabled) {
  checksum_ = enabled;
  return *this;
}

HardwareHashBuilder& HardwareHashBuilder::seed(std::uint64_t value) {
  rng_ = value;
  return *this;
}

std::vector<std::uint8_t> HardwareHashBuilder::build() const {
  std::vector<std::uint8_t> out{'O', 'A', 0, 0};
  for (const auto& [type, payload] : records_) {
    if (out.size() + 4 + payload.size() > kMaxBody) break;  // cannot be expressed in the u16
    put_u16(out, type);
    put_u16(out, 4 + payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
  }
  // Filler: more network adapters (type 8, as a docked laptop reports), then one opaque record.
  const std::size_t tail = checksum_ ? kChecksumRecordBytes : 0;
  std::uint64_t rng = rng_ ^ 0xA5A5A5A5ULL;
  if (pad_to_ > out.size() + tail) {
    std::size_t need = std::min(pad_to_ - tail, kMaxBody) - std::min(out.size(), kMaxBody);
    for (int adapters = 0; adapters < 6 && need >= 26 + 8; ++adapters) {
      put_u16(out, 8);
      put_u16(out, 26);
      fill_random(out, 22, rng);
      need -= 26;
    }
    if (need >= 4) {
      put_u16(out, 29);
      put_u16(out, need);
      fill_random(out, need - 4, rng);
    }
  }
  const std::size_t body = out.size();
  out[2] = static_cast<std::uint8_t>(body & 0xFF);
  out[3] = static_cast<std::uint8_t>((body >> 8) & 0xFF);
  if (checksum_) {
    const auto digest = detail::sha256(out);
    out.push_back('C');
    out.push_back('S');
    put_u16(out, kChecksumRecordBytes);
    out.insert(out.end(), digest.begin(), digest.end());
  }
  return out;
}

std::string HardwareHashBuilder::build_base64() const { return encode_base64(build()); }

}  // namespace hangar::core
