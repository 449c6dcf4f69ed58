// Windows named pipes behind the IPC transport seam (transport.h): byte-mode, overlapped, secured.
#include "win32.h"

#include <sddl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "hangar/ipc/transport.h"
#include "pipe_security.h"
#include "unique_handle.h"
#include "win_text.h"

namespace hangar::ipc {
namespace {

using win::UniqueHandle;
using Clock = std::chrono::steady_clock;

constexpr DWORD kPipeBufferSize = 64 * 1024;
// Large writes go out in chunks so a single WriteFile never asks for more than the pipe buffers.
constexpr std::size_t kMaxIoChunk = 1024 * 1024;

// Accepts "\\.\pipe\name" as given and turns a bare "name" into it.
std::string normalize_endpoint(const std::string& endpoint) {
  if (endpoint.rfind(R"(\\)", 0) == 0) return endpoint;
  return R"(\\.\pipe\)" + endpoint;
}

DWORD remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  // INFINITE is 0xFFFFFFFF: stay below it so a huge timeout never means "forever".
  return static_cast<DWORD>(std::min<long long>(left, 0x7FFFFFFF));
}

Clock::time_point deadline_after(Duration timeout) {
  return Clock::now() + std::max(timeout, Duration::zero());
}

core::Error win32_error(const std::string& code, const std::string& what, DWORD error) {
  return core::make_error(code, what + ": " + win::error_text(error));
}

Result<UniqueHandle> make_event() {
  // Manual reset: overlapped I/O and GetOverlappedResult expect it.
  UniqueHandle event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event) return win32_error("io_error", "CreateEventW failed", ::GetLastError());
  return event;
}

enum class Waited { kCompleted, kTimedOut, kCancelled, kFailed };

struct IoOutcome {
  DWORD error = ERROR_SUCCESS;  // of the operation itself
  DWORD bytes = 0;
  Waited waited = Waited::kCompleted;
};

// Finishes an overlapped operation started on `handle`. On timeout or cancellation the I/O is
// cancelled and still waited for: the kernel writes into the OVERLAPPED and the buffer until it
// completes, so neither may be reused or freed before that.
IoOutcome finish_io(HANDLE handle, OVERLAPPED& overlapped, BOOL started, HANDLE cancel,
                    DWORD timeout_ms) {
  IoOutcome outcome;
  if (!started) {
    const DWORD error = ::GetLastError();
    if (error != ERROR_IO_PENDING) {
      outcome.error = error;
      return outcome;
    }
    const HANDLE handles[2] = {overlapped.hEvent, cancel};
    const DWORD wait = ::WaitForMultipleObjects(2, handles, FALSE, timeout_ms);
    if (wait == WAIT_TIMEOUT) {
      outcome.waited = Waited::kTimedOut;
    } else if (wait == WAIT_OBJECT_0 + 1) {
      outcome.waited = Waited::kCancelled;
    } else if (wait != WAIT_OBJECT_0) {
      outcome.waited = Waited::kFailed;
    }
    if (outcome.waited != Waited::kCompleted) ::CancelIoEx(handle, &overlapped);
  }
  if (!::GetOverlappedResult(handle, &overlapped, &outcome.bytes, TRUE)) {
    outcome.error = ::GetLastError();
  }
  return outcome;
}

bool is_disconnect(DWORD error) {
  return error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED || error == ERROR_NO_DATA;
}

class PipeStream final : public Stream {
 public:
  enum class Side { kServer, kClient };

  static Result<std::unique_ptr<Stream>> create(UniqueHandle pipe, std::string name, Side side,
                                                std::shared_ptr<const win::AccessPolicy> policy) {
    auto cancel = make_event();
    auto read_event = make_event();
    auto write_event = make_event();
    if (!cancel) return std::move(cancel).error();
    if (!read_event) return std::move(read_event).error();
    if (!write_event) return std::move(write_event).error();
    auto* stream = new PipeStream(std::move(pipe), std::move(name), side, std::move(policy),
                                  std::move(cancel).value(), std::move(read_event).value(),
                                  std::move(write_event).value());
    if (side == Side::kServer) {
      stream->owner_ = win::identify_connection_owner(stream->pipe_.get(), *stream->policy_);
    }
    return std::unique_ptr<Stream>(stream);
  }

