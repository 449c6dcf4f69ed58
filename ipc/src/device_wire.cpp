// The wire form of device records (see device_wire.h).
#include "hangar/ipc/device_wire.h"

#include "hangar/core/excerpt.h"
#include "hangar/core/hardware_hash.h"

namespace hangar::ipc {

namespace {

void put(Json& json, const char* key, const std::string& value) {
  if (!value.empty()) json[key] = value;
}

core::Status get_text(const Json& json, const char* key, std::string& out) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return {};
  if (!it->is_string()) {
    return core::make_error(errc::kInvalidArgument,
                            std::string("device field \"") + key + "\" must be a string" +
                                (std::string_view(key) == "hash" ? " (base64) or bytes" : ""));
  }
  out = it->get<std::string>();
  return {};
}

}  // namespace

Json device_to_wire(const core::DeviceRecord& device, HashForm hash_form) {
  Json json = Json::object();
  put(json, "serial", device.serial_number);
  put(json, "product_id", device.windows_product_id);
  if (!device.hardware_hash.empty()) {
    json["hash"] = hash_form == HashForm::kBytes ? Json::binary(device.hardware_hash)
                                                 : Json(core::encode_base64(device.hardware_hash));
  }
  put(json, "manufacturer", device.manufacturer);
  put(json, "model", device.model);
  put(json, "group_tag", device.group_tag);
  put(json, "assigned_user", device.assigned_user);
  json["profile"] = core::cli_name(device.profile);
  put(json, "source_file", device.source_file);
  if (device.source_line > 0) json["source_line"] = device.source_line;
  return json;
}

core::Result<WireDevice> device_from_wire(const Json& json) {
  if (!json.is_object()) {
    return core::make_error(errc::kInvalidArgument, "a device must be a JSON object");
  }
  WireDevice wire;
  core::DeviceRecord& d = wire.device;
  for (auto [key, field] :
       {std::pair{"serial", &d.serial_number}, std::pair{"product_id", &d.windows_product_id},
        std::pair{"manufacturer", &d.manufacturer}, std::pair{"model", &d.model},
        std::pair{"group_tag", &d.group_tag}, std::pair{"assigned_user", &d.assigned_user},
        std::pair{"source_file", &d.source_file}}) {
    if (auto status = get_text(json, key, *field); !status) return std::move(status).error();
  }
  std::string profile;
  if (auto status = get_text(json, "profile", profile); !status) return std::move(status).error();
  if (!profile.empty()) {
    auto parsed = core::parse_profile(profile);
    if (!parsed) {
      return core::make_error(errc::kInvalidArgument, "unknown profile \"" +
                                                          core::excerpt(profile) + "\"; use " +
                                                          std::string(core::profile_spellings()));
    }
    d.profile = *parsed;
  }
  if (auto it = json.find("source_line"); it != json.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) {
      return core::make_error(errc::kInvalidArgument,
                              "device field \"source_line\" must be a non-negative integer");
    }
    d.source_line = it->get<std::uint64_t>();
  }
  if (auto it = json.find("hash"); it != json.end() && it->is_binary()) {
    d.hardware_hash = it->get_binary();  // bytes as sent (CBOR); the validator checks them
    return wire;
  }
  std::string hash;
  if (auto status = get_text(json, "hash", hash); !status) return std::move(status).error();
  if (!hash.empty()) {
    auto bytes = core::decode_base64_bytes(hash);
    if (bytes) {
      d.hardware_hash = std::move(bytes).value();
    } else {
      wire.hash_error = bytes.error().message;
    }
  }
  return wire;
}

}  // namespace hangar::ipc
