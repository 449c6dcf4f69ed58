// run_capture with an injected device reader and queue: every path of `hangar capture` without WMI.
#include "capture_cmd.h"
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include "hangar/core/hardware_hash.h"
#include "hangar/core/hash_builder.h"

namespace hangar {
namespace {
namespace fs = std::filesystem;

struct Fixture : ::testing::Test {
  fs::path dir;
  std::vector<core::DeviceRecord> queued;
  core::Result<std::string> queue_answer = std::string("queued as #7");
  std::ostringstream out, err;
  core::CapturedDevice device;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("hcap-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    device.serial_number = "PF3ABC12";
    device.manufacturer = "LENOVO";
    device.model = "20XW";
    device.has_hash = true;
    device.hardware_hash_base64 =
        core::HardwareHashBuilder::realistic("PF3ABC12", "LENOVO", "20XW").build_base64();
  }
  void TearDown() override { fs::remove_all(dir); }
  int run(std::vector<std::string> args, bool json = false) {
    out.str("");
    err.str("");
    return cli::run_capture(
        args, json, out, err,
        [this](const core::DeviceRecord& r) -> core::Result<std::string> {
          queued.push_back(r);
          return queue_answer;
        },
        [this]() -> core::Result<core::CapturedDevice> { return device; });
  }
  std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

TEST_F(Fixture, Usage) {
  EXPECT_EQ(run({"--bogus"}), 2);
  EXPECT_NE(err.str().find("unknown option --bogus"), std::string::npos);
  EXPECT_EQ(run({"--grouptag", "Sales"}), 2);  // issue 13, item 7: "did you mean" here too
  EXPECT_NE(err.str().find("unknown option --grouptag (did you mean \"--group-tag\"?)"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(run({"--output"}), 2);
  EXPECT_NE(err.str().find("--output needs a value"), std::string::npos);
  EXPECT_EQ(run({"file.csv"}), 2);
  EXPECT_EQ(run({"--user", "a@x", "--user=b@x"}), 2);
  EXPECT_NE(err.str().find("given twice"), std::string::npos);
  // The user principal name rule of every path that takes a user (issue 13).
  EXPECT_EQ(run({"--user", "ada lovelace@contoso.com"}), 2);
  EXPECT_NE(err.str().find("--user takes the user's principal name, and \"ada lovelace@contoso.com"
                           "\" has a space before the @"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(run({"--user", "   "}), 2);
  EXPECT_NE(err.str().find("--user takes the user's principal name, and \"\" is empty"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(run({"--no-queue=1"}), 2);
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(out.str().find("usage: hangar capture"), std::string::npos);
  EXPECT_TRUE(queued.empty());
}

TEST_F(Fixture, PerDeviceFileAndQueue) {
  // Blanks around the tag and the user are dropped, as from the CSV's cells (issue 13, finding 3).
  EXPECT_EQ(run({"--output", dir.string(), "--group-tag", " Sales\t", "--user= ana@contoso.com "}),
            0)
      << err.str();
  std::cout << out.str();
  const auto file = dir / "PF3ABC12.csv";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(read(file),
            "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned "
            "User\r\nPF3ABC12,," +
                device.hardware_hash_base64 + ",Sales,ana@contoso.com\r\n");
  ASSERT_EQ(queued.size(), 1U);
  EXPECT_EQ(queued[0].serial_number, "PF3ABC12");
  EXPECT_EQ(core::encode_base64(queued[0].hardware_hash), device.hardware_hash_base64);
  EXPECT_EQ(queued[0].group_tag, "Sales");
  EXPECT_EQ(queued[0].assigned_user, "ana@contoso.com");
  EXPECT_EQ(queued[0].manufacturer, "LENOVO");
  EXPECT_EQ(queued[0].source_line, 2U);
  EXPECT_NE(out.str().find("Queued for registration: queued as #7"), std::string::npos);
  // again: already captured, nothing queued
  EXPECT_EQ(run({"--output", dir.string()}), 1);
  std::cout << err.str();
  EXPECT_NE(err.str().find("already captured"), std::string::npos);
  EXPECT_EQ(queued.size(), 1U);
}

TEST_F(Fixture, DefaultDirIsCwd) {
  auto old = fs::current_path();
  fs::current_path(dir);
  int rc = run({"--no-queue"});
  fs::current_path(old);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_TRUE(fs::exists(dir / "PF3ABC12.csv"));
  EXPECT_TRUE(queued.empty());
  EXPECT_NE(out.str().find("Not queued (--no-queue)"), std::string::npos);
  std::cout << out.str();
}

TEST_F(Fixture, Unreachable) {
  queue_answer =
      core::make_error("unavailable", "no service is listening on /run/hangar/hangar.sock");
  EXPECT_EQ(run({"--output", dir.string()}), 0);
  std::cout << out.str();
  EXPECT_NE(out.str().find("import it later with `hangar import"), std::string::npos);
  queue_answer = core::make_error("timeout", "the service did not answer in 30 s");
  device.serial_number = "SN2";
  EXPECT_EQ(run({"--output", dir.string()}), 0);
}

TEST_F(Fixture, Refused) {
  queue_answer = core::make_error("invalid_record", "hash not valid");
  EXPECT_EQ(run({"--output", dir.string()}), 1);
  std::cout << out.str() << "ERR: " << err.str();
  EXPECT_NE(err.str().find("the service did not queue the device: hash not valid"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "PF3ABC12.csv"));
}

TEST_F(Fixture, NoHash) {
  device.has_hash = false;
  device.hardware_hash_base64.clear();
  device.notes = {"the WMI class MDM_DevDetail_Ext01 ... is not available"};
  EXPECT_EQ(run({"--output", dir.string()}), 1);
  std::cout << out.str() << "ERR: " << err.str();
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_TRUE(queued.empty());
}

TEST_F(Fixture, CaptureError) {
  int rc = cli::run_capture({}, false, out, err, {}, []() -> core::Result<core::CapturedDevice> {
    return core::make_error("capture.wmi_failed", "WMI is not available");
  });
  EXPECT_EQ(rc, 1);
  // The failure, then that nothing was saved, then what to do: no registration was started, so
  // not the seed's "wait until its registration is complete" (attack round 2, finding 09).
  EXPECT_EQ(err.str().rfind("hangar capture: WMI is not available\n"
                            "Saved: NOTHING was saved for this device.\n"
                            "No registration was started for this device: fix the cause above and "
                            "run `hangar capture` again.",
                            0),
            0u)
      << err.str();
  EXPECT_EQ(err.str().find("until its registration is complete"), std::string::npos) << err.str();
}

TEST_F(Fixture, CombinedAndJson) {
  const auto combined = dir / "usb.csv";
  EXPECT_EQ(run({"--combined", combined.string(), "--output", (dir / "per").string()}, true), 0)
      << out.str();
  std::cout << out.str().substr(0, 400) << "\n";
  auto j = nlohmann::json::parse(out.str());
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["device"]["serial_number"], "PF3ABC12");
  EXPECT_EQ(j["files"].size(), 2U);
  EXPECT_EQ(j["queue"]["status"], "queued");
  EXPECT_TRUE(fs::exists(dir / "per" / "PF3ABC12.csv"));
  // combined only, different device
  device.serial_number = "SN2";
  device.hardware_hash_base64 =
      core::HardwareHashBuilder::realistic("SN2", "LENOVO", "20XW").build_base64();
  EXPECT_EQ(run({"--combined", combined.string()}), 0);
  EXPECT_FALSE(fs::exists(fs::current_path() / "SN2.csv"));
  // same path twice -> written once
  device.serial_number = "SN3";
  EXPECT_EQ(run({"--combined", (dir / "SN3.csv").string(), "--output", dir.string()}), 0)
      << err.str();
  EXPECT_EQ(queued.size(), 3U);
  // wrong header in the combined file: per-device file is not written either
  std::ofstream(dir / "bad.csv") << "Serial,Hash\r\n";
  device.serial_number = "SN4";
  EXPECT_EQ(
      run({"--combined", (dir / "bad.csv").string(), "--output", (dir / "per").string()}, true), 1);
  std::cout << out.str() << "\n";
  EXPECT_FALSE(fs::exists(dir / "per" / "SN4.csv"));
  auto jj = nlohmann::json::parse(out.str());
  EXPECT_EQ(jj["error"]["code"], "capture.bad_file");
}

}  // namespace
}  // namespace hangar
