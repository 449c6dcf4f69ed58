// Text helpers of the CSV reader (csv_cells.h).
#include "csv_cells.h"

#include <algorithm>

#include "hangar/core/principal_name.h"

namespace hangar::core::csv_cells {

// The one trim of a value (principal_name.h): the Assigned User and Group Tag cells are cut as
// `--user` and `--group-tag` are.
std::string trim(std::string_view text) { return std::string(trim_blanks(text)); }

bool blank_text(std::string_view text) { return std::all_of(text.begin(), text.end(), is_blank); }

std::string fold_header(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(c);
  }
  return out;
}

std::string quote_name(std::string_view name) {
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    out.push_back(c < 0x20 || c == 0x7F ? '?' : name[i]);
  }
  if (name.size() > 40) out += "...";
  out += "'";
  return out;
}

std::optional<CsvColumn> column_for(std::string_view header_cell) {
  const std::string folded = fold_header(header_cell);
  for (const auto& alias : kAliases) {
    if (alias.folded == folded) return alias.column;
  }
  return std::nullopt;
}

Error reader_error(std::string code, const std::string& source, std::uint64_t line,
                   const std::string& message) {
  std::string where = source;
  if (line != 0) where += ":" + std::to_string(line);
  return make_error(std::move(code), where + ": " + message);
}

std::string separator_name(char separator) {
  switch (separator) {
    case ',':
      return "comma";
    case ';':
      return "semicolon";
    case '\t':
      return "tab";
    default:
      return std::string("'") + separator + "'";
  }
}

std::vector<std::string> split_cells(std::string_view text, char separator, std::size_t max_cells) {
  std::vector<std::string> cells;
  std::string cell;
  std::size_t i = 0;
  while (cells.size() < max_cells) {
    cell.clear();
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell.push_back(text[i++]);
      }
    }
    while (i < text.size() && text[i] != separator) cell.push_back(text[i++]);
    cells.push_back(cell);
    if (i >= text.size()) break;
    ++i;  // the separator
  }
  return cells;
}

bool strip_wrapping_quotes(std::string& cell) {
  bool stripped = false;
  for (;;) {
    std::size_t begin = 0;
    std::size_t end = cell.size();
    while (begin < end && is_blank(cell[begin])) ++begin;
    while (end > begin && is_blank(cell[end - 1])) --end;
    if (end - begin < 2 || cell[begin] != '"' || cell[end - 1] != '"') return stripped;
    cell = cell.substr(begin + 1, end - begin - 2);
    stripped = true;
  }
}

bool is_header_candidate(std::string_view line) {
  const std::string text = trim(line);
  if (text.rfind("#TYPE", 0) == 0) return false;
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return !is_blank(c) && c != ',' && c != ';' && c != '"'; });
}

std::optional<char> separator_line(std::string_view line) {
  const std::string text = trim(line);
  if (text.size() < 4 || text.size() > 5) return std::nullopt;
  if (fold_header(text.substr(0, 4)) != "sep=") return std::nullopt;
  if (text.size() == 4) {  // "sep=" and a tab, which trim() took
    return line.find('\t') != std::string_view::npos ? std::optional<char>('\t') : std::nullopt;
  }
  const char separator = text[4];
  if (separator == '"') return std::nullopt;
  return separator;
}

}  // namespace hangar::core::csv_cells
