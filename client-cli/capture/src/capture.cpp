// `hangar capture`, the platform-independent part: cleaning up firmware values and checking the
// hash (the CSV files it appends to are capture_file.cpp).
#include "hangar/capture/capture.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "capture_text.h"
#include "hangar/core/hardware_hash.h"

namespace hangar::core {
namespace {

using capture_detail::in_quotes;

// A note for a value that was read but is no real value.
std::string placeholder_note(const PropertyValue& property, std::string_view raw) {
  const std::string_view trimmed = trim_firmware_text(raw);
  if (trimmed.empty()) {
    return property.source + " is empty: treated as missing";
  }
  return property.source + " is " + in_quotes(trimmed) +
         ", a firmware placeholder the manufacturer never replaced: treated as missing";
}

std::optional<std::string> clean_property(const PropertyValue& property,
                                          std::vector<std::string>& notes) {
  if (!property.value) return std::nullopt;
  auto cleaned = clean_firmware_value(*property.value);
  if (!cleaned) notes.push_back(placeholder_note(property, *property.value));
  return cleaned;
}

// The whitespace-free base64 text, to tell whether padding had to be added.
std::size_t base64_length(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_firmware_space(c); }));
}

// Merges a value read from firmware (`value`, may be missing) with the same value inside the hash.
void reconcile(std::optional<std::string>& value, const PropertyValue& property,
               std::string_view hash_value, std::string_view what, bool exact,
               std::vector<std::string>& notes) {
  auto from_hash = clean_firmware_value(hash_value);
  if (!from_hash) return;
  if (!value) {
    notes.push_back("using the " + std::string(what) + " inside the hardware hash (" +
                    in_quotes(*from_hash) + ") because " + property.source + " gave none");
    value = *from_hash;
    return;
  }
  const bool same = exact ? *value == *from_hash : iequals_ascii(*value, *from_hash);
  if (!same) {
    notes.push_back("the " + std::string(what) + " inside the hardware hash (" +
                    in_quotes(*from_hash) + ") differs from " + property.source + " (" +
                    in_quotes(*value) + "); the CSV uses " + in_quotes(*value) +
                    ". Check the firmware (a replaced mainboard often causes this) before "
                    "registering");
  }
}

void interpret_hash(const PropertyValue& property, const CaptureOptions& options,
                    std::optional<std::string>& serial, std::optional<std::string>& manufacturer,
                    std::optional<std::string>& model, const DeviceProperties& properties,
                    CapturedDevice& device) {
  const std::string_view raw = trim_firmware_text(*property.value);
  if (raw.empty()) {
    device.notes.push_back(property.source +
                           " is empty: Windows produced no hardware hash, so this device cannot "
                           "be registered from this capture");
    return;
  }
  auto decoded = decode_base64_lenient(raw);
  if (!decoded) {
    device.notes.push_back(property.source + " is not usable: " + decoded.error().message);
    return;
  }
  device.has_hash = true;
  device.hardware_hash_base64 = std::move(decoded->normalized);
  if (base64_length(raw) % 4 != 0) {
    device.notes.push_back(
        "the hardware hash came without its '=' padding; it was added (Graph rejects unpadded "
        "base64)");
  }
  auto info = parse_hardware_hash(decoded->bytes);
  if (!info) {
    // Our knowledge of the layout comes from community decoders: keep the hash and let the cloud
    // judge rather than refusing a hash Windows itself produced.
    device.notes.push_back("the hardware hash does not have the expected structure (" +
                           info.error().message +
                           "); it was kept as Windows produced it, and the cloud will decide");
    return;
  }
  reconcile(serial, properties.serial_number, info->serial_number, "serial number", true,
            device.notes);
  reconcile(manufacturer, properties.manufacturer, info->manufacturer, "manufacturer", false,
            device.notes);
  reconcile(model, properties.model, info->model, "model", false, device.notes);
  if (info->checksum == HashChecksum::kMismatch) {
    device.notes.push_back(
        "the hardware hash's checksum does not match its content (it was altered after Windows "
        "produced it): the cloud may answer \"Hardware hash not valid\"");
  }
  if (options.product_id_from_hash) {
    if (auto id = clean_firmware_value(info->product_key_id)) {
      device.windows_product_id = *id;
    } else {
      device.notes.push_back(
          "the hardware hash carries no product key ID: Windows Product ID left empty");
    }
  }
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return lower_ascii(x) < lower_ascii(y);
  });
}

