// What the service's passes need from the cloud, one narrow interface per pass (import devices and
// read back their records, read and tag Autopilot devices, managed devices, groups, users).
// GraphClient implements them over HTTP; each pass's tests use a fake of its own.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hangar/cloud/cloud_error.h"
#include "hangar/core/device.h"
#include "hangar/core/result.h"

namespace hangar::cloud {

// Every cloud call fails with one of cloud_error.h's codes and causes: the engine decides from them
// whether to retry; kErrNetwork and kErrTimeout mean the cloud could not be reached (offline).

struct ImportItem {
  std::string serial;
  std::string product_key;
  std::string hash_base64;  // normalised (padded) base64; empty for hashless registrations
  std::string group_tag;
  std::string assigned_user;
};

enum class ImportStatus { kUnknown, kPending, kPartial, kComplete, kError };
ImportStatus parse_import_status(std::string_view text);

// One importedWindowsAutopilotDeviceIdentity as the cloud reports it.
struct ImportRecord {
  std::string id;  // the record's id (what we poll and delete)
  // Intune answers with importId equal to the record's id (MSEndpointMgr/Intune #71), so nothing
  // may rely on one import id per call.
  std::string import_id;
  std::string serial;
  ImportStatus status = ImportStatus::kUnknown;
  std::optional<long long> error_code;  // state.deviceErrorCode
  std::string error_name;               // state.deviceErrorName
  std::string registration_id;          // state.deviceRegistrationId once complete
  std::string request_id;               // of the response that reported this state
};

struct AutopilotDevice {
  std::string id;
  std::string serial;
  std::string group_tag;
  std::string manufacturer;
  std::string model;
  std::string profile_status;  // deploymentProfileAssignmentStatus (beta; empty on v1.0)
  std::string
      enrollment_state;  // enrollmentState: unknown|enrolled|pendingReset|failed|notContacted
  // The Intune managed device, once enrolled (empty before: Intune's all-zero GUID means none).
  std::string managed_device_id;
  // azureActiveDirectoryDeviceId: the Entra ID device's deviceId. Registration creates that
  // device object (memdocs registration-overview.md), so it is set long before enrollment; only
  // an identity without one carries Intune's all-zero GUID, read as empty.
  std::string azure_ad_device_id;
  // userPrincipalName: the user assigned to the device (assignUserToDevice); empty: none.
  std::string user_principal_name;
  // lastContactedDateTime (the portal's "Last contacted"); absent when never.
  std::optional<std::int64_t> last_contacted_ms;
};

// An Entra ID device object as group membership sees it: `object_id` is what a group's members
// refer to (and what $ref adds or removes); `device_id` is the Autopilot identity's
// azureActiveDirectoryDeviceId.
struct DirectoryDevice {
  std::string object_id;
  std::string device_id;
};

// Graph's limit on the values of one `in` filter over directory objects: lookups are split into
// requests of at most this many device ids.
inline constexpr std::size_t kMaxDeviceIdsPerLookup = 15;

// An Intune managed device, as the activity monitor reads it.
struct ManagedDevice {
  std::string id;
  std::optional<std::int64_t> last_sync_ms;  // lastSyncDateTime (absent: never synced)
};

// A user and the licences (SKU ids) assigned to it, for delivery checks.
struct UserLicences {
  std::string user_principal_name;
  std::vector<std::string> sku_ids;
};

// What an import record's error means, in the seed's words.
struct ErrorMeaning {
  enum class Action {
    kRegistered,  // 806: already in this tenant, so it is registered after all
    kFailed,      // final: show the reason
    kRetry,       // transient (StorageError): import again later
  };
  Action action = Action::kFailed;
  core::FailureReason reason = core::FailureReason::kUnexpectedError;
  Failure failure = Failure::kImportFailed;  // classify_import_error's answer
  std::string detail;                        // "ZtdDeviceAssignedToOtherTenant (808)"
};
ErrorMeaning interpret_import_error(std::optional<long long> code, std::string_view name);

// What deploymentProfileAssignmentStatus says about a registered device.
enum class ProfileAssignment {
  kAssigned,  // assignedInSync, assignedOutOfSync, assignedUnkownSyncState (sic)
  kWaiting,   // pending, notAssigned, unknown: the profile group has not caught up yet
  kFailed,    // failed: Intune could not assign the profile
  kNotShown,  // absent (Graph v1.0 has no such property): registration is all we can confirm
};
ProfileAssignment interpret_profile_status(std::string_view status);

// What each of the service's passes needs from the cloud, one narrow interface per pass.
// GraphClient implements them all over HTTP (CloudApi); each pass's tests use a small fake of its
// own interface. A method named alike in two interfaces is one request (GraphClient overrides
// both with one function).

// Registration (service/src/passes/registration_pass.cpp): import devices, read back and delete
// the import records, confirm the devices in the tenant and put a changed group tag back.
class RegistrationCloud {
 public:
  virtual ~RegistrationCloud() = default;
  // One import call; the cloud answers with a record per device (same order is not assumed: match
  // on serial). kErrInDoubt when a 2xx answer could not be read: the devices may be imported.
  virtual core::Result<std::vector<ImportRecord>> import_devices(
      std::span<const ImportItem> items) = 0;
  // One import record by its id (GET .../{id}); nullopt when it no longer exists (404).
  virtual core::Result<std::optional<ImportRecord>> import_record(const std::string& id) = 0;
  // The whole import table (the documented list, followed through its pages): one request polls
  // many records at once.
  virtual core::Result<std::vector<ImportRecord>> list_import_records() = 0;
  // Records for one serial (crash recovery: was it sent before we died?), exact serial only. The
  // filter is what public tools use (contains(serialNumber,...)), not a documented one: a 400 or
  // 501 means the service refuses it, and the caller lists the whole table instead.
  virtual core::Result<std::vector<ImportRecord>> import_records_for_serial(
      const std::string& serial) = 0;
  virtual core::Status delete_import_record(const std::string& id) = 0;
  // The Autopilot devices with exactly this serial (ignoring case), in the tenant's order. Usually
  // one; two manufacturers may use the same serial, so the caller picks by make and model.
  virtual core::Result<std::vector<AutopilotDevice>> find_autopilot_devices(
      const std::string& serial) = 0;
  // Every Autopilot device (paged, every field: Intune answers any $select on this collection with
  // a 500): the fallback of the filtered reads.
  virtual core::Result<std::vector<AutopilotDevice>> list_autopilot_devices() = 0;
  // The Autopilot devices whose group tag contains `group_tag` (paged): confirms that a whole
  // batch is registered and has its profile, a few requests per batch.
  virtual core::Result<std::vector<AutopilotDevice>> list_autopilot_devices_tagged(
      const std::string& group_tag) = 0;
  virtual core::Status set_group_tag(const std::string& device_id, const std::string& tag) = 0;
};

// Activity and partner sync (passes/activity_pass.cpp): the tenant's Autopilot devices and the
// managed devices' last syncs; the daily group-tag repair.
class ActivityCloud {
 public:
  virtual ~ActivityCloud() = default;
  virtual core::Result<std::vector<AutopilotDevice>> list_autopilot_devices() = 0;
  // Every managed device's last sync (paged, $select: id, lastSyncDateTime).
  virtual core::Result<std::vector<ManagedDevice>> list_managed_devices() = 0;
  virtual core::Status set_group_tag(const std::string& device_id, const std::string& tag) = 0;
};

// The profile-group sweep (passes/group_sweep_pass.cpp): Entra ID, GroupMember.ReadWrite.All and
// Device.Read.All.
class GroupCloud {
 public:
  virtual ~GroupCloud() = default;
  // Every device member of a group (paged, $select: id, deviceId). A group that does not exist
  // fails with Failure::kNotFound (http_status 404).
  virtual core::Result<std::vector<DirectoryDevice>> list_group_devices(
      const std::string& group_id) = 0;
  // The device objects whose deviceId is one of `device_ids` (at most kMaxDeviceIdsPerLookup,
  // one request); ids without an object are simply absent from the answer.
  virtual core::Result<std::vector<DirectoryDevice>> find_directory_devices(
      std::span<const std::string> device_ids) = 0;
  // True when the object was added (removed); false when it already was (was not) a member, so a
  // correction that raced another one is not an error.
  virtual core::Result<bool> add_group_member(const std::string& group_id,
                                              const std::string& object_id) = 0;
  virtual core::Result<bool> remove_group_member(const std::string& group_id,
                                                 const std::string& object_id) = 0;
};

// Delivery (passes/delivery_pass.cpp, `hangar deliver`).
class DeliveryCloud {
 public:
  virtual ~DeliveryCloud() = default;
  // The user and its licences; nullopt when no such user exists.
  virtual core::Result<std::optional<UserLicences>> find_user(const std::string& upn) = 0;
  // As RegistrationCloud's: every device with exactly this serial.
  virtual core::Result<std::vector<AutopilotDevice>> find_autopilot_devices(
      const std::string& serial) = 0;
  virtual core::Status assign_user(const std::string& device_id, const std::string& upn) = 0;
  // The tenant's subscriptions as skuId -> skuPartNumber ("SPE_E5"), so licences are named, not
  // shown as GUIDs (GET /subscribedSkus, v1.0; Organization.Read.All or
  // LicenseAssignment.Read.All).
  virtual core::Result<std::map<std::string, std::string>> sku_names() = 0;
  // Deletes an Autopilot device's registration (DELETE .../windowsAutopilotDeviceIdentities/{id},
  // 204): `hangar deregister`.
  virtual core::Status delete_autopilot_device(const std::string& device_id) = 0;
};

// Everything the service asks of the cloud: what GraphClient implements.
class CloudApi : public RegistrationCloud,
                 public ActivityCloud,
                 public GroupCloud,
                 public DeliveryCloud {};

// "2024-05-01T10:00:00Z" or with fractional seconds to Unix milliseconds; nullopt for Graph's
// "never" (year 1) or text that is not such a time.
std::optional<std::int64_t> parse_graph_time(std::string_view text);

}  // namespace hangar::cloud
