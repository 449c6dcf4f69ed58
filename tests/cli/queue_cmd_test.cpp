// `hangar list/export/watch/sync` in-process against a fake service over the real transport
// (attack finding 07): an unknown state is a usage error naming the accepted ones, every
// reasonable spelling reaches the service as the state's key, a refused `sync` names `sync`, and
// the list's columns stay aligned with make and model read from the hash.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <sstream>

#include "cli_common.h"
#include "cli_service_test.h"
#include "hangar/core/hash_builder.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/messages/device.h"
#include "hangar/ipc/messages/queue.h"
#include "hangar/ipc/messages/status.h"
#include "hangar/ipc/protocol.h"
#include "list_view.h"
#include "test_support.h"

namespace hangar::cli {
namespace {

using Json = nlohmann::json;

class QueueCmdTest : public CliServiceTest {
 protected:
  // A fake service: `list` answers `devices_`, `status` an empty status, deliver, remove and
  // deregister the typed replies for the serial asked, `refresh` refuses as the dispatcher does
  // for a read-only caller, everything else answers an empty object.
  void start_service() {
    CliServiceTest::start_service(
        [this](const std::string& name, const Json& args) -> core::Result<Json> {
          {
            std::lock_guard lock(errors_mutex_);
            if (auto error = errors_.find(name); error != errors_.end()) return error->second;
          }
          if (name == "list") return Json{{"devices", devices_}};
          if (name == "status") return status_;
          const std::string serial = args.value("serial", "");
          if (name == "deliver") {
            ipc::msg::Device device;
            device.serial = serial;
            device.state = core::DeviceState::kReadyForUser;
            device.state_display = "Ready for user";
            device.delivered_to = args.value("user", "");
            return device.to_json();
          }
          if (name == "remove") {
            return ipc::msg::RemoveReply{serial, core::DeviceState::kQueued, false, std::nullopt}
                .to_json();
          }
          if (name == "deregister") {
            return ipc::msg::DeregisterReply{serial, "ap-1", std::nullopt}.to_json();
          }
          if (name == "refresh") {
            return core::make_error(ipc::errc::kPermissionDenied,
                                    "\"refresh\" changes the queue and uid 995 (reader) is not "
                                    "allowed to; run it as an administrator or a member of the "
                                    "Hangar operators group");
          }
          return Json::object();
        });
  }

  // `command` answers this error from now on.
  void answer_error(const std::string& command, const std::string& code,
                    const std::string& message) {
    std::lock_guard lock(errors_mutex_);
    errors_[command] = core::make_error(code, message);
  }

