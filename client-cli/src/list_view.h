// The `hangar list` table: columns sized to their content and shortened with an ellipsis to fit
// the terminal (80 columns when the output is not one), or every value in full (--wide).
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace hangar::cli {

constexpr std::size_t kListColumns = 7;
using ListRow = std::array<std::string, kListColumns>;  // serial, state, profile, since, make,
                                                        // model, failure reason

// Columns a terminal gives `text`: East Asian wide characters and emoji take two, combining
// marks none, other characters one.
std::size_t display_width(std::string_view text);

// What marks a cut value: U+2026, or "..." on Windows (whose console may not show UTF-8).
std::string_view ellipsis();

// `text` cut to at most `width` columns, its last one an ellipsis when anything was cut.
std::string shorten(std::string_view text, std::size_t width);
// The same, the ellipsis in the middle: the start and (the larger part) the end are kept.
std::string shorten_middle(std::string_view text, std::size_t width);

// "1,519": thousands separated by commas, as the portal writes counts.
std::string with_thousands(std::int64_t n);

// The width to fit: the terminal's when standard output is one (at least 40), else 80.
std::size_t output_columns();

// `text` (a report of "  label   value" lines) for a person at a terminal: each line longer than
// the terminal broken at spaces, carried on under its value's column, never joined to the next
// line. Unchanged when standard output is no terminal: piped, each value stays on one line for
// grep and scripts.
std::string fit_to_terminal(std::string_view text);

// Prints the header and rows. Unless `wide`, columns are shortened (model, manufacturer and
// profile first, then the failure reason, the state and the serial last, each down to a minimum)
// until a line fits `columns`; the time only loses its year, a serial is cut in the middle. The
// failure reason column appears only when a row has one; when it would get fewer than 40 columns,
// a state every row shares, then make and model, then a profile every row shares are left out to
// give it room. Returns what was left out for every row, for the caller to name ("all Ready for
// user", "profile standard", or both, comma-separated); empty when nothing was.
std::string print_list_table(const std::vector<ListRow>& rows, bool wide, std::size_t columns,
                             std::ostream& out);

// The hand-off list (`list --handoff`): serial, manufacturer, model, group tag, profile, state,
// user, last contacted, one device a line (each row has those 8 cells). Unless `wide`, the widest
// columns but the user give way (down to 8), then the user, then the serial (down to 10, cut in
// the middle); a user still cut has the state, profile and group tag columns every row shares
// left out. Returns those ("state Ready for user, profile standard"), to be named once; empty
// when none was.
std::string print_handoff_table(const std::vector<std::vector<std::string>>& rows, bool wide,
                                std::size_t columns, std::ostream& out);

// The count line after the table: "50 of 1,519 device(s) (in the order they were queued)".
std::string list_count_line(std::size_t shown, std::int64_t total);

}  // namespace hangar::cli
