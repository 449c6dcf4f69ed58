// The Windows pieces of packaging under Wine's real implementations: the data folder's security
// (set, read back, and the check that refuses anything looser), and the Event Log sink.
#include <gtest/gtest.h>

#include <windows.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "event_log.h"
#include "setup.h"
#include "test_support.h"

namespace hangar::service::win {
namespace {

// Upstream Wine keeps no security descriptors on files (it maps a DACL to Unix mode bits at
// most), so what protect_data_dir() set cannot be read back there.
bool under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// Making Administrators the owner needs an elevated token (UAC filters the group otherwise): a
// developer running ctest from a normal prompt skips these instead of failing them.
bool elevated() {
  HANDLE token = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return false;
  TOKEN_ELEVATION elevation{};
  DWORD size = 0;
  const bool ok = ::GetTokenInformation(token, TokenElevation, &elevation, sizeof elevation, &size);
  ::CloseHandle(token);
  return ok && elevation.TokenIsElevated != 0;
}

#define SKIP_UNLESS_ELEVATED() \
  if (!under_wine() && !elevated()) GTEST_SKIP() << "needs an elevated prompt"

TEST(DataDirSecurity, OnlySystemAndAdministratorsAfterProtect) {
  SKIP_UNLESS_ELEVATED();
  test::TempDir dir;
  const auto data = dir.path() / "Hangar";
  ASSERT_EQ(protect_data_dir(data), "");  // creates it too
  ASSERT_TRUE(std::filesystem::is_directory(data));
  if (under_wine()) GTEST_SKIP() << "Wine does not keep file security descriptors";
  std::string error;
  const std::string sddl = security_of(data, error);
  ASSERT_EQ(error, "");
  EXPECT_TRUE(is_protected_data_dir_security(sddl)) << sddl;
  EXPECT_NE(sddl.find("O:BA"), std::string::npos) << sddl;
  // Idempotent: an upgrade runs it again.
  EXPECT_EQ(protect_data_dir(data), "");
  EXPECT_TRUE(is_protected_data_dir_security(security_of(data, error))) << error;
}

TEST(DataDirSecurity, AnUpgradeKeepsWhatIsInside) {
  SKIP_UNLESS_ELEVATED();
  test::TempDir dir;
  const auto data = dir.path() / "Hangar";
  ASSERT_EQ(protect_data_dir(data), "");
  std::filesystem::create_directories(data / "logs");
  { std::ofstream(data / "hangar.db") << "queue"; }
  { std::ofstream(data / "logs" / "hangard.log") << "log"; }
  std::vector<std::string> notes;
  ASSERT_EQ(protect_data_dir(data, &notes), "");
  EXPECT_TRUE(std::filesystem::exists(data / "hangar.db"));
  EXPECT_TRUE(std::filesystem::exists(data / "logs" / "hangard.log"));
  if (under_wine()) {
    // Wine keeps no file security: setup says so instead of claiming the contents were checked.
    EXPECT_FALSE(file_security_kept(dir.path()));
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("keeps no file security"), std::string::npos) << notes[0];
  } else {
    EXPECT_TRUE(file_security_kept(dir.path()));
    EXPECT_TRUE(notes.empty()) << notes.front();  // made by this (administrator) process
    std::string error;
    EXPECT_TRUE(is_protected_data_dir_security(security_of(data, error))) << error;
  }
}

TEST(DataDirSecurity, AFileInTheFoldersPlaceIsMovedAside) {
  SKIP_UNLESS_ELEVATED();
  test::TempDir dir;
  const auto data = dir.path() / "Hangar";
  { std::ofstream(data) << "not a folder"; }
  std::vector<std::string> notes;
  ASSERT_EQ(protect_data_dir(data, &notes), "");
  EXPECT_TRUE(std::filesystem::is_directory(data));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("because it is a file"), std::string::npos) << notes[0];
  int aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().filename().wstring().find(L"Hangar.untrusted-") == 0) ++aside;
  }
  EXPECT_EQ(aside, 1);
}

