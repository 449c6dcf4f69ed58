// GraphClient's profile-group calls against the simulated cloud, in-process (no sockets): group
// member lists with paging and $select, device-object lookups, adding and removing members by
// $ref, and what a missing group, an existing membership or a dynamic-membership group look like.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "hangar/cloud/graph_client.h"
#include "hangar/cloudsim/service.h"
#include "hangar/core/clock.h"
#include "sim_transport.h"

namespace hangar::cloud {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kOrigin = "http://127.0.0.1:9";  // never dialled
constexpr const char* kGroup = "6d1c2b8e-0000-4000-8000-00000000000a";
constexpr const char* kOtherGroup = "6d1c2b8e-0000-4000-8000-00000000000b";
constexpr const char* kDynamicGroup = "6d1c2b8e-0000-4000-8000-00000000000c";

// A tenant of `enrolled` devices, the first `members` of them in kGroup, and one registered device
// that has not enrolled (registration made its Entra ID object all the same).
cloudsim::Scenario scenario(int enrolled, int members, int page_size) {
  Json devices = Json::array();
  Json member_serials = Json::array();
  for (int i = 0; i < enrolled; ++i) {
    const std::string serial = "GRP-" + std::to_string(1000 + i);
    devices.push_back({{"serial_number", serial},
                       {"group_tag", "Other"},
                       {"managed", {{"last_sync_days_ago", 0}}}});
    if (i < members) member_serials.push_back(serial);
  }
  devices.push_back({{"serial_number", "NOTENROLLED-1"}, {"group_tag", "Other"}});
  Json document{
      {"paging", {{"directory_page_size", page_size}, {"directory_max_page_size", page_size}}},
      {"tenant",
       {{"devices", devices},
        {"groups",
         {{{"id", kGroup}, {"display_name", "Standard"}, {"members", member_serials}},
          {{"id", kOtherGroup}, {"display_name", "Power user"}},
          {{"id", kDynamicGroup},
           {"display_name", "Windows devices"},
           {"membership_rule", "(device.deviceOSType -eq \"Windows\")"},
           {"members", member_serials}}}}}}};
  auto parsed = cloudsim::parse_scenario(document);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return *parsed;
}

class GraphGroupsTest : public ::testing::Test {
 protected:
  void start(int enrolled, int members, int page_size = 100) {
    sim_ = std::make_unique<cloudsim::CloudSim>(scenario(enrolled, members, page_size), clock_);
    transport_ = std::make_unique<test::SimTransport>(*sim_, kOrigin);
    const cloud::GraphConfig config = test::sim_graph_config(kOrigin);
    auto client = GraphClient::create(config, *transport_, clock_);
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(client).value();
  }
  int calls(const std::string& endpoint) {
    const Json stats = sim_->stats();
    const auto& by = stats["requests"]["by_endpoint"];
    return by.contains(endpoint) ? by[endpoint]["total"].get<int>() : 0;
  }
  std::vector<AutopilotDevice> identities() {
    auto listed = client_->list_autopilot_devices();
    EXPECT_TRUE(listed.ok()) << listed.error().message;
    return listed.ok() ? *listed : std::vector<AutopilotDevice>{};
  }

