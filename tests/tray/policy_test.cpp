// The tray's notification and health policy with a fake clock: coalescing, texts, gaps, health,
// tooltip limits, the event sequence across reconnects and the reconnect backoff.
#include <gtest/gtest.h>

#include "hangar/tray/model.h"

namespace hangar::tray {
namespace {

using namespace std::chrono_literals;

Json change(std::int64_t seq, const std::string& serial, const std::string& to,
            const std::string& reason = "", std::int64_t at = 1764072000000) {
  return Json{
      {"type", "change"}, {"seq", seq},       {"serial", serial}, {"from", "registration_pending"},
      {"to", to},         {"reason", reason}, {"at", at}};
}

// Built by the service's own serialiser (ipc::msg::StatusReply), as hangard sends it.
Json status_reply(std::int64_t ready, std::int64_t failed, bool online = true,
                  bool paused = false) {
  using core::DeviceState;
  ipc::msg::StatusReply reply;
  reply.states = {{DeviceState::kQueued, 0},
                  {DeviceState::kRegistrationPending, 2},
                  {DeviceState::kRegistrationFailed, failed},
                  {DeviceState::kReadyForUser, ready},
                  {DeviceState::kActive, 0},
                  {DeviceState::kInactive, 0}};
  reply.cloud.online = online;
  reply.cloud.paused = paused;
  reply.data_dir = "/var/lib/hangar";
  return reply.to_json();
}

StatusSnapshot snapshot(const Json& reply) {
  auto parsed = parse_status(reply);
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? *parsed : StatusSnapshot{};
}

// The model is fed what ipc::EventStream reports: a real EventCursor turns the frames into it.
class PolicyTest : public ::testing::Test {
 protected:
  core::FakeClock clock_;
  TrayModel model_{clock_, 3000ms};
  ipc::EventCursor cursor_;

  void subscribed(const Json& ack) {
    model_.on_stream(cursor_.on_subscribed(ack, clock_.steady_now()));
  }
  void event(const Json& frame) { model_.on_stream(cursor_.on_frame(frame, clock_.steady_now())); }
  std::chrono::milliseconds disconnected(const std::string& why) {
    ipc::StreamEvent lost;
    lost.kind = ipc::StreamEvent::Kind::kDisconnected;
    lost.reason = why;
    lost.retry_in = cursor_.on_disconnected(why);
    model_.on_stream(lost);
    return lost.retry_in;
  }
  void connect(std::int64_t seq = 100) {
    subscribed({{"subscribed", true}, {"seq", seq}, {"heartbeat_ms", 10000}});
    model_.on_status(snapshot(status_reply(0, 0)));
  }
};

TEST_F(PolicyTest, ChangesWithinTheWindowMakeOneNotification) {
  connect();
  for (int i = 0; i < 12; ++i) {
    event(change(101 + i, "SN-" + std::to_string(i), "ready_for_user"));
    clock_.advance(200ms);  // 12 changes over 2.4 s, inside the 3 s window
  }
  EXPECT_TRUE(model_.take_notifications().empty()) << "the window is still open";
  clock_.advance(600ms);
  auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, NotificationKind::kReady);
  EXPECT_EQ(due[0].text, "12 devices are Ready for user");
  EXPECT_EQ(due[0].serials.size(), 12u);
  EXPECT_TRUE(model_.take_notifications().empty()) << "a batch is shown once";
}

TEST_F(PolicyTest, OneDeviceIsNamed) {
  connect();
  event(change(101, "PF3ABC12", "ready_for_user"));
  clock_.advance(3s);
  auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].text, "Device PF3ABC12 is Ready for user");
  EXPECT_EQ(due[0].title, "Hangar");
}

TEST_F(PolicyTest, TheWindowOpensAtTheFirstChangeSoABurstCannotPostponeItForever) {
  connect();
  std::vector<Notification> shown;
  for (int i = 0; i < 20; ++i) {  // one change every second for 20 s
    event(change(101 + i, "SN-" + std::to_string(i), "ready_for_user"));
    clock_.advance(1s);
    for (auto& n : model_.take_notifications()) shown.push_back(std::move(n));
  }
  clock_.advance(3s);
  for (auto& n : model_.take_notifications()) shown.push_back(std::move(n));
  // A notification every 3 s, never more than one per window, and every device in exactly one.
  ASSERT_EQ(shown.size(), 7u);
  std::size_t devices = 0;
  for (const auto& n : shown) devices += n.serials.size();
  EXPECT_EQ(devices, 20u);
  EXPECT_EQ(shown[0].text, "3 devices are Ready for user");
}

