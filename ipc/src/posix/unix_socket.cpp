// Unix-domain socket transport: a 0750 directory, a 0660 socket and SO_PEERCRED identity checks.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "hangar/ipc/transport.h"

namespace hangar::ipc {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string errno_text(int err) { return std::strerror(err); }

// Owns a file descriptor; the one place that calls ::close.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

int poll_timeout_ms(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 60'000 ? 60'000 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline. Returns false on timeout.
Result<bool> wait_for(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) {
      if (SteadyClock::now() >= deadline) return false;
      continue;  // the wait was capped at 60 s
    }
    if (errno != EINTR) return core::make_error("io_error", "poll failed: " + errno_text(errno));
  }
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

std::string user_name(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found) {
    return found->pw_name;
  }
  return {};
}

// True when the user (by uid, primary gid) belongs to `group` by primary or supplementary
// membership. SO_PEERCRED carries only the primary gid, so supplementary groups come from NSS.
bool in_group(uid_t uid, gid_t primary, const std::string& group) {
  if (group.empty()) return false;
  std::vector<char> buffer(16384);
  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &gr, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return false;
  }
  gid_t wanted = found->gr_gid;
  if (primary == wanted) return true;
  std::string name = user_name(uid);
  if (name.empty()) return false;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) return false;
  }
  groups.resize(static_cast<std::size_t>(count));
  for (gid_t g : groups) {
    if (g == wanted) return true;
  }
  return false;
}

#ifdef POLLRDHUP
constexpr short kProbeEvents = POLLIN | POLLRDHUP;
#else
constexpr short kProbeEvents = POLLIN;
#endif

class UnixStream final : public Stream {
 public:
  UnixStream(Fd fd, PeerIdentity peer) : fd_(std::move(fd)), peer_(std::move(peer)) {}

  Result<std::size_t> read_some(std::span<std::byte> buffer, Duration timeout) override {
    auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      if (closed_.load()) return core::make_error("closed", "connection closed");
      ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n >= 0) {
        if (n == 0 && closed_.load()) return core::make_error("closed", "connection closed");
        return static_cast<std::size_t>(n);
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        if (errno == ECONNRESET) return std::size_t{0};
        return core::make_error("io_error", "read failed: " + errno_text(errno));
      }
      auto ready = wait_for(fd_.get(), POLLIN, deadline);
      if (!ready) return ready.error();
      if (!*ready) return core::make_error("timeout", "no data within the timeout");
    }
  }

  Status write_all(std::span<const std::byte> data, Duration timeout) override {
    auto deadline = SteadyClock::now() + timeout;
    std::size_t sent = 0;
    while (sent < data.size()) {
      if (closed_.load()) return core::make_error("closed", "connection closed");
      ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return core::make_error("io_error", "write failed: " + errno_text(errno));
      }
      auto ready = wait_for(fd_.get(), POLLOUT, deadline);
      if (!ready) return ready.error();
      if (!*ready) return core::make_error("timeout", "peer is not reading");
    }
    return {};
  }

  void close() override {
    // shutdown() wakes a poll() in another thread; the descriptor itself is released in the
    // destructor so it cannot be reused while that thread still holds the number.
    if (!closed_.exchange(true)) ::shutdown(fd_.get(), SHUT_RDWR);
  }

  PeerActivity probe() override {
    if (closed_.load()) return PeerActivity::kClosed;
    for (;;) {
      // POLLIN also wakes at the end of the stream; POLLRDHUP says the peer shut down its sending
      // side; POLLHUP and POLLERR come unasked.
      pollfd p{fd_.get(), kProbeEvents, 0};
      const int rc = ::poll(&p, 1, 0);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return PeerActivity::kClosed;  // a descriptor poll refuses is of no more use
      if (rc == 0) return PeerActivity::kQuiet;
      break;
    }
    // Something is pending: a byte to read, or the end of the stream. Peek to tell which.
    for (;;) {
      char byte = 0;
      const ssize_t n = ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return PeerActivity::kData;
      if (n == 0) return PeerActivity::kClosed;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return PeerActivity::kQuiet;  // woken for naught
      return PeerActivity::kClosed;  // ECONNRESET and the like
    }
  }

  const PeerIdentity& peer() override { return peer_; }

 private:
  Fd fd_;
  PeerIdentity peer_;
  std::atomic<bool> closed_{false};
};

