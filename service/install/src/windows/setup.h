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

// Gives `dir` kDataDirSecurity, creating it with that descriptor if it does not exist. A folder
// an ordinary user could have prepared (ProgramData lets every user create one) is not trusted:
// a data folder that is a link, or not owned by SYSTEM or Administrators, is moved aside and a new
// one created; inside, links are removed (never followed), every entry is reset to what it
// inherits, and an entry an ordinary user owns is taken over and renamed aside unused. `notes`
// gets a line for each such change. Empty on success, else what failed.
std::string protect_data_dir(const std::filesystem::path& dir,
                             std::vector<std::string>* notes = nullptr);

// Whether files created in `parent` keep the security they are given (not on FAT, nor under
// upstream Wine, which keeps none).
bool file_security_kept(const std::filesystem::path& parent);

// Deletes `dir` and everything in it without following links: a junction inside (or in its
// place) is removed itself, never what it points to. Empty on success, else what failed.
std::string remove_tree(const std::filesystem::path& dir);

// The owner and DACL of `path` as SDDL; empty with `error` set when they cannot be read.
std::string security_of(const std::filesystem::path& path, std::string& error);

// True when `sddl` (as security_of() returns it) is owned by SYSTEM or Administrators and grants
// access to them only, through a protected DACL.
bool is_protected_data_dir_security(const std::string& sddl);

// hangard setup [--name NAME] [--data-dir DIR]           (install / upgrade)
// hangard setup --uninstall [--remove-data] [--data-dir DIR]
// hangard setup --verify [--name NAME] [--data-dir DIR]  (prints each check; 1 if one fails)
int run_setup(const std::vector<std::string>& args);

}  // namespace hangar::service::win
