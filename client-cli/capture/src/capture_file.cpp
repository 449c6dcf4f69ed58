// `hangar capture`'s CSV files: appending Get-WindowsAutoPilotInfo rows without ever corrupting an
// existing file.
#include "hangar/capture/capture.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>

#include "capture_text.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/paths.h"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hangar::core {
namespace {

using capture_detail::in_quotes;

// --- CSV files --------------------------------------------------------------------------------

constexpr std::array<std::string_view, 5> kColumns{"Device Serial Number", "Windows Product ID",
                                                   "Hardware Hash", "Group Tag", "Assigned User"};
constexpr std::size_t kGroupTagColumn = 3;
constexpr std::size_t kAssignedUserColumn = 4;
// A combined file of 10,000 devices is about 60 MB; beyond this something else is going on.
constexpr std::uintmax_t kMaxExistingFileBytes = 256ULL * 1024 * 1024;

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

// A cell as Get-WindowsAutoPilotInfo or an editor may have written it: spaces and quotes stripped.
std::string_view bare_cell(std::string_view cell) {
  cell = trim_firmware_text(cell);
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
    cell = trim_firmware_text(cell.substr(1, cell.size() - 2));
  }
  return cell;
}

// Why `value` cannot go into a quote-less ASCII cell, or an empty string.
std::string cell_problem(std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    const std::string at = " at position " + std::to_string(i + 1);
    if (c >= 0x80) return "has a non-ASCII character" + at + " (the portal accepts ASCII only)";
    if (c == ',') return "contains a comma (the format has no quoting)";
    if (c == '"') return "contains a double quote (the format allows no quotes)";
    if (c < 0x20 || c == 0x7F) return "contains a control character" + at;
  }
  return {};
}

struct ExistingFile {
  bool exists = false;
  bool has_header = false;           // false: missing or empty, the header must be written
  bool ends_with_newline = true;     // false: a line break goes before the row
  std::uint64_t lines = 0;           // lines already in the file
  std::vector<std::size_t> columns;  // kColumns index of each header cell
};

Result<std::string> read_whole_file(const std::filesystem::path& file, std::uintmax_t size) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return make_error(std::string(kCaptureReadFailedCode),
                      "cannot open " + path_to_utf8(file) +
                          " to check it before appending (is it open in another program?)");
  }
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(size));
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return make_error(std::string(kCaptureReadFailedCode),
                      "reading " + path_to_utf8(file) + " failed: check the drive");
  }
  return bytes;
}

std::string expected_header_text() {
  return std::string(kCaptureBaseHeader) + "[,Group Tag][,Assigned User]";
}