Result<std::pair<Fd, ino_t>> bind_socket(const std::string& endpoint,
                                         const std::string& operators_group);

class UnixListener final : public Listener {
 public:
  UnixListener(Fd fd, Fd wake_read, Fd wake_write, std::string endpoint, ino_t inode,
               std::string operators_group)
      : fd_(std::move(fd)),
        wake_read_(std::move(wake_read)),
        wake_write_(std::move(wake_write)),
        endpoint_(std::move(endpoint)),
        inode_(inode),
        operators_group_(std::move(operators_group)) {}

  // A socket file deleted under the running service (a tidy-up of /run, a mistaken rm) left it
  // unreachable for good, and a second hangard refused to start beside it: a dead end (black-box
  // round 13). Every few seconds of quiet the listener checks its file and binds it again when it
  // is gone; a file someone else put there is left alone.
  static constexpr int kSocketCheckMs = 2000;
  void recreate_if_gone() {
    struct stat st {};
    if (::lstat(endpoint_.c_str(), &st) == 0 || errno != ENOENT) return;
    auto bound = bind_socket(endpoint_, operators_group_);
    if (!bound) {
      spdlog::error("ipc: {} was deleted and cannot be created again: {}", endpoint_,
                    bound.error().message);
      return;
    }
    set_nonblocking(bound->first.get());
    fd_ = std::move(bound->first);
    inode_ = bound->second;
    spdlog::warn("ipc: {} was deleted under the running service; created again", endpoint_);
  }

  ~UnixListener() override {
    // Remove the socket file only if it is still ours (a successor may have replaced it).
    struct stat st {};
    if (::lstat(endpoint_.c_str(), &st) == 0 && st.st_ino == inode_) ::unlink(endpoint_.c_str());
  }

  Result<std::unique_ptr<Stream>> accept() override {
    for (;;) {
      if (stopped_.load()) return core::make_error("stopped", "listener stopped");
      pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
      int rc = ::poll(fds, 2, kSocketCheckMs);
      if (rc < 0) {
        if (errno == EINTR) continue;
        return core::make_error("io_error",
                                "poll on " + endpoint_ + " failed: " + errno_text(errno));
      }
      if (rc == 0) {
        recreate_if_gone();
        continue;
      }
      if (stopped_.load() || (fds[1].revents & POLLIN)) {
        return core::make_error("stopped", "listener stopped");
      }
      Fd client(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!client) {
        if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
        return core::make_error("io_error",
                                "accept on " + endpoint_ + " failed: " + errno_text(errno));
      }
      ucred cred{};
      socklen_t len = sizeof(cred);
      if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        continue;  // no identity, no service
      }
      PeerIdentity peer;
      std::string name = user_name(cred.uid);
      peer.user = "uid " + std::to_string(cred.uid) + (name.empty() ? "" : " (" + name + ")");
      peer.pid = cred.pid;
      // Admin (the cloud credentials): root and the service's own account only.
      peer.is_admin = cred.uid == 0 || cred.uid == ::geteuid();
      peer.can_write = peer.is_admin || in_group(cred.uid, cred.gid, operators_group_);
      return std::unique_ptr<Stream>(new UnixStream(std::move(client), std::move(peer)));
    }
  }

  void stop() override {
    if (!stopped_.exchange(true)) {
      char byte = 1;
      [[maybe_unused]] auto n = ::write(wake_write_.get(), &byte, 1);
    }
  }

  const std::string& endpoint() const override { return endpoint_; }

 private:
  Fd fd_;
  Fd wake_read_;
  Fd wake_write_;
  std::string endpoint_;
  ino_t inode_;
  std::string operators_group_;
  std::atomic<bool> stopped_{false};
};

