// Tests for `hangar capture`'s CSV files: the Get-WindowsAutoPilotInfo append (new and combined
// files, columns, refusals, repairs, encodings) without ever corrupting an existing file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "hangar/capture/capture.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/hash_builder.h"
#include "hangar/intake/csv_reader.h"
#include "test_support.h"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace hangar::core {
namespace {

using testing::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CaptureRow row_for(const std::string& serial, std::uint64_t seed = 0) {
  CaptureRow row;
  row.serial_number = serial;
  row.hardware_hash =
      HardwareHashBuilder::realistic(serial, "Contoso", "Laptop 7", "10.0.22631.2861", seed, 1024)
          .build_base64();
  return row;
}

// --- CSV append --------------------------------------------------------------------------------

TEST(CaptureCsv, NewFileGetsHeaderAndOneCrlfRow) {
  TempDir dir;
  const auto file = dir.path() / "SN1.csv";
  const CaptureRow row = row_for("SN1");
  auto appended = append_capture_row(file, row);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_TRUE(appended->created);
  EXPECT_EQ(appended->line, 2U);
  EXPECT_EQ(appended->file, file);
  EXPECT_EQ(read_file(file), "Device Serial Number,Windows Product ID,Hardware Hash\r\nSN1,," +
                                 row.hardware_hash + "\r\n");
}

TEST(CaptureCsv, CombinedFileCollectsDevicesAndReadsBack) {
  TempDir dir;
  const auto file = dir.path() / "combined.csv";
  ASSERT_TRUE(append_capture_row(file, row_for("SN1", 1)).ok());
  auto second = append_capture_row(file, row_for("SN2", 2));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->line, 3U);
  auto third = append_capture_row(file, row_for("SN3", 3));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->line, 4U);

  auto reader = CsvReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->shape(), CsvShape::kAutopilotInfo);
  auto records = testing::read_all(*reader);
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0].device.serial_number, "SN1");
  EXPECT_EQ(records[2].device.serial_number, "SN3");
  EXPECT_EQ(records[1].device.source_line, 3U);
  EXPECT_EQ(encode_base64(records[1].device.hardware_hash), row_for("SN2", 2).hardware_hash);
  EXPECT_TRUE(reader->diagnostics().empty());
}

TEST(CaptureCsv, GroupTagAndUserColumns) {
  TempDir dir;
  CaptureRow row = row_for("SN1");
  row.group_tag = "Microsoft365Managed_Autopilot";
  row.assigned_user = "ana@contoso.com";
  EXPECT_EQ(capture_header(row),
            "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User");
  const auto file = dir.path() / "tagged.csv";
  ASSERT_TRUE(append_capture_row(file, row).ok());
  // A later device without a user still fits: its cell stays empty.
  CaptureRow untagged = row_for("SN2", 2);
  untagged.group_tag = "Sales";
  ASSERT_TRUE(append_capture_row(file, untagged).ok());
  const std::string text = read_file(file);
  EXPECT_NE(
      text.find("SN1,," + row.hardware_hash + ",Microsoft365Managed_Autopilot,ana@contoso.com\r\n"),
      std::string::npos);
  EXPECT_NE(text.find("SN2,," + untagged.hardware_hash + ",Sales,\r\n"), std::string::npos);

  auto reader = CsvReader::open(file);
  ASSERT_TRUE(reader.ok());
  auto records = testing::read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].device.assigned_user, "ana@contoso.com");
  EXPECT_EQ(records[1].device.group_tag, "Sales");
}

TEST(CaptureCsv, UserOnlyHeaderSkipsGroupTag) {
  CaptureRow row = row_for("SN1");
  row.assigned_user = "ana@contoso.com";
  EXPECT_EQ(capture_header(row),
            "Device Serial Number,Windows Product ID,Hardware Hash,Assigned User");
  TempDir dir;
  const auto file = dir.path() / "user.csv";
  ASSERT_TRUE(append_capture_row(file, row).ok());
  CaptureRow tagged = row_for("SN2", 2);
  tagged.group_tag = "Sales";
  auto refused = append_capture_row(file, tagged);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCaptureBadFileCode);
  EXPECT_NE(refused.error().message.find("has no Group Tag column"), std::string::npos);
}

