// Small fakes of the passes' cloud interfaces (hangar/cloud/registration.h), one per pass, each
// holding only what its pass sees of the tenant.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "hangar/cloud/http.h"
#include "hangar/cloud/registration.h"
#include "hangar/core/clock.h"

namespace hangar::service::test {

// A 429 as Intune answers it: its JSON in the message, a Retry-After.
inline core::Error throttled_for(std::chrono::seconds wait) {
  core::Error error = core::make_error(
      cloud::kErrThrottled,
      R"(HTTP 429: {"error":{"code":"TooManyRequests","message":"{\"_version\": 3, \"Message\": \"Too many requests\"}"}})");
  error.http_status = 429;
  error.retry_after = wait;
  return error;
}

// The next scripted failure, if any is left.
inline std::optional<core::Error> next_failure(std::deque<core::Error>& failures) {
  if (failures.empty()) return std::nullopt;
  core::Error error = failures.front();
  failures.pop_front();
  return error;
}

// updateDeviceProperties on a fake tenant: the next scripted failure, else the tag is set.
inline core::Status set_tag(std::map<std::string, cloud::AutopilotDevice>& tenant,
                            std::deque<core::Error>& failures, const std::string& id,
                            const std::string& tag) {
  if (auto error = next_failure(failures)) return *error;
  for (auto& [serial, device] : tenant) {
    if (device.id == id) device.group_tag = tag;
  }
  return {};
}

// The registration pass's cloud: the import table and the tenant's Autopilot devices.
class FakeImports final : public cloud::RegistrationCloud {
 public:
  // Errors to return from the next import calls, in order; then success.
  std::deque<core::Error> import_failures;
  std::set<std::string> refused_serials;  // a call holding one is refused whole (400)
  bool offline = false;
  std::map<std::string, cloud::ImportRecord> records;  // by record id
  std::map<std::string, int> imports_per_serial;
  int import_calls = 0;
  int lookups = 0;
  int deletes = 0;
  std::vector<std::size_t> batch_sizes;
  // An import call takes this long on this clock (the answer arrives after it).
  core::FakeClock* clock = nullptr;
  std::chrono::milliseconds latency{0};
  // How an imported serial ends: "complete" or an error name.
  std::map<std::string, std::string> outcome;
  // The tenant's Autopilot devices by serial (registered imports land here), and the profile
  // status a registered serial shows (default assignedInSync).
  std::map<std::string, cloud::AutopilotDevice> tenant;
  std::map<std::string, std::string> profile;
  int tag_lists = 0;
  int tag_sets = 0;

  // Errors to return from the next reads of each kind ("tagged", "by_serial", "for_serial",
  // "table", "get"), in order; then the read works.
  std::map<std::string, std::deque<core::Error>> read_failures;
  // Import answers to cut off (kErrInDoubt) after the records were made, and serials an answer
  // leaves out although they were imported.
  int cut_off_answers = 0;
  std::set<std::string> left_out;
  // Records of other tools in the import table.
  int foreign_records = 0;

  std::optional<core::Error> fail(const std::string& kind) {
    auto it = read_failures.find(kind);
    if (it == read_failures.end() || it->second.empty()) return std::nullopt;
    core::Error error = it->second.front();
    it->second.pop_front();
    return error;
  }

