// The IPC server: an accept thread plus one thread per connection, each wait bounded.
#include "hangar/ipc/server.h"

#include <spdlog/spdlog.h>

namespace hangar::ipc {

Server::Server(std::unique_ptr<Listener> listener, const Dispatcher& dispatcher,
               ServerOptions options)
    : listener_(std::move(listener)),
      endpoint_(listener_->endpoint()),
      dispatcher_(dispatcher),
      options_(options) {}

Server::~Server() { stop(); }

void Server::start() {
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  listener_->stop();
  if (accept_thread_.joinable()) accept_thread_.join();
  // Closing the endpoint now refuses the clients still in its backlog at once: otherwise each
  // would wait out its own timeout for a reply that never comes.
  listener_.reset();
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection->stream->close();
  for (auto& connection : connections) {
    if (connection->thread.joinable()) connection->thread.join();
  }
}

void Server::reap_finished() {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done.load()) {
        finished.splice(finished.end(), connections_, it++);
      } else {
        ++it;
      }
    }
  }
  for (auto& connection : finished) connection->thread.join();
}

void Server::accept_loop() {
  while (!stopping_.load()) {
    auto stream = listener_->accept();
    if (!stream) {
      if (stopping_.load() || stream.error().code == "stopped") break;
      spdlog::warn("ipc: accept on {} failed: {}", endpoint_, stream.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // do not spin on a bad state
      continue;
    }
    reap_finished();
    if (active_.load() >= options_.max_connections) {
      // Answer instead of silently dropping so the client can tell "busy" from "down".
      auto reply = serialize(make_error_reply(
          0, core::make_error(errc::kBusy, "the service is serving its maximum of " +
                                               std::to_string(options_.max_connections) +
                                               " connections; try again shortly")));
      (void)write_frame(**stream, reply, std::chrono::milliseconds(200));
      (*stream)->close();
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->stream = std::move(stream).value();
    Connection& ref = *connection;
    ++active_;
    std::lock_guard lock(mutex_);
    connections_.push_back(std::move(connection));
    ref.thread = std::thread([this, &ref] {
      serve(ref);
      --active_;
      ref.done.store(true);
    });
  }
}

void Server::serve(Connection& connection) {
  Stream& stream = *connection.stream;
  while (!stopping_.load()) {
    auto frame = read_frame(stream, options_.timeouts, options_.max_frame_size);
    if (!frame) {
      const auto& error = frame.error();
      if (error.code == "frame_too_large" || error.code == "empty_frame") {
        // The rest of the oversized frame is never read: reply, then drop the connection.
        auto code =
            error.code == "frame_too_large" ? errc::kFrameTooLarge : errc::kMalformedRequest;
        auto reply = serialize(make_error_reply(0, core::make_error(code, error.message)));
        (void)write_frame(stream, reply, options_.write_timeout, options_.max_frame_size);
      } else if (error.code != "closed" && error.code != "timeout") {
        spdlog::debug("ipc: dropping connection: {}", error.message);
      }
      break;
    }
    bool close_after = false;
    StreamTask stream_after;
    std::string reply = dispatcher_.handle(*frame, stream, &close_after, &stream_after);
    if (!write_frame(stream, reply, options_.write_timeout, options_.max_frame_size)) break;
    if (close_after) break;
    if (stream_after) {
      // The connection now carries frames the service pushes (subscribe), each a reply to the
      // streaming request in its encoding. A client that does not drain within the write timeout
      // is dropped; the task's own queue decides what it missed meanwhile.
      auto request = parse_request(*frame);
      const std::uint64_t id = request ? request->id : 0;
      const Encoding encoding = request ? request->encoding : Encoding::kJson;
      const FrameWriter write = [&](const Json& result) {
        if (stopping_.load()) return false;
        Reply pushed;
        pushed.id = id;
        pushed.encoding = encoding;
        pushed.result = result;
        return static_cast<bool>(write_frame(stream, serialize(std::move(pushed)),
                                             options_.stream_write_timeout,
                                             options_.max_frame_size));
      };
      // The server never reads from a streaming connection again, so without asking it would
      // learn that the client left only when a write fails: with a quiet service, after a
      // heartbeat interval; with a peer that stops reading, once the socket buffer is full.
      bool sent_data = false;
      const PeerLeft peer_left = [&] {
        if (stopping_.load()) return true;
        switch (stream.probe()) {
          case PeerActivity::kQuiet:
            return false;
          case PeerActivity::kData:
            sent_data = true;
            return true;
          case PeerActivity::kClosed:
            return true;
        }
        return true;
      };
      stream_after(write, peer_left);
      if (sent_data) {
        // A protocol violation: say why before hanging up, but wait no longer than for a reply.
        spdlog::info("ipc: {} sent data on its event stream; closing it", stream.peer().user);
        auto refusal = make_error_reply(
            id, core::make_error(errc::kMalformedRequest,
                                 "a subscriber must not send anything after its request; the "
                                 "stream is closed (use another connection for other commands)"));
        refusal.encoding = encoding;
        (void)write_frame(stream, serialize(std::move(refusal)), options_.write_timeout,
                          options_.max_frame_size);
      }
      break;
    }
  }
  stream.close();
}

}  // namespace hangar::ipc
