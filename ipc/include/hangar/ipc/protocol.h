// The versioned JSON protocol carried in frames: requests, replies and the stable error codes.
//
//   request: {"v":1,"id":7,"cmd":"status","args":{...}}
//   reply:   {"v":1,"id":7,"ok":true,"result":{...}}
//            {"v":1,"id":7,"ok":false,"error":{"code":"unknown_command","message":"..."}}
//
// A payload is JSON text or the same document in CBOR (RFC 8949); the first byte tells them
// apart (a JSON object starts with '{' or whitespace, a CBOR map with major type 5). The service
// answers in the encoding of the request. Clients send CBOR only to a service whose `version`
// reply lists it under "encodings"; CBOR carries byte strings, so bulk `import` requests send
// hardware hashes as bytes instead of base64 text (see device_wire.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hangar/core/result.h"

namespace hangar::ipc {

using Json = nlohmann::json;

// The version this build speaks, and the oldest one the service still answers.
inline constexpr int kProtocolVersion = 1;
inline constexpr int kMinProtocolVersion = 1;

// Stable error codes: clients branch on these, so they never change meaning.
namespace errc {
inline constexpr const char* kMalformedRequest = "malformed_request";
inline constexpr const char* kUnsupportedVersion = "unsupported_version";
inline constexpr const char* kUnknownCommand = "unknown_command";
inline constexpr const char* kPermissionDenied = "permission_denied";
inline constexpr const char* kInvalidArgument = "invalid_argument";
inline constexpr const char* kFrameTooLarge = "frame_too_large";
inline constexpr const char* kNotFound = "not_found";
inline constexpr const char* kConflict = "conflict";
inline constexpr const char* kInternal = "internal";
inline constexpr const char* kUnavailable = "unavailable";
inline constexpr const char* kTimeout = "timeout";
inline constexpr const char* kBusy = "busy";
}  // namespace errc

enum class Encoding { kJson, kCbor };

// The encoding a payload claims by its first byte (JSON when it is neither).
Encoding payload_encoding(std::string_view payload);
// The name used in the `version` reply's "encodings" list: "json" or "cbor".
const char* encoding_name(Encoding encoding);

struct Request {
  int version = kProtocolVersion;
  Encoding encoding = Encoding::kJson;
  std::uint64_t id = 0;
  std::string command;
  Json args = Json::object();
};

struct Reply {
  int version = kProtocolVersion;
  Encoding encoding = Encoding::kJson;
  std::uint64_t id = 0;
  bool ok = true;
  Json result;        // when ok
  core::Error error;  // when !ok
};

// In the object's `encoding`.
std::string serialize(const Request& request);
std::string serialize(const Reply& reply);
std::string serialize(Reply&& reply);

// Parses a request payload. On failure the Error carries the stable code and, where the id could be
// read, `id_out` is set so the reply can still be correlated.
core::Result<Request> parse_request(std::string_view payload, std::uint64_t* id_out = nullptr);
core::Result<Reply> parse_reply(std::string_view payload);

Reply make_error_reply(std::uint64_t id, core::Error error);

}  // namespace hangar::ipc
