// `hangard setup`: the data folder's security, failure actions and the machine PATH, for the MSI.
#include "setup.h"

#include <windows.h>
// After windows.h:
#include <aclapi.h>
#include <sddl.h>

#include <cwchar>
#include <iostream>
#include <optional>
#include <system_error>

#include "event_log.h"
#include "hangar/core/paths.h"
#include "path_list.h"
#include "service_install.h"
#include "win_text.h"

namespace hangar::service::win {
namespace {

constexpr const wchar_t* kEnvironmentKey =
    L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment";

struct SetupArgs {
  std::string name = kDefaultServiceName;
  std::filesystem::path data_dir;
  bool uninstall = false;
  bool remove_data = false;
  bool verify = false;
};

std::optional<SetupArgs> parse_setup_args(const std::vector<std::string>& args) {
  SetupArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if ((arg == "--name" || arg == "--data-dir") && i + 1 < args.size()) {
      if (arg == "--name") {
        out.name = args[++i];
      } else {
        out.data_dir = std::filesystem::path(to_wide(args[++i]));
      }
    } else if (arg == "--uninstall") {
      out.uninstall = true;
    } else if (arg == "--remove-data") {
      out.remove_data = true;
    } else if (arg == "--verify") {
      out.verify = true;
    } else {
      std::cerr << "hangard setup: unexpected argument \"" << arg << "\"\n" << host_usage();
      return std::nullopt;
    }
  }
  if (out.remove_data && !out.uninstall) {
    std::cerr << "hangard setup: --remove-data goes with --uninstall\n";
    return std::nullopt;
  }
  if (out.data_dir.empty()) out.data_dir = core::default_data_dir();
  return out;
}

// The machine PATH (unexpanded) and its registry type.
std::string read_machine_path(DWORD& type, std::string& error) {
  DWORD size = 0;
  type = REG_EXPAND_SZ;
  LSTATUS rc =
      ::RegGetValueW(HKEY_LOCAL_MACHINE, kEnvironmentKey, L"Path",
                     RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, &type, nullptr, &size);
  if (rc == ERROR_FILE_NOT_FOUND) return {};
  std::wstring value(size / sizeof(wchar_t) + 1, L'\0');
  size = static_cast<DWORD>(value.size() * sizeof(wchar_t));
  if (rc == ERROR_SUCCESS) {
    rc = ::RegGetValueW(HKEY_LOCAL_MACHINE, kEnvironmentKey, L"Path",
                        RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, &type, value.data(),
                        &size);
  }
  if (rc != ERROR_SUCCESS) {
    error = "cannot read the machine PATH: " + error_text(static_cast<DWORD>(rc));
    return {};
  }
  value.resize(value.find(L'\0') == std::wstring::npos ? value.size() : value.find(L'\0'));
  return to_utf8(value);
}

std::string write_machine_path(const std::string& value, DWORD type) {
  const std::wstring wide = to_wide(value);
  const LSTATUS rc =
      ::RegSetKeyValueW(HKEY_LOCAL_MACHINE, kEnvironmentKey, L"Path", type, wide.c_str(),
                        static_cast<DWORD>((wide.size() + 1) * sizeof(wchar_t)));
  if (rc != ERROR_SUCCESS)
    return "cannot write the machine PATH: " + error_text(static_cast<DWORD>(rc));
  // Tell running programs (Explorer, so new consoles) that the environment changed; a program
  // that does not answer within 2 s is skipped rather than waited for.
  DWORD_PTR result = 0;
  ::SendMessageTimeoutW(HWND_BROADCAST, WM_SETTINGCHANGE, 0,
                        reinterpret_cast<LPARAM>(L"Environment"), SMTO_ABORTIFHUNG, 2000, &result);
  return {};
}

std::string install_folder() {
  return to_utf8(std::filesystem::path(this_executable()).parent_path().wstring());
}

// Adds (or with `add` false removes) this executable's folder on the machine PATH.
std::string update_machine_path(bool add) {
  const std::string folder = install_folder();
  if (folder.empty()) return "cannot find this executable's folder: " + last_error_text();
  DWORD type = REG_EXPAND_SZ;
  std::string error;
  const std::string current = read_machine_path(type, error);
  if (!error.empty()) return error;
  const std::string updated =
      add ? path_list_with(current, folder) : path_list_without(current, folder);
  if (updated == current) return {};
  return write_machine_path(updated, type);
}

int install(const SetupArgs& args) {
  int status = 0;
  std::vector<std::string> notes;
  const std::string protect_error = protect_data_dir(args.data_dir, &notes);
  for (const auto& note : notes) std::cout << "data directory: " << note << "\n";
  if (!protect_error.empty()) {
    std::cerr << "hangard setup: " << protect_error << "\n";
    status = 1;
  } else {
    std::cout << "data directory " << args.data_dir.string()
              << ": SYSTEM and Administrators only\n";
  }
  if (auto error = set_failure_actions(args.name); !error.empty()) {
    std::cerr << "hangard setup: service " << args.name << ": " << error << "\n";
    status = 1;
  } else {
    std::cout << "service " << args.name << ": restarts after a failure\n";
  }
  if (auto error = update_machine_path(true); !error.empty()) {
    std::cerr << "hangard setup: " << error << "\n";
    status = 1;
  } else {
    std::cout << install_folder() << " is on the machine PATH\n";
  }
  return status;
}

int uninstall(const SetupArgs& args) {
  int status = 0;
  if (auto error = update_machine_path(false); !error.empty()) {
    std::cerr << "hangard setup: " << error << "\n";
    status = 1;
  }
  if (args.remove_data) {
    // Only a folder that is plainly a data directory: never a drive's root.
    const auto& dir = args.data_dir;
    if (!dir.has_relative_path() || dir.relative_path().empty()) {
      std::cerr << "hangard setup: refusing to remove " << dir.string() << "\n";
      return 1;
    }
    if (auto error = remove_tree(dir); !error.empty()) {
      std::cerr << "hangard setup: cannot remove " << dir.string() << ": " << error << "\n";
      status = 1;
    } else {
      std::cout << "removed " << dir.string() << "\n";
    }
  }
  return status;
}

int verify(const SetupArgs& args) {
  int status = 0;
  std::string error;
  const std::string sddl = security_of(args.data_dir, error);
  if (!error.empty()) {
    std::cout << "data directory: FAIL: " << error << "\n";
    status = 1;
  } else if (!file_security_kept(args.data_dir.parent_path())) {
    std::cout << "data directory " << args.data_dir.string()
              << ": unverifiable: the file system keeps no file security (Wine, FAT): " << sddl
              << "\n";
    status = 1;
  } else {
    const bool ok = is_protected_data_dir_security(sddl);
    std::cout << "data directory " << args.data_dir.string() << ": " << (ok ? "ok" : "FAIL") << ": "
              << sddl << "\n";
    if (!ok) status = 1;
  }
  error.clear();
  const std::string actions = describe_failure_actions(args.name, error);
  if (!error.empty()) {
    std::cout << "failure actions: FAIL: " << error << "\n";
    status = 1;
  } else {
    const bool ok = actions.rfind("restart", 0) == 0;
    std::cout << "failure actions of " << args.name << ": " << (ok ? "ok" : "FAIL") << ": "
              << actions << "\n";
    if (!ok) status = 1;
  }
  DWORD type = 0;
  error.clear();
  const std::string path = read_machine_path(type, error);
  const bool on_path = error.empty() && path_list_contains(path, install_folder());
  std::cout << "machine PATH: " << (on_path ? "ok" : "FAIL") << ": " << install_folder()
            << (on_path ? " is on it" : " is not on it") << "\n";
  if (!on_path) status = 1;
  return status;
}

}  // namespace

