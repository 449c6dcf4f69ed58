// The hangar CLI: argument parsing, command dispatch and output, separate from main() for testing.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace hangar::cli {

// Stable exit codes: scripts depend on these.
enum ExitCode : int { kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3 };

// Without standard input: commands that read it (config set-credentials --secret-stdin) fail.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// With standard input; when `in` is std::cin on a terminal, secrets are asked for without echo.
int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err);

}  // namespace hangar::cli
