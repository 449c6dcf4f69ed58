// End-to-end device intake: real hash files through the real hangar CLI (validate, merge, import,
// list, show, remove, export) into the real hangard's durable queue, including a restart.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "child_process.h"
#include "hangar/core/hash_builder.h"
#include "hangar/ipc/client.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;

const std::string kHangard = HANGAR_TEST_HANGARD;
const std::string kHangar = HANGAR_TEST_HANGAR;

std::string hash_for(const std::string& serial, std::uint64_t seed = 0,
                     const std::string& build = "10.0.22631.2861") {
  return core::HardwareHashBuilder::realistic(serial, "Contoso", "Laptop 7", build, seed, 1200)
      .build_base64();
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A Windows PowerShell 5.1 Out-File: UTF-16LE with BOM, CRLF.
void write_utf16le(const std::filesystem::path& path, const std::string& ascii) {
  std::string bytes = "\xFF\xFE";
  for (char c : ascii) {
    bytes += c;
    bytes += '\0';
  }
  write_text(path, bytes);
}

class IntakeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = unique_endpoint(dir_);
    data_dir_ = dir_.path() / "data";
  }

  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{kHangard, "--data-dir", data_dir_.string(), "--endpoint",
                                  endpoint_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    service_ = std::make_unique<Process>(argv, dir_.path() / "hangard.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hangar({"ping"}).code == 0) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "hangard did not come up: " << read_file(dir_.path() / "hangard.out");
  }

  void stop() {
    service_->signal(SIGTERM);
    ASSERT_TRUE(service_->wait(10s).has_value());
    service_.reset();
  }

  RunResult hangar(std::vector<std::string> args) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    return run_command(args, dir_.path(), 60s);
  }

  nlohmann::json hangar_json(std::vector<std::string> args, int expected_code = 0) {
    args.insert(args.begin(), "--json");
    auto result = hangar(args);
    EXPECT_EQ(result.code, expected_code) << result.output;
    // The JSON document is stdout; progress lines (stderr) come before it in `output`.
    auto start = result.output.find("{\n");
    if (start == std::string::npos) start = result.output.find('[');
    return nlohmann::json::parse(result.output.substr(start == std::string::npos ? 0 : start));
  }

  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }

  TempDir dir_;
  std::string endpoint_;
  std::filesystem::path data_dir_;
  std::unique_ptr<Process> service_;
};

