// Serialisation and validation of protocol requests and replies.
#include "hangar/ipc/protocol.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "hangar/ipc/budget.h"

namespace hangar::ipc {

namespace {

core::Error malformed(std::string what) {
  return core::make_error(errc::kMalformedRequest, std::move(what));
}

// Why a SAX pass stopped.
enum class Stop { kNone, kSyntax, kDepth, kItems, kMemory, kDuplicateKey };

// The SAX handler both encodings are parsed with: counts nesting and items, charges the lease, and
// forwards to nlohmann's own DOM builder until a limit is reached, then stops the parser (a false
// return). nlohmann's JSON parser keeps its own stack and never recurses; its CBOR reader recurses
// once per level, so stopping at max_depth also bounds the stack. A container's declared size is
// checked before anything is built (nlohmann's builder throws for a size no container can hold).
class LimitedDomBuilder {
 public:
  using Dom = nlohmann::detail::json_sax_dom_parser<Json>;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  LimitedDomBuilder(Json& root, const DecodeLimits& limits, BudgetLease* lease,
                    std::size_t base_bytes)
      : dom_(root, /*allow_exceptions=*/false),
        limits_(limits),
        lease_(lease),
        bytes_(base_bytes) {}

  bool null() { return item(0) && dom_.null(); }
  bool boolean(bool value) { return item(0) && dom_.boolean(value); }
  bool number_integer(Json::number_integer_t value) {
    return item(0) && dom_.number_integer(value);
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return item(0) && dom_.number_unsigned(value);
  }
  bool number_float(Json::number_float_t value, const string_t& text) {
    return item(0) && dom_.number_float(value, text);
  }
  bool string(string_t& value) { return item(value.size()) && dom_.string(value); }
  bool binary(binary_t& value) { return item(value.size()) && dom_.binary(value); }
  // A key an object already has is refused, not read as "the last one wins": a request such as
  // {"cmd":"status","cmd":"pause"} must not mean what only one of its readers thinks it means.
  bool key(string_t& value) {
    if (!item(value.size())) return false;
    if (!keys_.back().insert(value).second) {
      duplicate_key_ = value;
      return halt(Stop::kDuplicateKey);
    }
    return dom_.key(value);
  }
  bool start_object(std::size_t declared) {
    if (!open(declared)) return false;
    keys_.emplace_back();
    return dom_.start_object(declared);
  }
  bool start_array(std::size_t declared) { return open(declared) && dom_.start_array(declared); }
  bool end_object() {
    --depth_;
    keys_.pop_back();
    return dom_.end_object();
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    if (stop_ == Stop::kNone) stop_ = Stop::kSyntax;
    return false;
  }

  Stop stop() const { return stop_; }
  const std::string& duplicate_key() const { return duplicate_key_; }

 private:
  static constexpr std::size_t kItemBytes = 80;  // a value or key in the DOM, with its container
  static constexpr std::size_t kUnknownSize = static_cast<std::size_t>(-1);

  bool open(std::size_t declared) {
    if (++depth_ > limits_.max_depth) return halt(Stop::kDepth);
    if (declared != kUnknownSize &&
        declared > limits_.max_items - std::min(items_, limits_.max_items)) {
      return halt(Stop::kItems);
    }
    return item(0);
  }

  bool item(std::size_t payload_bytes) {
    if (++items_ > limits_.max_items) return halt(Stop::kItems);
    bytes_ += kItemBytes + payload_bytes;
    // The lease is asked in 16 KiB steps, not per item: an atomic operation per value would cost
    // more than the value. (A step stays well inside a request's own 64 KiB, so a small request
    // never touches the shared budget.)
    constexpr std::size_t kStep = 16 * 1024;
    if (lease_ != nullptr && bytes_ > charged_) {
      charged_ = (bytes_ / kStep + 1) * kStep;
      if (!lease_->cover(charged_)) return halt(Stop::kMemory);
    }
    return true;
  }

  bool halt(Stop why) {
    stop_ = why;
    return false;
  }

