// The platform seam for IPC: a byte stream and a listener. Unix-domain sockets (posix/) and named
// pipes (windows/) implement it; framing, dispatch and the service never see an fd or a HANDLE.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "hangar/core/result.h"

namespace hangar::ipc {

using core::Result;
using core::Status;
using Duration = std::chrono::milliseconds;

// Who is on the other end of a connection, as the operating system reports it.
struct PeerIdentity {
  std::string user;        // "uid 1000 (alice)" on POSIX, "HOST\alice" on Windows
  long long pid = -1;      // client process id when the platform tells it
  bool can_write = false;  // allowed to run write commands (platform policy, see the transports)
  // Allowed to run admin commands (the cloud credentials): root/SYSTEM/Administrators and the
  // service's own account, never the operators group alone. Implies can_write.
  bool is_admin = false;
};

// Whom a connection counts against in the server's connection limits, as known when it is
// accepted (before any request: on Windows the caller's identity for permissions is only known
// after its first request). Never used to decide what a caller may do.
struct ConnectionOwner {
  std::string key;          // the same user always gets the same key
  bool privileged = false;  // root/SYSTEM/Administrators or the service's own account
};

// What a connection's peer has done that has not been read yet (Stream::probe).
enum class PeerActivity {
  kQuiet,   // still connected, nothing unread
  kData,    // bytes are waiting to be read
  kClosed,  // the peer hung up (or the connection broke, or close() was called)
};

// A connected byte stream. read_some/write_all/probe are called from one thread at a time; close()
// may be called from any thread and makes a pending read or write return promptly.
class Stream {
 public:
  virtual ~Stream() = default;
  // Reads between 1 and buffer.size() bytes, or 0 at end of stream. Error code "timeout" when
  // nothing arrived within `timeout`, "closed" after close().
  virtual Result<std::size_t> read_some(std::span<std::byte> buffer, Duration timeout) = 0;
  // Writes every byte or fails ("timeout" if the peer does not drain within `timeout`).
  virtual Status write_all(std::span<const std::byte> data, Duration timeout) = 0;
  virtual void close() = 0;
  // Never blocks and consumes nothing: whether the peer hung up or sent bytes not read yet. For a
  // connection the service only writes to (a subscriber), so that it learns a peer left without
  // waiting for a write to fail. A peer that half-closed (shutdown of its sending side) counts as
  // closed. Data waiting ahead of a hang-up is reported as data.
  virtual PeerActivity probe() = 0;
  // The peer's identity. On Windows it is resolved by impersonating the client, which is only
  // possible after data has been read from the pipe: call it after the first request arrived.
  virtual const PeerIdentity& peer() = 0;
  // For the connection limits (see ConnectionOwner). By default the peer itself, which a
  // transport that knows it at accept time (Unix sockets) already has.
  virtual ConnectionOwner owner() {
    const PeerIdentity& who = peer();
    return ConnectionOwner{who.user, who.is_admin};
  }
};

struct ListenOptions {
  // Local group whose members may run write commands besides root/SYSTEM/Administrators and the
  // service's own account. Empty: none. Missing group: logged by the caller, not fatal.
  std::string operators_group;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // Blocks until a client connects. Error code "stopped" once stop() was called.
  virtual Result<std::unique_ptr<Stream>> accept() = 0;
  // Thread-safe; makes a pending accept() return.
  virtual void stop() = 0;
  virtual const std::string& endpoint() const = 0;
};

// Creates the endpoint with its access control. Fails with "endpoint_in_use" when another live
// server owns it.
Result<std::unique_ptr<Listener>> listen(const std::string& endpoint, const ListenOptions& options);

// The account a Linux hangard runs as when it is not root, unless HANGAR_SERVICE_ACCOUNT names
// another (see connect()).
inline constexpr const char* kDefaultServiceAccount = "hangar";

// Connects to a listening endpoint. Error code "unavailable" when nothing listens there. Before
// returning (so before anything is sent), it checks who serves the endpoint and fails with
// "untrusted_server" unless it is the service: on POSIX the server process (SO_PEERCRED) runs as
// root, as the calling user, or as the service's account (HANGAR_SERVICE_ACCOUNT, else
// "hangar"), and owns the socket's directory; on Windows the pipe's server process
// (GetNamedPipeServerProcessId) runs as LocalSystem, as the Hangar service (NT SERVICE\Hangar in
// its token) or as the calling user.
Result<std::unique_ptr<Stream>> connect(const std::string& endpoint, Duration timeout);

}  // namespace hangar::ipc
