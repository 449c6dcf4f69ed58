// Graph JSON shapes of the simulated entities (property names as in Graph beta).
#include "entities.h"

#include <algorithm>

#include "text.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

json null_if_empty(const std::string& value) { return value.empty() ? json(nullptr) : json(value); }

// Intune writes the empty GUID for ids a device does not have yet (not joined, not enrolled).
json guid_or_empty(const std::string& value) {
  return value.empty() ? json("00000000-0000-0000-0000-000000000000") : json(value);
}

std::vector<std::string> keys_of(const json& sample) {
  std::vector<std::string> keys;
  for (const auto& item : sample.items()) keys.push_back(item.key());
  return keys;
}

}  // namespace

bool EntitySchema::has_property(const std::string& name) const {
  return std::find(properties.begin(), properties.end(), name) != properties.end();
}

json to_json(const ImportedIdentity& r) {
  return json{
      {"id", r.id},
      {"serialNumber", r.serial_number},
      {"productKey", r.product_key},
      {"importId", r.import_id},
      {"hardwareIdentifier", null_if_empty(r.hardware_identifier)},
      {"groupTag", r.group_tag},
      {"assignedUserPrincipalName", r.assigned_user_principal_name},
      {"state",
       {{"deviceImportStatus", r.state.device_import_status},
        {"deviceRegistrationId", r.state.device_registration_id},
        {"deviceErrorCode", r.state.device_error_code},
        {"deviceErrorName", r.state.device_error_name}}},
  };
}

json to_json(const AutopilotDevice& d) {
  return json{
      {"id", d.id},
      {"deploymentProfileAssignmentStatus", d.profile_status},
      {"deploymentProfileAssignmentDetailedStatus", "none"},
      {"deploymentProfileAssignedDateTime", format_iso8601(d.profile_assigned_ms)},
      {"groupTag", d.group_tag},
      {"purchaseOrderIdentifier", ""},
      {"serialNumber", d.serial_number},
      {"productKey", d.product_key},
      {"manufacturer", d.manufacturer},
      {"model", d.model},
      {"enrollmentState", d.enrollment_state},
      {"lastContactedDateTime", format_iso8601(d.last_contacted_ms)},
      {"addressableUserName", d.addressable_user_name},
      {"userPrincipalName", d.user_principal_name},
      {"resourceName", ""},
      {"skuNumber", ""},
      {"systemFamily", ""},
      {"azureActiveDirectoryDeviceId", guid_or_empty(d.azure_ad_device_id)},
      {"azureAdDeviceId", guid_or_empty(d.azure_ad_device_id)},
      {"managedDeviceId", d.managed_device_id},
      {"displayName", d.display_name},
  };
}

json to_json(const ManagedDevice& d) {
  return json{
      {"id", d.id},
      {"deviceName", d.device_name},
      {"managedDeviceOwnerType", "company"},
      {"enrolledDateTime", format_iso8601(d.enrolled_ms)},
      {"lastSyncDateTime", format_iso8601(d.last_sync_ms)},
      {"operatingSystem", "Windows"},
      {"osVersion", "10.0.22631.2861"},
      {"complianceState", "compliant"},
      {"azureADDeviceId", guid_or_empty(d.azure_ad_device_id)},
      {"userPrincipalName", d.user_principal_name},
      {"model", d.model},
      {"manufacturer", d.manufacturer},
      {"serialNumber", d.serial_number},
  };
}

json to_json(const User& u) {
  json licenses = json::array();
  for (const auto& sku : u.licenses) {
    licenses.push_back({{"disabledPlans", json::array()}, {"skuId", sku}});
  }
  return json{
      {"id", u.id},
      {"businessPhones", json::array()},
      {"displayName", u.display_name},
      {"givenName", nullptr},
      {"jobTitle", nullptr},
      {"mail", u.user_principal_name},
      {"mobilePhone", nullptr},
      {"officeLocation", nullptr},
      {"preferredLanguage", nullptr},
      {"surname", nullptr},
      {"userPrincipalName", u.user_principal_name},
      {"accountEnabled", true},
      {"assignedLicenses", licenses},
  };
}

json to_json(const DirectoryDevice& d) {
  return json{
      {"@odata.type", "#microsoft.graph.device"},
      {"id", d.id},
      {"deviceId", d.device_id},
      {"displayName", d.display_name},
      {"accountEnabled", true},
      {"operatingSystem", "Windows"},
      {"operatingSystemVersion", "10.0.22631.2861"},
      {"trustType", "AzureAd"},
  };
}

const EntitySchema& imported_identity_schema() {
  static const EntitySchema schema{"microsoft.graph.importedWindowsAutopilotDeviceIdentity",
                                   "deviceManagement/importedWindowsAutopilotDeviceIdentities",
                                   keys_of(to_json(ImportedIdentity{})),
                                   {}};
  return schema;
}

const EntitySchema& autopilot_device_schema() {
  static const EntitySchema schema{"microsoft.graph.windowsAutopilotDeviceIdentity",
                                   "deviceManagement/windowsAutopilotDeviceIdentities",
                                   keys_of(to_json(AutopilotDevice{})),
                                   {}};
  return schema;
}

const EntitySchema& managed_device_schema() {
  static const EntitySchema schema{"microsoft.graph.managedDevice",
                                   "deviceManagement/managedDevices",
                                   keys_of(to_json(ManagedDevice{})),
                                   {}};
  return schema;
}

const EntitySchema& user_schema() {
  static const EntitySchema schema{
      "microsoft.graph.user",
      "users",
      keys_of(to_json(User{})),
      {"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
       "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}};
  return schema;
}

const EntitySchema& directory_device_schema() {
  static const EntitySchema schema{
      "microsoft.graph.device", "devices", keys_of(to_json(DirectoryDevice{})), {}};
  return schema;
}

}  // namespace hangar::cloudsim
