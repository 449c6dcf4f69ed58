// Whether the files hangard reads its configuration from and writes its queue and logs to could
// have been prepared or changed by another local user. A user who could plant hangar.json could
// point the authority URL at a port they listen on and receive the client secret; one who could
// plant logs/hangard.log as a link could make the service write into any file.
//
// POSIX: such a path, and every directory above it, must belong to root or the service's own
// account; the path itself may not be writable by its group or by others, nor may a directory
// above it unless that directory has the sticky bit (like /tmp, where nobody may replace what
// another user made). A data or log directory may hold nothing another user owns.
// Windows: `hangard setup` (the MSI) gives the data folder its owner and a protected DACL, and
// moves aside anything a user prepared; these checks pass there.
#pragma once

#include <filesystem>
#include <string_view>

#include "hangar/core/result.h"

namespace hangar::service {

// `what` names the path in the error ("data directory", "config file", "log folder"). The error
// (code "untrusted_path") says who owns or may write it and how to fix that.
core::Status check_trusted_path(const std::filesystem::path& path, std::string_view what);

// check_trusted_path() for a directory, and every entry directly inside it must belong to root or
// the service's account.
core::Status check_trusted_directory(const std::filesystem::path& dir, std::string_view what);

}  // namespace hangar::service
