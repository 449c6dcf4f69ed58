// The state-change feed: history rows fanned out to listeners and bounded subscriptions, replay
// after a reconnect, gaps for subscribers that fall behind, a device leaving the queue, history
// ids that never repeat, and holes an older release left in the history.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hangar/service/events.h"
#include "hangar/store/sqlite.h"
#include "waits.h"

namespace hangar::service {
namespace {

using namespace std::chrono_literals;

class EventFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("hangar-events-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    remove_files();
    store_ = std::move(store::Store::open(path_)).value();
  }
  void TearDown() override {
    store_.reset();
    remove_files();
  }
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  void queue(const std::string& serial) {
    store::NewDevice device;
    device.serial = serial;
    device.hardware_hash = std::vector<std::uint8_t>(serial.begin(), serial.end());  // unique
    device.profile = "standard";
    device.created_at = 1000;
    ASSERT_TRUE(store_->insert_device(device).ok());
  }
  void move(const std::string& serial, core::DeviceState state, const char* reason = "") {
    ASSERT_TRUE(store_->transition(serial, state, reason, 2000).ok());
  }

  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
};

// The feed thread sleeps an hour between polls here: stop() at a random moment (while it sleeps,
// polls or has just started) must end it within a second, hundreds of times over (each round
// starts a thread: milliseconds under Wine), and close the subscriptions it had.
TEST_F(EventFeedTest, StopAtRandomMomentsEndsTheFeedThreadAtOnce) {
  queue("S-1");
  std::mt19937 random(1201);
  for (int round = 0; round < 300; ++round) {
    EventFeed feed(*store_, EventFeedOptions{(random() % 2) ? 1h : 1ms});
    ASSERT_TRUE(feed.start().ok());
    auto subscription = feed.subscribe(std::nullopt);
    ASSERT_TRUE(subscription.ok());
    test::spin_for(std::chrono::microseconds(random() % 400));
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
      feed.stop();
      stopped = true;
    });
    test::within_or_abort([&] { return stopped.load(); }, 1000ms,
                          "round " + std::to_string(round) + ": EventFeed::stop()");
    stopper.join();
    EXPECT_TRUE((*subscription)->next(0ms).closed);
  }
}

TEST_F(EventFeedTest, NewChangesReachListenersAndSubscribersInOrderAfterStart) {
  queue("OLD-1");  // before start: history, not news
  EventFeed feed(*store_, EventFeedOptions{1h});
  std::vector<StateChange> heard;
  feed.add_listener([&](const StateChange& change) { heard.push_back(change); });
  ASSERT_TRUE(feed.start().ok());
  auto subscription = feed.subscribe(std::nullopt);
  ASSERT_TRUE(subscription.ok());

  queue("NEW-1");
  move("NEW-1", core::DeviceState::kRegistrationPending);
  move("NEW-1", core::DeviceState::kRegistrationFailed, "Device claimed by another organization");
  ASSERT_TRUE(feed.poll_once().ok());

  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0].serial, "NEW-1");
  EXPECT_FALSE(heard[0].from_state.has_value());
  EXPECT_EQ(heard[0].to_state, core::DeviceState::kQueued);
  EXPECT_EQ(heard[2].from_state, core::DeviceState::kRegistrationPending);
  EXPECT_EQ(heard[2].to_state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(heard[2].reason, "Device claimed by another organization");
  EXPECT_EQ(heard[2].at_ms, 2000);
  EXPECT_LT(heard[0].seq, heard[1].seq);
  EXPECT_LT(heard[1].seq, heard[2].seq);

  auto batch = (*subscription)->next(0ms);
  ASSERT_EQ(batch.changes.size(), 3u);
  EXPECT_EQ(batch.missed, 0u);
  EXPECT_EQ(batch.changes[2].seq, heard[2].seq);
  EXPECT_EQ(batch.seq, heard[2].seq);
  EXPECT_EQ(feed.last_seq(), heard[2].seq);
  // Nothing new: a poll delivers nothing twice.
  ASSERT_TRUE(feed.poll_once().ok());
  EXPECT_TRUE((*subscription)->next(0ms).changes.empty());
  EXPECT_EQ(heard.size(), 3u);
}