  core::Result<std::vector<cloud::ImportRecord>> import_devices(
      std::span<const cloud::ImportItem> items) override {
    ++import_calls;
    if (clock) clock->advance(latency);  // the answer arrives this much later
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = next_failure(import_failures)) return *error;
    for (const auto& item : items) {
      if (refused_serials.contains(item.serial)) {
        // As Graph refuses a whole call for one record it cannot take.
        core::Error refused =
            core::make_error(cloud::kErrRejected,
                             "POST .../import answered HTTP 400: BadRequest (" + item.serial + ")");
        refused.http_status = 400;
        refused.request_id = "req-bad-" + item.serial;
        return refused;
      }
    }
    batch_sizes.push_back(items.size());
    std::vector<cloud::ImportRecord> out;
    for (const auto& item : items) {
      cloud::ImportRecord record;
      record.id = "rec-" + item.serial + "-" + std::to_string(++imports_per_serial[item.serial]);
      record.import_id = record.id;  // as Intune answers: one import id per record
      record.serial = item.serial;
      record.status = cloud::ImportStatus::kUnknown;
      records[record.id] = record;
      if (!left_out.contains(item.serial)) out.push_back(record);
    }
    if (cut_off_answers > 0) {
      --cut_off_answers;
      core::Error error = core::make_error(
          cloud::kErrInDoubt, "POST .../import answered HTTP 200 but with a body that is not JSON");
      error.http_status = 200;
      error.request_id = "req-cut-off";
      return error;
    }
    return out;
  }
  // A pending record finishes as `outcome` says when it is read.
  void progress(cloud::ImportRecord& record) {
    const std::string how = outcome.count(record.serial) ? outcome[record.serial] : "complete";
    if (how == "complete") {
      record.status = cloud::ImportStatus::kComplete;
      record.registration_id = "ap-" + record.serial;
      register_device(record.serial);
    } else if (how != "pending") {
      record.status = cloud::ImportStatus::kError;
      record.error_name = how;
      record.request_id = "req-poll-" + record.serial;
    }
  }
  int record_gets = 0;
  core::Result<std::optional<cloud::ImportRecord>> import_record(const std::string& id) override {
    ++record_gets;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("get")) return *error;
    auto it = records.find(id);
    if (it == records.end()) return std::optional<cloud::ImportRecord>();
    progress(it->second);
    return std::optional<cloud::ImportRecord>(it->second);
  }
  int table_lists = 0;
  core::Result<std::vector<cloud::ImportRecord>> list_import_records() override {
    ++table_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("table")) return *error;
    std::vector<cloud::ImportRecord> out;
    for (auto& [id, record] : records) {
      progress(record);
      out.push_back(record);
    }
    for (int i = 0; i < foreign_records; ++i) {
      cloud::ImportRecord other;
      other.id = "foreign-" + std::to_string(i);
      other.serial = "OTHER-TOOL-" + std::to_string(i);
      other.status = cloud::ImportStatus::kComplete;
      out.push_back(other);
    }
    return out;
  }
  core::Result<std::vector<cloud::ImportRecord>> import_records_for_serial(
      const std::string& serial) override {
    ++lookups;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("for_serial")) return *error;
    std::vector<cloud::ImportRecord> out;
    for (const auto& [id, record] : records) {
      if (record.serial == serial) out.push_back(record);
    }
    return out;
  }
  std::deque<core::Error> delete_failures;  // answers of the next delete_import_record calls
  core::Status delete_import_record(const std::string& id) override {
    ++deletes;
    if (auto error = next_failure(delete_failures)) return *error;
    records.erase(id);
    if (lost_delete_answers > 0) {
      --lost_delete_answers;
      return core::make_error(cloud::kErrNetwork,
                              "DELETE .../importedWindowsAutopilotDeviceIdentities/...: connection "
                              "reset");
    }
    return {};
  }
  int lost_delete_answers = 0;  // deletes done in the cloud whose answers are then lost
  // Serials the tenant does not list (find_autopilot_devices answers none), whatever was imported.
  std::set<std::string> absent;
  // Other machines with the same serial as ours (another manufacturer's), listed before ours.
  std::multimap<std::string, cloud::AutopilotDevice> namesakes;
  void register_device(const std::string& serial) {
    cloud::AutopilotDevice& device = tenant[serial];
    device.id = "ap-" + serial;
    device.serial = serial;
    if (device.group_tag.empty()) device.group_tag = "Microsoft365Managed_Autopilot";
  }
  cloud::AutopilotDevice with_profile(cloud::AutopilotDevice device) {
    device.profile_status =
        profile.count(device.serial) ? profile[device.serial] : "assignedInSync";
    return device;
  }
  // Devices not imported here (806: registered earlier) are in the tenant too.
  core::Result<std::vector<cloud::AutopilotDevice>> find_autopilot_devices(
      const std::string& serial) override {
    ++lookups;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("by_serial")) return *error;
    std::vector<cloud::AutopilotDevice> out;
    for (auto [it, end] = namesakes.equal_range(serial); it != end; ++it) {
      out.push_back(it->second);
    }
    if (absent.contains(serial)) return out;
    register_device(serial);
    out.push_back(with_profile(tenant[serial]));
    return out;
  }
  core::Result<std::vector<cloud::AutopilotDevice>> list_autopilot_devices_tagged(
      const std::string& tag) override {
    ++tag_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("tagged")) return *error;
    std::vector<cloud::AutopilotDevice> out;
    for (const auto& [serial, device] : tenant) {
      if (device.group_tag == tag) out.push_back(with_profile(device));
    }
    return out;
  }
  int all_lists = 0;
  // Every device, every field: the fallback of the filtered reads.
  core::Result<std::vector<cloud::AutopilotDevice>> list_autopilot_devices() override {
    ++all_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    if (auto error = fail("all")) return *error;
    std::vector<cloud::AutopilotDevice> out;
    for (const auto& [serial, device] : namesakes) out.push_back(device);
    for (const auto& [serial, device] : tenant) out.push_back(with_profile(device));
    return out;
  }
  std::deque<core::Error> tag_set_failures;  // answers of the next set_group_tag calls
  core::Status set_group_tag(const std::string& id, const std::string& tag) override {
    ++tag_sets;
    return set_tag(tenant, tag_set_failures, id, tag);
  }
};

