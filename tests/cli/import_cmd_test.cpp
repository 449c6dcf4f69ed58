// `hangar import` in-process against a fake service over the real transport (attack round 5,
// findings 02, 03, 06, 11): every device sent is in exactly one count of the progress line, the
// text and --json counts agree, a device whose registration failed is said as such with `hangar
// retry`, and the human output of list/show never carries a raw control character.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_common.h"
#include "cli_service_test.h"
#include "hangar/core/hash_builder.h"
#include "hangar/core/terminal_safe.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/messages/device.h"
#include "hangar/ipc/messages/import.h"
#include "hangar/ipc/protocol.h"
#include "test_support.h"

namespace hangar::cli {
namespace {

using Json = nlohmann::json;

std::string hash_for(const std::string& serial) {
  return core::HardwareHashBuilder::realistic(serial, "Contoso", "Laptop 7").build_base64();
}

class ImportCmdTest : public CliServiceTest {
 protected:
  // A fake service: `import` answers each device by its serial's first letter (A accepted,
  // Q already queued, U updated, F registration failed, anything else a conflict); `list` and
  // `show` answer `device_`.
  void start_service() {
    CliServiceTest::start_service(
        [this](const std::string& name, const Json& args) -> core::Result<Json> {
          if (name == "import") {
            if (args.at("devices").at(0).value("serial", "").starts_with("Z"))
              return core::make_error(ipc::errc::kInternal, "the service is stopping");
            ipc::msg::ImportReply reply;
            for (const auto& device : args.at("devices")) {
              auto& result = reply.results.emplace_back();
              result.serial = device.value("serial", "");
              result.location = device.value("source_file", "") + ":" +
                                std::to_string(device.value("source_line", 0));
              switch (result.serial.front()) {
                case 'A':
                  result.outcome = "accepted";
                  break;
                case 'Q':
                  result.outcome = "already_queued";
                  result.reason = "serial " + result.serial + " is already queued";
                  break;
                case 'U':
                  result.outcome = "updated";
                  result.reason = "profile standard -> power-user";
                  break;
                case 'F':
                  result.outcome = "registration_failed";
                  result.reason = result.serial +
                                  " is Registration failed (Device not found); run `hangar retry " +
                                  result.serial + "`";
                  break;
                default:
                  result.outcome = "conflict";
                  result.reason = "another hash";
              }
            }
            return reply.to_json();
          }
          if (name == "list") return Json{{"devices", Json::array({device_.to_json()})}};
          if (name == "show") {
            ipc::msg::ShowReply reply;
            reply.device = device_;
            return reply.to_json();
          }
          return Json::object();
        });
  }

  // A hash file with these serials, and each of the first `repeated` again (duplicate rows).
  std::string write_csv(const std::vector<std::string>& serials, std::size_t repeated = 0) {
    std::string csv = "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
    for (const auto& serial : serials) csv += serial + ",," + hash_for(serial) + "\r\n";
    for (std::size_t i = 0; i < repeated; ++i) {
      csv += serials[i] + ",," + hash_for(serials[i]) + "\r\n";
    }
    const auto path = dir_.path() / "devices.csv";
    std::ofstream(path, std::ios::binary) << csv;
    return path.string();
  }

