// "Did you mean": the closest known word to one the user mistyped (a command or an option).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::cli {

// The candidate nearest to `typed` by edit distance (a swap of two neighbours counts as one edit),
// when it is near enough to be a typo: at most 1 edit for words up to 4 characters, 2 up to 8,
// 3 beyond. A candidate that `typed` starts (an abbreviation of 3 characters or more) also counts.
// Ties go to the first candidate. Nothing when no candidate is near.
std::optional<std::string> closest_word(std::string_view typed,
                                        const std::vector<std::string_view>& candidates);

// " (did you mean \"X\"?)" for the closest candidate, or "" when none is near.
std::string did_you_mean(std::string_view typed, const std::vector<std::string_view>& candidates);

}  // namespace hangar::cli
