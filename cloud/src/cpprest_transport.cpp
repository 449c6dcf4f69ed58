// HttpTransport over cpprestsdk's http_client (asio + OpenSSL on Linux, WinHTTP on Windows).
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <system_error>

#include "hangar/cloud/http.h"
#include "hangar/cloud/winhttp_errors.h"
#include "hangar/core/crypto_runtime.h"
#include "loopback_listener.h"

namespace hangar::cloud {

namespace {

// "30 s", "1.5 s": a timeout as an admin reads it.
std::string seconds_text(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  std::string text = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string fraction = std::to_string(ms % 1000);
    fraction.insert(0, 3 - fraction.size(), '0');
    while (fraction.back() == '0') fraction.pop_back();
    text += "." + fraction;
  }
  return text + " s";
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "https://host:port/path" -> "host" (without brackets for IPv6).
std::string host_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  std::string rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return lower(rest.substr(1, rest.find(']') - 1));
  return lower(rest.substr(0, rest.find(':')));
}

// A failure of a request cpprest never wrote whole: its cause is kNotSent (kErrNetwork), whatever
// the socket said, so a write that failed so is known not done.
core::Error not_sent(const std::string& text) {
  core::Error error = core::make_error(kErrNetwork, text + " (the request was not sent)");
  set_failure(error, Failure::kNotSent);
  return error;
}

// Whether a failed request can have reached the server (`code`: cpprest's error, when it gave
// one). The asio client (Linux) reports every failure as a bare number without its category (a
// resolver's "host not found" arrives as 1, a refused connect and a broken pipe on the header
// write both as EHOSTUNREACH), so the numbers cannot say where it failed. What does: cpprest calls
// the upload progress handler once the request's head has been written to the connected (and
// TLS-secured) socket, before any of the body; a failure before that call (name resolution,
// connect, TLS handshake, the head's write) left the server at most an incomplete request head,
// which no server acts on. WinHTTP (Windows) keeps the error's own code: name not resolved, cannot
// connect and the TLS failures are before the request is sent; anything else may have left
// (winhttp::never_sent, tested on every platform).
bool may_have_left(const std::error_code* code, bool head_written) {
#if defined(_WIN32) && !defined(CPPREST_FORCE_HTTP_CLIENT_ASIO)
  (void)head_written;
  return code == nullptr || !winhttp::never_sent(static_cast<std::uint32_t>(code->value()));
#else
  (void)code;
  return head_written;
#endif
}

class CpprestTransport final : public HttpTransport {
 public:
  void cancel_all() override {
    cancelled_ = true;
    stopping_.cancel();
  }

