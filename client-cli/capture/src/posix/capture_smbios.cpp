// The Linux reader behind `hangar capture`: serial, make and model from the kernel's SMBIOS export.
// Linux has no hardware hash: only Windows computes it.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <system_error>

#include "hangar/capture/capture.h"
#include "hangar/core/paths.h"

namespace hangar::core {
namespace {

// SMBIOS strings are at most 64 bytes in practice; 4 KB is a page, the most sysfs hands out.
constexpr std::size_t kMaxDmiBytes = 4096;

PropertyValue read_dmi_file(const std::filesystem::path& dir, const char* file_name,
                            std::vector<std::string>& notes) {
  const std::filesystem::path path = dir / file_name;
  PropertyValue property;
  property.source = path_to_utf8(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == EACCES || error == EPERM) {
      notes.push_back(property.source +
                      " is readable only by root: run hangar capture with sudo to get it");
    } else if (error == ENOENT) {
      notes.push_back(property.source + " does not exist: the firmware does not report this value");
    } else {
      notes.push_back(property.source +
                      " cannot be read: " + std::generic_category().message(error));
    }
    return property;
  }
  std::array<char, kMaxDmiBytes> buffer{};
  std::string value;
  int error = 0;
  while (value.size() < kMaxDmiBytes) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    value.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (error != 0) {
    // sysfs answers EACCES/EPERM at read time for some attributes rather than at open.
    notes.push_back(property.source + " cannot be read: " + std::generic_category().message(error) +
                    (error == EACCES || error == EPERM ? " (run hangar capture with sudo)" : ""));
    return property;
  }
  property.value = std::move(value);
  return property;
}

}  // namespace

bool running_elevated() { return ::geteuid() == 0; }

Result<CapturedDevice> capture_local_device(const CaptureOptions& options) {
  DeviceProperties properties;
  std::error_code ec;
  if (!std::filesystem::is_directory(options.dmi_dir, ec)) {
    // One clear note instead of three "does not exist" ones.
    properties.notes.push_back(path_to_utf8(options.dmi_dir) +
                               " does not exist: this system exports no SMBIOS data (a container "
                               "or a board without SMBIOS), so serial, make and model are unknown");
    properties.serial_number.source = path_to_utf8(options.dmi_dir / "product_serial");
    properties.manufacturer.source = path_to_utf8(options.dmi_dir / "sys_vendor");
    properties.model.source = path_to_utf8(options.dmi_dir / "product_name");
  } else {
    properties.serial_number = read_dmi_file(options.dmi_dir, "product_serial", properties.notes);
    properties.manufacturer = read_dmi_file(options.dmi_dir, "sys_vendor", properties.notes);
    properties.model = read_dmi_file(options.dmi_dir, "product_name", properties.notes);
  }
  properties.hardware_hash.source = "hardware hash";
  properties.notes.push_back(
      "no hardware hash can be read on Linux: only Windows computes it (WMI class "
      "MDM_DevDetail_Ext01). Run hangar capture on this device under Windows, e.g. during setup "
      "with Shift+F10 (the flash-drive method)");
  return interpret_device(properties, options);
}

}  // namespace hangar::core
