// Device state changes in the Event Log: which changes make entries, with what level and text,
// and the rate limit that turns a burst of finished devices into a few entries and a summary.
#include <gtest/gtest.h>

#include <limits>
#include <mutex>
#include <vector>

#include "event_report.h"

namespace hangar::service {
namespace {

constexpr std::int64_t kT0 = 1'795'600'000'000;  // 2026-11-25 09:46:40 UTC

class FakeSink final : public EventSink {
 public:
  void write(const EventEntry& entry) override {
    std::lock_guard lock(mutex_);
    entries.push_back(entry);
  }
  std::vector<EventEntry> entries;

 private:
  std::mutex mutex_;
};

StateChange change(std::string serial, std::optional<std::string> from, std::string to,
                   std::int64_t at_ms, std::string reason = {}) {
  static std::int64_t seq = 0;
  // The storage keys as the wire spells them; .value() fails the test on a typo.
  std::optional<core::DeviceState> from_state;
  if (from) from_state = core::state_of_key(*from).value();
  return StateChange{StateChange::Kind::kState,
                     ++seq,
                     std::move(serial),
                     from_state,
                     core::state_of_key(to).value(),
                     std::move(reason),
                     at_ms};
}

TEST(EventReport, ReadyForUserIsInformation) {
  auto entry = event_for(change("SN-1", "registration_pending", "ready_for_user", kT0));
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, (EventEntry{EventId::kReadyForUser, EventLevel::kInformation, {"SN-1"}}));
  // A partner-registered device appears Ready for user with no earlier state.
  EXPECT_TRUE(event_for(change("SN-2", std::nullopt, "ready_for_user", kT0)));
}

TEST(EventReport, FailuresAreWarningsWithTheReason) {
  auto entry = event_for(change("SN-3", "registration_pending", "registration_failed", kT0,
                                "Device claimed by another organization"));
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, (EventEntry{EventId::kRegistrationFailed,
                                EventLevel::kWarning,
                                {"SN-3", "Device claimed by another organization"}}));
  auto bare = event_for(change("SN-4", "queued", "registration_failed", kT0));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->strings.at(1), "no reason recorded");
}

TEST(EventReport, OtherChangesMakeNoEntry) {
  EXPECT_FALSE(event_for(change("SN-5", std::nullopt, "queued", kT0)));
  EXPECT_FALSE(event_for(change("SN-5", "queued", "registration_pending", kT0)));
  EXPECT_FALSE(event_for(change("SN-5", "ready_for_user", "active", kT0)));
  EXPECT_FALSE(event_for(change("SN-5", "active", "inactive", kT0)));
  // A new reason on a device that already failed is not a new failure.
  EXPECT_FALSE(event_for(
      change("SN-5", "registration_failed", "registration_failed", kT0, "Device not found")));
  // A device leaving the queue is the admin's own doing; its to_state is no state at all.
  auto left = change("SN-5", "registration_failed", "ready_for_user", kT0, "removed by ada");
  left.kind = StateChange::Kind::kLeft;
  EXPECT_FALSE(event_for(left));

  FakeSink sink;
  report_state_change(sink, change("SN-5", "queued", "registration_pending", kT0));
  EXPECT_TRUE(sink.entries.empty());
  report_state_change(sink, change("SN-5", "registration_pending", "ready_for_user", kT0));
  EXPECT_EQ(sink.entries.size(), 1u);
}

TEST(EventReport, ABurstIsCappedAndSummarized) {
  FakeSink sink;
  StateChangeReporter reporter(sink, EventRateLimit{20, 60'000});
  // 500 devices Ready for user in one pass, 3 failures among them.
  for (int i = 0; i < 500; ++i) {
    reporter.on_change(
        change("R-" + std::to_string(i), "registration_pending", "ready_for_user", kT0 + i));
  }
  for (int i = 0; i < 3; ++i) {
    reporter.on_change(change("F-" + std::to_string(i), "registration_pending",
                              "registration_failed", kT0 + 600, "Device not found"));
  }
  // 20 Ready for user one by one, every failure (3 < 20), nothing summarized yet.
  ASSERT_EQ(sink.entries.size(), 23u);
  EXPECT_EQ(sink.entries[19].strings, std::vector<std::string>{"R-19"});
  reporter.flush(kT0 + 59'000);
  EXPECT_EQ(sink.entries.size(), 23u) << "the minute has not ended";

  reporter.flush(kT0 + 60'000);
  ASSERT_EQ(sink.entries.size(), 24u);
  const EventEntry& summary = sink.entries.back();
  EXPECT_EQ(summary.id, EventId::kReadyForUserSummary);
  EXPECT_EQ(summary.level, EventLevel::kInformation);
  EXPECT_EQ(summary.strings,
            (std::vector<std::string>{"480", format_utc(kT0), format_utc(kT0 + 499)}));
  // Nothing was held back for the failures: no failure summary.
  reporter.flush(kT0 + 120'000);
  EXPECT_EQ(sink.entries.size(), 24u);
}

TEST(EventReport, ANewMinuteWritesOneByOneAgain) {
  FakeSink sink;
  StateChangeReporter reporter(sink, EventRateLimit{2, 60'000});
  for (int i = 0; i < 5; ++i) {
    reporter.on_change(change("F-" + std::to_string(i), "queued", "registration_failed", kT0,
                              "Hardware hash not valid"));
  }
  ASSERT_EQ(sink.entries.size(), 2u);
  // The next failure, a minute later, first closes the old window with its summary.
  reporter.on_change(
      change("F-9", "queued", "registration_failed", kT0 + 61'000, "Device not found"));
  ASSERT_EQ(sink.entries.size(), 4u);
  EXPECT_EQ(sink.entries[2].id, EventId::kRegistrationFailedSummary);
  EXPECT_EQ(sink.entries[2].level, EventLevel::kWarning);
  EXPECT_EQ(sink.entries[2].strings.at(0), "3");
  EXPECT_EQ(sink.entries[3].id, EventId::kRegistrationFailed);
  EXPECT_EQ(sink.entries[3].strings, (std::vector<std::string>{"F-9", "Device not found"}));
}

TEST(EventReport, ShutdownFlushesWhatIsHeld) {
  FakeSink sink;
  StateChangeReporter reporter(sink, EventRateLimit{1, 60'000});
  reporter.on_change(change("R-1", "queued", "ready_for_user", kT0));
  reporter.on_change(change("R-2", "queued", "ready_for_user", kT0 + 1));
  ASSERT_EQ(sink.entries.size(), 1u);
  reporter.flush(std::numeric_limits<std::int64_t>::max());
  ASSERT_EQ(sink.entries.size(), 2u);
  EXPECT_EQ(sink.entries[1].id, EventId::kReadyForUserSummary);
  EXPECT_EQ(sink.entries[1].strings.at(0), "1");
}

TEST(EventReport, TimesAreUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(kT0), "2026-11-25 09:46:40 UTC");
}

}  // namespace
}  // namespace hangar::service
