// SHA-256 through the platform (see sha256.h).
#include "sha256.h"

#include <algorithm>
#include <stdexcept>

#ifdef _WIN32
#include <windows.h>
// windows.h first: bcrypt.h needs its types.
#include <bcrypt.h>
#else
#include <openssl/evp.h>

#include "hangar/core/crypto_runtime.h"
#endif

namespace hangar::core::detail {

#ifdef _WIN32

namespace {

// The algorithm provider is opened once and shared: it is thread-safe for creating hash objects,
// and opening it is the expensive part.
BCRYPT_ALG_HANDLE sha256_provider() {
  static const BCRYPT_ALG_HANDLE provider = [] {
    BCRYPT_ALG_HANDLE handle = nullptr;
    if (BCryptOpenAlgorithmProvider(&handle, BCRYPT_SHA256_ALGORITHM, nullptr, 0) < 0) {
      throw std::runtime_error("BCryptOpenAlgorithmProvider(SHA256) failed");
    }
    return handle;
  }();
  return provider;
}

}  // namespace

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  Sha256Digest digest{};
  BCRYPT_HASH_HANDLE hash = nullptr;
  bool ok = BCryptCreateHash(sha256_provider(), &hash, nullptr, 0, nullptr, 0, 0) >= 0;
  // BCryptHashData takes a ULONG length: feed very large inputs in pieces.
  for (std::size_t done = 0; ok && done < data.size();) {
    const auto piece = static_cast<ULONG>(std::min<std::size_t>(data.size() - done, 1u << 30));
    ok = BCryptHashData(hash, const_cast<PUCHAR>(data.data() + done), piece, 0) >= 0;
    done += piece;
  }
  ok = ok && BCryptFinishHash(hash, digest.data(), static_cast<ULONG>(digest.size()), 0) >= 0;
  if (hash != nullptr) BCryptDestroyHash(hash);
  if (!ok) throw std::runtime_error("SHA-256 through CNG failed");
  return digest;
}

#else

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  start_crypto_library();
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    throw std::runtime_error("SHA-256 through OpenSSL failed");
  }
  return digest;
}

#endif

}  // namespace hangar::core::detail
