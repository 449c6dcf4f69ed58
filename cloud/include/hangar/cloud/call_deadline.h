// A bound on how long the cloud calls made on one thread may take: an operator command
// (deliver, deregister, remove --force) runs on the engine's thread while its CLI waits, so each
// of its HTTP calls may take only what is left of that wait (`hangar --timeout`, less a margin),
// not the client's full timeout. Then the service always answers before the CLI gives up: a write
// that does not answer in time is an answer lost (in doubt), told as such, not a CLI timeout.
#pragma once

#include <chrono>
#include <optional>

namespace hangar::cloud {

// While one lives, cloud calls on this thread end by `until` (the innermost one counts).
class CallDeadline {
 public:
  explicit CallDeadline(std::chrono::steady_clock::time_point until);
  ~CallDeadline();
  CallDeadline(const CallDeadline&) = delete;
  CallDeadline& operator=(const CallDeadline&) = delete;

 private:
  std::optional<std::chrono::steady_clock::time_point> outer_;
};

// The timeout one call on this thread may use: `configured`, cut to what is left before the
// thread's deadline (zero or less: the deadline has passed; nothing may be sent).
std::chrono::milliseconds call_timeout(std::chrono::milliseconds configured);

// True while a CallDeadline is in force on this thread.
bool has_call_deadline();

}  // namespace hangar::cloud
