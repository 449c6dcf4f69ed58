// Typed request arguments. Every command declares its arguments in the command table (commands.h);
// the dispatcher checks a request against that declaration before the handler runs, and handlers
// read their arguments through Args, so a wrong type anywhere is answered `invalid_argument` with
// the argument's name, the command and what it must be, never an exception's text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/result.h"
#include "hangar/ipc/protocol.h"

namespace hangar::ipc {

enum class ArgType {
  kString,   // UTF-8 text
  kBoolean,  // true or false
  kCount,    // a whole number >= 0
  kDevices,  // an array of device objects (import)
};

struct ArgSpec {
  std::string_view name;
  ArgType type;
  bool required = false;
};

// "a string", "true or false", "a whole number (0 or more)", "an array of device objects".
std::string_view arg_type_name(ArgType type);

struct CommandInfo;

// Checks `args` against `command`'s declared arguments: no argument it does not declare, each of
// its declared type (null counts as absent), every required one present. The error names the
// argument and describes the value given without quoting more than a few dozen bytes of it.
core::Status check_args(const CommandInfo& command, const Json& args);

// Reads a request's arguments by type. Each reader fails with `invalid_argument` naming the
// argument when the value has another type; absent (or null) optional arguments read as nullopt.
class Args {
 public:
  Args(std::string_view command, const Json& args) : command_(command), args_(args) {}

  core::Result<std::optional<std::string>> text(std::string_view name) const;
  // A non-empty string that must be there; `what` says what it is ("the device's serial number").
  core::Result<std::string> required_text(std::string_view name, std::string_view what) const;
  core::Result<std::optional<bool>> flag(std::string_view name) const;
  core::Result<std::optional<std::uint64_t>> count(std::string_view name) const;
  // The array itself (checked to be one); null when absent.
  core::Result<const Json*> array(std::string_view name) const;

 private:
  const Json* find(std::string_view name) const;
  core::Error wrong(std::string_view name, ArgType type) const;

  std::string_view command_;
  const Json& args_;
};

}  // namespace hangar::ipc
