// libFuzzer target: arbitrary bytes through the frame decoder, the request parser and the
// dispatcher, as a hostile client would send them. Also feeds every frame to the reply parser.
#include <cstddef>
#include <cstdint>
#include <span>

#include "hangar/ipc/dispatcher.h"
#include "hangar/ipc/frame.h"

namespace {

using namespace hangar::ipc;

class NullStream final : public Stream {
 public:
  hangar::core::Result<std::size_t> read_some(std::span<std::byte>, Duration) override {
    return std::size_t{0};
  }
  hangar::core::Status write_all(std::span<const std::byte>, Duration) override { return {}; }
  void close() override {}
  PeerActivity probe() override { return PeerActivity::kClosed; }  // reads say end of stream
  const PeerIdentity& peer() override { return peer_; }
  PeerIdentity peer_{"fuzzer", 1, false};
};

const Dispatcher& dispatcher() {
  static const Dispatcher d = [] {
    std::vector<Binding> bindings;
    for (const auto& info : kCommands) {
      bindings.push_back(
          {info.name, [](const Json& args, const CallContext&) -> hangar::core::Result<Json> {
             // Touch the arguments the way handlers do.
             Json out = Json::object();
             for (const auto& [k, v] : args.items()) out[k] = v.type_name();
             return out;
           }});
    }
    return std::move(*Dispatcher::create(std::move(bindings)));
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the chunk size, so the decoder sees frames split at every boundary.
  std::size_t chunk = (data[0] % 16) + 1;
  auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  FrameDecoder decoder(kDefaultMaxFrameSize);
  NullStream stream;
  while (!bytes.empty()) {
    auto used = decoder.feed(bytes.first(std::min(chunk, bytes.size())));
    if (!used) break;
    bytes = bytes.subspan(*used);
    while (auto frame = decoder.next()) {
      bool close_after = false;
      std::string reply = dispatcher().handle(*frame, stream, &close_after);
      if (!parse_reply(reply).ok()) __builtin_trap();  // our own replies must always parse
      (void)parse_reply(*frame);
    }
  }
  // The raw input as a single payload too.
  std::string_view whole(reinterpret_cast<const char*>(data), size);
  (void)parse_request(whole);
  return 0;
}
