// What the service checks about a hardware hash: the Edm.Binary base64 rules (an unpadded hash is
// a 400) and, after decoding, the 'OA' record layout and the make/model/serial inside.
//
// Deliberately independent of hangar_core's client-side hash code: the simulator is the oracle the
// client is tested against, so it must not share the client's parser (and its bugs).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::cloudsim {

// Decodes like .NET's Convert.FromBase64String, which Graph's OData reader uses for Edm.Binary:
// standard alphabet, whitespace ignored, length a multiple of 4, at most two trailing '='.
// Anything else (notably missing padding) is nullopt.
std::optional<std::vector<std::uint8_t>> decode_edm_binary(std::string_view text);
std::string encode_base64(std::span<const std::uint8_t> bytes);

struct HashFacts {
  bool layout_ok = false;     // starts with "OA" and holds at least one well-formed record
  std::string serial_number;  // record 14
  std::string manufacturer;   // record 16
  std::string model;          // record 17
};

// Walks the records (u16 type, u16 length including the 4-byte header) and stops quietly at a
// record that runs past the end: real hashes can be a byte short (see DOMAIN.md's sample).
HashFacts inspect_hash(std::span<const std::uint8_t> bytes);

}  // namespace hangar::cloudsim
