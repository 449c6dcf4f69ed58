// Text helpers shared by capture.cpp and capture_file.cpp.
#pragma once

#include <string>
#include <string_view>

namespace hangar::core::capture_detail {

inline std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace hangar::core::capture_detail
