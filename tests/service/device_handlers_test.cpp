// The queue commands' replies against a real store (issue 11, item 3): `list` pages end before a
// frame's limit whatever the rows hold, so `list` and `export` work even over rows stored before
// fields had limits; `show` keeps the newest history that fits; `import` refuses over-long fields
// row by row and an over-long expect_build.
#include <gtest/gtest.h>

#include "handlers.h"
#include "hangar/core/clock.h"
#include "hangar/core/hash_builder.h"
#include "hangar/ipc/dispatcher.h"
#include "hangar/ipc/frame.h"
#include "hangar/store/store.h"
#include "test_support.h"

namespace hangar::service {
namespace {

using ipc::Json;

class DeviceHandlers : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::open(dir_.path() / "hangar.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    context_ = std::make_unique<ServiceContext>(ServiceContext{*store_, clock_, clock_.steady_now(),
                                                               "test", dir_.path().string(),
                                                               nullptr, nullptr, nullptr});
    auto dispatcher = ipc::Dispatcher::create(make_bindings(*context_));
    ASSERT_TRUE(dispatcher.ok()) << dispatcher.error().message;
    dispatcher_ = std::make_unique<ipc::Dispatcher>(std::move(dispatcher).value());
  }

  // The serialized reply as the server would send it (dispatcher checks included).
  std::string call(const std::string& command, const Json& args) {
    ipc::Request request;
    request.id = 1;
    request.command = command;
    request.args = args;
    test::ScriptedStream stream({});
    stream.mutable_peer().is_admin = true;
    return dispatcher_->handle(ipc::serialize(request), stream);
  }

  // Rows written straight into the store, as an older Hangar without field limits let them in.
  void insert_legacy(int count, std::size_t field_bytes) {
    std::vector<store::NewDevice> devices;
    for (int i = 0; i < count; ++i) {
      store::NewDevice d;
      d.serial = "LEGACY" + std::to_string(i);
      d.manufacturer = std::string(field_bytes, 'm');
      d.model = std::string(field_bytes, 'x');
      d.hardware_hash = std::vector<std::uint8_t>(4000, static_cast<std::uint8_t>(i));
      d.profile = "standard";
      d.created_at = 1;
      devices.push_back(std::move(d));
    }
    auto inserted = store_->insert_devices(devices);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  }

  test::TempDir dir_;
  core::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ServiceContext> context_;
  std::unique_ptr<ipc::Dispatcher> dispatcher_;
};

TEST_F(DeviceHandlers, ListPagesStayUnderTheFrameLimitWhateverTheRowsHold) {
  // 60 rows of 400 KB each: 24 MB, three times what one frame may carry.
  insert_legacy(60, 200 * 1024);
  std::size_t seen = 0;
  int pages = 0;
  Json args{{"with_hash", true}};
  for (;;) {
    const std::string text = call("list", args);
    ASSERT_LE(text.size(), ipc::kDefaultMaxFrameSize);
    auto reply = ipc::parse_reply(text);
    ASSERT_TRUE(reply.ok());
    ASSERT_TRUE(reply->ok) << reply->error.message;
    seen += reply->result["devices"].size();
    ++pages;
    if (!reply->result.contains("next_after_id")) break;
    args["after_id"] = reply->result["next_after_id"];
    ASSERT_LT(pages, 100);
  }
  EXPECT_EQ(seen, 60u) << "every row, once";
  EXPECT_GE(pages, 3);
}

TEST_F(DeviceHandlers, ARowLargerThanAPageIsSentCutAndMarked) {
  insert_legacy(1, 6 * 1024 * 1024);  // 12 MB in one row: could never be sent whole
  auto reply = ipc::parse_reply(call("list", Json{{"with_hash", true}}));
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->ok) << reply->error.message;
  const Json& row = reply->result["devices"][0];
  EXPECT_EQ(row["serial"], "LEGACY0");
  EXPECT_TRUE(row.value("truncated", false));
  EXPECT_LT(row["model"].get<std::string>().size(), 5000u);
  auto shown = ipc::parse_reply(call("show", Json{{"serial", "LEGACY0"}}));
  ASSERT_TRUE(shown.ok());
  EXPECT_TRUE(shown->ok) << shown->error.message;
}

