// The simulated tenant: Autopilot import records and their registration state machine, registered
// Autopilot devices, Intune managed devices and users. No HTTP and no clock here: callers pass the
// time, so tests step it exactly.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "hangar/cloudsim/rng.h"
#include "hangar/cloudsim/scenario.h"
#include "hangar/core/result.h"

namespace hangar::cloudsim {

// "Never happened" for timestamps (rendered as 0001-01-01T00:00:00Z, as Intune does).
inline constexpr std::int64_t kNeverMs = std::numeric_limits<std::int64_t>::min();

// deviceErrorName values the simulator produces by itself or through rules.
namespace error_names {
inline constexpr const char* kAlreadyAssigned = "ZtdDeviceAlreadyAssigned";    // 806
inline constexpr const char* kOtherTenant = "ZtdDeviceAssignedToOtherTenant";  // 808
inline constexpr const char* kInvalidHash = "InvalidZtdHardwareHash";          // 802
inline constexpr const char* kDuplicated = "ZtdDeviceDuplicated";
inline constexpr const char* kNotFound = "ZtdDeviceNotFound";  // the name is an assumption
inline constexpr const char* kStorage = "StorageError";        // transient
}  // namespace error_names

// deviceErrorCode for a name: 802, 806 and 808 are public (oofhours.com, Microsoft's 806/808
// article); the others are the simulator's own (90x, outside the 8xx range so nobody takes them
// for real codes). Unknown names get 500.
int default_error_code(const std::string& error_name);

struct ImportState {
  std::string device_import_status;  // unknown|pending|partial|complete|error
  std::string device_registration_id;
  int device_error_code = 0;
  std::string device_error_name;
};

struct ImportedIdentity {
  std::string id;
  std::string serial_number;
  std::string product_key;
  std::string import_id;
  std::string hardware_identifier;  // canonical base64 of the decoded hash ("" when none)
  std::string group_tag;
  std::string assigned_user_principal_name;
  ImportState state;
  std::uint64_t seq = 0;
};

struct AutopilotDevice {
  std::string id;
  std::string serial_number;
  std::string group_tag;
  std::string manufacturer;
  std::string model;
  std::string product_key;
  std::string display_name;
  std::string enrollment_state = "notContacted";
  std::int64_t last_contacted_ms = kNeverMs;
  std::string user_principal_name;
  std::string addressable_user_name;
  std::string azure_ad_device_id;
  std::string managed_device_id = "00000000-0000-0000-0000-000000000000";
  std::string profile_status = "notAssigned";  // deploymentProfileAssignmentStatus
  std::int64_t profile_assigned_ms = kNeverMs;
  std::vector<std::uint8_t> hardware_hash;  // kept to recognise a re-import of the same hardware
  std::uint64_t seq = 0;
};

struct ManagedDevice {
  std::string id;
  std::string device_name;
  std::string serial_number;
  std::string user_principal_name;
  std::string azure_ad_device_id;
  std::string manufacturer;
  std::string model;
  std::int64_t enrolled_ms = kNeverMs;
  std::int64_t last_sync_ms = kNeverMs;
  std::uint64_t seq = 0;
};

// An Entra ID (directory) device object: `id` is its object id (what group memberships refer
// to), `device_id` the id the Autopilot identity calls azureActiveDirectoryDeviceId.
struct DirectoryDevice {
  std::string id;
  std::string device_id;
  std::string display_name;
  std::uint64_t seq = 0;
};

// An Entra ID security group; members are directory object ids.
struct Group {
  std::string id;
  std::string display_name;
  // Non-empty: a dynamic-membership group (groupTypes "DynamicMembership"). Graph refuses to add
  // or remove its members directly (400); the admin API still seeds them (what the rule matched).
  std::string membership_rule;
  std::set<std::string> members;
  std::uint64_t seq = 0;
};

struct User {
  std::string id;
  std::string user_principal_name;
  std::string display_name;
  std::vector<std::string> licenses;
  std::uint64_t seq = 0;
};

// One validated row of an import call (the HTTP layer has already checked shape and base64).
struct ImportRow {
  std::string serial_number;
  std::string product_key;
  std::string group_tag;
  std::string assigned_user_principal_name;
  std::string import_id;                                   // empty: the call's own import id
  std::optional<std::vector<std::uint8_t>> hardware_hash;  // nullopt: a hashless row
};

struct DevicePropertiesUpdate {
  std::optional<std::string> group_tag;
  std::optional<std::string> display_name;
  std::optional<std::string> user_principal_name;
  std::optional<std::string> addressable_user_name;
};

// What happened since the last reset; survives deletion of the records themselves.
struct ImportCounts {
  std::uint64_t calls = 0;
  std::uint64_t rows = 0;
  std::map<std::string, std::uint64_t> by_serial;  // rows imported, per serial
  std::uint64_t completed = 0;
  std::map<std::string, std::uint64_t> errors_by_name;
  std::uint64_t deleted = 0;  // import records deleted
};

// Records in insertion order with a stable sequence number: paging resumes after a sequence
// number, so deletions between pages never skip or repeat an item.
template <typename T>
class OrderedStore {
 public:
  T& insert(T item) {
    item.seq = ++last_seq_;
    index_[item.id] = item.seq;
    return items_.emplace(item.seq, std::move(item)).first->second;
  }
  T* find(const std::string& id) {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &items_.at(it->second);
  }
  const T* find(const std::string& id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &items_.at(it->second);
  }
  T* find_seq(std::uint64_t seq) {
    auto it = items_.find(seq);
    return it == items_.end() ? nullptr : &it->second;
  }
  bool erase(const std::string& id) {
    auto it = index_.find(id);
    if (it == index_.end()) return false;
    items_.erase(it->second);
    index_.erase(it);
    return true;
  }
  void clear() {
    items_.clear();
    index_.clear();
  }
  std::size_t size() const { return items_.size(); }
  const std::map<std::uint64_t, T>& items() const { return items_; }
  std::map<std::uint64_t, T>& items() { return items_; }

