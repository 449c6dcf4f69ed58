// The request contract: every request the engine makes to Microsoft's cloud must be one of the
// forms in kAllowedForms below, each with the public evidence that the real service accepts it.
// The real Engine, GraphClient and Store run against the simulated cloud in-process (no sockets)
// through a recording transport, through a full registration (with a cut-off import answer, a
// refused filter and an 806), an activity pass, a group sweep, a delivery (licences named), a
// deregistration and the daily tag sweep;
// a request whose form is not in the table fails the test. Adding a request form to Hangar means
// adding it here, with its source, first.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "hangar/cloud/graph_client.h"
#include "hangar/cloudsim/service.h"
#include "hangar/core/clock.h"
#include "hangar/core/hash_builder.h"
#include "hangar/core/stop.h"
#include "hangar/service/engine.h"
#include "sim_transport.h"

namespace hangar::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// ---- the table ----------------------------------------------------------------------------------

// Where a request goes: the token authority, Intune's part of Graph (the configured graph_url:
// /beta or /v1.0) or the directory (always /v1.0).
enum class Api { kAuthority, kIntune, kDirectory };

struct QueryOption {
  const char* name;
  // The decoded value. {str} is one OData string literal ('...' with '' for a quote); {strs} is a
  // comma-separated list of 1 to 15 of them (Graph's limit for `in`). Everything else is literal.
  const char* value;
};

struct AllowedForm {
  const char* id;
  const char* method;
  Api api;
  const char* path;                // after the API root; {x} is one path segment
  std::vector<QueryOption> query;  // exactly these options, no others ($skiptoken: see below)
  const char* source;              // the public evidence that the real service answers it
};

