// Text helpers of the CSV reader: header names and their aliases, trimming, separators, and
// splitting a row the way a spreadsheet does. Private to hangar_intake (src/csv_*.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/result.h"
#include "hangar/intake/csv_reader.h"

namespace hangar::core::csv_cells {

struct ColumnAlias {
  CsvColumn column;
  std::string_view folded;
};

// Header spellings seen in the wild, folded (lower case, no spaces, '_' or '-').
inline constexpr std::array<ColumnAlias, 16> kAliases{{
    {CsvColumn::kSerialNumber, "deviceserialnumber"},
    {CsvColumn::kSerialNumber, "serialnumber"},
    {CsvColumn::kSerialNumber, "serial"},
    {CsvColumn::kWindowsProductId, "windowsproductid"},
    {CsvColumn::kWindowsProductId, "productid"},
    {CsvColumn::kHardwareHash, "hardwarehash"},
    {CsvColumn::kHardwareHash, "hardwareidentifier"},
    {CsvColumn::kGroupTag, "grouptag"},
    {CsvColumn::kGroupTag, "ordertag"},
    {CsvColumn::kAssignedUser, "assigneduser"},
    {CsvColumn::kAssignedUser, "assigneduserprincipalname"},
    {CsvColumn::kManufacturer, "manufacturer"},
    {CsvColumn::kManufacturer, "manufacturername"},
    {CsvColumn::kModel, "model"},
    {CsvColumn::kModel, "devicemodel"},
    {CsvColumn::kModel, "modelname"},
}};

// Inline: the line reader asks it of every byte until a line's first non-blank one.
inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string trim(std::string_view text);

// trim(text).empty() without the copy (a hash cell is 5 KB).
bool blank_text(std::string_view text);

std::string fold_header(std::string_view name);

// A header cell quoted in a message: control characters replaced, long names cut.
std::string quote_name(std::string_view name);

std::optional<CsvColumn> column_for(std::string_view header_cell);

Error reader_error(std::string code, const std::string& source, std::uint64_t line,
                   const std::string& message);

// The separators Excel writes: ',' or ';' in its CSV formats (the locale's list separator: ';'
// where the decimal separator is ',', as in Swedish, German and French), tab in its text formats
// ("Unicode Text" is UTF-16LE with a BOM and tabs). In this order on a tie.
inline constexpr std::array<char, 3> kSeparators{',', ';', '\t'};

std::string separator_name(char separator);

// Splits one row's text at `separator` as a spreadsheet reads it: a cell that starts with a quote
// runs to the closing quote ("" inside is one quote) and whatever follows it up to the separator
// is kept; an unclosed quote runs to the end. Used for the header line before libcsv is set up,
// and for rows a spreadsheet kept whole in one cell. At most `max_cells` cells.
std::vector<std::string> split_cells(std::string_view text, char separator, std::size_t max_cells);

// Takes off quotes around the whole value that a spreadsheet added on top of the file's own
// ("""S1""" is read as "S1": Excel doubles the quotes it finds inside a cell and wraps the cell
// in another pair). True when there were any.
bool strip_wrapping_quotes(std::string& cell);

// A line that can be the header: something besides blanks, separators and quotes, and not the
// "#TYPE ..." line Export-Csv writes before it.
bool is_header_candidate(std::string_view line);

// "sep=;" as the first line names the separator (Excel honours it; scripts write it for Excel).
std::optional<char> separator_line(std::string_view line);

}  // namespace hangar::core::csv_cells
