// UTF-8 <-> UTF-16 conversion and Win32 error text, private to the named-pipe transport.
#pragma once

#include "win32.h"

#include <string>
#include <string_view>

#include "unique_handle.h"

namespace hangar::ipc::win {

inline std::wstring to_wide(std::string_view text) {
  if (text.empty()) return {};
  const int size = static_cast<int>(text.size());
  const int needed = ::MultiByteToWideChar(CP_UTF8, 0, text.data(), size, nullptr, 0);
  if (needed <= 0) return {};
  std::wstring out(static_cast<std::size_t>(needed), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, text.data(), size, out.data(), needed);
  return out;
}

inline std::string to_utf8(std::wstring_view text) {
  if (text.empty()) return {};
  const int size = static_cast<int>(text.size());
  const int needed =
      ::WideCharToMultiByte(CP_UTF8, 0, text.data(), size, nullptr, 0, nullptr, nullptr);
  if (needed <= 0) return {};
  std::string out(static_cast<std::size_t>(needed), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, text.data(), size, out.data(), needed, nullptr, nullptr);
  return out;
}

// "The pipe is being closed. (error 232)": the system's text plus the number, because the text
// alone is localized and the number is what people search for.
inline std::string error_text(DWORD code) {
  wchar_t* buffer = nullptr;
  const DWORD length = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  LocalPtr<wchar_t> owned(buffer);
  std::wstring text = length > 0 && buffer != nullptr ? std::wstring(buffer, length) : L"";
  while (!text.empty() && (text.back() == L'\r' || text.back() == L'\n' || text.back() == L' ')) {
    text.pop_back();
  }
  std::string out = text.empty() ? std::string("Win32 error") : to_utf8(text);
  return out + " (error " + std::to_string(code) + ")";
}

}  // namespace hangar::ipc::win