// A subscriber that falls behind (a queue of six, seven changes at once) stalls nobody: the feed
// drops its queue and it reads what it missed from the durable history, in order, at its own
// pace, then goes on live. Black-box round 13: it used to get a gap, so a watcher that kept up
// with an import (one call's 500 changes past a small queue) was told it fell behind, and the tray
// undercounted.
TEST_F(EventFeedTest, ASubscriberThatFallsBehindReadsTheHistoryNotAGap) {
  EventFeedOptions options{1h};
  options.subscriber_capacity = 6;
  options.replay_page = 4;
  EventFeed feed(*store_, options);
  ASSERT_TRUE(feed.start().ok());
  auto slow = feed.subscribe(std::nullopt);
  auto quick = feed.subscribe(std::nullopt);
  ASSERT_TRUE(slow.ok() && quick.ok());

  queue("A");
  queue("B");
  ASSERT_TRUE(feed.poll_once().ok());
  EXPECT_EQ((*quick)->next(0ms).changes.size(), 2u);  // quick keeps up; slow reads nothing
  for (const char* serial : {"C", "D", "E", "F", "G"}) queue(serial);
  ASSERT_TRUE(feed.poll_once().ok());
  auto kept_up = (*quick)->next(0ms);
  EXPECT_EQ(kept_up.missed, 0u);
  EXPECT_EQ(kept_up.changes.size(), 5u);

  std::vector<std::string> seen;
  std::int64_t last = 0;
  for (int i = 0; i < 10; ++i) {
    auto batch = (*slow)->next(0ms);
    EXPECT_EQ(batch.missed, 0u);
    for (const auto& change : batch.changes) {
      EXPECT_GT(change.seq, last) << "in order, none twice";
      last = change.seq;
      seen.push_back(change.serial);
    }
    if (batch.changes.empty()) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"A", "B", "C", "D", "E", "F", "G"}));
  // Then live again.
  queue("H");
  ASSERT_TRUE(feed.poll_once().ok());
  auto after = (*slow)->next(0ms);
  EXPECT_EQ(after.missed, 0u);
  ASSERT_EQ(after.changes.size(), 1u);
  EXPECT_EQ(after.changes[0].serial, "H");
  EXPECT_EQ(after.changes[0].seq, last + 1);
}

// A burst past the queue while the subscriber is waiting in next(): it wakes and reads the burst
// from the history.
TEST_F(EventFeedTest, ABurstPastTheQueueWakesAWaitingSubscriber) {
  EventFeedOptions options{1h};
  options.subscriber_capacity = 3;
  EventFeed feed(*store_, options);
  ASSERT_TRUE(feed.start().ok());
  auto waiting = feed.subscribe(std::nullopt);
  ASSERT_TRUE(waiting.ok());
  for (const char* serial : {"A", "B", "C", "D", "E", "F"}) queue(serial);
  std::optional<Subscription::Batch> got;
  std::thread reader([&] { got = (*waiting)->next(5s); });
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(feed.poll_once().ok());
  reader.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->missed, 0u);
  ASSERT_FALSE(got->changes.empty());
  EXPECT_EQ(got->changes.front().serial, "A");
}

TEST_F(EventFeedTest, AReconnectingSubscriberGetsWhatItMissedOnceHoweverFarBehind) {
  EventFeedOptions options{1h};
  options.subscriber_capacity = 3;
  options.replay_page = 2;
  EventFeed feed(*store_, options);
  ASSERT_TRUE(feed.start().ok());
  queue("A");
  ASSERT_TRUE(feed.poll_once().ok());
  const std::int64_t seen = feed.last_seq();
  queue("B");
  move("B", core::DeviceState::kRegistrationPending);
  ASSERT_TRUE(feed.poll_once().ok());

  auto resumed = feed.subscribe(seen);
  ASSERT_TRUE(resumed.ok());
  queue("C");  // committed but not yet polled: arrives live, not in the replay
  auto replay = (*resumed)->next(0ms);
  ASSERT_EQ(replay.changes.size(), 2u);
  EXPECT_EQ(replay.changes[0].serial, "B");
  EXPECT_EQ(replay.changes[1].to_state, core::DeviceState::kRegistrationPending);
  ASSERT_TRUE(feed.poll_once().ok());
  auto live = (*resumed)->next(0ms);
  ASSERT_EQ(live.changes.size(), 1u);
  EXPECT_EQ(live.changes[0].serial, "C");

  // Far more missed than the subscription holds: still replayed from the history, every change
  // once and in order, then the live ones (even those that overflowed its queue meanwhile).
  for (const char* serial : {"D", "E", "F", "G"}) queue(serial);
  ASSERT_TRUE(feed.poll_once().ok());
  auto far_behind = feed.subscribe(seen);
  ASSERT_TRUE(far_behind.ok());
  EXPECT_EQ((*far_behind)->start_seq(), feed.last_seq());
  std::vector<std::string> got;
  auto first = (*far_behind)->next(0ms);
  EXPECT_EQ(first.missed, 0u);
  for (const auto& change : first.changes) got.push_back(change.serial);
  for (const char* serial : {"H", "I", "J", "K", "L"}) queue(serial);  // overflows the queue of 3
  ASSERT_TRUE(feed.poll_once().ok());
  std::int64_t previous = 0;
  for (int i = 0; i < 20; ++i) {
    auto batch = (*far_behind)->next(0ms);
    EXPECT_EQ(batch.missed, 0u) << "no gap: the history has every change";
    for (const auto& change : batch.changes) {
      EXPECT_GT(change.seq, previous);
      previous = change.seq;
      got.push_back(change.serial);
    }
  }
  const std::vector<std::string> expected{"B", "B", "C", "D", "E", "F",
                                          "G", "H", "I", "J", "K", "L"};
  EXPECT_EQ(got, expected);
}

