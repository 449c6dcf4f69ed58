// How the typed messages (this directory) read their JSON strictly: every field is read through a
// Fields reader that names the field's path ("cloud.needs_attention[0].http_status") in the first
// problem it meets: a required field missing, a field of another type. Nothing throws and nothing
// is defaulted silently; a message's from_json returns that problem as a `malformed_reply` error.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/protocol.h"

namespace hangar::ipc::msg {

// The error code of a reply (or stream frame) that is not the message it should be.
inline constexpr const char* kMalformedReply = "malformed_reply";

// "the status reply's field \"cloud.online\" must be true or false, got a string": the error a
// message's from_json returns (`what` names the message, `problem` the field and what is wrong).
core::Error malformed(std::string_view what, std::string_view problem);

// What a JSON value is, in words, for "got ...".
std::string_view kind_of(const Json& value);

// One value of a field, read into `out`; false (and `expected` says what was wanted) when the
// value has another type. Nested messages (a type with a static `read(const Json&, Fields&)`),
// arrays of them and maps of them are read through the Fields overloads below.
bool read_value(const Json& value, std::string& out);
bool read_value(const Json& value, bool& out);
bool read_value(const Json& value, std::int64_t& out);
bool read_value(const Json& value, std::uint64_t& out);
bool read_value(const Json& value, int& out);
// A device state travels as its storage key ("ready_for_user"); any other text is refused.
bool read_value(const Json& value, core::DeviceState& out);
std::string_view expected_kind(const std::string*);
std::string_view expected_kind(const bool*);
std::string_view expected_kind(const std::int64_t*);
std::string_view expected_kind(const std::uint64_t*);
std::string_view expected_kind(const int*);
std::string_view expected_kind(const core::DeviceState*);

// A JSON value of any kind, kept as it came (a part of a message that is the service's own
// document, such as `config`'s description, which the CLI prints as it is).
struct AnyJson {
  Json value;
};
inline bool read_value(const Json& value, AnyJson& out) {
  out.value = value;
  return true;
}
inline std::string_view expected_kind(const AnyJson*) { return "any value"; }

class Fields {
 public:
  // `path` is where this object is in the message ("" at the top, "cloud" for a nested one).
  Fields(const Json& json, std::string path);

  bool ok() const { return !problem_; }
  const std::string& problem() const { return *problem_; }
  const Json& json() const { return *json_; }
  bool has(const char* key) const;

  // A field that must be present (null is not present).
  template <typename T>
  Fields& required(const char* key, T& out) {
    if (!ok()) return *this;
    const Json* value = find(key);
    if (!value) {
      fail(key, "is missing");
      return *this;
    }
    read_into(key, *value, out);
    return *this;
  }
  // A field that may be absent (or null); `out` stays nullopt then.
  template <typename T>
  Fields& optional(const char* key, std::optional<T>& out) {
    if (!ok()) return *this;
    const Json* value = find(key);
    if (!value) return *this;
    T read{};
    if (read_into(key, *value, read)) out = std::move(read);
    return *this;
  }

  // The first problem as a malformed_reply error about `what` ("status reply").
  core::Error error(std::string_view what) const { return malformed(what, problem()); }
  // Records a problem found by the caller (a value out of range).
  void fail(const char* key, std::string_view problem);

 private:
  const Json* find(const char* key) const;
  std::string path_of(std::string_view key) const;

  template <typename T>
  bool read_into(const char* key, const Json& value, T& out) {
    if constexpr (requires(const Json& j, Fields& f) { T::read(j, f); }) {
      if (!value.is_object()) {
        fail(key, "must be an object, got " + std::string(kind_of(value)));
        return false;
      }
      Fields nested(value, path_of(key));
      out = T::read(value, nested);
      if (!nested.ok()) {
        problem_ = nested.problem();
        return false;
      }
      return true;
    } else if constexpr (is_vector<T>::value) {
      if (!value.is_array()) {
        fail(key, "must be an array, got " + std::string(kind_of(value)));
        return false;
      }
      out.clear();
      for (std::size_t i = 0; i < value.size(); ++i) {
        typename T::value_type item{};
        const std::string index = std::string(key) + "[" + std::to_string(i) + "]";
        if (!read_into(index.c_str(), value[i], item)) return false;
        out.push_back(std::move(item));
      }
      return true;
    } else if constexpr (is_string_map<T>::value) {
      if (!value.is_object()) {
        fail(key, "must be an object, got " + std::string(kind_of(value)));
        return false;
      }
      out.clear();
      for (const auto& [name, item] : value.items()) {
        typename T::mapped_type read{};
        const std::string member = std::string(key) + "." + name;
        if (!read_into(member.c_str(), item, read)) return false;
        out.emplace(name, std::move(read));
      }
      return true;
    } else {
      if (!read_value(value, out)) {
        fail(key, "must be " + std::string(expected_kind(&out)) + ", got " +
                      std::string(kind_of(value)));
        return false;
      }
      return true;
    }
  }

  template <typename T>
  struct is_vector : std::false_type {};
  template <typename T>
  struct is_vector<std::vector<T>> : std::true_type {};
  template <typename T>
  struct is_string_map : std::false_type {};
  template <typename T>
  struct is_string_map<std::map<std::string, T>> : std::true_type {};

  const Json* json_;
  std::string path_;
  std::optional<std::string> problem_;
};

// Reads a whole message of type T (which has `static T read(const Json&, Fields&)`); `what`
// names it in the error ("status reply").
template <typename T>
core::Result<T> read_message(const Json& json, std::string_view what) {
  if (!json.is_object()) {
    return malformed(what, "it must be a JSON object, got " + std::string(kind_of(json)));
  }
  Fields fields(json, "");
  T value = T::read(json, fields);
  if (!fields.ok()) return fields.error(what);
  return value;
}

// Writes `value` under `key` only when it is set.
template <typename T>
void put_optional(Json& json, const char* key, const std::optional<T>& value) {
  if (value) json[key] = *value;
}

}  // namespace hangar::ipc::msg
