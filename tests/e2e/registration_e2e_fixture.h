// The fixture of the end-to-end registration tests (registration_e2e_test.cpp,
// registration_watch_e2e_test.cpp): the real hangar-cloudsim, hangard and hangar in a temporary
// directory.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "child_process.h"
#include "cloudsim_process.h"
#include "hangar/cloud/http.h"
#include "hangar/ipc/client.h"
#include "test_support.h"

namespace hangar::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;

inline const std::string kHangard = HANGAR_TEST_HANGARD;
inline const std::string kHangar = HANGAR_TEST_HANGAR;
inline const std::string kCloudsim = HANGAR_TEST_CLOUDSIM;
inline const std::string kDevicegen = HANGAR_TEST_DEVICEGEN;

class RegistrationE2E : public ::testing::Test {
 protected:
  void SetUp() override { endpoint_ = unique_endpoint(dir_); }

  void start_cloud(const Json& scenario) {
    std::string why;
    auto url = start_cloudsim(kCloudsim, scenario, dir_.path(), cloud_, why);
    ASSERT_TRUE(url.has_value()) << "hangar-cloudsim did not start: " << why;
    url_ = *url;
  }

  void start_service(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{kHangard,     "--data-dir",      (dir_.path() / "data").string(),
                                  "--endpoint", endpoint_,         "--cloud-url",
                                  url_,         "--poll-interval", "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    service_ = std::make_unique<Process>(argv, dir_.path() / "hangard.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hangar({"ping"}).code == 0) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "hangard did not come up: " << read_file(dir_.path() / "hangard.out");
  }

  RunResult hangar(std::vector<std::string> args) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    return run_command(args, dir_.path(), 60s);
  }

  Json status() {
    auto result = hangar({"--json", "status"});
    EXPECT_EQ(result.code, 0) << result.output;
    return Json::parse(result.output);
  }

  // A call to the simulator's own control API (/_sim/...), which must succeed; its JSON answer.
  Json admin(const std::string& method, const std::string& path, const Json& body) {
    auto transport = cloud::make_cpprest_transport();
    auto response = transport->send(
        {method, url_ + path, {{"Content-Type", "application/json"}}, body.dump()}, 10s);
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response.ok() ? response->status / 100 : 0, 2)
        << (response.ok() ? response->body : "");
    return response.ok() ? Json::parse(response->body.empty() ? "{}" : response->body) : Json{};
  }

  Json cloud_stats() {
    auto transport = cloud::make_cpprest_transport();
    auto response = transport->send({"GET", url_ + "/_sim/stats", {}, {}}, 10s);
    EXPECT_TRUE(response.ok());
    return response.ok() ? Json::parse(response->body) : Json::object();
  }

  // Waits until nothing is queued or pending; returns false on timeout.
  bool wait_final(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (status()["queue_depth"] == 0) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }

  std::filesystem::path make_devices(const std::vector<std::string>& groups) {
    std::vector<std::string> argv{kDevicegen, "-o", (dir_.path() / "devices.csv").string()};
    for (const auto& g : groups) argv.insert(argv.end(), {"--devices", g});
    auto result = run_command(argv, dir_.path(), 60s);
    EXPECT_EQ(result.code, 0) << result.output;
    return dir_.path() / "devices.csv";
  }

  TempDir dir_;
  std::string endpoint_;
  std::string url_;
  std::unique_ptr<Process> cloud_;
  std::unique_ptr<Process> service_;
};

}  // namespace hangar::test
