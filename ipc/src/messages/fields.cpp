// The strict field reader of the typed messages (see fields.h).
#include "hangar/ipc/messages/fields.h"

namespace hangar::ipc::msg {

core::Error malformed(std::string_view what, std::string_view problem) {
  return core::make_error(kMalformedReply,
                          "the " + std::string(what) + " is malformed: " + std::string(problem) +
                              " (is the service another version of Hangar? see hangar version)");
}

std::string_view kind_of(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "text";
    case Json::value_t::boolean:
      return "true or false";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a fractional number";
    case Json::value_t::binary:
      return "bytes";
    case Json::value_t::discarded:
      break;
  }
  return "nothing";
}

bool read_value(const Json& value, std::string& out) {
  if (!value.is_string()) return false;
  out = value.get_ref<const std::string&>();
  return true;
}

bool read_value(const Json& value, bool& out) {
  if (!value.is_boolean()) return false;
  out = value.get<bool>();
  return true;
}

bool read_value(const Json& value, std::int64_t& out) {
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    out = value.get<std::int64_t>();
    return true;
  }
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(value.get<std::uint64_t>());
    return true;
  }
  return false;
}

bool read_value(const Json& value, std::uint64_t& out) {
  if (value.is_number_unsigned()) {
    out = value.get<std::uint64_t>();
    return true;
  }
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(value.get<std::int64_t>());
    return true;
  }
  return false;
}

bool read_value(const Json& value, int& out) {
  std::int64_t wide = 0;
  if (!read_value(value, wide) || wide < INT32_MIN || wide > INT32_MAX) return false;
  out = static_cast<int>(wide);
  return true;
}

bool read_value(const Json& value, core::DeviceState& out) {
  if (!value.is_string()) return false;
  auto state = core::state_of_key(value.get_ref<const std::string&>());
  if (!state) return false;
  out = *state;
  return true;
}

std::string_view expected_kind(const std::string*) { return "text"; }
std::string_view expected_kind(const bool*) { return "true or false"; }
std::string_view expected_kind(const std::int64_t*) { return "an integer"; }
std::string_view expected_kind(const std::uint64_t*) { return "a non-negative integer"; }
std::string_view expected_kind(const int*) { return "a 32-bit integer"; }
std::string_view expected_kind(const core::DeviceState*) {
  return "a device state (queued, registration_pending, registration_failed, ready_for_user, "
         "active or inactive)";
}

Fields::Fields(const Json& json, std::string path) : json_(&json), path_(std::move(path)) {}

bool Fields::has(const char* key) const { return find(key) != nullptr; }

const Json* Fields::find(const char* key) const {
  if (!json_->is_object()) return nullptr;
  const auto it = json_->find(key);
  if (it == json_->end() || it->is_null()) return nullptr;
  return &*it;
}

std::string Fields::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Fields::fail(const char* key, std::string_view problem) {
  if (problem_) return;
  problem_ = "field \"" + path_of(key) + "\" " + std::string(problem);
}

}  // namespace hangar::ipc::msg
