// The Graph client's users and directory requests: a user's licences and its assignment to a
// device (delivery), the profile groups' device members and their changes (the group sweep).
#include <algorithm>

#include "graph_json.h"
#include "hangar/cloud/graph_client.h"

namespace hangar::cloud {

using namespace detail;
using Json = nlohmann::json;

namespace {

std::vector<DirectoryDevice> parse_directory_devices(const std::vector<Json>& items) {
  std::vector<DirectoryDevice> devices;
  devices.reserve(items.size());
  for (const auto& item : items) {
    DirectoryDevice device{text_field(item, "id"), text_field(item, "deviceId")};
    if (!device.object_id.empty()) devices.push_back(std::move(device));
  }
  return devices;
}

}  // namespace

core::Result<std::optional<UserLicences>> GraphClient::find_user(const std::string& upn) {
  auto body = call_json("GET", graph("/users/" + url_encode(upn)) +
                                   "?$select=" + url_encode("userPrincipalName,assignedLicenses"));
  if (!body) {
    if (body.error().http_status == 404) return std::optional<UserLicences>();
    return body.error();
  }
  UserLicences user;
  user.user_principal_name = text_field(*body, "userPrincipalName");
  if (user.user_principal_name.empty()) user.user_principal_name = upn;
  if (auto it = body->find("assignedLicenses"); it != body->end() && it->is_array()) {
    for (const auto& licence : *it) {
      if (licence.is_object()) {
        const std::string sku = text_field(licence, "skuId");
        if (!sku.empty()) user.sku_ids.push_back(sku);
      }
    }
  }
  return std::optional<UserLicences>(std::move(user));
}

core::Status GraphClient::assign_user(const std::string& device_id, const std::string& upn) {
  auto response = call(
      "POST", graph(std::string(kAutopilot) + "/" + url_encode(device_id) + "/assignUserToDevice"),
      Json{{"userPrincipalName", upn}, {"addressableUserName", upn}}.dump());
  if (response) return {};
  core::Error error = std::move(response).error();
  // Microsoft has retired parts of direct user assignment, and assignUserToDevice is reported to
  // answer 400 at times (microsoft-graph-docs #11620): say what to do instead of the raw answer.
  if (error.code == kErrRejected || error.code == kErrTransient) {
    error.message =
        "Intune did not assign " + upn + " to the Autopilot device (" + error.message +
        "). Intune refuses direct user assignment at times (Microsoft has retired parts of it): " +
        (error.code == kErrTransient ? std::string("try `hangar deliver` again later, or assign")
                                     : std::string("assign")) +
        " the user in the Intune admin center (Devices > Windows > Windows enrollment > Devices: "
        "select the device, Assign user); Hangar has not recorded the delivery";
  }
  return error;
}

core::Result<std::map<std::string, std::string>> GraphClient::sku_names() {
  // GET /subscribedSkus (v1.0 "List subscribedSkus"): skuId and skuPartNumber of each of the
  // organization's subscriptions; the resource supports no filter, and a tenant has few.
  auto items = get_all(directory("/subscribedSkus"), nullptr, Api::kDirectory);
  if (!items) return items.error();
  std::map<std::string, std::string> names;
  for (const auto& item : *items) {
    const std::string id = text_field(item, "skuId");
    const std::string name = text_field(item, "skuPartNumber");
    if (!id.empty() && !name.empty()) names[id] = name;
  }
  return names;
}

core::Result<std::vector<DirectoryDevice>> GraphClient::list_group_devices(
    const std::string& group_id) {
  // The cast segment returns device members only (users or nested groups are not ours to
  // judge); 999 is the largest page the directory serves.
  auto items =
      get_all(directory("/groups/" + url_encode(group_id) + "/members/microsoft.graph.device") +
                  "?$select=" + url_encode("id,deviceId") + "&$top=999",
              nullptr, Api::kDirectory);
  if (!items) return items.error();
  return parse_directory_devices(*items);
}

core::Result<std::vector<DirectoryDevice>> GraphClient::find_directory_devices(
    std::span<const std::string> device_ids) {
  std::vector<DirectoryDevice> found;
  for (std::size_t at = 0; at < device_ids.size(); at += kMaxDeviceIdsPerLookup) {
    const std::size_t end = std::min(device_ids.size(), at + kMaxDeviceIdsPerLookup);
    std::string list;
    for (std::size_t i = at; i < end; ++i)
      list += (list.empty() ? "" : ",") + odata_quote(device_ids[i]);
    auto items =
        get_all(directory("/devices") + "?$filter=" + url_encode("deviceId in (" + list + ")") +
                    "&$select=" + url_encode("id,deviceId"),
                nullptr, Api::kDirectory);
    if (!items) return items.error();
    auto devices = parse_directory_devices(*items);
    found.insert(found.end(), devices.begin(), devices.end());
  }
  return found;
}

core::Result<bool> GraphClient::add_group_member(const std::string& group_id,
                                                 const std::string& object_id) {
  auto response =
      call("POST", directory("/groups/" + url_encode(group_id) + "/members/$ref"),
           Json{{"@odata.id", directory("/directoryObjects/" + url_encode(object_id))}}.dump(),
           Api::kDirectory);
  if (response) return true;
  // Graph refuses a reference that exists with this 400: the device is a member already.
  if (failure_of(response.error()) == Failure::kAlreadyExists) return false;
  return response.error();
}

core::Result<bool> GraphClient::remove_group_member(const std::string& group_id,
                                                    const std::string& object_id) {
  auto response = call(
      "DELETE",
      directory("/groups/" + url_encode(group_id) + "/members/" + url_encode(object_id) + "/$ref"),
      {}, Api::kDirectory);
  if (response) return true;
  // 404 for a member that is not (or no longer) in the group. A missing group is a 404 too; the
  // sweep has just listed the group, so the member is what went missing.
  if (failure_of(response.error()) == Failure::kNotFound) return false;
  return response.error();
}

}  // namespace hangar::cloud
