// The single-instance guard, a Boost.Interprocess file lock on <data dir>/hangard.lock. A file lock
// (unlike a named mutex) is released by the OS when the process dies, so a crash never leaves the
// data directory locked.
#include "hangar/service/instance_lock.h"

#include <fstream>
#include <string>

// clang-format off
#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif
// clang-format on

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>

namespace hangar::service {

namespace {

long long current_pid() {
#ifdef _WIN32
  return static_cast<long long>(::GetCurrentProcessId());
#else
  return static_cast<long long>(::getpid());
#endif
}

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
    const auto pid_file = data_dir / "hangard.pid";
    if (!lock.try_lock()) {
      // Who holds it, so the admin can stop it (black-box round 13: a hangard whose socket was
      // deleted could not be found; a second one only said that another was running).
      std::string pid;
      std::ifstream(pid_file) >> pid;
      const bool known = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
      return core::make_error("already_running",
                              "another hangard is already running with data directory " +
                                  data_dir.string() +
                                  (known ? " (process " + pid + "; stop that one first)" : ""));
    }
    // Read by the refusal above; a stale one is rewritten by the next hangard that takes the lock.
    { std::ofstream(pid_file, std::ios::trunc) << current_pid() << "\n"; }
    return std::unique_ptr<InstanceLock>(new FileInstanceLock(std::move(lock)));
  } catch (const boost::interprocess::interprocess_exception& e) {
    return core::make_error("io_error", "cannot lock " + path.string() + ": " + e.what());
  }
}

}  // namespace hangar::service
