// Graph JSON for the simulated entities, and each entity type's property list (what $select and
// $filter may name).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hangar/cloudsim/tenant.h"

namespace hangar::cloudsim {

struct EntitySchema {
  std::string type_name;  // "microsoft.graph.windowsAutopilotDeviceIdentity"
  std::string
      entity_set;  // "deviceManagement/windowsAutopilotDeviceIdentities" (for @odata.context)
  std::vector<std::string> properties;
  // Returned when there is no $select; empty: all properties. (Graph returns only a default set
  // for users, so a client that forgets $select=assignedLicenses sees no licences, as in reality.)
  std::vector<std::string> default_properties;

  bool has_property(const std::string& name) const;
};

const EntitySchema& imported_identity_schema();
const EntitySchema& autopilot_device_schema();
const EntitySchema& managed_device_schema();
const EntitySchema& user_schema();
const EntitySchema& directory_device_schema();

nlohmann::json to_json(const ImportedIdentity& record);
nlohmann::json to_json(const AutopilotDevice& device);
nlohmann::json to_json(const ManagedDevice& device);
nlohmann::json to_json(const User& user);
nlohmann::json to_json(const DirectoryDevice& device);

}  // namespace hangar::cloudsim
