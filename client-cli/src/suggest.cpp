// Did-you-mean suggestions (see suggest.h).
#include "suggest.h"

#include <algorithm>

namespace hangar::cli {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The word without leading dashes: "--stat" and "--state" compare as "stat" and "state".
std::string_view bare(std::string_view word) {
  while (!word.empty() && word.front() == '-') word.remove_prefix(1);
  return word;
}

}  // namespace

std::optional<std::string> closest_word(std::string_view typed,
                                        const std::vector<std::string_view>& candidates) {
  const std::string_view word = bare(typed);
  if (word.empty() || word.size() > 64) return std::nullopt;  // not a typo of a short word
  const std::size_t allowed = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::optional<std::string> best;
  std::size_t best_distance = allowed + 1;
  for (const std::string_view candidate : candidates) {
    const std::string_view target = bare(candidate);
    std::size_t distance = edit_distance(word, target);
    if (word.size() >= 3 && target.size() > word.size() &&
        edit_distance(word, target.substr(0, word.size())) == 0) {
      distance = std::min<std::size_t>(distance, 1);  // an abbreviation: "val" for "validate"
    }
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string_view>& candidates) {
  const auto best = closest_word(typed, candidates);
  return best ? " (did you mean \"" + *best + "\"?)" : std::string();
}

}  // namespace hangar::cli