namespace {

// kDataDirSecurity as a descriptor, with its owner and DACL.
class DataDirDescriptor {
 public:
  DataDirDescriptor() {
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(kDataDirSecurity, SDDL_REVISION_1,
                                                                &descriptor_, nullptr)) {
      descriptor_ = nullptr;
      return;
    }
    BOOL defaulted = FALSE;
    BOOL present = FALSE;
    ::GetSecurityDescriptorOwner(descriptor_, &owner_, &defaulted);
    ::GetSecurityDescriptorDacl(descriptor_, &present, &dacl_, &defaulted);
  }
  ~DataDirDescriptor() {
    if (descriptor_) ::LocalFree(descriptor_);
  }
  DataDirDescriptor(const DataDirDescriptor&) = delete;
  DataDirDescriptor& operator=(const DataDirDescriptor&) = delete;

  bool ok() const { return descriptor_ != nullptr && owner_ != nullptr && dacl_ != nullptr; }
  PSID owner() const { return owner_; }
  PACL dacl() const { return dacl_; }
  SECURITY_ATTRIBUTES attributes() const {
    return SECURITY_ATTRIBUTES{sizeof(SECURITY_ATTRIBUTES), descriptor_, FALSE};
  }

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  PSID owner_ = nullptr;
  PACL dacl_ = nullptr;
};