  core::FakeClock clock_;
  std::unique_ptr<cloudsim::CloudSim> sim_;
  std::unique_ptr<test::SimTransport> transport_;
  std::unique_ptr<GraphClient> client_;
};

TEST_F(GraphGroupsTest, EveryRegisteredIdentityCarriesItsEntraDeviceIdEnrolledOrNot) {
  start(2, 0);
  int identities_seen = 0;
  for (const auto& identity : identities()) {
    EXPECT_EQ(identity.azure_ad_device_id.size(), 36u) << identity.serial;
    // Not enrolled: Intune's all-zero managed device id reads as none.
    EXPECT_EQ(identity.managed_device_id.empty(), identity.serial == "NOTENROLLED-1")
        << identity.serial;
    ++identities_seen;
  }
  EXPECT_EQ(identities_seen, 3);
  EXPECT_EQ(transport_->urls.back().find('?'), std::string::npos)
      << "the whole list, no $select: " << transport_->urls.back();
}

TEST_F(GraphGroupsTest, MembersArePagedOnV1WithSelectAndOneRequestPerPage) {
  start(25, 23, 10);
  auto members = client_->list_group_devices(kGroup);
  ASSERT_TRUE(members.ok()) << members.error().message;
  EXPECT_EQ(members->size(), 23u);
  // Every member carries both ids, matching the Autopilot identities' azureActiveDirectoryDeviceId.
  std::vector<std::string> entra;
  for (const auto& identity : identities()) entra.push_back(identity.azure_ad_device_id);
  for (const auto& member : *members) {
    EXPECT_FALSE(member.object_id.empty());
    EXPECT_NE(std::find(entra.begin(), entra.end(), member.device_id), entra.end());
  }
  EXPECT_EQ(calls("groups.members.list"), 3);         // 23 members in pages of 10
  const std::string& first = transport_->urls.at(1);  // after the token request
  EXPECT_EQ(first.rfind(std::string("GET ") + kOrigin + "/v1.0/groups/" + kGroup +
                            "/members/microsoft.graph.device?",
                        0),
            0u)
      << first;
  EXPECT_NE(first.find("$select=id%2CdeviceId"), std::string::npos) << first;
  EXPECT_NE(first.find("&$top=999"), std::string::npos) << first;
}

TEST_F(GraphGroupsTest, LookupAddAndRemoveByRef) {
  start(3, 1);
  std::vector<std::string> ids;
  for (const auto& identity : identities()) {
    if (!identity.azure_ad_device_id.empty()) ids.push_back(identity.azure_ad_device_id);
  }
  ASSERT_EQ(ids.size(), 4u);
  ids.push_back("99999999-9999-4999-8999-999999999999");  // no such device object: absent
  auto objects = client_->find_directory_devices(ids);
  ASSERT_TRUE(objects.ok()) << objects.error().message;
  ASSERT_EQ(objects->size(), 4u);
  EXPECT_EQ(calls("devices.list"), 1);  // one `deviceId in (...)` filter for five ids

  const std::string object = objects->back().object_id;
  auto added = client_->add_group_member(kOtherGroup, object);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(*added);
  auto again = client_->add_group_member(kOtherGroup, object);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(*again) << "already a member: not an error, not a change";
  auto listed = client_->list_group_devices(kOtherGroup);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().object_id, object);

  auto removed = client_->remove_group_member(kOtherGroup, object);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_TRUE(*removed);
  auto gone = client_->remove_group_member(kOtherGroup, object);
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_FALSE(*gone);
  EXPECT_TRUE(client_->list_group_devices(kOtherGroup)->empty());
  EXPECT_EQ(calls("groups.members.add"), 2);
  EXPECT_EQ(calls("groups.members.remove"), 2);
  // The reference names the object by its v1.0 directoryObjects URL.
  const auto add = std::find_if(
      transport_->urls.begin(), transport_->urls.end(),
      [](const std::string& u) { return u.rfind("POST", 0) == 0 && u.find("$ref") != u.npos; });
  ASSERT_NE(add, transport_->urls.end());
  EXPECT_NE(add->find(std::string("/v1.0/groups/") + kOtherGroup + "/members/$ref"),
            std::string::npos)
      << *add;
}

TEST_F(GraphGroupsTest, AMissingGroupOrAnUnknownObjectIsARejectedCall) {
  start(1, 0);
  auto missing = client_->list_group_devices("6d1c2b8e-0000-4000-8000-0000000000ff");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, kErrRejected);
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos) << missing.error().message;
  EXPECT_FALSE(missing.error().request_id.empty());
  auto bad_ref = client_->add_group_member(kGroup, "not-an-object");
  ASSERT_FALSE(bad_ref.ok());
  EXPECT_EQ(bad_ref.error().code, kErrRejected);
}

TEST_F(GraphGroupsTest, ADynamicGroupRefusesDirectAddsAndRemovesWithA400) {
  start(2, 1);
  auto members = client_->list_group_devices(kDynamicGroup);
  ASSERT_TRUE(members.ok()) << members.error().message;
  ASSERT_EQ(members->size(), 1u);  // listed like any group: its rule put the device there
  const std::string member = members->front().object_id;
  std::vector<std::string> ids;
  for (const auto& identity : identities()) {
    if (!identity.azure_ad_device_id.empty()) ids.push_back(identity.azure_ad_device_id);
  }
  auto objects = client_->find_directory_devices(ids);
  ASSERT_TRUE(objects.ok()) << objects.error().message;
  std::string outsider;
  for (const auto& object : *objects) {
    if (object.object_id != member) outsider = object.object_id;
  }
  ASSERT_FALSE(outsider.empty());

  // Refused, and not mistaken for "already a member" (also a 400) or "not a member" (404).
  auto added = client_->add_group_member(kDynamicGroup, outsider);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, kErrRejected);
  EXPECT_NE(added.error().message.find("HTTP 400"), std::string::npos) << added.error().message;
  EXPECT_NE(added.error().message.find("dynamic"), std::string::npos) << added.error().message;
  auto removed = client_->remove_group_member(kDynamicGroup, member);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code, kErrRejected);
  EXPECT_EQ(client_->list_group_devices(kDynamicGroup)->size(), 1u);
}

}  // namespace
}  // namespace hangar::cloud
