// The SCM host: ServiceMain, the control handler and status reporting around service::run().
#include "scm_host.h"

#include <windows.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include "hangar/core/stop.h"

#include "event_log.h"
#include "hangar/core/version.h"
#include "hangar/service/options.h"
#include "hangar/service/run.h"
#include "win_text.h"

namespace hangar::service::win {
namespace {

using namespace std::chrono_literals;

// How long the SCM should wait between progress reports before it declares us hung.
constexpr DWORD kStartWaitHintMs = 30'000;
constexpr DWORD kStopWaitHintMs = 30'000;
// Progress is reported every second while run() starts or stops, but only this long: a start-up
// or shutdown that really hangs must let the SCM's own timeout fire.
constexpr auto kMaxPending = 120s;
// Exit code for arguments parse_options() rejects (matches the POSIX host's usage error).
constexpr int kUsageExitCode = 2;

// One running service: owns its status and its stop source. Lives in run_as_service()'s frame, so
// it outlives every control-handler call the dispatcher can make.
class ServiceHost {
 public:
  ServiceHost(std::string name, std::vector<std::string> args)
      : name_(std::move(name)), args_(std::move(args)), events_(name_) {
    status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  }
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Runs on ServiceMain's thread and returns after SERVICE_STOPPED was reported.
  void run() {
    status_handle_ =
        ::RegisterServiceCtrlHandlerExW(to_wide(name_).c_str(), &ServiceHost::control, this);
    if (status_handle_ == nullptr) {
      report_failure("RegisterServiceCtrlHandlerExW failed: " + last_error_text());
      exit_code_ = 1;
      return;
    }
    set_status(SERVICE_START_PENDING, kStartWaitHintMs);

    auto options = parse_options(args_);
    if (!options) {
      report_failure(options.error().message);
      finish(kUsageExitCode);
      return;
    }
    options->console_log = false;

    {
      std::jthread worker([this, &options] {
        auto on_ready = [this, &options] {
          set_running();
          events_.write(
              {EventId::kServiceStarted,
               EventLevel::kInformation,
               {std::string(core::kVersion), options->data_dir.string(), options->endpoint}});
        };
        // The same sink takes the devices' state changes (Ready for user, failures).
        const int code = service::run(*options, stop_.token(), on_ready, &events_);
        std::lock_guard lock(mutex_);
        finished_ = true;
        exit_code_ = code;
        changed_.notify_all();
      });
      report_progress_until_finished();
    }
    // A start-up failure is already in the log file; the Event Log is where admins look first.
    if (exit_code_ != 0 && !started_) {
      report_failure("exit code " + std::to_string(exit_code_) + " during start-up; see " +
                     (options->data_dir / "logs" / "hangard.log").string());
    } else {
      events_.write({EventId::kServiceStopped,
                     exit_code_ == 0 ? EventLevel::kInformation : EventLevel::kError,
                     {std::to_string(exit_code_)}});
    }
    finish(exit_code_);
  }

  int exit_code() const { return exit_code_; }

