// The client secret at rest on POSIX: <data dir>/client-secret, mode 0600, replaced atomically
// (see secret_store.h). The same file hand-written secrets have always used, so an existing
// set-up keeps working; a newline at its end is tolerated.
#include "../secret_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <string.h>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <vector>

namespace hangar::service {

namespace {

// A secret file larger than this is not one (Entra ID secrets are 40 characters).
constexpr off_t kMaxFileSize = 64 * 1024;

std::string errno_text(int code) { return std::generic_category().message(code); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports close()'s own failure (a delayed write error on some file systems).
  int reset() {
    int rc = 0;
    if (fd_ >= 0) rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

core::Error store_error(std::string message) {
  return core::make_error(kErrSecretStore, std::move(message));
}

std::string mode_text(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

}  // namespace

SecretStore::SecretStore(const std::filesystem::path& data_dir)
    : path_(data_dir / "client-secret") {}

std::string SecretStore::protection() {
  return "a file only the service's account can read (mode 0600)";
}

core::Status write_private_file(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  // mkostemp creates the file 0600 whatever the umask: it is never readable by others, not even
  // between creation and the explicit fchmod below.
  std::string name = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  std::vector<char> temp(name.begin(), name.end());
  temp.push_back('\0');
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return store_error("cannot create a file in " + dir.string() + ": " + errno_text(errno));
  }
  const auto fail = [&](const std::string& what, int code) -> core::Status {
    fd.reset();
    ::unlink(temp.data());
    return store_error(what + " " + path.string() + ": " + errno_text(code));
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail("cannot restrict", errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("cannot flush", errno);
  if (fd.reset() != 0) return fail("cannot write", errno);
  if (::rename(temp.data(), path.c_str()) != 0) {
    const int code = errno;
    ::unlink(temp.data());
    return store_error("cannot replace " + path.string() + ": " + errno_text(code));
  }
  // The rename itself is durable only once the directory is flushed.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) (void)::fsync(dir_fd.get());
  return {};
}

core::Result<std::optional<std::string>> SecretStore::load() const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) {
    const int code = errno;
    if (code == ENOENT) return std::optional<std::string>();
    if (code == ELOOP) {
      return store_error(path_.string() +
                         " is a symbolic link; the client secret must be a plain file in the data "
                         "directory (run `hangar config set-credentials` again)");
    }
    return store_error("cannot read the client secret in " + path_.string() + ": " +
                       errno_text(code) + " (it must belong to the service's account)");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return store_error("cannot read the client secret in " + path_.string() + ": " +
                       errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return store_error(path_.string() + " is not a regular file; run `hangar config " +
                       "set-credentials` again to replace it");
  }
  if ((st.st_mode & 077) != 0) {
    // A hand-made file with a loose mode: tighten it when it is ours, and say so either way.
    if (st.st_uid == ::geteuid() && ::fchmod(fd.get(), 0600) == 0) {
      spdlog::warn("{} was readable by other accounts (mode {}); restricted it to 0600",
                   path_.string(), mode_text(st.st_mode));
    } else {
      spdlog::warn(
          "{} is readable by other accounts (mode {}) and cannot be restricted by the service: "
          "run `chmod 600 {}` or set the credentials again with `hangar config set-credentials`",
          path_.string(), mode_text(st.st_mode), path_.string());
    }
  }
  if (st.st_size > kMaxFileSize) {
    return store_error(path_.string() + " is " + std::to_string(st.st_size) +
                       " bytes long, far more than a client secret: it is damaged or not a " +
                       "secret; run `hangar config set-credentials` again");
  }
  std::string secret(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t done = 0;
  while (done < secret.size()) {
    const ssize_t n = ::read(fd.get(), secret.data() + done, secret.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int code = errno;
      wipe(secret);
      return store_error("cannot read the client secret in " + path_.string() + ": " +
                         errno_text(code));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done >= secret.size()) {
    wipe(secret);
    return store_error(path_.string() + " changed while it was read; try again");
  }
  secret.resize(done);
  // A hand-written file ends with a newline (and from Windows editors a CR): not part of it.
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    return store_error(path_.string() +
                       " is empty; set the credentials again with `hangar config set-credentials`");
  }
  for (char c : secret) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      wipe(secret);
      return store_error(path_.string() +
                         " is damaged (it holds control characters or more than one line); set "
                         "the credentials again with `hangar config set-credentials`");
    }
  }
  return std::optional<std::string>(std::move(secret));
}

core::Status SecretStore::save(std::string_view secret) const {
  return write_private_file(path_, secret);
}

core::Status SecretStore::remove() const {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return store_error("cannot remove " + path_.string() + ": " + errno_text(errno));
  }
  return {};
}

void wipe(std::string& text) {
  if (!text.empty()) ::explicit_bzero(text.data(), text.size());
  text.clear();
}

}  // namespace hangar::service
