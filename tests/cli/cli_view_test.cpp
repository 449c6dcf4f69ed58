// The CLI's small pure pieces: did-you-mean, the list table's shortening and counts.
#include <gtest/gtest.h>

#include <sstream>

#include "help.h"
#include "list_view.h"
#include "suggest.h"

namespace hangar::cli {
namespace {

const std::vector<std::string_view> kCommands{"list",     "show",  "status", "watch",
                                              "validate", "merge", "import", "export"};

TEST(Suggest, TyposAndAbbreviationsFindTheWordAndStrangersFindNothing) {
  EXPECT_EQ(closest_word("lsit", kCommands), "list");
  EXPECT_EQ(closest_word("stauts", kCommands), "status");
  EXPECT_EQ(closest_word("wacth", kCommands), "watch");
  EXPECT_EQ(closest_word("valdiate", kCommands), "validate");
  EXPECT_EQ(closest_word("val", kCommands), "validate");
  EXPECT_EQ(closest_word("EXPROT", kCommands), "export");
  EXPECT_EQ(closest_word("--stat", {"--state", "--since", "--limit"}), "--state");
  EXPECT_EQ(closest_word("--no-splt", {"--no-split", "--strict"}), "--no-split");
  EXPECT_FALSE(closest_word("frobnicate", kCommands));
  EXPECT_FALSE(closest_word("", kCommands));
  EXPECT_FALSE(closest_word(std::string(1000, 'x'), kCommands));
  EXPECT_EQ(did_you_mean("lsit", kCommands), " (did you mean \"list\"?)");
  EXPECT_EQ(did_you_mean("zzzzzz", kCommands), "");
}

TEST(ListView, ShortensWithAnEllipsisNeverInsideACharacter) {
  EXPECT_EQ(shorten("Laptop 7", 8), "Laptop 7");
  EXPECT_EQ(display_width(shorten("Surface Laptop Studio", 8)), 8u);
  EXPECT_EQ(shorten("Surface Laptop Studio", 8),
            std::string("Surface Laptop Studio").substr(0, 8 - display_width(ellipsis())) +
                std::string(ellipsis()));
  // Multi-byte characters count as one column and are never cut in half.
  const std::string cut = shorten("\xC3\x85ngstr\xC3\xB6m Lab", 7);
  EXPECT_EQ(display_width(cut), 7u) << cut;
  EXPECT_EQ(cut.rfind("\xC3\x85ng", 0), 0u) << cut;
  EXPECT_EQ(cut.substr(cut.size() - ellipsis().size()), ellipsis()) << cut;
}

// Attack round 2, findings 02 and 03: East Asian wide characters and emoji take two columns, and a
// serial cut keeps its distinguishing end.
TEST(ListView, WidthIsWhatATerminalShowsAndSerialsKeepTheirEnd) {
  EXPECT_EQ(display_width("\xE6\xBC\xA2\xE5\xAD\x97"), 4u);  // 漢字
  EXPECT_EQ(display_width("\xF0\x9F\x9A\x80"), 2u);          // a rocket emoji
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);                 // e + combining acute
  const std::string wide = shorten("\xE6\xBC\xA2\xE5\xAD\x97\xE6\xBC\xA2\xE5\xAD\x97", 6);
  EXPECT_LE(display_width(wide), 6u) << wide;
  EXPECT_EQ(shorten_middle("SHORT", 8), "SHORT");
  const std::string cut = shorten_middle("VERYLONGSERIALNUMBER-SITE42-0003", 16);
  EXPECT_EQ(display_width(cut), 16u) << cut;
  // The mark is one column (U+2026) or, on Windows consoles, three ("..."): the end is kept whole.
  EXPECT_TRUE(cut.starts_with("VERYLO")) << cut;
  EXPECT_NE(cut.find(ellipsis()), std::string::npos) << cut;
  EXPECT_TRUE(cut.ends_with("42-0003")) << cut;
}

// Black-box round 6: with a long serial every hand-off line was ~120 columns: the serial was
// never cut.
TEST(ListView, TheHandoffListFitsEightyColumnsWithALongSerial) {
  const std::vector<std::vector<std::string>> rows{
      {"VERYLONGSERIALNUMBER-WITH-SITE-CODE-AND-MORE-STUFF-0001", "Contoso Computers Ltd",
       "Surface Laptop Studio 2", "Microsoft365Managed_Autopilot", "Standard", "Ready for user",
       "anna.lindqvist@contoso.com", "2026-12-02 10:00Z"},
      {"S0001", "HP", "EliteBook 840", "Sales", "Standard", "Queued", "", ""}};
  std::ostringstream out;
  print_handoff_table(rows, false, 80, out);
  std::istringstream lines(out.str());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_LE(display_width(line), 80u) << line;
  }
  EXPECT_EQ(count, 3);
  // Cut in the middle, its end kept (how much of it depends on the mark's width: one column, or
  // three on a Windows console).
  const std::string table = out.str();
  const std::size_t row = table.find("\nVER");
  ASSERT_NE(row, std::string::npos) << table;
  const std::string serial_cell = table.substr(row + 1, table.find(' ', row + 1) - row - 1);
  EXPECT_NE(serial_cell.find(ellipsis()), std::string::npos) << serial_cell;
  EXPECT_TRUE(serial_cell.ends_with("0001")) << "the serial keeps its end\n" << table;
  EXPECT_NE(out.str().find("S0001"), std::string::npos) << out.str();
  std::ostringstream wide;
  print_handoff_table(rows, true, 80, wide);
  EXPECT_NE(wide.str().find(rows[0][0]), std::string::npos) << "--wide shows it whole";
}