  Result<std::size_t> read_some(std::span<std::byte> buffer, Duration timeout) override {
    if (buffer.empty()) return std::size_t{0};
    IoScope scope(*this);
    if (!scope.entered()) return closed_error();
    const auto deadline = deadline_after(timeout);
    const DWORD size = static_cast<DWORD>(std::min(buffer.size(), kMaxIoChunk));
    for (;;) {
      OVERLAPPED overlapped{};
      overlapped.hEvent = read_event_.get();
      const BOOL started = ::ReadFile(pipe_.get(), buffer.data(), size, nullptr, &overlapped);
      const IoOutcome io =
          finish_io(pipe_.get(), overlapped, started, cancel_.get(), remaining_ms(deadline));
      // Data that arrived while we were cancelling is still data: never drop it.
      if ((io.error == ERROR_SUCCESS || io.error == ERROR_MORE_DATA) && io.bytes > 0) {
        has_read_.store(true);
        return static_cast<std::size_t>(io.bytes);
      }
      if (io.waited == Waited::kCancelled || closed_.load()) return closed_error();
      if (io.waited == Waited::kTimedOut) {
        return core::make_error("timeout", "no data arrived on " + name_ + " within " +
                                               std::to_string(timeout.count()) + " ms");
      }
      if (is_disconnect(io.error)) return std::size_t{0};  // the peer closed its end
      if (io.error != ERROR_SUCCESS) return win32_error("io_error", "reading " + name_, io.error);
      // A zero-byte write by the peer completes a read with nothing in it: wait for more.
      if (remaining_ms(deadline) == 0) {
        return core::make_error("timeout", "no data arrived on " + name_ + " within " +
                                               std::to_string(timeout.count()) + " ms");
      }
    }
  }

  Status write_all(std::span<const std::byte> data, Duration timeout) override {
    IoScope scope(*this);
    if (!scope.entered()) return closed_error();
    const auto deadline = deadline_after(timeout);
    std::size_t done = 0;
    while (done < data.size()) {
      if (closed_.load()) return closed_error();
      const DWORD size = static_cast<DWORD>(std::min(data.size() - done, kMaxIoChunk));
      OVERLAPPED overlapped{};
      overlapped.hEvent = write_event_.get();
      const BOOL started = ::WriteFile(pipe_.get(), data.data() + done, size, nullptr, &overlapped);
      const IoOutcome io =
          finish_io(pipe_.get(), overlapped, started, cancel_.get(), remaining_ms(deadline));
      done += io.bytes;
      if (io.error == ERROR_SUCCESS && io.bytes > 0) continue;
      if (io.waited == Waited::kCancelled || closed_.load()) return closed_error();
      if (io.waited == Waited::kTimedOut) {
        return core::make_error("timeout", "the peer on " + name_ + " did not read " +
                                               std::to_string(data.size()) + " bytes within " +
                                               std::to_string(timeout.count()) + " ms");
      }
      if (is_disconnect(io.error) || io.error == ERROR_SUCCESS) {
        return core::make_error("closed", "the other end of " + name_ + " closed the connection");
      }
      return win32_error("io_error", "writing to " + name_, io.error);
    }
    return {};
  }

  void close() override {
    std::lock_guard lock(mutex_);
    if (closed_.exchange(true)) return;
    ::SetEvent(cancel_.get());
    // A read or write in flight still uses the handle; the last one out closes it (end_io).
    if (io_in_flight_ == 0) pipe_.reset();
  }

