// Framing: headers, complete/partial/truncated/oversized/empty frames, the incremental decoder.
#include <gtest/gtest.h>

#include "hangar/ipc/frame.h"
#include "test_support.h"

namespace hangar::ipc {
namespace {

using test::frame_bytes;
using test::ScriptedStream;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(Frame, HeaderRoundTripsLittleEndian) {
  auto h = encode_frame_header(0x01020304u);
  EXPECT_EQ(std::to_integer<int>(h[0]), 4);
  EXPECT_EQ(std::to_integer<int>(h[3]), 1);
  EXPECT_EQ(decode_frame_header(h), 0x01020304u);
}

TEST(Frame, ReadsAFrameDeliveredOneByteAtATime) {
  std::string wire = frame_bytes(R"({"v":1})");
  std::vector<std::string> chunks;
  for (char c : wire) chunks.emplace_back(1, c);
  ScriptedStream stream(chunks);
  auto frame = read_frame(stream, {});
  ASSERT_TRUE(frame.ok()) << frame.error().message;
  EXPECT_EQ(*frame, R"({"v":1})");
}

TEST(Frame, ReadsBackToBackFrames) {
  ScriptedStream stream({frame_bytes("one") + frame_bytes("two")});
  EXPECT_EQ(*read_frame(stream, {}), "one");
  EXPECT_EQ(*read_frame(stream, {}), "two");
  auto end = read_frame(stream, {});
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().code, "closed");
}

TEST(Frame, TruncatedPayloadIsReportedAsTruncated) {
  ScriptedStream stream({frame_bytes("0123456789").substr(0, 8)});
  auto frame = read_frame(stream, {});
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code, "truncated_frame");
  EXPECT_NE(frame.error().message.find("4 of 10"), std::string::npos) << frame.error().message;
}

TEST(Frame, TruncatedHeaderIsReportedAsTruncated) {
  ScriptedStream stream({std::string("\x05\x00", 2)});
  auto frame = read_frame(stream, {});
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code, "truncated_frame");
}

TEST(Frame, OversizedFrameIsRefusedBeforeReadingThePayload) {
  ScriptedStream stream({frame_bytes(std::string(100, 'x'))});
  auto frame = read_frame(stream, {}, 64);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code, "frame_too_large");
  EXPECT_NE(frame.error().message.find("100 bytes"), std::string::npos);
}

TEST(Frame, EmptyFrameIsAnError) {
  ScriptedStream stream({std::string(4, '\0')});
  auto frame = read_frame(stream, {});
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code, "empty_frame");
}

TEST(Frame, SilenceMidFrameIsATimeout) {
  ScriptedStream stream({frame_bytes("abcdef").substr(0, 6)}, /*silent_at_end=*/true);
  auto frame = read_frame(stream, {});
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code, "timeout");
  EXPECT_NE(frame.error().message.find("middle of a frame"), std::string::npos);
}

TEST(Frame, WriteFrameWritesHeaderAndPayload) {
  ScriptedStream stream({});
  ASSERT_TRUE(write_frame(stream, "hello", std::chrono::seconds(1)).ok());
  EXPECT_EQ(stream.written(), frame_bytes("hello"));
  EXPECT_FALSE(write_frame(stream, std::string(65, 'x'), std::chrono::seconds(1), 64).ok());
  EXPECT_FALSE(write_frame(stream, "", std::chrono::seconds(1)).ok());
}

TEST(FrameDecoder, SplitsAStreamIntoFrames) {
  FrameDecoder decoder;
  std::string wire = frame_bytes("a") + frame_bytes("bc") + frame_bytes("def");
  std::vector<std::string> out;
  auto input = bytes_of(wire);
  while (!input.empty()) {
    auto used = decoder.feed(input);
    ASSERT_TRUE(used.ok());
    input = input.subspan(*used);
    while (auto f = decoder.next()) out.push_back(*f);
  }
  EXPECT_EQ(out, (std::vector<std::string>{"a", "bc", "def"}));
  EXPECT_FALSE(decoder.in_frame());
}

TEST(FrameDecoder, StaysFailedAfterAnOversizedHeader) {
  FrameDecoder decoder(16);
  std::string wire = frame_bytes(std::string(17, 'x'));
  auto used = decoder.feed(bytes_of(wire));
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.error().code, "frame_too_large");
  std::string good = frame_bytes("ok");
  EXPECT_FALSE(decoder.feed(bytes_of(good)).ok());
}

}  // namespace
}  // namespace hangar::ipc