// The activity pass's cloud: the tenant's Autopilot devices (enrollment, group tags) and the
// managed devices' last syncs.
class FakeActivity final : public cloud::ActivityCloud {
 public:
  bool offline = false;
  std::map<std::string, cloud::AutopilotDevice> tenant;  // by serial
  std::map<std::string, std::int64_t> last_sync;         // managed id -> ms
  int enrollment_lists = 0;
  int managed_lists = 0;
  int tag_sets = 0;

  // A device registered in the tenant under our tag (as the registration pass leaves it).
  void register_device(const std::string& serial,
                       const std::string& tag = "Microsoft365Managed_Autopilot") {
    cloud::AutopilotDevice& device = tenant[serial];
    device.id = "ap-" + serial;
    device.serial = serial;
    device.group_tag = tag;
  }
  void enroll(const std::string& serial, std::int64_t synced_at) {
    tenant[serial].enrollment_state = "enrolled";
    tenant[serial].managed_device_id = "md-" + serial;
    last_sync["md-" + serial] = synced_at;
  }
  core::Result<std::vector<cloud::AutopilotDevice>> list_autopilot_devices() override {
    ++enrollment_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    std::vector<cloud::AutopilotDevice> out;
    for (const auto& [serial, device] : tenant) out.push_back(device);
    return out;
  }
  core::Result<std::vector<cloud::ManagedDevice>> list_managed_devices() override {
    ++managed_lists;
    std::vector<cloud::ManagedDevice> out;
    for (const auto& [id, at] : last_sync) out.push_back({id, at});
    return out;
  }
  std::deque<core::Error> tag_set_failures;  // answers of the next set_group_tag calls
  core::Status set_group_tag(const std::string& id, const std::string& tag) override {
    ++tag_sets;
    return set_tag(tenant, tag_set_failures, id, tag);
  }
};

// The group sweep's cloud: Entra ID groups and device objects.
class FakeDirectory final : public cloud::GroupCloud {
 public:
  bool offline = false;
  std::map<std::string, std::set<std::string>> groups;
  std::map<std::string, std::string> directory;
  int group_lists = 0;
  int member_adds = 0;
  int member_removes = 0;
  std::vector<std::size_t> lookup_sizes;  // device ids per lookup call
  std::deque<core::Error> group_write_failures;
  std::map<std::string, core::Error> refused;  // group id -> what every write to it answers
  std::map<std::string, std::set<std::string>> unlisted;  // group -> objects its list omits
  std::vector<std::string> writes;                        // "add|remove GROUP OBJECT", in order
  // The device's Entra ID object exists (registration creates it).
  void join(const std::string& device_id) { directory[device_id] = "obj-" + device_id; }
  core::Result<std::vector<cloud::DirectoryDevice>> list_group_devices(
      const std::string& group_id) override {
    ++group_lists;
    if (offline) return core::make_error(cloud::kErrNetwork, "connection refused");
    auto group = groups.find(group_id);
    if (group == groups.end()) {
      core::Error missing =
          core::make_error(cloud::kErrRejected, "GET .../groups/" + group_id +
                                                    " answered HTTP 404: Request_ResourceNotFound");
      cloud::set_failure(missing, cloud::Failure::kNotFound);
      missing.http_status = 404;
      missing.remote_code = "Request_ResourceNotFound";
      return missing;
    }
    std::vector<cloud::DirectoryDevice> out;
    for (const auto& [device_id, object_id] : directory) {
      if (group->second.contains(object_id) && !unlisted[group_id].contains(object_id)) {
        out.push_back({object_id, device_id});
      }
    }
    return out;
  }
  core::Result<std::vector<cloud::DirectoryDevice>> find_directory_devices(
      std::span<const std::string> device_ids) override {
    lookup_sizes.push_back(device_ids.size());
    std::vector<cloud::DirectoryDevice> out;
    for (const auto& id : device_ids) {
      if (auto it = directory.find(id); it != directory.end()) out.push_back({it->second, id});
    }
    return out;
  }
  core::Result<bool> add_group_member(const std::string& group_id,
                                      const std::string& object_id) override {
    ++member_adds;
    writes.push_back("add " + group_id + " " + object_id);
    if (auto it = refused.find(group_id); it != refused.end()) return it->second;
    if (auto error = next_failure(group_write_failures)) return *error;
    return groups[group_id].insert(object_id).second;
  }
  core::Result<bool> remove_group_member(const std::string& group_id,
                                         const std::string& object_id) override {
    ++member_removes;
    writes.push_back("remove " + group_id + " " + object_id);
    if (auto it = refused.find(group_id); it != refused.end()) return it->second;
    if (auto error = next_failure(group_write_failures)) return *error;
    return groups[group_id].erase(object_id) > 0;
  }
};