// THE table of request forms Hangar may send. Requests that follow an @odata.nextLink the service
// gave are the service's own form and are allowed as they are.
const std::vector<AllowedForm> kAllowedForms{
    {"token",
     "POST",
     Api::kAuthority,
     "/{tenant}/oauth2/v2.0/token",
     {},
     "MicrosoftDocs/entra-docs identity-platform/v2-oauth2-client-creds-grant-flow.md (form "
     "fields client_id, scope, client_secret, grant_type)"},
    {"imported.import",
     "POST",
     Api::kIntune,
     "/deviceManagement/importedWindowsAutopilotDeviceIdentities/import",
     {},
     "microsoft-graph-docs-contrib api-reference/beta/api/"
     "intune-enrollment-importedwindowsautopilotdeviceidentity-import.md"},
    {"imported.list",
     "GET",
     Api::kIntune,
     "/deviceManagement/importedWindowsAutopilotDeviceIdentities",
     {},
     "intune-enrollment-importedwindowsautopilotdeviceidentity-list.md (no options); what "
     "WindowsAutopilotIntune's Get-AutopilotImportedDevice sends without -id or -serial"},
    {"imported.get",
     "GET",
     Api::kIntune,
     "/deviceManagement/importedWindowsAutopilotDeviceIdentities/{id}",
     {},
     "intune-enrollment-importedwindowsautopilotdeviceidentity-get.md; "
     "Get-AutopilotImportedDevice -id"},
    {"imported.by_serial",
     "GET",
     Api::kIntune,
     "/deviceManagement/importedWindowsAutopilotDeviceIdentities",
     {{"$filter", "contains(serialNumber,{str})"}},
     "not documented: the form public tools use (WindowsAutopilotIntune community, "
     "andrew-s-taylor/WindowsAutopilotInfo, Get-AutopilotImportedDevice -serial); a 400 or 501 "
     "makes the engine list the whole table instead"},
    {"imported.delete",
     "DELETE",
     Api::kIntune,
     "/deviceManagement/importedWindowsAutopilotDeviceIdentities/{id}",
     {},
     "intune-enrollment-importedwindowsautopilotdeviceidentity-delete.md (204)"},
    {"autopilot.list",
     "GET",
     Api::kIntune,
     "/deviceManagement/windowsAutopilotDeviceIdentities",
     {},
     "intune-enrollment-windowsautopilotdeviceidentity-list.md; without $select, which is a 500 "
     "(microsoft-graph-docs-contrib #5193, #2756; ugurkocde/DeviceOffboardingManager #65)"},
    {"autopilot.by_serial",
     "GET",
     Api::kIntune,
     "/deviceManagement/windowsAutopilotDeviceIdentities",
     {{"$filter", "contains(serialNumber,{str})"}},
     "the v1.0 list page: \"Filter functions can be used in-place of Equality operators, for "
     "example, contains(serialNumber, '[DeviceSN]')\"; Microsoft Q&A 339792"},
    {"autopilot.by_group_tag",
     "GET",
     Api::kIntune,
     "/deviceManagement/windowsAutopilotDeviceIdentities",
     {{"$filter", "contains(groupTag,{str})"}},
     "the v1.0 list page (filter functions in place of eq; groupTag is a plain string property); "
     "no report either way, so a refusal falls back to the whole list"},
    {"autopilot.updateDeviceProperties",
     "POST",
     Api::kIntune,
     "/deviceManagement/windowsAutopilotDeviceIdentities/{id}/updateDeviceProperties",
     {},
     "intune-enrollment-windowsautopilotdeviceidentity-updatedeviceproperties.md (beta, 204)"},
    {"autopilot.assignUserToDevice",
     "POST",
     Api::kIntune,
     "/deviceManagement/windowsAutopilotDeviceIdentities/{id}/assignUserToDevice",
     {},
     "intune-enrollment-windowsautopilotdeviceidentity-assignusertodevice.md (beta, 204); "
     "reported to answer 400 at times (microsoft-graph-docs #11620)"},
    {"autopilot.delete",
     "DELETE",
     Api::kIntune,
     "/deviceManagement/windowsAutopilotDeviceIdentities/{id}",
     {},
     "intune-enrollment-windowsautopilotdeviceidentity-delete.md (\"Delete "
     "windowsAutopilotDeviceIdentity\", 204); "
     "Remove-MgDeviceManagementWindowsAutopilotDeviceIdentity "
     "(`hangar deregister`)"},
    {"subscribedSkus.list",
     "GET",
     Api::kDirectory,
     "/subscribedSkus",
     {},
     "subscribedsku-list.md (v1.0 \"List subscribedSkus\": skuId and skuPartNumber); the "
     "subscribedSku resource: \"Query filter expressions aren't supported\", so none is sent"},
    {"managedDevices.list",
     "GET",
     Api::kIntune,
     "/deviceManagement/managedDevices",
     {{"$select", "id,lastSyncDateTime"}},
     "intune-devices-manageddevice-list.md; $select on managedDevices in wide use "
     "(microsoftgraph/powershell-intune-samples)"},
    {"users.get",
     "GET",
     Api::kIntune,
     "/users/{upn}",
     {{"$select", "userPrincipalName,assignedLicenses"}},
     "user-get.md ($select; assignedLicenses only when selected)"},
    {"groups.members.devices",
     "GET",
     Api::kDirectory,
     "/groups/{id}/members/microsoft.graph.device",
     {{"$select", "id,deviceId"}, {"$top", "999"}},
     "group-list-members.md (OData cast to microsoft.graph.device); paging docs: $top at most 999 "
     "for directory objects"},
    {"devices.by_device_id",
     "GET",
     Api::kDirectory,
     "/devices",
     {{"$filter", "deviceId in ({strs})"}, {"$select", "id,deviceId"}},
     "device-list.md ($filter on deviceId); Graph known issues: at most 15 values in `in`"},
    {"groups.members.add",
     "POST",
     Api::kDirectory,
     "/groups/{id}/members/$ref",
     {},
     "group-post-members.md ({\"@odata.id\": \".../directoryObjects/{id}\"}, 204)"},
    {"groups.members.remove",
     "DELETE",
     Api::kDirectory,
     "/groups/{id}/members/{id}/$ref",
     {},
     "group-delete-members.md (204)"},
};

// ---- matching -----------------------------------------------------------------------------------

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
        hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// The value pattern as a regex: {str} and {strs} as described at QueryOption.