  core::Result<HttpResponse> send(const HttpRequest& request,
                                  std::chrono::milliseconds timeout) override {
    if (auto allowed = check_url_allowed(request.url); !allowed) return allowed.error();
    if (lower(request.url.substr(0, 7)) == "http://") {
      if (auto served = check_loopback_listener(request.url); !served) return served.error();
    }
    const std::string label = request.method + " " + request.url;
    if (cancelled_) return not_sent(label + ": cancelled: the service is stopping");
    // Set (on cpprest's thread) once the request's head is written: see may_have_left.
    auto head_written = std::make_shared<std::atomic<bool>>(false);
    // This request's own cancellation (an answer too long or too slow), linked to the stop.
    pplx::cancellation_token stopping = stopping_.get_token();
    auto mine = pplx::cancellation_token_source::create_linked_source(stopping);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    try {
      web::http::client::http_client_config config;
      config.set_timeout(timeout);
      config.set_validate_certificates(true);
      web::http::client::http_client client(utility::conversions::to_string_t(request.url), config);
      web::http::http_request message(utility::conversions::to_string_t(request.method));
      message.set_progress_handler(
          [head_written](web::http::message_direction::direction direction, utility::size64_t) {
            if (direction == web::http::message_direction::upload) *head_written = true;
          });
      for (const auto& [name, value] : request.headers) {
        if (lower(name) == "content-type") continue;  // set with the body below
        message.headers().add(utility::conversions::to_string_t(name),
                              utility::conversions::to_string_t(value));
      }
      if (!request.body.empty() || request.method == "POST") {
        auto type = request.headers.find("Content-Type");
        message.set_body(request.body,
                         type == request.headers.end() ? "application/json" : type->second);
      }
      web::http::http_response reply = client.request(message, mine.get_token()).get();
      HttpResponse response;
      response.status = reply.status_code();
      for (const auto& [name, value] : reply.headers()) {
        response.headers[lower(utility::conversions::to_utf8string(name))] =
            utility::conversions::to_utf8string(value);
      }
      // Read the body in pieces: bounded in size, and in time as a whole (the socket timeout
      // alone never ends an answer trickled a byte at a time).
      const std::string length = response.header("content-length");
      const bool digits =
          !length.empty() && length.size() < 20 &&
          std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; });
      // A refused answer's request is cancelled, and given a moment to come down (cpprest closes
      // the socket and fails the body's task), so none of its work outlives the call.
      const auto drop = [&](core::Error error) {
        mine.cancel();
        settle(reply);
        return error;
      };
      if (digits && std::stoull(length) > kMaxAnswerBytes) {
        return drop(core::make_error(kErrNetwork, label + ": the answer is " + length +
                                                      " bytes, more than the " +
                                                      std::to_string(kMaxAnswerBytes >> 20) +
                                                      " MiB Hangar reads; refusing it"));
      }
      auto body = reply.body();
      concurrency::streams::container_buffer<std::string> buffer;
      for (;;) {
        const std::size_t got = body.read(buffer, 64 * 1024).get();
        if (got == 0) break;
        if (buffer.collection().size() > kMaxAnswerBytes) {
          return drop(core::make_error(kErrNetwork, label + ": the answer is longer than the " +
                                                        std::to_string(kMaxAnswerBytes >> 20) +
                                                        " MiB Hangar reads; refusing it"));
        }
        if (std::chrono::steady_clock::now() > deadline) {
          return drop(core::make_error(kErrTimeout, label +
                                                        ": the answer did not complete within " +
                                                        std::to_string(timeout.count()) + " ms"));
        }
      }
      response.body = std::move(buffer.collection());
      return response;
    } catch (const pplx::task_canceled&) {
      const std::string text = label + ": cancelled: the service is stopping";
      return may_have_left(nullptr, *head_written) ? core::make_error(kErrNetwork, text)
                                                   : not_sent(text);
    } catch (const web::http::http_exception& e) {
      const bool left = may_have_left(&e.error_code(), *head_written);
      if (cancelled_) {
        const std::string text = label + ": cancelled: the service is stopping";
        return left ? core::make_error(kErrNetwork, text) : not_sent(text);
      }
      const std::string what = e.what();
      if (!left) {
        // No connection within the timeout (a firewall that drops it) is not sent either.
        const bool slow =
            e.error_code() == std::errc::timed_out ||
            std::chrono::steady_clock::now() + std::chrono::milliseconds(100) >= deadline;
        return not_sent(label + ": " +
                        (slow ? "no connection within " + seconds_text(timeout) : what));
      }
      // cpprest reports a timeout in its own words ("Failed to read HTTP status line"): the
      // deadline having passed says what happened.
      const bool timed_out =
          e.error_code() == std::errc::timed_out || what.find("timed out") != std::string::npos ||
          what.find("timeout") != std::string::npos ||
          std::chrono::steady_clock::now() + std::chrono::milliseconds(100) >= deadline;
      if (timed_out) {
        return core::make_error(
            kErrTimeout, label + ": the cloud did not answer within " + seconds_text(timeout));
      }
      return core::make_error(kErrNetwork, label + ": " + what);
    } catch (const std::exception& e) {
      const std::string text = label + ": " + e.what();
      return may_have_left(nullptr, *head_written) ? core::make_error(kErrNetwork, text)
                                                   : not_sent(text);
    }
  }

  // Waits (at most 2 s) until a cancelled answer's body task has ended.
  static void settle(const web::http::http_response& reply) {
    auto ended = std::make_shared<std::promise<void>>();
    auto settled = ended->get_future();
    reply.content_ready().then([ended](const pplx::task<web::http::http_response>& done) {
      try {
        done.wait();
      } catch (...) {  // the cancellation itself: the end we wait for
      }
      ended->set_value();
    });
    settled.wait_for(std::chrono::seconds(2));
  }

 private:
  pplx::cancellation_token_source stopping_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

// 127.0.0.0/8 written as four decimal octets: "127.0.0.1.evil.example" is not loopback.
static bool is_ipv4_loopback(const std::string& host) {
  int octets = 0;
  std::size_t pos = 0;
  while (pos <= host.size()) {
    const std::size_t dot = std::min(host.find('.', pos), host.size());
    const std::string part = host.substr(pos, dot - pos);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(part) > 255) {
      return false;
    }
    if (octets == 0 && part != "127") return false;
    ++octets;
    pos = dot + 1;
  }
  return octets == 4;
}

bool is_loopback_url(const std::string& url) {
  const std::string host = host_of(url);
  return host == "localhost" || host == "::1" || is_ipv4_loopback(host);
}

core::Status check_url_allowed(const std::string& url) {
  const std::string scheme = lower(url.substr(0, url.find("://")));
  if (scheme == "https") return {};
  if (scheme == "http" && is_loopback_url(url)) return {};
  return core::make_error(kErrInsecureUrl,
                          "refusing " + url +
                              ": only https is allowed (plain http only to this machine's "
                              "loopback address, for the simulated cloud)");
}

std::unique_ptr<HttpTransport> make_cpprest_transport() {
  core::start_crypto_library();  // before cpprest's first TLS use (see crypto_runtime.h)
  return std::make_unique<CpprestTransport>();
}

}  // namespace hangar::cloud
