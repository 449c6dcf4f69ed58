// hangar-tray --dry-run against the real hangard and hangar-cloudsim: devices that reach Ready
// for user together make one notification, failures carry the seed's reason, the health follows
// the service, and after a service restart the tray reconnects and repeats nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <sstream>

#include "child_process.h"
#include "cloudsim_process.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kHangard = HANGAR_TEST_HANGARD;
const std::string kHangar = HANGAR_TEST_HANGAR;
const std::string kTray = HANGAR_TEST_TRAY;
const std::string kCloudsim = HANGAR_TEST_CLOUDSIM;
const std::string kDevicegen = HANGAR_TEST_DEVICEGEN;

struct Shown {
  std::string kind;  // ready | failed
  std::string text;
  std::vector<std::string> serials;
};

class TrayE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = unique_endpoint(dir_);
    std::string why;
    auto url = start_cloudsim(
        kCloudsim,
        {{"seed", 5},
         {"time_scale", 600},
         {"registration", {{"delay_seconds", 300}}},
         {"rules", {{{"serial_prefix", "OTHER-"}, {"error", "ZtdDeviceAssignedToOtherTenant"}}}}},
        dir_.path(), cloud_, why);
    ASSERT_TRUE(url.has_value()) << why;
    url_ = *url;
  }

  void start_service() {
    service_ = std::make_unique<Process>(
        std::vector<std::string>{kHangard, "--data-dir", (dir_.path() / "data").string(),
                                 "--endpoint", endpoint_, "--cloud-url", url_, "--poll-interval",
                                 "0.5"},
        dir_.path() / "hangard.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hangar({"ping"}).code == 0) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "hangard did not come up: " << read_file(dir_.path() / "hangard.out");
  }

  void start_tray() {
    tray_ = std::make_unique<Process>(
        std::vector<std::string>{kTray, "--dry-run", "--endpoint", endpoint_, "--coalesce-ms",
                                 "2500", "--log-file", (dir_.path() / "tray.log").string()},
        dir_.path() / "tray.out");
  }

  RunResult hangar(std::vector<std::string> args) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    return run_command(args, dir_.path(), 60s);
  }

  void import(const std::vector<std::string>& groups, const std::string& name) {
    std::vector<std::string> argv{kDevicegen, "-o", (dir_.path() / name).string()};
    for (const auto& g : groups) argv.insert(argv.end(), {"--devices", g});
    auto made = run_command(argv, dir_.path(), 60s);
    ASSERT_EQ(made.code, 0) << made.output;
    auto imported = hangar({"import", (dir_.path() / name).string(), "--profile", "standard"});
    ASSERT_EQ(imported.code, 0) << imported.output;
  }

  std::string tray_output() const { return read_file(dir_.path() / "tray.out"); }

  // Waits until the tray printed `needle` after `from` (an offset into its output).
  bool wait_output(const std::string& needle, std::chrono::seconds limit, std::size_t from = 0) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = tray_output();
      if (out.size() > from && out.find(needle, from) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  bool wait_final(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = hangar({"--json", "status"});
      if (status.code == 0 && Json::parse(status.output)["queue_depth"] == 0) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  // Every "notify: KIND | TEXT | SERIALS" line the tray printed.
  std::vector<Shown> notifications() const {
    std::vector<Shown> shown;
    std::istringstream lines(tray_output());
    const std::regex pattern(R"(^notify: (\w+) \| (.*) \| (.*)$)");
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_match(line, m, pattern)) continue;
      Shown s{m[1], m[2], {}};
      std::istringstream serials(m[3].str());
      for (std::string serial; serials >> serial;) s.serials.push_back(serial);
      shown.push_back(std::move(s));
    }
    return shown;
  }

  TempDir dir_;
  std::string endpoint_;
  std::string url_;
  std::unique_ptr<Process> cloud_;
  std::unique_ptr<Process> service_;
  std::unique_ptr<Process> tray_;
};