std::regex value_regex(std::string_view pattern) {
  static const std::string kLiteral = "'(?:[^']|'')*'";
  std::string regex;
  while (!pattern.empty()) {
    if (pattern.starts_with("{strs}")) {
      regex += kLiteral + "(?:," + kLiteral + "){0,14}";
      pattern.remove_prefix(6);
    } else if (pattern.starts_with("{str}")) {
      regex += kLiteral;
      pattern.remove_prefix(5);
    } else {
      regex += regex_escape(pattern.substr(0, 1));
      pattern.remove_prefix(1);
    }
  }
  return std::regex(regex);
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t at = text.find(separator); at != std::string_view::npos;
       at = text.find(separator, start)) {
    parts.emplace_back(text.substr(start, at - start));
    start = at + 1;
  }
  parts.emplace_back(text.substr(start));
  return parts;
}

bool path_matches(const std::string& templ, const std::string& path) {
  const auto want = split(templ, '/');
  const auto have = split(path, '/');
  if (want.size() != have.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const bool placeholder = want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}';
    if (placeholder ? have[i].empty() : want[i] != have[i]) return false;
  }
  return true;
}

// The id of the table's row that `method url` is, or nullopt. `origin` is the cloud's.
std::optional<std::string> form_of(const std::string& method, const std::string& url,
                                   const std::string& origin) {
  if (url.rfind(origin, 0) != 0) return std::nullopt;
  const std::string rest = url.substr(origin.size());
  const auto question = rest.find('?');
  const std::string path = rest.substr(0, question);
  std::map<std::string, std::string> query;
  if (question != std::string::npos) {
    for (const auto& pair : split(std::string_view(rest).substr(question + 1), '&')) {
      const auto equals = pair.find('=');
      const std::string name = percent_decode(pair.substr(0, equals));
      if (query.count(name) > 0) return std::nullopt;  // an option twice is no form of ours
      query[name] = equals == std::string::npos ? "" : percent_decode(pair.substr(equals + 1));
    }
  }
  for (const AllowedForm& form : kAllowedForms) {
    if (form.method != method) continue;
    std::vector<std::string> roots;
    if (form.api == Api::kAuthority) roots = {""};
    if (form.api == Api::kIntune) roots = {"/beta", "/v1.0"};
    if (form.api == Api::kDirectory) roots = {"/v1.0"};
    const bool on_path = std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
      return path.rfind(root, 0) == 0 && path_matches(form.path, path.substr(root.size()));
    });
    if (!on_path || query.size() != form.query.size()) continue;
    const bool options_match =
        std::all_of(form.query.begin(), form.query.end(), [&](const QueryOption& option) {
          const auto it = query.find(option.name);
          return it != query.end() && std::regex_match(it->second, value_regex(option.value));
        });
    if (options_match) return std::string(form.id);
  }
  return std::nullopt;
}

// ---- the recording transport
// ----------------------------------------------------------------------

class RecordingTransport final : public cloud::HttpTransport {
 public:
  RecordingTransport(cloudsim::CloudSim& sim, std::string origin)
      : inner_(sim, origin), origin_(std::move(origin)) {}

  core::Result<cloud::HttpResponse> send(const cloud::HttpRequest& request,
                                         std::chrono::milliseconds timeout) override {
    Sent sent{request.method, request.url, next_links_.count(request.url) > 0};
    auto response = inner_.send(request, timeout);
    if (response) {
      const Json body = Json::parse(response->body, nullptr, false);
      if (body.is_object() && body.contains("@odata.nextLink") &&
          body["@odata.nextLink"].is_string()) {
        next_links_.insert(body["@odata.nextLink"].get<std::string>());
      }
    }
    requests.push_back(std::move(sent));
    return response;
  }

  struct Sent {
    std::string method;
    std::string url;
    bool follows_next_link = false;
  };
  std::vector<Sent> requests;

 private:
  SimTransport inner_;
  std::string origin_;
  std::set<std::string> next_links_;
};

// ---- the run ----------------------------------------------------------------------------------

constexpr const char* kOrigin = "http://127.0.0.1:9";  // never dialled
constexpr const char* kStandard = "6d1c2b8e-0000-4000-8000-0000000000c1";
constexpr const char* kPower = "6d1c2b8e-0000-4000-8000-0000000000c2";
constexpr const char* kTag = "Microsoft365Managed_Autopilot";

