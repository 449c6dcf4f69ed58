// Serves a Listener with a Dispatcher: one thread per connection, every wait bounded by a timeout,
// so a slow or silent client only ever holds up itself.
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "hangar/ipc/budget.h"
#include "hangar/ipc/dispatcher.h"
#include "hangar/ipc/frame.h"
#include "hangar/ipc/transport.h"

namespace hangar::ipc {

struct ServerOptions {
  // `idle`: how long a connection may wait between requests before it is closed (a streaming
  // connection is not idle: the service writes to it).
  FrameTimeouts timeouts{};
  Duration write_timeout{std::chrono::seconds(5)};
  // For frames pushed to a streaming client (subscribe): a subscriber that reads slowly is given
  // time (its own queue turns what it cannot take into a gap); one that stops reading altogether
  // is dropped after this.
  Duration stream_write_timeout{std::chrono::seconds(60)};
  std::uint32_t max_frame_size = kDefaultMaxFrameSize;
  // Connections at once, in all. The last `reserved_connections` of them only administrators
  // (root/SYSTEM/Administrators) and the service's own account may take, so `status`, `pause` and
  // a stop always get through; every other user may hold at most `max_connections_per_user`.
  std::size_t max_connections = 256;
  std::size_t reserved_connections = 16;
  std::size_t max_connections_per_user = 32;
  // Bytes that requests being received and decoded may hold across all connections (frames and
  // their documents); each request's first `request_free_bytes` are not counted, so small
  // requests never wait for large ones. Beyond the budget a request is refused `busy`. A reply
  // to a read is charged too while it waits to be read. A third of the budget is kept for
  // administrators (root/SYSTEM/Administrators and the service's own account).
  std::size_t request_budget = 24u * 1024u * 1024u;
  std::size_t request_free_bytes = 64u * 1024u;
  // After a request that held more than this, free memory is given back to the system.
  std::size_t release_after_bytes = 1024u * 1024u;
  // How long stop() waits for requests being handled to write their replies before it closes
  // the connections (a graceful stop answers the operator commands it ends).
  Duration stop_grace{std::chrono::seconds(5)};
};

class Server {
 public:
  Server(std::unique_ptr<Listener> listener, const Dispatcher& dispatcher, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  // Stops accepting, waits up to stop_grace for requests being handled to be answered, closes
  // every connection and joins all threads. Idempotent.
  void stop();
  std::size_t active_connections() const { return active_.load(); }
  // Bytes of the request budget in use now (tests).
  std::size_t request_budget_in_use() const { return budget_.in_use(); }
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Connection {
    std::unique_ptr<Stream> stream;
    ConnectionOwner owner;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> handling{false};  // a request read and not yet answered
  };
  void accept_loop();
  void serve(Connection& connection);
  void reap_finished();
  // Under mutex_: the busy message when `owner` may not open one more connection, else empty.
  std::string refusal_for(const ConnectionOwner& owner) const;

  std::unique_ptr<Listener> listener_;  // closed by stop()
  const std::string endpoint_;
  const Dispatcher& dispatcher_;
  ServerOptions options_;
  std::thread accept_thread_;
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::size_t unprivileged_ = 0;                  // under mutex_
  std::map<std::string, std::size_t> per_owner_;  // under mutex_: open connections per owner key
  MemoryBudget budget_;
  std::atomic<std::size_t> active_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace hangar::ipc
