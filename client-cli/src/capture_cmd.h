// `hangar capture`: reads this device's hardware hash, serial, make and model, saves them as a
// Get-WindowsAutoPilotInfo CSV row and hands the device to the service's queue.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "hangar/capture/capture.h"
#include "hangar/core/device.h"
#include "hangar/core/result.h"

namespace hangar::cli {

// Sends one record to the service. Returns a short status text, or an error whose code is
// "unavailable" or "timeout" when no service answered (the CSV then stands in for the queue).
using CaptureQueueFn = std::function<core::Result<std::string>(const core::DeviceRecord&)>;
// Reads the device; core::capture_local_device in production, a fake in tests.
using CaptureDeviceFn = std::function<core::Result<core::CapturedDevice>()>;

// The command's help text (arguments and what they do).
std::string capture_usage();

// `hangar capture [--output DIR] [--combined FILE] [--group-tag TAG] [--user UPN] [--no-queue]`.
// Writes DIR/<serial>.csv (DIR defaults to the current directory) and/or appends to FILE, prints
// what was captured (one JSON object with `json`), then queues the device unless --no-queue.
// Returns 0 when the row was saved (even if the service was unreachable), 1 when capturing or
// saving failed or the service refused the device, 2 for a usage error.
int run_capture(const std::vector<std::string>& args, bool json, std::ostream& out,
                std::ostream& err, const CaptureQueueFn& queue);

// The same with the device reader injected, so tests can drive every path without WMI.
int run_capture(const std::vector<std::string>& args, bool json, std::ostream& out,
                std::ostream& err, const CaptureQueueFn& queue, const CaptureDeviceFn& capture);

}  // namespace hangar::cli
