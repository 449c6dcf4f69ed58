// The registration pass's tests' fixture (registration_pass_test.cpp,
// registration_not_found_test.cpp): the pass with its own fake cloud (the import table and the
// tenant's Autopilot devices), run round after round on a fake clock as the engine runs it.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

#include "fake_clouds.h"
#include "hangar/service/passes/registration_pass.h"
#include "pass_rig.h"

namespace hangar::service::test {

class RegistrationPassTest : public PassRig {
 protected:
  void start() { pass_.emplace(context(), fixed_source<cloud::RegistrationCloud>(cloud_)); }
  // One round, as the engine runs it; returns how long until the pass has work again.
  std::chrono::milliseconds step() {
    begin_pass();
    const std::int64_t now = clock_.now_ms();
    pass_->run(now);
    auto counts = store_->count_by_state();
    const std::int64_t wake =
        pass_->next_wake(now, counts && (*counts)[core::DeviceState::kQueued] > 0,
                         counts && (*counts)[core::DeviceState::kRegistrationPending] > 0);
    return std::chrono::milliseconds(std::max<std::int64_t>(wake - now, 0));
  }
  void run_for(std::chrono::milliseconds total) {
    run_rounds(total, [this] { return step(); });
  }

  FakeImports cloud_;
  std::optional<RegistrationPass> pass_;
};

}  // namespace hangar::service::test
