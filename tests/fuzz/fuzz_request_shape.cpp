// libFuzzer target, structure-aware: a few input bytes describe a request's shape (containers,
// nesting, repetition, strings, numbers) that is expanded into a JSON or CBOR payload of up to a
// few MiB, so the fuzzer reaches the decoder's depth (64) and item (100,000) limits and the memory
// budget, which byte-level fuzzing with a small max_len never does. Checks: the decoder never
// crashes or throws, refuses every payload past a limit with malformed_request, accepts none
// deeper or larger than the limits, and the dispatcher's reply always parses.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hangar/ipc/budget.h"
#include "hangar/ipc/dispatcher.h"

namespace {

using namespace hangar::ipc;

// The shape, read op by op from the input. Ops (one byte, arguments after):
//   0 open array   1 open map (keys are generated)   2 close
//   3 repeat the next K ops N times (N: two bytes, up to 65,535; K: one byte, 1 if 0; nested
//     repeats multiply)
//   4 string of L bytes (one byte L)   5 integer   6 true   7 null   8 byte string (CBOR only)
class Shape {
 public:
  explicit Shape(std::span<const std::uint8_t> ops) : ops_(ops) {}

  // Expands the ops into `out` as the args object of a request, in the given encoding, writing at
  // most `budget` bytes (the frame limit); returns the depth and item count it wrote.
  std::pair<std::size_t, std::size_t> expand(bool cbor, std::string& out, std::size_t budget) {
    cbor_ = cbor;
    out_ = &out;
    budget_ = budget;
    run(0, ops_.size());
    while (!open_.empty()) close();
    return {max_depth_, items_};
  }

 private:
  // Ops that write nothing (a close with nothing open) could repeat 65,535^k times: the number
  // of ops run is bounded as well as the output.
  bool exhausted() const { return out_->size() >= budget_ || steps_ >= kMaxSteps; }

  void run(std::size_t begin, std::size_t end) {
    for (std::size_t at = begin; at < end && !exhausted();) {
      ++steps_;
      at = step(at, end);
    }
  }

  // Runs the op at `at`, returns where the next one starts.
  std::size_t step(std::size_t at, std::size_t end) {
    const std::uint8_t op = ops_[at] % 9;
    switch (op) {
      case 0:
      case 1:
        open(op == 1);
        return at + 1;
      case 2:
        if (!open_.empty()) close();
        return at + 1;
      case 3: {
        if (at + 4 > end) return end;
        const std::size_t times = (std::size_t{ops_[at + 1]} << 8) | ops_[at + 2];
        const std::size_t body = at + 4;
        const std::size_t next =
            body < end ? body_end(body, std::max<std::size_t>(1, ops_[at + 3]), end) : end;
        // Each round counts as a step, so a repeat of an empty body (nested, 65,535^k rounds)
        // is bounded too.
        for (std::size_t i = 0; i < times && !exhausted(); ++i) {
          ++steps_;
          run(body, next);
        }
        return next;
      }
      case 4: {
        const std::size_t length = at + 1 < end ? ops_[at + 1] : 0;
        value_string(std::string(length, 'x'));
        return at + 2;
      }
      case 5:
        scalar(cbor_ ? std::string(1, '\x18') + '\x2a' : "42");
        return at + 1;
      case 6:
        scalar(cbor_ ? std::string(1, '\xF5') : "true");
        return at + 1;
      case 7:
        scalar(cbor_ ? std::string(1, '\xF6') : "null");
        return at + 1;
      default:
        scalar(cbor_ ? std::string("\x43\x01\x02\x03", 4) : "\"AQID\"");
        return at + 1;
    }
  }

  // Where `count` ops from `at` (with their arguments and, for a repeat, its body) end.
  std::size_t body_end(std::size_t at, std::size_t count, std::size_t end) const {
    for (std::size_t i = 0; i < count && at < end; ++i) {
      const std::uint8_t op = ops_[at] % 9;
      if (op == 3) {
        at = at + 4 < end ? body_end(at + 4, std::max<std::size_t>(1, ops_[at + 3]), end) : end;
      } else {
        at = std::min(op == 4 ? at + 2 : at + 1, end);
      }
    }
    return at;
  }

