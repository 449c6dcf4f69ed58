// The `subscribe` stream's client side, shared by `hangar watch` and the tray: the cursor's
// bookkeeping with a fake clock, then EventStream against a real server over the platform's
// transport (resume after a reconnect, a replaced history, a silent service).
#include "hangar/ipc/event_stream.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "hangar/ipc/server.h"
#include "test_support.h"

namespace hangar::ipc {
namespace {

using namespace std::chrono_literals;
using Kind = StreamEvent::Kind;

Json change(std::int64_t seq, const std::string& serial = "SN1") {
  return Json{{"type", "change"},
              {"seq", seq},
              {"serial", serial},
              {"from", "queued"},
              {"to", "registration_pending"},
              {"reason", ""},
              {"at", 1764072000000}};
}

Json ack(std::int64_t seq, std::int64_t heartbeat_ms = 10'000) {
  return Json{{"subscribed", true}, {"seq", seq}, {"heartbeat_ms", heartbeat_ms}};
}

TEST(EventCursor, TakesEachChangeOnceAcrossAReconnect) {
  core::FakeClock clock;
  EventCursor cursor;
  EXPECT_EQ(cursor.resume_seq(), std::nullopt) << "no replay of old history unless asked";
  auto subscribed = cursor.on_subscribed(ack(100), clock.steady_now());
  EXPECT_EQ(subscribed.kind, Kind::kSubscribed);
  EXPECT_FALSE(subscribed.resumed);
  EXPECT_FALSE(subscribed.history_reset);
  EXPECT_EQ(cursor.on_frame(change(101), clock.steady_now()).kind, Kind::kChange);
  cursor.on_disconnected("service restarted");
  EXPECT_EQ(cursor.resume_seq(), 101);
  // The service replays from 101: a repeat is not reported, the new ones are.
  auto again = cursor.on_subscribed(ack(103), clock.steady_now());
  EXPECT_TRUE(again.resumed);
  EXPECT_FALSE(again.history_reset);
  EXPECT_EQ(cursor.on_frame(change(101), clock.steady_now()).kind, Kind::kNothing);
  auto next = cursor.on_frame(change(102, "SN2"), clock.steady_now());
  EXPECT_EQ(next.kind, Kind::kChange);
  EXPECT_EQ(next.seq, 102);
  EXPECT_EQ(next.frame["serial"], "SN2");
  EXPECT_EQ(cursor.resume_seq(), 102);
}

TEST(EventCursor, AskedToReplayItStartsFromThatSeq) {
  core::FakeClock clock;
  EventCursor cursor(0);
  EXPECT_EQ(cursor.resume_seq(), 0);
  cursor.on_subscribed(ack(5), clock.steady_now());
  EXPECT_EQ(cursor.resume_seq(), 0) << "the replayed changes 1..5 are still to come";
  EXPECT_EQ(cursor.on_frame(change(1), clock.steady_now()).kind, Kind::kChange);
}

TEST(EventCursor, ASequenceBehindOursIsANewHistoryFollowedFromThere) {
  core::FakeClock clock;
  EventCursor cursor;
  cursor.on_subscribed(ack(500), clock.steady_now());
  cursor.on_disconnected("service restarted with another data directory");
  auto subscribed = cursor.on_subscribed(ack(3), clock.steady_now());
  EXPECT_TRUE(subscribed.history_reset);
  EXPECT_EQ(cursor.resume_seq(), 3);
  EXPECT_EQ(cursor.on_frame(change(4), clock.steady_now()).kind, Kind::kChange)
      << "new changes are not taken for repeats";
}

TEST(EventCursor, AGapMovesPastTheLostChangesAndSaysHowMany) {
  core::FakeClock clock;
  EventCursor cursor;
  cursor.on_subscribed(ack(100), clock.steady_now());
  auto gap = cursor.on_frame({{"type", "gap"}, {"missed", 37}, {"seq", 137}}, clock.steady_now());
  EXPECT_EQ(gap.kind, Kind::kGap);
  EXPECT_EQ(gap.missed, 37u);
  EXPECT_EQ(cursor.resume_seq(), 137);
  EXPECT_EQ(cursor.on_frame(change(138), clock.steady_now()).kind, Kind::kChange);
  // A gap frame that is not one (a negative count, no seq) is not reported, never read as 0.
  EXPECT_EQ(
      cursor.on_frame({{"type", "gap"}, {"missed", -5}, {"seq", 140}}, clock.steady_now()).kind,
      Kind::kNothing);
  EXPECT_EQ(cursor.on_frame({{"type", "gap"}, {"missed", 5}}, clock.steady_now()).kind,
            Kind::kNothing);
  EXPECT_EQ(cursor.resume_seq(), 138);
}

TEST(EventCursor, ADeviceLeavingTheQueueIsReportedOnceWithWhatItWas) {
  core::FakeClock clock;
  EventCursor cursor;
  cursor.on_subscribed(ack(10), clock.steady_now());
  const Json removed{{"type", "removed"},          {"seq", 11},
                     {"serial", "PF9Q"},           {"from", "registration_failed"},
                     {"reason", "removed by ada"}, {"at", 1764072001000}};
  auto event = cursor.on_frame(removed, clock.steady_now());
  ASSERT_EQ(event.kind, Kind::kRemoved);
  ASSERT_TRUE(event.removed.has_value());
  EXPECT_FALSE(event.change.has_value());
  EXPECT_EQ(event.removed->serial, "PF9Q");
  EXPECT_EQ(event.removed->from, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(event.removed->reason, "removed by ada");
  EXPECT_EQ(event.frame, removed);
  EXPECT_EQ(cursor.resume_seq(), 11);
  // A replay after a reconnect sends it again: a repeat. One without a serial is not reported.
  EXPECT_EQ(cursor.on_frame(removed, clock.steady_now()).kind, Kind::kNothing);
  Json broken = removed;
  broken["seq"] = 12;
  broken.erase("serial");
  EXPECT_EQ(cursor.on_frame(broken, clock.steady_now()).kind, Kind::kNothing);
  EXPECT_EQ(cursor.resume_seq(), 11);
}

TEST(EventCursor, AGapSaysWhyAndAnOlderServicesGapFellBehind) {
  core::FakeClock clock;
  EventCursor cursor;
  cursor.on_subscribed(ack(100), clock.steady_now());
  auto lost =
      cursor.on_frame({{"type", "gap"}, {"missed", 3}, {"seq", 104}, {"cause", "history_lost"}},
                      clock.steady_now());
  ASSERT_EQ(lost.kind, Kind::kGap);
  EXPECT_EQ(lost.gap_cause, msg::GapEvent::kHistoryLost);
  auto old = cursor.on_frame({{"type", "gap"}, {"missed", 2}, {"seq", 110}}, clock.steady_now());
  ASSERT_EQ(old.kind, Kind::kGap);
  EXPECT_EQ(old.gap_cause, msg::GapEvent::kBehind);
}

TEST(EventCursor, AHeartbeatAheadOfUsSaysSo) {
  core::FakeClock clock;
  EventCursor cursor;
  cursor.on_subscribed(ack(100), clock.steady_now());
  EXPECT_FALSE(cursor.on_frame({{"type", "heartbeat"}, {"seq", 100}}, clock.steady_now()).ahead);
  auto ahead = cursor.on_frame({{"type", "heartbeat"}, {"seq", 104}}, clock.steady_now());
  EXPECT_EQ(ahead.kind, Kind::kHeartbeat);
  EXPECT_TRUE(ahead.ahead);
  EXPECT_EQ(cursor.resume_seq(), 100) << "a heartbeat is not a change";
}

TEST(EventCursor, UnknownAndMalformedFramesAreNotReported) {
  core::FakeClock clock;
  EventCursor cursor;
  cursor.on_subscribed(ack(1), clock.steady_now());
  EXPECT_EQ(cursor.on_frame({{"type", "newfangled"}, {"seq", 9}}, clock.steady_now()).kind,
            Kind::kNothing);
  EXPECT_EQ(cursor.on_frame(Json::array({1, 2}), clock.steady_now()).kind, Kind::kNothing);
  EXPECT_EQ(cursor.on_frame({{"type", "change"}, {"seq", "x"}}, clock.steady_now()).kind,
            Kind::kNothing);
  Json unknown_state = change(5);
  unknown_state["to"] = "delivered";
  EXPECT_EQ(cursor.on_frame(unknown_state, clock.steady_now()).kind, Kind::kNothing);
  Json no_serial = change(6);
  no_serial.erase("serial");
  EXPECT_EQ(cursor.on_frame(no_serial, clock.steady_now()).kind, Kind::kNothing);
  auto parsed = cursor.on_frame(change(7, "SN7"), clock.steady_now());
  ASSERT_EQ(parsed.kind, Kind::kChange);
  ASSERT_TRUE(parsed.change.has_value());
  EXPECT_EQ(parsed.change->serial, "SN7");
  EXPECT_EQ(parsed.change->from, core::DeviceState::kQueued);
  EXPECT_EQ(parsed.change->to, core::DeviceState::kRegistrationPending);
  EXPECT_EQ(cursor.resume_seq(), 7);
}

TEST(EventCursor, ThreeSilentHeartbeatIntervalsMeanADeadConnection) {
  core::FakeClock clock;
  EventCursor cursor;
  EXPECT_EQ(cursor.watchdog_deadline(), std::nullopt) << "no watchdog while offline";
  cursor.on_subscribed(ack(1, 1000), clock.steady_now());
  EXPECT_EQ(*cursor.watchdog_deadline(), clock.steady_now() + 3s);
  clock.advance(2999ms);
  EXPECT_FALSE(cursor.silent_too_long(clock.steady_now()));
  cursor.on_frame({{"type", "heartbeat"}, {"seq", 1}}, clock.steady_now());
  clock.advance(2999ms);
  EXPECT_FALSE(cursor.silent_too_long(clock.steady_now())) << "the heartbeat reset it";
  clock.advance(1ms);
  EXPECT_TRUE(cursor.silent_too_long(clock.steady_now()));
}

TEST(EventCursor, ReconnectsBackOffAndResetOnceSubscribed) {
  core::FakeClock clock;
  EventCursor cursor(std::nullopt, Backoff(1s, 30s));
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(cursor.on_disconnected("unavailable"));
  EXPECT_EQ(delays, (std::vector<std::chrono::milliseconds>{1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s}));
  EXPECT_EQ(cursor.disconnect_reason(), "unavailable");
  cursor.on_subscribed(ack(1), clock.steady_now());
  EXPECT_TRUE(cursor.connected());
  EXPECT_EQ(cursor.on_disconnected("service restarted"), 1s);
}

// A service whose `subscribe` acknowledges `ack_seq` and streams `frames`, then ends the
// connection (as a restarting service would); it records the `since` each subscription asked for.
class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = test::unique_endpoint(dir_);
    std::vector<Binding> bindings;
    for (const auto& info : kCommands) {
      bindings.push_back({info.name,
                          [this, name = std::string(info.name)](
                              const Json& args, const CallContext& call) -> core::Result<Json> {
                            if (name != "subscribe") return Json::object();
                            std::lock_guard lock(mutex_);
                            sinces_.push_back(args.contains("since") ? args["since"] : Json());
                            const std::vector<Json> frames = frames_;
                            const bool hold = hold_open_;
                            if (call.stream_after) {
                              *call.stream_after = [frames, hold](const FrameWriter& write,
                                                                  const PeerLeft& peer_left) {
                                for (const auto& frame : frames) {
                                  if (!write(frame)) return;
                                }
                                while (hold && !peer_left()) std::this_thread::sleep_for(20ms);
                              };
                            }
                            return ack(ack_seq_, heartbeat_ms_);
                          }});
    }
    dispatcher_ = std::make_unique<Dispatcher>(std::move(*Dispatcher::create(std::move(bindings))));
    auto listener = listen(endpoint_, {});
    ASSERT_TRUE(listener.ok()) << listener.error().message;
    server_ = std::make_unique<Server>(std::move(listener).value(), *dispatcher_, ServerOptions{});
    server_->start();
  }
  void TearDown() override { server_->stop(); }

