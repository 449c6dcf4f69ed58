// Detects the encoding of a hash file (UTF-8 +/- BOM, UTF-16LE/BE, Windows-1252) and converts it to
// UTF-8 as a stream. The conversions are exact table/bit arithmetic, written here because iconv is
// not available in the mingw build and these four encodings are all the hash files in the wild use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::core {

enum class TextEncoding {
  kAuto,         // detect from the first bytes (BOM, UTF-16 zero pattern, UTF-8 validity)
  kUtf8,         // UTF-8 without BOM (PowerShell 7's default)
  kUtf8Bom,      // UTF-8 with BOM
  kUtf16Le,      // UTF-16LE (Windows PowerShell 5.1 Out-File), with or without BOM
  kUtf16Be,      // UTF-16BE
  kWindows1252,  // "ANSI" as Excel saves it on western Windows
};

// "UTF-8", "UTF-8 with BOM", "UTF-16LE", "UTF-16BE", "Windows-1252", "auto".
std::string_view encoding_name(TextEncoding encoding);

// A problem found while decoding, at a byte offset of the raw input.
struct DecodeIssue {
  std::uint64_t byte_offset = 0;
  std::string message;
  bool error =
      false;  // true: text was lost (truncation, unpaired surrogate); false: a guess was made
};

// Streaming decoder: feed() raw chunks of any size (code units, surrogate pairs and UTF-8 sequences
// may be split across chunks), then finish(). UTF-8 text is appended to `out`.
//
// Without a BOM, UTF-8 and Windows-1252 look alike until the first non-ASCII byte; the decision is
// made there: a valid UTF-8 sequence means UTF-8, anything else means Windows-1252 for the rest of
// the stream. A later invalid byte in a UTF-8 stream is decoded as Windows-1252 with a warning, so
// no byte is ever silently dropped.
class TextDecoder {
 public:
  explicit TextDecoder(TextEncoding encoding = TextEncoding::kAuto);

  void feed(std::string_view bytes, std::string& out);
  void finish(std::string& out);

  // The encoding in use: kAuto until the first bytes were seen; kUtf8 for ASCII-only input.
  TextEncoding encoding() const { return encoding_; }
  // True when UTF-16 was recognised by its zero bytes, not by a BOM.
  bool utf16_without_bom() const { return utf16_without_bom_; }

  // Issues since the last call. At most kMaxIssues are kept over the decoder's life (a binary file
  // would otherwise yield one per byte); suppressed_issues() counts the rest.
  std::vector<DecodeIssue> take_issues();
  std::uint64_t suppressed_issues() const { return suppressed_issues_; }
  static constexpr std::size_t kMaxIssues = 16;

 private:
  enum class Mode { kSniff, kUndecided8, kUtf8, kCp1252, kUtf16Le, kUtf16Be };

  void detect(std::string& out, bool at_eof);
  std::size_t decode_8bit(std::string_view data, bool at_eof, std::string& out);
  std::size_t decode_utf16(std::string_view data, std::string& out);
  void add_issue(std::uint64_t offset, std::string message, bool error);

  TextEncoding encoding_;
  Mode mode_ = Mode::kSniff;
  bool utf16_without_bom_ = false;
  bool warned_invalid_utf8_ = false;
  std::string carry_;            // bytes not yet decodable (split sequence, odd UTF-16 byte, sniff)
  std::uint64_t offset_ = 0;     // raw offset of carry_[0]
  char16_t high_surrogate_ = 0;  // pending UTF-16 high surrogate
  std::uint64_t high_offset_ = 0;
  std::vector<DecodeIssue> issues_;
  std::size_t issues_total_ = 0;
  std::uint64_t suppressed_issues_ = 0;
};

// One-shot conversion of a whole buffer (tests, small files). `detected` and `issues` are optional.
std::string decode_to_utf8(std::string_view bytes, TextEncoding encoding = TextEncoding::kAuto,
                           TextEncoding* detected = nullptr,
                           std::vector<DecodeIssue>* issues = nullptr);

// Exact Windows-1252 to UTF-8 (the five bytes 1252 leaves undefined map to the C1 controls, as
// Windows' own MultiByteToWideChar does).
std::string windows1252_to_utf8(std::string_view bytes);
bool is_valid_utf8(std::string_view text);
void append_utf8(std::string& out, char32_t code_point);

}  // namespace hangar::core