TEST_F(IntakeE2E, ValidateReportsEveryProblemWithFileLineAndFieldOffline) {
  write_text(file("good.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\r\n"
             "SER-1,," +
                 hash_for("SER-1") + "\r\nSER-2,," + hash_for("SER-2") + "\r\n");
  write_text(file("bad.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\n"
             "SER-3,,not#base64\n"
             ",," +
                 hash_for("SER-4") + "\n");
  // No service runs: validate works offline.
  auto result = hangar({"validate", file("good.csv").string(), file("bad.csv").string()});
  EXPECT_EQ(result.code, 1) << result.output;
  EXPECT_NE(result.output.find("bad.csv:2: error: Hardware Hash: Hardware hash not valid"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("bad.csv:3: error"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("10.0.22631.2861 x2"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("4 device row(s) in 2 file(s): 2 valid"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("skipped"), std::string::npos) << result.output;

  // A line lost to a quote never closed is no device row, and is counted apart (round 6).
  write_text(file("quote.csv"), "Device Serial Number,Windows Product ID,Hardware Hash\n\"SER-5,," +
                                    hash_for("SER-5") + "\nSER-6,," + hash_for("SER-6") + "\n");
  auto quoted = hangar({"validate", file("quote.csv").string()});
  EXPECT_EQ(quoted.code, 1) << quoted.output;
  EXPECT_NE(quoted.output.find("quote.csv:2: error"), std::string::npos) << quoted.output;
  EXPECT_NE(quoted.output.find("1 device row(s) in 1 file(s) and 1 line(s) skipped (see the "
                               "errors): 1 valid"),
            std::string::npos)
      << quoted.output;
  auto quoted_json = hangar({"--json", "validate", file("quote.csv").string()});
  EXPECT_EQ(ipc::Json::parse(quoted_json.output).value("lines_skipped", 0), 1)
      << quoted_json.output;

  // Another OS build than the image's: summed up per build with the first serials, and a
  // failure unless allowed.
  auto good = hangar({"validate", file("good.csv").string(), "--expect-build", "19045"});
  EXPECT_EQ(good.code, 1) << good.output;
  EXPECT_NE(good.output.find("OS build mismatch: 2 device(s) not captured on the expected 19045 "
                             "(check the image):\n  2 on 10.0.22631.2861: SER-1, SER-2\n"),
            std::string::npos)
      << good.output;
  EXPECT_NE(good.output.find("validate fails (exit 1) unless --allow-build-mismatch"),
            std::string::npos)
      << good.output;
  auto allowed = hangar(
      {"validate", file("good.csv").string(), "--expect-build", "19045", "--allow-build-mismatch"});
  EXPECT_EQ(allowed.code, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("allowed (--allow-build-mismatch)"), std::string::npos)
      << allowed.output;
  EXPECT_EQ(hangar({"validate", file("good.csv").string(), "--expect-build", "22631"}).code, 0);

  auto json = hangar_json({"validate", file("bad.csv").string()}, 1);
  EXPECT_EQ(json["summary"]["invalid"], 2);
  EXPECT_EQ(json["problems"][0]["line"], 2);
  EXPECT_EQ(json["problems"][0]["field"], "Hardware Hash");
}

// Issue 13: one user principal name rule for every path that takes a user. The CSV's Assigned
// User column is checked by validate and import (file, line and field named), and import --user
// is a usage error, with the rule deliver applies.
TEST_F(IntakeE2E, EveryPathThatTakesAUserChecksItsPrincipalNameTheSameWay) {
  write_text(file("users.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User\r\n"
             "USR-1,," +
                 hash_for("USR-1") + ",,ada@contoso.com\r\nUSR-2,," + hash_for("USR-2") +
                 ",,ada lovelace@contoso.com\r\nUSR-3,," + hash_for("USR-3") +
                 ",,bob@contoso.com?$select=id\r\nUSR-4,," + hash_for("USR-4") + ",,\r\n");
  auto checked = hangar({"validate", file("users.csv").string()});
  EXPECT_EQ(checked.code, 1) << checked.output;
  EXPECT_NE(checked.output.find("users.csv:3: error: Assigned User: \"ada lovelace@contoso.com\" "
                                "is not a user principal name: it has a space before the @"),
            std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("users.csv:4: error: Assigned User: \"bob@contoso.com?$select=id\" "
                                "is not a user principal name: it has '?' in its domain"),
            std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("4 device row(s) in 1 file(s): 2 valid"), std::string::npos)
      << checked.output;

  start();
  auto flag =
      hangar({"import", file("users.csv").string(), "--profile", "standard", "--user", "carol"});
  EXPECT_EQ(flag.code, 2) << flag.output;
  EXPECT_NE(flag.output.find("--user takes the user's principal name, and \"carol\" has no @"),
            std::string::npos)
      << flag.output;
  auto imported = hangar_json(
      {"import", file("users.csv").string(), "--profile", "standard", "--user", "dan@contoso.com"},
      1);
  EXPECT_EQ(imported["accepted"], 2) << imported.dump(2);
  auto usr4 = hangar_json({"show", "USR-4"});
  EXPECT_EQ(usr4["assigned_user"], "dan@contoso.com") << usr4.dump(2);
  EXPECT_NE(hangar({"show", "USR-2"}).code, 0) << "a row with a broken user is not queued";
}

// Issue 13, finding 3: one trim for every path that takes a user or a tag. The CSV's cells lose
// the blanks around them, and so do import's --user and --group-tag (before: " x" was a usage
// error on the command line and accepted in the file); a value of blanks only is empty.
TEST_F(IntakeE2E, BlanksAroundAUserOrATagAreDroppedInTheFileAndOnTheCommandLine) {
  write_text(file("padded.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User\r\n"
             "PAD-1,," +
                 hash_for("PAD-1") + ",  Lab ,  ada@contoso.com \r\nPAD-2,," + hash_for("PAD-2") +
                 ",,\r\n");
  start();
  auto blank =
      hangar({"import", file("padded.csv").string(), "--profile", "standard", "--user", " \t"});
  EXPECT_EQ(blank.code, 2) << blank.output;
  EXPECT_NE(blank.output.find("--user takes the user's principal name, and \"\" is empty"),
            std::string::npos)
      << blank.output;
  auto blank_tag = hangar(
      {"import", file("padded.csv").string(), "--profile", "standard", "--group-tag", "   "});
  EXPECT_EQ(blank_tag.code, 2) << blank_tag.output;
  EXPECT_NE(blank_tag.output.find("--group-tag \"\": is empty"), std::string::npos)
      << blank_tag.output;
  auto imported = hangar_json({"import", file("padded.csv").string(), "--profile", "standard",
                               "--user", "  dan@contoso.com ", "--group-tag", " Sales "});
  EXPECT_EQ(imported["accepted"], 2) << imported.dump(2);
  auto from_file = hangar_json({"show", "PAD-1"});
  EXPECT_EQ(from_file["assigned_user"], "ada@contoso.com") << from_file.dump(2);
  EXPECT_EQ(from_file["group_tag"], "Lab") << from_file.dump(2);
  auto from_flags = hangar_json({"show", "PAD-2"});
  EXPECT_EQ(from_flags["assigned_user"], "dan@contoso.com") << from_flags.dump(2);
  EXPECT_EQ(from_flags["group_tag"], "Sales") << from_flags.dump(2);
  // deliver --user of blanks only is the same usage error as an empty one.
  auto deliver = hangar({"deliver", "PAD-1", "--user", "  "});
  EXPECT_EQ(deliver.code, 2) << deliver.output;
}

#ifndef _WIN32
// A file name that is not UTF-8 (copied from a Latin-1 share, say) is reported, not crashed on:
// --json prints it with U+FFFD where the bytes were.
TEST_F(IntakeE2E, ValidateJsonOfAFileNameThatIsNotUtf8) {
  const std::string latin1 = "caf\xe9.csv";
  write_text(file(latin1), "Device Serial Number,Windows Product ID,Hardware Hash\nSER-9,,AAAA\n");
  auto json = hangar_json({"validate", file(latin1).string()}, 1);
  EXPECT_EQ(json["summary"]["invalid"], 1);
  EXPECT_NE(json["problems"][0]["file"].get<std::string>().find("caf\xef\xbf\xbd.csv"),
            std::string::npos)
      << json.dump(2, ' ', true);
  auto text = hangar({"validate", file(latin1).string()});
  EXPECT_EQ(text.code, 1) << text.output;
}
#endif

TEST_F(IntakeE2E, MergeWritesThePortalFormatDedupedAndSplit) {
  std::string a = "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag\r\n";
  std::string b = "device serial number,hardware hash,windows product id\r\n";  // other order
  for (int i = 0; i < 7; ++i) {
    const std::string serial = "M-" + std::to_string(i);
    a += serial + ",," + hash_for(serial) + ",Lab\r\n";
  }
  b += "M-3," + hash_for("M-3") + ",\r\n";  // the same device again: deduplicated
  write_text(file("a.csv"), a);
  write_utf16le(file("b.csv"), b);
  auto result = hangar({"merge", file("a.csv").string(), file("b.csv").string(), "-o",
                        file("merged.csv").string(), "--split", "3"});
  EXPECT_EQ(result.code, 0) << result.output;
  EXPECT_NE(result.output.find("wrote 7 device(s) to 3 file(s)"), std::string::npos)
      << result.output;
  const std::string first = read_file(file("merged-001.csv"));
  EXPECT_EQ(first.rfind("Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,"
                        "Assigned User\r\n",
                        0),
            0u);
  EXPECT_EQ(first.find('"'), std::string::npos);
  EXPECT_NE(first.find("M-0,," + hash_for("M-0") + ",Lab,\r\n"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(file("merged-003.csv")));
  EXPECT_FALSE(std::filesystem::exists(file("merged-004.csv")));
}

// Black-box round 7: a file merged with itself printed one warning per row (1,100 lines). The
// first 20 say what they are, the rest are counted; errors are all printed; --json has them all.
TEST_F(IntakeE2E, MergingAFileWithItselfPrintsAFewWarningsAndCountsTheRest) {
  std::string csv = "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
  for (int i = 0; i < 30; ++i) {
    const std::string serial = "W-" + std::to_string(i);
    csv += serial + ",," + hash_for(serial) + "\r\n";
  }
  write_text(file("a.csv"), csv);
  write_text(file("copy.csv"), csv);  // the same devices in a second file
  auto result = hangar(
      {"merge", file("a.csv").string(), file("copy.csv").string(), "-o", file("out.csv").string()});
  EXPECT_EQ(result.code, 0) << result.output;
  std::size_t shown = 0;
  for (std::size_t at = 0; (at = result.output.find(": warning: ", at)) != std::string::npos;
       ++at) {
    ++shown;
  }
  EXPECT_EQ(shown, 20u) << result.output;
  EXPECT_NE(result.output.find("... and 10 more warning(s) not shown (--json lists every one)"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("60 row(s) read = 30 written + 30 duplicate(s)"), std::string::npos)
      << result.output;
  auto json = hangar({"--json", "merge", file("a.csv").string(), file("copy.csv").string(), "-o",
                      file("out.csv").string()});
  EXPECT_EQ(nlohmann::json::parse(json.output)["problems"].size(), 30u) << json.output;
  // Black-box round 9: one file named twice is read once, not reported as its own duplicate.
  auto twice = hangar({"merge", file("a.csv").string(), (dir_.path() / "." / "a.csv").string(),
                       "-o", file("out.csv").string()});
  EXPECT_EQ(twice.code, 0) << twice.output;
  EXPECT_NE(twice.output.find("is " + file("a.csv").string() + ", given already: read once"),
            std::string::npos)
      << twice.output;
  EXPECT_NE(twice.output.find("30 row(s) read = 30 written + 0 duplicate(s)"), std::string::npos)
      << twice.output;
}

// Black-box round 8: validate of a file that is no hash file (a JSON export) said "0 device
// row(s) in 0 file(s)", as if it had read nothing it was given.
TEST_F(IntakeE2E, AFileThatIsNoHashFileIsCountedAsNotRead) {
  write_text(file("queue.json"), "[{\"serial\": \"A\"}]\n");
  write_text(file("ok.csv"), "Device Serial Number,Windows Product ID,Hardware Hash\r\nV-1,," +
                                 hash_for("V-1") + "\r\n");
  auto result = hangar({"validate", file("queue.json").string(), file("ok.csv").string()});
  EXPECT_EQ(result.code, 1) << result.output;
  EXPECT_NE(result.output.find("1 device row(s) in 1 file(s) (1 more not read: see the errors)"),
            std::string::npos)
      << result.output;
  auto json = hangar({"--json", "validate", file("queue.json").string()});
  EXPECT_EQ(nlohmann::json::parse(json.output)["files_not_read"], 1) << json.output;
}

TEST_F(IntakeE2E, MergeRefusesConflictsAndSaysWhichRowsWereLeftOut) {
  write_text(file("a.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\n"
             "C-1,," +
                 hash_for("C-1", 1) + "\nC-2,," + hash_for("C-2") + "\n");
  write_text(file("b.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\n"
             "C-1,," +
                 hash_for("C-1", 2) + "\n");
  auto result = hangar(
      {"merge", file("a.csv").string(), file("b.csv").string(), "-o", file("out.csv").string()});
  EXPECT_EQ(result.code, 1) << result.output;
  EXPECT_NE(result.output.find("b.csv:2"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("wrote 1 device(s)"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("2 row(s) left out"), std::string::npos) << result.output;
}

TEST_F(IntakeE2E, ImportQueuesDurablyIsIdempotentAndSurvivesARestart) {
  std::string csv = "Device Serial Number,Windows Product ID,Hardware Hash,Assigned User\r\n";
  for (int i = 0; i < 600; ++i) {  // more than two request batches
    const std::string serial = "IMP-" + std::to_string(i);
    csv += serial + ",," + hash_for(serial) + "," + (i == 5 ? "amy@contoso.com" : "") + "\r\n";
  }
  csv += "IMP-BAD,,%%%\r\n";
  write_text(file("batch.csv"), csv);
  write_text(file("partner.csv"), "Manufacturer,Model,Serial Number\nContoso,Laptop 7,PART-1\n");

  // Without a service: exit 3, and the message names the endpoint.
  auto offline = hangar({"import", file("batch.csv").string(), "--profile", "standard"});
  EXPECT_EQ(offline.code, 3) << offline.output;
  EXPECT_NE(offline.output.find(endpoint_), std::string::npos) << offline.output;

  start();
  auto missing_profile = hangar({"import", file("batch.csv").string()});
  EXPECT_EQ(missing_profile.code, 2) << missing_profile.output;

  auto first = hangar_json({"import", file("batch.csv").string(), file("partner.csv").string(),
                            "--profile", "power-user", "--group-tag", "Lab-7"},
                           1);
  EXPECT_EQ(first["accepted"], 601);
  EXPECT_EQ(first["rejected"], 1);
  EXPECT_EQ(first["problems"][0]["line"], 602);

  auto again = hangar_json({"import", file("batch.csv").string(), "--profile", "power-user"}, 1);
  EXPECT_EQ(again["accepted"], 0);
  EXPECT_EQ(again["already_queued"], 600);

  // A row with another device's hash is refused before it is sent: the hash names IMP-7.
  write_text(file("twin.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\n"
             "TWIN-1,," +
                 hash_for("IMP-7") + "\n");
  auto twin = hangar({"import", file("twin.csv").string(), "--profile", "standard"});
  EXPECT_EQ(twin.code, 1) << twin.output;
  EXPECT_NE(twin.output.find("the hash is another device's"), std::string::npos) << twin.output;
  // A white-box PC's hash carries no serial of its own, so only the queue can tell that the same
  // hash was queued under another serial: the service refuses it.
  const std::string whitebox = hash_for("To be filled by O.E.M.");
  write_text(file("whitebox.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\nWB-1,," + whitebox + "\n");
  EXPECT_EQ(hangar({"import", file("whitebox.csv").string(), "--profile", "standard"}).code, 0);
  write_text(file("whitebox-twin.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\nWB-2,," + whitebox + "\n");
  auto wb_twin = hangar({"import", file("whitebox-twin.csv").string(), "--profile", "standard"});
  EXPECT_EQ(wb_twin.code, 1) << wb_twin.output;
  EXPECT_NE(wb_twin.output.find("under serial WB-1"), std::string::npos) << wb_twin.output;
  EXPECT_EQ(hangar({"remove", "WB-1"}).code, 0);  // the counts below are the batch's

  stop();
  start();
  auto status = hangar_json({"status"});
  EXPECT_EQ(status["queue_depth"], 601);

  auto shown = hangar({"show", "imp-5"});
  EXPECT_EQ(shown.code, 0) << shown.output;
  EXPECT_NE(shown.output.find("Device IMP-5"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("power-user"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("Lab-7"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("amy@contoso.com"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("OS build 10.0.22631.2861"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("batch.csv:7"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("Queued"), std::string::npos) << shown.output;

  auto listed = hangar_json({"list", "--state", "queued", "--limit", "10"});
  EXPECT_EQ(listed["devices"].size(), 10u);
  auto all = hangar_json({"list"});
  EXPECT_EQ(all["devices"].size(), 601u);
  EXPECT_EQ(hangar_json({"list", "--profile", "standard"})["devices"].size(), 0u);
  // An unknown state is a usage error (finding 07), "ready" one of the accepted short names.
  auto bogus = hangar({"list", "--state", "bogus"});
  EXPECT_EQ(bogus.code, 2) << bogus.output;
  EXPECT_NE(bogus.output.find("ready-for-user (ready)"), std::string::npos) << bogus.output;
  EXPECT_EQ(hangar_json({"list", "--state", "ready"})["devices"].size(), 0u);
  EXPECT_EQ(hangar({"list", "--since", "yesterday"}).code, 2);
  EXPECT_EQ(hangar_json({"list", "--since", "1h"})["devices"].size(), 601u);

  // The last device: the first ones may be claimed for an upload to the unreachable cloud
  // (in doubt until it can be asked), and `remove` refuses a device whose upload is in flight.
  auto removed = hangar({"remove", "IMP-599"});
  EXPECT_EQ(removed.code, 0) << removed.output;
  EXPECT_EQ(hangar({"show", "IMP-599"}).code, 1);

  // Export: the portal's CSV (the partner device has no hash and is left out, with a note).
  auto exported = hangar({"export", "--format", "csv", "-o", file("export.csv").string()});
  EXPECT_EQ(exported.code, 0) << exported.output;
  EXPECT_NE(exported.output.find("1 device(s) without a hardware hash left out"), std::string::npos)
      << exported.output;
  EXPECT_TRUE(std::filesystem::exists(file("export-002.csv")));  // 599 rows: two files
  auto reimport =
      hangar_json({"validate", file("export-001.csv").string(), file("export-002.csv").string()});
  EXPECT_EQ(reimport["summary"]["valid"], 599);
  auto json_export = hangar({"export", "--format", "json", "-o", file("export.json").string()});
  EXPECT_EQ(json_export.code, 0) << json_export.output;
  auto rows = nlohmann::json::parse(read_file(file("export.json")));
  EXPECT_EQ(rows.size(), 600u);
  // Black-box round 9: an export matching no device replaced a good upload file with a header
  // alone; it writes nothing, says so and fails, as merge does.
  auto upload = hangar({"export", "--format", "csv", "-o", file("one.csv").string(), "--state",
                        "queued", "--since", "1h"});
  ASSERT_EQ(upload.code, 0) << upload.output;
  const auto kept =
      std::filesystem::exists(file("one-001.csv")) ? file("one-001.csv") : file("one.csv");
  const std::string before = read_file(kept);
  ASSERT_FALSE(before.empty());
  auto none =
      hangar({"export", "--format", "csv", "-o", file("one.csv").string(), "--state", "failed"});
  EXPECT_EQ(none.code, 1) << none.output;
  EXPECT_NE(none.output.find("no device to export: " + file("one.csv").string() +
                             " was not written (an earlier file of that name is left as it was)"),
            std::string::npos)
      << none.output;
  EXPECT_EQ(read_file(kept), before);
  stop();
}

// An admin in an offline staging room: the cloud URL is a loopback port nothing listens on, so
// every upload fails before its request is sent. The devices go back to the queue (not held in
// flight as if the cloud might have them) and `remove` takes one out at once.
TEST_F(IntakeE2E, ADeviceWhoseUploadWasNeverSentCanBeRemovedOffline) {
  int port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);  // closed: connections to it are refused
  }
  write_text(file("room.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\r\n"
             "ROOM-1,," +
                 hash_for("ROOM-1") + "\r\nROOM-2,," + hash_for("ROOM-2") + "\r\n");
  start({"--cloud-url", "http://127.0.0.1:" + std::to_string(port), "--poll-interval", "0.5"});
  ASSERT_EQ(hangar({"import", file("room.csv").string(), "--profile", "standard"}).code, 0);

  // The upload was tried and failed unsent: the device is back in the queue with the reason.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string shown;
  for (;;) {
    shown = hangar({"--json", "show", "ROOM-1"}).output;
    if (shown.find("\"last_error\"") != std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "the upload was never released: " << shown << read_file(dir_.path() / "hangard.out");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(shown.find("not sent"), std::string::npos) << shown;

  auto removed = hangar({"remove", "ROOM-1"});
  EXPECT_EQ(removed.code, 0) << removed.output;
  EXPECT_EQ(hangar({"show", "ROOM-1"}).code, 1);
  EXPECT_EQ(hangar({"show", "ROOM-2"}).code, 0) << "the other device stays queued";
}

TEST_F(IntakeE2E, ImportGivesTheSeedsGroupTagByDefault) {
  start();
  write_text(file("one.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\n"
             "ONE-1,," +
                 hash_for("ONE-1") + "\n");
  auto result = hangar({"import", file("one.csv").string(), "--profile", "sensitive-data"});
  EXPECT_EQ(result.code, 0) << result.output;
  EXPECT_NE(result.output.find("1 accepted"), std::string::npos) << result.output;
  auto shown = hangar_json({"show", "ONE-1"});
  EXPECT_EQ(shown["group_tag"], "Microsoft365Managed_Autopilot");
  EXPECT_EQ(shown["profile"], "sensitive-data");
  EXPECT_EQ(shown["state_display"], "Queued");
  stop();
}

// A hash file as Excel saves it in a Swedish locale ("CSV (Comma delimited)": semicolons,
// Windows-1252, CRLF), after it read two serials as numbers: 165207713570 shown as 1,65208E+11,
// 016520771357 without its leading zero.
std::string swedish_excel_csv() {
  return "Device Serial Number;Windows Product ID;Hardware Hash;Group Tag\r\n"
         "1,65208E+11;;" +
         hash_for("165207713570") +
         ";Lab\r\n"
         "16520771357;;" +
         hash_for("016520771357") +
         ";Lab\r\n"
         "PF3ABC12;;" +
         hash_for("PF3ABC12") + ";Lab\r\n";
}

TEST_F(IntakeE2E, ExcelFilesFromAnyLocaleGoThroughWithTheSerialsInTheirHashes) {
  write_text(file("sv.csv"), swedish_excel_csv());
  // "Unicode Text": UTF-16LE with BOM, tabs; English Excel writes 1.65208E+11.
  write_utf16le(file("unicode.txt"),
                "Device Serial Number\tWindows Product ID\tHardware Hash\r\n"
                "1.65208E+12\t\t" +
                    hash_for("1652077135700") + "\r\n");

  auto validated = hangar({"validate", file("sv.csv").string(), file("unicode.txt").string()});
  EXPECT_EQ(validated.code, 0) << validated.output;
  EXPECT_NE(validated.output.find("sv.csv:2: warning: Device Serial Number: Excel turned serial "
                                  "165207713570 into 1,65208E+11 (scientific notation); using the "
                                  "serial from the hardware hash"),
            std::string::npos)
      << validated.output;
  EXPECT_NE(validated.output.find("sv.csv:3: warning: Device Serial Number: Excel turned serial "
                                  "016520771357 into 16520771357"),
            std::string::npos)
      << validated.output;
  EXPECT_NE(validated.output.find("unicode.txt:2: warning: Device Serial Number: Excel turned "
                                  "serial 1652077135700 into 1.65208E+12"),
            std::string::npos)
      << validated.output;
  EXPECT_NE(validated.output.find("4 device row(s) in 2 file(s): 4 valid"), std::string::npos)
      << validated.output;
  auto json = hangar_json({"validate", file("sv.csv").string()});
  EXPECT_EQ(json["records"][0]["serial"], "165207713570");
  EXPECT_EQ(json["records"][0]["serial_in_file"], "1,65208E+11");
  EXPECT_FALSE(json["records"][2].contains("serial_in_file"));

  // --strict refuses the rows instead, and says how to get them through.
  auto strict = hangar({"validate", "--strict", file("sv.csv").string()});
  EXPECT_EQ(strict.code, 1) << strict.output;
  EXPECT_NE(strict.output.find("sv.csv:2: error: Device Serial Number: Excel turned serial "
                               "165207713570 into 1,65208E+11 (scientific notation); refused "
                               "(--strict)"),
            std::string::npos)
      << strict.output;
  EXPECT_NE(strict.output.find("3 device row(s) in 1 file(s): 1 valid"), std::string::npos)
      << strict.output;

  // merge writes the portal's comma format, with the serials from the hashes.
  auto merged = hangar({"merge", file("sv.csv").string(), file("unicode.txt").string(), "-o",
                        file("upload.csv").string()});
  EXPECT_EQ(merged.code, 0) << merged.output;
  const std::string upload = read_file(file("upload.csv"));
  EXPECT_EQ(upload.rfind("Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned "
                         "User\r\n165207713570,," +
                             hash_for("165207713570") + ",Lab,\r\n016520771357,,",
                         0),
            0U)
      << upload.substr(0, 200);
  EXPECT_NE(upload.find("\r\n1652077135700,," + hash_for("1652077135700") + ",,\r\n"),
            std::string::npos);
  EXPECT_EQ(upload.find("E+1"), std::string::npos);
  EXPECT_EQ(upload.find(';'), std::string::npos);
  auto strict_merge =
      hangar({"merge", file("sv.csv").string(), "-o", file("strict.csv").string(), "--strict"});
  EXPECT_EQ(strict_merge.code, 1) << strict_merge.output;
  EXPECT_NE(strict_merge.output.find("wrote 1 device(s)"), std::string::npos)
      << strict_merge.output;

  // import queues them under their real serials; --strict refuses them before the service.
  start();
  auto refused =
      hangar_json({"import", file("sv.csv").string(), "--profile", "standard", "--strict"}, 1);
  EXPECT_EQ(refused["accepted"], 1);
  EXPECT_EQ(refused["rejected"], 2);
  auto imported = hangar_json({"import", file("sv.csv").string(), "--profile", "standard"});
  EXPECT_EQ(imported["accepted"], 2);
  EXPECT_EQ(imported["already_queued"], 1);
  EXPECT_EQ(hangar_json({"show", "165207713570"})["serial"], "165207713570");
  EXPECT_EQ(hangar_json({"show", "016520771357"})["serial"], "016520771357");
  EXPECT_NE(hangar({"show", "1,65208E+11"}).code, 0);
  auto listed = hangar_json({"list"});
  ASSERT_EQ(listed["devices"].size(), 3U);
  for (const auto& device : listed["devices"]) {
    EXPECT_EQ(device["serial"].get<std::string>().find('E'), std::string::npos) << device;
  }
  stop();
}

// The service validates every record again: a client that sends the file's serial as it was
// (an older hangar, a script) still gets the device queued under the serial in its hash, and
// strict_serials refuses it there too.
TEST_F(IntakeE2E, TheServiceReplacesASerialExcelChangedWhoeverSentIt) {
  start();
  auto client = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(client.ok()) << client.error().message;
  const ipc::Json device{{"serial", "1,65208E+11"},
                         {"hash", hash_for("165207713570")},
                         {"profile", "standard"},
                         {"source_file", "sv.csv"},
                         {"source_line", 2}};
  auto strict =
      client->call("import", {{"devices", ipc::Json::array({device})}, {"strict_serials", true}});
  ASSERT_TRUE(strict.ok()) << strict.error().message;
  EXPECT_EQ((*strict)["accepted"], 0);
  EXPECT_EQ((*strict)["results"][0]["outcome"], "invalid");
  EXPECT_NE((*strict)["results"][0]["reason"].get<std::string>().find(
                "Excel turned serial 165207713570 into 1,65208E+11 (scientific notation); "
                "refused (--strict)"),
            std::string::npos)
      << *strict;
  auto bad_flag =
      client->call("import", {{"devices", ipc::Json::array({device})}, {"strict_serials", "yes"}});
  ASSERT_FALSE(bad_flag.ok());
  EXPECT_EQ(bad_flag.error().code, ipc::errc::kInvalidArgument);

  auto reply = client->call("import", {{"devices", ipc::Json::array({device})}});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ((*reply)["accepted"], 1);
  EXPECT_EQ((*reply)["results"][0]["serial"], "165207713570");
  EXPECT_EQ((*reply)["results"][0]["serial_in_file"], "1,65208E+11");
  EXPECT_EQ(hangar_json({"show", "165207713570"})["source_line"], 2);

  // The CLI sends the hash's serial: the same device, already queued. The file gives it the group
  // tag Lab, which the queued one (sent without a tag) lacks: a device still waiting takes it, and
  // the import says so (attack round 2, finding 11).
  write_text(file("sv.csv"), swedish_excel_csv());
  auto again = hangar_json({"import", file("sv.csv").string(), "--profile", "standard"});
  EXPECT_EQ(again["accepted"], 2);
  EXPECT_EQ(again["already_queued"], 0) << again.dump();
  EXPECT_EQ(again["updated"], 1) << again.dump();
  EXPECT_NE(again["updates"][0]["reason"].get<std::string>().find(
                "group tag Microsoft365Managed_Autopilot -> Lab"),
            std::string::npos)
      << again.dump();
  EXPECT_EQ(hangar_json({"show", "165207713570"})["group_tag"], "Lab");
  stop();
}

}  // namespace
}  // namespace hangar::test
