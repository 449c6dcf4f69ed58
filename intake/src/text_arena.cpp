// TextArena: strings stored as a length (LEB128: 7 bits a byte) followed by the bytes.
#include "hangar/intake/text_arena.h"

#include <cstring>
#include <stdexcept>

namespace hangar::core {
namespace {

std::size_t prefix_bytes(std::size_t length) {
  std::size_t n = 1;
  while (length >= 0x80) {
    length >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

TextArena::Ref TextArena::add(std::string_view text) {
  const std::size_t need = prefix_bytes(text.size()) + text.size();
  if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < need) {
    if (blocks_.size() >= UINT32_MAX) throw std::length_error("TextArena: too many blocks");
    const std::size_t capacity = need > kBlockBytes ? need : kBlockBytes;
    if (capacity > UINT32_MAX) throw std::length_error("TextArena: string longer than 4 GiB");
    Block block;
    block.data = std::make_unique_for_overwrite<char[]>(capacity);
    block.capacity = capacity;
    blocks_.push_back(std::move(block));
    capacity_bytes_ += capacity;
  }
  Block& block = blocks_.back();
  const std::size_t offset = block.used;
  char* out = block.data.get() + offset;
  std::size_t length = text.size();
  do {
    auto byte = static_cast<unsigned char>(length & 0x7f);
    length >>= 7;
    if (length != 0) byte |= 0x80;
    *out++ = static_cast<char>(byte);
  } while (length != 0);
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  block.used += need;
  ++strings_;
  return (static_cast<Ref>(blocks_.size() - 1) << 32) | static_cast<Ref>(offset);
}

std::string_view TextArena::view(Ref ref) const {
  const Block& block = blocks_.at(static_cast<std::size_t>(ref >> 32));
  const auto offset = static_cast<std::size_t>(ref & 0xffffffffU);
  if (offset >= block.used) throw std::out_of_range("TextArena: no string at this reference");
  const char* in = block.data.get() + offset;
  std::size_t length = 0;
  int shift = 0;
  for (;;) {
    const auto byte = static_cast<unsigned char>(*in++);
    length |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  return {in, length};
}

}  // namespace hangar::core
