// Text helpers for the Windows host (see win_text.h).
#include "win_text.h"

#include <windows.h>

#include <shellapi.h>

namespace hangar::service::win {

std::string last_error_text() { return error_text(::GetLastError()); }

std::vector<std::string> command_line_args() {
  int count = 0;
  wchar_t** argv = ::CommandLineToArgvW(::GetCommandLineW(), &count);
  std::vector<std::string> args;
  if (argv == nullptr) return args;
  for (int i = 1; i < count; ++i) args.push_back(to_utf8(argv[i]));
  ::LocalFree(argv);
  return args;
}

std::wstring quote_argument(std::wstring_view arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring_view::npos) {
    return std::wstring(arg);
  }
  // Backslashes are literal unless they precede a quote; those runs are doubled, and a run at the
  // very end is doubled too because the closing quote follows it.
  std::wstring out = L"\"";
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      out.append(backslashes * 2 + 1, L'\\');
    } else {
      out.append(backslashes, L'\\');
    }
    backslashes = 0;
    out.push_back(c);
  }
  out.append(backslashes * 2, L'\\');
  out.push_back(L'"');
  return out;
}

}  // namespace hangar::service::win
