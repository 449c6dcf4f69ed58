// Hash files after a spreadsheet edited them: rows it kept in one cell, quotes it doubled, trailing
// separators, headers pasted twice or sorted among the data, cells cut at its limits, its row
// limit, serials it turned into numbers. How Excel writes: see excel_files_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "excel_test_support.h"
#include "hangar/intake/spreadsheet.h"

namespace hangar::core {
namespace {

using namespace excel_testing;

// A comma file double-clicked where the list separator is ';' (Swedish, German, French) opens
// with each whole line in column A; saved again, the line is still in one cell.
TEST(ExcelFiles, CommaFileSavedWhereTheListSeparatorIsASemicolon) {
  const std::string h1 = fake_hash("S1");
  const std::string h2 = fake_hash("S2");
  // Get-WindowsAutoPilotInfo's file has no quotes: the cells hold no ';' or quote, so "CSV" writes
  // each line back as it was (in 1252, with CRLF).
  const std::string plain = "Device Serial Number,Windows Product ID,Hardware Hash\r\nS1,," + h1 +
                            "\r\nS2,," + h2 + "\r\n";
  auto reader = reader_for(cp1252(plain));
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->separator(), ',');
  EXPECT_FALSE(reader->one_cell_rows());
  EXPECT_EQ(read_all(*reader).size(), 2U);

  // Saved as "Unicode Text", the same cells are quoted: the tab formats quote a cell with a comma.
  const std::string quoted = "\"Device Serial Number,Windows Product ID,Hardware Hash\"\r\n\"S1,," +
                             h1 + "\"\r\n\"S2,," + h2 + "\"\r\n";
  auto unicode = reader_for(unicode_text(quoted));
  ASSERT_TRUE(unicode.ok()) << unicode.error().message;
  EXPECT_TRUE(unicode->one_cell_rows());
  EXPECT_EQ(unicode->separator(), ',');
  auto checked = check(*unicode);
  ASSERT_EQ(checked.records.size(), 2U);
  EXPECT_EQ(checked.records[1].device.serial_number, "S2");
  EXPECT_EQ(encode_base64(checked.records[1].device.hardware_hash), h2);
  EXPECT_EQ(checked.validator.summary().valid, 2U);
  ASSERT_EQ(checked.reader_diagnostics.size(), 1U);
  EXPECT_EQ(checked.reader_diagnostics[0].line, 1U);
  EXPECT_NE(checked.reader_diagnostics[0].message.find(
                "each line is one cell holding a whole comma-separated row"),
            std::string::npos)
      << checked.reader_diagnostics[0].message;

  // PowerShell's ConvertTo-Csv quotes every field. The cell then holds the line's text with those
  // quotes, and "CSV" wraps it in quotes and doubles them; a sheet one column wider than the text
  // adds a trailing ';'.
  const std::string powershell =
      "\"\"\"Device Serial Number\"\",\"\"Windows Product ID\"\",\"\"Hardware Hash\"\"\";\r\n"
      "\"\"\"S1\"\",\"\"\"\",\"\"" +
      h1 + "\"\"\";\r\n\"\"\"S2\"\",\"\"\"\",\"\"" + h2 + "\"\"\";\r\n";
  auto doubled = reader_for(cp1252(powershell));
  ASSERT_TRUE(doubled.ok()) << doubled.error().message;
  EXPECT_TRUE(doubled->one_cell_rows());
  auto rows = read_all(*doubled);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].device.serial_number, "S1");
  EXPECT_TRUE(rows[0].device.windows_product_id.empty());
  EXPECT_EQ(encode_base64(rows[0].device.hardware_hash), h1);
  EXPECT_EQ(rows[1].device.source_line, 3U);
}

TEST(ExcelFiles, OneRowKeptInOneCell) {
  const std::string h2 = fake_hash("S2");
  auto reader = reader_for(
      "Device Serial Number;Windows Product ID;Hardware Hash\r\n"
      "S1;;" +
      fake_hash("S1") + "\r\n\"S2,," + h2 + "\";;\r\n");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1].device.serial_number, "S2");
  EXPECT_EQ(encode_base64(records[1].device.hardware_hash), h2);
  const Diagnostic* d = find(reader->diagnostics(), "one quoted cell holding the whole row");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->line, 3U);
  EXPECT_EQ(d->severity, Severity::kWarning);
}