TEST_F(PolicyTest, ASerialTwiceInOneWindowCountsOnce) {
  connect();
  event(change(101, "A", "registration_failed", "Device not found"));
  event(change(102, "A", "registration_failed", "Device not found"));
  clock_.advance(3s);
  auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].text, "Registration failed for A: Device not found");
}

TEST_F(PolicyTest, FailuresCarryTheFirstReasonAndHowManyMore) {
  connect();
  event(change(101, "OTHER-1", "registration_failed", "Device claimed by another organization"));
  event(change(102, "OTHER-2", "registration_failed", "Hardware hash not valid"));
  event(change(103, "OTHER-3", "registration_failed", "Device not found"));
  event(change(104, "OK-1", "ready_for_user"));
  clock_.advance(3s);
  auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 2u) << "one per kind";
  EXPECT_EQ(due[0].kind, NotificationKind::kReady);
  EXPECT_EQ(due[0].text, "Device OK-1 is Ready for user");
  EXPECT_EQ(due[1].kind, NotificationKind::kFailed);
  EXPECT_EQ(due[1].text,
            "3 devices failed registration for 3 reasons, the first: Device claimed by another "
            "organization");
  // Black-box round 8: "reason (and 11 more)" read as 11 more reasons; one reason is all theirs.
  for (int i = 0; i < 12; ++i) {
    event(change(200 + i, "NF-" + std::to_string(i), "registration_failed", "Device not found"));
  }
  clock_.advance(3s);
  due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].text, "12 devices failed registration: Device not found (all 12)");
}

TEST_F(PolicyTest, FailureTextsWithoutReasonAndWithAVeryLongOne) {
  EXPECT_EQ(failed_text({"A"}, ""), "Registration failed for A");
  EXPECT_EQ(failed_text({"A", "B"}, ""), "2 devices failed registration");
  const std::string long_reason(1000, 'x');
  const std::string one = failed_text({"A"}, long_reason);
  EXPECT_LE(one.size(), kNotificationTextMax);
  EXPECT_EQ(one.substr(one.size() - 3), "...");
  const std::string many = failed_text({"A", "B", "C"}, long_reason);
  EXPECT_LE(many.size(), kNotificationTextMax);
  EXPECT_EQ(many.substr(many.size() - 11), "... (all 3)") << "the count is never cut: " << many;
  const std::string mixed = failed_text({"A", "B", "C"}, long_reason, 2);
  EXPECT_LE(mixed.size(), kNotificationTextMax);
  EXPECT_EQ(mixed.rfind("3 devices failed registration for 2 reasons, the first: xxx", 0), 0u)
      << mixed;
}

TEST_F(PolicyTest, OtherTransitionsNotifyNothing) {
  connect();
  event(change(101, "A", "registration_pending"));
  event(change(102, "A", "active"));
  event(change(103, "A", "inactive"));
  event(Json{{"type", "change"},
             {"seq", 104},
             {"serial", "B"},
             {"from", nullptr},
             {"to", "queued"},
             {"reason", ""},
             {"at", 1}});
  clock_.advance(10s);
  EXPECT_TRUE(model_.take_notifications().empty());
  EXPECT_TRUE(model_.status_stale()) << "the counts changed";
}

// A change frame without a serial is not a change (ipc::msg::ChangeEvent): the stream does not
// report it, so nothing is announced and its seq is not taken as seen.
TEST_F(PolicyTest, AChangeWithoutASerialIsNotAnnounced) {
  connect();
  event({{"type", "change"}, {"seq", 101}, {"to", "ready_for_user"}});
  clock_.advance(3s);
  EXPECT_TRUE(model_.take_notifications().empty());
  EXPECT_FALSE(model_.status_stale());
  EXPECT_EQ(cursor_.resume_seq(), 100);
  event(change(101, "SN-1", "ready_for_user"));
  EXPECT_TRUE(model_.status_stale());
  EXPECT_EQ(cursor_.resume_seq(), 101);
}

