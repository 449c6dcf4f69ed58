// End to end: the real hangar-cloudsim executable on a free port, driven over HTTP with
// cpprestsdk's http_client: token, import, poll until complete, the admin counters, dropped
// connections as a client sees them, and a clean stop on SIGTERM.
// cpprest's U() string macro breaks GoogleTest (template parameters named U): turn it off.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "child_process.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using web::http::methods;

const std::string kExe = HANGAR_TEST_CLOUDSIM;

// The test's own scratch directory, removed afterwards.
class Scratch {
 public:
  Scratch()
      : path_(std::filesystem::temp_directory_path() /
              ("hangar-cloudsim-test-" + std::to_string(::getpid()) + "-" +
               std::to_string(counter_++))) {
    std::filesystem::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

class CloudSimProcess : public ::testing::Test {
 protected:
  // Starts the simulator with `scenario` and waits for its "listening on" line.
  void start(const json& scenario) {
    const auto file = scratch_.path() / "scenario.json";
    std::ofstream(file) << scenario.dump();
    log_ = scratch_.path() / "cloudsim.out";
    process_ = std::make_unique<hangar::test::Process>(
        std::vector<std::string>{kExe, "--port", "0", "--scenario", file.string()}, log_);
    ASSERT_TRUE(process_->started());
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto output = hangar::test::read_file(log_);
      const auto at = output.find("listening on ");
      const auto end = output.find('\n', at);
      if (at != std::string::npos && end != std::string::npos) {
        url_ = output.substr(at + 13, end - at - 13);
        return;
      }
      ASSERT_FALSE(process_->wait(0ms)) << "exited early: " << output;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "no 'listening on' line: " << hangar::test::read_file(log_);
  }

  web::http::client::http_client client() {
    web::http::client::http_client_config config;
    config.set_timeout(std::chrono::seconds(10));
    return web::http::client::http_client(url_, config);
  }

  // One request; the status and the parsed body (null when there is none).
  std::pair<int, json> call(const std::string& method, const std::string& path,
                            const std::string& body = {}, const std::string& bearer = {},
                            const std::string& content_type = "application/json") {
    web::http::http_request request(method);
    request.set_request_uri(path);
    if (!bearer.empty()) request.headers().add("Authorization", "Bearer " + bearer);
    if (!body.empty()) request.set_body(body, content_type);
    auto response = client().request(request).get();
    const auto text = response.extract_utf8string(true).get();
    return {response.status_code(), text.empty() ? json() : json::parse(text)};
  }

  std::string token() {
    auto [status, body] = call("POST", "/11111111-1111-4111-8111-111111111111/oauth2/v2.0/token",
                               "grant_type=client_credentials&client_id=22222222-2222-4222-8222-"
                               "222222222222&client_secret=hangar-cloudsim-secret&scope=https%3A%"
                               "2F%2Fgraph.microsoft.com%2F.default",
                               {}, "application/x-www-form-urlencoded");
    EXPECT_EQ(status, 200) << body.dump();
    return body.value("access_token", "");
  }

  Scratch scratch_;
  std::filesystem::path log_;
  std::unique_ptr<hangar::test::Process> process_;
  std::string url_;
};

const char* kHash =
    // "OA", length, then serial (14), manufacturer (16) and model (17) records.
    "T0EoAA4ACwBIVFRQLTEAEAAMAENvbnRvc28AEQANAExhcHRvcCA3AA==";

TEST_F(CloudSimProcess, TokenImportAndPollRoundTrip) {
  // 300 simulated seconds at 300x: registration takes one real second.
  start(
      json{{"time_scale", 300}, {"registration", {{"delay_seconds", 300}, {"jitter_seconds", 0}}}});
  ASSERT_EQ(url_.rfind("http://127.0.0.1:", 0), 0u) << url_;
  const auto bearer = token();
  ASSERT_FALSE(bearer.empty());

  json row{{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
           {"serialNumber", "HTTP-1"},
           {"groupTag", "Microsoft365Managed_Autopilot"},
           {"hardwareIdentifier", kHash}};
  auto [status, created] =
      call("POST", "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import",
           json{{"importedWindowsAutopilotDeviceIdentities", {row}}}.dump(), bearer);
  ASSERT_EQ(status, 200) << created.dump();
  const auto id = created["value"][0]["id"].get<std::string>();
  EXPECT_EQ(created["value"][0]["importId"], id) << "Intune's importId is the record's id";
  EXPECT_EQ(created["value"][0]["state"]["deviceImportStatus"], "unknown");

  // Poll the record by serial, as public tools do, until it is final.
  std::string final_status;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto [poll_status, page] =
        call("GET",
             "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities"
             "?$filter=contains%28serialNumber%2C%27HTTP-1%27%29",
             {}, bearer);
    ASSERT_EQ(poll_status, 200) << page.dump();
    ASSERT_EQ(page["value"].size(), 1u);
    EXPECT_EQ(page["value"][0]["id"], id);
    final_status = page["value"][0]["state"]["deviceImportStatus"];
    if (final_status != "unknown") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(final_status, "complete");

  auto [list_status, devices] =
      call("GET",
           "/beta/deviceManagement/windowsAutopilotDeviceIdentities?$filter=contains(serialNumber,"
           "%27HTTP-1%27)",
           {}, bearer);
  ASSERT_EQ(list_status, 200);
  ASSERT_EQ(devices["value"].size(), 1u);
  EXPECT_EQ(devices["value"][0]["groupTag"], "Microsoft365Managed_Autopilot");

  auto [stats_status, stats] = call("GET", "/_sim/stats");
  ASSERT_EQ(stats_status, 200);
  EXPECT_EQ(stats["imports"]["by_serial"]["HTTP-1"], 1);
  EXPECT_EQ(stats["tokens_issued"], 1);
  EXPECT_EQ(stats["requests"]["by_endpoint"]["imported.import"]["total"], 1);

  // Unauthenticated calls are refused over the wire too, with the ids in the headers.
  auto response = client().request(methods::GET, "/beta/users/x").get();
  EXPECT_EQ(response.status_code(), 401);
  EXPECT_TRUE(response.headers().has("request-id"));
  EXPECT_TRUE(response.headers().has("client-request-id"));

  process_->signal(SIGTERM);
  EXPECT_EQ(process_->wait(10s), std::optional<int>(0)) << hangar::test::read_file(log_);
}

TEST_F(CloudSimProcess, ADroppedConnectionFailsTheClientsRead) {
  start(json{{"throttling", {{"enabled", false}}}});
  const auto bearer = token();
  ASSERT_EQ(call("PUT", "/_sim/scenario", R"({"faults":{"drop_rate":1}})").first, 204);
  EXPECT_THROW(
      call("GET", "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities", {}, bearer),
      web::http::http_exception);
  ASSERT_EQ(call("PUT", "/_sim/scenario", "{}").first, 204);
  json row{{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
           {"serialNumber", "DROP-1"},
           {"hardwareIdentifier", kHash}};
  auto [status, created] =
      call("POST", "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import",
           json{{"importedWindowsAutopilotDeviceIdentities", {row}}}.dump(), bearer);
  ASSERT_EQ(status, 200);
  const std::string record = "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/" +
                             created["value"][0]["id"].get<std::string>();

  // Processed, then dropped: even a bodiless 204 reaches the client as a failed read.
  ASSERT_EQ(call("PUT", "/_sim/scenario", R"({"faults":{"drop_after_rate":1}})").first, 204);
  EXPECT_THROW(call("DELETE", record, {}, bearer), web::http::http_exception);

  // The server survives its own drops and serves normally again.
  ASSERT_EQ(call("PUT", "/_sim/scenario", "{}").first, 204);
  EXPECT_EQ(
      call("GET", "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities", {}, bearer)
          .first,
      200);
  EXPECT_EQ(call("GET", record, {}, bearer).first, 404) << "the dropped delete did happen";
  auto stats = call("GET", "/_sim/stats").second;
  EXPECT_EQ(stats["faults"]["dropped"], 1);
  EXPECT_EQ(stats["faults"]["dropped_after_processing"], 1);
  EXPECT_EQ(stats["deletes"]["imported"], 1);
}

TEST_F(CloudSimProcess, LatencyDelaysTheAnswer) {
  start(json{{"faults", {{"latency_ms", 300}}}});
  const auto bearer = token();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(
      call("GET", "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities", {}, bearer)
          .first,
      200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST_F(CloudSimProcess, ABadScenarioFileStopsItWithAMessage) {
  const auto file = scratch_.path() / "bad.json";
  std::ofstream(file) << R"({"rules": [{"serial": "A", "eror": "X"}]})";
  auto result = hangar::test::run_command({kExe, "--scenario", file.string()}, scratch_.path());
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.output.find("unknown key 'eror'"), std::string::npos) << result.output;
  EXPECT_EQ(hangar::test::run_command({kExe, "--bogus"}, scratch_.path()).code, 2);
}

}  // namespace
