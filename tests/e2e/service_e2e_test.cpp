// End-to-end: the real hangard on a unique endpoint and data directory, driven by the real hangar.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <future>
#include <optional>

#include "child_process.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/frame.h"
#include "hangar/ipc/transport.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;

const std::string kHangard = HANGAR_TEST_HANGARD;
const std::string kHangar = HANGAR_TEST_HANGAR;

class ServiceE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = unique_endpoint(dir_);
    data_dir_ = dir_.path() / "data";
  }

  std::unique_ptr<Process> start_service(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{kHangard, "--data-dir", data_dir_.string(), "--endpoint",
                                  endpoint_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(argv, dir_.path() / "hangard.out");
  }

  // Waits until the service answers ping (bounded).
  bool wait_ready(Process& service) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!service.running() || service.wait(0ms)) return false;
      if (hangar({"ping"}).code == 0) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  RunResult hangar(std::vector<std::string> args) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    return run_command(args, dir_.path());
  }

  std::string service_output() { return read_file(dir_.path() / "hangard.out"); }

  nlohmann::json status() {
    auto result = hangar({"--json", "status"});
    EXPECT_EQ(result.code, 0) << result.output;
    return result.code == 0 ? nlohmann::json::parse(result.output) : nlohmann::json::object();
  }

  // Polls `status` until its subscriber count is `count`; false if it was not within `limit`.
  bool subscribers_become(int count, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (status()["subscribers"] != count) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  // A subscriber of this service, acknowledged (or the test fails).
  std::optional<ipc::Client> subscriber(std::int64_t heartbeat_ms = 60'000) {
    auto client = ipc::Client::connect(endpoint_);
    EXPECT_TRUE(client.ok()) << client.error().message;
    if (!client.ok()) return std::nullopt;
    auto ack = client->subscribe(std::nullopt, heartbeat_ms);
    EXPECT_TRUE(ack.ok()) << ack.error().message;
    if (!ack.ok()) return std::nullopt;
    return std::move(client).value();
  }

  TempDir dir_;
  std::string endpoint_;
  std::filesystem::path data_dir_;
};

TEST_F(ServiceE2E, StatusPingVersionAndCleanStop) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();

  auto status = hangar({"status"});
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_NE(status.output.find("queue depth   0"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("uptime"), std::string::npos);

  auto json = hangar({"--json", "status"});
  ASSERT_EQ(json.code, 0) << json.output;
  auto j = nlohmann::json::parse(json.output);
  EXPECT_EQ(j["queue_depth"], 0);
  EXPECT_GE(j["uptime_seconds"].get<int>(), 0);
  EXPECT_EQ(j["data_dir"], data_dir_.string());

  auto version = hangar({"--json", "version"});
  ASSERT_EQ(version.code, 0);
  auto v = nlohmann::json::parse(version.output);
  EXPECT_EQ(v["service"]["protocol"], 1);
  EXPECT_EQ(v["client_version"], v["service"]["service_version"]);

  auto ping = hangar({"ping"});
  EXPECT_EQ(ping.code, 0);
  EXPECT_NE(ping.output.find("pong"), std::string::npos);

  service->signal(SIGTERM);
  auto code = service->wait(10s);
  ASSERT_TRUE(code.has_value()) << "hangard did not stop within 10 s of SIGTERM";
  EXPECT_EQ(*code, 0);
  auto log = read_file(data_dir_ / "logs" / "hangard.log");
  EXPECT_NE(log.find("listening on " + endpoint_), std::string::npos) << log;
  EXPECT_NE(log.find("hangard stopped cleanly"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(endpoint_)) << "socket left behind";
  EXPECT_TRUE(std::filesystem::exists(data_dir_ / "hangar.db"));
}

TEST_F(ServiceE2E, SilentClientDoesNotBlockTheCli) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  std::vector<std::unique_ptr<ipc::Stream>> silent;
  for (int i = 0; i < 8; ++i) {
    auto s = ipc::connect(endpoint_, 2s);
    ASSERT_TRUE(s.ok());
    silent.push_back(std::move(s).value());
  }
  auto started = std::chrono::steady_clock::now();
  auto status = hangar({"status"});
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  // Several CLI calls at once while the silent ones are still connected.
  std::vector<std::future<RunResult>> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(std::async(std::launch::async, [this] {
      return hangar({"--json", "status"});
    }));
  }
  for (auto& c : calls) EXPECT_EQ(c.get().code, 0);
}

