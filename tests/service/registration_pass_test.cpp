// The registration pass with its own fake (the import table and the tenant's Autopilot devices)
// and a fake clock: batching, Retry-After honoured from the answer's arrival, backoff on 5xx,
// offline probing without a busy loop, crash recovery by serial lookup, the fallbacks of refused
// request forms, and each import outcome in the seed's words.
#include <gtest/gtest.h>

#include "registration_pass_rig.h"

namespace hangar::service::test {
namespace {

core::Error http_failure(const char* code, int status, const std::string& request_id) {
  core::Error error = core::make_error(
      code, "GET https://graph.example/beta/... answered HTTP " + std::to_string(status) +
                ": InternalServerError: An internal server error has occurred");
  error.http_status = status;
  error.request_id = request_id;
  return error;
}

class RecordingSink final : public EventSink {
 public:
  void write(const EventEntry& entry) override { entries.push_back(entry); }
  std::vector<EventEntry> entries;
};

TEST_F(RegistrationPassTest, BatchesUploadPollAndFinishInTheSeedsWords) {
  queue("D", 23);
  cloud_.outcome["D3"] = "ZtdDeviceAssignedToOtherTenant";
  cloud_.outcome["D4"] = "ZtdDeviceAlreadyAssigned";
  start();
  // One import call per pass; the passes follow each other at once while work is due.
  EXPECT_EQ(step(), 0ms);
  EXPECT_EQ(step(), 0ms);
  EXPECT_EQ(step(), 30s);  // all sent: next is the poll
  EXPECT_EQ(cloud_.batch_sizes, (std::vector<std::size_t>{10, 10, 3}));
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 23);
  run_for(31s);
  // One pass: the import table listed once (three import calls, 23 records: one page), the
  // finished devices registered and their profiles confirmed in the same pass.
  EXPECT_EQ(cloud_.table_lists, 1);
  EXPECT_EQ(cloud_.record_gets, 0) << "one table list is cheaper than 23 GETs";
  EXPECT_EQ(cloud_.tag_lists, 1);  // one list per group tag confirms all 22
  EXPECT_EQ(store_->get_device("D0")->cloud_device_id, "ap-D0");
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 22);
  EXPECT_EQ(count(core::DeviceState::kRegistrationFailed), 1);
  EXPECT_EQ(store_->get_device("D3")->failure_reason, "Device claimed by another organization");
  // 806 is no error on a Ready device: the seed's "no further action required", in its history.
  EXPECT_EQ(store_->get_device("D4")->state, core::DeviceState::kReadyForUser);
  EXPECT_FALSE(store_->get_device("D4")->last_error.has_value());
  EXPECT_EQ(store_->history("D4")->back().reason,
            "already registered to your organization (ZtdDeviceAlreadyAssigned: Device already "
            "registered): no further action required; registered; deployment profile assigned "
            "(assignedInSync)");
  EXPECT_EQ(store_->history("D0")->back().reason,
            "registered; deployment profile assigned (assignedInSync)");
  EXPECT_EQ(cloud_.tag_lists, 1);
  EXPECT_EQ(cloud_.lookups, 1);  // D4 (806) only: is it really in the tenant?
  EXPECT_EQ(cloud_.deletes, 23);
  EXPECT_TRUE(cloud_.records.empty());
}

TEST_F(RegistrationPassTest, AnUnknownImportErrorShowsTheRequestIdOfThePollThatReportedIt) {
  queue("U", 1);
  cloud_.outcome["U0"] = "SomethingNew";
  start();
  run_for(31s);
  const auto device = store_->get_device("U0");
  EXPECT_EQ(device->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(device->failure_reason, "Unexpected error (Request ID: req-poll-U0)");
  EXPECT_EQ(device->request_id, "req-poll-U0");
}

TEST_F(RegistrationPassTest, ReadyForUserWaitsForTheDeploymentProfile) {
  queue("F", 3);
  cloud_.profile["F0"] = "pending";
  cloud_.profile["F1"] = "failed";
  cloud_.profile["F2"] = "notAssigned";
  config_.pending_threshold = 5min;
  start();
  run_for(2min);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 3);
  EXPECT_NE(store_->get_device("F1")->last_error->find("could not assign the deployment profile"),
            std::string::npos);
  EXPECT_FALSE(store_->get_device("F0")->last_error.has_value());
  cloud_.profile["F0"] = "assignedUnkownSyncState";
  cloud_.profile["F1"] = "assignedOutOfSync";
  run_for(31s);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 2);
  EXPECT_FALSE(store_->get_device("F1")->last_error.has_value())
      << "the old profile problem does not stay on a device that is Ready for user";
  // Still not assigned after the threshold: flagged as a long Registration Pending, once.
  run_for(5min);
  EXPECT_EQ(store_->get_device("F2")->state, core::DeviceState::kRegistrationPending);
  EXPECT_TRUE(store_->get_device("F2")->pending_flagged_at.has_value());
}