TEST_F(PolicyTest, AGapRefreshesTheCountsAndInventsNothing) {
  connect();
  EXPECT_FALSE(model_.status_stale());
  event({{"type", "gap"}, {"missed", 37}, {"seq", 137}});
  EXPECT_TRUE(model_.status_stale());
  EXPECT_EQ(model_.events_lost(), 37);
  clock_.advance(10s);
  EXPECT_TRUE(model_.take_notifications().empty());
  EXPECT_EQ(cursor_.resume_seq(), 137) << "the lost changes are not replayed on reconnect";
  model_.on_status(snapshot(status_reply(37, 0)));
  EXPECT_FALSE(model_.status_stale());
  EXPECT_NE(model_.tooltip().find("37 ready"), std::string::npos) << model_.tooltip();
}

TEST_F(PolicyTest, ADeviceLeavingTheQueueRefreshesTheCountsAndNotifiesNothing) {
  connect();
  EXPECT_FALSE(model_.status_stale());
  event({{"type", "removed"},
         {"seq", 101},
         {"serial", "GONE"},
         {"from", "ready_for_user"},
         {"reason", "removed by ada"},
         {"at", 1764072000000}});
  EXPECT_TRUE(model_.status_stale()) << "the device must leave the counts";
  EXPECT_EQ(model_.events_lost(), 0);
  EXPECT_EQ(cursor_.resume_seq(), 101);
  clock_.advance(10s);
  EXPECT_TRUE(model_.take_notifications().empty());
}

TEST_F(PolicyTest, AGapKeepsTheChangesAlreadyWaiting) {
  connect();
  event(change(101, "A", "ready_for_user"));
  event({{"type", "gap"}, {"missed", 5}, {"seq", 106}});
  event(change(107, "B", "ready_for_user"));
  clock_.advance(3s);
  auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].text, "2 devices are Ready for user");
}

TEST_F(PolicyTest, ReconnectResumesAfterTheLastSeqAndIgnoresRepeats) {
  EXPECT_EQ(cursor_.resume_seq(), std::nullopt) << "no replay of old history on the first start";
  connect(100);
  EXPECT_EQ(cursor_.resume_seq(), 100);
  event(change(101, "A", "ready_for_user"));
  disconnected("lost the connection");
  EXPECT_EQ(cursor_.resume_seq(), 101);
  // The service replays from 101: the repeat is ignored, the new change counts.
  subscribed({{"subscribed", true}, {"seq", 103}, {"heartbeat_ms", 10000}});
  EXPECT_EQ(cursor_.resume_seq(), 101);
  event(change(101, "A", "ready_for_user"));
  event(change(102, "B", "ready_for_user"));
  event(change(103, "C", "ready_for_user"));
  clock_.advance(3s);
  auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].serials, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(cursor_.resume_seq(), 103);
}

TEST_F(PolicyTest, ASequenceBehindOursMeansANewHistory) {
  connect(500);
  disconnected("service restarted");
  subscribed({{"subscribed", true}, {"seq", 3}, {"heartbeat_ms", 10000}});
  EXPECT_EQ(cursor_.resume_seq(), 3);
  event(change(4, "NEW", "ready_for_user"));
  clock_.advance(3s);
  ASSERT_EQ(model_.take_notifications().size(), 1u) << "new events are not taken for repeats";
}

// Black-box round 13: the data directory restored from a backup (operations.md) while the tray
// ran: it took the older history from its start and announced 20 devices Ready for user since
// before the backup. The new history's changes up to the newest one the tray had seen are the
// past: not announced; those made after it are.
TEST_F(PolicyTest, AHistoryRestoredFromABackupIsNotAnnouncedAgain) {
  const std::int64_t backup = 1764000000000;  // the backup's changes
  const std::int64_t live = 1764072000000;    // the newest change the tray saw before the restore
  connect(100);
  event(change(101, "LIVE", "ready_for_user", "", live));
  clock_.advance(3s);
  ASSERT_EQ(model_.take_notifications().size(), 1u);
  disconnected("service restarted");
  // As ipc::EventStream does: a new history met, it subscribes again from its start.
  subscribed({{"subscribed", true}, {"seq", 40}, {"heartbeat_ms", 10000}});
  cursor_.restart_from(0);
  subscribed({{"subscribed", true}, {"seq", 40}, {"heartbeat_ms", 10000}});
  for (int i = 1; i <= 20; ++i) {
    event(change(i, "OLD-" + std::to_string(i), "ready_for_user", "", backup + i));
  }
  event(change(21, "AFTER", "ready_for_user", "", live + 60'000));
  clock_.advance(3s);
  const auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].serials, (std::vector<std::string>{"AFTER"}));
}