TEST_F(ServiceE2E, SecondInstanceOnTheSameDataDirectoryIsRefused) {
  auto first = start_service();
  ASSERT_TRUE(wait_ready(*first)) << service_output();
  TempDir other;
  auto second = run_command(
      {kHangard, "--data-dir", data_dir_.string(), "--endpoint", unique_endpoint(other)},
      dir_.path(), 15s);
  EXPECT_EQ(second.code, 3) << second.output;
  EXPECT_NE(second.output.find("already running"), std::string::npos) << second.output;
  // Black-box round 13: which process, so the admin can stop it.
  EXPECT_NE(second.output.find("(process " + std::to_string(first->pid()) + ";"), std::string::npos)
      << second.output;
  EXPECT_EQ(hangar({"ping"}).code, 0) << "the first instance keeps serving";
}

// Black-box round 13: the socket file deleted under a running hangard left it unreachable for
// good (and a second one refused to start beside it). The listener binds it again.
TEST_F(ServiceE2E, ASocketFileDeletedUnderTheServiceIsCreatedAgain) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  ASSERT_TRUE(std::filesystem::remove(endpoint_));
  EXPECT_NE(hangar({"ping"}).code, 0) << "nothing to connect to for a moment";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int code = -1;
  while (std::chrono::steady_clock::now() < deadline && (code = hangar({"ping"}).code) != 0) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(code, 0) << service_output();
  struct stat st {};
  ASSERT_EQ(::lstat(endpoint_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ServiceE2E, SecondInstanceOnTheSameEndpointIsRefused) {
  auto first = start_service();
  ASSERT_TRUE(wait_ready(*first)) << service_output();
  TempDir other;
  auto second = run_command(
      {kHangard, "--data-dir", (other.path() / "data").string(), "--endpoint", endpoint_},
      dir_.path(), 15s);
  EXPECT_EQ(second.code, 3) << second.output;
  EXPECT_NE(second.output.find("already listening"), std::string::npos) << second.output;
  EXPECT_EQ(hangar({"ping"}).code, 0);
}

TEST_F(ServiceE2E, CliNamesTheEndpointWhenNoServiceRuns) {
  auto status = hangar({"status"});
  EXPECT_EQ(status.code, 3);
  EXPECT_NE(status.output.find(endpoint_), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("hangard"), std::string::npos) << status.output;
  auto json = hangar({"--json", "ping"});
  EXPECT_EQ(json.code, 3);
  auto j = nlohmann::json::parse(json.output);
  EXPECT_EQ(j["error"]["code"], "unavailable");
  // version still works without a service
  auto version = hangar({"version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.output.find("not reachable"), std::string::npos);
}

TEST_F(ServiceE2E, UsageErrorsExitWithTwo) {
  EXPECT_EQ(hangar({"frobnicate"}).code, 2);
  EXPECT_EQ(hangar({}).code, 2);
  EXPECT_EQ(hangar({"--timeout", "soon", "status"}).code, 2);
  auto help = hangar({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("status"), std::string::npos);
  auto bad = run_command({kHangard, "--no-such-flag"}, dir_.path());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("--no-such-flag"), std::string::npos);
}

TEST_F(ServiceE2E, ConfigFileIsReadAndItsErrorsAreClear) {
  std::filesystem::create_directories(data_dir_);
  {
    std::ofstream(data_dir_ / "hangar.json")
        << R"({"endpoint": ")" << endpoint_ << R"(", "log_level": "debug"})";
  }
  auto service = std::make_unique<Process>(
      std::vector<std::string>{kHangard, "--data-dir", data_dir_.string()},
      dir_.path() / "hangard.out");
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  service->signal(SIGINT);
  EXPECT_EQ(service->wait(10s), 0);

  { std::ofstream(data_dir_ / "hangar.json") << R"({"endpiont": "x"})"; }
  auto typo = run_command({kHangard, "--data-dir", data_dir_.string()}, dir_.path());
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.output.find("unknown setting \"endpiont\""), std::string::npos) << typo.output;

  // Engine settings are checked too, each error naming the setting and what it takes.
  for (const auto& [text, wanted] :
       {std::pair{R"({"batch_size": 0})", "\"batch_size\" must be a whole number from 1 to 500"},
        std::pair{R"({"graph_scope": "https://graph.microsoft.us"})",
                  "\"graph_scope\" must end in \"/.default\""},
        std::pair{R"({"batch_size": "50"})", "\"batch_size\" must be a whole number"},
        std::pair{R"({"inactive_after_days": -1})", "\"inactive_after_days\" must be a positive"},
        std::pair{R"({"poll_interval_seconds": 0})",
                  "\"poll_interval_seconds\" must be a number of seconds from 0.5 to 86400"},
        // Black-box round 11: a near-zero interval polled the cloud many times a second.
        std::pair{R"({"poll_interval_seconds": 1e-300})",
                  "\"poll_interval_seconds\" must be a number of seconds from 0.5 to 86400"},
        std::pair{R"({"required_licenses": "sku"})", "\"required_licenses\" must be a list"},
        std::pair{R"({"profile_groups": {"power-usr": "6d1c2b8e-0000-4000-8000-000000000001"}})",
                  "\"profile_groups\".\"power-usr\": unknown profile"},
        std::pair{R"({"profile_groups": {"standard": "Standard devices"}})",
                  "\"profile_groups\".\"standard\" must be the group's object id, a GUID"},
        std::pair{R"({"profile_groups": {"standard": "6d1c2b8e-0000-4000-8000-000000000001",
                                          "power-user": "6D1C2B8E-0000-4000-8000-000000000001"}})",
                  "'s; each profile needs its own group"},
        std::pair{R"({"profile_groups": ["6d1c2b8e-0000-4000-8000-000000000001"]})",
                  "\"profile_groups\" must be an object"},
        std::pair{R"({"group_sweep_interval_hours": 0})",
                  "\"group_sweep_interval_hours\" must be a number of hours from 0.01 to 8760"},
        std::pair{R"({"max_subscribers": 0})",
                  "\"max_subscribers\" must be a whole number from 1 to 128"},
        std::pair{R"({"max_subscribers_per_user": 129})",
                  "\"max_subscribers_per_user\" must be a whole number from 1 to 128"},
        std::pair{R"({"max_connections": 8})",
                  "\"max_connections\" must be a whole number from 16 to 1024"},
        std::pair{R"({"max_connections": 32, "reserved_connections": 20})",
                  "\"reserved_connections\" (20) may be at most half of \"max_connections\" (32)"},
        std::pair{R"({"log_level": "loud"})",
                  "hangar.json: \"log_level\" \"loud\" is not one of trace, debug"},
        std::pair{R"({"max_connections": 64, "max_connections_per_user": 100})",
                  "\"max_connections_per_user\" (100) may be at most \"max_connections\" (64)"},
        std::pair{R"({"max_connections_per_user": 0})",
                  "\"max_connections_per_user\" must be a whole number from 1 to 1024"},
        std::pair{R"({"idle_timeout_seconds": 0})",
                  "\"idle_timeout_seconds\" must be a number from 1 to 3600"},
        std::pair{R"({"request_memory_mib": 4})",
                  "\"request_memory_mib\" must be a whole number from 8 to 1024"}}) {
    { std::ofstream(data_dir_ / "hangar.json") << text; }
    auto bad_value = run_command({kHangard, "--data-dir", data_dir_.string()}, dir_.path());
    EXPECT_EQ(bad_value.code, 2) << text;
    EXPECT_NE(bad_value.output.find(wanted), std::string::npos) << bad_value.output;
  }
  std::filesystem::remove(data_dir_ / "hangar.json");
  for (const char* poll : {"nan", "inf", "0x10", "0.001", "1e308", "-5"}) {
    auto bad_poll = run_command(
        {kHangard, "--data-dir", data_dir_.string(), "--poll-interval", poll}, dir_.path());
    EXPECT_EQ(bad_poll.code, 2) << poll;
    EXPECT_NE(bad_poll.output.find("--poll-interval takes a number of seconds from 0.5 to 86400"),
              std::string::npos)
        << bad_poll.output;
  }
  // Empty values and flags given twice (black-box round 11): never the default, never the last.
  for (const auto& [argv, says] :
       {std::pair{std::vector<std::string>{"--cloud-url", ""}, "--cloud-url needs a value"},
        std::pair{std::vector<std::string>{"--endpoint="}, "--endpoint needs a value"},
        std::pair{std::vector<std::string>{"--batch-size", "10", "--batch-size", "20"},
                  "--batch-size is given twice"}}) {
    std::vector<std::string> command{kHangard, "--data-dir", data_dir_.string()};
    command.insert(command.end(), argv.begin(), argv.end());
    auto refused = run_command(command, dir_.path());
    EXPECT_EQ(refused.code, 2) << says;
    EXPECT_NE(refused.output.find(says), std::string::npos) << refused.output;
  }
  { std::ofstream(data_dir_ / "hangar.json") << R"({"cloud_url": ""})"; }
  auto empty_url = run_command({kHangard, "--data-dir", data_dir_.string()}, dir_.path());
  EXPECT_EQ(empty_url.code, 2);
  EXPECT_NE(empty_url.output.find("\"cloud_url\" is empty; leave the key out for its default"),
            std::string::npos)
      << empty_url.output;
  std::filesystem::remove(data_dir_ / "hangar.json");
  auto bad_flag =
      run_command({kHangard, "--data-dir", data_dir_.string(), "--batch-size", "501"}, dir_.path());
  EXPECT_EQ(bad_flag.code, 2);
  EXPECT_NE(bad_flag.output.find("--batch-size takes a whole number from 1 to 500"),
            std::string::npos)
      << bad_flag.output;

  { std::ofstream(data_dir_ / "hangar.json") << "{ not json"; }
  auto broken = run_command({kHangard, "--data-dir", data_dir_.string()}, dir_.path());
  EXPECT_EQ(broken.code, 2);
  EXPECT_NE(broken.output.find("hangar.json"), std::string::npos) << broken.output;
}

