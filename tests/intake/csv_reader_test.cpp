// Tests for CsvReader: every header shape, encoding, line ending and quoting seen in the wild.
#include <gtest/gtest.h>

#include "hangar/core/hardware_hash.h"
#include "hangar/intake/csv_reader.h"
#include "test_support.h"

namespace hangar::core {
namespace {

using testing::fake_hash;
using testing::kSampleHash;
using testing::read_all;
using testing::reader_for;
using testing::TempDir;
using testing::to_utf16;

TEST(CsvHeader, GetWindowsAutoPilotInfoPlain) {
  const std::string hash = fake_hash("SER1");
  auto reader =
      reader_for("Device Serial Number,Windows Product ID,Hardware Hash\r\nSER1,," + hash + "\r\n");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->shape(), CsvShape::kAutopilotInfo);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.serial_number, "SER1");
  EXPECT_TRUE(records[0].hash_error.empty());
  EXPECT_EQ(encode_base64(records[0].device.hardware_hash), hash);
  EXPECT_EQ(records[0].device.source_file, "test.csv");
  EXPECT_EQ(records[0].device.source_line, 2U);
  EXPECT_TRUE(reader->diagnostics().empty());
}

TEST(CsvHeader, WithGroupTagAndAssignedUser) {
  auto reader = reader_for(
      "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User\n"
      "S1,00330-80000-00000-AA123," +
      fake_hash("S1") + ",Sales,ann@contoso.com\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->shape(), CsvShape::kPortal);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.windows_product_id, "00330-80000-00000-AA123");
  EXPECT_EQ(records[0].device.group_tag, "Sales");
  EXPECT_EQ(records[0].device.assigned_user, "ann@contoso.com");

  auto tag_only = reader_for(
      "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag\n"
      "S1,," +
      fake_hash("S1") + ",Sales\n");
  ASSERT_TRUE(tag_only.ok());
  EXPECT_EQ(tag_only->shape(), CsvShape::kAutopilotInfo);
}

TEST(CsvHeader, PartnerVariant) {
  auto reader = reader_for(
      "Device Serial Number,Windows Product ID,Hardware Hash,Manufacturer name,Device model\n"
      "S1,," +
      fake_hash("S1") + ",Contoso,Laptop 7\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->shape(), CsvShape::kAutopilotInfoPartner);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.manufacturer, "Contoso");
  EXPECT_EQ(records[0].device.model, "Laptop 7");
}

TEST(CsvHeader, MmdSelfAndPartner) {
  auto self = reader_for(
      "Manufacturer,Model,Serial Number,Hardware Hash\n"
      "Microsoft Corporation,Surface Laptop,016520771357," +
      std::string(kSampleHash) + "\n");
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->shape(), CsvShape::kMmdSelf);
  auto records = read_all(*self);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.serial_number, "016520771357");
  EXPECT_EQ(records[0].device.hardware_hash.size(), 1089U);

  auto partner = reader_for("Manufacturer,Model,Serial Number\nContoso,Laptop 7,S9\n");
  ASSERT_TRUE(partner.ok());
  EXPECT_EQ(partner->shape(), CsvShape::kMmdPartner);
  auto rows = read_all(*partner);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_TRUE(rows[0].device.hardware_hash.empty());
  EXPECT_TRUE(rows[0].hash_error.empty());
}

TEST(CsvHeader, CaseSpacingOrderAndUnknownColumns) {
  auto reader = reader_for("  hardware hash , NOTES, serial number ,Windows_Product_ID, Extra\n" +
                           fake_hash("S1") + ",hello,S1,,x\n");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.serial_number, "S1");
  EXPECT_FALSE(records[0].device.hardware_hash.empty());
  ASSERT_EQ(reader->diagnostics().size(), 1U);
  const Diagnostic& d = reader->diagnostics()[0];
  EXPECT_EQ(d.severity, Severity::kWarning);
  EXPECT_EQ(d.line, 1U);
  EXPECT_NE(d.message.find("'NOTES', 'Extra'"), std::string::npos) << d.message;
}

TEST(CsvHeader, WrongHeaderNamesWhatWasFoundAndExpected) {
  auto reader = reader_for("Name,Email,Phone\nann,a@b,123\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, "csv.bad_header");
  const std::string& m = reader.error().message;
  EXPECT_EQ(m.rfind("test.csv:1: ", 0), 0U) << m;
  EXPECT_NE(m.find("'Name', 'Email', 'Phone'"), std::string::npos) << m;
  EXPECT_NE(m.find("Device Serial Number"), std::string::npos) << m;
}

TEST(CsvHeader, PowerShellTypeLineIsSkipped) {
  auto reader = reader_for(
      "#TYPE System.Management.Automation.PSCustomObject\r\n"
      "\"Device Serial Number\",\"Windows Product ID\",\"Hardware Hash\"\r\n"
      "\"S1\",\"\",\"" +
      fake_hash("S1") + "\"\r\n");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->header_line(), 2U);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.source_line, 3U);
}

