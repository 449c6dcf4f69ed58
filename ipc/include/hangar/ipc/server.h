// Serves a Listener with a Dispatcher: one thread per connection, every wait bounded by a timeout,
// so a slow or silent client only ever holds up itself.
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "hangar/ipc/dispatcher.h"
#include "hangar/ipc/frame.h"
#include "hangar/ipc/transport.h"

namespace hangar::ipc {

struct ServerOptions {
  FrameTimeouts timeouts{};
  Duration write_timeout{std::chrono::seconds(5)};
  // For frames pushed to a streaming client (subscribe): a subscriber that reads slowly is given
  // time (its own queue turns what it cannot take into a gap); one that stops reading altogether
  // is dropped after this.
  Duration stream_write_timeout{std::chrono::seconds(60)};
  std::uint32_t max_frame_size = kDefaultMaxFrameSize;
  std::size_t max_connections = 256;
};

class Server {
 public:
  Server(std::unique_ptr<Listener> listener, const Dispatcher& dispatcher, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  // Stops accepting, closes every connection and joins all threads. Idempotent.
  void stop();
  std::size_t active_connections() const { return active_.load(); }
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Connection {
    std::unique_ptr<Stream> stream;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void accept_loop();
  void serve(Connection& connection);
  void reap_finished();

  std::unique_ptr<Listener> listener_;  // closed by stop()
  const std::string endpoint_;
  const Dispatcher& dispatcher_;
  ServerOptions options_;
  std::thread accept_thread_;
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::atomic<std::size_t> active_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace hangar::ipc
