// The hostile inputs of issue 11, as bytes: requests nested 100,000 deep (CBOR and JSON), a CBOR
// array of millions of empty maps, frames holding one 8 MiB string (JSON, CBOR text and bytes),
// frame headers that declare 8 MiB and send nothing. Shared by
// the helper that runs them as other users (hostile_client.cpp) and the named-pipe suite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hangar::test::attack {

inline std::string cbor_text(const std::string& text) {  // text shorter than 24 bytes
  return std::string(1, static_cast<char>(0x60 + text.size())) + text;
}

// {"v":1,"id":7,"cmd":"list","args":{"state":<inner>}} in CBOR.
inline std::string cbor_list_request(const std::string& inner) {
  return std::string(1, '\xA4') + cbor_text("v") + '\x01' + cbor_text("id") + '\x07' +
         cbor_text("cmd") + cbor_text("list") + cbor_text("args") + '\xA1' + cbor_text("state") +
         inner;
}

// A `list` whose state is an array nested `depth` levels deep, in CBOR (the issue's SIGSEGV).
inline std::string deep_cbor(std::size_t depth) {
  return cbor_list_request(std::string(depth, '\x81') + '\x00');
}

// The same in JSON (the issue's crash in the error message that dumped the argument).
inline std::string deep_json(std::size_t depth) {
  return R"({"v":1,"id":7,"cmd":"list","args":{"state":)" + std::string(depth, '[') +
         std::string(depth, ']') + "}}";
}

// A `list` whose state is an indefinite-length CBOR array of empty maps, `bytes` long in all (the
// issue's 8 MiB frame that grew hangard by 1.5 GB).
inline std::string wide_cbor(std::size_t bytes) {
  const std::string head = cbor_list_request("\x9F");
  const std::size_t maps = bytes > head.size() + 1 ? bytes - head.size() - 1 : 0;
  return head + std::string(maps, '\xA0') + '\xFF';
}

// A `ping` whose one argument is a single string, the whole frame `bytes` long (the tester's 8 MiB
// frame that cost hangard 33 MB before it was refused): in JSON, or as a CBOR text or byte string.
inline std::string long_json_string(std::size_t bytes) {
  const std::string head = R"({"v":1,"id":7,"cmd":"ping","args":{"x":")";
  const std::string tail = "\"}}";
  const std::size_t fill =
      bytes > head.size() + tail.size() ? bytes - head.size() - tail.size() : 0;
  return head + std::string(fill, 'A') + tail;
}

inline std::string long_cbor_string(std::size_t bytes, bool binary) {
  const std::string head = std::string(1, '\xA4') + cbor_text("v") + '\x01' + cbor_text("id") +
                           '\x07' + cbor_text("cmd") + cbor_text("ping") + cbor_text("args") +
                           '\xA1' + cbor_text("x");
  const std::size_t fill = bytes > head.size() + 5 ? bytes - head.size() - 5 : 0;
  std::string out = head + static_cast<char>(binary ? 0x5A : 0x7A);  // 32-bit length follows
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<std::uint32_t>(fill) >> shift) & 0xFF));
  }
  return out + std::string(fill, binary ? '\0' : 'A');
}

inline std::string frame_header(std::uint32_t size) {
  std::string header(4, '\0');
  for (std::size_t i = 0; i < 4; ++i) header[i] = static_cast<char>((size >> (8 * i)) & 0xFF);
  return header;
}

inline std::string frame(const std::string& payload) {
  return frame_header(static_cast<std::uint32_t>(payload.size())) + payload;
}

inline const std::string kPing = R"({"v":1,"id":1,"cmd":"ping"})";

}  // namespace hangar::test::attack