cloudsim::Scenario contract_scenario() {
  const Json document{
      {"seed", 10},
      {"registration",
       {{"delay_seconds", 60}, {"jitter_seconds", 0}, {"profile_delay_seconds", 0}}},
      {"tenant",
       {{"devices",
         {{{"serial_number", "PARTNER-1"},
           {"group_tag", kTag},
           {"managed", {{"last_sync_days_ago", 1}}}},
          // Registered before, under another tag: its import is an 806 and its tag is set back.
          {{"serial_number", "CT-806"}, {"group_tag", "SomeoneElse"}}}},
        {"users",
         {{{"user_principal_name", "ada@contoso.com"},
           {"licenses", {"05e9a617-0261-4cee-bb44-138d3ef5d965"}}}}},
        {"skus",
         {{{"sku_id", "05e9a617-0261-4cee-bb44-138d3ef5d965"}, {"sku_part_number", "SPE_E3"}}}},
        {"groups",
         {{{"id", kStandard}, {"display_name", "MMD standard"}},
          {{"id", kPower}, {"display_name", "MMD power user"}}}}}}};
  auto parsed = cloudsim::parse_scenario(document);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? *parsed : cloudsim::Scenario{};
}

class ContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("hangar-contract-" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".db");
    std::filesystem::remove(path_);
    store_ = std::move(store::Store::open(path_)).value();
    sim_ = std::make_unique<cloudsim::CloudSim>(contract_scenario(), clock_);
    transport_ = std::make_unique<RecordingTransport>(*sim_, kOrigin);
    const cloud::GraphConfig graph = test::sim_graph_config(kOrigin);
    client_ = std::move(cloud::GraphClient::create(graph, *transport_, clock_)).value();
    service::EngineConfig config;
    config.batch_size = 1;  // one device per call: every in-doubt device is looked up alone
    config.poll_interval = 30s;
    config.seed = 7;
    config.profile_groups = {{"standard", kStandard}, {"power-user", kPower}};
    config.required_licenses = {"SPE_E3"};  // by name: the subscriptions are read
    engine_ = std::make_unique<service::Engine>(*store_, *client_, clock_, config);
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }

  void queue(const std::string& serial, const std::string& profile) {
    store::NewDevice device;
    device.serial = serial;
    device.hardware_hash =
        core::HardwareHashBuilder::realistic(serial, "Contoso", "Laptop 7").build();
    device.profile = profile;
    device.created_at = clock_.now_ms();
    ASSERT_TRUE(store_->insert_device(device).ok()) << serial;
  }
  void run_for(std::chrono::milliseconds total) {
    const std::int64_t end = clock_.now_ms() + total.count();
    while (clock_.now_ms() < end) {
      const auto delay = engine_->step();
      clock_.advance(std::max(delay, std::chrono::milliseconds(1)));
    }
  }
  // The simulator's admin API (not the engine's traffic: not recorded).
  Json admin(const std::string& method, const std::string& target, const Json& body) {
    cloudsim::HttpRequest request{
        method, target, {{"content-type", "application/json"}}, body.dump()};
    const auto response = sim_->handle(request);
    EXPECT_EQ(response.status / 100, 2) << target << ": " << response.body;
    return Json::parse(response.body.empty() ? "{}" : response.body, nullptr, false);
  }
  void set_scenario(const std::function<void(Json&)>& change) {
    Json document{{"seed", 10},
                  {"registration",
                   {{"delay_seconds", 60}, {"jitter_seconds", 0}, {"profile_delay_seconds", 0}}}};
    change(document);
    auto parsed = cloudsim::parse_scenario(document);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    sim_->set_scenario(*parsed);
  }
  std::int64_t count(core::DeviceState state) { return store_->count_by_state()->at(state); }
  core::DeviceState state_of(const std::string& serial) {
    return store_->get_device(serial)->state;
  }

  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
  core::FakeClock clock_;
  std::unique_ptr<cloudsim::CloudSim> sim_;
  std::unique_ptr<RecordingTransport> transport_;
  std::unique_ptr<cloud::GraphClient> client_;
  std::unique_ptr<service::Engine> engine_;
};