TEST(CaptureCsv, ValueWithoutColumnIsRefusedAndFileUnchanged) {
  TempDir dir;
  const auto file = dir.path() / "plain.csv";
  ASSERT_TRUE(append_capture_row(file, row_for("SN1")).ok());
  const std::string before = read_file(file);
  CaptureRow tagged = row_for("SN2", 2);
  tagged.group_tag = "Sales";
  auto refused = append_capture_row(file, tagged);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCaptureBadFileCode);
  EXPECT_NE(refused.error().message.find("has no Group Tag column, so \"Sales\" cannot be stored"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(read_file(file), before);
}

TEST(CaptureCsv, WrongHeaderIsRefused) {
  TempDir dir;
  const std::string portal_like =
      "Manufacturer,Model,Serial Number,Hardware Hash\r\nA,B,C,QUJD\r\n";
  const auto file = dir.write("mmd.csv", portal_like);
  auto refused = append_capture_row(file, row_for("SN1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCaptureBadFileCode);
  EXPECT_NE(refused.error().message.find("mmd.csv does not start with a Get-WindowsAutoPilotInfo "
                                         "header"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("\"Manufacturer,Model,Serial Number,Hardware Hash\""),
            std::string::npos);
  EXPECT_EQ(read_file(file), portal_like);

  // The -Partner variant has extra columns this row cannot fill.
  const auto partner = dir.write(
      "partner.csv",
      "Device Serial Number,Windows Product ID,Hardware Hash,Manufacturer name,Device model\r\n");
  EXPECT_EQ(check_capture_append(partner, row_for("SN1")).error().code, kCaptureBadFileCode);
  // Columns out of order are not Get-WindowsAutoPilotInfo's either.
  const auto swapped =
      dir.write("swapped.csv", "Windows Product ID,Device Serial Number,Hardware Hash\r\n");
  EXPECT_EQ(check_capture_append(swapped, row_for("SN1")).error().code, kCaptureBadFileCode);
}

TEST(CaptureCsv, QuotedHeaderAndRowsAreUnderstood) {
  TempDir dir;
  const CaptureRow first = row_for("SN1");
  const auto file = dir.write("quoted.csv",
                              "\"Device Serial Number\",\"Windows Product ID\","
                              "\"Hardware Hash\"\r\n\"SN1\",\"\",\"" +
                                  first.hardware_hash + "\"\r\n");
  auto duplicate = check_capture_append(file, first);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, kCaptureAlreadyCapturedCode);
  auto appended = append_capture_row(file, row_for("SN2", 2));
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(appended->line, 3U);
}

TEST(CaptureCsv, DuplicateSerialIsAlreadyCaptured) {
  TempDir dir;
  const auto file = dir.path() / "combined.csv";
  ASSERT_TRUE(append_capture_row(file, row_for("PF3ABC12", 1)).ok());
  ASSERT_TRUE(append_capture_row(file, row_for("SN2", 2)).ok());
  const std::string before = read_file(file);

  auto same = append_capture_row(file, row_for("PF3ABC12", 1));
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code, kCaptureAlreadyCapturedCode);
  EXPECT_NE(same.error().message.find("serial PF3ABC12 is already captured in "), std::string::npos)
      << same.error().message;
  EXPECT_NE(same.error().message.find("(line 2, with the same hardware hash)"), std::string::npos)
      << same.error().message;

  CaptureRow other_hash = row_for("pf3abc12", 9);  // serials compare case-insensitively
  auto different = append_capture_row(file, other_hash);
  ASSERT_FALSE(different.ok());
  EXPECT_EQ(different.error().code, kCaptureAlreadyCapturedCode);
  EXPECT_NE(different.error().message.find("with a different hardware hash"), std::string::npos);
  EXPECT_EQ(read_file(file), before);
}

TEST(CaptureCsv, MissingFinalLineBreakIsRepaired) {
  TempDir dir;
  const CaptureRow first = row_for("SN1");
  const auto file =
      dir.write("cut.csv", std::string(kCaptureBaseHeader) + "\r\nSN1,," + first.hardware_hash);
  auto appended = append_capture_row(file, row_for("SN2", 2));
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(appended->line, 3U);
  const std::string text = read_file(file);
  EXPECT_NE(text.find(first.hardware_hash + "\r\nSN2,,"), std::string::npos);
  auto reader = CsvReader::open(file);
  ASSERT_TRUE(reader.ok());
  auto records = testing::read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1].device.serial_number, "SN2");
}

