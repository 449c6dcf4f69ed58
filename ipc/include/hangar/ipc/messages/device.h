// A queued device as the service describes it (`list`'s rows, `show`, `deliver`'s reply), and the
// `list` and `show` replies. Built by the service (device_handlers.cpp) from a store row, parsed by
// the CLI (list, show, export, deliver). The wire form is the untyped one it replaces: field names
// and types unchanged, a field the service leaves out is a std::optional here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

struct Device {
  std::int64_t id = 0;
  std::string serial;
  core::DeviceState state = core::DeviceState::kQueued;  // "state": the storage key
  std::string state_display;                             // the seed's words ("Ready for user")
  std::string profile;                                   // CLI name; empty for partner devices
  bool partner_registered = false;
  std::int64_t attempts = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t state_changed_at = 0;
  bool has_hash = false;
  std::optional<std::string> product_id;
  std::optional<std::string> manufacturer;
  std::optional<std::string> model;
  std::optional<std::string> group_tag;
  std::optional<std::string> assigned_user;
  std::optional<std::string> failure_reason;
  std::optional<std::string> last_error;
  std::optional<std::string> request_id;
  std::optional<std::string> source_file;
  std::optional<std::int64_t> source_line;
  std::optional<std::string> import_id;
  std::optional<std::string> cloud_device_id;
  std::optional<std::int64_t> next_attempt_at;
  std::optional<std::string> managed_device_id;
  std::optional<std::string> enrollment_state;
  std::optional<std::int64_t> last_sync_at;
  std::optional<std::int64_t> delivered_at;
  std::optional<std::string> delivered_to;
  std::optional<std::string> azure_ad_device_id;
  std::optional<std::int64_t> last_contacted_at;
  // Queued and sent in an import call whose answer is not in yet (remove waits for it).
  std::optional<std::int64_t> uploading_since;
  // The seed's advice for a failure it names, and whether only the supplier can help.
  std::optional<std::string> advice;
  std::optional<bool> permanent;
  // Registration Pending for longer than usual.
  std::optional<bool> long_pending;
  std::optional<std::int64_t> pending_flagged_at;
  std::optional<std::string> pending_cause;
  std::optional<std::string> hash;  // base64; only when asked for (list with_hash, show)
  // A row too large for a page: every text cut, no hash (show has the rest).
  std::optional<bool> truncated;

  // Cuts every text field to `max_bytes` (core::excerpt), drops the hash and sets `truncated`.
  void truncate(std::size_t max_bytes);

  static Device read(const Json& json, Fields& fields);
  static core::Result<Device> from_json(const Json& json);
  Json to_json() const;
};

// `deliver` answers with the device as it is now.
struct DeliverReply : Device {
  static constexpr std::string_view kCommand = "deliver";
  static constexpr std::string_view kWhat = "deliver reply";
  static core::Result<DeliverReply> from_json(const Json& json);
};

struct ListReply {
  static constexpr std::string_view kCommand = "list";
  static constexpr std::string_view kWhat = "list reply";
  std::vector<Device> devices;
  std::optional<std::int64_t> total;          // on the first page: how many match in all
  std::optional<std::int64_t> next_after_id;  // more may follow: ask again from here

  static ListReply read(const Json& json, Fields& fields);
  static core::Result<ListReply> from_json(const Json& json);
  Json to_json() const;
};

// The hash's decoded summary in `show`: the fields, or why it does not decode.
struct HashSummary {
  std::uint64_t bytes = 0;
  std::optional<std::string> error;  // set: the rest are absent
  std::optional<std::string> os_build;
  std::optional<std::string> serial;
  std::optional<std::string> manufacturer;
  std::optional<std::string> model;
  std::optional<std::string> sku;
  std::optional<std::string> family;
  std::optional<std::string> tpm_version;
  std::optional<std::string> checksum;

  static HashSummary read(const Json& json, Fields& fields);
  Json to_json() const;
};

// One state change in `show`'s history.
struct HistoryEntry {
  std::optional<core::DeviceState> from;  // none for the row written when it was queued
  core::DeviceState to = core::DeviceState::kQueued;
  std::string to_display;
  std::optional<std::string> reason;
  std::int64_t at = 0;

  static HistoryEntry read(const Json& json, Fields& fields);
  Json to_json() const;
};

// One change the profile-group sweep made (or held back) in `show`.
struct GroupCorrectionEntry {
  std::int64_t at = 0;
  std::string action;  // "added", "removed" or "skipped"
  std::string group_id;
  std::string profile;
  std::optional<std::string> reason;

  static GroupCorrectionEntry read(const Json& json, Fields& fields);
  Json to_json() const;
};

// `show`: the device's fields at the top level, then the hash summary, history and corrections.
struct ShowReply {
  static constexpr std::string_view kCommand = "show";
  static constexpr std::string_view kWhat = "show reply";
  Device device;
  std::optional<HashSummary> hash_summary;
  std::vector<HistoryEntry> history;  // the newest entries that fit
  std::optional<std::int64_t> history_omitted;
  std::vector<GroupCorrectionEntry> group_corrections;
  std::optional<std::int64_t> group_corrections_omitted;

  static ShowReply read(const Json& json, Fields& fields);
  static core::Result<ShowReply> from_json(const Json& json);
  Json to_json() const;
};

}  // namespace hangar::ipc::msg