// What `subscribe` acknowledges is where the subscription joined the feed, not the feed's seq
// when the reply is written: a change delivered in between must be newer than the ack.
TEST_F(EventFeedTest, TheStartSeqPrecedesEveryLiveChange) {
  EventFeed feed(*store_, EventFeedOptions{1h});
  ASSERT_TRUE(feed.start().ok());
  queue("BEFORE");
  ASSERT_TRUE(feed.poll_once().ok());
  auto subscription = feed.subscribe(std::nullopt);
  ASSERT_TRUE(subscription.ok());
  const std::int64_t start = (*subscription)->start_seq();
  EXPECT_EQ(start, feed.last_seq());
  queue("AFTER");
  ASSERT_TRUE(feed.poll_once().ok());
  EXPECT_GT(feed.last_seq(), start);  // what a late read of last_seq() would have acknowledged
  auto batch = (*subscription)->next(0ms);
  ASSERT_EQ(batch.changes.size(), 1u);
  EXPECT_EQ(batch.changes[0].serial, "AFTER");
  EXPECT_GT(batch.changes[0].seq, start);
}

TEST_F(EventFeedTest, StopEndsEverySubscriptionPromptly) {
  EventFeed feed(*store_, EventFeedOptions{10ms});
  ASSERT_TRUE(feed.start().ok());
  auto subscription = feed.subscribe(std::nullopt);
  ASSERT_TRUE(subscription.ok());
  queue("LIVE-1");  // the feed thread picks this up on its own
  auto batch = (*subscription)->next(5s);
  ASSERT_EQ(batch.changes.size(), 1u);
  EXPECT_EQ(batch.changes[0].serial, "LIVE-1");

  const auto before = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    feed.stop();
  });
  auto end = (*subscription)->next(30s);
  stopper.join();
  EXPECT_TRUE(end.closed);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  // Subscribing after stop gives a closed subscription, not a hang.
  auto late = feed.subscribe(std::nullopt);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE((*late)->next(1s).closed);
}

TEST_F(EventFeedTest, SubscriptionsAreCappedPerUserAndInAllAndAReleasedOneFreesItsPlace) {
  EventFeedOptions options{1h};
  options.max_subscribers = 3;
  options.max_subscribers_per_user = 2;
  EventFeed feed(*store_, options);
  ASSERT_TRUE(feed.start().ok());
  std::vector<std::shared_ptr<Subscription>> held;
  for (int i = 0; i < 2; ++i) {
    auto alice = feed.subscribe(std::nullopt, "alice");
    ASSERT_TRUE(alice.ok()) << alice.error().message;
    held.push_back(std::move(alice).value());
  }
  auto third = feed.subscribe(std::nullopt, "alice");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, "busy");
  EXPECT_NE(third.error().message.find("alice already has 2"), std::string::npos)
      << third.error().message;
  EXPECT_NE(third.error().message.find("max_subscribers_per_user 2"), std::string::npos)
      << third.error().message;

  // Another user still gets one, up to the total.
  auto bob = feed.subscribe(std::nullopt, "bob");
  ASSERT_TRUE(bob.ok()) << bob.error().message;
  auto carol = feed.subscribe(std::nullopt, "carol");
  ASSERT_FALSE(carol.ok());
  EXPECT_EQ(carol.error().code, "busy");
  EXPECT_NE(carol.error().message.find("max_subscribers 3"), std::string::npos)
      << carol.error().message;
  EXPECT_EQ(feed.subscriber_count(), 3u);

  // A subscription released by its stream makes room at once.
  held.pop_back();
  auto again = feed.subscribe(std::nullopt, "alice");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(feed.subscriber_count(), 3u);
}

