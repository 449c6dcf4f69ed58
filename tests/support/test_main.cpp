// main() of every GoogleTest executable: GoogleTest plus a watchdog. A test that runs past its
// limit (30 s by default, or what it set with set_time_limit(), times HANGAR_TEST_TIME_SCALE) is
// ended with the test's name, what it said it was waiting for (WaitingFor) and, on Linux, every
// thread's stack from gdb: a hang costs seconds and explains itself, instead of a silent
// ten-minute ctest timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "watchdog.h"

#ifdef __linux__
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kDefaultLimit{30};

#ifdef __linux__
// gdb attached to this process, printing every thread's stack to stderr (bounded to 60 s).
void print_stacks() {
  std::fflush(stderr);
  ::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);  // Yama may allow only ancestors
  const std::string pid = std::to_string(::getpid());
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::execlp("gdb", "gdb", "-p", pid.c_str(), "-batch", "-nx", "-ex", "thread apply all bt 30",
             static_cast<char*>(nullptr));
    std::fprintf(stderr, "[watchdog] gdb is not installed: no stacks\n");
    ::_exit(127);
  }
  if (child < 0) return;
  const auto deadline = Clock::now() + 60s;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
}
#else
void print_stacks() {}
#endif

class Watchdog final : public ::testing::EmptyTestEventListener {
 public:
  Watchdog() : thread_([this] { watch(); }) {}
  ~Watchdog() override {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    hangar::test::set_time_limit(0s);
    std::lock_guard lock(mutex_);
    test_ = std::string(info.test_suite_name()) + "." + info.name();
    started_ = Clock::now();
    running_ = true;
  }
  void OnTestEnd(const ::testing::TestInfo&) override {
    std::lock_guard lock(mutex_);
    running_ = false;
  }

 private:
  void watch() {
    std::unique_lock lock(mutex_);
    while (!done_) {
      changed_.wait_for(lock, 500ms);
      if (!running_ || done_) continue;
      auto& registry = hangar::test::watchdog_detail::registry();
      std::chrono::seconds own{0};
      std::vector<std::string> waits;
      {
        std::lock_guard wait_lock(registry.mutex);
        own = registry.limit;
        for (const auto& wait : registry.waits) waits.push_back(wait.second);
      }
      const auto limit = std::chrono::duration_cast<Clock::duration>(
          (own.count() > 0 ? own : kDefaultLimit) * hangar::test::time_scale());
      const auto ran = Clock::now() - started_;
      if (ran < limit) continue;
      std::fprintf(
          stderr,
          "\n[watchdog] %s has run for %lld s, past its limit of %lld s (time scale "
          "%.1f): ending it.\n",
          test_.c_str(),
          static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(ran).count()),
          static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(limit).count()),
          hangar::test::time_scale());
      if (waits.empty()) {
        std::fprintf(stderr,
                     "[watchdog] it announced no wait; the stacks below show where it is\n");
      }
      for (auto it = waits.rbegin(); it != waits.rend(); ++it) {
        std::fprintf(stderr, "[watchdog] waiting for: %s\n", it->c_str());
      }
      print_stacks();
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(124);
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::string test_;
  Clock::time_point started_{};
  bool running_ = false;
  bool done_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  auto* watchdog = new Watchdog();
  listeners.Append(watchdog);
  const int code = RUN_ALL_TESTS();
  // Stopped here, not by GoogleTest's singleton at exit, when the statics it reads may be gone.
  delete listeners.Release(watchdog);
  return code;
}
