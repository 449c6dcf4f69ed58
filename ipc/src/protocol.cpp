// Serialisation and validation of protocol requests and replies.
#include "hangar/ipc/protocol.h"

#include <limits>

namespace hangar::ipc {

namespace {

core::Error malformed(std::string what) {
  return core::make_error(errc::kMalformedRequest, std::move(what));
}

// Parses either encoding; a discarded value on failure. `strict` CBOR rejects trailing bytes.
// nlohmann's DOM builder throws out_of_range (408, "excessive object size") for a CBOR map or
// array that declares more elements than a container can hold, even with allow_exceptions off:
// every parser exception becomes "not valid" here, so a hostile payload cannot end the service.
Json parse_payload(std::string_view payload, Encoding encoding) {
  try {
    if (encoding == Encoding::kCbor) {
      return Json::from_cbor(payload.begin(), payload.end(), /*strict=*/true,
                             /*allow_exceptions=*/false);
    }
    return Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  } catch (const Json::exception&) {
    return Json(Json::value_t::discarded);
  }
}

std::string to_cbor_text(const Json& j) {
  std::string out;
  Json::to_cbor(j, nlohmann::detail::output_adapter<char>(out));
  return out;
}

}  // namespace

Encoding payload_encoding(std::string_view payload) {
  if (payload.empty()) return Encoding::kJson;
  const auto first = static_cast<unsigned char>(payload.front());
  return (first >> 5) == 5 ? Encoding::kCbor : Encoding::kJson;  // major type 5: a map
}

const char* encoding_name(Encoding encoding) {
  return encoding == Encoding::kCbor ? "cbor" : "json";
}

// The envelope is written around the arguments instead of copying them into a new document: an
// import's arguments are 500 devices with their hashes.
std::string serialize(const Request& request) {
  static const Json kEmpty = Json::object();
  const Json& args = request.args.is_null() ? kEmpty : request.args;
  if (request.encoding == Encoding::kCbor) {
    std::string out(1, static_cast<char>(0xA4));  // a map of four pairs
    const auto pair = [&out](const char* key, const Json& value) {
      Json::to_cbor(Json(key), nlohmann::detail::output_adapter<char>(out));
      Json::to_cbor(value, nlohmann::detail::output_adapter<char>(out));
    };
    pair("v", Json(request.version));
    pair("id", Json(request.id));
    pair("cmd", Json(request.command));
    pair("args", args);
    return out;
  }
  return R"({"v":)" + std::to_string(request.version) + R"(,"id":)" + std::to_string(request.id) +
         R"(,"cmd":)" + Json(request.command).dump() + R"(,"args":)" + args.dump() + "}";
}

std::string serialize(const Reply& reply) {
  Reply copy = reply;
  return serialize(std::move(copy));
}

// Moves the result into the envelope instead of copying its tree: `status` and `list` replies are
// hundreds of nodes, and every reply goes through here.
std::string serialize(Reply&& reply) {
  Json j{{"v", reply.version}, {"id", reply.id}, {"ok", reply.ok}};
  if (reply.ok) {
    j["result"] = reply.result.is_null() ? Json::object() : std::move(reply.result);
  } else {
    j["error"] = {{"code", reply.error.code}, {"message", reply.error.message}};
  }
  // CBOR does not check strings; its reader gets them as they are (see parse_reply).
  if (reply.encoding == Encoding::kCbor) return to_cbor_text(j);
  // Replacement instead of throwing: a handler's message may carry bytes from a bad input file.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

core::Result<Request> parse_request(std::string_view payload, std::uint64_t* id_out) {
  const Encoding encoding = payload_encoding(payload);
  Json j = parse_payload(payload, encoding);
  if (j.is_discarded()) {
    return malformed(encoding == Encoding::kCbor ? "request is not valid CBOR"
                                                 : "request is not valid JSON");
  }
  if (!j.is_object()) return malformed("request must be a JSON object");

  Request request;
  request.encoding = encoding;
  auto id = j.find("id");
  if (id == j.end() || !id->is_number_unsigned()) {
    return malformed("request needs \"id\", a non-negative integer");
  }
  request.id = id->get<std::uint64_t>();
  if (id_out) *id_out = request.id;

  auto version = j.find("v");
  if (version == j.end() || !version->is_number_integer()) {
    return malformed("request needs \"v\", the protocol version (an integer)");
  }
  auto v = version->get<std::int64_t>();
  if (v < kMinProtocolVersion || v > kProtocolVersion) {
    return core::make_error(errc::kUnsupportedVersion,
                            "protocol version " + std::to_string(v) +
                                " is not supported; this service speaks versions " +
                                std::to_string(kMinProtocolVersion) + " to " +
                                std::to_string(kProtocolVersion));
  }
  request.version = static_cast<int>(v);

  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string() || cmd->get_ref<const std::string&>().empty()) {
    return malformed("request needs \"cmd\", a non-empty string");
  }
  request.command = cmd->get<std::string>();

  auto args = j.find("args");
  if (args != j.end() && !args->is_null()) {
    if (!args->is_object()) return malformed("\"args\" must be a JSON object");
    request.args = std::move(*args);
  }
  return request;
}

core::Result<Reply> parse_reply(std::string_view payload) {
  const Encoding encoding = payload_encoding(payload);
  Json j = parse_payload(payload, encoding);
  auto bad = [](std::string what) {
    return core::make_error("malformed_reply", "service sent an invalid reply: " + what);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Reply reply;
  reply.encoding = encoding;
  if (!j.contains("v") || !j["v"].is_number_integer()) return bad("missing version");
  reply.version = j["v"].get<int>();
  if (!j.contains("id") || !j["id"].is_number_unsigned()) return bad("missing id");
  reply.id = j["id"].get<std::uint64_t>();
  if (!j.contains("ok") || !j["ok"].is_boolean()) return bad("missing ok");
  reply.ok = j["ok"].get<bool>();
  if (reply.ok) {
    auto result = j.find("result");
    reply.result = result == j.end() ? Json::object() : std::move(*result);
  } else {
    const Json& e = j.contains("error") ? j["error"] : Json::object();
    if (!e.is_object() || !e.contains("code") || !e["code"].is_string()) {
      return bad("error reply without a code");
    }
    reply.error.code = e["code"].get<std::string>();
    reply.error.message = e.value("message", std::string());
  }
  return reply;
}

Reply make_error_reply(std::uint64_t id, core::Error error) {
  Reply reply;
  reply.id = id;
  reply.ok = false;
  reply.error = std::move(error);
  return reply;
}

}  // namespace hangar::ipc
