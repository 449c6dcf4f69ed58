// End-to-end registration, continued: stopping while the cloud sits on a request, `hangar watch`
// following live changes, replays and a new history, a slow subscriber's gap, and kill -9 during
// uploads (checked with the simulator's own per-serial import counters).
#include <regex>

#include "registration_e2e_fixture.h"

namespace hangar::test {
namespace {

// The parsed lines of a `hangar --json watch` output file (one JSON object a line).
std::vector<Json> json_lines(const std::filesystem::path& path) {
  std::vector<Json> lines;
  std::istringstream text(read_file(path));
  for (std::string line; std::getline(text, line);) {
    if (!line.empty() && line.front() == '{') lines.push_back(Json::parse(line));
  }
  return lines;
}

// A stop while a cloud request is under way and the cloud does not answer (a silent proxy): the
// request is cancelled, the service stops at once, and the batch is recovered by serial later.
TEST_F(RegistrationE2E, StopsAtOnceWhileTheCloudSitsOnARequest) {
  start_cloud({{"seed", 6}, {"faults", {{"latency_ms", 60'000}}}});
  start_service();
  ASSERT_EQ(hangar({"import", make_devices({"HUNG-:3"}).string(), "--profile", "standard"}).code,
            0);
  std::this_thread::sleep_for(1500ms);  // the token, then the import call: held for a minute
  const auto asked = std::chrono::steady_clock::now();
  service_->signal(SIGTERM);
  const auto code = service_->wait(5s);
  ASSERT_TRUE(code.has_value()) << "hangard still running 5 s after SIGTERM:\n"
                                << read_file(dir_.path() / "hangard.out");
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s);
  EXPECT_NE(read_file(dir_.path() / "hangard.out").find("stopped cleanly"), std::string::npos);
}

// The same event-stream client as the tray's: a watcher that outlives its service and meets a
// service with another data directory (a history that starts again at 1) says so and shows the
// new history's changes instead of taking them for repeats.
TEST_F(RegistrationE2E, WatchFollowsAServiceThatComesBackWithANewHistory) {
  start_cloud({{"seed", 5}, {"time_scale", 600}, {"registration", {{"delay_seconds", 30}}}});
  start_service();
  ASSERT_EQ(hangar({"import", make_devices({"OLD-:3"}).string(), "--profile", "standard"}).code, 0);
  ASSERT_TRUE(wait_final(60s)) << status().dump(2);
  Process watcher({kHangar, "--endpoint", endpoint_, "watch"}, dir_.path() / "watch.out");
  const auto subscribed = std::chrono::steady_clock::now() + 15s;
  while (status()["subscribers"] != 1 && std::chrono::steady_clock::now() < subscribed) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status()["subscribers"], 1) << read_file(dir_.path() / "watch.out");

  service_->signal(SIGTERM);
  ASSERT_TRUE(service_->wait(10s).has_value());
  std::filesystem::rename(dir_.path() / "data", dir_.path() / "data-old");
  std::this_thread::sleep_for(2500ms);  // a few reconnect attempts (0.5 s, 1 s, ...) fail
  start_service();                      // a fresh data directory: its history starts again
  ASSERT_EQ(hangar({"import", make_devices({"NEW-:1"}).string(), "--profile", "standard"}).code, 0);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string out;
  while (std::chrono::steady_clock::now() < deadline) {
    out = read_file(dir_.path() / "watch.out");
    if (out.find("NEW-0001  Registration Pending -> Ready for user") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  watcher.signal(SIGTERM);
  watcher.wait(5s);
  // The outage is told once, not once per failed attempt (black-box round 11).
  const auto lost = out.find("-- lost the service");
  EXPECT_NE(lost, std::string::npos) << out;
  EXPECT_EQ(out.find("-- lost the service", lost + 1), std::string::npos) << out;
  EXPECT_NE(out.find("new history"), std::string::npos) << out;
  EXPECT_NE(out.find("  #1  "), std::string::npos) << "the new history from its start:\n" << out;
  EXPECT_NE(out.find("NEW-0001  (new) -> Queued"), std::string::npos) << out;
  EXPECT_NE(out.find("NEW-0001  Registration Pending -> Ready for user"), std::string::npos) << out;
}

TEST_F(RegistrationE2E, WatchStreamsEveryChangeLiveAndCanReplayThem) {
  start_cloud(
      {{"seed", 4},
       {"time_scale", 600},
       {"registration", {{"delay_seconds", 30}}},
       {"rules", {{{"serial_prefix", "OTHER-"}, {"error", "ZtdDeviceAssignedToOtherTenant"}}}}});
  start_service();
  Process watcher({kHangar, "--endpoint", endpoint_, "--json", "watch", "--count", "12"},
                  dir_.path() / "watch.out");
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (status()["subscribers"] != 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status()["subscribers"], 1) << read_file(dir_.path() / "watch.out");

  const auto csv = make_devices({"OK-:3", "OTHER-:1"});
  ASSERT_EQ(hangar({"import", csv.string(), "--profile", "standard"}).code, 0);
  // 4 devices x (queued, registration pending, ready or failed): the watcher exits after 12.
  ASSERT_EQ(watcher.wait(90s), std::optional<int>(0)) << read_file(dir_.path() / "watch.out");
  const auto live = json_lines(dir_.path() / "watch.out");
  ASSERT_EQ(live.size(), 12u) << read_file(dir_.path() / "watch.out");
  std::map<std::string, std::vector<std::string>> path_of;
  std::int64_t previous = 0;
  for (const auto& event : live) {
    EXPECT_EQ(event["type"], "change");
    EXPECT_GT(event["seq"].get<std::int64_t>(), previous) << "sequence numbers only grow";
    previous = event["seq"].get<std::int64_t>();
    EXPECT_GT(event["at"].get<std::int64_t>(), 0);
    path_of[event["serial"]].push_back(event["to"]);
    if (event["to"] == "registration_failed") {
      EXPECT_EQ(event["reason"], "Device claimed by another organization") << event.dump();
      EXPECT_EQ(event["from"], "registration_pending");
    }
  }
  const std::vector<std::string> ready{"queued", "registration_pending", "ready_for_user"};
  const std::vector<std::string> failed{"queued", "registration_pending", "registration_failed"};
  EXPECT_EQ(path_of["OK-0001"], ready);
  EXPECT_EQ(path_of["OK-0003"], ready);
  EXPECT_EQ(path_of["OTHER-0001"], failed);

  // The history is durable: the same changes again, from the start, and filtered.
  auto replay = hangar({"--json", "watch", "--from-seq", "0", "--count", "12"});
  ASSERT_EQ(replay.code, 0) << replay.output;
  std::vector<std::int64_t> live_seqs, replay_seqs;
  for (const auto& event : live) live_seqs.push_back(event["seq"]);
  std::istringstream lines(replay.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '{') replay_seqs.push_back(Json::parse(line)["seq"]);
  }
  EXPECT_EQ(replay_seqs, live_seqs);
  auto readies = hangar({"watch", "--from-seq", "0", "--state", "ready-for-user", "--count", "3"});
  ASSERT_EQ(readies.code, 0) << readies.output;
  EXPECT_NE(readies.output.find("OK-0002  Registration Pending -> Ready for user"),
            std::string::npos)
      << readies.output;
  EXPECT_EQ(readies.output.find("queued"), std::string::npos) << readies.output;

  // Leaving the queue is a change too, and the device's history stays for a replay.
  ASSERT_EQ(hangar({"remove", "OTHER-0001"}).code, 0);
  auto removal = hangar({"watch", "--from-seq", std::to_string(previous), "--count", "1"});
  ASSERT_EQ(removal.code, 0) << removal.output;
  EXPECT_NE(removal.output.find("#" + std::to_string(previous + 1) +
                                "  OTHER-0001  Registration failed -> removed from the queue  "
                                "(removed by "),
            std::string::npos)
      << removal.output;
  auto only_removed = hangar({"watch", "--from-seq", "0", "--state", "Removed", "--count", "1"});
  ASSERT_EQ(only_removed.code, 0) << only_removed.output;
  EXPECT_NE(only_removed.output.find("OTHER-0001  Registration failed -> removed from the queue"),
            std::string::npos)
      << only_removed.output;
  EXPECT_EQ(only_removed.output.find("Queued"), std::string::npos) << only_removed.output;
  auto whole = hangar({"--json", "watch", "--from-seq", "0", "--count", "13"});
  ASSERT_EQ(whole.code, 0) << whole.output;
  std::vector<Json> frames;
  std::istringstream whole_lines(whole.output);
  for (std::string line; std::getline(whole_lines, line);) {
    if (!line.empty() && line.front() == '{') frames.push_back(Json::parse(line));
  }
  ASSERT_EQ(frames.size(), 13u) << whole.output;
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(frames[i]["seq"], live_seqs[i]);
  EXPECT_EQ(frames[12]["type"], "removed") << frames[12].dump();
  EXPECT_EQ(frames[12]["serial"], "OTHER-0001");
  EXPECT_EQ(frames[12]["from"], "registration_failed");
  EXPECT_EQ(frames[12]["seq"], previous + 1);
}

// A subscriber that reads nothing while 1,000 devices are queued and registered (far more changes
// than its socket and a queue of 16 hold) stalls nobody, and once it reads it gets every change,
// in order, from the durable history: no gap (black-box round 13: a gap told a watcher that kept
// up with an import it had fallen behind).
TEST_F(RegistrationE2E, ASlowSubscriberCatchesUpFromTheHistoryWhileTheServiceServesEveryoneElse) {
  start_cloud({{"seed", 6}, {"time_scale", 600}, {"registration", {{"delay_seconds", 30}}}});
  const auto config = dir_.path() / "hangar.json";
  {
    std::ofstream out(config);
    out << R"({"event_queue_size": 16})";
  }
  start_service({"--config", config.string()});
  auto subscriber = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(subscriber.ok());
  auto ack = subscriber->subscribe(std::nullopt, 60'000);
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_EQ((*ack)["subscribed"], true);

  const auto csv = make_devices({"SLOW-:1000"});
  auto imported = hangar({"import", csv.string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;
  const auto asked = std::chrono::steady_clock::now();
  const Json during = status();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "the service stalled";
  EXPECT_EQ(during["subscribers"], 1);
  std::this_thread::sleep_for(500ms);  // the feed has seen the import

  std::int64_t last_seq = (*ack)["seq"];
  std::int64_t shown = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (shown < 1000 && std::chrono::steady_clock::now() < deadline) {
    auto event = subscriber->next_event(10s);
    ASSERT_TRUE(event.ok()) << event.error().message;
    ASSERT_NE((*event)["type"], "gap") << event->dump() << " after " << shown << " changes";
    if ((*event)["type"] != "change") continue;
    EXPECT_EQ((*event)["seq"].get<std::int64_t>(), last_seq + 1) << "in order, none missed";
    last_seq = (*event)["seq"];
    ++shown;
  }
  EXPECT_EQ(shown, 1000) << "every device's first change arrives";
}

// Issue 13: `watch --no-reconnect` never drops changes silently. Paused (SIGSTOP) while 1,000
// devices are imported, it falls behind and then shows every change all the same, read from the
// durable history (round 13: a gap line before); when the service goes away it ends with the
// changes after the last one shown and how to see them.
TEST_F(RegistrationE2E, WatchWithoutReconnectSaysWhatItMissedAndHowToSeeIt) {
  start_cloud({{"seed", 7}, {"time_scale", 600}, {"registration", {{"delay_seconds", 30}}}});
  const auto config = dir_.path() / "hangar.json";
  std::ofstream(config) << R"({"event_queue_size": 16})";
  start_service({"--config", config.string()});
  const auto out = dir_.path() / "watch.out";
  Process watcher({kHangar, "--endpoint", endpoint_, "watch", "--no-reconnect"}, out);
  const auto subscribed = std::chrono::steady_clock::now() + 15s;
  while (status()["subscribers"] != 1 && std::chrono::steady_clock::now() < subscribed) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status()["subscribers"], 1) << read_file(out);
  watcher.signal(SIGSTOP);
  auto imported =
      hangar({"import", make_devices({"PAUSED-:1000"}).string(), "--profile", "standard"});
  std::this_thread::sleep_for(1s);
  watcher.signal(SIGCONT);
  ASSERT_EQ(imported.code, 0) << imported.output;

  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    text = read_file(out);
    if (text.find("PAUSED-1000  (new) -> Queued") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(text.find("PAUSED-0001  (new) -> Queued"), std::string::npos) << text.substr(0, 4000);
  ASSERT_NE(text.find("PAUSED-1000  (new) -> Queued"), std::string::npos) << text.substr(0, 4000);
  EXPECT_EQ(text.find(" not shown (#"), std::string::npos) << "no gap:\n" << text.substr(0, 4000);
  // The newest change shown so far.
  std::int64_t through = 0;
  const std::regex numbered(R"(  #(\d+)  )");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), numbered);
       it != std::sregex_iterator(); ++it) {
    through = std::max<std::int64_t>(through, std::stoll((*it)[1]));
  }
  ASSERT_GE(through, 1000);
  // The line that holds `marker`, or "" (the regex then looks at one line, not the whole output).
  const auto line_with = [](const std::string& all, const std::string& marker) {
    const auto at = all.find(marker);
    if (at == std::string::npos) return std::string();
    const auto begin = all.rfind('\n', at);
    const auto end = all.find('\n', at);
    return all.substr(begin == std::string::npos ? 0 : begin + 1,
                      end == std::string::npos
                          ? std::string::npos
                          : end - (begin == std::string::npos ? 0 : begin + 1));
  };
  std::smatch found;
  std::string line;

  // The service goes away: --no-reconnect ends the watch, saying from where the changes went
  // unseen and how to see them once it is back.
  service_->signal(SIGTERM);
  ASSERT_TRUE(service_->wait(10s).has_value());
  const auto code = watcher.wait(20s);
  ASSERT_TRUE(code.has_value()) << "watch --no-reconnect still running:\n"
                                << read_file(out).substr(0, 2000);
  EXPECT_EQ(*code, 3);
  text = read_file(out);
  // Usually the service no longer answers; stopping, it may still answer once (then the line
  // says how many, maybe none). Each form names where to resume.
  line = line_with(text, "--no-reconnect ends the watch");
  const std::regex lost(
      R"(^-- (changes after #\d+ not shown \(the stream was lost \(.*\) and --no-reconnect ends )"
      R"(the watch; the service does not answer, so how many is not known\)|\d+ change\(s\) not )"
      R"(shown \(#\d+(?:-#\d+)?: the stream was lost .*, so far\)|no change missed so far \(#\d+ is )"
      R"(the newest; the stream was lost .*\)); `hangar watch --from-seq (\d+))");
  ASSERT_TRUE(std::regex_search(line, found, lost))
      << text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
  EXPECT_GE(std::stoll(found[2]), through);
}

// Black-box round 13: `--json watch` is one JSON object a line, for scripts; the error that ends
// it (the service gone, --no-reconnect) was pretty-printed over seven lines.
TEST_F(RegistrationE2E, AJsonWatchEndsOnAnErrorLineOfItsOwn) {
  start_cloud({{"seed", 6}, {"time_scale", 600}});
  start_service();
  const auto out = dir_.path() / "watch.json";
  Process watcher({kHangar, "--endpoint", endpoint_, "--json", "watch", "--no-reconnect"}, out);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (status()["subscribers"] != 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status()["subscribers"], 1) << read_file(out);
  service_->signal(SIGTERM);
  ASSERT_TRUE(service_->wait(10s).has_value());
  ASSERT_EQ(watcher.wait(20s), std::optional<int>(3)) << read_file(out);
  const std::string text = read_file(out);
  std::istringstream lines(text);
  Json last;
  for (std::string line; std::getline(lines, line);) {
    ASSERT_TRUE(Json::accept(line)) << "not a JSON line: " << line << "\n" << text;
    last = Json::parse(line);
  }
  EXPECT_EQ(last.value("type", ""), "error") << text;
  EXPECT_EQ(last["error"].value("code", ""), "unavailable") << text;
}

TEST_F(RegistrationE2E, KillNineDuringUploadNeitherLosesNorDoubleImports) {
  // Ten kill -9 rounds over 1,000 devices (HANGAR_CRASH_ROUNDS=N for more).
  set_time_limit(std::chrono::seconds(150));
  start_cloud({{"seed", 5},
               {"time_scale", 600},
               {"registration", {{"delay_seconds", 30}}},
               {"faults", {{"endpoints", {"graph"}}, {"latency_ms", 30}, {"jitter_ms", 30}}}});
  // Batches of 50: 20 import calls, so the kills land in uploads as well as in polls.
  start_service({"--batch-size", "50"});
  const auto csv = make_devices({"CRASH-:1000"});
  auto imported = hangar({"import", csv.string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;

  std::mt19937 rng(11);
  const int rounds =
      std::getenv("HANGAR_CRASH_ROUNDS") ? std::atoi(std::getenv("HANGAR_CRASH_ROUNDS")) : 10;
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    service_->signal(SIGKILL);
    ASSERT_TRUE(service_->wait(10s).has_value());
    start_service({"--batch-size", "50"});
  }
  ASSERT_TRUE(wait_final(180s)) << status().dump(2);
  const Json s = status();
  EXPECT_EQ(s["states"]["ready_for_user"], 1000) << s.dump(2);
  const Json stats = cloud_stats();
  EXPECT_TRUE(stats["imports"]["serials_imported_more_than_once"].empty())
      << stats["imports"]["serials_imported_more_than_once"].dump();
  EXPECT_EQ(stats["imports"]["by_serial"].size(), 1000u);
  // At most 50 devices per call, so at least 20 import calls were made.
  EXPECT_GE(stats["imports"]["calls"].get<int>(), 20);
}

}  // namespace
}  // namespace hangar::test
