// Output files written under a fresh temporary name, then renamed over the target (see
// output_file.h).
#include "hangar/core/output_file.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "hangar/core/paths.h"

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include "hangar/core/win_text.h"
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hangar::core {
namespace {

// How often a fresh name is drawn when one exists already: with 64 random bits, a second clash
// means someone is guessing, a sixteenth means something is wrong with the folder.
constexpr int kNameAttempts = 16;

std::string random_suffix() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    const auto bits = static_cast<std::uint32_t>(device());
    for (int nibble = 0; nibble < 4; ++nibble) out.push_back(kHex[(bits >> (nibble * 4)) & 0xF]);
  }
  return out;
}

std::filesystem::path temporary_name(const std::filesystem::path& target,
                                     const std::string& suffix) {
  std::filesystem::path name = target.filename();
  name += "." + suffix + ".partial";
  return target.parent_path() / name;
}

std::string folder_of(const std::filesystem::path& target) {
  const auto parent = target.parent_path();
  return parent.empty() ? std::string("the current folder") : path_to_utf8(parent);
}

Error failed(std::string message) {
  return make_error(std::string(kOutputWriteFailedCode), std::move(message));
}

#ifdef _WIN32
std::string last_error_text() { return win::error_text(::GetLastError()); }
#else
std::string errno_text(int error) { return std::generic_category().message(error); }
#endif

}  // namespace

Result<OutputFile> OutputFile::create(const std::filesystem::path& target) {
  return create(target, random_suffix);
}

Result<OutputFile> OutputFile::create(const std::filesystem::path& target,
                                      const std::function<std::string()>& suffixes) {
  if (target.empty() || !target.has_filename()) {
    return failed("\"" + path_to_utf8(target) + "\" names no file to write");
  }
  OutputFile file;
  file.target_ = target;
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    std::filesystem::path temporary = temporary_name(target, suffixes());
#ifdef _WIN32
    // CREATE_NEW fails on any existing name; FILE_FLAG_OPEN_REPARSE_POINT makes a planted link or
    // junction count as existing instead of being resolved.
    HANDLE handle = ::CreateFileW(temporary.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW,
                                  FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (handle == INVALID_HANDLE_VALUE) {
      const DWORD error = ::GetLastError();
      if (error == ERROR_FILE_EXISTS || error == ERROR_ALREADY_EXISTS) continue;
      return failed("cannot create a file in " + folder_of(target) + " for " +
                    path_to_utf8(target) + ": " + win::error_text(error) +
                    " (does the folder exist, and may you write to it?)");
    }
    file.handle_ = handle;
#else
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0666);  // the umask decides, as for any file the user creates
    if (fd < 0) {
      const int error = errno;
      if (error == EEXIST) continue;
      if (error == EINTR) {
        --attempt;
        continue;
      }
      return failed("cannot create a file in " + folder_of(target) + " for " +
                    path_to_utf8(target) + ": " + errno_text(error) +
                    " (does the folder exist, and may you write to it?)");
    }
    file.fd_ = fd;
#endif
    file.temporary_ = std::move(temporary);
    file.open_ = true;
    return file;
  }
  return failed("cannot create a temporary file in " + folder_of(target) + ": " +
                std::to_string(kNameAttempts) +
                " fresh names were all taken (is someone creating files there?)");
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : target_(std::move(other.target_)),
      temporary_(std::move(other.temporary_)),
#ifdef _WIN32
      handle_(std::exchange(other.handle_, nullptr)),
#else
      fd_(std::exchange(other.fd_, -1)),
#endif
      open_(std::exchange(other.open_, false)) {
}

OutputFile& OutputFile::operator=(OutputFile&& other) noexcept {
  if (this != &other) {
    discard();
    target_ = std::move(other.target_);
    temporary_ = std::move(other.temporary_);
#ifdef _WIN32
    handle_ = std::exchange(other.handle_, nullptr);
#else
    fd_ = std::exchange(other.fd_, -1);
#endif
    open_ = std::exchange(other.open_, false);
  }
  return *this;
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::close_handle() noexcept {
#ifdef _WIN32
  if (handle_ != nullptr) ::CloseHandle(static_cast<HANDLE>(handle_));
  handle_ = nullptr;
#else
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
#endif
}

void OutputFile::discard() noexcept {
  if (!open_) return;
  close_handle();
  open_ = false;
  // Only the name this object created: removing a name removes the entry, never a link's target.
  std::error_code ignored;
  std::filesystem::remove(temporary_, ignored);
}

Status OutputFile::write(std::string_view data) {
  if (!open_) return failed(path_to_utf8(target_) + ": write after the file was closed");
#ifdef _WIN32
  while (!data.empty()) {
    const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(static_cast<HANDLE>(handle_), data.data(), chunk, &written, nullptr) ||
        written == 0) {
      const std::string why = last_error_text();
      discard();
      return failed("writing " + path_to_utf8(target_) + " failed: " + why +
                    " (disk full or drive removed?); it was left as it was");
    }
    data.remove_prefix(written);
  }
#else
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      discard();
      return failed("writing " + path_to_utf8(target_) + " failed: " + errno_text(error) +
                    " (disk full or drive removed?); it was left as it was");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
#endif
  return {};
}

Status OutputFile::commit() {
  if (!open_) return failed(path_to_utf8(target_) + ": the file was already closed");
  const std::string name = path_to_utf8(target_);
#ifdef _WIN32
  if (!::FlushFileBuffers(static_cast<HANDLE>(handle_))) {
    const std::string why = last_error_text();
    discard();
    return failed("writing " + name + " failed: " + why + "; it was left as it was");
  }
  close_handle();
  // MoveFileEx replaces the entry named like the target (a link itself, not what it points to).
  if (!::MoveFileExW(temporary_.c_str(), target_.c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    const std::string why = last_error_text();
    discard();
    return failed("cannot replace " + name + ": " + why +
                  " (is it a folder, read-only, or open in another program?)");
  }
#else
  if (::fsync(fd_) != 0) {
    const int error = errno;
    discard();
    return failed("writing " + name + " failed: " + errno_text(error) +
                  " (disk full or drive removed?); it was left as it was");
  }
  close_handle();
  if (::rename(temporary_.c_str(), target_.c_str()) != 0) {
    const int error = errno;
    discard();
    return failed(
        "cannot replace " + name + ": " + errno_text(error) +
        (error == EISDIR ? std::string(" (it is a folder: name a file)") : std::string()));
  }
  // The rename is on the disk once the folder is flushed.
  const std::filesystem::path parent =
      target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
#endif
  open_ = false;
  return {};
}

Status write_output_file(const std::filesystem::path& target, std::string_view data) {
  auto file = OutputFile::create(target);
  if (!file) return file.error();
  if (auto written = file->write(data); !written) return written;
  return file->commit();
}

}  // namespace hangar::core
