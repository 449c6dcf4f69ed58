// Test helpers for hangar-cloudsim: synthetic hardware hashes, and a fixture that drives a CloudSim
// directly (no sockets) with a FakeClock, the way a Graph client would.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hangar/cloudsim/service.h"
#include "hangar/core/clock.h"

namespace hangar::cloudsim::test {

using nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kTenant = "11111111-1111-4111-8111-111111111111";
inline constexpr const char* kClientId = "22222222-2222-4222-8222-222222222222";
inline constexpr const char* kSecret = "hangar-cloudsim-secret";
inline constexpr const char* kImported =
    "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities";
inline constexpr const char* kAutopilot = "/beta/deviceManagement/windowsAutopilotDeviceIdentities";

inline std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[v & 63] : '=');
  }
  return out;
}

// A hash with the documented layout: "OA", a u16, then records (u16 type, u16 length including
// the header): 14 serial, 16 manufacturer, 17 model. Distinct serials give distinct hashes.
inline std::string make_hash(const std::string& serial, const std::string& manufacturer = "Contoso",
                             const std::string& model = "Laptop 7") {
  std::vector<std::uint8_t> bytes{'O', 'A', 0, 0};
  auto record = [&](std::uint16_t type, const std::string& text) {
    const auto length = static_cast<std::uint16_t>(text.size() + 5);  // header + text + NUL
    bytes.push_back(static_cast<std::uint8_t>(type & 0xFF));
    bytes.push_back(static_cast<std::uint8_t>(type >> 8));
    bytes.push_back(static_cast<std::uint8_t>(length & 0xFF));
    bytes.push_back(static_cast<std::uint8_t>(length >> 8));
    bytes.insert(bytes.end(), text.begin(), text.end());
    bytes.push_back(0);
  };
  record(14, serial);
  record(16, manufacturer);
  record(17, model);
  bytes[2] = static_cast<std::uint8_t>(bytes.size() & 0xFF);
  bytes[3] = static_cast<std::uint8_t>(bytes.size() >> 8);
  return base64(bytes);
}

// One row of an import body.
inline json device_row(const std::string& serial, const std::string& hash,
                       const std::string& group_tag = "Microsoft365Managed_Autopilot") {
  json row{{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
           {"serialNumber", serial},
           {"groupTag", group_tag}};
  if (!hash.empty()) row["hardwareIdentifier"] = hash;
  return row;
}

inline json import_body(const std::vector<json>& rows) {
  return json{{"importedWindowsAutopilotDeviceIdentities", rows}};
}

// A scenario with no jitter and no throttling unless a test asks, so timings are exact.
inline Scenario quiet_scenario() {
  Scenario s;
  s.registration.delay_seconds = 60;
  s.registration.jitter_seconds = 0;
  s.registration.profile_delay_seconds = 30;
  s.throttling.enabled = false;
  return s;
}

class SimTest : public ::testing::Test {
 protected:
  // Replaces the simulator (the default one uses quiet_scenario()).
  void start(Scenario scenario) {
    sim_.reset();
    sim_ = std::make_unique<CloudSim>(std::move(scenario), clock_);
    token_.clear();
  }

  CloudSim& sim() {
    if (!sim_) start(quiet_scenario());
    return *sim_;
  }

  HttpResponse send(const std::string& method, const std::string& target,
                    const std::string& body = {}, std::map<std::string, std::string> headers = {}) {
    headers.emplace("host", "127.0.0.1:8080");
    return sim().handle(HttpRequest{method, target, std::move(headers), body});
  }

  HttpResponse request_token(const std::string& form) {
    return send("POST", std::string("/") + kTenant + "/oauth2/v2.0/token", form,
                {{"content-type", "application/x-www-form-urlencoded"}});
  }

  static std::string token_form(const std::string& secret = kSecret) {
    return std::string("grant_type=client_credentials&client_id=") + kClientId +
           "&client_secret=" + secret + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default";
  }

  const std::string& token() {
    if (token_.empty()) {
      auto response = request_token(token_form());
      EXPECT_EQ(response.status, 200) << response.body;
      token_ = json::parse(response.body).at("access_token").get<std::string>();
    }
    return token_;
  }

  HttpResponse graph(const std::string& method, const std::string& target,
                     const std::string& body = {}) {
    return send(method, target, body, {{"authorization", "Bearer " + token()}});
  }

  // GET `target` as JSON, expecting 200.
  json get_json(const std::string& target) {
    auto response = graph("GET", target);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    return json::parse(response.body, nullptr, false);
  }

  // Imports and returns the created records (expects 200).
  json import(const std::vector<json>& rows) {
    auto response = graph("POST", std::string(kImported) + "/import", import_body(rows).dump());
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body).at("value");
  }

  json imported(const std::string& id) { return get_json(std::string(kImported) + "/" + id); }

  std::string status_of(const std::string& id) {
    return imported(id)["state"]["deviceImportStatus"].get<std::string>();
  }

  void advance(std::chrono::milliseconds by) { clock_.advance(by); }

  core::FakeClock clock_;
  std::unique_ptr<CloudSim> sim_;
  std::string token_;
};

// The text of an Intune error: error.message holds Intune's JSON document, whose Message ends in
// " - Operation ID (for customer support): ..."; this is the part before it.
inline std::string intune_text(const HttpResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.contains("error")) return {};
  const json inner = json::parse(body["error"].value("message", ""), nullptr, false);
  if (inner.is_discarded() || !inner.is_object()) return {};
  const std::string message = inner.value("Message", "");
  return message.substr(0, message.find(" - Operation ID"));
}

// The path (origin stripped) of an absolute @odata.nextLink.
inline std::string path_of(const std::string& link) {
  const std::string origin = "http://127.0.0.1:8080";
  return link.rfind(origin, 0) == 0 ? link.substr(origin.size()) : link;
}

}  // namespace hangar::cloudsim::test