// Delivery's cloud: users and their licences, the Autopilot devices, the assignment.
class FakeUsers final : public cloud::DeliveryCloud {
 public:
  std::map<std::string, cloud::AutopilotDevice> tenant;  // by serial
  int requests = 0;
  std::map<std::string, std::vector<std::string>> users;  // upn -> sku ids
  std::map<std::string, std::string> assigned;            // autopilot id -> upn
  std::deque<core::Error> read_failures;  // answers of the next reads (user, device lookups)
  core::Result<std::optional<cloud::UserLicences>> find_user(const std::string& upn) override {
    ++requests;
    if (auto error = next_failure(read_failures)) return *error;
    auto it = users.find(upn);
    if (it == users.end()) return std::optional<cloud::UserLicences>();
    return std::optional<cloud::UserLicences>(cloud::UserLicences{upn, it->second});
  }
  std::deque<core::Error> assign_failures;
  // Writes (assign, delete) done in the tenant whose answers are then lost (the connection
  // dropped after the request was processed).
  int lost_answers = 0;
  std::optional<core::Error> lose_answer() {
    if (lost_answers == 0) return std::nullopt;
    --lost_answers;
    core::Error error = core::make_error(
        cloud::kErrNetwork, "POST .../windowsAutopilotDeviceIdentities/...: connection reset");
    error.request_id = "req-lost";
    return error;
  }
  core::Status assign_user(const std::string& id, const std::string& upn) override {
    ++requests;
    if (auto error = next_failure(assign_failures)) return *error;
    assigned[id] = upn;
    for (auto& [serial, device] : tenant) {
      if (device.id == id) device.user_principal_name = upn;
    }
    if (auto lost = lose_answer()) return *lost;
    return {};
  }
  // Other machines with the same serial as ours (another manufacturer's), listed before ours.
  std::multimap<std::string, cloud::AutopilotDevice> namesakes;
  core::Result<std::vector<cloud::AutopilotDevice>> find_autopilot_devices(
      const std::string& serial) override {
    ++requests;
    if (auto error = next_failure(read_failures)) return *error;
    std::vector<cloud::AutopilotDevice> out;
    for (auto [it, end] = namesakes.equal_range(serial); it != end; ++it) {
      out.push_back(it->second);
    }
    if (auto it = tenant.find(serial); it != tenant.end()) out.push_back(it->second);
    return out;
  }
  std::map<std::string, std::string> skus;  // skuId -> skuPartNumber
  std::deque<core::Error> sku_failures;
  core::Result<std::map<std::string, std::string>> sku_names() override {
    ++requests;
    if (auto error = next_failure(sku_failures)) return *error;
    return skus;
  }
  std::vector<std::string> deleted;         // Autopilot ids
  std::deque<core::Error> delete_failures;  // answers of the next deletes, before the tenant
  std::function<void()> on_delete;          // runs first in each delete (a slow cloud)
  core::Status delete_autopilot_device(const std::string& id) override {
    ++requests;
    if (on_delete) on_delete();
    if (auto error = next_failure(delete_failures)) return *error;
    for (auto it = tenant.begin(); it != tenant.end(); ++it) {
      if (it->second.id == id) {
        deleted.push_back(id);
        tenant.erase(it);
        if (auto lost = lose_answer()) return *lost;
        return {};
      }
    }
    core::Error error = core::make_error(cloud::kErrRejected, "DELETE answered HTTP 404");
    error.http_status = 404;
    return error;
  }
};

}  // namespace hangar::service::test
