// Hash files as Excel saves them, built byte for byte: its CSV in Swedish, German and English
// locales, "CSV UTF-8", "Unicode Text" and "Text (Tab delimited)"; serials it turned into numbers;
// rows it kept in one cell, quotes it doubled, headers pasted twice, cells cut at its limits.
//
// How Excel writes (Microsoft's documentation of its text formats): each cell as it is displayed;
// columns separated by the locale's list separator (';' where the decimal separator is ',') in
// "CSV", by tabs in "Text" and "Unicode Text"; a cell that holds the separator, a quote or a line
// break is put in quotes, its quotes doubled (in the tab formats a cell with a comma too); every
// line ends with CRLF; "CSV" is in the ANSI code page (1252 in western Europe), "CSV UTF-8" has a
// BOM, "Unicode Text" is UTF-16LE with a BOM.
#include <gtest/gtest.h>

#include <algorithm>

#include "excel_test_support.h"
#include "hangar/intake/spreadsheet.h"

namespace hangar::core {
namespace {

using namespace excel_testing;

// The diagnostics of one severity, as text.
std::vector<std::string> of_severity(const std::vector<Diagnostic>& diagnostics,
                                     Severity severity) {
  std::vector<std::string> texts;
  for (const auto& d : diagnostics) {
    if (d.severity == severity) texts.push_back(d.to_string());
  }
  return texts;
}

TEST(ExcelFiles, SwedishCsvHasSemicolonsWindows1252AndSerialsTurnedIntoNumbers) {
  const std::string h1 = fake_hash("165207713570");
  const std::string h2 = fake_hash("016520771357");
  const std::string h3 = fake_hash("PF3ABC12");
  const std::string bytes = cp1252(
      "Device Serial Number;Windows Product ID;Hardware Hash;Group Tag\r\n"
      "1,65208E+11;;" +
      h1 +
      ";Lab Goteborg\r\n"
      "16520771357;;" +
      h2 +
      ";Lab Goteborg\r\n"
      "PF3ABC12;;" +
      h3 + ";Lab Malm\xC3\xB6\r\n");
  ASSERT_NE(bytes.find(";Lab Malm\xF6\r\n"), std::string::npos);  // one byte for the o-umlaut

  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->separator(), ';');
  EXPECT_FALSE(reader->one_cell_rows());
  EXPECT_EQ(reader->shape(), CsvShape::kAutopilotInfo);
  auto checked = check(*reader);
  EXPECT_EQ(reader->encoding(), TextEncoding::kWindows1252);
  EXPECT_TRUE(checked.reader_diagnostics.empty());
  ASSERT_EQ(checked.records.size(), 3U);
  EXPECT_EQ(checked.records[0].device.serial_number, "1,65208E+11");
  EXPECT_EQ(checked.records[2].device.group_tag, "Lab Malm\xC3\xB6");

  // The serial inside each hash is the real one: the rows get it, each with a warning.
  const Validator& v = checked.validator;
  ASSERT_EQ(v.size(), 3U);
  EXPECT_EQ(v.result(0).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(0).serial_number, "165207713570");
  EXPECT_EQ(v.serial_in_file(0), "1,65208E+11");
  EXPECT_EQ(v.result(1).serial_number, "016520771357");
  EXPECT_EQ(v.serial_in_file(1), "16520771357");
  EXPECT_EQ(v.result(2).serial_number, "PF3ABC12");
  EXPECT_FALSE(v.result(2).serial_replaced);
  // The tag, decoded right, is refused all the same: the portal's ANSI upload file, which export
  // and merge write, cannot carry it, and import refuses it (black-box round 9).
  EXPECT_EQ(v.result(2).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(2).reason,
            "the Group Tag \"Lab Malm\xC3\xB6\" has a non-ASCII character at position 9 (the "
            "portal accepts ANSI/ASCII only and would corrupt it)");
  const auto warnings = of_severity(v.diagnostics(), Severity::kWarning);
  ASSERT_EQ(warnings.size(), 2U);
  EXPECT_EQ(warnings[0],
            "test.csv:2: warning: Device Serial Number: Excel turned serial 165207713570 into "
            "1,65208E+11 (scientific notation); using the serial from the hardware hash");
  EXPECT_EQ(warnings[1],
            "test.csv:3: warning: Device Serial Number: Excel turned serial 016520771357 into "
            "16520771357 (it read the serial as a number and dropped its leading zeros); using "
            "the serial from the hardware hash");
  DeviceRecord kept = checked.records[0].device;
  v.apply_corrections(0, kept);
  EXPECT_EQ(kept.serial_number, "165207713570");

