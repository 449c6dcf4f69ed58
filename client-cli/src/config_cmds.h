// `hangar config`: show the service's cloud configuration, set the credentials (the secret from a
// prompt without echo, or from stdin for scripts, never from the command line, which other users
// can read), or remove them.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli_common.h"
#include "hangar/core/result.h"

namespace hangar::cli {

// The synopsis and help of `hangar config`.
std::string config_usage();

int cmd_config(const Globals& g, const std::vector<std::string>& args, Io& io);

// The secret as piped to --secret-stdin: one line, its line break (LF or CRLF) removed. Fails
// (naming the problem, never the text) on no input, more than one line, or a secret that
// core::client_secret_problem refuses.
core::Result<std::string> read_secret_from(std::istream& in);

// Prompts on `err` and reads one line from the terminal with echo off, restoring the terminal
// afterwards (also on Ctrl-C). Fails when stdin is not a terminal.
core::Result<std::string> read_secret_from_terminal(const std::string& prompt, std::ostream& err);

// True when standard input is an interactive terminal (a console on Windows).
bool stdin_is_terminal();

}  // namespace hangar::cli