TEST(ExcelFiles, QuotesDoubledAroundValues) {
  // Cells whose text was "S1" with its quotes (a file quoted twice over): Excel writes """S1""".
  const std::string h1 = fake_hash("PF3ABC12");
  auto reader = reader_for(
      "Device Serial Number;Windows Product ID;Hardware Hash\r\n"
      "\"\"\"PF3ABC12\"\"\";\"\"\"\"\"\";\"\"\"" +
      h1 + "\"\"\"\r\n");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 1U);
  EXPECT_EQ(checked.records[0].device.serial_number, "PF3ABC12");
  EXPECT_TRUE(checked.records[0].device.windows_product_id.empty());
  EXPECT_EQ(encode_base64(checked.records[0].device.hardware_hash), h1);
  EXPECT_EQ(checked.validator.summary().valid, 1U);
  ASSERT_EQ(checked.reader_diagnostics.size(), 1U);
  EXPECT_EQ(checked.reader_diagnostics[0].to_string(),
            "test.csv:2: warning: Device Serial Number: the value is wrapped in quotes of its own "
            "(a spreadsheet doubled the file's quotes and added more) and so are 2 more on the "
            "line; read without them");
}

TEST(ExcelFiles, TrailingSeparatorsEmptyRowsAndColumns) {
  // Every row is as wide as the sheet's used range: an empty column B was inserted, column F holds
  // a note on one row, the used range reaches two rows below the data.
  const std::string bytes = cp1252(
      "Device Serial Number;;Windows Product ID;Hardware Hash;Group Tag;\r\n"
      ";;;;;\r\n"
      "S1;;;" +
      fake_hash("S1") +
      ";Lab;\r\n"
      ";;;;;\r\n"
      "S2;;;" +
      fake_hash("S2") +
      ";Lab;checked by Ann\r\n"
      ";;;;;\r\n"
      ";;;;;\r\n");
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 2U);
  EXPECT_EQ(checked.records[0].device.group_tag, "Lab");
  EXPECT_EQ(checked.records[1].device.source_line, 5U);
  EXPECT_EQ(checked.validator.summary().valid, 2U);
  ASSERT_EQ(checked.reader_diagnostics.size(), 1U);
  EXPECT_EQ(checked.reader_diagnostics[0].to_string(),
            "test.csv:5: warning: column 6: the column has no name in the header but holds data "
            "(from this line on); it is ignored");

  // Values past the header are named once per line; a line too short for the header's columns
  // too; trailing empty cells never.
  auto wide = reader_for("Manufacturer;Model;Serial Number\r\nC;M;S1;;;\r\nC;M;S2;;x\r\nC;M\r\n");
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(read_all(*wide).size(), 3U);
  ASSERT_EQ(wide->diagnostics().size(), 2U);
  EXPECT_EQ(wide->diagnostics()[0].line, 3U);
  EXPECT_NE(wide->diagnostics()[0].message.find("values after the header's 3 columns"),
            std::string::npos);
  EXPECT_EQ(wide->diagnostics()[1].line, 4U);
  EXPECT_NE(wide->diagnostics()[1].message.find("2 fields, the header has 3"), std::string::npos);
}

TEST(ExcelFiles, HeaderRepeatedWhereFilesWerePastedTogether) {
  const std::string bytes = cp1252(
      "Device Serial Number;Windows Product ID;Hardware Hash\r\n"
      "S1;;" +
      fake_hash("S1") +
      "\r\n"
      "Device Serial Number;Windows Product ID;Hardware Hash\r\n"
      "S2;;" +
      fake_hash("S2") +
      "\r\n"
      "#TYPE System.Management.Automation.PSCustomObject;;\r\n"
      "Hardware Hash;Device Serial Number;Group Tag\r\n" +
      fake_hash("S3") + ";S3;Lab\r\n");
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 3U);
  EXPECT_EQ(checked.records[1].device.serial_number, "S2");
  EXPECT_EQ(checked.records[2].device.serial_number, "S3");
  EXPECT_EQ(checked.records[2].device.group_tag, "Lab");
  EXPECT_EQ(checked.records[2].device.source_line, 7U);
  EXPECT_EQ(checked.validator.summary().valid, 3U);
  const auto& d = checked.reader_diagnostics;
  ASSERT_EQ(d.size(), 3U);
  EXPECT_EQ(d[0].line, 3U);
  EXPECT_NE(d[0].message.find("the header line again (files pasted together"), std::string::npos);
  EXPECT_EQ(d[1].line, 5U);
  EXPECT_NE(d[1].message.find("#TYPE"), std::string::npos);
  EXPECT_EQ(d[2].line, 6U);
  EXPECT_NE(d[2].message.find("another header line, with other columns"), std::string::npos);
}