  // --strict: the same rows are refused, the one Excel left alone is not (for its serial).
  ValidationOptions strict;
  strict.strict_serials = true;
  auto again = reader_for(bytes);
  ASSERT_TRUE(again.ok());
  auto refused = check(*again, strict);
  const auto results = all_results(refused.validator);
  EXPECT_EQ(results[0].verdict, Verdict::kInvalid);
  EXPECT_EQ(results[0].reason,
            "Excel turned serial 165207713570 into 1,65208E+11 (scientific notation); refused "
            "(--strict): put the serial back in the file, or leave out --strict to use the "
            "serial from the hardware hash");
  EXPECT_EQ(results[0].serial_number, "1,65208E+11");
  EXPECT_EQ(results[1].verdict, Verdict::kInvalid);
  EXPECT_EQ(results[2].reason.find("refused (--strict)"), std::string::npos) << results[2].reason;
}

TEST(ExcelFiles, GermanCsvUtf8HasABomSemicolonsAndNumberFormats) {
  // "CSV UTF-8" in a German locale; the serial column was formatted as Number (two decimals,
  // thousands separator '.') to get rid of the scientific notation.
  const std::string bytes = csv_utf8(
      "Device Serial Number;Windows Product ID;Hardware Hash;Group Tag\r\n"
      "165.207.713.570,00;;" +
      fake_hash("165207713570") +
      ";B\xC3\xBCro\r\n"
      "1,23457E+17;;" +
      fake_hash("123456789012345678") +
      ";B\xC3\xBCro\r\n"
      "12345678901234500,00;;" +
      fake_hash("12345678901234567") + ";B\xC3\xBCro\r\n");
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->separator(), ';');
  auto checked = check(*reader);
  EXPECT_EQ(reader->encoding(), TextEncoding::kUtf8Bom);
  ASSERT_EQ(checked.records.size(), 3U);
  EXPECT_EQ(checked.records[0].device.group_tag, "B\xC3\xBCro");
  const auto results = all_results(checked.validator);
  EXPECT_EQ(results[0].serial_number, "165207713570");
  EXPECT_EQ(results[1].serial_number, "123456789012345678");
  EXPECT_EQ(results[2].serial_number, "12345678901234567");
  // Decoded right, and refused all the same: the portal's ANSI upload file cannot carry it.
  for (const auto& r : results) {
    EXPECT_EQ(r.verdict, Verdict::kInvalid) << r.reason;
    EXPECT_NE(r.reason.find("the Group Tag \"B\xC3\xBCro\" has a non-ASCII character"),
              std::string::npos)
        << r.reason;
  }
  std::vector<Diagnostic> d;
  for (const auto& each : checked.validator.diagnostics()) {
    if (each.severity == Severity::kWarning) d.push_back(each);
  }
  ASSERT_EQ(d.size(), 3U);
  EXPECT_NE(d[0].message.find("into 165.207.713.570,00 (it read the serial as a number and "
                              "wrote it with decimals or thousands separators)"),
            std::string::npos)
      << d[0].message;
  EXPECT_NE(d[1].message.find("(scientific notation)"), std::string::npos) << d[1].message;
  EXPECT_NE(d[2].message.find("decimals"), std::string::npos) << d[2].message;
}

TEST(ExcelFiles, UnicodeTextIsUtf16LeWithTabsAndQuotesCellsWithCommas) {
  const std::string text =
      "Device Serial Number\tWindows Product ID\tHardware Hash\tGroup Tag\tAssigned User\r\n"
      "1.65208E+11\t\t" +
      fake_hash("165207713570") +
      "\t\"Lab, floor 2\"\tann@contoso.com\r\n"
      "PF3ABC12\t\t" +
      fake_hash("PF3ABC12") + "\t\"Lab, floor 2\"\t\r\n";
  const std::string bytes = unicode_text(text);
  ASSERT_EQ(bytes.substr(0, 6), std::string("\xFF\xFE"
                                            "D\0e\0",
                                            6));
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->encoding(), TextEncoding::kUtf16Le);
  EXPECT_EQ(reader->separator(), '\t');
  EXPECT_EQ(reader->shape(), CsvShape::kPortal);
  auto checked = check(*reader);
  EXPECT_TRUE(checked.reader_diagnostics.empty());
  ASSERT_EQ(checked.records.size(), 2U);
  EXPECT_EQ(checked.records[0].device.group_tag, "Lab, floor 2");
  EXPECT_EQ(checked.records[0].device.assigned_user, "ann@contoso.com");
  EXPECT_TRUE(checked.records[1].device.assigned_user.empty());
  EXPECT_EQ(checked.validator.result(0).serial_number, "165207713570");
  // Read whole, and refused: the portal's format has no quoting, so no upload file could carry
  // the comma.
  EXPECT_EQ(checked.validator.summary().valid, 0U);
  EXPECT_NE(checked.validator.result(1).reason.find("contains a comma"), std::string::npos)
      << checked.validator.result(1).reason;
}