// Issue 11, item 10: the service answers, the cloud does not. Exit 3 means "the service is not
// reachable" and nothing else; `refresh` says the cloud is offline and exits 1, at once.
TEST_F(ServiceE2E, RefreshWithTheCloudOfflineIsAFailureNotAnUnreachableService) {
  auto service = start_service({"--cloud-url", "http://127.0.0.1:9"});  // nothing listens there
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (status()["cloud"].value("online", true)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the engine never went offline";
    std::this_thread::sleep_for(100ms);
  }
  const auto started = std::chrono::steady_clock::now();
  auto refresh = hangar({"refresh"});
  EXPECT_EQ(refresh.code, 1) << refresh.output;
  EXPECT_NE(refresh.output.find("the cloud is offline"), std::string::npos) << refresh.output;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s) << "it says so at once";
  auto sync = hangar({"--json", "sync"});
  EXPECT_EQ(sync.code, 1) << sync.output;
  EXPECT_NE(sync.output.find("\"cloud_offline\""), std::string::npos) << sync.output;
}

TEST_F(ServiceE2E, EnvironmentVariablesSelectEndpointAndDataDirectory) {
  auto service =
      std::make_unique<Process>(std::vector<std::string>{kHangard}, dir_.path() / "hangard.out",
                                std::vector<std::string>{"HANGAR_ENDPOINT=" + endpoint_,
                                                         "HANGAR_DATA_DIR=" + data_dir_.string()});
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  auto status = run_command({kHangar, "--json", "status"}, dir_.path(), 10s,
                            {"HANGAR_ENDPOINT=" + endpoint_});
  ASSERT_EQ(status.code, 0) << status.output;
  EXPECT_EQ(nlohmann::json::parse(status.output)["data_dir"], data_dir_.string());
}