TEST_F(RegistrationPassTest, ADeviceWhoseTagWasChangedIsFoundBySerialAndRetagged) {
  queue("G", 2);
  // Someone else's tool re-tags G1 as soon as it is registered.
  cloud_.tenant["G1"].group_tag = "SomeoneElsesTag";
  start();
  run_for(31s);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 2);
  EXPECT_EQ(cloud_.tag_sets, 1);
  EXPECT_EQ(cloud_.tenant["G1"].group_tag, "Microsoft365Managed_Autopilot");
}

// Defect (issue 12): a Retry-After was counted from the start of the pass, so a slow answer's
// wait ended early by the time the call took, and the retry was throttled again.
TEST_F(RegistrationPassTest, RetryAfterCountsFromTheAnswersArrivalNotThePassStart) {
  queue("L", 1);
  cloud_.clock = &clock_;
  cloud_.latency = 300ms;
  cloud_.import_failures.push_back(throttled_for(7s));
  start();
  const std::int64_t started = clock_.now_ms();
  step();
  ASSERT_EQ(cloud_.import_calls, 1);
  cloud_.latency = 0ms;
  clock_.advance(std::chrono::milliseconds(started + 7000 - clock_.now_ms()));
  step();
  EXPECT_EQ(cloud_.import_calls, 1) << "sent 300 ms before the Retry-After ended";
  clock_.advance(300ms);
  step();
  EXPECT_EQ(cloud_.import_calls, 2);
}

// Defect (issue 12): a 429 on the tag write of confirm() was dropped: no block, the next device's
// write went out at once, and the device was declared Ready for user without its group tag.
TEST_F(RegistrationPassTest, AThrottledTagWriteWhileConfirmingHoldsEveryWriteAndTheDevice) {
  queue("H", 2);
  cloud_.tenant["H0"].group_tag = "SomeoneElsesTag";
  cloud_.tenant["H1"].group_tag = "SomeoneElsesTag";
  cloud_.tag_set_failures.push_back(throttled_for(30s));
  start();
  step();  // both uploaded
  clock_.advance(30s);
  step();  // polled: registered, confirmed; H0's tag write is throttled
  EXPECT_EQ(cloud_.tag_sets, 1) << "a second write went out inside the Retry-After";
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 0) << "Ready for user without the group tag";
  EXPECT_EQ(budget_->throttled(), 1);
  queue_profile("J0", "standard");
  const int imports = cloud_.import_calls;
  clock_.advance(10s);
  step();
  EXPECT_EQ(cloud_.import_calls, imports) << "an import went out inside the Retry-After";
  run_for(60s);
  EXPECT_EQ(cloud_.tenant["H0"].group_tag, "Microsoft365Managed_Autopilot");
  EXPECT_EQ(cloud_.tenant["H1"].group_tag, "Microsoft365Managed_Autopilot");
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 3);
}

TEST_F(RegistrationPassTest, ServerErrorsBackOffWithJitterUnderTheCap) {
  queue("S", 1);
  for (int i = 0; i < 6; ++i)
    cloud_.import_failures.push_back(core::make_error(cloud::kErrTransient, "503"));
  config_.backoff_base = 1s;
  config_.backoff_cap = 8s;
  start();
  run_for(60s);
  EXPECT_EQ(cloud_.import_calls, 7);  // six failures, then success
  EXPECT_EQ(
      count(core::DeviceState::kRegistrationPending) + count(core::DeviceState::kReadyForUser), 1);
  EXPECT_EQ(store_->get_device("S0")->attempts, 7);
}

TEST_F(RegistrationPassTest, OfflineProbesEveryFewSecondsAndResumesWhenTheNetworkReturns) {
  queue("N", 3);
  cloud_.offline = true;
  config_.offline_probe = 5s;
  start();
  run_for(60s);
  EXPECT_FALSE(budget_->online());
  // About one attempt per probe interval, never a busy loop: the first upload, then a look at the
  // import table for the devices it left in doubt (the request may have arrived) every 5 s.
  const int attempts = cloud_.import_calls + cloud_.lookups + cloud_.table_lists;
  EXPECT_LE(attempts, 14);
  EXPECT_GE(attempts, 11);
  EXPECT_EQ(count(core::DeviceState::kQueued), 3);
  cloud_.offline = false;
  run_for(6s);
  EXPECT_TRUE(budget_->online());
  EXPECT_EQ(count(core::DeviceState::kQueued), 0);
  // Each device reached the cloud once, although every offline attempt left it in doubt.
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
}