TEST(ExcelFiles, EnglishCsvQuotesTheNumberFormatsCommas) {
  const std::string bytes = cp1252(
      "Device Serial Number,Windows Product ID,Hardware Hash\r\n"
      "\"165,207,713,570.00\",," +
      fake_hash("165207713570") +
      "\r\n"
      "1.65208E+10,," +
      fake_hash("016520771357") + "\r\n");
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->separator(), ',');
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 2U);
  EXPECT_EQ(checked.records[0].device.serial_number, "165,207,713,570.00");
  EXPECT_EQ(checked.validator.result(0).serial_number, "165207713570");
  EXPECT_EQ(checked.validator.result(1).serial_number, "016520771357");
  EXPECT_EQ(checked.validator.summary().valid, 2U);
}

TEST(ExcelFiles, TextTabDelimitedIsWindows1252WithTabs) {
  const std::string bytes = cp1252(
      "Manufacturer\tModel\tSerial Number\tHardware Hash\r\n"
      "Contoso\tLaptop 7\t16520771357\t" +
      fake_hash("016520771357") + "\r\n");
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->separator(), '\t');
  EXPECT_EQ(reader->shape(), CsvShape::kMmdSelf);
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 1U);
  EXPECT_EQ(checked.records[0].device.manufacturer, "Contoso");
  EXPECT_EQ(checked.validator.result(0).serial_number, "016520771357");
}

// The separator comes from the header line in every encoding the reader knows, never from the
// data: here the hash rows hold no separator the header does not.
TEST(ExcelFiles, EverySeparatorInEveryEncoding) {
  const std::string h1 = fake_hash("S1");
  const std::string h2 = fake_hash("S2");
  for (char separator : {',', ';', '\t'}) {
    const std::string sep(1, separator);
    const std::string text = "Device Serial Number" + sep + "Windows Product ID" + sep +
                             "Hardware Hash" + sep + "Group Tag\r\nS1" + sep + sep + h1 + sep +
                             "Caf\xC3\xA9\r\nS2" + sep + sep + h2 + sep + "Caf\xC3\xA9\r\n";
    const std::vector<std::pair<std::string, TextEncoding>> files{
        {text, TextEncoding::kUtf8},
        {csv_utf8(text), TextEncoding::kUtf8Bom},
        {to_utf16(text, true, true), TextEncoding::kUtf16Le},
        {to_utf16(text, true, false), TextEncoding::kUtf16Le},
        {to_utf16(text, false, true), TextEncoding::kUtf16Be},
        {cp1252(text), TextEncoding::kWindows1252},
    };
    for (const auto& [bytes, encoding] : files) {
      // Chunks small enough to split the header line, and code units, between reads.
      for (std::size_t chunk : {std::size_t{7}, std::size_t{64 * 1024}}) {
        CsvReaderOptions options;
        options.read_chunk_bytes = chunk;
        auto reader = reader_for(bytes, options);
        const std::string what = separator_name_for_test(separator) + " " +
                                 std::string(encoding_name(encoding)) + " chunk " +
                                 std::to_string(chunk);
        ASSERT_TRUE(reader.ok()) << what << ": " << reader.error().message;
        EXPECT_EQ(reader->separator(), separator) << what;
        auto records = read_all(*reader);
        EXPECT_EQ(reader->encoding(), encoding) << what;
        ASSERT_EQ(records.size(), 2U) << what;
        EXPECT_EQ(records[1].device.serial_number, "S2") << what;
        EXPECT_EQ(records[1].device.group_tag, "Caf\xC3\xA9") << what;
        EXPECT_EQ(records[1].device.source_line, 3U) << what;
        EXPECT_EQ(encode_base64(records[1].device.hardware_hash), h2) << what;
        EXPECT_TRUE(reader->diagnostics().empty()) << what;
      }
    }
  }
}

TEST(ExcelFiles, SeparatorLineNamesTheSeparator) {
  auto reader = reader_for(
      "sep=;\r\n"
      "Device Serial Number;Windows Product ID;Hardware Hash\r\n"
      "S1;;" +
      fake_hash("S1") + "\r\n");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->separator(), ';');
  EXPECT_EQ(reader->header_line(), 2U);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.source_line, 3U);
  EXPECT_TRUE(reader->diagnostics().empty());

  // A "sep=" that names another separator than the header's wins, as in Excel.
  auto named = reader_for("sep=|\nManufacturer|Model|Serial Number\nC|M|S9\n");
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->separator(), '|');
  auto rows = read_all(*named);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].device.serial_number, "S9");
}

}  // namespace
}  // namespace hangar::core
