// SHA-256, private to hangar_core: the hardware hash's trailing 'CS' record is the SHA-256 of the
// bytes before it. The platform's implementation does the work (OpenSSL's libcrypto on POSIX,
// CNG on Windows): both use the CPU's SHA extensions where present, about 6x a portable loop,
// and every imported hash is checked once by the CLI and once by the service.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hangar::core::detail {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> data);

}  // namespace hangar::core::detail
