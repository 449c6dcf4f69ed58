// Serves a CloudSim over HTTP on 127.0.0.1 with cpprestsdk's http_listener (native only: the
// Windows build reaches a native simulator on 127.0.0.1).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hangar/cloudsim/service.h"
#include "hangar/core/result.h"

namespace hangar::cloudsim {

struct ServerOptions {
  std::uint16_t port = 0;     // 0: pick a free port
  bool log_requests = false;  // one line per request on the default spdlog logger
};

class HttpServer {
 public:
  // `sim` must outlive the server.
  explicit HttpServer(CloudSim& sim);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on 127.0.0.1 (loopback only: the simulator has no real security) and returns once
  // requests are accepted. Error code "listen_failed".
  core::Status start(const ServerOptions& options);
  // Stops accepting and closes open connections; requests still in flight are answered 500 or
  // not at all. Idempotent.
  void stop();

  std::uint16_t port() const;
  std::string origin() const;  // "http://127.0.0.1:PORT"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hangar::cloudsim