  std::mutex errors_mutex_;
  std::map<std::string, core::Error> errors_;  // under errors_mutex_
  Json devices_ = Json::array();
  Json status_ = ipc::msg::StatusReply{}.to_json();
};

TEST_F(QueueCmdTest, AnUnknownStateIsAUsageErrorNamingTheAcceptedOnes) {
  start_service();
  const std::vector<std::vector<std::string>> commands{
      {"list", "--state", "readyish"},
      {"export", "--format", "json", "--state", "readyish"},
      {"watch", "--state", "readyish"}};
  for (const auto& args : commands) {
    EXPECT_EQ(run(args), kUsage) << args[0] << ": " << err_.str();
    EXPECT_NE(err_.str().find("unknown state \"readyish\"; use queued, registration-pending "
                              "(pending), registration-failed (failed), ready-for-user (ready), "
                              "active or inactive"),
              std::string::npos)
        << args[0] << ": " << err_.str();
  }
  EXPECT_TRUE(requests_named("list").empty()) << "a usage error reaches no service";
  EXPECT_EQ(run({"list", "--profile", "gamer"}), kUsage) << err_.str();
  EXPECT_NE(err_.str().find("unknown profile \"gamer\""), std::string::npos) << err_.str();
}

TEST_F(QueueCmdTest, EveryReasonableSpellingReachesTheServiceAsTheStateKey) {
  start_service();
  const std::vector<std::pair<std::string, std::string>> spellings{
      {"ready", "ready_for_user"},          {"Ready for user", "ready_for_user"},
      {"ready_for_user", "ready_for_user"}, {"ready-for-user", "ready_for_user"},
      {"failed", "registration_failed"},    {"registration-failed", "registration_failed"},
      {"pending", "registration_pending"},  {"Queued", "queued"}};
  for (const auto& [typed, key] : spellings) {
    EXPECT_EQ(run({"list", "--state", typed}), kOk) << typed << ": " << err_.str();
    const auto sent = requests_named("list");
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent.back().value("state", ""), key) << typed;
  }
  EXPECT_EQ(run({"export", "--format", "json", "--state", "ready"}), kOk) << err_.str();
  EXPECT_EQ(requests_named("list").back().value("state", ""), "ready_for_user");
}

TEST_F(QueueCmdTest, ARefusedSyncNamesSyncNotTheRequestBehindIt) {
  start_service();
  EXPECT_EQ(run({"sync", "--no-wait"}), kFailed);
  const std::string said = out_.str() + err_.str();
  EXPECT_NE(said.find("\"sync\" changes the queue and uid 995 (reader) is not allowed to"),
            std::string::npos)
      << said;
  EXPECT_EQ(said.find("refresh"), std::string::npos) << said;
  // `refresh` itself is still called refresh.
  EXPECT_EQ(run({"refresh", "--no-wait"}), kFailed);
  EXPECT_NE(err_.str().find("\"refresh\" changes the queue"), std::string::npos) << err_.str();
}

TEST_F(QueueCmdTest, ListColumnsStayAlignedAndMakeAndModelComeFromTheHash) {
  const std::string hash =
      core::HardwareHashBuilder::realistic("OTHER-0001", "Contoso Ltd", "Laptop 7").build_base64();
  // Rows as the service builds them (ipc::msg::Device): every required field is there.
  ipc::msg::Device failed;
  failed.id = 1;
  failed.serial = "OTHER-0001";
  failed.state = core::DeviceState::kRegistrationFailed;
  failed.state_display = "Registration failed";
  failed.profile = "standard";
  failed.state_changed_at = 1796175916339;
  failed.has_hash = true;
  failed.hash = hash;
  failed.failure_reason = "Device claimed by another organization";
  ipc::msg::Device queued;
  queued.id = 2;
  queued.serial = "PARTNER-1";
  queued.state_display = "Queued";
  queued.profile = "power-user";
  queued.state_changed_at = 1796175916339;
  queued.manufacturer = "Fabrikam";
  queued.model = "Tablet Pro 12";
  devices_ = Json::array({failed.to_json(), queued.to_json()});
  start_service();
  // Not a terminal: 80 columns, values shortened with an ellipsis, the serial and time whole.
  ASSERT_EQ(run({"list"}), kOk) << err_.str();
  {
    std::istringstream narrow(out_.str());
    for (std::string line; std::getline(narrow, line);) {
      std::size_t columns = 0;
      for (const char c : line) columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      EXPECT_LE(columns, 80u) << line;
    }
    EXPECT_NE(out_.str().find("OTHER-0001  Registr"), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find(std::string(cli::ellipsis())), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("PARTNER-1 "), std::string::npos) << out_.str();
    EXPECT_EQ(out_.str().find("Device claimed by another organization"), std::string::npos)
        << out_.str();
  }
  // --wide: every value in full, in aligned columns.
  out_.str("");
  ASSERT_EQ(run({"list", "--wide"}), kOk) << err_.str();
  EXPECT_TRUE(requests_named("list").back().value("with_hash", false))
      << "the table asks for the hashes it reads make and model from";
  std::istringstream lines(out_.str());
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  const auto manufacturer = header.find("MANUFACTURER");
  const auto model = header.find("MODEL");
  const auto reason = header.find("FAILURE REASON");
  ASSERT_NE(manufacturer, std::string::npos) << out_.str();
  ASSERT_NE(reason, std::string::npos) << out_.str();
  EXPECT_EQ(first.find("Contoso Ltd"), manufacturer) << out_.str();
  EXPECT_EQ(first.find("Laptop 7"), model) << out_.str();
  EXPECT_EQ(first.find("Device claimed by another organization"), reason) << out_.str();
  EXPECT_EQ(second.find("Fabrikam"), manufacturer) << out_.str();
  EXPECT_EQ(second.find("Tablet Pro 12"), model) << out_.str();
  EXPECT_NE(out_.str().find("2 device(s)"), std::string::npos);

  // --json prints the rows as the service sent them, without asking for hashes.
  ASSERT_EQ(run({"--json", "list"}), kOk);
  EXPECT_FALSE(requests_named("list").back().value("with_hash", false));
}

// A reply that is not the message (an older or broken service) is a clear error naming the field,
// exit 1: never a crash, never a zero printed for a missing count.
TEST_F(QueueCmdTest, AMalformedReplyIsAClearErrorNamingTheField) {
  status_["cloud"] = Json::object();
  status_.erase("queue_depth");
  start_service();
  EXPECT_EQ(run({"status"}), kFailed);
  EXPECT_NE(err_.str().find("the status reply is malformed: field \"queue_depth\" is missing"),
            std::string::npos)
      << err_.str();
  status_["queue_depth"] = "3";
  EXPECT_EQ(run({"--json", "status"}), kFailed);
  EXPECT_NE(out_.str().find("malformed_reply"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("queue_depth\\\" must be an integer, got text"), std::string::npos)
      << out_.str();
  // A list row without its state: named with its place in the page.
  ipc::msg::Device row;
  row.serial = "PF1";
  row.state_display = "Queued";
  Json bad = row.to_json();
  bad.erase("state");
  devices_ = Json::array({row.to_json(), bad});
  EXPECT_EQ(run({"list"}), kFailed);
  EXPECT_NE(err_.str().find("field \"devices[1].state\" is missing"), std::string::npos)
      << err_.str();
}

TEST(UntrustedServerAdvice, NamesWhoServesItAndNeverSuggestsTrustingThem) {
  const std::string advice = untrusted_server_advice(
      "refusing to talk to /tmp/x/h.sock: it is served by uid 994 (atkout), which is neither "
      "root, you, nor the service's account \"hangar\"; nothing was sent");
  EXPECT_NE(advice.find("served by uid 994 (atkout)"), std::string::npos) << advice;
  EXPECT_NE(advice.find("impostor"), std::string::npos) << advice;
  EXPECT_NE(advice.find("only if uid 994 (atkout) really is the dedicated account"),
            std::string::npos)
      << advice;
  const std::string windows = untrusted_server_advice(
      "refusing to talk to \\\\.\\pipe\\hangar: it is served by PC\\mallory (process 4242), not by "
      "LocalSystem, the Hangar service or you; nothing was sent");
  EXPECT_NE(windows.find("served by PC\\mallory, which"), std::string::npos) << windows;
  const std::string moved = untrusted_server_advice(
      "refusing to talk to /tmp/x/h.sock: its directory /tmp/x belongs to uid 994 (atkout), but "
      "the server runs as uid 0 (root); nothing was sent");
  EXPECT_NE(moved.find("impostor"), std::string::npos) << moved;
  EXPECT_EQ(moved.find("HANGAR_SERVICE_ACCOUNT"), std::string::npos) << moved;
}

// Attack round 3, finding 5: the portal's CSV carries a user only once `deliver` checked the
// licences and assigned it; a user an import named (never checked) stays out of the export.
TEST_F(QueueCmdTest, ExportCsvCarriesOnlyTheDeliveredUser) {
  const auto hash_of = [](const std::string& serial) {
    return core::HardwareHashBuilder::realistic(serial, "Contoso Ltd", "Laptop 7").build_base64();
  };
  const auto row = [&](const std::string& serial) {
    ipc::msg::Device device;
    device.serial = serial;
    device.state = core::DeviceState::kReadyForUser;
    device.state_display = "Ready for user";
    device.has_hash = true;
    device.hash = hash_of(serial);
    device.assigned_user = "bob@contoso.com";
    return device;
  };
  ipc::msg::Device delivered = row("DELIVERED-1");
  delivered.delivered_to = "ada@contoso.com";
  devices_ = Json::array({row("UNCHECKED-1").to_json(), delivered.to_json()});
  start_service();
  ASSERT_EQ(run({"export", "--format", "csv"}), kOk) << err_.str();
  const std::string csv = out_.str();
  EXPECT_EQ(csv.find("bob@contoso.com"), std::string::npos) << csv;
  EXPECT_NE(csv.find("DELIVERED-1,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",ada@contoso.com"), std::string::npos) << csv;
  ASSERT_EQ(run({"export", "--help"}), kOk);
  EXPECT_NE(out_.str().find("empty for devices not delivered"), std::string::npos) << out_.str();
}

// Attack round 3, finding 4: the commands that may wait for the cloud tell the service how long
// the CLI waits, less a margin, so the service's answer ("try again in N s") arrives first.
TEST_F(QueueCmdTest, OperatorCommandsTellTheServiceHowLongTheCliWaits) {
  start_service();
  ASSERT_EQ(run({"--timeout", "20", "deliver", "S1", "--user", "ada@contoso.com"}), kOk)
      << err_.str();
  ASSERT_EQ(run({"deregister", "S1", "--yes"}), kOk) << err_.str();
  ASSERT_EQ(run({"--timeout", "8", "remove", "S1", "--force"}), kOk) << err_.str();
  ASSERT_EQ(requests_named("deliver").size(), 1u);
  EXPECT_EQ(requests_named("deliver").back().value("wait_ms", 0), 15'000);
  EXPECT_EQ(requests_named("deregister").back().value("wait_ms", 0), 25'000);  // --timeout 30
  EXPECT_EQ(requests_named("remove").back().value("wait_ms", 0), 5'000);  // 3 s margin at least
}

// Black-box round, finding 1: a --timeout too short for any cloud call is a usage error (exit 2)
// that says what to give, before anything is sent; a plain remove (no cloud) still takes it.
TEST_F(QueueCmdTest, ATimeoutTooShortForACloudCallIsAUsageError) {
  start_service();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--timeout", "1", "deregister", "S1", "--yes"},
        std::vector<std::string>{"--timeout", "4.9", "deliver", "S1", "--user", "a@contoso.com"},
        std::vector<std::string>{"--timeout", "2", "remove", "S1", "--force"}}) {
    EXPECT_EQ(run(args), kUsage) << args[1] << " " << args[2];
    EXPECT_NE(err_.str().find("is too short for a command that waits for Microsoft's cloud"),
              std::string::npos)
        << err_.str();
    EXPECT_NE(err_.str().find("give --timeout 5 or more"), std::string::npos) << err_.str();
  }
  EXPECT_TRUE(requests_named("deregister").empty());
  EXPECT_TRUE(requests_named("deliver").empty());
  EXPECT_TRUE(requests_named("remove").empty());
  ASSERT_EQ(run({"--timeout", "5", "deregister", "S1", "--yes"}), kOk) << err_.str();
  EXPECT_EQ(requests_named("deregister").back().value("wait_ms", 0), 2'000);
  ASSERT_EQ(run({"--timeout", "1", "remove", "S1"}), kOk) << err_.str();
  EXPECT_FALSE(requests_named("remove").back().contains("wait_ms"));
}

// The service answered (in doubt, a cloud timeout): exit 1, never 3, which says no service
// answered at all.
TEST_F(QueueCmdTest, AnAnswerInDoubtOrACloudTimeoutIsExit1NotUnreachable) {
  start_service();
  answer_error("deregister", "in_doubt",
               "the deregistration of S1 did not finish within the wait; it may have been done: "
               "`hangar show S1` tells the outcome");
  EXPECT_EQ(run({"deregister", "S1", "--yes"}), kFailed);
  EXPECT_NE(err_.str().find("`hangar show S1` tells the outcome"), std::string::npos) << err_.str();
  // A handler's "timeout" (the cloud's) goes out as cloud_timeout: "timeout" is the client's own.
  answer_error("deliver", "timeout", "GET .../users/a: the cloud did not answer within 25 s");
  EXPECT_EQ(run({"--json", "deliver", "S1", "--user", "a@contoso.com"}), kFailed);
  EXPECT_NE(out_.str().find("\"cloud_timeout\""), std::string::npos) << out_.str();
}

}  // namespace
}  // namespace hangar::cli
