// The platform-independent service core. The POSIX main and the Windows SCM/console hosts are thin
// adapters around run().
#pragma once

#include <functional>

#include "hangar/core/stop.h"
#include "hangar/service/event_sink.h"
#include "hangar/service/options.h"

namespace hangar::service {

// Runs until `stop` is requested. Calls `on_ready` once the IPC endpoint accepts connections (the
// Windows host reports SERVICE_RUNNING from there). With `event_log`, devices that become Ready
// for user or fail registration are written there too (rate-limited, event_report.h); it must
// outlive the call. Returns a process exit code; start-up failures are logged and returned as
// non-zero.
int run(const Options& options, const core::StopToken& stop, const std::function<void()>& on_ready,
        EventSink* event_log = nullptr);

}  // namespace hangar::service
