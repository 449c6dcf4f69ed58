// Lenient base64 and the walk over the hardware hash's 'OA' records (layout: hardware_hash.h).
#include "hangar/core/hardware_hash.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "hangar/core/text_encoding.h"
#include "sha256.h"

namespace hangar::core {
namespace {

constexpr std::size_t kMinHashBytes = 16;        // "OA" + length + two tiny records
constexpr std::size_t kMaxMissingTail = 3;       // one base64 group lost at the end
constexpr std::uint16_t kChecksumType = 0x5343;  // "CS" read as a LE u16

constexpr signed char kInvalid = -1;
constexpr signed char kSpace = -2;
constexpr signed char kPad = -3;

constexpr std::array<signed char, 256> make_table() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = kInvalid;
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  }
  for (const char c : {' ', '\t', '\r', '\n', '\v', '\f'})
    t[static_cast<unsigned char>(c)] = kSpace;
  t['='] = kPad;
  return t;
}
constexpr std::array<signed char, 256> kTable = make_table();

Error hash_error(std::string message) {
  return make_error(std::string(kHashNotValidCode), std::move(message));
}

std::string describe_char(unsigned char c) {
  if (c >= 0x21 && c <= 0x7E) return std::string("'") + static_cast<char>(c) + "'";
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "byte 0x%02X", static_cast<unsigned>(c));
  return buf.data();
}

// The one decoder behind both entry points; `normalized` may be null. Groups of four alphabet
// characters (all of a hash without whitespace) take a fast path; anything else goes through the
// per-character loop, which also produces the precise error.
Status decode_impl(std::string_view text, std::vector<std::uint8_t>& bytes,
                   std::string* normalized) {
  bytes.resize(text.size() / 4 * 3 + 3);
  std::uint8_t* out = bytes.data();
  if (normalized != nullptr) {
    normalized->clear();
    normalized->reserve(text.size() + 3);
  }
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t chars = 0;
  std::size_t pads = 0;
  std::size_t i = 0;
  while (i < size) {
    if (bits == 0 && pads == 0) {
      const std::size_t group_start = i;
      while (i + 4 <= size) {
        const int a = kTable[in[i]];
        const int b = kTable[in[i + 1]];
        const int c = kTable[in[i + 2]];
        const int d = kTable[in[i + 3]];
        if ((a | b | c | d) < 0) break;  // whitespace, padding or an error: the slow path
        const auto n = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
        out[0] = static_cast<std::uint8_t>(n >> 16);
        out[1] = static_cast<std::uint8_t>(n >> 8);
        out[2] = static_cast<std::uint8_t>(n);
        out += 3;
        i += 4;
      }
      chars += i - group_start;
      if (normalized != nullptr) normalized->append(text.substr(group_start, i - group_start));
      if (i >= size) break;
    }
    const unsigned char c = in[i];
    const signed char v = kTable[c];
    if (v >= 0) {
      if (pads > 0) {
        return hash_error("not base64: " + describe_char(c) + " after '=' padding at offset " +
                          std::to_string(i));
      }
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        *out++ = static_cast<std::uint8_t>(acc >> bits);
        acc &= (1U << bits) - 1U;
      }
      ++chars;
      if (normalized != nullptr) normalized->push_back(static_cast<char>(c));
    } else if (v == kPad) {
      ++pads;
    } else if (v != kSpace) {
      return hash_error("not base64: invalid character " + describe_char(c) + " at offset " +
                        std::to_string(i));
    }
    ++i;
  }
  bytes.resize(static_cast<std::size_t>(out - bytes.data()));
  if (chars == 0) return hash_error("empty: no base64 text");
  if (chars % 4 == 1) {
    return hash_error("not base64: " + std::to_string(chars) +
                      " characters leave one dangling character (one is missing or extra)");
  }
  const std::size_t needed = (4 - chars % 4) % 4;
  if (pads != 0 && pads != needed) {
    return hash_error("not base64: " + std::to_string(pads) + " '=' where " +
                      std::to_string(needed) + " are needed");
  }
  if (normalized != nullptr) normalized->append(needed, '=');
  return {};
}

std::uint16_t read_u16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

