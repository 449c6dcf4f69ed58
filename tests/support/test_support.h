// Shared test helpers: unique endpoints and temp directories, and an in-memory Stream fake.
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "hangar/ipc/transport.h"
#include "watchdog.h"

#ifdef _WIN32
#include <process.h>
#define HANGAR_TEST_GETPID _getpid
#else
#include <unistd.h>
#define HANGAR_TEST_GETPID getpid
#endif

namespace hangar::test {

inline std::string unique_suffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return std::to_string(HANGAR_TEST_GETPID()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(rd() % 100000);
}

// A temp directory removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("hangar-test-" + unique_suffix())) {
    std::filesystem::create_directories(path_);
#ifndef _WIN32
    // Whatever the umask: hangard refuses a data directory below one its group may write to.
    std::filesystem::permissions(path_, std::filesystem::perms(0755));
#endif
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// An endpoint nobody else uses: a pipe name on Windows, a socket in `dir` elsewhere.
inline std::string unique_endpoint(const TempDir& dir) {
#ifdef _WIN32
  (void)dir;
  return R"(\\.\pipe\hangar-test-)" + unique_suffix();
#else
  return (dir.path() / "run" / "hangar.sock").string();
#endif
}

// A Stream fed from scripted chunks; records what is written. Reading past the script returns
// end-of-stream, or "timeout" when `silent_at_end` is set.
class ScriptedStream final : public ipc::Stream {
 public:
  explicit ScriptedStream(std::vector<std::string> chunks, bool silent_at_end = false)
      : silent_at_end_(silent_at_end) {
    for (auto& c : chunks) chunks_.push_back(std::move(c));
    peer_.user = "test";
    peer_.can_write = true;
  }
  core::Result<std::size_t> read_some(std::span<std::byte> buffer, ipc::Duration) override {
    if (chunks_.empty()) {
      if (silent_at_end_) return core::make_error("timeout", "scripted silence");
      return std::size_t{0};
    }
    std::string& front = chunks_.front();
    std::size_t n = std::min(buffer.size(), front.size());
    std::memcpy(buffer.data(), front.data(), n);
    front.erase(0, n);
    if (front.empty()) chunks_.pop_front();
    return n;
  }
  core::Status write_all(std::span<const std::byte> data, ipc::Duration) override {
    written_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  void close() override { closed_ = true; }
  // As a reader would find it: unread chunks are data, past the script the end of the stream (or,
  // with `silent_at_end`, a peer that stays connected and says nothing).
  ipc::PeerActivity probe() override {
    if (closed_) return ipc::PeerActivity::kClosed;
    if (!chunks_.empty()) return ipc::PeerActivity::kData;
    return silent_at_end_ ? ipc::PeerActivity::kQuiet : ipc::PeerActivity::kClosed;
  }
  const ipc::PeerIdentity& peer() override { return peer_; }

  ipc::PeerIdentity& mutable_peer() { return peer_; }
  const std::string& written() const { return written_; }
  bool closed() const { return closed_; }

 private:
  std::deque<std::string> chunks_;
  bool silent_at_end_;
  std::string written_;
  bool closed_ = false;
  ipc::PeerIdentity peer_;
};

// A frame (header + payload) as bytes.
inline std::string frame_bytes(const std::string& payload) {
  auto n = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  return out + payload;
}

}  // namespace hangar::test
