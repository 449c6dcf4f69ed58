// Windows only: UTF-8 <-> UTF-16 at the Win32 boundary and Win32 error text, shared by the pipe
// transport, the service host and device capture (no <windows.h> here).
#pragma once

#include <string>
#include <string_view>

namespace hangar::core::win {

std::wstring to_wide(std::string_view text);
std::string to_utf8(std::wstring_view text);
// "Access is denied. (error 5)": the localized system text plus the number people search for.
std::string error_text(unsigned long code);

}  // namespace hangar::core::win