TEST_F(DeviceHandlers, ImportRefusesOverlongFieldsRowByRowAndALongExpectBuild) {
  Json devices = Json::array();
  devices.push_back({{"serial", "OK1"}, {"manufacturer", "Contoso"}, {"model", "Laptop 7"}});
  devices.push_back(
      {{"serial", "LONG1"}, {"manufacturer", std::string(300, 'm')}, {"model", "Laptop 7"}});
  devices.push_back({{"serial", std::string(5000, 's')}, {"manufacturer", "C"}, {"model", "M"}});
  auto reply = ipc::parse_reply(call("import", Json{{"devices", devices}}));
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->ok) << reply->error.message;
  const Json& results = reply->result["results"];
  EXPECT_EQ(results[0]["outcome"], "accepted");
  EXPECT_EQ(results[1]["outcome"], "invalid");
  EXPECT_NE(results[1]["reason"].get<std::string>().find("Manufacturer is 300 characters long"),
            std::string::npos)
      << results[1].dump();
  EXPECT_EQ(results[2]["outcome"], "invalid");
  EXPECT_LT(results[2]["serial"].get<std::string>().size(), 200u)
      << "the serial is not echoed whole";
  auto build = ipc::parse_reply(
      call("import", Json{{"devices", Json::array()}, {"expect_build", std::string(1000, '1')}}));
  ASSERT_TRUE(build.ok());
  EXPECT_EQ(build->error.code, ipc::errc::kInvalidArgument);
  EXPECT_NE(build->error.message.find("\"expect_build\""), std::string::npos);
}

