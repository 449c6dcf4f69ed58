// Defence in depth for human output, the CLI's and the tray's (attack round 5, finding 06; round
// 13: the tray wrote a serial from the cloud raw): whatever text the service hands back (a model
// name from a hash file, the cloud) reaches the admin's terminal, log or notification with every
// control character shown escaped ("\x1b", "\u009b"), never raw, so no value can retitle the
// window, clear the screen or write the clipboard (OSC 52). Intake refuses such values up front;
// this catches the ones that arrive by other routes. --json is not filtered (JSON escapes control
// characters itself and stays exact), nor `export` (its output is the data).
#pragma once

#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace hangar::core {

// What a stream may carry raw besides printable text: '\n' always; '\r' before '\n' (a CSV's
// CRLF) on standard output, anywhere on standard error (the import progress line redraws itself).
enum class CarriageReturns { kOnlyBeforeLineFeed, kAnywhere };

// Whether the UTF-8 sequence 0xE2 `second` `third` is one of the U+20xx characters that reorder or
// break a line: U+200E/F, U+2028/9 (line and paragraph separators), U+202A..U+202E, U+2066..U+2069.
// The one rule both the escaping below and intake's refusal (control_character) apply.
constexpr bool is_line_control(unsigned char second, unsigned char third) {
  return (second == 0x80 && (third == 0x8E || third == 0x8F || (third >= 0xA8 && third <= 0xAE))) ||
         (second == 0x81 && third >= 0xA6 && third <= 0xA9);
}

// `text` with its control characters escaped as TerminalSafeBuffer writes them.
std::string terminal_safe(std::string_view text, CarriageReturns returns);
// A value shown on one line (a table cell, a serial in a notification): as terminal_safe, and its
// line breaks escaped too ("\x0a"), so the width it is measured at is the width it shows.
std::string one_line_safe(std::string_view value);

// A stream buffer that passes text on to `target` with C0 controls (but '\n' and the allowed
// '\r'), DEL and C1 controls (U+0080..U+009F) escaped. Writes through: nothing is held back but
// an incomplete "\r" or UTF-8 lead byte, which the destructor writes.
class TerminalSafeBuffer : public std::streambuf {
 public:
  TerminalSafeBuffer(std::streambuf* target, CarriageReturns returns)
      : target_(target), returns_(returns) {}
  ~TerminalSafeBuffer() override;
  TerminalSafeBuffer(const TerminalSafeBuffer&) = delete;
  TerminalSafeBuffer& operator=(const TerminalSafeBuffer&) = delete;

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void put(char c, std::string& out);
  void finish(std::string& out);

  std::streambuf* target_;
  CarriageReturns returns_;
  bool pending_cr_ = false;  // a '\r' whose next character decides
  bool pending_c2_ = false;  // a 0xC2 lead byte (U+0080..U+00BF follow it)
  std::string pending_e2_;   // 0xE2 and maybe 0x80/0x81: a bidirectional control may follow
  bool pending_d8_ = false;  // a 0xD8 lead byte (U+061C, the Arabic letter mark, may follow)
};

// Puts a TerminalSafeBuffer in front of `stream`'s buffer for its lifetime (the stream object
// stays the same, so `&io.out == &std::cout` still holds), and takes it away again.
class TerminalSafeStream {
 public:
  TerminalSafeStream(std::ostream& stream, CarriageReturns returns);
  ~TerminalSafeStream();
  TerminalSafeStream(const TerminalSafeStream&) = delete;
  TerminalSafeStream& operator=(const TerminalSafeStream&) = delete;

 private:
  std::ostream& stream_;
  std::streambuf* original_;
  TerminalSafeBuffer buffer_;
};

}  // namespace hangar::core
