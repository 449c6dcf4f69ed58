// The client secret at rest on Windows: <data dir>\client-secret.dpapi holds a DPAPI blob made by
// CryptProtectData under the service's own account (LocalSystem for the installed service), not
// CRYPTPROTECT_LOCAL_MACHINE, so no other account on the machine can decrypt it, and a copy of the
// file is useless elsewhere. The file itself gets a protected DACL (SYSTEM, Administrators, the
// service's account) and is replaced atomically (see secret_store.h).
#include "../secret_store.h"

#include <windows.h>

#include <dpapi.h>
#include <sddl.h>
#include <wincrypt.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "hangar/core/win_text.h"

namespace hangar::service {

namespace {

using core::win::error_text;
using core::win::to_utf8;

// The file starts with this line, so a stray or truncated file is named as such before DPAPI is
// asked to decrypt it.
constexpr std::string_view kHeader = "hangar-client-secret dpapi v1\n";
// DPAPI's optional entropy: another program running as the same account cannot decrypt the blob
// with a plain CryptUnprotectData call; it has to know this value too.
constexpr std::string_view kEntropy = "hangar/client-secret/v1";
constexpr DWORD kMaxFileSize = 64 * 1024;

class Handle {
 public:
  explicit Handle(HANDLE handle = INVALID_HANDLE_VALUE) : handle_(handle) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  HANDLE get() const { return handle_; }
  bool valid() const { return handle_ != INVALID_HANDLE_VALUE && handle_ != nullptr; }
  bool reset() {
    bool ok = true;
    if (valid()) ok = ::CloseHandle(handle_) != 0;
    handle_ = INVALID_HANDLE_VALUE;
    return ok;
  }

 private:
  HANDLE handle_;
};

// Frees a buffer allocated by DPAPI, zeroing it first (it may hold the plaintext).
class DataBlob {
 public:
  DataBlob() = default;
  ~DataBlob() {
    if (blob.pbData != nullptr) {
      ::SecureZeroMemory(blob.pbData, blob.cbData);
      ::LocalFree(blob.pbData);
    }
  }
  DataBlob(const DataBlob&) = delete;
  DataBlob& operator=(const DataBlob&) = delete;
  DATA_BLOB blob{0, nullptr};
};

std::string name_of(const std::filesystem::path& path) { return to_utf8(path.wstring()); }

core::Error store_error(std::string message) {
  return core::make_error(kErrSecretStore, std::move(message));
}

DATA_BLOB entropy_blob() {
  return DATA_BLOB{static_cast<DWORD>(kEntropy.size()),
                   reinterpret_cast<BYTE*>(const_cast<char*>(kEntropy.data()))};
}

// "S-1-5-18" style string of this process's user, empty on failure.
std::wstring process_user_sid() {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &raw)) return {};
  Handle token(raw);
  DWORD size = 0;
  ::GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) return {};
  std::vector<unsigned char> buffer(size);
  if (!::GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) return {};
  wchar_t* text = nullptr;
  if (!::ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) {
    return {};
  }
  std::wstring sid(text);
  ::LocalFree(text);
  return sid;
}

// A protected DACL (nothing inherited from the data directory): full control for SYSTEM,
// Administrators and this process's account, nobody else.
class PrivateSecurity {
 public:
  PrivateSecurity() {
    std::wstring sddl = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)";
    if (const std::wstring user = process_user_sid(); !user.empty()) {
      sddl += L"(A;;FA;;;" + user + L")";
    }
    if (::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                               &descriptor_, nullptr)) {
      attributes_.nLength = sizeof(attributes_);
      attributes_.lpSecurityDescriptor = descriptor_;
      attributes_.bInheritHandle = FALSE;
    }
  }
  ~PrivateSecurity() {
    if (descriptor_ != nullptr) ::LocalFree(descriptor_);
  }
  PrivateSecurity(const PrivateSecurity&) = delete;
  PrivateSecurity& operator=(const PrivateSecurity&) = delete;
  SECURITY_ATTRIBUTES* get() { return descriptor_ != nullptr ? &attributes_ : nullptr; }

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  SECURITY_ATTRIBUTES attributes_{};
};

}  // namespace

SecretStore::SecretStore(const std::filesystem::path& data_dir)
    : path_(data_dir / "client-secret.dpapi") {}

std::string SecretStore::protection() {
  return "encrypted with DPAPI for the service's account (only that account on this machine can "
         "decrypt it)";
}