TEST_F(EventFeedTest, ADeviceLeavingIsAChangeAndItsHistoryStaysForAReplay) {
  EventFeed feed(*store_, EventFeedOptions{1h});
  std::vector<StateChange> heard;
  feed.add_listener([&heard](const StateChange& change) { heard.push_back(change); });
  ASSERT_TRUE(feed.start().ok());
  auto subscription = feed.subscribe(std::nullopt);
  ASSERT_TRUE(subscription.ok());
  queue("KEEP");
  queue("GONE");
  move("GONE", core::DeviceState::kRegistrationPending);
  move("GONE", core::DeviceState::kReadyForUser);
  ASSERT_TRUE(feed.poll_once().ok());
  const std::int64_t newest = feed.last_seq();
  (*subscription)->next(0ms);
  ASSERT_TRUE(store_->remove_device("GONE", false, 3000, "removed by ada").ok());
  queue("NEXT");
  ASSERT_TRUE(feed.poll_once().ok());

  // Live: the leaving, then the next change, each with a new number.
  auto batch = (*subscription)->next(0ms);
  ASSERT_EQ(batch.changes.size(), 2u);
  EXPECT_EQ(batch.changes[0].kind, StateChange::Kind::kLeft);
  EXPECT_EQ(batch.changes[0].serial, "GONE");
  EXPECT_EQ(batch.changes[0].from_state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(batch.changes[0].reason, "removed by ada");
  EXPECT_EQ(batch.changes[0].at_ms, 3000);
  EXPECT_EQ(batch.changes[0].seq, newest + 1);
  EXPECT_EQ(batch.changes[1].serial, "NEXT");
  EXPECT_EQ(batch.changes[1].kind, StateChange::Kind::kState);
  EXPECT_EQ(batch.changes[1].seq, newest + 2);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.back().serial, "NEXT");

  // A replay from the start shows the removed device's whole life, with no hole.
  auto replay = feed.subscribe(0);
  ASSERT_TRUE(replay.ok());
  auto page = (*replay)->next(0ms);
  EXPECT_EQ(page.missed, 0u);
  std::vector<std::string> gone;
  std::int64_t expected_seq = 1;
  for (const auto& change : page.changes) {
    EXPECT_EQ(change.seq, expected_seq++);
    EXPECT_NE(change.kind, StateChange::Kind::kHistoryLost);
    if (change.serial == "GONE") gone.push_back(std::string(core::display_name(change.to_state)));
  }
  EXPECT_EQ(expected_seq, newest + 3);
  EXPECT_EQ(gone.size(), 4u) << "queued, pending, ready, removed";

  // Numbers keep growing across a restart of the store.
  ASSERT_TRUE(store_->remove_device("NEXT").ok());
  store_.reset();
  store_ = std::move(store::Store::open(path_)).value();
  queue("AFTER-RESTART");
  auto rows = store_->changes_since(newest + 2, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_TRUE((*rows)[0].left);
  EXPECT_EQ((*rows)[0].serial, "NEXT");
  EXPECT_EQ((*rows)[1].serial, "AFTER-RESTART");
}

// A database an older release wrote lost a removed device's history with it: a replay says where
// (a kHistoryLost entry with the count), in order, in the middle and at the end, never silently.
TEST_F(EventFeedTest, AReplayTellsWhereTheHistoryHasHoles) {
  queue("A");                                          // #1
  queue("B");                                          // #2
  move("B", core::DeviceState::kRegistrationPending);  // #3
  queue("C");                                          // #4
  queue("D");                                          // #5
  queue("E");                                          // #6
  {
    auto other = store::Database::open(path_);
    ASSERT_TRUE(other.ok());
    // As remove_device did then: the rows went, and the floor kept their numbers from reuse.
    ASSERT_TRUE(other
                    ->exec("DELETE FROM state_history WHERE id IN (2, 3, 5, 6);"
                           "INSERT INTO meta (key, value) VALUES ('history_floor', '7')")
                    .ok());
  }
  store_.reset();
  store_ = std::move(store::Store::open(path_)).value();
  EventFeedOptions options{1h};
  options.replay_page = 2;  // holes across page boundaries too
  EventFeed feed(*store_, options);
  ASSERT_TRUE(feed.start().ok());
  queue("LIVE");  // #7: delivered live, after the replay
  auto subscription = feed.subscribe(0);
  ASSERT_TRUE(subscription.ok());
  std::vector<StateChange> got;
  for (int i = 0; i < 20; ++i) {
    auto batch = (*subscription)->next(0ms);
    EXPECT_EQ(batch.missed, 0u);
    got.insert(got.end(), batch.changes.begin(), batch.changes.end());
  }
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].serial, "A");
  EXPECT_EQ(got[1].kind, StateChange::Kind::kHistoryLost);
  EXPECT_EQ(got[1].lost, 2u);
  EXPECT_EQ(got[1].seq, 3);
  EXPECT_EQ(got[2].serial, "C");
  EXPECT_EQ(got[3].kind, StateChange::Kind::kHistoryLost);
  EXPECT_EQ(got[3].lost, 2u);
  EXPECT_EQ(got[3].seq, 6);
  EXPECT_EQ(got[4].serial, "LIVE");
  EXPECT_EQ(got[4].seq, 7);
}

}  // namespace
}  // namespace hangar::service
