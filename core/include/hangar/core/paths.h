// Per-platform defaults for the data directory, the IPC endpoint and the config file, in one place.
// Everything that uses them takes them as parameters so tests can inject unique ones.
#pragma once

#include <filesystem>
#include <string>

namespace hangar::core {

// Data directory: %ProgramData%\Hangar on Windows, /var/lib/hangar on Linux (root) or
// $XDG_STATE_HOME/hangar for an unprivileged user.
std::filesystem::path default_data_dir();

// IPC endpoint: \\.\pipe\hangar on Windows; /run/hangar/hangar.sock on Linux (root) or
// $XDG_RUNTIME_DIR/hangar/hangar.sock for an unprivileged user.
std::string default_endpoint();
// The endpoint a client (hangar, hangar-tray) talks to by default: default_endpoint(), except for
// an unprivileged user with no service of their own (no socket at their endpoint) who can reach
// the system service's socket (a member of its operators group): that one (black-box round 10:
// operators met exit 3 unless they set HANGAR_ENDPOINT).
std::string default_client_endpoint();

// Config file: <data dir>/hangar.json.
std::filesystem::path default_config_file(const std::filesystem::path& data_dir);

// Reads an environment variable; empty when unset.
std::string env(const char* name);

// UTF-8 form of a path for messages (path::string() is lossy on Windows).
std::string path_to_utf8(const std::filesystem::path& path);

}  // namespace hangar::core
