// What hangar validate, merge (intake_cmds.cpp) and import (import_cmd.cpp) share: reading the
// file arguments and the validation options the same way.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "hangar/intake/validation.h"

namespace hangar::cli {

// Command-line file names (UTF-8) as paths.
std::vector<std::filesystem::path> to_paths(const std::vector<std::string>& names);
// A validator diagnostic as --json prints it.
Json diagnostic_json(const core::Diagnostic& d);
// The validator's diagnostics as text: every error, the first warnings and a count of the rest.
void print_diagnostics(const std::vector<core::Diagnostic>& diagnostics, std::ostream& out);
// --expect-build and --strict.
core::ValidationOptions validation_options(const ParsedArgs& parsed);
// The options validate, merge and import share, checked before any file is read: a usage
// message, or nothing.
std::optional<std::string> shared_option_problem(const ParsedArgs& parsed);

}  // namespace hangar::cli
