// Picking the queue's device among the tenant's devices with its serial (see same_machine.h).
#include "same_machine.h"

#include <string_view>

#include "hangar/core/principal_name.h"
#include "text_util.h"

namespace hangar::service {

namespace {

std::string make_and_model(std::string_view make, std::string_view model) {
  const std::string_view a = core::trim_blanks(make);
  const std::string_view b = core::trim_blanks(model);
  if (a.empty() && b.empty()) return "an unknown make and model";
  return std::string(a) + (a.empty() || b.empty() ? "" : " ") + std::string(b);
}

// The devices of `listed` that may be `ours`: the one with the Autopilot id recorded for it, else
// those with no make or model that both sides know and that differ.
std::vector<const cloud::AutopilotDevice*> agreeing(
    const std::vector<cloud::AutopilotDevice>& listed, const store::DeviceRow* ours) {
  std::vector<const cloud::AutopilotDevice*> out;
  if (ours != nullptr && ours->cloud_device_id && !ours->cloud_device_id->empty()) {
    for (const auto& device : listed) {
      if (device.id == *ours->cloud_device_id) return {&device};
    }
  }
  for (const auto& device : listed) {
    if (ours == nullptr || other_machine(*ours, device).empty()) out.push_back(&device);
  }
  return out;
}

}  // namespace

std::string other_machine(const store::DeviceRow& ours, const cloud::AutopilotDevice& theirs) {
  const auto known = [](std::string_view text) { return lower(core::trim_blanks(text)); };
  const auto differs = [&](const std::optional<std::string>& a, const std::string& b) {
    const std::string x = known(a.value_or(""));
    const std::string y = known(b);
    return !x.empty() && !y.empty() && x != y;
  };
  if (!differs(ours.manufacturer, theirs.manufacturer) && !differs(ours.model, theirs.model)) {
    return {};
  }
  return "Windows Autopilot lists serial " + theirs.serial + " as " +
         make_and_model(theirs.manufacturer, theirs.model) + ", not " +
         make_and_model(ours.manufacturer.value_or(""), ours.model.value_or(""));
}

std::optional<cloud::AutopilotDevice> this_machine(
    const std::vector<cloud::AutopilotDevice>& listed, const store::DeviceRow* ours) {
  if (listed.empty()) return std::nullopt;
  if (listed.size() > 1) {
    if (const auto mine = agreeing(listed, ours); mine.size() == 1) return *mine.front();
  }
  return listed.front();
}

std::string several_machines(const std::string& serial,
                             const std::vector<cloud::AutopilotDevice>& listed,
                             const store::DeviceRow* ours) {
  if (listed.size() < 2 || agreeing(listed, ours).size() == 1) return {};
  std::string names;
  for (const auto& device : listed) {
    names += (names.empty() ? "" : ", ") + make_and_model(device.manufacturer, device.model);
  }
  return "Windows Autopilot lists " + std::to_string(listed.size()) + " devices with serial " +
         serial + " (" + names + ") and Hangar cannot tell which is this one";
}

}  // namespace hangar::service