  // The stream's reports until `count` that are not kNothing, or 10 s.
  std::vector<StreamEvent> take(EventStream& stream, std::size_t count) {
    std::vector<StreamEvent> events;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto event = stream.next(100ms, stop_.token());
      if (event.kind != Kind::kNothing) events.push_back(std::move(event));
    }
    return events;
  }

  test::TempDir dir_;
  std::string endpoint_;
  std::mutex mutex_;
  std::vector<Json> sinces_;
  std::vector<Json> frames_;
  bool hold_open_ = false;
  std::int64_t ack_seq_ = 0;
  std::int64_t heartbeat_ms_ = 10'000;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Server> server_;
  core::SystemClock clock_;
  core::StopSource stop_;
};

TEST_F(EventStreamTest, ResumesAfterTheLastChangeItSawAndSkipsTheReplayedOnes) {
  {
    std::lock_guard lock(mutex_);
    ack_seq_ = 10;
    frames_ = {change(11, "A"), change(12, "B")};
  }
  EventStreamOptions options;
  options.first_retry = 50ms;
  EventStream stream(endpoint_, options, clock_);
  auto first = take(stream, 4);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].kind, Kind::kSubscribed);
  EXPECT_EQ(first[0].since, std::nullopt);
  EXPECT_EQ(first[1].kind, Kind::kChange);
  EXPECT_EQ(first[2].seq, 12);
  EXPECT_EQ(first[3].kind, Kind::kDisconnected) << "the service ended the connection";
  EXPECT_EQ(first[3].retry_in, 50ms);
  EXPECT_TRUE(first[3].ever_subscribed);
  {
    std::lock_guard lock(mutex_);
    ack_seq_ = 13;
    frames_ = {change(12, "B"), change(13, "C")};  // the service replays from 12
    hold_open_ = true;
  }
  auto second = take(stream, 2);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].kind, Kind::kSubscribed);
  EXPECT_TRUE(second[0].resumed);
  EXPECT_EQ(second[0].since, 12);
  EXPECT_EQ(second[1].kind, Kind::kChange);
  EXPECT_EQ(second[1].frame["serial"], "C") << "12 was a repeat";
  std::lock_guard lock(mutex_);
  ASSERT_EQ(sinces_.size(), 2u);
  EXPECT_TRUE(sinces_[0].is_null()) << "the first subscription asks for no history";
  EXPECT_EQ(sinces_[1], 12) << "the reconnect resumes after the last change seen";
}

