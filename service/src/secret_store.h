// The client secret at rest, behind one small interface with a definition per platform:
//   posix/secret_store.cpp    <data dir>/client-secret, mode 0600, owned by the service account
//   windows/secret_store.cpp  <data dir>/client-secret.dpapi, DPAPI-protected under the service's
//                             account (CryptProtectData, never CRYPTPROTECT_LOCAL_MACHINE)
// Both replace the file atomically (temporary file, flush, rename), so a crash leaves the old
// secret or the new one, and the file is never readable by others, not even for a moment.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/result.h"

namespace hangar::service {

// Error code of every SecretStore failure; the message names the file and what to do.
inline constexpr char kErrSecretStore[] = "secret_store";

class SecretStore {
 public:
  explicit SecretStore(const std::filesystem::path& data_dir);

  // The file that holds the secret.
  const std::filesystem::path& path() const { return path_; }
  // How it is protected, in words for `hangar config show`.
  static std::string protection();

  // The stored secret; nullopt when none is stored. An error when the file exists but cannot be
  // read, is damaged, or (Windows) was protected under another account or on another machine.
  core::Result<std::optional<std::string>> load() const;
  // Replaces the stored secret atomically. Never logs or reports the secret itself.
  core::Status save(std::string_view secret) const;
  // Removes the stored secret (no error when there is none).
  core::Status remove() const;

 private:
  std::filesystem::path path_;
};

// Writes `bytes` to `path` readable and writable by this process's account only (POSIX 0600;
// Windows: a protected DACL for SYSTEM, Administrators and this account), through a temporary
// file in the same directory that is flushed to disk and renamed over `path`.
core::Status write_private_file(const std::filesystem::path& path, std::string_view bytes);

// Overwrites the characters before clearing, so a secret does not linger in freed memory (best
// effort: copies made by libraries are out of reach).
void wipe(std::string& text);

}  // namespace hangar::service