// A NUL-terminated ASCII string from a record payload, made safe to print and to put in JSON.
std::string payload_text(std::span<const std::uint8_t> payload) {
  std::size_t end = 0;
  while (end < payload.size() && payload[end] != 0) ++end;
  std::string raw(reinterpret_cast<const char*>(payload.data()), end);
  std::string text = is_valid_utf8(raw) ? raw : windows1252_to_utf8(raw);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

std::string version_text(std::span<const std::uint8_t> v) {
  return std::to_string(read_u16(v, 2)) + "." + std::to_string(read_u16(v, 0)) + "." +
         std::to_string(read_u16(v, 6)) + "." + std::to_string(read_u16(v, 4));
}

// The records that hold one text each, by record type (the rest are decoded in extract()).
struct TextRecord {
  std::uint16_t type;
  std::string HardwareHashInfo::*field;
};
constexpr std::array<TextRecord, 9> kTextRecords{{
    {13, &HardwareHashInfo::tpm_version},
    {14, &HardwareHashInfo::serial_number},
    {15, &HardwareHashInfo::bios_vendor},
    {16, &HardwareHashInfo::manufacturer},
    {17, &HardwareHashInfo::model},
    {18, &HardwareHashInfo::sku},
    {19, &HardwareHashInfo::family},
    {24, &HardwareHashInfo::product_key_id},
    {26, &HardwareHashInfo::part_number},
}};

void extract(HardwareHashInfo& info, std::uint16_t type, std::span<const std::uint8_t> payload) {
  for (const TextRecord& record : kTextRecords) {
    if (record.type == type) {
      info.*record.field = payload_text(payload);
      return;
    }
  }
  switch (type) {
    case 1:
      if (payload.size() >= 8) info.os_base_build = version_text(payload.subspan(0, 8));
      info.os_build =
          payload.size() >= 16 ? version_text(payload.subspan(8, 8)) : info.os_base_build;
      break;
    case 25:
      info.has_tpm_ek_public_key = !payload.empty();
      break;
    default:
      break;
  }
}

std::string at(std::size_t offset) { return std::to_string(offset); }

std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

// Two independent 64-bit lanes over 8-byte words, finished with splitmix64 (see the header).
HashFingerprint hash_fingerprint(std::span<const std::uint8_t> bytes) {
  std::uint64_t a = 0x243F6A8885A308D3ULL ^ bytes.size();
  std::uint64_t b = 0x13198A2E03707344ULL + bytes.size() * 0x9E3779B97F4A7C15ULL;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, 8);
    a = rotl(a ^ (w * 0x87C37B91114253D5ULL), 31) * 0x4CF5AD432745937FULL;
    b = rotl(b + (w ^ 0xC2B2AE3D27D4EB4FULL), 27) * 0x9FB21C651E98DF25ULL + a;
  }
  std::uint64_t tail = 0;
  for (std::size_t k = 0; i < bytes.size(); ++i, ++k) tail |= std::uint64_t{bytes[i]} << (8 * k);
  a ^= mix(tail + 1);
  b ^= mix(tail ^ 0xDEADBEEFULL);
  return HashFingerprint{mix(a ^ rotl(b, 17)), mix(b + a)};
}

std::array<std::uint8_t, 16> HashFingerprint::bytes() const {
  std::array<std::uint8_t, 16> out{};
  for (int k = 0; k < 8; ++k) {
    out[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(hi >> (56 - 8 * k));
    out[static_cast<std::size_t>(8 + k)] = static_cast<std::uint8_t>(lo >> (56 - 8 * k));
  }
  return out;
}

Result<Base64Decoded> decode_base64_lenient(std::string_view text) {
  Base64Decoded out;
  if (auto st = decode_impl(text, out.bytes, &out.normalized); !st) return std::move(st).error();
  return out;
}

Result<std::vector<std::uint8_t>> decode_base64_bytes(std::string_view text) {
  std::vector<std::uint8_t> bytes;
  if (auto st = decode_impl(text, bytes, nullptr); !st) return std::move(st).error();
  return bytes;
}

std::string encode_base64(std::span<const std::uint8_t> bytes) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out((bytes.size() + 2) / 3 * 4, '=');
  char* o = out.data();
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3, o += 4) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            std::uint32_t{bytes[i + 2]};
    o[0] = alphabet[(n >> 18) & 63];
    o[1] = alphabet[(n >> 12) & 63];
    o[2] = alphabet[(n >> 6) & 63];
    o[3] = alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {  // the '=' are already there
    std::uint32_t n = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) n |= std::uint32_t{bytes[i + 1]} << 8;
    o[0] = alphabet[(n >> 18) & 63];
    o[1] = alphabet[(n >> 12) & 63];
    if (rest == 2) o[2] = alphabet[(n >> 6) & 63];
  }
  return out;
}

std::string_view checksum_name(HashChecksum checksum) {
  switch (checksum) {
    case HashChecksum::kAbsent:
      return "absent";
    case HashChecksum::kValid:
      return "valid";
    case HashChecksum::kValidTruncated:
      return "valid (truncated)";
    case HashChecksum::kMismatch:
      return "mismatch";
  }
  return "absent";
}