TEST(ListView, AFailedListGivesTheReasonRoom) {
  const std::vector<ListRow> rows{
      {"OTHERORG-0001", "Registration failed", "standard", "2026-12-02 04:07", "Contoso",
       "Laptop 7", "Device claimed by another organization (ZtdDeviceAssignedToOtherTenant)"},
      {"BADHASH-0001", "Registration failed", "standard", "2026-12-02 04:08", "Contoso", "Laptop 7",
       "Hardware hash not valid"}};
  std::ostringstream out;
  EXPECT_EQ(print_list_table(rows, false, 80, out), "all Registration failed, profile standard")
      << "the shared state was left out";
  EXPECT_EQ(out.str().find("STATE"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Device claimed by another organization"), std::string::npos)
      << out.str();
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) EXPECT_LE(display_width(line), 80u) << line;
  // Different states stay: the state is what tells the rows apart.
  auto mixed = rows;
  mixed[1][1] = "Queued";
  std::ostringstream mixed_out;
  EXPECT_EQ(print_list_table(mixed, false, 80, mixed_out).find("all "), std::string::npos);
  EXPECT_NE(mixed_out.str().find("STATE"), std::string::npos) << mixed_out.str();
}

// Black-box round 13: a serial or make from the cloud holding a control character is shown
// escaped (4 columns a byte) but was measured raw: rows ran past 80 columns, out of line.
TEST(ListView, CellsAreMeasuredAsTheyAreShownEscaped) {
  const std::vector<ListRow> rows{
      {"EV\x1b[31mIL-1", "Ready for user", "standard", "2026-12-02 04:07", "Evil\x1b]0;x\x07",
       "Laptop 7", ""},
      {"PF3ABCDE", "Queued", "standard", "2026-12-02 04:08", "Lenovo", "ThinkPad X1", ""}};
  std::ostringstream out;
  print_list_table(rows, false, 80, out);
  const std::string table = out.str();
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
  EXPECT_NE(table.find("EV\\x1b[31mIL-1"), std::string::npos) << table;
  std::istringstream lines(table);
  std::vector<std::size_t> state_at;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(display_width(line), 80u) << line;
    for (const char* state : {"STATE", "Ready for user", "Queued"}) {
      if (const auto at = line.find(state); at != std::string::npos) state_at.push_back(at);
    }
  }
  ASSERT_EQ(state_at.size(), 3u) << table;
  EXPECT_EQ(state_at[1], state_at[0]) << "the columns line up\n" << table;
  EXPECT_EQ(state_at[2], state_at[0]) << table;
  std::ostringstream handoff;
  print_handoff_table(
      {{"EV\x1b[31mIL-1", "Evil", "Laptop 7", "", "Standard", "Ready for user", "", ""}}, false, 80,
      handoff);
  EXPECT_EQ(handoff.str().find('\x1b'), std::string::npos) << handoff.str();
}

TEST(ListView, CountsHaveThousandsSeparatorsAndSayTheOrder) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1519), "1,519");
  EXPECT_EQ(with_thousands(1234567), "1,234,567");
  EXPECT_EQ(list_count_line(50, 1519), "50 of 1,519 device(s), in the order they were queued");
  EXPECT_EQ(list_count_line(7, 7), "7 device(s), in the order they were queued");
}

TEST(ListView, ATableFitsItsWidthUnlessWide) {
  const std::vector<ListRow> rows{
      {"5CG1234XYZ", "Registration failed", "sensitive-data", "2026-12-02 04:07",
       "Microsoft Corporation", "Surface Laptop Studio 2",
       "Device claimed by another organization"},
      {"PF3ABCDE", "Ready for user", "standard", "2026-12-02 04:08", "Lenovo", "ThinkPad X1", ""}};
  for (const std::size_t width : {80u, 100u}) {
    std::ostringstream out;
    print_list_table(rows, false, width, out);
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);) {
      EXPECT_LE(display_width(line), width) << line;
    }
    // The serials are whole: they are what `show` needs.
    EXPECT_NE(out.str().find("5CG1234XYZ  "), std::string::npos) << out.str();
  }
  std::ostringstream wide;
  print_list_table(rows, true, 80, wide);
  EXPECT_NE(wide.str().find("Device claimed by another organization"), std::string::npos);
  EXPECT_NE(wide.str().find("Surface Laptop Studio 2"), std::string::npos);
}

// The CLI keeps no list of the service's commands: each CLI command names the entries of the
// service's command table (ipc::kCommands) it sends, and every name is one of them.
TEST(ServiceCommands, EveryCommandTheCliSendsIsInTheServicesTable) {
  std::size_t named = 0;
  for (const std::string_view cli_command :
       {"version", "ping", "status", "import", "list", "show", "deliver", "remove", "deregister",
        "export", "retry", "pause", "resume", "refresh", "sync", "watch", "capture", "config"}) {
    const auto sends = service_commands_of(cli_command);
    EXPECT_FALSE(sends.empty()) << cli_command;
    for (const ipc::CommandInfo* info : sends) {
      EXPECT_NE(info, nullptr) << cli_command << " sends a command the service does not have";
      ++named;
    }
  }
  EXPECT_EQ(named, 21u);
  EXPECT_TRUE(service_commands_of("validate").empty()) << "validate works offline";
  EXPECT_EQ(service_commands_of("config").size(), 3u);
}

}  // namespace
}  // namespace hangar::cli
