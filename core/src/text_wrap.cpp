// Help text wrapping (text_wrap.h).
#include "hangar/core/text_wrap.h"

#include <algorithm>
#include <vector>

namespace hangar::core {

namespace {

std::size_t indent_of(std::string_view line) {
  const std::size_t indent = line.find_first_not_of(' ');
  return indent == std::string_view::npos ? line.size() : indent;
}

// The column a continuation of `line` starts at, and whether it is an option's description
// column (`body`: where the lines that continue the same text start).
struct Hang {
  std::size_t column;
  std::size_t body;
};

Hang hang_of(std::string_view line, std::size_t width) {
  const std::size_t indent = indent_of(line);
  if (line.starts_with("usage: ")) {
    // "usage: hangar [--json] import FILE...": under "[--json]".
    const std::size_t program_end = line.find(' ', 7);
    const std::size_t column =
        program_end != std::string_view::npos && program_end + 1 < width / 2 ? program_end + 1 : 7;
    return {column, column};
  }
  // "  --profile P     standard, ...": under the description, two or more spaces after the
  // option, when it starts in the left half.
  const std::size_t gap = line.find("  ", indent);
  if (gap != std::string_view::npos) {
    const std::size_t column = line.find_first_not_of(' ', gap);
    if (column != std::string_view::npos && column < width / 2) return {column, column};
  }
  return {indent + 2, indent};
}

// Where to break `text`: its last space that leaves the piece before it within `room` columns,
// else (a word wider than the room) the first space after that word; npos when there is none or
// only trailing spaces follow. `from`: the text's own indent, never a place to break.
std::size_t break_at(std::string_view text, std::size_t room, std::size_t from) {
  std::size_t cut = text.rfind(' ', room);
  while (cut != std::string_view::npos && cut > from && text[cut - 1] == ' ') --cut;
  if (cut == std::string_view::npos || cut <= from) cut = text.find(' ', std::max(room, from));
  if (cut == std::string_view::npos || text.find_first_not_of(' ', cut) == std::string_view::npos) {
    return std::string_view::npos;
  }
  return cut;
}

}  // namespace

std::string wrap_lines(std::string_view text, std::size_t width) {
  std::vector<std::string_view> lines;
  while (true) {
    const std::size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  std::string out;
  std::string carry;  // words cut off the line before, to go in front of this one's
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line(lines[i]);
    if (!carry.empty()) {
      const std::size_t indent = indent_of(line);
      line = line.substr(0, indent) + carry + " " + line.substr(indent);
      carry.clear();
    }
    if (line.size() > width) {
      const Hang hang = hang_of(line, width);
      const std::size_t cut = break_at(line, width, indent_of(line));
      if (cut != std::string::npos) {
        std::string rest = line.substr(line.find_first_not_of(' ', cut));
        // The rest goes in front of the next line when that line goes on with the same text:
        // indented as this text's body, not a new option or example, and this line not the end
        // of a sentence or a heading.
        const bool sentence_end = lines[i].ends_with(".");
        bool next_continues = false;
        if (i + 1 < lines.size() && !line.starts_with("usage: ") && !sentence_end) {
          const std::string_view next = lines[i + 1];
          const std::size_t at = indent_of(next);
          const std::string_view word = next.substr(std::min(at, next.size()));
          next_continues = !word.empty() && (at == hang.body || at == hang.column) &&
                           !word.starts_with("-") && !word.starts_with("#") &&
                           !word.starts_with("hangar");
        }
        out.append(line, 0, cut);
        if (next_continues) {
          carry = std::move(rest);
          out.push_back('\n');
          continue;
        }
        // Otherwise on lines of its own, under what it continues: a paragraph's last line goes on
        // at the paragraph's indent, a line of its own two columns in (or under its description).
        const std::size_t own = indent_of(lines[i]);
        const bool in_paragraph =
            i > 0 && !lines[i - 1].empty() && hang.body == own &&
            (indent_of(lines[i - 1]) == own || hang_of(lines[i - 1], width).body == own);
        const std::size_t column = in_paragraph ? hang.body : hang.column;
        while (column + rest.size() > width) {
          const std::size_t next_cut = break_at(rest, width - column, 0);
          if (next_cut == std::string::npos) break;
          out.push_back('\n');
          out.append(column, ' ');
          out.append(rest, 0, next_cut);
          rest.erase(0, rest.find_first_not_of(' ', next_cut));
        }
        out.push_back('\n');
        out.append(column, ' ');
        out.append(rest);
      } else {
        out.append(line);  // one word wider than the width: kept whole
      }
    } else {
      out.append(line);
    }
    if (i + 1 < lines.size()) out.push_back('\n');
  }
  return out;
}

}  // namespace hangar::core
