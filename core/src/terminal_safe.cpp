// The CLI's human output with control characters escaped (see terminal_safe.h).
#include "hangar/core/terminal_safe.h"

#include <sstream>

namespace hangar::core {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void escape_byte(unsigned char c, std::string& out) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

}  // namespace

std::string terminal_safe(std::string_view text, CarriageReturns returns) {
  std::string out;
  {
    std::stringbuf sink;
    {
      TerminalSafeBuffer buffer(&sink, returns);
      buffer.sputn(text.data(), static_cast<std::streamsize>(text.size()));
    }
    out = sink.str();
  }
  return out;
}

std::string one_line_safe(std::string_view value) {
  std::string out;
  for (const char c : terminal_safe(value, CarriageReturns::kOnlyBeforeLineFeed)) {
    if (c == '\n' || c == '\r') {
      escape_byte(static_cast<unsigned char>(c), out);
    } else {
      out += c;
    }
  }
  return out;
}

TerminalSafeBuffer::~TerminalSafeBuffer() {
  std::string out;
  finish(out);
  if (!out.empty()) target_->sputn(out.data(), static_cast<std::streamsize>(out.size()));
  target_->pubsync();
}

void TerminalSafeBuffer::finish(std::string& out) {
  if (pending_cr_) escape_byte('\r', out);
  if (pending_c2_) out += '\xC2';  // an incomplete sequence: not a control, left as it was
  out += pending_e2_;
  pending_e2_.clear();
  if (pending_d8_) out += '\xD8';
  pending_cr_ = pending_c2_ = pending_d8_ = false;
}

void TerminalSafeBuffer::put(char ch, std::string& out) {
  const auto c = static_cast<unsigned char>(ch);
  if (pending_cr_) {
    pending_cr_ = false;
    if (c == '\n') {
      out += "\r\n";
      return;
    }
    escape_byte('\r', out);
  }
  if (!pending_e2_.empty()) {
    // The bidirectional controls (U+200E/F, U+202A..U+202E, U+2066..U+2069) reorder what
    // follows on the line, so a serial can read as another (black-box round 14): escaped too.
    if (pending_e2_.size() == 1 && (c == 0x80 || c == 0x81)) {
      pending_e2_ += ch;
      return;
    }
    if (pending_e2_.size() == 2) {
      const auto second = static_cast<unsigned char>(pending_e2_[1]);
      if (is_line_control(second, c)) {
        pending_e2_.clear();
        const unsigned code = 0x2000u + ((second & 0x3Fu) << 6) + (c & 0x3Fu);
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code >> shift) & 0xF];
        return;
      }
    }
    out += pending_e2_;
    pending_e2_.clear();
    if (c >= 0x80 && c <= 0xBF) {  // the rest of an ordinary character
      out += ch;
      return;
    }
  }
  if (pending_d8_) {
    pending_d8_ = false;
    if (c == 0x9C) {  // U+061C ARABIC LETTER MARK, a bidirectional control too (round 15)
      out += "\\u061c";
      return;
    }
    out += '\xD8';
  }
  if (pending_c2_) {
    pending_c2_ = false;
    if (c >= 0x80 && c <= 0x9F) {  // U+0080..U+009F: the C1 controls (0x9B is CSI)
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      return;
    }
    out += '\xC2';
  }
  if (c == '\n') {
    out += '\n';
  } else if (c == '\r') {
    if (returns_ == CarriageReturns::kAnywhere) {
      out += '\r';
    } else {
      pending_cr_ = true;
    }
  } else if (c < 0x20 || c == 0x7F) {
    escape_byte(c, out);
  } else if (c == 0xC2) {
    pending_c2_ = true;
  } else if (c == 0xE2) {
    pending_e2_ = std::string(1, ch);
  } else if (c == 0xD8) {
    pending_d8_ = true;
  } else {
    out += ch;
  }
}

TerminalSafeBuffer::int_type TerminalSafeBuffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  const char ch = traits_type::to_char_type(c);
  return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
}

std::streamsize TerminalSafeBuffer::xsputn(const char* s, std::streamsize n) {
  std::string out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::streamsize i = 0; i < n; ++i) put(s[i], out);
  if (!out.empty() && target_->sputn(out.data(), static_cast<std::streamsize>(out.size())) !=
                          static_cast<std::streamsize>(out.size())) {
    return 0;
  }
  return n;
}

int TerminalSafeBuffer::sync() { return target_->pubsync(); }

TerminalSafeStream::TerminalSafeStream(std::ostream& stream, CarriageReturns returns)
    : stream_(stream), original_(stream.rdbuf()), buffer_(original_, returns) {
  stream_.flush();
  stream_.rdbuf(&buffer_);
}

TerminalSafeStream::~TerminalSafeStream() {
  stream_.flush();
  stream_.rdbuf(original_);
}

}  // namespace hangar::core
