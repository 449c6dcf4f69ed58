// The `hangar list` table (see list_view.h).
#include "list_view.h"

#include "hangar/core/terminal_safe.h"
#include "hangar/core/text_wrap.h"

#include <algorithm>
#include <cctype>
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

// The time without its year: "12-02 04:07".
constexpr std::size_t kTimeWithoutYear = 11;

// Columns in the order they give way, and how narrow each may get.
struct Shrink {
  std::size_t column;
  std::size_t minimum;
};
constexpr std::array<Shrink, 8> kShrinkOrder{{
    {5, 6},                 // model
    {4, 6},                 // manufacturer
    {2, 8},                 // profile
    {6, 16},                // failure reason, first to 16 columns
    {1, 11},                // state ("Registrati…")
    {6, 10},                // failure reason, then to 10
    {3, kTimeWithoutYear},  // the time loses its year ("12-02 04:07"), never its end
    {0, 16},                // serial: what `show` needs, so last (serials are rarely longer)
}};
// Once make and model have gone for the failure reason's sake, the state gives way before it.
constexpr std::array<Shrink, 8> kShrinkOrderForReason{{
    {5, 6},
    {4, 6},
    {2, 8},
    {1, 11},
    {6, 16},
    {6, 10},
    {3, kTimeWithoutYear},
    {0, 16},
}};
constexpr std::size_t kTimeColumn = 3;
constexpr std::size_t kStateColumn = 1;
// Columns of failure reason worth dropping other columns for (a reason is a sentence).
constexpr std::size_t kReasonRoom = 40;

}  // namespace

std::string_view ellipsis() { return kEllipsis; }

namespace {

// The next code point of UTF-8 `text` at `pos` (advanced past it); a stray byte is one code point.
char32_t next_code_point(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos++]);
  std::size_t more = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  char32_t cp = more == 3   ? lead & 0x07u
                : more == 2 ? lead & 0x0Fu
                : more == 1 ? lead & 0x1Fu
                            : lead;
  for (; more > 0 && pos < text.size(); --more) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if ((byte & 0xC0) != 0x80) break;
    cp = (cp << 6) | (byte & 0x3Fu);
    ++pos;
  }
  return cp;
}

// Columns a terminal gives one code point: 0 for combining marks and joiners, 2 for East Asian
// wide and full-width characters and emoji (Unicode's East Asian Width W/F), 1 otherwise.
std::size_t code_point_width(char32_t cp) {
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
      (cp >= 0x20D0 && cp <= 0x20FF)) {
    return 0;
  }
  const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x231A && cp <= 0x231B) ||
                    (cp >= 0x2329 && cp <= 0x232A) || (cp >= 0x23E9 && cp <= 0x23EC) ||
                    (cp >= 0x25FD && cp <= 0x25FE) || (cp >= 0x2614 && cp <= 0x2615) ||
                    (cp >= 0x2648 && cp <= 0x2653) || (cp >= 0x26AA && cp <= 0x26AB) ||
                    (cp >= 0x26BD && cp <= 0x26BE) || (cp >= 0x26F5 && cp <= 0x26FA) ||
                    (cp >= 0x2705 && cp <= 0x2705) || (cp >= 0x270A && cp <= 0x270B) ||
                    (cp >= 0x2753 && cp <= 0x2757) || (cp >= 0x2795 && cp <= 0x2797) ||
                    (cp >= 0x2B1B && cp <= 0x2B1C) || (cp >= 0x2E80 && cp <= 0x303E) ||
                    (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
                    (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
                    (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE10 && cp <= 0xFE19) ||
                    (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x16FE0 && cp <= 0x18AFF) ||
                    (cp >= 0x1B000 && cp <= 0x1B2FF) || (cp >= 0x1F004 && cp <= 0x1F004) ||
                    (cp >= 0x1F0CF && cp <= 0x1F0CF) || (cp >= 0x1F18E && cp <= 0x1F18E) ||
                    (cp >= 0x1F191 && cp <= 0x1F19A) || (cp >= 0x1F200 && cp <= 0x1F2FF) ||
                    (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F680 && cp <= 0x1F6FF) ||
                    (cp >= 0x1F7E0 && cp <= 0x1F7EB) || (cp >= 0x1F90C && cp <= 0x1F9FF) ||
                    (cp >= 0x1FA70 && cp <= 0x1FAFF) || (cp >= 0x20000 && cp <= 0x3FFFD);
  return wide ? 2 : 1;
}

// The longest start of `text` (from the front, or from the back) at most `width` columns wide,
// never cut inside a character.
std::string_view fitting_start(std::string_view text, std::size_t width) {
  std::size_t columns = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t next = pos;
    const std::size_t w = code_point_width(next_code_point(text, next));
    if (columns + w > width) break;
    columns += w;
    pos = next;
  }
  return text.substr(0, pos);
}

