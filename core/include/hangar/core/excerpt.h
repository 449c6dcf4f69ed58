// Untrusted text quoted in a message or a log line: cut to a fixed length, control characters
// shown as '?', so a client's 8 MiB string never becomes an 8 MiB error reply or log line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hangar::core {

// How much of an untrusted value a message quotes by default.
inline constexpr std::size_t kExcerptBytes = 64;

// `text` itself when it has at most `max_bytes` bytes; otherwise its first `max_bytes` bytes (cut
// back to a whole UTF-8 sequence) followed by "... (N bytes)". Control characters become '?'.
std::string excerpt(std::string_view text, std::size_t max_bytes = kExcerptBytes);

}  // namespace hangar::core
