// `hangard setup`: the data folder's security, failure actions and the machine PATH, for the MSI.
#include "setup.h"

#include <windows.h>
// After windows.h:
#include <aclapi.h>
#include <sddl.h>

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
  if (auto error = protect_data_dir(args.data_dir); !error.empty()) {
    std::cerr << "hangard setup: " << error << "\n";
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
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) {
      std::cerr << "hangard setup: cannot remove " << dir.string() << ": " << ec.message() << "\n";
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

std::string protect_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(kDataDirSecurity, SDDL_REVISION_1,
                                                              &descriptor, nullptr)) {
    return "cannot build the data directory's security descriptor: " + last_error_text();
  }
  PSID owner = nullptr;
  PACL dacl = nullptr;
  BOOL defaulted = FALSE;
  BOOL present = FALSE;
  ::GetSecurityDescriptorOwner(descriptor, &owner, &defaulted);
  ::GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted);
  // Owner too: someone who created the folder before the install (ProgramData lets every user
  // do that) would otherwise keep the right to change its DACL back.
  std::wstring path = dir.wstring();
  const DWORD rc = ::SetNamedSecurityInfoW(
      path.data(), SE_FILE_OBJECT,
      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
      owner, nullptr, dacl, nullptr);
  ::LocalFree(descriptor);
  if (rc != ERROR_SUCCESS) return "cannot secure " + dir.string() + ": " + error_text(rc);
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