Result<sockaddr_un> make_address(const std::string& endpoint) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (endpoint.empty() || endpoint.size() >= sizeof(addr.sun_path)) {
    return core::make_error("invalid_endpoint", "socket path \"" + endpoint + "\" must be 1 to " +
                                                    std::to_string(sizeof(addr.sun_path) - 1) +
                                                    " bytes long");
  }
  std::memcpy(addr.sun_path, endpoint.c_str(), endpoint.size() + 1);
  return addr;
}

Result<Fd> connect_socket(const std::string& endpoint, SteadyClock::time_point deadline) {
  auto addr = make_address(endpoint);
  if (!addr) return addr.error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return core::make_error("io_error", "socket() failed: " + errno_text(errno));
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) == 0) {
      return fd;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR) {
      return core::make_error("unavailable", "no Hangar service is listening on " + endpoint +
                                                 " (is hangard running?)");
    }
    if (err == EACCES || err == EPERM) {
      return core::make_error("unavailable",
                              "access to " + endpoint +
                                  " was denied; your account must be in the Hangar operators "
                                  "group or the service's group");
    }
    if (err == EAGAIN || err == EINPROGRESS) {
      // A full backlog: wait for the service to catch up, within the caller's timeout.
      if (SteadyClock::now() >= deadline) {
        return core::make_error("timeout", "the service at " + endpoint + " is not accepting");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    return core::make_error("unavailable",
                            "cannot connect to " + endpoint + ": " + errno_text(err));
  }
}

// The operators group's id, or an error naming the group when it does not exist.
Result<gid_t> operators_gid(const std::string& group) {
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return core::make_error("config_error",
                            "the operators group \"" + group +
                                "\" does not exist; create it (groupadd) or fix operators_group");
  }
  return found->gr_gid;
}

// Gives `path` to `gid`, or says why that failed: the service's account must belong to the group
// (only root may give a file to a group it is not in).
Status give_to_group(const std::string& path, gid_t gid, const std::string& group) {
  if (::lchown(path.c_str(), static_cast<uid_t>(-1), gid) == 0) return {};
  const int err = errno;
  return core::make_error("insecure_endpoint",
                          "cannot give " + path + " to the operators group \"" + group +
                              "\": " + errno_text(err) +
                              (err == EPERM ? " (the service's account must be a member of \"" +
                                                  group + "\", or run hangard as root)"
                                            : std::string()));
}

// True when `dir` holds anything but the socket `keep` (a stale one from a crashed service).
bool holds_other_entries(const std::filesystem::path& dir, const std::filesystem::path& keep) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != keep.filename()) return true;
  }
  return static_cast<bool>(ec);  // unreadable: treated as shared, never changed
}

