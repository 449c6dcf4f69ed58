// The Windows pieces of packaging under Wine's real implementations: the data folder's security
// (set, read back, and the check that refuses anything looser), and the Event Log sink.
#include <gtest/gtest.h>

#include <windows.h>

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

TEST(DataDirSecurity, OnlySystemAndAdministratorsAfterProtect) {
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
}

TEST(EventLog, MessageIdsMatchTheEventIds) {
  // The message table was compiled with plain ids: what Event Viewer shows is the EventId.
  for (EventId id : {EventId::kServiceStarted, EventId::kServiceStopped, EventId::kServiceFailed,
                     EventId::kRegistrationFailed, EventId::kReadyForUser,
                     EventId::kRegistrationFailedSummary, EventId::kReadyForUserSummary}) {
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
}

}  // namespace
}  // namespace hangar::service::win