TEST(CsvEncoding, Utf16LeWithBomAsPowerShell51WritesIt) {
  TempDir dir;
  const std::string text =
      "Device Serial Number,Windows Product ID,Hardware Hash\r\n"
      "016520771357,," +
      std::string(kSampleHash) + "\r\nS2,," + fake_hash("S2") + "\r\n";
  auto reader = CsvReader::open(dir.write("ps51.csv", to_utf16(text, true, true)));
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->encoding(), TextEncoding::kUtf16Le);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].device.serial_number, "016520771357");
  EXPECT_EQ(records[1].device.serial_number, "S2");
  EXPECT_EQ(records[1].device.source_line, 3U);
  EXPECT_EQ(records[0].device.source_file, path_to_utf8(dir.path() / "ps51.csv"));
}

TEST(CsvEncoding, Utf16BeUtf8BomAndWindows1252) {
  const std::string rows = "Manufacturer,Model,Serial Number\r\nContoso,Caf\xC3\xA9 Book,S1\r\n";
  for (const std::string& bytes :
       {to_utf16(rows, false, true), "\xEF\xBB\xBF" + rows, to_utf16(rows, true, false),
        std::string("Manufacturer,Model,Serial Number\r\nContoso,Caf\xE9 Book,S1\r\n")}) {
    auto reader = reader_for(bytes);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    auto records = read_all(*reader);
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].device.model, "Caf\xC3\xA9 Book") << encoding_name(reader->encoding());
    EXPECT_TRUE(reader->diagnostics().empty());
  }
}

TEST(CsvLines, LfCrlfQuotesBlankLinesAndLineNumbers) {
  const std::string h1 = fake_hash("A1");
  const std::string h2 = fake_hash("A2");
  const std::string h3 = fake_hash("A3");
  std::string broken = h3;  // a hash wrapped over several physical lines inside quotes
  broken.insert(100, "\r\n");
  broken.insert(50, " \n ");
  const std::string text =
      "\n\nDevice Serial Number,Windows Product ID,Hardware Hash\n"
      "A1,," +
      h1 +
      "\r\n"
      "\r\n"
      "   \n"
      "\"A2\",\"\",\"" +
      h2 +
      "\"\n"
      "A3,,\"" +
      broken +
      "\"\n"
      ",,\n"
      "A4,,\n"
      "\n\n";
  auto reader = reader_for(text);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->header_line(), 3U);
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 4U);
  EXPECT_EQ(records[0].device.source_line, 4U);
  EXPECT_EQ(records[1].device.serial_number, "A2");
  EXPECT_EQ(records[1].device.source_line, 7U);
  EXPECT_EQ(records[2].device.serial_number, "A3");
  EXPECT_EQ(records[2].device.source_line, 8U);
  EXPECT_TRUE(records[2].hash_error.empty()) << records[2].hash_error;
  EXPECT_EQ(encode_base64(records[2].device.hardware_hash), h3);
  EXPECT_EQ(records[3].device.serial_number, "A4");
  EXPECT_EQ(records[3].device.source_line, 12U);
  EXPECT_TRUE(records[3].device.hardware_hash.empty());
}

TEST(CsvLines, NoTrailingNewlineAndBareCr) {
  auto reader = reader_for("Manufacturer,Model,Serial Number\rC,M,S1\rC,M,S2");
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1].device.serial_number, "S2");
  EXPECT_EQ(records[1].device.source_line, 3U);
}

TEST(CsvHash, UnpaddedAndWhitespaceHashesAreDecoded) {
  std::string hash = fake_hash("S1");
  while (hash.back() == '=') hash.pop_back();
  std::string spaced = hash;
  for (std::size_t i = 64; i < spaced.size(); i += 65) spaced.insert(i, " ");
  auto reader = reader_for("Device Serial Number,Windows Product ID,Hardware Hash\nS1,,\"" +
                           spaced + "\"\nS2,, " + hash + " \n");
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  for (const auto& r : records) {
    EXPECT_TRUE(r.hash_error.empty()) << r.hash_error;
    EXPECT_EQ(r.device.hardware_hash.size(), 4096U);
  }
}

TEST(CsvHash, NonBase64HashKeepsTheRecordWithTheReason) {
  auto reader = reader_for(
      "Device Serial Number,Windows Product ID,Hardware Hash\n"
      "S1,,T0EeBAEAHAAAAAoAA#QBjRQ\n");
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].hash_error, "not base64: invalid character '#' at offset 17");
  EXPECT_TRUE(records[0].device.hardware_hash.empty());
}

TEST(CsvLines, FieldCountMismatchIsAWarning) {
  auto reader = reader_for("Manufacturer,Model,Serial Number\nC,M\nC,M,S2,extra\n");
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_TRUE(records[0].device.serial_number.empty());
  ASSERT_EQ(reader->diagnostics().size(), 2U);
  EXPECT_EQ(reader->diagnostics()[0].line, 2U);
  EXPECT_EQ(reader->diagnostics()[0].severity, Severity::kWarning);
}

}  // namespace
}  // namespace hangar::core