// Reads and checks an existing file: encoding, header, and whether `row`'s serial is already in it.
Result<ExistingFile> inspect_file(const std::filesystem::path& file, const CaptureRow& row) {
  ExistingFile state;
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return make_error(std::string(kCaptureReadFailedCode),
                        "cannot check " + path_to_utf8(file) + ": " + ec.message());
    }
    return state;
  }
  const std::string name = path_to_utf8(file);
  if (!std::filesystem::is_regular_file(status)) {
    return make_error(std::string(kCaptureBadFileCode),
                      name + " exists but is not a file: choose another file name");
  }
  state.exists = true;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    return make_error(std::string(kCaptureReadFailedCode),
                      "cannot check " + name + ": " + ec.message());
  }
  if (size > kMaxExistingFileBytes) {
    return make_error(std::string(kCaptureBadFileCode),
                      name +
                          " is larger than 256 MB, too large to be a hash file: capture into "
                          "another file");
  }
  auto bytes = read_whole_file(file, size);
  if (!bytes) return std::move(bytes).error();
  std::string_view text = *bytes;

  const bool utf16_bom = text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF");
  if (utf16_bom || text.find('\0') != std::string_view::npos) {
    return make_error(
        std::string(kCaptureBadFileCode),
        name +
            " is UTF-16 text (as Windows PowerShell's Out-File writes it); appending an ASCII "
            "row would corrupt it. Capture into another file, or convert this one to "
            "ASCII/UTF-8 first");
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM: ASCII-compatible
  if (text.empty()) return state;                               // nothing but (maybe) a BOM
  state.has_header = true;
  state.ends_with_newline = text.back() == '\n';
  state.lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) +
                (state.ends_with_newline ? 0 : 1);

  std::size_t line_start = 0;
  std::uint64_t line_number = 0;
  while (line_start < text.size()) {
    std::size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(line_start, end - line_start);
    line_start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (line_number == 1) {
      // The three base columns in order, then Group Tag and Assigned User, each optional.
      std::size_t next = 0;
      bool recognised = true;
      for (const auto cell : split_cells(line)) {
        const std::string_view bare = bare_cell(cell);
        std::size_t found = kColumns.size();
        for (std::size_t c = next; c < kColumns.size(); ++c) {
          if (iequals_ascii(bare, kColumns[c])) {
            found = c;
            break;
          }
          if (c < kGroupTagColumn) break;  // a base column cannot be skipped
        }
        if (found == kColumns.size()) {
          recognised = false;
          break;
        }
        state.columns.push_back(found);
        next = found + 1;
      }
      if (!recognised || state.columns.size() < kGroupTagColumn) {
        return make_error(std::string(kCaptureBadFileCode),
                          name + " does not start with a Get-WindowsAutoPilotInfo header (" +
                              expected_header_text() + "); it starts with " +
                              in_quotes(line.substr(0, 120)) + ". Capture into another file");
      }
      continue;
    }
    const std::string_view serial = bare_cell(split_cells(line).front());
    if (!serial.empty() && iequals_ascii(serial, row.serial_number)) {
      const auto cells = split_cells(line);
      std::string how;
      if (cells.size() > 2) {
        auto theirs = decode_base64_bytes(bare_cell(cells[2]));
        auto ours = decode_base64_bytes(row.hardware_hash);
        how = theirs && ours && *theirs == *ours ? ", with the same hardware hash"
                                                 : ", with a different hardware hash";
      }
      return make_error(std::string(kCaptureAlreadyCapturedCode),
                        "serial " + row.serial_number + " is already captured in " + name +
                            " (line " + std::to_string(line_number) + how +
                            "): nothing was written. Register it from that file, or delete "
                            "that line first to capture it again");
    }
  }
  return state;
}

bool has_column(const ExistingFile& state, std::size_t column) {
  return std::find(state.columns.begin(), state.columns.end(), column) != state.columns.end();
}

Status check_row(const CaptureRow& row) {
  if (row.serial_number.empty()) {
    return make_error(std::string(kCaptureUnfitCode),
                      "the device has no usable serial number, so no row can be written: "
                      "Autopilot needs the real serial (set it in the firmware or ask the "
                      "vendor)");
  }
  if (row.hardware_hash.empty()) {
    return make_error(std::string(kCaptureUnfitCode),
                      "the device has no hardware hash, so no row was written (a row without one "
                      "cannot be registered)");
  }
  const std::array<std::pair<std::string_view, const std::string*>, 5> cells{{
      {kColumns[0], &row.serial_number},
      {kColumns[1], &row.windows_product_id},
      {kColumns[2], &row.hardware_hash},
      {kColumns[3], &row.group_tag},
      {kColumns[4], &row.assigned_user},
  }};
  for (const auto& [column, value] : cells) {
    if (auto problem = cell_problem(*value); !problem.empty()) {
      return make_error(std::string(kCaptureUnfitCode), std::string(column) + " " +
                                                            in_quotes(*value) + " " + problem +
                                                            ": it cannot be written to the CSV");
    }
  }
  return {};
}

Status check_columns(const std::filesystem::path& file, const ExistingFile& state,
                     const CaptureRow& row) {
  if (!state.has_header) return {};
  const std::array<std::pair<std::size_t, const std::string*>, 2> optional_cells{{
      {kGroupTagColumn, &row.group_tag},
      {kAssignedUserColumn, &row.assigned_user},
  }};
  for (const auto& [column, value] : optional_cells) {
    if (!value->empty() && !has_column(state, column)) {
      return make_error(std::string(kCaptureBadFileCode),
                        path_to_utf8(file) + " has no " + std::string(kColumns[column]) +
                            " column, so " + in_quotes(*value) +
                            " cannot be stored in it: leave that value out for this file, or "
                            "capture into another file");
    }
  }
  return {};
}