  void before_value() {
    if (open_.empty()) return;
    Level& level = open_.back();
    if (!cbor_ && level.count > 0) *out_ += ',';
    if (level.map) {
      const std::string key = "k" + std::to_string(level.count);
      *out_ +=
          cbor_ ? std::string(1, static_cast<char>(0x60 + key.size())) + key : "\"" + key + "\":";
    }
    ++level.count;
  }

  void open(bool map) {
    before_value();
    ++items_;
    // CBOR containers are indefinite-length (0x9F / 0xBF ... 0xFF): nothing to count up front.
    *out_ += cbor_ ? (map ? '\xBF' : '\x9F') : (map ? '{' : '[');
    open_.push_back({map, 0});
    max_depth_ = std::max(max_depth_, open_.size());
  }

  void close() {
    *out_ += cbor_ ? '\xFF' : (open_.back().map ? '}' : ']');
    open_.pop_back();
  }

  void scalar(const std::string& encoded) {
    before_value();
    ++items_;
    *out_ += encoded;
  }

  void value_string(const std::string& text) {
    if (cbor_) {
      std::string head(1, '\x78');  // text, one-byte length
      head += static_cast<char>(text.size());
      scalar(head + text);
    } else {
      scalar("\"" + text + "\"");
    }
  }

  struct Level {
    bool map;
    std::size_t count;
  };
  std::span<const std::uint8_t> ops_;
  bool cbor_ = false;
  std::string* out_ = nullptr;
  std::size_t budget_ = 0;
  std::vector<Level> open_;
  std::size_t max_depth_ = 0;
  std::size_t items_ = 0;
  // Six times the 100,000-item limit: enough to cross it, while one input stays well under the
  // fuzzer's 10 s per-input timeout (4,000,000 steps took 13 s of CPU with ASan at -O0).
  static constexpr std::size_t kMaxSteps = 600'000;
  std::size_t steps_ = 0;
};

class NullStream final : public Stream {
 public:
  hangar::core::Result<std::size_t> read_some(std::span<std::byte>, Duration) override {
    return std::size_t{0};
  }
  hangar::core::Status write_all(std::span<const std::byte>, Duration) override { return {}; }
  void close() override {}
  PeerActivity probe() override { return PeerActivity::kClosed; }
  const PeerIdentity& peer() override { return peer_; }
  PeerIdentity peer_{"fuzzer", 1, true, true};
};

const Dispatcher& dispatcher() {
  static const Dispatcher d = [] {
    std::vector<Binding> bindings;
    for (const auto& info : kCommands) {
      bindings.push_back(
          {info.name, [](const Json&, const CallContext&) -> hangar::core::Result<Json> {
             return Json{{"ok", true}};
           }});
    }
    return std::move(*Dispatcher::create(std::move(bindings)));
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool cbor = (data[0] & 1) != 0;
  // The request envelope around the expanded args: {"v":1,"id":1,"cmd":"list","args":<shape>}.
  std::string payload;
  if (cbor) {
    payload = std::string(
        "\xA4\x61v\x01\x62id\x01\x63"
        "cmd\x64list\x64"
        "args",
        22);
  } else {
    payload = R"({"v":1,"id":1,"cmd":"list","args":)";
  }
  const std::size_t envelope = payload.size();
  Shape shape(std::span(data + 1, size - 1));
  const auto [depth, items] = shape.expand(cbor, payload, 4u * 1024u * 1024u);
  if (payload.size() == envelope) payload += cbor ? "\xA0" : "{}";  // no shape: empty args
  if (!cbor) payload += '}';

  MemoryBudget budget(8u * 1024u * 1024u);
  BudgetLease lease(&budget, 64u * 1024u);
  auto parsed = parse_request(payload, nullptr, &lease);
  // depth counts the args' own levels; the request object is one more.
  if (parsed.ok() && (depth + 1 > kRequestLimits.max_depth || items > kRequestLimits.max_items)) {
    __builtin_trap();  // something past a limit was accepted
  }
  if (!parsed.ok() && parsed.error().code != errc::kMalformedRequest &&
      parsed.error().code != errc::kBusy) {
    __builtin_trap();
  }
  NullStream stream;
  BudgetLease second(&budget, 64u * 1024u);
  const std::string reply = dispatcher().handle(payload, stream, nullptr, nullptr, &second);
  if (!parse_reply(reply).ok()) __builtin_trap();  // our own replies must always parse
  return 0;
}
