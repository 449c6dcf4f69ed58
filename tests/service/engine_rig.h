// An engine over fakes, for the tests that drive it whole (engine_test, operator_jobs_test): the
// pass rig's store, clock and config, and one fake cloud per pass.
#pragma once

#include "fake_clouds.h"
#include "hangar/service/engine.h"
#include "pass_rig.h"

namespace hangar::service::test {

class EngineRig : public PassRig {
 protected:
  Engine make() {
    return Engine(*store_,
                  EngineClouds{fixed_source<cloud::RegistrationCloud>(imports_),
                               fixed_source<cloud::ActivityCloud>(activity_),
                               fixed_source<cloud::GroupCloud>(directory_),
                               fixed_source<cloud::DeliveryCloud>(users_)},
                  clock_, config_);
  }

  FakeImports imports_;
  FakeActivity activity_;
  FakeDirectory directory_;
  FakeUsers users_;
};

}  // namespace hangar::service::test
