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

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hangar/core/result.h"

namespace hangar::ipc {

class BudgetLease;

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
// kUnavailable and kTimeout are what a client says when no answer came (no service listens, the
// connection was lost, the reply did not come within the client's wait). A service answers with
// kTimeout never: the dispatcher sends a handler's "timeout" (the cloud's, cloud::kErrTimeout) as
// kCloudTimeout, so a client can tell "the service answered" from "no answer" by the code.
inline constexpr const char* kUnavailable = "unavailable";
inline constexpr const char* kTimeout = "timeout";
inline constexpr const char* kCloudTimeout = "cloud_timeout";
inline constexpr const char* kBusy = "busy";
// A write whose outcome is not known (its answer lost, or its work unfinished when the caller's
// wait or the service ended): it may have been done; the same command again settles it. The same
// text as cloud::kErrInDoubt.
inline constexpr const char* kInDoubt = "in_doubt";
}  // namespace errc

enum class Encoding { kJson, kCbor };

// What a payload may decode to. Both encodings are parsed by a SAX pass (nlohmann's, which never
// recurses deeper than the nesting it is allowed) that counts levels and items as they come and
// stops at the first one too many, so a hostile frame costs neither stack nor memory: 100,000
// nested arrays or 8 MiB of empty maps are refused after 64 levels or 100,000 items. A map key
// counts as an item. `import`, the largest request, is about 6,000 items for 250 devices.
//
// Before that pass a scan of the raw bytes (no allocation, no copy) measures every string, byte
// string, key and JSON number as sent: nlohmann gathers a whole token before it hands it over, so
// an 8 MiB string would cost two or three copies of itself before any count could refuse it. The
// longest legitimate value is a base64 hardware hash (at most 32 KiB decoded, about 44 KiB as
// text: core/field_limits.h), so a request's limit is 64 KiB; a CBOR string in chunks counts as
// the sum of its chunks.
struct DecodeLimits {
  std::size_t max_depth;
  std::size_t max_items;
  std::size_t max_value_bytes;
};
inline constexpr std::size_t kMaxRequestValueBytes = 64u * 1024u;
inline constexpr DecodeLimits kRequestLimits{64, 100'000, kMaxRequestValueBytes};
// Replies come from the service (whose identity the client checked): the same depth, and as many
// items and as long values as a frame can hold.
inline constexpr DecodeLimits kReplyLimits{64, 8u * 1024u * 1024u, 8u * 1024u * 1024u};

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
// read, `id_out` is set so the reply can still be correlated. The decoded document's memory (an
// estimate: 80 bytes an item plus its text) is charged to `lease` as it grows; when the lease
// cannot cover it the request is refused with `busy`.
core::Result<Request> parse_request(std::string_view payload, std::uint64_t* id_out = nullptr,
                                    BudgetLease* lease = nullptr);
core::Result<Reply> parse_reply(std::string_view payload);

Reply make_error_reply(std::uint64_t id, core::Error error);

// An upper bound of `value`'s size as compact JSON text, escapes included (its CBOR is never
// larger, binary aside: a byte string counts as its base64). A walk that writes nothing: pages and
// batches are sized with it. For documents this process built (it recurses).
std::size_t json_size(const Json& value);

// A client's value as a type error may describe it: a number or boolean as is, anything else by its
// kind ("a string", "an array", "an object"). Never a string's text: it may be a secret given in
// the wrong field, and never a whole container.
std::string describe_value(const Json& value);

}  // namespace hangar::ipc
