// Which of the tenant's devices with a serial is the queue's device. A serial is unique per
// manufacturer, not worldwide: two makers' machines may share one, and the tenant lists both.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hangar/cloud/registration.h"
#include "hangar/store/store.h"

namespace hangar::service {

// "Windows Autopilot lists serial X as Dell Inc. Latitude 5540, not Dell Inc. Latitude 7440" when
// the tenant's device has another make or model than ours where both sides know it (ignoring case
// and the blanks around): another machine with the same serial. Empty otherwise.
std::string other_machine(const store::DeviceRow& ours, const cloud::AutopilotDevice& theirs);

// The device among `listed` (the tenant's devices with our serial) that is ours: the only one
// listed, or of several the one with the Autopilot id recorded for `ours`, else the only one whose
// make and model agree with `ours`. Of several where
// none or more than one agree, the first (a caller that must not guess asks several_machines()).
// nullopt when none is listed.
std::optional<cloud::AutopilotDevice> this_machine(
    const std::vector<cloud::AutopilotDevice>& listed, const store::DeviceRow* ours);

// Why this_machine() had to guess: "Windows Autopilot lists 2 devices with serial X (Dell Inc.
// Latitude 5540, HP Inc. EliteBook 840) and Hangar cannot tell which is this one". Empty when it
// did not guess.
std::string several_machines(const std::string& serial,
                             const std::vector<cloud::AutopilotDevice>& listed,
                             const store::DeviceRow* ours);

}  // namespace hangar::service
