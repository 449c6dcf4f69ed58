// `hangar capture`: the local device's hardware hash, serial, make and model, and the
// Get-WindowsAutoPilotInfo CSV row it becomes. Platform readers live in src/windows and src/posix
// (client-cli/capture).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/firmware_values.h"
#include "hangar/core/result.h"

namespace hangar::core {

// Get-WindowsAutoPilotInfo's columns. Group Tag and Assigned User follow only when they were given.
inline constexpr std::string_view kCaptureBaseHeader =
    "Device Serial Number,Windows Product ID,Hardware Hash";

// Error codes of this module (messages say what failed and what to do).
inline constexpr std::string_view kCaptureAlreadyCapturedCode = "capture.already_captured";
inline constexpr std::string_view kCaptureBadFileCode = "capture.bad_file";
inline constexpr std::string_view kCaptureUnfitCode = "capture.unfit";
inline constexpr std::string_view kCaptureWriteFailedCode = "capture.write_failed";
inline constexpr std::string_view kCaptureReadFailedCode = "capture.read_failed";

// What was read from the local device. Missing values are empty and explained in `notes`.
struct CapturedDevice {
  std::string serial_number;
  std::string manufacturer;
  std::string model;
  // Whitespace removed and '=' padding added (what Graph's Edm.Binary accepts); empty unless
  // has_hash.
  std::string hardware_hash_base64;
  std::string windows_product_id;
  bool has_hash = false;
  // Everything a technician should know: placeholders, mismatches, why the hash is missing.
  std::vector<std::string> notes;
};

struct CaptureOptions {
  // Where the SMBIOS strings are read on Linux; tests point it at a fake directory. Unused on
  // Windows, which asks WMI.
  std::filesystem::path dmi_dir = "/sys/class/dmi/id";
  // Get-WindowsAutoPilotInfo leaves "Windows Product ID" empty; when set, the product key ID the
  // hash carries (record 24) fills it instead.
  bool product_id_from_hash = false;
};

// One property as a platform reader found it.
struct PropertyValue {
  std::string source;                // for notes: "Win32_BIOS.SerialNumber", ".../product_serial"
  std::optional<std::string> value;  // nullopt: unreadable (the reader's notes say why)
};

// The raw values behind a CapturedDevice, before any cleanup.
struct DeviceProperties {
  PropertyValue serial_number;
  PropertyValue manufacturer;
  PropertyValue model;
  PropertyValue hardware_hash;
  std::vector<std::string> notes;  // the reader's own findings, kept first in the result
};

// Property values of one WMI class instance. WMI property names are case-insensitive, and so is
// this map's lookup.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};
using WmiProperties = std::map<std::string, std::string, CaseInsensitiveLess>;

// Win32_BIOS (SerialNumber), Win32_ComputerSystem (Manufacturer, Model) and MDM_DevDetail_Ext01
// (DeviceHardwareData); nullopt for a class that could not be queried. A property that is absent
// or NULL counts as unreadable.
DeviceProperties properties_from_wmi(const std::optional<WmiProperties>& bios,
                                     const std::optional<WmiProperties>& computer_system,
                                     const std::optional<WmiProperties>& dev_detail);

// The real-world cleanups: surrounding whitespace and NULs trimmed; OEM placeholders ("To be filled
// by O.E.M.", "Default string", "System Serial Number", "0", "None", empty...) treated as missing
// with a note; the hash decoded and checked with parse_hardware_hash_text, its serial, make and
// model compared with the other sources, and used where those are missing.
CapturedDevice interpret_device(const DeviceProperties& properties,
                                const CaptureOptions& options = {});

// clean_firmware_value and is_oem_placeholder: hangar/core/firmware_values.h.

// Reads the local device: WMI on Windows, /sys/class/dmi/id on Linux (no hash there). A value that
// cannot be read is a note, not an error; errors are reserved for the reader itself failing (COM or
// WMI unusable).
Result<CapturedDevice> capture_local_device(const CaptureOptions& options = {});

// True when the process can read the hash: an elevated administrator or SYSTEM on Windows, root on
// Linux (where it only decides whether product_serial is readable).
bool running_elevated();

// One Get-WindowsAutoPilotInfo row. Group tag and user are optional columns.
struct CaptureRow {
  std::string serial_number;
  std::string windows_product_id;
  std::string hardware_hash;  // base64
  std::string group_tag;
  std::string assigned_user;
};

CaptureRow capture_row(const CapturedDevice& device, std::string_view group_tag = {},
                       std::string_view assigned_user = {});

// The header a new file gets for `row`: the base columns, plus ",Group Tag" and/or
// ",Assigned User" when the row has them.
std::string capture_header(const CaptureRow& row);

// "<serial>.csv" made safe on every file system: only letters, digits, '-', '_' and '.' survive
// (anything else becomes '_'), no leading dot, no trailing dot, no reserved DOS device name (CON,
// NUL, COM1...), at most 100 characters before ".csv".
std::string capture_file_name(std::string_view serial);

struct AppendedRow {
  std::filesystem::path file;
  bool created = false;    // the header was written: the file was new (or empty)
  std::uint64_t line = 0;  // 1-based line the row is on
};

// Checks everything append_capture_row would, without writing: every cell is ASCII with no comma,
// quote or control character; the row has a serial and a hash; an existing file is 8-bit (not
// UTF-16), starts with a Get-WindowsAutoPilotInfo header that has a column for each value given
// (a row missing a value the file has a column for gets an empty cell), and does not already hold
// the serial (compared case-insensitively): code kCaptureAlreadyCapturedCode.
Status check_capture_append(const std::filesystem::path& file, const CaptureRow& row);

// Appends one CRLF-terminated row to `file`, creating it with the header when it does not exist.
// The row is written with a single append and flushed to the disk before returning (a USB stick may
// be pulled right after), after a line break if the file's last line lacks one, so an existing
// file is never corrupted. The folder must exist.
Result<AppendedRow> append_capture_row(const std::filesystem::path& file, const CaptureRow& row);

}  // namespace hangar::core
