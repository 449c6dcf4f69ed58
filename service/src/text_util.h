// ASCII case folding for the passes' matching of serials, tags and ids (the cloud compares them
// without regard to case).
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace hangar::service {

inline std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace hangar::service