core::Status write_private_file(const std::filesystem::path& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  std::filesystem::path temp = path;
  temp += L".tmp-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
          std::to_wstring(counter.fetch_add(1));
  PrivateSecurity security;
  if (security.get() == nullptr) {
    return store_error("cannot build the access control list for " + name_of(path) + ": " +
                       error_text(::GetLastError()));
  }
  Handle file(::CreateFileW(temp.c_str(), GENERIC_WRITE, 0, security.get(), CREATE_NEW,
                            FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file.valid()) {
    return store_error("cannot create " + name_of(temp) + ": " + error_text(::GetLastError()));
  }
  const auto fail = [&](const std::string& what) -> core::Status {
    const DWORD code = ::GetLastError();
    file.reset();
    ::DeleteFileW(temp.c_str());
    return store_error(what + " " + name_of(path) + ": " + error_text(code));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    DWORD written = 0;
    const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(bytes.size() - done, 1 << 20));
    if (!::WriteFile(file.get(), bytes.data() + done, chunk, &written, nullptr)) {
      return fail("cannot write");
    }
    done += written;
  }
  if (!::FlushFileBuffers(file.get())) return fail("cannot flush");
  if (!file.reset()) return fail("cannot write");
  // The moved file keeps the temporary file's DACL; WRITE_THROUGH returns once the rename is on
  // disk.
  if (!::MoveFileExW(temp.c_str(), path.c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    const DWORD code = ::GetLastError();
    ::DeleteFileW(temp.c_str());
    return store_error("cannot replace " + name_of(path) + ": " + error_text(code));
  }
  return {};
}

core::Result<std::optional<std::string>> SecretStore::load() const {
  Handle file(::CreateFileW(path_.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file.valid()) {
    const DWORD code = ::GetLastError();
    if (code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND) {
      return std::optional<std::string>();
    }
    return store_error("cannot read the client secret in " + name_of(path_) + ": " +
                       error_text(code));
  }
  LARGE_INTEGER size{};
  if (!::GetFileSizeEx(file.get(), &size)) {
    return store_error("cannot read the client secret in " + name_of(path_) + ": " +
                       error_text(::GetLastError()));
  }
  if (size.QuadPart > kMaxFileSize) {
    return store_error(name_of(path_) + " is " + std::to_string(size.QuadPart) +
                       " bytes long, far more than a protected client secret: it is damaged; run "
                       "`hangar config set-credentials` again");
  }
  std::string bytes(static_cast<std::size_t>(size.QuadPart), '\0');
  DWORD read = 0;
  if (!bytes.empty() &&
      !::ReadFile(file.get(), bytes.data(), static_cast<DWORD>(bytes.size()), &read, nullptr)) {
    return store_error("cannot read the client secret in " + name_of(path_) + ": " +
                       error_text(::GetLastError()));
  }
  bytes.resize(read);
  if (bytes.size() <= kHeader.size() || bytes.compare(0, kHeader.size(), kHeader) != 0) {
    return store_error(name_of(path_) +
                       " is not a protected Hangar client secret (damaged or replaced); set the "
                       "credentials again with `hangar config set-credentials`");
  }
  DATA_BLOB in{static_cast<DWORD>(bytes.size() - kHeader.size()),
               reinterpret_cast<BYTE*>(bytes.data() + kHeader.size())};
  DATA_BLOB entropy = entropy_blob();
  DataBlob out;
  if (!::CryptUnprotectData(&in, nullptr, &entropy, nullptr, nullptr, CRYPTPROTECT_UI_FORBIDDEN,
                            &out.blob)) {
    return store_error("cannot decrypt the client secret in " + name_of(path_) + ": " +
                       error_text(::GetLastError()) +
                       ". DPAPI ties it to the account that stored it and to this machine: it was "
                       "stored by another account (hangard run in a console rather than as the "
                       "service?), copied from another machine, or damaged. Run `hangar config "
                       "set-credentials` again while the service runs");
  }
  std::string secret(reinterpret_cast<const char*>(out.blob.pbData), out.blob.cbData);
  for (char c : secret) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      wipe(secret);
      return store_error(name_of(path_) +
                         " decrypts to something that is not a client secret; set the "
                         "credentials again with `hangar config set-credentials`");
    }
  }
  if (secret.empty()) {
    return store_error(name_of(path_) +
                       " holds an empty secret; set the credentials again with `hangar config "
                       "set-credentials`");
  }
  return std::optional<std::string>(std::move(secret));
}

core::Status SecretStore::save(std::string_view secret) const {
  DATA_BLOB in{static_cast<DWORD>(secret.size()),
               reinterpret_cast<BYTE*>(const_cast<char*>(secret.data()))};
  DATA_BLOB entropy = entropy_blob();
  DataBlob out;
  if (!::CryptProtectData(&in, L"Hangar client secret", &entropy, nullptr, nullptr,
                          CRYPTPROTECT_UI_FORBIDDEN, &out.blob)) {
    return store_error("cannot protect the client secret with DPAPI: " +
                       error_text(::GetLastError()));
  }
  std::string bytes(kHeader);
  bytes.append(reinterpret_cast<const char*>(out.blob.pbData), out.blob.cbData);
  return write_private_file(path_, bytes);
}

core::Status SecretStore::remove() const {
  if (!::DeleteFileW(path_.c_str())) {
    const DWORD code = ::GetLastError();
    if (code != ERROR_FILE_NOT_FOUND && code != ERROR_PATH_NOT_FOUND) {
      return store_error("cannot remove " + name_of(path_) + ": " + error_text(code));
    }
  }
  return {};
}

void wipe(std::string& text) {
  if (!text.empty()) ::SecureZeroMemory(text.data(), text.size());
  text.clear();
}

}  // namespace hangar::service