// Black-box round 13: a serial from the cloud holding an escape sequence went raw to the tray's
// output and log. It is shown escaped, as `hangar` shows it.
TEST_F(PolicyTest, ControlCharactersFromTheCloudAreShownEscaped) {
  connect(100);
  event(change(101, "EV\x1b[31mIL-1", "ready_for_user"));
  event(change(102, "F\n1", "registration_failed", "bad\x07 news"));
  clock_.advance(3s);
  const auto due = model_.take_notifications();
  ASSERT_EQ(due.size(), 2u);
  for (const auto& n : due) {
    for (const auto& text : std::vector<std::string>{n.text, n.serials.front()}) {
      EXPECT_EQ(text.find_first_of("\x1b\x07\n"), std::string::npos) << text;
    }
  }
  EXPECT_EQ(due[0].serials.front(), "EV\\x1b[31mIL-1");
  EXPECT_EQ(due[1].serials.front(), "F\\x0a1");
  EXPECT_NE(due[1].text.find("bad\\x07 news"), std::string::npos) << due[1].text;
}

TEST_F(PolicyTest, HealthFollowsTheServiceAndTheCloud) {
  EXPECT_EQ(model_.health(), Health::kOffline) << "before the first connection";
  connect();
  EXPECT_EQ(model_.health(), Health::kOk);
  model_.on_status(snapshot(status_reply(5, 0, /*online=*/false)));
  EXPECT_EQ(model_.health(), Health::kOffline);
  model_.on_status(snapshot(status_reply(5, 0, true, /*paused=*/true)));
  EXPECT_EQ(model_.health(), Health::kPaused);
  model_.on_status(snapshot(status_reply(5, 2, true, true)));
  EXPECT_EQ(model_.health(), Health::kFailures) << "failures need attention before a pause";
  model_.on_status(snapshot(status_reply(5, 2, false)));
  EXPECT_EQ(model_.health(), Health::kFailures);
  model_.on_status(snapshot(status_reply(7, 0)));
  EXPECT_EQ(model_.health(), Health::kOk);
  disconnected("lost the connection");
  EXPECT_EQ(model_.health(), Health::kOffline) << "a stale status does not count";
  EXPECT_TRUE(model_.last_status().has_value()) << "its data_dir stays usable";
  subscribed({{"subscribed", true}, {"seq", 100}});
  EXPECT_EQ(model_.health(), Health::kOk);
}

// A request form the cloud keeps refusing (status's cloud.needs_attention) outranks failures and a
// pause: nothing moves until someone looks. The status text says what, with the request id.
TEST_F(PolicyTest, ARequestTheCloudKeepsRefusingNeedsAttention) {
  connect();
  Json reply = status_reply(5, 2, true, /*paused=*/true);
  reply["cloud"]["last_error"] = "GET .../windowsAutopilotDeviceIdentities answered HTTP 500";
  reply["cloud"]["last_error_resolved"] = true;
  ipc::msg::RefusedForm form;
  form.request = "GET .../windowsAutopilotDeviceIdentities?$filter=contains(groupTag,'...')";
  form.purpose = "confirming registered devices (Ready for user)";
  form.http_status = 500;
  form.request_id = "req-7";
  form.fallback = "every Autopilot device is listed instead";
  reply["cloud"]["needs_attention"] = Json::array({form.to_json()});
  model_.on_status(snapshot(reply));
  EXPECT_EQ(model_.health(), Health::kAttention);
  EXPECT_STREQ(health_name(model_.health()), "attention");
  EXPECT_EQ(model_.tooltip(),
            "Hangar: needs attention: the cloud keeps refusing a request\n2 pending, 2 failed, "
            "5 ready");
  const std::string text = status_text(*model_.last_status());
  EXPECT_NE(text.find("Needs attention: the cloud keeps refusing GET "
                      ".../windowsAutopilotDeviceIdentities?$filter=contains(groupTag,'...') "
                      "(for confirming registered devices (Ready for user)): HTTP 500, request id "
                      "req-7; every Autopilot device is listed instead"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("; resolved since)"), std::string::npos) << text;
  // A malformed entry makes a malformed reply: refused with the field named, never thrown on.
  reply["cloud"]["needs_attention"] = Json::array({1, "x"});
  auto malformed = parse_status(reply);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, "malformed_reply");
  EXPECT_NE(malformed.error().message.find("\"cloud.needs_attention[0]\" must be an object"),
            std::string::npos)
      << malformed.error().message;
  reply["cloud"]["needs_attention"] = Json::array();
  reply["states"]["registration_failed"] = 0;
  model_.on_status(snapshot(reply));
  EXPECT_EQ(model_.health(), Health::kPaused);
}