TEST(RemoveTree, RemovesEverythingAndNeverFollowsALink) {
  test::TempDir dir;
  const auto data = dir.path() / "Hangar";
  std::filesystem::create_directories(data / "logs" / "old");
  { std::ofstream(data / "hangar.db") << "queue"; }
  { std::ofstream(data / "logs" / "old" / "hangard.1.log") << "log"; }
  ::SetFileAttributesW((data / "hangar.db").wstring().c_str(), FILE_ATTRIBUTE_READONLY);
  // Something outside the data folder that a link inside points to.
  const auto outside = dir.path() / "outside";
  std::filesystem::create_directories(outside);
  { std::ofstream(outside / "precious.txt") << "keep me"; }
  const bool linked = ::CreateSymbolicLinkW(
      (data / "link").wstring().c_str(), outside.wstring().c_str(),
      SYMBOLIC_LINK_FLAG_DIRECTORY | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE);
  const bool is_link = linked && (::GetFileAttributesW((data / "link").wstring().c_str()) &
                                  FILE_ATTRIBUTE_REPARSE_POINT);
  ASSERT_EQ(remove_tree(data), "");
  EXPECT_FALSE(std::filesystem::exists(data));
  if (!is_link) GTEST_SKIP() << "no directory symbolic links here (Wine, or no privilege)";
  EXPECT_TRUE(std::filesystem::exists(outside / "precious.txt"));
}

TEST(DataDirSecurity, TheCheckRefusesLooserDescriptors) {
  EXPECT_TRUE(is_protected_data_dir_security("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"));
  EXPECT_TRUE(is_protected_data_dir_security("O:BAD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)"));
  // Inherits ProgramData's entries (users may create files there).
  EXPECT_FALSE(is_protected_data_dir_security("O:BAD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"));
  EXPECT_FALSE(is_protected_data_dir_security("O:BAD:AI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"));
  // Anyone else, even read-only.
  EXPECT_FALSE(is_protected_data_dir_security(
      "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"));
  EXPECT_FALSE(is_protected_data_dir_security("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;AU)"));
  EXPECT_FALSE(is_protected_data_dir_security("O:BAD:P(A;OICI;FA;;;SY)"));
  EXPECT_FALSE(is_protected_data_dir_security("O:BA"));
  // Owned by an ordinary user, who could change the DACL back.
  EXPECT_TRUE(is_protected_data_dir_security("O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"));
  EXPECT_FALSE(is_protected_data_dir_security(
      "O:S-1-5-21-1004336348-1177238915-682003330-1001D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"));
}

TEST(EventLog, MessageIdsMatchTheEventIds) {
  // The message table was compiled with plain ids: what Event Viewer shows is the EventId.
  for (EventId id : {EventId::kServiceStarted, EventId::kServiceStopped, EventId::kServiceFailed,
                     EventId::kRegistrationFailed, EventId::kReadyForUser,
                     EventId::kRegistrationFailedSummary, EventId::kReadyForUserSummary,
                     EventId::kCloudRequestRefused, EventId::kCloudRequestAccepted}) {
    EXPECT_EQ(message_id(id), static_cast<unsigned long>(id));
  }
}

TEST(EventLog, EntriesAreAccepted) {
  // Wine's event log only traces entries, so this checks the calls, not Event Viewer.
  WindowsEventSink sink("HangarTest");
  ASSERT_TRUE(sink.is_open());
  EXPECT_TRUE(sink.try_write({EventId::kReadyForUser, EventLevel::kInformation, {"SN-1"}}));
  EXPECT_TRUE(sink.try_write(
      {EventId::kRegistrationFailed, EventLevel::kWarning, {"SN-2", "Device not found"}}));
  EXPECT_TRUE(sink.try_write({EventId::kServiceStopped, EventLevel::kInformation, {}}));
  EXPECT_TRUE(sink.try_write(
      {EventId::kCloudRequestRefused,
       EventLevel::kError,
       {"GET .../windowsAutopilotDeviceIdentities?$filter=...", "confirming registered devices",
        "500", "An internal server error", "req-1", "every Autopilot device is listed instead"}}));
}

}  // namespace
}  // namespace hangar::service::win
