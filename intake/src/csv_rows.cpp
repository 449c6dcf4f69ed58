// CsvReader, rows to records: rows a spreadsheet kept in one cell, widths, cut hashes, the record.
#include <cstdlib>
#include <cstring>

#include "csv_cells.h"
#include "csv_reader_impl.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/intake/spreadsheet.h"

namespace hangar::core {

using namespace csv_cells;

std::optional<CsvReader::Impl::Row> CsvReader::Impl::next_row() {
  while (ready.empty() && !input_done) pump();
  if (ready.empty()) return std::nullopt;
  Row row = std::move(ready.front());
  ready.pop_front();
  return row;
}

bool CsvReader::Impl::blank_row(const Row& row) {
  return std::all_of(row.fields.begin(), row.fields.end(),
                     [](const std::string& f) { return blank_text(f); });
}

bool CsvReader::Impl::type_line(const Row& row) {
  if (row.fields.empty()) return false;
  std::string_view first = row.fields[0];
  while (!first.empty() && is_blank(first.front())) first.remove_prefix(1);
  return first.substr(0, 5) == "#TYPE";
}

char CsvReader::Impl::unpack_row(Row& row) const {
  if (row.fields.empty()) return 0;
  const std::string& first = row.fields[0];
  const bool candidate = one_cell_rows ? first.find(inner_separator) != std::string::npos
                                       : first.find_first_of(",;\t") != std::string::npos;
  if (!candidate) return 0;
  for (std::size_t i = 1; i < row.fields.size(); ++i) {
    if (!blank_text(row.fields[i])) return 0;
  }
  std::vector<std::string> cells;
  char used = 0;
  if (one_cell_rows) {
    cells = split_cells(first, inner_separator, options.max_fields_per_row);
    used = cells.size() >= 2 ? inner_separator : 0;
  } else {
    const int serial = column_index[static_cast<std::size_t>(CsvColumn::kSerialNumber)];
    if (header.size() < 2 || serial < 0) return 0;
    for (char inner : kSeparators) {
      if (first.find(inner) == std::string::npos) continue;
      cells = split_cells(first, inner, options.max_fields_per_row);
      const auto filled = std::count_if(cells.begin(), cells.end(),
                                        [](const std::string& c) { return !trim(c).empty(); });
      if (static_cast<std::size_t>(serial) < cells.size() &&
          !trim(cells[static_cast<std::size_t>(serial)]).empty() && filled >= 2) {
        used = inner;
        break;
      }
    }
  }
  if (used == 0) return 0;
  row.cut_at_cell_limit =
      first.size() >= kExcelCellCharacters && excel_characters(first) == kExcelCellCharacters;
  row.fields = std::move(cells);
  return used;
}

std::string CsvReader::Impl::cell(const Row& row, CsvColumn column) const {
  const int index = column_index[static_cast<std::size_t>(column)];
  if (index < 0 || static_cast<std::size_t>(index) >= row.fields.size()) return {};
  return trim(row.fields[static_cast<std::size_t>(index)]);
}

void CsvReader::Impl::check_width(const Row& row) {
  std::size_t filled = row.fields.size();
  while (filled > 0 && blank_text(row.fields[filled - 1])) --filled;
  if (filled > header.size()) {
    diag(row.line, field_name(header.size()),
         "the line has values after the header's " + std::to_string(header.size()) +
             " columns; they are ignored",
         Severity::kWarning);
  } else if (last_mapped_column >= 0 &&
             row.fields.size() <= static_cast<std::size_t>(last_mapped_column)) {
    diag(row.line, "",
         "the line has " + std::to_string(row.fields.size()) + " fields, the header has " +
             std::to_string(header.size()),
         Severity::kWarning);
  }
  for (std::size_t i = 0; i < filled && i < header.size(); ++i) {
    if (!header[i].empty() || unnamed_column_noted[i] || blank_text(row.fields[i])) continue;
    unnamed_column_noted[i] = true;
    diag(row.line, "column " + std::to_string(i + 1),
         "the column has no name in the header but holds data (from this line on); it is "
         "ignored",
         Severity::kWarning);
  }
}

std::string CsvReader::Impl::cut_reason(const Row& row, const std::string& cell) {
  if (row.cut_at_cell_limit || row.bytes == kExcelCellCharacters) {
    return "the line was one cell, and a spreadsheet cut it at 32,767 characters (Excel's limit "
           "for a cell): the hash is incomplete; take the row from the original file";
  }
  const bool near_legacy = cell.size() >= kLegacyCellCharacters && cell.size() <= 4 * 255;
  const bool near_cell = cell.size() >= kExcelCellCharacters && cell.size() <= 4 * 32767;
  if (!near_legacy && !near_cell) return {};
  const std::size_t characters = excel_characters(cell);
  if (characters == kLegacyCellCharacters) {
    return "the cell holds exactly 255 characters: a spreadsheet cut the hash there (older "
           "Excel versions, and text Excel passes through VBA or links, keep 255 characters); "
           "take the hash from the original file";
  }
  if (characters == kExcelCellCharacters) {
    return "the cell holds exactly 32,767 characters: a spreadsheet cut the hash there "
           "(Excel's limit for a cell); take the hash from the original file";
  }
  return {};
}

std::optional<CsvRecord> CsvReader::Impl::next_record() {
  while (auto row = next_row()) {
    const char unpacked = unpack_row(*row);
    if (blank_row(*row)) continue;
    if (type_line(*row)) {
      diag(row->line, "",
           "skipped PowerShell type line (#TYPE ...) (files pasted together in a spreadsheet?)",
           Severity::kWarning);
      continue;
    }
    if (repeated_header(*row)) continue;
    if (unpacked != 0 && !one_cell_rows) {
      diag(row->line, "",
           "the line is one quoted cell holding the whole row (a spreadsheet kept it in one "
           "cell); read as the " +
               separator_name(unpacked) + "-separated row it holds",
           Severity::kWarning);
    }
    check_width(*row);
    const int hash_index = column_index[static_cast<std::size_t>(CsvColumn::kHardwareHash)];
    std::string cut;
    if (hash_index >= 0 && static_cast<std::size_t>(hash_index) < row->fields.size()) {
      cut = cut_reason(*row, row->fields[static_cast<std::size_t>(hash_index)]);
    }
    std::size_t quoted = 0;
    std::string first_quoted;
    for (std::size_t i = 0; i < row->fields.size(); ++i) {
      if (!strip_wrapping_quotes(row->fields[i])) continue;
      if (quoted++ == 0) first_quoted = field_name(i);
    }
    if (quoted > 0) {
      diag(row->line, first_quoted,
           "the value is wrapped in quotes of its own (a spreadsheet doubled the file's quotes "
           "and added more)" +
               (quoted > 1 ? " and so are " + std::to_string(quoted - 1) + " more on the line"
                           : std::string()) +
               "; read without them",
           Severity::kWarning);
    }
    CsvRecord record;
    DeviceRecord& d = record.device;
    d.serial_number = cell(*row, CsvColumn::kSerialNumber);
    d.windows_product_id = cell(*row, CsvColumn::kWindowsProductId);
    d.group_tag = cell(*row, CsvColumn::kGroupTag);
    d.assigned_user = cell(*row, CsvColumn::kAssignedUser);
    d.manufacturer = cell(*row, CsvColumn::kManufacturer);
    d.model = cell(*row, CsvColumn::kModel);
    d.source_file = source;
    d.source_line = row->line;
    if (hash_index >= 0 && static_cast<std::size_t>(hash_index) < row->fields.size()) {
      // Whitespace and line breaks inside the cell are tolerated by the base64 decoder.
      const std::string& hash_text = row->fields[static_cast<std::size_t>(hash_index)];
      if (!trim(hash_text).empty()) {
        auto bytes = decode_base64_bytes(hash_text);
        if (!bytes) {
          record.hash_error =
              cut.empty() ? bytes.error().message : cut + " (" + bytes.error().message + ")";
        } else if (cut.empty()) {
          d.hardware_hash = std::move(*bytes);
        } else if (auto parsed = parse_hardware_hash(*bytes); !parsed) {
          record.hash_error = cut + " (" + parsed.error().message + ")";
        } else {
          d.hardware_hash = std::move(*bytes);  // that long and whole after all
        }
      }
    }
    ++records;
    return record;
  }
  if (!row_limit_noted && rows_started + blank_rows == kExcelRows) {
    row_limit_noted = true;
    diag(0, "",
         "the file has exactly 1,048,576 rows, the most an Excel sheet holds: if it went "
         "through Excel, the rows after that were dropped when it was opened; take them from "
         "the original file",
         Severity::kWarning);
  }
  if (diagnostics_suppressed > 0) {
    const std::uint64_t more = diagnostics_suppressed;
    diagnostics_suppressed = 0;
    diagnostics.push_back(
        Diagnostic{source, 0, "", std::to_string(more) + " more problems in this file not listed",
                   Severity::kWarning});
  }
  return std::nullopt;
}

}  // namespace hangar::core
