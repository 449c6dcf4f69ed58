// Files the CLI writes for the user (merge -o, export -o): never through a link another user
// planted in the output folder, and never half-written under the final name.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "hangar/core/result.h"

namespace hangar::core {

// Error code of every failure below; the message names the file and what to do.
inline constexpr std::string_view kOutputWriteFailedCode = "output.write_failed";

// One output file being written. create() makes a new file under a fresh unpredictable name in
// the target's folder ("<name>.<16 hex digits>.partial"), exclusively and without following links
// (POSIX: O_CREAT|O_EXCL|O_NOFOLLOW; Windows: CREATE_NEW on the name itself, reparse points
// included), so nothing that already has that name is opened. commit() flushes the data to the
// disk and renames the file over the target: a rename replaces the directory entry, which for a
// planted symbolic link is the link itself, never the file it points to. Destroyed uncommitted (a
// failure, an exception), the temporary file is removed and the target is left as it was.
class OutputFile {
 public:
  static Result<OutputFile> create(const std::filesystem::path& target);
  // The same with the random part of each name drawn from `suffixes` (a name that exists already
  // is skipped, at most 16 times): tests plant links under the names it will return.
  static Result<OutputFile> create(const std::filesystem::path& target,
                                   const std::function<std::string()>& suffixes);

  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&& other) noexcept;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  // Appends `data`; on failure (disk full, say) the file is abandoned (see discard()).
  Status write(std::string_view data);
  // Flushes, closes and renames the file over the target. Once only.
  Status commit();
  // Closes and removes the temporary file; the target is untouched. Idempotent.
  void discard() noexcept;

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temporary() const { return temporary_; }

 private:
  OutputFile() = default;
  void close_handle() noexcept;

  std::filesystem::path target_;
  std::filesystem::path temporary_;
#ifdef _WIN32
  void* handle_ = nullptr;  // HANDLE; INVALID_HANDLE_VALUE is never stored
#else
  int fd_ = -1;
#endif
  bool open_ = false;
};

// create(), write(data), commit(): the whole file at once.
Status write_output_file(const std::filesystem::path& target, std::string_view data);

}  // namespace hangar::core
