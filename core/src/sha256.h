// SHA-256 (FIPS 180-4), private to hangar_core: the hardware hash's trailing 'CS' record is the
// SHA-256 of the bytes before it, and core has no crypto library (the mingw build has no OpenSSL).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hangar::core::detail {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> data);

}  // namespace hangar::core::detail
