// Formatting of diagnostics.
#include "hangar/intake/diagnostic.h"

namespace hangar::core {

std::string_view severity_name(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

std::string Diagnostic::to_string() const {
  std::string out = file.empty() ? std::string("<input>") : file;
  if (line != 0) out += ":" + std::to_string(line);
  out += ": ";
  out += severity_name(severity);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

}  // namespace hangar::core
