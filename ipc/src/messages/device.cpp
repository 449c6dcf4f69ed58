// The wire form of a queued device and of the `list`, `show` and `deliver` replies (device.h).
#include "hangar/ipc/messages/device.h"

#include <array>
#include <utility>

#include "hangar/core/excerpt.h"

namespace hangar::ipc::msg {

namespace {

using Text = std::optional<std::string> Device::*;
using Number = std::optional<std::int64_t> Device::*;
using Flag = std::optional<bool> Device::*;

// The optional fields, in one place for reading, writing and truncating.
constexpr std::array<std::pair<const char*, Text>, 18> kTexts{{
    {"product_id", &Device::product_id},
    {"manufacturer", &Device::manufacturer},
    {"model", &Device::model},
    {"group_tag", &Device::group_tag},
    {"assigned_user", &Device::assigned_user},
    {"failure_reason", &Device::failure_reason},
    {"last_error", &Device::last_error},
    {"request_id", &Device::request_id},
    {"source_file", &Device::source_file},
    {"import_id", &Device::import_id},
    {"cloud_device_id", &Device::cloud_device_id},
    {"managed_device_id", &Device::managed_device_id},
    {"enrollment_state", &Device::enrollment_state},
    {"delivered_to", &Device::delivered_to},
    {"azure_ad_device_id", &Device::azure_ad_device_id},
    {"advice", &Device::advice},
    {"pending_cause", &Device::pending_cause},
    {"hash", &Device::hash},
}};
constexpr std::array<std::pair<const char*, Number>, 7> kNumbers{{
    {"source_line", &Device::source_line},
    {"next_attempt_at", &Device::next_attempt_at},
    {"last_sync_at", &Device::last_sync_at},
    {"delivered_at", &Device::delivered_at},
    {"last_contacted_at", &Device::last_contacted_at},
    {"pending_flagged_at", &Device::pending_flagged_at},
    {"uploading_since", &Device::uploading_since},
}};
constexpr std::array<std::pair<const char*, Flag>, 3> kFlags{{
    {"permanent", &Device::permanent},
    {"long_pending", &Device::long_pending},
    {"truncated", &Device::truncated},
}};

template <typename Table>
void read_table(const Table& table, Device& d, Fields& f) {
  for (const auto& [key, member] : table) {
    f.optional(key, d.*member);
  }
}

template <typename Table>
void write_table(const Table& table, const Device& d, Json& json) {
  for (const auto& [key, member] : table) {
    put_optional(json, key, d.*member);
  }
}

}  // namespace

void Device::truncate(std::size_t max_bytes) {
  serial = core::excerpt(serial, max_bytes);
  state_display = core::excerpt(state_display, max_bytes);
  profile = core::excerpt(profile, max_bytes);
  for (const auto& [key, member] : kTexts) {
    if (this->*member) this->*member = core::excerpt(*(this->*member), max_bytes);
  }
  hash.reset();
  truncated = true;
}

Device Device::read(const Json&, Fields& f) {
  Device d;
  f.required("id", d.id)
      .required("serial", d.serial)
      .required("state", d.state)
      .required("state_display", d.state_display)
      .required("profile", d.profile)
      .required("partner_registered", d.partner_registered)
      .required("attempts", d.attempts)
      .required("created_at", d.created_at)
      .required("updated_at", d.updated_at)
      .required("state_changed_at", d.state_changed_at)
      .required("has_hash", d.has_hash);
  read_table(kTexts, d, f);
  read_table(kNumbers, d, f);
  read_table(kFlags, d, f);
  return d;
}

core::Result<Device> Device::from_json(const Json& json) {
  return read_message<Device>(json, "device");
}

Json Device::to_json() const {
  Json json(Json::value_t::object);
  json["id"] = id;
  json["serial"] = serial;
  json["state"] = core::storage_key(state);
  json["state_display"] = state_display;
  json["profile"] = profile;
  json["partner_registered"] = partner_registered;
  json["attempts"] = attempts;
  json["created_at"] = created_at;
  json["updated_at"] = updated_at;
  json["state_changed_at"] = state_changed_at;
  json["has_hash"] = has_hash;
  write_table(kTexts, *this, json);
  write_table(kNumbers, *this, json);
  write_table(kFlags, *this, json);
  return json;
}

core::Result<DeliverReply> DeliverReply::from_json(const Json& json) {
  auto device = read_message<Device>(json, kWhat);
  if (!device) return std::move(device).error();
  DeliverReply reply;
  static_cast<Device&>(reply) = std::move(device).value();
  return reply;
}

ListReply ListReply::read(const Json&, Fields& f) {
  ListReply r;
  f.required("devices", r.devices)
      .optional("total", r.total)
      .optional("next_after_id", r.next_after_id);
  return r;
}

core::Result<ListReply> ListReply::from_json(const Json& json) {
  return read_message<ListReply>(json, kWhat);
}

Json ListReply::to_json() const {
  Json json(Json::value_t::object);
  Json& rows = json["devices"];
  rows = Json::array();
  for (const auto& device : devices) rows.push_back(device.to_json());
  put_optional(json, "total", total);
  put_optional(json, "next_after_id", next_after_id);
  return json;
}

HashSummary HashSummary::read(const Json&, Fields& f) {
  HashSummary h;
  f.required("bytes", h.bytes).optional("error", h.error);
  if (h.error) return h;
  f.required("os_build", h.os_build.emplace())
      .required("serial", h.serial.emplace())
      .required("manufacturer", h.manufacturer.emplace())
      .required("model", h.model.emplace())
      .required("sku", h.sku.emplace())
      .required("family", h.family.emplace())
      .required("tpm_version", h.tpm_version.emplace())
      .required("checksum", h.checksum.emplace());
  return h;
}

Json HashSummary::to_json() const {
  Json json(Json::value_t::object);
  json["bytes"] = bytes;
  put_optional(json, "error", error);
  put_optional(json, "os_build", os_build);
  put_optional(json, "serial", serial);
  put_optional(json, "manufacturer", manufacturer);
  put_optional(json, "model", model);
  put_optional(json, "sku", sku);
  put_optional(json, "family", family);
  put_optional(json, "tpm_version", tpm_version);
  put_optional(json, "checksum", checksum);
  return json;
}

HistoryEntry HistoryEntry::read(const Json&, Fields& f) {
  HistoryEntry e;
  f.optional("from", e.from)
      .required("to", e.to)
      .required("to_display", e.to_display)
      .optional("reason", e.reason)
      .required("at", e.at);
  return e;
}

Json HistoryEntry::to_json() const {
  Json json(Json::value_t::object);
  json["to"] = core::storage_key(to);
  json["to_display"] = to_display;
  json["at"] = at;
  if (from) json["from"] = core::storage_key(*from);
  put_optional(json, "reason", reason);
  return json;
}

GroupCorrectionEntry GroupCorrectionEntry::read(const Json&, Fields& f) {
  GroupCorrectionEntry e;
  f.required("at", e.at)
      .required("action", e.action)
      .required("group_id", e.group_id)
      .required("profile", e.profile)
      .optional("reason", e.reason);
  return e;
}

Json GroupCorrectionEntry::to_json() const {
  Json json(Json::value_t::object);
  json["at"] = at;
  json["action"] = action;
  json["group_id"] = group_id;
  json["profile"] = profile;
  put_optional(json, "reason", reason);
  return json;
}

ShowReply ShowReply::read(const Json& json, Fields& f) {
  ShowReply r;
  r.device = Device::read(json, f);
  f.optional("hash_summary", r.hash_summary)
      .required("history", r.history)
      .optional("history_omitted", r.history_omitted)
      .required("group_corrections", r.group_corrections)
      .optional("group_corrections_omitted", r.group_corrections_omitted);
  return r;
}

core::Result<ShowReply> ShowReply::from_json(const Json& json) {
  return read_message<ShowReply>(json, kWhat);
}

Json ShowReply::to_json() const {
  Json json = device.to_json();
  if (hash_summary) json["hash_summary"] = hash_summary->to_json();
  Json& changes = json["history"];
  changes = Json::array();
  for (const auto& entry : history) changes.push_back(entry.to_json());
  put_optional(json, "history_omitted", history_omitted);
  Json& groups = json["group_corrections"];
  groups = Json::array();
  for (const auto& entry : group_corrections) groups.push_back(entry.to_json());
  put_optional(json, "group_corrections_omitted", group_corrections_omitted);
  return json;
}

}  // namespace hangar::ipc::msg
