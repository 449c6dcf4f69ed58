// RAII ownership of Win32 handles and LocalAlloc'd memory, private to the named-pipe transport.
#pragma once

#include "win32.h"

#include <memory>
#include <utility>

namespace hangar::ipc::win {

// Owns one kernel HANDLE. Treats both null and INVALID_HANDLE_VALUE as "no handle" because Win32
// APIs disagree on which one they return on failure (CreateFileW vs CreateEventW).
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(HANDLE handle) : handle_(handle) {}
  ~UniqueHandle() { reset(); }

  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  UniqueHandle(UniqueHandle&& other) noexcept : handle_(other.release()) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  HANDLE get() const { return handle_; }
  bool valid() const { return handle_ != nullptr && handle_ != INVALID_HANDLE_VALUE; }
  explicit operator bool() const { return valid(); }

  HANDLE release() { return std::exchange(handle_, nullptr); }
  void reset(HANDLE handle = nullptr) {
    if (valid()) ::CloseHandle(handle_);
    handle_ = handle;
  }

 private:
  HANDLE handle_ = nullptr;
};

// Memory returned by APIs that document "free with LocalFree" (SDDL conversions, FormatMessageW).
struct LocalFreeDeleter {
  void operator()(void* memory) const {
    if (memory != nullptr) ::LocalFree(memory);
  }
};
template <typename T>
using LocalPtr = std::unique_ptr<T, LocalFreeDeleter>;

}  // namespace hangar::ipc::win
