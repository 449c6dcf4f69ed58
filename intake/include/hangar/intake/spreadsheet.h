// What a spreadsheet (Excel above all) does to a hash file it opened and saved again: serials read
// as numbers and written back in another form, and cells cut at its limits.
//
// Facts this rests on (public Microsoft documentation and support articles):
// - A cell that looks like a number becomes a number: leading zeros go, and only 15 significant
//   digits are kept (KB 269370: "Excel changes any digits past the fifteenth place to zeros").
// - CSV and text saves write each cell as it is displayed. The General format shows a number of
//   12 or more digits in scientific notation ("123456789012" -> "1.23457E+11"), with fewer digits
//   in a narrow column; the Scientific format keeps trailing zeros ("22E1" -> "2.20E+02"); the
//   Number format adds decimals (two by default) and optionally thousands separators. The decimal
//   and thousands separators are the locale's ("1,65208E+11" in Swedish, German, French).
// - A cell holds at most 32,767 characters; a worksheet 1,048,576 rows. Excel 7.0 and older kept
//   255 characters in a cell, and later versions still cut text to 255 characters where they keep
//   that design (strings passed from VBA, formulas linked to a closed workbook: KB 213841, 211878).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hangar::core {

inline constexpr std::size_t kExcelCellCharacters = 32767;
inline constexpr std::size_t kLegacyCellCharacters = 255;
inline constexpr std::uint64_t kExcelRows = 1048576;

// How Excel changed a serial it read as a number.
enum class SerialDamage {
  kScientificNotation,   // "165207713570" -> "1.65208E+11" (or "1,65208E+11", "1.65E+11")
  kLeadingZerosDropped,  // "016520771357" -> "16520771357"
  kDigitsPastFifteen,    // "12345678901234567" -> "12345678901234500"
  kNumberFormat,         // "165207713570" -> "165207713570.00", "165 207 713 570,00"
  kReadAsExponent,       // "22E1" -> "220": the serial itself looked like scientific notation
};

// What Excel did, in the admin's words: "scientific notation", "dropped its leading zeros"...
std::string_view describe(SerialDamage damage);

// Does `file_serial` differ from `true_serial` (the serial inside the hardware hash) only in a way
// Excel produces when it reads the serial as a number and writes it back? nullopt when it does not
// (the two are equal, or the serial belongs to another device).
std::optional<SerialDamage> excel_serial_damage(std::string_view true_serial,
                                                std::string_view file_serial);

// "Excel turned serial 165207713570 into 1.65208E+11 (scientific notation)".
std::string serial_damage_message(SerialDamage damage, std::string_view true_serial,
                                  std::string_view file_serial);

// Is `serial` a number as Excel writes it in scientific notation ("1.65208E+11", "1,65208E+11",
// "2.20E+02")? Such a serial lost its digits: no device has one.
bool is_excel_scientific(std::string_view serial);

// Characters as Excel counts them (UTF-16 code units) in UTF-8 text, for its cell limits.
std::size_t excel_characters(std::string_view utf8);

}  // namespace hangar::core