  PeerActivity probe() override {
    IoScope scope(*this);
    if (!scope.entered()) return PeerActivity::kClosed;
    // PeekNamedPipe never waits and reads nothing: the bytes available, or ERROR_BROKEN_PIPE once
    // the other end closed its handle. Any other failure leaves a pipe nothing can be served on.
    DWORD available = 0;
    if (!::PeekNamedPipe(pipe_.get(), nullptr, 0, nullptr, &available, nullptr)) {
      return PeerActivity::kClosed;
    }
    return available > 0 ? PeerActivity::kData : PeerActivity::kQuiet;
  }

  // Known at accept, from the client's process (the peer itself only after its first request).
  ConnectionOwner owner() override { return owner_; }

  const PeerIdentity& peer() override {
    if (peer_resolved_) return peer_;
    IoScope scope(*this);
    if (!scope.entered()) {
      peer_ = PeerIdentity{"unknown", -1, false};
      return peer_;
    }
    if (side_ == Side::kClient) {
      // The peer of a client is the service; it needs no identity check, only its pid.
      ULONG pid = 0;
      peer_ = PeerIdentity{"service", -1, false};
      if (::GetNamedPipeServerProcessId(pipe_.get(), &pid)) peer_.pid = static_cast<long long>(pid);
      peer_resolved_ = true;
      return peer_;
    }
    peer_ = win::identify_client(pipe_.get(), *policy_);
    // Before the first read impersonation cannot work yet: only cache an answer that is final.
    peer_resolved_ = peer_.user != "unknown" || has_read_.load();
    return peer_;
  }

 private:
  PipeStream(UniqueHandle pipe, std::string name, Side side,
             std::shared_ptr<const win::AccessPolicy> policy, UniqueHandle cancel,
             UniqueHandle read_event, UniqueHandle write_event)
      : pipe_(std::move(pipe)),
        name_(std::move(name)),
        side_(side),
        policy_(std::move(policy)),
        cancel_(std::move(cancel)),
        read_event_(std::move(read_event)),
        write_event_(std::move(write_event)) {}

  // Counts an operation that uses pipe_, so close() from another thread never closes the handle
  // under it; close() signals cancel_ instead and the operation returns promptly.
  class IoScope {
   public:
    explicit IoScope(PipeStream& stream) : stream_(stream) {
      std::lock_guard lock(stream_.mutex_);
      entered_ = !stream_.closed_.load();
      if (entered_) ++stream_.io_in_flight_;
    }
    ~IoScope() {
      if (!entered_) return;
      std::lock_guard lock(stream_.mutex_);
      if (--stream_.io_in_flight_ == 0 && stream_.closed_.load()) stream_.pipe_.reset();
    }
    IoScope(const IoScope&) = delete;
    IoScope& operator=(const IoScope&) = delete;
    bool entered() const { return entered_; }

   private:
    PipeStream& stream_;
    bool entered_ = false;
  };

  core::Error closed_error() const {
    return core::make_error("closed", "the connection on " + name_ + " was closed");
  }

  UniqueHandle pipe_;
  std::string name_;
  Side side_;
  std::shared_ptr<const win::AccessPolicy> policy_;
  UniqueHandle cancel_;
  UniqueHandle read_event_;
  UniqueHandle write_event_;
  std::mutex mutex_;
  int io_in_flight_ = 0;
  std::atomic<bool> closed_{false};
  std::atomic<bool> has_read_{false};
  PeerIdentity peer_;
  bool peer_resolved_ = false;
  ConnectionOwner owner_{"service", true};  // the client side's peer is the service
};

class PipeListener final : public Listener {
 public:
  PipeListener(std::string endpoint, std::shared_ptr<const win::AccessPolicy> policy,
               win::LocalPtr<void> security, UniqueHandle first_instance, UniqueHandle stop_event,
               UniqueHandle connect_event)
      : endpoint_(std::move(endpoint)),
        policy_(std::move(policy)),
        security_(std::move(security)),
        pending_(std::move(first_instance)),
        stop_event_(std::move(stop_event)),
        connect_event_(std::move(connect_event)) {}