 private:
  std::map<std::uint64_t, T> items_;
  std::unordered_map<std::string, std::uint64_t> index_;
  std::uint64_t last_seq_ = 0;
};

class Tenant {
 public:
  Tenant() = default;

  // Clears everything, reseeds the id generator and loads the scenario's devices and users.
  void reset(const Scenario& scenario, std::int64_t now_ms);
  // Takes new rules and timing; existing records and pending work are kept.
  void configure(const Scenario& scenario);

  // Completes every registration and profile assignment due by `now_ms`. Work is done lazily:
  // callers run this before reading state (CloudSim does on every request).
  void process_due(std::int64_t now_ms);
  // Import records still waiting for their outcome.
  std::size_t pending() const { return plans_.size(); }

  // One import record per row; one import id per call unless a row brings its own.
  std::vector<ImportedIdentity> import_devices(const std::vector<ImportRow>& rows,
                                               std::int64_t now_ms);
  const ImportedIdentity* imported(const std::string& id) const { return imports_.find(id); }
  bool delete_imported(const std::string& id);
  const OrderedStore<ImportedIdentity>& imported_all() const { return imports_; }

  const AutopilotDevice* autopilot_device(const std::string& id) const {
    return autopilot_.find(id);
  }
  const AutopilotDevice* autopilot_device_by_serial(const std::string& serial) const;
  const OrderedStore<AutopilotDevice>& autopilot_devices() const { return autopilot_; }
  bool update_device_properties(const std::string& id, const DevicePropertiesUpdate& update);
  // "Delete windowsAutopilotDeviceIdentity": the registration goes (its serial and hardware may
  // be imported again); false for an unknown id. Its Entra ID object and managed device stay, as
  // Intune keeps those separately.
  bool delete_autopilot_device(const std::string& id);

  const ManagedDevice* managed_device(const std::string& id) const { return managed_.find(id); }
  const OrderedStore<ManagedDevice>& managed_devices() const { return managed_; }
  // Simulates the device with this serial enrolling (or syncing again) at `sync_ms`: creates or
  // updates its managed device, joins it to Entra ID (a directory device object, and the
  // identity's azureActiveDirectoryDeviceId) and marks the Autopilot identity enrolled. Error
  // "not_found".
  core::Result<ManagedDevice> enroll(const std::string& serial, const std::string& upn,
                                     std::int64_t sync_ms);