TEST_F(DeviceHandlers, ListRefusesUnknownValuesQuotingThemShort) {
  // Under the 64 KiB a request's string may hold: the handler refuses it, quoting it short.
  auto reply = ipc::parse_reply(call("list", Json{{"state", std::string(60'000, 'q')}}));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error.code, ipc::errc::kInvalidArgument);
  EXPECT_LT(reply->error.message.size(), 400u);
  // Over it: the frame is refused before any handler sees it.
  auto longer = ipc::parse_reply(call("list", Json{{"state", std::string(100'000, 'q')}}));
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(longer->error.code, ipc::errc::kMalformedRequest);
  EXPECT_LT(longer->error.message.size(), 400u);
  auto typed = ipc::parse_reply(call("retry", Json{{"failed", "yes"}}));
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->error.code, ipc::errc::kInvalidArgument);
  EXPECT_NE(typed->error.message.find("\"failed\""), std::string::npos);
}

// Issue 13: a Get-WindowsAutoPilotInfo row (no make, no model) gets both from its hash, stored at
// import for the hand-off list; a user named at import is kept, not assigned (deliver does that,
// after the licence check).
TEST_F(DeviceHandlers, ImportStoresMakeAndModelFromTheHashAndDefersTheUser) {
  const std::string hash =
      core::HardwareHashBuilder::realistic("HH-1", "Fabrikam", "Tablet 9", "10.0.22631.2861")
          .build_base64();
  Json devices = Json::array();
  devices.push_back({{"serial", "HH-1"}, {"hash", hash}, {"assigned_user", "bob@contoso.com"}});
  auto reply = ipc::parse_reply(call("import", Json{{"devices", devices}}));
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->ok) << reply->error.message;
  const Json& result = reply->result["results"][0];
  ASSERT_EQ(result["outcome"], "accepted") << result.dump();
  EXPECT_EQ(result["user_deferred"], "bob@contoso.com");
  const auto device = store_->get_device("HH-1");
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->manufacturer, "Fabrikam");
  EXPECT_EQ(device->model, "Tablet 9");
  EXPECT_EQ(device->assigned_user, "bob@contoso.com");
}

TEST_F(DeviceHandlers, FailuresCarryTheSeedsAdviceAndRetryFailedSkipsPermanentOnes) {
  insert_legacy(4, 8);
  const std::int64_t now = clock_.now_ms();
  const auto fail = [&](const char* serial, const std::string& reason) {
    ASSERT_TRUE(store_
                    ->finish_registration(serial, core::DeviceState::kRegistrationFailed, reason,
                                          std::nullopt, std::nullopt, reason, now)
                    .ok());
  };
  fail("LEGACY0", "Device not found");
  fail("LEGACY1", "Device claimed by another organization");
  fail("LEGACY2", "Hardware hash not valid");
  fail("LEGACY3", "Unexpected error (Request ID: req-42)");

  auto shown = ipc::parse_reply(call("show", Json{{"serial", "LEGACY0"}}));
  ASSERT_TRUE(shown.ok() && shown->ok);
  EXPECT_EQ(shown->result["advice"],
            "No match was found for the manufacturer, model or serial number: confirm these "
            "values with your device supplier.");
  EXPECT_EQ(shown->result["permanent"], true);
  auto unexpected = ipc::parse_reply(call("show", Json{{"serial", "LEGACY3"}}));
  EXPECT_EQ(unexpected->result["advice"],
            "The request could not be processed automatically: contact Support and give them the "
            "Request ID.");

  // One serial named and not queued (a permanent failure): an error, not "0 queued" (attack
  // round 5, finding 9).
  auto named = ipc::parse_reply(call("retry", Json{{"serial", "LEGACY0"}}));
  ASSERT_TRUE(named.ok());
  EXPECT_FALSE(named->ok);
  EXPECT_EQ(named->error.code, "conflict");
  EXPECT_NE(named->error.message.find("`hangar retry LEGACY0 --force` queues it again"),
            std::string::npos)
      << named->error.message;

  auto retried = ipc::parse_reply(call("retry", Json{{"failed", true}}));
  ASSERT_TRUE(retried.ok() && retried->ok) << retried->error.message;
  EXPECT_EQ(retried->result["requeued"], 2);
  EXPECT_EQ(retried->result["skipped"], 2);
  ASSERT_EQ(retried->result["skipped_reasons"].size(), 2u) << retried->result.dump();
  EXPECT_EQ(retried->result["skipped_reasons"][0]["reason"],
            "Device claimed by another organization");
  EXPECT_EQ(retried->result["skipped_reasons"][0]["devices"], 1);
  EXPECT_NE(retried->result["skipped_reasons"][0]["advice"].get<std::string>().find(
                "check with your device supplier"),
            std::string::npos);
  EXPECT_EQ(store_->get_device("LEGACY2")->state, core::DeviceState::kQueued);
  EXPECT_EQ(store_->get_device("LEGACY0")->state, core::DeviceState::kRegistrationFailed);

  auto forced = ipc::parse_reply(call("retry", Json{{"failed", true}, {"force", true}}));
  ASSERT_TRUE(forced.ok() && forced->ok);
  EXPECT_EQ(forced->result["requeued"], 2);
  EXPECT_EQ(forced->result["skipped"], 0);
  EXPECT_EQ(store_->get_device("LEGACY0")->state, core::DeviceState::kQueued);
}

TEST_F(DeviceHandlers, StatusListAndShowFlagALongRegistrationPendingWithItsCause) {
  insert_legacy(2, 8);
  const std::int64_t now = clock_.now_ms();
  ASSERT_TRUE(
      store_->transition("LEGACY1", core::DeviceState::kRegistrationPending, "uploaded", now).ok());
  ASSERT_TRUE(store_
                  ->flag_long_pending("LEGACY1",
                                      "imported; no deployment profile assigned to "
                                      "group tag Sales",
                                      now + 1)
                  .ok());
  auto status = ipc::parse_reply(call("status", Json::object()));
  ASSERT_TRUE(status.ok() && status->ok);
  EXPECT_EQ(status->result["long_pending"], 1);
  ASSERT_EQ(status->result["long_pending_devices"].size(), 1u);
  EXPECT_EQ(status->result["long_pending_devices"][0]["serial"], "LEGACY1");
  EXPECT_EQ(status->result["long_pending_devices"][0]["cause"],
            "imported; no deployment profile assigned to group tag Sales");
  auto list = ipc::parse_reply(call("list", Json{{"state", "pending"}}));
  ASSERT_TRUE(list.ok() && list->ok);
  ASSERT_EQ(list->result["devices"].size(), 1u);
  EXPECT_EQ(list->result["devices"][0]["long_pending"], true);
  EXPECT_EQ(list->result["devices"][0]["pending_cause"],
            "imported; no deployment profile assigned to group tag Sales");
  auto other = ipc::parse_reply(call("show", Json{{"serial", "LEGACY0"}}));
  EXPECT_FALSE(other->result.contains("long_pending"));
}

TEST_F(DeviceHandlers, RemovingARegisteredDeviceSaysItStaysInAutopilotAndRemembersIt) {
  insert_legacy(2, 8);
  ASSERT_TRUE(
      store_->transition("LEGACY0", core::DeviceState::kReadyForUser, "registered", 5).ok());
  auto removed = ipc::parse_reply(call("remove", Json{{"serial", "LEGACY0"}}));
  ASSERT_TRUE(removed.ok() && removed->ok) << removed->error.message;
  EXPECT_EQ(removed->result["registered_in_autopilot"], true);
  auto queued = ipc::parse_reply(call("remove", Json{{"serial", "LEGACY1"}}));
  EXPECT_EQ(queued->result["registered_in_autopilot"], false);
  EXPECT_EQ(*store_->removed_serials(), (std::vector<std::string>{"legacy0", "legacy1"}));
  // deregister needs the cloud: without an engine it says so.
  auto deregister = ipc::parse_reply(call("deregister", Json{{"serial", "LEGACY0"}}));
  EXPECT_EQ(deregister->error.code, ipc::errc::kUnavailable);
}

// deliver's "user" (issue 13, finding 4): left out, it is the user the import named; given empty
// (or blank), it is a mistake said as one, never read as "left out" (before: an empty string
// delivered to the import's user).
TEST_F(DeviceHandlers, DeliverRefusesAnEmptyUserAndLeavingItOutMeansTheImportsUser) {
  store::NewDevice named;
  named.serial = "NAMED1";
  named.hardware_hash = std::vector<std::uint8_t>(64, 1);
  named.profile = "standard";
  named.assigned_user = "ana@contoso.com";
  named.created_at = 1;
  store::NewDevice unnamed = named;
  unnamed.serial = "UNNAMED1";
  unnamed.hardware_hash = std::vector<std::uint8_t>(64, 2);
  unnamed.assigned_user.reset();
  ASSERT_TRUE(store_->insert_devices(std::vector<store::NewDevice>{named, unnamed}).ok());
  for (const char* empty : {"", "  ", "\t\r\n"}) {
    auto reply = ipc::parse_reply(call("deliver", Json{{"serial", "NAMED1"}, {"user", empty}}));
    ASSERT_TRUE(reply.ok());
    EXPECT_FALSE(reply->ok);
    EXPECT_EQ(reply->error.code, ipc::errc::kInvalidArgument);
    EXPECT_EQ(reply->error.message, "user: empty; omit the field to use the user named at import");
  }
  // Left out: the import's user, checked and handed to the engine (none runs here).
  auto omitted = ipc::parse_reply(call("deliver", Json{{"serial", "NAMED1"}}));
  EXPECT_EQ(omitted->error.code, ipc::errc::kUnavailable) << omitted->error.message;
  auto no_user = ipc::parse_reply(call("deliver", Json{{"serial", "UNNAMED1"}}));
  EXPECT_EQ(no_user->error.code, ipc::errc::kInvalidArgument);
  EXPECT_NE(no_user->error.message.find("names no user"), std::string::npos);
  // A name with blanks around it is that name (the trim the CSV's cells and --user get).
  auto padded = ipc::parse_reply(
      call("deliver", Json{{"serial", "UNNAMED1"}, {"user", " bo@contoso.com\n"}}));
  EXPECT_EQ(padded->error.code, ipc::errc::kUnavailable) << padded->error.message;
}

// Black-box round, finding 1: a wait too short for any cloud call is refused, naming what was
// given and the least the service takes (the CLI refuses such a --timeout before it asks).
TEST_F(DeviceHandlers, AnOperatorWaitTooShortForACloudCallIsRefused) {
  auto reply = ipc::parse_reply(call("deregister", Json{{"serial", "S1"}, {"wait_ms", 500}}));
  ASSERT_TRUE(reply.ok());
  ASSERT_FALSE(reply->ok);
  EXPECT_EQ(reply->error.code, ipc::errc::kInvalidArgument);
  EXPECT_NE(reply->error.message.find("wait_ms 500 leaves no time for a cloud call; give at "
                                      "least 2000"),
            std::string::npos)
      << reply->error.message;
}

}  // namespace
}  // namespace hangar::service
