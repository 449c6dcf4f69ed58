// An expected-style result type used at every I/O boundary: a value or an Error with a stable code.
#pragma once

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace hangar::core {

// A failure: `code` is stable and machine-readable (it crosses the IPC boundary), `message` says
// what failed and what to do about it.
struct Error {
  std::string code;
  std::string message;
  // Set by a remote peer's answer only: the Request ID support needs to find the call, and how
  // long the peer asked us to wait (HTTP Retry-After) before trying again.
  std::string request_id;
  std::optional<std::chrono::milliseconds> retry_after;
  // The HTTP status of the peer's answer (0: none, e.g. the network failed), so a caller can tell
  // a request the service refuses (400, 500) from one it could not take now (429, 503).
  int http_status = 0;
  // The peer's own error code (Graph's `error.code`, e.g. "Request_ResourceNotFound") and the
  // client-request-id it echoed, for support and logs; empty when the peer gave none.
  std::string remote_code;
  std::string client_request_id;
  // A finer classification set once by the layer that read the answer (cloud::Failure for cloud
  // calls; 0: none), so no caller has to search `message` to tell one refusal from another.
  int category = 0;
};

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(code), std::move(message), {}, std::nullopt, 0, {}, {}, 0};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(data_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(data_));
  }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace hangar::core