// Sorted A to Z with the header row taken for data (every column is text, so Excel may not see a
// header): the header lands among the serials.
TEST(ExcelFiles, HeaderSortedAmongTheData) {
  const std::string text =
      cp1252("AB120001;;" + fake_hash("AB120001") +
             ";Lab\r\n"
             "CD330002;;" +
             fake_hash("CD330002") +
             ";Lab\r\n"
             "Device Serial Number;Windows Product ID;Hardware Hash;Group Tag\r\n"
             "PF3ABC12;;" +
             fake_hash("PF3ABC12") + ";Lab\r\n;;;\r\n");
  for (std::size_t chunk : {std::size_t{7}, std::size_t{64 * 1024}}) {
    CsvReaderOptions options;
    options.read_chunk_bytes = chunk;
    auto reader = reader_for(text, options);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    EXPECT_EQ(reader->separator(), ';');
    EXPECT_EQ(reader->header_line(), 3U);
    auto checked = check(*reader);
    ASSERT_EQ(checked.records.size(), 3U);
    EXPECT_EQ(checked.records[0].device.serial_number, "AB120001");
    EXPECT_EQ(checked.records[0].device.source_line, 1U);
    EXPECT_EQ(checked.records[0].device.group_tag, "Lab");
    EXPECT_EQ(checked.records[1].device.source_line, 2U);
    EXPECT_EQ(checked.records[2].device.serial_number, "PF3ABC12");
    EXPECT_EQ(checked.records[2].device.source_line, 4U);
    EXPECT_EQ(checked.validator.summary().valid, 3U);
    ASSERT_EQ(checked.reader_diagnostics.size(), 1U);
    EXPECT_EQ(checked.reader_diagnostics[0].to_string(),
              "test.csv:3: warning: the header is on line 3, below 2 row(s) of data (the sheet "
              "was sorted with its header among the data?); the rows above it are read with its "
              "columns");
  }
  // Without any header line, the first line is still what the error names.
  auto headless = reader_for("AB120001;;" + fake_hash("AB120001") + "\r\n");
  ASSERT_FALSE(headless.ok());
  EXPECT_EQ(headless.error().code, "csv.bad_header");
  EXPECT_NE(headless.error().message.find("found 'AB120001;;T0"), std::string::npos)
      << headless.error().message.substr(0, 200);
}

TEST(ExcelFiles, HashCutAt255Characters) {
  const std::string hash = fake_hash("S1");
  auto reader = reader_for(
      "Device Serial Number;Windows Product ID;Hardware Hash\r\n"
      "S1;;" +
      hash.substr(0, 255) + "\r\nS2;;" + hash.substr(0, 254) + "\r\n");
  ASSERT_TRUE(reader.ok());
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 2U);
  const auto results = all_results(checked.validator);
  EXPECT_EQ(results[0].verdict, Verdict::kInvalid);
  EXPECT_EQ(results[0].failure, FailureReason::kHardwareHashNotValid);
  EXPECT_EQ(results[0].reason.rfind("Hardware hash not valid: the cell holds exactly 255 "
                                    "characters: a spreadsheet cut the hash there",
                                    0),
            0U)
      << results[0].reason;
  // Any other length is a broken hash, not a cut one.
  EXPECT_EQ(results[1].verdict, Verdict::kInvalid);
  EXPECT_EQ(results[1].reason.find("spreadsheet"), std::string::npos) << results[1].reason;
}