// SYSTEM or Administrators: an object one of them owns was not put there by an ordinary user.
std::optional<bool> owner_is_trusted(const std::filesystem::path& path, std::string& error) {
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD rc =
      ::GetNamedSecurityInfoW(path.wstring().c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                              &owner, nullptr, nullptr, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    error = "cannot read the owner of " + to_utf8(path.wstring()) + ": " + error_text(rc);
    return std::nullopt;
  }
  const bool trusted = owner != nullptr && (::IsWellKnownSid(owner, WinLocalSystemSid) ||
                                            ::IsWellKnownSid(owner, WinBuiltinAdministratorsSid));
  ::LocalFree(descriptor);
  return trusted;
}

// A suffix for what is moved aside: "untrusted-20261201T153000".
std::wstring aside_suffix() {
  SYSTEMTIME now{};
  ::GetSystemTime(&now);
  wchar_t text[48];
  std::swprintf(text, sizeof(text) / sizeof(text[0]), L".untrusted-%04u%02u%02uT%02u%02u%02u",
                now.wYear, now.wMonth, now.wDay, now.wHour, now.wMinute, now.wSecond);
  return text;
}

std::string path_text(const std::filesystem::path& path) { return to_utf8(path.wstring()); }

// One entry found in a folder, before anything is changed there.
struct Entry {
  std::wstring name;
  DWORD attributes = 0;
};

std::optional<std::vector<Entry>> list_folder(const std::filesystem::path& dir,
                                              std::string& error) {
  WIN32_FIND_DATAW data{};
  const std::wstring pattern = (dir / L"*").wstring();
  HANDLE find = ::FindFirstFileW(pattern.c_str(), &data);
  if (find == INVALID_HANDLE_VALUE) {
    if (::GetLastError() == ERROR_FILE_NOT_FOUND) return std::vector<Entry>{};
    error = "cannot list " + path_text(dir) + ": " + last_error_text();
    return std::nullopt;
  }
  std::vector<Entry> entries;
  do {
    const std::wstring name = data.cFileName;
    if (name != L"." && name != L"..") entries.push_back({name, data.dwFileAttributes});
  } while (::FindNextFileW(find, &data));
  ::FindClose(find);
  return entries;
}

// Removes a link itself (a junction, a symbolic link), never what it points to.
bool remove_link(const std::filesystem::path& path, DWORD attributes) {
  const std::wstring wide = path.wstring();
  return (attributes & FILE_ATTRIBUTE_DIRECTORY) ? ::RemoveDirectoryW(wide.c_str()) != FALSE
                                                 : ::DeleteFileW(wide.c_str()) != FALSE;
}