// Prepares the socket's directory. One hangard creates, or an empty one of its own, is made 0750
// (with an operators group, given to it), so other local users cannot reach the socket at all.
// One that others may write to (group- or world-writable, or sticky as /tmp) is refused: they
// could replace the socket (black-box rounds 8 and 9: `--endpoint /tmp/hangar.sock` set /tmp to
// 0750). One that holds other files is someone's or something's else (/run, a home): its mode and
// group are left as they are, and the socket's own 0660 and SO_PEERCRED keep it safe.
Status prepare_directory(const std::filesystem::path& dir, const std::filesystem::path& socket,
                         const std::string& operators_group) {
  std::error_code ec;
  bool created = false;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return core::make_error(
          "io_error", "cannot create socket directory " + dir.string() + ": " + ec.message());
    }
    created = true;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return core::make_error("io_error", "cannot stat " + dir.string() + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return core::make_error("insecure_endpoint", "socket directory " + dir.string() +
                                                     " is not a directory (a link?); choose an "
                                                     "endpoint in a directory of the service's "
                                                     "account");
  }
  if (st.st_uid != ::geteuid()) {
    return core::make_error("insecure_endpoint",
                            "socket directory " + dir.string() +
                                " belongs to another user; choose an endpoint in a directory "
                                "owned by the service account");
  }
  std::optional<gid_t> gid;
  if (!operators_group.empty()) {
    auto found = operators_gid(operators_group);
    if (!found) return found.error();
    gid = *found;
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  const std::string own = (dir / "hangar").string();
  // A directory others may write to (a group's or everyone's, or sticky as /tmp is) is shared,
  // empty or not: they could replace the socket, and it is not hangard's to tighten (round 9).
  if (!created && (st.st_mode & (S_IWGRP | S_IWOTH | S_ISVTX)) != 0) {
    return core::make_error(
        "insecure_endpoint",
        "socket directory " + dir.string() + " is shared (mode " + mode +
            "): other users could replace the socket, and hangard does not change the mode of "
            "a shared directory; choose an endpoint in a directory of its own (say " +
            own + "/hangar.sock: hangard creates it 0750)");
  }
  if (!created && holds_other_entries(dir, socket)) {
    if (gid && st.st_gid != *gid && (st.st_mode & S_IXOTH) == 0) {
      return core::make_error(
          "insecure_endpoint",
          "socket directory " + dir.string() + " (mode " + mode +
              ") holds other files, so hangard leaves its mode and group as they are, and the "
              "operators group \"" +
              operators_group +
              "\" cannot reach a socket in it; choose an endpoint in a directory of its own (say " +
              own + "/hangar.sock)");
    }
    return {};
  }
  if (gid && st.st_gid != *gid) {
    if (auto given = give_to_group(dir.string(), *gid, operators_group); !given) return given;
  }
  if ((st.st_mode & 07777) != 0750 && ::chmod(dir.c_str(), 0750) != 0) {
    return core::make_error("io_error",
                            "cannot set 0750 on " + dir.string() + ": " + errno_text(errno));
  }
  return {};
}

// A listening socket bound at `endpoint` (which must not exist), 0660, given to the operators
// group when there is one; with its inode, so the listener can tell its own file from another.
Result<std::pair<Fd, ino_t>> bind_socket(const std::string& endpoint,
                                         const std::string& operators_group) {
  auto addr = make_address(endpoint);
  if (!addr) return addr.error();
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return core::make_error("io_error", "socket() failed: " + errno_text(errno));
  // Create the socket with no access for others, then open it to the group: no window in which
  // the socket exists with looser permissions.
  mode_t old_mask = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0) {
    if (bind_errno == EADDRINUSE) {
      return core::make_error("endpoint_in_use",
                              "another service is already listening on " + endpoint);
    }
    return core::make_error("io_error", "cannot bind " + endpoint + ": " + errno_text(bind_errno));
  }
  // The socket itself goes to the operators group as well: its members reach it through the
  // directory, and may only connect if the socket's own group is theirs.
  if (::chmod(endpoint.c_str(), 0660) != 0) {
    const int err = errno;
    ::unlink(endpoint.c_str());
    return core::make_error("io_error", "cannot set 0660 on " + endpoint + ": " + errno_text(err));
  }
  if (!operators_group.empty()) {
    auto gid = operators_gid(operators_group);
    if (!gid) {
      ::unlink(endpoint.c_str());
      return gid.error();
    }
    if (auto given = give_to_group(endpoint, *gid, operators_group); !given) {
      ::unlink(endpoint.c_str());
      return given.error();
    }
  }
  if (::listen(fd.get(), 128) != 0) {
    return core::make_error("io_error", "cannot listen on " + endpoint + ": " + errno_text(errno));
  }
  struct stat st {};
  ::lstat(endpoint.c_str(), &st);
  return std::pair<Fd, ino_t>(std::move(fd), st.st_ino);
}

}  // namespace

