// Per-command help: `hangar COMMAND --help` and `hangar help COMMAND`.
#pragma once

#include <ostream>
#include <string_view>

#include <vector>

#include "cli_common.h"
#include "hangar/ipc/commands.h"

namespace hangar::cli {

// The command's synopsis, summary, options (its `details`, or the text kept here) and examples,
// then the global options and exit codes. Every command has one.
void print_command_help(const Command& command, std::ostream& out);

// The examples for `name` ("" when there are none), so tests can check each one parses.
std::string_view command_examples(std::string_view name);

// The service commands `name` sends, as entries of ipc::kCommands (the one command table: their
// permission and message types come from there); none for the offline commands. A name the
// table does not have is a nullptr entry (a test checks there is none).
std::vector<const ipc::CommandInfo*> service_commands_of(std::string_view name);

}  // namespace hangar::cli
