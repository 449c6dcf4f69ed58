// What the engine learns about the cloud beyond a single call: the last failure (when it happened,
// and whether a success has followed), and the request forms the service keeps refusing. A read
// answered 400 or 500 pass after pass is not "transient for ever": after kPassesToFlag passes it
// is logged at error level with its request id, written to the Event Log, shown by `hangar status`
// (and the tray) as needing attention, and the engine switches to the form's fallback, if it has
// one, asking again after kRecheck.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/result.h"
#include "hangar/service/event_sink.h"

namespace hangar::service {

// One shape of request the engine sends: the same method, path and query options whatever the
// values. `fallback` says what the engine does instead when the service keeps refusing it (empty:
// nothing can replace it, the work waits).
struct RequestForm {
  const char* id;       // stable key ("autopilot.by_group_tag")
  const char* request;  // "GET .../windowsAutopilotDeviceIdentities?$filter=contains(groupTag,'…')"
  const char* purpose;  // "confirming registered devices (Ready for user)"
  const char* fallback;
};

// The reads that carry a query shape the service could refuse (doc/architecture.md lists them),
// and the housekeeping DELETE of our import records (nothing replaces it; it must not hold the
// rest).
namespace forms {
extern const RequestForm kImportedList;
extern const RequestForm kImportedGet;
extern const RequestForm kImportedBySerial;
extern const RequestForm kImportedDelete;
extern const RequestForm kImportCreate;
extern const RequestForm kAutopilotList;
extern const RequestForm kAutopilotByGroupTag;
extern const RequestForm kAutopilotBySerial;
extern const RequestForm kManagedDevices;
extern const RequestForm kGroupMembers;
extern const RequestForm kDevicesByDeviceId;
}  // namespace forms

// A request form the service has refused kPassesToFlag passes running.
struct RefusedRequest {
  std::string form_id;
  std::string request;
  std::string purpose;
  std::string fallback;
  int http_status = 0;       // of the last refusal
  std::string message;       // the last answer, redacted
  std::string request_id;    // of the last refusal
  std::int64_t since = 0;    // its first refusal in this run (Unix ms)
  std::int64_t last_at = 0;  // its last refusal
  int passes = 0;            // passes running in which it was refused
};

// The last failed cloud call, for `hangar status`.
struct LastCloudError {
  std::string text;              // what failed, with its request id; redacted
  std::int64_t at = 0;           // 0: none since start-up (or since new credentials)
  std::int64_t resolved_at = 0;  // the next successful call after it; 0: not yet
};

enum class Refusal {
  kNone,        // not a refusal of the form (429, 503, offline, a 404 for a missing object ...)
  kRefused,     // refused, not yet kPassesToFlag passes running
  kPersistent,  // refused kPassesToFlag passes running (or more): use the fallback
};

// Thread-safe: the engine's thread writes, `status` reads.
class CloudHealth {
 public:
  static constexpr int kPassesToFlag = 3;
  static constexpr std::chrono::hours kRecheck{6};

  // Where a form that becomes refused (error) or accepted again (information) is reported; null:
  // the log only.
  void set_event_sink(EventSink* sink);
  // A new engine pass: a form is counted at most once per pass.
  void begin_pass();

  // Every failed cloud call: logged at warn (with its request id) and kept as the last error.
  // While the cloud cannot be reached, the repeated probes are summed up once a minute.
  void failed(const core::Error& error, std::int64_t now_ms);
  // Any answer after a failure marks that failure resolved.
  void succeeded(std::int64_t now_ms);
  // New credentials: the old failures say nothing about the new ones.
  void clear_last_error();

  // A call of `form` failed with `error`. A 400, 405, 500 or 501 is a refusal of the form; at the
  // kPassesToFlag-th pass running it becomes persistent (logged at error level, Event Log). A
  // persistent refusal is also the last error: the caller falls back instead of failing.
  Refusal refused(const RequestForm& form, const core::Error& error, std::int64_t now_ms);
  // A call of `form` succeeded: a persistent refusal is over (logged, Event Log).
  void accepted(const RequestForm& form, std::int64_t now_ms);
  // True while `form` is refused persistently and not due for another try: the engine uses the
  // fallback without asking.
  bool avoid(const RequestForm& form, std::int64_t now_ms) const;

  // The cloud refused Hangar's credentials (an AADSTS answer to the token request, or Graph's
  // 401/403 once a token was issued): nothing works until an admin acts, so it needs attention at
  // once (`hangar status`, the tray, `hangar config show`), listed by refused_requests() as the
  // form "credentials", until a call succeeds or new credentials are set.
  void credentials_refused(const core::Error& error, std::int64_t now_ms);

  LastCloudError last_error() const;
  // The persistent refusals, oldest first.
  std::vector<RefusedRequest> refused_requests() const;

  // True for the HTTP statuses that refuse a request form rather than the moment.
  static bool is_refusal_status(int http_status);

 private:
  struct Track {
    RefusedRequest shown;
    std::int64_t last_pass = -1;
    std::int64_t tried_at = 0;  // when the form was last sent while persistent
    bool persistent = false;
  };

  mutable std::mutex mutex_;
  EventSink* sink_ = nullptr;
  std::int64_t pass_ = 0;
  std::map<std::string, Track> tracks_;  // by form id
  LastCloudError last_;
  std::optional<RefusedRequest> credentials_;
  // The current stretch of failures to reach the cloud: first at, count, last summary at.
  std::int64_t unreachable_since_ = 0;
  std::int64_t unreachable_count_ = 0;
  std::int64_t unreachable_logged_at_ = 0;
};

}  // namespace hangar::service