TEST_F(ServiceE2E, CorruptQueueFileStopsStartUpWithAClearError) {
  std::filesystem::create_directories(data_dir_);
  { std::ofstream(data_dir_ / "hangar.db", std::ios::binary) << std::string(8192, '\x5a'); }
  auto service = start_service();
  auto code = service->wait(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  auto out = service_output();
  EXPECT_NE(out.find("hangar.db"), std::string::npos) << out;
}

// Threads of a running process (Linux: its /proc/PID/task entries).
int thread_count(const Process& process) {
  int count = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(
           "/proc/" + std::to_string(process.pid()) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

TEST_F(ServiceE2E, SubscribersThatHangUpAreGoneWithinSecondsAndTheirThreadsWithThem) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  std::vector<ipc::Client> subscribers;
  for (int i = 0; i < 3; ++i) {
    auto client = subscriber();  // heartbeats a minute apart: no write would notice
    ASSERT_TRUE(client);
    subscribers.push_back(std::move(*client));
  }
  ASSERT_TRUE(subscribers_become(3, 5s));
  const int streaming = thread_count(*service);

  subscribers.clear();  // they hang up without a word
  const auto closed = std::chrono::steady_clock::now();
  ASSERT_TRUE(subscribers_become(0, 2s)) << "still " << status()["subscribers"] << " subscribers";
  EXPECT_LT(std::chrono::steady_clock::now() - closed, 2s);
  // Each subscriber's connection thread ends with it (the status calls' threads come and go).
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (thread_count(*service) > streaming - 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_LE(thread_count(*service), streaming - 3);
  EXPECT_EQ(hangar({"ping"}).code, 0);
}

TEST_F(ServiceE2E, ASubscriberThatSendsAfterSubscribingIsDropped) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  auto stream = ipc::connect(endpoint_, 2s);
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  ASSERT_TRUE(ipc::write_frame(
                  **stream, R"({"v":1,"id":1,"cmd":"subscribe","args":{"heartbeat_ms":60000}})", 2s)
                  .ok());
  auto ack = ipc::read_frame(**stream, {5s, 5s});
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  ASSERT_TRUE(ipc::parse_reply(*ack)->ok) << *ack;
  ASSERT_TRUE(subscribers_become(1, 5s));

  const std::string junk = "not a subscriber's business";
  ASSERT_TRUE((*stream)->write_all(std::as_bytes(std::span(junk.data(), junk.size())), 2s).ok());
  auto refusal = ipc::read_frame(**stream, {5s, 5s});
  ASSERT_TRUE(refusal.ok()) << refusal.error().message;
  auto reply = ipc::parse_reply(*refusal);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error.code, ipc::errc::kMalformedRequest) << *refusal;
  EXPECT_FALSE(ipc::read_frame(**stream, {5s, 5s}).ok()) << "the stream should be closed";
  EXPECT_TRUE(subscribers_become(0, 2s));
}

TEST_F(ServiceE2E, TheNinthSubscriptionOfOneUserIsRefusedAsBusyWhileCommandsAreServed) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  std::vector<ipc::Client> subscribers;
  for (int i = 0; i < 8; ++i) {
    auto client = subscriber();
    ASSERT_TRUE(client) << "subscription " << i + 1;
    subscribers.push_back(std::move(*client));
  }
  auto ninth = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(ninth.ok()) << ninth.error().message;
  auto refused = ninth->subscribe();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ipc::errc::kBusy);
  EXPECT_NE(refused.error().message.find("max_subscribers_per_user 8"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(ninth->call("ping").ok()) << "a busy refusal must not keep its connection";
  // The same user's commands are served, and `hangar watch` says why it cannot watch.
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(status()["subscribers"], 8);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s);
  EXPECT_EQ(hangar({"ping"}).code, 0);
  auto watch = hangar({"watch", "--count", "1"});
  EXPECT_EQ(watch.code, 1) << watch.output;
  EXPECT_NE(watch.output.find("max_subscribers_per_user"), std::string::npos) << watch.output;

  // One leaves: a place is free again within about a second.
  subscribers.pop_back();
  ASSERT_TRUE(subscribers_become(7, 2s));
  EXPECT_TRUE(subscriber());
}

