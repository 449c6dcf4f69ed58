// Text helpers for the Windows host: UTF-8 <-> UTF-16, Win32 error text, command-line quoting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/win_text.h"

namespace hangar::service::win {

using core::win::error_text;
using core::win::to_utf8;
using core::win::to_wide;

// error_text(GetLastError()), read before anything else can overwrite it.
std::string last_error_text();

// This process's arguments without the program name, from the UTF-16 command line (main()'s char
// argv is in the ANSI code page and would mangle non-ASCII paths).
std::vector<std::string> command_line_args();

// Quotes one argument so CommandLineToArgvW (and the CRT) read it back unchanged.
std::wstring quote_argument(std::wstring_view arg);

}  // namespace hangar::service::win