std::string row_line(const CaptureRow& row, const std::vector<std::size_t>& columns) {
  std::string line;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) line += ',';
    switch (columns[i]) {
      case 0:
        line += row.serial_number;
        break;
      case 1:
        line += row.windows_product_id;
        break;
      case 2:
        line += row.hardware_hash;
        break;
      case kGroupTagColumn:
        line += row.group_tag;
        break;
      default:
        line += row.assigned_user;
        break;
    }
  }
  line += "\r\n";
  return line;
}

std::string errno_text(int error) { return std::generic_category().message(error); }

// Appends `data` with one write and flushes it to the device. On a failed or short write the file
// is cut back to its previous length, so a full disk never leaves half a row behind. `create`
// insists on a new file (O_EXCL), so a file that appeared meanwhile is not overwritten.
Status append_durably(const std::filesystem::path& file, std::string_view data, bool create) {
  const std::string name = path_to_utf8(file);
#ifdef _WIN32
  int flags = _O_WRONLY | _O_APPEND | _O_BINARY | _O_NOINHERIT;
  if (create) flags |= _O_CREAT | _O_EXCL;
  const int fd = ::_wopen(file.c_str(), flags, _S_IREAD | _S_IWRITE);
#else
  // O_NOFOLLOW: a link another user planted under the name is refused, never written through.
  int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  if (create) flags |= O_CREAT | O_EXCL;
  const int fd = ::open(file.c_str(), flags, 0644);
#endif
  if (fd < 0) {
    const int error = errno;
#ifndef _WIN32
    if (error == ELOOP) {
      return make_error(std::string(kCaptureWriteFailedCode),
                        name +
                            " is a symbolic link; refusing to write through it (name the file "
                            "itself)");
    }
#endif
    if (create && error == EEXIST) {
      return make_error(std::string(kCaptureWriteFailedCode),
                        name +
                            " was created by someone else while capturing: run the capture "
                            "again");
    }
    return make_error(std::string(kCaptureWriteFailedCode),
                      "cannot open " + name + " for writing: " + errno_text(error) +
                          (create ? " (does the folder exist, and is it writable?)"
                                  : " (is it read-only or open in another program?)"));
  }
#ifdef _WIN32
  const auto before = ::_lseeki64(fd, 0, SEEK_END);
  const int written =
      ::_write(fd, data.data(), static_cast<unsigned int>(data.size()));  // one row: a few KB
  int error = errno;
  bool ok = written == static_cast<int>(data.size());
  if (ok && ::_commit(fd) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok && before >= 0) (void)::_chsize_s(fd, before);
  ::_close(fd);
#else
  const off_t before = ::lseek(fd, 0, SEEK_END);
  std::size_t done = 0;
  int error = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  bool ok = done == data.size();
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok && before >= 0) (void)::ftruncate(fd, before);
  ::close(fd);
#endif
  if (!ok) {
    if (create) {
      std::error_code ignored;
      std::filesystem::remove(file, ignored);
    }
    return make_error(std::string(kCaptureWriteFailedCode),
                      "writing to " + name + " failed: " + errno_text(error) +
                          " (disk full or drive removed?); the file was left as it was");
  }
  return {};
}

}  // namespace

Status check_capture_append(const std::filesystem::path& file, const CaptureRow& row) {
  if (auto st = check_row(row); !st) return st;
  auto state = inspect_file(file, row);
  if (!state) return std::move(state).error();
  return check_columns(file, *state, row);
}

Result<AppendedRow> append_capture_row(const std::filesystem::path& file, const CaptureRow& row) {
  if (auto st = check_row(row); !st) return std::move(st).error();
  auto state = inspect_file(file, row);
  if (!state) return std::move(state).error();
  if (auto st = check_columns(file, *state, row); !st) return std::move(st).error();

  std::string data;
  std::vector<std::size_t> columns = state->columns;
  std::uint64_t line = state->lines + 1;
  if (!state->ends_with_newline) {
    data += "\r\n";  // the last line lacks its break: ours must not run into it
  }
  if (!state->has_header) {
    const std::string header = capture_header(row);
    data += header + "\r\n";
    columns = {0, 1, 2};
    if (!row.group_tag.empty()) columns.push_back(kGroupTagColumn);
    if (!row.assigned_user.empty()) columns.push_back(kAssignedUserColumn);
    line = 2;
  }
  data += row_line(row, columns);
  if (auto st = append_durably(file, data, !state->exists); !st) return std::move(st).error();
  return AppendedRow{file, !state->has_header, line};
}

}  // namespace hangar::core
