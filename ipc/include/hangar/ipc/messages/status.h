// The `status` reply, built once by the service (handlers.cpp) and parsed once, by this code, for
// the CLI (`hangar status`, `refresh`, `sync`) and the tray. The wire form is unchanged from the
// untyped reply: every field name and type is as before, and a field the service leaves out is
// a std::optional here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

// A device Registration Pending for longer than usual (`long_pending_devices`).
struct LongPendingDevice {
  std::string serial;
  std::int64_t pending_since = 0;  // Unix ms
  std::string cause;               // empty: not known yet
  static LongPendingDevice read(const Json& json, Fields& fields);
  Json to_json() const;
};

// Who asked (`caller`).
struct Caller {
  std::string user;
  bool can_write = false;
  bool is_admin = false;
  static Caller read(const Json& json, Fields& fields);
  Json to_json() const;
};

// A request form the cloud keeps refusing (`cloud.needs_attention`).
struct RefusedForm {
  std::string request;
  std::string purpose;
  int http_status = 0;
  std::string message;  // redacted
  std::string request_id;
  std::int64_t since = 0;
  std::int64_t last_at = 0;
  int passes = 0;
  std::string fallback;  // empty: that work waits
  static RefusedForm read(const Json& json, Fields& fields);
  Json to_json() const;
};

// A tenant device without a group tag that is not Hangar's (`untagged_devices`).
struct UntaggedDevice {
  std::string serial;
  std::string manufacturer;
  std::string model;
  static UntaggedDevice read(const Json& json, Fields& fields);
  Json to_json() const;
};

// The last activity pass (`cloud.activity`, flat beside next_pass_at on the wire).
struct ActivityPassSummary {
  std::int64_t last_pass_at = 0;
  std::int64_t devices = 0;
  std::int64_t rows_written = 0;
  std::int64_t requests = 0;
  std::int64_t active = 0;
  std::int64_t inactive = 0;
  std::int64_t partners_added = 0;
  std::int64_t profiles_set = 0;  // partner devices given the profile their tag maps to
  // Tenant devices without a group tag that are not Hangar's: how many, how many were added
  // (track_untagged), the first few.
  std::int64_t untagged = 0;
  std::int64_t untagged_added = 0;
  std::vector<UntaggedDevice> untagged_devices;
};

struct Activity {
  std::int64_t next_pass_at = 0;
  std::optional<ActivityPassSummary> last;  // none before the first pass
  static Activity read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct SkippedRemovalInfo {
  std::string serial;
  std::string group_id;
  std::string profile;
  std::string reason;  // redacted
  static SkippedRemovalInfo read(const Json& json, Fields& fields);
  Json to_json() const;
};

// The last finished profile-group sweep (`cloud.groups.last_sweep`; `sync`'s JSON output).
struct GroupSweepSummary {
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::int64_t devices = 0;
  std::int64_t skipped = 0;
  std::int64_t added = 0;
  std::int64_t removed = 0;
  std::int64_t removals_skipped = 0;
  std::optional<std::vector<SkippedRemovalInfo>> skipped_removals;  // the first few
  std::int64_t requests = 0;
  std::int64_t errors = 0;
  std::optional<std::string> last_error;
  static GroupSweepSummary read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct Groups {
  bool configured = false;
  // Present when configured:
  std::optional<bool> running;
  std::optional<std::int64_t> next_sweep_at;
  std::optional<GroupSweepSummary> last_sweep;
  static Groups read(const Json& json, Fields& fields);
  Json to_json() const;
};

// `cloud`: the credentials' summary (when the service has a cloud), then the engine's state (when
// an engine runs).
struct Cloud {
  std::optional<std::string> mode;  // "tenant", "simulated", "not_configured"
  std::optional<std::string> tenant_id;
  std::optional<std::string> credentials;  // where they come from, in words
  std::optional<std::string> url;
  std::optional<bool> online;
  std::optional<bool> paused;
  std::optional<std::int64_t> throttled;
  std::optional<std::int64_t> requests;
  std::optional<std::string> last_error;  // redacted
  std::optional<std::int64_t> last_error_at;
  std::optional<bool> last_error_resolved;
  std::optional<std::int64_t> last_error_resolved_at;
  std::optional<std::string> waiting_on;
  std::optional<std::int64_t> waiting_since;
  std::optional<std::int64_t> waiting_ms;
  std::optional<std::int64_t> requests_waiting;
  std::optional<std::vector<RefusedForm>> needs_attention;
  std::optional<std::int64_t> next_retry_at;
  std::optional<Activity> activity;
  std::optional<Groups> groups;
  static Cloud read(const Json& json, Fields& fields);
  Json to_json() const;
};

struct StatusReply {
  static constexpr std::string_view kCommand = "status";
  static constexpr std::string_view kWhat = "status reply";

  // Every state with its count (the service sends all six); a key that names no state is a
  // malformed reply.
  std::map<core::DeviceState, std::int64_t> states;
  std::int64_t long_pending = 0;
  std::vector<LongPendingDevice> long_pending_devices;  // left out of the wire when empty
  std::int64_t queue_depth = 0;
  std::string service_version;
  std::string platform;
  std::int64_t uptime_seconds = 0;
  std::int64_t subscribers = 0;
  std::string endpoint;
  std::string data_dir;
  Caller caller;
  Cloud cloud;

  std::int64_t count(core::DeviceState state) const;

  static StatusReply read(const Json& json, Fields& fields);
  static core::Result<StatusReply> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
