// POSIX: a rotating log file opened without following links (see log_file.h). spdlog's own file
// sink opens with fopen, which follows a link planted in the file's place.
#include "../log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace hangar::service {

namespace {

// Opens `path` for appending: O_NOFOLLOW, a regular file, ours (root or the service's account).
core::Result<int> open_log(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) {
    const int err = errno;
    return core::make_error("log_error",
                            "cannot open the log " + path.string() + ": " + std::strerror(err) +
                                (err == ELOOP ? " (it is a symbolic link: remove it; hangard never "
                                                "follows a link in place of its log)"
                                              : ""));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_uid != 0 && st.st_uid != ::geteuid())) {
    ::close(fd);
    return core::make_error("log_error", "the log " + path.string() +
                                             " is not a regular file of root or the service's "
                                             "account: remove it");
  }
  return fd;
}

class NoFollowRotatingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  NoFollowRotatingSink(std::filesystem::path path, std::size_t max_size, std::size_t max_files,
                       int fd)
      : path_(std::move(path)), max_size_(max_size), max_files_(max_files), fd_(fd) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) size_ = static_cast<std::size_t>(st.st_size);
  }
  ~NoFollowRotatingSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (size_ > 0 && size_ + line.size() > max_size_) rotate();
    if (fd_ < 0) return;  // rotation could not reopen: nothing to write to
    const char* data = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, data, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a full disk must not stop the service
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    size_ += line.size();
  }
  void flush_() override {
    if (fd_ >= 0) ::fdatasync(fd_);
  }

 private:
  // hangard.log -> hangard.1.log -> ... -> hangard.<max_files>.log (the oldest dropped), the same
  // names spdlog uses; rename() moves links themselves, never what they point to.
  void rotate() {
    ::close(fd_);
    fd_ = -1;
    using spdlog::details::file_helper;
    auto [base, ext] = file_helper::split_by_extension(path_.string());
    const auto name = [&, &base = base, &ext = ext](std::size_t index) {
      return index == 0 ? path_.string() : base + "." + std::to_string(index) + ext;
    };
    for (std::size_t i = max_files_; i > 0; --i) {
      ::rename(name(i - 1).c_str(), name(i).c_str());
    }
    auto reopened = open_log(path_);
    fd_ = reopened ? *reopened : -1;
    size_ = 0;
  }

  std::filesystem::path path_;
  std::size_t max_size_;
  std::size_t max_files_;
  int fd_;
  std::size_t size_ = 0;
};

}  // namespace

core::Result<std::shared_ptr<spdlog::sinks::sink>> make_log_file_sink(
    const std::filesystem::path& path, std::size_t max_size, std::size_t max_files) {
  auto fd = open_log(path);
  if (!fd) return std::move(fd).error();
  return std::shared_ptr<spdlog::sinks::sink>(
      std::make_shared<NoFollowRotatingSink>(path, max_size, max_files, *fd));
}

}  // namespace hangar::service