  Dom dom_;
  DecodeLimits limits_;
  BudgetLease* lease_;
  std::size_t bytes_;
  std::size_t charged_ = 0;
  std::size_t depth_ = 0;
  std::size_t items_ = 0;
  Stop stop_ = Stop::kNone;
  std::vector<std::unordered_set<std::string>> keys_;  // the keys of each open object
  std::string duplicate_key_;
};

// A key as an error message may quote it: printable ASCII, at most 64 characters.
std::string quotable(std::string_view key) {
  std::string out;
  for (const char c : key.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return key.size() > 64 ? out + "..." : out;
}

// A value longer than a request may hold: what it is ("string", "byte string", "number") and the
// offset of its first byte in the payload.
struct LongValue {
  const char* kind;
  std::size_t offset;
};

// JSON: every string (keys included) and number, measured as sent (escapes count as written).
// memchr finds each string's end, so the scan is cheap next to the parse it precedes. Anything
// malformed is left to the parser, which reports it.
std::optional<LongValue> find_long_json_value(std::string_view payload, std::size_t max) {
  const char* const data = payload.data();
  const std::size_t size = payload.size();
  std::size_t i = 0;
  while (i < size) {
    const char c = data[i];
    if (c == '"') {
      const std::size_t start = i;
      std::size_t from = i + 1;
      for (;;) {
        const void* found = std::memchr(data + from, '"', size - from);
        const std::size_t end =
            found ? static_cast<std::size_t>(static_cast<const char*>(found) - data) : size;
        if (end - start - 1 > max) return LongValue{"string", start};
        if (end == size) return std::nullopt;  // unterminated: the parser's error
        std::size_t backslashes = 0;
        while (data[end - 1 - backslashes] == '\\') ++backslashes;
        from = end + 1;
        if (backslashes % 2 == 0) break;  // not escaped: the string ends here
      }
      i = from;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const std::size_t start = i;
      while (i < size && ((data[i] >= '0' && data[i] <= '9') || data[i] == '-' || data[i] == '+' ||
                          data[i] == '.' || data[i] == 'e' || data[i] == 'E')) {
        ++i;
      }
      if (i - start > max) return LongValue{"number", start};
      continue;
    }
    ++i;
  }
  return std::nullopt;
}

// CBOR: a walk over the items' heads (RFC 8949 section 3), which needs no stack: arrays, maps and
// tags are heads followed by their contents, so only strings carry bytes to skip. A string in
// chunks (indefinite length) counts as the sum of its chunks, as nlohmann joins them. Anything
// malformed or cut short is left to the parser.
std::optional<LongValue> find_long_cbor_value(std::string_view payload, std::size_t max) {
  const auto* const data = reinterpret_cast<const unsigned char*>(payload.data());
  const std::size_t size = payload.size();
  std::size_t i = 0;
  bool chunked = false;  // inside an indefinite-length string
  std::size_t chunked_start = 0;
  std::size_t chunked_total = 0;
  while (i < size) {
    const std::size_t at = i;
    const unsigned major = data[i] >> 5;
    const unsigned info = data[i] & 0x1Fu;
    ++i;
    std::uint64_t argument = info;
    if (info >= 24 && info <= 27) {
      const std::size_t width = std::size_t{1} << (info - 24);
      if (size - i < width) return std::nullopt;
      argument = 0;
      for (std::size_t k = 0; k < width; ++k) argument = (argument << 8) | data[i + k];
      i += width;
    } else if (info >= 28 && info <= 30) {
      return std::nullopt;  // not well-formed
    }
    if (major == 7) {
      if (info == 31) chunked = false;  // a break ends the string in chunks, if any
      continue;
    }
    if (major != 2 && major != 3) continue;  // numbers, arrays, maps, tags: the head is all
    const char* kind = major == 2 ? "byte string" : "string";
    if (info == 31) {
      if (!chunked) {
        chunked = true;
        chunked_start = at;
        chunked_total = 0;
      }
      continue;
    }
    if (argument > max || (chunked && chunked_total + argument > max)) {
      return LongValue{kind, chunked ? chunked_start : at};
    }
    if (chunked) chunked_total += static_cast<std::size_t>(argument);
    if (argument > size - i) return std::nullopt;  // cut short
    i += static_cast<std::size_t>(argument);
  }
  return std::nullopt;
}

// Parses either encoding under `limits`; `what` names it in errors ("request", "reply"). Strict
// CBOR rejects trailing bytes. Any exception from the parser becomes "not valid", so a hostile
// payload cannot end the service.
core::Result<Json> parse_payload(std::string_view payload, Encoding encoding,
                                 const DecodeLimits& limits, BudgetLease* lease, const char* what) {
  const std::string name = what;
  if (payload.size() > limits.max_value_bytes) {
    const auto long_value = encoding == Encoding::kCbor
                                ? find_long_cbor_value(payload, limits.max_value_bytes)
                                : find_long_json_value(payload, limits.max_value_bytes);
    if (long_value) {
      return core::make_error(errc::kMalformedRequest,
                              name + " holds a " + long_value->kind + " longer than " +
                                  std::to_string(limits.max_value_bytes) + " bytes (at byte " +
                                  std::to_string(long_value->offset) + "); no " + name +
                                  " needs one that long");
    }
  }
  Json root;
  Stop stop = Stop::kSyntax;
  std::string duplicate_key;
  try {
    // The payload, and what the parser keeps beside the document: JSON's lexer holds the longest
    // token so far twice (as read and as decoded), CBOR's reader one string at a time.
    const std::size_t token_bytes = 2 * std::min(payload.size(), limits.max_value_bytes);
    LimitedDomBuilder builder(root, limits, lease, payload.size() + token_bytes);
    const bool ok =
        encoding == Encoding::kCbor
            ? Json::sax_parse(payload.begin(), payload.end(), &builder, Json::input_format_t::cbor,
                              /*strict=*/true)
            : Json::sax_parse(payload, &builder, Json::input_format_t::json, /*strict=*/true);
    // A false return always has a reason: one of ours, or the parser's error.
    stop = ok ? Stop::kNone : (builder.stop() == Stop::kNone ? Stop::kSyntax : builder.stop());
    duplicate_key = builder.duplicate_key();
  } catch (const Json::exception&) {
    stop = Stop::kSyntax;
  }
  switch (stop) {
    case Stop::kNone:
      return root;
    case Stop::kDepth:
      return core::make_error(
          errc::kMalformedRequest,
          name + " is nested more than " + std::to_string(limits.max_depth) + " levels deep");
    case Stop::kItems:
      return core::make_error(
          errc::kMalformedRequest,
          name + " holds more than " + std::to_string(limits.max_items) + " values and keys");
    case Stop::kMemory:
      return core::make_error(errc::kBusy, lease != nullptr ? lease->refusal("being decoded")
                                                            : std::string("out of memory"));
    case Stop::kDuplicateKey:
      return core::make_error(
          errc::kMalformedRequest,
          name + " has the key \"" + quotable(duplicate_key) + "\" twice in one object");
    case Stop::kSyntax:
      break;
  }
  return core::make_error(
      errc::kMalformedRequest,
      name + (encoding == Encoding::kCbor ? " is not valid CBOR" : " is not valid JSON"));
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

core::Result<Request> parse_request(std::string_view payload, std::uint64_t* id_out,
                                    BudgetLease* lease) {
  const Encoding encoding = payload_encoding(payload);
  auto parsed = parse_payload(payload, encoding, kRequestLimits, lease, "request");
  if (!parsed) return std::move(parsed).error();
  Json& j = *parsed;
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
  auto bad = [](std::string what) {
    return core::make_error("malformed_reply", "service sent an invalid reply: " + what);
  };
  auto parsed = parse_payload(payload, encoding, kReplyLimits, nullptr, "reply");
  if (!parsed) return bad(parsed.error().message);
  Json& j = *parsed;
  if (!j.is_object()) return bad("not a JSON object");
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

namespace {

std::size_t string_size(const std::string& text) {
  std::size_t size = 2;  // the quotes
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '"' || byte == '\\' || byte == '\b' || byte == '\f' || byte == '\n' ||
        byte == '\r' || byte == '\t') {
      size += 2;
    } else if (byte < 0x20) {
      size += 6;  // \u00XX
    } else if (byte >= 0x80) {
      size += 3;  // invalid UTF-8 is replaced by U+FFFD (3 bytes); valid sequences take less
    } else {
      size += 1;
    }
  }
  return size;
}

}  // namespace

std::size_t json_size(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      std::size_t size = 2;
      for (const auto& [key, item] : value.items()) size += string_size(key) + 2 + json_size(item);
      return size;
    }
    case Json::value_t::array: {
      std::size_t size = 2;
      for (const auto& item : value) size += 1 + json_size(item);
      return size;
    }
    case Json::value_t::string:
      return string_size(value.get_ref<const std::string&>());
    case Json::value_t::binary:
      return 2 + (value.get_binary().size() + 2) / 3 * 4;
    case Json::value_t::boolean:
      return 5;
    case Json::value_t::null:
    case Json::value_t::discarded:
      return 4;
    default:
      return 24;  // any number
  }
}

std::string describe_value(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      // Never the text: it may be a secret sent in the wrong field.
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::binary:
      return "a byte string";
    case Json::value_t::null:
      return "null";
    default:
      return value.dump();  // a number or a boolean: short
  }
}

Reply make_error_reply(std::uint64_t id, core::Error error) {
  Reply reply;
  reply.id = id;
  reply.ok = false;
  reply.error = std::move(error);
  return reply;
}

}  // namespace hangar::ipc
