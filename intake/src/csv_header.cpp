// CsvReader, the header: which line it is, its separator, its columns and the file's shape.
#include <cstdlib>
#include <cstring>

#include "csv_cells.h"
#include "csv_reader_impl.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/intake/spreadsheet.h"

namespace hangar::core {

using namespace csv_cells;

std::optional<CsvReader::Impl::Detection> CsvReader::Impl::detect_header(
    std::string_view header_text) const {
  std::size_t best = 0;
  Detection found;
  for (char candidate : kSeparators) {
    const auto [count, serial] =
        known_columns(split_cells(header_text, candidate, options.max_fields_per_row));
    if (serial && count > best) {
      best = count;
      found.outer = found.inner = candidate;
    }
  }
  if (best > 0) return found;
  // Any outer separator isolates a quoted cell; the one that also explains the empty cells a
  // spreadsheet wrote after it ("...";;) splits the line into the most cells.
  std::size_t best_cells = 0;
  for (char outer : kSeparators) {
    const auto cells = split_cells(header_text, outer, options.max_fields_per_row);
    const bool one_cell = !cells.empty() && !blank_text(cells[0]) &&
                          std::all_of(cells.begin() + 1, cells.end(),
                                      [](const std::string& c) { return blank_text(c); });
    if (!one_cell) continue;
    for (char inner : kSeparators) {
      const auto [count, serial] =
          known_columns(split_cells(cells[0], inner, options.max_fields_per_row));
      if (serial && (count > best || (count == best && cells.size() > best_cells))) {
        best = count;
        best_cells = cells.size();
        found = Detection{outer, inner, true};
      }
    }
  }
  if (best > 0) return found;
  return std::nullopt;
}

bool CsvReader::Impl::header_line_ready() {
  while (held_scanned < held.size()) {
    std::size_t end = held_scanned;
    while (end < held.size() && held[end] != '\n' && held[end] != '\r') ++end;
    if (end == held.size()) {
      held_scanned = end;
      break;
    }
    const std::string_view candidate =
        std::string_view(held).substr(held_line_start, end - held_line_start);
    if (auto named = separator_line(candidate);
        named && !separator_from_line && first_candidate == std::string::npos) {
      separator = *named;  // "sep=;" before the header
      separator_from_line = true;
    } else if (is_header_candidate(candidate)) {
      if (first_candidate == std::string::npos) first_candidate = held_line_start;
      if (separator_from_line) {
        header_found = held_line_start;
        return true;
      }
      if (auto detection = detect_header(candidate)) {
        header_found = held_line_start;
        detection_ = *detection;
        return true;
      }
    }
    held_line_start = end + 1;
    held_scanned = end + 1;
  }
  return held.size() - std::min(held_line_start, held.size()) >= held_cap() ||
         held.size() >= kHeaderSearchBytes;
}

std::pair<std::size_t, bool> CsvReader::Impl::known_columns(const std::vector<std::string>& cells) {
  std::array<bool, kCsvColumnCount> seen{};
  std::size_t count = 0;
  for (const auto& cell : cells) {
    std::string name = cell;
    strip_wrapping_quotes(name);
    if (auto column = column_for(trim(name)); column && !seen[static_cast<std::size_t>(*column)]) {
      seen[static_cast<std::size_t>(*column)] = true;
      ++count;
    }
  }
  return {count, seen[static_cast<std::size_t>(CsvColumn::kSerialNumber)]};
}

void CsvReader::Impl::choose_separator() {
  separator_known = true;
  if (header_found == std::string::npos && !separator_from_line) {
    std::string_view last = std::string_view(held).substr(std::min(held_line_start, held.size()));
    last = last.substr(0, std::min(last.find_first_of("\r\n"), last.size()));
    if (is_header_candidate(last)) {
      if (first_candidate == std::string::npos) first_candidate = held_line_start;
      if (auto detection = detect_header(last)) {
        header_found = held_line_start;
        detection_ = *detection;
      }
    }
  }
  if (separator_from_line) {
    inner_separator = separator;
  } else {
    separator = detection_.outer;
    inner_separator = detection_.inner;
    one_cell_rows = detection_.one_cell;
  }
  header_further_down = header_found != std::string::npos && first_candidate != header_found;
  reset_parser();
}

CsvReader::Impl::HeaderMap CsvReader::Impl::map_header(const std::vector<std::string>& cells) {
  HeaderMap map;
  map.index.fill(-1);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    std::string name = cells[i];
    strip_wrapping_quotes(name);
    name = trim(name);
    const auto column = column_for(name);
    if (!column) {
      if (!name.empty()) map.unknown.push_back(quote_name(name));
    } else if (map.index[static_cast<std::size_t>(*column)] >= 0) {
      map.twice.push_back(name);
    } else {
      map.index[static_cast<std::size_t>(*column)] = static_cast<int>(i);
    }
    map.names.push_back(std::move(name));
  }
  return map;
}

void CsvReader::Impl::use_header(HeaderMap map) {
  header = std::move(map.names);
  column_index = map.index;
  last_mapped_column = *std::max_element(column_index.begin(), column_index.end());
  unnamed_column_noted.assign(header.size(), false);
}

