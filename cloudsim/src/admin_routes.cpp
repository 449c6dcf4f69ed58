// The admin API under /_sim: counters for tests and benchmarks, and the knobs a test needs while
// a client is running (reset, advance time, replace the scenario, simulate an enrolment).
#include <cmath>

#include "entities.h"
#include "service_state.h"
#include "text.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

HttpResponse admin_error(int status, const std::string& code, const std::string& message) {
  return json_response(status, json{{"error", {{"code", code}, {"message", message}}}}, kPlainJson);
}

HttpResponse no_content() {
  HttpResponse response;
  response.status = 204;
  return response;
}

// The body as a JSON object ("" counts as {}), or nullopt.
std::optional<json> object_body(const std::string& body) {
  if (trim(body).empty()) return json::object();
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

HttpResponse advance(SimState& state, const json& body) {
  auto it = body.find("seconds");
  if (it == body.end() || !it->is_number() || it->get<double>() < 0) {
    return admin_error(400, "bad_request", "POST /_sim/advance needs {\"seconds\": N} with N >= 0");
  }
  state.advanced_ms += std::llround(it->get<double>() * 1000.0);
  state.tenant.process_due(state.now());
  return json_response(200, json{{"now", format_iso8601(state.now())}}, kPlainJson);
}

HttpResponse enroll(SimState& state, const json& body) {
  auto text = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string serial = text("serialNumber");
  if (serial.empty()) {
    return admin_error(400, "bad_request",
                       "POST /_sim/enroll needs {\"serialNumber\": \"...\"} and optionally "
                       "\"userPrincipalName\" and \"lastSyncDaysAgo\"");
  }
  double days_ago = 0;
  if (auto it = body.find("lastSyncDaysAgo"); it != body.end() && it->is_number()) {
    days_ago = it->get<double>();
  }
  const auto sync_ms = state.now() - std::llround(days_ago * 86'400'000.0);
  auto managed = state.tenant.enroll(serial, text("userPrincipalName"), sync_ms);
  if (!managed) return admin_error(404, managed.error().code, managed.error().message);
  return json_response(200, to_json(*managed), kPlainJson);
}

// POST /_sim/groups {"id"?, "displayName"?, "membershipRule"?}: creates an Entra ID group (a
// dynamic-membership one with a rule).
HttpResponse create_group(SimState& state, const json& body) {
  auto text = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const Group& group =
      state.tenant.add_group(text("id"), text("displayName"), text("membershipRule"));
  json reply{{"id", group.id}, {"displayName", group.display_name}};
  if (!group.membership_rule.empty()) reply["membershipRule"] = group.membership_rule;
  return json_response(200, reply, kPlainJson);
}

// POST /_sim/groups/{id}/members {"serialNumber"} or {"deviceId"}: puts a joined device in a
// group behind the service's back (what an admin's manual change looks like to Hangar).
HttpResponse seed_member(SimState& state, const std::string& group_id, const json& body) {
  auto text = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string device_id = text("deviceId");
  if (const std::string serial = text("serialNumber"); !serial.empty()) {
    const AutopilotDevice* device = state.tenant.autopilot_device_by_serial(serial);
    if (!device) {
      return admin_error(404, "not_found",
                         "no registered Autopilot device has serial number '" + serial + "'");
    }
    device_id = device->azure_ad_device_id;
  }
  if (!state.tenant.group(group_id)) {
    return admin_error(404, "not_found",
                       "no group '" + group_id + "' (create it with POST /_sim/groups)");
  }
  const DirectoryDevice* object = state.tenant.directory_device_by_device_id(device_id);
  if (!object) {
    return admin_error(404, "not_found",
                       "that device has no Entra ID object yet: enroll it first (POST "
                       "/_sim/enroll), or name a deviceId");
  }
  auto added = state.tenant.add_member(group_id, object->id);
  if (!added) return admin_error(404, "not_found", added.error().message);
  return json_response(200,
                       json{{"groupId", group_id},
                            {"id", object->id},
                            {"deviceId", object->device_id},
                            {"added", *added}},
                       kPlainJson);
}

// GET /_sim/groups/{id}/members: the members' deviceIds, for assertions.
HttpResponse list_members(SimState& state, const std::string& group_id) {
  if (!state.tenant.group(group_id)) return admin_error(404, "not_found", "no group " + group_id);
  json members = json::array();
  for (const auto& [seq, object] : state.tenant.group_devices(group_id)) {
    members.push_back({{"id", object.id}, {"deviceId", object.device_id}});
  }
  return json_response(200, json{{"members", members}}, kPlainJson);
}

}  // namespace

HttpResponse handle_admin(SimState& state, const RequestContext& ctx) {
  const std::string& method = ctx.request.method;
  const std::string action = ctx.segments.size() == 2 ? ctx.segments[1] : "";
  if (action == "stats" && method == "GET") {
    return json_response(200, state.stats_json(), kPlainJson);
  }
  if (action == "reset" && method == "POST") {
    state.reset();
    return no_content();
  }
  const auto& s = ctx.segments;
  if (s.size() == 4 && s[1] == "groups" && s[3] == "members" && method == "GET") {
    return list_members(state, s[2]);
  }
  auto body = object_body(ctx.request.body);
  if (!body) return admin_error(400, "bad_request", "the body must be a JSON object");
  if (s.size() == 2 && s[1] == "groups" && method == "POST") return create_group(state, *body);
  if (s.size() == 4 && s[1] == "groups" && s[3] == "members" && method == "POST") {
    return seed_member(state, s[2], *body);
  }
  if (action == "advance" && method == "POST") return advance(state, *body);
  if (action == "enroll" && method == "POST") return enroll(state, *body);
  if (action == "scenario" && method == "PUT") {
    auto scenario = parse_scenario(*body);
    if (!scenario) return admin_error(400, scenario.error().code, scenario.error().message);
    state.configure(std::move(*scenario));
    return no_content();
  }
  return admin_error(404, "not_found",
                     "admin endpoints: GET /_sim/stats, POST /_sim/reset, POST /_sim/advance, "
                     "POST /_sim/enroll, PUT /_sim/scenario, POST /_sim/groups, "
                     "POST|GET /_sim/groups/{id}/members");
}

}  // namespace hangar::cloudsim