Result<std::unique_ptr<Listener>> listen(const std::string& endpoint,
                                         const ListenOptions& options) {
  auto addr = make_address(endpoint);
  if (!addr) return addr.error();
  std::filesystem::path path(endpoint);
  if (auto dir = prepare_directory(path.parent_path().empty() ? "." : path.parent_path(), path,
                                   options.operators_group);
      !dir) {
    return dir.error();
  }

  // A socket file left by a crashed service is removed; one with a live server behind it is not.
  struct stat st {};
  if (::lstat(endpoint.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return core::make_error("endpoint_in_use", endpoint + " exists and is not a socket");
    }
    auto probe = connect_socket(endpoint, SteadyClock::now() + std::chrono::milliseconds(200));
    if (probe) {
      return core::make_error("endpoint_in_use",
                              "another service is already listening on " + endpoint);
    }
    ::unlink(endpoint.c_str());
  }

  auto bound = bind_socket(endpoint, options.operators_group);
  if (!bound) return bound.error();
  Fd fd = std::move(bound->first);
  set_nonblocking(fd.get());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return core::make_error("io_error", "pipe() failed: " + errno_text(errno));
  }
  return std::unique_ptr<Listener>(new UnixListener(std::move(fd), Fd(pipe_fds[0]), Fd(pipe_fds[1]),
                                                    endpoint, bound->second,
                                                    options.operators_group));
}

namespace {

std::string service_account_name() {
  const char* configured = std::getenv("HANGAR_SERVICE_ACCOUNT");
  return configured != nullptr && *configured != '\0' ? configured : kDefaultServiceAccount;
}

Status verify_server(const std::string& endpoint, const ucred& server) {
  const std::string account = service_account_name();
  std::optional<uid_t> service_uid;
  {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwnam_r(account.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
      service_uid = found->pw_uid;
    }
  }
  const auto who = [](uid_t uid) {
    const std::string name = user_name(uid);
    return "uid " + std::to_string(uid) + (name.empty() ? "" : " (" + name + ")");
  };
  const std::string refused = "refusing to talk to " + endpoint + ": ";
  const std::string nothing_sent = "; nothing was sent";
  const bool trusted = server.uid == 0 || server.uid == ::getuid() || server.uid == ::geteuid() ||
                       (service_uid && server.uid == *service_uid);
  if (!trusted) {
    return core::make_error("untrusted_server", refused + "it is served by " + who(server.uid) +
                                                    ", which is neither root, you, nor the " +
                                                    "service's account \"" + account + "\"" +
                                                    nothing_sent);
  }
  // The server made its socket's directory (it refuses one it does not own): a directory of
  // another account means the socket is not where that server put it.
  std::filesystem::path dir = std::filesystem::path(endpoint).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return core::make_error("untrusted_server", refused + "cannot check its directory " +
                                                    dir.string() + ": " + errno_text(errno) +
                                                    nothing_sent);
  }
  if (st.st_uid != server.uid) {
    return core::make_error("untrusted_server", refused + "its directory " + dir.string() +
                                                    " belongs to " + who(st.st_uid) +
                                                    ", but the server runs as " + who(server.uid) +
                                                    nothing_sent);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Stream>> connect(const std::string& endpoint, Duration timeout) {
  auto fd = connect_socket(endpoint, SteadyClock::now() + timeout);
  if (!fd) return fd.error();
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd->get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return core::make_error("untrusted_server", "refusing to talk to " + endpoint +
                                                    ": the system does not say who serves it (" +
                                                    errno_text(errno) + "); nothing was sent");
  }
  // Who listens is checked before anything is written: a secret must never reach a socket
  // another user put in the service's place.
  if (auto verified = verify_server(endpoint, cred); !verified) return verified.error();
  PeerIdentity server;
  server.user = "uid " + std::to_string(cred.uid);
  server.pid = cred.pid;
  return std::unique_ptr<Stream>(new UnixStream(std::move(fd).value(), std::move(server)));
}

}  // namespace hangar::ipc