TEST_F(RegistrationPassTest, AfterACrashInDoubtDevicesAreLookedUpNotSentTwice) {
  queue("C", 4);
  {
    // The previous run claimed and sent C0 and C1, then died before recording the answer.
    auto claimed = store_->claim_upload_batch(clock_.now_ms(), 2);
    ASSERT_EQ(claimed->size(), 2u);
    std::vector<cloud::ImportItem> items{{"C0", "", "", "", ""}, {"C1", "", "", "", ""}};
    ASSERT_TRUE(cloud_.import_devices(items).ok());
  }
  start();
  run_for(61s);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 4);
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
}

TEST_F(RegistrationPassTest, ABadRecordIsIsolatedByHalvingTheBatch) {
  queue("H", 4);
  core::Error bad = core::make_error(
      cloud::kErrRejected, "Cannot convert the literal 'x' to the expected type 'Edm.Binary'");
  cloud::set_failure(bad, cloud::Failure::kInvalidHash);
  bad.request_id = "req-1";
  // Whole batch refused, then halves: [H0,H1] fine, [H2,H3] refused, H2 fine, H3 refused.
  cloud_.import_failures = {bad};
  start();
  step();
  EXPECT_EQ(cloud_.batch_sizes, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 4);
}

// Black-box round 9: an import request the cloud refuses as a whole (a 400 that no record
// explains) was halved down to single devices, 2N-1 write calls, and every device failed as
// "Unexpected error" with no word in `hangar status`. Two devices refused alone with nothing taken
// is the request itself: the rest is not sent, nobody fails, the batch waits, and three passes
// running make it a refusal that needs attention.
TEST_F(RegistrationPassTest, AnImportRequestRefusedWholeHoldsTheBatchAndFailsNobody) {
  queue("F", 16);
  config_.batch_size = 16;
  for (int i = 0; i < 400; ++i) {
    cloud_.import_failures.push_back(
        http_failure(cloud::kErrRejected, 400, "req-400-" + std::to_string(i)));
  }
  start();
  step();
  // [16] [8] [4] [2] [F0] [F1]: two alone, both refused, nothing taken; then F15 from the far
  // end, alone: refused too.
  EXPECT_EQ(cloud_.import_calls, 7) << "not 2N-1 = 31";
  EXPECT_EQ(count(core::DeviceState::kRegistrationFailed), 0);
  EXPECT_EQ(count(core::DeviceState::kQueued), 16);
  const auto held = store_->get_device("F0");
  EXPECT_NE(held->last_error.value_or("").find("the cloud refused the import request itself, "
                                               "not this device"),
            std::string::npos)
      << held->last_error.value_or("");
  EXPECT_NE(held->last_error.value_or("").find("req-400-6"), std::string::npos);

  run_for(30min);
  EXPECT_EQ(count(core::DeviceState::kRegistrationFailed), 0);
  const auto refusals = health_.refused_requests();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals.front().form_id, "imported.import");
  EXPECT_GE(refusals.front().passes, 3);
  EXPECT_LT(cloud_.import_calls, 7 * 20) << "each try waits on its backoff";

  // Taken again: everything registers and the refusal is over.
  cloud_.import_failures.clear();
  run_for(10min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 16);
  EXPECT_TRUE(health_.refused_requests().empty());
}

// Black-box round 10: a verified new secret left the queued devices waiting out the backoff the
// refused one had earned (next retry 5 minutes off). New credentials make every one due at once.
TEST_F(RegistrationPassTest, NewCredentialsMakeTheQueuedDevicesDueAtOnce) {
  queue("N", 3);
  start();
  const std::int64_t later = clock_.now_ms() + 5 * 60'000;
  ASSERT_TRUE(store_->claim_upload_batch(clock_.now_ms(), 10).ok());
  for (const char* serial : {"N0", "N1", "N2"}) {
    ASSERT_TRUE(
        store_
            ->release_upload(serial, later, true, "AADSTS7000215: invalid secret", clock_.now_ms())
            .ok());
  }
  step();
  EXPECT_EQ(cloud_.import_calls, 0) << "waiting out the backoff";
  pass_->credentials_changed(clock_.now_ms());
  step();
  EXPECT_EQ(cloud_.import_calls, 1);
  EXPECT_EQ(count(core::DeviceState::kQueued), 0) << "all three sent";
}