TEST_F(TrayE2E, CoalescesNotificationsAndReconnectsWithoutRepeats) {
  set_time_limit(std::chrono::seconds(60));
  start_tray();
  ASSERT_TRUE(wait_output("health: offline | Hangar: service not reachable", 10s)) << tray_output();
  // The log says offline once a connection was tried (not before), on one line.
  const auto logged = [&](const std::string& needle) {
    for (int i = 0; i < 100; ++i) {
      if (read_file(dir_.path() / "tray.log").find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  EXPECT_TRUE(logged("health: offline (Hangar: service not reachable"))
      << read_file(dir_.path() / "tray.log");
  start_service();
  ASSERT_TRUE(wait_output("health: ok | Hangar: all well", 15s)) << tray_output();

  import({"WIN-:12", "OTHER-:3"}, "first.csv");
  ASSERT_TRUE(wait_final(60s));
  ASSERT_TRUE(wait_output("notify: failed", 10s)) << tray_output();
  ASSERT_TRUE(wait_output("notify: ready", 10s)) << tray_output();
  ASSERT_TRUE(
      wait_output("health: failures | Hangar: 3 failed registration/3 failed, 12 ready", 10s))
      << tray_output();
  auto shown = notifications();
  ASSERT_EQ(shown.size(), 2u) << "one notification per kind, not one per device:\n"
                              << tray_output();
  const auto& ready = shown[0].kind == "ready" ? shown[0] : shown[1];
  const auto& failed = shown[0].kind == "failed" ? shown[0] : shown[1];
  EXPECT_EQ(ready.text, "12 devices are Ready for user");
  EXPECT_EQ(ready.serials.size(), 12u);
  EXPECT_EQ(failed.text,
            "3 devices failed registration: Device claimed by another organization (all 3)");

  // Service restart while the tray is frozen (SIGSTOP), so that every change of the LATE devices
  // happens while it is away: they can only reach it through the replay from the last seq it saw
  // when it reconnects, and each device must be announced exactly once.
  const std::size_t before_restart = tray_output().size();
  tray_->signal(SIGSTOP);
  service_->signal(SIGTERM);
  ASSERT_TRUE(service_->wait(15s).has_value());
  start_service();
  import({"LATE-:5"}, "second.csv");
  ASSERT_TRUE(wait_final(60s));
  tray_->signal(SIGCONT);
  ASSERT_TRUE(wait_output("health: offline | Hangar: service not reachable", 10s, before_restart))
      << tray_output();
  ASSERT_TRUE(wait_output("| LATE-", 20s, before_restart)) << tray_output();
  std::this_thread::sleep_for(3s);  // a second window, if any, would close by now

  std::map<std::string, int> announced;
  std::size_t late = 0;
  for (const auto& n : notifications()) {
    for (const auto& serial : n.serials) {
      ++announced[serial];
      if (serial.rfind("LATE-", 0) == 0) ++late;
    }
  }
  EXPECT_EQ(late, 5u) << tray_output();
  EXPECT_EQ(announced.size(), 20u) << tray_output();
  for (const auto& [serial, times] : announced) EXPECT_EQ(times, 1) << serial << " repeated";
  const std::string log = read_file(dir_.path() / "tray.log");
  // Only the first subscription starts "now"; the one after the restart resumes from a seq.
  const auto first = log.find("subscribed since now");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("subscribed since now", first + 1), std::string::npos) << log;
  EXPECT_TRUE(std::regex_search(log.substr(first), std::regex("subscribed since [0-9]+ ")))
      << "the reconnect must resume from the last seq:\n"
      << log;

  tray_->signal(SIGTERM);
  EXPECT_EQ(tray_->wait(5s), 0) << "SIGTERM stops the tray cleanly";
}

#ifndef _WIN32
// One tray per user and service, as the session mutex makes it on Windows (black-box round 6: a
// second one started by hand ran beside the first and would show every notification twice). It
// ends at once and says why; once the first has gone, a new one starts.
TEST_F(TrayE2E, ASecondTrayForTheSameServiceEndsAtOnce) {
  start_service();
  start_tray();
  ASSERT_TRUE(wait_output("health: ok", 15s)) << tray_output();
  auto second = run_command({kTray, "--dry-run", "--endpoint", endpoint_}, dir_.path(), 10s);
  EXPECT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("already running for " + endpoint_), std::string::npos)
      << second.output;
  tray_.reset();
  const std::size_t before = tray_output().size();
  start_tray();
  EXPECT_TRUE(wait_output("health: ok", 15s, before)) << tray_output();
}
#endif

}  // namespace
}  // namespace hangar::test
