// The Autopilot hardware hash ("4K HH"): lenient base64 and the decoded 'OA' record structure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/result.h"

namespace hangar::core {

// Error code for every hash problem; the message is the precise reason. Maps to
// FailureReason::kHardwareHashNotValid.
inline constexpr std::string_view kHashNotValidCode = "hardware_hash_not_valid";

struct Base64Decoded {
  std::vector<std::uint8_t> bytes;
  std::string normalized;  // whitespace removed, '=' padding added: what Graph's Edm.Binary accepts
};

// Base64 as devices and editors produce it: ASCII whitespace anywhere is ignored and missing '='
// padding is tolerated (DOMAIN.md: devices sometimes omit it). Anything else that is not in the
// base64 alphabet fails with its offset in `text`, e.g. "not base64: invalid character '#' at
// offset 17".
Result<Base64Decoded> decode_base64_lenient(std::string_view text);
// The same without building the normalised text (the validation hot path).
Result<std::vector<std::uint8_t>> decode_base64_bytes(std::string_view text);
std::string encode_base64(std::span<const std::uint8_t> bytes);

// One record of the decoded structure: u16 type, u16 length (including its 4-byte header).
struct HashRecordInfo {
  std::uint16_t type = 0;
  std::uint16_t length = 0;
  std::uint32_t offset = 0;
};

enum class HashChecksum {
  kAbsent,          // no 'CS' record
  kValid,           // SHA-256 of the body matches
  kValidTruncated,  // the record was cut short, but every byte present matches
  kMismatch,        // the body was altered after the device produced it
};

// What a hash says about its device.
//
// Layout, established by decoding the public sample in DOMAIN.md:
//   bytes 0-1  "OA"
//   bytes 2-3  LE u16 = the length of the checksummed body, i.e. the offset of the trailing 'CS'
//              record (the sample says 1054 = 0x041E; its 'CS' record starts at byte 1054).
//   records    LE u16 type, LE u16 length (header included), payload; strings are ASCII, NUL-ended.
//   'CS'       "CS", LE u16 length 36, then 32 bytes = SHA-256 of bytes [0, body length). The
//   sample's
//              first 31 digest bytes match SHA-256 of its first 1054 bytes; its last byte was lost
//              because the docs dropped the final base64 group's tail (1089 of 1090 bytes).
//   type 1     two 8-byte versions {u16 minor, u16 major, u16 revision, u16 build}: the sample
//   holds
//              10.0.17763.1 (the release) and 10.0.17763.288 (the installed build) = the OS build.
//   types 14-19 serial, BIOS vendor(15), manufacturer, product (model), SKU, family; 20/21 the
//              baseboard maker/product; 24 product key ID; 26 a text like "[RS2]X21-36311" (it
//              looks like the OEM product-key part number, not the OS build: *unconfirmed*).
struct HardwareHashInfo {
  std::uint16_t body_length = 0;
  std::string os_build;       // installed build, "10.0.17763.288"; empty when type 1 is absent
  std::string os_base_build;  // release build, "10.0.17763.1"
  std::string serial_number;
  std::string bios_vendor;
  std::string manufacturer;
  std::string model;
  std::string sku;
  std::string family;
  std::string product_key_id;
  std::string part_number;  // type 26, *unconfirmed* meaning
  std::string tpm_version;  // type 13 text, e.g. "TPM-Version:2.0 -Level:0-..."
  bool has_tpm_ek_public_key = false;
  HashChecksum checksum = HashChecksum::kAbsent;
  std::size_t missing_tail_bytes = 0;  // how much the last record was cut short (tolerated <= 3)
  std::vector<HashRecordInfo> records;
};

// Walks the structure. Fails (code kHashNotValidCode) with the precise reason: too short, no 'OA'
// signature, a record running past the data or the declared body, no serial or manufacturer inside.
// The end may be cut short by at most 3 bytes (one base64 group, the sample's quirk); the middle
// may not.
Result<HardwareHashInfo> parse_hardware_hash(std::span<const std::uint8_t> bytes);
// Convenience: lenient base64, then parse.
Result<HardwareHashInfo> parse_hardware_hash_text(std::string_view base64);

std::string_view checksum_name(HashChecksum checksum);

// A 128-bit fingerprint of a decoded hash, for finding the same hash twice (across files in the
// validator, across imports in the store). Not cryptographic: nobody forges a duplicate on their
// own staging PC, and 128 bits make an accidental collision among millions of hashes negligible;
// the store still compares the bytes when two fingerprints match.
struct HashFingerprint {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool operator==(const HashFingerprint&) const = default;
  // Big-endian bytes: hi then lo (the store keeps them as a 16-byte BLOB).
  std::array<std::uint8_t, 16> bytes() const;
};
struct HashFingerprintHasher {
  // noexcept: std::unordered_map then keeps no copy of the hash in each node (8 bytes a row).
  std::size_t operator()(const HashFingerprint& f) const noexcept {
    return static_cast<std::size_t>(f.lo ^ f.hi);
  }
};
HashFingerprint hash_fingerprint(std::span<const std::uint8_t> bytes);

// Does `build` (e.g. "10.0.17763.288") match what the staging room expects? `expected` may be the
// full version or its tail: "17763" (build), "17763.288" (build.revision), "10.0.17763".
bool os_build_matches(std::string_view build, std::string_view expected);

}  // namespace hangar::core
