// The synchronous IPC client.
#include "hangar/ipc/client.h"

#include "hangar/ipc/messages/version.h"

namespace hangar::ipc {

core::Result<Client> Client::connect(const std::string& endpoint, Duration timeout) {
  auto stream = ipc::connect(endpoint, timeout);
  if (!stream) return std::move(stream).error();
  return Client(endpoint, std::move(stream).value());
}

core::Result<Json> Client::call(const std::string& command, const Json& args, Duration timeout) {
  if (!stream_) {
    return core::make_error(errc::kUnavailable, "connection to " + endpoint_ + " is closed");
  }
  Request request;
  request.id = next_id_++;
  request.command = command;
  request.args = args;
  request.encoding = encoding_;
  if (auto sent = write_frame(*stream_, serialize(request), timeout); !sent) {
    if (sent.error().code == "frame_too_large") {
      // Refused here, before a byte went out: the connection is still good.
      return core::make_error(
          errc::kFrameTooLarge,
          "the \"" + command + "\" request is too large to send: " + sent.error().message);
    }
    // The service may have refused the connection (busy, oversized frame) and hung up before our
    // request went out: its reply is then still waiting to be read and says why.
    auto early = read_frame(
        *stream_, FrameTimeouts{std::chrono::milliseconds(200), std::chrono::milliseconds(200)});
    stream_.reset();
    if (early) {
      if (auto reply = parse_reply(*early); reply && !reply->ok) return std::move(reply->error);
    }
    return core::make_error(errc::kUnavailable,
                            "lost the connection to " + endpoint_ + ": " + sent.error().message);
  }
  auto frame = read_frame(*stream_, FrameTimeouts{timeout, timeout});
  if (!frame) {
    stream_.reset();
    if (frame.error().code == "timeout") {
      return core::make_error(errc::kTimeout, "the service at " + endpoint_ + " did not answer \"" +
                                                  command + "\" in time");
    }
    return core::make_error(errc::kUnavailable,
                            "lost the connection to " + endpoint_ + ": " + frame.error().message);
  }
  auto reply = parse_reply(*frame);
  if (!reply) return std::move(reply).error();
  if (!reply->ok) return std::move(reply->error);
  if (reply->id != request.id) {
    return core::make_error("malformed_reply", "reply id does not match the request");
  }
  return std::move(reply->result);
}

core::Result<Json> Client::subscribe(std::optional<std::int64_t> since,
                                     std::optional<std::int64_t> heartbeat_ms, Duration timeout) {
  Json args = Json::object();
  if (since) args["since"] = *since;
  if (heartbeat_ms) args["heartbeat_ms"] = *heartbeat_ms;
  const std::uint64_t id = next_id_;
  auto ack = call("subscribe", args, timeout);
  if (ack) subscription_id_ = id;
  return ack;
}

core::Result<Json> Client::next_event(Duration timeout) {
  if (!stream_) {
    return core::make_error(errc::kUnavailable, "connection to " + endpoint_ + " is closed");
  }
  if (subscription_id_ == 0) {
    return core::make_error(errc::kInvalidArgument, "next_event() needs subscribe() first");
  }
  auto frame = read_frame(*stream_, FrameTimeouts{timeout, std::chrono::seconds(5)});
  if (!frame) {
    if (frame.error().code == "timeout") {
      // Nothing started within `timeout`: no partial frame was consumed, the stream is intact.
      return core::make_error(errc::kTimeout, "no event from " + endpoint_ + " within the wait");
    }
    stream_.reset();
    return core::make_error(errc::kUnavailable,
                            "lost the connection to " + endpoint_ + ": " + frame.error().message);
  }
  auto reply = parse_reply(*frame);
  if (!reply) {
    stream_.reset();
    return std::move(reply).error();
  }
  if (!reply->ok) return std::move(reply->error);
  if (reply->id != subscription_id_ || !reply->result.is_object()) {
    stream_.reset();
    return core::make_error("malformed_reply",
                            "an event frame does not belong to the subscription");
  }
  return std::move(reply->result);
}

bool supports_cbor(const Json& version_reply) {
  // A reply that is not a version reply lists nothing: JSON, which every service reads.
  auto version = msg::VersionReply::from_json(version_reply);
  return version && version->reads_cbor();
}

}  // namespace hangar::ipc