// Black-box round 11: a 500 to every import call was never more than a last error. Pass after
// pass it is the request refused: attention after three, over once a batch is taken.
TEST_F(RegistrationPassTest, AnImportAnswered500PassAfterPassNeedsAttention) {
  queue("P", 4);
  for (int i = 0; i < 200; ++i) {
    cloud_.import_failures.push_back(
        http_failure(cloud::kErrTransient, 500, "req-500-" + std::to_string(i)));
  }
  start();
  run_for(30min);
  EXPECT_EQ(count(core::DeviceState::kQueued), 4) << "nothing lost, nothing failed";
  const auto refusals = health_.refused_requests();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals.front().form_id, "imported.import");
  EXPECT_EQ(refusals.front().http_status, 500);
  cloud_.import_failures.clear();
  run_for(10min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 4);
  EXPECT_TRUE(health_.refused_requests().empty());
}

// Black-box round 12: the import refused whole for its first five calls only ([16] [8] [4] [2]
// [F0]) then taken: F0, refused alone before anything was taken, failed as Unexpected error
// though nothing was wrong with it. It is sent alone once more once a part was taken.
TEST_F(RegistrationPassTest, ADeviceRefusedAloneBeforeAnythingWasTakenIsSentOnceMore) {
  queue("E", 16);
  config_.batch_size = 16;
  for (int i = 0; i < 5; ++i) {
    cloud_.import_failures.push_back(
        http_failure(cloud::kErrRejected, 400, "req-400-" + std::to_string(i)));
  }
  start();
  step();
  EXPECT_EQ(count(core::DeviceState::kRegistrationFailed), 0);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 16);
  EXPECT_EQ(store_->get_device("E0")->state, core::DeviceState::kRegistrationPending);
  // [16] [8] [4] [2] [E0] refused; [E1] [E2 E3] [E4..E7] [E8..E15] taken; [E0] again.
  EXPECT_EQ(cloud_.import_calls, 10);
}

// A bad record refused alone before anything was taken is still its own fault: refused again
// when sent once more, it fails.
TEST_F(RegistrationPassTest, ABadRecordRefusedBeforeAnythingWasTakenStillFails) {
  queue("K", 8);
  config_.batch_size = 8;
  cloud_.refused_serials = {"K0"};
  start();
  step();
  EXPECT_EQ(store_->get_device("K0")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 7);
}

