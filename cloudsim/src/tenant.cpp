// The import state machine: rows become pending records that complete or fail once their delay
// has passed, the way the Autopilot service processes imports asynchronously.
#include "hangar/cloudsim/tenant.h"

#include <cmath>
#include <set>

#include "hash.h"

namespace hangar::cloudsim {

int default_error_code(const std::string& error_name) {
  static const std::map<std::string, int> kCodes{
      {error_names::kAlreadyAssigned, 806}, {error_names::kOtherTenant, 808},
      {error_names::kInvalidHash, 802},     {error_names::kDuplicated, 902},
      {error_names::kNotFound, 903},        {error_names::kStorage, 904},
  };
  auto it = kCodes.find(error_name);
  return it == kCodes.end() ? 500 : it->second;
}

void Tenant::configure(const Scenario& scenario) {
  config_ = scenario;
  config_.devices.clear();  // seeds matter to reset() only
  config_.users.clear();
}

std::int64_t Tenant::delay_ms(double simulated_seconds) const {
  return static_cast<std::int64_t>(std::llround(simulated_seconds * 1000.0 / config_.time_scale));
}

const Rule* Tenant::find_rule(const std::string& serial, std::uint64_t previous_imports) const {
  for (const auto& rule : config_.rules) {
    if (!rule.matches(serial)) continue;
    if (rule.times > 0 && previous_imports >= static_cast<std::uint64_t>(rule.times)) continue;
    return &rule;
  }
  return nullptr;
}

void Tenant::forget_plan(std::unordered_map<std::uint64_t, Plan>::iterator it) {
  if (!it->second.hash.empty()) {
    auto pending = pending_hashes_.find(it->second.hash);
    if (pending != pending_hashes_.end() && --pending->second == 0) pending_hashes_.erase(pending);
  }
  plans_.erase(it);
}

Tenant::Plan Tenant::plan_row(const ImportRow& row, const Rule* rule, bool duplicate) const {
  Plan plan;
  if (row.hardware_hash) {
    plan.hash = *row.hardware_hash;
    auto facts = inspect_hash(plan.hash);
    plan.manufacturer = facts.manufacturer;
    plan.model = facts.model;
    if (config_.import.validate_hash && !facts.layout_ok) {
      plan.error_name = error_names::kInvalidHash;
    }
  } else {
    // A hashless row is matched against what the OEM reported, by serial number.
    const OemDevice* oem = nullptr;
    for (const auto& d : config_.oem_devices) {
      if (d.serial_number == row.serial_number) oem = &d;
    }
    if (oem) {
      plan.manufacturer = oem->manufacturer;
      plan.model = oem->model;
    } else {
      plan.error_name = error_names::kNotFound;
    }
  }
  if (duplicate) plan.error_name = error_names::kDuplicated;
  if (rule) {
    // A rule states the scenario's intent, so it wins over the automatic checks.
    if (!rule->error.empty()) plan.error_name = rule->error;
    plan.error_code = rule->code;
    plan.group_tag = rule->group_tag;
    plan.profile_status = rule->profile_status;
  }
  if (!plan.error_name.empty() && plan.error_code == 0) {
    plan.error_code = default_error_code(plan.error_name);
  }
  return plan;
}

std::vector<ImportedIdentity> Tenant::import_devices(const std::vector<ImportRow>& rows,
                                                     std::int64_t now_ms) {
  std::vector<ImportedIdentity> created;
  created.reserve(rows.size());
  const std::string call_import_id = rng_.guid();
  std::set<std::vector<std::uint8_t>> hashes_in_call;
  ++counts_.calls;
  for (const auto& row : rows) {
    std::uint64_t previous = counts_.by_serial[row.serial_number]++;
    ++counts_.rows;
    // The same hardware twice in one call, or while an earlier import of it is still pending:
    // the later one is the duplicate.
    bool duplicate = false;
    if (row.hardware_hash && !row.hardware_hash->empty()) {
      duplicate = !hashes_in_call.insert(*row.hardware_hash).second ||
                  pending_hashes_.count(*row.hardware_hash) != 0;
    }
    const Rule* rule = find_rule(row.serial_number, previous);

    ImportedIdentity record;
    record.id = rng_.guid();
    record.serial_number = row.serial_number;
    record.product_key = row.product_key;
    // Intune answers with importId equal to the record's id (MSEndpointMgr/Intune #71), whatever
    // the row said; one id per call is the lenient switch.
    record.import_id = !config_.lenient.import_id_per_call ? record.id
                       : row.import_id.empty()             ? call_import_id
                                                           : row.import_id;
    // And with hardwareIdentifier empty: the hash is not echoed (the plan keeps it).
    if (config_.lenient.echo_hardware_identifier && row.hardware_hash) {
      record.hardware_identifier = encode_base64(*row.hardware_hash);
    }
    record.group_tag = row.group_tag;
    record.assigned_user_principal_name = row.assigned_user_principal_name;
    // A fresh record is "unknown" (what every public uploader waits on), not "pending".
    record.state.device_import_status = config_.lenient.pending_status ? "pending" : "unknown";
    auto& stored = imports_.insert(std::move(record));

    double seconds =
        rule && rule->delay_seconds >= 0 ? rule->delay_seconds : config_.registration.delay_seconds;
    seconds += rng_.uniform() * config_.registration.jitter_seconds;
    import_due_.emplace(now_ms + delay_ms(seconds), stored.seq);
    Plan plan = plan_row(row, rule, duplicate);
    if (!plan.hash.empty()) ++pending_hashes_[plan.hash];
    plans_.emplace(stored.seq, std::move(plan));
    created.push_back(stored);
  }
  return created;
}

bool Tenant::delete_imported(const std::string& id) {
  auto* record = imports_.find(id);
  if (!record) return false;
  // Deleting a pending record cancels its registration: the plan goes, and its due entry is
  // skipped when it comes up.
  if (auto plan = plans_.find(record->seq); plan != plans_.end()) forget_plan(plan);
  imports_.erase(id);
  ++counts_.deleted;
  return true;
}

void Tenant::process_due(std::int64_t now_ms) {
  while (true) {
    bool import_ready = !import_due_.empty() && import_due_.begin()->first <= now_ms;
    bool profile_ready = !profile_due_.empty() && profile_due_.begin()->first <= now_ms;
    if (!import_ready && !profile_ready) break;
    // Strict time order, imports first on ties, so a profile step never runs before the
    // registration that scheduled it.
    if (import_ready &&
        (!profile_ready || import_due_.begin()->first <= profile_due_.begin()->first)) {
      auto [due, seq] = *import_due_.begin();
      import_due_.erase(import_due_.begin());
      complete_import(seq, due);
    } else {
      auto [due, device_id] = *profile_due_.begin();
      profile_due_.erase(profile_due_.begin());
      auto target = profile_targets_.find(device_id);
      if (auto* device = autopilot_.find(device_id); device && target != profile_targets_.end()) {
        device->profile_status = target->second;
        if (target->second.rfind("assigned", 0) == 0) device->profile_assigned_ms = due;
      }
      if (target != profile_targets_.end()) profile_targets_.erase(target);
    }
  }
}

const AutopilotDevice* Tenant::registered_match(const std::string& serial,
                                                const std::vector<std::uint8_t>& hash) const {
  if (auto* device = autopilot_device_by_serial(serial)) return device;
  if (hash.empty()) return nullptr;
  auto it = device_by_hash_.find(hash);
  return it == device_by_hash_.end() ? nullptr : autopilot_.find(it->second);
}

AutopilotDevice& Tenant::add_device(AutopilotDevice device) {
  auto& stored = autopilot_.insert(std::move(device));
  device_by_serial_.emplace(stored.serial_number, stored.id);
  if (!stored.hardware_hash.empty()) device_by_hash_.emplace(stored.hardware_hash, stored.id);
  return stored;
}

const AutopilotDevice* Tenant::autopilot_device_by_serial(const std::string& serial) const {
  auto it = device_by_serial_.find(serial);
  return it == device_by_serial_.end() ? nullptr : autopilot_.find(it->second);
}

void Tenant::complete_import(std::uint64_t seq, std::int64_t due_ms) {
  auto plan_it = plans_.find(seq);
  auto* record = imports_.find_seq(seq);
  if (plan_it == plans_.end() || !record) return;  // deleted while pending
  Plan plan = plan_it->second;
  forget_plan(plan_it);
  auto& state = record->state;
  bool registered = registered_match(record->serial_number, plan.hash) != nullptr;
  if (plan.error_name.empty() && registered) {
    // Hardware this tenant already owns: the service's 806.
    plan.error_name = error_names::kAlreadyAssigned;
    plan.error_code = default_error_code(plan.error_name);
  }
  if (plan.error_name.empty()) {
    auto& device = register_device(*record, plan, due_ms);
    state.device_import_status = "complete";
    state.device_registration_id = device.id;
    ++counts_.completed;
    return;
  }
  if (plan.error_name == error_names::kAlreadyAssigned && !registered) {
    // A rule-made 806 means "already registered here": the device must then be visible in the
    // tenant, as it would be in reality.
    register_device(*record, plan, due_ms);
  }
  state.device_import_status = "error";
  state.device_error_code = plan.error_code;
  state.device_error_name = plan.error_name;
  ++counts_.errors_by_name[plan.error_name];
}

AutopilotDevice& Tenant::register_device(const ImportedIdentity& record, const Plan& plan,
                                         std::int64_t registered_ms) {
  AutopilotDevice device;
  device.id = rng_.guid();
  device.serial_number = record.serial_number;
  device.group_tag = plan.group_tag ? *plan.group_tag : record.group_tag;
  device.manufacturer = plan.manufacturer;
  device.model = plan.model;
  device.product_key = record.product_key;
  device.user_principal_name = record.assigned_user_principal_name;
  device.profile_status = "pending";
  device.hardware_hash = plan.hash;
  auto& stored = add_device(std::move(device));
  // "When an Autopilot device is registered, it automatically creates a Microsoft Entra object"
  // (memdocs registration-overview.md): azureActiveDirectoryDeviceId is set from now on.
  if (!config_.lenient.entra_object_at_enrollment) join_directory(stored);
  profile_targets_[stored.id] =
      plan.profile_status.empty() ? config_.registration.profile_status : plan.profile_status;
  profile_due_.emplace(registered_ms + delay_ms(config_.registration.profile_delay_seconds),
                       stored.id);
  return stored;
}

}  // namespace hangar::cloudsim