// Below a folder that is already protected: links are removed, never followed; every entry keeps
// only what it inherits from the folder; an entry an ordinary user owns is taken over and (at its
// top) renamed aside, because what it holds did not come from an administrator.
std::string secure_children(const std::filesystem::path& dir, const std::wstring& suffix,
                            bool untrusted_above, std::vector<std::string>& notes, int depth) {
  if (depth > 64) return "folders nested too deep under " + path_text(dir);
  std::string error;
  auto entries = list_folder(dir, error);
  if (!entries) return error;
  ACL inherited_only{};
  ::InitializeAcl(&inherited_only, sizeof(ACL), ACL_REVISION);
  DataDirDescriptor wanted;
  for (const auto& entry : *entries) {
    std::filesystem::path path = dir / entry.name;
    if (entry.attributes & FILE_ATTRIBUTE_REPARSE_POINT) {
      if (!remove_link(path, entry.attributes)) {
        return "cannot remove the link " + path_text(path) + ": " + last_error_text();
      }
      notes.push_back("removed the link " + path_text(path) + " (links are not followed)");
      continue;
    }
    bool trusted = !untrusted_above;
    if (trusted) {
      auto owner = owner_is_trusted(path, error);
      if (!owner) return error;
      trusted = *owner;
    }
    SECURITY_INFORMATION what = DACL_SECURITY_INFORMATION | UNPROTECTED_DACL_SECURITY_INFORMATION;
    if (!trusted) what |= OWNER_SECURITY_INFORMATION;
    std::wstring wide = path.wstring();
    const DWORD rc = ::SetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT, what, wanted.owner(),
                                             nullptr, &inherited_only, nullptr);
    if (rc != ERROR_SUCCESS) return "cannot secure " + path_text(path) + ": " + error_text(rc);
    if (!trusted && !untrusted_above) {
      std::filesystem::path aside = path;
      aside += suffix;
      if (!::MoveFileExW(wide.c_str(), aside.wstring().c_str(), 0)) {
        return "cannot move " + path_text(path) + " aside: " + last_error_text();
      }
      notes.push_back(path_text(path) + " was not created by an administrator: renamed to " +
                      path_text(aside) + " and not used");
      path = aside;
    }
    if (entry.attributes & FILE_ATTRIBUTE_DIRECTORY) {
      if (auto inner = secure_children(path, suffix, !trusted, notes, depth + 1); !inner.empty()) {
        return inner;
      }
    }
  }
  return {};
}

}  // namespace

bool file_security_kept(const std::filesystem::path& parent) {
  // A probe folder created with the data folder's descriptor: if its owner does not read back as
  // set, the file system does not keep security (FAT; upstream Wine keeps none at all).
  DataDirDescriptor wanted;
  if (!wanted.ok()) return true;
  SECURITY_ATTRIBUTES attributes = wanted.attributes();
  std::filesystem::path probe =
      parent / (L"Hangar.probe-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
                std::to_wstring(::GetTickCount64()));
  if (!::CreateDirectoryW(probe.wstring().c_str(), &attributes)) return true;  // assume kept
  std::string error;
  const auto owner = owner_is_trusted(probe, error);
  ::RemoveDirectoryW(probe.wstring().c_str());
  return !owner || *owner;
}

std::string protect_data_dir(const std::filesystem::path& dir, std::vector<std::string>* notes) {
  std::vector<std::string> ignored;
  std::vector<std::string>& out = notes ? *notes : ignored;
  DataDirDescriptor wanted;
  if (!wanted.ok()) {
    return "cannot build the data directory's security descriptor: " + last_error_text();
  }
  std::error_code ec;
  std::filesystem::create_directories(dir.parent_path(), ec);
  if (ec) return "cannot create " + path_text(dir.parent_path()) + ": " + ec.message();
  SECURITY_ATTRIBUTES attributes = wanted.attributes();
  const std::wstring path = dir.wstring();
  const DWORD found = ::GetFileAttributesW(path.c_str());
  if (found == INVALID_FILE_ATTRIBUTES) {
    // New: protected from its first moment, no window in which another user can add anything.
    if (!::CreateDirectoryW(path.c_str(), &attributes)) {
      return "cannot create " + path_text(dir) + ": " + last_error_text();
    }
    return {};
  }
  const bool kept = file_security_kept(dir.parent_path());
  std::string aside_reason;
  if (found & FILE_ATTRIBUTE_REPARSE_POINT) {
    aside_reason = "it is a link (junction or symbolic link)";
  } else if (!(found & FILE_ATTRIBUTE_DIRECTORY)) {
    aside_reason = "it is a file";
  } else if (kept) {
    std::string error;
    const auto owner = owner_is_trusted(dir, error);
    if (!owner) return error;
    // ProgramData lets every user create folders: one that a user made could be swapped for a
    // link while it is secured, and everything in it came from that user.
    if (!*owner) aside_reason = "it was not created by an administrator";
  }
  if (!aside_reason.empty()) {
    std::filesystem::path aside = dir;
    aside += aside_suffix();
    if (!::MoveFileExW(path.c_str(), aside.wstring().c_str(), 0)) {
      return "cannot move " + path_text(dir) + " aside (" + aside_reason +
             "): " + last_error_text();
    }
    out.push_back(path_text(dir) + " was moved to " + path_text(aside) + " because " +
                  aside_reason +
                  "; a new protected folder takes its place (copy back only what "
                  "you trust)");
    if (!::CreateDirectoryW(path.c_str(), &attributes)) {
      return "cannot create " + path_text(dir) + ": " + last_error_text();
    }
    return {};
  }
  // Owner too, and the protected DACL, which Windows propagates to everything that inherits.
  std::wstring writable = path;
  const DWORD rc = ::SetNamedSecurityInfoW(
      writable.data(), SE_FILE_OBJECT,
      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
      wanted.owner(), nullptr, wanted.dacl(), nullptr);
  if (rc != ERROR_SUCCESS) return "cannot secure " + path_text(dir) + ": " + error_text(rc);
  if (!kept) {
    out.push_back("the file system keeps no file security (Wine, FAT): what is inside " +
                  path_text(dir) + " was not checked");
    return {};
  }
  return secure_children(dir, aside_suffix(), false, out, 0);
}