TEST_F(EventStreamTest, NoticesAServiceWithANewHistory) {
  {
    std::lock_guard lock(mutex_);
    ack_seq_ = 500;
  }
  EventStreamOptions options;
  options.first_retry = 50ms;
  EventStream stream(endpoint_, options, clock_);
  auto first = take(stream, 2);
  ASSERT_EQ(first.size(), 2u);
  {
    std::lock_guard lock(mutex_);
    ack_seq_ = 3;
    frames_ = {change(4, "NEW")};
    hold_open_ = true;
  }
  auto second = take(stream, 3);
  ASSERT_EQ(second.size(), 3u);
  EXPECT_TRUE(second[0].history_reset);
  EXPECT_EQ(second[1].kind, Kind::kSubscribed) << "at once again, from the new history's start";
  EXPECT_EQ(second[1].since, 0);
  EXPECT_FALSE(second[1].history_reset);
  EXPECT_EQ(second[2].kind, Kind::kChange) << "4 is new, though below the old 500";
  std::lock_guard lock(mutex_);
  ASSERT_EQ(sinces_.size(), 3u);
  EXPECT_EQ(sinces_[1], 500);
  EXPECT_EQ(sinces_[2], 0);
}

TEST_F(EventStreamTest, ASilentServiceCountsAsGoneAfterThreeHeartbeatIntervals) {
  {
    std::lock_guard lock(mutex_);
    heartbeat_ms_ = 100;
    hold_open_ = true;  // acknowledges, then never writes
  }
  EventStreamOptions options;
  options.heartbeat_ms = 100;
  EventStream stream(endpoint_, options, clock_);
  const auto started = std::chrono::steady_clock::now();
  auto events = take(stream, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, Kind::kDisconnected);
  EXPECT_NE(events[1].reason.find("three heartbeat intervals"), std::string::npos)
      << events[1].reason;
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST_F(EventStreamTest, WithoutReconnectALostConnectionEndsTheStream) {
  EventStreamOptions options;
  options.reconnect = false;
  test::TempDir elsewhere;
  EventStream stream(test::unique_endpoint(elsewhere), options, clock_);  // nothing listens there
  auto events = take(stream, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kDisconnected);
  EXPECT_FALSE(events[0].ever_subscribed);
  EXPECT_TRUE(stream.ended());
  EXPECT_EQ(stream.next(10ms, stop_.token()).kind, Kind::kNothing);
}

}  // namespace
}  // namespace hangar::ipc
