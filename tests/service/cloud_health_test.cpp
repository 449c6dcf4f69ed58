// CloudHealth: every failed call logged at warn with its request id (offline stretches summed up),
// the last error with its time and its resolution, and request forms refused three passes running
// flagged once (error log, Event Log), avoided until the recheck, and cleared when accepted.
#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "hangar/cloud/http.h"
#include "hangar/cloud/registration.h"
#include "hangar/service/cloud_health.h"

namespace hangar::service {
namespace {

class Sink final : public EventSink {
 public:
  void write(const EventEntry& entry) override { entries.push_back(entry); }
  std::vector<EventEntry> entries;
};

core::Error answer(const char* code, int status, const std::string& request_id) {
  core::Error error = core::make_error(code, "GET https://graph.example/beta/x answered HTTP " +
                                                 std::to_string(status) + ": something");
  error.http_status = status;
  error.request_id = request_id;
  return error;
}

class CloudHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(200);
    ring_->set_pattern("[%l] %v");
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("health-test", ring_));
    spdlog::set_level(spdlog::level::debug);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() { return ring_->last_formatted(); }
  std::string all() {
    std::string text;
    for (const auto& line : lines()) text += line;
    return text;
  }

  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring_;
  std::shared_ptr<spdlog::logger> previous_;
  CloudHealth health_;
  Sink sink_;
};

TEST_F(CloudHealthTest, EveryFailureIsAWarningWithItsRequestIdAndTheLastErrorIsResolvedLater) {
  health_.failed(answer(cloud::kErrTransient, 503, "req-1"), 1000);
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_EQ(lines()[0].rfind("[warning] cloud call failed: GET", 0), 0u) << lines()[0];
  EXPECT_NE(lines()[0].find("(request id req-1)"), std::string::npos);
  LastCloudError last = health_.last_error();
  EXPECT_EQ(last.at, 1000);
  EXPECT_EQ(last.resolved_at, 0);
  EXPECT_NE(last.text.find("req-1"), std::string::npos);
  health_.succeeded(2000);
  health_.succeeded(3000);
  EXPECT_EQ(health_.last_error().resolved_at, 2000) << "the first success after it";
  health_.failed(answer(cloud::kErrThrottled, 429, "req-2"), 4000);
  EXPECT_EQ(health_.last_error().resolved_at, 0) << "a new failure is not resolved";
  health_.clear_last_error();
  EXPECT_EQ(health_.last_error().at, 0);
}

