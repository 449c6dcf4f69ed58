// TextArena: many short strings (the serial numbers of a million rows) kept in a few large blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace hangar::core {

// Append-only. A std::string per row costs 32 bytes of header, plus a heap block of at least 32
// bytes once the text is longer than 15; here a string costs its bytes and a one- or two-byte
// length. Blocks are never moved or copied, so growing has no doubling peak, and views stay valid
// for the arena's life.
class TextArena {
 public:
  // Where a string is: the block (high 32 bits) and the offset of its length prefix (low 32 bits).
  using Ref = std::uint64_t;

  Ref add(std::string_view text);
  std::string_view view(Ref ref) const;

  std::size_t strings() const { return strings_; }
  // Bytes held by the blocks (what the arena costs, not what it stores).
  std::size_t capacity_bytes() const { return capacity_bytes_; }

  // The size of an ordinary block; a longer string gets a block of its own size.
  static constexpr std::size_t kBlockBytes = 64 * 1024;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t used = 0;
    std::size_t capacity = 0;
  };
  std::vector<Block> blocks_;
  std::size_t strings_ = 0;
  std::size_t capacity_bytes_ = 0;
};

}  // namespace hangar::core