TEST(CaptureCsv, Utf16FileIsNeverAppendedTo) {
  TempDir dir;
  const std::string utf16 =
      testing::to_utf16(std::string(kCaptureBaseHeader) + "\r\nSN1,,QUJD\r\n", true, true);
  const auto file = dir.write("ps51.csv", utf16);
  auto refused = append_capture_row(file, row_for("SN2"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCaptureBadFileCode);
  EXPECT_NE(refused.error().message.find("UTF-16"), std::string::npos);
  EXPECT_EQ(read_file(file), utf16);
  // Without a BOM the zero bytes give it away.
  const auto no_bom = dir.write(
      "ps51-nobom.csv", testing::to_utf16(std::string(kCaptureBaseHeader) + "\r\n", true, false));
  EXPECT_EQ(check_capture_append(no_bom, row_for("SN2")).error().code, kCaptureBadFileCode);
}

TEST(CaptureCsv, Utf8BomAndEmptyFilesAreFine) {
  TempDir dir;
  const auto bom = dir.write("bom.csv", "\xEF\xBB\xBF" + std::string(kCaptureBaseHeader) + "\r\n");
  auto appended = append_capture_row(bom, row_for("SN1"));
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(appended->line, 2U);
  EXPECT_FALSE(appended->created);

  const auto empty = dir.write("empty.csv", "");
  auto filled = append_capture_row(empty, row_for("SN1"));
  ASSERT_TRUE(filled.ok()) << filled.error().message;
  EXPECT_TRUE(filled->created);
  EXPECT_TRUE(read_file(empty).starts_with(std::string(kCaptureBaseHeader) + "\r\nSN1,,"));
}

TEST(CaptureCsv, UnfitRowsWriteNothing) {
  TempDir dir;
  const auto file = dir.path() / "never.csv";
  CaptureRow comma = row_for("SN1");
  comma.group_tag = "Sales,EMEA";
  auto refused = append_capture_row(file, comma);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCaptureUnfitCode);
  EXPECT_NE(refused.error().message.find("Group Tag \"Sales,EMEA\" contains a comma"),
            std::string::npos)
      << refused.error().message;

  CaptureRow unicode = row_for("SN1");
  unicode.assigned_user = "j\xC3\xBCrgen@contoso.com";
  EXPECT_NE(append_capture_row(file, unicode)
                .error()
                .message.find("non-ASCII character at "
                              "position 2"),
            std::string::npos);

  CaptureRow no_hash = row_for("SN1");
  no_hash.hardware_hash.clear();
  EXPECT_NE(append_capture_row(file, no_hash).error().message.find("no hardware hash"),
            std::string::npos);

  CaptureRow no_serial = row_for("SN1");
  no_serial.serial_number.clear();
  EXPECT_NE(append_capture_row(file, no_serial).error().message.find("no usable serial number"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(CaptureCsv, MissingFolderSaysSo) {
  TempDir dir;
  auto refused = append_capture_row(dir.path() / "no-such-folder" / "x.csv", row_for("SN1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCaptureWriteFailedCode);
  EXPECT_NE(refused.error().message.find("does the folder exist"), std::string::npos)
      << refused.error().message;
}

TEST(CaptureCsv, CheckWritesNothing) {
  TempDir dir;
  const auto file = dir.path() / "checked.csv";
  EXPECT_TRUE(check_capture_append(file, row_for("SN1")).ok());
  EXPECT_FALSE(std::filesystem::exists(file));
  const auto folder = dir.path() / "folder.csv";
  std::filesystem::create_directories(folder);
  EXPECT_EQ(check_capture_append(folder, row_for("SN1")).error().code, kCaptureBadFileCode);
}

TEST(CaptureCsv, PerDeviceFileFromCapturedDevice) {
  TempDir dir;
  CapturedDevice device;
  device.serial_number = "AB/12 34";
  device.has_hash = true;
  device.hardware_hash_base64 = row_for("AB/12 34").hardware_hash;
  const CaptureRow row = capture_row(device, "  Sales ", "");
  EXPECT_EQ(row.group_tag, "Sales");
  const auto file = dir.path() / capture_file_name(device.serial_number);
  auto appended = append_capture_row(file, row);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(appended->file.filename().string(), "AB_12_34.csv");
  EXPECT_TRUE(read_file(file).find("\r\nAB/12 34,,") != std::string::npos);  // real serial inside
}

}  // namespace
}  // namespace hangar::core
