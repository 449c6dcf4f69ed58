// A synchronous IPC client used by the CLI, the tray and the tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "hangar/ipc/frame.h"
#include "hangar/ipc/protocol.h"
#include "hangar/ipc/transport.h"

namespace hangar::ipc {

class Client {
 public:
  // Error code "unavailable" (with the endpoint named in the message) when no service listens.
  static core::Result<Client> connect(const std::string& endpoint,
                                      Duration timeout = std::chrono::seconds(5));

  // Sends one request and waits for its reply. A service-side error comes back as the Error with
  // the service's code; transport failures as "unavailable" / "timeout".
  core::Result<Json> call(const std::string& command, const Json& args = Json::object(),
                          Duration timeout = std::chrono::seconds(30));

  // Sends `subscribe` and waits for its acknowledgement {"subscribed":true,"seq":N,
  // "heartbeat_ms":H}. With `since`, the changes after that seq still in the service's history
  // come first (a client that reconnects passes the last seq it saw). Afterwards this connection
  // carries only events: read them with next_event(), make other calls on another Client.
  core::Result<Json> subscribe(std::optional<std::int64_t> since = std::nullopt,
                               std::optional<std::int64_t> heartbeat_ms = std::nullopt,
                               Duration timeout = std::chrono::seconds(30));
  // The next pushed event: {"type":"change",...}, {"type":"gap","missed":N,"seq":S} or
  // {"type":"heartbeat","seq":S}. Error "timeout" when none came within `timeout` (the connection
  // stays usable), "unavailable" when the service went away.
  core::Result<Json> next_event(Duration timeout);

  const std::string& endpoint() const { return endpoint_; }

  // The encoding of the requests this client sends (JSON unless set). Set CBOR only after the
  // service's `version` reply listed it (see supports_cbor).
  void set_encoding(Encoding encoding) { encoding_ = encoding; }
  Encoding encoding() const { return encoding_; }

 private:
  Client(std::string endpoint, std::unique_ptr<Stream> stream)
      : endpoint_(std::move(endpoint)), stream_(std::move(stream)) {}
  std::string endpoint_;
  std::unique_ptr<Stream> stream_;
  std::uint64_t next_id_ = 1;
  std::uint64_t subscription_id_ = 0;  // the subscribe request's id, once subscribed
  Encoding encoding_ = Encoding::kJson;
};

// True when a `version` reply lists "cbor" under "encodings".
bool supports_cbor(const Json& version_reply);

}  // namespace hangar::ipc
