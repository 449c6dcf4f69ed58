// Lookup in the command table.
#include "hangar/ipc/commands.h"

namespace hangar::ipc {

const CommandInfo* find_command(std::string_view name) {
  for (const auto& info : kCommands) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace hangar::ipc
