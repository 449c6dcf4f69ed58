// Edm.Binary base64 and hardware-hash inspection (see hash.h).
#include "hash.h"

namespace hangar::cloudsim {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool is_base64_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}

std::string record_text(std::span<const std::uint8_t> payload) {
  std::string out;
  for (auto b : payload) {
    if (b == 0) break;
    out.push_back(static_cast<char>(b));
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> decode_edm_binary(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (!is_base64_space(c)) clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < clean.size() && clean[clean.size() - 1 - padding] == '=') ++padding;
  if (padding > 2) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(clean.size() / 4 * 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < clean.size() - padding; ++i) {
    auto pos = kAlphabet.find(clean[i]);
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string encode_base64(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t v = (static_cast<std::uint32_t>(bytes[i]) << 16) |
                      (static_cast<std::uint32_t>(bytes[i + 1]) << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(kAlphabet[(v >> 6) & 0x3F]);
    out.push_back(kAlphabet[v & 0x3F]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

HashFacts inspect_hash(std::span<const std::uint8_t> bytes) {
  HashFacts facts;
  if (bytes.size() < 8 || bytes[0] != 'O' || bytes[1] != 'A') return facts;
  std::size_t at = 4;
  int records = 0;
  while (at + 4 <= bytes.size()) {
    std::uint16_t type = read_u16(bytes, at);
    std::uint16_t length = read_u16(bytes, at + 2);
    if (length < 4 || at + length > bytes.size()) break;
    auto payload = bytes.subspan(at + 4, length - 4u);
    if (type == 14) facts.serial_number = record_text(payload);
    if (type == 16) facts.manufacturer = record_text(payload);
    if (type == 17) facts.model = record_text(payload);
    ++records;
    at += length;
  }
  facts.layout_ok = records > 0;
  return facts;
}

}  // namespace hangar::cloudsim
