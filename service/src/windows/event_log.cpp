// WindowsEventSink: RegisterEventSourceW / ReportEventW, and the source's registry key.
#include "event_log.h"

#include <windows.h>

#include <vector>

#include "messages.h"  // generated from messages.mc
#include "win_text.h"

namespace hangar::service::win {
namespace {

constexpr const wchar_t* kApplicationLogKey =
    L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\";

WORD event_type(EventLevel level) {
  switch (level) {
    case EventLevel::kError:
      return EVENTLOG_ERROR_TYPE;
    case EventLevel::kWarning:
      return EVENTLOG_WARNING_TYPE;
    case EventLevel::kInformation:
      break;
  }
  return EVENTLOG_INFORMATION_TYPE;
}

}  // namespace

unsigned long message_id(EventId id) {
  switch (id) {
    case EventId::kServiceStarted:
      return HANGAR_MSG_SERVICE_STARTED;
    case EventId::kServiceStopped:
      return HANGAR_MSG_SERVICE_STOPPED;
    case EventId::kServiceFailed:
      return HANGAR_MSG_SERVICE_FAILED;
    case EventId::kRegistrationFailed:
      return HANGAR_MSG_REGISTRATION_FAILED;
    case EventId::kReadyForUser:
      return HANGAR_MSG_READY_FOR_USER;
    case EventId::kRegistrationFailedSummary:
      return HANGAR_MSG_REGISTRATION_FAILED_SUMMARY;
    case EventId::kReadyForUserSummary:
      return HANGAR_MSG_READY_FOR_USER_SUMMARY;
    case EventId::kCloudRequestRefused:
      return HANGAR_MSG_CLOUD_REQUEST_REFUSED;
    case EventId::kCloudRequestAccepted:
      return HANGAR_MSG_CLOUD_REQUEST_ACCEPTED;
  }
  return static_cast<unsigned long>(id);
}

WindowsEventSink::WindowsEventSink(const std::string& source)
    : source_(::RegisterEventSourceW(nullptr, to_wide(source).c_str())) {}

WindowsEventSink::~WindowsEventSink() {
  if (source_ != nullptr) ::DeregisterEventSource(static_cast<HANDLE>(source_));
}

void WindowsEventSink::write(const EventEntry& entry) { try_write(entry); }

bool WindowsEventSink::try_write(const EventEntry& entry) {
  if (source_ == nullptr) return false;
  std::vector<std::wstring> texts;
  texts.reserve(entry.strings.size());
  for (const auto& s : entry.strings) texts.push_back(to_wide(s));
  std::vector<const wchar_t*> strings;
  strings.reserve(texts.size());
  for (const auto& t : texts) strings.push_back(t.c_str());
  return ::ReportEventW(static_cast<HANDLE>(source_), event_type(entry.level), 0,
                        message_id(entry.id), nullptr, static_cast<WORD>(strings.size()), 0,
                        strings.empty() ? nullptr : strings.data(), nullptr) != FALSE;
}

std::string register_event_source(const std::string& source, const std::wstring& message_file) {
  const std::wstring key = kApplicationLogKey + to_wide(source);
  HKEY handle = nullptr;
  LSTATUS rc = ::RegCreateKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, nullptr, 0, KEY_SET_VALUE,
                                 nullptr, &handle, nullptr);
  if (rc != ERROR_SUCCESS)
    return "cannot create " + to_utf8(key) + ": " + error_text(static_cast<DWORD>(rc));
  const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
  rc = ::RegSetValueExW(handle, L"EventMessageFile", 0, REG_EXPAND_SZ,
                        reinterpret_cast<const BYTE*>(message_file.c_str()),
                        static_cast<DWORD>((message_file.size() + 1) * sizeof(wchar_t)));
  if (rc == ERROR_SUCCESS) {
    rc = ::RegSetValueExW(handle, L"TypesSupported", 0, REG_DWORD,
                          reinterpret_cast<const BYTE*>(&types), sizeof(types));
  }
  ::RegCloseKey(handle);
  if (rc != ERROR_SUCCESS)
    return "cannot write " + to_utf8(key) + ": " + error_text(static_cast<DWORD>(rc));
  return {};
}

std::string unregister_event_source(const std::string& source) {
  const std::wstring key = kApplicationLogKey + to_wide(source);
  const LSTATUS rc = ::RegDeleteKeyW(HKEY_LOCAL_MACHINE, key.c_str());
  if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
    return "cannot delete " + to_utf8(key) + ": " + error_text(static_cast<DWORD>(rc));
  }
  return {};
}

}  // namespace hangar::service::win