// Bad records among good ones are still found and fail alone: a part of the batch was taken.
TEST_F(RegistrationPassTest, BadRecordsAmongGoodOnesStillFailAlone) {
  queue("G", 8);
  config_.batch_size = 8;
  cloud_.refused_serials = {"G1", "G6"};
  start();
  step();
  EXPECT_EQ(count(core::DeviceState::kRegistrationFailed), 2);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 6);
  EXPECT_EQ(store_->get_device("G1")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(store_->get_device("G6")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_TRUE(health_.refused_requests().empty());
}

// Two bad records side by side at the batch's start look like a refused request, until the
// device at the far end is taken: they fail alone and the rest registers.
TEST_F(RegistrationPassTest, TwoBadRecordsSideBySideAreNotTakenForARefusedRequest) {
  queue("B", 8);
  config_.batch_size = 8;
  cloud_.refused_serials = {"B0", "B1"};
  start();
  step();
  EXPECT_EQ(store_->get_device("B0")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(store_->get_device("B1")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 6);
  EXPECT_EQ(count(core::DeviceState::kQueued), 0);
}

// Formerly a search of the message for "Edm.Binary": the cause the client classified decides
// between "Hardware hash not valid" and "Unexpected error", whatever the text says.
TEST_F(RegistrationPassTest, ARefusedHashFailsAsHashNotValidByItsCauseNotItsText) {
  queue("J", 2);
  core::Error hash =
      core::make_error(cloud::kErrRejected, "POST ... answered HTTP 400: BadRequest");
  cloud::set_failure(hash, cloud::Failure::kInvalidHash);
  core::Error other = core::make_error(
      cloud::kErrRejected, "POST ... answered HTTP 400: the text names 'Edm.Binary' by chance");
  cloud::set_failure(other, cloud::Failure::kRejected);
  config_.batch_size = 1;
  cloud_.import_failures = {hash, other};
  start();
  run_for(10s);
  EXPECT_EQ(count(core::DeviceState::kRegistrationFailed), 2);
  EXPECT_EQ(store_->get_device("J0")->failure_reason, "Hardware hash not valid");
  const std::string other_reason = store_->get_device("J1")->failure_reason.value_or("");
  EXPECT_EQ(other_reason.rfind("Unexpected error", 0), 0u) << other_reason;
}

TEST_F(RegistrationPassTest, ACutOffImportAnswerPutsTheBatchInDoubtAndItIsLookedUpNotSentAgain) {
  queue("K", 12);
  config_.batch_size = 6;
  cloud_.cut_off_answers = 2;  // both import calls were taken, their answers lost
  start();
  run_for(2min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 12);
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
  EXPECT_EQ(cloud_.imports_per_serial.size(), 12u);
}

TEST_F(RegistrationPassTest, ADeviceMissingFromAnImportAnswerIsLookedUpNotSentAgain) {
  queue("M", 3);
  cloud_.left_out = {"M1"};
  start();
  run_for(2min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 3);
  EXPECT_EQ(cloud_.imports_per_serial["M1"], 1);
}

TEST_F(RegistrationPassTest, RecoveryListsTheImportTableWhenTheSerialFilterIsRefused) {
  queue("R", 1);
  cloud_.cut_off_answers = 1;
  // One in-doubt device: one contains() lookup is cheaper than the table, but it is refused.
  cloud_.read_failures["for_serial"] = {http_failure(cloud::kErrRejected, 400, "req-400")};
  start();
  run_for(2min);
  EXPECT_EQ(cloud_.lookups, 1);
  EXPECT_GE(cloud_.table_lists, 1);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 1);
  EXPECT_EQ(cloud_.imports_per_serial["R0"], 1) << "found in the table, not imported again";
}

TEST_F(RegistrationPassTest,
       ARefusedFilterFallsBackAfterThreePassesNeedsAttentionAndIsRetriedLater) {
  queue("Z", 2);
  config_.poll_interval = 30s;
  for (int i = 0; i < 50; ++i) {
    cloud_.read_failures["tagged"].push_back(
        http_failure(cloud::kErrTransient, 500, "req-500-" + std::to_string(i)));
  }
  RecordingSink sink;
  start();
  health_.set_event_sink(&sink);
  run_for(20min);
  // Three passes refused, then every Autopilot device listed instead: Ready for user after all.
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 2);
  EXPECT_EQ(cloud_.tag_lists, 3) << "not asked again once refused three passes running";
  const auto refusals = health_.refused_requests();
  ASSERT_EQ(refusals.size(), 1u);
  const RefusedRequest& refused = refusals.front();
  EXPECT_EQ(refused.form_id, "autopilot.by_group_tag");
  EXPECT_EQ(refused.http_status, 500);
  EXPECT_EQ(refused.request_id, "req-500-2");
  EXPECT_EQ(refused.passes, 3);
  EXPECT_NE(refused.fallback.find("every Autopilot device"), std::string::npos);
  ASSERT_EQ(sink.entries.size(), 1u);
  EXPECT_EQ(sink.entries[0].id, EventId::kCloudRequestRefused);
  EXPECT_EQ(sink.entries[0].level, EventLevel::kError);
  EXPECT_EQ(sink.entries[0].strings.at(4), "req-500-2");
  // The last error names its time; the fallback's success resolved it.
  const LastCloudError last = health_.last_error();
  EXPECT_NE(last.text.find("req-500-2"), std::string::npos) << last.text;
  EXPECT_GT(last.at, 0);
  EXPECT_GE(last.resolved_at, last.at);

  // Six hours later the filter is asked again, and accepted: the problem is over.
  cloud_.read_failures["tagged"].clear();
  run_for(std::chrono::hours(6));
  queue_profile("Y0", "standard");
  run_for(2min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 3);
  EXPECT_GT(cloud_.tag_lists, 3);
  EXPECT_TRUE(health_.refused_requests().empty());
  ASSERT_EQ(sink.entries.size(), 2u);
  EXPECT_EQ(sink.entries[1].id, EventId::kCloudRequestAccepted);
}

TEST_F(RegistrationPassTest, ThrottlingIsNotARefusalOfTheForm) {
  queue("W", 1);
  for (int i = 0; i < 6; ++i) {
    core::Error throttled = http_failure(cloud::kErrThrottled, 429, "req-429");
    throttled.retry_after = 1s;
    cloud_.read_failures["tagged"].push_back(throttled);
  }
  start();
  run_for(10min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 1);
  EXPECT_TRUE(health_.refused_requests().empty());
  EXPECT_EQ(cloud_.all_lists, 0) << "a throttled filter is not replaced by the whole list";
}

