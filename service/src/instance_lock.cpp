// The single-instance guard, a Boost.Interprocess file lock on <data dir>/hangard.lock. A file lock
// (unlike a named mutex) is released by the OS when the process dies, so a crash never leaves the
// data directory locked.
#include "hangar/service/instance_lock.h"

#include <fstream>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>

namespace hangar::service {

namespace {

class FileInstanceLock final : public InstanceLock {
 public:
  explicit FileInstanceLock(boost::interprocess::file_lock lock) : lock_(std::move(lock)) {}
  ~FileInstanceLock() override {
    try {
      lock_.unlock();
    } catch (...) {  // released by the OS anyway when the process exits
    }
  }

 private:
  boost::interprocess::file_lock lock_;
};

}  // namespace

core::Result<std::unique_ptr<InstanceLock>> InstanceLock::acquire(
    const std::filesystem::path& data_dir) {
  auto path = data_dir / "hangard.lock";
  { std::ofstream touch(path, std::ios::app); }
  try {
    boost::interprocess::file_lock lock(path.string().c_str());
    if (!lock.try_lock()) {
      return core::make_error("already_running",
                              "another hangard is already running with data "
                              "directory " +
                                  data_dir.string());
    }
    return std::unique_ptr<InstanceLock>(new FileInstanceLock(std::move(lock)));
  } catch (const boost::interprocess::interprocess_exception& e) {
    return core::make_error("io_error", "cannot lock " + path.string() + ": " + e.what());
  }
}

}  // namespace hangar::service
