// `hangard setup`: what the MSI cannot say in the WiX subset wixl builds, done as SYSTEM by its
// deferred custom actions: the data folder's owner and DACL, the service's failure actions, the
// install folder on the machine PATH; and on uninstall the PATH entry (and the data on request).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hangar::service::win {

// Owner Administrators; full control for SYSTEM and Administrators only, inherited by everything
// inside; nothing inherited from ProgramData (where every user may create files).
inline constexpr const wchar_t* kDataDirSecurity = L"O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

// Creates `dir` if needed and gives it kDataDirSecurity. Empty on success, else what failed.
std::string protect_data_dir(const std::filesystem::path& dir);

// The owner and DACL of `path` as SDDL; empty with `error` set when they cannot be read.
std::string security_of(const std::filesystem::path& path, std::string& error);

// True when `sddl` (as security_of() returns it) grants access to SYSTEM and Administrators only,
// through a protected DACL.
bool is_protected_data_dir_security(const std::string& sddl);

// hangard setup [--name NAME] [--data-dir DIR]           (install / upgrade)
// hangard setup --uninstall [--remove-data] [--data-dir DIR]
// hangard setup --verify [--name NAME] [--data-dir DIR]  (prints each check; 1 if one fails)
int run_setup(const std::vector<std::string>& args);

}  // namespace hangar::service::win