std::string_view fitting_end(std::string_view text, std::size_t width) {
  // Code point starts from the back; a character with a zero-width mark after it keeps both.
  std::size_t columns = 0;
  std::size_t start = text.size();
  while (start > 0) {
    std::size_t begin = start - 1;
    while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
    std::size_t probe = begin;
    const std::size_t w = code_point_width(next_code_point(text, probe));
    if (columns + w > width) break;
    columns += w;
    start = begin;
  }
  return text.substr(start);
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t pos = 0; pos < text.size();)
    width += code_point_width(next_code_point(text, pos));
  return width;
}

std::string shorten(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  const std::size_t mark = display_width(kEllipsis);
  if (width <= mark) return std::string(kEllipsis.substr(0, width));
  std::string out(fitting_start(text, width - mark));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + std::string(kEllipsis);
}

std::string shorten_middle(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  const std::size_t mark = display_width(kEllipsis);
  if (width <= mark) return std::string(kEllipsis.substr(0, width));
  // The end gets the larger half: serials sharing a prefix differ there.
  const std::size_t keep = width - mark;
  const std::string_view head = fitting_start(text, keep / 2);
  const std::string_view tail = fitting_end(text, keep - display_width(head));
  return std::string(head) + std::string(kEllipsis) + std::string(tail);
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

namespace {

// A word wider than the terminal (a URL in an error) cannot wrap at a blank: it is cut at the
// edge, and goes on under where the line's text starts, so the terminal never wraps it to
// column 0.
std::string break_long_line(std::string_view line, std::size_t columns) {
  if (display_width(line) <= columns) return std::string(line);
  std::size_t indent = line.find_first_not_of(' ');
  if (indent == std::string_view::npos || indent >= columns / 2) indent = 0;
  std::string out;
  std::string_view rest = line;
  std::size_t room = columns;
  while (!rest.empty()) {
    std::string_view piece = fitting_start(rest, room);
    if (piece.empty()) piece = rest.substr(0, 1);  // never stuck on a character wider than room
    if (!out.empty()) out += "\n" + std::string(indent, ' ');
    out += piece;
    rest.remove_prefix(piece.size());
    room = columns - indent;
  }
  return out;
}

}  // namespace

std::string fit_to_terminal(std::string_view text) {
#ifdef _WIN32
  DWORD mode = 0;
  const bool terminal = ::GetConsoleMode(::GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
#else
  const bool terminal = isatty(STDOUT_FILENO) != 0;
#endif
  if (!terminal) return std::string(text);
  const std::size_t columns = output_columns();
  std::string out;
  // Line by line: wrap_lines carries a cut-off rest into a following line of the same indent,
  // which suits help paragraphs, not a report's separate values.
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    const std::string wrapped = core::wrap_lines(line, columns);
    std::string_view rest = wrapped;
    while (true) {
      const std::size_t cut = rest.find('\n');
      out += break_long_line(rest.substr(0, cut), columns);
      if (cut == std::string_view::npos) break;
      out += '\n';
      rest.remove_prefix(cut + 1);
    }
    if (end == std::string_view::npos) break;
    out += '\n';
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string print_list_table(const std::vector<ListRow>& given, bool wide, std::size_t columns,
                             std::ostream& out) {
  // Measured as shown: a value from the cloud with a control character shows it escaped, 4
  // columns a byte (black-box round 13: rows ran past 80 columns, out of line).
  std::vector<ListRow> rows = given;
  for (auto& row : rows) {
    for (auto& cell : row) cell = core::one_line_safe(cell);
  }
  bool any_reason = false;
  bool one_state = !rows.empty();
  bool one_profile = !rows.empty() && !rows.front()[2].empty();
  for (const auto& row : rows) {
    any_reason = any_reason || !row[kListColumns - 1].empty();
    one_state = one_state && row[kStateColumn] == rows.front()[kStateColumn];
    one_profile = one_profile && row[2] == rows.front()[2];
  }
  std::array<bool, kListColumns> visible{};
  visible.fill(true);
  visible[kListColumns - 1] = any_reason;
  std::array<std::size_t, kListColumns> width{};
  // time_first: the time loses its year before any other column gives way.
  const auto fit = [&](bool time_first, const std::array<Shrink, 8>& order = kShrinkOrder) {
    for (std::size_t c = 0; c < kListColumns; ++c) {
      width[c] = 0;
      if (!visible[c]) continue;
      width[c] = display_width(kHeader[c]);
      for (const auto& row : rows) width[c] = std::max(width[c], display_width(row[c]));
    }
    std::size_t sum = 0;
    std::size_t count = 0;
    const auto total = [&] {
      sum = 0;
      count = 0;
      for (std::size_t c = 0; c < kListColumns; ++c) {
        if (!visible[c]) continue;
        sum += width[c];
        ++count;
      }
      return sum + 2 * (count - 1);
    };
    if (wide) return total();
    if (time_first && total() > columns && width[kTimeColumn] > kTimeWithoutYear) {
      width[kTimeColumn] = kTimeWithoutYear;
    }
    for (const auto& step : order) {
      if (!visible[step.column]) continue;
      const std::size_t now = total();
      if (now <= columns) break;
      const std::size_t over = now - columns;
      const std::size_t room =
          width[step.column] > step.minimum ? width[step.column] - step.minimum : 0;
      // The time is cut whole (its year) or not at all.
      width[step.column] -= step.column == kTimeColumn ? room : std::min(over, room);
    }
    return total();
  };
  fit(false);
  if (!wide && any_reason && width[kListColumns - 1] < kReasonRoom) {
    // The failure reason is what a list of failures is read for. Rather than cut it to a few
    // words: a state every row shares goes (the count line names it), then make and model (in
    // `show` and --wide).
    std::size_t natural = display_width(kHeader[kListColumns - 1]);
    for (const auto& row : rows) natural = std::max(natural, display_width(row[kListColumns - 1]));
    const std::size_t wanted = std::min(natural, kReasonRoom);
    if (one_state) {
      visible[kStateColumn] = false;
      fit(false);
    }
    if (width[kListColumns - 1] < wanted) {
      visible[4] = visible[5] = false;
      fit(false, kShrinkOrderForReason);
    }
    // A profile every row shares says the same on each line (black-box round 14: the cause of a
    // long pending cut to "Intun…" while "standard" stood whole on every row).
    if (width[kListColumns - 1] < wanted && one_profile) {
      visible[2] = false;
      fit(false, kShrinkOrderForReason);
    }
    if (width[kListColumns - 1] < wanted) fit(true, kShrinkOrderForReason);
  }
  std::size_t last = 0;
  for (std::size_t c = 0; c < kListColumns; ++c) {
    if (visible[c]) last = c;
  }
  const auto line = [&](const auto& cells) {
    std::string text;
    bool first = true;
    for (std::size_t c = 0; c < kListColumns; ++c) {
      if (!visible[c]) continue;
      if (!first) text += "  ";
      first = false;
      std::string_view value = cells[c];
      // "2026-12-02 04:07" in 11 columns: the year goes, the day and time stay whole.
      if (c == kTimeColumn && !wide && display_width(value) > width[c] && value.size() == 16) {
        value.remove_prefix(5);
      }
      // A serial cut keeps its end: serials sharing a long prefix differ there.
      const std::string cell = wide     ? std::string(value)
                               : c == 0 ? shorten_middle(value, width[c])
                                        : shorten(value, width[c]);
      text += cell;
      if (c != last) text.append(width[c] - std::min(width[c], display_width(cell)), ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(kHeader);
  for (const auto& row : rows) line(row);
  std::string shared;
  if (!visible[kStateColumn]) shared = "all " + rows.front()[kStateColumn];
  if (!visible[2])
    shared += (shared.empty() ? "" : ", ") + std::string("profile ") + rows.front()[2];
  return shared;
}

std::string list_count_line(std::size_t shown, std::int64_t total) {
  std::string text =
      static_cast<std::int64_t>(shown) >= total
          ? with_thousands(total)
          : with_thousands(static_cast<std::int64_t>(shown)) + " of " + with_thousands(total);
  return text + " device(s), in the order they were queued";
}

// The hand-off list: what the portal's Autopilot devices page shows, one device a line. Columns
// are sized to their content; unless `wide`, the widest give way (down to 8 columns) until a
// line fits `columns`, and then the serial (down to 10, cut in the middle, its end kept).
std::string print_handoff_table(const std::vector<std::vector<std::string>>& given, bool wide,
                                std::size_t columns, std::ostream& out) {
  std::vector<std::vector<std::string>> rows = given;  // measured as shown, as in the list
  for (auto& row : rows) {
    for (auto& cell : row) cell = core::one_line_safe(cell);
  }
  const std::vector<std::string> header{"SERIAL",  "MANUFACTURER", "MODEL", "GROUP TAG",
                                        "PROFILE", "STATE",        "USER",  "LAST CONTACTED"};
  constexpr std::size_t kUserColumn = 6;
  std::vector<bool> visible(header.size(), true);
  std::vector<std::size_t> width(header.size());
  std::size_t user_natural = 0;
  const auto total = [&] {
    std::size_t sum = 0;
    std::size_t count = 0;
    for (std::size_t c = 0; c < width.size(); ++c) {
      if (!visible[c]) continue;
      sum += width[c];
      ++count;
    }
    return sum + (count > 0 ? 2 * (count - 1) : 0);
  };
  const auto fit = [&] {
    for (std::size_t c = 0; c < header.size(); ++c) {
      width[c] = display_width(header[c]);
      for (const auto& row : rows) width[c] = std::max(width[c], display_width(row[c]));
    }
    user_natural = width[kUserColumn];
    // The user is what the hand-off list is read for (black-box round 14: "ada.love…" while
    // make and model stayed whole): the other columns give way first, widest first.
    for (const bool user_too : {false, true}) {
      while (!wide && total() > columns) {
        std::size_t widest = 0;
        for (std::size_t c = 1; c < width.size(); ++c) {
          if (!visible[c] || (c == kUserColumn && !user_too)) continue;
          if (widest == 0 || width[c] > width[widest]) widest = c;
        }
        if (widest == 0 || width[widest] <= 8) break;
        --width[widest];
      }
    }
    constexpr std::size_t kMinSerial = 10;
    while (!wide && total() > columns && width[0] > kMinSerial) --width[0];
  };
  fit();
  // Still cut: a column every row shares says the same thing on each line; it goes, and is named
  // once on the line returned (the state first: `--state ready-for-user` shares it).
  std::string shared;
  for (const std::size_t c : {std::size_t{5}, std::size_t{4}, std::size_t{3}}) {
    if (wide || rows.empty() || width[kUserColumn] >= user_natural) break;
    const bool same = std::all_of(rows.begin(), rows.end(),
                                  [&](const auto& row) { return row[c] == rows.front()[c]; });
    if (!same || rows.front()[c].empty()) continue;
    visible[c] = false;
    std::string name = header[c];
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    shared += (shared.empty() ? "" : ", ") + name + " " + rows.front()[c];
    fit();
  }
  std::size_t last = 0;
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (visible[c]) last = c;
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    bool first = true;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (!visible[c]) continue;
      if (!first) text += "  ";
      first = false;
      const std::string cell = wide     ? cells[c]
                               : c == 0 ? shorten_middle(cells[c], width[c])
                                        : shorten(cells[c], width[c]);
      text += cell;
      if (c != last) text.append(width[c] - std::min(width[c], display_width(cell)), ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return shared;
}

}  // namespace hangar::cli