TEST_F(PolicyTest, TooltipCountsPerState) {
  EXPECT_EQ(model_.tooltip(), "Hangar: service not reachable");
  connect();
  model_.on_status(snapshot(status_reply(12, 3)));
  EXPECT_EQ(model_.tooltip(), "Hangar: 3 failed registration\n2 pending, 3 failed, 12 ready");
  model_.on_status(snapshot(status_reply(12, 0, false)));
  EXPECT_EQ(model_.tooltip(), "Hangar: cloud offline\n2 pending, 12 ready");
  model_.on_status(snapshot(ipc::msg::StatusReply{}.to_json()));
  EXPECT_EQ(model_.tooltip(), "Hangar: all well\nno devices");
}

TEST_F(PolicyTest, TooltipNeverExceedsTheWindowsLimit) {
  Json reply = status_reply(0, 0);
  for (auto& [key, value] : reply["states"].items()) value = 9'223'372'036'854'775'807LL;
  connect();
  model_.on_status(snapshot(reply));
  const std::string tip = model_.tooltip();
  EXPECT_LE(tip.size(), kTooltipMax);
  EXPECT_EQ(tip.substr(tip.size() - 3), "...");
  EXPECT_EQ(tip.rfind("Hangar: 9223372036854775807 failed registration\n", 0), 0u) << tip;
}

TEST_F(PolicyTest, TruncationNeverSplitsAUtf8Character) {
  const std::string text = "ab\xC3\xA9\xC3\xA9\xC3\xA9";  // "abééé", 8 bytes
  EXPECT_EQ(truncate_utf8(text, 8), text);
  EXPECT_EQ(truncate_utf8(text, 7), "ab\xC3\xA9...");
  EXPECT_EQ(truncate_utf8(text, 6), "ab...");  // cutting at 3 would split the first é
}

TEST_F(PolicyTest, MalformedStatusIsRefused) {
  EXPECT_FALSE(parse_status(Json{{"cloud", Json::object()}}).ok());
  EXPECT_FALSE(parse_status(Json::array()).ok());
}

// Issue 13: devices Registration Pending for longer than usual are in the tooltip's counts and
// in the status text with their cause; a field of the wrong type makes the reply malformed.
TEST_F(PolicyTest, LongPendingDevicesAreShownWithTheirCause) {
  Json reply = status_reply(1, 0);
  reply["long_pending"] = 2;
  reply["long_pending_devices"] =
      Json::array({Json{{"serial", "PF1"},
                        {"pending_since", 1},
                        {"cause", "imported; no deployment profile assigned to group tag Sales"}},
                   Json{{"serial", "PF2"}, {"pending_since", 2}, {"cause", ""}}});
  const StatusSnapshot s = snapshot(reply);
  EXPECT_EQ(s.long_pending, 2);
  const std::string text = status_text(s);
  EXPECT_NE(text.find("Pending longer than usual: 2 device(s)\n  PF1: imported; no deployment "
                      "profile assigned to group tag Sales\n  PF2: cause not known yet"),
            std::string::npos)
      << text;
  // Among the pending, not counted twice (black-box round 10: "2 pending, ..., 2 pending too
  // long"), in the words status uses.
  EXPECT_NE(tooltip_text(s).find("2 pending (2 longer than usual)"), std::string::npos)
      << tooltip_text(s);
  EXPECT_EQ(tooltip_text(s).find("too long"), std::string::npos) << tooltip_text(s);
  reply["long_pending"] = "two";
  auto malformed = parse_status(reply);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message.find("\"long_pending\" must be an integer, got text"),
            std::string::npos)
      << malformed.error().message;
  reply["long_pending_devices"] = Json::array({Json("junk")});
  reply["long_pending"] = 2;
  EXPECT_FALSE(parse_status(reply).ok());
}

