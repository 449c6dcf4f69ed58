// The device queue's read commands, list and show, and the row -> ipc::msg::Device conversion
// every device reply shares. import is in import_handler.cpp; deliver, remove, retry and
// deregister in queue_handlers.cpp.
#include "device_handlers.h"

#include <algorithm>
#include <limits>

#include "hangar/core/excerpt.h"
#include "hangar/core/field_limits.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/ipc/args.h"

namespace hangar::service::device_handlers {

using ipc::Json;

core::Error invalid(std::string message) {
  return core::make_error(ipc::errc::kInvalidArgument, std::move(message));
}

core::Result<std::string> serial_argument(std::string_view command, const Json& args) {
  auto serial = ipc::Args(command, args).required_text("serial", "the device's serial number");
  if (!serial) return serial;
  // No queued device has a longer one, and an error must not echo 60 KB back (black-box round
  // 10): said with its length, quoted only in part.
  if (serial->size() > core::kSerialLimit.max) {
    return core::make_error(ipc::errc::kInvalidArgument,
                            "the serial \"" + core::excerpt(*serial) + "\" is longer than " +
                                std::to_string(core::kSerialLimit.max) +
                                " bytes: no device has such a serial");
  }
  return serial;
}

ipc::msg::Device device_message(const store::DeviceRow& row) {
  ipc::msg::Device d;
  d.id = row.id;
  d.serial = row.serial;
  d.state = row.state;
  d.state_display = core::display_name(row.state);
  d.profile = row.profile;
  d.partner_registered = row.partner_registered;
  d.attempts = row.attempts;
  d.created_at = row.created_at;
  d.updated_at = row.updated_at;
  d.state_changed_at = row.state_changed_at;
  // A row read without its hash (list) still says whether it has one (black-box round 9).
  d.has_hash = row.has_hash || (row.hardware_hash && !row.hardware_hash->empty());
  d.product_id = row.product_id;
  d.manufacturer = row.manufacturer;
  d.model = row.model;
  d.group_tag = row.group_tag;
  d.assigned_user = row.assigned_user;
  d.failure_reason = row.failure_reason;
  d.last_error = row.last_error;
  d.request_id = row.request_id;
  d.source_file = row.source_file;
  d.source_line = row.source_line;
  d.import_id = row.import_id;
  d.cloud_device_id = row.cloud_device_id;
  d.next_attempt_at = row.next_attempt_at;
  d.managed_device_id = row.managed_device_id;
  d.enrollment_state = row.enrollment_state;
  d.last_sync_at = row.last_sync_at;
  d.delivered_at = row.delivered_at;
  d.delivered_to = row.delivered_to;
  d.azure_ad_device_id = row.azure_ad_device_id;
  d.last_contacted_at = row.last_contacted_at;
  if (row.state == core::DeviceState::kQueued) d.uploading_since = row.in_flight_since;
  // The seed's advice for a failure it names; permanent ones wait for the supplier, not a retry.
  if (row.failure_reason) {
    if (auto failure = core::failure_of_text(*row.failure_reason)) {
      d.advice = std::string(core::advice(*failure));
      d.permanent = core::is_permanent(*failure);
    }
  }
  // Registration Pending for longer than usual, and why as far as the engine knows.
  if (row.state == core::DeviceState::kRegistrationPending && row.pending_flagged_at) {
    d.long_pending = true;
    d.pending_flagged_at = row.pending_flagged_at;
    d.pending_cause = row.pending_cause;
  }
  if (row.hardware_hash && !row.hardware_hash->empty()) {
    d.hash = core::encode_base64(*row.hardware_hash);
  }
  return d;
}

namespace {

// A page of `list` must fit one frame: rows with their 4 KB hashes are about 6 KB of JSON each.
// Besides the row counts, a page ends once its rows reach kPageBytes (half a frame), whatever
// their fields hold, so no page can outgrow the frame limit.
constexpr std::int64_t kMaxPageWithHashes = 500;
constexpr std::int64_t kMaxPage = 5000;
constexpr std::size_t kPageBytes = ipc::kDefaultMaxFrameSize / 2;
// A row stored before fields had limits may alone exceed a page: it is sent with each text
// cut to this and without its hash, marked "truncated" (hangar show has the rest).
constexpr std::size_t kOversizeFieldBytes = 4096;
// `show`'s history and group corrections: the newest entries that fit this many bytes.
constexpr std::size_t kShowBytes = ipc::kDefaultMaxFrameSize / 2;

core::Result<Json> handle_list(ServiceContext& context, const Json& args) {
  const ipc::Args reader("list", args);
  store::DeviceFilter filter;
  auto state_text = reader.text("state");
  if (!state_text) return std::move(state_text).error();
  if (*state_text) {
    auto state = core::parse_device_state(**state_text);
    if (!state) {
      return invalid("unknown state \"" + core::excerpt(**state_text) + "\"; use " +
                     core::accepted_state_names());
    }
    filter.state = *state;
  }
  auto profile_text = reader.text("profile");
  if (!profile_text) return std::move(profile_text).error();
  if (*profile_text) {
    auto profile = core::parse_profile(**profile_text);
    if (!profile) {
      return invalid("unknown profile \"" + core::excerpt(**profile_text) + "\"; use " +
                     std::string(core::profile_spellings()));
    }
    filter.profile = std::string(core::cli_name(*profile));
  }
  // Counts arrive as unsigned 64-bit numbers; the store's are signed.
  const auto as_int64 = [](std::uint64_t value) {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(value, std::numeric_limits<std::int64_t>::max()));
  };
  auto since = reader.count("since_ms");
  if (!since) return std::move(since).error();
  if (*since) filter.changed_since = as_int64(**since);
  auto after = reader.count("after_id");
  if (!after) return std::move(after).error();
  if (*after) filter.after_id = as_int64(**after);
  auto limit_arg = reader.count("limit");
  if (!limit_arg) return std::move(limit_arg).error();
  const std::int64_t limit = *limit_arg ? as_int64(**limit_arg) : 0;
  auto with_hash = reader.flag("with_hash");
  if (!with_hash) return std::move(with_hash).error();
  filter.with_hash = with_hash->value_or(false);
  const std::int64_t page_max = filter.with_hash ? kMaxPageWithHashes : kMaxPage;
  filter.limit = limit == 0 ? page_max : std::min(limit, page_max);

