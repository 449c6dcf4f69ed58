// The real WMI path of `hangar capture` (COM, root\cimv2, the MDM bridge) and the Windows file
// I/O of the CSV append. Runs under Wine in the cross build, where the MDM class does not exist.
#include <windows.h>

#include <objbase.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>

#include "hangar/capture/capture.h"
#include "hangar/core/hash_builder.h"

namespace hangar::core {
namespace {

bool under_wine() {
  const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

std::string all_notes(const CapturedDevice& device) {
  std::string text;
  for (const auto& note : device.notes) text += "  " + note + "\n";
  return text;
}

bool has_note(const CapturedDevice& device, std::string_view part) {
  for (const auto& note : device.notes) {
    if (note.find(part) != std::string::npos) return true;
  }
  return false;
}

// Either a value, or a note that says why the named WMI property gave none.
void expect_value_or_reason(const CapturedDevice& device, const std::string& value,
                            std::string_view source) {
  if (value.empty()) {
    EXPECT_TRUE(has_note(device, source)) << source << " is empty without a reason:\n"
                                          << all_notes(device);
  }
}

TEST(CaptureWmi, ReadsTheLocalDeviceOrSaysWhy) {
  auto device = capture_local_device();
  if (!device.ok()) {
    // Only the reader itself failing is an error, and it must name WMI and what to check.
    EXPECT_EQ(device.error().code, "capture.wmi_failed");
    EXPECT_NE(device.error().message.find("WMI"), std::string::npos) << device.error().message;
    ASSERT_FALSE(under_wine()) << "Wine's WMI should answer root\\cimv2: "
                               << device.error().message;
    return;
  }
  std::printf("serial=\"%s\" manufacturer=\"%s\" model=\"%s\" has_hash=%d elevated=%d\n%s",
              device->serial_number.c_str(), device->manufacturer.c_str(), device->model.c_str(),
              device->has_hash ? 1 : 0, running_elevated() ? 1 : 0, all_notes(*device).c_str());
  expect_value_or_reason(*device, device->serial_number, "Win32_BIOS");
  expect_value_or_reason(*device, device->manufacturer, "Win32_ComputerSystem");
  expect_value_or_reason(*device, device->model, "Win32_ComputerSystem");
  if (device->has_hash) {
    EXPECT_TRUE(device->hardware_hash_base64.starts_with("T0")) << "a hash starts with 'OA'";
    return;
  }
  ASSERT_FALSE(device->notes.empty()) << "a missing hash must be explained";
  if (!running_elevated()) {
    EXPECT_EQ(device->notes.front().rfind("capture must run as administrator (the hash is readable "
                                          "only by administrators or SYSTEM)",
                                          0),
              0U)
        << all_notes(*device);
  }
  if (under_wine()) {
    // Wine has no MDM bridge: that must be said plainly, while make and model still come from
    // Win32_ComputerSystem, which Wine implements.
    EXPECT_TRUE(has_note(*device,
                         "the WMI class MDM_DevDetail_Ext01 (namespace "
                         "root\\cimv2\\mdm\\dmmap) is not available on this system"))
        << all_notes(*device);
    EXPECT_TRUE(has_note(*device, "WBEM_E_INVALID_")) << "the WMI error name helps searching:\n"
                                                      << all_notes(*device);
    EXPECT_FALSE(device->manufacturer.empty()) << all_notes(*device);
    EXPECT_FALSE(device->model.empty()) << all_notes(*device);
  }
}

TEST(CaptureWmi, WorksFromASingleThreadedApartment) {
  // A GUI host (the tray) has COM in STA mode already: capture must neither fail nor
  // uninitialise COM under its feet.
  std::optional<Result<CapturedDevice>> result;
  HRESULT after = E_FAIL;
  std::thread sta([&] {
    const HRESULT init = ::CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED);
    ASSERT_TRUE(SUCCEEDED(init));
    result.emplace(capture_local_device());
    // Still initialised by us: a second STA init answers S_FALSE, not CO_E_NOTINITIALIZED paths.
    after = ::CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED);
    if (SUCCEEDED(after)) ::CoUninitialize();
    ::CoUninitialize();
  });
  sta.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->error().message;
  EXPECT_EQ(after, S_FALSE);
  EXPECT_FALSE((*result)->notes.empty() && !(*result)->has_hash);
}

TEST(CaptureWmi, RepeatedCapturesAgree) {
  auto first = capture_local_device();
  auto second = capture_local_device();
  ASSERT_EQ(first.ok(), second.ok());
  if (!first.ok()) return;
  EXPECT_EQ(first->serial_number, second->serial_number);
  EXPECT_EQ(first->manufacturer, second->manufacturer);
  EXPECT_EQ(first->model, second->model);
  EXPECT_EQ(first->notes, second->notes);
}

// The append's Windows branch (_wopen/_commit, binary mode): a Unicode folder, exact CRLF bytes.
TEST(CaptureWmi, AppendsUnderAUnicodeFolderWithExactCrlf) {
  wchar_t temp[MAX_PATH + 1] = {};
  ASSERT_GT(::GetTempPathW(MAX_PATH, temp), 0U);
  const std::filesystem::path dir =
      std::filesystem::path(temp) /
      (L"hangar-capture-\u00e9t\u00e9-" + std::to_wstring(::GetCurrentProcessId()));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(std::filesystem::create_directories(dir));

  CaptureRow row;
  row.serial_number = "PF3ABC12";
  row.hardware_hash =
      HardwareHashBuilder::realistic("PF3ABC12", "LENOVO", "20XW", "10.0.22631.2861", 1, 1024)
          .build_base64();
  const auto file = dir / capture_file_name(row.serial_number);
  auto appended = append_capture_row(file, row);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_TRUE(appended->created);

  CaptureRow second = row;
  second.serial_number = "PF3ABC13";
  auto again = append_capture_row(file, second);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->line, 3U);

  auto duplicate = append_capture_row(file, row);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, kCaptureAlreadyCapturedCode);

  std::ifstream in(file, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  in.close();
  EXPECT_EQ(bytes, std::string(kCaptureBaseHeader) + "\r\nPF3ABC12,," + row.hardware_hash +
                       "\r\nPF3ABC13,," + row.hardware_hash + "\r\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hangar::core
