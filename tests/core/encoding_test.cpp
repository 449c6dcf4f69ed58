// Tests for encoding detection and streaming conversion to UTF-8.
#include <gtest/gtest.h>

#include "hangar/core/text_encoding.h"
#include "test_support.h"

namespace hangar::core {
namespace {

using testing::to_utf16;

// Feeds `bytes` in chunks of `chunk` bytes, so every split point gets exercised.
std::string decode_chunked(std::string_view bytes, std::size_t chunk, TextEncoding* detected,
                           std::vector<DecodeIssue>* issues = nullptr) {
  TextDecoder decoder;
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) decoder.feed(bytes.substr(i, chunk), out);
  decoder.finish(out);
  *detected = decoder.encoding();
  if (issues != nullptr) *issues = decoder.take_issues();
  return out;
}

const std::string kText =
    "Device Serial Number,Model\r\nS1,Caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xBB\r\n";

TEST(EncodingDetect, Utf8WithAndWithoutBom) {
  TextEncoding enc{};
  EXPECT_EQ(decode_to_utf8(kText, TextEncoding::kAuto, &enc), kText);
  EXPECT_EQ(enc, TextEncoding::kUtf8);
  EXPECT_EQ(decode_to_utf8("\xEF\xBB\xBF" + kText, TextEncoding::kAuto, &enc), kText);
  EXPECT_EQ(enc, TextEncoding::kUtf8Bom);
}

TEST(EncodingDetect, Utf16LeAndBeWithBom) {
  TextEncoding enc{};
  EXPECT_EQ(decode_to_utf8(to_utf16(kText, true, true), TextEncoding::kAuto, &enc), kText);
  EXPECT_EQ(enc, TextEncoding::kUtf16Le);
  EXPECT_EQ(decode_to_utf8(to_utf16(kText, false, true), TextEncoding::kAuto, &enc), kText);
  EXPECT_EQ(enc, TextEncoding::kUtf16Be);
}

TEST(EncodingDetect, Utf16LeWithoutBomByZeroPattern) {
  TextDecoder decoder;
  std::string out;
  decoder.feed(to_utf16(kText, true, false), out);
  decoder.finish(out);
  EXPECT_EQ(out, kText);
  EXPECT_EQ(decoder.encoding(), TextEncoding::kUtf16Le);
  EXPECT_TRUE(decoder.utf16_without_bom());
}

TEST(EncodingDetect, Windows1252) {
  // "Café" and the 0x80-0x9F specials: euro, en dash, curly quotes.
  const std::string ansi = "Model\r\nCaf\xE9 \x80 \x96 \x93x\x94 \x81\r\n";
  TextEncoding enc{};
  const std::string utf8 = decode_to_utf8(ansi, TextEncoding::kAuto, &enc);
  EXPECT_EQ(enc, TextEncoding::kWindows1252);
  EXPECT_EQ(
      utf8,
      "Model\r\nCaf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x93 \xE2\x80\x9Cx\xE2\x80\x9D \xC2\x81\r\n");
  EXPECT_EQ(windows1252_to_utf8("\x9F\xFF"), "\xC5\xB8\xC3\xBF");
}

TEST(EncodingStream, EverySplitPointGivesTheSameText) {
  const std::vector<std::string> inputs{kText, "\xEF\xBB\xBF" + kText, to_utf16(kText, true, true),
                                        to_utf16(kText, false, true), to_utf16(kText, true, false)};
  for (const auto& input : inputs) {
    for (std::size_t chunk = 1; chunk <= 7; ++chunk) {
      TextEncoding enc{};
      std::vector<DecodeIssue> issues;
      EXPECT_EQ(decode_chunked(input, chunk, &enc, &issues), kText) << "chunk " << chunk;
      EXPECT_TRUE(issues.empty());
    }
  }
}

TEST(EncodingStream, TruncatedUtf16IsDiagnosed) {
  std::string odd = to_utf16("Serial\r\nAB", true, true);
  odd.pop_back();  // odd number of bytes
  TextEncoding enc{};
  std::vector<DecodeIssue> issues;
  const std::string out = decode_chunked(odd, 3, &enc, &issues);
  EXPECT_EQ(out, "Serial\r\nA\xEF\xBF\xBD");
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_TRUE(issues[0].error);
  EXPECT_NE(issues[0].message.find("truncated UTF-16"), std::string::npos);

  // Half a surrogate pair at the end, and a lone low surrogate in the middle.
  std::string surrogate = to_utf16("A", true, true) + std::string("\x3D\xD8", 2);
  decode_chunked(surrogate, 1, &enc, &issues);
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_NE(issues[0].message.find("half of a surrogate pair"), std::string::npos);
  std::string lone =
      to_utf16("A", true, true) + std::string("\x00\xDC", 2) + to_utf16("B", true, false);
  EXPECT_EQ(decode_chunked(lone, 2, &enc, &issues),
            "A\xEF\xBF\xBD"
            "B");
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_NE(issues[0].message.find("low surrogate"), std::string::npos);
}

TEST(EncodingStream, InvalidUtf8AfterValidUtf8FallsBackPerByte) {
  TextEncoding enc{};
  std::vector<DecodeIssue> issues;
  const std::string out = decode_chunked("caf\xC3\xA9 na\xEFve", 2, &enc, &issues);
  EXPECT_EQ(enc, TextEncoding::kUtf8);
  EXPECT_EQ(out, "caf\xC3\xA9 na\xC3\xAFve");
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_FALSE(issues[0].error);
}

TEST(EncodingStream, IssuesAreCapped) {
  std::string garbage;
  for (int i = 0; i < 100; ++i) garbage += std::string("\x00\xDC", 2);
  TextDecoder decoder(TextEncoding::kUtf16Le);
  std::string out;
  decoder.feed(garbage, out);
  decoder.finish(out);
  EXPECT_EQ(decoder.take_issues().size(), TextDecoder::kMaxIssues);
  EXPECT_EQ(decoder.suppressed_issues(), 100U - TextDecoder::kMaxIssues);
}

TEST(EncodingStream, EmptyAndTinyInputs) {
  TextEncoding enc{};
  EXPECT_EQ(decode_to_utf8("", TextEncoding::kAuto, &enc), "");
  EXPECT_EQ(decode_to_utf8("a", TextEncoding::kAuto, &enc), "a");
  EXPECT_EQ(decode_to_utf8("\xC3", TextEncoding::kAuto, &enc), "\xC3\x83");  // 1252 'Ã'
  EXPECT_EQ(decode_to_utf8("\xFF\xFE", TextEncoding::kAuto, &enc), "");
  EXPECT_EQ(enc, TextEncoding::kUtf16Le);
  EXPECT_TRUE(is_valid_utf8("ok \xE2\x82\xAC"));
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // an encoded surrogate
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
}

}  // namespace
}  // namespace hangar::core