  // Wine 8 ignores FILE_FLAG_FIRST_PIPE_INSTANCE and hands out one more instance of an existing
  // pipe instead of refusing. Newer Wine reports ERROR_ALREADY_EXISTS then; Wine 8 does not, but
  // a pipe we just created can only have more than one instance if it was not ours.
  static bool someone_else_owns(HANDLE first_instance, DWORD create_error) {
    if (create_error == ERROR_ALREADY_EXISTS) return true;
    DWORD instances = 0;
    return ::GetNamedPipeHandleStateW(first_instance, nullptr, &instances, nullptr, nullptr,
                                      nullptr, 0) &&
           instances > 1;
  }

  static Result<UniqueHandle> create_instance(const std::string& endpoint, void* security,
                                              bool first) {
    SECURITY_ATTRIBUTES attributes{};
    attributes.nLength = sizeof(attributes);
    attributes.lpSecurityDescriptor = security;
    attributes.bInheritHandle = FALSE;
    const DWORD open_mode =
        PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0u);
    const DWORD pipe_mode =
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
    ::SetLastError(ERROR_SUCCESS);  // read back below even on success
    UniqueHandle pipe(::CreateNamedPipeW(win::to_wide(endpoint).c_str(), open_mode, pipe_mode,
                                         PIPE_UNLIMITED_INSTANCES, kPipeBufferSize, kPipeBufferSize,
                                         0, &attributes));
    const DWORD error = ::GetLastError();
    const std::string in_use = endpoint +
                               " is already served by another process (is another hangard "
                               "running? stop it or choose another --endpoint)";
    if (pipe && first && someone_else_owns(pipe.get(), error)) {
      return core::make_error("endpoint_in_use", in_use);
    }
    if (pipe) return pipe;
    if (first && (error == ERROR_ACCESS_DENIED || error == ERROR_PIPE_BUSY)) {
      return win32_error("endpoint_in_use", in_use, error);
    }
    return win32_error("io_error", "cannot create an instance of " + endpoint, error);
  }

  Result<std::unique_ptr<Stream>> accept() override {
    for (;;) {
      if (stopped_.load()) return stopped_error();
      if (!pending_) {
        auto instance = create_instance(endpoint_, security_.get(), false);
        if (!instance) return std::move(instance).error();
        pending_ = std::move(instance).value();
      }
      OVERLAPPED overlapped{};
      overlapped.hEvent = connect_event_.get();
      ::ResetEvent(connect_event_.get());
      const BOOL connected = ::ConnectNamedPipe(pending_.get(), &overlapped);
      DWORD error = connected ? ERROR_SUCCESS : ::GetLastError();
      if (error == ERROR_IO_PENDING) {
        const HANDLE handles[2] = {connect_event_.get(), stop_event_.get()};
        const DWORD wait = ::WaitForMultipleObjects(2, handles, FALSE, INFINITE);
        const DWORD wait_error = ::GetLastError();
        if (wait != WAIT_OBJECT_0) ::CancelIoEx(pending_.get(), &overlapped);
        DWORD unused = 0;
        error = ::GetOverlappedResult(pending_.get(), &overlapped, &unused, TRUE)
                    ? ERROR_SUCCESS
                    : ::GetLastError();
        if (wait == WAIT_OBJECT_0 + 1) {
          pending_.reset();
          return stopped_error();
        }
        if (wait != WAIT_OBJECT_0) {
          return win32_error("io_error", "waiting for clients on " + endpoint_, wait_error);
        }
      }
      if (error == ERROR_SUCCESS || error == ERROR_PIPE_CONNECTED) {
        auto stream =
            PipeStream::create(std::move(pending_), endpoint_, PipeStream::Side::kServer, policy_);
        // Keep an instance listening at all times: while none exists, the name is free for anyone
        // to create (squat), and clients would be told the service is not running.
        if (auto next = create_instance(endpoint_, security_.get(), false)) {
          pending_ = std::move(next).value();
        }
        return stream;
      }
      if (error == ERROR_NO_DATA) {
        // The client came and went before we accepted it: recycle the instance, keep the name.
        ::DisconnectNamedPipe(pending_.get());
        continue;
      }
      return win32_error("io_error", "accepting a client on " + endpoint_, error);
    }
  }

  void stop() override {
    stopped_.store(true);
    ::SetEvent(stop_event_.get());
  }

  const std::string& endpoint() const override { return endpoint_; }

 private:
  core::Error stopped_error() const {
    return core::make_error("stopped", "the listener on " + endpoint_ + " was stopped");
  }

  std::string endpoint_;
  std::shared_ptr<const win::AccessPolicy> policy_;
  win::LocalPtr<void> security_;
  UniqueHandle pending_;  // the instance waiting for the next client
  UniqueHandle stop_event_;
  UniqueHandle connect_event_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

