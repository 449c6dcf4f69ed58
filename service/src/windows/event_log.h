// The Windows Event Log behind EventSink: entries in the Application log under hangard's source,
// with texts from the message table compiled into hangard.exe (messages.mc).
#pragma once

#include <string>

#include "hangar/service/event_sink.h"

namespace hangar::service::win {

class WindowsEventSink final : public EventSink {
 public:
  // Opens the source (RegisterEventSourceW). The source should be registered (the MSI and
  // `hangard install` do it); without that, Windows still logs the entries, with a note that
  // the message text cannot be found.
  explicit WindowsEventSink(const std::string& source);
  ~WindowsEventSink() override;
  WindowsEventSink(const WindowsEventSink&) = delete;
  WindowsEventSink& operator=(const WindowsEventSink&) = delete;

  void write(const EventEntry& entry) override;
  // write() that says whether ReportEventW succeeded (false also when the source did not open).
  bool try_write(const EventEntry& entry);
  bool is_open() const { return source_ != nullptr; }

 private:
  void* source_ = nullptr;  // HANDLE from RegisterEventSourceW
};

// The message-table id of `id` (the values windmc/mc generated for messages.mc).
unsigned long message_id(EventId id);

// Registers `source` in the Application log with `message_file` (hangard.exe) as its
// EventMessageFile; unregister_event_source() deletes the key. Both need an administrator.
// Return an empty string on success, else what failed.
std::string register_event_source(const std::string& source, const std::wstring& message_file);
std::string unregister_event_source(const std::string& source);

}  // namespace hangar::service::win
