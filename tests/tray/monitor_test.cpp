// The tray's monitor thread stops promptly whatever it is doing: waiting to reconnect to a
// service that is away, or connected and waiting for events. Natively and under Wine.
#include "monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hangar/ipc/client.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/server.h"
#include "test_support.h"
#include "waits.h"

namespace hangar::tray {
namespace {

using namespace std::chrono_literals;

class SilentView final : public TrayView {
 public:
  void show_health(Health, const std::string&) override { ++updates; }
  void notify(const Notification&) override {}
  std::atomic<int> updates{0};
};

// Runs a monitor on its own thread, asks it to stop after `run_for`, and checks it ended within
// a second of the request.
void run_and_stop(Monitor& monitor, std::chrono::microseconds run_for, const std::string& what) {
  std::atomic<bool> ended{false};
  core::StopThread worker([&](const core::StopToken& stop) {
    monitor.run(stop);
    ended = true;
  });
  std::this_thread::sleep_for(run_for);
  worker.request_stop();
  test::within_or_abort([&] { return ended.load(); }, 1000ms, what);
}

TEST(MonitorStop, StopsWhileWaitingToReconnectToAServiceThatIsAway) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);  // nothing listens there
  std::mt19937 random(1201);
  for (int round = 0; round < 300; ++round) {
    SilentView view;
    Monitor monitor(endpoint, 3s, view);
    // 0-20 ms: before the first attempt, during it, or in the reconnect wait (1 s at first).
    run_and_stop(monitor, std::chrono::microseconds(random() % 20'000),
                 "round " + std::to_string(round) + ": the offline monitor seeing its stop");
    EXPECT_GE(view.updates.load(), 1) << "offline is shown before the wait";
  }
}

TEST(MonitorStop, StopsWhileConnectedAndWaitingForEvents) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);
  // A service that acknowledges the subscription and then sends nothing: the monitor waits for
  // events in slices, and must still see its stop within one.
  std::vector<ipc::Binding> bindings;
  for (const auto& info : ipc::kCommands) {
    bindings.push_back({info.name,
                        [name = std::string(info.name)](
                            const Json&, const ipc::CallContext&) -> core::Result<Json> {
                          if (name == "subscribe") {
                            return Json{{"subscribed", true}, {"seq", 0}, {"heartbeat_ms", 60000}};
                          }
                          return Json::object();
                        }});
  }
  auto dispatcher = ipc::Dispatcher::create(std::move(bindings));
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.error().message;
  auto listener = ipc::listen(endpoint, {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  ipc::Server server(std::move(listener).value(), *dispatcher, {});
  server.start();
  std::mt19937 random(1202);
  // Fewer rounds: each may wait out most of a 500 ms slice.
  for (int round = 0; round < 20; ++round) {
    SilentView view;
    Monitor monitor(endpoint, 3s, view);
    run_and_stop(monitor, std::chrono::microseconds(random() % 50'000),
                 "round " + std::to_string(round) + ": the connected monitor seeing its stop");
  }
  server.stop();
}

}  // namespace
}  // namespace hangar::tray