TEST_F(CloudHealthTest, WhileOfflineTheProbesAreSummedUpOnceAMinute) {
  const core::Error offline = core::make_error(cloud::kErrNetwork, "connection refused");
  for (int i = 0; i < 30; ++i) health_.failed(offline, 1000 + i * 5000);  // 145 s of probes
  std::size_t warnings = 0;
  for (const auto& line : lines()) warnings += line.rfind("[warning]", 0) == 0;
  EXPECT_EQ(warnings, 3u) << all();  // the first, then one a minute
  EXPECT_NE(all().find("cloud still unreachable: 13 calls failed in the last 60 s"),
            std::string::npos)
      << all();
  health_.succeeded(200'000);
  EXPECT_NE(lines().back().find("cloud reachable again after 30 failed call(s)"), std::string::npos)
      << lines().back();
}

TEST_F(CloudHealthTest, AFormRefusedThreePassesRunningIsFlaggedOnceAvoidedAndClearedWhenAccepted) {
  health_.set_event_sink(&sink_);
  const RequestForm& form = forms::kAutopilotByGroupTag;
  health_.begin_pass();
  EXPECT_EQ(health_.refused(form, answer(cloud::kErrTransient, 500, "r1"), 10), Refusal::kRefused);
  EXPECT_EQ(health_.refused(form, answer(cloud::kErrTransient, 500, "r1b"), 11), Refusal::kRefused)
      << "twice in one pass counts once";
  health_.begin_pass();
  EXPECT_EQ(health_.refused(form, answer(cloud::kErrRejected, 400, "r2"), 20), Refusal::kRefused);
  EXPECT_TRUE(health_.refused_requests().empty()) << "not yet: two passes";
  EXPECT_FALSE(health_.avoid(form, 21));
  health_.begin_pass();
  EXPECT_EQ(health_.refused(form, answer(cloud::kErrTransient, 500, "r3"), 30),
            Refusal::kPersistent);
  ASSERT_EQ(health_.refused_requests().size(), 1u);
  const RefusedRequest refused = health_.refused_requests()[0];
  EXPECT_EQ(refused.passes, 3);
  EXPECT_EQ(refused.since, 10);
  EXPECT_EQ(refused.request_id, "r3");
  EXPECT_NE(all().find("[error] the cloud has refused GET"), std::string::npos) << all();
  EXPECT_NE(all().find("request id r3"), std::string::npos);
  ASSERT_EQ(sink_.entries.size(), 1u);
  EXPECT_EQ(sink_.entries[0].id, EventId::kCloudRequestRefused);
  EXPECT_EQ(sink_.entries[0].strings.at(2), "500");
  EXPECT_EQ(health_.last_error().at, 30) << "the caller falls back: the refusal is the last error";

  // Avoided until the recheck, then asked again.
  EXPECT_TRUE(health_.avoid(form, 31));
  const std::int64_t recheck = std::chrono::milliseconds(CloudHealth::kRecheck).count();
  EXPECT_FALSE(health_.avoid(form, 30 + recheck));
  health_.begin_pass();
  EXPECT_EQ(health_.refused(form, answer(cloud::kErrTransient, 500, "r4"), 30 + recheck),
            Refusal::kPersistent);
  EXPECT_EQ(sink_.entries.size(), 1u) << "flagged once, not at every recheck";
  EXPECT_TRUE(health_.avoid(form, 31 + recheck));
  health_.accepted(form, 40 + recheck);
  EXPECT_TRUE(health_.refused_requests().empty());
  EXPECT_FALSE(health_.avoid(form, 41 + recheck));
  ASSERT_EQ(sink_.entries.size(), 2u);
  EXPECT_EQ(sink_.entries[1].id, EventId::kCloudRequestAccepted);
}

TEST_F(CloudHealthTest, ThrottlingBusyServersMissingObjectsAndTheNetworkAreNoRefusals) {
  const RequestForm& form = forms::kGroupMembers;
  for (int pass = 0; pass < 5; ++pass) {
    health_.begin_pass();
    EXPECT_EQ(health_.refused(form, answer(cloud::kErrThrottled, 429, "t"), pass), Refusal::kNone);
    EXPECT_EQ(health_.refused(form, answer(cloud::kErrTransient, 503, "b"), pass), Refusal::kNone);
    EXPECT_EQ(health_.refused(form, answer(cloud::kErrRejected, 404, "m"), pass), Refusal::kNone);
    EXPECT_EQ(health_.refused(form, core::make_error(cloud::kErrNetwork, "reset"), pass),
              Refusal::kNone);
  }
  EXPECT_TRUE(health_.refused_requests().empty());
  // A success between refusals starts the count again.
  for (int pass = 0; pass < 6; ++pass) {
    health_.begin_pass();
    EXPECT_NE(health_.refused(form, answer(cloud::kErrTransient, 500, "x"), pass),
              Refusal::kPersistent);
    if (pass % 2 == 1) health_.accepted(form, pass);
  }
  // Without a fallback the form is never avoided: the work that needs it keeps asking.
  for (int pass = 0; pass < 3; ++pass) {
    health_.begin_pass();
    (void)health_.refused(form, answer(cloud::kErrTransient, 500, "y"), 100 + pass);
  }
  EXPECT_EQ(health_.refused_requests().size(), 1u);
  EXPECT_FALSE(health_.avoid(form, 103));
}

}  // namespace
}  // namespace hangar::service
