// Exact UTF-8 / UTF-16 / Windows-1252 decoding to UTF-8 (no iconv: see text_encoding.h).
#include "hangar/core/text_encoding.h"

#include <array>

namespace hangar::core {
namespace {

// Windows-1252 0x80-0x9F. 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined; Windows maps them to the C1
// controls of the same value, and so do we, so that no byte is lost.
constexpr std::array<char16_t, 32> kCp1252High{
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

char32_t cp1252_code_point(unsigned char byte) {
  if (byte >= 0x80 && byte <= 0x9F) return kCp1252High[byte - 0x80];
  return byte;
}

enum class Seq { kValid, kIncomplete, kInvalid };

// Classifies the UTF-8 sequence starting at data[0] (a non-ASCII byte); `length` gets its length.
Seq classify_utf8(std::string_view data, std::size_t& length) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(data[i]); };
  const unsigned char lead = at(0);
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return Seq::kInvalid;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if (i >= data.size()) return Seq::kIncomplete;
    const unsigned char c = at(i);
    const unsigned char min = i == 1 ? lo : static_cast<unsigned char>(0x80);
    const unsigned char max = i == 1 ? hi : static_cast<unsigned char>(0xBF);
    if (c < min || c > max) return Seq::kInvalid;
  }
  return Seq::kValid;
}

}  // namespace

std::string_view encoding_name(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kAuto:
      return "auto";
    case TextEncoding::kUtf8:
      return "UTF-8";
    case TextEncoding::kUtf8Bom:
      return "UTF-8 with BOM";
    case TextEncoding::kUtf16Le:
      return "UTF-16LE";
    case TextEncoding::kUtf16Be:
      return "UTF-16BE";
    case TextEncoding::kWindows1252:
      return "Windows-1252";
  }
  return "auto";
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string windows1252_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) append_utf8(out, cp1252_code_point(static_cast<unsigned char>(c)));
  return out;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    if (classify_utf8(text.substr(i), length) != Seq::kValid) return false;
    i += length;
  }
  return true;
}

TextDecoder::TextDecoder(TextEncoding encoding) : encoding_(encoding) {
  switch (encoding) {
    case TextEncoding::kAuto:
      mode_ = Mode::kSniff;
      break;
    case TextEncoding::kUtf8:
    case TextEncoding::kUtf8Bom:
      // Forced UTF-8 still drops a BOM if there is one: sniffing handles that.
      mode_ = Mode::kSniff;
      break;
    case TextEncoding::kUtf16Le:
      mode_ = Mode::kUtf16Le;
      break;
    case TextEncoding::kUtf16Be:
      mode_ = Mode::kUtf16Be;
      break;
    case TextEncoding::kWindows1252:
      mode_ = Mode::kCp1252;
      break;
  }
}

void TextDecoder::add_issue(std::uint64_t offset, std::string message, bool error) {
  if (issues_total_ >= kMaxIssues) {
    ++suppressed_issues_;
    return;
  }
  ++issues_total_;
  issues_.push_back(DecodeIssue{offset, std::move(message), error});
}

std::vector<DecodeIssue> TextDecoder::take_issues() {
  std::vector<DecodeIssue> out;
  out.swap(issues_);
  return out;
}

// Looks at the first (up to) four bytes in carry_ and picks the mode; strips a BOM.
void TextDecoder::detect(std::string& out, bool at_eof) {
  (void)out;
  if (carry_.size() < 4 && !at_eof) return;
  const auto b = [&](std::size_t i) {
    return i < carry_.size() ? static_cast<unsigned char>(carry_[i]) : 0x100U;
  };
  const bool forced_utf8 = encoding_ == TextEncoding::kUtf8 || encoding_ == TextEncoding::kUtf8Bom;
  std::size_t bom = 0;
  if (b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) {
    encoding_ = TextEncoding::kUtf8Bom;
    mode_ = Mode::kUtf8;
    bom = 3;
  } else if (forced_utf8) {
    encoding_ = TextEncoding::kUtf8;
    mode_ = Mode::kUtf8;
  } else if (b(0) == 0xFF && b(1) == 0xFE) {
    encoding_ = TextEncoding::kUtf16Le;
    mode_ = Mode::kUtf16Le;
    bom = 2;
  } else if (b(0) == 0xFE && b(1) == 0xFF) {
    encoding_ = TextEncoding::kUtf16Be;
    mode_ = Mode::kUtf16Be;
    bom = 2;
  } else if (b(0) != 0 && b(0) < 0x80 && b(1) == 0 &&
             (carry_.size() == 2 || (b(2) != 0 && b(2) < 0x100 && b(3) == 0))) {
    // ASCII text written as UTF-16LE without a BOM: "D\0e\0v\0..." (some PowerShell pipelines).
    encoding_ = TextEncoding::kUtf16Le;
    mode_ = Mode::kUtf16Le;
    utf16_without_bom_ = true;
  } else if (b(0) == 0 && b(1) != 0 && b(1) < 0x80 &&
             (carry_.size() == 2 || (b(2) == 0 && b(3) != 0 && b(3) < 0x100))) {
    encoding_ = TextEncoding::kUtf16Be;
    mode_ = Mode::kUtf16Be;
    utf16_without_bom_ = true;
  } else {
    mode_ = Mode::kUndecided8;
    encoding_ = TextEncoding::kUtf8;  // until a non-ASCII byte says otherwise
  }
  carry_.erase(0, bom);
  offset_ += bom;
}