  auto rows = context.store.list_devices(filter);
  if (!rows) return rows.error();
  ipc::msg::ListReply reply;
  std::size_t bytes = 0;
  bool cut_short = false;  // the byte budget ended the page before the rows did
  for (const auto& row : *rows) {
    ipc::msg::Device device = device_message(row);
    std::size_t size = ipc::json_size(device.to_json());
    if (size > kPageBytes) {
      device.truncate(kOversizeFieldBytes);
      size = ipc::json_size(device.to_json());
    }
    if (!reply.devices.empty() && bytes + size > kPageBytes) {
      cut_short = true;
      break;
    }
    bytes += size;
    reply.devices.push_back(std::move(device));
  }
  const std::int64_t last_id = reply.devices.empty() ? 0 : reply.devices.back().id;
  // On the first page: how many devices match in all, so a listing can say "50 of 1,519".
  if (filter.after_id == 0) {
    auto total = context.store.count_devices(filter);
    if (!total) return total.error();
    reply.total = *total;
  }
  // When the page size, not the caller, cut the list short, a full page may have more behind it:
  // the client asks again from here.
  const bool clamped = limit == 0 || limit > page_max;
  if (cut_short || (clamped && static_cast<std::int64_t>(rows->size()) == filter.limit)) {
    reply.next_after_id = last_id;
  }
  return reply.to_json();
}

// Keeps the newest entries of `entries` (oldest first) whose wire form fits `budget` bytes;
// returns how many older ones were left out.
template <typename Entry>
std::size_t keep_newest(std::vector<Entry>& entries, std::size_t budget) {
  std::size_t bytes = 0;
  std::size_t keep = 0;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const std::size_t size = ipc::json_size(it->to_json()) + 1;
    if (bytes + size > budget) break;
    bytes += size;
    ++keep;
  }
  const std::size_t dropped = entries.size() - keep;
  if (dropped > 0) {
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(dropped));
  }
  return dropped;
}

core::Result<Json> handle_show(ServiceContext& context, const Json& args) {
  auto serial = serial_argument("show", args);
  if (!serial) return serial.error();
  auto row = context.store.get_device(*serial);
  if (!row) return row.error();
  auto history = context.store.history(*serial);
  if (!history) return history.error();
  ipc::msg::ShowReply reply;
  reply.device = device_message(*row);
  if (ipc::json_size(reply.device.to_json()) > kShowBytes)
    reply.device.truncate(kOversizeFieldBytes);
  if (row->hardware_hash && !row->hardware_hash->empty()) {
    ipc::msg::HashSummary& summary = reply.hash_summary.emplace();
    summary.bytes = row->hardware_hash->size();
    auto info = core::parse_hardware_hash(*row->hardware_hash);
    if (info) {
      summary.os_build = info->os_build;
      summary.serial = info->serial_number;
      summary.manufacturer = info->manufacturer;
      summary.model = info->model;
      summary.sku = info->sku;
      summary.family = info->family;
      summary.tpm_version = info->tpm_version;
      summary.checksum = std::string(core::checksum_name(info->checksum));
    } else {
      summary.error = info.error().message;
    }
  }
  for (const auto& change : *history) {
    reply.history.push_back({change.from_state, change.to_state,
                             std::string(core::display_name(change.to_state)), change.reason,
                             change.at});
  }
  // A device retried for years has a long history: the newest part that fits is shown.
  if (const std::size_t dropped = keep_newest(reply.history, kShowBytes / 2); dropped > 0) {
    reply.history_omitted = static_cast<std::int64_t>(dropped);
  }
  auto corrections = context.store.group_corrections(*serial);
  if (!corrections) return corrections.error();
  for (const auto& correction : *corrections) {
    reply.group_corrections.push_back(
        {correction.at, correction.action, correction.group_id, correction.profile,
         correction.reason.empty() ? std::nullopt : std::optional<std::string>(correction.reason)});
  }
  if (const std::size_t dropped = keep_newest(reply.group_corrections, kShowBytes / 4);
      dropped > 0) {
    reply.group_corrections_omitted = static_cast<std::int64_t>(dropped);
  }
  return reply.to_json();
}

}  // namespace

}  // namespace hangar::service::device_handlers

namespace hangar::service {

void add_device_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context) {
  using namespace device_handlers;
  add_import_binding(bindings, context);
  bindings.push_back({"list", [&context](const Json& args, const ipc::CallContext&) {
                        return handle_list(context, args);
                      }});
  bindings.push_back({"show", [&context](const Json& args, const ipc::CallContext&) {
                        return handle_show(context, args);
                      }});
  add_queue_bindings(bindings, context);
}

}  // namespace hangar::service