std::string remove_tree(const std::filesystem::path& dir) {
  const std::wstring path = dir.wstring();
  const DWORD found = ::GetFileAttributesW(path.c_str());
  if (found == INVALID_FILE_ATTRIBUTES) return {};
  if ((found & FILE_ATTRIBUTE_REPARSE_POINT) || !(found & FILE_ATTRIBUTE_DIRECTORY)) {
    // A link in the data folder's place: remove the link, never what it points to.
    if (found & FILE_ATTRIBUTE_READONLY) ::SetFileAttributesW(path.c_str(), FILE_ATTRIBUTE_NORMAL);
    return remove_link(dir, found) ? std::string() : last_error_text();
  }
  std::string error;
  auto entries = list_folder(dir, error);
  if (!entries) return error;
  for (const auto& entry : *entries) {
    if (auto inner = remove_tree(dir / entry.name); !inner.empty()) return inner;
  }
  if (!::RemoveDirectoryW(path.c_str())) {
    return "cannot remove " + path_text(dir) + ": " + last_error_text();
  }
  return {};
}

std::string security_of(const std::filesystem::path& path, std::string& error) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD rc = ::GetNamedSecurityInfoW(path.wstring().c_str(), SE_FILE_OBJECT,
                                           OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                                           nullptr, nullptr, nullptr, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    error = "cannot read the security of " + path.string() + ": " + error_text(rc);
    return {};
  }
  wchar_t* text = nullptr;
  const BOOL converted = ::ConvertSecurityDescriptorToStringSecurityDescriptorW(
      descriptor, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &text,
      nullptr);
  ::LocalFree(descriptor);
  if (!converted) {
    error = "cannot describe the security of " + path.string() + ": " + last_error_text();
    return {};
  }
  std::string out = to_utf8(text);
  ::LocalFree(text);
  return out;
}

bool is_protected_data_dir_security(const std::string& sddl) {
  // The owner may change the DACL: only SYSTEM or Administrators.
  if (sddl.rfind("O:BA", 0) != 0 && sddl.rfind("O:SY", 0) != 0) return false;
  const std::size_t d = sddl.find("D:");
  if (d == std::string::npos) return false;
  const std::size_t first_ace = sddl.find('(', d);
  const std::string flags =
      sddl.substr(d + 2, first_ace == std::string::npos ? std::string::npos : first_ace - d - 2);
  if (flags.find('P') == std::string::npos) return false;  // inherits from ProgramData
  bool system = false;
  bool administrators = false;
  for (std::size_t open = first_ace; open != std::string::npos; open = sddl.find('(', open + 1)) {
    const std::size_t close = sddl.find(')', open);
    if (close == std::string::npos) return false;
    const std::string ace = sddl.substr(open + 1, close - open - 1);
    const bool full = ace.rfind("A;OICI;FA;;;", 0) == 0 || ace.rfind("A;OICI;0x1f01ff;;;", 0) == 0;
    const std::string trustee = ace.substr(ace.rfind(';') + 1);
    if (full && trustee == "SY") {
      system = true;
    } else if (full && trustee == "BA") {
      administrators = true;
    } else {
      return false;  // anyone else, or any other kind of entry
    }
  }
  return system && administrators;
}

int run_setup(const std::vector<std::string>& args) {
  auto parsed = parse_setup_args(args);
  if (!parsed) return 2;
  if (parsed->verify) return verify(*parsed);
  if (parsed->uninstall) return uninstall(*parsed);
  return install(*parsed);
}

}  // namespace hangar::service::win