TEST_F(ContractTest, EveryRequestTheEngineMakesIsAFormOfTheTable) {
  // Other tools' import records: the table is two pages, so a few pending records are read one by
  // one (GET .../{id}) rather than by listing the table. Made straight through the simulator.
  {
    SimTransport direct(*sim_, kOrigin);
    const cloud::GraphConfig graph = test::sim_graph_config(kOrigin);
    auto other_tool = std::move(cloud::GraphClient::create(graph, direct, clock_)).value();
    for (int call = 0; call < 3; ++call) {
      std::vector<cloud::ImportItem> items;
      for (int i = 0; i < 400; ++i) {
        items.push_back({"OTHER-" + std::to_string(call * 400 + i), "", "", "", ""});
      }
      ASSERT_TRUE(other_tool->import_devices(items).ok());
    }
  }

  // 1. Registration: three devices, one at a time (and the first poll learns the table's size).
  queue("CT-1", "standard");
  queue("CT-2", "power-user");
  queue("CT-3", "standard");
  run_for(4min);
  ASSERT_EQ(count(core::DeviceState::kReadyForUser), 3) << "registration";

  // 2. Registration with every import answer cut off: looked up by serial, not sent again.
  set_scenario([](Json& s) {
    s["faults"] = {{"endpoints", {"imported.import"}}, {"malformed_rate", 1}};
  });
  queue("CT-4", "standard");
  run_for(3min);
  EXPECT_EQ(state_of("CT-4"), core::DeviceState::kReadyForUser);
  // ... and with the serial filter refused on import records: the whole table instead.
  set_scenario([](Json& s) {
    s["faults"] = {{"endpoints", {"imported.import"}}, {"malformed_rate", 1}};
    s["import"] = {{"serial_filter_status", 400}};
  });
  queue("CT-5", "standard");
  run_for(3min);
  EXPECT_EQ(state_of("CT-5"), core::DeviceState::kReadyForUser);
  // ... and with the group-tag filter refused: every Autopilot device listed instead.
  set_scenario([](Json& s) {
    s["refusals"] = {{{"endpoint", "autopilot.list"}, {"query", "contains(groupTag"}}};
  });
  queue("CT-6", "standard");
  run_for(10min);
  EXPECT_EQ(state_of("CT-6"), core::DeviceState::kReadyForUser);
  EXPECT_EQ(engine_->status().refused_requests.size(), 1u);
  set_scenario([](Json&) {});
  // An 806: looked up by serial, its tag set back.
  queue("CT-806", "standard");
  run_for(3min);
  EXPECT_EQ(state_of("CT-806"), core::DeviceState::kReadyForUser);

  // 3. The activity pass and the group sweep: two devices enrol; CT-2 is moved by hand into the
  // standard group; CT-3 sits in no group (its object is looked up by device id).
  admin("POST", "/_sim/enroll", {{"serialNumber", "CT-1"}});
  admin("POST", "/_sim/enroll", {{"serialNumber", "CT-2"}, {"lastSyncDaysAgo", 9}});
  admin("POST", std::string("/_sim/groups/") + kStandard + "/members", {{"serialNumber", "CT-2"}});
  admin("POST", std::string("/_sim/groups/") + kStandard + "/members", {{"serialNumber", "CT-1"}});
  engine_->refresh();
  ASSERT_TRUE(engine_->sweep_groups());
  run_for(2min);
  EXPECT_EQ(state_of("CT-1"), core::DeviceState::kActive);
  EXPECT_EQ(state_of("CT-2"), core::DeviceState::kInactive);
  const auto sweep = engine_->status().groups;
  EXPECT_GE(sweep.added, 2) << "CT-2 to power-user, CT-3 and the others to standard";
  EXPECT_EQ(sweep.removed, 1) << "CT-2 out of standard";

  // 4. Delivery, on the engine's own thread.
  {
    core::StopThread worker([this](const core::StopToken& stop) { engine_->run(stop); });
    auto delivered = engine_->deliver("CT-3", "ada@contoso.com", 10s);
    ASSERT_TRUE(delivered.ok()) << delivered.error().message;
    // `hangar deregister`: the partner's device's registration deleted.
    auto deregistered = engine_->deregister("PARTNER-1", 10s);
    ASSERT_TRUE(deregistered.ok()) << deregistered.error().message;
  }

  // 5. A day later: the daily group-tag sweep, more activity passes, token renewals.
  run_for(std::chrono::hours(25));

  // Every request is a form of the table, or follows a nextLink the service gave.
  std::map<std::string, int> used;
  for (const auto& sent : transport_->requests) {
    if (sent.follows_next_link) {
      ++used["(nextLink)"];
      continue;
    }
    const auto form = form_of(sent.method, sent.url, kOrigin);
    EXPECT_TRUE(form.has_value()) << "not a form of the contract table: " << sent.method << " "
                                  << sent.url
                                  << "\nAdd it to kAllowedForms with its public source, or do "
                                     "not send it.";
    if (form) ++used[*form];
  }
  // And the table holds no form the engine no longer sends.
  for (const AllowedForm& form : kAllowedForms) {
    EXPECT_GT(used[form.id], 0) << form.id << " was never sent: is it still needed?";
    EXPECT_GT(std::string(form.source).size(), 20u) << form.id << " needs its source";
  }
  std::string summary;
  for (const auto& [id, n] : used) summary += id + "=" + std::to_string(n) + " ";
  RecordProperty("requests_by_form", summary);
}

