// The `hangar list` table (see list_view.h).
#include "list_view.h"

#include <algorithm>
#include <cstdlib>

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace hangar::cli {

namespace {

#ifdef _WIN32
// The console's code page may not be UTF-8: three dots read the same everywhere.
constexpr std::string_view kEllipsis = "...";
#else
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026
#endif

constexpr std::array<std::string_view, kListColumns> kHeader{
    "SERIAL", "STATE", "PROFILE", "SINCE (UTC)", "MANUFACTURER", "MODEL", "FAILURE REASON"};

// Columns in the order they give way, and how narrow each may get.
struct Shrink {
  std::size_t column;
  std::size_t minimum;
};
constexpr std::array<Shrink, 8> kShrinkOrder{{
    {5, 6},   // model
    {4, 6},   // manufacturer
    {2, 8},   // profile
    {6, 16},  // failure reason, first to 16 columns
    {1, 11},  // state ("Registrati…")
    {6, 10},  // failure reason, then to 10
    {3, 11},  // the time loses its year ("12-02 04:07"), never its end
    {0, 16},  // serial: what `show` needs, so last (serials are rarely longer)
}};
constexpr std::size_t kTimeColumn = 3;

}  // namespace

std::string_view ellipsis() { return kEllipsis; }

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string shorten(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  const std::size_t mark = display_width(kEllipsis);
  if (width <= mark) return std::string(kEllipsis.substr(0, width));
  const std::size_t keep = width - mark;
  std::size_t columns = 0;
  std::size_t end = 0;
  // Stop before the (keep+1)th character starts, never inside a UTF-8 sequence.
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80) {
      if (columns == keep) break;
      ++columns;
    }
  }
  std::string out(text.substr(0, end));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + std::string(kEllipsis);
}

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::size_t output_columns() {
  std::size_t columns = 0;
#ifdef _WIN32
  CONSOLE_SCREEN_BUFFER_INFO info;
  const HANDLE handle = ::GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode = 0;
  if (handle != INVALID_HANDLE_VALUE && ::GetConsoleMode(handle, &mode) &&
      ::GetConsoleScreenBufferInfo(handle, &info)) {
    columns = static_cast<std::size_t>(info.srWindow.Right - info.srWindow.Left + 1);
  }
#else
  winsize size{};
  if (isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) {
    columns = size.ws_col;
  }
#endif
  if (columns == 0) return 80;
  return std::max<std::size_t>(columns, 40);
}

void print_list_table(const std::vector<ListRow>& rows, bool wide, std::size_t columns,
                      std::ostream& out) {
  bool any_reason = false;
  for (const auto& row : rows) any_reason = any_reason || !row[kListColumns - 1].empty();
  const std::size_t shown = any_reason ? kListColumns : kListColumns - 1;
  std::array<std::size_t, kListColumns> width{};
  for (std::size_t c = 0; c < shown; ++c) {
    width[c] = display_width(kHeader[c]);
    for (const auto& row : rows) width[c] = std::max(width[c], display_width(row[c]));
  }
  if (!wide) {
    const auto total = [&] {
      std::size_t sum = 2 * (shown - 1);
      for (std::size_t c = 0; c < shown; ++c) sum += width[c];
      return sum;
    };
    for (const auto& step : kShrinkOrder) {
      if (step.column >= shown) continue;
      const std::size_t sum = total();
      if (sum <= columns) break;
      const std::size_t over = sum - columns;
      const std::size_t room =
          width[step.column] > step.minimum ? width[step.column] - step.minimum : 0;
      // The time is cut whole (its year) or not at all.
      width[step.column] -= step.column == kTimeColumn ? room : std::min(over, room);
    }
  }
  const auto line = [&](const auto& cells) {
    std::string text;
    for (std::size_t c = 0; c < shown; ++c) {
      if (c > 0) text += "  ";
      std::string_view value = cells[c];
      // "2026-12-02 04:07" in 11 columns: the year goes, the day and time stay whole.
      if (c == kTimeColumn && !wide && display_width(value) > width[c] && value.size() == 16) {
        value.remove_prefix(5);
      }
      const std::string cell = wide ? std::string(value) : shorten(value, width[c]);
      text += cell;
      if (c + 1 < shown) text.append(width[c] - std::min(width[c], display_width(cell)), ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(kHeader);
  for (const auto& row : rows) line(row);
}

std::string list_count_line(std::size_t shown, std::int64_t total) {
  std::string text =
      static_cast<std::int64_t>(shown) >= total
          ? with_thousands(total)
          : with_thousands(static_cast<std::int64_t>(shown)) + " of " + with_thousands(total);
  return text + " device(s), in the order they were queued";
}

}  // namespace hangar::cli
