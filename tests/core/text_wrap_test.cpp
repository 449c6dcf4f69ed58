// Help texts fit 80 columns (issue 13, finding 5): long lines broken at spaces, continuations
// indented under what they continue, nothing lost.
#include "hangar/core/text_wrap.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hangar::core {
namespace {

std::size_t widest(const std::string& text) {
  std::istringstream in(text);
  std::size_t most = 0;
  for (std::string line; std::getline(in, line);) most = std::max(most, line.size());
  return most;
}

// The words, in order, whatever the line breaks and indents.
std::string words(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string word; in >> word;) out += word + " ";
  return out;
}

TEST(TextWrap, ShortLinesAndBlankLinesStayAsTheyAre) {
  const std::string text = "usage: x\n\n  --a   one\nexamples:\n  x --a\n";
  EXPECT_EQ(wrap_lines(text), text);
  EXPECT_EQ(wrap_lines(""), "");
  EXPECT_EQ(wrap_lines("no newline"), "no newline");
}

TEST(TextWrap, AnOptionsDescriptionContinuesUnderItself) {
  const std::string line =
      "  --profile P           standard, sensitive-data or power-user (any case; '-', '_' or a "
      "space between the words) (required)\n";
  const std::string wrapped = wrap_lines(line);
  EXPECT_EQ(wrapped,
            "  --profile P           standard, sensitive-data or power-user (any case; '-',\n"
            "                        '_' or a space between the words) (required)\n");
}

TEST(TextWrap, AUsageLineContinuesUnderItsArguments) {
  const std::string line =
      "usage: hangar [--json] import FILE... --profile standard|sensitive-data|power-user "
      "[--group-tag TAG] [--user UPN] [--expect-build BUILD [--allow-build-mismatch]] [--strict]";
  const std::string wrapped = wrap_lines(line, 80);
  EXPECT_LE(widest(wrapped), 80u) << wrapped;
  EXPECT_EQ(words(wrapped), words(line));
  EXPECT_EQ(wrapped.substr(wrapped.find('\n') + 1, 14), std::string(14, ' ')) << wrapped;
}

TEST(TextWrap, ProseContinuesTwoColumnsIn) {
  const std::string line(
      "exit codes: 0 ok, 1 command failed (or invalid input found), 2 usage error, 3 service "
      "unreachable");
  EXPECT_EQ(wrap_lines(line),
            "exit codes: 0 ok, 1 command failed (or invalid input found), 2 usage error, 3\n"
            "  service unreachable");
}

TEST(TextWrap, AParagraphIsReflowedNotCutIntoShortLines) {
  // A paragraph written to 88 columns: the words cut off a line go in front of the next line of
  // the same paragraph, not on a short line of their own; a sentence's end keeps its line break.
  const std::string text =
      "Hash files: every shape (Get-WindowsAutoPilotInfo with or without -Partner, Microsoft\n"
      "Managed Desktop, the portal's), in UTF-8 (with or without BOM), UTF-16 or Windows-1252.\n"
      "Next sentence.\n"
      "  --strict              refuse a row whose serial differs from its hash's (Excel's\n"
      "                        doing or not).\n"
      "  --user UPN            the user\n";
  EXPECT_EQ(wrap_lines(text),
            "Hash files: every shape (Get-WindowsAutoPilotInfo with or without -Partner,\n"
            "Microsoft Managed Desktop, the portal's), in UTF-8 (with or without BOM), UTF-16\n"
            "or Windows-1252.\n"
            "Next sentence.\n"
            "  --strict              refuse a row whose serial differs from its hash's\n"
            "                        (Excel's doing or not).\n"
            "  --user UPN            the user\n");
  EXPECT_EQ(words(wrap_lines(text)), words(text));
}

TEST(TextWrap, AWordWiderThanTheRoomStaysWhole) {
  const std::string url = "https://" + std::string(90, 'x');
  EXPECT_EQ(wrap_lines("see " + url + " for more", 80), "see\n  " + url + "\n  for more");
}

}  // namespace
}  // namespace hangar::core
