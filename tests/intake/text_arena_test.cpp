// Tests for TextArena: what goes in comes out, at the length-prefix boundaries, across blocks, and
// for a string longer than a block.
#include "hangar/intake/text_arena.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace hangar::core {
namespace {

TEST(TextArena, KeepsEveryStringAsGiven) {
  TextArena arena;
  const std::vector<std::string> texts{"",
                                       "S",
                                       "016520771357",
                                       std::string(127, 'a'),  // one length byte
                                       std::string(128, 'b'),  // two
                                       std::string(16383, 'c'),
                                       std::string(16384, 'd'),  // three
                                       std::string("nul\0inside", 10),
                                       "Ünïcödé serial"};
  std::vector<TextArena::Ref> refs;
  for (const auto& text : texts) refs.push_back(arena.add(text));
  ASSERT_EQ(arena.strings(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(arena.view(refs[i]), texts[i]) << i;
}

TEST(TextArena, ViewsStayValidAsItGrowsAcrossBlocks) {
  TextArena arena;
  std::vector<TextArena::Ref> refs;
  const std::string_view first_view = arena.view(arena.add("FIRST-SERIAL"));
  for (int i = 0; i < 200'000; ++i) refs.push_back(arena.add("SN" + std::to_string(i)));
  // 200,000 short strings need several 64 KiB blocks, and each costs its bytes plus one.
  EXPECT_GT(arena.capacity_bytes(), TextArena::kBlockBytes);
  EXPECT_LT(arena.capacity_bytes(), 200'000U * 12U);
  EXPECT_EQ(first_view, "FIRST-SERIAL");
  for (int i = 0; i < 200'000; i += 997) {
    EXPECT_EQ(arena.view(refs[static_cast<std::size_t>(i)]), "SN" + std::to_string(i));
  }
  EXPECT_EQ(arena.view(refs.back()), "SN199999");
}

TEST(TextArena, AStringLongerThanABlockGetsItsOwn) {
  TextArena arena;
  const auto small = arena.add("before");
  const std::string big(TextArena::kBlockBytes * 2 + 5, 'x');
  const auto large = arena.add(big);
  const auto after = arena.add("after");
  EXPECT_EQ(arena.view(small), "before");
  EXPECT_EQ(arena.view(large), big);
  EXPECT_EQ(arena.view(after), "after");
}

TEST(TextArena, AReferenceItNeverGaveIsRefused) {
  TextArena arena;
  EXPECT_THROW((void)arena.view(0), std::out_of_range);
  const auto ref = arena.add("one");
  EXPECT_THROW((void)arena.view(ref + 100), std::out_of_range);
  EXPECT_THROW((void)arena.view(ref + (TextArena::Ref{5} << 32)), std::out_of_range);
}

}  // namespace
}  // namespace hangar::core