void TextDecoder::feed(std::string_view bytes, std::string& out) {
  if (bytes.empty()) return;
  std::string_view data = bytes;
  if (mode_ == Mode::kSniff || !carry_.empty()) {
    carry_.append(bytes);
    if (mode_ == Mode::kSniff) {
      detect(out, false);
      if (mode_ == Mode::kSniff) return;
    }
    data = carry_;
  }
  std::size_t used = 0;
  if (mode_ == Mode::kUtf16Le || mode_ == Mode::kUtf16Be) {
    used = decode_utf16(data, out);
  } else {
    used = decode_8bit(data, false, out);
  }
  offset_ += used;
  // Keep only the undecodable tail (at most 3 bytes); copy first since `data` may alias carry_.
  std::string rest(data.substr(used));
  carry_.swap(rest);
}

void TextDecoder::finish(std::string& out) {
  if (mode_ == Mode::kSniff) {
    if (carry_.empty()) return;  // empty input: nothing to decide
    detect(out, true);
  }
  if (mode_ == Mode::kUtf16Le || mode_ == Mode::kUtf16Be) {
    const std::size_t used = decode_utf16(carry_, out);
    offset_ += used;
    if (used < carry_.size()) {
      add_issue(offset_,
                "truncated UTF-16: the file ends in the middle of a character (an odd number of "
                "bytes); the last byte was dropped",
                true);
      append_utf8(out, 0xFFFD);
    }
    if (high_surrogate_ != 0) {
      add_issue(high_offset_, "truncated UTF-16: the file ends after half of a surrogate pair",
                true);
      append_utf8(out, 0xFFFD);
      high_surrogate_ = 0;
    }
  } else {
    offset_ += decode_8bit(carry_, true, out);
  }
  carry_.clear();
}

std::size_t TextDecoder::decode_8bit(std::string_view data, bool at_eof, std::string& out) {
  std::size_t i = 0;
  const std::size_t n = data.size();
  while (i < n) {
    // Copy runs of ASCII (and whole runs in 1252 mode) in one go: this is the hot loop.
    std::size_t run = i;
    while (run < n && static_cast<unsigned char>(data[run]) < 0x80) ++run;
    out.append(data.data() + i, run - i);
    i = run;
    if (i >= n) break;
    const unsigned char lead = static_cast<unsigned char>(data[i]);
    if (mode_ == Mode::kCp1252) {
      append_utf8(out, cp1252_code_point(lead));
      ++i;
      continue;
    }
    std::size_t length = 0;
    const Seq seq = classify_utf8(data.substr(i), length);
    if (seq == Seq::kIncomplete && !at_eof) break;  // wait for the rest of the sequence
    if (seq == Seq::kValid) {
      if (mode_ == Mode::kUndecided8) mode_ = Mode::kUtf8;
      out.append(data.data() + i, length);
      i += length;
      continue;
    }
    // Not UTF-8 here. Undecided: the file is Windows-1252. Decided UTF-8: a mixed file.
    if (mode_ == Mode::kUndecided8) {
      mode_ = Mode::kCp1252;
      encoding_ = TextEncoding::kWindows1252;
    } else if (!warned_invalid_utf8_) {
      warned_invalid_utf8_ = true;
      add_issue(offset_ + i,
                "invalid UTF-8 at byte " + std::to_string(offset_ + i) +
                    "; such bytes are read as Windows-1252 (the file mixes encodings)",
                false);
    }
    append_utf8(out, cp1252_code_point(lead));
    ++i;
  }
  return i;
}

std::size_t TextDecoder::decode_utf16(std::string_view data, std::string& out) {
  const bool le = mode_ == Mode::kUtf16Le;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    const auto b0 = static_cast<unsigned char>(data[i]);
    const auto b1 = static_cast<unsigned char>(data[i + 1]);
    const auto unit = static_cast<char16_t>(le ? (b1 << 8) | b0 : (b0 << 8) | b1);
    if (high_surrogate_ != 0) {
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        const char32_t cp = 0x10000 + ((static_cast<char32_t>(high_surrogate_) - 0xD800) << 10) +
                            (static_cast<char32_t>(unit) - 0xDC00);
        append_utf8(out, cp);
        high_surrogate_ = 0;
        continue;
      }
      add_issue(high_offset_,
                "invalid UTF-16 at byte " + std::to_string(high_offset_) +
                    ": a high surrogate without its low half",
                true);
      append_utf8(out, 0xFFFD);
      high_surrogate_ = 0;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      high_surrogate_ = unit;
      high_offset_ = offset_ + i;
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      add_issue(offset_ + i,
                "invalid UTF-16 at byte " + std::to_string(offset_ + i) +
                    ": a low surrogate without its high half",
                true);
      append_utf8(out, 0xFFFD);
    } else {
      append_utf8(out, unit);
    }
  }
  return i;
}

std::string decode_to_utf8(std::string_view bytes, TextEncoding encoding, TextEncoding* detected,
                           std::vector<DecodeIssue>* issues) {
  TextDecoder decoder(encoding);
  std::string out;
  out.reserve(bytes.size());
  decoder.feed(bytes, out);
  decoder.finish(out);
  if (detected != nullptr) *detected = decoder.encoding();
  if (issues != nullptr) *issues = decoder.take_issues();
  return out;
}

}  // namespace hangar::core
