// cpprestsdk http_listener adapter for CloudSim: converts requests and responses, applies the
// injected latency with a timer (no pool thread sleeps) and turns drops into closed connections.
// cpprest's U() string macro breaks fmt's templates (parameters named U): turn it off.
#define _TURN_OFF_PLATFORM_STRING
#include "hangar/cloudsim/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <cpprest/http_listener.h>
#include <cpprest/producerconsumerstream.h>
#include <pplx/threadpool.h>
#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>

namespace hangar::cloudsim {
namespace {

using web::http::http_request;
using web::http::http_response;

// Asks the kernel for a free loopback port. http_listener cannot report the port it bound when
// given 0, so the server binds this one instead (and retries if another process takes it first).
core::Result<std::uint16_t> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return core::make_error("listen_failed", "socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) return core::make_error("listen_failed", "cannot bind a loopback port");
  return ntohs(address.sin_port);
}

HttpRequest from_cpprest(const http_request& request, std::string body) {
  HttpRequest out;
  out.method = request.method();
  out.target = request.relative_uri().to_string();
  for (const auto& [name, value] : request.headers()) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[lower] = value;
  }
  out.body = std::move(body);
  return out;
}

http_response to_cpprest(const HttpResponse& response) {
  int status = response.status;
  // A dropped 204 would reach the client intact (clients read no body after a 204), so it goes
  // out as a 200 whose promised body never comes.
  if (response.drop_connection && (status == 204 || status == 304)) status = 200;
  http_response out(static_cast<web::http::status_code>(status));
  for (const auto& [name, value] : response.headers) out.headers().add(name, value);
  const std::string content_type =
      response.content_type.empty() ? "application/json" : response.content_type;
  if (response.drop_connection) {
    // The listener always writes the status line and headers before the body, so a connection
    // cannot be closed unanswered. The next best thing: promise a body and end the stream at
    // once; the listener then closes the connection and every read of the body fails.
    concurrency::streams::producer_consumer_buffer<std::uint8_t> nothing;
    nothing.close(std::ios_base::out).wait();
    out.set_body(nothing.create_istream(), std::max<std::size_t>(response.body.size(), 1),
                 content_type);
  } else if (!response.content_type.empty()) {
    out.set_body(response.body, response.content_type);
  }
  return out;
}

// Counts the requests being served, so stop() can wait for their replies (and the continuations
// that observe them) before the process exits: a continuation still queued at exit is a leak.
class InFlight {
 public:
  void enter() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  // True when everything finished within `limit`.
  bool wait_idle(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, limit, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

// Every reply task must be observed: pplx terminates the process on an unobserved exception, and
// a reply fails whenever the client has gone (or a drop closes the connection on purpose).
void send(http_request request, const http_response& response,
          const std::shared_ptr<InFlight>& in_flight) {
  request.reply(response).then([in_flight](pplx::task<void> done) {
    try {
      done.get();
    } catch (const std::exception&) {  // the client will notice; nothing to do here
    }
    in_flight->leave();
  });
}

}  // namespace

struct HttpServer::Impl {
  // Shared with request continuations, which may run after stop(): they check `sim` under the
  // mutex instead of touching a simulator that may be gone.
  struct Shared {
    std::mutex mutex;
    CloudSim* sim = nullptr;
    bool log_requests = false;
  };

  explicit Impl(CloudSim& s) : sim(s) {}

  void serve(http_request request) {
    in_flight->enter();
    request.extract_string(true).then([shared = shared, in_flight = in_flight,
                                       request](pplx::task<std::string> body) {
      std::string text;
      try {
        text = body.get();
      } catch (const std::exception&) {
        in_flight->leave();
        return;  // the client went away mid-body
      }
      const auto started = std::chrono::steady_clock::now();
      HttpRequest converted = from_cpprest(request, std::move(text));
      HttpResponse response;
      {
        std::lock_guard lock(shared->mutex);
        if (!shared->sim) {  // stopping
          in_flight->leave();
          return;
        }
        response = shared->sim->handle(converted);
        if (shared->log_requests) {
          const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
          spdlog::info("{} {} -> {}{} ({} ms + {} ms latency)", converted.method, converted.target,
                       response.status, response.drop_connection ? " dropped" : "", ms,
                       response.delay.count());
        }
      }
      auto reply = to_cpprest(response);
      if (response.delay.count() <= 0) {
        send(request, reply, in_flight);
        return;
      }
      auto timer = std::make_shared<boost::asio::steady_timer>(
          crossplat::threadpool::shared_instance().service(), response.delay);
      timer->async_wait([timer, request, reply, in_flight](const boost::system::error_code&) {
        send(request, reply, in_flight);
      });
    });
  }

  CloudSim& sim;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::shared_ptr<InFlight> in_flight = std::make_shared<InFlight>();
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
  std::uint16_t port = 0;
};

HttpServer::HttpServer(CloudSim& sim) : impl_(std::make_unique<Impl>(sim)) {}

HttpServer::~HttpServer() { stop(); }

core::Status HttpServer::start(const ServerOptions& options) {
  stop();
  std::string last_error = "no attempt";
  // A port picked by free_loopback_port can be taken by someone else before the listener binds
  // it: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::uint16_t port = options.port;
    if (port == 0) {
      auto free = free_loopback_port();
      if (!free) return free.error();
      port = *free;
    }
    auto listener = std::make_unique<web::http::experimental::listener::http_listener>(
        "http://127.0.0.1:" + std::to_string(port) + "/");
    listener->support([impl = impl_.get()](http_request request) { impl->serve(request); });
    try {
      listener->open().wait();
    } catch (const std::exception& e) {
      last_error = e.what();
      if (options.port != 0) break;
      continue;
    }
    {
      std::lock_guard lock(impl_->shared->mutex);
      impl_->shared->sim = &impl_->sim;
      impl_->shared->log_requests = options.log_requests;
    }
    impl_->listener = std::move(listener);
    impl_->port = port;
    return {};
  }
  return core::make_error("listen_failed",
                          "cannot listen on 127.0.0.1" +
                              (options.port ? ":" + std::to_string(options.port) : "") + ": " +
                              last_error + " (is the port in use? try --port 0)");
}

void HttpServer::stop() {
  if (!impl_->listener) return;
  {
    std::lock_guard lock(impl_->shared->mutex);
    impl_->shared->sim = nullptr;
  }
  try {
    impl_->listener->close().wait();
  } catch (const std::exception& e) {
    spdlog::warn("closing the listener: {}", e.what());
  }
  // Replies already under way (including injected latency) finish before the listener goes.
  if (!impl_->in_flight->wait_idle(std::chrono::seconds(10)))
    spdlog::warn("stopping with replies still in flight");
  impl_->listener.reset();
  impl_->port = 0;
}

std::uint16_t HttpServer::port() const { return impl_->port; }

std::string HttpServer::origin() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

}  // namespace hangar::cloudsim