 private:
  static DWORD WINAPI control(DWORD control, DWORD /*event_type*/, void* /*event_data*/,
                              void* context) {
    auto* self = static_cast<ServiceHost*>(context);
    switch (control) {
      case SERVICE_CONTROL_STOP:
      case SERVICE_CONTROL_SHUTDOWN:
        // Only signal: the dispatcher thread must never wait for the shutdown itself.
        self->set_status(SERVICE_STOP_PENDING, kStopWaitHintMs);
        self->stop_.request_stop();
        return NO_ERROR;
      case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
      default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
  }

  // RUNNING only once run() says the pipe listens, so `sc start` returning means clients can
  // connect. Ignored if a stop already began.
  void set_running() {
    std::lock_guard lock(mutex_);
    started_ = true;
    if (status_.dwCurrentState != SERVICE_START_PENDING) return;
    set_status_locked(SERVICE_RUNNING, 0);
  }

  // Host-level failures, some before run() has a log file.
  void report_failure(const std::string& what) {
    events_.write({EventId::kServiceFailed, EventLevel::kError, {what}});
  }

  void set_status(DWORD state, DWORD wait_hint) {
    std::lock_guard lock(mutex_);
    if (status_.dwCurrentState == SERVICE_STOPPED) return;
    if (state == SERVICE_STOP_PENDING && status_.dwCurrentState == SERVICE_STOP_PENDING) return;
    set_status_locked(state, wait_hint);
  }

  void set_status_locked(DWORD state, DWORD wait_hint) {
    const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    status_.dwCurrentState = state;
    status_.dwWaitHint = wait_hint;
    status_.dwCheckPoint = pending ? 1 : 0;
    // Controls are refused while starting (the SCM queues nothing for us then) and once stopping.
    status_.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    pending_since_ = std::chrono::steady_clock::now();
    ::SetServiceStatus(status_handle_, &status_);
  }

  // Bumps the checkpoint every second while START_PENDING or STOP_PENDING, until run() returns.
  void report_progress_until_finished() {
    std::unique_lock lock(mutex_);
    while (!finished_) {
      changed_.wait_for(lock, 1s);
      const DWORD state = status_.dwCurrentState;
      const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
      if (finished_ || !pending) continue;
      if (std::chrono::steady_clock::now() - pending_since_ > kMaxPending) continue;
      ++status_.dwCheckPoint;
      ::SetServiceStatus(status_handle_, &status_);
    }
  }

  void finish(int code) {
    std::lock_guard lock(mutex_);
    exit_code_ = code;
    status_.dwCurrentState = SERVICE_STOPPED;
    status_.dwControlsAccepted = 0;
    status_.dwCheckPoint = 0;
    status_.dwWaitHint = 0;
    // A non-zero exit is a failure the SCM can act on (failure actions, event log entry).
    status_.dwWin32ExitCode = code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status_.dwServiceSpecificExitCode = static_cast<DWORD>(code);
    ::SetServiceStatus(status_handle_, &status_);
  }

  std::string name_;
  std::vector<std::string> args_;
  SERVICE_STATUS_HANDLE status_handle_ = nullptr;
  std::mutex mutex_;  // guards status_, finished_ and every SetServiceStatus call
  std::condition_variable changed_;
  SERVICE_STATUS status_{};
  std::chrono::steady_clock::time_point pending_since_{};
  bool finished_ = false;
  int exit_code_ = 0;
  bool started_ = false;  // run() reported ready
  core::StopSource stop_;
  WindowsEventSink events_;  // start, stop and failures in the Application log
};

// What main() hands to ServiceMain. The SCM calls ServiceMain without a context argument, so this
// one pointer is the unavoidable process-wide hand-off; all service state lives in ServiceHost.
struct HandOff {
  std::vector<std::string> command_line_args;
  std::unique_ptr<ServiceHost> host;
};
std::atomic<HandOff*> g_hand_off{nullptr};

void WINAPI service_main(DWORD argc, wchar_t** argv) {
  HandOff* hand_off = g_hand_off.load();
  if (hand_off == nullptr || argc == 0 || hand_off->host) return;
  // argv[0] is the name the service was started under: any name works with OWN_PROCESS.
  std::string name = to_utf8(argv[0]);
  std::vector<std::string> args = hand_off->command_line_args;
  for (DWORD i = 1; i < argc; ++i) args.push_back(to_utf8(argv[i]));
  hand_off->host = std::make_unique<ServiceHost>(std::move(name), std::move(args));
  hand_off->host->run();
}

}  // namespace

std::optional<int> run_as_service(std::vector<std::string> command_line_args) {
  HandOff hand_off{std::move(command_line_args), nullptr};
  g_hand_off.store(&hand_off);
  // The name in the table is ignored for SERVICE_WIN32_OWN_PROCESS services.
  wchar_t any_name[] = L"";
  const SERVICE_TABLE_ENTRYW table[] = {{any_name, &service_main}, {nullptr, nullptr}};
  const BOOL dispatched = ::StartServiceCtrlDispatcherW(table);
  const DWORD error = dispatched ? ERROR_SUCCESS : ::GetLastError();
  g_hand_off.store(nullptr);
  if (!dispatched) {
    if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) return std::nullopt;
    std::cerr << "hangard: cannot connect to the service control manager: " << error_text(error)
              << "\n";
    return 1;
  }
  return hand_off.host ? hand_off.host->exit_code() : 1;
}

}  // namespace hangar::service::win
