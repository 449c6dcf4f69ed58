// The HTTP seam under the Graph client: one request in, one response out, behind an interface so
// retry and token rules are tested with a strict fake transport and a fake clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "hangar/cloud/cloud_error.h"
#include "hangar/core/result.h"

namespace hangar::cloud {

// Transport failures are kErrNetwork, kErrTimeout and kErrInsecureUrl (cloud_error.h), never an
// HTTP status: a 500 is a response, not an error. A failure before the request was written (name,
// connection, TLS handshake; a connect that timed out too) is kErrNetwork with the cause kNotSent
// (never_sent()); any later one may have reached the server.

struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE"
  std::string url;     // absolute
  std::map<std::string, std::string> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual core::Result<HttpResponse> send(const HttpRequest& request,
                                          std::chrono::milliseconds timeout) = 0;
  // The service is stopping: every request under way ends at once (kErrNetwork, "cancelled") and
  // later ones fail without being sent. Safe from any thread.
  virtual void cancel_all() {}
};

// The largest answer the transport reads (a Graph page of 1,000 devices is about 2 MB): a longer
// one is cut off and fails with kErrNetwork rather than filling memory.
inline constexpr std::size_t kMaxAnswerBytes = 16u << 20;

// cpprestsdk: TLS certificates verified for every https URL; plain http only to loopback
// (127.0.0.0/8, ::1, localhost), anything else fails with kErrInsecureUrl before connecting.
std::unique_ptr<HttpTransport> make_cpprest_transport();

// True for http(s) URLs whose host is loopback.
bool is_loopback_url(const std::string& url);
// The URL policy above, as a check the client runs on its configured base URLs at start-up.
core::Status check_url_allowed(const std::string& url);

}  // namespace hangar::cloud
