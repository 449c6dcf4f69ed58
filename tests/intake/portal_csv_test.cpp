// Tests for the Intune portal CSV writer: exact header, ASCII only, no quotes, CRLF, numbered
// splits.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "hangar/core/hardware_hash.h"
#include "hangar/intake/portal_csv.h"
#include "test_support.h"

namespace hangar::core {
namespace {

using testing::TempDir;

DeviceRecord record(const std::string& serial) {
  DeviceRecord r;
  r.serial_number = serial;
  r.hardware_hash = *decode_base64_bytes(testing::fake_hash(serial));
  r.group_tag = std::string(kDefaultGroupTag);
  r.source_file = "in.csv";
  r.source_line = 2;
  return r;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PortalCsv, ExactFormat) {
  std::vector<DeviceRecord> records{record("S1"), record("S2")};
  records[1].assigned_user = "ann@contoso.com";
  std::ostringstream out;
  ASSERT_TRUE(write_portal_csv(records, out).ok());
  const std::string text = out.str();
  const std::string expected =
      "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User\r\n"
      "S1,," +
      encode_base64(records[0].hardware_hash) +
      ",Microsoft365Managed_Autopilot,\r\n"
      "S2,," +
      encode_base64(records[1].hardware_hash) +
      ",Microsoft365Managed_Autopilot,ann@contoso.com\r\n";
  EXPECT_EQ(text, expected);
  EXPECT_EQ(text.find('"'), std::string::npos);
}

TEST(PortalCsv, RejectsNonAsciiCommasAndQuotes) {
  std::vector<DeviceRecord> records{record("S1"), record("S2"), record("S3"), record("S4"),
                                    record("S5")};
  records[0].assigned_user = "jos\xC3\xA9@contoso.com";
  records[1].group_tag = "a,b";
  records[2].windows_product_id = "\"x\"";
  records[3].hardware_hash.clear();
  records[4].group_tag = "=1+1";  // round 9: a formula never reaches an upload file
  auto problems = check_portal_records(records);
  ASSERT_EQ(problems.size(), 5U);
  EXPECT_EQ(problems[4].field, "Group Tag");
  EXPECT_NE(problems[4].message.find("the tag begins with '='"), std::string::npos)
      << problems[4].message;
  EXPECT_EQ(problems[0].field, "Assigned User");
  EXPECT_NE(problems[0].message.find("record 1"), std::string::npos);
  EXPECT_NE(problems[0].message.find("non-ASCII"), std::string::npos);
  EXPECT_EQ(problems[1].field, "Group Tag");
  EXPECT_NE(problems[1].message.find("comma"), std::string::npos);
  EXPECT_NE(problems[2].message.find("quote"), std::string::npos);
  EXPECT_EQ(problems[3].field, "Hardware Hash");
  std::ostringstream out;
  auto st = write_portal_csv(records, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "portal_csv.unfit");
  EXPECT_TRUE(out.str().empty());
}

TEST(PortalCsv, SplitsIntoNumberedFiles) {
  TempDir dir;
  std::vector<DeviceRecord> records;
  for (int i = 0; i < 7; ++i) records.push_back(record("S" + std::to_string(i)));
  auto files = write_portal_csv_files(records, dir.path() / "merged.csv", 3);
  ASSERT_TRUE(files.ok()) << files.error().message;
  ASSERT_EQ(files->size(), 3U);
  EXPECT_EQ((*files)[0].filename(), "merged-001.csv");
  EXPECT_EQ((*files)[2].filename(), "merged-003.csv");
  const std::string last = slurp((*files)[2]);
  EXPECT_EQ(last.rfind(std::string(kPortalHeader) + "\r\nS6,,", 0), 0U);
  std::size_t rows = 0;
  for (const auto& f : *files) {
    const std::string text = slurp(f);
    std::size_t lines = 0;
    for (std::size_t p = 0; (p = text.find("\r\n", p)) != std::string::npos; p += 2) ++lines;
    EXPECT_LE(lines - 1, 3U);
    rows += lines - 1;
  }
  EXPECT_EQ(rows, 7U);
  // Nothing but the three parts: no temporary file is left behind.
  std::size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().extension(), ".csv") << entry.path();
    ++entries;
  }
  EXPECT_EQ(entries, 3U);

  auto single = write_portal_csv_files(records, dir.path() / "all.csv");
  ASSERT_TRUE(single.ok());
  ASSERT_EQ(single->size(), 1U);
  EXPECT_EQ((*single)[0].filename(), "all.csv");
}

TEST(PortalCsv, PartPathNaming) {
  EXPECT_EQ(portal_part_path("out/name.csv", 1), std::filesystem::path("out") / "name-001.csv");
  EXPECT_EQ(portal_part_path("name.csv", 12).filename(), "name-012.csv");
  EXPECT_EQ(portal_part_path("name.csv", 1234).filename(), "name-1234.csv");
  // No extension asked for: the parts still get the portal's (black-box round 9).
  EXPECT_EQ(portal_part_path("upload", 2).filename(), "upload-002.csv");
}

// Issue 13, finding 1: the group tag rule (imports, --group-tag, the config's tag_profiles keys)
// refuses a tag of spaces and spaces around a tag, which no CSV cell can carry.
TEST(PortalCsv, AGroupTagIsNotOnlySpacesNorHasThemAroundIt) {
  EXPECT_EQ(group_tag_problem("Sales"), "");
  EXPECT_EQ(group_tag_problem("Contoso Sales"), "");  // a space inside is the tag's
  EXPECT_EQ(group_tag_problem(""), "is empty");
  EXPECT_EQ(group_tag_problem("   "), "is only spaces");
  EXPECT_EQ(group_tag_problem(" Sales"),
            "begins with a space; write it without the spaces around it");
  EXPECT_EQ(group_tag_problem("Sales "),
            "ends with a space; write it without the spaces around it");
  EXPECT_NE(group_tag_problem("Sales\t").find("control character"), std::string::npos);
}

// Black-box round 8: a tag a spreadsheet runs as a formula (CSV injection) never reaches an upload
// file; the same characters inside a tag are the tag's.
TEST(PortalCsv, AGroupTagDoesNotStartLikeAFormula) {
  for (const char* tag : {"=HYPERLINK(A1)", "=1+1", "+1", "-Lab", "@SUM(A1)"}) {
    EXPECT_NE(group_tag_problem(tag).find("which a spreadsheet opening the upload file would run "
                                          "as a formula"),
              std::string::npos)
        << tag;
  }
  EXPECT_EQ(group_tag_problem("Lab-1"), "");
  EXPECT_EQ(group_tag_problem("R&D=1"), "");
  EXPECT_EQ(group_tag_problem("1-floor"), "");
}

}  // namespace
}  // namespace hangar::core