Result<HardwareHashInfo> parse_hardware_hash(std::span<const std::uint8_t> b) {
  const std::size_t size = b.size();
  if (size < kMinHashBytes) {
    return hash_error("too short to be a hardware hash (" + std::to_string(size) + " bytes)");
  }
  if (b[0] != 'O' || b[1] != 'A') return hash_error("does not start with the 'OA' signature");
  HardwareHashInfo info;
  info.body_length = read_u16(b, 2);
  const std::size_t body = info.body_length;
  if (body < 8) {
    return hash_error("the header declares a body of " + std::to_string(body) +
                      " bytes, too short to hold any record");
  }
  info.records.reserve(40);

  std::size_t off = 4;
  while (off < body) {
    if (off >= size) {
      return hash_error("the data ends at byte " + at(size) +
                        ", but the header declares a body of " + std::to_string(body) + " bytes");
    }
    if (off + 4 > size) {
      return hash_error("record at offset " + at(off) + " is cut short inside its 4-byte header");
    }
    const std::uint16_t type = read_u16(b, off);
    const std::uint16_t len = read_u16(b, off + 2);
    if (len < 4) {
      return hash_error("record at offset " + at(off) + " declares length " + std::to_string(len) +
                        ", less than its own 4-byte header");
    }
    if (off + len > size) {
      // Only the very last record may be cut short, and only by what one lost base64 group holds.
      const std::size_t missing = off + len - size;
      if (off + len != body || missing > kMaxMissingTail) {
        return hash_error("record at offset " + at(off) + " declares length " +
                          std::to_string(len) + " beyond the end of the data (" +
                          std::to_string(missing) + " bytes missing)");
      }
      info.missing_tail_bytes = missing;
      info.records.push_back({type, len, static_cast<std::uint32_t>(off)});
      extract(info, type, b.subspan(off + 4, size - off - 4));
      off = size;
      break;
    }
    if (off + len > body) {
      return hash_error("record at offset " + at(off) + " declares length " + std::to_string(len) +
                        ", running past the body length " + std::to_string(body) +
                        " the header declares");
    }
    info.records.push_back({type, len, static_cast<std::uint32_t>(off)});
    extract(info, type, b.subspan(off + 4, len - 4U));
    off += len;
  }

  if (off < size) {
    // What follows the body must be the checksum record.
    const std::size_t remaining = size - off;
    if (remaining < 4 || b[off] != 'C' || b[off + 1] != 'S') {
      return hash_error("expected the 'CS' checksum record at offset " + at(off) +
                        " (the end of the body the header declares), found " +
                        std::to_string(remaining) + " other bytes");
    }
    const std::uint16_t len = read_u16(b, off + 2);
    if (len < 4) {
      return hash_error("record at offset " + at(off) + " declares length " + std::to_string(len) +
                        ", less than its own 4-byte header");
    }
    if (off + len > size) {
      const std::size_t missing = off + len - size;
      if (missing > kMaxMissingTail) {
        return hash_error("record at offset " + at(off) + " declares length " +
                          std::to_string(len) + " beyond the end of the data (" +
                          std::to_string(missing) + " bytes missing)");
      }
      info.missing_tail_bytes = missing;
    } else if (off + len < size) {
      return hash_error(std::to_string(size - off - len) +
                        " unexpected bytes after the checksum record at offset " + at(off));
    }
    info.records.push_back({kChecksumType, len, static_cast<std::uint32_t>(off)});
    const std::size_t declared = len - 4U;
    const std::size_t present = std::min(declared, size - off - 4);
    const auto digest = detail::sha256(b.subspan(0, body));
    bool match = declared == digest.size();
    for (std::size_t i = 0; match && i < present; ++i) match = b[off + 4 + i] == digest[i];
    if (!match) {
      info.checksum = HashChecksum::kMismatch;
    } else {
      info.checksum = present == declared ? HashChecksum::kValid : HashChecksum::kValidTruncated;
    }
  }

  if (info.serial_number.empty()) return hash_error("no serial number inside");
  if (info.manufacturer.empty()) return hash_error("no manufacturer inside");
  return info;
}

Result<HardwareHashInfo> parse_hardware_hash_text(std::string_view base64) {
  auto bytes = decode_base64_bytes(base64);
  if (!bytes) return std::move(bytes).error();
  return parse_hardware_hash(*bytes);
}

bool os_build_matches(std::string_view build, std::string_view expected) {
  const auto split = [](std::string_view text) {
    std::vector<std::string_view> parts;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t dot = text.find('.', start);
      const std::size_t end = dot == std::string_view::npos ? text.size() : dot;
      parts.push_back(text.substr(start, end - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return parts;
  };
  const auto want = split(expected);
  if (want.size() == 1 && want[0].empty()) return true;
  const auto have = split(build);
  if (have.size() != 4 || want.size() > 4) return false;
  // One or two parts name the build (and revision); three or four start from the major version.
  const std::size_t first = want.size() <= 2 ? 2 : 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (first + i >= have.size() || have[first + i] != want[i]) return false;
  }
  return true;
}

}  // namespace hangar::core
