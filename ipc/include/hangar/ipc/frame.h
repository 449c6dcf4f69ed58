// Length-prefixed frames: a 4-byte little-endian payload length, then the payload (UTF-8 JSON).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hangar/ipc/transport.h"

namespace hangar::ipc {

class BudgetLease;

inline constexpr std::uint32_t kDefaultMaxFrameSize = 8u * 1024u * 1024u;
inline constexpr std::size_t kFrameHeaderSize = 4;

std::array<std::byte, kFrameHeaderSize> encode_frame_header(std::uint32_t payload_size);
std::uint32_t decode_frame_header(std::span<const std::byte, kFrameHeaderSize> header);

// Incremental decoder: feed it bytes as they arrive, take complete payloads out. Once it reports an
// error ("frame_too_large", "empty_frame") it stays failed: the connection must be closed.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t max_frame_size = kDefaultMaxFrameSize)
      : max_frame_size_(max_frame_size) {}

  // Consumes bytes up to the end of the current frame; returns how many were used. Call again with
  // the rest after taking the frame out with next().
  Result<std::size_t> feed(std::span<const std::byte> bytes);
  // A complete payload, if one is ready.
  std::optional<std::string> next();
  // True while a frame has started but is not complete.
  bool in_frame() const { return header_fill_ > 0 || expected_ > 0; }

 private:
  std::uint32_t max_frame_size_;
  std::array<std::byte, kFrameHeaderSize> header_{};
  std::size_t header_fill_ = 0;
  std::uint32_t expected_ = 0;
  std::string payload_;
  std::optional<std::string> ready_;
  std::optional<core::Error> failed_;
};

struct FrameTimeouts {
  Duration idle{std::chrono::seconds(30)};  // waiting for a frame to start
  Duration frame{std::chrono::seconds(5)};  // a started frame must complete within this
};

// Reads one frame from a stream. Error codes: "closed" (clean end of stream between frames),
// "timeout", "truncated_frame", "frame_too_large", "empty_frame", "busy" (the lease could not
// cover the frame), or the transport's own. The buffer grows as bytes arrive, never to the
// declared length up front, and each step is first covered by `lease` (when given): a client that
// declares 8 MiB and sends ten bytes holds a few kilobytes.
Result<std::string> read_frame(Stream& stream, const FrameTimeouts& timeouts,
                               std::uint32_t max_frame_size = kDefaultMaxFrameSize,
                               BudgetLease* lease = nullptr);
Status write_frame(Stream& stream, std::string_view payload, Duration timeout,
                   std::uint32_t max_frame_size = kDefaultMaxFrameSize);

}  // namespace hangar::ipc