  // ---- Entra ID: device objects and groups ----
  const OrderedStore<DirectoryDevice>& directory_devices() const { return directory_; }
  const DirectoryDevice* directory_device(const std::string& object_id) const {
    return directory_.find(object_id);
  }
  const DirectoryDevice* directory_device_by_device_id(const std::string& device_id) const;
  const Group* group(const std::string& id) const { return groups_.find(id); }
  const OrderedStore<Group>& groups() const { return groups_; }
  // Creates the group (or renames it and sets its rule when it exists); an empty id gets a
  // generated one. A non-empty membership_rule makes it a dynamic-membership group.
  const Group& add_group(const std::string& id, const std::string& display_name,
                         const std::string& membership_rule = {});
  // The group's device members in directory order (what paging walks). Empty for no group.
  std::map<std::uint64_t, DirectoryDevice> group_devices(const std::string& group_id) const;
  // Adds a directory object to a group: true when added, false when it was a member already.
  // Error "Request_ResourceNotFound" for an unknown group or object.
  core::Result<bool> add_member(const std::string& group_id, const std::string& object_id);
  // Removes a member; "Request_ResourceNotFound" when the group is unknown or the object is not
  // one of its members.
  core::Status remove_member(const std::string& group_id, const std::string& object_id);

  // By object id or userPrincipalName (case-insensitive, as Entra ID matches UPNs).
  const User* user(const std::string& id_or_upn) const;
  const OrderedStore<User>& users() const { return users_; }
  // The organization's subscriptions (GET /subscribedSkus), in scenario order.
  const std::vector<SeedSku>& skus() const { return skus_; }

  const ImportCounts& counts() const { return counts_; }

 private:
  // What an import row becomes once its delay has passed, decided when it arrives.
  struct Plan {
    std::string error_name;  // empty: success (unless the hardware is registered by then: 806)
    int error_code = 0;
    std::optional<std::string> group_tag;
    std::string profile_status;
    std::string manufacturer;
    std::string model;
    std::vector<std::uint8_t> hash;
  };

  const Rule* find_rule(const std::string& serial, std::uint64_t previous_imports) const;
  Plan plan_row(const ImportRow& row, const Rule* rule, bool duplicate) const;
  void forget_plan(std::unordered_map<std::uint64_t, Plan>::iterator it);
  std::int64_t delay_ms(double simulated_seconds) const;
  void complete_import(std::uint64_t seq, std::int64_t due_ms);
  AutopilotDevice& register_device(const ImportedIdentity& record, const Plan& plan,
                                   std::int64_t registered_ms);
  AutopilotDevice& add_device(AutopilotDevice device);
  // The device's Entra ID object, created (with a new device id) when it has none yet.
  void join_directory(AutopilotDevice& device);
  const AutopilotDevice* registered_match(const std::string& serial,
                                          const std::vector<std::uint8_t>& hash) const;

  Rng rng_{1};
  Scenario config_;  // rules, timing and the OEM catalogue (the seeds are used by reset only)

  OrderedStore<ImportedIdentity> imports_;
  OrderedStore<AutopilotDevice> autopilot_;
  OrderedStore<ManagedDevice> managed_;
  OrderedStore<User> users_;
  std::vector<SeedSku> skus_;
  OrderedStore<DirectoryDevice> directory_;
  // deviceId (lower case) -> object id: registration makes an object per device, so a large
  // tenant must not be scanned for each.
  std::unordered_map<std::string, std::string> directory_by_device_id_;
  OrderedStore<Group> groups_;
  ImportCounts counts_;

  std::unordered_map<std::uint64_t, Plan> plans_;                  // import seq -> plan
  std::map<std::vector<std::uint8_t>, int> pending_hashes_;        // hash -> pending plans
  std::unordered_map<std::string, std::string> device_by_serial_;  // registered serial -> id
  std::map<std::vector<std::uint8_t>, std::string> device_by_hash_;
  std::multimap<std::int64_t, std::uint64_t> import_due_;         // due ms -> import seq
  std::multimap<std::int64_t, std::string> profile_due_;          // due ms -> device id
  std::unordered_map<std::string, std::string> profile_targets_;  // device id -> final status
};

}  // namespace hangar::cloudsim
