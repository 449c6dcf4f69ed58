// A problem found in an input file, located by file, line and column, for `hangar validate` output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hangar::core {

enum class Severity { kWarning, kError };

// "warning" / "error".
std::string_view severity_name(Severity severity);

struct Diagnostic {
  std::string file;
  std::uint64_t line = 0;  // 1-based physical line; 0 when it concerns the whole file
  std::string field;       // column name as the file spells it, or empty
  std::string message;
  Severity severity = Severity::kError;

  // "file:line: error: Hardware Hash: message" (parts that are empty are left out).
  std::string to_string() const;
};

}  // namespace hangar::core
