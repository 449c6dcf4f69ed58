// Lookup in the command table.
#include "hangar/ipc/commands.h"

namespace hangar::ipc {

std::string_view permission_name(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return "read";
    case Permission::kWrite:
      return "write";
    case Permission::kAdmin:
      return "admin";
  }
  return "admin";
}

const CommandInfo* find_command(std::string_view name) {
  for (const auto& info : kCommands) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace hangar::ipc