TEST_F(PolicyTest, StatusTextListsEveryState) {
  auto s = snapshot(status_reply(12, 3, false, true));
  s.cloud_error = "connection refused";
  const std::string text = status_text(s);
  EXPECT_NE(text.find("Cloud: offline (last error: connection refused)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Uploads: paused"), std::string::npos);
  EXPECT_NE(text.find("Ready for user: 12"), std::string::npos);
  EXPECT_NE(text.find("Registration failed: 3"), std::string::npos);
  EXPECT_NE(text.find("Inactive: 0"), std::string::npos);
  EXPECT_NE(text.find("Data directory: /var/lib/hangar"), std::string::npos);
}

TEST_F(PolicyTest, ASilentServiceCountsAsGoneAfterThreeHeartbeats) {
  connect();
  EXPECT_FALSE(cursor_.silent_too_long(clock_.steady_now()));
  clock_.advance(29s);
  EXPECT_FALSE(cursor_.silent_too_long(clock_.steady_now()));
  event({{"type", "heartbeat"}, {"seq", 100}});
  EXPECT_FALSE(model_.status_stale()) << "a heartbeat at our seq changes nothing";
  clock_.advance(29s);
  EXPECT_FALSE(cursor_.silent_too_long(clock_.steady_now())) << "the heartbeat reset the watchdog";
  clock_.advance(1s);
  EXPECT_TRUE(cursor_.silent_too_long(clock_.steady_now()));
  EXPECT_EQ(*cursor_.watchdog_deadline(), clock_.steady_now()) << "the last frame plus 30 s";
}

TEST_F(PolicyTest, AHeartbeatAheadOfUsRefreshesTheCounts) {
  connect(100);
  event({{"type", "heartbeat"}, {"seq", 104}});
  EXPECT_TRUE(model_.status_stale());
  EXPECT_EQ(cursor_.resume_seq(), 100);
}

TEST_F(PolicyTest, TheHeartbeatIntervalComesFromTheAcknowledgement) {
  subscribed({{"subscribed", true}, {"seq", 1}, {"heartbeat_ms", 1000}});
  clock_.advance(2999ms);
  EXPECT_FALSE(cursor_.silent_too_long(clock_.steady_now()));
  clock_.advance(1ms);
  EXPECT_TRUE(cursor_.silent_too_long(clock_.steady_now()));
}

TEST_F(PolicyTest, TheNextDeadlineIsTheNotificationWindowAndTheWatchdogIsTheStreams) {
  EXPECT_EQ(model_.next_deadline(), std::nullopt) << "offline and nothing pending";
  EXPECT_EQ(cursor_.watchdog_deadline(), std::nullopt) << "no watchdog while offline";
  connect();
  const auto start = clock_.steady_now();
  EXPECT_EQ(model_.next_deadline(), std::nullopt) << "nothing to notify";
  EXPECT_EQ(*cursor_.watchdog_deadline(), start + 30s) << "the stream's watchdog";
  event(change(101, "A", "ready_for_user"));
  EXPECT_EQ(*model_.next_deadline(), start + 3s) << "the notification window";
  disconnected("gone");
  EXPECT_EQ(*model_.next_deadline(), start + 3s) << "a pending notification is still shown";
  clock_.advance(3s);
  EXPECT_EQ(model_.take_notifications().size(), 1u);
  EXPECT_EQ(model_.next_deadline(), std::nullopt);
}

TEST_F(PolicyTest, ReconnectBacksOffFromOneToThirtySecondsAndResetsOnSuccess) {
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(disconnected("unavailable"));
  EXPECT_EQ(delays, (std::vector<std::chrono::milliseconds>{1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s}));
  EXPECT_EQ(model_.disconnect_reason(), "unavailable");
  connect();
  EXPECT_TRUE(model_.connected());
  EXPECT_EQ(disconnected("service restarted"), 1s);
}

TEST_F(PolicyTest, ZeroWindowNotifiesAtOnce) {
  TrayModel immediate(clock_, 0ms);
  ipc::EventCursor cursor;
  immediate.on_stream(
      cursor.on_subscribed({{"subscribed", true}, {"seq", 0}}, clock_.steady_now()));
  immediate.on_stream(cursor.on_frame(change(1, "A", "ready_for_user"), clock_.steady_now()));
  EXPECT_EQ(immediate.take_notifications().size(), 1u);
}

}  // namespace
}  // namespace hangar::tray
