// Help texts that fit a terminal of 80 columns: long lines broken at spaces, each continuation
// indented under what it continues (an option's description column, a usage line's arguments).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hangar::core {

inline constexpr std::size_t kHelpColumns = 80;

// `text` with every line longer than `width` broken at its last space that fits, the rest carried
// to continuation lines. A continuation is indented: under the description of an option line
// ("  --user UPN        the user..."), under the first argument of a "usage: PROGRAM" line, else
// two more than the line's own indent. A word longer than the room left stays whole.
std::string wrap_lines(std::string_view text, std::size_t width = kHelpColumns);

}  // namespace hangar::core
