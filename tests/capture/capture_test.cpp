// Tests for `hangar capture`'s device reading: firmware value cleanup, hash checks against
// WMI/SMBIOS values, file names, and the Linux SMBIOS reader (the CSV append:
// capture_csv_test.cpp).
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

using testing::kSampleHash;
using testing::TempDir;

bool has_note(const CapturedDevice& device, std::string_view part) {
  for (const auto& note : device.notes) {
    if (note.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string all_notes(const CapturedDevice& device) {
  std::string text;
  for (const auto& note : device.notes) text += note + "\n";
  return text;
}

WmiProperties props(std::initializer_list<std::pair<const std::string, std::string>> values) {
  return WmiProperties(values);
}

// What the Windows reader hands over for a device whose WMI answers everything.
DeviceProperties wmi_device(const std::string& serial, const std::string& make,
                            const std::string& model, const std::string& hash) {
  return properties_from_wmi(props({{"SerialNumber", serial}}),
                             props({{"Manufacturer", make}, {"Model", model}}),
                             props({{"DeviceHardwareData", hash}}));
}

// --- firmware values --------------------------------------------------------------------------

TEST(CaptureValues, TrimsWhitespaceAndNul) {
  EXPECT_EQ(clean_firmware_value("  5CG1234XYZ \t\r\n"), "5CG1234XYZ");
  EXPECT_EQ(clean_firmware_value(std::string_view("PF3ABC12\0", 9)), "PF3ABC12");
  EXPECT_EQ(clean_firmware_value("Dell Inc."), "Dell Inc.");
  EXPECT_EQ(clean_firmware_value("0123"), "0123");  // digits that are not all zero are a serial
}

TEST(CaptureValues, OemPlaceholdersAreMissing) {
  for (const char* placeholder :
       {"To be filled by O.E.M.", "TO BE FILLED BY O.E.M.", "Default string",
        "System Serial Number", "System Product Name", "System manufacturer", "0", "00000000",
        "0000-0000", "None", "N/A", "Not Specified", "", "   ", "FFFFFFFFFFFF", "xxxxxxxx",
        "123456789"}) {
    EXPECT_EQ(clean_firmware_value(placeholder), std::nullopt) << "'" << placeholder << "'";
  }
  EXPECT_FALSE(is_oem_placeholder("F"));  // a one-letter value is odd, not a known placeholder
  EXPECT_FALSE(is_oem_placeholder("Virtual Machine"));
}

// --- interpreting WMI / SMBIOS values -----------------------------------------------------------

TEST(CaptureInterpret, ConsistentDeviceHasNoNotes) {
  const std::string hash =
      HardwareHashBuilder::realistic("5CG1234XYZ", "HP", "EliteBook 840 G10").build_base64();
  const CapturedDevice device =
      interpret_device(wmi_device(" 5CG1234XYZ ", "HP", "EliteBook 840 G10", hash));
  EXPECT_EQ(device.serial_number, "5CG1234XYZ");
  EXPECT_EQ(device.manufacturer, "HP");
  EXPECT_EQ(device.model, "EliteBook 840 G10");
  EXPECT_TRUE(device.has_hash);
  EXPECT_EQ(device.hardware_hash_base64, hash);
  EXPECT_EQ(device.windows_product_id, "");
  EXPECT_TRUE(device.notes.empty()) << all_notes(device);
}

TEST(CaptureInterpret, PublicSampleMatchesItsFirmwareValues) {
  // The sample is one byte shorter than its header says: a real-world quirk, not worth a note.
  const CapturedDevice device = interpret_device(wmi_device(
      "016520771357", "Microsoft Corporation", "Surface Laptop", std::string(kSampleHash)));
  ASSERT_TRUE(device.has_hash);
  EXPECT_EQ(device.hardware_hash_base64, kSampleHash);
  EXPECT_EQ(device.serial_number, "016520771357");
  EXPECT_TRUE(device.notes.empty()) << all_notes(device);
}

TEST(CaptureInterpret, UnpaddedHashGetsItsPadding) {
  std::string hash;
  for (std::size_t size = 4096; size < 4100 && !hash.ends_with("="); ++size) {
    hash = HardwareHashBuilder::realistic("SN1", "Contoso", "X", "10.0.22631.2861", 0, size)
               .build_base64();
  }
  ASSERT_TRUE(hash.ends_with("="));
  std::string unpadded = hash;
  while (unpadded.ends_with("=")) unpadded.pop_back();
  const CapturedDevice device = interpret_device(wmi_device("SN1", "Contoso", "X", unpadded));
  ASSERT_TRUE(device.has_hash);
  EXPECT_EQ(device.hardware_hash_base64, hash);
  EXPECT_TRUE(has_note(device, "without its '=' padding; it was added")) << all_notes(device);
}

TEST(CaptureInterpret, HashWithLineBreaksIsNormalised) {
  const std::string hash = HardwareHashBuilder::realistic("SN1", "Contoso", "X").build_base64();
  const std::string wrapped =
      hash.substr(0, 76) + "\r\n" + hash.substr(76, 76) + "\n " + hash.substr(152) + "\r\n";
  const CapturedDevice device = interpret_device(wmi_device("SN1", "Contoso", "X", wrapped));
  ASSERT_TRUE(device.has_hash);
  EXPECT_EQ(device.hardware_hash_base64, hash);
}

TEST(CaptureInterpret, SerialMismatchNamesBoth) {
  const std::string hash =
      HardwareHashBuilder::realistic("HASH-SERIAL-9", "Contoso", "X").build_base64();
  const CapturedDevice device = interpret_device(wmi_device("BIOS-SERIAL-1", "Contoso", "X", hash));
  EXPECT_EQ(device.serial_number, "BIOS-SERIAL-1");  // Get-WindowsAutoPilotInfo uses Win32_BIOS
  ASSERT_TRUE(has_note(device, "differs")) << all_notes(device);
  EXPECT_TRUE(has_note(device, "\"HASH-SERIAL-9\"")) << all_notes(device);
  EXPECT_TRUE(has_note(device, "Win32_BIOS.SerialNumber (\"BIOS-SERIAL-1\")")) << all_notes(device);
}

TEST(CaptureInterpret, MakeAndModelCompareIgnoringCase) {
  const std::string hash =
      HardwareHashBuilder::realistic("SN2", "LENOVO", "20XW0026GE").build_base64();
  const CapturedDevice same = interpret_device(wmi_device("SN2", "Lenovo", "20xw0026ge", hash));
  EXPECT_TRUE(same.notes.empty()) << all_notes(same);
  const CapturedDevice other = interpret_device(wmi_device("SN2", "Dell Inc.", "20XW0026GE", hash));
  EXPECT_TRUE(has_note(other,
                       "manufacturer inside the hardware hash (\"LENOVO\") differs from "
                       "Win32_ComputerSystem.Manufacturer (\"Dell Inc.\")"))
      << all_notes(other);
}

TEST(CaptureInterpret, PlaceholderSerialIsReplacedByTheHashSerial) {
  const std::string hash = HardwareHashBuilder::realistic("REAL123", "Contoso", "X").build_base64();
  const CapturedDevice device =
      interpret_device(wmi_device("To be filled by O.E.M.", "Contoso", "X", hash));
  EXPECT_EQ(device.serial_number, "REAL123");
  EXPECT_TRUE(has_note(device,
                       "Win32_BIOS.SerialNumber is \"To be filled by O.E.M.\", a firmware "
                       "placeholder"))
      << all_notes(device);
  EXPECT_TRUE(has_note(device, "using the serial number inside the hardware hash (\"REAL123\")"))
      << all_notes(device);
}

TEST(CaptureInterpret, PlaceholdersWithoutHashLeaveValuesEmpty) {
  DeviceProperties properties = properties_from_wmi(
      props({{"SerialNumber", "System Serial Number"}}),
      props({{"Manufacturer", "Default string"}, {"Model", "  "}}), std::nullopt);
  const CapturedDevice device = interpret_device(properties);
  EXPECT_EQ(device.serial_number, "");
  EXPECT_EQ(device.manufacturer, "");
  EXPECT_EQ(device.model, "");
  EXPECT_FALSE(device.has_hash);
  EXPECT_TRUE(has_note(device, "Win32_ComputerSystem.Manufacturer is \"Default string\""));
  EXPECT_TRUE(has_note(device, "Win32_ComputerSystem.Model is empty"));
  EXPECT_TRUE(has_note(device, "no usable serial number"));
}

TEST(CaptureInterpret, WmiLookupIsCaseInsensitiveAndReportsMissingProperties) {
  DeviceProperties properties = properties_from_wmi(props({{"serialnumber", "SN3"}}),
                                                    props({{"MANUFACTURER", "Acer"}}), props({}));
  EXPECT_EQ(properties.serial_number.value, "SN3");
  EXPECT_EQ(properties.manufacturer.value, "Acer");
  EXPECT_EQ(properties.model.value, std::nullopt);
  EXPECT_EQ(properties.model.source, "Win32_ComputerSystem.Model");
  ASSERT_EQ(properties.notes.size(), 2U);
  EXPECT_EQ(properties.notes[0], "Win32_ComputerSystem has no Model value");
  EXPECT_EQ(properties.notes[1], "MDM_DevDetail_Ext01 has no DeviceHardwareData value");
}

TEST(CaptureInterpret, EmptyOrInvalidHashIsNoHash) {
  const CapturedDevice empty = interpret_device(wmi_device("SN4", "Acer", "Swift", "   "));
  EXPECT_FALSE(empty.has_hash);
  EXPECT_TRUE(has_note(empty, "MDM_DevDetail_Ext01.DeviceHardwareData is empty"));

  const CapturedDevice invalid = interpret_device(wmi_device("SN4", "Acer", "Swift", "T0E#AAAA"));
  EXPECT_FALSE(invalid.has_hash);
  EXPECT_EQ(invalid.hardware_hash_base64, "");
  EXPECT_TRUE(has_note(invalid, "not usable: not base64: invalid character '#'"))
      << all_notes(invalid);
}

TEST(CaptureInterpret, UnknownStructureIsKeptWithANote) {
  const CapturedDevice device =
      interpret_device(wmi_device("SN5", "Acer", "Swift", "aGVsbG8gd29ybGQhISE="));
  EXPECT_TRUE(device.has_hash);
  EXPECT_EQ(device.hardware_hash_base64, "aGVsbG8gd29ybGQhISE=");
  EXPECT_TRUE(has_note(device, "does not have the expected structure")) << all_notes(device);
  EXPECT_EQ(device.serial_number, "SN5");
}

TEST(CaptureInterpret, AlteredHashFailsItsChecksum) {
  auto bytes = HardwareHashBuilder::realistic("SN6", "Acer", "Swift").build();
  bytes[30] ^= 0x5A;  // inside the first random record, well before the serial
  const CapturedDevice device =
      interpret_device(wmi_device("SN6", "Acer", "Swift", encode_base64(bytes)));
  EXPECT_TRUE(device.has_hash);
  EXPECT_TRUE(has_note(device, "checksum does not match")) << all_notes(device);
}

TEST(CaptureInterpret, ProductIdFromHashOnRequest) {
  const std::string hash = HardwareHashBuilder::realistic("SN7", "Acer", "Swift").build_base64();
  auto info = parse_hardware_hash_text(hash);
  ASSERT_TRUE(info.ok());
  ASSERT_FALSE(info->product_key_id.empty());
  EXPECT_EQ(interpret_device(wmi_device("SN7", "Acer", "Swift", hash)).windows_product_id, "");
  CaptureOptions options;
  options.product_id_from_hash = true;
  EXPECT_EQ(interpret_device(wmi_device("SN7", "Acer", "Swift", hash), options).windows_product_id,
            info->product_key_id);
}

TEST(CaptureInterpret, ReaderNotesComeFirst) {
  DeviceProperties properties = wmi_device("SN8", "Acer", "Swift", "");
  properties.hardware_hash.value.reset();
  properties.notes.push_back("the reader's reason");
  const CapturedDevice device = interpret_device(properties);
  ASSERT_FALSE(device.notes.empty());
  EXPECT_EQ(device.notes.front(), "the reader's reason");
  EXPECT_FALSE(device.has_hash);
}

// --- file names --------------------------------------------------------------------------------

TEST(CaptureFileName, KeepsSafeSerials) {
  EXPECT_EQ(capture_file_name("5CG1234XYZ"), "5CG1234XYZ.csv");
  EXPECT_EQ(capture_file_name("PF-3AB_C.12"), "PF-3AB_C.12.csv");
}

TEST(CaptureFileName, ReplacesUnsafeCharacters) {
  EXPECT_EQ(capture_file_name("AB/C\\D:E*F?G\"H<I>J|K L"), "AB_C_D_E_F_G_H_I_J_K_L.csv");
  EXPECT_EQ(capture_file_name("S\xC3\xA4ule"), "S__ule.csv");  // non-ASCII, byte by byte
  EXPECT_EQ(capture_file_name(".hidden"), "_hidden.csv");
  EXPECT_EQ(capture_file_name(".."), "__.csv");
  EXPECT_EQ(capture_file_name("ends."), "ends_.csv");
  EXPECT_EQ(capture_file_name(""), "no-serial.csv");
  EXPECT_EQ(capture_file_name(std::string(150, 'A')), std::string(100, 'A') + ".csv");
}

TEST(CaptureFileName, AvoidsDosDeviceNames) {
  EXPECT_EQ(capture_file_name("CON"), "_CON.csv");
  EXPECT_EQ(capture_file_name("nul"), "_nul.csv");
  EXPECT_EQ(capture_file_name("com1"), "_com1.csv");
  EXPECT_EQ(capture_file_name("LPT9.x"), "_LPT9.x.csv");
  EXPECT_EQ(capture_file_name("COM10"), "COM10.csv");
  EXPECT_EQ(capture_file_name("CONSOLE"), "CONSOLE.csv");
}

// --- the Linux reader --------------------------------------------------------------------------

#ifndef _WIN32

CaptureOptions dmi_options(const std::filesystem::path& dir) {
  CaptureOptions options;
  options.dmi_dir = dir;
  return options;
}

TEST(CaptureSmbios, ReadsFakeSysfs) {
  TempDir dir;
  dir.write("product_serial", "PF3ABC12\n");
  dir.write("sys_vendor", "LENOVO\n");
  dir.write("product_name", "20XW0026GE\n");
  auto device = capture_local_device(dmi_options(dir.path()));
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ(device->serial_number, "PF3ABC12");
  EXPECT_EQ(device->manufacturer, "LENOVO");
  EXPECT_EQ(device->model, "20XW0026GE");
  EXPECT_FALSE(device->has_hash);
  ASSERT_EQ(device->notes.size(), 1U) << all_notes(*device);
  EXPECT_NE(device->notes[0].find("no hardware hash can be read on Linux"), std::string::npos);
}

TEST(CaptureSmbios, PlaceholdersAndMissingFilesAreNoted) {
  TempDir dir;
  dir.write("product_serial", "To be filled by O.E.M.\n");
  dir.write("sys_vendor", "System manufacturer\n");
  auto device = capture_local_device(dmi_options(dir.path()));
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->serial_number, "");
  EXPECT_EQ(device->manufacturer, "");
  const std::string serial_file = path_to_utf8(dir.path() / "product_serial");
  EXPECT_TRUE(has_note(*device, serial_file + " is \"To be filled by O.E.M.\", a firmware "
                                              "placeholder"))
      << all_notes(*device);
  EXPECT_TRUE(has_note(*device, path_to_utf8(dir.path() / "product_name") + " does not exist"))
      << all_notes(*device);
  EXPECT_TRUE(has_note(*device, "no usable serial number"));
}

TEST(CaptureSmbios, UnreadableSerialIsExplained) {
  TempDir dir;
  dir.write("sys_vendor", "Dell Inc.\n");
  dir.write("product_name", "Latitude 7440\n");
  // A directory cannot be read as a file: the read error is reported, not swallowed.
  std::filesystem::create_directories(dir.path() / "product_serial");
  auto device = capture_local_device(dmi_options(dir.path()));
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->serial_number, "");
  EXPECT_EQ(device->manufacturer, "Dell Inc.");
  EXPECT_TRUE(has_note(*device, path_to_utf8(dir.path() / "product_serial") + " cannot be read"))
      << all_notes(*device);
}

TEST(CaptureSmbios, RootOnlySerialSaysSudo) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root reads mode-000 files, so the permission path cannot be shown as root";
  }
  TempDir dir;
  const auto serial = dir.write("product_serial", "PF3ABC12\n");
  std::filesystem::permissions(serial, std::filesystem::perms::none);
  auto device = capture_local_device(dmi_options(dir.path()));
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->serial_number, "");
  EXPECT_TRUE(has_note(*device, "is readable only by root: run hangar capture with sudo"))
      << all_notes(*device);
}

TEST(CaptureSmbios, MissingDirectoryIsOneNote) {
  TempDir dir;
  auto device = capture_local_device(dmi_options(dir.path() / "absent"));
  ASSERT_TRUE(device.ok());
  EXPECT_TRUE(has_note(*device, "exports no SMBIOS data")) << all_notes(*device);
  EXPECT_FALSE(has_note(*device, "does not exist: the firmware")) << all_notes(*device);
  EXPECT_EQ(running_elevated(), ::geteuid() == 0);
}

#endif  // _WIN32

}  // namespace
}  // namespace hangar::core
