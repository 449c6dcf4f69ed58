// Typed request arguments (see args.h).
#include "hangar/ipc/args.h"

#include "hangar/core/excerpt.h"
#include "hangar/ipc/commands.h"

namespace hangar::ipc {

namespace {

bool has_type(const Json& value, ArgType type) {
  switch (type) {
    case ArgType::kString:
      return value.is_string();
    case ArgType::kBoolean:
      return value.is_boolean();
    case ArgType::kCount:
      return value.is_number_unsigned() ||
             (value.is_number_integer() && value.get<std::int64_t>() >= 0);
    case ArgType::kDevices:
      return value.is_array();
  }
  return false;
}

core::Error wrong_type(std::string_view command, std::string_view name, ArgType type,
                       const Json& value) {
  return core::make_error(errc::kInvalidArgument,
                          "\"" + std::string(name) + "\" of " + std::string(command) + " must be " +
                              std::string(arg_type_name(type)) + ", not " + describe_value(value));
}

}  // namespace

std::string_view arg_type_name(ArgType type) {
  switch (type) {
    case ArgType::kString:
      return "a string";
    case ArgType::kBoolean:
      return "true or false";
    case ArgType::kCount:
      return "a whole number (0 or more)";
    case ArgType::kDevices:
      return "an array of device objects";
  }
  return "of another type";
}

core::Status check_args(const CommandInfo& command, const Json& args) {
  if (args.is_null()) return {};
  if (!args.is_object()) {
    return core::make_error(errc::kInvalidArgument, "\"args\" must be an object");
  }
  for (const auto& [key, value] : args.items()) {
    const ArgSpec* spec = nullptr;
    for (const ArgSpec& candidate : command.args) {
      if (candidate.name == key) spec = &candidate;
    }
    if (spec == nullptr) {
      std::string known;
      for (const ArgSpec& candidate : command.args) {
        known += (known.empty() ? "" : ", ") + std::string(candidate.name);
      }
      return core::make_error(errc::kInvalidArgument,
                              std::string(command.name) + " has no argument \"" +
                                  core::excerpt(key) + "\"" +
                                  (known.empty() ? "; it takes none" : "; it takes " + known));
    }
    if (!value.is_null() && !has_type(value, spec->type)) {
      return wrong_type(command.name, spec->name, spec->type, value);
    }
  }
  for (const ArgSpec& spec : command.args) {
    if (!spec.required) continue;
    auto it = args.find(spec.name);
    if (it == args.end() || it->is_null()) {
      return core::make_error(errc::kInvalidArgument, std::string(command.name) + " needs \"" +
                                                          std::string(spec.name) + "\", " +
                                                          std::string(arg_type_name(spec.type)));
    }
  }
  return {};
}

const Json* Args::find(std::string_view name) const {
  if (!args_.is_object()) return nullptr;
  auto it = args_.find(name);
  if (it == args_.end() || it->is_null()) return nullptr;
  return &*it;
}

core::Error Args::wrong(std::string_view name, ArgType type) const {
  const Json* value = find(name);
  return wrong_type(command_, name, type, value ? *value : Json());
}

core::Result<std::optional<std::string>> Args::text(std::string_view name) const {
  const Json* value = find(name);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return wrong(name, ArgType::kString);
  return std::optional<std::string>(value->get<std::string>());
}

core::Result<std::string> Args::required_text(std::string_view name, std::string_view what) const {
  auto value = text(name);
  if (!value) return std::move(value).error();
  if (!*value || (*value)->empty()) {
    return core::make_error(errc::kInvalidArgument, "give " + std::string(what) + " in \"" +
                                                        std::string(name) + "\" (a string)");
  }
  return std::move(**value);
}

core::Result<std::optional<bool>> Args::flag(std::string_view name) const {
  const Json* value = find(name);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean()) return wrong(name, ArgType::kBoolean);
  return std::optional<bool>(value->get<bool>());
}

core::Result<std::optional<std::uint64_t>> Args::count(std::string_view name) const {
  const Json* value = find(name);
  if (value == nullptr) return std::optional<std::uint64_t>();
  if (!has_type(*value, ArgType::kCount)) return wrong(name, ArgType::kCount);
  return std::optional<std::uint64_t>(value->get<std::uint64_t>());
}

core::Result<const Json*> Args::array(std::string_view name) const {
  const Json* value = find(name);
  if (value == nullptr) return static_cast<const Json*>(nullptr);
  if (!value->is_array()) return wrong(name, ArgType::kDevices);
  return value;
}

}  // namespace hangar::ipc
