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
  pending_cr_ = pending_c2_ = false;
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