DeviceProperties properties_from_wmi(const std::optional<WmiProperties>& bios,
                                     const std::optional<WmiProperties>& computer_system,
                                     const std::optional<WmiProperties>& dev_detail) {
  DeviceProperties properties;
  auto take = [&properties](const std::optional<WmiProperties>& object, std::string_view class_name,
                            std::string_view property_name, PropertyValue& into) {
    into.source = std::string(class_name) + "." + std::string(property_name);
    if (!object) return;  // the reader has already said why the class could not be queried
    auto it = object->find(property_name);
    if (it == object->end()) {
      properties.notes.push_back(std::string(class_name) + " has no " + std::string(property_name) +
                                 " value");
      return;
    }
    into.value = it->second;
  };
  take(bios, "Win32_BIOS", "SerialNumber", properties.serial_number);
  take(computer_system, "Win32_ComputerSystem", "Manufacturer", properties.manufacturer);
  take(computer_system, "Win32_ComputerSystem", "Model", properties.model);
  take(dev_detail, "MDM_DevDetail_Ext01", "DeviceHardwareData", properties.hardware_hash);
  return properties;
}

CapturedDevice interpret_device(const DeviceProperties& properties, const CaptureOptions& options) {
  CapturedDevice device;
  device.notes = properties.notes;
  auto serial = clean_property(properties.serial_number, device.notes);
  auto manufacturer = clean_property(properties.manufacturer, device.notes);
  auto model = clean_property(properties.model, device.notes);
  if (properties.hardware_hash.value) {
    interpret_hash(properties.hardware_hash, options, serial, manufacturer, model, properties,
                   device);
  }
  if (!serial) {
    device.notes.push_back(
        "no usable serial number: Autopilot needs the device's real serial (set it in the "
        "firmware setup or ask the vendor)");
  }
  device.serial_number = serial.value_or("");
  device.manufacturer = manufacturer.value_or("");
  device.model = model.value_or("");
  return device;
}

CaptureRow capture_row(const CapturedDevice& device, std::string_view group_tag,
                       std::string_view assigned_user) {
  CaptureRow row;
  row.serial_number = device.serial_number;
  row.windows_product_id = device.windows_product_id;
  row.hardware_hash = device.has_hash ? device.hardware_hash_base64 : std::string();
  row.group_tag = std::string(trim_firmware_text(group_tag));
  row.assigned_user = std::string(trim_firmware_text(assigned_user));
  return row;
}

std::string capture_header(const CaptureRow& row) {
  std::string header(kCaptureBaseHeader);
  if (!row.group_tag.empty()) header += ",Group Tag";
  if (!row.assigned_user.empty()) header += ",Assigned User";
  return header;
}

std::string capture_file_name(std::string_view serial) {
  std::string name;
  for (const char c : trim_firmware_text(serial)) {
    const bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    name += safe ? c : '_';
  }
  if (name.size() > 100) name.resize(100);
  if (name.empty()) name = "no-serial";
  // A leading dot hides the file (and "." / ".." are no names); Windows drops trailing dots.
  if (name.front() == '.') name.front() = '_';
  if (name.back() == '.') name.back() = '_';
  // DOS device names stay reserved on Windows even with an extension: "CON.csv" opens the console.
  const std::string_view stem = std::string_view(name).substr(0, name.find('.'));
  static constexpr std::array<std::string_view, 4> kDevices{"con", "prn", "aux", "nul"};
  bool reserved =
      std::any_of(kDevices.begin(), kDevices.end(), [&](auto d) { return iequals_ascii(stem, d); });
  if (stem.size() == 4 &&
      (iequals_ascii(stem.substr(0, 3), "com") || iequals_ascii(stem.substr(0, 3), "lpt")) &&
      stem[3] >= '0' && stem[3] <= '9') {
    reserved = true;
  }
  if (reserved) name.insert(0, "_");
  return name + ".csv";
}

}  // namespace hangar::core
