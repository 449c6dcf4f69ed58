// The IPC server: an accept thread plus one thread per connection, each wait bounded.
#include "hangar/ipc/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "hangar/core/memory.h"

namespace hangar::ipc {

Server::Server(std::unique_ptr<Listener> listener, const Dispatcher& dispatcher,
               ServerOptions options)
    : listener_(std::move(listener)),
      endpoint_(listener_->endpoint()),
      dispatcher_(dispatcher),
      options_(options),
      // A third kept for administrators: as with the connections, no other user can starve them
      // (black-box round 13).
      budget_(options.request_budget, options.request_budget / 3) {}

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
  // A request being handled (an operator command the service is answering as it stops) gets its
  // reply written first: its client would otherwise hear "connection closed" for an answer that
  // exists.
  const auto grace_over = std::chrono::steady_clock::now() + options_.stop_grace;
  const auto handling = [&] {
    return std::any_of(connections.begin(), connections.end(),
                       [](const auto& connection) { return connection->handling.load(); });
  };
  while (handling() && std::chrono::steady_clock::now() < grace_over) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
    auto connection = std::make_unique<Connection>();
    connection->stream = std::move(stream).value();
    connection->owner = connection->stream->owner();
    std::unique_lock lock(mutex_);
    if (const std::string refusal = refusal_for(connection->owner); !refusal.empty()) {
      lock.unlock();
      // Answer instead of silently dropping so the client can tell "busy" from "down". A fresh
      // connection's buffer takes the short reply at once, so this never holds the accept loop.
      auto reply = serialize(make_error_reply(0, core::make_error(errc::kBusy, refusal)));
      (void)write_frame(*connection->stream, reply, std::chrono::milliseconds(200));
      connection->stream->close();
      continue;
    }
    if (!connection->owner.privileged) ++unprivileged_;
    ++per_owner_[connection->owner.key];
    ++active_;
    Connection& ref = *connection;
    connections_.push_back(std::move(connection));
    ref.thread = std::thread([this, &ref] {
      serve(ref);
      {
        std::lock_guard done_lock(mutex_);
        if (!ref.owner.privileged) --unprivileged_;
        if (auto it = per_owner_.find(ref.owner.key); it != per_owner_.end() && --it->second == 0) {
          per_owner_.erase(it);
        }
      }
      --active_;
      ref.done.store(true);
    });
  }
}

std::string Server::refusal_for(const ConnectionOwner& owner) const {
  const std::size_t open = active_.load();
  if (open >= options_.max_connections) {
    return "the service is serving its maximum of " + std::to_string(options_.max_connections) +
           " connections; try again shortly";
  }
  if (owner.privileged) return {};
  const std::size_t shared =
      options_.max_connections - std::min(options_.reserved_connections, options_.max_connections);
  if (unprivileged_ >= shared) {
    return "the service is serving its maximum of " + std::to_string(shared) +
           " connections for users other than administrators (the rest are kept for them); try "
           "again shortly";
  }
  auto it = per_owner_.find(owner.key);
  if (it != per_owner_.end() && it->second >= options_.max_connections_per_user) {
    return owner.key + " already holds its maximum of " +
           std::to_string(options_.max_connections_per_user) +
           " connections to the service; close some (each hangar watch and tray holds one)";
  }
  return {};
}

void Server::serve(Connection& connection) {
  Stream& stream = *connection.stream;
  // What this connection's requests hold of the shared budget, one request at a time.
  BudgetLease lease(&budget_, options_.request_free_bytes, connection.owner.privileged);
  // Set once a request held more than release_after_bytes and its memory was not yet given back.
  bool release_pending = false;
  while (!stopping_.load()) {
    lease.reset();
    auto frame = read_frame(stream, options_.timeouts, options_.max_frame_size, &lease);
    if (lease.covered() > options_.release_after_bytes) release_pending = true;
    if (frame) connection.handling.store(true);
    if (!frame) {
      const auto& error = frame.error();
      if (error.code == "frame_too_large" || error.code == "empty_frame" || error.code == "busy") {
        // The rest of the frame is never read: reply, then drop the connection.
        auto code = error.code == "frame_too_large" ? errc::kFrameTooLarge
                    : error.code == "busy"          ? errc::kBusy
                                                    : errc::kMalformedRequest;
        auto reply = serialize(make_error_reply(0, core::make_error(code, error.message)));
        (void)write_frame(stream, reply, options_.write_timeout, options_.max_frame_size);
      } else if (error.code != "closed" && error.code != "timeout") {
        spdlog::debug("ipc: dropping connection: {}", error.message);
      }
      break;
    }
    bool close_after = false;
    StreamTask stream_after;
    std::string reply = dispatcher_.handle(*frame, stream, &close_after, &stream_after, &lease,
                                           options_.max_frame_size);
    if (lease.covered() > options_.release_after_bytes) release_pending = true;
    const bool sent =
        write_frame(stream, reply, options_.write_timeout, options_.max_frame_size).ok();
    connection.handling.store(false);
    if (release_pending && !stream_after) {
      // A large request's buffers are freed by now: hand the memory back rather than keep the
      // peak for the life of the process.
      reply = std::string();
      *frame = std::string();
      lease.reset();
      core::release_free_memory();
      release_pending = false;
    }
    if (!sent) break;
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
  if (release_pending) {
    lease.reset();
    core::release_free_memory();  // the refused or cut-off large request's memory
  }
}

}  // namespace hangar::ipc
