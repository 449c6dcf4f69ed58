// Single-instance guard: one hangard per data directory, held for the process lifetime.
#pragma once

#include <filesystem>
#include <memory>

#include "hangar/core/result.h"

namespace hangar::service {

class InstanceLock {
 public:
  // Error code "already_running" when another process holds the lock for this data directory.
  static core::Result<std::unique_ptr<InstanceLock>> acquire(const std::filesystem::path& data_dir);
  virtual ~InstanceLock() = default;
};

}  // namespace hangar::service