TEST_F(RegistrationPassTest, AFewPendingRecordsInABigImportTableAreReadOneByOne) {
  queue("B", 2);
  cloud_.foreign_records = 4500;  // other tools' records: five pages
  cloud_.outcome["B0"] = "pending";
  cloud_.outcome["B1"] = "pending";
  start();
  run_for(31s);
  EXPECT_EQ(cloud_.table_lists, 1) << "the first poll learns how big the table is";
  EXPECT_EQ(cloud_.record_gets, 0);
  run_for(61s);
  EXPECT_EQ(cloud_.table_lists, 1);
  // Polls at 60, 90 and 120 s, two GETs each: cheaper than five pages each.
  EXPECT_EQ(cloud_.record_gets, 6);
  cloud_.outcome.clear();
  run_for(31s);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 2);
}

TEST_F(RegistrationPassTest, PendingTooLongIsFlaggedWithItsCauseThenFailsAndCanBeRetried) {
  queue("P", 2);
  cloud_.profile["P0"] = "notAssigned";  // imported, but no profile for its group
  cloud_.outcome["P1"] = "pending";      // Intune never gets to the import
  config_.pending_threshold = 30min;
  config_.pending_limit = 2h;
  start();
  run_for(29min);
  EXPECT_FALSE(store_->get_device("P0")->pending_flagged_at.has_value()) << "not yet";
  EXPECT_EQ(store_->long_pending(5)->first, 0);
  run_for(2min);
  const auto p0 = store_->get_device("P0");
  EXPECT_EQ(p0->state, core::DeviceState::kRegistrationPending);
  ASSERT_TRUE(p0->pending_flagged_at.has_value());
  EXPECT_EQ(p0->pending_cause,
            "imported; no deployment profile assigned to group tag Microsoft365Managed_Autopilot");
  EXPECT_EQ(store_->get_device("P1")->pending_cause,
            "Intune has not started on the import yet (deviceImportStatus unknown)");
  const auto flagged = store_->long_pending(1);
  EXPECT_EQ(flagged->first, 2);
  ASSERT_EQ(flagged->second.size(), 1u);
  // The flag is set once and keeps its time; the cause follows what the cloud says.
  const std::int64_t flagged_at = *p0->pending_flagged_at;
  cloud_.profile["P0"] = "pending";
  run_for(5min);
  EXPECT_EQ(store_->get_device("P0")->pending_flagged_at, flagged_at);
  EXPECT_EQ(store_->get_device("P0")->pending_cause,
            "imported; the deployment profile for group tag Microsoft365Managed_Autopilot is not "
            "assigned yet (deploymentProfileAssignmentStatus pending)");
  cloud_.profile["P0"] = "notAssigned";
  // Past the limit: Registration failed with the cause, and our import record is deleted.
  run_for(90min);
  const auto failed = store_->get_device("P0");
  EXPECT_EQ(failed->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(failed->failure_reason,
            "Registration Pending for over 2 hours: imported; no deployment profile assigned to "
            "group tag Microsoft365Managed_Autopilot; fix that, then retry it (hangar retry P0) "
            "or remove it");
  EXPECT_FALSE(failed->pending_flagged_at.has_value());
  EXPECT_EQ(store_->get_device("P1")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_FALSE(cloud_.records.contains("rec-P1-1")) << "the abandoned import record is deleted";
  EXPECT_EQ(store_->long_pending(5)->first, 0);
  // Fixed in the tenant (a profile assigned to the group): retried, it is Ready for user.
  cloud_.profile["P0"] = "assignedInSync";
  ASSERT_EQ(*store_->retry_failed(std::string("P0"), clock_.now_ms()), 1);
  run_for(2min);
  EXPECT_EQ(store_->get_device("P0")->state, core::DeviceState::kReadyForUser);
}

// Attack round 3, finding 2: a DELETE of our own import record that keeps failing (500) backs
// off on its own: it never blocks the Intune lane uploads and operator commands share, is never
// called throttling, and is reported as what it is, with its request id.
TEST_F(RegistrationPassTest, FailingHousekeepingDeletesBackOffAloneAndNeverHoldUploads) {
  queue("H", 3);
  cloud_.delete_failures.assign(1000, http_failure(cloud::kErrTransient, 500, "req-del-500"));
  start();
  step();  // uploaded
  clock_.advance(30s);
  step();  // polled: registered, Ready for user, and the DELETEs of the records fail
  ASSERT_EQ(count(core::DeviceState::kReadyForUser), 3);
  ASSERT_GT(cloud_.deletes, 0);
  const std::int64_t now = clock_.now_ms();
  EXPECT_LE(budget_->blocked_until(Lane::kIntune), now) << "a DELETE's 500 holds no lane";
  EXPECT_EQ(budget_->wait_ms(Lane::kIntune, CallKind::kWrite), 0);
  EXPECT_EQ(budget_->throttled_until(Lane::kIntune), 0);
  // New devices go out at once, whatever the housekeeping meets.
  queue_profile("NEW-1", "standard");
  const int calls = cloud_.import_calls;
  step();
  EXPECT_EQ(cloud_.import_calls, calls + 1);
  EXPECT_EQ(count(core::DeviceState::kRegistrationPending), 1);

  run_for(15min);
  EXPECT_EQ(count(core::DeviceState::kReadyForUser), 4);
  EXPECT_EQ(budget_->throttled_until(Lane::kIntune), 0) << "no 429 ever came";
  const auto attention = health_.refused_requests();
  ASSERT_EQ(attention.size(), 1u);
  EXPECT_EQ(attention[0].form_id, "imported.delete");
  EXPECT_EQ(attention[0].http_status, 500);
  EXPECT_EQ(attention[0].request_id, "req-del-500");
  EXPECT_LT(cloud_.deletes, 4 * 40) << "each record backs off on its own";
  // The cloud accepts the DELETEs again: every record goes.
  cloud_.delete_failures.clear();
  run_for(10min);
  EXPECT_TRUE(cloud_.records.empty());
}

// Black-box round 9: a housekeeping DELETE whose connection dropped after it was sent put the whole
// cloud "offline" (status, the tray, refresh and sync), while every other call worked. The cloud
// was reached: the record backs off on its own, and the cloud stays online.
TEST_F(RegistrationPassTest, ADroppedHousekeepingDeleteLeavesTheCloudOnline) {
  queue("D", 2);
  cloud_.delete_failures.assign(
      1000, core::make_error(cloud::kErrNetwork,
                             "DELETE .../importedWindowsAutopilotDeviceIdentities/x: Failed to "
                             "read response body"));
  start();
  step();  // uploaded
  clock_.advance(30s);
  step();  // polled: Ready for user; the DELETEs' connections drop
  ASSERT_EQ(count(core::DeviceState::kReadyForUser), 2);
  ASSERT_GT(cloud_.deletes, 0);
  EXPECT_TRUE(budget_->online()) << "the cloud answered every other call";
  EXPECT_LE(budget_->blocked_until(Lane::kIntune), clock_.now_ms());
  queue_profile("NEW-1", "standard");
  const int calls = cloud_.import_calls;
  step();
  EXPECT_EQ(cloud_.import_calls, calls + 1) << "uploads go on at once";
  cloud_.delete_failures.clear();
  run_for(10min);
  EXPECT_TRUE(cloud_.records.empty()) << "each record is deleted once the DELETEs are answered";
}

// Attack round 3, finding 1: a device whose upload is in flight cannot be removed, forced or not:
// the cloud may be registering it, and its import record would be left behind.
TEST_F(RegistrationPassTest, AnUploadInFlightCannotBeRemovedForcedOrNot) {
  queue("Q", 1);
  start();
  ASSERT_EQ(store_->claim_upload_batch(clock_.now_ms(), 10)->size(), 1u);  // the POST is on its way
  for (const bool force : {false, true}) {
    auto removed = store_->remove_device("Q0", force, clock_.now_ms());
    ASSERT_FALSE(removed.ok());
    EXPECT_EQ(removed.error().code, "conflict");
    EXPECT_NE(removed.error().message.find("is being uploaded right now"), std::string::npos)
        << removed.error().message;
  }
  auto withdrawn = pass_->withdraw("Q0", clock_.now_ms());
  ASSERT_FALSE(withdrawn.ok());
  EXPECT_EQ(withdrawn.error().code, "conflict");
  EXPECT_TRUE(store_->removed_serials()->empty());
}

// An import that certainly never left (the token, the name, the connection or the TLS handshake
// failed first) is not in doubt: the batch goes back to the queue until the offline probe, nothing
// is looked up, and `remove` works on its devices while the cloud is out of reach (an admin in an
// offline staging room). Formerly they were held in flight until the cloud answered again.
TEST_F(RegistrationPassTest, ANeverSentImportGoesBackToTheQueueAndItsDevicesCanBeRemovedOffline) {
  queue("V", 3);
  config_.offline_probe = 5s;
  core::Error unsent = core::make_error(
      cloud::kErrNetwork,
      "POST https://graph.example/beta/.../import: Failed to connect to any resolved endpoint");
  cloud::set_failure(unsent, cloud::Failure::kNotSent);
  cloud_.import_failures = {unsent, unsent};
  start();
  step();
  EXPECT_EQ(cloud_.import_calls, 1);
  EXPECT_FALSE(budget_->online()) << "still offline: it is a network failure";
  EXPECT_EQ(count(core::DeviceState::kQueued), 3);
  EXPECT_TRUE(store_->in_doubt_devices()->empty()) << "none in flight";
  EXPECT_NE(store_->get_device("V1")->last_error.value_or("").find("Failed to connect"),
            std::string::npos);

  auto removed = pass_->withdraw("V0", clock_.now_ms());
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_FALSE(store_->get_device("V0").ok());

  step();  // within the offline wait: not sent again at once
  EXPECT_EQ(cloud_.import_calls, 1);
  run_for(30s);
  EXPECT_EQ(cloud_.lookups + cloud_.table_lists, 0) << "nothing was in doubt";
  EXPECT_EQ(count(core::DeviceState::kQueued), 0);
  EXPECT_EQ(
      count(core::DeviceState::kRegistrationPending) + count(core::DeviceState::kReadyForUser), 2);
  EXPECT_FALSE(cloud_.imports_per_serial.contains("V0"));
  for (const auto& [serial, n] : cloud_.imports_per_serial) EXPECT_EQ(n, 1) << serial;
}

// Attack round 3, finding 1: `remove --force` of a Registration Pending device asks the cloud
// first. An import that finished means the device is registered in Autopilot: it is kept as
// registered and the admin pointed at deregister; one still in progress has its record deleted
// and the device goes, with nothing left in the cloud.
TEST_F(RegistrationPassTest, RemoveForceAsksTheCloudAndNeverLeavesARegistrationBehind) {
  queue("W", 2);
  cloud_.outcome["W1"] = "pending";
  start();
  step();  // both uploaded; not polled yet
  ASSERT_EQ(count(core::DeviceState::kRegistrationPending), 2);

  auto kept = pass_->withdraw("W0", clock_.now_ms());
  ASSERT_FALSE(kept.ok());
  EXPECT_EQ(kept.error().code, "conflict");
  EXPECT_NE(kept.error().message.find("registered in Windows Autopilot already"), std::string::npos)
      << kept.error().message;
  EXPECT_NE(kept.error().message.find("hangar deregister W0"), std::string::npos);
  const auto w0 = store_->get_device("W0");
  ASSERT_TRUE(w0.ok()) << "kept";
  EXPECT_EQ(w0->cloud_device_id, "ap-W0");
  EXPECT_FALSE(w0->import_record_id);
  EXPECT_TRUE(store_->removed_serials()->empty());

  cloud_.absent.insert("W1");
  auto gone = pass_->withdraw("W1", clock_.now_ms());
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_EQ(gone->import_record_deleted, "rec-W1-1");
  EXPECT_FALSE(cloud_.records.contains("rec-W1-1"));
  EXPECT_FALSE(store_->get_device("W1").ok());
  EXPECT_EQ(*store_->removed_serials(), std::vector<std::string>{"w1"});

  // W0 goes on to Ready for user (it is registered), and its finished record is deleted.
  run_for(31s);
  EXPECT_EQ(store_->get_device("W0")->state, core::DeviceState::kReadyForUser);
  EXPECT_TRUE(cloud_.records.empty());
}

// Attack round 5, finding 4: the delete of the import record reached the cloud but its answer was
// lost: told as "it may have been done", with the command to run again; the re-run completes.
TEST_F(RegistrationPassTest, RemoveForceWhoseDeleteAnswerWasLostIsInDoubtAndTheReRunCompletes) {
  queue("L", 1);
  cloud_.outcome["L0"] = "pending";
  cloud_.absent.insert("L0");
  cloud_.lost_delete_answers = 1;
  start();
  step();
  ASSERT_EQ(count(core::DeviceState::kRegistrationPending), 1);
  auto lost = pass_->withdraw("L0", clock_.now_ms());
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, cloud::kErrInDoubt);
  EXPECT_NE(
      lost.error().message.find("it may have been done; run `hangar remove L0 --force` again"),
      std::string::npos)
      << lost.error().message;
  EXPECT_NE(store_->get_device("L0")->last_error.value_or("").find("answer was lost"),
            std::string::npos);
  clock_.advance(10s);  // the lost answer looked like an outage: the cloud is probed again first
  auto again = pass_->withdraw("L0", clock_.now_ms());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(store_->get_device("L0").ok());
  EXPECT_EQ(*store_->removed_serials(), std::vector<std::string>{"l0"});
}

}  // namespace
}  // namespace hangar::service::test