TEST(ContractTable, FormsOutsideTheTableAreRefused) {
  const std::string intune = std::string(kOrigin) + "/beta/deviceManagement/";
  const std::string v1 = std::string(kOrigin) + "/v1.0";
  // What the real service refuses, or what nothing public shows it accepts.
  for (const std::string& url : {
           intune + "windowsAutopilotDeviceIdentities?$select=id,serialNumber",
           intune + "windowsAutopilotDeviceIdentities?$filter=contains(groupTag,'T')&$select=id",
           intune + "windowsAutopilotDeviceIdentities?$filter=serialNumber%20eq%20'S1'",
           intune + "windowsAutopilotDeviceIdentities?$filter=contains(groupTag,'T')&$top=1000",
           intune + "importedWindowsAutopilotDeviceIdentities?$filter=importId%20eq%20'x'",
           intune + "importedWindowsAutopilotDeviceIdentities?$top=1000",
           intune + "importedWindowsAutopilotDeviceIdentities?$filter=contains(groupTag,'T')",
           intune + "managedDevices?$select=id,lastSyncDateTime&$top=1000",
           v1 + "/groups/g/members?$select=id,deviceId&$top=999",
           v1 + "/devices?$filter=deviceId%20eq%20'd1'&$select=id,deviceId",
           std::string(kOrigin) + "/v2.0/deviceManagement/managedDevices",
       }) {
    EXPECT_FALSE(form_of("GET", url, kOrigin).has_value()) << url;
  }
  EXPECT_FALSE(form_of("POST", intune + "importedWindowsAutopilotDeviceIdentities", kOrigin))
      << "the create call: the engine uses the import action";
  EXPECT_FALSE(
      form_of("GET", "https://elsewhere.example/beta/deviceManagement/managedDevices", kOrigin))
      << "another host";
  std::string sixteen;
  for (int i = 0; i < 16; ++i)
    sixteen += std::string(i ? "," : "") + "'d" + std::to_string(i) + "'";
  EXPECT_FALSE(form_of(
      "GET", v1 + "/devices?$filter=deviceId in (" + sixteen + ")&$select=id,deviceId", kOrigin))
      << "16 values in one `in`";
  // And the same checker accepts the engine's forms.
  EXPECT_EQ(
      form_of("GET",
              intune + "windowsAutopilotDeviceIdentities?$filter=contains%28groupTag%2C%27My%20"
                       "%27%27Tag%27%29",
              kOrigin),
      "autopilot.by_group_tag");
  EXPECT_EQ(
      form_of("GET",
              v1 + "/devices?$filter=deviceId%20in%20%28%27a%27%2C%27b%27%29&$select=id%2CdeviceId",
              kOrigin),
      "devices.by_device_id");
  EXPECT_EQ(form_of("DELETE", v1 + "/groups/g/members/o/$ref", kOrigin), "groups.members.remove");
  EXPECT_EQ(form_of("POST", std::string(kOrigin) + "/tenant-1/oauth2/v2.0/token", kOrigin),
            "token");
}

}  // namespace
}  // namespace hangar::test
