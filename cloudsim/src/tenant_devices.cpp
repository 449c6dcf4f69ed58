// The tenant's directory: seeding from the scenario, Autopilot identity updates, simulated
// enrolment (managed devices) and user lookup.
#include <cmath>

#include "hangar/cloudsim/tenant.h"
#include "hash.h"
#include "text.h"

namespace hangar::cloudsim {
namespace {

std::string default_device_name(const std::string& serial) {
  return "DESKTOP-" + serial.substr(0, 7);
}

}  // namespace

void Tenant::reset(const Scenario& scenario, std::int64_t now_ms) {
  configure(scenario);
  rng_.reseed(scenario.seed);
  imports_.clear();
  autopilot_.clear();
  managed_.clear();
  users_.clear();
  directory_.clear();
  directory_by_device_id_.clear();
  groups_.clear();
  counts_ = ImportCounts{};
  plans_.clear();
  pending_hashes_.clear();
  device_by_serial_.clear();
  device_by_hash_.clear();
  import_due_.clear();
  profile_due_.clear();
  profile_targets_.clear();

  for (const auto& seed : scenario.devices) {
    AutopilotDevice device;
    device.id = seed.id.empty() ? rng_.guid() : seed.id;
    device.serial_number = seed.serial_number;
    device.group_tag = seed.group_tag;
    device.manufacturer = seed.manufacturer;
    device.model = seed.model;
    device.user_principal_name = seed.user_principal_name;
    device.profile_status = seed.profile_status;
    if (seed.profile_status.rfind("assigned", 0) == 0) device.profile_assigned_ms = now_ms;
    // The scenario parser has checked the base64 already.
    if (auto hash = decode_edm_binary(seed.hardware_hash)) device.hardware_hash = *hash;
    // A registered device has its Entra ID object (an enrolled one in any case).
    if (seed.managed || !scenario.lenient.entra_object_at_enrollment) join_directory(device);
    if (seed.managed) {
      ManagedDevice managed;
      managed.id = seed.managed->id.empty() ? rng_.guid() : seed.managed->id;
      managed.device_name = seed.managed->device_name.empty()
                                ? default_device_name(seed.serial_number)
                                : seed.managed->device_name;
      managed.serial_number = seed.serial_number;
      managed.user_principal_name = seed.user_principal_name;
      managed.azure_ad_device_id = device.azure_ad_device_id;
      managed.manufacturer = seed.manufacturer;
      managed.model = seed.model;
      managed.last_sync_ms = now_ms - std::llround(seed.managed->last_sync_days_ago * 86'400'000.0);
      managed.enrolled_ms = managed.last_sync_ms;
      device.managed_device_id = managed.id;
      device.enrollment_state = "enrolled";
      device.last_contacted_ms = managed.last_sync_ms;
      managed_.insert(std::move(managed));
    }
    add_device(std::move(device));
  }
  for (const auto& seed : scenario.groups) {
    const Group& group = add_group(seed.id, seed.display_name, seed.membership_rule);
    for (const auto& serial : seed.members) {
      const AutopilotDevice* device = autopilot_device_by_serial(serial);
      const DirectoryDevice* object =
          device ? directory_device_by_device_id(device->azure_ad_device_id) : nullptr;
      // A member without a directory object (only with lenient.entra_object_at_enrollment, for a
      // device that is not enrolled) is simply not a member (a scenario test shows it).
      if (object) groups_.find(group.id)->members.insert(object->id);
    }
  }
  for (const auto& seed : scenario.users) {
    User user;
    user.id = seed.id.empty() ? rng_.guid() : seed.id;
    user.user_principal_name = seed.user_principal_name;
    user.display_name = seed.display_name;
    user.licenses = seed.licenses;
    users_.insert(std::move(user));
  }
  skus_ = scenario.skus;
}

bool Tenant::delete_autopilot_device(const std::string& id) {
  const AutopilotDevice* device = autopilot_.find(id);
  if (!device) return false;
  device_by_serial_.erase(device->serial_number);
  if (!device->hardware_hash.empty()) device_by_hash_.erase(device->hardware_hash);
  profile_targets_.erase(id);  // a profile assignment still due finds no device and is skipped
  return autopilot_.erase(id);
}

bool Tenant::update_device_properties(const std::string& id, const DevicePropertiesUpdate& update) {
  auto* device = autopilot_.find(id);
  if (!device) return false;
  if (update.group_tag) device->group_tag = *update.group_tag;
  if (update.display_name) device->display_name = *update.display_name;
  if (update.user_principal_name) device->user_principal_name = *update.user_principal_name;
  if (update.addressable_user_name) device->addressable_user_name = *update.addressable_user_name;
  return true;
}

core::Result<ManagedDevice> Tenant::enroll(const std::string& serial, const std::string& upn,
                                           std::int64_t sync_ms) {
  auto device_id = device_by_serial_.find(serial);
  if (device_id == device_by_serial_.end()) {
    return core::make_error("not_found",
                            "no registered Autopilot device has serial number '" + serial + "'");
  }
  AutopilotDevice& device = *autopilot_.find(device_id->second);
  ManagedDevice* managed = managed_.find(device.managed_device_id);
  if (!managed) {
    ManagedDevice fresh;
    fresh.id = rng_.guid();
    fresh.device_name = default_device_name(serial);
    fresh.serial_number = serial;
    fresh.azure_ad_device_id = device.azure_ad_device_id;
    fresh.manufacturer = device.manufacturer;
    fresh.model = device.model;
    fresh.enrolled_ms = sync_ms;
    managed = &managed_.insert(std::move(fresh));
    device.managed_device_id = managed->id;
  }
  join_directory(device);
  managed->azure_ad_device_id = device.azure_ad_device_id;
  if (!upn.empty()) {
    managed->user_principal_name = upn;
    device.user_principal_name = upn;
  }
  managed->last_sync_ms = sync_ms;
  device.enrollment_state = "enrolled";
  device.last_contacted_ms = sync_ms;
  return *managed;
}

void Tenant::join_directory(AutopilotDevice& device) {
  if (device.azure_ad_device_id.empty()) device.azure_ad_device_id = rng_.guid();
  if (directory_device_by_device_id(device.azure_ad_device_id)) return;
  DirectoryDevice object;
  object.id = rng_.guid();
  object.device_id = device.azure_ad_device_id;
  object.display_name = default_device_name(device.serial_number);
  directory_by_device_id_[to_lower(object.device_id)] = object.id;
  directory_.insert(std::move(object));
}

const DirectoryDevice* Tenant::directory_device_by_device_id(const std::string& device_id) const {
  if (device_id.empty()) return nullptr;
  const auto it = directory_by_device_id_.find(to_lower(device_id));
  return it == directory_by_device_id_.end() ? nullptr : directory_.find(it->second);
}

const Group& Tenant::add_group(const std::string& id, const std::string& display_name,
                               const std::string& membership_rule) {
  if (Group* existing = groups_.find(id)) {
    existing->display_name = display_name;
    existing->membership_rule = membership_rule;
    return *existing;
  }
  Group group;
  group.id = id.empty() ? rng_.guid() : id;
  group.display_name = display_name;
  group.membership_rule = membership_rule;
  return groups_.insert(std::move(group));
}

std::map<std::uint64_t, DirectoryDevice> Tenant::group_devices(const std::string& group_id) const {
  std::map<std::uint64_t, DirectoryDevice> members;
  const Group* group = groups_.find(group_id);
  if (!group) return members;
  for (const auto& object_id : group->members) {
    if (const DirectoryDevice* object = directory_.find(object_id)) {
      members.emplace(object->seq, *object);
    }
  }
  return members;
}

namespace {

core::Error directory_not_found(const std::string& id) {
  return core::make_error("Request_ResourceNotFound",
                          "Resource '" + id +
                              "' does not exist or one of its queried reference-property objects "
                              "are not present.");
}

}  // namespace

core::Result<bool> Tenant::add_member(const std::string& group_id, const std::string& object_id) {
  Group* group = groups_.find(group_id);
  if (!group) return directory_not_found(group_id);
  if (!directory_.find(object_id)) return directory_not_found(object_id);
  return group->members.insert(object_id).second;
}

core::Status Tenant::remove_member(const std::string& group_id, const std::string& object_id) {
  Group* group = groups_.find(group_id);
  if (!group) return directory_not_found(group_id);
  if (group->members.erase(object_id) == 0) return directory_not_found(object_id);
  return {};
}

const User* Tenant::user(const std::string& id_or_upn) const {
  if (auto* by_id = users_.find(id_or_upn)) return by_id;
  for (const auto& [seq, u] : users_.items()) {
    if (iequals(u.user_principal_name, id_or_upn)) return &u;
  }
  return nullptr;
}

}  // namespace hangar::cloudsim
