// The Graph client's Intune requests: the Autopilot import and its records, the Autopilot devices
// and their group tags, the managed devices' last syncs.
#include "graph_json.h"
#include "hangar/cloud/graph_client.h"

namespace hangar::cloud {

using namespace detail;
using Json = nlohmann::json;

core::Result<std::vector<ImportRecord>> GraphClient::import_devices(
    std::span<const ImportItem> items) {
  Json identities = Json::array();
  for (const auto& item : items) {
    Json identity{{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
                  {"serialNumber", item.serial}};
    if (!item.product_key.empty()) identity["productKey"] = item.product_key;
    if (!item.hash_base64.empty()) identity["hardwareIdentifier"] = item.hash_base64;
    if (!item.group_tag.empty()) identity["groupTag"] = item.group_tag;
    if (!item.assigned_user.empty()) identity["assignedUserPrincipalName"] = item.assigned_user;
    identities.push_back(std::move(identity));
  }
  const std::string url = graph(std::string(kImported) + "/import");
  auto response =
      call("POST", url, Json{{"importedWindowsAutopilotDeviceIdentities", identities}}.dump());
  if (!response) return response.error();
  // A 2xx means the cloud took the call: an answer that cannot be read (cut off, not JSON, no
  // records) leaves every device in doubt, never "not sent".
  const auto in_doubt = [&](const std::string& why) {
    core::Error error = core::make_error(
        kErrInDoubt, "POST " + url + " answered HTTP " + std::to_string(response->status) +
                         " but " + why + ": the devices may have been imported");
    error.http_status = response->status;
    error.request_id = response->header("request-id");
    return error;
  };
  Json body;
  try {
    body = Json::parse(response->body);
  } catch (const Json::exception&) {
    return in_doubt(response->body.empty() ? "with no body" : "with a body that is not JSON");
  }
  if (!body.is_object() || !body.contains("value") || !body["value"].is_array()) {
    return in_doubt("without the list of import records");
  }
  std::vector<ImportRecord> records;
  for (const auto& item : body["value"]) {
    if (item.is_object()) records.push_back(parse_import_record(item));
  }
  return records;
}

core::Result<std::optional<ImportRecord>> GraphClient::import_record(const std::string& id) {
  std::string request_id;
  auto body =
      call_json("GET", graph(std::string(kImported) + "/" + url_encode(id)), {}, &request_id);
  if (!body) {
    if (body.error().http_status == 404) return std::optional<ImportRecord>();
    return body.error();
  }
  ImportRecord record = parse_import_record(*body);
  record.request_id = request_id;
  return std::optional<ImportRecord>(std::move(record));
}

core::Result<std::vector<ImportRecord>> GraphClient::import_records_for_serial(
    const std::string& serial) {
  // The form public tools use on import records (WindowsAutopilotIntune's
  // Get-AutopilotImportedDevice -serial); no filter is documented there.
  std::vector<std::string> request_ids;
  auto items = get_all(graph(kImported) + "?$filter=" +
                           url_encode("contains(serialNumber," + odata_quote(serial) + ")"),
                       &request_ids);
  if (!items) return items.error();
  std::vector<ImportRecord> records;
  for (std::size_t i = 0; i < items->size(); ++i) {
    ImportRecord record = parse_import_record((*items)[i]);
    // contains() also matches longer serials: keep the exact one (serials ignore case).
    if (!same_serial(record.serial, serial)) continue;
    record.request_id = request_ids[i];
    records.push_back(std::move(record));
  }
  return records;
}

core::Status GraphClient::delete_import_record(const std::string& id) {
  auto response = call("DELETE", graph(std::string(kImported) + "/" + url_encode(id)));
  if (!response) return response.error();
  return {};
}

core::Status GraphClient::delete_autopilot_device(const std::string& device_id) {
  // "Delete windowsAutopilotDeviceIdentity": DELETE .../windowsAutopilotDeviceIdentities/{id},
  // 204 No Content (learn.microsoft.com intune-enrollment-windowsautopilotdeviceidentity-delete).
  auto response = call("DELETE", graph(std::string(kAutopilot) + "/" + url_encode(device_id)));
  if (!response) return response.error();
  return {};
}

core::Result<std::vector<ImportRecord>> GraphClient::list_import_records() {
  std::vector<std::string> request_ids;
  auto items = get_all(graph(kImported), &request_ids);
  if (!items) return items.error();
  std::vector<ImportRecord> records;
  records.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    records.push_back(parse_import_record((*items)[i]));
    records.back().request_id = request_ids[i];
  }
  return records;
}

core::Result<std::vector<AutopilotDevice>> GraphClient::find_autopilot_devices(
    const std::string& serial) {
  // contains(), the filter function Microsoft documents in place of eq (which is a 400 here).
  auto items = get_all(graph(kAutopilot) + "?$filter=" +
                       url_encode("contains(serialNumber," + odata_quote(serial) + ")"));
  if (!items) return items.error();
  // contains() also finds longer serials ("S10" for "S1"): only exact ones are kept, every one.
  std::vector<AutopilotDevice> devices;
  for (const auto& item : *items) {
    AutopilotDevice device = parse_autopilot(item);
    if (same_serial(device.serial, serial)) devices.push_back(std::move(device));
  }
  return devices;
}

core::Result<std::vector<AutopilotDevice>> GraphClient::list_autopilot_devices() {
  // No $select (a 500 on this collection) and no $top (undocumented here): the default page,
  // about 1,000 devices, carries every field.
  auto items = get_all(graph(kAutopilot));
  if (!items) return items.error();
  std::vector<AutopilotDevice> devices;
  devices.reserve(items->size());
  for (const auto& item : *items) devices.push_back(parse_autopilot(item));
  return devices;
}

core::Result<std::vector<AutopilotDevice>> GraphClient::list_autopilot_devices_tagged(
    const std::string& group_tag) {
  // contains(), the documented filter function; exact matches are picked by the caller. No
  // $select: Intune answers any projection on this collection with a 500, and the default one
  // carries deploymentProfileAssignmentStatus on beta.
  auto items = get_all(graph(kAutopilot) + "?$filter=" +
                       url_encode("contains(groupTag," + odata_quote(group_tag) + ")"));
  if (!items) return items.error();
  std::vector<AutopilotDevice> devices;
  devices.reserve(items->size());
  for (const auto& item : *items) devices.push_back(parse_autopilot(item));
  return devices;
}

core::Status GraphClient::set_group_tag(const std::string& device_id, const std::string& tag) {
  auto response =
      call("POST",
           graph(std::string(kAutopilot) + "/" + url_encode(device_id) + "/updateDeviceProperties"),
           Json{{"groupTag", tag}}.dump());
  if (!response) return response.error();
  return {};
}

core::Result<std::vector<ManagedDevice>> GraphClient::list_managed_devices() {
  // $select on managedDevices is in wide use; the default page is 1,000.
  auto items = get_all(graph("/deviceManagement/managedDevices") +
                       "?$select=" + url_encode("id,lastSyncDateTime"));
  if (!items) return items.error();
  std::vector<ManagedDevice> devices;
  devices.reserve(items->size());
  for (const auto& item : *items) {
    devices.push_back(
        {text_field(item, "id"), parse_graph_time(text_field(item, "lastSyncDateTime"))});
  }
  return devices;
}

}  // namespace hangar::cloud