TEST_F(ServiceE2E, SubscriptionsInAllAreCappedByMaxSubscribers) {
  std::filesystem::create_directories(data_dir_);
  { std::ofstream(data_dir_ / "hangar.json") << R"({"max_subscribers": 2})"; }
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  auto first = subscriber();
  auto second = subscriber();
  ASSERT_TRUE(first && second);
  auto third = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(third.ok());
  auto refused = third->subscribe();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ipc::errc::kBusy);
  EXPECT_NE(refused.error().message.find("max_subscribers 2"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(status()["subscribers"], 2);
}

TEST_F(ServiceE2E, HeartbeatsKeepTheirIntervalWhileTheStreamWaitsInOneSecondSlices) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  auto client = subscriber(1'500);
  ASSERT_TRUE(client);
  auto first = client->next_event(5s);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ((*first)["type"], "heartbeat");
  const auto after_first = std::chrono::steady_clock::now();
  auto second = client->next_event(5s);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)["type"], "heartbeat");
  const auto apart = std::chrono::steady_clock::now() - after_first;
  EXPECT_GE(apart, 1'300ms) << "a slice must not send a heartbeat early";
  EXPECT_LT(apart, 2'500ms);
}

TEST_F(ServiceE2E, HeartbeatsMoreThanAMinuteApartAreRefused) {
  auto service = start_service();
  ASSERT_TRUE(wait_ready(*service)) << service_output();
  auto client = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(client.ok());
  auto refused = client->subscribe(std::nullopt, 60'001);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ipc::errc::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("between 100 and 60000"), std::string::npos)
      << refused.error().message;
  // A refused subscription leaves the connection for another try.
  auto ack = client->subscribe(std::nullopt, 60'000);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_EQ((*ack)["heartbeat_ms"], 60'000);
  auto watch = hangar({"watch", "--heartbeat-ms", "600000"});
  EXPECT_EQ(watch.code, 2) << watch.output;
  EXPECT_NE(watch.output.find("100 to 60000"), std::string::npos) << watch.output;
}

}  // namespace
}  // namespace hangar::test
