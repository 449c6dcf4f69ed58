// What hangard writes to the Windows Event Log, without Windows: the event ids and their insertion
// strings, and the sink that writes an entry (the Event Log on Windows, a fake in tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hangar::service {

// Event ids. hangard.exe's message table (windows/messages.mc) has one message per id, with the
// insertion strings %1, %2, ... listed here: keep both in step.
enum class EventId : std::uint16_t {
  kServiceStarted = 1,               // %1 version, %2 data directory, %3 endpoint
  kServiceStopped = 2,               // %1 exit code
  kServiceFailed = 3,                // %1 what failed
  kRegistrationFailed = 100,         // %1 serial, %2 reason
  kReadyForUser = 101,               // %1 serial
  kRegistrationFailedSummary = 110,  // %1 count, %2 from, %3 to (UTC)
  kReadyForUserSummary = 111,        // %1 count, %2 from, %3 to (UTC)
  // A request form Microsoft's cloud keeps refusing (cloud_health.h): %1 the request, %2 what it is
  // for, %3 HTTP status, %4 the answer, %5 request id, %6 what Hangar does meanwhile.
  kCloudRequestRefused = 120,
  kCloudRequestAccepted = 121,  // %1 the request, %2 what it is for
};

enum class EventLevel { kInformation, kWarning, kError };

struct EventEntry {
  EventId id = EventId::kServiceStarted;
  EventLevel level = EventLevel::kInformation;
  std::vector<std::string> strings;  // %1, %2, ... of the message, UTF-8

  bool operator==(const EventEntry&) const = default;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Writes one entry. Called from the service host and from the feed thread, so it must be
  // thread-safe and quick; a sink swallows its own failures (the log file has the same facts).
  virtual void write(const EventEntry& entry) = 0;
};

}  // namespace hangar::service
