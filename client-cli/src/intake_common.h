// What hangar validate, merge (intake_cmds.cpp) and import (import_cmd.cpp) share: reading the
// file arguments and the validation options the same way.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli_common.h"
#include "hangar/intake/validation.h"

namespace hangar::cli {

// Command-line file names (UTF-8) as paths; a file named again (./a.csv after a.csv) is left out,
// with a note on `notes`.
std::vector<std::filesystem::path> to_paths(const std::vector<std::string>& names,
                                            std::string_view command, std::ostream& notes);
// A validator diagnostic as --json prints it.
Json diagnostic_json(const core::Diagnostic& d);
// The validator's diagnostics as text: every error, the first warnings and a count of the rest.
void print_diagnostics(const std::vector<core::Diagnostic>& diagnostics, std::ostream& out);
// What tidying an output set (OUT and its numbered parts, merge's and export's -o) did: files an
// earlier merge or export wrote and this one did not, removed; files named like parts that are
// not upload files, left in place.
struct OutputSetTidy {
  std::vector<std::string> removed;
  std::vector<std::string> kept_other;
};
OutputSetTidy tidy_output_set(const std::filesystem::path& out,
                              const std::vector<std::filesystem::path>& written);
// Says what tidy_output_set did: the removed files on `out`, a warning for the others on `err`.
void print_output_set_tidy(const OutputSetTidy& tidied, std::string_view command, std::ostream& out,
                           std::ostream& err);
// --expect-build and --strict.
core::ValidationOptions validation_options(const ParsedArgs& parsed);
// The options validate, merge and import share, checked before any file is read: a usage
// message, or nothing.
std::optional<std::string> shared_option_problem(const ParsedArgs& parsed);

}  // namespace hangar::cli
