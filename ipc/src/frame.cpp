// Length-prefixed framing over a Stream, and an incremental decoder for fuzzing and tests.
#include "hangar/ipc/frame.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "hangar/ipc/budget.h"

namespace hangar::ipc {

std::array<std::byte, kFrameHeaderSize> encode_frame_header(std::uint32_t payload_size) {
  return {std::byte(payload_size & 0xffu), std::byte((payload_size >> 8) & 0xffu),
          std::byte((payload_size >> 16) & 0xffu), std::byte((payload_size >> 24) & 0xffu)};
}

std::uint32_t decode_frame_header(std::span<const std::byte, kFrameHeaderSize> header) {
  return std::to_integer<std::uint32_t>(header[0]) |
         (std::to_integer<std::uint32_t>(header[1]) << 8) |
         (std::to_integer<std::uint32_t>(header[2]) << 16) |
         (std::to_integer<std::uint32_t>(header[3]) << 24);
}

namespace {

core::Error too_large(std::uint32_t size, std::uint32_t max) {
  return core::make_error("frame_too_large", "frame of " + std::to_string(size) +
                                                 " bytes exceeds the maximum of " +
                                                 std::to_string(max) + " bytes");
}

core::Error empty_frame() { return core::make_error("empty_frame", "frame with an empty payload"); }

}  // namespace

Result<std::size_t> FrameDecoder::feed(std::span<const std::byte> bytes) {
  if (failed_) return *failed_;
  std::size_t used = 0;
  while (used < bytes.size() && !ready_) {
    if (expected_ == 0) {
      std::size_t take = std::min(kFrameHeaderSize - header_fill_, bytes.size() - used);
      std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(used), take,
                  header_.begin() + static_cast<std::ptrdiff_t>(header_fill_));
      header_fill_ += take;
      used += take;
      if (header_fill_ < kFrameHeaderSize) break;
      std::uint32_t size = decode_frame_header(header_);
      header_fill_ = 0;
      if (size == 0) {
        failed_ = empty_frame();
        return *failed_;
      }
      if (size > max_frame_size_) {
        failed_ = too_large(size, max_frame_size_);
        return *failed_;
      }
      expected_ = size;
      payload_.clear();
      payload_.reserve(std::min<std::uint32_t>(size, 64u * 1024u));
      continue;
    }
    std::size_t take = std::min<std::size_t>(expected_ - payload_.size(), bytes.size() - used);
    const char* start = reinterpret_cast<const char*>(bytes.data() + used);
    payload_.append(start, take);
    used += take;
    if (payload_.size() == expected_) {
      ready_ = std::move(payload_);
      payload_.clear();
      expected_ = 0;
    }
  }
  return used;
}

std::optional<std::string> FrameDecoder::next() {
  std::optional<std::string> out = std::move(ready_);
  ready_.reset();
  return out;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

Duration remaining(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<Duration>(deadline - SteadyClock::now());
  return left.count() > 0 ? left : Duration(0);
}

// Reads exactly buffer.size() bytes before `deadline`. `started` says whether part of the frame
// was already read, which turns an end of stream into a truncation; `before` and `total` place
// the buffer in the frame for that message.
Status read_exact(Stream& stream, std::span<std::byte> buffer, SteadyClock::time_point deadline,
                  bool started, std::size_t before = 0, std::size_t total = 0) {
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    Duration left = remaining(deadline);
    if (left.count() == 0) {
      return core::make_error("timeout", started || filled > 0
                                             ? "peer stopped sending in the middle of a frame"
                                             : "no request arrived in time");
    }
    auto n = stream.read_some(buffer.subspan(filled), left);
    if (!n) {
      if (n.error().code == "timeout" && (started || filled > 0)) {
        return core::make_error("timeout", "peer stopped sending in the middle of a frame");
      }
      return n.error();
    }
    if (*n == 0) {
      if (started || filled > 0) {
        return core::make_error(
            "truncated_frame",
            "connection closed in the middle of a frame (" + std::to_string(before + filled) +
                " of " + std::to_string(total > 0 ? total : buffer.size()) + " bytes received)");
      }
      return core::make_error("closed", "connection closed by peer");
    }
    filled += *n;
  }
  return {};
}

}  // namespace

Result<std::string> read_frame(Stream& stream, const FrameTimeouts& timeouts,
                               std::uint32_t max_frame_size, BudgetLease* lease) {
  std::array<std::byte, kFrameHeaderSize> header{};
  // The first byte may take up to the idle timeout; once a frame started, the rest must follow
  // within the frame timeout, so a client trickling bytes cannot hold its thread for long.
  auto first =
      read_exact(stream, std::span(header).first(1), SteadyClock::now() + timeouts.idle, false);
  if (!first) return first.error();
  auto frame_deadline = SteadyClock::now() + timeouts.frame;
  if (auto rest = read_exact(stream, std::span(header).subspan(1), frame_deadline, true); !rest) {
    return rest.error();
  }
  std::uint32_t size = decode_frame_header(header);
  if (size == 0) return empty_frame();
  if (size > max_frame_size) return too_large(size, max_frame_size);
  // Grown in steps as the bytes come (64 KiB, then doubling): memory follows what was sent, not
  // what was declared. Each step is covered by the lease before it is allocated, together with
  // the buffer it replaces (a string grows by copying into a new block, so for a moment both are
  // held: the step from 4 to 8 MiB takes 12).
  constexpr std::size_t kFirstStep = 64 * 1024;
  std::string payload;
  std::size_t filled = 0;
  while (filled < size) {
    const std::size_t next = std::min<std::size_t>(size, std::max(kFirstStep, filled * 2));
    if (lease != nullptr && !lease->cover(filled + next)) {
      return core::make_error("busy", lease->refusal("being received"));
    }
    payload.resize(next);
    auto body = std::as_writable_bytes(std::span(payload.data() + filled, next - filled));
    if (auto read = read_exact(stream, body, frame_deadline, true, filled, size); !read) {
      return read.error();
    }
    filled = next;
  }
  return payload;
}

Status write_frame(Stream& stream, std::string_view payload, Duration timeout,
                   std::uint32_t max_frame_size) {
  if (payload.empty()) return empty_frame();
  if (payload.size() > max_frame_size) {
    return too_large(static_cast<std::uint32_t>(std::min<std::size_t>(payload.size(), UINT32_MAX)),
                     max_frame_size);
  }
  auto header = encode_frame_header(static_cast<std::uint32_t>(payload.size()));
  // One write for header and payload: fewer syscalls and no partial-frame window on small frames.
  std::vector<std::byte> buffer(kFrameHeaderSize + payload.size());
  std::copy(header.begin(), header.end(), buffer.begin());
  std::copy_n(reinterpret_cast<const std::byte*>(payload.data()), payload.size(),
              buffer.begin() + kFrameHeaderSize);
  return stream.write_all(buffer, timeout);
}

}  // namespace hangar::ipc