Status CsvReader::Impl::read_header() {
  std::optional<Row> row;
  bool separator_line_skipped = false;
  std::vector<Row> before;  // data rows above the header
  std::uint64_t first_line = 0;
  while ((row = next_row())) {
    if (one_cell_rows) unpack_row(*row);
    if (blank_row(*row)) continue;
    // Export-Csv without -NoTypeInformation starts with "#TYPE System.Management...".
    if (type_line(*row)) {
      diag(row->line, "", "skipped PowerShell type line (#TYPE ...)", Severity::kWarning);
      continue;
    }
    if (separator_from_line && !separator_line_skipped &&
        fold_header(trim(row->fields[0])) == "sep=") {
      separator_line_skipped = true;
      continue;
    }
    if (first_line == 0) first_line = row->line;
    if (header_further_down &&
        map_header(row->fields).index[static_cast<std::size_t>(CsvColumn::kSerialNumber)] < 0) {
      // The separator came from a header further down (found within kHeaderSearchBytes), so
      // this ends there; were it lost anyway, the first row is refused as the header below.
      before.push_back(std::move(*row));
      continue;
    }
    break;
  }
  if (!row && !before.empty()) {
    row = std::move(before.front());
    before.clear();
  }
  if (!before.empty()) {
    diag(row->line, "",
         "the header is on line " + std::to_string(row->line) + ", below " +
             std::to_string(before.size()) +
             " row(s) of data (the sheet was sorted with its header among the data?); the rows "
             "above it are read with its columns",
         Severity::kWarning);
    for (auto it = before.rbegin(); it != before.rend(); ++it) ready.push_front(std::move(*it));
  }
  if (!first_dropped.empty() && (!row || first_dropped_line <= std::max(first_line, row->line))) {
    // A line before the header (or the header itself) was unreadable: not a hash file.
    return reader_error("csv.bad_header", source, first_dropped_line,
                        "not a hardware-hash CSV: no usable header line (" + first_dropped + ")");
  }
  if (!row) {
    if (failed) return reader_error("csv.open_failed", source, 0, "read error before the header");
    return reader_error(
        "csv.empty", source, 0,
        bytes_read == 0 ? "the file is empty" : "the file has no header line (only blank lines)");
  }
  header_line = row->line;
  HeaderMap map = map_header(row->fields);
  for (const auto& name : map.twice) {
    diag(header_line, name, "column " + quote_name(name) + " appears twice; the first one is used",
         Severity::kWarning);
  }
  const std::vector<std::string> unknown = map.unknown;
  use_header(std::move(map));
  if (column_index[static_cast<std::size_t>(CsvColumn::kSerialNumber)] < 0) {
    std::string found;
    for (std::size_t i = 0; i < header.size() && i < 8; ++i) {
      found += (i ? ", " : "") + quote_name(header[i]);
    }
    if (header.size() > 8) found += ", ...";
    return reader_error(
        "csv.bad_header", source, header_line,
        "not a hardware-hash CSV: the header has no serial number column (found " + found +
            "); expected 'Device Serial Number,Windows Product ID,Hardware Hash' "
            "(Get-WindowsAutoPilotInfo, optionally with Group Tag, Assigned User, "
            "Manufacturer name, Device model) or 'Manufacturer,Model,Serial Number[,Hardware "
            "Hash]', separated by commas, semicolons or tabs");
  }
  if (!unknown.empty()) {
    std::string names;
    for (std::size_t i = 0; i < unknown.size(); ++i) names += (i ? ", " : "") + unknown[i];
    diag(header_line, "",
         "unknown column" + std::string(unknown.size() > 1 ? "s " : " ") + names + " ignored",
         Severity::kWarning);
  }
  if (one_cell_rows) {
    diag(header_line, "",
         "each line is one cell holding a whole " + separator_name(inner_separator) +
             "-separated row: the file was opened in a spreadsheet that separates columns "
             "with a " +
             separator_name(separator) +
             " and saved again; every line was read as the row it holds",
         Severity::kWarning);
  }
  shape = classify();
  name_early_fields();
  return {};
}

CsvShape CsvReader::Impl::classify() const {
  const bool hash = has(CsvColumn::kHardwareHash);
  const bool pid = has(CsvColumn::kWindowsProductId);
  const bool make = has(CsvColumn::kManufacturer) && has(CsvColumn::kModel);
  if (hash && pid && !make) {
    constexpr std::array<std::string_view, 5> kPortal{"Device Serial Number", "Windows Product ID",
                                                      "Hardware Hash", "Group Tag",
                                                      "Assigned User"};
    const bool exact = header.size() == kPortal.size() &&
                       std::equal(header.begin(), header.end(), kPortal.begin());
    return exact ? CsvShape::kPortal : CsvShape::kAutopilotInfo;
  }
  if (hash && pid && make) return CsvShape::kAutopilotInfoPartner;
  if (hash && make) return CsvShape::kMmdSelf;
  if (!hash && make) return CsvShape::kMmdPartner;
  return CsvShape::kOther;
}

bool CsvReader::Impl::repeated_header(const Row& row) {
  const int serial = column_index[static_cast<std::size_t>(CsvColumn::kSerialNumber)];
  if (serial < 0 || static_cast<std::size_t>(serial) >= row.fields.size()) return false;
  // Cheap first: the serial cell of a header row is a column name.
  const std::string& cell = row.fields[static_cast<std::size_t>(serial)];
  if (cell.size() > 64) return false;
  std::string name = trim(cell);
  strip_wrapping_quotes(name);
  if (!column_for(trim(name))) return false;
  HeaderMap map = map_header(row.fields);
  if (map.index[static_cast<std::size_t>(CsvColumn::kSerialNumber)] < 0) return false;
  if (map.index == column_index) {
    diag(row.line, "",
         "the header line again (files pasted together in a spreadsheet?); the line is skipped",
         Severity::kWarning);
    return true;
  }
  diag(row.line, "",
       "another header line, with other columns (files pasted together in a spreadsheet?); "
       "the lines after it are read with its columns",
       Severity::kWarning);
  use_header(std::move(map));
  return true;
}

}  // namespace hangar::core
