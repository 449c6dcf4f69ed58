// Small text helpers shared by the simulator: case-insensitive comparison, URL and base64url
// coding, and the timestamp formats Graph uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hangar::cloudsim {

std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
bool iends_with(std::string_view text, std::string_view suffix);
bool icontains(std::string_view text, std::string_view needle);
std::string trim(std::string_view text);
std::vector<std::string> split(std::string_view text, char separator);

// %XX sequences decoded (malformed ones kept as they are); '+' becomes a space when asked, as in
// query strings and form bodies.
std::string percent_decode(std::string_view text, bool plus_as_space);
// Encodes everything except unreserved characters and the few OData keeps readable ($'(),/:@).
std::string percent_encode(std::string_view text);
// "a=1&b=2" -> {{"a","1"},{"b","2"}}, decoded.
std::vector<std::pair<std::string, std::string>> parse_query_string(std::string_view query);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// "2024-05-01T10:00:00Z", or with a 7-digit fraction when the milliseconds are not zero (Graph
// emits both forms); kNeverMs renders as "0001-01-01T00:00:00Z".
std::string format_iso8601(std::int64_t unix_ms);
// innerError.date: "2024-05-01T10:00:00" (Graph writes it without a zone).
std::string format_inner_error_date(std::int64_t unix_ms);

}  // namespace hangar::cloudsim
