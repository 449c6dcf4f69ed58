// The Graph endpoints: imported Autopilot identities (import, get, list, delete), Autopilot device
// identities and their actions, managed devices and users.
#include <cctype>
#include <tuple>

#include "entities.h"
#include "import_body.h"
#include "odata.h"
#include "service_state.h"
#include "text.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

constexpr const char* kImported = "importedWindowsAutopilotDeviceIdentities";
constexpr const char* kAutopilot = "windowsAutopilotDeviceIdentities";

core::Error bad_request(std::string message) {
  return core::make_error("BadRequest", std::move(message));
}

core::Error not_found(const std::string& type, const std::string& id) {
  return core::make_error("ResourceNotFound",
                          "Resource not found: no " + type + " with id '" + id + "'.");
}

ApiReply ok(json body, int status = 200) {
  ApiReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

ApiReply no_content() {
  ApiReply reply;
  reply.status = 204;
  return reply;
}

// Turns "name('key')" into {"name", "key"} so both URL key styles work.
std::vector<std::string> normalize(const std::vector<std::string>& segments) {
  std::vector<std::string> out;
  for (const auto& s : segments) {
    auto open = s.find('(');
    if (open != std::string::npos && s.size() > open + 3 && s.back() == ')') {
      out.push_back(s.substr(0, open));
      std::string key = s.substr(open + 1, s.size() - open - 2);
      if (key.size() >= 2 && key.front() == '\'' && key.back() == '\'') {
        key = key.substr(1, key.size() - 2);
      }
      out.push_back(key);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

GraphRoute route(GraphOp op, std::string endpoint, std::string id = {}) {
  return GraphRoute{op, std::move(endpoint), std::move(id), {}};
}

GraphRoute pick(const std::string& method, const std::string& id,
                std::initializer_list<std::tuple<const char*, GraphOp, const char*>> choices) {
  for (const auto& [m, op, endpoint] : choices) {
    if (method == m) return route(op, endpoint, id);
  }
  GraphRoute r = route(GraphOp::kMethodNotAllowed, "graph.method_not_allowed", id);
  r.detail = method;
  return r;
}

GraphRoute unknown(const std::string& segment) {
  GraphRoute r;
  r.detail = segment;
  return r;
}

// The JSON object body of an action, with only `allowed` parameters (OData's check).
core::Result<json> action_parameters(const std::string& body, const std::string& action,
                                     std::initializer_list<const char*> allowed) {
  if (trim(body).empty()) return json::object();
  json params;
  try {
    params = json::parse(body);
  } catch (const json::exception&) {  // parse_error, or a number out of range
    return bad_request(
        "Unable to read JSON request payload. Please ensure Content-Type header is set and "
        "payload is of valid JSON format.");
  }
  if (!params.is_object())
    return bad_request("The request body of '" + action + "' must be a JSON object.");
  for (const auto& [key, value] : params.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      return bad_request("The parameter '" + key +
                         "' in the request payload is not a valid parameter for the operation '" +
                         action + "'.");
    }
    if (!value.is_null() && !value.is_string()) {
      return bad_request(
          "Cannot convert a primitive value to the expected type 'Edm.String' for "
          "parameter '" +
          key + "'.");
    }
  }
  return params;
}

std::optional<std::string> optional_string(const json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  return it->is_null() ? std::string() : it->get<std::string>();
}

// Which API a list belongs to: Intune and the directory page differently.
enum class Api { kIntune, kDirectory };

void page_sizes(const SimState& state, Api api, PageRequest& page) {
  const auto& paging = state.scenario.paging;
  page.default_page_size = api == Api::kDirectory ? paging.directory_page_size : paging.page_size;
  page.max_page_size =
      api == Api::kDirectory ? paging.directory_max_page_size : paging.max_page_size;
}

bool has_option(const RequestContext& ctx, const char* name) {
  for (const auto& [key, value] : ctx.query) {
    if (iequals(key, name)) return true;
  }
  return false;
}

// Intune's answer to a query it does not support: 400 "An error has occurred" (the text of the
// v1.0 list page and the reports; the Operation ID part is added with Intune's document).
core::Error intune_bad_request() { return core::make_error("BadRequest", "An error has occurred"); }

// What Intune accepts on windowsAutopilotDeviceIdentities: no $select at all (any projection is a
// 500, microsoft-graph-docs-contrib #5193 and #2756, DeviceOffboardingManager #65) and, in $filter,
// filter functions instead of operators ("eq ... not currently supported", the list page;
// msgraph-sdk-powershell #1260): contains() is the documented one.
std::optional<core::Error> refuse_autopilot_query(const SimState& state, const RequestContext& ctx,
                                                  const QueryOptions& options) {
  const auto& lenient = state.scenario.lenient;
  if (!lenient.autopilot_select && has_option(ctx, "$select")) {
    return core::make_error("InternalServerError", "An internal server error has occurred");
  }
  if (!lenient.any_filter && options.filter) {
    const auto function = options.filter->single_function();
    if (!function || function->first != "contains") return intune_bad_request();
  }
  return std::nullopt;
}

// Import records: nothing is documented; public tools filter them with contains(serialNumber,...)
// (WindowsAutopilotIntune's Get-AutopilotImportedDevice -serial), so that is all this serves, and
// scenario.import.serial_filter_status can refuse even that (400 or 501).
std::optional<core::Error> refuse_imported_query(const SimState& state,
                                                 const QueryOptions& options) {
  if (!options.filter) return std::nullopt;
  const int refusal = state.scenario.import.serial_filter_status;
  if (refusal == 501) {
    return core::make_error("NotImplemented", "The filter is not supported on this resource");
  }
  if (refusal == 400) return intune_bad_request();
  if (state.scenario.lenient.any_filter) return std::nullopt;
  const auto function = options.filter->single_function();
  if (!function || function->first != "contains" || function->second != "serialNumber") {
    return intune_bad_request();
  }
  return std::nullopt;
}

template <typename T>
ApiResult list(const SimState& state, const RequestContext& ctx, const OrderedStore<T>& store,
               const EntitySchema& schema, Api api = Api::kIntune) {
  auto options = parse_query_options(ctx.query, schema, true);
  if (!options) return options.error();
  if (&schema == &autopilot_device_schema()) {
    if (auto refused = refuse_autopilot_query(state, ctx, *options)) return *refused;
  } else if (&schema == &imported_identity_schema()) {
    if (auto refused = refuse_imported_query(state, *options)) return *refused;
  }
  PageRequest page;
  page_sizes(state, api, page);
  page.collection_url = ctx.graph_base + "/" + schema.entity_set;
  page.context_url = ctx.graph_base + "/$metadata#" + schema.entity_set;
  return ok(make_page(store.items(), *options, schema, page));
}

template <typename T>
ApiResult get_one(const RequestContext& ctx, const T* entity, const EntitySchema& schema,
                  const std::string& id) {
  auto options = parse_query_options(ctx.query, schema, false);
  if (!options) return options.error();
  if (!entity) return not_found(schema.type_name.substr(16), id);  // drop "microsoft.graph."
  json body = project(to_json(*entity), options->select, schema);
  body["@odata.context"] = ctx.graph_base + "/$metadata#" + schema.entity_set + "/$entity";
  return ok(std::move(body));
}

ApiResult group_members(SimState& state, const RequestContext& ctx, const std::string& group_id) {
  const auto& schema = directory_device_schema();
  auto options = parse_query_options(ctx.query, schema, true);
  if (!options) return options.error();
  if (!state.tenant.group(group_id)) {
    return core::make_error("Request_ResourceNotFound",
                            "Resource '" + group_id +
                                "' does not exist or one of its queried reference-property "
                                "objects are not present.");
  }
  PageRequest page;
  page_sizes(state, Api::kDirectory, page);
  page.collection_url = ctx.graph_base + "/groups/" + group_id + "/members/microsoft.graph.device";
  page.context_url = ctx.graph_base + "/$metadata#devices";
  return ok(make_page(state.tenant.group_devices(group_id), *options, schema, page));
}

// Graph does not manage the members of a dynamic-membership group: its rule does. (The wording
// is the simulator's; the status and code are what clients key on.)
std::optional<core::Error> refuse_dynamic(const SimState& state, const std::string& group_id) {
  const Group* group = state.tenant.group(group_id);
  if (!group || group->membership_rule.empty()) return std::nullopt;
  return core::make_error("Request_BadRequest",
                          "Members of group '" + group_id +
                              "' cannot be added or removed: its membership is dynamic "
                              "(membershipRule), so its rule decides who is a member.");
}

// POST groups/{id}/members/$ref {"@odata.id": ".../directoryObjects/{id}"}: the reference must
// name a directory object by URL, as Graph requires.
ApiResult add_group_member(SimState& state, const RequestContext& ctx,
                           const std::string& group_id) {
  json body = json::parse(ctx.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return bad_request(
        "Unable to read JSON request payload. Please ensure Content-Type header is set and "
        "payload is of valid JSON format.");
  }
  auto ref = body.find("@odata.id");
  if (ref == body.end() || !ref->is_string() || body.size() != 1) {
    return core::make_error("Request_BadRequest",
                            "The request body must hold exactly one property, '@odata.id', the "
                            "URL of the directory object to add.");
  }
  const std::string url = ref->get<std::string>();
  std::string lowered = url;
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string object_id;
  for (const std::string marker : {"/directoryobjects/", "/devices/"}) {
    const auto at = lowered.find(marker);
    if (at != std::string::npos && istarts_with(url, "http")) {
      object_id = url.substr(at + marker.size());
    }
  }
  if (object_id.empty() || object_id.find('/') != std::string::npos) {
    return core::make_error("Request_BadRequest",
                            "Invalid object identifier '" + url +
                                "'; expected https://graph.microsoft.com/v1.0/directoryObjects/"
                                "{id}.");
  }
  if (auto refused = refuse_dynamic(state, group_id)) return *refused;
  auto added = state.tenant.add_member(group_id, object_id);
  if (!added) return added.error();
  if (!*added) {
    return core::make_error("Request_BadRequest",
                            "One or more added object references already exist for the following "
                            "modified properties: 'members'.");
  }
  return no_content();
}

ApiResult import_action(SimState& state, const RequestContext& ctx) {
  auto rows = parse_import_body(ctx.request.body, state.scenario.import.max_devices_per_call);
  if (!rows) return rows.error();
  json value = json::array();
  for (const auto& record : state.tenant.import_devices(*rows, ctx.now_ms)) {
    value.push_back(to_json(record));
  }
  return ok(json{{"@odata.context", ctx.graph_base + "/$metadata#Collection(" +
                                        imported_identity_schema().type_name + ")"},
                 {"value", std::move(value)}});
}

}  // namespace

GraphRoute classify_graph(const std::string& method, const std::vector<std::string>& raw) {
  auto s = normalize(raw);
  if (s.empty()) return unknown("");
  // Entra ID: groups/{id}/members[/microsoft.graph.device] (list), groups/{id}/members/$ref
  // (add), groups/{id}/members/{member}/$ref (remove); devices and devices/{id}.
  if (iequals(s[0], "groups")) {
    if (s.size() < 3 || !iequals(s[2], "members")) return unknown(s.size() > 2 ? s[2] : s[0]);
    if (s.size() == 3 || (s.size() == 4 && iequals(s[3], "microsoft.graph.device"))) {
      return pick(method, s[1], {{"GET", GraphOp::kGroupMembersList, "groups.members.list"}});
    }
    if (s.size() == 4 && s[3] == "$ref") {
      return pick(method, s[1], {{"POST", GraphOp::kGroupMemberAdd, "groups.members.add"}});
    }
    if (s.size() == 5 && s[4] == "$ref") {
      GraphRoute r =
          pick(method, s[1], {{"DELETE", GraphOp::kGroupMemberRemove, "groups.members.remove"}});
      r.member = s[3];
      return r;
    }
    return unknown(s.back());
  }
  if (iequals(s[0], "devices")) {
    if (s.size() == 1) return pick(method, "", {{"GET", GraphOp::kDevicesList, "devices.list"}});
    if (s.size() == 2) return pick(method, s[1], {{"GET", GraphOp::kDeviceGet, "devices.get"}});
    return unknown(s[2]);
  }
  if (iequals(s[0], "subscribedSkus")) {
    if (s.size() == 1) return pick(method, "", {{"GET", GraphOp::kSkuList, "subscribedSkus.list"}});
    return unknown(s[1]);
  }
  if (iequals(s[0], "users")) {
    if (s.size() == 2) return pick(method, s[1], {{"GET", GraphOp::kUserGet, "users.get"}});
    return unknown(s.size() > 2 ? s[2] : s[0]);
  }
  if (!iequals(s[0], "deviceManagement") || s.size() < 2) return unknown(s[0]);
  const std::string& set = s[1];
  if (iequals(set, kImported)) {
    if (s.size() == 2) return pick(method, "", {{"GET", GraphOp::kImportedList, "imported.list"}});
    if (s.size() == 3 && (iequals(s[2], "import") || iequals(s[2], "microsoft.graph.import"))) {
      return pick(method, "", {{"POST", GraphOp::kImport, "imported.import"}});
    }
    if (s.size() == 3) {
      return pick(method, s[2],
                  {{"GET", GraphOp::kImportedGet, "imported.get"},
                   {"DELETE", GraphOp::kImportedDelete, "imported.delete"}});
    }
    return unknown(s[3]);
  }
  if (iequals(set, kAutopilot)) {
    if (s.size() == 2) {
      return pick(method, "", {{"GET", GraphOp::kAutopilotList, "autopilot.list"}});
    }
    if (s.size() == 3) {
      return pick(method, s[2],
                  {{"GET", GraphOp::kAutopilotGet, "autopilot.get"},
                   {"DELETE", GraphOp::kAutopilotDelete, "autopilot.delete"}});
    }
    if (s.size() == 4) {
      std::string action = s[3];
      if (istarts_with(action, "microsoft.graph.")) action = action.substr(16);
      if (iequals(action, "updateDeviceProperties")) {
        return pick(method, s[2],
                    {{"POST", GraphOp::kUpdateProperties, "autopilot.updateDeviceProperties"}});
      }
      if (iequals(action, "assignUserToDevice")) {
        return pick(method, s[2], {{"POST", GraphOp::kAssignUser, "autopilot.assignUserToDevice"}});
      }
    }
    return unknown(s.back());
  }
  if (iequals(set, "managedDevices")) {
    if (s.size() == 2) {
      return pick(method, "", {{"GET", GraphOp::kManagedList, "managedDevices.list"}});
    }
    if (s.size() == 3) {
      return pick(method, s[2], {{"GET", GraphOp::kManagedGet, "managedDevices.get"}});
    }
    return unknown(s[3]);
  }
  return unknown(set);
}

ApiResult handle_graph(SimState& state, const RequestContext& ctx, const GraphRoute& r) {
  auto& tenant = state.tenant;
  switch (r.op) {
    case GraphOp::kImport:
      return import_action(state, ctx);
    case GraphOp::kImportedList:
      return list(state, ctx, tenant.imported_all(), imported_identity_schema());
    case GraphOp::kImportedGet:
      return get_one(ctx, tenant.imported(r.id), imported_identity_schema(), r.id);
    case GraphOp::kImportedDelete:
      if (!tenant.delete_imported(r.id)) {
        return not_found("importedWindowsAutopilotDeviceIdentity", r.id);
      }
      return no_content();
    case GraphOp::kAutopilotList:
      return list(state, ctx, tenant.autopilot_devices(), autopilot_device_schema());
    case GraphOp::kAutopilotGet:
      if (!state.scenario.lenient.autopilot_select && has_option(ctx, "$select")) {
        return core::make_error("InternalServerError", "An internal server error has occurred");
      }
      return get_one(ctx, tenant.autopilot_device(r.id), autopilot_device_schema(), r.id);
    case GraphOp::kAutopilotDelete:
      // "Delete windowsAutopilotDeviceIdentity": 204 No Content (learn.microsoft.com
      // intune-enrollment-windowsautopilotdeviceidentity-delete); an unknown id is the same
      // 404 as a GET of it.
      if (!tenant.delete_autopilot_device(r.id)) {
        return not_found("windowsAutopilotDeviceIdentity", r.id);
      }
      return no_content();
    case GraphOp::kUpdateProperties: {
      auto params = action_parameters(
          ctx.request.body, "updateDeviceProperties",
          {"userPrincipalName", "addressableUserName", "groupTag", "displayName"});
      if (!params) return params.error();
      DevicePropertiesUpdate update;
      update.group_tag = optional_string(*params, "groupTag");
      update.display_name = optional_string(*params, "displayName");
      update.user_principal_name = optional_string(*params, "userPrincipalName");
      update.addressable_user_name = optional_string(*params, "addressableUserName");
      if (!tenant.update_device_properties(r.id, update)) {
        return not_found("windowsAutopilotDeviceIdentity", r.id);
      }
      return no_content();
    }
    case GraphOp::kAssignUser: {
      auto params = action_parameters(ctx.request.body, "assignUserToDevice",
                                      {"userPrincipalName", "addressableUserName"});
      if (!params) return params.error();
      auto upn = optional_string(*params, "userPrincipalName");
      if (!upn || upn->empty()) {
        return bad_request("The parameter 'userPrincipalName' is missing or empty.");
      }
      DevicePropertiesUpdate update;
      update.user_principal_name = upn;
      update.addressable_user_name = optional_string(*params, "addressableUserName");
      if (!tenant.update_device_properties(r.id, update)) {
        return not_found("windowsAutopilotDeviceIdentity", r.id);
      }
      return no_content();
    }
    case GraphOp::kManagedList:
      return list(state, ctx, tenant.managed_devices(), managed_device_schema());
    case GraphOp::kManagedGet:
      return get_one(ctx, tenant.managed_device(r.id), managed_device_schema(), r.id);
    case GraphOp::kUserGet: {
      auto options = parse_query_options(ctx.query, user_schema(), false);
      if (!options) return options.error();
      const User* user = tenant.user(r.id);
      if (!user) {
        return core::make_error("Request_ResourceNotFound",
                                "Resource '" + r.id +
                                    "' does not exist or one of its queried reference-property "
                                    "objects are not present.");
      }
      json body = project(to_json(*user), options->select, user_schema());
      body["@odata.context"] = ctx.graph_base + "/$metadata#users/$entity";
      return ok(std::move(body));
    }
    case GraphOp::kSkuList: {
      // "List subscribedSkus" (v1.0): the organization's subscriptions, each with skuId and
      // skuPartNumber; "query filter expressions aren't supported" (subscribedSku resource
      // page), so a $filter is refused here. One page: a tenant has a handful.
      for (const auto& [key, value] : ctx.query) {
        if (key == "$filter") {
          return bad_request("Query filter expressions aren't supported on subscribedSkus.");
        }
      }
      json value = json::array();
      for (const auto& sku : tenant.skus()) {
        value.push_back({{"id", sku.sku_id},
                         {"skuId", sku.sku_id},
                         {"skuPartNumber", sku.sku_part_number},
                         {"appliesTo", "User"},
                         {"capabilityStatus", "Enabled"}});
      }
      return ok(json{{"@odata.context", ctx.graph_base + "/$metadata#subscribedSkus"},
                     {"value", std::move(value)}});
    }
    case GraphOp::kGroupMembersList:
      return group_members(state, ctx, r.id);
    case GraphOp::kGroupMemberAdd:
      return add_group_member(state, ctx, r.id);
    case GraphOp::kGroupMemberRemove:
      if (auto refused = refuse_dynamic(state, r.id)) return *refused;
      if (auto removed = tenant.remove_member(r.id, r.member); !removed) return removed.error();
      return no_content();
    case GraphOp::kDevicesList:
      return list(state, ctx, tenant.directory_devices(), directory_device_schema(),
                  Api::kDirectory);
    case GraphOp::kDeviceGet:
      return get_one(ctx, tenant.directory_device(r.id), directory_device_schema(), r.id);
    case GraphOp::kMethodNotAllowed:
      return core::make_error("MethodNotAllowed", "The HTTP method '" + r.detail +
                                                      "' is not allowed on this resource.");
    case GraphOp::kUnknownSegment:
      break;
  }
  return bad_request("Resource not found for the segment '" + r.detail + "'.");
}

}  // namespace hangar::cloudsim