TEST(ExcelFiles, HashCutAt32767Characters) {
  // A hash this long is no real device's, but it is a hash, and Excel cuts its cell.
  const std::string hash =
      HardwareHashBuilder::realistic("S1", "Contoso", "Laptop 7", "10.0.22631.2861", 0, 30000)
          .build_base64();
  ASSERT_GT(hash.size(), kExcelCellCharacters);
  ASSERT_TRUE(parse_hardware_hash_text(hash).ok());
  const std::string cut = hash.substr(0, kExcelCellCharacters);
  auto reader =
      reader_for("Device Serial Number;Windows Product ID;Hardware Hash\r\nS1;;" + cut + "\r\n");
  ASSERT_TRUE(reader.ok());
  auto checked = check(*reader);
  ASSERT_EQ(checked.records.size(), 1U);
  EXPECT_EQ(checked.validator.result(0).reason.rfind(
                "Hardware hash not valid: the cell holds exactly 32,767 characters: a spreadsheet "
                "cut the hash there (Excel's limit for a cell)",
                0),
            0U)
      << checked.validator.result(0).reason;

  // A whole line in one cell, cut at the cell's limit, saved as "Unicode Text" (quoted: it holds
  // commas).
  const std::string header = "\"Device Serial Number,Windows Product ID,Hardware Hash\"\r\n";
  const std::string cell = ("S2,," + hash).substr(0, kExcelCellCharacters);
  auto one_cell = reader_for(unicode_text(header + "\"" + cell + "\"\r\n"));
  ASSERT_TRUE(one_cell.ok()) << one_cell.error().message;
  auto lines = check(*one_cell);
  ASSERT_EQ(lines.records.size(), 1U);
  EXPECT_EQ(lines.records[0].device.serial_number, "S2");
  EXPECT_EQ(lines.validator.result(0).reason.rfind(
                "Hardware hash not valid: the line was one cell, and a spreadsheet cut it at "
                "32,767 characters",
                0),
            0U)
      << lines.validator.result(0).reason;

  // The same line saved as "CSV" keeps no quotes (no ';' in it): a line of exactly 32,767.
  auto plain =
      reader_for("Device Serial Number,Windows Product ID,Hardware Hash\r\n" + cell + "\r\n");
  ASSERT_TRUE(plain.ok());
  auto plain_checked = check(*plain);
  ASSERT_EQ(plain_checked.records.size(), 1U);
  EXPECT_NE(plain_checked.validator.result(0).reason.find("cut it at 32,767 characters"),
            std::string::npos)
      << plain_checked.validator.result(0).reason;
}

TEST(ExcelFiles, ExactlyExcelsRowLimit) {
  // A sheet saved with its last possible row in use (a longer file was cut when Excel opened it).
  std::string text =
      "Device Serial Number;Windows Product ID;Hardware Hash\r\nS1;;" + fake_hash("S1") + "\r\n";
  text.reserve(text.size() + 6 * kExcelRows);
  for (std::uint64_t row = 2; row < kExcelRows; ++row) text += ";;\r\n";
  {
    auto reader = reader_for(text);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(read_all(*reader).size(), 1U);
    const Diagnostic* d = find(reader->diagnostics(), "exactly 1,048,576 rows");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->severity, Severity::kWarning);
  }
  text += ";;\r\n";  // one more: not a file Excel wrote
  auto longer = reader_for(std::move(text));
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(read_all(*longer).size(), 1U);
  EXPECT_EQ(find(longer->diagnostics(), "1,048,576"), nullptr);
}

// Rows without a hash are registered by manufacturer, model and serial: a serial in scientific
// notation matches no device, and no hash can restore it.
TEST(ExcelFiles, ScientificSerialWithoutAHashIsRefused) {
  auto reader =
      reader_for(cp1252("Manufacturer;Model;Serial Number\r\n"
                        "Contoso;Laptop 7;1,65208E+11\r\n"
                        "Contoso;Laptop 7;PF3ABC12\r\n"));
  ASSERT_TRUE(reader.ok());
  auto checked = check(*reader);
  const auto results = all_results(checked.validator);
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0].verdict, Verdict::kInvalid);
  EXPECT_EQ(results[0].reason,
            "Excel turned this serial into 1,65208E+11 (scientific notation), and the row has no "
            "hardware hash to take the real one from; copy the serial from the original file or "
            "the device's label");
  EXPECT_EQ(results[1].verdict, Verdict::kValid);
}

TEST(ExcelFiles, ValidateFilesKeepsTheHashSerial) {
  TempDir dir;
  const auto file = dir.write(
      "sv.csv", cp1252("Device Serial Number;Windows Product ID;Hardware Hash\r\n1,65208E+11;;" +
                       fake_hash("165207713570") + "\r\n"));
  const std::vector<std::filesystem::path> files{file};
  auto validated = validate_files(files);
  ASSERT_EQ(validated.accepted.size(), 1U);
  EXPECT_EQ(validated.accepted[0].serial_number, "165207713570");
  EXPECT_EQ(validated.validator.summary().warnings, 1U);
}

}  // namespace
}  // namespace hangar::core