Result<std::unique_ptr<Listener>> listen(const std::string& endpoint,
                                         const ListenOptions& options) {
  const std::string name = normalize_endpoint(endpoint);
  auto policy =
      std::make_shared<const win::AccessPolicy>(win::make_access_policy(options.operators_group));
  // As on Linux: a configured group that does not resolve is a start-up error, never a pipe that
  // silently leaves the operators out.
  if (!options.operators_group.empty() && policy->operators.empty()) {
    return core::make_error("config_error", "the operators group \"" + options.operators_group +
                                                "\" does not exist on this computer; create it "
                                                "(net localgroup /add) or fix operators_group");
  }
  const std::wstring sddl = win::to_wide(win::pipe_sddl(*policy));
  PSECURITY_DESCRIPTOR raw_security = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                              &raw_security, nullptr)) {
    return win32_error("io_error", "cannot build the security descriptor for " + name,
                       ::GetLastError());
  }
  win::LocalPtr<void> security(raw_security);

  auto first = PipeListener::create_instance(name, security.get(), true);
  if (!first) return std::move(first).error();
  auto stop_event = make_event();
  if (!stop_event) return std::move(stop_event).error();
  auto connect_event = make_event();
  if (!connect_event) return std::move(connect_event).error();
  return std::unique_ptr<Listener>(
      new PipeListener(name, std::move(policy), std::move(security), std::move(first).value(),
                       std::move(stop_event).value(), std::move(connect_event).value()));
}

Result<std::unique_ptr<Stream>> connect(const std::string& endpoint, Duration timeout) {
  const std::string name = normalize_endpoint(endpoint);
  const std::wstring wide = win::to_wide(name);
  const auto deadline = deadline_after(timeout);
  for (;;) {
    // SECURITY_IDENTIFICATION: the service may learn who we are but never act as us.
    UniqueHandle pipe(::CreateFileW(
        wide.c_str(), win::kClientAccess, 0, nullptr, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
    if (pipe) {
      // Who serves the pipe is checked before anything is written (see transport.h).
      if (auto verified = win::verify_pipe_server(pipe.get(), name); !verified) {
        return std::move(verified).error();
      }
      return PipeStream::create(std::move(pipe), name, PipeStream::Side::kClient, nullptr);
    }
    const DWORD error = ::GetLastError();
    if (error == ERROR_PIPE_BUSY) {
      // Every instance is taken; the service creates the next one as soon as it accepts.
      const DWORD left = remaining_ms(deadline);
      if (left == 0) {
        return core::make_error("timeout", "the service on " + name +
                                               " is busy: no free pipe "
                                               "instance within " +
                                               std::to_string(timeout.count()) + " ms");
      }
      ::WaitNamedPipeW(wide.c_str(), std::min<DWORD>(left, 250));
      continue;
    }
    if (error == ERROR_FILE_NOT_FOUND) {
      return core::make_error("unavailable", "nothing listens on " + name +
                                                 ": the pipe does not exist, so the Hangar "
                                                 "service is not running (start it with "
                                                 "`sc start Hangar`)");
    }
    if (error == ERROR_ACCESS_DENIED) {
      return win32_error("permission_denied", "not allowed to connect to " + name, error);
    }
    return win32_error("unavailable", "cannot connect to " + name, error);
  }
}

}  // namespace hangar::ipc
