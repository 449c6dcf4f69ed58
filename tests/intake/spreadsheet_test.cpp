// Tests for spreadsheet.h: which serials are Excel's renderings of the serial inside a hash, and
// which are another device's.
#include <gtest/gtest.h>

#include "hangar/intake/spreadsheet.h"

namespace hangar::core {
namespace {

std::optional<SerialDamage> damage(std::string_view true_serial, std::string_view file_serial) {
  return excel_serial_damage(true_serial, file_serial);
}

TEST(ExcelSerial, GeneralFormatScientificNotation) {
  // The example, as Excel writes it in English and in Swedish, German or French.
  EXPECT_EQ(damage("165207713570", "1.65208E+11"), SerialDamage::kScientificNotation);
  EXPECT_EQ(damage("165207713570", "1,65208E+11"), SerialDamage::kScientificNotation);
  // A narrower column shows fewer digits; the Scientific format keeps trailing zeros.
  EXPECT_EQ(damage("165207713570", "1.7E+11"), SerialDamage::kScientificNotation);
  EXPECT_EQ(damage("165207713570", "1.65E+11"), SerialDamage::kScientificNotation);
  EXPECT_EQ(damage("220", "2.20E+02"), SerialDamage::kScientificNotation);
  // Rounded half up, with the carry into the exponent.
  EXPECT_EQ(damage("123456789012", "1.23457E+11"), SerialDamage::kScientificNotation);
  EXPECT_EQ(damage("999999999999", "1E+12"), SerialDamage::kScientificNotation);
  EXPECT_EQ(damage("100000000000", "1E+11"), SerialDamage::kScientificNotation);
  // Leading zeros go first: 016520771357 is the number 16520771357.
  EXPECT_EQ(damage("016520771357", "1.65208E+10"), SerialDamage::kScientificNotation);
  // Beyond 15 digits Excel stores zeros, and rounds what it shows from those.
  EXPECT_EQ(damage("123456789012345678", "1.23457E+17"), SerialDamage::kScientificNotation);
  // A serial that itself looks like scientific notation: Excel's "22E1" -> 2.20E+02.
  EXPECT_EQ(damage("22E1", "2.20E+02"), SerialDamage::kScientificNotation);
}

TEST(ExcelSerial, ScientificNotationOfAnotherNumberIsNotExcels) {
  EXPECT_FALSE(damage("165207713570", "1.65207E+11"));  // rounded down: not Excel's rounding
  EXPECT_FALSE(damage("165207713570", "1.65208E+12"));  // another magnitude
  EXPECT_FALSE(damage("165297713570", "1.65208E+11"));
  EXPECT_FALSE(damage("PF3ABC12", "1.65208E+11"));      // a serial Excel keeps as text
  EXPECT_FALSE(damage("165207713570", "16.5208E+10"));  // not how Excel writes it
}

TEST(ExcelSerial, NumberFormsOfTheSameDigits) {
  EXPECT_EQ(damage("016520771357", "16520771357"), SerialDamage::kLeadingZerosDropped);
  EXPECT_EQ(damage("0000123", "123"), SerialDamage::kLeadingZerosDropped);
  EXPECT_EQ(damage("000", "0"), SerialDamage::kLeadingZerosDropped);
  EXPECT_EQ(damage("12345678901234567", "12345678901234500"), SerialDamage::kDigitsPastFifteen);
  EXPECT_EQ(damage("0012345678901234567", "12345678901234500"), SerialDamage::kDigitsPastFifteen);
  // The Number format (two decimals by default), with the locale's separators.
  EXPECT_EQ(damage("165207713570", "165207713570.00"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("165207713570", "165207713570,00"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("165207713570", "165,207,713,570.00"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("165207713570", "165.207.713.570,00"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("165207713570", "165 207 713 570,00"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("165207713570",
                   "165\xC2\xA0"
                   "207\xC2\xA0"
                   "713\xC2\xA0"
                   "570,00"),
            SerialDamage::kNumberFormat);  // Swedish: no-break spaces
  EXPECT_EQ(damage("165207713570", "165'207'713'570.00"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("016520771357", "16,520,771,357"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("165207713570", "165207713570.0"), SerialDamage::kNumberFormat);
  // "1,000": one separator, either kind; both readings are tried.
  EXPECT_EQ(damage("1000", "1,000"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("1", "1,000"), SerialDamage::kNumberFormat);
  EXPECT_EQ(damage("22E1", "220"), SerialDamage::kReadAsExponent);
}

TEST(ExcelSerial, OtherDifferencesAreNotExcels) {
  EXPECT_FALSE(damage("PF3ABC12", "PF3ABC13"));
  EXPECT_FALSE(damage("016520771357", "016520771357"));  // nothing happened
  EXPECT_FALSE(damage("165207713570", "165207713570"));
  EXPECT_FALSE(damage("016520771357", "16520771358"));
  EXPECT_FALSE(damage("16520771357", "016520771357"));      // zeros added, not dropped
  EXPECT_FALSE(damage("165207713570", "165207713570.50"));  // decimals that are not zeros
  EXPECT_FALSE(damage("165207713570", "16,5207,713,570"));  // groups of three or nothing
  EXPECT_FALSE(damage("165207713570", "165,207.713,570"));  // mixed group separators
  EXPECT_FALSE(damage("12345678901234567", "12345678901234567"));
  EXPECT_FALSE(damage("12345678901234567", "12345678901234560"));  // Excel cuts, never rounds
  EXPECT_FALSE(damage("0123", ""));
  EXPECT_FALSE(damage("", "123"));
  EXPECT_FALSE(damage("01-23", "123"));
  EXPECT_FALSE(damage(std::string(100, '0') + "1", "1"));  // too long to be a serial
}

TEST(ExcelSerial, MessagesAreInTheAdminsWords) {
  EXPECT_EQ(serial_damage_message(SerialDamage::kScientificNotation, "165207713570", "1.65208E+11"),
            "Excel turned serial 165207713570 into 1.65208E+11 (scientific notation)");
  EXPECT_EQ(
      serial_damage_message(SerialDamage::kLeadingZerosDropped, "016520771357", "16520771357"),
      "Excel turned serial 016520771357 into 16520771357 (it read the serial as a number and "
      "dropped its leading zeros)");
}

TEST(ExcelSerial, ScientificNotationAsExcelWritesIt) {
  EXPECT_TRUE(is_excel_scientific("1.65208E+11"));
  EXPECT_TRUE(is_excel_scientific("1,65208E+11"));
  EXPECT_TRUE(is_excel_scientific("1E+11"));
  EXPECT_TRUE(is_excel_scientific("2.20E+02"));
  EXPECT_TRUE(is_excel_scientific("1.2E+103"));
  EXPECT_FALSE(is_excel_scientific("22E1"));  // a serial, not Excel's writing
  EXPECT_FALSE(is_excel_scientific("5CG1234E12"));
  EXPECT_FALSE(is_excel_scientific("1.65208E11"));
  EXPECT_FALSE(is_excel_scientific("0.5E+11"));
  EXPECT_FALSE(is_excel_scientific("E+11"));
  EXPECT_FALSE(is_excel_scientific(""));
}

TEST(ExcelSerial, CharactersAreCountedAsExcelDoes) {
  EXPECT_EQ(excel_characters("abc"), 3U);
  EXPECT_EQ(excel_characters("G\xC3\xB6teborg"), 8U);   // one character, two bytes
  EXPECT_EQ(excel_characters("\xE2\x80\xAF"), 1U);      // three bytes
  EXPECT_EQ(excel_characters("\xF0\x9F\x98\x80"), 2U);  // a surrogate pair
}

}  // namespace
}  // namespace hangar::core
