// End-to-end device intake: real hash files through the real hangar CLI (validate, merge, import,
// list, show, remove, export) into the real hangard's durable queue, including a restart.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "child_process.h"
#include "hangar/core/hash_builder.h"
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

  void start() {
    service_ = std::make_unique<Process>(
        std::vector<std::string>{kHangard, "--data-dir", data_dir_.string(), "--endpoint",
                                 endpoint_},
        dir_.path() / "hangard.out");
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

  auto good = hangar({"validate", file("good.csv").string(), "--expect-build", "19045"});
  EXPECT_EQ(good.code, 0) << good.output;  // a build mismatch is a warning, not an error
  EXPECT_NE(good.output.find("check the image"), std::string::npos) << good.output;

  auto json = hangar_json({"validate", file("bad.csv").string()}, 1);
  EXPECT_EQ(json["summary"]["invalid"], 2);
  EXPECT_EQ(json["problems"][0]["line"], 2);
  EXPECT_EQ(json["problems"][0]["field"], "Hardware Hash");
}

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

  // The same hash under another serial is refused by the service (against the queue).
  write_text(file("twin.csv"),
             "Device Serial Number,Windows Product ID,Hardware Hash\n"
             "TWIN-1,," +
                 hash_for("IMP-7") + "\n");
  auto twin = hangar({"import", file("twin.csv").string(), "--profile", "standard"});
  EXPECT_EQ(twin.code, 1) << twin.output;
  EXPECT_NE(twin.output.find("under serial IMP-7"), std::string::npos) << twin.output;

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
  EXPECT_EQ(hangar({"list", "--state", "bogus"}).code, 1);
  EXPECT_EQ(hangar({"list", "--since", "yesterday"}).code, 2);
  EXPECT_EQ(hangar_json({"list", "--since", "1h"})["devices"].size(), 601u);

  auto removed = hangar({"remove", "IMP-0"});
  EXPECT_EQ(removed.code, 0) << removed.output;
  EXPECT_EQ(hangar({"show", "IMP-0"}).code, 1);

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
  stop();
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

}  // namespace
}  // namespace hangar::test