  ipc::msg::Device device_;
};

TEST_F(ImportCmdTest, EveryDeviceSentIsInOneCountAndTextAndJsonAgree) {
  start_service();
  const std::string csv = write_csv({"A1", "Q1", "Q2", "U1", "U2", "U3", "F1", "X1"}, 2);
  EXPECT_EQ(run({"import", csv, "--profile", "power-user"}), kFailed) << err_.str();
  // Finding 02: the progress line's counts add up to the devices sent.
  EXPECT_NE(err_.str().find("sent 8 device(s): 1 accepted, 2 already queued, 3 updated, 1 "
                            "registration failed, 1 rejected"),
            std::string::npos)
      << err_.str();
  // Finding 03: the failed device is said as what it is, with the way out, and counted apart.
  EXPECT_NE(out_.str().find(":8: F1 is Registration failed (Device not found); run `hangar retry "
                            "F1`"),
            std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("1 accepted, 2 already queued, 2 duplicate row(s) in the input (each "
                            "device queued once), 3 already queued and updated"),
            std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("1 registration failed (not queued again: run `hangar retry`"),
            std::string::npos)
      << out_.str();

  // Finding 11: --json counts each row once, as the text does.
  ASSERT_EQ(run({"--json", "import", csv, "--profile", "power-user"}), kFailed) << err_.str();
  const Json reply = Json::parse(out_.str());
  EXPECT_EQ(reply["accepted"], 1);
  EXPECT_EQ(reply["already_queued"], 2) << reply.dump();
  EXPECT_EQ(reply["duplicates_in_input"], 2);
  EXPECT_EQ(reply["updated"], 3);
  EXPECT_EQ(reply["registration_failed"], 1);
  EXPECT_EQ(reply["rejected"], 1);
  ASSERT_EQ(reply["to_retry"].size(), 1u);
  EXPECT_EQ(reply["to_retry"][0]["serial"], "F1");
  EXPECT_NE(reply["to_retry"][0]["reason"].get<std::string>().find("hangar retry F1"),
            std::string::npos);
}

// Black-box round 6: a file that cannot be opened was named twice ("x.csv: error: x.csv: does not
// exist"); a line the reader dropped (a quote never closed) was in no count.
TEST_F(ImportCmdTest, AMissingFileIsNamedOnceAndADroppedLineIsCounted) {
  start_service();
  const std::string missing = (dir_.path() / "missing.csv").string();
  EXPECT_EQ(run({"import", missing, "--profile", "standard"}), kFailed);
  EXPECT_NE(out_.str().find(missing + ": error: does not exist"), std::string::npos) << out_.str();
  out_.str("");
  const std::string csv = write_csv({"A1"});
  {
    std::ofstream file(csv, std::ios::app | std::ios::binary);
    file << "\"B1,,abc\n";  // a quote never closed: the line is dropped
  }
  EXPECT_EQ(run({"import", csv, "--profile", "standard"}), kFailed);
  EXPECT_NE(out_.str().find(", 1 line(s) skipped (see the errors)"), std::string::npos)
      << out_.str();
  ASSERT_EQ(run({"--json", "import", csv, "--profile", "standard"}), kFailed);
  EXPECT_EQ(Json::parse(out_.str())["lines_skipped"], 1) << out_.str();
}

// Round 5: an import the service cuts short (it stopped, say) never prints a final-looking
// "imported" line: the counts are said to be those of a stop part-way through.
TEST_F(ImportCmdTest, AnImportCutShortSaysSoOnItsCountsLine) {
  start_service();
  const std::string csv = write_csv({"Z1"});
  EXPECT_EQ(run({"import", csv, "--profile", "standard"}), kFailed);
  EXPECT_NE(out_.str().find("stopped part-way through 1 file(s): 0 accepted"), std::string::npos)
      << out_.str();
  EXPECT_EQ(out_.str().find("imported "), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("hangar import: stopped: the service is stopping"), std::string::npos)
      << err_.str();
}

// Finding 06, defence in depth: a value with terminal control sequences that reached the queue by
// another route (the cloud, the tray) is shown escaped by list and show, never raw; --json keeps
// it exact (JSON escapes it).
TEST_F(ImportCmdTest, ListAndShowNeverWriteARawControlCharacter) {
  device_.id = 1;
  device_.serial = "ESC1";
  device_.state_display = "Queued";
  device_.profile = "standard";
  device_.state_changed_at = 1796175916339;
  device_.manufacturer = "Contoso";
  device_.model =
      "\x1b]0;PWNED\x07"
      "Evil\x1b[2J\xc2\x9b"
      "1m";
  start_service();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list", "--wide"}, std::vector<std::string>{"show", "ESC1"}}) {
    ASSERT_EQ(run(args), kOk) << args[0] << ": " << err_.str();
    const std::string shown = out_.str();
    EXPECT_EQ(shown.find('\x1b'), std::string::npos) << args[0];
    EXPECT_EQ(shown.find('\x07'), std::string::npos) << args[0];
    EXPECT_EQ(shown.find("\xc2\x9b"), std::string::npos) << args[0];
    EXPECT_NE(shown.find("\\x1b]0;PWNED\\x07Evil\\x1b[2J\\u009b1m"), std::string::npos)
        << args[0] << ": " << shown;
  }
  ASSERT_EQ(run({"--json", "show", "ESC1"}), kOk);
  EXPECT_EQ(Json::parse(out_.str())["model"], *device_.model) << out_.str();
}

TEST(TerminalSafe, EscapesControlsButKeepsLinesTextAndUtf8) {
  using core::CarriageReturns;
  using core::terminal_safe;
  EXPECT_EQ(terminal_safe("a\tb\x7f\n", CarriageReturns::kOnlyBeforeLineFeed), "a\\x09b\\x7f\n");
  EXPECT_EQ(terminal_safe("row\r\nnext\rover", CarriageReturns::kOnlyBeforeLineFeed),
            "row\r\nnext\\x0dover");
  EXPECT_EQ(terminal_safe("\rimporting", CarriageReturns::kAnywhere), "\rimporting");
  EXPECT_EQ(terminal_safe("caf\xc3\xa9 \xc2\xa0 \xc2\x85", CarriageReturns::kAnywhere),
            "caf\xc3\xa9 \xc2\xa0 \\u0085");
  EXPECT_EQ(terminal_safe("end\r", CarriageReturns::kOnlyBeforeLineFeed), "end\\x0d");
  // Black-box round 14: the bidirectional controls reorder a line; other U+20xx stay as they are.
  EXPECT_EQ(terminal_safe("AB\u202e12\u200f\u2066x\u2026\u20ac", CarriageReturns::kAnywhere),
            "AB\\u202e12\\u200f\\u2066x\u2026\u20ac");
  EXPECT_EQ(terminal_safe("cut\xe2\x80", CarriageReturns::kAnywhere), "cut\xe2\x80");
  // Round 15: the Arabic letter mark and the line and paragraph separators too; other Arabic stays.
  EXPECT_EQ(terminal_safe("a\u061cb\u2028c\u2029\u0627", CarriageReturns::kAnywhere),
            "a\\u061cb\\u2028c\\u2029\u0627");
}

}  // namespace
}  // namespace hangar::cli
